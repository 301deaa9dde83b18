/*
 * test_migrate.c - the migration runner against a real PostgreSQL, with
 * migration sets made up for the test: a failing migration leaves the
 * schema exactly as it was, a second run is a no-op, an edited migration and
 * a schema newer than the binary are refused. Runs in a database of its own
 * (TG_MIGRATE_DB, created by scripts/check.sh).
 *
 * Then tollgate's own migrations: a ledger written under an older schema
 * comes through an upgrade unchanged and keeps working (TG_UPGRADE_DB); a
 * ledger written under version 10 (usage, corrections, adjustments, an
 * allocation, over two roots) gets the root of every row filled in
 * (TG_UPGRADE10_DB).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/migrate.h"

static PGconn *conn, *up, *up10;

static const struct sql_file good[] = {
	{ 1, "0001_a", "CREATE TABLE a (x int);" },
	{ 2, "0002_b", "CREATE TABLE b (x int); INSERT INTO a VALUES (1);" },
};
static const struct sql_file bad[] = {
	{ 1, "0001_a", "CREATE TABLE a (x int);" },
	{ 2, "0002_b", "CREATE TABLE b (x int); INSERT INTO a VALUES (1); "
	  "SELECT 1 / 0;" },
};
static const struct sql_file slow[] = {
	{ 1, "0001_a", "CREATE TABLE a (x int);" },
	{ 2, "0002_b", "CREATE TABLE b (x int); INSERT INTO a VALUES (1);" },
	{ 3, "0003_slow", "SELECT pg_sleep(0.3); CREATE TABLE c (x int);" },
};
static const struct sql_file edited[] = {
	{ 1, "0001_a", "CREATE TABLE a (x bigint);" },
	{ 2, "0002_b", "CREATE TABLE b (x int); INSERT INTO a VALUES (1);" },
};

static const char *
value_in(PGconn *c, const char *sql)
{
	static char out[4096];
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	snprintf(out, sizeof out, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return out;
}

static const char *
value(const char *sql)
{
	return value_in(conn, sql);
}

static void
test_failure_leaves_schema_as_it_was(void **state)
{
	char err[512];
	int applied, version;

	(void)state;
	assert_int_equal(migrate_run(conn, bad, 2, &applied, &version, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "0002_b"));
	assert_non_null(strstr(err, "division by zero"));
	/* 0001 is in, 0002 left nothing behind: no table b, no row in a. */
	assert_string_equal(value("SELECT count(*) FROM schema_migrations"), "1");
	assert_string_equal(value("SELECT to_regclass('a') IS NOT NULL"), "t");
	assert_string_equal(value("SELECT to_regclass('b') IS NULL"), "t");
	assert_string_equal(value("SELECT count(*) FROM a"), "0");
}

