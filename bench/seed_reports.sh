#!/bin/sh
# bench/seed_reports.sh DIR EVENTS: seed a year of usage into the database
# of TOLLGATE_DATABASE_URL, as `make bench` and bench/reports.sh measure
# reports on it: EVENTS events (20 cost centers, 5 models, spread over the
# year up to today; 200 users, ten per cost center, and no user on one
# event in 13; tags "env" and "feature" (ten values), "feature" missing
# on one event in 9) written with COPY, and the daily rollups built from
# them as ingest keeps them (the rollup per cost center and day, and the
# daily rows' quantities, follow them by their triggers; the rollups per
# user, per tag, per user and tag and per hour follow the COPY itself by
# theirs, 0020 and 0026; the weekly, monthly and hourly sums of 0024 and
# 0026 are folded at the end). Only the events
# and the rollups are seeded: the reports read nothing else. DIR is a
# directory the postgres user can
# read (the generator runs there as COPY's program).
set -eu
dir=$1
events=$2
cat >"$dir/seed.awk" <<'AWK'
BEGIN {
	split("gpt-4o gpt-4o-mini o3 gpt-4.1 gpt-4.1-mini", m, " ");
	for (i = 1; i <= n; i++) {
		t = now - 31536000 + int(i * 31536000 / n);
		inp = 500 + (i * 37) % 3000;
		out = 50 + (i * 11) % 800;
		user = i % 13 == 0 ? "\\N" : "user-" (i % 20 + 20 * (int(i / 100) % 10));
		tags = i % 9 == 0 ? "{\"env\": \"prod\"}" : "{\"env\": \"prod\", \"feature\": \"f-" (int(i / 7) % 10) "\"}";
		printf "%d\t%s\tteam-%d\topenai\t%s\tstandard\t1\t%d\t%d\t{%d,0,0,0,%d,0,0,0,0,0,0,0,1,0}\tteam-%d\t%s\t%s\n",
		    2000000000 + i, strftime("%Y-%m-%d %H:%M:%S+00", t, 1),
		    i % 20, m[1 + int(i / 20) % 5], inp * 2500 + out * 10000,
		    inp * 2500 + out * 10000, inp, out, i % 20, user, tags
	}
}
AWK
chmod 644 "$dir/seed.awk"
psql "$TOLLGATE_DATABASE_URL" -q <<SQL
INSERT INTO cost_centers (id, name)
SELECT 'team-' || i, 'Team ' || i FROM generate_series(0, 19) i;
COPY usage_events (transaction_id, occurred_at, cost_center, provider, model,
    service_tier, price_version, list_cost, cost, quantities, root, user_id,
    tags)
FROM PROGRAM 'awk -v n=$events -v now=$(date +%s) -f $dir/seed.awk';
INSERT INTO usage_daily (day, cost_center, provider, model, root, events,
    unpriced, list_cost, cost)
SELECT (occurred_at AT TIME ZONE 'UTC')::date, cost_center, provider, model,
    root, count(*), 0, sum(list_cost), sum(cost)
FROM usage_events WHERE transaction_id > 2000000000 GROUP BY 1, 2, 3, 4, 5;
INSERT INTO usage_daily_meters (day, cost_center, provider, model, meter,
    root, quantity, list_cost, cost)
SELECT (occurred_at AT TIME ZONE 'UTC')::date, cost_center, provider, model,
    x.meter, root, sum(x.q), sum(x.l), sum(x.l)
FROM usage_events,
    LATERAL (VALUES ('input', quantities[1], quantities[1] * 2500),
        ('output', quantities[5], quantities[5] * 10000),
        ('request', quantities[13], 0)) AS x (meter, q, l)
WHERE transaction_id > 2000000000 GROUP BY 1, 2, 3, 4, 5, 6;
-- The meters' triggers rewrote every daily row with its quantities.
VACUUM ANALYZE usage_daily;
ANALYZE usage_daily_meters;
ANALYZE usage_cc_daily;
ANALYZE usage_user_daily;
ANALYZE usage_user_cc_daily;
ANALYZE usage_tag_daily;
ANALYZE usage_tag_cc_daily;
ANALYZE usage_user_tag_cc_daily;
ANALYZE usage_hourly;
-- The weekly, monthly, daily and hourly sums (0024) of the seeded days,
-- which the COPY marked, as the server's fold makes them within seconds
-- (waiting for a fold the server may be running).
BEGIN;
SELECT pg_advisory_xact_lock(7469526473);
SELECT tg_fold_periods();
COMMIT;
ANALYZE usage_daily_periods;
ANALYZE usage_user_periods;
ANALYZE usage_user_cc_periods;
ANALYZE usage_tag_periods;
ANALYZE usage_tag_cc_periods;
ANALYZE usage_user_tag_cc_periods;
ANALYZE usage_hourly_pm;
ANALYZE usage_hourly_p;
SQL
