/*
 * migrate.c - the migration runner. A session-level advisory lock makes
 * concurrent runners (two servers starting together) take turns; the second
 * then finds nothing to do.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "server/keys.h"
#include "server/migrate.h"

#define MIGRATE_LOCK_ID "7200"

int
migrate_latest(void)
{
	return sql_migrations_count == 0 ? 0 :
	    sql_migrations[sql_migrations_count - 1].version;
}

static int
exec_ok(PGconn *conn, const char *sql, char *err, size_t errsz)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		snprintf(err, errsz, "%s", PQresultErrorMessage(res));
	PQclear(res);
	return ok ? 0 : -1;
}

static void
one_line(char *s)
{
	char *p;

	while ((p = strchr(s, '\n')) != NULL)
		*p = ' ';
}

/* 1 when applied with the same checksum, 0 when not applied, -1 on error. */
static int
applied_state(PGconn *conn, const struct sql_file *m, const char *sum,
    char *err, size_t errsz)
{
	char ver[16];
	const char *params[1] = { ver };
	PGresult *res;
	int rc;

	snprintf(ver, sizeof ver, "%d", m->version);
	res = PQexecParams(conn, "SELECT checksum FROM schema_migrations "
	    "WHERE version = $1::int", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errsz, "%s", PQresultErrorMessage(res));
		rc = -1;
	} else if (PQntuples(res) == 0) {
		rc = 0;
	} else if (strcmp(PQgetvalue(res, 0, 0), sum) != 0) {
		snprintf(err, errsz, "migration %s was changed after it was "
		    "applied; add a new migration instead of editing one",
		    m->name);
		rc = -1;
	} else
		rc = 1;
	PQclear(res);
	return rc;
}

static int
apply_one(PGconn *conn, const struct sql_file *m, const char *sum, char *err,
    size_t errsz)
{
	char ver[16], msg[512];
	const char *params[3] = { ver, m->name, sum };
	PGresult *res;

	snprintf(ver, sizeof ver, "%d", m->version);
	/* A migration rewrites as much as the ledger holds: the pooled
	 * connections' statement timeout (seconds) is not for it. */
	if (exec_ok(conn, "BEGIN", err, errsz) != 0 ||
	    exec_ok(conn, "SET LOCAL statement_timeout = 0", err, errsz) != 0)
		goto rollback;
	if (exec_ok(conn, m->text, msg, sizeof msg) != 0) {
		snprintf(err, errsz, "migration %s failed: %s", m->name, msg);
		goto rollback;
	}
	res = PQexecParams(conn, "INSERT INTO schema_migrations "
	    "(version, name, checksum) VALUES ($1::int, $2, $3)", 3, NULL,
	    params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		snprintf(err, errsz, "migration %s: %s", m->name,
		    PQresultErrorMessage(res));
		PQclear(res);
		goto rollback;
	}
	PQclear(res);
	if (exec_ok(conn, "COMMIT", msg, sizeof msg) != 0) {
		snprintf(err, errsz, "migration %s failed at commit: %s",
		    m->name, msg);
		goto rollback;
	}
	return 0;
rollback:
	PQclear(PQexec(conn, "ROLLBACK"));
	return -1;
}

int
migrate_run(PGconn *conn, const struct sql_file *migs, size_t nmigs,
    int *applied, int *version, char *err, size_t errsz)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char sum[2 * SHA256_DIGEST_LENGTH + 1];
	PGresult *res;
	size_t i;
	int rc = -1, st;

	*applied = 0;
	*version = 0;
	err[0] = '\0';
	if (exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_ID ")", err,
	    errsz) != 0)
		goto out;
	if (exec_ok(conn, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version int PRIMARY KEY, name text NOT NULL, "
	    "checksum text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", err, errsz) != 0)
		goto unlock;
	for (i = 0; i < nmigs; i++) {
		const struct sql_file *m = &migs[i];

		SHA256((const unsigned char *)m->text, strlen(m->text), digest);
		keys_hex(digest, sizeof digest, sum);
		if ((st = applied_state(conn, m, sum, err, errsz)) < 0)
			goto unlock;
		if (st == 1)
			continue;
		if (apply_one(conn, m, sum, err, errsz) != 0)
			goto unlock;
		(*applied)++;
	}
	res = PQexec(conn, "SELECT coalesce(max(version), 0) "
	    "FROM schema_migrations");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errsz, "%s", PQresultErrorMessage(res));
		PQclear(res);
		goto unlock;
	}
	*version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (nmigs > 0 && *version > migs[nmigs - 1].version) {
		snprintf(err, errsz, "the database schema is at version %d, "
		    "newer than this build's %d; run a newer tollgate",
		    *version, migs[nmigs - 1].version);
		goto unlock;
	}
	rc = 0;
unlock:
	PQclear(PQexec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_ID ")"));
out:
	one_line(err);
	return rc;
}
