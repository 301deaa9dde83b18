-- Usage events to reprice, in transaction order after $3, with what they
-- have cost so far, the price version they were last priced with, and a
-- name for that state (corrections so far, cost, list cost).
-- $1 from, $2 to (NULL: open), $3 after this transaction id, $4 limit
SELECT u.transaction_id,
    (extract(epoch FROM u.occurred_at) * 1000000)::bigint,
    u.cost_center, u.provider, u.model, u.service_tier, u.quantities::text,
    u.list_cost + coalesce(c.list_delta, 0),
    u.cost + coalesce(c.cost_delta, 0),
    coalesce(c.last_version, u.price_version, 0),
    (u.unpriced IS NOT NULL AND c.corrects IS NULL),
    (u.occurred_at AT TIME ZONE 'UTC')::date::text,
    coalesce(c.n, 0) || ':' || (u.cost + coalesce(c.cost_delta, 0)) || ':' ||
        (u.list_cost + coalesce(c.list_delta, 0))
FROM usage_events u
LEFT JOIN (
	SELECT corrects, count(*) AS n, sum(list_delta) AS list_delta,
	    sum(cost_delta) AS cost_delta,
	    (array_agg(price_version ORDER BY transaction_id DESC))[1]
	        AS last_version
	FROM usage_corrections GROUP BY corrects) c
    ON c.corrects = u.transaction_id
WHERE ($1::timestamptz IS NULL OR u.occurred_at >= $1::timestamptz)
  AND ($2::timestamptz IS NULL OR u.occurred_at < $2::timestamptz)
  AND u.transaction_id > $3::bigint
ORDER BY u.transaction_id
LIMIT $4::int