static void
test_then_good_set_applies_once(void **state)
{
	char err[512];
	int applied, version;

	(void)state;
	assert_int_equal(migrate_run(conn, good, 2, &applied, &version, err,
	    sizeof err), 0);
	assert_int_equal(applied, 1);
	assert_int_equal(version, 2);
	assert_string_equal(value("SELECT count(*) FROM a"), "1");
	assert_int_equal(migrate_run(conn, good, 2, &applied, &version, err,
	    sizeof err), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(version, 2);
	assert_string_equal(value("SELECT count(*) FROM a"), "1");
}

/* A migration takes as long as the data it rewrites: the statement
 * timeout the server's connections carry must not cut it short. */
static void
test_slow_migration_outlasts_the_statement_timeout(void **state)
{
	char err[512];
	int applied, version;

	(void)state;
	PQclear(PQexec(conn, "SET statement_timeout = 100"));
	assert_int_equal(migrate_run(conn, slow, 3, &applied, &version, err,
	    sizeof err), 0);
	assert_int_equal(applied, 1);
	assert_int_equal(version, 3);
	assert_string_equal(value("SHOW statement_timeout"), "100ms");
	PQclear(PQexec(conn, "RESET statement_timeout"));
}

static void
test_edited_migration_is_refused(void **state)
{
	char err[512];
	int applied, version;

	(void)state;
	assert_int_equal(migrate_run(conn, edited, 2, &applied, &version, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "0001_a was changed"));
}

static void
test_newer_schema_is_refused(void **state)
{
	char err[512];
	int applied, version;

	(void)state;
	assert_int_equal(migrate_run(conn, good, 1, &applied, &version, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "newer than this build"));
}

/* Row by row, in columns every schema version has. */
static const char digest_sql[] =
    "SELECT (SELECT string_agg(concat_ws('|', id, kind, idempotency_key, "
    "tg_rfc3339(occurred_at), tg_rfc3339(recorded_at), memo, created_by, "
    "corrects), ',' ORDER BY id) FROM transactions) || ' / ' || "
    "(SELECT string_agg(concat_ws('|', transaction_id, seq, account_id, "
    "amount), ',' ORDER BY transaction_id, seq) FROM postings)";

static const char seed_events[] =
    "SELECT string_agg(status || ':' || coalesce(transaction_id::text, '-'),"
    " ',' ORDER BY n) FROM usage_ingest('["
    "{\"n\":1,\"key\":\"u-1\",\"hash\":\"aa\",\"occurred_at\":"
    "\"2026-10-05T10:00:00Z\",\"cc\":\"eng\",\"provider\":\"openai\","
    "\"model\":\"gpt-4o\",\"tier\":\"standard\",\"list_cost\":1200,"
    "\"cost\":1000,\"q\":[1,2],\"m\":[{\"meter\":\"input\",\"q\":1,"
    "\"l\":1200,\"c\":1000}]},"
    "{\"n\":2,\"key\":\"u-2\",\"hash\":\"bb\",\"occurred_at\":"
    "\"2026-11-01T00:00:00Z\",\"cc\":\"eng\",\"provider\":\"openai\","
    "\"model\":\"gpt-4o\",\"tier\":\"standard\",\"list_cost\":700,"
    "\"cost\":700,\"q\":[3],\"m\":[{\"meter\":\"input\",\"q\":3,"
    "\"l\":700,\"c\":700}]},"
    "{\"n\":3,\"key\":\"u-3\",\"hash\":\"cc\",\"occurred_at\":"
    "\"2026-11-02T00:00:00Z\",\"cc\":\"eng\",\"provider\":\"acme\","
    "\"model\":\"x\",\"tier\":\"standard\",\"unpriced\":\"no_price\","
    "\"list_cost\":0,\"cost\":0,\"q\":[5],\"m\":[]}"
    "]'::jsonb, false)";

static const struct sql_file *
query(const char *name)
{
	size_t i;

	for (i = 0; i < sql_queries_count; i++)
		if (strcmp(sql_queries[i].name, name) == 0)
			return &sql_queries[i];
	fail_msg("no statement %s", name);
	return NULL;
}

static void
test_upgrade_keeps_the_ledger(void **state)
{
	char err[512], before[4096], after[4096], ids[256], expect[256];
	int applied, version;
	PGresult *res;

	(void)state;
	/* The ledger as the first release wrote it: migrations 1 to 3. */
	assert_int_equal(migrate_run(up, sql_migrations, 3, &applied, &version,
	    err, sizeof err), 0);
	value_in(up, "INSERT INTO api_keys (id, role, secret_hash) VALUES "
	    "('key_00000000000000a1', 'admin', sha256('s')) RETURNING id");
	assert_string_equal(value_in(up, "SELECT string_agg(status, ',') FROM "
	    "ledger_post('adjustment', 'adj-1', '\\x01', '2026-09-15T00:00:00Z',"
	    " 'seed', 'key_00000000000000a1', ARRAY['credit:acme', "
	    "'equity:opening'], ARRAY[5000000000, -5000000000])"), "recorded");
	assert_string_equal(value_in(up, "SELECT status FROM cost_center_create("
	    "'eng', 'Engineering', '', '{}', NULL)"), "created");
	snprintf(ids, sizeof ids, "%s", value_in(up, seed_events));
	snprintf(before, sizeof before, "%s", value_in(up, digest_sql));

	assert_int_equal(migrate_run(up, sql_migrations, sql_migrations_count,
	    &applied, &version, err, sizeof err), 0);
	assert_int_equal(applied, (int)sql_migrations_count - 3);
	snprintf(after, sizeof after, "%s", value_in(up, digest_sql));
	assert_string_equal(after, before);

	/* Every key is still known: the same events are duplicates of the
	 * same transactions, and other content under a key is refused. */
	snprintf(expect, sizeof expect, "%s", value_in(up, "SELECT "
	    "string_agg('recorded:' || transaction_id, ',' ORDER BY "
	    "idempotency_key) FROM ledger_keys WHERE kind = 'usage'"));
	assert_string_equal(ids, expect);
	snprintf(expect, sizeof expect, "%s", value_in(up, "SELECT "
	    "string_agg('duplicate:' || transaction_id, ',' ORDER BY "
	    "idempotency_key) FROM ledger_keys WHERE kind = 'usage'"));
	assert_string_equal(value_in(up, seed_events), expect);
	assert_string_equal(value_in(up, "SELECT string_agg(status, ',') FROM "
	    "ledger_post('adjustment', 'adj-1', '\\x02', '2026-09-15T00:00:00Z',"
	    " 'other', NULL, ARRAY['credit:acme', 'equity:opening'], "
	    "ARRAY[1, -1])"), "conflict");
	/* New transactions get new ids, in the month they belong to. */
	assert_string_equal(value_in(up, "SELECT (transaction_id > (SELECT "
	    "max(transaction_id) FROM ledger_keys WHERE idempotency_key <> "
	    "'adj-2'))::text || status FROM ledger_post('adjustment', 'adj-2', "
	    "'\\x03', '2026-10-20T00:00:00Z', '', NULL, ARRAY['credit:acme', "
	    "'equity:opening'], ARRAY[7, -7])"), "truerecorded");
	assert_string_equal(value_in(up, "SELECT string_agg(DISTINCT "
	    "tableoid::regclass::text, ',') FROM postings WHERE occurred_at >= "
	    "'2026-10-01Z' AND occurred_at < '2026-11-01Z'"), "postings_2026_10");

	/* The ledger checks itself as before. */
	res = PQexec(up, query("ledger_verify")->text);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(res, 0, 2), "0");	/* trial balance */
	assert_string_equal(PQgetvalue(res, 0, 3), "{}");	/* unbalanced */
	assert_string_equal(PQgetvalue(res, 0, 4), "[]");	/* rollups */
	assert_string_equal(PQgetvalue(res, 0, 5), "[]");	/* postings */
	assert_string_equal(PQgetvalue(res, 0, 7), "{}");	/* orphans */
	assert_string_equal(PQgetvalue(res, 0, 8), "{}");
	PQclear(res);
	res = PQexec(up, "INSERT INTO postings VALUES (1, 9, 1, 5, "
	    "'2026-09-15T00:00:00Z', '')");
	assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23514");
	PQclear(res);
	res = PQexec(up, "DELETE FROM accounts");
	assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
	PQclear(res);
}

