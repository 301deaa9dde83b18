/*
 * api_reports.c - GET /v1/reports/spend: spend grouped by cost center,
 * provider, model, user or a tag, per hour, day, week or month (UTC), over
 * any window, for a cost center's subtree.
 *
 * Groupings the daily rollups keep (cost center, provider, model; whole
 * UTC days) are read from them, so a year costs what its days cost; the
 * others (user, tag, hours, windows cut inside a day) from the events.
 * Both give the same figures: the rollups are maintained in the same
 * transaction as the events, corrections included.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "pricing/pricing.h"
#include "server/api.h"

#define DAY_US (86400LL * 1000000)

struct spend_q {
	int by[4];			/* cost_center, provider, model, user */
	const char *tag;		/* tag key, or NULL */
	const char *granularity;	/* none, hour, day, week, month */
	char tagbuf[72];
};

static const char *const dims[] = { "cost_center", "provider", "model",
	"user" };

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
			if (strlen(dims[i]) == n && strncmp(p, dims[i], n) == 0)
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

static json_t *
row_json(PGresult *res, int i, const struct spend_q *q, json_t *total)
{
	json_t *o = json_object();
	int64_t cost = atoll(PQgetvalue(res, i, 6));
	int64_t list = atoll(PQgetvalue(res, i, 7));
	int64_t events = atoll(PQgetvalue(res, i, 8));
	int d;

	for (d = 0; d < 4; d++)
		if (q->by[d])
			json_object_set_new(o, dims[d], PQgetisnull(res, i, d) ?
			    json_null() : json_string(PQgetvalue(res, i, d)));
	if (q->tag != NULL)
		json_object_set_new(o, "tag", PQgetisnull(res, i, 4) ?
		    json_null() : json_string(PQgetvalue(res, i, 4)));
	if (!PQgetisnull(res, i, 5))
		json_object_set_new(o, "period_start",
		    json_string(PQgetvalue(res, i, 5)));
	json_object_set_new(o, "cost", api_money(cost));
	json_object_set_new(o, "list_cost", api_money(list));
	json_object_set_new(o, "events", json_integer(events));
	json_object_set_new(o, "quantities", json_loads(PQgetvalue(res, i, 9),
	    0, NULL));
	json_object_set_new(total, "cost_nanos", json_integer(
	    json_integer_value(json_object_get(total, "cost_nanos")) + cost));
	json_object_set_new(total, "list_nanos", json_integer(
	    json_integer_value(json_object_get(total, "list_nanos")) + list));
	json_object_set_new(total, "events", json_integer(
	    json_integer_value(json_object_get(total, "events")) + events));
	return o;
}

static void
spend_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct spend_q q;
	json_t *rows, *total, *reply = r->draft;
	int i;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	/* The grouping asked for rode along in the draft. */
	memset(&q, 0, sizeof q);
	for (i = 0; i < 4; i++)
		q.by[i] = json_is_true(json_array_get(json_object_get(reply,
		    "_by"), (size_t)i));
	if (json_is_string(json_object_get(reply, "_tag"))) {
		snprintf(q.tagbuf, sizeof q.tagbuf, "%s", json_string_value(
		    json_object_get(reply, "_tag")));
		q.tag = q.tagbuf;
	}
	json_object_del(reply, "_by");
	json_object_del(reply, "_tag");
	rows = json_array();
	total = json_pack("{s:I, s:I, s:I}", "cost_nanos", (json_int_t)0,
	    "list_nanos", (json_int_t)0, "events", (json_int_t)0);
	for (i = 0; i < PQntuples(res->res); i++)
		json_array_append_new(rows, row_json(res->res, i, &q, total));
	json_object_set_new(reply, "rows", rows);
	json_object_set_new(reply, "total", json_pack("{s:o, s:o, s:O}",
	    "cost", api_money(json_integer_value(json_object_get(total,
	    "cost_nanos"))), "list_cost", api_money(json_integer_value(
	    json_object_get(total, "list_nanos"))), "events",
	    json_object_get(total, "events")));
	json_decref(total);
	r->draft = NULL;
	http_reply_json(r, 200, reply);
}

void
api_report_spend(struct tg_req *r)
{
	static const char *const grains[] = { "hour", "day", "week", "month",
	    NULL };
	char from[LEDGER_TIME_BUFSZ], to[LEDGER_TIME_BUFSZ], meters[256];
	const char *params[10], *g = http_param(r, "granularity");
	const char *cc = http_param(r, "cost_center");
	int64_t from_us = 0, to_us = 0;
	int has_from, has_to, i, rollup;
	struct spend_q sq, *q = &sq;
	size_t len = 0;

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
	memset(q, 0, sizeof *q);
	if (parse_group_by(r, http_param(r, "group_by"), q) != 0)
		return;
	q->granularity = g != NULL ? g : "none";
	rollup = !q->by[3] && q->tag == NULL &&
	    (g == NULL || strcmp(g, "hour") != 0) &&
	    (!has_from || from_us % DAY_US == 0) &&
	    (!has_to || to_us % DAY_US == 0);
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
	params[7] = q->granularity;
	params[8] = cc;
	params[9] = meters;
	/* The answer is read with the grouping it was asked with: the
	 * draft carries it to the callback. */
	r->draft = json_pack("{s:o, s:o, s:s, s:s, s:[b, b, b, b], s:s?}",
	    "from", has_from ? api_time(from_us) : json_null(),
	    "to", has_to ? api_time(to_us) : json_null(), "currency", "USD",
	    "source", rollup ? "rollups" : "events", "_by", q->by[0], q->by[1],
	    q->by[2], q->by[3], "_tag", q->tag);
	(void)http_query(r, rollup ? "report_spend_rollup" :
	    "report_spend_events", 10, params, spend_cb);
}
