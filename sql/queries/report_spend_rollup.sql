-- Spend from the daily rollup (usage_daily), as report_spend_events.sql
-- answers it, for groupings by cost center, provider and model over
-- whole UTC days ($1, $2 at midnight UTC or NULL; $6, $7 and $10 unused:
-- false, NULL and the meters; granularity none, day, week or month; by
-- cost center per day report_spend_daily.sql reads the rows as they
-- stand instead). Rows are added up, their quantities (usage_daily's bigint[] in the meters'
-- order, 0011) position by position; the server names them.
--
-- tg_sum, not sum: sum(bigint) keeps a numeric state per group and
-- aggregate, which took five times the memory, spilled to disk and
-- doubled the time.
--
-- Per week, per month and for a whole window, the periods inside the
-- window that no mark made stale come from their weekly or monthly sums
-- (usage_daily_periods, 0024), and per day without cost centers or a subtree the days
-- from their sums over all cost centers; those sums hold the days before
-- the last fold's, and the other days come from the daily rows
-- (tg_period_served, tg_day_unserved).
--
-- Planned at each call for its values (server/db.c): the plan for a year
-- of rows hashes them, the generic plan a prepared statement gets after
-- five calls estimated a few rows and sorted them on disk, at twice the
-- time.
-- tollgate: plan each call
WITH sums AS (
	SELECT CASE WHEN $3::boolean THEN r.cost_center END AS cost_center,
	    CASE WHEN $4::boolean THEN r.provider END AS provider,
	    CASE WHEN $5::boolean THEN r.model END AS model,
	    CASE WHEN $8::text = 'none' THEN NULL
	        ELSE date_trunc($8::text, r.day::timestamp)::date END AS period,
	    tg_sum(r.cost) AS cost, tg_sum(r.list_cost) AS list_cost,
	    tg_sum(r.events) AS events,
	    -- As many positions as tg_meters() has.
	    ARRAY[tg_sum(r.quantities[1]), tg_sum(r.quantities[2]),
	        tg_sum(r.quantities[3]), tg_sum(r.quantities[4]),
	        tg_sum(r.quantities[5]), tg_sum(r.quantities[6]),
	        tg_sum(r.quantities[7]), tg_sum(r.quantities[8]),
	        tg_sum(r.quantities[9]), tg_sum(r.quantities[10]),
	        tg_sum(r.quantities[11]), tg_sum(r.quantities[12]),
	        tg_sum(r.quantities[13]), tg_sum(r.quantities[14])]
	        AS quantities
	FROM (SELECT p.period AS day, p.cost_center,
	        p.provider, p.model, p.events, p.list_cost, p.cost,
	        p.quantities
	    FROM usage_daily_periods p
	    WHERE p.grain = tg_fold_grain($8::text, $3::boolean, $9::text)
	      AND p.period >= tg_utc_lo($1::timestamptz)
	      AND p.period < tg_utc_hi($2::timestamptz)
	      AND tg_period_served(p.grain, p.period, tg_utc_lo($1::timestamptz),
	          tg_utc_hi($2::timestamptz),
	          (SELECT tg_periods_marked(tg_fold_grain($8::text,
	              $3::boolean, $9::text))))
	    UNION ALL
	    SELECT d.day AS day, d.cost_center,
	        d.provider, d.model, d.events, d.list_cost, d.cost,
	        d.quantities
	    FROM usage_daily d
	    WHERE d.day >= tg_utc_lo($1::timestamptz)
	      AND d.day < tg_utc_hi($2::timestamptz)
	      AND tg_day_unserved(tg_fold_grain($8::text, $3::boolean, $9::text),
	          d.day,
	          tg_utc_lo($1::timestamptz), tg_utc_hi($2::timestamptz),
	          (SELECT tg_periods_marked(tg_fold_grain($8::text,
	              $3::boolean, $9::text))),
	          (SELECT tg_periods_since(tg_fold_grain($8::text,
	              $3::boolean, $9::text))),
	          (SELECT tg_periods_through()))) r
	WHERE ($9::text IS NULL OR r.cost_center COLLATE "C" = $9::text
	      OR (r.cost_center COLLATE "C" > $9::text || '/'
	          AND r.cost_center COLLATE "C" < $9::text || '0'))
	GROUP BY 1, 2, 3, 4
)
SELECT s.cost_center, s.provider, s.model, NULL::text, NULL::text,
    s.period::text || 'T00:00:00Z', s.cost,
    s.list_cost, s.events, s.quantities
FROM sums s
WHERE $6::boolean IS NOT TRUE AND $7::text IS NULL
  AND $10::text[] IS NOT NULL
ORDER BY 6, 1, 2, 3
