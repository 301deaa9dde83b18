-- $1 kind, $2 idempotency key, $3 request hash (hex), $4 occurred_at,
-- $5 memo, $6 key id, $7 accounts, $8 amounts (nano-units)
SELECT status, transaction_id, tg_rfc3339(recorded_at),
    tg_rfc3339(occurred_at)
FROM ledger_post($1, $2, decode($3, 'hex'), $4::timestamptz, $5, $6,
    $7::text[], $8::bigint[])
