/*
 * api_recommend.c - GET /v1/reports/recommendations: ways to spend less,
 * each with the numbers it came from. For every cost center x model over
 * the window: the same token mix priced on cheaper models of the same
 * provider and family, prompt caching, the batch tier for slow calls, and
 * calls that failed but still cost money.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "pricing/pricing.h"
#include "server/api.h"
#include "server/tz.h"

#define ALTERNATIVES 3
#define WINDOW_US (30LL * 86400 * 1000000)
#define BATCH_LATENCY_MS 10000

/* The family of a model: its name up to the first '-' ("gpt-4o" is
 * "gpt", "claude-3-5-sonnet" is "claude"). */
static size_t
family_len(const char *model)
{
	const char *dash = strchr(model, '-');

	return dash != NULL ? (size_t)(dash - model) : strlen(model);
}

static int64_t
price_mix(const struct pricing_entry *e, const struct pricing_usage *u,
    int64_t at)
{
	struct pricing_quote q;
	const char *why;

	if (pricing_cost(e, u, at, tz_offset, NULL, &q, &why) != 0)
		return -1;
	return q.cost_nanos;
}

static json_t *
rec(const char *kind, PGresult *res, int i, int64_t saving, json_t *detail,
    json_t *evidence)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:o, s:o}", "kind",
	    kind, "cost_center", PQgetvalue(res, i, 0), "provider",
	    PQgetvalue(res, i, 1), "model", PQgetvalue(res, i, 2), "saving",
	    api_money(saving), "_saving", (json_int_t)saving, "detail", detail,
	    "evidence", evidence);
}

/* Cheaper models of the same provider and family for the group's mix. */
static void
cheaper(json_t *out, PGresult *res, int i, const struct pricing_table *t,
    const struct pricing_usage *u, int64_t cost, int64_t at)
{
	const char *provider = PQgetvalue(res, i, 1), *model = PQgetvalue(res,
	    i, 2);
	const struct pricing_entry *e, *best[ALTERNATIVES] = { NULL };
	int64_t bcost[ALTERNATIVES], c;
	size_t k, n = pricing_table_count(t), fl = family_len(model);
	int j, slot;
	json_t *alts;

	for (k = 0; k < n; k++) {
		e = pricing_table_entry(t, k);
		if (strcmp(e->provider, provider) != 0 ||
		    strcmp(e->model, model) == 0 || e->tier != PT_STANDARD ||
		    family_len(e->model) != fl ||
		    strncmp(e->model, model, fl) != 0 ||
		    (c = price_mix(e, u, at)) < 0 || c >= cost)
			continue;
		for (slot = -1, j = 0; j < ALTERNATIVES; j++)
			if (best[j] == NULL || c < bcost[j]) {
				slot = j;
				break;
			}
		if (slot < 0)
			continue;
		for (j = ALTERNATIVES - 1; j > slot; j--) {
			best[j] = best[j - 1];
			bcost[j] = bcost[j - 1];
		}
		best[slot] = e;
		bcost[slot] = c;
	}
	for (j = 0; j < ALTERNATIVES && best[j] != NULL; j++) {
		char in[PRICING_PRICE_BUFSZ] = "", outp[PRICING_PRICE_BUFSZ] = "";

		if (best[j]->base.has & (1u << PM_INPUT))
			pricing_format_price(best[j]->base.pico[PM_INPUT], in);
		if (best[j]->base.has & (1u << PM_OUTPUT))
			pricing_format_price(best[j]->base.pico[PM_OUTPUT], outp);
		alts = json_pack("{s:s, s:o, s:{s:s, s:s}}", "alternative",
		    best[j]->model, "alternative_cost", api_money(bcost[j]),
		    "alternative_prices", "input", in, "output", outp);
		json_array_append_new(out, rec("cheaper_model", res, i,
		    cost - bcost[j], alts, json_pack("{s:I, s:o, s:o}",
		    "events", (json_int_t)atoll(PQgetvalue(res, i, 4)),
		    "tokens", api_quantities(u), "cost", api_money(cost))));
	}
}

/* The largest saving first. */
static int
by_saving(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a,
	    "_saving"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b,
	    "_saving"));

	return (x < y) - (x > y);
}

