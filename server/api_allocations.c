/*
 * api_allocations.c - POST /v1/allocations: a cost center's spend over a
 * period split to other cost centers (even, weighted by their own spend,
 * or by percentages) and booked as one balanced reallocation; GET lists
 * them.
 *
 * The body is checked completely here, then two statements run: the
 * inputs (which cost centers are missing, the source's balance, the
 * targets' spend, and any allocation already under this id), and, once
 * the split is computed by ledger/alloc.c, the booking, which takes a lock
 * per source, reads the inputs again and answers 'stale' when they moved:
 * the handler then reads and splits again, a few times at most. The id is
 * the reallocation's idempotency key: the same id and content again is a
 * duplicate with the original allocation, other content a 409.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "ledger/alloc.h"
#include "ledger/ledger.h"
#include "server/api.h"
#include "server/pgarr.h"

#define ID_MAX 200
#define MEMO_MAX 1000
#define STALE_RETRIES 3
#define HUNDRED_PERCENT (100 * LEDGER_NANOS_PER_UNIT)

enum method { M_EVEN, M_WEIGHTED, M_PERCENT };
static const char *const method_names[] = { "even", "weighted", "percent" };

struct alloc_req {
	const char *id, *source, *memo;
	enum method method;
	char from[LEDGER_TIME_BUFSZ], to[LEDGER_TIME_BUFSZ];
	char hash[2 * SHA256_DIGEST_LENGTH + 1];
	size_t n;
	const char *targets[ALLOC_TARGETS_MAX];
	int64_t weights[ALLOC_TARGETS_MAX];	/* percents, or read */
	int64_t parts[ALLOC_TARGETS_MAX];
	char *targets_array;			/* a text[] literal */
	int tries;
};

static void
req_free(struct alloc_req *a)
{
	if (a == NULL)
		return;
	free(a->targets_array);
	free(a);
}

/* The period: "month": "YYYY-MM" or "period": {"from", "to"}. */
static int
parse_period(struct tg_req *r, struct alloc_req *a)
{
	static const char *const pf[] = { "from", "to", NULL };
	json_t *month = json_object_get(r->body, "month");
	json_t *period = json_object_get(r->body, "period");
	const char *from, *to, *why;
	int64_t lo, hi;

	if (month != NULL && period != NULL) {
		http_reply_error(r, 400, "invalid_field", "period",
		    "give month or period, not both");
		return -1;
	}
	if (month != NULL) {
		if (!json_is_string(month) ||
		    chargeback_month(json_string_value(month), &lo, &hi) != 0) {
			http_reply_error(r, 400, "invalid_field", "month",
			    "month must be \"YYYY-MM\"");
			return -1;
		}
	} else if (period == NULL) {
		http_reply_error(r, 400, "missing_field", "period",
		    "period (or month) is required");
		return -1;
	} else {
		if (!json_is_object(period)) {
			http_reply_error(r, 400, "invalid_field", "period",
			    "period must be an object {\"from\", \"to\"}");
			return -1;
		}
		if (api_reject_unknown(r, period, "period.", pf) != 0 ||
		    api_get_string(r, period, "from", "period.from", 1, 64,
		    &from) != 0 ||
		    api_get_string(r, period, "to", "period.to", 1, 64,
		    &to) != 0)
			return -1;
		if (ledger_time_parse(from, strlen(from), &lo, &why) != 0) {
			http_reply_error(r, 400, "invalid_field", "period.from",
			    "period.from must be an RFC 3339 time stamp: %s",
			    why);
			return -1;
		}
		if (ledger_time_parse(to, strlen(to), &hi, &why) != 0) {
			http_reply_error(r, 400, "invalid_field", "period.to",
			    "period.to must be an RFC 3339 time stamp: %s", why);
			return -1;
		}
		if (hi <= lo) {
			http_reply_error(r, 400, "invalid_field", "period.to",
			    "period.to must be after period.from");
			return -1;
		}
	}
	ledger_time_format(lo, a->from);
	ledger_time_format(hi, a->to);
	return 0;
}

/* The targets: cost center ids, or for percent {cost_center, percent}
 * whose percents sum to exactly 100. */
