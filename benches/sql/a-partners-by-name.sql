-- (a) by hand: the first 50 partners by name, with their seat.
SELECT p.id, p.name, p.kind, t.id, t.name, t.kind, t.code
FROM partners p LEFT JOIN territories t ON t.id = p.territory_id
ORDER BY p.name_search, p.id
LIMIT 50;
