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

/* The newest version this binary carries. */
int migrate_latest(void);

/*
 * Bring the schema to migrate_latest(). On success *applied is how many
 * migrations ran now and *version the schema's version. On failure the
 * failing migration has been rolled back; err names it.
 */
int migrate_run(PGconn *conn, int *applied, int *version, char *err,
    size_t errsz) __attribute__((warn_unused_result));

#endif