static int
parse_targets(struct tg_req *r, struct alloc_req *a)
{
	static const char *const tf[] = { "cost_center", "percent", NULL };
	json_t *targets = json_object_get(r->body, "targets"), *t;
	__int128 sum = 0;
	char field[64];
	size_t i, j;

	if (targets == NULL) {
		http_reply_error(r, 400, "missing_field", "targets",
		    "targets is required");
		return -1;
	}
	if (!json_is_array(targets) || json_array_size(targets) < 1 ||
	    json_array_size(targets) > ALLOC_TARGETS_MAX) {
		http_reply_error(r, 400, "invalid_field", "targets", "targets "
		    "must be an array of 1 to %d cost centers",
		    ALLOC_TARGETS_MAX);
		return -1;
	}
	a->n = json_array_size(targets);
	json_array_foreach(targets, i, t) {
		snprintf(field, sizeof field, "targets[%zu]", i);
		if (a->method == M_PERCENT) {
			char pfx[80], pct[80];

			if (!json_is_object(t)) {
				http_reply_error(r, 400, "invalid_field", field,
				    "%s must be {\"cost_center\", \"percent\"}",
				    field);
				return -1;
			}
			snprintf(pfx, sizeof pfx, "targets[%zu].", i);
			snprintf(pct, sizeof pct, "targets[%zu].percent", i);
			snprintf(field, sizeof field, "targets[%zu].cost_center",
			    i);
			if (api_reject_unknown(r, t, pfx, tf) != 0 ||
			    api_get_string(r, t, "cost_center", field, 1, 190,
			    &a->targets[i]) != 0 ||
			    api_money_field(r, json_object_get(t, "percent"),
			    pct, &a->weights[i]) != 0)
				return -1;
			if (a->weights[i] <= 0 ||
			    a->weights[i] > HUNDRED_PERCENT) {
				http_reply_error(r, 400, "invalid_field", pct,
				    "%s must be above 0 and at most 100", pct);
				return -1;
			}
			sum += a->weights[i];
		} else {
			if (!json_is_string(t)) {
				http_reply_error(r, 400, "invalid_field", field,
				    "%s must be a cost center id (percent "
				    "targets are for method percent)", field);
				return -1;
			}
			a->targets[i] = json_string_value(t);
			a->weights[i] = 1;
		}
		if (!api_cost_center_id_ok(a->targets[i])) {
			http_reply_error(r, 400, "invalid_field", field,
			    "%s is not a cost center id", field);
			return -1;
		}
		if (strcmp(a->targets[i], a->source) == 0) {
			http_reply_error(r, 400, "invalid_field", field,
			    "the source cannot be one of its targets");
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(a->targets[j], a->targets[i]) == 0) {
				http_reply_error(r, 400, "invalid_field", field,
				    "%s names %s a second time", field,
				    a->targets[i]);
				return -1;
			}
	}
	if (a->method == M_PERCENT && sum != HUNDRED_PERCENT) {
		char s[LEDGER_MONEY_BUFSZ];

		ledger_money_format(sum > INT64_MAX ? INT64_MAX : (int64_t)sum,
		    s);
		http_reply_error(r, 400, "invalid_field", "targets",
		    "the percents sum to %s, not exactly 100", s);
		return -1;
	}
	return 0;
}

/* The content's hash, spelling aside ("60" and "60.0" are one percent;
 * times are compared as instants), and the targets as a text[]. */
static int
digest(struct alloc_req *a)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	json_t *canon, *ts = json_array(), *arr = json_array();
	char *s;
	size_t i;

	if (ts == NULL || arr == NULL)
		goto fail;
	for (i = 0; i < a->n; i++) {
		json_array_append_new(ts, a->method == M_PERCENT ?
		    json_pack("[s, I]", a->targets[i],
		    (json_int_t)a->weights[i]) : json_string(a->targets[i]));
		json_array_append_new(arr, json_string(a->targets[i]));
	}
	canon = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "id", a->id,
	    "source", a->source, "from", a->from, "to", a->to, "method",
	    method_names[a->method], "memo", a->memo, "targets", ts);
	if (canon == NULL)
		goto fail;
	s = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(canon);
	if (s == NULL)
		goto fail;
	SHA256((const unsigned char *)s, strlen(s), d);
	free(s);
	keys_hex(d, sizeof d, a->hash);
	/* A JSON array of strings is a PostgreSQL array literal once its
	 * brackets are braces: ids hold no quotes or backslashes. */
	a->targets_array = json_dumps(arr, JSON_COMPACT);
	if (a->targets_array == NULL)
		goto fail;
	a->targets_array[0] = '{';
	a->targets_array[strlen(a->targets_array) - 1] = '}';
	json_decref(ts);
	json_decref(arr);
	return 0;
