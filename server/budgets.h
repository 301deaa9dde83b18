/*
 * budgets.h - the server's budgets and reservations: loaded from
 * PostgreSQL at start, followed as usage is booked, reservations written
 * back in batches, expired by a timer. Decisions (api_budgets.c) read and
 * change this state only in memory.
 */
#ifndef TOLLGATE_BUDGETS_H
#define TOLLGATE_BUDGETS_H

#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "ledger/budget.h"
#include "server/keys.h"

struct tg_server;
struct budgets;
struct evbuffer;

enum rsv_state { RSV_HELD, RSV_SETTLED, RSV_RELEASED, RSV_EXPIRED };

#define RSV_ID_LEN 28		/* "rsv_" + 24 hex */

struct reservation {
	char id[RSV_ID_LEN + 1];
	char key_id[KEY_ID_BUFSZ];
	char *request_id;		/* NULL when none */
	char *cost_center;
	int nbudgets;
	int64_t *budgets;		/* ids of the budgets it holds on */
	int64_t amount, tokens, max_output;
	int64_t created_us, expires_us, ended_us, actual;
	int state;			/* enum rsv_state */
	/* Internal to budgets.c. */
	size_t heap_i;
	int64_t forget_at;		/* retry forgetting an unwritten end */
	/* Internal to rsv_write.c (read by budgets.c). */
	int dirty, writing;
	int stored;		/* its row of `reservations` is (or may be) written */
	struct reservation *id_next, *req_next;
};

struct budgets *budgets_new(struct tg_server *srv);
/* Read budgets, their spend, live reservations and cost centers, before
 * the server serves; -1 with a reason in err. */
int budgets_load_sync(struct budgets *bs, PGconn *conn, char *err,
    size_t errsz);
/* Timers: expiry, writes, polling for changes made elsewhere. */
int budgets_start(struct budgets *bs);
/* Budgets, cost centers or rules changed (a notification): read them
 * now rather than at the next poll. */
void budgets_changed(struct budgets *bs);
/* Write what is not written yet (synchronously, at shutdown). */
void budgets_stop(struct budgets *bs);
void budgets_free(struct budgets *bs);

struct budget_set *budgets_set(struct budgets *bs);
/* 1 when the cost center exists and is not archived. */
int budgets_cost_center_ok(struct budgets *bs, const char *cc);
/* A cost center created or changed on this instance. */
void budgets_cost_center_seen(struct budgets *bs, const char *id,
    int archived);

/* An allocation rule created or deleted on this instance (status as
 * allocation_rule_create/delete answer, rule as they return it). */
void budgets_rule_changed(struct budgets *bs, const char *status,
    json_t *rule);
/* The cost center the allocation rules give a call that names none (the
 * first matching rule whose center is live), or NULL. */
const char *budgets_route(struct budgets *bs, const char *user,
    const char *key_id, const struct budget_tag *tags, int ntags);

/*
 * A budget ready to decide on at now_us: its period current, its spend
 * read. Returns 0, or -1 when its spend is still being read (a read is
 * then under way).
 */
int budgets_ready(struct budgets *bs, struct budget *b, int64_t now_us);
/* Read b's spend now; done(arg, ok) once it is known (maybe at once). */
void budgets_read_spend(struct budgets *bs, struct budget *b,
    void (*done)(void *arg, int ok), void *arg);
/*
 * Read budgets b[0..n)'s spend with statement stmt, whose parameters are
 * pre[0..npre), then the ids, period starts and period ends (arrays),
 * then post[0..npost), and whose rows start as budget_spend.sql's. Each
 * row whose budget is still the one asked about sets its spend, then goes
 * to row(arg, b, res, i); done(arg, ok) ends it (maybe before this
 * returns). -1 when it could not be sent (done is not called).
 */
int budgets_read_with(struct budgets *bs, struct budget **b, int n,
    const char *stmt, const char *const *pre, int npre,
    const char *const *post, int npost,
    void (*row)(void *arg, struct budget *b, PGresult *res, int i),
    void (*done)(void *arg, int ok), void *arg);

/*
 * A booked usage event (cost in col_cost) or correction, from a row of
 * usage_ingest.sql or usage_reprice.sql whose columns from col_dims are:
 * cost center, occurred_at (epoch us), provider, model, user, tags, the
 * reservation it names, the booking's transaction id. Adds the cost to
 * the budgets covering it, and settles the reservation.
 */
void budgets_booked(struct budgets *bs, PGresult *res, int row, int col_cost,
    int col_dims);

/* What budgets_booked() reads from a row, given by a caller that holds
 * it already (ingest: the event it sent), so that the booking need not
 * echo it back. Strings and tags are borrowed for the call. */
struct budget_booked {
	const char *cost_center;
	int64_t at_us;			/* occurred_at */
	const char *provider, *model;
	const char *user;		/* NULL when none */
	json_t *tags;			/* an object, or NULL */
	const char *reservation;	/* the one it names, or NULL */
	uint64_t xid;			/* the booking's transaction */
	int64_t cost;
};
void budgets_booked_event(struct budgets *bs, const struct budget_booked *b);

/* Reservations settled on another instance ("id:cost," each, as that
 * instance notifies them): the ones held here end, settled. */
void budgets_settled_elsewhere(struct budgets *bs, const char *list);

/* A new reservation holding `amount` on budgets bs[0..n). */
struct reservation *budgets_reserve(struct budgets *bs, struct budget **b,
    int n, const char *key_id, const char *request_id, const char *cc,
    int64_t amount, int64_t tokens, int64_t max_output, int64_t ttl_s);
struct reservation *budgets_reservation(struct budgets *bs, const char *id);
struct reservation *budgets_by_request(struct budgets *bs, const char *key_id,
    const char *request_id);
/* End a held reservation (released or expired; settled with actual):
 * its holds go. Returns -1 when it had already ended. */
int budgets_end(struct budgets *bs, struct reservation *r, int state,
    int64_t actual);
void budgets_each_reservation(struct budgets *bs,
    void (*fn)(struct reservation *, void *), void *arg);

const char *budgets_rsv_state_name(int state);
/* Read the columns of budgets_load.sql from col into d (strings point
 * into res and *keep, which the caller frees); -1 when malformed. */
int budgets_def_from_row(PGresult *res, int row, int col,
    struct budget_def *d, json_t **keep);

void budgets_count_decision(struct budgets *bs, int decision);
/* Decisions, live reservations, overshoots, in Prometheus' format. */
void budgets_render_metrics(struct budgets *bs, struct evbuffer *out);

#endif
