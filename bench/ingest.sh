#!/bin/sh
# Usage ingest alone: POST /v1/usage with 1000 events per request from 8
# connections, then 1 event per request from 64, alternating ROUNDS times
# (default 3) against one server on a private PostgreSQL, and the median
# events/s of each. Nothing is pinned: server, PostgreSQL and wrk share
# the machine's cores as they would in production on a small host.
#
#   bench/ingest.sh                  ROUNDS=3 SECS=10
#   INGEST_ONLY=batch bench/ingest.sh   only the batched runs (or single)
#   TG_BIN=/path/to/tollgate         another build (to alternate builds)
#   INGEST_TMP=/tmp/me-ingest        prefix of the throwaway directory
#
# `make bench` measures ingest in its own
# run, pinned; this is the quick loop for working on ingest.
set -eu
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
secs=${SECS:-10}
only=${INGEST_ONLY:-}

scripts/pg.sh reap
tg=${TG_BIN:-bin/tollgate}
pgdir=$(mktemp -d "${INGEST_TMP:-/tmp/tollgate-ingest}.XXXXXX")
chmod 755 "$pgdir"
echo $$ >"$pgdir/owner.pid"
tg_pid=""
cleanup() {
	[ -z "$tg_pid" ] || kill "$tg_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	scripts/pg.sh kill "$pgdir" >/dev/null 2>&1 || true
	rm -rf "$pgdir"
}
trap cleanup EXIT INT TERM
TOLLGATE_DATABASE_URL=$(scripts/pg.sh start "$pgdir")
export TOLLGATE_DATABASE_URL
"$tg" migrate >/dev/null
# In force before the events bench/usage_batch.lua sends (2026-10-05),
# so that they are priced and booked with their postings.
"$tg" prices import --format litellm --effective-from 2026-01-01T00:00:00Z \
    pricing/data/litellm-model-prices.json >/dev/null
TG_KEY=$("$tg" key create --role gateway --name bench | tail -n 1)
export TG_KEY
psql "$TOLLGATE_DATABASE_URL" -qc "INSERT INTO cost_centers (id, name) VALUES ('bench', 'Bench')"

port=${INGEST_PORT:-18095}
TOLLGATE_LISTEN=127.0.0.1:$port TOLLGATE_LOG_LEVEL=warn \
    "$tg" serve >"$pgdir/tollgate.log" 2>&1 &
tg_pid=$!
i=0
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 500 ] || { echo "ingest: the server did not come up" >&2; exit 1; }
	sleep 0.02
done

# Each run starts from a quiet database: no checkpoint or autovacuum
# left running by the previous run's writes.
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
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# PostgreSQL's CPU: the postmaster's, its children's that ended
# (autovacuum workers) and its live children's (backends, WAL writer...).
pg_ticks() {
	pm=$(head -n 1 "$pgdir/data/postmaster.pid")
	{ awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
	  for c in $(cat "/proc/$pm/task/$pm/children"); do
		awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || true
	  done; } | awk '{ s += $1 } END { print s }'
}
# run BATCH CONNECTIONS: prints events/s and the server's CPU per event.
run() {
	quiet_db
	t0=$(ticks "$tg_pid"); p0=$(pg_ticks)
	BATCH=$1 wrk -t1 -c"$2" -d"${secs}s" --latency -s bench/usage_batch.lua \
	    "http://127.0.0.1:$port/v1/usage" >"$pgdir/wrk.out" 2>&1
	t1=$(ticks "$tg_pid"); p1=$(pg_ticks)
	n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$pgdir/wrk.out")
	r=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$pgdir/wrk.out")
	p99=$(sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$pgdir/wrk.out")
	bad=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$pgdir/wrk.out")
	awk -v r="$r" -v b="$1" -v n="$n" -v d=$((t1 - t0)) -v hz="$hz" \
	    -v p99="$p99" -v bad="${bad:-0}" -v pd=$((p1 - p0)) 'BEGIN {
		printf "%.0f %.1f %s %s %.1f\n", r * b, d / hz * 1e6 / (n * b), p99,
		    bad, pd / hz * 1e6 / (n * b) }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$pgdir/batch" >"$pgdir/single"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
r=1
while [ $r -le "$rounds" ]; do
	if [ "$only" != single ]; then
		set -- $(run 1000 8)
		echo "round $r batched (1000/request, 8 conn): $1 events/s, server $2 us/event, PostgreSQL $5 us/event, p99 $3, non-2xx $4"
		echo "$1" >>"$pgdir/batch"
	fi
	if [ "$only" != batch ]; then
		set -- $(run 1 64)
		echo "round $r single  (1/request, 64 conn):   $1 events/s, server $2 us/event, PostgreSQL $5 us/event, p99 $3, non-2xx $4"
		echo "$1" >>"$pgdir/single"
	fi
	r=$((r + 1))
done
booked=$(psql "$TOLLGATE_DATABASE_URL" -qAt -c "SELECT count(*) FROM usage_events")
verify=$(curl -s -H "Authorization: Bearer $TG_KEY" "http://127.0.0.1:$port/v1/ledger/verify" | head -c 300)
echo "load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "events booked: $booked"
[ "$only" = single ] || echo "median batched: $(median <"$pgdir/batch") events/s"
[ "$only" = batch ] || echo "median single:  $(median <"$pgdir/single") events/s"
grep -E 'ERROR|error=' "$pgdir/tollgate.log" | head -n 5 || true
