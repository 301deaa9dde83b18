/*
 * api_prices.c - price versions, the entry in force, and quotes.
 *
 * Writes go to PostgreSQL (one statement per version) and then reload the
 * in-memory book before the reply, so a quote right after an import sees
 * the new prices. Reads and quotes are served from memory only.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "server/api.h"
#include "server/prices.h"
#include "server/tz.h"
#include "server/usage_json.h"

#define NOTE_MAX 500


static void
created_reloaded(void *arg, int ok)
{
	struct tg_req *r = arg;
	json_t *reply = r->draft;

	r->draft = NULL;
	json_object_set_new(reply, "loaded", json_boolean(ok));
	http_reply_json(r, 201, reply);
}

static void
create_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;

	if (res->status == DB_ERROR && strcmp(res->sqlstate, "22000") == 0) {
		http_reply_error(r, 400, "invalid_field", "effective_from", "%s",
		    res->message);
		return;
	}
	if (res->status == DB_ERROR && strcmp(res->sqlstate, "23505") == 0) {
		http_reply_error(r, 400, "invalid_field", "effective_from",
		    "a price version with this effective_from exists");
		return;
	}
	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	json_object_set_new(json_object_get(r->draft, "version"), "id",
	    json_integer(atoll(PQgetvalue(res->res, 0, 0))));
	prices_reload(r->srv, created_reloaded, r);
}

/* Store a version from doc; effective_from and note come from the query
 * string, else from the document (native), else now and "". */
static void
create_version(struct tg_req *r, json_t *doc, const char *format)
{
	const struct pricing_table *prev;
	const char *eff = http_param(r, "effective_from");
	const char *note = http_param(r, "note"), *why, *params[6];
	char tbuf[LEDGER_TIME_BUFSZ], *stored, *report_s;
	struct field_err fe;
	json_t *report;
	int64_t eff_us;

	if (strcmp(format, "native") == 0) {
		if (json_object_get(doc, "effective_from") != NULL &&
		    !json_is_string(json_object_get(doc, "effective_from"))) {
			http_reply_error(r, 400, "invalid_field",
			    "effective_from", "effective_from must be an RFC "
			    "3339 time stamp string");
			return;
		}
		if (eff == NULL)
			eff = json_string_value(json_object_get(doc,
			    "effective_from"));
		if (note == NULL)
			note = json_string_value(json_object_get(doc, "note"));
		if (json_object_get(doc, "note") != NULL &&
		    !json_is_string(json_object_get(doc, "note"))) {
			http_reply_error(r, 400, "invalid_field", "note",
			    "note must be a string");
			return;
		}
	}
	if (eff != NULL) {
		if (ledger_time_parse(eff, strlen(eff), &eff_us, &why) != 0) {
			http_reply_error(r, 400, "invalid_field",
			    "effective_from", "effective_from must be an RFC "
			    "3339 time stamp: %s", why);
			return;
		}
	} else
		eff_us = http_wall_now_us();
	if (note != NULL && strlen(note) > NOTE_MAX) {
		http_reply_error(r, 400, "invalid_field", "note",
		    "note must be at most %d bytes", NOTE_MAX);
		return;
	}
	/* The version the new one follows: its aliases and discounts carry
	 * over into a LiteLLM import. */
	prev = r->srv->prices != NULL ?
	    pricing_book_at(r->srv->prices, eff_us, NULL) : NULL;
	if (prices_prepare(doc, format, prev, &stored, &report, &fe) != 0) {
		http_reply_error(r, 400, fe.code, fe.field[0] ? fe.field : NULL,
		    "%s", fe.message);
		return;
	}
	report_s = json_dumps(report, JSON_COMPACT);
	ledger_time_format(eff_us, tbuf);
	r->draft = json_pack("{s:{s:s, s:s, s:s}, s:O}", "version",
	    "effective_from", tbuf, "source", format, "note",
	    note != NULL ? note : "", "report", report);
	json_decref(report);
	params[0] = tbuf;
	params[1] = format;
	params[2] = note != NULL ? note : "";
	params[3] = r->key.id;
	params[4] = report_s != NULL ? report_s : "{}";
	params[5] = stored;
	(void)http_query(r, "price_version_create", 6, params, create_cb);
	free(report_s);
	free(stored);
}

void
api_prices_create(struct tg_req *r)
{
	create_version(r, r->body, "native");
}

