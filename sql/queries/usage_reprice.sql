-- $1 corrections, see usage_reprice() in 0003_usage.sql
SELECT usage_reprice($1::jsonb)
