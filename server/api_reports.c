/*
 * api_reports.c - GET /v1/reports/spend: spend grouped by cost center,
 * provider, model, user or a tag, per hour, day, week or month (UTC), over
 * any window, for a cost center's subtree.
 *
 * Groupings the rollups keep (cost center, provider, model, and a user
 * or a tag with them, or a user and a tag with a cost center or none,
 * per day, week, month or window; or per hour without user or tag) are
 * read from them, so a year costs what its days cost; the others (a user
 * and a tag with a provider or a model, users or tags per hour, windows
 * without a whole UTC day, or hour per hour) from the events. A window
 * cut inside a day (an hour per hour) is read in parts (spend_plan), in
 * one snapshot: its whole days (hours) from the rollups, and its edges,
 * the part days before the first and after the last, from the hourly
 * rollup and their events, or as whole days less the events outside the
 * window; the source is "rollups" then. The parts give the same figures
 * as the events of the whole window: the rollups are maintained in the
 * same transaction as the events, corrections included, and each edge's
 * groups are added into the same periods' groups of the whole days. The
 * rows are written as text by spend_rows.c.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "ledger/ledger.h"
#include "pricing/pricing.h"
#include "reports/forecast.h"
#include "reports/reconcile.h"
#include "server/api.h"
#include "server/spend_rows.h"

#define DAY_US (86400LL * 1000000)
#define HOUR_US (3600LL * 1000000)

struct spend_q {
	int by[4];			/* cost_center, provider, model, user */
	const char *tag;		/* tag key, or NULL */
	char tagbuf[72];
};

/* One query of a read: stmt over [from, to) (has_* 0: open), or with
 * edges set the events of [from, e[0]) and [e[1], to) only; its rows
 * count sign times (-1: taken away from whole days). */
struct spend_part {
	const char *stmt;
	int has_from, has_to, edges, sign;
	int64_t from_us, to_us, e[2];
};

/* A read of one window (the report's, then the movers' one before it),
 * in r->state across its queries, run one after the other. */
struct spend_read {
	struct evbuffer *rows;		/* the report's rows, while the movers
					 * are read */
	struct spend_part part[SPEND_ROWS_MAX_RESULTS];
	PGresult *got[SPEND_ROWS_MAX_RESULTS];	/* copies, the last part's
					 * aside */
	int nparts, next;
	const char *gran, *cc;
	void (*done)(struct tg_req *r, PGresult *const res[],
	    const int sign[], int n);
	struct db_held *held;		/* the parts' snapshot, while read */
};

/* group_by: a comma list of cost_center, provider, model, user,
 * tag:<key>; -1 when replied. */
static int
parse_group_by(struct tg_req *r, const char *v, struct spend_q *q)
{
	const char *p = v, *end;
	size_t n, i;

	while (v != NULL && *p != '\0') {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < 4; i++)
			if (strlen(spend_dims[i]) == n &&
			    strncmp(p, spend_dims[i], n) == 0)
				break;
		if (i < 4)
			q->by[i] = 1;
		else if (n > 4 && n - 4 < 65 && strncmp(p, "tag:", 4) == 0 &&
		    q->tag == NULL) {
			memcpy(q->tagbuf, p + 4, n - 4);
			q->tagbuf[n - 4] = '\0';
			q->tag = q->tagbuf;
		} else {
			http_reply_error(r, 400, "invalid_parameter", "group_by",
			    "group_by is a comma list of cost_center, provider, "
			    "model, user and one tag:<key>");
			return -1;
		}
		p = end != NULL ? end + 1 : p + n;
	}
	return 0;
}

/* Row i's dimensions, which key its group among the movers. */
static json_t *
row_json(PGresult *res, int i, const struct spend_q *q)
{
	json_t *o = json_object();
	int d;

	for (d = 0; d < 4; d++)
		if (q->by[d])
			json_object_set_new(o, spend_dims[d],
			    PQgetisnull(res, i, d) ? json_null() :
			    json_string(PQgetvalue(res, i, d)));
	if (q->tag != NULL)
		json_object_set_new(o, "tag", PQgetisnull(res, i, 4) ?
		    json_null() : json_string(PQgetvalue(res, i, 4)));
	return o;
}

/* The grouping asked for, back from the draft it rode along in. */
static void
q_from_draft(json_t *draft, struct spend_q *q)
{
	int i;

	memset(q, 0, sizeof *q);
	for (i = 0; i < 4; i++)
		q->by[i] = json_is_true(json_array_get(json_object_get(draft,
		    "_by"), (size_t)i));
	if (json_is_string(json_object_get(draft, "_tag"))) {
		snprintf(q->tagbuf, sizeof q->tagbuf, "%s", json_string_value(
		    json_object_get(draft, "_tag")));
		q->tag = q->tagbuf;
	}
}

