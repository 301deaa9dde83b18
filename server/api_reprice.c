/*
 * api_reprice.c - unpriced events, and repricing.
 *
 * An event whose model had no price is booked at zero and listed by
 * GET /v1/usage/unpriced. POST /v1/ledger/reprice prices events again with
 * the book as it is now: with the version in force at occurred_at, or,
 * when that version has no price for the model, with the first later
 * version that has one (the price "became known" then). Where the result
 * differs from what the event has cost so far, a correction transaction
 * books the difference; the original is never touched, and a correction
 * already booked for the same target is not booked again.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "ledger/ledger.h"
#include "pricing/pricing.h"
#include "server/api.h"
#include "server/budgets.h"
#include "server/tz.h"
#include "server/pgarr.h"

#define PAGE_DEFAULT 1000
#define PAGE_MAX 10000

/* "{1000,0,...}" to quantities. */
static void
parse_quantities(const char *s, struct pricing_usage *u)
{
	memset(u, 0, sizeof *u);
	(void)pgarr_read_ints(s, u->q, PM_COUNT);
}

/* Window and page parameters shared by both endpoints; 0 or replied. */
static int
page_params(struct tg_req *r, char from[LEDGER_TIME_BUFSZ],
    char to[LEDGER_TIME_BUFSZ], const char **params, char after[24],
    char limit[16])
{
	const char *a = http_param(r, "after"), *l = http_param(r, "limit");
	int64_t from_us = 0, to_us = 0;
	int has_from, has_to;
	long n = PAGE_DEFAULT;

	if (api_param_time(r, "from", &from_us, &has_from) != 0 ||
	    api_param_time(r, "to", &to_us, &has_to) != 0)
		return -1;
	if (a != NULL && (strlen(a) == 0 || strlen(a) > 18 ||
	    strspn(a, "0123456789") != strlen(a))) {
		http_reply_error(r, 400, "invalid_parameter", "after",
		    "after must be a transaction id");
		return -1;
	}
	if (l != NULL && (strspn(l, "0123456789") != strlen(l) ||
	    strlen(l) == 0 || strlen(l) > 6 || (n = atol(l)) < 1 ||
	    n > PAGE_MAX)) {
		http_reply_error(r, 400, "invalid_parameter", "limit",
		    "limit must be from 1 to %d", PAGE_MAX);
		return -1;
	}
	ledger_time_format(from_us, from);
	ledger_time_format(to_us, to);
	snprintf(after, 24, "%s", a != NULL ? a : "0");
	snprintf(limit, 16, "%ld", n);
	params[0] = has_from ? from : NULL;
	params[1] = has_to ? to : NULL;
	params[2] = after;
	params[3] = limit;
	return 0;
}

/* The cursor for the next page: the last transaction id of a full page,
 * NULL after the last page. */
static const char *
next_after(struct tg_req *r, PGresult *res)
{
	const char *l = http_param(r, "limit");
	int n = PQntuples(res);

	if (n == 0 || n < (l != NULL ? atoi(l) : PAGE_DEFAULT))
		return NULL;
	return PQgetvalue(res, n - 1, 0);
}

static void
unpriced_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct pricing_usage u;
	json_t *rows = json_array();
	int i, n;

	if (res->status != DB_OK) {
		json_decref(rows);
		http_reply_db_failure(r, res);
		return;
	}
	n = PQntuples(res->res);
	for (i = 0; i < n; i++) {
		parse_quantities(PQgetvalue(res->res, i, 8), &u);
		json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, "
		    "s:s, s:s, s:s, s:o}",
		    "transaction_id", PQgetvalue(res->res, i, 0),
		    "id", PQgetvalue(res->res, i, 1),
		    "occurred_at", PQgetvalue(res->res, i, 2),
		    "cost_center", PQgetvalue(res->res, i, 3),
		    "provider", PQgetvalue(res->res, i, 4),
		    "model", PQgetvalue(res->res, i, 5),
		    "service_tier", PQgetvalue(res->res, i, 6),
		    "reason", PQgetvalue(res->res, i, 7),
		    "quantities", api_quantities(&u)));
	}
	http_reply_json(r, 200, json_pack("{s:o, s:s?}", "events", rows,
	    "next_after", next_after(r, res->res)));
}

