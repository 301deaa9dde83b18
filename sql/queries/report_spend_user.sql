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
-- reads only the one its branch's condition leaves.
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
	FROM (SELECT day, cost_center, NULL::text AS provider,
	        NULL::text AS model, user_id, events, list_cost, cost,
	        quantities
	    FROM usage_user_cc_daily WHERE NOT ($4::boolean OR $5::boolean)
	    UNION ALL
	    SELECT day, cost_center, provider, model, user_id, events,
	        list_cost, cost, quantities
	    FROM usage_user_daily WHERE $4::boolean OR $5::boolean) r
	WHERE r.day >= coalesce(($1::timestamptz AT TIME ZONE 'UTC')::date,
	        '-infinity'::date)
	  AND r.day < coalesce(($2::timestamptz AT TIME ZONE 'UTC')::date,
	        'infinity'::date)
	  AND ($9::text IS NULL OR r.cost_center COLLATE "C" = $9::text
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