void
api_prices_import(struct tg_req *r)
{
	const char *format = http_param(r, "format");

	if (format == NULL) {
		http_reply_error(r, 400, "invalid_parameter", "format",
		    "format is required: litellm or native");
		return;
	}
	if (strcmp(format, "litellm") != 0 && strcmp(format, "native") != 0) {
		http_reply_error(r, 400, "invalid_parameter", "format",
		    "format must be litellm or native");
		return;
	}
	create_version(r, r->body, format);
}

static json_t *
version_json(PGresult *res, int i)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s, s:I}",
	    "id", (json_int_t)atoll(PQgetvalue(res, i, 0)),
	    "effective_from", PQgetvalue(res, i, 1),
	    "source", PQgetvalue(res, i, 2),
	    "note", PQgetvalue(res, i, 3),
	    "created_by", *PQgetvalue(res, i, 4) ? PQgetvalue(res, i, 4) : NULL,
	    "created_at", PQgetvalue(res, i, 5),
	    "price_entries", (json_int_t)atoll(PQgetvalue(res, i, 6)));
}

static void
versions_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	json_t *rows, *one;
	int i;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	if (http_param(r, "id") != NULL) {
		if (PQntuples(res->res) != 1) {
			http_reply_error(r, 404, "unknown_price_version", "id",
			    "no price version %s", http_param(r, "id"));
			return;
		}
		one = version_json(res->res, 0);
		json_object_set_new(one, "report",
		    json_loads(PQgetvalue(res->res, 0, 7), 0, NULL));
		http_reply_json(r, 200, one);
		return;
	}
	rows = json_array();
	for (i = 0; i < PQntuples(res->res); i++)
		json_array_append_new(rows, version_json(res->res, i));
	http_reply_json(r, 200, json_pack("{s:o}", "versions", rows));
}

/* All versions, or with ?id=N one version and its import report. */
void
api_prices_versions(struct tg_req *r)
{
	const char *id = http_param(r, "id");

	if (id == NULL) {
		(void)http_query(r, "price_versions_list", 0, NULL, versions_cb);
		return;
	}
	if (strspn(id, "0123456789") != strlen(id) || strlen(id) == 0 ||
	    strlen(id) > 18) {
		http_reply_error(r, 400, "invalid_parameter", "id",
		    "id must be a price version number");
		return;
	}
	(void)http_query(r, "price_version_get", 1, &id, versions_cb);
}

/* The table in force at at_us, or replied (naming `field`). */
static const struct pricing_table *
table_at(struct tg_req *r, int64_t at_us, int64_t *version, const char *field)
{
	const struct pricing_table *t = r->srv->prices != NULL ?
	    pricing_book_at(r->srv->prices, at_us, version) : NULL;
	char tbuf[LEDGER_TIME_BUFSZ];

	if (t == NULL) {
		ledger_time_format(at_us, tbuf);
		http_reply_error(r, 422, "unpriced_model", field,
		    "no price table was in force at %s", tbuf);
	}
	return t;
}

void
api_prices_get(struct tg_req *r)
{
	const char *provider = http_param(r, "provider");
	const char *model = http_param(r, "model");
	const struct pricing_table *t;
	const struct pricing_entry *e;
	char tbuf[LEDGER_TIME_BUFSZ];
	int64_t at_us = http_wall_now_us(), version;
	json_t *entries;
	int has_at, tier, priced;

	if (provider == NULL || model == NULL) {
		http_reply_error(r, 400, "invalid_parameter",
		    provider == NULL ? "provider" : "model",
		    "provider and model are required");
		return;
	}
	if (api_param_time(r, "at", &at_us, &has_at) != 0)
		return;
	if (!has_at)
		at_us = http_wall_now_us();
	if ((t = table_at(r, at_us, &version, "at")) == NULL)
		return;
	entries = json_array();
	for (tier = 0; tier < PT_COUNT; tier++) {
		e = pricing_table_find(t, provider, model, tier, &priced);
		if (e != NULL && priced == tier) {
			json_t *o = price_json_entry(e);

			if (e->discount_ppm > 0) {
				char pct[16];

				snprintf(pct, sizeof pct, "%d.%04d",
				    e->discount_ppm / 10000,
				    e->discount_ppm % 10000);
				json_object_set_new(o, "discount_percent",
				    json_string(pct));
			}
			json_array_append_new(entries, o);
		}
	}
	if (json_array_size(entries) == 0) {
		json_decref(entries);
		http_reply_error(r, 404, "unpriced_model", "model",
		    "no price for %s model %s", provider, model);
		return;
	}
	ledger_time_format(at_us, tbuf);
	http_reply_json(r, 200, json_pack("{s:I, s:s, s:s, s:s, s:o}",
	    "price_version", (json_int_t)version, "at", tbuf,
	    "provider", provider, "model", model, "entries", entries));
}

