-- $1: this instance.
-- Reservations still holding money: not ended, not expired, and not
-- settled by a usage event booked before their end was written. Held rows
-- of `reservations` first (the last column 1: the row exists), then the
-- logged holds (sql/0025_reservation_log.sql) whose end has no row.
SELECT r.id, r.key_id, r.request_id, r.cost_center, r.budgets::text,
    r.amount, coalesce(r.max_output_tokens, 0),
    (extract(epoch FROM r.created_at) * 1000000)::bigint,
    (extract(epoch FROM r.expires_at) * 1000000)::bigint, 1
FROM reservations r
WHERE r.instance = $1 AND r.state = 'held' AND r.expires_at > now()
  AND NOT EXISTS (SELECT 1 FROM usage_events u WHERE u.reservation_id = r.id)
UNION ALL
SELECT DISTINCT ON (h.id) h.id, h.key_id, h.request_id, h.cost_center,
    h.budgets, h.amount, coalesce(h.max_output_tokens, 0),
    (extract(epoch FROM h.created_at) * 1000000)::bigint,
    (extract(epoch FROM h.expires_at) * 1000000)::bigint, 0
FROM reservation_log_holds h
WHERE h.instance = $1 AND h.expires_max > now() AND h.expires_at > now()
  AND NOT EXISTS (SELECT 1 FROM reservations r
                  WHERE r.id = h.id AND r.created_at = h.created_at)
  AND NOT EXISTS (SELECT 1 FROM usage_events u WHERE u.reservation_id = h.id)
