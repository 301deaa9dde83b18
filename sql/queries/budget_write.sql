-- $1 create | update | delete, $2 budget id, $3 fields, $4 key id. The
-- budget comes back in the columns of budgets_load.sql.
SELECT w.status, b.id, b.name, b.cost_center, b.scope_user,
    b.scope_provider, b.scope_model, b.scope_tags::text, b.period,
    b.time_zone, b.amount, b.mode, b.reserve, b.thresholds::text,
    b.cost_per_minute, b.tokens_per_minute, b.on_database_unavailable,
    b.deleted, (extract(epoch FROM b.updated_at) * 1000000)::bigint,
    b.burn_pause_amount, b.burn_pause_minutes, b.paused_at IS NOT NULL
FROM budget_write($1, $2::bigint, $3::jsonb, $4) w
LEFT JOIN LATERAL jsonb_populate_record(NULL::budgets, w.budget) b ON true