void
api_quote(struct tg_req *r)
{
	static const char *const fields[] = { "id", "occurred_at", "provider",
	    "model", "service_tier", "usage", "usage_openai", "usage_anthropic",
	    "usage_gemini", "cost_center", "user", "tags", "reservation_id",
	    "latency_ms", "status", "reported_cost", NULL };
	const char *provider, *model, *tier_s, *occ, *why;
	const struct pricing_table *t;
	const struct pricing_entry *e;
	struct pricing_usage u;
	struct pricing_quote q;
	struct field_err fe;
	char tbuf[LEDGER_TIME_BUFSZ], pbuf[PRICING_PRICE_BUFSZ];
	int64_t at_us, version;
	int tier = PT_STANDARD, priced, i;
	json_t *meters, *line;

	if (api_reject_unknown(r, r->body, "", fields) != 0 ||
	    api_get_string(r, r->body, "provider", "provider", 1,
	    PRICING_PROVIDER_MAX, &provider) != 0 ||
	    api_get_string(r, r->body, "model", "model", 1, PRICING_MODEL_MAX,
	    &model) != 0 ||
	    api_get_string(r, r->body, "service_tier", "service_tier", 0, 16,
	    &tier_s) != 0 ||
	    api_get_string(r, r->body, "occurred_at", "occurred_at", 0, 64,
	    &occ) != 0)
		return;
	if (tier_s != NULL && (tier = pricing_tier_parse(tier_s)) < 0) {
		http_reply_error(r, 400, "invalid_field", "service_tier",
		    "service_tier must be standard, batch, flex or priority");
		return;
	}
	at_us = http_wall_now_us();
	if (occ != NULL && ledger_time_parse(occ, strlen(occ), &at_us,
	    &why) != 0) {
		http_reply_error(r, 400, "invalid_field", "occurred_at",
		    "occurred_at must be an RFC 3339 time stamp: %s", why);
		return;
	}
	if (usage_json_parse(r->body, &u, &fe) != 0) {
		http_reply_error(r, 400, fe.code, fe.field, "%s", fe.message);
		return;
	}
	if ((t = table_at(r, at_us, &version, "occurred_at")) == NULL)
		return;
	if ((e = pricing_table_find(t, provider, model, tier, &priced)) == NULL) {
		http_reply_error(r, 422, "unpriced_model", "model",
		    "no price for %s model %s in price version %lld", provider,
		    model, (long long)version);
		return;
	}
	if (pricing_cost(e, &u, at_us, tz_offset, NULL, &q, &why) != 0) {
		http_reply_error(r, 422, "unpriced_meter", "usage", "%s", why);
		return;
	}
	meters = json_array();
	for (i = 0; i < q.n; i++) {
		const struct pricing_line *l = &q.lines[i];

		pricing_format_price(l->unit_pico, pbuf);
		line = json_pack("{s:s, s:I, s:s, s:o, s:o}", "meter",
		    pricing_meter_name(l->meter), "quantity",
		    (json_int_t)l->quantity, "unit_price", pbuf, "list_cost",
		    api_money(l->list_nanos), "cost", api_money(l->cost_nanos));
		if (l->priced_as != l->meter)
			json_object_set_new(line, "priced_as",
			    json_string(pricing_meter_name(l->priced_as)));
		json_array_append_new(meters, line);
	}
	ledger_time_format(at_us, tbuf);
	http_reply_json(r, 200, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, "
	    "s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
	    "provider", provider, "model", model,
	    "priced_model", e->model,
	    "service_tier", pricing_tier_name(tier),
	    "priced_tier", pricing_tier_name(priced),
	    "price_version", (json_int_t)version, "occurred_at", tbuf,
	    "currency", "USD", "list_cost", api_money(q.list_nanos),
	    "cost", api_money(q.cost_nanos),
	    "context_tier", q.context_tier >= 0 ? json_pack("{s:I}",
	    "above_tokens", (json_int_t)e->context[q.context_tier].above) :
	    json_null(),
	    "window", q.window >= 0 ?
	    price_json_window(&e->windows[q.window], 0) : json_null(),
	    "meters", meters));
}
