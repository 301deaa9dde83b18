-- The spend of budgets over their periods: $1 ids, $2 period starts, $3
-- period ends (arrays of the same length), with the snapshot it was read
-- in, so that events booked meanwhile are counted once. A cost center's
-- subtree is read as a range of ids (see usage_events_cost_center).
SELECT w.id, coalesce(sum(u.cost + coalesce(c.delta, 0)), 0)::text,
    pg_current_snapshot()::text
FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[])
    AS w (id, lo, hi)
JOIN budgets b ON b.id = w.id
LEFT JOIN LATERAL (
	SELECT e.transaction_id, e.cost FROM usage_events e
	WHERE (e.cost_center COLLATE "C" = b.cost_center
	    OR (e.cost_center COLLATE "C" > b.cost_center || '/'
	        AND e.cost_center COLLATE "C" < b.cost_center || '0'))
	  AND e.occurred_at >= w.lo AND e.occurred_at < w.hi
	  AND (b.scope_user IS NULL OR e.user_id = b.scope_user)
	  AND (b.scope_provider IS NULL OR e.provider = b.scope_provider)
	  AND (b.scope_model IS NULL OR e.model = b.scope_model)
	  AND e.tags @> b.scope_tags) u ON true
LEFT JOIN LATERAL (SELECT sum(x.cost_delta) AS delta
    FROM usage_corrections x WHERE x.corrects = u.transaction_id) c ON true
GROUP BY w.id
