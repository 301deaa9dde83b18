/*
 * migrate.h - apply sql/'s numbered migrations, in order, each in its own
 * transaction, recorded in schema_migrations with a checksum so that a
 * migration edited after it landed is refused rather than silently skipped.
 * Synchronous: for start-up and `tollgate migrate` only.
 */
#ifndef TOLLGATE_MIGRATE_H
#define TOLLGATE_MIGRATE_H

#include <stddef.h>

#include <libpq-fe.h>

#include "server/sqlfiles.h"

/* The newest version this binary carries. */
int migrate_latest(void);

/*
 * Bring the schema up to the last of the n migrations m (in version order;
 * the server passes sql_migrations). On success *applied is how many ran
 * now and *version the schema's version. On failure the failing migration
 * has been rolled back and err names it.
 */
int migrate_run(PGconn *conn, const struct sql_file *m, size_t n,
    int *applied, int *version, char *err, size_t errsz)
    __attribute__((warn_unused_result));

#endif