void
api_usage_unpriced(struct tg_req *r)
{
	char from[LEDGER_TIME_BUFSZ], to[LEDGER_TIME_BUFSZ], after[24];
	char limit[16];
	const char *params[4];

	if (page_params(r, from, to, params, after, limit) != 0)
		return;
	(void)http_query(r, "usage_unpriced", 4, params, unpriced_cb);
}

/* The table of version `id` in the book, or NULL. */
static const struct pricing_table *
book_version(const struct pricing_book *b, int64_t id)
{
	const struct pricing_table *t;
	int64_t vid;
	size_t i;

	for (i = 0; (t = pricing_book_get(b, i, &vid, NULL)) != NULL; i++)
		if (vid == id)
			return t;
	return NULL;
}

/* Price u with the version in force at at_us, or the first later version
 * that prices the model; 0 with the quote and version, -1 when none can. */
static int
reprice_one(const struct pricing_book *b, const char *provider,
    const char *model, int tier, const struct pricing_usage *u,
    int64_t at_us, struct pricing_quote *q, int64_t *version)
{
	const struct pricing_table *t;
	const struct pricing_entry *e;
	int64_t vid, from;
	const char *why;
	size_t i, start = 0;

	/* The version in force at the event; before the first, the first. */
	for (i = 0; pricing_book_get(b, i, NULL, &from) != NULL; i++)
		if (from <= at_us)
			start = i;
	for (i = start; (t = pricing_book_get(b, i, &vid, NULL)) != NULL; i++) {
		if ((e = pricing_table_find(t, provider, model, tier, NULL)) ==
		    NULL)
			continue;
		if (pricing_cost(e, u, at_us, tz_offset, NULL, q, &why) != 0)
			continue;
		*version = vid;
		return 0;
	}
	return -1;
}

static json_t *
meter_deltas(const struct pricing_quote *old, const struct pricing_quote *new,
    int64_t *list_delta, int64_t *cost_delta)
{
	int64_t l[PM_COUNT] = { 0 }, c[PM_COUNT] = { 0 };
	json_t *a = json_array();
	int i, m;

	for (i = 0; i < new->n; i++) {
		l[new->lines[i].meter] += new->lines[i].list_nanos;
		c[new->lines[i].meter] += new->lines[i].cost_nanos;
	}
	for (i = 0; i < old->n; i++) {
		l[old->lines[i].meter] -= old->lines[i].list_nanos;
		c[old->lines[i].meter] -= old->lines[i].cost_nanos;
	}
	*list_delta = new->list_nanos - old->list_nanos;
	*cost_delta = new->cost_nanos - old->cost_nanos;
	for (m = 0; m < PM_COUNT; m++)
		if (l[m] != 0 || c[m] != 0)
			json_array_append_new(a, json_pack("{s:s, s:i, s:I, s:I}",
			    "meter", pricing_meter_name(m), "q", 0,
			    "l", (json_int_t)l[m], "c", (json_int_t)c[m]));
	return a;
}

static void
reprice_done_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	json_t *reply = r->draft;
	int i;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	r->draft = NULL;
	for (i = 0; i < PQntuples(res->res); i++)
		budgets_booked(r->srv->budgets, res->res, i, 1, 2);
	json_object_set_new(reply, "corrected",
	    json_integer(PQntuples(res->res)));
	http_reply_json(r, 200, reply);
}

