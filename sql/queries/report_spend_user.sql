-- Spend by user from the rollups per user (0020), as
-- report_spend_events.sql answers it, for groupings by user (and any of
-- cost center, provider, model) over whole UTC days: $1, $2 at midnight
-- UTC or NULL; $3, $4, $5 group by cost center, provider, model; $6
-- true; $7 NULL and $10 the meters (unused); $8 granularity none, day,
-- week or month; $9 a subtree or NULL. Rows are added up, their
-- quantities (a bigint[] in the meters' order) position by position with
-- tg_sum; the server names them. Events without a user are the group
-- whose user is NULL, last among equals as the events' report orders it.
-- Without provider or model, usage_user_cc_daily has the fifth of the
-- rows that usage_user_daily has; the plan made for the call's values
-- reads only the one its branch's condition leaves. Per week, per month
-- and for a whole window, the periods inside the window whose sums are
-- current come from their weekly or monthly rows (0024), the other days
-- from the daily rows: a year by user and model per month adds up
-- 13,000 rows instead of 400,000.
--
-- Planned at each call for its values (server/db.c), as
-- report_spend_rollup.sql is: a generic plan estimates a year of rows at
-- a few and sorts them on disk.
-- tollgate: plan each call
WITH sums AS (
	SELECT CASE WHEN $3::boolean THEN r.cost_center END AS cost_center,
	    CASE WHEN $4::boolean THEN r.provider END AS provider,
	    CASE WHEN $5::boolean THEN r.model END AS model, r.user_id,
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
	        NULL::text AS provider, NULL::text AS model, p.user_id,
	        p.events, p.list_cost, p.cost, p.quantities
	    FROM usage_user_cc_periods p
	    WHERE NOT ($4::boolean OR $5::boolean)
	      AND p.grain = tg_fold_grain($8::text)
	      AND p.period >= tg_utc_lo($1::timestamptz)
	      AND p.period < tg_utc_hi($2::timestamptz)
	      AND tg_period_served(p.grain, p.period, tg_utc_lo($1::timestamptz),
	          tg_utc_hi($2::timestamptz), (SELECT coalesce(array_agg(month),
	          '{}') FROM usage_rollup_dirty))
	    UNION ALL
	    SELECT d.day AS day, d.cost_center,
	        NULL::text AS provider, NULL::text AS model, d.user_id,
	        d.events, d.list_cost, d.cost, d.quantities
	    FROM usage_user_cc_daily d
	    WHERE NOT ($4::boolean OR $5::boolean)
	      AND d.day >= tg_utc_lo($1::timestamptz)
	      AND d.day < tg_utc_hi($2::timestamptz)
	      AND tg_day_unserved(tg_fold_grain($8::text), d.day,
	          tg_utc_lo($1::timestamptz), tg_utc_hi($2::timestamptz),
	          (SELECT coalesce(array_agg(month), '{}')
	              FROM usage_rollup_dirty),
	          (SELECT min(month) - 6 FROM usage_rollup_dirty))
	    UNION ALL
	    SELECT p.period AS day, p.cost_center,
	        p.provider, p.model, p.user_id, p.events, p.list_cost,
	        p.cost, p.quantities
	    FROM usage_user_periods p
	    WHERE ($4::boolean OR $5::boolean)
	      AND p.grain = tg_fold_grain($8::text)
	      AND p.period >= tg_utc_lo($1::timestamptz)
	      AND p.period < tg_utc_hi($2::timestamptz)
	      AND tg_period_served(p.grain, p.period, tg_utc_lo($1::timestamptz),
	          tg_utc_hi($2::timestamptz), (SELECT coalesce(array_agg(month),
	          '{}') FROM usage_rollup_dirty))
	    UNION ALL
	    SELECT d.day AS day, d.cost_center,
	        d.provider, d.model, d.user_id, d.events, d.list_cost,
	        d.cost, d.quantities
	    FROM usage_user_daily d
	    WHERE ($4::boolean OR $5::boolean)
	      AND d.day >= tg_utc_lo($1::timestamptz)
	      AND d.day < tg_utc_hi($2::timestamptz)
	      AND tg_day_unserved(tg_fold_grain($8::text), d.day,
	          tg_utc_lo($1::timestamptz), tg_utc_hi($2::timestamptz),
	          (SELECT coalesce(array_agg(month), '{}')
	              FROM usage_rollup_dirty),
	          (SELECT min(month) - 6 FROM usage_rollup_dirty))) r
	WHERE ($9::text IS NULL OR r.cost_center COLLATE "C" = $9::text
	      OR (r.cost_center COLLATE "C" > $9::text || '/'
	          AND r.cost_center COLLATE "C" < $9::text || '0'))
	GROUP BY 1, 2, 3, 4, 5
)
SELECT s.cost_center, s.provider, s.model, s.user_id, NULL::text,
    to_char(s.period, 'YYYY-MM-DD"T00:00:00Z"'), s.cost::text,
    s.list_cost::text, s.events::text, s.quantities
FROM sums s
WHERE $6::boolean AND $7::text IS NULL AND $10::text[] IS NOT NULL
ORDER BY 6, 1, 2, 3, 4
