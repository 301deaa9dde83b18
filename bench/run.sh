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

# rps URL [wrk args]: requests per second that wrk measured.
rps() {
	url=$1
	shift
	taskset -c "$cli_cpu" wrk -t1 -c"$conns" -d"${secs}s" --latency "$@" "$url" >"$pgdir/wrk.out" 2>&1
	cat "$pgdir/wrk.out" >&2
	sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$pgdir/wrk.out"
}

taskset -c "$srv_cpu" bench/refserver 18090 &
pids="$pids $!"
TOLLGATE_LISTEN=127.0.0.1:18091 TOLLGATE_LOG_LEVEL=info \
    taskset -c "$srv_cpu" bin/tollgate serve >"$pgdir/tollgate.log" 2>&1 &
pids="$pids $!"
wait_up http://127.0.0.1:18090/
wait_up http://127.0.0.1:18091/healthz

echo "== reference: bare evhttp JSON reply" >&2
ref=$(rps http://127.0.0.1:18090/)
echo "== tollgate GET /healthz (request log at info, metrics on)" >&2
tg=$(rps http://127.0.0.1:18091/healthz)
echo "== tollgate POST /v1/quote (gpt-4o, 3 meters, key from the cache)" >&2
tq=$(rps http://127.0.0.1:18091/v1/quote -s bench/quote.lua)

echo
echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "wrk: 1 thread, $conns connections, ${secs}s each; servers on cpu $srv_cpu, wrk on cpu $cli_cpu"
printf 'reference evhttp:   %12.0f req/s\n' "$ref"
printf 'tollgate /healthz:  %12.0f req/s\n' "$tg"
printf 'tollgate /v1/quote: %12.0f req/s\n' "$tq"
awk -v a="$tg" -v b="$ref" 'BEGIN { printf "healthz ratio:      %12.2f (target >= 0.70)\n", a / b }'
awk -v a="$tq" -v b="$ref" 'BEGIN { printf "quote ratio:        %12.2f\n", a / b }'
echo "$engine"
