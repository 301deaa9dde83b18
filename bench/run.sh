#!/bin/sh
# `make bench`: tollgate's GET /healthz and POST /v1/quote against a bare
# libevent evhttp JSON reply (bench/refserver), all measured with wrk in the
# same run on the same machine, and the ratios between them; and the cost
# engine alone in nanoseconds per priced event (bench/bench_pricing). Each
# server is pinned to one core and wrk to the other, so that they do not
# fight for a CPU.
#
# BENCH_SECONDS (default 10) and BENCH_CONNECTIONS (default 32) tune it.
set -eu
cd "$(dirname "$0")/.."
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
ncpu=$(nproc)
srv_cpu=0
cli_cpu=$((ncpu > 1 ? 1 : 0))

scripts/pg.sh reap
# Under /tmp whatever TMPDIR says: the postgres user must reach it.
pgdir=$(mktemp -d /tmp/tollgate-pg.XXXXXX)
chmod 755 "$pgdir"
echo $$ >"$pgdir/owner.pid"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	scripts/pg.sh kill "$pgdir" >/dev/null 2>&1 || true
	rm -rf "$pgdir"
}
trap cleanup EXIT INT TERM
TOLLGATE_DATABASE_URL=$(scripts/pg.sh start "$pgdir")
export TOLLGATE_DATABASE_URL

# wait_up URL [LOG]: until URL answers (a minute at most: a server loading
# 100k budgets after the ingest runs may take a while); LOG is shown when
# it never does.
wait_up() {
	i=0
	until curl -sf "$1" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -ge 3000 ]; then
			echo "bench: $1 did not come up" >&2
			[ -z "${2:-}" ] || tail -n 20 "$2" >&2
			exit 1
		fi
		sleep 0.02
	done
}

bin/tollgate migrate >/dev/null
# In force before the usage events the ingest runs send (2026-10-05), so
# that they are priced and booked with their postings, as real ones are.
bin/tollgate prices import --format litellm --effective-from 2026-01-01T00:00:00Z \
    pricing/data/litellm-model-prices.json >/dev/null
TG_KEY=$(bin/tollgate key create --role gateway --name bench | tail -n 1)
export TG_KEY
psql "$TOLLGATE_DATABASE_URL" -qc "INSERT INTO cost_centers (id, name) VALUES ('bench', 'Bench')"
# One hot budget for the decisions, large enough never to run out.
psql "$TOLLGATE_DATABASE_URL" -qAt -c "SELECT status FROM budget_write('create', NULL,
    '{\"name\": \"bench\", \"cost_center\": \"bench\", \"period\": \"month\",
      \"amount\": 100000000000000000}', NULL)" >/dev/null



# The reference for ingest: a raw COPY of as many usage rows into a table
# shaped like usage_events, committed, in the same database.
copy_rows=200000
awk -v n=$copy_rows 'BEGIN { for (i = 1; i <= n; i++)
	printf "%d\t2026-10-05 12:00:00+00\tbench\topenai\tgpt-4o\tstandard\t\\N\t{}\t\\N\t1\t\\N\t4500000\t4500000\t\\N\tok\t\\N\t\\N\t{1000,0,0,0,200,0,0,0,0,0,0,0,1,0}\tbench\n", i }' \
    >"$pgdir/copy.tsv"
chmod 644 "$pgdir/copy.tsv"
copy_ms=$(psql "$TOLLGATE_DATABASE_URL" -qAt -c "CREATE TABLE bench_copy (LIKE usage_events)" \
    -c "\\timing on" -c "COPY bench_copy FROM '$pgdir/copy.tsv'" 2>&1 |
    sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1)
copy_rate=$(awk -v n=$copy_rows -v ms="$copy_ms" 'BEGIN { printf "%.0f", n / (ms / 1000) }')

echo "== cost engine" >&2
engine=$(bench/bench_pricing)
echo "$engine" >&2

# measure PID URL [wrk args]: prints "REQ_PER_S CPU_US_PER_REQ": what wrk
# measured, and the server's own CPU time per request from /proc. On this
# small machine one wrk thread may be the bottleneck; the server's CPU per
# request then still compares the servers themselves.
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
measure() {
	pid=$1
	url=$2
	shift 2
	t0=$(ticks "$pid")
	taskset -c "$cli_cpu" wrk -t1 -c"$conns" -d"${secs}s" --latency "$@" "$url" >"$pgdir/wrk.out" 2>&1
	t1=$(ticks "$pid")
	cat "$pgdir/wrk.out" >&2
	n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$pgdir/wrk.out")
	r=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$pgdir/wrk.out")
	awk -v r="$r" -v n="$n" -v d=$((t1 - t0)) -v hz="$hz" \
	    'BEGIN { printf "%s %.2f\n", r, d / hz * 1e6 / n }'
}

