-- (c) by hand: the rows of the two-hop answer, each level fetched once for
-- all its parents (as a client assembling the tree would), in one statement.
WITH n1 AS (
  SELECT m.network_id, m.role FROM memberships m
  WHERE m.partner_id = :busiest ORDER BY m.id LIMIT 100
), m2 AS (
  SELECT * FROM (
    SELECT m.network_id, m.partner_id, m.role,
           ROW_NUMBER() OVER (PARTITION BY m.network_id ORDER BY m.id) AS rn
    FROM memberships m WHERE m.network_id IN (SELECT network_id FROM n1)) x
  WHERE rn <= 100
), n3 AS (
  SELECT * FROM (
    SELECT m.partner_id, m.network_id, m.role,
           ROW_NUMBER() OVER (PARTITION BY m.partner_id ORDER BY m.id) AS rn
    FROM memberships m WHERE m.partner_id IN (SELECT partner_id FROM m2)) x
  WHERE rn <= 5
), m4 AS (
  SELECT * FROM (
    SELECT m.network_id, m.partner_id, m.role,
           ROW_NUMBER() OVER (PARTITION BY m.network_id ORDER BY m.id) AS rn
    FROM memberships m WHERE m.network_id IN (SELECT network_id FROM n3)) x
  WHERE rn <= 5
)
SELECT 1 AS level, NULL::bigint AS parent, n.id, n.name, n1.role FROM n1 JOIN networks n ON n.id = n1.network_id
UNION ALL
SELECT 2, m2.network_id, p.id, p.name, m2.role FROM m2 JOIN partners p ON p.id = m2.partner_id
UNION ALL
SELECT 3, n3.partner_id, n.id, n.name, n3.role FROM n3 JOIN networks n ON n.id = n3.network_id
UNION ALL
SELECT 4, m4.network_id, p.id, p.name, m4.role FROM m4 JOIN partners p ON p.id = m4.partner_id;
