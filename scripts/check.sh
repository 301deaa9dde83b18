#!/bin/sh
# The test run behind `make check`: unit tests (plain and under ASan+UBSan),
# then integration tests against the real server on a throwaway PostgreSQL
# that is created here and removed at the end, whatever happens.
#
#   scripts/check.sh              everything
#   scripts/check.sh integration  integration tests only
# TG_ONLY="a|b" runs only the integration tests whose name contains a or b.
# TOLLGATE_TEST_VALGRIND=1 runs the plain server under valgrind instead of
# the sanitizer build.
set -u
cd "$(dirname "$0")/.."
what=${1:-all}
passed=0
failed=0

count_cmocka() {
	# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)..."
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
}

if [ "$what" = all ]; then
	scripts/check-docs.sh || failed=$((failed + 1))
	for t in build/unit/test_* build/unit-asan/test_*; do
		[ -x "$t" ] || continue
		echo "== $t"
		out=$(mktemp)
		if ! "$t" >"$out" 2>&1; then
			cat "$out"
			echo "$t: FAILED"
			grep -q 'FAILED  \]' "$out" || failed=$((failed + 1))
		fi
		count_cmocka "$out"
		tail -n 1 "$out"
		rm -f "$out"
	done
fi

# The throwaway PostgreSQL: a private directory and socket; any left by a
# killed run whose owner is gone is reaped first.
scripts/pg.sh reap
# Under /tmp whatever TMPDIR says: the postgres user must reach it.
pgdir=$(mktemp -d /tmp/tollgate-pg.XXXXXX)
chmod 755 "$pgdir"
echo $$ >"$pgdir/owner.pid"
cleanup() {
	scripts/pg.sh kill "$pgdir" >/dev/null 2>&1
	rm -rf "$pgdir"
}
trap cleanup EXIT INT TERM
if ! url=$(scripts/pg.sh start "$pgdir"); then
	echo "check: could not start PostgreSQL"
	exit 1
fi

if [ "$what" = all ]; then
	echo "== build/test_migrate"
	out=$(mktemp)
	psql "$url" -qc "CREATE DATABASE migtest" >/dev/null
	psql "$url" -qc "CREATE DATABASE upgradetest" >/dev/null
	psql "$url" -qc "CREATE DATABASE upgrade10test" >/dev/null
	if ! TG_MIGRATE_DB=$(echo "$url" | sed 's/dbname=tollgate/dbname=migtest/') \
	    TG_UPGRADE_DB=$(echo "$url" | sed 's/dbname=tollgate/dbname=upgradetest/') \
	    TG_UPGRADE10_DB=$(echo "$url" | sed 's/dbname=tollgate/dbname=upgrade10test/') \
	    build/test_migrate >"$out" 2>&1; then
		cat "$out"
		grep -q 'FAILED  \]' "$out" || failed=$((failed + 1))
	fi
	count_cmocka "$out"
	tail -n 1 "$out"
	rm -f "$out"
fi

log=$(mktemp "${TMPDIR:-/tmp}/tollgate-itest-log.XXXXXX")
if [ "${TOLLGATE_TEST_VALGRIND:-}" = 1 ]; then
	bin=bin/tollgate
	wrapper="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
else
	bin=bin/tollgate-asan
	wrapper=""
fi
echo "== integration ($bin${wrapper:+ under valgrind})"
out=$(mktemp)
TOLLGATE_DATABASE_URL="$url" TG_BIN="$bin" TG_CLI=bin/tollgate \
    TG_PGDIR="$pgdir" TG_LOG="$log" TG_WRAPPER="$wrapper" \
    TOLLGATE_BODY_LIMIT=1048576 TOLLGATE_LOG_LEVEL=info \
    ASAN_OPTIONS=detect_leaks=1 \
    build/itest 2>&1 | tee "$out"
p=$(sed -n 's/^integration: \([0-9]*\) passed.*/\1/p' "$out")
f=$(sed -n 's/^integration: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$out")
if [ -z "$p" ]; then
	echo "integration tests did not finish; server log: $log"
	tail -n 30 "$log"
	failed=$((failed + 1))
else
	passed=$((passed + p))
	failed=$((failed + f))
fi
if [ "${f:-1}" != 0 ]; then
	echo "--- server log: reports and the last lines ---"
	grep -v ' level=info ' "$log" | tail -n 60
fi
rm -f "$out"
[ "${f:-1}" = 0 ] && rm -f "$log" || echo "server log kept: $log"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
