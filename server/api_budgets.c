/*
 * api_budgets.c - budgets (admin), POST /v1/authorize (the pre-call
 * decision) and reservations.
 *
 * A budget change is one statement that writes the budget and its audit
 * record; the reply waits until the budget's spend in its period is read,
 * so that the first decision on a new budget is already exact. Decisions
 * touch only memory (budgets.c).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "ledger/ledger.h"
#include "pricing/pricing.h"
#include "reports/forecast.h"
#include "server/api.h"
#include "server/budgets.h"
#include "server/canon.h"
#include "server/leases.h"
#include "server/tz.h"
#include "server/pgarr.h"

#define TTL_DEFAULT_S 300
#define REQUEST_ID_MAX 200
#define DAY_US (86400LL * 1000000)

/* The API's view of a budget. */

static json_t *
time_or_null(int64_t us)
{
	return us == INT64_MIN || us == INT64_MAX ? json_null() : api_time(us);
}

static json_t *
budget_json(const struct budget *b)
{
	const struct budget_def *d = &b->d;
	json_t *tags = json_object(), *th = json_array(), *limits, *burn;
	json_t *lease;
	int64_t now;
	char id[24];
	int i;

	for (i = 0; i < d->ntags; i++)
		json_object_set_new(tags, d->tags[i].key,
		    json_string(d->tags[i].value));
	for (i = 0; i < d->nthresholds; i++)
		json_array_append_new(th, json_real(d->thresholds_ppm[i] / 1e6));
	limits = json_object();
	burn = d->burn_pause_amount > 0 ? json_pack("{s:o, s:i}", "amount",
	    api_money(d->burn_pause_amount), "minutes", d->burn_pause_minutes) :
	    json_null();
	if (d->cost_per_minute > 0)
		json_object_set_new(limits, "cost_per_minute",
		    api_money(d->cost_per_minute));
	if (d->tokens_per_minute > 0)
		json_object_set_new(limits, "tokens_per_minute",
		    json_integer(d->tokens_per_minute));
	snprintf(id, sizeof id, "%lld", (long long)d->id);
	/* This instance's slice of the room (several instances decide on
	 * one database): what it may still hold, until when. */
	now = http_wall_now_us();
	lease = d->hard && now < b->lease_until ? json_pack("{s:o, s:o, s:o}",
	    "amount", api_money(b->lease), "free",
	    api_money(budget_lease_free(b, now)), "expires_at",
	    api_time(b->lease_until)) : json_null();
	return json_pack("{s:s, s:s, s:{s:s, s:s?, s:s?, s:s?, s:o}, s:s, s:s, "
	    "s:o, s:s, s:s, s:o, s:o, s:o, s:s, "
	    "s:{s:s?, s:o, s:o, s:o, s:o, s:o, s:o, s:o}}",
	    "id", id, "name", d->name,
	    "scope", "cost_center", d->cost_center, "user", d->user,
	    "provider", d->provider, "model", d->model, "tags", tags,
	    "period", budget_period_name(d->period), "time_zone", d->time_zone,
	    "amount", api_money(d->amount), "mode", d->hard ? "hard" : "soft",
	    "reserve", d->strict ? "strict" : "estimate", "thresholds", th,
	    "rate_limits", limits, "pause_on_burn_rate", burn,
	    "on_database_unavailable", d->fail_open ? "fail_open" : "fail_closed",
	    "status", "paused", d->paused ? "anomaly" : NULL,
	    "period_start", time_or_null(b->period_lo),
	    "period_end", time_or_null(b->period_hi),
	    "spent", b->loaded ? api_money(b->spent) : json_null(),
	    "held", api_money(b->held),
	    "remaining", b->loaded ? api_money(budget_remaining(b)) : json_null(),
	    "overshoot", api_money(b->overshoot), "lease", lease);
}

static int
get_money(struct tg_req *r, json_t *obj, const char *name, const char *field,
    int required, int positive, int64_t *out, int *present)
{
	json_t *v = json_object_get(obj, name);
	const char *why;

	*present = v != NULL && !json_is_null(v);
	if (!*present) {
		if (!required)
			return 0;
		http_reply_error(r, 400, "missing_field", field,
		    "%s is required", field);
		return -1;
	}
	if (!json_is_string(v) || ledger_money_parse(json_string_value(v),
	    json_string_length(v), out, &why) != 0) {
		http_reply_error(r, 400, "invalid_field", field,
		    "%s must be a decimal string with at most 9 fractional "
		    "digits", field);
		return -1;
	}
	if (*out < 0 || (positive && *out == 0)) {
		http_reply_error(r, 400, "invalid_field", field,
		    "%s must be %s", field, positive ? "positive" :
		    "zero or more");
		return -1;
	}
	return 0;
}

