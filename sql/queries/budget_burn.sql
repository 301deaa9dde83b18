-- A budget's spend over the last hour and the last day (with repricing
-- corrections), for its burn rate: $1 the budget.
SELECT coalesce(sum(u.cost + coalesce(c.delta, 0))
        FILTER (WHERE u.occurred_at >= now() - interval '1 hour'), 0)::text,
    coalesce(sum(u.cost + coalesce(c.delta, 0)), 0)::text
FROM budgets b
JOIN usage_events u
    ON (u.cost_center COLLATE "C" = b.cost_center
        OR (u.cost_center COLLATE "C" > b.cost_center || '/'
            AND u.cost_center COLLATE "C" < b.cost_center || '0'))
    AND u.occurred_at >= now() - interval '1 day' AND u.occurred_at < now()
    AND (b.scope_user IS NULL OR u.user_id = b.scope_user)
    AND (b.scope_provider IS NULL OR u.provider = b.scope_provider)
    AND (b.scope_model IS NULL OR u.model = b.scope_model)
    AND u.tags @> b.scope_tags
LEFT JOIN LATERAL (SELECT sum(x.cost_delta) AS delta
    FROM usage_corrections x WHERE x.corrects = u.transaction_id) c ON true
WHERE b.id = $1::bigint
