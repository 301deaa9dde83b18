-- The spend of budgets over their periods: $1 ids, $2 period starts, $3
-- period ends (arrays of the same length), with the snapshot it was read
-- in, so that events booked meanwhile are counted once.
SELECT w.id, coalesce(sum(u.cost + coalesce(c.delta, 0)), 0)::text,
    pg_current_snapshot()::text
FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[])
    AS w (id, lo, hi)
JOIN budgets b ON b.id = w.id
LEFT JOIN usage_events u
    ON (u.cost_center = b.cost_center
        OR left(u.cost_center, length(b.cost_center) + 1) = b.cost_center || '/')
    AND u.occurred_at >= w.lo AND u.occurred_at < w.hi
    AND (b.scope_user IS NULL OR u.user_id = b.scope_user)
    AND (b.scope_provider IS NULL OR u.provider = b.scope_provider)
    AND (b.scope_model IS NULL OR u.model = b.scope_model)
    AND u.tags @> b.scope_tags
LEFT JOIN LATERAL (SELECT sum(x.cost_delta) AS delta
    FROM usage_corrections x WHERE x.corrects = u.transaction_id) c ON true
GROUP BY w.id
