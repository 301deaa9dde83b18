-- Reservations never written before: reservations_write.sql's rows and
-- parameters, inserted without its ON CONFLICT (a plain insert costs
-- PostgreSQL less than an upsert, and nearly every hold is written once,
-- when it is new).
INSERT INTO reservations AS r (id, key_id, request_id, cost_center, budgets,
    amount, max_output_tokens, created_at, expires_at, state, ended_at,
    actual, instance)
SELECT e.id, e.key_id, e.request_id, e.cc, e.budgets::bigint[], e.amount,
    e.max_output, e.created, e.expires, e.state, e.ended, e.actual,
    $13::text
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
    $6::bigint[], $7::bigint[], $8::timestamptz[], $9::timestamptz[],
    $10::text[], $11::timestamptz[], $12::bigint[])
    AS e (id, key_id, request_id, cc, budgets, amount, max_output, created,
    expires, state, ended, actual)
ORDER BY e.id
