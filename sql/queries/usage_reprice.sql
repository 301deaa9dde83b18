-- $1 corrections, see usage_reprice() in 0004_partitions.sql: one row per
-- correction booked, with the corrected event's dimensions for the
-- budgets, as usage_ingest.sql gives them from column 5 on.
SELECT r.corrects, r.cost_delta, u.cost_center,
    (extract(epoch FROM u.occurred_at) * 1000000)::bigint, u.provider,
    u.model, u.user_id, u.tags::text, NULL::text, pg_current_xact_id()::text
FROM usage_reprice($1::jsonb) r
JOIN usage_events u ON u.transaction_id = r.corrects
