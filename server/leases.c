/*
 * leases.c - asking PostgreSQL for slices of hard budgets' room, renewing
 * them while they are used, and giving back what is not.
 *
 * What a grant must get right (the rest is sizing):
 * - the floor of a grant is what this instance holds plus what its old
 *   lease still lets it hold while the grant is in flight, so a renewal
 *   never makes the database count less than it may have committed;
 * - what was booked or expired here between sending a grant and its reply
 *   stays counted against the new lease (the grant's snapshot may not
 *   have seen it: counting it twice errs on the safe side);
 * - the lease is used only until the time it was asked plus its length,
 *   which is never later than the database's end for it.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/rand.h>

#include "ledger/budget.h"
#include "ledger/ledger.h"
#include "server/budgets.h"
#include "server/db.h"
#include "server/http.h"
#include "server/keys.h"
#include "server/leases.h"
#include "server/log.h"
#include "server/pgarr.h"

#define BATCH_MAX 512		/* budgets per grant */
#define NEED_MAX 1000000000000000LL	/* 1e6 currency units */

struct waiter {
	void (*done)(void *, int);
	void *arg;
	struct waiter *next;
};

struct batch {
	struct leases *ls;
	int64_t seq;			/* batches are made in this order */
	int n;
	int64_t ids[BATCH_MAX], need[BATCH_MAX];
	int64_t used_at_send[BATCH_MAX], demand_at_send[BATCH_MAX];
	int64_t sent_us;
	struct waiter *waiters;
	struct batch *next;		/* pending after this one */
};

struct leases {
	struct tg_server *srv;
	char holder[33];		/* this process: a restart is another */
	struct batch *pending, *last;	/* sent in order, one at a time */
	int64_t next_seq;
	struct batch *inflight;
	int64_t *held;			/* ids of budgets with a lease */
	size_t nheld, capheld;
	struct event *renew;
	uint64_t grants, failures;
	int stopping;			/* the pool is going: ask no more */
	int returning;			/* a return is in flight */
};

struct leases *
leases_new(struct tg_server *srv)
{
	struct leases *ls = calloc(1, sizeof *ls);
	unsigned char rnd[16];

	if (ls == NULL)
		return NULL;
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		free(ls);
		return NULL;
	}
	keys_hex(rnd, sizeof rnd, ls->holder);
	ls->srv = srv;
	return ls;
}

/* Into the list of budgets leased (renewed, returned), once. */
static void
track(struct leases *ls, struct budget *b)
{
	int64_t *grown;

	if (b->lease_listed)
		return;
	if (ls->nheld == ls->capheld) {
		size_t cap = ls->capheld ? ls->capheld * 2 : 64;

		if ((grown = realloc(ls->held, cap * sizeof *grown)) == NULL)
			return;
		ls->held = grown;
		ls->capheld = cap;
	}
	ls->held[ls->nheld++] = b->d.id;
	b->lease_listed = 1;
}

static int
batch_index(const struct batch *bt, int64_t id)
{
	int j;

	for (j = 0; j < bt->n; j++)
		if (bt->ids[j] == id)
			return j;
	return -1;
}

/* What a lease should cover: what is held, and room for what is to come
 * until the next renewal, twice over: the calls waiting for this grant,
 * or the holds made since the last one at the rate they came. */
static int64_t
want_of(const struct budget *b, int64_t need, int64_t now_us, int lease_s)
{
	int64_t since = now_us - b->lease_since, more, recent;
	__int128 r;

	if (since < 1000)
		since = 1000;
	r = (__int128)b->lease_demand * (lease_s * 1000000LL / 3) / since * 2;
	recent = r < NEED_MAX ? (int64_t)r : NEED_MAX;
	more = need < NEED_MAX / 2 ? need * 2 : NEED_MAX;
	return b->held + (recent > more ? recent : more);
}

static void
grant_row(void *arg, struct budget *b, PGresult *res, int i)
{
	struct batch *bt = arg;
	int j = batch_index(bt, b->d.id);

	if (j < 0)
		return;
	b->lease = atoll(PQgetvalue(res, i, 3));
	b->lease_until = bt->sent_us +
	    (int64_t)bt->ls->srv->cfg.lease_s * 1000000;
	b->lease_used -= bt->used_at_send[j];
	b->lease_demand -= bt->demand_at_send[j];
	b->lease_since = bt->sent_us;
	track(bt->ls, b);
}

static void send_pending(struct leases *ls);

static void
batch_end(struct batch *bt, int ok)
{
	struct waiter *w, *next;

	for (w = bt->waiters; w != NULL; w = next) {
		next = w->next;
		w->done(w->arg, ok);
		free(w);
	}
	free(bt);
}

