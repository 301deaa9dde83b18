-- $1 id: the center, and its descendants in path order.
SELECT cost_center_json(c)::text,
    (SELECT coalesce(jsonb_agg(cost_center_json(d) ORDER BY d.id), '[]')
     FROM cost_centers d
     WHERE left(d.id, length(c.id) + 1) = c.id || '/')::text
FROM cost_centers c
WHERE c.id = $1
