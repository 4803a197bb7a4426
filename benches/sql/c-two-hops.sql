-- (c) by hand: the partners within two co-memberships of :busiest, each
-- once with its distance (0 for the partner itself), as (c) returns them.
WITH n1 AS (
  SELECT DISTINCT network_id FROM memberships WHERE partner_id = :busiest
), p1 AS (
  SELECT DISTINCT m.partner_id FROM memberships m JOIN n1 USING (network_id)
), n2 AS (
  SELECT DISTINCT m.network_id FROM memberships m JOIN p1 USING (partner_id)
), p2 AS (
  SELECT DISTINCT m.partner_id FROM memberships m JOIN n2 USING (network_id)
)
SELECT p.id, p.name,
       CASE WHEN p.id = :busiest THEN 0
            WHEN p.id IN (SELECT partner_id FROM p1) THEN 1
            ELSE 2 END AS distance
FROM partners p JOIN p2 ON p2.partner_id = p.id;
