-- Every allocation, oldest first.
SELECT coalesce(jsonb_agg(allocation_json(id) ORDER BY created_at, id),
    '[]')::text
FROM allocations
