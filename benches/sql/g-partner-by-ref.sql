-- (g) by hand: one partner by its ref (:pref, quoted), its contacts, the territories it serves.
SELECT id, name, kind, siret, email, phone, website FROM partners WHERE ref = :pref;
SELECT c.id, c.full_name, c.role_title, c.email, c.phone
FROM contacts c JOIN partners p ON p.id = c.partner_id
WHERE p.ref = :pref ORDER BY c.id LIMIT 100;
SELECT t.id, t.name, t.kind, t.code
FROM partners p JOIN partner_territories pt ON pt.partner_id = p.id JOIN territories t ON t.id = pt.territory_id
WHERE p.ref = :pref ORDER BY t.id LIMIT 100;
