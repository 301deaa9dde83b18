-- $1 the batch, see usage_ingest() in 0004_partitions.sql; $2 create unknown
-- cost centers. Columns 5 on tell the budgets what was booked, and in
-- which transaction (so that a budget's spend read concurrently counts
-- each event once).
SELECT n, status, transaction_id, cost, coalesce(unpriced, ''),
    cost_center, (extract(epoch FROM occurred_at) * 1000000)::bigint,
    provider, model, user_id, tags::text, reservation_id,
    pg_current_xact_id()::text
FROM usage_ingest($1::jsonb, $2::boolean)