static int
get_int(struct tg_req *r, json_t *obj, const char *name, const char *field,
    int64_t min, int64_t max, int64_t *out, int *present)
{
	json_t *v = json_object_get(obj, name);

	*present = v != NULL && !json_is_null(v);
	if (!*present)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		http_reply_error(r, 400, "invalid_field", field,
		    "%s must be an integer from %lld to %lld", field,
		    (long long)min, (long long)max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int
one_of(struct tg_req *r, const char *field, const char *v,
    const char *const *allowed)
{
	size_t i;

	for (i = 0; allowed[i] != NULL; i++)
		if (strcmp(v, allowed[i]) == 0)
			return 0;
	http_reply_error(r, 400, "invalid_field", field,
	    "%s must be one of %s%s%s%s%s", field, allowed[0],
	    allowed[1] ? ", " : "", allowed[1] ? allowed[1] : "",
	    allowed[1] && allowed[2] ? ", ..." : "", "");
	return -1;
}

/*
 * Check a budget document (every field optional when patching) and turn
 * it into budget_write()'s fields; replies 400 and returns NULL when bad.
 */
static json_t *
budget_fields(struct tg_req *r, int create)
{
	static const char *const fields[] = { "name", "scope", "period",
	    "time_zone", "amount", "mode", "reserve", "thresholds",
	    "rate_limits", "on_database_unavailable", "pause_on_burn_rate",
	    NULL };
	static const char *const burn_fields[] = { "amount", "minutes", NULL };
	static const char *const scope_fields[] = { "cost_center", "user",
	    "provider", "model", "tags", NULL };
	static const char *const limit_fields[] = { "cost_per_minute",
	    "tokens_per_minute", NULL };
	static const char *const periods[] = { "day", "week", "month",
	    "quarter", "year", "total", NULL };
	static const char *const modes[] = { "hard", "soft", NULL };
	static const char *const reserves[] = { "strict", "estimate", NULL };
	static const char *const policies[] = { "fail_closed", "fail_open",
	    NULL };
	json_t *body = r->body, *scope, *limits, *th, *v, *burn;
	json_t *p = json_object();
	const char *s;
	int64_t amount, cpm, tpm, minutes;
	int present;
	size_t i;

	if (api_reject_unknown(r, body, "", fields) != 0)
		goto bad;
	if (api_get_string(r, body, "name", "name", create, 200, &s) != 0)
		goto bad;
	if (s != NULL)
		json_object_set_new(p, "name", json_string(s));
	scope = json_object_get(body, "scope");
	if (scope == NULL && create) {
		http_reply_error(r, 400, "missing_field", "scope",
		    "scope is required");
		goto bad;
	}
	if (scope != NULL) {
		if (!json_is_object(scope)) {
			http_reply_error(r, 400, "invalid_field", "scope",
			    "scope must be an object");
			goto bad;
		}
		if (api_reject_unknown(r, scope, "scope.", scope_fields) != 0 ||
		    api_get_string(r, scope, "cost_center", "scope.cost_center",
		    create, 190, &s) != 0)
			goto bad;
		if (s != NULL)
			json_object_set_new(p, "cost_center", json_string(s));
		if (api_get_string(r, scope, "user", "scope.user", 0, 200,
		    &s) != 0)
			goto bad;
		if (json_object_get(scope, "user") != NULL)
			json_object_set_new(p, "user", s ? json_string(s) :
			    json_null());
		if (api_get_string(r, scope, "provider", "scope.provider", 0,
		    PRICING_PROVIDER_MAX, &s) != 0)
			goto bad;
		if (json_object_get(scope, "provider") != NULL)
			json_object_set_new(p, "provider", s ? json_string(s) :
			    json_null());
		if (api_get_string(r, scope, "model", "scope.model", 0,
		    PRICING_MODEL_MAX, &s) != 0)
			goto bad;
		if (json_object_get(scope, "model") != NULL)
			json_object_set_new(p, "model", s ? json_string(s) :
			    json_null());
		v = json_object_get(scope, "tags");
		if (v != NULL && !json_is_null(v)) {
			if (api_check_tags(r, v, "scope.tags") != 0)
				goto bad;
			if (json_object_size(v) > BUDGET_TAGS_MAX) {
				http_reply_error(r, 400, "invalid_field",
				    "scope.tags", "a budget's scope names at "
				    "most %d tags", BUDGET_TAGS_MAX);
				goto bad;
			}
			json_object_set(p, "tags", v);
		} else if (v != NULL)
			json_object_set_new(p, "tags", json_object());
	}
	if (api_get_string(r, body, "period", "period", create, 8, &s) != 0 ||
	    (s != NULL && one_of(r, "period", s, periods) != 0))
		goto bad;
	if (s != NULL)
		json_object_set_new(p, "period", json_string(s));
	if (api_get_string(r, body, "time_zone", "time_zone", 0, 64, &s) != 0)
		goto bad;
	if (s != NULL && !tz_valid(s)) {
		http_reply_error(r, 400, "invalid_field", "time_zone",
		    "time_zone must be an IANA time zone name");
		goto bad;
	}
	if (s != NULL)
		json_object_set_new(p, "time_zone", json_string(s));
	if (get_money(r, body, "amount", "amount", create, 0, &amount,
	    &present) != 0)
		goto bad;
	if (present)
		json_object_set_new(p, "amount", json_integer(amount));
	if (api_get_string(r, body, "mode", "mode", 0, 8, &s) != 0 ||
	    (s != NULL && one_of(r, "mode", s, modes) != 0))
		goto bad;
	if (s != NULL)
		json_object_set_new(p, "mode", json_string(s));
	if (api_get_string(r, body, "reserve", "reserve", 0, 8, &s) != 0 ||
	    (s != NULL && one_of(r, "reserve", s, reserves) != 0))
		goto bad;
	if (s != NULL)
		json_object_set_new(p, "reserve", json_string(s));
	if (api_get_string(r, body, "on_database_unavailable",
	    "on_database_unavailable", 0, 16, &s) != 0 ||
	    (s != NULL && one_of(r, "on_database_unavailable", s,
	    policies) != 0))
		goto bad;
	if (s != NULL)
		json_object_set_new(p, "on_database_unavailable",
		    json_string(s));
	if ((th = json_object_get(body, "thresholds")) != NULL) {
		if (!json_is_array(th) ||
		    json_array_size(th) > BUDGET_THRESHOLDS_MAX) {
			http_reply_error(r, 400, "invalid_field", "thresholds",
			    "thresholds must be an array of at most %d "
			    "fractions", BUDGET_THRESHOLDS_MAX);
			goto bad;
		}
		json_array_foreach(th, i, v)
			if (!json_is_number(v) || json_number_value(v) <= 0 ||
			    json_number_value(v) > 10) {
				http_reply_error(r, 400, "invalid_field",
				    "thresholds", "each threshold is a "
				    "fraction of the amount, above 0 and at "
				    "most 10");
				goto bad;
			}
		json_object_set(p, "thresholds", th);
	}
	if ((limits = json_object_get(body, "rate_limits")) != NULL &&
	    !json_is_null(limits)) {
		if (!json_is_object(limits) || api_reject_unknown(r, limits,
		    "rate_limits.", limit_fields) != 0) {
			if (!json_is_object(limits))
				http_reply_error(r, 400, "invalid_field",
				    "rate_limits", "rate_limits must be an "
				    "object");
			goto bad;
		}
		if (get_money(r, limits, "cost_per_minute",
		    "rate_limits.cost_per_minute", 0, 1, &cpm, &present) != 0)
			goto bad;
		json_object_set_new(p, "cost_per_minute", present ?
		    json_integer(cpm) : json_null());
		if (get_int(r, limits, "tokens_per_minute",
		    "rate_limits.tokens_per_minute", 1, PRICING_QUANTITY_MAX,
		    &tpm, &present) != 0)
			goto bad;
		json_object_set_new(p, "tokens_per_minute", present ?
		    json_integer(tpm) : json_null());
	} else if (limits != NULL) {
		json_object_set_new(p, "cost_per_minute", json_null());
		json_object_set_new(p, "tokens_per_minute", json_null());
	}
	if ((burn = json_object_get(body, "pause_on_burn_rate")) != NULL &&
	    !json_is_null(burn)) {
		if (!json_is_object(burn)) {
			http_reply_error(r, 400, "invalid_field",
			    "pause_on_burn_rate", "pause_on_burn_rate must be "
			    "{\"amount\": per minute, \"minutes\": 1 to 60}");
			goto bad;
		}
		if (api_reject_unknown(r, burn, "pause_on_burn_rate.",
		    burn_fields) != 0 ||
		    get_money(r, burn, "amount", "pause_on_burn_rate.amount", 1, 1,
		    &amount, &present) != 0 ||
		    get_int(r, burn, "minutes", "pause_on_burn_rate.minutes", 1,
		    60, &minutes, &present) != 0)
			goto bad;
		if (!present) {
			http_reply_error(r, 400, "missing_field",
			    "pause_on_burn_rate.minutes",
			    "pause_on_burn_rate.minutes is required");
			goto bad;
		}
		json_object_set_new(p, "burn_pause_amount", json_integer(amount));
		json_object_set_new(p, "burn_pause_minutes", json_integer(minutes));
	} else if (burn != NULL) {
		json_object_set_new(p, "burn_pause_amount", json_null());
		json_object_set_new(p, "burn_pause_minutes", json_null());
	}
	return p;
bad:
	json_decref(p);
	return NULL;
}

static void
budget_ready_cb(void *arg, int ok)
{
	struct tg_req *r = arg;
	struct budget *b = budget_set_get(budgets_set(r->srv->budgets),
	    (int64_t)json_integer_value(json_object_get(r->draft, "id")));
	int status = (int)json_integer_value(json_object_get(r->draft,
	    "status"));

	if (b == NULL) {
		http_reply_error(r, 409, "budget_changed", NULL,
		    "the budget was changed or deleted meanwhile");
		return;
	}
	if (!ok) {
		/* The budget is written; its spend will be read before it
		 * decides anything. */
		http_reply_error(r, 503, "database_unavailable", NULL,
		    "the budget is saved but its spend could not be read yet");
		return;
	}
	http_reply_json(r, status, budget_json(b));
}

static void
budget_written_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct budgets *bs = r->srv->budgets;
	const char *status;
	struct budget_def d;
	struct budget *b;
	json_t *keep;
	int created = evhttp_request_get_command(r->ev) == EVHTTP_REQ_POST &&
	    (r->arg == NULL || *r->arg == '\0');
	int resumed = r->arg != NULL && strstr(r->arg, "/resume") != NULL;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	status = PQgetvalue(res->res, 0, 0);
	if (strcmp(status, "unknown_cost_center") == 0) {
		http_reply_error(r, 400, "unknown_cost_center",
		    "scope.cost_center", "no such cost center (or it is "
		    "archived)");
		return;
	}
	if (strcmp(status, "not_found") == 0) {
		http_reply_error(r, 404, "unknown_budget", NULL,
		    "no budget %s", r->arg);
		return;
	}
	if (budgets_def_from_row(res->res, 0, 1, &d, &keep) != 0) {
		http_reply_error(r, 500, "internal_error", NULL,
		    "the budget came back unreadable");
		return;
	}
	if (*PQgetvalue(res->res, 0, 17) == 't') {
		json_t *gone;

		json_decref(keep);
		b = budget_set_get(budgets_set(bs), d.id);
		gone = b != NULL ? budget_json(b) : json_object();
		budget_set_remove(budgets_set(bs), d.id);
		json_object_set_new(gone, "deleted", json_true());
		http_reply_json(r, 200, gone);
		return;
	}
	b = budget_set_put(budgets_set(bs), &d);
	json_decref(keep);
	if (b == NULL) {
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	/* Resumed: only spending from now on can pause it again. */
	if (resumed)
		budget_burn_reset(b);
	if (budgets_ready(bs, b, http_wall_now_us()) == 0) {
		http_reply_json(r, created ? 201 : 200, budget_json(b));
		return;
	}
	r->draft = json_pack("{s:I, s:i}", "id", (json_int_t)b->d.id, "status",
	    created ? 201 : 200);
	budgets_read_spend(bs, b, budget_ready_cb, r);
}

static int
budget_id(struct tg_req *r, char *buf, size_t bufsz)
{
	const char *p;

	for (p = r->arg; *p >= '0' && *p <= '9'; p++)
		;
	if (*r->arg == '\0' || *p != '\0' || p - r->arg > 18) {
		http_reply_error(r, 404, "unknown_budget", NULL,
		    "no budget %.40s", r->arg);
		return -1;
	}
	snprintf(buf, bufsz, "%s", r->arg);
	return 0;
}

static void
write_budget(struct tg_req *r, const char *action, const char *id,
    json_t *fields)
{
	const char *params[4];
	char *text = json_dumps(fields, JSON_COMPACT);

	json_decref(fields);
	params[0] = action;
	params[1] = id;
	params[2] = text;
	params[3] = r->key.id;
	(void)http_query(r, "budget_write", 4, params, budget_written_cb);
	free(text);
}

void
api_budget_create(struct tg_req *r)
{
	json_t *p = budget_fields(r, 1);

	if (p != NULL)
		write_budget(r, "create", NULL, p);
}

void
api_budget_update(struct tg_req *r)
{
	char id[24];
	json_t *p;

	if (budget_id(r, id, sizeof id) != 0 || (p = budget_fields(r, 0)) == NULL)
		return;
	write_budget(r, "update", id, p);
}

/* POST /v1/budgets/{id}/resume: lift an anomaly's pause, audited. */
void
api_budget_resume(struct tg_req *r)
{
	const char *slash = strchr(r->arg, '/');
	char id[24];
	size_t n = slash != NULL ? (size_t)(slash - r->arg) : 0;

	if (slash == NULL || strcmp(slash, "/resume") != 0 || n == 0 ||
	    n >= sizeof id || strspn(r->arg, "0123456789") != n) {
		http_reply_error(r, 404, "not_found", NULL,
		    "use POST /v1/budgets/{id}/resume");
		return;
	}
	memcpy(id, r->arg, n);
	id[n] = '\0';
	write_budget(r, "resume", id, json_object());
}

void
api_budget_delete(struct tg_req *r)
{
	char id[24];

	if (budget_id(r, id, sizeof id) == 0)
		write_budget(r, "delete", id, json_object());
}

struct listing {
	struct budgets *bs;
	json_t *list;
	int64_t now;
};

static void
add_budget(struct budget *b, void *arg)
{
	struct listing *l = arg;

	/* Its current period, and its spend read if it is not yet. */
	(void)budgets_ready(l->bs, b, l->now);
	json_array_append_new(l->list, budget_json(b));
}

static int
by_id(const void *a, const void *b)
{
	long long x = atoll(json_string_value(json_object_get(
	    *(json_t *const *)a, "id")));
	long long y = atoll(json_string_value(json_object_get(
	    *(json_t *const *)b, "id")));

	return (x > y) - (x < y);
}

void
api_budget_list(struct tg_req *r)
{
	struct budgets *bs = r->srv->budgets;
	json_t *list = json_array(), *sorted = json_array();
	struct listing l = { bs, list, http_wall_now_us() };
	json_t **v;
	size_t i, n;

	budget_set_each(budgets_set(bs), add_budget, &l);
	n = json_array_size(list);
	if ((v = calloc(n + 1, sizeof *v)) == NULL) {
		json_decref(list);
		json_decref(sorted);
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		v[i] = json_array_get(list, i);
	qsort(v, n, sizeof *v, by_id);
	for (i = 0; i < n; i++)
		json_array_append(sorted, v[i]);
	free(v);
	json_decref(list);
	http_reply_json(r, 200, json_pack("{s:o}", "budgets", sorted));
}

/* The day (since the epoch) of the instant us in time zone tz. */
static int64_t
local_day(const char *tz, int64_t us)
{
	int off = 0;

	(void)tz_offset(tz, us, &off, NULL);
	us += (int64_t)off * 1000000;
	return us >= 0 ? us / DAY_US : -((-us - 1) / DAY_US) - 1;
}

/*
 * The same-weekday projection: the spend before today, then each day
 * left (today included) at the mean of its weekday over the last 4
 * weeks, all in the budget's time zone, as GET /v1/reports/forecast
 * projects a month; and the day by whose end that reaches the amount.
 */
static void
weekday_json(json_t *status, const struct budget *b, const int64_t
    cost[FORECAST_DAYS], int64_t today, int64_t days_left)
{
	/* The period's spend is in memory; only the 35 days were read, so
	 * what came before today is that less today's. */
	int64_t before = b->spent - cost[FORECAST_DAYS - 1], rest, y, end;
	int m, d, k;
	char date[16];

	rest = forecast_weekday_rest(cost, (int)days_left);
	json_object_set_new(status, "forecast_at_period_end_weekday",
	    __builtin_add_overflow(before, rest, &end) ? json_null() :
	    api_money(end));
	k = b->spent >= b->d.amount ? 0 : forecast_weekday_run_out(cost,
	    (int)days_left, before, b->d.amount);
	if (k < 0) {
		json_object_set_new(status, "run_out_on_weekday", json_null());
		return;
	}
	ledger_civil_from_days(today + k, &y, &m, &d);
	snprintf(date, sizeof date, "%04lld-%02d-%02d", (long long)y, m, d);
	json_object_set_new(status, "run_out_on_weekday", json_string(date));
}

/*
 * The burn rate over the last hour and day, and where the period ends at
 * the last day's pace (a straight line; null for a budget without end)
 * and by weekday.
 */
static void
burn_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct budget *b = budget_set_get(budgets_set(r->srv->budgets),
	    (int64_t)json_integer_value(json_object_get(r->draft, "id")));
	int64_t hour, day, now = http_wall_now_us(), left, room, days_left;
	int64_t cost[FORECAST_DAYS] = { 0 }, today;
	__int128 until;
	json_t *o, *status;
	__int128 forecast;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	if (b == NULL) {
		http_reply_error(r, 404, "unknown_budget", NULL,
		    "the budget was deleted meanwhile");
		return;
	}
	hour = atoll(PQgetvalue(res->res, 0, 0));
	day = atoll(PQgetvalue(res->res, 0, 1));
	(void)pgarr_read_ints(PQgetvalue(res->res, 0, 2), cost, FORECAST_DAYS);
	/* The day the query was asked for, not a later clock reading. */
	today = (int64_t)json_integer_value(json_object_get(r->draft, "today"));
	o = budget_json(b);
	status = json_object_get(o, "status");
	json_object_set_new(status, "burn_rate", json_pack("{s:o, s:o}",
	    "last_hour_per_hour", api_money(hour), "last_day_per_day", api_money(day)));
	if (b->d.period == BP_TOTAL || !b->loaded) {
		json_object_set_new(status, "forecast_at_period_end", json_null());
		json_object_set_new(status, "forecast_at_period_end_weekday",
		    json_null());
		json_object_set_new(status, "run_out_on_weekday", json_null());
	} else {
		left = b->period_hi > now ? b->period_hi - now : 0;
		/* day per 86400 s, over `left` microseconds, in 128 bits. */
		forecast = b->spent + (__int128)day * left / (86400LL * 1000000);
		json_object_set_new(status, "forecast_at_period_end",
		    forecast > INT64_MAX ? json_null() :
		    api_money((int64_t)forecast));
		days_left = local_day(b->d.time_zone, b->period_hi) - today;
		weekday_json(status, b, cost, today, days_left < 0 ? 0 :
		    days_left);
	}
	/* When the room left runs out at the last day's pace: now when it
	 * has, null when it does not within the period. */
	room = budget_remaining(b);
	if (b->loaded && room <= 0)
		json_object_set_new(status, "run_out_at", api_time(now));
	else if (b->loaded && day > 0 && (until = (__int128)room * 86400LL *
	    1000000 / day) < (__int128)b->period_hi - now)
		json_object_set_new(status, "run_out_at",
		    api_time(now + (int64_t)until));
	else
		json_object_set_new(status, "run_out_at", json_null());
	http_reply_json(r, 200, o);
}

void
api_budget_get(struct tg_req *r)
{
	struct budgets *bs = r->srv->budgets;
	const char *params[2];
	struct budget *b;
	char id[24], today[16];
	int64_t days, y;
	int m, d;

	if (budget_id(r, id, sizeof id) != 0)
		return;
	if ((b = budget_set_get(budgets_set(bs), atoll(id))) == NULL) {
		http_reply_error(r, 404, "unknown_budget", NULL,
		    "no budget %s", id);
		return;
	}
	(void)budgets_ready(bs, b, http_wall_now_us());
	/* Today in the budget's time zone: its days are the weekdays. */
	days = local_day(b->d.time_zone, http_wall_now_us());
	ledger_civil_from_days(days, &y, &m, &d);
	snprintf(today, sizeof today, "%04lld-%02d-%02d", (long long)y, m, d);
	r->draft = json_pack("{s:I, s:I}", "id", (json_int_t)b->d.id, "today",
	    (json_int_t)days);
	params[0] = id;
	params[1] = today;
	(void)http_query(r, "budget_burn", 2, params, burn_cb);
}

/* Reservations. */

static json_t *
rsv_json(const struct reservation *r)
{
	json_t *ids = json_array(), *o;
	char id[24];
	int i;

	for (i = 0; i < r->nbudgets; i++) {
		snprintf(id, sizeof id, "%lld", (long long)r->budgets[i]);
		json_array_append_new(ids, json_string(id));
	}
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", r->id,
	    "state", budgets_rsv_state_name(r->state), "cost_center",
	    r->cost_center, "reserved", api_money(r->amount), "budgets", ids,
	    "created_at", api_time(r->created_us), "expires_at",
	    api_time(r->expires_us));
	if (r->request_id != NULL)
		json_object_set_new(o, "request_id", json_string(r->request_id));
	if (r->max_output > 0)
		json_object_set_new(o, "max_output_tokens",
		    json_integer(r->max_output));
	if (r->state != RSV_HELD)
		json_object_set_new(o, "ended_at", api_time(r->ended_us));
	if (r->state == RSV_SETTLED)
		json_object_set_new(o, "actual", api_money(r->actual));
	return o;
}

struct rsv_filter {
	int64_t budget;
	json_t *out;
};

static void
add_live(struct reservation *r, void *arg)
{
	struct rsv_filter *f = arg;
	int i;

	if (r->state != RSV_HELD)
		return;
	for (i = 0; i < r->nbudgets; i++)
		if (f->budget == 0 || r->budgets[i] == f->budget) {
			json_array_append_new(f->out, rsv_json(r));
			return;
		}
}

void
api_reservations_list(struct tg_req *r)
{
	const char *b = http_param(r, "budget");
	struct rsv_filter f;

	f.budget = b != NULL ? atoll(b) : 0;
	if (b != NULL && f.budget <= 0) {
		http_reply_error(r, 400, "invalid_field", "budget",
		    "budget must be a budget id");
		return;
	}
	f.out = json_array();
	budgets_each_reservation(r->srv->budgets, add_live, &f);
	http_reply_json(r, 200, json_pack("{s:o}", "reservations", f.out));
}

void
api_reservation_release(struct tg_req *r)
{
	struct reservation *rsv;
	char id[RSV_ID_LEN + 1];
	size_t len = strlen(r->arg);

	if (len != RSV_ID_LEN + strlen("/release") ||
	    strcmp(r->arg + RSV_ID_LEN, "/release") != 0) {
		http_reply_error(r, 404, "not_found", NULL,
		    "use POST /v1/reservations/{id}/release");
		return;
	}
	memcpy(id, r->arg, RSV_ID_LEN);
	id[RSV_ID_LEN] = '\0';
	if ((rsv = budgets_reservation(r->srv->budgets, id)) == NULL) {
		http_reply_error(r, 404, "unknown_reservation", NULL,
		    "no live reservation %s", id);
		return;
	}
	if (budgets_end(r->srv->budgets, rsv, RSV_RELEASED, 0) != 0 &&
	    rsv->state != RSV_RELEASED) {
		http_reply_error(r, 409, "reservation_ended", NULL,
		    "the reservation has already ended (%s)",
		    budgets_rsv_state_name(rsv->state));
		return;
	}
	http_reply_json(r, 200, rsv_json(rsv));
}

/* Decisions. */

struct estimate {
	const struct pricing_entry *e;
	struct pricing_usage base;	/* input and cached input */
	int64_t at_us;
};

/* The cost of n output tokens at the highest rate that could apply:
 * output or reasoning, whichever costs more. */
static int64_t
worst_cost(void *arg, int64_t n)
{
	struct estimate *est = arg;
	struct pricing_usage u = est->base;
	struct pricing_quote q;
	int64_t out = -1;
	const char *why;

	u.q[PM_OUTPUT] = n;
	if (pricing_cost(est->e, &u, est->at_us, tz_offset, NULL, &q,
	    &why) == 0)
		out = q.cost_nanos;
	u.q[PM_OUTPUT] = 0;
	u.q[PM_REASONING] = n;
	if (pricing_cost(est->e, &u, est->at_us, tz_offset, NULL, &q,
	    &why) == 0 && q.cost_nanos > out)
		out = q.cost_nanos;
	return out;
}

static int64_t
estimate_cost(struct estimate *est, int64_t n)
{
	struct pricing_usage u = est->base;
	struct pricing_quote q;
	const char *why;

	u.q[PM_OUTPUT] = n;
	if (pricing_cost(est->e, &u, est->at_us, tz_offset, NULL, &q,
	    &why) != 0)
		return -1;
	return q.cost_nanos;
}

/* A budget as a decision names it. Written as text, not built as
 * jansson objects: the answer was a good part of what a decision cost. */
static void
budget_brief(struct canon *c, const struct budget *b)
{
	canon_raw(c, "{\"id\":\"", 7);
	canon_int(c, b->d.id);
	canon_raw(c, "\"", 1);
	canon_key(c, 0, "name");
	canon_str(c, b->d.name);
	canon_key(c, 0, "scope");
	canon_str(c, b->d.cost_center);
	canon_key(c, 0, "mode");
	canon_str(c, b->d.hard ? "hard" : "soft");
	canon_money(c, 0, "amount", b->d.amount);
	canon_money(c, 0, "spent", b->spent);
	canon_money(c, 0, "held", b->held);
	canon_money(c, 0, "remaining", budget_remaining(b));
	canon_raw(c, "}", 1);
}

/* A decision's inputs, from a JSON body or from request headers. */
struct authz {
	const char *cc, *user, *provider, *model, *request_id;
	int tier;
	int64_t input, max_out, cached, ttl;
	int has_max;
	int ntags;
	struct budget_tag tags[64];
	int headers;		/* answer as GET /v1/authorize/check */
	int lease_asked;	/* decided again once leases were asked for */
	int offline;		/* they could not be: the database is away */
};

static const char *const decision_names[] = { "allow", "throttle", "pause" };

/* GET /v1/authorize/check answers in status and headers, for nginx's
 * auth_request: 204 allow, 429 throttle, 402 pause. */
static void
answer_headers(struct tg_req *r, int decision, const char *reason,
    const struct budget *decider, const struct reservation *rsv,
    int64_t retry_ms)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
	struct evbuffer *empty = evbuffer_new();
	char buf[64];

	evhttp_add_header(h, "X-Tollgate-Decision", decision_names[decision]);
	if (reason != NULL)
		evhttp_add_header(h, "X-Tollgate-Reason", reason);
	if (decider != NULL) {
		snprintf(buf, sizeof buf, "%lld", (long long)decider->d.id);
		evhttp_add_header(h, "X-Tollgate-Budget", buf);
	}
	if (rsv != NULL) {
		evhttp_add_header(h, "X-Tollgate-Reservation-Id", rsv->id);
		ledger_money_format(rsv->amount, buf);
		evhttp_add_header(h, "X-Tollgate-Reserved", buf);
		snprintf(buf, sizeof buf, "%lld", (long long)rsv->max_output);
		evhttp_add_header(h, "X-Tollgate-Max-Output-Tokens", buf);
	}
	if (decision == BD_THROTTLE) {
		snprintf(buf, sizeof buf, "%lld", (long long)
		    ((retry_ms + 999) / 1000 > 0 ? (retry_ms + 999) / 1000 : 1));
		evhttp_add_header(h, "Retry-After", buf);
	}
	http_reply_buffer(r, decision == BD_ALLOW ? 204 : decision == BD_THROTTLE ?
	    429 : 402, "text/plain", empty);
	evbuffer_free(empty);
}