/* A user and a tag with a provider or a model: no rollup keeps the four
 * (per user, tag value and model it would hold about a row per event). */
static int
user_tag_by_model(const struct spend_q *q)
{
	return q->by[3] && q->tag != NULL && (q->by[1] || q->by[2]);
}

/* The query that answers [from, to) at a granularity: one over a rollup
 * when one keeps what is asked for, else report_spend_events (a window
 * cut inside a day is read in parts by spend_plan, each on whole days or
 * hours where it asks this).
 * Without providers or models, the rollup per cost center and day holds
 * a fifth of the rows. With them and cost centers per day, about as many
 * groups as rows: the daily rollup's rows are read as they stand and
 * added up by spend_rows_write (75 ms for a year by cost center and
 * model, 170 hashed); fewer groups hash faster. A user or a tag has a
 * rollup of its own (0020), and the two together one without provider
 * and model (0026). Hours have a rollup per
 * cost center, provider and model (0020), for windows on whole hours,
 * and sums without cost centers (0024) for reports over all of them.
 * Per week, per month and for a whole window, the rollup queries read
 * the weeks and months whole in the window from their folded sums
 * (0024) unless a booking marked them since, the other days as days. */
static const char *
spend_query(const struct spend_q *q, int has_from, int64_t from_us,
    int has_to, int64_t to_us, const char *gran, const char *cc)
{
	if (strcmp(gran, "hour") == 0)
		return q->by[3] || q->tag != NULL ||
		    (has_from && from_us % HOUR_US != 0) ||
		    (has_to && to_us % HOUR_US != 0) ? "report_spend_events" :
		    !q->by[0] && cc == NULL ? "report_spend_hourly_totals" :
		    "report_spend_hourly";
	if ((has_from && from_us % DAY_US != 0) ||
	    (has_to && to_us % DAY_US != 0) || user_tag_by_model(q))
		return "report_spend_events";
	if (q->by[3] && q->tag != NULL)
		return "report_spend_user_tag";
	if (q->by[3])
		return "report_spend_user";
	if (q->tag != NULL)
		return "report_spend_tag";
	if (!q->by[1] && !q->by[2])
		return "report_spend_cc";
	return q->by[0] && strcmp(gran, "day") == 0 ? "report_spend_daily" :
	    "report_spend_rollup";
}

/* floor(t / unit) * unit, for times before 1970 too. */
static int64_t
floor_to(int64_t t, int64_t unit)
{
	return t - ((t % unit) + unit) % unit;
}

static int64_t
ceil_to(int64_t t, int64_t unit)
{
	return -floor_to(-t, unit);
}

static struct spend_part *
plan_add(struct spend_part *p, int *n, const char *stmt, int has_from,
    int64_t from_us, int has_to, int64_t to_us, int sign)
{
	struct spend_part *x = &p[(*n)++];

	memset(x, 0, sizeof *x);
	x->stmt = stmt;
	x->has_from = has_from;
	x->from_us = from_us;
	x->has_to = has_to;
	x->to_us = to_us;
	x->sign = sign;
	return x;
}

/* The events of the edges [a, b) and [c, d) (either empty), each inside
 * one UTC day, as a part; none when both are empty. */
static void
plan_events(struct spend_part *p, int *n, int64_t a, int64_t b, int64_t c,
    int64_t d, int sign)
{
	struct spend_part *x;

	if (a >= b && c >= d)
		return;
	/* An empty edge as the other's day's empty range. */
	x = plan_add(p, n, "report_spend_events", 1, a < b ? a : c, 1,
	    c < d ? d : b, sign);
	x->edges = 1;
	x->e[0] = a < b ? b : c;
	x->e[1] = c < d ? c : b;
}

/*
 * The queries that read [from, to) (has_* 0: open) at a granularity;
 * their count. One: the rollup query that serves the window, or the
 * events' when none does (a grouping without a rollup, a window without
 * a whole UTC day, or hour per hour). Else the whole days (hours) from
 * the rollup query and the edges, the part days before and after them,
 * last the whole days:
 * - per hour, the edges' events;
 * - without user or tag, the whole hours of the edges from the hourly
 *   rollup and the rest from the events: no more than two part hours;
 * - by user or tag, which have no hourly rollup, each edge's events, or
 *   its whole day less the events of the day outside the window where
 *   those are fewer (a window from 05:00 reads five hours of events,
 *   not nineteen).
 */
