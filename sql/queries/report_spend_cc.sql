-- Spend from the rollup per cost center and day (usage_cc_daily), as
-- report_spend_rollup.sql answers it, for groupings by cost center or by
-- nothing over whole UTC days: $1, $2 at midnight UTC or NULL; $3 group
-- by cost center; $4, $5, $6 false, $7 NULL and $10 the meters (unused);
-- $8 granularity none, day, week or month; $9 a subtree or NULL.
--
-- By cost center and day each row is a rollup row as it stands; other
-- periods add rows up, and their quantities meter by meter. Periods are
-- midnights, so their text is the date's with no clock to compute.
WITH r AS (
	SELECT r.* FROM usage_cc_daily r
	WHERE r.day >= coalesce(($1::timestamptz AT TIME ZONE 'UTC')::date,
	        '-infinity'::date)
	  AND r.day < coalesce(($2::timestamptz AT TIME ZONE 'UTC')::date,
	        'infinity'::date)
	  AND ($9::text IS NULL OR r.cost_center COLLATE "C" = $9::text
	      OR (r.cost_center COLLATE "C" > $9::text || '/'
	          AND r.cost_center COLLATE "C" < $9::text || '0'))
), g AS (
	SELECT CASE WHEN $3::boolean THEN r.cost_center END AS cost_center,
	    CASE WHEN $8::text = 'none' THEN NULL
	        ELSE date_trunc($8::text, r.day::timestamp)::date END AS period,
	    r.events, r.list_cost, r.cost, r.quantities
	FROM r WHERE NOT ($3::boolean AND $8::text = 'day')
), sums AS (
	SELECT cost_center, period, sum(cost) AS cost,
	    sum(list_cost) AS list_cost, sum(events) AS events
	FROM g GROUP BY 1, 2
), qs AS (
	SELECT cost_center, period, jsonb_object_agg(meter, q) AS quantities
	FROM (SELECT g.cost_center, g.period, x.meter, sum(x.q::bigint) AS q
	    FROM g, jsonb_each_text(g.quantities) AS x (meter, q)
	    GROUP BY 1, 2, 3) m
	WHERE q <> 0
	GROUP BY 1, 2
)
SELECT r.cost_center, NULL::text, NULL::text, NULL::text, NULL::text,
    r.day::text || 'T00:00:00Z', r.cost,
    r.list_cost, r.events, r.quantities::text
FROM r
WHERE $3::boolean AND $8::text = 'day'
  AND $4::boolean IS NOT TRUE AND $5::boolean IS NOT TRUE
  AND $6::boolean IS NOT TRUE AND $7::text IS NULL AND $10::text[] IS NOT NULL
UNION ALL
SELECT s.cost_center, NULL::text, NULL::text, NULL::text, NULL::text,
    s.period::text || 'T00:00:00Z', s.cost,
    s.list_cost, s.events, coalesce(q.quantities, '{}')::text
FROM sums s
-- Equalities on coalesced keys (chr(1) is in no name), not IS NOT
-- DISTINCT FROM, so that the join is hashed.
LEFT JOIN qs q ON coalesce(q.cost_center, chr(1)) = coalesce(s.cost_center, chr(1))
    AND coalesce(q.period, '-infinity') = coalesce(s.period, '-infinity')
WHERE $4::boolean IS NOT TRUE AND $5::boolean IS NOT TRUE
  AND $6::boolean IS NOT TRUE AND $7::text IS NULL
ORDER BY 6, 1
