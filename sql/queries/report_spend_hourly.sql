-- Spend per UTC hour from the hourly rollup (usage_hourly, 0020), as
-- report_spend_events.sql answers it, for groupings by cost center,
-- provider and model over whole UTC hours: $1, $2 on the hour or NULL;
-- $3, $4, $5 group by cost center, provider, model; $6 false, $7 NULL
-- and $10 the meters (unused); $8 'hour'; $9 a subtree or NULL. Rows are
-- added up, their quantities (a bigint[] in the meters' order) position
-- by position; the server names them. With $8 none, day, week or month,
-- the whole hours of a window's edge days, in the periods of those
-- days (the server adds them to the whole days' groups).
--
-- Planned at each call for its values (server/db.c), as
-- report_spend_rollup.sql is.
-- tollgate: plan each call
WITH sums AS (
	SELECT CASE WHEN $3::boolean THEN r.cost_center END AS cost_center,
	    CASE WHEN $4::boolean THEN r.provider END AS provider,
	    CASE WHEN $5::boolean THEN r.model END AS model,
	    CASE WHEN $8::text <> 'none' THEN date_trunc($8::text, r.hour)
	        END AS hour,
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
	FROM usage_hourly r
	WHERE r.hour >= coalesce($1::timestamptz AT TIME ZONE 'UTC',
	        '-infinity'::timestamp)
	  AND r.hour < coalesce($2::timestamptz AT TIME ZONE 'UTC',
	        'infinity'::timestamp)
	  AND ($9::text IS NULL OR r.cost_center COLLATE "C" = $9::text
	      OR (r.cost_center COLLATE "C" > $9::text || '/'
	          AND r.cost_center COLLATE "C" < $9::text || '0'))
	GROUP BY 1, 2, 3, 4
)
SELECT s.cost_center, s.provider, s.model, NULL::text, NULL::text,
    replace(s.hour::text, ' ', 'T') || 'Z', s.cost,
    s.list_cost, s.events, s.quantities
FROM sums s
WHERE $6::boolean IS NOT TRUE AND $7::text IS NULL
  AND $10::text[] IS NOT NULL
ORDER BY 6, 1, 2, 3
