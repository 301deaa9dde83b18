/*
 * api_reports.c - GET /v1/reports/spend: spend grouped by cost center,
 * provider, model, user or a tag, per hour, day, week or month (UTC), over
 * any window, for a cost center's subtree.
 *
 * Groupings the rollups keep (cost center, provider, model, and a user
 * or a tag with them, or a user and a tag with a cost center or none,
 * over whole UTC days; or per hour without user or tag, over whole
 * hours) are read from them, so a year costs what its days cost; the
 * others (a user and a tag with a provider or a model, users or tags
 * per hour, windows cut inside a day) from the events.
 * Both give the same figures: the rollups are maintained in the same
 * transaction as the events, corrections included. The rows are written
 * as text by spend_rows.c.
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
 * when one keeps what is asked for, else report_spend_events.
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

/* Run the spend query for [from, to) (has_* 0: open) at a granularity,
 * from the rollups when they suffice. The callback may run at once; -1
 * when the database was unavailable and the request answered. */
static int
query_spend(struct tg_req *r, const struct spend_q *q, int has_from,
    int64_t from_us, int has_to, int64_t to_us, const char *gran,
    const char *cc, db_cb cb)
{
	char from[LEDGER_TIME_BUFSZ], to[LEDGER_TIME_BUFSZ], meters[256];
	const char *params[10];
	size_t len = 0;
	int i;

	meters[len++] = '{';
	for (i = 0; i < PM_COUNT; i++)
		len += (size_t)snprintf(meters + len, sizeof meters - len, "%s%s",
		    i ? "," : "", pricing_meter_name(i));
	snprintf(meters + len, sizeof meters - len, "}");
	ledger_time_format(from_us, from);
	ledger_time_format(to_us, to);
	params[0] = has_from ? from : NULL;
	params[1] = has_to ? to : NULL;
	for (i = 0; i < 4; i++)
		params[2 + i] = q->by[i] ? "true" : "false";
	params[6] = q->tag;
	params[7] = gran;
	params[8] = cc;
	params[9] = meters;
	return http_query(r, spend_query(q, has_from, from_us, has_to, to_us,
	    gran, cc), 10, params, cb);
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

/* Send the report: its head, the rows' text (r->state, freed here),
 * and its tail (the total and the movers), without the grouping that
 * rode along in the draft. */
static void
reply_spend(struct tg_req *r)
{
	json_t *reply = r->draft, *tail;
	struct evbuffer *rows = r->state, *out = evbuffer_new();
	char *head, *rest;

	r->state = NULL;
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
	    "tag together without provider or model, per day, week or month "
	    "over whole UTC days (whole hours per hour, without user or tag), "
	    "or narrow from and to", r->srv->cfg.db_statement_timeout_ms);
}

/* The previous window's spend: the groups that moved most, either way. */
static void
movers_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	json_t *reply = r->draft, *groups = json_object(), *g, *list;
	json_t **v;
	struct spend_q q;
	char key[1024];
	const char *k;
	size_t i, n = 0, top;

	if (res->status != DB_OK) {
		json_decref(groups);
		evbuffer_free(r->state);
		r->state = NULL;
		spend_failed(r, res);
		return;
	}
	q_from_draft(reply, &q);
	top = (size_t)json_integer_value(json_object_get(reply, "_top"));
	json_object_update(groups, json_object_get(reply, "_groups"));
	for (i = 0; i < (size_t)PQntuples(res->res); i++) {
		json_t *prev = row_json(res->res, (int)i, &q);

		dims_key(prev, &q, key, sizeof key);
		g = group_for(groups, prev, key);
		json_object_set_new(g, "_before", json_integer(
		    atoll(PQgetvalue(res->res, (int)i, 6))));
		json_decref(prev);
	}
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
spend_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct spend_q q;
	struct evbuffer *rows;
	json_t *reply = r->draft, *groups = NULL, *row, *g;
	int64_t from_us, to_us, total[3];
	const char *why, *f, *t;
	char key[1024];
	int i;

	if (res->status != DB_OK) {
		spend_failed(r, res);
		return;
	}
	if ((rows = evbuffer_new()) == NULL) {
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	q_from_draft(reply, &q);
	f = json_string_value(json_object_get(reply, "from"));
	t = json_string_value(json_object_get(reply, "to"));
	/* Movers compare the groups' costs with the window just before. */
	if (json_object_get(reply, "_top") != NULL && f != NULL && t != NULL)
		groups = json_object();
	if (spend_rows_write(rows, res->res, q.by, q.tag != NULL, total) != 0) {
		json_decref(groups);
		evbuffer_free(rows);
		http_reply_error(r, 500, "internal_error", NULL,
		    "a sum of the report does not fit 64 bits");
		return;
	}
	for (i = 0; groups != NULL && i < PQntuples(res->res); i++) {
		row = row_json(res->res, i, &q);
		dims_key(row, &q, key, sizeof key);
		g = group_for(groups, row, key);
		json_object_set_new(g, "_now", json_integer(json_integer_value(
		    json_object_get(g, "_now")) + atoll(PQgetvalue(res->res, i,
		    6))));
		json_decref(row);
	}
	json_object_set_new(reply, "_total", json_pack("{s:o, s:o, s:I}",
	    "cost", api_money(total[0]), "list_cost", api_money(total[1]),
	    "events", (json_int_t)total[2]));
	r->state = rows;
	if (groups != NULL &&
	    ledger_time_parse(f, strlen(f), &from_us, &why) == 0 &&
	    ledger_time_parse(t, strlen(t), &to_us, &why) == 0) {
		json_object_set_new(reply, "_groups", groups);
		if (query_spend(r, &q, 1, from_us - (to_us - from_us), 1,
		    from_us, "none", json_string_value(json_object_get(reply,
		    "_cc")), movers_cb) != 0) {
			/* Replied 503 already. */
			evbuffer_free(rows);
		}
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
	    "source", strcmp(spend_query(&q, has_from, from_us, has_to, to_us,
	    g != NULL ? g : "none", cc), "report_spend_events") != 0 ?
	    "rollups" : "events",
	    "_by", q.by[0], q.by[1], q.by[2], q.by[3], "_tag", q.tag,
	    "_cc", cc);
	if (top != NULL)
		json_object_set_new(r->draft, "_top", json_integer(atoi(top)));
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
