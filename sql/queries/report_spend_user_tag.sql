-- Spend by user and a tag's value together from the rollup per user and
-- tag (0026), as report_spend_events.sql answers it, for groupings by a
-- user and one tag key (with or without cost center; not provider or
-- model, which the rollup does not keep) over whole UTC days: $1, $2 at
-- midnight UTC or NULL; $3 group by cost center; $4, $5 false; $6 true;
-- $7 the tag key; $8 granularity none, day, week or month; $9 a subtree
-- or NULL; $10 the meters (unused).
--
-- As report_spend_tag.sql with users in place of providers and models:
-- the tagged rows come as they stand, unordered, and the server orders
-- them and adds up those of a group (spend_rows.c); the events lacking the key
-- (or with a JSON null) are in no row of it, and are each user's sums
-- in usage_user_cc_daily less the key's rows, one row per group where
-- events remain. Per week, per month and for a whole window, the
-- periods inside the window that no mark made stale come from their
-- sums (0024, 0026), the other days from the daily rows; the key's rows
-- of such a period are taken away as their one sum over the values.
--
-- Planned at each call for its values (server/db.c), as
-- report_spend_rollup.sql is.
-- tollgate: plan each call
WITH pairs AS NOT MATERIALIZED (
	-- The key's rows of the window: kind 'value' and 'sum' a period's
	-- sums per value and over the values, 'day' a day's per value.
	SELECT p.period AS day, p.cost_center, p.user_id, p.tag_value,
	    p.events, p.list_cost, p.cost, p.quantities,
	    CASE WHEN p.tag_value IS NULL THEN 'sum' ELSE 'value' END AS kind
	FROM usage_user_tag_cc_periods p
	WHERE p.tag_key = $7::text AND p.grain = tg_fold_grain($8::text)
	  AND p.period >= tg_utc_lo($1::timestamptz)
	  AND p.period < tg_utc_hi($2::timestamptz)
	  AND tg_period_served(p.grain, p.period, tg_utc_lo($1::timestamptz),
	      tg_utc_hi($2::timestamptz),
	      (SELECT tg_periods_marked(tg_fold_grain($8::text))))
	UNION ALL
	SELECT d.day, d.cost_center, d.user_id, d.tag_value, d.events,
	    d.list_cost, d.cost, d.quantities, 'day'
	FROM usage_user_tag_cc_daily d
	WHERE d.tag_key = $7::text AND d.day >= tg_utc_lo($1::timestamptz)
	  AND d.day < tg_utc_hi($2::timestamptz)
	  AND tg_day_unserved(tg_fold_grain($8::text), d.day,
	      tg_utc_lo($1::timestamptz), tg_utc_hi($2::timestamptz),
	      (SELECT tg_periods_marked(tg_fold_grain($8::text))),
	      (SELECT tg_periods_since(tg_fold_grain($8::text))),
	      (SELECT tg_periods_through()))
), untagged AS (
	-- Each group's events in usage_user_cc_daily (or its sums) added
	-- up with the key's rows taken away, in one aggregation.
	SELECT CASE WHEN $3::boolean THEN r.cost_center END AS cost_center,
	    r.user_id,
	    CASE WHEN $8::text = 'none' THEN NULL
	        ELSE date_trunc($8::text, r.day::timestamp)::date END AS period,
	    tg_sum(r.cost) AS cost, tg_sum(r.list_cost) AS list_cost,
	    tg_sum(r.events) AS events,
	    ARRAY[tg_sum(r.quantities[1]), tg_sum(r.quantities[2]),
	        tg_sum(r.quantities[3]), tg_sum(r.quantities[4]),
	        tg_sum(r.quantities[5]), tg_sum(r.quantities[6]),
	        tg_sum(r.quantities[7]), tg_sum(r.quantities[8]),
	        tg_sum(r.quantities[9]), tg_sum(r.quantities[10]),
	        tg_sum(r.quantities[11]), tg_sum(r.quantities[12]),
	        tg_sum(r.quantities[13]), tg_sum(r.quantities[14])]
	        AS quantities
	FROM (SELECT w.day, w.cost_center, w.user_id, w.events, w.list_cost,
	        w.cost, w.quantities
	    FROM tg_user_cc_window(tg_utc_lo($1::timestamptz),
	        tg_utc_hi($2::timestamptz), tg_fold_grain($8::text)) w
	    UNION ALL
	    SELECT t.day, t.cost_center, t.user_id, -t.events, -t.list_cost,
	        -t.cost, ARRAY[-t.quantities[1], -t.quantities[2],
	        -t.quantities[3], -t.quantities[4], -t.quantities[5],
	        -t.quantities[6], -t.quantities[7], -t.quantities[8],
	        -t.quantities[9], -t.quantities[10], -t.quantities[11],
	        -t.quantities[12], -t.quantities[13], -t.quantities[14]]
	    FROM pairs t WHERE t.kind <> 'value') r
	WHERE $9::text IS NULL OR r.cost_center COLLATE "C" = $9::text
	    OR (r.cost_center COLLATE "C" > $9::text || '/'
	        AND r.cost_center COLLATE "C" < $9::text || '0')
	GROUP BY 1, 2, 3
	HAVING tg_sum(r.events) > 0
), rows AS (
	SELECT CASE WHEN $3::boolean THEN t.cost_center END AS cost_center,
	    t.user_id, t.tag_value AS tag,
	    CASE WHEN $8::text = 'none' THEN NULL
	        ELSE date_trunc($8::text, t.day::timestamp)::date END AS period,
	    t.cost, t.list_cost, t.events, t.quantities
	FROM pairs t
	WHERE t.kind <> 'sum'
	  AND ($9::text IS NULL OR t.cost_center COLLATE "C" = $9::text
	      OR (t.cost_center COLLATE "C" > $9::text || '/'
	          AND t.cost_center COLLATE "C" < $9::text || '0'))
	UNION ALL
	SELECT cost_center, user_id, NULL, period, cost, list_cost, events,
	    quantities
	FROM untagged
)
SELECT cost_center, NULL::text, NULL::text, user_id, tag,
    period::text || 'T00:00:00Z', cost, list_cost, events, quantities
FROM rows
WHERE NOT ($4::boolean OR $5::boolean) AND $6::boolean
  AND $7::text IS NOT NULL AND $10::text[] IS NOT NULL
-- Unordered: the server orders the rows (spend_rows.c).
