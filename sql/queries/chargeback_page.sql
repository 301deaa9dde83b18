-- One page of the chargeback: usage per period (day or month, UTC) x cost
-- center x provider x model x meter from the rollups, with the repricing
-- corrections taken out into rows of their own. $1 the month's start, $2
-- its end, $3 'day' or 'month', $4..$9 the last row of the previous page
-- (period, cost center, provider, model, meter, class; NULL for the
-- first page), $10 rows per page. Ordered by those six columns.
WITH corr AS (
	SELECT date_trunc($3::text, u.occurred_at AT TIME ZONE 'UTC')::date
	        AS period,
	    u.cost_center, u.provider, u.model, m.meter,
	    sum(m.l) AS list_cost, sum(m.c) AS cost
	FROM usage_corrections x
	JOIN usage_events u ON u.transaction_id = x.corrects
	CROSS JOIN LATERAL jsonb_to_recordset(x.meters)
	    AS m (meter text, q bigint, l bigint, c bigint)
	WHERE u.occurred_at >= $1::timestamptz AND u.occurred_at < $2::timestamptz
	GROUP BY 1, 2, 3, 4, 5
), used AS (
	SELECT date_trunc($3::text, d.day::timestamp)::date AS period,
	    d.cost_center, d.provider, d.model, d.meter,
	    sum(d.quantity) AS quantity, sum(d.list_cost) AS list_cost,
	    sum(d.cost) AS cost
	FROM usage_daily_meters d
	WHERE d.day >= ($1::timestamptz AT TIME ZONE 'UTC')::date
	  AND d.day < ($2::timestamptz AT TIME ZONE 'UTC')::date
	GROUP BY 1, 2, 3, 4, 5
), rows AS (
	SELECT u.period, u.cost_center, u.provider, u.model, u.meter,
	    ''::text AS class, u.quantity,
	    u.list_cost - coalesce(c.list_cost, 0) AS list_cost,
	    u.cost - coalesce(c.cost, 0) AS cost
	FROM used u
	LEFT JOIN corr c USING (period, cost_center, provider, model, meter)
	UNION ALL
	SELECT period, cost_center, provider, model, meter, 'Correction',
	    NULL, list_cost, cost
	FROM corr
)
SELECT r.period::text, r.cost_center, r.provider, r.model, r.meter, r.class,
    r.quantity, r.list_cost, r.cost, coalesce(cc.name, r.cost_center),
    coalesce(cc.tags, '{}')::text
FROM rows r
LEFT JOIN cost_centers cc ON cc.id = r.cost_center
WHERE $4::date IS NULL OR (r.period, r.cost_center COLLATE "C",
    r.provider COLLATE "C", r.model COLLATE "C", r.meter COLLATE "C",
    r.class COLLATE "C") > ($4::date, $5::text COLLATE "C",
    $6::text COLLATE "C", $7::text COLLATE "C", $8::text COLLATE "C",
    $9::text COLLATE "C")
ORDER BY r.period, r.cost_center COLLATE "C", r.provider COLLATE "C",
    r.model COLLATE "C", r.meter COLLATE "C", r.class COLLATE "C"
LIMIT $10::int