static int
spend_plan(const struct spend_q *q, int has_from, int64_t from_us,
    int has_to, int64_t to_us, const char *gran, const char *cc,
    struct spend_part p[SPEND_ROWS_MAX_RESULTS])
{
	int64_t unit = strcmp(gran, "hour") == 0 ? HOUR_US : DAY_US;
	int64_t lo = has_from ? ceil_to(from_us, unit) : from_us;
	int64_t hi = has_to ? floor_to(to_us, unit) : to_us;
	int64_t hlo, hhi, mlo = lo, mhi = hi;
	const char *mid = spend_query(q, has_from, lo, has_to, hi, gran, cc);
	int n = 0, sub_head, sub_tail;

	if ((lo == from_us && hi == to_us) || (has_from && has_to &&
	    lo >= hi) || strcmp(mid, "report_spend_events") == 0) {
		plan_add(p, &n, spend_query(q, has_from, from_us, has_to, to_us,
		    gran, cc), has_from, from_us, has_to, to_us, 1);
		return n;
	}
	/* An open end is on whole days: its edge is empty. */
	if (!has_from)
		from_us = lo = mlo = hi;
	if (!has_to)
		to_us = hi = mhi = lo;
	if (unit == HOUR_US)
		plan_events(p, &n, from_us, lo, hi, to_us, 1);
	else if (!q->by[3] && q->tag == NULL) {
		hlo = ceil_to(from_us, HOUR_US);
		hhi = floor_to(to_us, HOUR_US);
		plan_events(p, &n, from_us, hlo, hhi, to_us, 1);
		if (hlo < lo)
			plan_add(p, &n, "report_spend_hourly", 1, hlo, 1, lo, 1);
		if (hi < hhi)
			plan_add(p, &n, "report_spend_hourly", 1, hi, 1, hhi, 1);
	} else {
		sub_head = from_us - (lo - DAY_US) < lo - from_us;
		sub_tail = hi + DAY_US - to_us < to_us - hi;
		plan_events(p, &n, from_us, sub_head ? from_us : lo, hi,
		    sub_tail ? hi : to_us, 1);
		plan_events(p, &n, lo - DAY_US, sub_head ? from_us : lo - DAY_US,
		    to_us, sub_tail ? hi + DAY_US : to_us, -1);
		mlo = sub_head ? lo - DAY_US : lo;
		mhi = sub_tail ? hi + DAY_US : hi;
	}
	plan_add(p, &n, mid, has_from, mlo, has_to, mhi, 1);
	return n;
}

/* What the report says it read: "rollups" when its whole days (hours)
 * came from them, its edges perhaps from their events. */
static const char *
spend_source(const struct spend_q *q, int has_from, int64_t from_us,
    int has_to, int64_t to_us, const char *gran, const char *cc)
{
	struct spend_part p[SPEND_ROWS_MAX_RESULTS];
	int n = spend_plan(q, has_from, from_us, has_to, to_us, gran, cc, p);

	return strcmp(p[n - 1].stmt, "report_spend_events") != 0 ?
	    "rollups" : "events";
}

/* The spend read's state freed, r->state with it. */
static void
read_free(struct tg_req *r)
{
	struct spend_read *rd = r->state;
	int i;

	if (rd == NULL)
		return;
	db_release(rd->held);
	if (rd->rows != NULL)
		evbuffer_free(rd->rows);
	for (i = 0; i < SPEND_ROWS_MAX_RESULTS; i++)
		PQclear(rd->got[i]);
	free(rd);
	r->state = NULL;
}

static void spend_failed(struct tg_req *r, const struct db_result *res);
static void read_cb(void *arg, const struct db_result *res);
static int read_next(struct tg_req *r);

/* The snapshot of a read in parts is open: read them in it. */
static void
snapshot_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct spend_read *rd = r->state;

	if (res->status != DB_OK) {
		read_free(r);
		http_reply_db_failure(r, res);
		return;
	}
	rd->held = res->held;
	(void)read_next(r);
}

/* Run the read's next part. -1 when the database was unavailable: the
 * request is answered and the read freed. */