static void
answer(struct tg_req *r, const struct authz *a, int decision,
    const char *reason, const struct budget *decider, struct budget **m,
    int n, const struct reservation *rsv, int64_t retry_ms)
{
	char when[LEDGER_TIME_BUFSZ];
	struct evbuffer *buf;
	struct canon c;
	int i;

	budgets_count_decision(r->srv->budgets, decision);
	if (a->headers) {
		answer_headers(r, decision, reason, decider, rsv, retry_ms);
		return;
	}
	canon_init(&c);
	canon_raw(&c, "{\"decision\":", 12);
	canon_str(&c, decision_names[decision]);
	canon_key(&c, 0, "reason");
	canon_str_or_null(&c, reason);
	canon_raw(&c, ",\"budgets\":[", 12);
	for (i = 0; i < n; i++) {
		if (i > 0)
			canon_raw(&c, ",", 1);
		budget_brief(&c, m[i]);
	}
	canon_raw(&c, "]", 1);
	if (decider != NULL) {
		canon_key(&c, 0, "budget");
		budget_brief(&c, decider);
	}
	if (decision == BD_THROTTLE) {
		canon_key(&c, 0, "retry_after_ms");
		canon_int(&c, retry_ms);
	}
	if (rsv != NULL) {
		canon_key(&c, 0, "reservation_id");
		canon_str(&c, rsv->id);
		canon_money(&c, 0, "reserved", rsv->amount);
		ledger_time_format(rsv->expires_us, when);
		canon_key(&c, 0, "expires_at");
		canon_str(&c, when);
		if (rsv->max_output > 0) {
			canon_key(&c, 0, "max_output_tokens");
			canon_int(&c, rsv->max_output);
		}
	}
	canon_raw(&c, "}\n", 2);
	if ((buf = evbuffer_new()) == NULL || canon_into(&c, buf) != 0)
		http_reply_error(r, 500, "internal_error", NULL,
		    "the reply could not be built");
	else
		http_reply_buffer(r, 200, "application/json", buf);
	if (buf != NULL)
		evbuffer_free(buf);
	canon_free(&c);
}

