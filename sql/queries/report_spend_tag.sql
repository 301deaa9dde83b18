-- Spend by a tag's value from the rollups per tag (0020; without
-- provider or model usage_tag_cc_daily, a fifth of the rows),
-- as report_spend_events.sql answers it, for groupings by one tag key
-- (and any of cost center, provider, model) over whole UTC days: $1, $2
-- at midnight UTC or NULL; $3, $4, $5 group by cost center, provider,
-- model; $6 false; $7 the tag key; $8 granularity none, day, week or
-- month; $9 a subtree or NULL; $10 the meters (unused).
--
-- The events lacking the key (or with a JSON null) are in no row of it:
-- the report from the events groups them under a NULL tag, here
-- usage_daily's sums less the key's over the same dimensions and
-- period, where events remain. Quantities are bigint[] in the meters'
-- order, added with tg_sum; the server names them. The tagged rows come
-- as they stand, unordered, and the server orders and adds them up as it does
-- the users' (a year by cost center, tag and week: 67 ms hashed here, 46
-- ms so, under load); a subtree of many cost centers per day sends more
-- rows than groups.
--
-- Per week, per month and for a whole window, the periods inside the
-- window that no mark made stale come from their weekly or monthly sums
-- (0024), and per day without cost centers or a subtree the days
-- from their sums over all cost centers; those sums hold the days before
-- the last fold's, and the other days come from the daily rows
-- (tg_period_served, tg_day_unserved).
--
-- Planned at each call for its values (server/db.c), as
-- report_spend_rollup.sql is.
-- tollgate: plan each call
-- The tagged rows as they stand: the server orders them and adds up
-- those of a group (spend_rows.c); the rows of the events lacking the
-- key, one per group, are sums.
WITH tagged AS MATERIALIZED (
	SELECT CASE WHEN $3::boolean THEN r.cost_center END AS cost_center,
	    CASE WHEN $4::boolean THEN r.provider END AS provider,
	    CASE WHEN $5::boolean THEN r.model END AS model,
	    r.tag_value AS tag,
	    CASE WHEN $8::text = 'none' THEN NULL
	        ELSE date_trunc($8::text, r.day::timestamp)::date END AS period,
	    r.cost, r.list_cost, r.events, r.quantities
	FROM (SELECT p.period AS day, p.cost_center,
	        NULL::text AS provider, NULL::text AS model, p.tag_value,
	        p.events, p.list_cost, p.cost, p.quantities
	    FROM usage_tag_cc_periods p
	    WHERE NOT ($4::boolean OR $5::boolean)
	      AND p.tag_key = $7::text AND p.grain = tg_fold_grain($8::text, $3::boolean, $9::text)
	      AND p.period >= tg_utc_lo($1::timestamptz)
	      AND p.period < tg_utc_hi($2::timestamptz)
	      AND tg_period_served(p.grain, p.period, tg_utc_lo($1::timestamptz),
	          tg_utc_hi($2::timestamptz),
	          (SELECT tg_periods_marked(tg_fold_grain($8::text,
	              $3::boolean, $9::text))))
	    UNION ALL
	    SELECT d.day AS day, d.cost_center,
	        NULL::text AS provider, NULL::text AS model, d.tag_value,
	        d.events, d.list_cost, d.cost, d.quantities
	    FROM usage_tag_cc_daily d
	    WHERE NOT ($4::boolean OR $5::boolean)
	      AND d.tag_key = $7::text AND d.day >= tg_utc_lo($1::timestamptz)
	      AND d.day < tg_utc_hi($2::timestamptz)
	      AND tg_day_unserved(tg_fold_grain($8::text, $3::boolean, $9::text),
	          d.day,
	          tg_utc_lo($1::timestamptz), tg_utc_hi($2::timestamptz),
	          (SELECT tg_periods_marked(tg_fold_grain($8::text,
	              $3::boolean, $9::text))),
	          (SELECT tg_periods_since(tg_fold_grain($8::text,
	              $3::boolean, $9::text))),
	          (SELECT tg_periods_through()))
	    UNION ALL
	    SELECT p.period AS day, p.cost_center,
	        p.provider, p.model, p.tag_value, p.events, p.list_cost,
	        p.cost, p.quantities
	    FROM usage_tag_periods p
	    WHERE ($4::boolean OR $5::boolean)
	      AND p.tag_key = $7::text AND p.grain = tg_fold_grain($8::text, $3::boolean, $9::text)
	      AND p.period >= tg_utc_lo($1::timestamptz)
	      AND p.period < tg_utc_hi($2::timestamptz)
	      AND tg_period_served(p.grain, p.period, tg_utc_lo($1::timestamptz),
	          tg_utc_hi($2::timestamptz),
	          (SELECT tg_periods_marked(tg_fold_grain($8::text,
	              $3::boolean, $9::text))))
	    UNION ALL
	    SELECT d.day AS day, d.cost_center,
	        d.provider, d.model, d.tag_value, d.events, d.list_cost,
	        d.cost, d.quantities
	    FROM usage_tag_daily d
	    WHERE ($4::boolean OR $5::boolean)
	      AND d.tag_key = $7::text AND d.day >= tg_utc_lo($1::timestamptz)
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
), everything AS (
	SELECT CASE WHEN $3::boolean THEN r.cost_center END AS cost_center,
	    CASE WHEN $4::boolean THEN r.provider END AS provider,
	    CASE WHEN $5::boolean THEN r.model END AS model,
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
), tagged_all AS (
	SELECT cost_center, provider, model, period, tg_sum(cost) AS cost,
	    tg_sum(list_cost) AS list_cost, tg_sum(events) AS events,
	    ARRAY[tg_sum(quantities[1]), tg_sum(quantities[2]),
	        tg_sum(quantities[3]), tg_sum(quantities[4]),
	        tg_sum(quantities[5]), tg_sum(quantities[6]),
	        tg_sum(quantities[7]), tg_sum(quantities[8]),
	        tg_sum(quantities[9]), tg_sum(quantities[10]),
	        tg_sum(quantities[11]), tg_sum(quantities[12]),
	        tg_sum(quantities[13]), tg_sum(quantities[14])]
	        AS quantities
	FROM tagged GROUP BY 1, 2, 3, 4
), rows AS (
	SELECT cost_center, provider, model, tag, period, cost, list_cost,
	    events, quantities
	FROM tagged
	UNION ALL
	SELECT e.cost_center, e.provider, e.model, NULL, e.period,
	    e.cost - coalesce(t.cost, 0), e.list_cost - coalesce(t.list_cost, 0),
	    e.events - coalesce(t.events, 0),
	    tg_quantities_minus(e.quantities, t.quantities)
	FROM everything e
	-- Equalities on coalesced keys (chr(1) is in no name), not IS NOT
	-- DISTINCT FROM, so that the join is hashed.
	LEFT JOIN tagged_all t
	    ON coalesce(t.cost_center, chr(1)) = coalesce(e.cost_center, chr(1))
	    AND coalesce(t.provider, chr(1)) = coalesce(e.provider, chr(1))
	    AND coalesce(t.model, chr(1)) = coalesce(e.model, chr(1))
	    AND coalesce(t.period, '-infinity') = coalesce(e.period, '-infinity')
	WHERE e.events > coalesce(t.events, 0)
)
SELECT cost_center, provider, model, NULL::text, tag,
    period::text || 'T00:00:00Z', cost,
    list_cost, events, quantities
FROM rows
WHERE $6::boolean IS NOT TRUE AND $7::text IS NOT NULL
  AND $10::text[] IS NOT NULL
-- Unordered: the server orders the rows (spend_rows.c).