static int
read_next(struct tg_req *r)
{
	struct spend_read *rd = r->state;
	const struct spend_part *x = &rd->part[rd->next];
	char t[4][LEDGER_TIME_BUFSZ], meters[256];
	const char *params[12];
	size_t len = 0;
	struct spend_q q;
	int i, n;

	/* The parts of one window are read in one snapshot: a booking
	 * between two reads would be in one part and not the other, and a
	 * whole day less its events outside the window could even come out
	 * negative. */
	if (rd->nparts > 1 && rd->held == NULL) {
		if (db_query_hold(r->srv->db, "tx_snapshot", 0, NULL,
		    snapshot_cb, r) == 0)
			return 0;
		read_free(r);
		http_reply_unavailable(r);
		return -1;
	}
	q_from_draft(r->draft, &q);
	meters[len++] = '{';
	for (i = 0; i < PM_COUNT; i++)
		len += (size_t)snprintf(meters + len, sizeof meters - len, "%s%s",
		    i ? "," : "", pricing_meter_name(i));
	snprintf(meters + len, sizeof meters - len, "}");
	ledger_time_format(x->from_us, t[0]);
	ledger_time_format(x->to_us, t[1]);
	ledger_time_format(x->e[0], t[2]);
	ledger_time_format(x->e[1], t[3]);
	params[0] = x->has_from ? t[0] : NULL;
	params[1] = x->has_to ? t[1] : NULL;
	for (i = 0; i < 4; i++)
		params[2 + i] = q.by[i] ? "true" : "false";
	params[6] = q.tag;
	params[7] = rd->gran;
	params[8] = rd->cc;
	params[9] = meters;
	params[10] = x->edges ? t[2] : NULL;
	params[11] = x->edges ? t[3] : NULL;
	n = strcmp(x->stmt, "report_spend_events") == 0 ? 12 : 10;
	if ((rd->held == NULL ? db_query(r->srv->db, x->stmt, n, params,
	    read_cb, r) : db_query_held(rd->held, x->stmt, n, params, read_cb,
	    r)) == 0)
		return 0;
	/* The read freed before the reply, which frees the request. */
	read_free(r);
	http_reply_unavailable(r);
	return -1;
}

/* A part read: kept (a copy) while the next is read; with the last,
 * all are handed to the read's done. */
static void
read_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct spend_read *rd = r->state;
	PGresult *got[SPEND_ROWS_MAX_RESULTS];
	int sign[SPEND_ROWS_MAX_RESULTS], i, n = rd->nparts;

	if (res->status != DB_OK) {
		read_free(r);
		spend_failed(r, res);
		return;
	}
	if (++rd->next < n) {
		rd->got[rd->next - 1] = PQcopyResult(res->res,
		    PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
		if (rd->got[rd->next - 1] == NULL) {
			read_free(r);
			http_reply_error(r, 500, "internal_error", NULL,
			    "out of memory");
			return;
		}
		(void)read_next(r);
		return;
	}
	/* done may start the next read: the snapshot is given back and the
	 * copies are handed over. */
	db_release(rd->held);
	rd->held = NULL;
	for (i = 0; i < n; i++) {
		got[i] = i < n - 1 ? rd->got[i] : res->res;
		sign[i] = rd->part[i].sign;
		rd->got[i] = NULL;
	}
	rd->done(r, got, sign, n);
	for (i = 0; i < n - 1; i++)
		PQclear(got[i]);
}

/* Read the spend of [from, to) (has_* 0: open) at a granularity, from the
 * rollups as far as they serve it (spend_plan), then call done with the
 * results and their signs. The callback may run at once; -1 when the
 * database was unavailable: the request is answered and the read
 * (r->state) freed. */
static int
query_spend(struct tg_req *r, const struct spend_q *q, int has_from,
    int64_t from_us, int has_to, int64_t to_us, const char *gran,
    const char *cc, void (*done)(struct tg_req *, PGresult *const [],
    const int [], int))
{
	struct spend_read *rd = r->state;

	rd->gran = gran;
	rd->cc = cc;
	rd->done = done;
	rd->next = 0;
	rd->nparts = spend_plan(q, has_from, from_us, has_to, to_us, gran, cc,
	    rd->part);
	return read_next(r);
}

/* A row's dimensions as one key, for matching rows across windows. */
static void
dims_key(json_t *row, const struct spend_q *q, char *key, size_t keysz)
{
	json_t *v;
	int d;

	key[0] = '\0';
	for (d = 0; d < 5; d++) {
		if (!spend_dim_shown(q->by, q->tag != NULL, d))
			continue;
		v = json_object_get(row, d < 4 ? spend_dims[d] : "tag");
		snprintf(key + strlen(key), keysz - strlen(key), "%s%s",
		    json_is_string(v) ? json_string_value(v) : "\x01", "\x02");
	}
}

/* Largest change first; ties in the order of the groups' keys. */
static int
by_change(const void *a, const void *b)
{
	json_t *ga = *(json_t *const *)a, *gb = *(json_t *const *)b;
	int64_t x = json_integer_value(json_object_get(ga, "_abs"));
	int64_t y = json_integer_value(json_object_get(gb, "_abs"));

	if (x != y)
		return (x < y) - (x > y);
	return strcmp(json_string_value(json_object_get(ga, "_key")),
	    json_string_value(json_object_get(gb, "_key")));
}

