-- (d) by hand: one partner, its contacts, the territories it serves.
SELECT id, name, kind, siret, email, phone, website FROM partners WHERE id = :pid;
SELECT id, full_name, role_title, email, phone FROM contacts WHERE partner_id = :pid ORDER BY id LIMIT 100;
SELECT t.id, t.name, t.kind, t.code
FROM partner_territories pt JOIN territories t ON t.id = pt.territory_id
WHERE pt.partner_id = :pid ORDER BY t.id LIMIT 100;
