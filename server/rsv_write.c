/*
 * rsv_write.c - reservations written back behind the decisions. See
 * rsv_write.h.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ledger/ledger.h"
#include "server/budgets.h"
#include "server/db.h"
#include "server/http.h"
#include "server/log.h"
#include "server/pgarr.h"
#include "server/rsv_write.h"

#define WRITE_MAX 2000			/* reservations per write */

struct rsv_write {
	struct tg_server *srv;
	struct reservation **dirty;
	size_t ndirty, capdirty;
	struct reservation **sent;
	size_t nsent;
	int sent_log;		/* sent are new holds, to the log */
	int left_over;	/* the last write left dirty ones behind */
};

struct rsv_write *
rsv_write_new(struct tg_server *srv)
{
	struct rsv_write *w = calloc(1, sizeof *w);

	if (w != NULL)
		w->srv = srv;
	return w;
}

void
rsv_write_free(struct rsv_write *w)
{
	if (w == NULL)
		return;
	free(w->dirty);
	free(w->sent);
	free(w);
}

size_t
rsv_write_pending(const struct rsv_write *w)
{
	return w->ndirty + w->nsent;
}

void
rsv_write_mark(struct rsv_write *w, struct reservation *r)
{
	struct reservation **grown;

	if (r->dirty)
		return;
	if (w->ndirty == w->capdirty) {
		size_t cap = w->capdirty ? w->capdirty * 2 : 256;

		if ((grown = realloc(w->dirty, cap * sizeof *grown)) == NULL) {
			log_error("event=reservation_write_oom id=%s", r->id);
			return;
		}
		w->dirty = grown;
		w->capdirty = cap;
	}
	r->dirty = 1;
	w->dirty[w->ndirty++] = r;
}

/* Reservations as the columns of reservations_write.sql, one array each,
 * in its order; the instance's name is the last parameter. Columns rather
 * than a JSON document: cheaper to write here and for PostgreSQL to read,
 * and a decision's share of this write is most of what a hold costs. */
enum {
	R_ID, R_KEY, R_REQUEST, R_CC, R_BUDGETS, R_AMOUNT, R_MAX, R_CREATED,
	R_EXPIRES, R_STATE, R_ENDED, R_ACTUAL, R_COUNT
};

struct rsv_cols {
	struct pgarr c[R_COUNT];
	const char *p[R_COUNT + 1];
};

static void
rsv_time(struct pgarr *a, int64_t us)
{
	char buf[LEDGER_TIME_BUFSZ];

	ledger_time_format(us, buf);
	pgarr_text(a, buf);
}

/* The columns of reservations r[0..n); -1 when out of memory. Free with
 * rsv_cols_free whatever it returns. */
static int
rsv_cols(struct rsv_cols *rc, struct reservation *const *r, size_t n,
    const char *instance)
{
	const struct reservation *x;
	size_t i;
	int c, ok = 1;

	for (c = 0; c < R_COUNT; c++)
		pgarr_init(&rc->c[c]);
	for (i = 0; i < n; i++) {
		x = r[i];
		pgarr_text(&rc->c[R_ID], x->id);
		pgarr_text(&rc->c[R_KEY], x->key_id[0] != '\0' ? x->key_id :
		    NULL);
		pgarr_text(&rc->c[R_REQUEST], x->request_id);
		pgarr_text(&rc->c[R_CC], x->cost_center);
		pgarr_ints(&rc->c[R_BUDGETS], x->budgets, (size_t)x->nbudgets);
		pgarr_int(&rc->c[R_AMOUNT], x->amount);
		pgarr_int(&rc->c[R_MAX], x->max_output);
		rsv_time(&rc->c[R_CREATED], x->created_us);
		rsv_time(&rc->c[R_EXPIRES], x->expires_us);
		pgarr_text(&rc->c[R_STATE], budgets_rsv_state_name(x->state));
		if (x->state != RSV_HELD)
			rsv_time(&rc->c[R_ENDED], x->ended_us);
		else
			pgarr_null(&rc->c[R_ENDED]);
		if (x->state == RSV_SETTLED)
			pgarr_int(&rc->c[R_ACTUAL], x->actual);
		else
			pgarr_null(&rc->c[R_ACTUAL]);
	}
	for (c = 0; c < R_COUNT; c++)
		if ((rc->p[c] = pgarr_finish(&rc->c[c])) == NULL)
			ok = 0;
	rc->p[R_COUNT] = instance;
	return ok ? 0 : -1;
}

static void
rsv_cols_free(struct rsv_cols *rc)
{
	int c;

	for (c = 0; c < R_COUNT; c++)
		pgarr_free(&rc->c[c]);
}

