-- Every cost center ($1 true: archived ones too), parents before children.
SELECT coalesce(jsonb_agg(cost_center_json(c) ORDER BY c.id), '[]')::text
FROM cost_centers c
WHERE $1::boolean OR NOT c.archived