fail:
	json_decref(ts);
	json_decref(arr);
	return -1;
}

static void inputs_cb(void *arg, const struct db_result *res);

/*
 * The steps after the body is read own the request's alloc_req: each
 * returns 1 when it handed it on to a query (r->state), 0 when it replied
 * and the caller frees it.
 */
static int
read_inputs(struct tg_req *r, struct alloc_req *a)
{
	const char *p[6] = { a->source, a->targets_array, a->from, a->to,
	    a->id, a->hash };

	r->state = a;
	return http_query(r, "allocation_inputs", 6, p, inputs_cb) == 0;
}

/* Reply with an allocation document and its status. */
static void
reply_allocation(struct tg_req *r, const char *status, const char *doc)
{
	json_t *j = json_loads(doc, 0, NULL);

	if (j == NULL) {
		http_reply_error(r, 500, "internal_error", NULL,
		    "unreadable allocation");
		return;
	}
	json_object_set_new(j, "status", json_string(status));
	http_reply_json(r, strcmp(status, "recorded") == 0 ? 201 : 200, j);
}

static void
reply_conflict(struct tg_req *r, const struct alloc_req *a)
{
	http_reply_error(r, 409, "idempotency_conflict", "id",
	    "allocation id %s was used before with other content", a->id);
}

static int
book_step(struct tg_req *r, struct alloc_req *a, const struct db_result *res)
{
	const char *status;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return 0;
	}
	status = PQgetvalue(res->res, 0, 0);
	if (strcmp(status, "stale") == 0 && ++a->tries < STALE_RETRIES)
		return read_inputs(r, a);
	if (strcmp(status, "stale") == 0)
		http_reply_error(r, 503, "database_busy", NULL, "the source's "
		    "spend kept changing while it was split; try again");
	else if (strcmp(status, "conflict") == 0)
		reply_conflict(r, a);
	else
		reply_allocation(r, status, PQgetvalue(res->res, 0, 1));
	return 0;
}

static void
book_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct alloc_req *a = r->state;

	r->state = NULL;
	if (book_step(r, a, res) == 0)
		req_free(a);
}

/* Read "{1,2,3}" into a->weights; -1 when it does not hold n numbers. */
static int
read_weights(struct alloc_req *a, const char *s)
{
	return pgarr_read_ints(s, a->weights, a->n) == (int)a->n ? 0 : -1;
}

static int
book(struct tg_req *r, struct alloc_req *a, int64_t amount)
{
	char ratio[ALLOC_RATIO_BUFSZ];
	const char *why, *p[2];
	json_t *body, *ts;
	char *s;
	size_t i;
	int queued;

	if (alloc_split(amount, a->weights, a->n, a->parts, &why) != 0) {
		http_reply_error(r, 500, "internal_error", NULL, "%s", why);
		return 0;
	}
	ts = json_array();
	for (i = 0; i < a->n; i++) {
		alloc_ratio(a->parts[i], amount, ratio);
		json_array_append_new(ts, json_pack("{s:s, s:I, s:I, s:s}",
		    "cost_center", a->targets[i], "weight",
		    (json_int_t)a->weights[i], "amount",
		    (json_int_t)a->parts[i], "ratio", ratio));
	}
	body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:s}",
	    "id", a->id, "hash", a->hash, "source", a->source, "from", a->from,
	    "to", a->to, "method", method_names[a->method], "amount",
	    (json_int_t)amount, "targets", ts, "memo", a->memo);
	s = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (s == NULL) {
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return 0;
	}
	p[0] = s;
	p[1] = r->key.id;
	r->state = a;
	queued = http_query(r, "allocation_book", 2, p, book_cb) == 0;
	free(s);
	return queued;
}