static void
candidates_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	const struct pricing_book *b = r->srv->prices;
	struct pricing_quote old, new;
	struct pricing_usage u;
	json_t *rows = json_array(), *meters;
	int64_t version, cur_version, list_delta, cost_delta, cur_list, cur_cost;
	int i, n, tier, was_unpriced, unpriced = 0, split_known;
	const char *params[1];
	const struct pricing_table *t;
	const struct pricing_entry *e;
	const char *why;
	char key[160], *text;

	if (res->status != DB_OK) {
		json_decref(rows);
		http_reply_db_failure(r, res);
		return;
	}
	n = PQntuples(res->res);
	for (i = 0; i < n; i++) {
		int64_t tx = atoll(PQgetvalue(res->res, i, 0));
		int64_t at = atoll(PQgetvalue(res->res, i, 1));
		const char *provider = PQgetvalue(res->res, i, 3);
		const char *model = PQgetvalue(res->res, i, 4);

		tier = pricing_tier_parse(PQgetvalue(res->res, i, 5));
		parse_quantities(PQgetvalue(res->res, i, 6), &u);
		cur_list = atoll(PQgetvalue(res->res, i, 7));
		cur_cost = atoll(PQgetvalue(res->res, i, 8));
		cur_version = atoll(PQgetvalue(res->res, i, 9));
		was_unpriced = *PQgetvalue(res->res, i, 10) == 't';
		if (reprice_one(b, provider, model, tier < 0 ? PT_STANDARD : tier,
		    &u, at, &new, &version) != 0) {
			unpriced += was_unpriced;
			continue;
		}
		/* What the event costs so far, meter by meter. */
		memset(&old, 0, sizeof old);
		if (!was_unpriced && cur_version > 0 &&
		    (t = book_version(b, cur_version)) != NULL &&
		    (e = pricing_table_find(t, provider, model, tier < 0 ?
		    PT_STANDARD : tier, NULL)) != NULL &&
		    pricing_cost(e, &u, at, tz_offset, NULL, &old, &why) != 0)
			memset(&old, 0, sizeof old);
		split_known = old.list_nanos == cur_list &&
		    old.cost_nanos == cur_cost;
		if (!split_known) {
			old.n = 0;
			old.list_nanos = cur_list;
			old.cost_nanos = cur_cost;
		}
		if (!was_unpriced && new.list_nanos == cur_list &&
		    new.cost_nanos == cur_cost)
			continue;
		/* Named by the state it corrects from: two repricings racing
		 * from the same state book one correction, never two. */
		snprintf(key, sizeof key, "reprice:%lld:%s", (long long)tx,
		    PQgetvalue(res->res, i, 12));
		meters = meter_deltas(&old, &new, &list_delta, &cost_delta);
		if (!split_known) {
			/* Without the old per-meter split the meter rollups
			 * cannot move correctly; leave them, and verify will
			 * show the difference rather than hide it. */
			json_decref(meters);
			meters = json_array();
		}
		json_array_append_new(rows, json_pack("{s:I, s:s, s:s, s:s, s:s, "
		    "s:s, s:I, s:b, s:o, s:I, s:I}",
		    "tx", (json_int_t)tx, "key", key,
		    "cc", PQgetvalue(res->res, i, 2), "provider", provider,
		    "model", model, "day", PQgetvalue(res->res, i, 11),
		    "pv", (json_int_t)version, "was_unpriced", was_unpriced,
		    "m", meters,
		    "list_delta", (json_int_t)list_delta,
		    "cost_delta", (json_int_t)cost_delta));
	}
	r->draft = json_pack("{s:i, s:i, s:i, s:s?}", "examined", n,
	    "corrected", 0, "still_unpriced", unpriced, "next_after",
	    next_after(r, res->res));
	if (json_array_size(rows) == 0) {
		json_t *reply = r->draft;

		json_decref(rows);
		r->draft = NULL;
		http_reply_json(r, 200, reply);
		return;
	}
	text = json_dumps(rows, JSON_COMPACT);
	json_decref(rows);
	params[0] = text;
	(void)http_query(r, "usage_reprice", 1, params, reprice_done_cb);
	free(text);
}

void
api_ledger_reprice(struct tg_req *r)
{
	char from[LEDGER_TIME_BUFSZ], to[LEDGER_TIME_BUFSZ], after[24];
	char limit[16];
	const char *params[4];

	if (page_params(r, from, to, params, after, limit) != 0)
		return;
	if (r->srv->prices == NULL || pricing_book_count(r->srv->prices) == 0) {
		http_reply_error(r, 422, "unpriced_model", NULL,
		    "there is no price version to reprice with");
		return;
	}
	(void)http_query(r, "usage_reprice_candidates", 4, params,
	    candidates_cb);
}
