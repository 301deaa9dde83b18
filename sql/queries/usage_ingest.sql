-- $1 the batch, see usage_ingest() in 0003_usage.sql; $2 create unknown
-- cost centers
SELECT n, status, transaction_id, cost, coalesce(unpriced, '')
FROM usage_ingest($1::jsonb, $2::boolean)
