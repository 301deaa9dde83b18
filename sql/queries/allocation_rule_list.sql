SELECT coalesce(jsonb_agg(allocation_rule_json(r) ORDER BY r.position, r.id),
    '[]')::text
FROM allocation_rules r
