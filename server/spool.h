/*
 * spool.h - the local write-ahead spool for usage events, used when
 * TOLLGATE_SPOOL_DIR is set: events accepted while PostgreSQL cannot be
 * reached are appended to a file and made durable (fsync) before the
 * reply, then booked in order when PostgreSQL is back, still exactly once
 * (their ids make a replay of an event already booked a duplicate).
 */
#ifndef TOLLGATE_SPOOL_H
#define TOLLGATE_SPOOL_H

#include <stddef.h>

struct tg_server;
struct spool;

/* NULL with err when the directory cannot be used. */
struct spool *spool_open(struct tg_server *srv, const char *dir, char *err,
    size_t errsz);
void spool_close(struct spool *sp);

/*
 * Append rows (each a usage_ingest() row object, without "n") and make
 * them durable. 0 when they are on disk, -1 when not (nothing to rely on).
 */
int spool_append(struct spool *sp, char *const *rows, size_t n)
    __attribute__((warn_unused_result));

/* Events waiting in the spool (appended and not yet replayed). */
size_t spool_pending(const struct spool *sp);

#endif
