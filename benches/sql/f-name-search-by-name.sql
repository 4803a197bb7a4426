-- (f) by hand: the every-word search on the search key, first 20 by name.
SELECT id, name, kind FROM partners
WHERE name_search LIKE '%maison%' AND name_search LIKE '%quartier%'
ORDER BY name_search, id LIMIT 20;
