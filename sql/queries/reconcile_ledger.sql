-- The ledger's figures for a provider per day x model over [$2, $3]
-- (dates), for reconciliation: cost (with corrections) and the input,
-- output and cached input tokens. Ordered as reconcile.c orders the
-- export.
WITH c AS (
	SELECT day, model, sum(cost) AS cost
	FROM usage_daily
	WHERE provider = $1::text AND day BETWEEN $2::date AND $3::date
	GROUP BY 1, 2
), q AS (
	SELECT day, model,
	    sum(quantity) FILTER (WHERE meter = 'input') AS input,
	    sum(quantity) FILTER (WHERE meter = 'output') AS output,
	    sum(quantity) FILTER (WHERE meter = 'cached_input') AS cached
	FROM usage_daily_meters
	WHERE provider = $1::text AND day BETWEEN $2::date AND $3::date
	GROUP BY 1, 2
)
SELECT c.day::text, c.model, c.cost::text, coalesce(q.input, 0)::text,
    coalesce(q.output, 0)::text, coalesce(q.cached, 0)::text
FROM c LEFT JOIN q USING (day, model)
ORDER BY c.day, c.model COLLATE "C"
