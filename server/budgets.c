/*
 * budgets.c - the server's budgets and reservations.
 *
 * Everything a decision needs is in memory: the budgets with their
 * period's spend and holds, the reservations, and which cost centers
 * exist. PostgreSQL is the record: budgets and their spend are read at
 * start, every booked event adds to the budgets it falls under, and
 * reservations are written back in batches (rsv_write.c: a restart then
 * holds again what was in flight). Changes made by another instance are
 * picked up by polling.
 *
 * A budget's spend read while events are being booked must count each
 * event once: the read returns its snapshot, each booking its transaction
 * id, and the bookings the snapshot could not see are added to what it
 * read.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/rand.h>

#include "ledger/ledger.h"
#include "server/budgets.h"
#include "server/http.h"
#include "server/log.h"
#include "server/pgarr.h"
#include "server/rsv_write.h"
#include "server/tz.h"

#define RSV_BUCKETS 65536
#define CC_BUCKETS 4096
#define RETAIN_US (600 * 1000000LL)	/* ended reservations, for retries */
/*
 * Expiry and writes every few milliseconds: holds go to PostgreSQL in
 * small batches, since a batch's insert runs in one backend for as long
 * as its rows take, and on a small host that time is taken from the
 * server or its clients (measured: a 50 ms tick, batches of about 400
 * holds at 8k decisions a second, put the decisions' p99 near 4 ms; a
 * 5 ms tick near 1.5 ms, with no loss of throughput).
 */
#define TICK_MS 5
#define POLL_MS 1000

struct cc_entry {
	char *id;
	int archived;
	struct cc_entry *next;
};

/* An allocation rule, as usage_ingest() applies them. */
struct rule {
	int64_t id;
	int64_t position;
	char match;			/* 'u'ser, 'k'ey, 't'ag */
	char *tag, *value, *cost_center;
};

/* A booking seen while a budget's spend was being read. */
struct seen {
	uint64_t xid;
	int64_t at_us, cost;
};

/* A read of some budgets' spend, in flight. */
struct spend_read {
	struct budgets *bs;
	int n;
	int64_t *ids, *lo, *hi;
	uint32_t *gen;
	struct seen **seen;
	size_t *nseen, *capseen;
	const char *stmt;
	void (*row)(void *, struct budget *, PGresult *, int);
	void (*done)(void *, int);
	void *arg;
	struct spend_read *next;
};

struct budgets {
	struct tg_server *srv;
	struct budget_set *set;
	struct reservation *by_id[RSV_BUCKETS];
	struct reservation *by_req[RSV_BUCKETS];
	struct reservation **heap;	/* by next_event() */
	size_t nheap, capheap;
	struct rsv_write *writer;
	struct cc_entry *ccs[CC_BUCKETS];
	int64_t cc_since, budgets_since;
	struct spend_read *reads;
	struct event *tick, *poll;
	int polling, poll_again;
	uint64_t overshoots, decisions[3];
	struct rule *rules;		/* by position, then id */
	size_t nrules;
	struct evbuffer *remote;	/* "id:cost," settled here, held elsewhere */
	/* Random bytes for reservation ids, drawn in bulk: one call to the
	 * generator per id was a noticeable part of a decision. */
	unsigned char rnd[4096];
	size_t rnd_used;
};

static uint64_t
fnv(const char *s, const char *t)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ '\n') * 1099511628211ULL;
	for (; t != NULL && *t != '\0'; t++)
		h = (h ^ (unsigned char)*t) * 1099511628211ULL;
	return h;
}

struct budgets *
budgets_new(struct tg_server *srv)
{
	struct budgets *bs = calloc(1, sizeof *bs);

	if (bs == NULL)
		return NULL;
	bs->srv = srv;
	bs->rnd_used = sizeof bs->rnd;
	bs->remote = evbuffer_new();
	bs->writer = rsv_write_new(srv);
	if ((bs->set = budget_set_new()) == NULL || bs->remote == NULL ||
	    bs->writer == NULL) {
		if (bs->remote != NULL)
			evbuffer_free(bs->remote);
		rsv_write_free(bs->writer);
		budget_set_free(bs->set);
		free(bs);
		return NULL;
	}
	return bs;
}

struct budget_set *
budgets_set(struct budgets *bs)
{
	return bs->set;
}

const char *
budgets_rsv_state_name(int state)
{
	static const char *const names[] = { "held", "settled", "released",
		"expired" };

	return state >= 0 && state <= RSV_EXPIRED ? names[state] : "?";
}

/* Cost centers. */

static struct cc_entry **
cc_slot(struct budgets *bs, const char *id)
{
	struct cc_entry **e = &bs->ccs[fnv(id, NULL) % CC_BUCKETS];

	while (*e != NULL && strcmp((*e)->id, id) != 0)
		e = &(*e)->next;
	return e;
}

int
budgets_cost_center_ok(struct budgets *bs, const char *cc)
{
	struct cc_entry *e = *cc_slot(bs, cc);

	return e != NULL && !e->archived;
}

void
budgets_cost_center_seen(struct budgets *bs, const char *id, int archived)
{
	struct cc_entry **e;

	if (id == NULL)
		return;
	e = cc_slot(bs, id);
	if (*e == NULL && (*e = calloc(1, sizeof **e)) != NULL &&
	    ((*e)->id = strdup(id)) == NULL) {
		free(*e);
		*e = NULL;
	}
	if (*e != NULL)
		(*e)->archived = archived;
}

static void
cc_rows(struct budgets *bs, PGresult *res)
{
	int i;

	for (i = 0; i < PQntuples(res); i++) {
		budgets_cost_center_seen(bs, PQgetvalue(res, i, 0),
		    *PQgetvalue(res, i, 1) == 't');
		bs->cc_since = atoll(PQgetvalue(res, i, 2));
	}
}