static void
grant_done(void *arg, int ok)
{
	struct batch *bt = arg;
	struct leases *ls = bt->ls;

	ls->inflight = NULL;
	if (ok)
		ls->grants++;
	else
		ls->failures++;
	batch_end(bt, ok);
	send_pending(ls);
}

static void
send_pending(struct leases *ls)
{
	struct budget *b[BATCH_MAX];
	int64_t floors[BATCH_MAX], wants[BATCH_MAX];
	struct batch *bt = ls->pending;
	const struct tg_config *cfg = &ls->srv->cfg;
	const char *pre[2], *post[4];
	struct pgarr fl, wa;
	char lease_ms[24], drain_ms[24];
	int64_t room;
	int j, n = 0, rc = -1;

	/* One statement at a time: a return that ran after a later grant
	 * would take away a lease in use. */
	if (bt == NULL || ls->inflight != NULL || ls->returning)
		return;
	if ((ls->pending = bt->next) == NULL)
		ls->last = NULL;
	if (ls->stopping) {
		batch_end(bt, 0);
		send_pending(ls);
		return;
	}
	bt->sent_us = http_wall_now_us();
	for (j = 0; j < bt->n; j++) {
		struct budget *x = budget_set_get(budgets_set(ls->srv->budgets),
		    bt->ids[j]);

		if (x == NULL)
			continue;
		x->lease_asked = 0;
		if (!x->d.hard)
			continue;
		(void)budgets_ready(ls->srv->budgets, x, bt->sent_us);
		b[n] = x;
		bt->ids[n] = x->d.id;
		bt->used_at_send[n] = x->lease_used;
		bt->demand_at_send[n] = x->lease_demand;
		wants[n] = want_of(x, bt->need[j], bt->sent_us,
		    cfg->lease_s);
		/* Holds go on under the old lease until the reply: the new
		 * one must cover what they may take, so its floor is what
		 * is held plus what the old lease still allows (never more
		 * than wanted: that excess is given up here at once). */
		room = x->lease_until > bt->sent_us ? x->lease - x->lease_used :
		    0;
		floors[n] = room < wants[n] ? room : wants[n];
		if (floors[n] < x->held)
			floors[n] = x->held;
		if (floors[n] < 0)
			floors[n] = 0;
		if (room > floors[n])
			x->lease -= room - floors[n];
		n++;
	}
	bt->n = n;
	if (n == 0) {
		batch_end(bt, 1);
		send_pending(ls);	/* the next batch's waiters wait too */
		return;
	}
	pgarr_init(&fl);
	pgarr_init(&wa);
	for (j = 0; j < n; j++) {
		pgarr_int(&fl, floors[j]);
		pgarr_int(&wa, wants[j]);
	}
	snprintf(lease_ms, sizeof lease_ms, "%lld",
	    (long long)cfg->lease_s * 1000);
	snprintf(drain_ms, sizeof drain_ms, "%lld",
	    (long long)cfg->reservation_ttl_max_s * 1000);
	pre[0] = ls->holder;
	pre[1] = cfg->instance;
	post[0] = pgarr_finish(&fl);
	post[1] = pgarr_finish(&wa);
	post[2] = lease_ms;
	post[3] = drain_ms;
	ls->inflight = bt;
	if (post[0] != NULL && post[1] != NULL)
		rc = budgets_read_with(ls->srv->budgets, b, n, "lease_grant",
		    pre, 2, post, 4, grant_row, grant_done, bt);
	pgarr_free(&fl);
	pgarr_free(&wa);
	if (rc != 0) {
		ls->inflight = NULL;
		ls->failures++;
		batch_end(bt, 0);
		send_pending(ls);
	}
}

/* The pending batch asking for b, and its place in it (*j), or NULL. The
 * budget remembers where it was asked for (lease_asked): a renewal asks
 * for every budget in use at once, and searching the pending batches for
 * each was quadratic in their number. A mark left by a batch already
 * sent names no pending batch, or another budget at that place. */
static struct batch *
pending_with(struct leases *ls, struct budget *b, int *j)
{
	struct batch *bt;
	int64_t seq;

	if (b->lease_asked <= 0)
		return NULL;
	seq = (b->lease_asked - 1) / BATCH_MAX;
	*j = (int)((b->lease_asked - 1) % BATCH_MAX);
	for (bt = ls->pending; bt != NULL && bt->seq <= seq; bt = bt->next)
		if (bt->seq == seq)
			return *j < bt->n && bt->ids[*j] == b->d.id ? bt : NULL;
	return NULL;
}