/* The group of a row in groups (made from the row on first sight). */
static json_t *
group_for(json_t *groups, json_t *row, const char *key)
{
	json_t *g = json_object_get(groups, key);

	if (g != NULL)
		return g;
	g = json_deep_copy(row);
	json_object_set_new(g, "_now", json_integer(0));
	json_object_set_new(g, "_before", json_integer(0));
	json_object_set_new(groups, key, g);
	return g;
}

/* Add each row's cost of the results (times their signs) to its group's
 * figure k ("_now", "_before"), groups made on first sight. */
static void
groups_add(json_t *groups, const char *k, PGresult *const parts[],
    const int sign[], int nparts, const struct spend_q *q)
{
	char key[1024];
	json_t *row, *g;
	int p, i;

	for (p = 0; p < nparts; p++)
		for (i = 0; i < PQntuples(parts[p]); i++) {
			row = row_json(parts[p], i, q);
			dims_key(row, q, key, sizeof key);
			g = group_for(groups, row, key);
			json_object_set_new(g, k, json_integer(
			    json_integer_value(json_object_get(g, k)) +
			    sign[p] * atoll(PQgetvalue(parts[p], i, 6))));
			json_decref(row);
		}
}

/* Send the report: its head, the rows' text (the read's, freed here),
 * and its tail (the total and the movers), without the grouping that
 * rode along in the draft. */