/* A ledger as version 10 books it: usage in eng/search, ops/sre and ops
 * (unpriced, cost 0), two repricing corrections (one of the unpriced
 * event, which had no postings), an adjustment whose first expense
 * posting is not its first posting, one without any expense account, and
 * an allocation from eng/search to a target in another root. */
static const char *const seed10[] = {
	"SELECT string_agg(status, ',') FROM (SELECT (cost_center_create(id, "
	"id, '', '{}', NULL)).status FROM unnest(ARRAY['eng', 'eng/search', "
	"'ops', 'ops/sre']) AS id) x",
	"INSERT INTO price_versions (effective_from, source) VALUES "
	"('2026-01-01Z', 'native') RETURNING id",
	"SELECT string_agg(status, ',' ORDER BY n) FROM usage_ingest('["
	"{\"n\":1,\"key\":\"r-1\",\"hash\":\"aa\",\"occurred_at\":"
	"\"2026-10-05T10:00:00Z\",\"cc\":\"eng/search\",\"provider\":\"openai\","
	"\"model\":\"gpt-4o\",\"tier\":\"standard\",\"list_cost\":1000,"
	"\"user\":\"ann\",\"tags\":{\"team\":\"red\",\"env\":\"prod\"},"
	"\"cost\":1000,\"q\":[1],\"m\":[{\"meter\":\"input\",\"q\":1,"
	"\"l\":1000,\"c\":1000}]},"
	"{\"n\":2,\"key\":\"r-2\",\"hash\":\"bb\",\"occurred_at\":"
	"\"2026-10-06T10:00:00Z\",\"cc\":\"ops/sre\",\"provider\":\"openai\","
	"\"model\":\"gpt-4o\",\"tier\":\"standard\",\"list_cost\":500,"
	"\"tags\":{\"team\":\"blue\"},"
	"\"cost\":500,\"q\":[2],\"m\":[{\"meter\":\"input\",\"q\":2,"
	"\"l\":500,\"c\":500}]},"
	"{\"n\":3,\"key\":\"r-3\",\"hash\":\"cc\",\"occurred_at\":"
	"\"2026-10-07T10:00:00Z\",\"cc\":\"ops\",\"provider\":\"acme\","
	"\"user\":\"ann\",\"tags\":{\"team\":\"red\"},"
	"\"model\":\"x\",\"tier\":\"standard\",\"unpriced\":\"no_price\","
	"\"list_cost\":0,\"cost\":0,\"q\":[5],\"m\":[{\"meter\":\"input\","
	"\"q\":5,\"l\":0,\"c\":0}]}]'::jsonb, false)",
	"SELECT count(*) FROM usage_reprice((SELECT jsonb_agg(x) FROM ("
	"SELECT 'fix-' || k.idempotency_key AS key, u.transaction_id AS tx, "
	"u.cost_center AS cc, u.provider, u.model, (u.occurred_at AT TIME ZONE "
	"'UTC')::date AS day, (SELECT max(id) FROM price_versions) AS pv, "
	"u.unpriced IS NOT NULL AS was_unpriced, 300 AS list_delta, "
	"300 AS cost_delta, jsonb_build_array(jsonb_build_object('meter', "
	"'input', 'q', CASE WHEN u.unpriced IS NULL THEN 0 ELSE 5 END, 'l', "
	"300, 'c', 300)) AS m FROM usage_events u JOIN ledger_keys k ON "
	"k.transaction_id = u.transaction_id WHERE k.idempotency_key IN "
	"('r-1', 'r-3')) x))",
	"SELECT status FROM ledger_post('adjustment', 'adj-1', '\\x01', "
	"'2026-10-08Z', 'credit', NULL, ARRAY['payable:openai', "
	"'expense:ops/sre', 'expense:eng'], ARRAY[100, -60, -40])",
	"SELECT status FROM ledger_post('adjustment', 'adj-2', '\\x02', "
	"'2026-10-08Z', 'opening', NULL, ARRAY['credit:acme', "
	"'equity:opening'], ARRAY[7, -7])",
	"SELECT status FROM allocation_book('{\"id\":\"alloc-1\",\"hash\":"
	"\"0a\",\"source\":\"eng/search\",\"from\":\"2026-10-01T00:00:00Z\","
	"\"to\":\"2026-11-01T00:00:00Z\",\"method\":\"even\",\"amount\":1300,"
	"\"targets\":[{\"cost_center\":\"ops/sre\",\"weight\":1,\"amount\":650,"
	"\"ratio\":0.5},{\"cost_center\":\"eng\",\"weight\":1,\"amount\":650,"
	"\"ratio\":0.5}]}'::jsonb, NULL)",
};
static const char *const seed10_want[] = {
	"created,created,created,created", NULL, "recorded,recorded,recorded",
	"2", "recorded", "recorded", "recorded",
};