/* Allocation rules: few, so kept as a sorted array and read whole. */

static void
rule_free(struct rule *r)
{
	free(r->tag);
	free(r->value);
	free(r->cost_center);
}

static int
rule_from_json(struct rule *r, json_t *j)
{
	const char *m = json_string_value(json_object_get(j, "match"));
	const char *tag = json_string_value(json_object_get(j, "tag"));

	memset(r, 0, sizeof *r);
	r->id = atoll(json_string_value(json_object_get(j, "id")) ?
	    json_string_value(json_object_get(j, "id")) : "0");
	r->position = json_integer_value(json_object_get(j, "position"));
	r->match = m != NULL ? m[0] : '?';
	r->tag = tag != NULL ? strdup(tag) : NULL;
	r->value = strdup(json_string_value(json_object_get(j, "value")) ?
	    json_string_value(json_object_get(j, "value")) : "");
	r->cost_center = strdup(json_string_value(json_object_get(j,
	    "cost_center")) ? json_string_value(json_object_get(j,
	    "cost_center")) : "");
	if ((tag != NULL && r->tag == NULL) || r->value == NULL ||
	    r->cost_center == NULL) {
		rule_free(r);
		return -1;
	}
	return 0;
}

static int
rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;

	if (x->position != y->position)
		return x->position < y->position ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Replace the rules by those of a JSON array (allocation_rule_list.sql). */
static void
rules_load(struct budgets *bs, const char *text)
{
	json_t *arr = json_loads(text, 0, NULL), *j;
	struct rule *rs;
	size_t i, n = 0;

	if (!json_is_array(arr) || (rs = calloc(json_array_size(arr) + 1,
	    sizeof *rs)) == NULL) {
		json_decref(arr);
		return;
	}
	json_array_foreach(arr, i, j)
		if (rule_from_json(&rs[n], j) == 0)
			n++;
	json_decref(arr);
	qsort(rs, n, sizeof *rs, rule_cmp);
	for (i = 0; i < bs->nrules; i++)
		rule_free(&bs->rules[i]);
	free(bs->rules);
	bs->rules = rs;
	bs->nrules = n;
}

void
budgets_rule_changed(struct budgets *bs, const char *status, json_t *rule)
{
	struct rule r, *grown;
	size_t i;

	if (rule == NULL || rule_from_json(&r, rule) != 0)
		return;
	for (i = 0; i < bs->nrules && bs->rules[i].id != r.id; i++)
		;
	if (i < bs->nrules) {
		rule_free(&bs->rules[i]);
		memmove(&bs->rules[i], &bs->rules[i + 1],
		    (bs->nrules - i - 1) * sizeof *bs->rules);
		bs->nrules--;
	}
	if (strcmp(status, "created") != 0 || (grown = realloc(bs->rules,
	    (bs->nrules + 1) * sizeof *grown)) == NULL) {
		rule_free(&r);
		return;
	}
	bs->rules = grown;
	bs->rules[bs->nrules++] = r;
	qsort(bs->rules, bs->nrules, sizeof *bs->rules, rule_cmp);
}

const char *
budgets_route(struct budgets *bs, const char *user, const char *key_id,
    const struct budget_tag *tags, int ntags)
{
	const struct rule *r;
	size_t i;
	int t, hit;

	for (i = 0; i < bs->nrules; i++) {
		r = &bs->rules[i];
		hit = (r->match == 'u' && user != NULL &&
		    strcmp(user, r->value) == 0) ||
		    (r->match == 'k' && strcmp(key_id, r->value) == 0);
		for (t = 0; !hit && r->match == 't' && t < ntags; t++)
			hit = strcmp(tags[t].key, r->tag) == 0 &&
			    strcmp(tags[t].value, r->value) == 0;
		if (hit && budgets_cost_center_ok(bs, r->cost_center))
			return r->cost_center;
	}
	return NULL;
}

/* Budget definitions. */

