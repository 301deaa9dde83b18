-- Spend from the daily rollups, as report_spend_events.sql answers it,
-- for groupings by cost center, provider and model over whole UTC days
-- ($1, $2 at midnight UTC or NULL; $6, $7 and $10 unused: false, NULL
-- and the meters; granularity none, day, week or month).
--
-- The window's days are computed once, apart (MATERIALIZED), so that the
-- plan does not depend on them: a generic plan, which a prepared
-- statement gets after five calls, estimated a range of two parameters
-- at a few rows, sorted a year of meters on disk instead of hashing them,
-- and took three times as long.
WITH w AS MATERIALIZED (
	SELECT coalesce(($1::timestamptz AT TIME ZONE 'UTC')::date,
	        '-infinity'::date) AS lo,
	    coalesce(($2::timestamptz AT TIME ZONE 'UTC')::date,
	        'infinity'::date) AS hi
), d AS (
	SELECT CASE WHEN $3::boolean THEN r.cost_center END AS cost_center,
	    CASE WHEN $4::boolean THEN r.provider END AS provider,
	    CASE WHEN $5::boolean THEN r.model END AS model,
	    CASE WHEN $8::text = 'none' THEN NULL
	        ELSE date_trunc($8::text, r.day::timestamp) END AS period,
	    r.events, r.list_cost, r.cost
	FROM usage_daily r, w
	WHERE r.day >= w.lo AND r.day < w.hi
	  AND ($9::text IS NULL OR r.cost_center COLLATE "C" = $9::text
	      OR (r.cost_center COLLATE "C" > $9::text || '/'
	          AND r.cost_center COLLATE "C" < $9::text || '0'))
), sums AS (
	SELECT cost_center, provider, model, period, sum(cost) AS cost,
	    sum(list_cost) AS list_cost, sum(events) AS events
	FROM d GROUP BY 1, 2, 3, 4
), qs AS (
	-- The meters read with the days' own conditions, not joined to
	-- them: a join of a year's rows with their meters was planned on
	-- an estimate of one row and sorted on disk.
	SELECT cost_center, provider, model, period,
	    jsonb_object_agg(meter, q) AS quantities
	FROM (SELECT CASE WHEN $3::boolean THEN x.cost_center END AS cost_center,
	        CASE WHEN $4::boolean THEN x.provider END AS provider,
	        CASE WHEN $5::boolean THEN x.model END AS model,
	        CASE WHEN $8::text = 'none' THEN NULL
	            ELSE date_trunc($8::text, x.day::timestamp) END AS period,
	        x.meter, sum(x.quantity) AS q
	    FROM usage_daily_meters x, w
	    WHERE x.quantity <> 0 AND x.day >= w.lo AND x.day < w.hi
	      AND ($9::text IS NULL OR x.cost_center COLLATE "C" = $9::text
	          OR (x.cost_center COLLATE "C" > $9::text || '/'
	              AND x.cost_center COLLATE "C" < $9::text || '0'))
	    GROUP BY 1, 2, 3, 4, 5) m
	GROUP BY 1, 2, 3, 4
)
SELECT s.cost_center, s.provider, s.model, NULL::text, NULL::text,
    -- Periods are UTC midnights: their text needs no time zone.
    to_char(s.period, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), s.cost::text,
    s.list_cost::text, s.events::text, coalesce(q.quantities, '{}')::text
FROM sums s
-- Equalities on coalesced keys (chr(1) is in no name), not IS NOT
-- DISTINCT FROM, so that the join is hashed.
LEFT JOIN qs q ON coalesce(q.cost_center, chr(1)) = coalesce(s.cost_center, chr(1))
    AND coalesce(q.provider, chr(1)) = coalesce(s.provider, chr(1))
    AND coalesce(q.model, chr(1)) = coalesce(s.model, chr(1))
    AND coalesce(q.period, '-infinity') = coalesce(s.period, '-infinity')
WHERE $6::boolean IS NOT TRUE AND $7::text IS NULL
  AND $10::text[] IS NOT NULL
ORDER BY 6, 1, 2, 3
