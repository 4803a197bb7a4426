-- (e) by hand: the ILIKE equivalent of the name search, first 20 in creation order.
SELECT id, name, kind FROM partners WHERE name ILIKE '%centre%' ORDER BY id LIMIT 20;