void
leases_ask(struct leases *ls, struct budget **b, int n, int64_t need,
    void (*done)(void *, int), void *arg)
{
	struct batch *bt;
	struct waiter *w;
	int i, j;

	for (i = 0; i < n; i++) {
		if ((bt = pending_with(ls, b[i], &j)) == NULL) {
			if ((bt = ls->last) == NULL || bt->n == BATCH_MAX) {
				if ((bt = calloc(1, sizeof *bt)) == NULL)
					break;
				bt->ls = ls;
				bt->seq = ls->next_seq++;
				if (ls->last != NULL)
					ls->last->next = bt;
				else
					ls->pending = bt;
				ls->last = bt;
			}
			j = bt->n++;
			bt->ids[j] = b[i]->d.id;
			bt->need[j] = 0;
			b[i]->lease_asked = bt->seq * BATCH_MAX + j + 1;
		}
		/* The calls waiting for this grant all want room. */
		bt->need[j] = bt->need[j] < NEED_MAX - need ?
		    bt->need[j] + need : NEED_MAX;
	}
	if (done != NULL) {
		/* On the last batch: it is answered after every other. */
		if (i < n || ls->last == NULL ||
		    (w = calloc(1, sizeof *w)) == NULL) {
			done(arg, 0);
			return;
		}
		w->done = done;
		w->arg = arg;
		w->next = ls->last->waiters;
		ls->last->waiters = w;
	}
	send_pending(ls);
}

void
leases_after_hold(struct leases *ls, struct budget **b, int n,
    int64_t now_us)
{
	struct budget *low[BUDGET_MATCH_MAX];
	int i, k = 0;

	if (!db_pool_up(ls->srv->db))
		return;
	for (i = 0; i < n; i++)
		if (b[i]->d.hard &&
		    budget_lease_free(b[i], now_us) < b[i]->lease / 4)
			low[k++] = b[i];
	if (k > 0)
		leases_ask(ls, low, k, 0, NULL, NULL);
}

/* lease_return()'s arrays: each budget, what is still held under its
 * lease, and when the last of that ends. */
struct giveback {
	struct pgarr ids, floors, ends;
};

static void
giveback_init(struct giveback *g)
{
	pgarr_init(&g->ids);
	pgarr_init(&g->floors);
	pgarr_init(&g->ends);
}

static void
giveback_add(struct giveback *g, int64_t id, int64_t floor,
    const char *end)
{
	pgarr_int(&g->ids, id);
	pgarr_int(&g->floors, floor);
	pgarr_text(&g->ends, end);
}

/* The parameters of lease_return.sql, or -1 when out of memory. */
static int
giveback_params(struct giveback *g, struct leases *ls, const char **p)
{
	p[0] = ls->holder;
	p[1] = pgarr_finish(&g->ids);
	p[2] = pgarr_finish(&g->floors);
	p[3] = pgarr_finish(&g->ends);
	return p[1] != NULL && p[2] != NULL && p[3] != NULL ? 0 : -1;
}

static void
giveback_free(struct giveback *g)
{
	pgarr_free(&g->ids);
	pgarr_free(&g->floors);
	pgarr_free(&g->ends);
}

static void
return_cb(void *arg, const struct db_result *res)
{
	struct leases *ls = arg;

	ls->returning = 0;
	if (res->status != DB_OK)
		log_warn("event=lease_return_failed error=\"%s\"", res->message);
	send_pending(ls);
}

/* Leases nothing is held under, and that nothing asked for since their
 * grant, go back; the others are renewed. */
static void
renew_cb(evutil_socket_t fd, short what, void *arg)
{
	struct leases *ls = arg;
	struct budget **renew;
	struct giveback g;
	const char *p[4];
	char now[LEDGER_TIME_BUFSZ];
	size_t i = 0;
	/* Returned only between grants (see send_pending). */
	int nidle = 0, nrenew = 0, may_return = ls->inflight == NULL &&
	    ls->pending == NULL;

	(void)fd;
	(void)what;
	if (!db_pool_up(ls->srv->db) || ls->returning)
		return;
	/* Every lease in use is renewed, however many: a lease left out
	 * would lapse and be asked for again at the next call. */
	if ((renew = malloc((ls->nheld + 1) * sizeof *renew)) == NULL)
		return;
	giveback_init(&g);
	ledger_time_format(http_wall_now_us(), now);
	while (i < ls->nheld) {
		struct budget *b = budget_set_get(budgets_set(ls->srv->budgets),
		    ls->held[i]);

		if (b != NULL && (b->held > 0 || b->lease_demand > 0)) {
			renew[nrenew++] = b;
			i++;
			continue;
		}
		if (!may_return || nidle == BATCH_MAX) {
			i++;
			continue;
		}
		/* Nothing held under it: it goes at once. */
		if (b != NULL) {
			b->lease_until = 0;
			b->lease_listed = 0;
		}
		giveback_add(&g, ls->held[i], 0, now);
		nidle++;
		ls->held[i] = ls->held[--ls->nheld];
	}
	if (nidle > 0) {
		/* Set first: the callback may run before db_query returns. */
		ls->returning = 1;
		if (giveback_params(&g, ls, p) != 0 || db_query(ls->srv->db,
		    "lease_return", 4, p, return_cb, ls) != 0) {
			ls->returning = 0;
			log_warn("event=lease_return_failed n=%d", nidle);
		}
	}
	giveback_free(&g);
	/* After the return: the renewals wait for it. */
	if (nrenew > 0)
		leases_ask(ls, renew, nrenew, 0, NULL, NULL);
	free(renew);
}