static int
inputs_step(struct tg_req *r, struct alloc_req *a,
    const struct db_result *res)
{
	const char *missing, *existing;
	int64_t amount;
	int sum = 0;
	char field[64];
	size_t i;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return 0;
	}
	existing = PQgetisnull(res->res, 0, 3) ? NULL :
	    PQgetvalue(res->res, 0, 3);
	if (existing != NULL && strcmp(existing, "conflict") == 0) {
		reply_conflict(r, a);
		return 0;
	}
	if (existing != NULL) {
		/* Answered from what was booked, whatever the spend now. */
		reply_allocation(r, existing, PQgetvalue(res->res, 0, 4));
		return 0;
	}
	missing = PQgetvalue(res->res, 0, 0);
	if (strcmp(missing, "{}") != 0) {
		char first[200];

		snprintf(first, sizeof first, "%.*s",
		    (int)strcspn(missing + 1, ",}"), missing + 1);
		snprintf(field, sizeof field, "source");
		for (i = 0; i < a->n; i++)
			if (strcmp(a->targets[i], first) == 0)
				snprintf(field, sizeof field, "targets[%zu]%s",
				    i, a->method == M_PERCENT ?
				    ".cost_center" : "");
		http_reply_error(r, 400, "unknown_cost_center", field,
		    "no live cost center %s", first);
		return 0;
	}
	amount = atoll(PQgetvalue(res->res, 0, 1));
	if (amount <= 0) {
		http_reply_error(r, 422, "nothing_to_allocate", "source",
		    "expense:%s has a balance of %s nano-units over the period; "
		    "there is nothing to allocate", a->source,
		    PQgetvalue(res->res, 0, 1));
		return 0;
	}
	if (a->method != M_WEIGHTED)
		return book(r, a, amount);
	if (read_weights(a, PQgetvalue(res->res, 0, 2)) != 0) {
		http_reply_error(r, 500, "internal_error", NULL,
		    "unreadable weights");
		return 0;
	}
	for (i = 0; i < a->n; i++) {
		if (a->weights[i] < 0) {
			snprintf(field, sizeof field, "targets[%zu]", i);
			http_reply_error(r, 422, "negative_weight", field,
			    "%s spent less than nothing over the period (its "
			    "credits exceed its debits)", a->targets[i]);
			return 0;
		}
		if (a->weights[i] > 0)
			sum = 1;
	}
	if (sum == 0) {
		http_reply_error(r, 422, "no_weights", "targets", "none of the "
		    "targets spent anything over the period to weigh the "
		    "split by");
		return 0;
	}
	return book(r, a, amount);
}

static void
inputs_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct alloc_req *a = r->state;

	r->state = NULL;
	if (inputs_step(r, a, res) == 0)
		req_free(a);
}

void
api_allocation_create(struct tg_req *r)
{
	static const char *const top[] = { "id", "source", "month", "period",
	    "method", "targets", "memo", NULL };
	struct alloc_req *a;
	const char *method;
	int m;

	if ((a = calloc(1, sizeof *a)) == NULL) {
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	if (api_reject_unknown(r, r->body, "", top) != 0 ||
	    api_get_string(r, r->body, "id", "id", 1, ID_MAX, &a->id) != 0 ||
	    api_get_string(r, r->body, "source", "source", 1, 190,
	    &a->source) != 0 ||
	    api_get_string(r, r->body, "memo", "memo", 0, MEMO_MAX,
	    &a->memo) != 0 ||
	    api_get_string(r, r->body, "method", "method", 1, 16,
	    &method) != 0)
		goto out;
	if (!api_cost_center_id_ok(a->source)) {
		http_reply_error(r, 400, "invalid_field", "source",
		    "source is not a cost center id");
		goto out;
	}
	for (m = 0; m < 3 && strcmp(method, method_names[m]) != 0; m++)
		;
	if (m == 3) {
		http_reply_error(r, 400, "invalid_field", "method",
		    "method is even, weighted or percent");
		goto out;
	}
	a->method = (enum method)m;
	if (a->memo == NULL)
		a->memo = "";
	if (parse_period(r, a) != 0 || parse_targets(r, a) != 0)
		goto out;
	if (digest(a) != 0) {
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		goto out;
	}
	if (read_inputs(r, a))
		return;
out:
	req_free(a);
}

static void
list_cb(void *arg, const struct db_result *res)
{
	api_reply_column(arg, res, "allocations");
}

void
api_allocation_list(struct tg_req *r)
{
	(void)http_query(r, "allocation_list", 0, NULL, list_cb);
}
