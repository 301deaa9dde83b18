-- A batch as one array per column, see usage_ingest_cols() in
-- 0010_ingest_speed.sql; the rows returned are usage_ingest.sql's.
SELECT n, status, transaction_id, cost, coalesce(unpriced, ''),
    cost_center, (extract(epoch FROM occurred_at) * 1000000)::bigint,
    provider, model, user_id, tags::text, reservation_id,
    pg_current_xact_id()::text
FROM usage_ingest_cols($1::text[], $2::text[], $3::timestamptz[],
    $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
    $10::jsonb[], $11::text[], $12::bigint[], $13::text[], $14::bigint[],
    $15::bigint[], $16::bigint[], $17::text[], $18::bigint[], $19::text[],
    $20::text[], $21::int[], $22::text[], $23::bigint[], $24::bigint[],
    $25::bigint[], $26::boolean)