static const char *
opt(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

int
budgets_def_from_row(PGresult *res, int row, int col, struct budget_def *d,
    json_t **keep)
{
	/* The caller copies d (budget_set_put) before the next call. */
	static struct budget_tag tagbuf[BUDGET_TAGS_MAX];
	json_t *tags, *th, *v;
	const char *k;
	size_t i;

	memset(d, 0, sizeof *d);
	*keep = NULL;
	d->id = atoll(PQgetvalue(res, row, col));
	d->name = PQgetvalue(res, row, col + 1);
	d->cost_center = PQgetvalue(res, row, col + 2);
	d->user = (char *)opt(res, row, col + 3);
	d->provider = (char *)opt(res, row, col + 4);
	d->model = (char *)opt(res, row, col + 5);
	d->period = budget_period_parse(PQgetvalue(res, row, col + 7));
	d->time_zone = PQgetvalue(res, row, col + 8);
	d->amount = atoll(PQgetvalue(res, row, col + 9));
	d->hard = strcmp(PQgetvalue(res, row, col + 10), "hard") == 0;
	d->strict = strcmp(PQgetvalue(res, row, col + 11), "strict") == 0;
	d->cost_per_minute = atoll(PQgetvalue(res, row, col + 13));
	d->tokens_per_minute = atoll(PQgetvalue(res, row, col + 14));
	d->fail_open = strcmp(PQgetvalue(res, row, col + 15), "fail_open") == 0;
	d->burn_pause_amount = atoll(PQgetvalue(res, row, col + 18));
	d->burn_pause_minutes = atoi(PQgetvalue(res, row, col + 19));
	d->paused = *PQgetvalue(res, row, col + 20) == 't';
	d->tags = tagbuf;
	tags = json_loads(PQgetvalue(res, row, col + 6), 0, NULL);
	th = json_loads(PQgetvalue(res, row, col + 12), 0, NULL);
	if (tags == NULL || th == NULL || d->period < 0 ||
	    json_object_size(tags) > BUDGET_TAGS_MAX) {
		json_decref(tags);
		json_decref(th);
		return -1;
	}
	json_object_foreach(tags, k, v) {
		d->tags[d->ntags].key = k;
		d->tags[d->ntags].value = json_string_value(v) != NULL ?
		    json_string_value(v) : "";
		d->ntags++;
	}
	json_array_foreach(th, i, v)
		if (d->nthresholds < BUDGET_THRESHOLDS_MAX)
			d->thresholds_ppm[d->nthresholds++] =
			    (int32_t)(json_number_value(v) * 1e6 + 0.5);
	json_decref(th);
	*keep = tags;
	return 0;
}

/* Add, replace or (deleted) drop the budgets of budgets_load.sql rows. */
static void
budget_rows(struct budgets *bs, PGresult *res)
{
	struct budget_def d;
	json_t *keep;
	int i;

	for (i = 0; i < PQntuples(res); i++) {
		bs->budgets_since = atoll(PQgetvalue(res, i, 17));
		if (*PQgetvalue(res, i, 16) == 't') {
			budget_set_remove(bs->set, atoll(PQgetvalue(res, i, 0)));
			continue;
		}
		if (budgets_def_from_row(res, i, 0, &d, &keep) != 0) {
			log_error("event=budget_unreadable id=%s",
			    PQgetvalue(res, i, 0));
			continue;
		}
		if (budget_set_put(bs->set, &d) == NULL)
			log_error("event=budget_oom id=%lld", (long long)d.id);
		json_decref(keep);
	}
}

/* Spend. */

static int
snapshot_sees(const char *snap, uint64_t xid)
{
	unsigned long long xmin, xmax, x;
	const char *p;
	char *end;

	if (sscanf(snap, "%llu:%llu:", &xmin, &xmax) != 2)
		return 0;
	if (xid < xmin)
		return 1;
	if (xid >= xmax)
		return 0;
	p = strchr(strchr(snap, ':') + 1, ':') + 1;
	while (*p != '\0') {
		x = strtoull(p, &end, 10);
		if (end == p)
			break;
		if (x == xid)
			return 0;
		p = *end == ',' ? end + 1 : end;
	}
	return 1;
}

static void
read_free(struct spend_read *rd)
{
	int i;

	for (i = 0; i < rd->n; i++)
		free(rd->seen[i]);
	free(rd->ids);
	free(rd->gen);
	free(rd->lo);
	free(rd->hi);
	free(rd->seen);
	free(rd->nseen);
	free(rd->capseen);
	free(rd);
}

/* The rows of budget_spend.sql: each budget's spend, plus what its
 * snapshot could not see. */
static void
spend_rows(struct spend_read *rd, PGresult *res)
{
	struct budget *b;
	int64_t spent;
	size_t k;
	int i, j;

	for (i = 0; i < PQntuples(res); i++) {
		int64_t id = atoll(PQgetvalue(res, i, 0));

		for (j = 0; j < rd->n && rd->ids[j] != id; j++)
			;
		b = budget_set_get(rd->bs->set, id);
		if (j == rd->n || b == NULL || b->period_lo != rd->lo[j] ||
		    b->gen != rd->gen[j])
			continue;
		spent = atoll(PQgetvalue(res, i, 1));
		for (k = 0; k < rd->nseen[j]; k++)
			if (!snapshot_sees(PQgetvalue(res, i, 2),
			    rd->seen[j][k].xid) &&
			    rd->seen[j][k].at_us >= rd->lo[j] &&
			    rd->seen[j][k].at_us < rd->hi[j])
				spent += rd->seen[j][k].cost;
		b->spent = spent;
		b->loaded = 1;
		if (rd->row != NULL)
			rd->row(rd->arg, b, res, i);
	}
}

static void
unlink_read(struct spend_read *rd)
{
	struct spend_read **p;

	for (p = &rd->bs->reads; *p != NULL; p = &(*p)->next)
		if (*p == rd) {
			*p = rd->next;
			break;
		}
}

static void
spend_cb(void *arg, const struct db_result *res)
{
	struct spend_read *rd = arg;

	unlink_read(rd);
	if (res->status == DB_OK)
		spend_rows(rd, res->res);
	else
		log_warn("event=budget_spend_failed error=\"%s\"", res->message);
	if (rd->done != NULL)
		rd->done(rd->arg, res->status == DB_OK);
	read_free(rd);
}

static void
time_param(int64_t us, char *buf)
{
	if (us == INT64_MIN)
		strcpy(buf, "-infinity");
	else if (us == INT64_MAX)
		strcpy(buf, "infinity");
	else
		ledger_time_format(us, buf);
}

/* Ids (times 0) or period bounds as an array parameter. */
static const char *
pg_array(struct pgarr *a, const int64_t *v, int n, int times)
{
	char t[LEDGER_TIME_BUFSZ + 8];
	int i;

	pgarr_init(a);
	for (i = 0; i < n; i++) {
		if (times) {
			time_param(v[i], t);
			pgarr_text(a, t);
		} else
			pgarr_int(a, v[i]);
	}
	return pgarr_finish(a);
}

static struct spend_read *
read_new(struct budgets *bs, struct budget **b, int n)
{
	struct spend_read *rd = calloc(1, sizeof *rd);
	int i;

	if (rd == NULL)
		return NULL;
	rd->bs = bs;
	rd->n = n;
	rd->ids = calloc((size_t)n, sizeof *rd->ids);
	rd->gen = calloc((size_t)n, sizeof *rd->gen);
	rd->lo = calloc((size_t)n, sizeof *rd->lo);
	rd->hi = calloc((size_t)n, sizeof *rd->hi);
	rd->seen = calloc((size_t)n, sizeof *rd->seen);
	rd->nseen = calloc((size_t)n, sizeof *rd->nseen);
	rd->capseen = calloc((size_t)n, sizeof *rd->capseen);
	if (rd->ids == NULL || rd->gen == NULL || rd->lo == NULL ||
	    rd->hi == NULL ||
	    rd->seen == NULL || rd->nseen == NULL || rd->capseen == NULL) {
		read_free(rd);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		rd->ids[i] = b[i]->d.id;
		rd->gen[i] = b[i]->gen;
		rd->lo[i] = b[i]->period_lo;
		rd->hi[i] = b[i]->period_hi;
	}
	return rd;
}

/* The ids, period starts and ends of a read, into p (owned by a, which
 * the caller frees with read_params_free). */
static int
read_params(struct spend_read *rd, struct pgarr *a, const char **p)
{
	p[0] = pg_array(&a[0], rd->ids, rd->n, 0);
	p[1] = pg_array(&a[1], rd->lo, rd->n, 1);
	p[2] = pg_array(&a[2], rd->hi, rd->n, 1);
	return p[0] != NULL && p[1] != NULL && p[2] != NULL ? 0 : -1;
}

static void
read_params_free(struct pgarr *a)
{
	pgarr_free(&a[0]);
	pgarr_free(&a[1]);
	pgarr_free(&a[2]);
}

int
budgets_read_with(struct budgets *bs, struct budget **b, int n,
    const char *stmt, const char *const *pre, int npre,
    const char *const *post, int npost,
    void (*row)(void *, struct budget *, PGresult *, int),
    void (*done)(void *, int), void *arg)
{
	struct spend_read *rd;
	struct pgarr own[3];
	const char *p[16];
	int i, rc = -1;

	if (npre + npost + 3 > (int)(sizeof p / sizeof p[0]) ||
	    (rd = read_new(bs, b, n)) == NULL)
		return -1;
	if (read_params(rd, own, p + npre) != 0) {
		read_free(rd);
		goto out;
	}
	for (i = 0; i < npre; i++)
		p[i] = pre[i];
	for (i = 0; i < npost; i++)
		p[npre + 3 + i] = post[i];
	/* Linked first: the callback may run before db_query returns. */
	rd->stmt = stmt;
	rd->row = row;
	rd->done = done;
	rd->arg = arg;
	rd->next = bs->reads;
	bs->reads = rd;
	if (db_query(bs->srv->db, stmt, npre + 3 + npost, p, spend_cb,
	    rd) != 0) {
		unlink_read(rd);
		read_free(rd);
		goto out;
	}
	rc = 0;
out:
	read_params_free(own);
	return rc;
}

void
budgets_read_spend(struct budgets *bs, struct budget *b,
    void (*done)(void *, int), void *arg)
{
	if (budgets_read_with(bs, &b, 1, "budget_spend", NULL, 0, NULL, 0,
	    NULL, done, arg) != 0 && done != NULL)
		done(arg, 0);
}

static int
reading(struct budgets *bs, int64_t id)
{
	struct spend_read *rd;
	int i;

	for (rd = bs->reads; rd != NULL; rd = rd->next)
		for (i = 0; i < rd->n; i++)
			if (rd->ids[i] == id)
				return 1;
	return 0;
}

int
budgets_ready(struct budgets *bs, struct budget *b, int64_t now_us)
{
	if (b->period_hi == 0 || now_us >= b->period_hi)
		budget_roll(b, now_us, tz_offset, NULL);
	if (b->loaded)
		return 0;
	if (!reading(bs, b->d.id))
		budgets_read_spend(bs, b, NULL, NULL);
	return -1;
}

/* Remember a booking for the reads in flight of budgets it falls under. */
static void
note_seen(struct budgets *bs, struct budget **m, int n, uint64_t xid,
    int64_t at_us, int64_t cost)
{
	struct spend_read *rd;
	struct seen *grown;
	int i, j;

	for (rd = bs->reads; rd != NULL; rd = rd->next)
		for (i = 0; i < rd->n; i++)
			for (j = 0; j < n; j++) {
				if (m[j]->d.id != rd->ids[i])
					continue;
				if (rd->nseen[i] == rd->capseen[i]) {
					size_t cap = rd->capseen[i] ?
					    rd->capseen[i] * 2 : 16;

					grown = realloc(rd->seen[i],
					    cap * sizeof *grown);
					if (grown == NULL)
						continue;
					rd->seen[i] = grown;
					rd->capseen[i] = cap;
				}
				rd->seen[i][rd->nseen[i]].xid = xid;
				rd->seen[i][rd->nseen[i]].at_us = at_us;
				rd->seen[i][rd->nseen[i]++].cost = cost;
			}
}

/* Reservations: hashes by id and by (key, request id), and a heap by the
 * time each next needs attention (expiry while held, forgetting once
 * ended). */

static int64_t
next_event(const struct reservation *r)
{
	if (r->state == RSV_HELD)
		return r->expires_us;
	if (r->forget_at != 0)
		return r->forget_at;
	return (r->ended_us > r->expires_us ? r->ended_us : r->expires_us) +
	    RETAIN_US;
}

static void
heap_swap(struct budgets *bs, size_t a, size_t b)
{
	struct reservation *t = bs->heap[a];

	bs->heap[a] = bs->heap[b];
	bs->heap[b] = t;
	bs->heap[a]->heap_i = a;
	bs->heap[b]->heap_i = b;
}

static void
heap_fix(struct budgets *bs, size_t i)
{
	size_t c;

	while (i > 0 && next_event(bs->heap[i]) <
	    next_event(bs->heap[(i - 1) / 2])) {
		heap_swap(bs, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		c = 2 * i + 1;
		if (c >= bs->nheap)
			break;
		if (c + 1 < bs->nheap && next_event(bs->heap[c + 1]) <
		    next_event(bs->heap[c]))
			c++;
		if (next_event(bs->heap[c]) >= next_event(bs->heap[i]))
			break;
		heap_swap(bs, i, c);
		i = c;
	}
}

static int
heap_push(struct budgets *bs, struct reservation *r)
{
	struct reservation **grown;

	if (bs->nheap == bs->capheap) {
		size_t cap = bs->capheap ? bs->capheap * 2 : 1024;

		if ((grown = realloc(bs->heap, cap * sizeof *grown)) == NULL)
			return -1;
		bs->heap = grown;
		bs->capheap = cap;
	}
	r->heap_i = bs->nheap;
	bs->heap[bs->nheap++] = r;
	heap_fix(bs, r->heap_i);
	return 0;
}


struct reservation *
budgets_reservation(struct budgets *bs, const char *id)
{
	struct reservation *r = bs->by_id[fnv(id, NULL) % RSV_BUCKETS];

	while (r != NULL && strcmp(r->id, id) != 0)
		r = r->id_next;
	return r;
}

struct reservation *
budgets_by_request(struct budgets *bs, const char *key_id,
    const char *request_id)
{
	struct reservation *r = bs->by_req[fnv(key_id, request_id) %
	    RSV_BUCKETS];

	while (r != NULL && !(strcmp(r->key_id, key_id) == 0 &&
	    strcmp(r->request_id, request_id) == 0))
		r = r->req_next;
	return r;
}

static void
rsv_index(struct budgets *bs, struct reservation *r)
{
	uint64_t h = fnv(r->id, NULL) % RSV_BUCKETS;

	r->id_next = bs->by_id[h];
	bs->by_id[h] = r;
	if (r->request_id != NULL) {
		h = fnv(r->key_id, r->request_id) % RSV_BUCKETS;
		r->req_next = bs->by_req[h];
		bs->by_req[h] = r;
	}
}

static void
rsv_forget(struct budgets *bs, struct reservation *r)
{
	struct reservation **p;

	for (p = &bs->by_id[fnv(r->id, NULL) % RSV_BUCKETS]; *p != NULL;
	    p = &(*p)->id_next)
		if (*p == r) {
			*p = r->id_next;
			break;
		}
	if (r->request_id != NULL)
		for (p = &bs->by_req[fnv(r->key_id, r->request_id) %
		    RSV_BUCKETS]; *p != NULL; p = &(*p)->req_next)
			if (*p == r) {
				*p = r->req_next;
				break;
			}
	free(r->request_id);
	free(r->cost_center);
	free(r->budgets);
	free(r);
}

/* Hold (sign 1) or let go of (sign -1) r's amount on its budgets that
 * still exist. */
static void
rsv_apply(struct budgets *bs, struct reservation *r, int sign, int64_t now_us)
{
	struct budget *b[BUDGET_MATCH_MAX];
	int i, n = 0;

	for (i = 0; i < r->nbudgets; i++)
		if ((b[n] = budget_set_get(bs->set, r->budgets[i])) != NULL)
			n++;
	budget_hold(b, n, sign * r->amount, sign > 0 ? r->tokens : 0, now_us);
}

static struct reservation *
rsv_new(struct budgets *bs, const char *id, const char *key_id,
    const char *request_id, const char *cc)
{
	struct reservation *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	snprintf(r->id, sizeof r->id, "%s", id);
	snprintf(r->key_id, sizeof r->key_id, "%s", key_id != NULL ? key_id : "");
	r->cost_center = strdup(cc);
	r->request_id = request_id != NULL ? strdup(request_id) : NULL;
	if (r->cost_center == NULL || (request_id != NULL &&
	    r->request_id == NULL) || heap_push(bs, r) != 0) {
		free(r->cost_center);
		free(r->request_id);
		free(r);
		return NULL;
	}
	rsv_index(bs, r);
	return r;
}

struct reservation *
budgets_reserve(struct budgets *bs, struct budget **b, int n,
    const char *key_id, const char *request_id, const char *cc,
    int64_t amount, int64_t tokens, int64_t max_output, int64_t ttl_s)
{
	char id[RSV_ID_LEN + 1], hex[25];
	struct reservation *r;
	int64_t now = http_wall_now_us();
	int i;

	/* The time in milliseconds, then 48 random bits: ids made one after
	 * the other sort together, so that their index in PostgreSQL grows
	 * at its end rather than at random pages. */
	if (bs->rnd_used + 6 > sizeof bs->rnd) {
		if (RAND_bytes(bs->rnd, sizeof bs->rnd) != 1)
			return NULL;
		bs->rnd_used = 0;
	}
	snprintf(hex, 13, "%012llx", (unsigned long long)(now / 1000) &
	    0xffffffffffffULL);
	keys_hex(bs->rnd + bs->rnd_used, 6, hex + 12);
	bs->rnd_used += 6;
	snprintf(id, sizeof id, "rsv_%s", hex);
	if ((r = rsv_new(bs, id, key_id, request_id, cc)) == NULL)
		return NULL;
	if (n > 0 && (r->budgets = calloc((size_t)n, sizeof *r->budgets)) ==
	    NULL) {
		(void)budgets_end(bs, r, RSV_RELEASED, 0);
		return NULL;
	}
	r->nbudgets = n;
	for (i = 0; i < n; i++)
		r->budgets[i] = b[i]->d.id;
	r->amount = amount;
	r->tokens = tokens;
	r->max_output = max_output;
	r->created_us = now;
	r->expires_us = now + ttl_s * 1000000;
	r->state = RSV_HELD;
	heap_fix(bs, r->heap_i);
	budget_hold(b, n, amount, tokens, now);
	rsv_write_mark(bs->writer, r);
	return r;
}

int
budgets_end(struct budgets *bs, struct reservation *r, int state,
    int64_t actual)
{
	if (r->state != RSV_HELD)
		return -1;
	r->ended_us = http_wall_now_us();
	rsv_apply(bs, r, -1, r->ended_us);
	/* An expired call may yet have been settled on another instance:
	 * its hold stays spent from the lease until the next grant reads
	 * the ledger. */
	if (state == RSV_EXPIRED) {
		struct budget *b;
		int i;

		for (i = 0; i < r->nbudgets; i++)
			if ((b = budget_set_get(bs->set, r->budgets[i])) != NULL)
				b->lease_used += r->amount;
	}
	r->state = state;
	r->actual = actual;
	heap_fix(bs, r->heap_i);
	rsv_write_mark(bs->writer, r);
	if (state == RSV_SETTLED && actual > r->amount) {
		struct budget *b;
		int i;

		/* The money was spent: it is booked in full, and said. */
		for (i = 0; i < r->nbudgets; i++)
			if ((b = budget_set_get(bs->set, r->budgets[i])) != NULL)
				b->overshoot += actual - r->amount;
		bs->overshoots++;
		log_warn("event=reservation_overshoot id=%s reserved=%lld "
		    "actual=%lld", r->id, (long long)r->amount,
		    (long long)actual);
	}
	return 0;
}

void
budgets_each_reservation(struct budgets *bs,
    void (*fn)(struct reservation *, void *), void *arg)
{
	size_t i;

	for (i = 0; i < bs->nheap; i++)
		fn(bs->heap[i], arg);
}

/* Bookings. */

static void
trip_cb(void *arg, const struct db_result *res)
{
	(void)arg;
	if (res->status != DB_OK)
		log_error("event=budget_pause_unwritten error=\"%s\"",
		    res->message);
}

/* Spending too fast: the budget pauses now, here, and in the record (and
 * so on other instances and after a restart) once written. */
static void
trip(struct budgets *bs, struct budget *b)
{
	const char *p[2];
	char id[24], at[LEDGER_TIME_BUFSZ];

	b->d.paused = 1;
	log_warn("event=budget_paused id=%lld reason=anomaly",
	    (long long)b->d.id);
	snprintf(id, sizeof id, "%lld", (long long)b->d.id);
	ledger_time_format(http_wall_now_us(), at);
	p[0] = id;
	p[1] = at;
	if (db_query(bs->srv->db, "budget_trip", 2, p, trip_cb, NULL) != 0)
		log_error("event=budget_pause_unwritten id=%s", id);
}

/* An id as budgets_reserve makes them (events may name anything). */
static int
rsv_id_ok(const char *id)
{
	return strlen(id) == RSV_ID_LEN && strncmp(id, "rsv_", 4) == 0 &&
	    strspn(id + 4, "0123456789abcdef") == RSV_ID_LEN - 4;
}

void
budgets_booked_event(struct budgets *bs, const struct budget_booked *b)
{
	struct budget_tag tags[BUDGET_TAGS_MAX * 4];
	struct budget *m[BUDGET_MATCH_MAX];
	struct budget_subject subj;
	struct reservation *r;
	const char *k;
	json_t *v;
	int n = 0, i;

	memset(&subj, 0, sizeof subj);
	subj.cost_center = b->cost_center;
	subj.provider = b->provider;
	subj.model = b->model;
	subj.user = b->user;
	json_object_foreach(b->tags, k, v) {
		if (n == BUDGET_TAGS_MAX * 4 || !json_is_string(v))
			continue;
		tags[n].key = k;
		tags[n++].value = json_string_value(v);
	}
	subj.ntags = n;
	subj.tags = tags;
	n = budget_match(bs->set, &subj, m, BUDGET_MATCH_MAX);
	if (bs->reads != NULL)
		note_seen(bs, m, n, b->xid, b->at_us, b->cost);
	budget_spend_on(m, n, b->at_us, b->cost);
	for (i = 0; i < n; i++)
		if (!m[i]->d.paused &&
		    budget_burn_tripped(m[i], http_wall_now_us()))
			trip(bs, m[i]);
	if (b->reservation == NULL)
		return;
	if ((r = budgets_reservation(bs, b->reservation)) != NULL)
		(void)budgets_end(bs, r, RSV_SETTLED, b->cost);
	else if (rsv_id_ok(b->reservation))
		/* Made on another instance: tell it (tick_cb). */
		evbuffer_add_printf(bs->remote, "%s:%lld,", b->reservation,
		    (long long)b->cost);
}

void
budgets_booked(struct budgets *bs, PGresult *res, int row, int col_cost,
    int c)
{
	struct budget_booked b;
	const char *tags = opt(res, row, c + 5);

	b.cost = atoll(PQgetvalue(res, row, col_cost));
	b.cost_center = PQgetvalue(res, row, c);
	b.at_us = atoll(PQgetvalue(res, row, c + 1));
	b.provider = PQgetvalue(res, row, c + 2);
	b.model = PQgetvalue(res, row, c + 3);
	b.user = opt(res, row, c + 4);
	b.tags = tags != NULL && *tags != '\0' ? json_loads(tags, 0, NULL) :
	    NULL;
	b.reservation = opt(res, row, c + 6);
	b.xid = strtoull(PQgetvalue(res, row, c + 7), NULL, 10);
	budgets_booked_event(bs, &b);
	json_decref(b.tags);
}

void
budgets_settled_elsewhere(struct budgets *bs, const char *list)
{
	struct reservation *r;
	char id[RSV_ID_LEN + 1];
	long long cost;
	int n, i;

	for (;;) {
		n = 0;
		if (sscanf(list, "%28[^:]:%lld,%n", id, &cost, &n) != 2 || n == 0)
			break;
		list += n;
		if ((r = budgets_reservation(bs, id)) == NULL ||
		    r->state != RSV_HELD)
			continue;
		(void)budgets_end(bs, r, RSV_SETTLED, cost);
		/* Booked elsewhere: this instance's lease counts it too, in
		 * place of the hold it ends (twice over is the safe side). */
		for (i = 0; i < r->nbudgets; i++) {
			struct budget *b = budget_set_get(bs->set, r->budgets[i]);

			if (b != NULL)
				b->lease_used += cost;
		}
	}
}

static void
notify_cb(void *arg, const struct db_result *res)
{
	(void)arg;
	if (res->status != DB_OK)
		log_warn("event=settle_notify_failed error=\"%s\"",
		    res->message);
}

/* Tell the other instances which of their reservations were settled
 * here, in notifications under PostgreSQL's payload limit. */
static void
notify_remote(struct budgets *bs)
{
	char chunk[7800];
	const char *p[1];
	size_t len, cut;
	char *all;

	while ((len = evbuffer_get_length(bs->remote)) > 0) {
		all = (char *)evbuffer_pullup(bs->remote, (ssize_t)(len <
		    sizeof chunk ? len : sizeof chunk));
		cut = len < sizeof chunk ? len : sizeof chunk - 1;
		while (cut > 0 && all[cut - 1] != ',')
			cut--;
		if (cut == 0) {
			evbuffer_drain(bs->remote, len);
			return;
		}
		memcpy(chunk, all, cut);
		chunk[cut] = '\0';
		evbuffer_drain(bs->remote, cut);
		p[0] = chunk;
		if (db_query(bs->srv->db, "reservations_settled_notify", 1, p,
		    notify_cb, NULL) != 0)
			log_warn("event=settle_notify_failed n=1");
	}
}

/* Expire, forget, write. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct budgets *bs = arg;
	struct reservation *r;
	int64_t now = http_wall_now_us();

	(void)fd;
	(void)what;
	while (bs->nheap > 0 && next_event(r = bs->heap[0]) <= now) {
		if (r->state == RSV_HELD) {
			(void)budgets_end(bs, r, RSV_EXPIRED, 0);
			continue;
		}
		/* Not written yet (the database may be away): forget it
		 * later, and go on expiring the holds behind it. */
		if (r->dirty || r->writing) {
			r->forget_at = now + 1000000;
			heap_fix(bs, r->heap_i);
			continue;
		}
		bs->heap[0] = bs->heap[--bs->nheap];
		if (bs->nheap > 0) {
			bs->heap[0]->heap_i = 0;
			heap_fix(bs, 0);
		}
		rsv_forget(bs, r);
	}
	rsv_write_some(bs->writer);
	notify_remote(bs);
}