taskset -c "$srv_cpu" bench/refserver 18090 &
ref_pid=$!
TOLLGATE_LISTEN=127.0.0.1:18091 TOLLGATE_LOG_LEVEL=info \
    taskset -c "$srv_cpu" bin/tollgate serve >"$pgdir/tollgate.log" 2>&1 &
tg_pid=$!
pids="$ref_pid $tg_pid"
wait_up http://127.0.0.1:18090/
wait_up http://127.0.0.1:18091/healthz

echo "== reference: bare evhttp JSON reply" >&2
set -- $(measure "$ref_pid" http://127.0.0.1:18090/)
ref=$1 ref_cpu=$2
echo "== tollgate GET /healthz (request log at info, metrics on)" >&2
set -- $(measure "$tg_pid" http://127.0.0.1:18091/healthz)
tg=$1 tg_cpu=$2
echo "== tollgate POST /v1/quote (gpt-4o, 3 meters, key from the cache)" >&2
set -- $(measure "$tg_pid" http://127.0.0.1:18091/v1/quote -s bench/quote.lua)
tq=$1 tq_cpu=$2
echo "== tollgate POST /v1/authorize (one hot budget, a reservation each)" >&2
set -- $(measure "$tg_pid" http://127.0.0.1:18091/v1/authorize -s bench/authorize.lua)
ta=$1 ta_cpu=$2
ta_p99=$(sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$pgdir/wrk.out")
# Latency below saturation: the same calls paced at about 10k/s, and the
# reference paced alike.
echo "== paced: reference, then tollgate POST /v1/authorize (1 request per 3 ms per connection)" >&2
measure "$ref_pid" http://127.0.0.1:18090/ -s bench/paced.lua >/dev/null
ref_paced_p99=$(sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$pgdir/wrk.out")
export TG_AUTHORIZE=1
measure "$tg_pid" http://127.0.0.1:18091/v1/authorize -s bench/paced.lua >/dev/null
unset TG_AUTHORIZE
ta_paced_p99=$(sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$pgdir/wrk.out")
ta_paced=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$pgdir/wrk.out")
# The holds are written to PostgreSQL behind the decisions; let that
# finish before measuring ingest, which shares the database.
i=0
until curl -s -H "Authorization: Bearer $TG_KEY" http://127.0.0.1:18091/metrics |
    grep -qx 'tollgate_reservations_unwritten 0'; do
	i=$((i + 1))
	[ $i -lt 600 ] || break
	sleep 0.1
done
echo "reservations written $((i / 10)) s after the authorize run" >&2
# Ingest shares PostgreSQL with what ran before it: start each ingest
# run from a quiet database (no checkpoint or vacuum still running from
# the previous run's writes).
quiet_db() {
	psql "$TOLLGATE_DATABASE_URL" -qc "CHECKPOINT"
	i=0
	while [ "$(psql "$TOLLGATE_DATABASE_URL" -qAt -c "SELECT count(*) FROM
	    pg_stat_activity WHERE backend_type = 'autovacuum worker'")" != 0 ]; do
		i=$((i + 1))
		[ $i -lt 600 ] || break
		sleep 0.1
	done
}
quiet_db
echo "== tollgate POST /v1/usage, 1 event per request, 64 connections" >&2
conns_saved=$conns
conns=64
set -- $(BATCH=1 measure "$tg_pid" http://127.0.0.1:18091/v1/usage -s bench/usage_batch.lua)
us=$(awk -v r="$1" 'BEGIN { printf "%.0f", r }')
quiet_db
echo "== tollgate POST /v1/usage, 1000 events per request, 8 connections" >&2
conns=8
set -- $(BATCH=1000 measure "$tg_pid" http://127.0.0.1:18091/v1/usage -s bench/usage_batch.lua)
ub=$(awk -v r="$1" 'BEGIN { printf "%.0f", r * 1000 }')
conns=$conns_saved
# The naive design for reference: one conditional UPDATE of one budget
# row per decision, committed, from 32 clients (pgbench).
pgbench=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)/pgbench
psql "$TOLLGATE_DATABASE_URL" -qc "CREATE TABLE naive_budget (id int PRIMARY KEY,
    cap bigint NOT NULL, held bigint NOT NULL);
    INSERT INTO naive_budget VALUES (1, 9000000000000000000, 0)"
echo "UPDATE naive_budget SET held = held + 22500000 WHERE id = 1 AND held + 22500000 <= cap;" \
    >"$pgdir/naive.sql"
naive=$("$pgbench" -n -c 32 -j 2 -T "$secs" -f "$pgdir/naive.sql" \
    "$TOLLGATE_DATABASE_URL" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
booked=$(psql "$TOLLGATE_DATABASE_URL" -qAt -c "SELECT count(*) FROM usage_events")

# Memory: the server restarted with 100k cost centers, 100k budgets and
# 100k live reservations (seeded in SQL, loaded at start).
kill "$tg_pid" 2>/dev/null || true
wait "$tg_pid" 2>/dev/null || true
psql "$TOLLGATE_DATABASE_URL" -q <<'SQL'
UPDATE reservations SET state = 'released', ended_at = now()
WHERE state = 'held';
DELETE FROM reservation_log;
INSERT INTO cost_centers (id, name)
SELECT 'mem-' || i, 'mem ' || i FROM generate_series(1, 100000) i;
INSERT INTO budgets (name, cost_center, period, time_zone, amount)
SELECT 'mem ' || i, 'mem-' || i, 'month', 'Europe/Berlin', 1000000000000
FROM generate_series(1, 100000) i;
INSERT INTO reservations (id, cost_center, budgets, amount, created_at,
    expires_at, state)
SELECT 'rsv_' || lpad(to_hex(i), 24, '0'), 'mem-' || i,
    ARRAY[(SELECT min(id) FROM budgets) + i - 1], 22500000, now(),
    now() + interval '1 hour', 'held'
FROM generate_series(1, 100000) i;
SQL
TOLLGATE_LISTEN=127.0.0.1:18091 TOLLGATE_LOG_LEVEL=warn \
    bin/tollgate serve >"$pgdir/tollgate-mem.log" 2>&1 &
tg_pid=$!
pids="$ref_pid $tg_pid"
wait_up http://127.0.0.1:18091/healthz "$pgdir/tollgate-mem.log"
rss_kb=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$tg_pid/status")
live=$(curl -s -H "Authorization: Bearer $TG_KEY" http://127.0.0.1:18091/metrics |
    sed -n 's/^tollgate_reservations_live \([0-9]*\)/\1/p')

# Reports on a year of usage: 10 million events seeded with COPY, with
# their rollups (bench/seed_reports.sh; bench/reports.sh measures the
# spend report alone on the same data).
FIN_KEY=$(bin/tollgate key create --role finance --name bench-finance | tail -n 1)
events=${BENCH_REPORT_EVENTS:-10000000}
seed_start=$(date +%s.%N)
bench/seed_reports.sh "$pgdir" "$events"
seed_s=$(awk -v a="$seed_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
month=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)
csv_s=$(curl -s -o "$pgdir/chargeback.csv" -w '%{time_total}' \
    -H "Authorization: Bearer $FIN_KEY" \
    "http://127.0.0.1:18091/v1/reports/chargeback?month=$month")
csv_rows=$(($(wc -l <"$pgdir/chargeback.csv") - 1))
year_from=$(date -u -d "$(date -u +%Y-%m-%d) -365 days" +%Y-%m-%dT00:00:00Z)
year_to=$(date -u +%Y-%m-%dT00:00:00Z)
# spend QUERY [FROM TO]: a year's spend report (from midnight UTC, or
# FROM to TO) with QUERY's grouping, timed after one warm-up call; its
# line goes to spend.out.
spend() {
	url="http://127.0.0.1:18091/v1/reports/spend?from=${2:-$year_from}&to=${3:-$year_to}&$1"
	curl -s -o /dev/null -H "Authorization: Bearer $FIN_KEY" "$url"
	t=$(curl -s -o "$pgdir/spend.json" -w '%{time_total}' \
	    -H "Authorization: Bearer $FIN_KEY" "$url")
	n=$(grep -o '"period_start"' "$pgdir/spend.json" | wc -l)
	awk -v t="$t" -v n="$n" -v q="$1" -v w="${2:+, from $2}" 'BEGIN { printf "spend report, a year%s, %s: %d rows in %.0f ms (target < 100 ms)\n", w, q, n, t * 1000 }' >>"$pgdir/spend.out"
}
: >"$pgdir/spend.out"
spend "group_by=cost_center&granularity=day"
spend "group_by=cost_center,provider,model&granularity=day"
spend "group_by=cost_center,model&granularity=week"
spend "group_by=model&granularity=month"
spend "group_by=user&granularity=month"
spend "group_by=tag:feature&granularity=day"
spend "group_by=model,user&granularity=month"
spend "group_by=cost_center,provider,model,tag:feature&granularity=month"
spend "group_by=user,tag:feature&granularity=month"
spend "group_by=user&granularity=week"
spend "group_by=provider&granularity=hour"
# A year in New York's days: its whole UTC days from the rollups, the
# edges from the hourly rollup and the events.
spend "group_by=cost_center&granularity=day" "${year_from%T*}T05:00:00Z" \
    "${year_to%T*}T05:00:00Z"
spend "group_by=user&granularity=month" "${year_from%T*}T05:00:00Z" \
    "${year_to%T*}T05:00:00Z"
# The largest answers: their time is that of their rows (8 and 13 MB).
spend "group_by=model&granularity=hour"
spend "group_by=user&granularity=day"

echo
echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "wrk: 1 thread, $conns connections, ${secs}s each; servers on cpu $srv_cpu, wrk on cpu $cli_cpu"
printf '%-22s %10s %16s\n' "" "req/s" "server CPU/req"
printf '%-22s %10.0f %13.2f us\n' "reference evhttp" "$ref" "$ref_cpu"
printf '%-22s %10.0f %13.2f us\n' "tollgate GET /healthz" "$tg" "$tg_cpu"
printf '%-22s %10.0f %13.2f us\n' "tollgate POST /quote" "$tq" "$tq_cpu"
awk -v a="$tg" -v b="$ref" -v ca="$tg_cpu" -v cb="$ref_cpu" 'BEGIN {
	printf "healthz ratio: %.2f by req/s, %.2f by server CPU (target >= 0.70)\n", a / b, cb / ca }'
awk -v a="$tq" -v b="$ref" -v ca="$tq_cpu" -v cb="$ref_cpu" 'BEGIN {
	printf "quote ratio:   %.2f by req/s, %.2f by server CPU\n", a / b, cb / ca }'
printf '%-22s %10.0f %13.2f us   p99 %s\n' "tollgate POST /authorize" "$ta" "$ta_cpu" "$ta_p99"
printf '%-22s %10.0f   (pgbench, one conditional UPDATE per decision)\n' "naive decisions" "$naive"
printf '%-22s %10.0f   p99 %s (reference paced alike: p99 %s)\n' "authorize, paced" "$ta_paced" "$ta_paced_p99" "$ref_paced_p99"
awk -v a="$ta" -v b="$ref" -v n="$naive" 'BEGIN {
	printf "authorize ratio: %.2f of the reference (target >= 0.60, p99 < 2 ms), %.1fx the naive design (target >= 10)\n", a / b, a / n }'
printf 'usage, batches of 1000 (8 connections): %8s events/s\n' "$ub"
printf 'usage, single events (64 connections):   %8s events/s\n' "$us"
printf 'raw COPY of %d usage rows:            %8s rows/s\n' "$copy_rows" "$copy_rate"
awk -v a="$ub" -v b="$copy_rate" 'BEGIN { printf "batched ingest / raw COPY: %.3f (targets: 50k events/s batched, 15k single)\n", a / b }'
echo "events booked during the run: $booked (each acknowledged only after its commit)"
awk -v kb="$rss_kb" -v live="$live" 'BEGIN { printf "memory: %.1f MB resident with 100k cost centers, 100k budgets, %d live reservations (target < 200 MB)\n", kb / 1024, live }'
echo "reports: $events events seeded with COPY (and their rollups) in ${seed_s} s"
awk -v t="$csv_s" -v n="$csv_rows" -v m="$month" 'BEGIN { printf "chargeback CSV of %s: %d rows in %.2f s (target < 10 s)\n", m, n, t }'
cat "$pgdir/spend.out"
echo "$engine"
