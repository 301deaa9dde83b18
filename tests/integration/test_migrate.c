/*
 * test_migrate.c - the migration runner against a real PostgreSQL, with
 * migration sets made up for the test: a failing migration leaves the
 * schema exactly as it was, a second run is a no-op, an edited migration and
 * a schema newer than the binary are refused. Runs in a database of its own
 * (TG_MIGRATE_DB, created by scripts/check.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/migrate.h"

/* The runner is given its migrations; the embedded set is not used. */
const struct sql_file sql_migrations[] = { { 0, "", "" } };
const size_t sql_migrations_count = 0;
const struct sql_file sql_queries[] = { { 0, "", "" } };
const size_t sql_queries_count = 0;

static PGconn *conn;

static const struct sql_file good[] = {
	{ 1, "0001_a", "CREATE TABLE a (x int);" },
	{ 2, "0002_b", "CREATE TABLE b (x int); INSERT INTO a VALUES (1);" },
};
static const struct sql_file bad[] = {
	{ 1, "0001_a", "CREATE TABLE a (x int);" },
	{ 2, "0002_b", "CREATE TABLE b (x int); INSERT INTO a VALUES (1); "
	  "SELECT 1 / 0;" },
};
static const struct sql_file edited[] = {
	{ 1, "0001_a", "CREATE TABLE a (x bigint);" },
	{ 2, "0002_b", "CREATE TABLE b (x int); INSERT INTO a VALUES (1);" },
};

static const char *
value(const char *sql)
{
	static char out[256];
	PGresult *res = PQexec(conn, sql);

	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	snprintf(out, sizeof out, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return out;
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failure_leaves_schema_as_it_was),
		cmocka_unit_test(test_then_good_set_applies_once),
		cmocka_unit_test(test_edited_migration_is_refused),
		cmocka_unit_test(test_newer_schema_is_refused),
	};
	const char *url = getenv("TG_MIGRATE_DB");
	int rc;

	if (url == NULL) {
		fprintf(stderr, "test_migrate: TG_MIGRATE_DB is not set\n");
		return 2;
	}
	conn = PQconnectdb(url);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "test_migrate: %s", PQerrorMessage(conn));
		return 2;
	}
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	PQfinish(conn);
	return rc;
}
