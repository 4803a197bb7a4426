-- PostGraphile's own copy of the bench data (benches/api-load.sh, issue 18).
--
-- Run on the bench database after `maillage import`: the schema `pgl` gets
-- the rows maillage serves from `public`, with the keys and the indexes a
-- competent PostGraphile user would give them, and smart tags so that the
-- GraphQL shape reads like maillage's (`seat`, `contacts`, `members`, ...).
-- PostGraphile is pointed at `pgl` only: it never sees maillage's tables
-- (nor their API keys or audit log), and maillage never reads these.
--
--   psql -v ON_ERROR_STOP=1 -f benches/postgraphile/load.sql postgres://…/maillage_api_bench
\set ON_ERROR_STOP 1
BEGIN;
DROP SCHEMA IF EXISTS pgl CASCADE;
CREATE SCHEMA pgl;
-- The trigram operator class for the name search (the issue's reference
-- run gave PostGraphile a trigram index on the partner name). In `public`,
-- where maillage's own migration may have put it already.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- Same columns, CHECKs, primary keys, unique constraints and maillage's
-- indexes (foreign-key indexes, `name_search` btrees); the foreign keys are
-- added below, once the rows are in. No column defaults: they would point
-- at maillage's sequences, and the benchmark only reads.
CREATE TABLE pgl.territories (LIKE public.territories INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE pgl.partners (LIKE public.partners INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE pgl.partner_territories (LIKE public.partner_territories INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE pgl.contacts (LIKE public.contacts INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE pgl.networks (LIKE public.networks INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE pgl.memberships (LIKE public.memberships INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE pgl.actions (LIKE public.actions INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE pgl.action_partners (LIKE public.action_partners INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE pgl.action_territories (LIKE public.action_territories INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE pgl.relations (LIKE public.relations INCLUDING CONSTRAINTS INCLUDING INDEXES);

INSERT INTO pgl.territories SELECT * FROM public.territories;
INSERT INTO pgl.partners SELECT * FROM public.partners;
INSERT INTO pgl.partner_territories SELECT * FROM public.partner_territories;
INSERT INTO pgl.contacts SELECT * FROM public.contacts;
INSERT INTO pgl.networks SELECT * FROM public.networks;
INSERT INTO pgl.memberships SELECT * FROM public.memberships;
INSERT INTO pgl.actions SELECT * FROM public.actions;
INSERT INTO pgl.action_partners SELECT * FROM public.action_partners;
INSERT INTO pgl.action_territories SELECT * FROM public.action_territories;
INSERT INTO pgl.relations SELECT * FROM public.relations;

-- Foreign keys: PostGraphile builds its relations from them.
ALTER TABLE pgl.territories ADD CONSTRAINT territories_parent FOREIGN KEY (parent_id) REFERENCES pgl.territories (id);
ALTER TABLE pgl.partners ADD CONSTRAINT partners_parent FOREIGN KEY (parent_id) REFERENCES pgl.partners (id);
ALTER TABLE pgl.partners ADD CONSTRAINT partners_seat FOREIGN KEY (territory_id) REFERENCES pgl.territories (id);
ALTER TABLE pgl.partner_territories ADD CONSTRAINT partner_territories_partner FOREIGN KEY (partner_id) REFERENCES pgl.partners (id) ON DELETE CASCADE;
ALTER TABLE pgl.partner_territories ADD CONSTRAINT partner_territories_territory FOREIGN KEY (territory_id) REFERENCES pgl.territories (id) ON DELETE CASCADE;
ALTER TABLE pgl.contacts ADD CONSTRAINT contacts_partner FOREIGN KEY (partner_id) REFERENCES pgl.partners (id) ON DELETE CASCADE;
ALTER TABLE pgl.networks ADD CONSTRAINT networks_territory FOREIGN KEY (territory_id) REFERENCES pgl.territories (id);
ALTER TABLE pgl.networks ADD CONSTRAINT networks_parent FOREIGN KEY (parent_id) REFERENCES pgl.networks (id);
ALTER TABLE pgl.memberships ADD CONSTRAINT memberships_network FOREIGN KEY (network_id) REFERENCES pgl.networks (id) ON DELETE CASCADE;
ALTER TABLE pgl.memberships ADD CONSTRAINT memberships_partner FOREIGN KEY (partner_id) REFERENCES pgl.partners (id) ON DELETE CASCADE;
ALTER TABLE pgl.actions ADD CONSTRAINT actions_network FOREIGN KEY (network_id) REFERENCES pgl.networks (id);
ALTER TABLE pgl.action_partners ADD CONSTRAINT action_partners_action FOREIGN KEY (action_id) REFERENCES pgl.actions (id) ON DELETE CASCADE;
ALTER TABLE pgl.action_partners ADD CONSTRAINT action_partners_partner FOREIGN KEY (partner_id) REFERENCES pgl.partners (id) ON DELETE CASCADE;
ALTER TABLE pgl.action_territories ADD CONSTRAINT action_territories_action FOREIGN KEY (action_id) REFERENCES pgl.actions (id) ON DELETE CASCADE;
ALTER TABLE pgl.action_territories ADD CONSTRAINT action_territories_territory FOREIGN KEY (territory_id) REFERENCES pgl.territories (id) ON DELETE CASCADE;
ALTER TABLE pgl.relations ADD CONSTRAINT relations_from FOREIGN KEY (from_partner_id) REFERENCES pgl.partners (id) ON DELETE CASCADE;
ALTER TABLE pgl.relations ADD CONSTRAINT relations_to FOREIGN KEY (to_partner_id) REFERENCES pgl.partners (id) ON DELETE CASCADE;

-- The indexes the operations' plans want, beyond maillage's: lists in
-- key order within their parent (a page stops at its size instead of
-- sorting the parent's whole list), the name order with its tie-break,
-- and the trigram index for the substring search.
CREATE INDEX ON pgl.partners (name_search, id);
CREATE INDEX ON pgl.partners USING gin (name_search gin_trgm_ops);
CREATE INDEX ON pgl.contacts (partner_id, id);
CREATE INDEX ON pgl.memberships (network_id, id);

-- Smart tags: the relation fields maillage's schema names.
COMMENT ON CONSTRAINT partners_seat ON pgl.partners IS E'@fieldName seat\n@foreignFieldName seated';
COMMENT ON CONSTRAINT contacts_partner ON pgl.contacts IS E'@fieldName partner\n@foreignFieldName contacts';
COMMENT ON CONSTRAINT partner_territories_partner ON pgl.partner_territories IS E'@fieldName partner\n@foreignFieldName territoriesServed';
COMMENT ON CONSTRAINT partner_territories_territory ON pgl.partner_territories IS E'@fieldName territory\n@foreignFieldName partnersServing';
COMMENT ON CONSTRAINT memberships_network ON pgl.memberships IS E'@fieldName network\n@foreignFieldName members';
COMMENT ON CONSTRAINT memberships_partner ON pgl.memberships IS E'@fieldName partner\n@foreignFieldName memberships';
COMMENT ON CONSTRAINT action_partners_action ON pgl.action_partners IS E'@fieldName action\n@foreignFieldName participants';
COMMENT ON CONSTRAINT action_partners_partner ON pgl.action_partners IS E'@fieldName partner\n@foreignFieldName actions';

-- (c), the two-hop neighbourhood through networks: PostGraphile has no
-- graph engine, so its user would write the SQL function and let
-- PostGraphile expose it (a root field `neighbourhood`). Every partner
-- within two co-memberships of `partner`, once, with its distance (0 for
-- the partner itself), as maillage's `neighbourhood(via: [NETWORK])`.
CREATE TYPE pgl.neighbour AS (partner_id bigint, label text, distance int);
CREATE FUNCTION pgl.neighbourhood(partner bigint) RETURNS SETOF pgl.neighbour
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH n1 AS (
    SELECT DISTINCT network_id FROM pgl.memberships WHERE partner_id = partner
  ), p1 AS (
    SELECT DISTINCT m.partner_id FROM pgl.memberships m JOIN n1 USING (network_id)
  ), n2 AS (
    SELECT DISTINCT m.network_id FROM pgl.memberships m JOIN p1 USING (partner_id)
  ), p2 AS (
    SELECT DISTINCT m.partner_id FROM pgl.memberships m JOIN n2 USING (network_id)
  )
  SELECT p.id, p.name::text,
         CASE WHEN p.id = partner THEN 0
              WHEN p.id IN (SELECT partner_id FROM p1) THEN 1
              ELSE 2 END
  FROM pgl.partners p JOIN (SELECT partner_id FROM p2 UNION SELECT partner) AS r ON r.partner_id = p.id
$$;
COMMIT;