/* The spend report by user and tag:team over all time from the named
 * query, one "user|tag|cost|events" per group: the rows, ordered by
 * user and tag (the rollup queries leave that to the server), and those
 * of a group added up as the server does (spend_rows.c). */
static const char *
spend_user_tag(PGconn *c, const char *name)
{
	static char out[1024];
	char meters[512], sql[16384];
	const char *params[12] = { NULL, NULL, "false", "false", "false",
		"true", "team", "none", NULL, meters, NULL, NULL };
	PGresult *res;
	long long cost = 0, events = 0;
	int i;

	snprintf(meters, sizeof meters, "%s", value_in(c,
	    "SELECT tg_meters()::text"));
	snprintf(sql, sizeof sql, "SELECT * FROM (%s\n) q ORDER BY 4, 5",
	    query(name)->text);
	res = PQexecParams(c, sql, strcmp(name, "report_spend_events") == 0 ?
	    12 : 10, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", name, PQresultErrorMessage(res));
	out[0] = '\0';
	for (i = 0; i < PQntuples(res); i++) {
		cost += atoll(PQgetvalue(res, i, 6));
		events += atoll(PQgetvalue(res, i, 8));
		if (i + 1 < PQntuples(res) && strcmp(PQgetvalue(res, i, 3),
		    PQgetvalue(res, i + 1, 3)) == 0 && strcmp(PQgetvalue(res,
		    i, 4), PQgetvalue(res, i + 1, 4)) == 0)
			continue;
		snprintf(out + strlen(out), sizeof out - strlen(out),
		    "%s%s|%s|%lld|%lld", out[0] ? "," : "", PQgetvalue(res, i,
		    3), PQgetvalue(res, i, 4), cost, events);
		cost = events = 0;
	}
	PQclear(res);
	return out;
}

static void
test_upgrade_from_10_fills_root(void **state)
{
	char err[512], before[4096];
	int applied, version, n10 = 0;
	PGresult *res;
	size_t i;

	(void)state;
	while ((size_t)n10 < sql_migrations_count &&
	    sql_migrations[n10].version <= 10)
		n10++;
	assert_int_equal(migrate_run(up10, sql_migrations, n10, &applied,
	    &version, err, sizeof err), 0);
	assert_int_equal(version, 10);
	for (i = 0; i < sizeof seed10 / sizeof seed10[0]; i++) {
		const char *got = value_in(up10, seed10[i]);

		if (seed10_want[i] != NULL)
			assert_string_equal(got, seed10_want[i]);
	}
	snprintf(before, sizeof before, "%s", value_in(up10, digest_sql));

	assert_int_equal(migrate_run(up10, sql_migrations,
	    sql_migrations_count, &applied, &version, err, sizeof err), 0);
	assert_string_equal(value_in(up10, digest_sql), before);

	/* The rollup per user and tag (0026) holds the events booked
	 * before it and their corrections (the unpriced one priced), and
	 * the report from it reads as the one from the events. */
	assert_string_equal(value_in(up10, "SELECT string_agg(concat_ws('|', "
	    "day, cost_center, coalesce(user_id, '-'), tag_key, tag_value, "
	    "events, unpriced, list_cost, cost), ',' ORDER BY day, tag_key) "
	    "FROM usage_user_tag_cc_daily"),
	    "2026-10-05|eng/search|ann|env|prod|1|0|1300|1300,"
	    "2026-10-05|eng/search|ann|team|red|1|0|1300|1300,"
	    "2026-10-06|ops/sre|-|team|blue|1|0|500|500,"
	    "2026-10-07|ops|ann|team|red|1|0|300|300");
	snprintf(before, sizeof before, "%s", spend_user_tag(up10,
	    "report_spend_events"));
	assert_string_equal(before, "ann|red|1600|2,|blue|500|1");
	assert_string_equal(spend_user_tag(up10, "report_spend_user_tag"),
	    before);

	/* Usage by its cost center, a correction by what it corrects (the
	 * unpriced event's too), an adjustment by its first expense posting
	 * or '' without one, the reallocation by its source. */
	assert_string_equal(value_in(up10, "SELECT string_agg(idempotency_key "
	    "|| '=' || root, ',' ORDER BY id) FROM transactions"),
	    "r-1=eng,r-2=ops,r-3=ops,fix-r-1=eng,fix-r-3=ops,adj-1=ops,adj-2=,"
	    "alloc-1=eng");
	assert_string_equal(value_in(up10, "SELECT string_agg(idempotency_key "
	    "|| '=' || root, ',' ORDER BY transaction_id) FROM ledger_keys"),
	    "r-1=eng,r-2=ops,r-3=ops,fix-r-1=eng,fix-r-3=ops,adj-1=ops,adj-2=,"
	    "alloc-1=eng");
	/* Postings by their transaction, whatever their account. */
	assert_string_equal(value_in(up10, "SELECT string_agg(t.idempotency_key"
	    " || '.' || p.seq || '=' || p.root, ',' ORDER BY p.transaction_id, "
	    "p.seq) FROM postings p JOIN transactions t ON t.id = "
	    "p.transaction_id AND t.occurred_at = p.occurred_at"),
	    "r-1.0=eng,r-1.1=eng,r-2.0=ops,r-2.1=ops,fix-r-1.0=eng,"
	    "fix-r-1.1=eng,fix-r-3.0=ops,fix-r-3.1=ops,adj-1.0=ops,adj-1.1=ops,"
	    "adj-1.2=ops,adj-2.0=,adj-2.1=,alloc-1.0=eng,alloc-1.1=eng,"
	    "alloc-1.2=eng");
	assert_string_equal(value_in(up10, "SELECT string_agg(cost_center || "
	    "'=' || root, ',' ORDER BY transaction_id) FROM usage_events"),
	    "eng/search=eng,ops/sre=ops,ops=ops");
	assert_string_equal(value_in(up10, "SELECT string_agg(u.cost_center || "
	    "'=' || c.root, ',' ORDER BY c.transaction_id) FROM "
	    "usage_corrections c JOIN usage_events u ON u.transaction_id = "
	    "c.corrects"), "eng/search=eng,ops=ops");
	assert_string_equal(value_in(up10, "SELECT (SELECT string_agg("
	    "cost_center || '=' || root, ',' ORDER BY cost_center) FROM "
	    "usage_daily) || ' ' || (SELECT string_agg(cost_center || '=' || "
	    "root, ',' ORDER BY cost_center) FROM usage_daily_meters) || ' ' || "
	    "(SELECT string_agg(cost_center || '=' || root, ',' ORDER BY "
	    "cost_center) FROM usage_cc_daily)"),
	    "eng/search=eng,ops=ops,ops/sre=ops eng/search=eng,ops=ops,"
	    "ops/sre=ops eng/search=eng,ops=ops,ops/sre=ops");
	assert_string_equal(value_in(up10, "SELECT a.root || ' ' || "
	    "string_agg(p.cost_center || '=' || p.root, ',' ORDER BY p.seq) "
	    "FROM allocations a JOIN allocation_parts p ON p.allocation_id = "
	    "a.id GROUP BY a.root"), "eng ops/sre=eng,eng=eng");

	/* The guards are back, and what is booked now has its root too. */
	res = PQexec(up10, "UPDATE postings SET root = 'x'");
	assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
	PQclear(res);
	res = PQexec(up10, "UPDATE allocation_parts SET root = 'x'");
	assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
	PQclear(res);
	assert_string_equal(value_in(up10, "SELECT string_agg(status, ',') "
	    "FROM usage_ingest('[{\"n\":1,\"key\":\"r-4\",\"hash\":\"dd\","
	    "\"occurred_at\":\"2026-10-09T10:00:00Z\",\"cc\":\"ops/sre\","
	    "\"provider\":\"openai\",\"model\":\"gpt-4o\",\"tier\":"
	    "\"standard\",\"list_cost\":9,\"cost\":9,\"q\":[1],\"m\":[{\"meter\":"
	    "\"input\",\"q\":1,\"l\":9,\"c\":9}]}]'::jsonb, false)"), "recorded");
	assert_string_equal(value_in(up10, "SELECT string_agg(DISTINCT p.root, "
	    "',') || ' ' || min(t.root) FROM transactions t JOIN postings p ON "
	    "p.transaction_id = t.id AND p.occurred_at = t.occurred_at WHERE "
	    "t.idempotency_key = 'r-4'"), "ops ops");
	res = PQexec(up10, query("ledger_verify")->text);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(res, 0, 2), "0");	/* trial balance */
	/* Every list of differences and orphans empty, roots included. */
	for (i = 3; i < (size_t)PQnfields(res); i++)
		assert_true(strcmp(PQgetvalue(res, 0, (int)i), "{}") == 0 ||
		    strcmp(PQgetvalue(res, 0, (int)i), "[]") == 0);
	assert_string_equal(PQfname(res, 14), "root_differences");
	PQclear(res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failure_leaves_schema_as_it_was),
		cmocka_unit_test(test_then_good_set_applies_once),
		cmocka_unit_test(test_slow_migration_outlasts_the_statement_timeout),
		cmocka_unit_test(test_edited_migration_is_refused),
		cmocka_unit_test(test_newer_schema_is_refused),
		cmocka_unit_test(test_upgrade_keeps_the_ledger),
		cmocka_unit_test(test_upgrade_from_10_fills_root),
	};
	const char *url = getenv("TG_MIGRATE_DB");
	const char *up_url = getenv("TG_UPGRADE_DB");
	const char *up10_url = getenv("TG_UPGRADE10_DB");
	int rc;

	if (url == NULL || up_url == NULL || up10_url == NULL) {
		fprintf(stderr, "test_migrate: TG_MIGRATE_DB, TG_UPGRADE_DB and "
		    "TG_UPGRADE10_DB must be set\n");
		return 2;
	}
	conn = PQconnectdb(url);
	up = PQconnectdb(up_url);
	up10 = PQconnectdb(up10_url);
	if (PQstatus(conn) != CONNECTION_OK || PQstatus(up) != CONNECTION_OK ||
	    PQstatus(up10) != CONNECTION_OK) {
		fprintf(stderr, "test_migrate: %s%s%s", PQerrorMessage(conn),
		    PQerrorMessage(up), PQerrorMessage(up10));
		return 2;
	}
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	PQclear(PQexec(up, "SET client_min_messages = warning"));
	PQclear(PQexec(up10, "SET client_min_messages = warning"));
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	PQfinish(conn);
	PQfinish(up);
	PQfinish(up10);
	return rc;
}