static void
write_cb(void *arg, const struct db_result *res)
{
	struct rsv_write *w = arg;
	size_t i;

	/* A failed write may have been committed all the same (the
	 * connection was lost at its end): its rows count as stored, and are
	 * written again as such (a hold logged twice is read once). Logged
	 * holds have no row in `reservations` until they end. */
	for (i = 0; i < w->nsent; i++) {
		w->sent[i]->writing = 0;
		if (!w->sent_log)
			w->sent[i]->stored = 1;
		if (res->status != DB_OK)
			rsv_write_mark(w, w->sent[i]);
	}
	if (res->status != DB_OK)
		log_warn("event=reservations_write_failed error=\"%s\"",
		    res->message);
	free(w->sent);
	w->sent = NULL;
	w->nsent = 0;
	/* A backlog goes on at once; otherwise the next tick gathers. */
	if (res->status == DB_OK && w->ndirty > 0 &&
	    (w->ndirty >= WRITE_MAX || w->left_over))
		rsv_write_some(w);
}

/* 1 when r goes to the log: a hold still held that has no row. */
static int
rsv_loggable(const struct reservation *r)
{
	return r->state == RSV_HELD && !r->stored;
}

/* The latest expiry among r[0..n), as PostgreSQL reads it. */
static void
expires_max(struct reservation *const *r, size_t n, char *buf)
{
	int64_t max = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i]->expires_us > max)
			max = r[i]->expires_us;
	ledger_time_format(max, buf);
}

/* One write of the dirty reservations of one kind: new holds to the log
 * (cheap for PostgreSQL: one row whatever their number), every other
 * state to `reservations`. The kind is the newest dirty one's; the others
 * wait for the next write, which follows at once (write_cb). */
void
rsv_write_some(struct rsv_write *w)
{
	struct rsv_cols rc;
	char maxbuf[LEDGER_TIME_BUFSZ];
	size_t i, n, keep, left;
	int fresh = 1, log, failed;

	if (w->sent != NULL || w->ndirty == 0 || !db_pool_up(w->srv->db))
		return;
	n = w->ndirty < WRITE_MAX ? w->ndirty : WRITE_MAX;
	if ((w->sent = malloc(n * sizeof *w->sent)) == NULL)
		return;
	log = rsv_loggable(w->dirty[w->ndirty - 1]);
	w->nsent = 0;
	keep = w->ndirty;
	for (i = w->ndirty; i-- > 0 && w->nsent < n;) {
		struct reservation *r = w->dirty[i];

		if (rsv_loggable(r) != log)
			continue;
		r->dirty = 0;
		r->writing = 1;
		w->sent[w->nsent++] = r;
		fresh &= !r->stored;
		w->dirty[i] = NULL;
		keep = i;
	}
	/* Close the gaps the taken ones left, from the lowest taken up. */
	for (i = keep, left = keep; i < w->ndirty; i++)
		if (w->dirty[i] != NULL)
			w->dirty[left++] = w->dirty[i];
	w->left_over = left > 0;
	w->ndirty = left;
	w->sent_log = log;
	n = w->nsent;
	if (log)
		expires_max(w->sent, n, maxbuf);
	/* Rows never written (holds ended before their first write) go in
	 * by a plain insert, which costs PostgreSQL less than an upsert. */
	failed = rsv_cols(&rc, w->sent, n, w->srv->cfg.instance) != 0;
	if (!failed && log) {
		const char *p[R_EXPIRES + 3];

		memcpy(p, rc.p, (R_EXPIRES + 1) * sizeof *p);
		p[R_EXPIRES + 1] = w->srv->cfg.instance;
		p[R_EXPIRES + 2] = maxbuf;
		failed = db_query(w->srv->db, "reservations_log",
		    R_EXPIRES + 3, p, write_cb, w) != 0;
	} else if (!failed)
		failed = db_query(w->srv->db, fresh ? "reservations_insert" :
		    "reservations_write", R_COUNT + 1, rc.p, write_cb, w) != 0;
	if (failed) {
		for (i = 0; i < n; i++) {
			w->sent[i]->writing = 0;
			rsv_write_mark(w, w->sent[i]);
		}
		free(w->sent);
		w->sent = NULL;
		w->nsent = 0;
	}
	rsv_cols_free(&rc);
}

void
rsv_write_stop(struct rsv_write *w)
{
	char err[256];
	PGconn *conn;
	PGresult *res;
	struct rsv_cols rc;
	size_t i;

	for (i = 0; i < w->nsent; i++)
		rsv_write_mark(w, w->sent[i]);
	if (w->ndirty == 0)
		return;
	/* One upsert of every state: the log is for the loop's writes. */
	if ((conn = db_connect_sync(&w->srv->cfg, err, sizeof err)) == NULL) {
		log_error("event=reservations_unwritten n=%zu error=\"%s\"",
		    w->ndirty, err);
		return;
	}
	if (rsv_cols(&rc, w->dirty, w->ndirty, w->srv->cfg.instance) != 0) {
		log_error("event=reservations_unwritten n=%zu error=\"out of "
		    "memory\"", w->ndirty);
		rsv_cols_free(&rc);
		PQfinish(conn);
		return;
	}
	res = PQexecParams(conn, db_statement_text("reservations_write"),
	    R_COUNT + 1, NULL, rc.p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		log_error("event=reservations_unwritten n=%zu error=\"%s\"",
		    w->ndirty, PQresultErrorMessage(res));
	else
		w->ndirty = 0;
	PQclear(res);
	PQfinish(conn);
	rsv_cols_free(&rc);
}
