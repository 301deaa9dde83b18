-- The spend of budgets over their periods: $1 ids, $2 period starts, $3
-- period ends (arrays of the same length), with the snapshot it was read
-- in, so that events booked meanwhile are counted once.
SELECT s.budget_id, s.spend::text, pg_current_snapshot()::text
FROM budget_spend_of($1::bigint[], $2::timestamptz[], $3::timestamptz[]) s