int
leases_start(struct leases *ls)
{
	int64_t ms = (int64_t)ls->srv->cfg.lease_s * 1000 / 3;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	ls->renew = event_new(ls->srv->base, -1, EV_PERSIST, renew_cb, ls);
	if (ls->renew == NULL || event_add(ls->renew, &tv) != 0)
		return -1;
	return 0;
}

static void
latest_end(struct reservation *r, void *arg)
{
	int64_t *end = arg;

	if (r->state == RSV_HELD && r->expires_us > *end)
		*end = r->expires_us;
}

void
leases_stop(struct leases *ls)
{
	struct giveback g;
	int64_t end = http_wall_now_us();
	char err[256], t[LEDGER_TIME_BUFSZ];
	const char *p[4];
	PGconn *conn;
	PGresult *res;
	size_t i;

	if (ls == NULL)
		return;
	ls->stopping = 1;
	if (ls->renew != NULL)
		event_free(ls->renew);
	ls->renew = NULL;
	if (ls->nheld == 0)
		return;
	/* What is still held keeps its lease until the last hold ends: the
	 * calls may be running; the rest goes back now. */
	budgets_each_reservation(ls->srv->budgets, latest_end, &end);
	ledger_time_format(end, t);
	giveback_init(&g);
	for (i = 0; i < ls->nheld; i++) {
		struct budget *b = budget_set_get(budgets_set(ls->srv->budgets),
		    ls->held[i]);

		giveback_add(&g, ls->held[i], b != NULL && b->held > 0 ?
		    b->held : 0, t);
	}
	if (giveback_params(&g, ls, p) != 0) {
		log_warn("event=lease_return_failed n=%zu error=\"out of "
		    "memory\"", ls->nheld);
	} else if ((conn = db_connect_sync(&ls->srv->cfg, err,
	    sizeof err)) == NULL) {
		log_warn("event=lease_return_failed n=%zu error=\"%s\"",
		    ls->nheld, err);
	} else {
		res = PQexecParams(conn, db_statement_text("lease_return"), 4,
		    NULL, p, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			log_warn("event=lease_return_failed n=%zu error=\"%s\"",
			    ls->nheld, PQresultErrorMessage(res));
		PQclear(res);
		PQfinish(conn);
	}
	giveback_free(&g);
}

void
leases_free(struct leases *ls)
{
	struct batch *bt;

	if (ls == NULL)
		return;
	if (ls->renew != NULL)
		event_free(ls->renew);
	while ((bt = ls->pending) != NULL) {
		ls->pending = bt->next;
		batch_end(bt, 0);
	}
	/* An in-flight grant is freed by its callback when the pool is
	 * drained; none is in flight once the loop has ended. */
	free(ls->held);
	free(ls);
}

void
leases_render_metrics(struct leases *ls, struct evbuffer *out)
{
	evbuffer_add_printf(out,
	    "# HELP tollgate_lease_grants_total Lease grants (and renewals) "
	    "PostgreSQL answered.\n"
	    "# TYPE tollgate_lease_grants_total counter\n"
	    "tollgate_lease_grants_total %llu\n"
	    "# HELP tollgate_lease_grant_failures_total Lease grants that "
	    "could not be made.\n"
	    "# TYPE tollgate_lease_grant_failures_total counter\n"
	    "tollgate_lease_grant_failures_total %llu\n"
	    "# HELP tollgate_leases Budgets this instance holds a lease on.\n"
	    "# TYPE tollgate_leases gauge\n"
	    "tollgate_leases %zu\n",
	    (unsigned long long)ls->grants, (unsigned long long)ls->failures,
	    ls->nheld);
}
