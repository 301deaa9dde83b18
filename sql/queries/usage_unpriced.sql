-- Events still unpriced (not corrected since), oldest first.
-- $1 from, $2 to (NULL: open), $3 after this transaction id, $4 limit
SELECT u.transaction_id, t.idempotency_key, tg_rfc3339(u.occurred_at),
    u.cost_center, u.provider, u.model, u.service_tier, u.unpriced,
    u.quantities::text
FROM usage_events u JOIN transactions t ON t.id = u.transaction_id
    AND t.occurred_at = u.occurred_at
WHERE u.unpriced IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM usage_corrections c
      WHERE c.corrects = u.transaction_id)
  AND ($1::timestamptz IS NULL OR u.occurred_at >= $1::timestamptz)
  AND ($2::timestamptz IS NULL OR u.occurred_at < $2::timestamptz)
  AND u.transaction_id > $3::bigint
ORDER BY u.transaction_id
LIMIT $4::int
