-- $1: this instance.
-- Reservations still holding money: not ended, not expired, and not
-- settled by a usage event booked before their end was written.
SELECT r.id, r.key_id, r.request_id, r.cost_center, r.budgets::text,
    r.amount, coalesce(r.max_output_tokens, 0),
    (extract(epoch FROM r.created_at) * 1000000)::bigint,
    (extract(epoch FROM r.expires_at) * 1000000)::bigint
FROM reservations r
WHERE r.instance = $1 AND r.state = 'held' AND r.expires_at > now()
  AND NOT EXISTS (SELECT 1 FROM usage_events u WHERE u.reservation_id = r.id)
