-- Spend from the events themselves (with their repricing corrections),
-- for the groupings the rollups do not keep (user, tag, hour, windows
-- not on UTC days). $1 from, $2 to (NULL: open), $3..$6 group by cost
-- center, provider, model, user; $7 a tag key to group by (or NULL); $8
-- granularity (none, hour, day, week, month; UTC); $9 a cost center whose
-- subtree is reported (or NULL); $10 the meters' names in the order of
-- usage_events.quantities.
WITH ev AS (
	SELECT CASE WHEN $3::boolean THEN u.cost_center END AS cost_center,
	    CASE WHEN $4::boolean THEN u.provider END AS provider,
	    CASE WHEN $5::boolean THEN u.model END AS model,
	    CASE WHEN $6::boolean THEN u.user_id END AS user_id,
	    CASE WHEN $7::text IS NOT NULL THEN u.tags ->> $7::text END AS tag,
	    CASE WHEN $8::text = 'none' THEN NULL
	        ELSE date_trunc($8::text, u.occurred_at AT TIME ZONE 'UTC')
	        END AS period,
	    u.cost + coalesce(c.cost, 0) AS cost,
	    u.list_cost + coalesce(c.list_cost, 0) AS list_cost,
	    u.quantities
	FROM usage_events u
	LEFT JOIN LATERAL (SELECT sum(x.cost_delta) AS cost,
	    sum(x.list_delta) AS list_cost FROM usage_corrections x
	    WHERE x.corrects = u.transaction_id) c ON true
	WHERE u.occurred_at >= coalesce($1::timestamptz, '-infinity')
	  AND u.occurred_at < coalesce($2::timestamptz, 'infinity')
	  AND ($9::text IS NULL OR u.cost_center COLLATE "C" = $9::text
	      OR (u.cost_center COLLATE "C" > $9::text || '/'
	          AND u.cost_center COLLATE "C" < $9::text || '0'))
), sums AS (
	SELECT cost_center, provider, model, user_id, tag, period,
	    sum(cost) AS cost, sum(list_cost) AS list_cost, count(*) AS events
	FROM ev GROUP BY 1, 2, 3, 4, 5, 6
), qs AS (
	SELECT cost_center, provider, model, user_id, tag, period,
	    jsonb_object_agg(($10::text[])[i], q) AS quantities
	FROM (SELECT cost_center, provider, model, user_id, tag, period, i,
	        sum(x) AS q
	    FROM ev, unnest(ev.quantities) WITH ORDINALITY AS t (x, i)
	    WHERE x <> 0 GROUP BY 1, 2, 3, 4, 5, 6, 7) m
	GROUP BY 1, 2, 3, 4, 5, 6
)
SELECT s.cost_center, s.provider, s.model, s.user_id, s.tag,
    tg_rfc3339(s.period AT TIME ZONE 'UTC'), s.cost::text, s.list_cost::text,
    s.events::text, coalesce(q.quantities, '{}')::text
FROM sums s
-- Equalities on coalesced keys (chr(1) is in no name), not IS NOT
-- DISTINCT FROM, so that the join is hashed.
LEFT JOIN qs q ON coalesce(q.cost_center, chr(1)) = coalesce(s.cost_center, chr(1))
    AND coalesce(q.provider, chr(1)) = coalesce(s.provider, chr(1))
    AND coalesce(q.model, chr(1)) = coalesce(s.model, chr(1))
    AND coalesce(q.user_id, chr(1)) = coalesce(s.user_id, chr(1))
    AND coalesce(q.tag, chr(1)) = coalesce(s.tag, chr(1))
    AND coalesce(q.period, '-infinity') = coalesce(s.period, '-infinity')
ORDER BY 6, 1, 2, 3, 4, 5
