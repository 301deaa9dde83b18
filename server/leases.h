/*
 * leases.h - this instance's leases on hard budgets' room, so that
 * several instances deciding on one database never pass a cap together
 * (docs/scaling.md). A lease is granted by PostgreSQL (lease_grant(), a
 * short transaction locking the budgets in id order); decisions stay in
 * memory, within what the leases allow (budget_decide with leasing).
 *
 * Asks are batched: one grant is in flight at a time, and the asks made
 * meanwhile share the next one.
 */
#ifndef TOLLGATE_LEASES_H
#define TOLLGATE_LEASES_H

#include <stdint.h>

struct tg_server;
struct budget;
struct evbuffer;
struct leases;

struct leases *leases_new(struct tg_server *srv);
/* The renewal timer: leases in use are renewed, idle ones returned. */
int leases_start(struct leases *ls);
/* Give back what the leases do not cover (at shutdown, synchronously,
 * after the reservations are written). */
void leases_stop(struct leases *ls);
void leases_free(struct leases *ls);

/*
 * More lease on budgets b[0..n), for a call of `need` that did not fit;
 * done(arg, ok) once the grant is known (ok 0: the database could not be
 * asked). done may run before this returns.
 */
void leases_ask(struct leases *ls, struct budget **b, int n, int64_t need,
    void (*done)(void *arg, int ok), void *arg);
/* After a hold: top up, without waiting, the leases running low. */
void leases_after_hold(struct leases *ls, struct budget **b, int n,
    int64_t now_us);

/* Grants and failures, leases held, in Prometheus' format. */
void leases_render_metrics(struct leases *ls, struct evbuffer *out);

#endif
