/*
 * rsv_write.h - reservations written back to PostgreSQL behind the
 * decisions, so that a restarted instance holds again what was in flight.
 *
 * A reservation marked is written at the next rsv_write_some (every tick):
 * a new hold to reservation_log (one row per write, whatever the number
 * of holds), an ended one as its row of `reservations`. One write is in
 * flight at a time; a failed one is written again. The fields dirty,
 * writing and stored of struct reservation belong to this module.
 */
#ifndef TOLLGATE_RSV_WRITE_H
#define TOLLGATE_RSV_WRITE_H

#include <stddef.h>

struct tg_server;
struct reservation;
struct rsv_write;

struct rsv_write *rsv_write_new(struct tg_server *srv);
void rsv_write_free(struct rsv_write *w);

/* r changed (made or ended): to be written. */
void rsv_write_mark(struct rsv_write *w, struct reservation *r);
/* Send what is marked, unless a write is in flight or the pool is down. */
void rsv_write_some(struct rsv_write *w);
/* At shutdown, the loop done: everything not written yet, synchronously. */
void rsv_write_stop(struct rsv_write *w);
/* Marked or in flight: not known to be written yet. */
size_t rsv_write_pending(const struct rsv_write *w);

#endif