static void
cc_poll_cb(void *arg, const struct db_result *res)
{
	struct budgets *bs = arg;

	if (res->status == DB_OK)
		cc_rows(bs, res->res);
}

static void
rules_poll_cb(void *arg, const struct db_result *res)
{
	if (res->status == DB_OK)
		rules_load(arg, PQgetvalue(res->res, 0, 0));
}

static void
budgets_poll_cb(void *arg, const struct db_result *res)
{
	struct budgets *bs = arg;

	bs->polling = 0;
	if (res->status == DB_OK)
		budget_rows(bs, res->res);
	if (bs->poll_again) {
		bs->poll_again = 0;
		event_active(bs->poll, EV_TIMEOUT, 0);
	}
}

void
budgets_changed(struct budgets *bs)
{
	/* A poll under way may have read before the change committed. */
	if (bs->polling)
		bs->poll_again = 1;
	else if (bs->poll != NULL)
		event_active(bs->poll, EV_TIMEOUT, 0);
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct budgets *bs = arg;
	char cc_since[24], b_since[24];
	const char *p[1];

	(void)fd;
	(void)what;
	if (bs->polling)
		return;
	snprintf(cc_since, sizeof cc_since, "%lld", (long long)bs->cc_since);
	snprintf(b_since, sizeof b_since, "%lld", (long long)bs->budgets_since);
	p[0] = cc_since;
	if (db_query(bs->srv->db, "cost_centers_live", 1, p, cc_poll_cb,
	    bs) != 0 || db_query(bs->srv->db, "allocation_rule_list", 0, NULL,
	    rules_poll_cb, bs) != 0)
		return;
	p[0] = b_since;
	/* Set first: the callback may run before db_query returns. */
	bs->polling = 1;
	if (db_query(bs->srv->db, "budgets_load", 1, p, budgets_poll_cb,
	    bs) != 0)
		bs->polling = 0;
}

