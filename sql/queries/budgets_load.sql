-- Budgets changed after $1 (epoch microseconds; 0: every live one), as
-- the server keeps them; deleted ones come back (deleted = true) so that
-- other instances drop them.
SELECT id, name, cost_center, scope_user, scope_provider, scope_model,
    scope_tags::text, period, time_zone, amount, mode, reserve,
    thresholds::text, cost_per_minute, tokens_per_minute,
    on_database_unavailable, deleted,
    (extract(epoch FROM updated_at) * 1000000)::bigint,
    burn_pause_amount, burn_pause_minutes, paused_at IS NOT NULL
FROM budgets
WHERE updated_at > 'epoch'::timestamptz + $1::bigint * interval '1 microsecond'
  AND ($1::bigint > 0 OR NOT deleted)
ORDER BY updated_at, id
