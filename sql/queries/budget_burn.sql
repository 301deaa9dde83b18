-- A budget's spend in its scope (with repricing corrections): over the
-- last hour and the last day, for its burn rate; and per day of its time
-- zone over the 35 days ending with $2 (today there, YYYY-MM-DD), as
-- {cost of day 0, ..., cost of today}, for the same-weekday forecast.
-- $1 the budget.
WITH b AS MATERIALIZED (
	-- The 35 local days, which hold the last day whatever the zone.
	SELECT b.*,
	    ($2::date - 34)::timestamp AT TIME ZONE b.time_zone AS lo,
	    ($2::date + 1)::timestamp AT TIME ZONE b.time_zone AS hi
	FROM budgets b WHERE b.id = $1::bigint
), ev AS (
	SELECT u.occurred_at,
	    (u.occurred_at AT TIME ZONE b.time_zone)::date AS day,
	    u.cost + coalesce(c.delta, 0) AS cost
	FROM b
	JOIN usage_events u
	    ON (u.cost_center COLLATE "C" = b.cost_center
	        OR (u.cost_center COLLATE "C" > b.cost_center || '/'
	            AND u.cost_center COLLATE "C" < b.cost_center || '0'))
	    -- Values of their own (not the join's columns), so that they
	    -- bound each arm of the cost centers' index scan: joined, a
	    -- budget's status read all of its events, 35 days or not.
	    AND u.occurred_at >= (SELECT lo FROM b)
	    AND u.occurred_at < (SELECT hi FROM b)
	    AND (b.scope_user IS NULL OR u.user_id = b.scope_user)
	    AND (b.scope_provider IS NULL OR u.provider = b.scope_provider)
	    AND (b.scope_model IS NULL OR u.model = b.scope_model)
	    AND u.tags @> b.scope_tags
	LEFT JOIN LATERAL (SELECT sum(x.cost_delta) AS delta
	    FROM usage_corrections x WHERE x.corrects = u.transaction_id) c ON true
)
SELECT coalesce(sum(cost) FILTER (WHERE occurred_at >= now() - interval '1 hour'
        AND occurred_at < now()), 0)::text,
    coalesce(sum(cost) FILTER (WHERE occurred_at >= now() - interval '1 day'
        AND occurred_at < now()), 0)::text,
    (SELECT array_agg(coalesce(d.cost, 0) ORDER BY i)
     FROM generate_series(0, 34) i
     LEFT JOIN (SELECT day, sum(cost) AS cost FROM ev GROUP BY day) d
         ON d.day = $2::date - 34 + i)::text
FROM ev
