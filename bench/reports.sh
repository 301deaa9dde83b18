#!/bin/sh
# bench/reports.sh DIR [RUNS]: the reports part of `make bench` alone, for
# measuring a change to the reports again and again on the same data.
# Starts (or reuses) a private PostgreSQL cluster in DIR, migrates it,
# seeds a year of BENCH_REPORT_EVENTS events (default 10 million) the first
# time only (bench/seed_reports.sh), serves it on 127.0.0.1:18092 (or
# BENCH_REPORT_PORT), then
# times the year-wide spend report by cost center and day RUNS times
# (default 11) after one warm-up call and prints every time and the
# median. BENCH_SPEND_GROUPING (default
# group_by=cost_center&granularity=day) measures another grouping;
# BENCH_SPEND_DAYS (default 365) another window up to today's midnight UTC,
# and BENCH_SPEND_FROM and BENCH_SPEND_TO any window. The
# cluster is left running; `scripts/pg.sh stop DIR` stops it. TOLLGATE_BIN
# (default bin/tollgate) measures another build on the same cluster.
set -eu
cd "$(dirname "$0")/.."
dir=$1
runs=${2:-11}
events=${BENCH_REPORT_EVENTS:-10000000}
port=${BENCH_REPORT_PORT:-18092}
tollgate=${TOLLGATE_BIN:-bin/tollgate}
mkdir -p "$dir"
chmod 755 "$dir"
TOLLGATE_DATABASE_URL=$(scripts/pg.sh start "$dir")
export TOLLGATE_DATABASE_URL
"$tollgate" migrate >/dev/null
if [ "$(psql "$TOLLGATE_DATABASE_URL" -qAt -c "SELECT count(*) FROM
    cost_centers WHERE id = 'team-0'")" = 0 ]; then
	t0=$(date +%s)
	bench/seed_reports.sh "$dir" "$events"
	echo "seeded $events events in $(($(date +%s) - t0)) s" >&2
fi
key=$("$tollgate" key create --role finance --name bench-reports | tail -n 1)
TOLLGATE_LISTEN=127.0.0.1:$port TOLLGATE_LOG_LEVEL=${BENCH_LOG_LEVEL:-warn} \
    "$tollgate" serve >"$dir/tollgate.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT INT TERM
i=0
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 500 ] || { echo "bench: the server did not come up" >&2; exit 1; }
	sleep 0.02
done
days=${BENCH_SPEND_DAYS:-365}
from=${BENCH_SPEND_FROM:-$(date -u -d "$(date -u +%Y-%m-%d) -$days days" +%Y-%m-%dT00:00:00Z)}
to=${BENCH_SPEND_TO:-$(date -u +%Y-%m-%dT00:00:00Z)}
grouping=${BENCH_SPEND_GROUPING:-group_by=cost_center&granularity=day}
url="http://127.0.0.1:$port/v1/reports/spend?from=$from&to=$to&$grouping"
curl -s -o /dev/null -H "Authorization: Bearer $key" "$url"
n=0
: >"$dir/times"
while [ $n -lt "$runs" ]; do
	curl -s -o "$dir/spend.json" -w '%{time_total}\n' \
	    -H "Authorization: Bearer $key" "$url" >>"$dir/times"
	n=$((n + 1))
done
rows=$(grep -o '"period_start"' "$dir/spend.json" | wc -l)
sort -n "$dir/times" | awk -v n="$runs" -v rows="$rows" -v g="$grouping, $from to $to" '
	{ t[NR] = $1 * 1000; all = all sprintf(" %.0f", $1 * 1000) }
	END { printf "spend report, %s: %d rows; %d runs (ms, sorted):%s; median %.0f ms (target < 100 ms)\n",
	    g, rows, n, all, t[int((n + 1) / 2)] }'
