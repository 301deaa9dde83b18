-- A batch as one array per column, see usage_book_cols() in
-- 0023_ingest_answer_less.sql: each position's outcome and resolved cost
-- center, and the booking's transaction (for the budgets' reads); the
-- server holds the rest of each event.
SELECT n, status, transaction_id, cost, coalesce(unpriced, ''),
    cost_center, pg_current_xact_id()::text
FROM usage_book_cols($1::text[], $2::text[], $3::timestamptz[],
    $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
    $10::jsonb[], $11::text[], $12::bigint[], $13::text[], $14::bigint[],
    $15::bigint[], $16::bigint[], $17::text[], $18::bigint[], $19::text[],
    $20::text[], $21::int[], $22::text[], $23::bigint[], $24::bigint[],
    $25::bigint[], $26::boolean)