static void
recommend_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	const struct pricing_table *t;
	const struct pricing_entry *e, *batch;
	struct pricing_usage u;
	json_t *out = json_array(), *reply = r->draft, *sorted = json_array();
	json_t **v;
	int64_t now = http_wall_now_us(), version, cost, c_std, c_batch;
	int64_t fail_cost, slow_cost, in, cached, move, save;
	size_t k;
	int i, m, tier, priced;

	if (res->status != DB_OK) {
		json_decref(out);
		json_decref(sorted);
		http_reply_db_failure(r, res);
		return;
	}
	t = r->srv->prices != NULL ? pricing_book_at(r->srv->prices, now,
	    &version) : NULL;
	for (i = 0; i < PQntuples(res->res); i++) {
		memset(&u, 0, sizeof u);
		for (m = 0; m < PM_COUNT; m++)
			u.q[m] = atoll(PQgetvalue(res->res, i, 6 + m));
		cost = atoll(PQgetvalue(res->res, i, 5));
		fail_cost = atoll(PQgetvalue(res->res, i, 21));
		slow_cost = atoll(PQgetvalue(res->res, i, 23));
		if (fail_cost > 0)
			json_array_append_new(out, rec("failed_calls_cost", res->res,
			    i, fail_cost, json_pack("{s:s}", "advice", "calls "
			    "that ended in an error or were cancelled were still "
			    "billed"), json_pack("{s:I, s:o}", "failed_calls",
			    (json_int_t)atoll(PQgetvalue(res->res, i, 20)), "cost",
			    api_money(fail_cost))));
		tier = pricing_tier_parse(PQgetvalue(res->res, i, 3));
		if (t == NULL || tier < 0 || (e = pricing_table_find(t,
		    PQgetvalue(res->res, i, 1), PQgetvalue(res->res, i, 2), tier,
		    &priced)) == NULL)
			continue;
		cheaper(out, res->res, i, t, &u, cost, now);
		/* Caching: at half the prompt read from cache, what the
		 * cached rate would have saved. */
		in = u.q[PM_INPUT];
		cached = u.q[PM_CACHED_INPUT];
		move = (in + cached) / 2 - cached;
		if ((e->base.has & (1u << PM_CACHED_INPUT)) && move > 0 &&
		    e->base.pico[PM_CACHED_INPUT] < e->base.pico[PM_INPUT]) {
			save = (int64_t)((__int128)move *
			    (e->base.pico[PM_INPUT] - e->base.pico[PM_CACHED_INPUT]) /
			    1000);
			json_array_append_new(out, rec("prompt_caching", res->res, i,
			    save, json_pack("{s:s}", "advice", "cache the shared "
			    "prefix of prompts; the saving assumes half of the "
			    "prompt tokens read from cache"), json_pack(
			    "{s:I, s:I, s:I}", "input_tokens", (json_int_t)in,
			    "cached_input_tokens", (json_int_t)cached,
			    "cache_hit_ratio_permille", in + cached > 0 ?
			    (json_int_t)(cached * 1000 / (in + cached)) :
			    (json_int_t)0)));
		}
		/* Slow calls at the batch tier's price, in proportion. */
		batch = tier == PT_STANDARD ? pricing_table_find(t,
		    PQgetvalue(res->res, i, 1), PQgetvalue(res->res, i, 2),
		    PT_BATCH, &priced) : NULL;
		if (slow_cost > 0 && batch != NULL && priced == PT_BATCH &&
		    (c_std = price_mix(e, &u, now)) > 0 &&
		    (c_batch = price_mix(batch, &u, now)) >= 0 && c_batch < c_std)
			json_array_append_new(out, rec("batch_tier", res->res, i,
			    (int64_t)((__int128)slow_cost * (c_std - c_batch) /
			    c_std), json_pack("{s:s}", "advice", "send calls "
			    "that can wait through the provider's batch tier"),
			    json_pack("{s:I, s:o, s:I}", "slow_calls",
			    (json_int_t)atoll(PQgetvalue(res->res, i, 22)),
			    "slow_calls_cost", api_money(slow_cost),
			    "latency_threshold_ms", (json_int_t)json_integer_value(
			    json_object_get(reply, "_latency")))));
	}
	v = calloc(json_array_size(out) + 1, sizeof *v);
	for (k = 0; v != NULL && k < json_array_size(out); k++)
		v[k] = json_array_get(out, k);
	if (v != NULL)
		qsort(v, json_array_size(out), sizeof *v, by_saving);
	for (k = 0; v != NULL && k < json_array_size(out); k++) {
		json_object_del(v[k], "_saving");
		json_array_append(sorted, v[k]);
	}
	free(v);
	json_decref(out);
	json_object_del(reply, "_latency");
	json_object_set_new(reply, "recommendations", sorted);
	r->draft = NULL;
	http_reply_json(r, 200, reply);
}

void
api_report_recommendations(struct tg_req *r)
{
	char from[LEDGER_TIME_BUFSZ], to[LEDGER_TIME_BUFSZ], lat[24];
	const char *l = http_param(r, "batch_latency_ms"), *params[3];
	int64_t from_us, to_us = http_wall_now_us(), latency = BATCH_LATENCY_MS;
	int has_from, has_to;

	if (api_param_time(r, "from", &from_us, &has_from) != 0 ||
	    api_param_time(r, "to", &to_us, &has_to) != 0)
		return;
	if (!has_to)
		to_us = http_wall_now_us();
	if (!has_from)
		from_us = to_us - WINDOW_US;
	if (to_us <= from_us) {
		http_reply_error(r, 400, "invalid_parameter", "to",
		    "to must be after from");
		return;
	}
	if (l != NULL && (strspn(l, "0123456789") != strlen(l) || *l == '\0' ||
	    strlen(l) > 9)) {
		http_reply_error(r, 400, "invalid_parameter", "batch_latency_ms",
		    "batch_latency_ms is a whole number of milliseconds");
		return;
	}
	if (l != NULL)
		latency = atoll(l);
	ledger_time_format(from_us, from);
	ledger_time_format(to_us, to);
	snprintf(lat, sizeof lat, "%lld", (long long)latency);
	params[0] = from;
	params[1] = to;
	params[2] = lat;
	r->draft = json_pack("{s:s, s:s, s:s, s:I}", "from", from, "to", to,
	    "currency", "USD", "_latency", (json_int_t)latency);
	(void)http_query(r, "report_recommendations", 3, params, recommend_cb);
}
