-- What the recommendations read: per cost center x provider x model x
-- tier over [$1, $2), the events, their cost and tokens per meter (in
-- usage_events.quantities order), the cost of failed or cancelled calls,
-- and the cost of calls at least $3 ms long (batch candidates).
SELECT cost_center, provider, model, service_tier, count(*)::text,
    sum(cost)::text,
    sum(quantities[1])::text, sum(quantities[2])::text,
    sum(quantities[3])::text, sum(quantities[4])::text,
    sum(quantities[5])::text, sum(quantities[6])::text,
    sum(quantities[7])::text, sum(quantities[8])::text,
    sum(quantities[9])::text, sum(quantities[10])::text,
    sum(quantities[11])::text, sum(quantities[12])::text,
    sum(quantities[13])::text, sum(quantities[14])::text,
    count(*) FILTER (WHERE status <> 'ok')::text,
    coalesce(sum(cost) FILTER (WHERE status <> 'ok'), 0)::text,
    count(*) FILTER (WHERE latency_ms >= $3::bigint)::text,
    coalesce(sum(cost) FILTER (WHERE latency_ms >= $3::bigint), 0)::text
FROM usage_events
WHERE occurred_at >= $1::timestamptz AND occurred_at < $2::timestamptz
  AND unpriced IS NULL
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