/* Match and make ready the budgets over a request; -1 when replied. */
static int
matched(struct tg_req *r, const struct authz *a,
    const struct budget_subject *subj, struct budget **m, int *n,
    int64_t now)
{
	int i;

	*n = budget_match(budgets_set(r->srv->budgets), subj, m,
	    BUDGET_MATCH_MAX);
	for (i = 0; i < *n; i++)
		if (budgets_ready(r->srv->budgets, m[i], now) != 0) {
			answer(r, a, BD_THROTTLE, "budget_loading", m[i], m, *n,
			    NULL, 100);
			return -1;
		}
	return 0;
}

static void decide(struct tg_req *r, struct authz *a);

static void
lease_known(void *arg, int ok)
{
	struct tg_req *r = arg;
	struct authz a = *(struct authz *)r->state;

	free(r->state);
	r->state = NULL;
	a.lease_asked = 1;
	a.offline = !ok;
	decide(r, &a);
}

/* A lease, not the room, was short: ask for more and decide again when
 * it is known (from the start: the budgets may have changed meanwhile).
 * -1 when that cannot be arranged: the answer stands. */
static int
wait_for_lease(struct tg_req *r, const struct authz *a,
    const struct budget_answer *ans, int64_t need)
{
	if ((r->state = malloc(sizeof *a)) == NULL)
		return -1;
	memcpy(r->state, a, sizeof *a);
	leases_ask(r->srv->leases, (struct budget **)ans->short_lease,
	    ans->nshort, need, lease_known, r);
	return 0;
}

