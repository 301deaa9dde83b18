-- $1 the batch, see usage_ingest() in 0003_usage.sql; $2 create unknown
-- cost centers. Columns 5 on tell the budgets what was booked.
SELECT n, status, transaction_id, cost, coalesce(unpriced, ''),
    cost_center, (extract(epoch FROM occurred_at) * 1000000)::bigint,
    provider, model, user_id, tags::text, reservation_id
FROM usage_ingest($1::jsonb, $2::boolean)