static void
reply_spend(struct tg_req *r)
{
	json_t *reply = r->draft, *tail;
	struct spend_read *rd = r->state;
	struct evbuffer *rows = rd->rows, *out = evbuffer_new();
	char *head, *rest;

	rd->rows = NULL;
	read_free(r);
	tail = json_pack("{s:O}", "total", json_object_get(reply, "_total"));
	if (json_object_get(reply, "movers") != NULL)
		json_object_set(tail, "movers", json_object_get(reply, "movers"));
	json_object_del(reply, "_by");
	json_object_del(reply, "_tag");
	json_object_del(reply, "_top");
	json_object_del(reply, "_cc");
	json_object_del(reply, "_total");
	json_object_del(reply, "_groups");
	json_object_del(reply, "movers");
	head = json_dumps(reply, JSON_COMPACT);
	rest = json_dumps(tail, JSON_COMPACT);
	json_decref(tail);
	if (out == NULL || rows == NULL || head == NULL || rest == NULL) {
		free(head);
		free(rest);
		if (rows != NULL)
			evbuffer_free(rows);
		if (out != NULL)
			evbuffer_free(out);
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	/* {head..,"rows":[rows],tail..}: head without its '}', tail
	 * without its '{'. */
	evbuffer_add(out, head, strlen(head) - 1);
	evbuffer_add_printf(out, ",\"rows\":[");
	evbuffer_add_buffer(out, rows);
	evbuffer_add_printf(out, "],%s\n", rest + 1);
	free(head);
	free(rest);
	evbuffer_free(rows);
	http_reply_buffer(r, 200, "application/json", out);
	evbuffer_free(out);
}

/* A failed spend read. One that read the events themselves and ran out
 * of time will run out again (it reads every event of the window, and a
 * year may hold millions): say so, and what reads the rollups instead,
 * rather than that the database is busy. */
static void
spend_failed(struct tg_req *r, const struct db_result *res)
{
	const char *src = json_string_value(json_object_get(r->draft,
	    "source")), *gran;
	struct spend_q q;

	if (res->status != DB_ERROR || strcmp(res->sqlstate, "57014") != 0 ||
	    src == NULL || strcmp(src, "events") != 0) {
		http_reply_db_failure(r, res);
		return;
	}
	q_from_draft(r->draft, &q);
	gran = http_param(r, "granularity");
	http_reply_error(r, 422, "report_too_large", user_tag_by_model(&q) ?
	    "group_by" : gran != NULL && strcmp(gran, "hour") == 0 &&
	    (q.by[3] || q.tag != NULL) ? "granularity" : "from",
	    "this report reads each event of its window, which did not "
	    "finish within the statement timeout (%d ms): group a user and a "
	    "tag together without provider or model (per hour, neither), or "
	    "take a window holding a whole UTC day, or narrow from and to",
	    r->srv->cfg.db_statement_timeout_ms);
}

/* The previous window's spend: the groups that moved most, either way. */
static void
movers_cb(struct tg_req *r, PGresult *const parts[], const int sign[],
    int nparts)
{
	json_t *reply = r->draft, *groups = json_object(), *list;
	json_t **v, *g;
	struct spend_q q;
	const char *k;
	size_t i, n = 0, top;

	q_from_draft(reply, &q);
	top = (size_t)json_integer_value(json_object_get(reply, "_top"));
	json_object_update(groups, json_object_get(reply, "_groups"));
	groups_add(groups, "_before", parts, sign, nparts, &q);
	v = calloc(json_object_size(groups) + 1, sizeof *v);
	json_object_foreach(groups, k, g) {
		int64_t d = json_integer_value(json_object_get(g, "_now")) -
		    json_integer_value(json_object_get(g, "_before"));

		json_object_set_new(g, "_abs", json_integer(d < 0 ? -d : d));
		json_object_set_new(g, "_key", json_string(k));
		if (v != NULL && d != 0)
			v[n++] = g;
	}
	if (v != NULL)
		qsort(v, n, sizeof *v, by_change);
	list = json_array();
	for (i = 0; i < n && i < top; i++) {
		g = json_deep_copy(v[i]);
		json_object_set_new(g, "cost", api_money(json_integer_value(
		    json_object_get(g, "_now"))));
		json_object_set_new(g, "previous_cost", api_money(
		    json_integer_value(json_object_get(g, "_before"))));
		json_object_set_new(g, "change", api_money(json_integer_value(
		    json_object_get(g, "_now")) - json_integer_value(
		    json_object_get(g, "_before"))));
		json_object_del(g, "_now");
		json_object_del(g, "_before");
		json_object_del(g, "_abs");
		json_object_del(g, "_key");
		json_array_append_new(list, g);
	}
	free(v);
	json_decref(groups);
	json_object_set_new(reply, "movers", list);
	reply_spend(r);
}

static void
spend_cb(struct tg_req *r, PGresult *const parts[], const int sign[],
    int nparts)
{
	struct spend_read *rd = r->state;
	struct spend_q q;
	json_t *reply = r->draft, *groups = NULL;
	int64_t from_us, to_us, total[3];
	const char *why, *f, *t;

	if ((rd->rows = evbuffer_new()) == NULL) {
		read_free(r);
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	q_from_draft(reply, &q);
	f = json_string_value(json_object_get(reply, "from"));
	t = json_string_value(json_object_get(reply, "to"));
	/* Movers compare the groups' costs with the window just before. */
	if (json_object_get(reply, "_top") != NULL && f != NULL && t != NULL)
		groups = json_object();
	if (spend_rows_write(rd->rows, parts, sign, nparts, q.by,
	    q.tag != NULL, total) != 0) {
		json_decref(groups);
		read_free(r);
		http_reply_error(r, 500, "internal_error", NULL,
		    "a sum of the report does not fit 64 bits");
		return;
	}
	if (groups != NULL)
		groups_add(groups, "_now", parts, sign, nparts, &q);
	json_object_set_new(reply, "_total", json_pack("{s:o, s:o, s:I}",
	    "cost", api_money(total[0]), "list_cost", api_money(total[1]),
	    "events", (json_int_t)total[2]));
	if (groups != NULL &&
	    ledger_time_parse(f, strlen(f), &from_us, &why) == 0 &&
	    ledger_time_parse(t, strlen(t), &to_us, &why) == 0) {
		json_object_set_new(reply, "_groups", groups);
		/* -1: replied 503, the read freed. */
		(void)query_spend(r, &q, 1, from_us - (to_us - from_us), 1,
		    from_us, "none", json_string_value(json_object_get(reply,
		    "_cc")), movers_cb);
		return;
	}
	json_decref(groups);
	reply_spend(r);
}

void
api_report_spend(struct tg_req *r)
{
	static const char *const grains[] = { "hour", "day", "week", "month",
	    NULL };
	const char *g = http_param(r, "granularity");
	const char *cc = http_param(r, "cost_center");
	const char *top = http_param(r, "top");
	int64_t from_us = 0, to_us = 0;
	int has_from, has_to, i;
	struct spend_q q;

	if (api_param_time(r, "from", &from_us, &has_from) != 0 ||
	    api_param_time(r, "to", &to_us, &has_to) != 0)
		return;
	if (has_from && has_to && to_us <= from_us) {
		http_reply_error(r, 400, "invalid_parameter", "to",
		    "to must be after from");
		return;
	}
	for (i = 0; g != NULL && grains[i] != NULL && strcmp(g, grains[i]) != 0;
	    i++)
		;
	if (g != NULL && grains[i] == NULL) {
		http_reply_error(r, 400, "invalid_parameter", "granularity",
		    "granularity is hour, day, week or month");
		return;
	}
	if (cc != NULL && (*cc == '\0' || strlen(cc) > 190)) {
		http_reply_error(r, 400, "invalid_parameter", "cost_center",
		    "cost_center names a cost center");
		return;
	}
	if (top != NULL && (strspn(top, "0123456789") != strlen(top) ||
	    *top == '\0' || strlen(top) > 4 || atoi(top) < 1 || !has_from ||
	    !has_to)) {
		http_reply_error(r, 400, "invalid_parameter", "top",
		    "top is 1 to 9999, with from and to (the window compared "
		    "with the one just before it)");
		return;
	}
	memset(&q, 0, sizeof q);
	if (parse_group_by(r, http_param(r, "group_by"), &q) != 0)
		return;
	/* The grouping rides along in the draft to the callbacks. */
	r->draft = json_pack("{s:o, s:o, s:s, s:s, s:[b, b, b, b], s:s?, "
	    "s:s?}", "from", has_from ? api_time(from_us) : json_null(),
	    "to", has_to ? api_time(to_us) : json_null(), "currency", "USD",
	    "source", spend_source(&q, has_from, from_us, has_to, to_us,
	    g != NULL ? g : "none", cc),
	    "_by", q.by[0], q.by[1], q.by[2], q.by[3], "_tag", q.tag,
	    "_cc", cc);
	if (top != NULL)
		json_object_set_new(r->draft, "_top", json_integer(atoi(top)));
	if ((r->state = calloc(1, sizeof(struct spend_read))) == NULL) {
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	(void)query_spend(r, &q, has_from, from_us, has_to, to_us,
	    g != NULL ? g : "none", cc, spend_cb);
}

/* GET /v1/reports/forecast?cost_center=: the month's spend so far, its
 * pace, and where it ends on the 14-day trend and by weekday. */
static void
forecast_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	int64_t cost[FORECAST_DAYS] = { 0 };
	const char *as_of = json_string_value(json_object_get(r->draft, "as_of"));
	int64_t y;
	int m, d, last_m, last_d, i, idx;
	struct forecast f;
	char month[16];
	json_t *reply = r->draft;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	for (i = 0; i < PQntuples(res->res); i++) {
		idx = atoi(PQgetvalue(res->res, i, 0));
		if (idx >= 0 && idx < FORECAST_DAYS)
			cost[idx] = atoll(PQgetvalue(res->res, i, 1));
	}
	/* The day the query was asked for, not a later clock reading. */
	y = atoll(as_of);
	m = atoi(as_of + 5);
	d = atoi(as_of + 8);
	/* The month's last day: the day before the next month's first. */
	ledger_civil_from_days(ledger_days_from_civil(m == 12 ? y + 1 : y,
	    m == 12 ? 1 : m + 1, 1) - 1, &y, &last_m, &last_d);
	(void)last_m;
	forecast_month(cost, FORECAST_DAYS - d, last_d - d + 1, &f);
	snprintf(month, sizeof month, "%04lld-%02d", (long long)y, m);
	json_object_set_new(reply, "month", json_string(month));
	json_object_set_new(reply, "spent", api_money(f.spent));
	json_object_set_new(reply, "burn_rate_per_day", api_money(f.burn_per_day));
	json_object_set_new(reply, "trend_per_day", api_money(f.slope_per_day));
	json_object_set_new(reply, "forecast_at_month_end", json_pack(
	    "{s:o, s:o}", "linear", api_money(f.linear), "weekday",
	    api_money(f.weekday)));
	r->draft = NULL;
	http_reply_json(r, 200, reply);
}

void
api_report_forecast(struct tg_req *r)
{
	const char *cc = http_param(r, "cost_center");
	char today[16];
	const char *params[2];
	int64_t y;
	int m, d;

	if (cc == NULL || *cc == '\0' || strlen(cc) > 190) {
		http_reply_error(r, 400, cc == NULL ? "missing_parameter" :
		    "invalid_parameter", "cost_center",
		    "cost_center names a cost center");
		return;
	}
	ledger_civil_from_days(http_wall_now_us() / DAY_US, &y, &m, &d);
	snprintf(today, sizeof today, "%04lld-%02d-%02d", (long long)y, m, d);
	params[0] = cc;
	params[1] = today;
	r->draft = json_pack("{s:s, s:s, s:s}", "cost_center", cc, "as_of",
	    today, "currency", "USD");
	(void)http_query(r, "report_forecast", 2, params, forecast_cb);
}

/* POST /v1/reconcile?provider=: the provider's export beside the ledger,
 * per day x model. */
struct recon {
	struct recon_row *rows;
	size_t n;
	int has[RQ_COUNT];
};

static json_t *
recon_json(const char *date, const char *model, const struct recon_row *p,
    const int has[RQ_COUNT], int64_t lcost, const int64_t lq[RQ_COUNT])
{
	json_t *o, *pq = json_object(), *lqj = json_object();
	int64_t pcost = p != NULL ? p->cost : 0;
	int k;

	for (k = 0; k < RQ_COUNT; k++) {
		json_object_set_new(lqj, reconcile_columns[k],
		    json_integer(lq[k]));
		if (has[k])
			json_object_set_new(pq, reconcile_columns[k],
			    json_integer(p != NULL ? p->q[k] : 0));
	}
	o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "date", date,
	    "model", model, "provider_cost", api_money(pcost), "ledger_cost",
	    api_money(lcost), "difference", api_money(pcost - lcost),
	    "provider_tokens", pq, "ledger_tokens", lqj);
	return o;
}

static void
reconcile_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct recon *rc = r->state;
	json_t *rows = json_array(), *reply = r->draft;
	int64_t lq[RQ_COUNT], zero[RQ_COUNT] = { 0 }, pt = 0, lt = 0, lcost;
	size_t i = 0;
	int j = 0, k, c, diffs = 0, nl;

	if (res->status != DB_OK) {
		json_decref(rows);
		free(rc->rows);
		free(rc);
		http_reply_db_failure(r, res);
		return;
	}
	nl = PQntuples(res->res);
	/* Both sides sorted by date, then model: merge them. */
	while (i < rc->n || j < nl) {
		const struct recon_row *p = i < rc->n ? &rc->rows[i] : NULL;
		json_t *row;

		if (p != NULL && j < nl) {
			c = strcmp(p->date, PQgetvalue(res->res, j, 0));
			if (c == 0)
				c = strcmp(p->model, PQgetvalue(res->res, j, 1));
		} else
			c = p != NULL ? -1 : 1;
		if (c > 0 || c == 0) {
			lcost = atoll(PQgetvalue(res->res, j, 2));
			for (k = 0; k < RQ_COUNT; k++)
				lq[k] = atoll(PQgetvalue(res->res, j, 3 + k));
		} else {
			lcost = 0;
			memcpy(lq, zero, sizeof lq);
		}
		row = recon_json(c <= 0 ? p->date : PQgetvalue(res->res, j, 0),
		    c <= 0 ? p->model : PQgetvalue(res->res, j, 1),
		    c <= 0 ? p : NULL, rc->has, lcost, lq);
		diffs += strcmp(json_string_value(json_object_get(row,
		    "difference")), "0.000000000") != 0;
		pt += c <= 0 ? p->cost : 0;
		lt += lcost;
		json_array_append_new(rows, row);
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	free(rc->rows);
	free(rc);
	json_object_set_new(reply, "rows", rows);
	json_object_set_new(reply, "total", json_pack("{s:o, s:o, s:o, s:i}",
	    "provider_cost", api_money(pt), "ledger_cost", api_money(lt),
	    "difference", api_money(pt - lt), "rows_differing", diffs));
	r->draft = NULL;
	http_reply_json(r, 200, reply);
}

void
api_reconcile(struct tg_req *r)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(r->ev);
	const char *provider = http_param(r, "provider"), *params[3];
	size_t len = evbuffer_get_length(body);
	char err[256], where[64];
	struct recon *rc;

	if (provider == NULL || *provider == '\0' ||
	    strlen(provider) > PRICING_PROVIDER_MAX) {
		http_reply_error(r, 400, provider == NULL ? "missing_parameter" :
		    "invalid_parameter", "provider", "provider names a provider");
		return;
	}
	if (len == 0) {
		http_reply_error(r, 400, "missing_body", NULL,
		    "the body is the provider's CSV export");
		return;
	}
	if ((rc = calloc(1, sizeof *rc)) == NULL) {
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	rc->rows = reconcile_parse((const char *)evbuffer_pullup(body, -1), len,
	    &rc->n, rc->has, err, sizeof err, where, sizeof where);
	if (rc->rows == NULL) {
		free(rc);
		http_reply_error(r, 400, "invalid_body", where[0] ? where : NULL,
		    "%s", err);
		return;
	}
	if (rc->n == 0) {
		free(rc->rows);
		free(rc);
		http_reply_error(r, 400, "invalid_body", NULL,
		    "the export has no rows");
		return;
	}
	params[0] = provider;
	params[1] = rc->rows[0].date;
	params[2] = rc->rows[rc->n - 1].date;
	r->state = rc;
	r->draft = json_pack("{s:s, s:s}", "provider", provider, "currency",
	    "USD");
	if (http_query(r, "reconcile_ledger", 3, params, reconcile_cb) != 0) {
		free(rc->rows);
		free(rc);
	}
}
