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
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-pg.XXXXXX")
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

wait_up() {
	i=0
	until curl -sf "$1" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 500 ] || { echo "bench: $1 did not come up" >&2; exit 1; }
		sleep 0.02
	done
}

bin/tollgate migrate >/dev/null
bin/tollgate prices import --format litellm pricing/data/litellm-model-prices.json >/dev/null
TG_KEY=$(bin/tollgate key create --role gateway --name bench | tail -n 1)
export TG_KEY

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
echo "$engine"