static void
decide(struct tg_req *r, struct authz *a)
{
	struct budgets *bs = r->srv->budgets;
	struct budget *m[BUDGET_MATCH_MAX];
	struct budget_subject subj;
	struct budget_answer ans;
	struct budget_ask ask;
	struct estimate est;
	struct reservation *rsv;
	const struct pricing_table *t;
	const char *cc;
	int64_t now = http_wall_now_us(), version, max_out = a->max_out;
	int n, i, priced;

	/* A retry of a request already allowed gets its reservation back,
	 * never a second hold. */
	if (a->request_id != NULL &&
	    (rsv = budgets_by_request(bs, r->key.id, a->request_id)) != NULL) {
		/* An ended hold is no allow: the call would run unheld. */
		if (rsv->state != RSV_HELD) {
			http_reply_error(r, 409, "reservation_ended", "request_id",
			    "the reservation %s of this request_id was %s; ask "
			    "with a new request_id", rsv->id,
			    budgets_rsv_state_name(rsv->state));
			return;
		}
		answer(r, a, BD_ALLOW, NULL, NULL, NULL, 0, rsv, 0);
		return;
	}
	/* Who pays, as booking will decide it: the call's cost center, else
	 * the first allocation rule that matches, else the key's default. */
	/* (Routed afresh on every pass: a rule's string may be gone after a
	 * wait for a lease.) */
	cc = a->cc;
	if (cc == NULL)
		cc = budgets_route(bs, a->user, r->key.id, a->tags, a->ntags);
	if (cc == NULL && r->key.cost_center[0] != '\0')
		cc = r->key.cost_center;
	memset(&subj, 0, sizeof subj);
	subj.cost_center = cc;
	subj.user = a->user;
	subj.provider = a->provider;
	subj.model = a->model;
	subj.ntags = a->ntags;
	subj.tags = a->tags;
	if (cc == NULL || !budgets_cost_center_ok(bs, cc)) {
		answer(r, a, BD_PAUSE, "unknown_cost_center", NULL, NULL, 0, NULL,
		    0);
		return;
	}
	if (matched(r, a, &subj, m, &n, now) != 0)
		return;
	memset(&est, 0, sizeof est);
	est.at_us = now;
	est.base.q[PM_INPUT] = a->input;
	est.base.q[PM_CACHED_INPUT] = a->cached;
	t = r->srv->prices != NULL ? pricing_book_at(r->srv->prices, now,
	    &version) : NULL;
	est.e = t != NULL ? pricing_table_find(t, a->provider, a->model,
	    a->tier, &priced) : NULL;
	if (est.e != NULL && est.e->max_output_tokens > 0)
		max_out = a->has_max && max_out < est.e->max_output_tokens ?
		    max_out : est.e->max_output_tokens;
	if (est.e != NULL && max_out == 0) {
		http_reply_error(r, 400, "missing_field",
		    "estimate.max_output_tokens", "the price table does not "
		    "know this model's maximum output: give "
		    "estimate.max_output_tokens");
		return;
	}
	memset(&ask, 0, sizeof ask);
	ask.now_us = now;
	ask.max_output = max_out;
	ask.tokens = a->input + a->cached + max_out;
	ask.cost_of = worst_cost;
	ask.cost_arg = &est;
	ask.leasing = 1;
	ask.lease_final = a->lease_asked;
	ask.offline = a->offline || !db_pool_up(r->srv->db);
	if (est.e == NULL || (ask.estimate = estimate_cost(&est, max_out)) < 0 ||
	    (ask.worst = worst_cost(&est, max_out)) < 0) {
		/* No price: a hard budget will not guess. */
		for (i = 0; i < n; i++)
			if (m[i]->d.hard) {
				answer(r, a, BD_PAUSE, "unpriced_model", m[i], m,
				    n, NULL, 0);
				return;
			}
		ask.estimate = ask.worst = 0;
		ask.cost_of = NULL;
	}
	budget_decide(m, n, &ask, &ans);
	if (ans.nshort > 0 && wait_for_lease(r, a, &ans, ans.strict ?
	    ask.worst : ask.estimate) == 0)
		return;
	if (ans.decision != BD_ALLOW) {
		answer(r, a, ans.decision, ans.reason, ans.decider, m, n, NULL,
		    ans.retry_after_ms);
		return;
	}
	rsv = budgets_reserve(bs, m, n, r->key.id, a->request_id, cc,
	    ans.amount, ask.tokens, ans.max_output > 0 ? ans.max_output :
	    max_out, a->ttl);
	if (rsv == NULL) {
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	leases_after_hold(r->srv->leases, m, n, now);
	answer(r, a, BD_ALLOW, ans.max_output > 0 ? "output_capped" : NULL,
	    NULL, m, n, rsv, 0);
}

/* The call's tags, checked as every tags object is; they point into tj,
 * which must outlive the decision. 0, or -1 when replied. */
static int
take_tags(struct tg_req *r, struct authz *a, json_t *tj, const char *field)
{
	const char *k;
	json_t *v;

	if (api_check_tags(r, tj, field) != 0)
		return -1;
	json_object_foreach(tj, k, v) {
		if (a->ntags == 64)
			break;
		a->tags[a->ntags].key = k;
		a->tags[a->ntags++].value = json_string_value(v);
	}
	return 0;
}

void
api_authorize(struct tg_req *r)
{
	static const char *const fields[] = { "cost_center", "user", "tags",
	    "provider", "model", "service_tier", "estimate",
	    "reservation_ttl_s", "request_id", NULL };
	static const char *const est_fields[] = { "input_tokens",
	    "max_output_tokens", "cached_input_tokens", NULL };
	struct authz a;
	const char *tier_name;
	json_t *estimate, *tj;
	int present;

	memset(&a, 0, sizeof a);
	a.tier = PT_STANDARD;
	a.ttl = TTL_DEFAULT_S < r->srv->cfg.reservation_ttl_max_s ?
	    TTL_DEFAULT_S : r->srv->cfg.reservation_ttl_max_s;
	if (api_reject_unknown(r, r->body, "", fields) != 0 ||
	    api_get_string(r, r->body, "cost_center", "cost_center", 0, 190,
	    &a.cc) != 0 ||
	    api_get_string(r, r->body, "user", "user", 0, 200, &a.user) != 0 ||
	    api_get_string(r, r->body, "provider", "provider", 1,
	    PRICING_PROVIDER_MAX, &a.provider) != 0 ||
	    api_get_string(r, r->body, "model", "model", 1, PRICING_MODEL_MAX,
	    &a.model) != 0 ||
	    api_get_string(r, r->body, "service_tier", "service_tier", 0, 16,
	    &tier_name) != 0 ||
	    api_get_string(r, r->body, "request_id", "request_id", 0,
	    REQUEST_ID_MAX, &a.request_id) != 0 ||
	    get_int(r, r->body, "reservation_ttl_s", "reservation_ttl_s", 1,
	    r->srv->cfg.reservation_ttl_max_s, &a.ttl, &present) != 0)
		return;
	if (tier_name != NULL && (a.tier = pricing_tier_parse(tier_name)) < 0) {
		http_reply_error(r, 400, "invalid_field", "service_tier",
		    "service_tier must be standard, batch, flex or priority");
		return;
	}
	estimate = json_object_get(r->body, "estimate");
	if (estimate == NULL || !json_is_object(estimate)) {
		http_reply_error(r, 400, estimate == NULL ? "missing_field" :
		    "invalid_field", "estimate", "estimate must be an object "
		    "with input_tokens and max_output_tokens");
		return;
	}
	if (api_reject_unknown(r, estimate, "estimate.", est_fields) != 0 ||
	    get_int(r, estimate, "input_tokens", "estimate.input_tokens", 0,
	    PRICING_QUANTITY_MAX, &a.input, &present) != 0)
		return;
	if (!present) {
		http_reply_error(r, 400, "missing_field", "estimate.input_tokens",
		    "estimate.input_tokens is required");
		return;
	}
	if (get_int(r, estimate, "max_output_tokens",
	    "estimate.max_output_tokens", 1, PRICING_QUANTITY_MAX, &a.max_out,
	    &a.has_max) != 0 ||
	    get_int(r, estimate, "cached_input_tokens",
	    "estimate.cached_input_tokens", 0, PRICING_QUANTITY_MAX, &a.cached,
	    &present) != 0)
		return;
	if ((tj = json_object_get(r->body, "tags")) != NULL &&
	    !json_is_null(tj) && take_tags(r, &a, tj, "tags") != 0)
		return;
	decide(r, &a);
}

/* A header holding a whole number in [min, max]; -1 when replied. */
static int
header_int(struct tg_req *r, const char *name, int64_t min, int64_t max,
    int64_t *out, int *present)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(
	    r->ev), name);
	char *end;
	long long x;

	*present = v != NULL;
	if (v == NULL)
		return 0;
	x = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || x < min || x > max) {
		http_reply_error(r, 400, "invalid_field", name,
		    "%s must be a whole number from %lld to %lld", name,
		    (long long)min, (long long)max);
		return -1;
	}
	*out = x;
	return 0;
}

