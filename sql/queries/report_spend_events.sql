-- Spend from the events themselves (with their repricing corrections),
-- for the groupings the rollups do not keep (a user and a tag together,
-- users or tags per hour), windows shorter than a day (an hour per
-- hour), and the edges of the other windows: the part days (hours)
-- before the first whole one and after the last. $1 from, $2 to (NULL:
-- open), $3..$6 group by cost center, provider, model, user; $7 a tag
-- key to group by (or NULL); $8 granularity (none, hour, day, week,
-- month; UTC); $9 a cost center whose subtree is reported (or NULL); $10
-- the meters' names in the order of usage_events.quantities; $11, $12
-- NULL for the whole window, or the edges only: [$1, $11) and [$12, $2),
-- each inside one UTC day, $1 and $2 given (an empty edge as an empty
-- range).
--
-- The whole window reads every event in it. An edge reads, for each cost
-- center with events on its day (usage_cc_daily's rows of the day), the
-- range of its events through (cost center, occurred_at): a day of a
-- year of events, where no index leads with the time.
WITH u AS (
	SELECT u.* FROM usage_events u
	WHERE $11::timestamptz IS NULL
	  AND u.occurred_at >= coalesce($1::timestamptz, '-infinity')
	  AND u.occurred_at < coalesce($2::timestamptz, 'infinity')
	UNION ALL
	SELECT e.* FROM (SELECT DISTINCT d.cost_center FROM usage_cc_daily d
	    WHERE $11::timestamptz IS NOT NULL
	      AND d.day IN (($1::timestamptz AT TIME ZONE 'UTC')::date,
	          ($12::timestamptz AT TIME ZONE 'UTC')::date)) c
	CROSS JOIN LATERAL (
	    SELECT u.* FROM usage_events u
	    WHERE (u.cost_center COLLATE "C") = c.cost_center COLLATE "C"
	      AND u.occurred_at >= $1::timestamptz
	      AND u.occurred_at < $11::timestamptz
	    UNION ALL
	    SELECT u.* FROM usage_events u
	    WHERE (u.cost_center COLLATE "C") = c.cost_center COLLATE "C"
	      AND u.occurred_at >= $12::timestamptz
	      AND u.occurred_at < $2::timestamptz) e
), ev AS (
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
	FROM u
	LEFT JOIN LATERAL (SELECT sum(x.cost_delta) AS cost,
	    sum(x.list_delta) AS list_cost FROM usage_corrections x
	    WHERE x.corrects = u.transaction_id) c ON true
	WHERE ($9::text IS NULL OR u.cost_center COLLATE "C" = $9::text
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
    tg_rfc3339(s.period AT TIME ZONE 'UTC'), s.cost, s.list_cost,
    s.events, coalesce(q.quantities, '{}')::text
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
