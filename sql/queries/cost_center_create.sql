-- $1 id, $2 name, $3 owner, $4 tags, $5 key id
SELECT status, center::text FROM cost_center_create($1, $2, $3, $4::jsonb, $5)