/* A header holding a name: printable, at most maxlen bytes. */
static int
header_str(struct tg_req *r, const char *name, int required, size_t maxlen,
    const char **out)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(
	    r->ev), name);
	size_t i, n;

	*out = NULL;
	if (v == NULL || *v == '\0') {
		if (!required)
			return 0;
		http_reply_error(r, 400, "missing_field", name, "%s is required",
		    name);
		return -1;
	}
	n = strlen(v);
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			break;
	if (n > maxlen || i < n) {
		http_reply_error(r, 400, "invalid_field", name,
		    "%s must be 1 to %zu printable bytes", name, maxlen);
		return -1;
	}
	*out = v;
	return 0;
}

void
api_authorize_check(struct tg_req *r)
{
	struct authz a;
	const char *tier_name, *tags;
	int present;

	memset(&a, 0, sizeof a);
	a.headers = 1;
	a.tier = PT_STANDARD;
	a.ttl = TTL_DEFAULT_S < r->srv->cfg.reservation_ttl_max_s ?
	    TTL_DEFAULT_S : r->srv->cfg.reservation_ttl_max_s;
	if (header_str(r, "X-Tollgate-Cost-Center", 0, 190, &a.cc) != 0 ||
	    header_str(r, "X-Tollgate-User", 0, 200, &a.user) != 0 ||
	    header_str(r, "X-Tollgate-Provider", 1, PRICING_PROVIDER_MAX,
	    &a.provider) != 0 ||
	    header_str(r, "X-Tollgate-Model", 1, PRICING_MODEL_MAX,
	    &a.model) != 0 ||
	    header_str(r, "X-Tollgate-Service-Tier", 0, 16, &tier_name) != 0 ||
	    header_str(r, "X-Tollgate-Request-Id", 0, REQUEST_ID_MAX,
	    &a.request_id) != 0 ||
	    header_int(r, "X-Tollgate-Input-Tokens", 0, PRICING_QUANTITY_MAX,
	    &a.input, &present) != 0)
		return;
	if (!present) {
		http_reply_error(r, 400, "missing_field", "X-Tollgate-Input-Tokens",
		    "X-Tollgate-Input-Tokens is required");
		return;
	}
	if (header_int(r, "X-Tollgate-Max-Output-Tokens", 1,
	    PRICING_QUANTITY_MAX, &a.max_out, &a.has_max) != 0 ||
	    header_int(r, "X-Tollgate-Cached-Input-Tokens", 0,
	    PRICING_QUANTITY_MAX, &a.cached, &present) != 0 ||
	    header_int(r, "X-Tollgate-Reservation-Ttl", 1,
	    r->srv->cfg.reservation_ttl_max_s, &a.ttl,
	    &present) != 0)
		return;
	if (tier_name != NULL && (a.tier = pricing_tier_parse(tier_name)) < 0) {
		http_reply_error(r, 400, "invalid_field", "X-Tollgate-Service-Tier",
		    "X-Tollgate-Service-Tier must be standard, batch, flex or "
		    "priority");
		return;
	}
	/* Tags as the body's JSON object, so that budgets narrowed by a tag
	 * see them here too; kept in the draft until the request ends. */
	if ((tags = evhttp_find_header(evhttp_request_get_input_headers(r->ev),
	    "X-Tollgate-Tags")) != NULL) {
		r->draft = json_loads(tags, JSON_REJECT_DUPLICATES, NULL);
		if (r->draft == NULL) {
			http_reply_error(r, 400, "invalid_field", "X-Tollgate-Tags",
			    "X-Tollgate-Tags must be a JSON object of string "
			    "values");
			return;
		}
		if (take_tags(r, &a, r->draft, "X-Tollgate-Tags") != 0)
			return;
	}
	decide(r, &a);
}
