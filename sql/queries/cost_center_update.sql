-- $1 id, $2 name, $3 owner, $4 tags, $5 archived, $6 key id; NULL: unchanged
SELECT status, center::text
FROM cost_center_update($1, $2, $3, $4::jsonb, $5::boolean, $6)