/* Loading at start. */

static PGresult *
exec_sync(PGconn *conn, const char *name, int n, const char *const *p,
    char *err, size_t errsz)
{
	PGresult *res = PQexecParams(conn, db_statement_text(name), n, NULL, p,
	    NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errsz, "%s: %s", name, PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

struct load_ctx {
	struct budget **all;
	int n, cap;
	int64_t now;
};

static void
collect(struct budget *b, void *arg)
{
	struct load_ctx *c = arg;

	budget_roll(b, c->now, tz_offset, NULL);
	if (c->n < c->cap)
		c->all[c->n++] = b;
}

static int
load_spend_sync(struct budgets *bs, PGconn *conn, char *err, size_t errsz)
{
	struct load_ctx c;
	struct spend_read *rd;
	struct pgarr a[3];
	const char *p[3];
	PGresult *res;
	int rc = -1;

	c.cap = (int)budget_set_count(bs->set) + 1;
	c.n = 0;
	c.now = http_wall_now_us();
	if ((c.all = calloc((size_t)c.cap, sizeof *c.all)) == NULL)
		return -1;
	budget_set_each(bs->set, collect, &c);
	if ((rd = read_new(bs, c.all, c.n)) == NULL) {
		free(c.all);
		return -1;
	}
	if (read_params(rd, a, p) == 0 &&
	    (res = exec_sync(conn, "budget_spend", 3, p, err, errsz)) != NULL) {
		spend_rows(rd, res);
		PQclear(res);
		rc = 0;
	}
	read_free(rd);
	read_params_free(a);
	free(c.all);
	return rc;
}

static void
reservation_rows(struct budgets *bs, PGresult *res)
{
	struct reservation *r;
	const char *ids;
	int i, n;

	for (i = 0; i < PQntuples(res); i++) {
		r = rsv_new(bs, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    opt(res, i, 2), PQgetvalue(res, i, 3));
		if (r == NULL)
			continue;
		/* A logged hold has no row in `reservations` yet. */
		r->stored = PQgetvalue(res, i, 9)[0] == '1';
		ids = PQgetvalue(res, i, 4);
		if ((n = pgarr_read_ints(ids, NULL, 0)) < 1 || (r->budgets =
		    calloc((size_t)n, sizeof *r->budgets)) == NULL)
			continue;
		r->nbudgets = pgarr_read_ints(ids, r->budgets, (size_t)n);
		r->amount = atoll(PQgetvalue(res, i, 5));
		r->max_output = atoll(PQgetvalue(res, i, 6));
		r->created_us = atoll(PQgetvalue(res, i, 7));
		r->expires_us = atoll(PQgetvalue(res, i, 8));
		r->state = RSV_HELD;
		heap_fix(bs, r->heap_i);
		rsv_apply(bs, r, 1, r->created_us);
	}
}

int
budgets_load_sync(struct budgets *bs, PGconn *conn, char *err, size_t errsz)
{
	const char *zero[1] = { "0" }, *p[1];
	PGresult *res;

	if ((res = exec_sync(conn, "cost_centers_live", 1, zero, err,
	    errsz)) == NULL)
		return -1;
	cc_rows(bs, res);
	PQclear(res);
	if ((res = exec_sync(conn, "allocation_rule_list", 0, NULL, err,
	    errsz)) == NULL)
		return -1;
	rules_load(bs, PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((res = exec_sync(conn, "budgets_load", 1, zero, err, errsz)) == NULL)
		return -1;
	budget_rows(bs, res);
	PQclear(res);
	if (load_spend_sync(bs, conn, err, errsz) != 0)
		return -1;
	p[0] = bs->srv->cfg.instance;
	if ((res = exec_sync(conn, "reservations_load", 1, p, err,
	    errsz)) == NULL)
		return -1;
	reservation_rows(bs, res);
	PQclear(res);
	/* The results read at start are freed: give their memory back. */
	malloc_trim(0);
	return 0;
}

int
budgets_start(struct budgets *bs)
{
	struct timeval tick = { 0, TICK_MS * 1000 };
	struct timeval poll = { POLL_MS / 1000, (POLL_MS % 1000) * 1000 };

	bs->tick = event_new(bs->srv->base, -1, EV_PERSIST, tick_cb, bs);
	bs->poll = event_new(bs->srv->base, -1, EV_PERSIST, poll_cb, bs);
	if (bs->tick == NULL || bs->poll == NULL ||
	    event_add(bs->tick, &tick) != 0 || event_add(bs->poll, &poll) != 0)
		return -1;
	return 0;
}

void
budgets_stop(struct budgets *bs)
{
	if (bs == NULL)
		return;
	if (bs->tick != NULL)
		event_free(bs->tick);
	if (bs->poll != NULL)
		event_free(bs->poll);
	bs->tick = bs->poll = NULL;
	rsv_write_stop(bs->writer);
}

void
budgets_free(struct budgets *bs)
{
	struct cc_entry *e, *next;
	struct spend_read *rd;
	size_t i;

	if (bs == NULL)
		return;
	while ((rd = bs->reads) != NULL) {
		bs->reads = rd->next;
		read_free(rd);
	}
	for (i = 0; i < bs->nheap; i++) {
		free(bs->heap[i]->request_id);
		free(bs->heap[i]->cost_center);
		free(bs->heap[i]->budgets);
		free(bs->heap[i]);
	}
	for (i = 0; i < CC_BUCKETS; i++)
		for (e = bs->ccs[i]; e != NULL; e = next) {
			next = e->next;
			free(e->id);
			free(e);
		}
	for (i = 0; i < bs->nrules; i++)
		rule_free(&bs->rules[i]);
	if (bs->remote != NULL)
		evbuffer_free(bs->remote);
	free(bs->rules);
	free(bs->heap);
	rsv_write_free(bs->writer);
	budget_set_free(bs->set);
	free(bs);
}

void
budgets_count_decision(struct budgets *bs, int decision)
{
	if (decision >= 0 && decision < 3)
		bs->decisions[decision]++;
}

void
budgets_render_metrics(struct budgets *bs, struct evbuffer *out)
{
	size_t i, live = 0;

	for (i = 0; i < bs->nheap; i++)
		live += bs->heap[i]->state == RSV_HELD;
	evbuffer_add_printf(out,
	    "# TYPE tollgate_decisions_total counter\n"
	    "tollgate_decisions_total{decision=\"allow\"} %llu\n"
	    "tollgate_decisions_total{decision=\"throttle\"} %llu\n"
	    "tollgate_decisions_total{decision=\"pause\"} %llu\n"
	    "# TYPE tollgate_reservations_live gauge\n"
	    "tollgate_reservations_live %zu\n"
	    "# TYPE tollgate_reservation_overshoot_total counter\n"
	    "tollgate_reservation_overshoot_total %llu\n"
	    "# TYPE tollgate_reservations_unwritten gauge\n"
	    "tollgate_reservations_unwritten %zu\n"
	    "# TYPE tollgate_budgets gauge\n"
	    "tollgate_budgets %zu\n",
	    (unsigned long long)bs->decisions[BD_ALLOW],
	    (unsigned long long)bs->decisions[BD_THROTTLE],
	    (unsigned long long)bs->decisions[BD_PAUSE], live,
	    (unsigned long long)bs->overshoots, rsv_write_pending(bs->writer),
	    budget_set_count(bs->set));
}
