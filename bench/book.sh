#!/bin/sh
# bench/book.sh [CALLS]: the booking function alone, usage_book_cols()
# with 1000 events a call, timed by psql against TOLLGATE_DATABASE_URL (a
# migrated database; cost centers book-0..19 are made if missing), for
# CALLS calls (default 15) of each kind, alternated: events with a user and
# two tags (as bench/seed_reports.sh shapes them: 200 users, "env" and
# "feature") and events with neither (as bench/usage_batch.lua sends
# them). Prints the median milliseconds a call of each kind. Run it
# against databases migrated by two builds to compare what the rollup
# triggers cost; the arrays are built before the timing, so the times
# are the booking's own.
set -eu
calls=${1:-15}
run=$(date +%s%N)
psql "$TOLLGATE_DATABASE_URL" -qAt >/dev/null <<SQL
INSERT INTO cost_centers (id, name)
SELECT 'book-' || i, 'book ' || i FROM generate_series(0, 19) i
ON CONFLICT DO NOTHING;
SQL
{
	cat <<SQL
CREATE TEMP TABLE batches AS
SELECT b AS k, b % 2 = 1 AS tagged,
    array_agg('$run-' || b || '-' || i ORDER BY i) AS key,
    array_agg(md5('$run-' || b || '-' || i) ORDER BY i) AS hash,
    array_agg('2026-10-05T00:00:00Z'::timestamptz
        + (i * 86) * interval '1 second' ORDER BY i) AS at,
    array_agg('book-' || i % 20 ORDER BY i) AS cc,
    array_agg(NULL::text ORDER BY i) AS kcc,
    array_agg('openai'::text ORDER BY i) AS provider,
    array_agg('gpt-4o'::text ORDER BY i) AS model,
    array_agg('standard'::text ORDER BY i) AS tier,
    array_agg(CASE WHEN b % 2 = 1 AND i % 13 <> 0
        THEN 'user-' || (i % 20 + 20 * (i / 100 % 10)) END ORDER BY i) AS usr,
    array_agg(CASE WHEN b % 2 = 1 THEN jsonb_build_object('env', 'prod',
        'feature', 'f-' || i / 7 % 10) END ORDER BY i) AS tags,
    array_agg(NULL::text ORDER BY i) AS key_id,
    array_agg(NULL::bigint ORDER BY i) AS pv,
    array_agg(NULL::text ORDER BY i) AS unpriced,
    array_agg(4500000::bigint ORDER BY i) AS list_cost,
    array_agg(4500000::bigint ORDER BY i) AS cost,
    array_agg(NULL::bigint ORDER BY i) AS reported_cost,
    array_agg('ok'::text ORDER BY i) AS status,
    array_agg(NULL::bigint ORDER BY i) AS latency_ms,
    array_agg(NULL::text ORDER BY i) AS reservation_id,
    array_agg('{1000,0,0,0,200,0,0,0,0,0,0,0,0,0}'::text ORDER BY i) AS q,
    array_agg(i - 1 ORDER BY i) || array_agg(i - 1 ORDER BY i) AS m_n,
    array_agg('input'::text ORDER BY i) || array_agg('output'::text ORDER BY i)
        AS m_meter,
    array_agg(1000::bigint ORDER BY i) || array_agg(200::bigint ORDER BY i)
        AS m_q,
    array_agg(2500000::bigint ORDER BY i) || array_agg(2000000::bigint
        ORDER BY i) AS m_l,
    array_agg(2500000::bigint ORDER BY i) || array_agg(2000000::bigint
        ORDER BY i) AS m_c
FROM generate_series(1, 2 * $calls) b, generate_series(1, 1000) i
GROUP BY b;
\\timing on
SQL
	b=1
	while [ $b -le $((2 * calls)) ]; do
		echo "SELECT count(*) FROM batches b, usage_book_cols(b.key, b.hash,
    b.at, b.cc, b.kcc, b.provider, b.model, b.tier, b.usr, b.tags,
    b.key_id, b.pv, b.unpriced, b.list_cost, b.cost, b.reported_cost,
    b.status, b.latency_ms, b.reservation_id, b.q, b.m_n, b.m_meter,
    b.m_q, b.m_l, b.m_c, false) WHERE b.k = $b;"
		b=$((b + 1))
	done
} | psql "$TOLLGATE_DATABASE_URL" -qAt -v ON_ERROR_STOP=1 |
    awk '/^Time: / { n++; if (n > 2) print (n % 2 ? "with" : "without"), $2 }' \
    >"${TMPDIR:-/tmp}/book.$run"
# The first call of each kind plans and warms up: left out.
for kind in with without; do
	sed -n "s/^$kind //p" "${TMPDIR:-/tmp}/book.$run" | sort -n |
	    awk -v k="$kind" '{ t[NR] = $1 } END {
		printf "usage_book_cols, 1000 events a call, %s users and tags: %d calls, median %.1f ms (min %.1f, max %.1f)\n",
		    k, NR, t[int((NR + 1) / 2)], t[1], t[NR] }'
done
rm -f "${TMPDIR:-/tmp}/book.$run"
