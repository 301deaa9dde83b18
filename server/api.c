/*
 * api.c - the routing table, the health and metrics endpoints, and the
 * validation helpers every handler shares so that each bad input gets the
 * same error shape: 400, a stable code, and the offending field.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "ledger/ledger.h"
#include "pricing/pricing.h"
#include "server/api.h"
#include "server/budgets.h"
#include "server/canon.h"
#include "server/leases.h"
#include "server/metrics.h"
#include "server/migrate.h"

static void api_healthz(struct tg_req *r);
static void api_readyz(struct tg_req *r);
static void api_metrics(struct tg_req *r);

const struct tg_route tg_routes[] = {
	{ EVHTTP_REQ_GET, "/healthz", api_healthz, 0, BODY_NONE, NULL },
	{ EVHTTP_REQ_GET, "/readyz", api_readyz, 0, BODY_NONE, NULL },
	{ EVHTTP_REQ_GET, "/metrics", api_metrics, ROLE_ANY, BODY_NONE, NULL },
	{ EVHTTP_REQ_POST, "/v1/ledger/adjustments", api_ledger_adjust,
	  ROLE_ADMIN, BODY_JSON_OBJECT, NULL },
	{ EVHTTP_REQ_GET, "/v1/ledger/balances", api_ledger_balances,
	  ROLE_ADMIN | ROLE_FINANCE, BODY_NONE, "account subtree from to" },
	{ EVHTTP_REQ_GET, "/v1/ledger/verify", api_ledger_verify,
	  ROLE_ADMIN | ROLE_FINANCE, BODY_NONE, NULL },
	{ EVHTTP_REQ_POST, "/v1/prices", api_prices_create, ROLE_ADMIN,
	  BODY_JSON_OBJECT, "effective_from note" },
	{ EVHTTP_REQ_GET, "/v1/prices", api_prices_get, ROLE_ANY, BODY_NONE,
	  "provider model at" },
	{ EVHTTP_REQ_POST, "/v1/prices/import", api_prices_import, ROLE_ADMIN,
	  BODY_JSON_OBJECT, "format effective_from note" },
	{ EVHTTP_REQ_GET, "/v1/prices/versions", api_prices_versions, ROLE_ANY,
	  BODY_NONE, "id" },
	{ EVHTTP_REQ_POST, "/v1/quote", api_quote, ROLE_ANY, BODY_JSON_OBJECT,
	  NULL },
	{ EVHTTP_REQ_POST, "/v1/cost-centers", api_cost_center_create,
	  ROLE_ADMIN, BODY_JSON_OBJECT, NULL },
	{ EVHTTP_REQ_GET, "/v1/cost-centers", api_cost_center_list, ROLE_ANY,
	  BODY_NONE, "include_archived" },
	{ EVHTTP_REQ_GET, "/v1/cost-centers/*", api_cost_center_get, ROLE_ANY,
	  BODY_NONE, NULL },
	{ EVHTTP_REQ_PATCH, "/v1/cost-centers/*", api_cost_center_update,
	  ROLE_ADMIN, BODY_JSON_OBJECT, NULL },
	{ EVHTTP_REQ_POST, "/v1/usage", api_usage, ROLE_GATEWAY | ROLE_ADMIN,
	  BODY_RAW, NULL },
	{ EVHTTP_REQ_GET, "/v1/usage/unpriced", api_usage_unpriced,
	  ROLE_ADMIN | ROLE_FINANCE, BODY_NONE, "from to after limit" },
	{ EVHTTP_REQ_POST, "/v1/ledger/reprice", api_ledger_reprice, ROLE_ADMIN,
	  BODY_NONE, "from to after limit" },
	{ EVHTTP_REQ_POST, "/v1/allocation-rules", api_rule_create, ROLE_ADMIN,
	  BODY_JSON_OBJECT, NULL },
	{ EVHTTP_REQ_GET, "/v1/allocation-rules", api_rule_list,
	  ROLE_ADMIN | ROLE_FINANCE, BODY_NONE, NULL },
	{ EVHTTP_REQ_DELETE, "/v1/allocation-rules/*", api_rule_delete,
	  ROLE_ADMIN, BODY_NONE, NULL },
	{ EVHTTP_REQ_POST, "/v1/budgets", api_budget_create, ROLE_ADMIN,
	  BODY_JSON_OBJECT, NULL },
	{ EVHTTP_REQ_GET, "/v1/budgets", api_budget_list,
	  ROLE_ADMIN | ROLE_FINANCE, BODY_NONE, NULL },
	{ EVHTTP_REQ_GET, "/v1/budgets/*", api_budget_get,
	  ROLE_ADMIN | ROLE_FINANCE, BODY_NONE, NULL },
	{ EVHTTP_REQ_PATCH, "/v1/budgets/*", api_budget_update, ROLE_ADMIN,
	  BODY_JSON_OBJECT, NULL },
	{ EVHTTP_REQ_DELETE, "/v1/budgets/*", api_budget_delete, ROLE_ADMIN,
	  BODY_NONE, NULL },
	{ EVHTTP_REQ_POST, "/v1/budgets/*", api_budget_resume, ROLE_ADMIN,
	  BODY_NONE, NULL },
	{ EVHTTP_REQ_POST, "/v1/authorize", api_authorize,
	  ROLE_GATEWAY | ROLE_ADMIN, BODY_JSON_OBJECT, NULL },
	{ EVHTTP_REQ_GET, "/v1/authorize/check", api_authorize_check,
	  ROLE_GATEWAY | ROLE_ADMIN, BODY_NONE, NULL },
	{ EVHTTP_REQ_GET, "/v1/reservations", api_reservations_list,
	  ROLE_ANY, BODY_NONE, "budget" },
	{ EVHTTP_REQ_POST, "/v1/reservations/*", api_reservation_release,
	  ROLE_GATEWAY | ROLE_ADMIN, BODY_NONE, NULL },
	{ EVHTTP_REQ_GET, "/v1/reports/spend", api_report_spend,
	  ROLE_ADMIN | ROLE_FINANCE, BODY_NONE,
	  "from to group_by granularity cost_center top" },
	{ EVHTTP_REQ_POST, "/v1/allocations", api_allocation_create,
	  ROLE_ADMIN, BODY_JSON_OBJECT, NULL },
	{ EVHTTP_REQ_GET, "/v1/allocations", api_allocation_list,
	  ROLE_ADMIN | ROLE_FINANCE, BODY_NONE, NULL },
	{ EVHTTP_REQ_GET, "/v1/reports/chargeback", api_report_chargeback,
	  ROLE_ADMIN | ROLE_FINANCE, BODY_NONE, "month grain" },
	{ EVHTTP_REQ_GET, "/v1/reports/chargeback/totals",
	  api_report_chargeback_totals, ROLE_ADMIN | ROLE_FINANCE, BODY_NONE,
	  "month" },
	{ EVHTTP_REQ_GET, "/v1/reports/forecast", api_report_forecast,
	  ROLE_ADMIN | ROLE_FINANCE, BODY_NONE, "cost_center" },
	{ EVHTTP_REQ_POST, "/v1/reconcile", api_reconcile,
	  ROLE_ADMIN | ROLE_FINANCE, BODY_RAW, "provider" },
	{ EVHTTP_REQ_GET, "/v1/reports/recommendations",
	  api_report_recommendations, ROLE_ADMIN | ROLE_FINANCE, BODY_NONE,
	  "from to batch_latency_ms" },
};
const size_t tg_nroutes = sizeof(tg_routes) / sizeof(tg_routes[0]);

json_t *
api_money(int64_t nanos)
{
	char buf[LEDGER_MONEY_BUFSZ];

	ledger_money_format(nanos, buf);
	return json_string(buf);
}

json_t *
api_time(int64_t us)
{
	char buf[LEDGER_TIME_BUFSZ];

	ledger_time_format(us, buf);
	return json_string(buf);
}

json_t *
api_quantities(const struct pricing_usage *u)
{
	json_t *o = json_object();
	int m;

	for (m = 0; m < PM_COUNT; m++)
		if (u->q[m] != 0)
			json_object_set_new(o, pricing_meter_name(m),
			    json_integer(u->q[m]));
	return o;
}

static void
api_healthz(struct tg_req *r)
{
	http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void
readyz_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	int v;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	v = atoi(PQgetvalue(res->res, 0, 0));
	if (v != migrate_latest()) {
		http_reply_error(r, 503, "not_ready", NULL, "the schema is at "
		    "version %d, this build needs %d", v, migrate_latest());
		return;
	}
	http_reply_json(r, 200, json_pack("{s:s, s:i}", "status", "ready",
	    "schema_version", v));
}

static void
api_readyz(struct tg_req *r)
{
	(void)http_query(r, "schema_version", 0, NULL, readyz_cb);
}

static void
api_metrics(struct tg_req *r)
{
	struct evbuffer *buf = evbuffer_new();
	struct db_stats st;

	if (buf == NULL) {
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	db_pool_stats(r->srv->db, &st);
	metrics_render(r->srv->metrics, &st, buf);
	budgets_render_metrics(r->srv->budgets, buf);
	leases_render_metrics(r->srv->leases, buf);
	http_reply_buffer(r, 200, "text/plain; version=0.0.4", buf);
	evbuffer_free(buf);
}

void
api_reply_column(struct tg_req *r, const struct db_result *res,
    const char *key)
{
	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	http_reply_json(r, 200, json_pack("{s:o}", key,
	    json_loads(PQgetvalue(res->res, 0, 0), 0, NULL)));
}

int
api_reject_unknown(struct tg_req *r, json_t *obj, const char *prefix,
    const char *const *known)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(obj, k, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (known[i] == NULL) {
			char field[160];

			snprintf(field, sizeof field, "%s%.64s", prefix, k);
			http_reply_error(r, 400, "unknown_field", field,
			    "unknown field \"%s\"", field);
			return -1;
		}
	}
	return 0;
}

int
api_get_string(struct tg_req *r, json_t *obj, const char *name,
    const char *field, int required, size_t maxlen, const char **out)
{
	json_t *v = json_object_get(obj, name);
	size_t i, len;
	const char *s;

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		http_reply_error(r, 400, "missing_field", field,
		    "%s is required", field);
		return -1;
	}
	if (!json_is_string(v)) {
		http_reply_error(r, 400, "invalid_field", field,
		    "%s must be a string", field);
		return -1;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > maxlen || (required && len == 0)) {
		http_reply_error(r, 400, "invalid_field", field,
		    "%s must be 1 to %zu bytes long", field, maxlen);
		return -1;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			http_reply_error(r, 400, "invalid_field", field,
			    "%s must not contain control characters", field);
			return -1;
		}
	*out = s;
	return 0;
}

int
api_param_time(struct tg_req *r, const char *name, int64_t *out_us,
    int *present)
{
	const char *v = http_param(r, name), *why;

	*present = v != NULL;
	if (v == NULL)
		return 0;
	if (ledger_time_parse(v, strlen(v), out_us, &why) != 0) {
		http_reply_error(r, 400, "invalid_parameter", name,
		    "%s must be an RFC 3339 time stamp: %s", name, why);
		return -1;
	}
	return 0;
}

int
api_money_field(struct tg_req *r, json_t *v, const char *field, int64_t *out)
{
	const char *why;

	if (json_is_string(v)) {
		if (ledger_money_parse(json_string_value(v),
		    json_string_length(v), out, &why) == 0)
			return 0;
	} else if (json_is_integer(v)) {
		if (ledger_money_from_units(json_integer_value(v), out,
		    &why) == 0)
			return 0;
	} else if (v == NULL || json_is_null(v)) {
		http_reply_error(r, 400, "missing_field", field,
		    "%s is required", field);
		return -1;
	} else
		why = "money must be a decimal string such as \"12.50\"";
	http_reply_error(r, 400, "invalid_field", field, "%s: %s", field, why);
	return -1;
}

int
api_cost_center_id_ok(const char *id)
{
	char acct[LEDGER_ACCOUNT_MAX + 16];
	const char *why;

	if (strlen(id) > 190)
		return 0;
	snprintf(acct, sizeof acct, "expense:%s", id);
	return ledger_account_check(acct, &why) == 0;
}

void
api_json_text(struct evbuffer *out, const char *s)
{
	struct canon c;

	canon_init(&c);
	canon_str(&c, s);
	(void)canon_into(&c, out);
	canon_free(&c);
}
