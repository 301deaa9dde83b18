/*
 * test_usage_api.c - usage events through the API: the cost-center tree
 * they are booked to (with its audit log), every body shape and provider
 * usage object priced to the nano-unit and posted to the ledger and the
 * daily rollups, each id booked once (in a batch, across requests, across
 * a restart, under concurrent retries), bad events refused one by one
 * beside good ones, unpriced events kept at zero, the key's default cost
 * center, a database outage answered with 503 and a safe retry, and the
 * ledger still verifying at the end.
 *
 * Every test books to its own cost center under "ut", so that balances
 * before and after are the test's own. Prices are those of the LiteLLM
 * snapshot the price tests import, in force from 2026-01-01.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ledger/ledger.h"
#include "tests/integration/itest.h"

#define AT "2026-10-05T12:00:00Z"
#define DAY "2026-10-05"
#define GPT4O "\"provider\":\"openai\",\"model\":\"gpt-4o\""
#define OPUS "\"provider\":\"anthropic\",\"model\":\"claude-opus-4-1\""
#define GEMINI "\"provider\":\"vertex_ai\",\"model\":\"gemini-2.5-pro\""
/* One event: its id, its cost center, then the rest of its members. */
#define EV(id, cc, rest) "{\"id\":\"" id "\",\"cost_center\":\"" cc "\"," \
	"\"occurred_at\":\"" AT "\"," rest "}"

/* ---- helpers ---- */


/* POST /v1/usage with exactly one Content-Type (ctype) and len bytes of
 * data; http() always says application/json, and NDJSON and raw bytes
 * need their own. */
static struct resp *
post_as(const char *key, const char *ctype, const char *data, size_t len)
{
	struct resp *r = calloc(1, sizeof *r);
	struct curl_slist *h = NULL;
	struct buf b = { NULL, 0 };
	char auth[200], ct[160];
	CURL *c = curl_easy_init();

	snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
	snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, ct);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, server_url("/v1/usage"));
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, itest_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	else
		r->status = -1;
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	r->body = b.p != NULL ? b.p : strdup("");
	r->json = json_loads(r->body, 0, NULL);
	return r;
}

static struct resp *
ndjson(const char *key, const char *text)
{
	return post_as(key, "application/x-ndjson", text, strlen(text));
}

static struct resp *
usage(const char *key, const char *body)
{
	return http("POST", "/v1/usage", key, body, NULL);
}

static json_t *
res_at(const struct resp *r, size_t i)
{
	return json_array_get(json_object_get(r->json, "results"), i);
}

static size_t
nresults(const struct resp *r)
{
	return json_array_size(json_object_get(r->json, "results"));
}

/* A string member of result i, or "". */
static const char *
res_str(const struct resp *r, size_t i, const char *name)
{
	const char *s = json_string_value(json_object_get(res_at(r, i), name));

	return s != NULL ? s : "";
}

/* A member of result i's error, or "". */
static const char *
res_err(const struct resp *r, size_t i, const char *name)
{
	const char *s = json_string_value(json_object_get(json_object_get(
	    res_at(r, i), "error"), name));

	return s != NULL ? s : "";
}

/* Result i is status (recorded or duplicate) of event id, costing cost. */
static void
expect_booked(int line, const struct resp *r, size_t i, const char *status,
    const char *id, const char *cost)
{
	json_t *x = res_at(r, i);

	CHECK(r->status == 200 && x != NULL, "line %d: result %zu: %ld %s",
	    line, i, r->status, r->body);
	if (x == NULL)
		return;
	CHECK(json_integer_value(json_object_get(x, "index")) == (json_int_t)i,
	    "line %d: result %zu has index %lld", line, i,
	    (long long)json_integer_value(json_object_get(x, "index")));
	CHECK(strcmp(res_str(r, i, "status"), status) == 0 &&
	    strcmp(res_str(r, i, "id"), id) == 0, "line %d: result %zu, want "
	    "%s %s: %s", line, i, status, id, r->body);
	CHECK(strcmp(res_str(r, i, "cost"), cost) == 0 &&
	    strcmp(res_str(r, i, "currency"), "USD") == 0,
	    "line %d: result %zu: cost %s %s, want %s USD", line, i,
	    res_str(r, i, "cost"), res_str(r, i, "currency"), cost);
	CHECK(strspn(res_str(r, i, "transaction_id"), "0123456789") > 0 &&
	    json_object_get(x, "error") == NULL, "line %d: result %zu: %s",
	    line, i, r->body);
}
#define BOOKED(r, i, status, id, cost) \
	expect_booked(__LINE__, (r), (i), (status), (id), (cost))

/* Result i is a rejection with code and field (NULL: none, that is no
 * field member or a null one). */
static void
expect_rejected(int line, const struct resp *r, size_t i, const char *code,
    const char *field)
{
	json_t *x = res_at(r, i);
	json_t *f = json_object_get(json_object_get(x, "error"), "field");

	CHECK(r->status == 200 && x != NULL, "line %d: result %zu: %ld %.300s",
	    line, i, r->status, r->body);
	if (x == NULL)
		return;
	CHECK(json_integer_value(json_object_get(x, "index")) == (json_int_t)i,
	    "line %d: result %zu has index %lld", line, i,
	    (long long)json_integer_value(json_object_get(x, "index")));
	CHECK(strcmp(res_str(r, i, "status"), "rejected") == 0 &&
	    strcmp(res_err(r, i, "code"), code) == 0, "line %d: result %zu: "
	    "status %s code %s, want rejected %s", line, i,
	    res_str(r, i, "status"), res_err(r, i, "code"), code);
	CHECK(field != NULL ? strcmp(res_err(r, i, "field"), field) == 0 :
	    f == NULL || json_is_null(f), "line %d: result %zu: field %s, want %s", line, i,
	    res_err(r, i, "field"), field != NULL ? field : "(none)");
	CHECK(*res_err(r, i, "message") != '\0', "line %d: result %zu: no "
	    "message", line, i);
	CHECK(json_object_get(x, "transaction_id") == NULL &&
	    json_object_get(x, "cost") == NULL, "line %d: result %zu: a "
	    "rejected event has a transaction: %s", line, i, r->body);
}
#define REJECTED(r, i, code, field) \
	expect_rejected(__LINE__, (r), (i), (code), (field))

static const char *
vdbv(const char *fmt, va_list ap)
{
	char sql[2048];
	const char *v;

	vsnprintf(sql, sizeof sql, fmt, ap);
	v = db_value(sql);
	return v != NULL ? v : "(error)";
}

/* One value of a query built with printf formatting, or "(error)". */
static const char *
dbv(const char *fmt, ...)
{
	const char *v;
	va_list ap;

	va_start(ap, fmt);
	v = vdbv(fmt, ap);
	va_end(ap);
	return v;
}

/* The same as a number, or -1. */
static long long
dbn(const char *fmt, ...)
{
	const char *v;
	va_list ap;

	va_start(ap, fmt);
	v = vdbv(fmt, ap);
	va_end(ap);
	return strcmp(v, "(error)") == 0 ? -1 : atoll(v);
}

/* An account's balance in nano-units through the API (with its subtree
 * folded in when subtree): 0 for an account nothing was ever posted to,
 * INT64_MIN for any other answer. */
static int64_t
balance(const char *account, int subtree)
{
	char path[512];
	struct resp *r;
	json_t *rows;
	const char *s, *why;
	int64_t v = INT64_MIN;

	snprintf(path, sizeof path, "/v1/ledger/balances?account=%s%s",
	    account, subtree ? "&subtree=true" : "");
	r = http("GET", path, finance_key, NULL, NULL);
	rows = json_object_get(r->json, "balances");
	if (r->status == 404 && strcmp(err_code(r), "unknown_account") == 0)
		v = 0;
	else if (r->status == 200 && json_array_size(rows) == 1) {
		s = json_string_value(json_object_get(json_array_get(rows, 0),
		    "balance"));
		if (s == NULL || ledger_money_parse(s, strlen(s), &v, &why) != 0)
			v = INT64_MIN;
	}
	resp_free(r);
	return v;
}

/* Make sure cost center id exists (created here or by an earlier test). */
static int
ensure_center(const char *id, const char *name)
{
	char body[512];
	struct resp *r;
	int ok;

	snprintf(body, sizeof body, "{\"id\":\"%s\",\"name\":\"%s\"}", id, name);
	r = http("POST", "/v1/cost-centers", admin_key, body, NULL);
	ok = r->status == 201 || (r->status == 409 &&
	    strcmp(err_code(r), "cost_center_exists") == 0);
	CHECK(ok, "create %s: %ld %s", id, r->status, r->body);
	resp_free(r);
	return ok;
}

static struct resp *
patch_center(const char *id, const char *key, const char *body)
{
	char path[300];

	snprintf(path, sizeof path, "/v1/cost-centers/%s", id);
	return http("PATCH", path, key, body, NULL);
}

/* The ids of a cost-center list reply, space-separated, in order. */
static void
list_ids(const struct resp *r, char *out, size_t outsz)
{
	json_t *a = json_object_get(r->json, "cost_centers"), *c;
	size_t i, n = 0;

	out[0] = '\0';
	json_array_foreach(a, i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));

		if (id != NULL && strncmp(id, "ut", 2) == 0 &&
		    (id[2] == '\0' || id[2] == '/'))
			n += (size_t)snprintf(out + n, n < outsz ? outsz - n : 0,
			    "%s%s", n > 0 ? " " : "", id);
	}
}

static char *
money_str(int64_t v, char buf[LEDGER_MONEY_BUFSZ])
{
	if (v == INT64_MIN)
		snprintf(buf, LEDGER_MONEY_BUFSZ, "(no balance)");
	else
		ledger_money_format(v, buf);
	return buf;
}

/* ---- tests ---- */

/* Create, list, read with the subtree, change and archive; every refused
 * request writes nothing; every change has its audit row. */
static void
t_cost_center_tree(void)
{
	char admin_id[64], ids[1024], created_at[64];
	long long centers, audit = db_count("audit_log"), tx;
	struct resp *r;
	json_t *sub, *tags;
	size_t i;
	static const struct {
		const char *body;
		int status;
		const char *code, *field;
	} bad[] = {
		{ "{\"id\":\"ut/nope/x\",\"name\":\"X\"}", 400, "unknown_parent", "id" },
		{ "{\"id\":\"ut/search\",\"name\":\"Again\"}", 409,
		  "cost_center_exists", "id" },
		{ "{\"id\":\"UT/Search\",\"name\":\"X\"}", 400, "invalid_field", "id" },
		{ "{\"id\":\"ut//x\",\"name\":\"X\"}", 400, "invalid_field", "id" },
		{ "{\"id\":\"ut/has space\",\"name\":\"X\"}", 400, "invalid_field", "id" },
		{ "{\"id\":\"/ut\",\"name\":\"X\"}", 400, "invalid_field", "id" },
		{ "{\"id\":\"ut/x/\",\"name\":\"X\"}", 400, "invalid_field", "id" },
		{ "{\"id\":\"\",\"name\":\"X\"}", 400, "invalid_field", "id" },
		{ "{\"id\":7,\"name\":\"X\"}", 400, "invalid_field", "id" },
		{ "{\"name\":\"X\"}", 400, "missing_field", "id" },
		{ "{\"id\":\"ut/x\"}", 400, "missing_field", "name" },
		{ "{\"id\":\"ut/x\",\"name\":\"X\",\"colour\":\"red\"}", 400,
		  "unknown_field", "colour" },
		{ "{\"id\":\"ut/x\",\"name\":\"X\",\"tags\":[\"a\"]}", 400,
		  "invalid_field", "tags" },
		{ "{\"id\":\"ut/x\",\"name\":\"X\",\"tags\":{\"a\":1}}", 400,
		  "invalid_field", "tags.a" },
	};

	snprintf(admin_id, sizeof admin_id, "%s", dbv("SELECT id FROM api_keys "
	    "WHERE name = 'itest-admin'"));

	/* A root, then children whose parent is their path's prefix. */
	r = http("POST", "/v1/cost-centers", admin_key,
	    "{\"id\":\"ut\",\"name\":\"Usage tests\"}", NULL);
	CHECK(r->status == 201, "%ld %s", r->status, r->body);
	CHECK(strcmp(jstr(r, "id"), "ut") == 0 &&
	    json_is_null(json_object_get(r->json, "parent")) &&
	    strcmp(jstr(r, "name"), "Usage tests") == 0 &&
	    strcmp(jstr(r, "owner"), "") == 0 &&
	    json_is_object(json_object_get(r->json, "tags")) &&
	    json_object_size(json_object_get(r->json, "tags")) == 0 &&
	    json_is_false(json_object_get(r->json, "archived")), "%s", r->body);
	CHECK(strncmp(jstr(r, "created_at"), "20", 2) == 0 &&
	    strcmp(jstr(r, "created_at"), jstr(r, "updated_at")) == 0,
	    "%s", r->body);
	resp_free(r);
	r = http("POST", "/v1/cost-centers", admin_key,
	    "{\"id\":\"ut/search\",\"name\":\"Search\",\"owner\":"
	    "\"search-team@example.com\",\"tags\":{\"team\":\"search\","
	    "\"env\":\"prod\"}}", NULL);
	CHECK(r->status == 201 && strcmp(jstr(r, "parent"), "ut") == 0 &&
	    strcmp(jstr(r, "owner"), "search-team@example.com") == 0,
	    "%ld %s", r->status, r->body);
	tags = json_object_get(r->json, "tags");
	CHECK(json_object_size(tags) == 2 && strcmp(json_string_value(
	    json_object_get(tags, "env")), "prod") == 0, "%s", r->body);
	snprintf(created_at, sizeof created_at, "%s", jstr(r, "created_at"));
	resp_free(r);
	r = http("POST", "/v1/cost-centers", admin_key,
	    "{\"id\":\"ut/search/ranker\",\"name\":\"Ranker\"}", NULL);
	CHECK(r->status == 201 && strcmp(jstr(r, "parent"), "ut/search") == 0,
	    "%ld %s", r->status, r->body);
	resp_free(r);
	r = http("POST", "/v1/cost-centers", admin_key,
	    "{\"id\":\"ut/legacy\",\"name\":\"Legacy\"}", NULL);
	CHECK(r->status == 201, "%ld %s", r->status, r->body);
	resp_free(r);
	CHECK(db_count("audit_log") == audit + 4, "4 creates, %lld audit rows",
	    db_count("audit_log") - audit);

	/* Refusals: the right code and field, and nothing written. */
	centers = db_count("cost_centers");
	audit = db_count("audit_log");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = http("POST", "/v1/cost-centers", admin_key, bad[i].body, NULL);
		CHECK_ERR(r, bad[i].status, bad[i].code, bad[i].field);
		if (r->status != bad[i].status)
			fprintf(stderr, "    case %zu: %s\n", i, bad[i].body);
		resp_free(r);
	}
	r = http("POST", "/v1/cost-centers", gateway_key,
	    "{\"id\":\"ut/gw\",\"name\":\"X\"}", NULL);
	CHECK_ERR(r, 403, "forbidden", NULL);
	resp_free(r);
	r = http("POST", "/v1/cost-centers", finance_key,
	    "{\"id\":\"ut/fin\",\"name\":\"X\"}", NULL);
	CHECK_ERR(r, 403, "forbidden", NULL);
	resp_free(r);
	CHECK(db_count("cost_centers") == centers && db_count("audit_log") ==
	    audit, "a refused create wrote");

	/* The list, parents before children; any key may read it. */
	r = http("GET", "/v1/cost-centers", gateway_key, NULL, NULL);
	list_ids(r, ids, sizeof ids);
	CHECK(r->status == 200 && strcmp(ids, "ut ut/legacy ut/search "
	    "ut/search/ranker") == 0, "%ld: %s", r->status, ids);
	resp_free(r);

	/* One center with its descendants, addressed by its path. */
	r = http("GET", "/v1/cost-centers/ut/search", finance_key, NULL, NULL);
	sub = json_object_get(r->json, "subtree");
	CHECK(r->status == 200 && strcmp(jstr(r, "id"), "ut/search") == 0 &&
	    strcmp(jstr(r, "name"), "Search") == 0, "%ld %s", r->status,
	    r->body);
	CHECK(json_array_size(sub) == 1 && strcmp(json_string_value(
	    json_object_get(json_array_get(sub, 0), "id")), "ut/search/ranker")
	    == 0, "subtree: %s", r->body);
	resp_free(r);
	r = http("GET", "/v1/cost-centers/ut", finance_key, NULL, NULL);
	sub = json_object_get(r->json, "subtree");
	CHECK(r->status == 200 && json_array_size(sub) == 3 &&
	    strcmp(json_string_value(json_object_get(json_array_get(sub, 2),
	    "id")), "ut/search/ranker") == 0, "%ld %s", r->status, r->body);
	resp_free(r);
	r = http("GET", "/v1/cost-centers/ut/search/ranker", finance_key, NULL,
	    NULL);
	CHECK(r->status == 200 && json_array_size(json_object_get(r->json,
	    "subtree")) == 0 && strcmp(jstr(r, "parent"), "ut/search") == 0,
	    "%ld %s", r->status, r->body);
	resp_free(r);
	r = http("GET", "/v1/cost-centers/ut/missing", finance_key, NULL, NULL);
	CHECK_ERR(r, 404, "unknown_cost_center", NULL);
	resp_free(r);

	/* Change: only the fields given; tags are replaced whole. */
	r = patch_center("ut/search", admin_key, "{\"name\":\"Search & ranking\","
	    "\"tags\":{\"team\":\"search\"}}");
	CHECK(r->status == 200 && strcmp(jstr(r, "name"), "Search & ranking")
	    == 0 && strcmp(jstr(r, "owner"), "search-team@example.com") == 0 &&
	    json_object_size(json_object_get(r->json, "tags")) == 1 &&
	    json_is_false(json_object_get(r->json, "archived")),
	    "%ld %s", r->status, r->body);
	CHECK(strcmp(jstr(r, "created_at"), created_at) == 0 &&
	    *jstr(r, "updated_at") != '\0', "%s", r->body);
	resp_free(r);
	CHECK(strcmp(dbv("SELECT updated_at >= created_at FROM cost_centers "
	    "WHERE id = 'ut/search'"), "t") == 0, "updated_at");
	audit = db_count("audit_log");
	r = patch_center("ut/nope", admin_key, "{\"name\":\"X\"}");
	CHECK_ERR(r, 404, "unknown_cost_center", NULL);
	resp_free(r);
	r = patch_center("ut/search", admin_key, "{\"archived\":\"yes\"}");
	CHECK_ERR(r, 400, "invalid_field", "archived");
	resp_free(r);
	r = patch_center("ut/search", admin_key, "{\"id\":\"ut/other\"}");
	CHECK_ERR(r, 400, "unknown_field", "id");
	resp_free(r);
	r = patch_center("ut/search", admin_key, "{\"name\":\"\"}");
	CHECK_ERR(r, 400, "invalid_field", "name");
	resp_free(r);
	r = patch_center("ut/search", admin_key, "{\"tags\":{\"k\":true}}");
	CHECK_ERR(r, 400, "invalid_field", "tags.k");
	resp_free(r);
	r = patch_center("ut/search", gateway_key, "{\"name\":\"X\"}");
	CHECK_ERR(r, 403, "forbidden", NULL);
	resp_free(r);
	CHECK(db_count("audit_log") == audit, "a refused change wrote");
	CHECK(strcmp(dbv("SELECT name FROM cost_centers WHERE id = "
	    "'ut/search'"), "Search & ranking") == 0, "name not kept");

	/* The audit log: who, what, before and after. */
	CHECK(dbn("SELECT count(*) FROM audit_log WHERE entity = 'cost_center' "
	    "AND entity_id = 'ut/search'") == 2, "ut/search audit rows");
	{
		char want[256];

		snprintf(want, sizeof want, "create|%s|t|Search|prod|"
		    "search-team@example.com", admin_id);
		CHECK(strcmp(dbv("SELECT concat_ws('|', action, key_id, before IS "
		    "NULL, after ->> 'name', after -> 'tags' ->> 'env', after ->> "
		    "'owner') FROM audit_log WHERE entity = 'cost_center' AND "
		    "entity_id = 'ut/search' ORDER BY id LIMIT 1"), want) == 0,
		    "create row: %s, want %s", dbv("SELECT concat_ws('|', action, "
		    "key_id, before IS NULL, after ->> 'name', after -> 'tags' ->> "
		    "'env', after ->> 'owner') FROM audit_log WHERE entity = "
		    "'cost_center' AND entity_id = 'ut/search' ORDER BY id LIMIT 1"),
		    want);
		snprintf(want, sizeof want, "update|%s|Search|Search & ranking|"
		    "t|t", admin_id);
		CHECK(strcmp(dbv("SELECT concat_ws('|', action, key_id, before ->> "
		    "'name', after ->> 'name', before -> 'tags' = "
		    "'{\"team\":\"search\",\"env\":\"prod\"}'::jsonb, after -> "
		    "'tags' = '{\"team\":\"search\"}'::jsonb) FROM audit_log WHERE "
		    "entity = 'cost_center' AND entity_id = 'ut/search' ORDER BY id "
		    "DESC LIMIT 1"), want) == 0, "update row: %s, want %s",
		    dbv("SELECT concat_ws('|', action, key_id, before ->> 'name', "
		    "after ->> 'name', before -> 'tags' = '{\"team\":\"search\","
		    "\"env\":\"prod\"}'::jsonb, after -> 'tags' = "
		    "'{\"team\":\"search\"}'::jsonb) FROM audit_log WHERE entity = "
		    "'cost_center' AND entity_id = 'ut/search' ORDER BY id DESC "
		    "LIMIT 1"), want);
	}

	/* Archived: hidden from the list unless asked for, still readable,
	 * and refused for new usage. */
	r = patch_center("ut/legacy", admin_key, "{\"archived\":true}");
	CHECK(r->status == 200 && json_is_true(json_object_get(r->json,
	    "archived")), "%ld %s", r->status, r->body);
	resp_free(r);
	CHECK(strcmp(dbv("SELECT concat_ws('|', before ->> 'archived', after ->> "
	    "'archived') FROM audit_log WHERE entity_id = 'ut/legacy' ORDER BY "
	    "id DESC LIMIT 1"), "false|true") == 0, "archive audit row");
	r = http("GET", "/v1/cost-centers", finance_key, NULL, NULL);
	list_ids(r, ids, sizeof ids);
	CHECK(r->status == 200 && strcmp(ids, "ut ut/search ut/search/ranker")
	    == 0, "archived listed: %s", ids);
	resp_free(r);
	r = http("GET", "/v1/cost-centers?include_archived=true", finance_key,
	    NULL, NULL);
	list_ids(r, ids, sizeof ids);
	CHECK(r->status == 200 && strcmp(ids, "ut ut/legacy ut/search "
	    "ut/search/ranker") == 0, "include_archived: %s", ids);
	resp_free(r);
	r = http("GET", "/v1/cost-centers?include_archived=yes", finance_key,
	    NULL, NULL);
	CHECK_ERR(r, 400, "invalid_parameter", "include_archived");
	resp_free(r);
	r = http("GET", "/v1/cost-centers/ut/legacy", finance_key, NULL, NULL);
	CHECK(r->status == 200 && json_is_true(json_object_get(r->json,
	    "archived")), "%ld %s", r->status, r->body);
	resp_free(r);

	tx = db_count("transactions");
	/* gpt-4o: 100 x 2.5e-06 = 0.00025 */
	r = usage(gateway_key, EV("ut-legacy-1", "ut/legacy", GPT4O
	    ",\"usage\":{\"input_tokens\":100}"));
	CHECK_ERR(r, 400, "unknown_cost_center", "cost_center");
	resp_free(r);
	CHECK(db_count("transactions") == tx && balance("expense:ut/legacy", 0)
	    == 0, "usage was booked to an archived cost center");
	/* Back in use, the same id books: a refused event used nothing up. */
	r = patch_center("ut/legacy", admin_key, "{\"archived\":false}");
	CHECK(r->status == 200 && json_is_false(json_object_get(r->json,
	    "archived")), "%ld %s", r->status, r->body);
	resp_free(r);
	r = usage(gateway_key, EV("ut-legacy-1", "ut/legacy", GPT4O
	    ",\"usage\":{\"input_tokens\":100}"));
	BOOKED(r, 0, "recorded", "ut-legacy-1", "0.000250000");
	resp_free(r);
	CHECK(balance("expense:ut/legacy", 0) == 250000, "balance after "
	    "unarchiving");
	r = patch_center("ut/legacy", admin_key, "{\"archived\":true}");
	CHECK(r->status == 200, "%ld %s", r->status, r->body);
	resp_free(r);
	r = usage(gateway_key, "[" EV("ut-legacy-2", "ut/legacy", GPT4O
	    ",\"usage\":{\"input_tokens\":100}") "]");
	REJECTED(r, 0, "unknown_cost_center", "cost_center");
	resp_free(r);
	CHECK(dbn("SELECT count(*) FROM transactions WHERE idempotency_key = "
	    "'ut-legacy-2'") == 0, "booked to an archived cost center");
}

/* A single object, an array and NDJSON, with each of the four usage
 * objects: every cost to the nano-unit, in the results, the ledger and
 * the daily rollups. */
static void
t_ingest_paths(void)
{
	/*
	 * The six events, all on 2026-10-05 in ut/ingest:
	 * 1 gpt-4o, usage: 1000 x 2.5e-06 + 500 x 1e-05 = 0.0025 + 0.005
	 *   = 0.0075
	 * 2 gpt-4o, usage: 2000 x 2.5e-06 + 4000 cached x 1.25e-06 +
	 *   100 x 1e-05 = 0.005 + 0.005 + 0.001 = 0.011
	 * 3 claude-opus-4-1, usage: 10 x 1.5e-05 + 10 x 7.5e-05 =
	 *   0.00015 + 0.00075 = 0.0009
	 * 4 gpt-4o, usage_openai: prompt 1200 of which 1000 cached,
	 *   completion 300 of which 100 reasoning: input 200 x 2.5e-06 +
	 *   cached 1000 x 1.25e-06 + output 200 x 1e-05 + reasoning 100 x
	 *   1e-05 (priced as output) = 0.0005 + 0.00125 + 0.002 + 0.001 =
	 *   0.00475
	 * 5 claude-opus-4-1, usage_anthropic: 1000 x 1.5e-05 + 5000 cache
	 *   reads x 1.5e-06 + 100 5m writes x 1.875e-05 + 50 1h writes x
	 *   3e-05 + 200 x 7.5e-05 = 0.015 + 0.0075 + 0.001875 + 0.0015 +
	 *   0.015 = 0.040875
	 * 6 gemini-2.5-pro (vertex_ai), usage_gemini: prompt 3000 of which
	 *   1000 cached, 400 candidates, 600 thoughts: input 2000 x
	 *   1.25e-06 + cached 1000 x 1.25e-07 + output 400 x 1e-05 +
	 *   reasoning 600 x 1e-05 (priced as output) = 0.0025 + 0.000125 +
	 *   0.004 + 0.006 = 0.012625
	 * Total 0.0075 + 0.011 + 0.0009 + 0.00475 + 0.040875 + 0.012625 =
	 * 0.07765; payable:openai 0.0075 + 0.011 + 0.00475 = 0.02325,
	 * payable:anthropic 0.0009 + 0.040875 = 0.041775, payable:vertex_ai
	 * 0.012625.
	 */
	static const char nd[] =
	    EV("ut-ing-4", "ut/ingest", GPT4O ",\"usage_openai\":{"
	    "\"prompt_tokens\":1200,\"completion_tokens\":300,\"total_tokens\":"
	    "1500,\"prompt_tokens_details\":{\"cached_tokens\":1000},"
	    "\"completion_tokens_details\":{\"reasoning_tokens\":100}}") "\n"
	    "\n"
	    "{\"id\":\"ut-ing-bad\",\"provider\":\n"
	    EV("ut-ing-5", "ut/ingest", OPUS ",\"usage_anthropic\":{"
	    "\"input_tokens\":1000,\"output_tokens\":200,"
	    "\"cache_read_input_tokens\":5000,\"cache_creation_input_tokens\":150,"
	    "\"cache_creation\":{\"ephemeral_5m_input_tokens\":100,"
	    "\"ephemeral_1h_input_tokens\":50},\"service_tier\":\"standard\"}")
	    "\r\n"
	    EV("ut-ing-6", "ut/ingest", GEMINI ",\"usage_gemini\":{"
	    "\"promptTokenCount\":3000,\"cachedContentTokenCount\":1000,"
	    "\"candidatesTokenCount\":400,\"thoughtsTokenCount\":600,"
	    "\"totalTokenCount\":4000}");
	int64_t ut0, oa0, an0, vx0, v;
	long long tx0 = db_count("transactions");
	char m1[LEDGER_MONEY_BUFSZ], tx1[32];
	struct resp *r;

	if (!ensure_center("ut", "Usage tests") ||
	    !ensure_center("ut/ingest", "Ingest paths"))
		return;
	CHECK(balance("expense:ut/ingest", 0) == 0, "a new cost center has "
	    "a balance");
	ut0 = balance("expense:ut", 1);
	oa0 = balance("payable:openai", 0);
	an0 = balance("payable:anthropic", 0);
	vx0 = balance("payable:vertex_ai", 0);

	/* One object: the reply still lists the one result. */
	r = usage(gateway_key, EV("ut-ing-1", "ut/ingest", GPT4O ",\"user\":"
	    "\"alice\",\"tags\":{\"feature\":\"chat\"},\"latency_ms\":420,"
	    "\"status\":\"ok\",\"usage\":{\"input_tokens\":1000,"
	    "\"output_tokens\":500}"));
	CHECK(nresults(r) == 1, "%s", r->body);
	BOOKED(r, 0, "recorded", "ut-ing-1", "0.007500000");
	snprintf(tx1, sizeof tx1, "%s", res_str(r, 0, "transaction_id"));
	resp_free(r);
	CHECK(balance("expense:ut/ingest", 0) == 7500000, "after one event: %s",
	    money_str(balance("expense:ut/ingest", 0), m1));
	CHECK(strcmp(dbv("SELECT concat_ws('|', kind, idempotency_key, "
	    "tg_rfc3339(occurred_at)) FROM transactions WHERE id = %s", tx1),
	    "usage|ut-ing-1|" AT) == 0, "transaction %s: %s", tx1,
	    dbv("SELECT concat_ws('|', kind, idempotency_key, "
	    "tg_rfc3339(occurred_at)) FROM transactions WHERE id = %s", tx1));
	CHECK(strcmp(dbv("SELECT concat_ws('|', cost_center, provider, model, "
	    "service_tier, user_id, tags ->> 'feature', latency_ms, status, cost, "
	    "list_cost, price_version IS NOT NULL, unpriced IS NULL) FROM "
	    "usage_events WHERE transaction_id = %s", tx1),
	    "ut/ingest|openai|gpt-4o|standard|alice|chat|420|ok|7500000|7500000|"
	    "t|t") == 0, "usage_events: %s", dbv("SELECT concat_ws('|', "
	    "cost_center, provider, model, service_tier, user_id, tags ->> "
	    "'feature', latency_ms, status, cost, list_cost, price_version IS "
	    "NOT NULL, unpriced IS NULL) FROM usage_events WHERE "
	    "transaction_id = %s", tx1));
	/* Debit the cost center, credit the provider. */
	CHECK(strcmp(dbv("SELECT string_agg(a.name || '=' || p.amount, ' ' "
	    "ORDER BY p.seq) FROM postings p JOIN accounts a ON a.id = "
	    "p.account_id WHERE p.transaction_id = %s", tx1),
	    "expense:ut/ingest=7500000 payable:openai=-7500000") == 0,
	    "postings: %s", dbv("SELECT string_agg(a.name || '=' || p.amount, "
	    "' ' ORDER BY p.seq) FROM postings p JOIN accounts a ON a.id = "
	    "p.account_id WHERE p.transaction_id = %s", tx1));

	/* An array. */
	r = usage(gateway_key, "["
	    EV("ut-ing-2", "ut/ingest", GPT4O ",\"usage\":{\"input_tokens\":"
	    "2000,\"cached_input_tokens\":4000,\"output_tokens\":100}") ","
	    EV("ut-ing-3", "ut/ingest", OPUS ",\"usage\":{\"input_tokens\":10,"
	    "\"output_tokens\":10}") "]");
	CHECK(nresults(r) == 2, "%s", r->body);
	BOOKED(r, 0, "recorded", "ut-ing-2", "0.011000000");
	BOOKED(r, 1, "recorded", "ut-ing-3", "0.000900000");
	CHECK(strcmp(res_str(r, 0, "transaction_id"), res_str(r, 1,
	    "transaction_id")) != 0, "one transaction for two events");
	resp_free(r);

	/* NDJSON: a blank line is skipped; a malformed line is rejected
	 * alone and the lines around it are booked. */
	r = ndjson(gateway_key, nd);
	CHECK(r->status == 200 && nresults(r) == 4, "%ld %s", r->status,
	    r->body);
	BOOKED(r, 0, "recorded", "ut-ing-4", "0.004750000");
	REJECTED(r, 1, "malformed_json", NULL);
	CHECK(strstr(res_err(r, 1, "message"), "malformed JSON") != NULL,
	    "%s", res_err(r, 1, "message"));
	BOOKED(r, 2, "recorded", "ut-ing-5", "0.040875000");
	BOOKED(r, 3, "recorded", "ut-ing-6", "0.012625000");
	resp_free(r);

	/* The ledger: six transactions of two postings each. */
	CHECK(db_count("transactions") == tx0 + 6, "%lld transactions, want 6",
	    db_count("transactions") - tx0);
	CHECK(dbn("SELECT count(*) FROM postings p JOIN transactions t ON t.id "
	    "= p.transaction_id WHERE t.kind = 'usage' AND t.idempotency_key "
	    "LIKE 'ut-ing-%%'") == 12, "postings");
	CHECK(dbn("SELECT count(*) FROM transactions WHERE idempotency_key = "
	    "'ut-ing-bad'") == 0, "the malformed line was booked");
	v = balance("expense:ut/ingest", 0);
	CHECK(v == 77650000, "expense:ut/ingest %s, want 0.077650000",
	    money_str(v, m1));
	v = balance("expense:ut", 1);
	CHECK(v != INT64_MIN && v - ut0 == 77650000, "expense:ut subtree moved "
	    "by %s", money_str(v - ut0, m1));
	v = balance("payable:openai", 0);
	CHECK(v != INT64_MIN && oa0 - v == 23250000, "payable:openai moved by "
	    "%s", money_str(oa0 - v, m1));
	v = balance("payable:anthropic", 0);
	CHECK(v != INT64_MIN && an0 - v == 41775000, "payable:anthropic moved "
	    "by %s", money_str(an0 - v, m1));
	v = balance("payable:vertex_ai", 0);
	CHECK(v != INT64_MIN && vx0 - v == 12625000, "payable:vertex_ai moved "
	    "by %s", money_str(vx0 - v, m1));

	/* The rollups, per model and per meter (quantity:cost in nanos).
	 * gpt-4o: input 1000 + 2000 + 200, cached 4000 + 1000, output 500 +
	 * 100 + 200, reasoning 100; claude-opus-4-1: input 10 + 1000, output
	 * 10 + 200, cache reads 5000, writes 100 (5m) and 50 (1h);
	 * gemini-2.5-pro: input 2000, cached 1000, output 400, reasoning 600;
	 * one request per event, at no price.
	 * Costs: 3200 x 2.5e-06 = 0.008, 5000 x 1.25e-06 = 0.00625, 800 x
	 * 1e-05 = 0.008, 100 x 1e-05 = 0.001; 1010 x 1.5e-05 = 0.01515,
	 * 210 x 7.5e-05 = 0.01575, 5000 x 1.5e-06 = 0.0075, 100 x 1.875e-05
	 * = 0.001875, 50 x 3e-05 = 0.0015; 2000 x 1.25e-06 = 0.0025, 1000 x
	 * 1.25e-07 = 0.000125, 400 x 1e-05 = 0.004, 600 x 1e-05 = 0.006. */
	CHECK(strcmp(dbv("SELECT string_agg(model || ':' || events || ':' || "
	    "unpriced || ':' || list_cost || ':' || cost, ' ' ORDER BY model "
	    "COLLATE \"C\") FROM usage_daily WHERE cost_center = 'ut/ingest' "
	    "AND day = '" DAY "'"), "claude-opus-4-1:2:0:41775000:41775000 "
	    "gemini-2.5-pro:1:0:12625000:12625000 gpt-4o:3:0:23250000:23250000")
	    == 0, "usage_daily: %s", dbv("SELECT string_agg(model || ':' || "
	    "events || ':' || unpriced || ':' || list_cost || ':' || cost, ' ' "
	    "ORDER BY model COLLATE \"C\") FROM usage_daily WHERE cost_center = "
	    "'ut/ingest'"));
	CHECK(strcmp(dbv("SELECT string_agg(model || ':' || meter || '=' || "
	    "quantity || ':' || cost, ' ' ORDER BY model COLLATE \"C\", meter "
	    "COLLATE \"C\") FROM usage_daily_meters WHERE cost_center = "
	    "'ut/ingest' AND day = '" DAY "'"),
	    "claude-opus-4-1:cache_write_1h=50:1500000 "
	    "claude-opus-4-1:cache_write_5m=100:1875000 "
	    "claude-opus-4-1:cached_input=5000:7500000 "
	    "claude-opus-4-1:input=1010:15150000 "
	    "claude-opus-4-1:output=210:15750000 "
	    "claude-opus-4-1:request=2:0 "
	    "gemini-2.5-pro:cached_input=1000:125000 "
	    "gemini-2.5-pro:input=2000:2500000 "
	    "gemini-2.5-pro:output=400:4000000 "
	    "gemini-2.5-pro:reasoning=600:6000000 "
	    "gemini-2.5-pro:request=1:0 "
	    "gpt-4o:cached_input=5000:6250000 "
	    "gpt-4o:input=3200:8000000 "
	    "gpt-4o:output=800:8000000 "
	    "gpt-4o:reasoning=100:1000000 "
	    "gpt-4o:request=3:0") == 0, "usage_daily_meters: %s",
	    dbv("SELECT string_agg(model || ':' || meter || '=' || quantity || "
	    "':' || cost, ' ' ORDER BY model COLLATE \"C\", meter COLLATE "
	    "\"C\") FROM usage_daily_meters WHERE cost_center = 'ut/ingest'"));
}

/* Each id is booked once: twice in one batch, again in later requests,
 * after a restart; the same content however spelt is a duplicate with the
 * original transaction and cost, other content a conflict. */
static void
t_idempotency(void)
{
	/* A: gpt-4o 2000 x 2.5e-06 + 100 x 1e-05 = 0.005 + 0.001 = 0.006 */
#define A_REST GPT4O ",\"user\":\"u1\",\"tags\":{\"app\":\"chat\"," \
	"\"env\":\"prod\"},\"usage\":{\"input_tokens\":2000,\"output_tokens\":100}"
	static const char a[] = EV("ut-idem-a", "ut/idem", A_REST);
	/* A again, spelt otherwise: members in another order, the same
	 * instant with an offset, defaults given explicitly. */
	static const char a_same[] = "{\"usage\":{\"output_tokens\":100,"
	    "\"input_tokens\":2000,\"requests\":1},\"tags\":{\"env\":\"prod\","
	    "\"app\":\"chat\"},\"occurred_at\":\"2026-10-05T14:00:00+02:00\","
	    "\"model\":\"gpt-4o\",\"provider\":\"openai\",\"user\":\"u1\","
	    "\"service_tier\":\"standard\",\"status\":\"ok\",\"id\":"
	    "\"ut-idem-a\",\"cost_center\":\"ut/idem\"}";
	/* A with one more output token. */
	static const char a_other[] = EV("ut-idem-a", "ut/idem", GPT4O
	    ",\"user\":\"u1\",\"tags\":{\"app\":\"chat\",\"env\":\"prod\"},"
	    "\"usage\":{\"input_tokens\":2000,\"output_tokens\":101}");
	/* B: claude-opus-4-1 100 x 1.5e-05 + 100 x 7.5e-05 = 0.0015 + 0.0075
	 * = 0.009 */
	static const char b[] = EV("ut-idem-b", "ut/idem", OPUS ",\"usage\":{"
	    "\"input_tokens\":100,\"output_tokens\":100}");
	char body[4096], txa[32], txb[32];
	long long tx0 = db_count("transactions");
	struct resp *r;

	if (!ensure_center("ut", "Usage tests") ||
	    !ensure_center("ut/idem", "Idempotency"))
		return;

	/* In one batch: the first copy is booked, the rest answer for it. */
	snprintf(body, sizeof body, "[%s,%s,%s,%s,%s]", a, a_same, a_other, b, b);
	r = usage(gateway_key, body);
	CHECK(nresults(r) == 5, "%ld %s", r->status, r->body);
	BOOKED(r, 0, "recorded", "ut-idem-a", "0.006000000");
	BOOKED(r, 1, "duplicate", "ut-idem-a", "0.006000000");
	CHECK(strcmp(res_str(r, 2, "status"), "conflict") == 0 &&
	    strcmp(res_err(r, 2, "code"), "idempotency_conflict") == 0 &&
	    strcmp(res_err(r, 2, "field"), "id") == 0 &&
	    json_integer_value(json_object_get(res_at(r, 2), "index")) == 2,
	    "%s", r->body);
	BOOKED(r, 3, "recorded", "ut-idem-b", "0.009000000");
	BOOKED(r, 4, "duplicate", "ut-idem-b", "0.009000000");
	snprintf(txa, sizeof txa, "%s", res_str(r, 0, "transaction_id"));
	snprintf(txb, sizeof txb, "%s", res_str(r, 3, "transaction_id"));
	CHECK(strcmp(res_str(r, 1, "transaction_id"), txa) == 0 &&
	    strcmp(res_str(r, 4, "transaction_id"), txb) == 0 &&
	    strcmp(txa, txb) != 0, "%s", r->body);
	resp_free(r);
	CHECK(db_count("transactions") == tx0 + 2, "%lld transactions for "
	    "two ids", db_count("transactions") - tx0);

	/* In a later request: a duplicate as one object... */
	r = usage(gateway_key, a_same);
	CHECK(r->status == 200, "%ld %s", r->status, r->body);
	BOOKED(r, 0, "duplicate", "ut-idem-a", "0.006000000");
	CHECK(strcmp(res_str(r, 0, "transaction_id"), txa) == 0, "%s vs %s",
	    res_str(r, 0, "transaction_id"), txa);
	resp_free(r);
	/* ... other content as one object is a 409 ... */
	r = usage(gateway_key, a_other);
	CHECK_ERR(r, 409, "idempotency_conflict", "id");
	resp_free(r);
	/* ... and in an array or NDJSON, results. */
	snprintf(body, sizeof body, "[%s]", a_other);
	r = usage(gateway_key, body);
	CHECK(strcmp(res_str(r, 0, "status"), "conflict") == 0 &&
	    strcmp(res_err(r, 0, "code"), "idempotency_conflict") == 0,
	    "%ld %s", r->status, r->body);
	resp_free(r);
	snprintf(body, sizeof body, "%s\n%s\n", b, a);
	r = ndjson(gateway_key, body);
	BOOKED(r, 0, "duplicate", "ut-idem-b", "0.009000000");
	BOOKED(r, 1, "duplicate", "ut-idem-a", "0.006000000");
	CHECK(strcmp(res_str(r, 0, "transaction_id"), txb) == 0 &&
	    strcmp(res_str(r, 1, "transaction_id"), txa) == 0, "%s", r->body);
	resp_free(r);
	/* The admin key sees the same ids. */
	r = usage(admin_key, a);
	BOOKED(r, 0, "duplicate", "ut-idem-a", "0.006000000");
	resp_free(r);

	/* After a restart, from the database alone. */
	CHECK(server_stop() == 0, "the server did not stop cleanly");
	CHECK(server_start() == 0, "the server did not start again");
	r = usage(gateway_key, a);
	BOOKED(r, 0, "duplicate", "ut-idem-a", "0.006000000");
	CHECK(strcmp(res_str(r, 0, "transaction_id"), txa) == 0, "%s vs %s",
	    res_str(r, 0, "transaction_id"), txa);
	resp_free(r);
	snprintf(body, sizeof body, "[%s,%s]", b, a_other);
	r = usage(gateway_key, body);
	BOOKED(r, 0, "duplicate", "ut-idem-b", "0.009000000");
	CHECK(strcmp(res_str(r, 0, "transaction_id"), txb) == 0, "%s", r->body);
	CHECK(strcmp(res_str(r, 1, "status"), "conflict") == 0, "%s", r->body);
	resp_free(r);
	r = usage(gateway_key, a_other);
	CHECK_ERR(r, 409, "idempotency_conflict", "id");
	resp_free(r);

	CHECK(dbn("SELECT count(*) FROM transactions WHERE kind = 'usage' AND "
	    "idempotency_key = 'ut-idem-a'") == 1, "ut-idem-a booked %lld times",
	    dbn("SELECT count(*) FROM transactions WHERE kind = 'usage' AND "
	    "idempotency_key = 'ut-idem-a'"));
	CHECK(dbn("SELECT count(*) FROM transactions WHERE kind = 'usage' AND "
	    "idempotency_key = 'ut-idem-b'") == 1, "ut-idem-b booked twice");
	CHECK(db_count("transactions") == tx0 + 2, "%lld transactions for "
	    "two ids", db_count("transactions") - tx0);
	/* 0.006 + 0.009 */
	CHECK(balance("expense:ut/idem", 0) == 15000000, "balance");
	CHECK(strcmp(dbv("SELECT sum(events) || ':' || sum(cost) FROM "
	    "usage_daily WHERE cost_center = 'ut/idem'"), "2:15000000") == 0,
	    "usage_daily: %s", dbv("SELECT sum(events) || ':' || sum(cost) "
	    "FROM usage_daily WHERE cost_center = 'ut/idem'"));
	CHECK(strcmp(dbv("SELECT sum(quantity) FROM usage_daily_meters WHERE "
	    "cost_center = 'ut/idem' AND model = 'gpt-4o' AND meter = "
	    "'input'"), "2000") == 0, "input quantity counted more than once");
#undef A_REST
}

/* Many clients retrying one event at once (their requests share group
 * commits): one is recorded, every other is a duplicate of it. */
static void
t_concurrent_retries(void)
{
	/* gpt-4o: 4 x 2.5e-06 = 0.00001 */
	static const char body[] = EV("ut-idem-race", "ut/idem", GPT4O
	    ",\"usage\":{\"input_tokens\":4}");
	enum { N = 16 };
	struct resp *r[N];
	char tx[32] = "";
	const char *st, *t;
	json_t *x;
	int i, recorded = 0, dup = 0, same = 0;

	if (!ensure_center("ut", "Usage tests") ||
	    !ensure_center("ut/idem", "Idempotency"))
		return;
	http_concurrent("/v1/usage", gateway_key, body, N, r);
	for (i = 0; i < N; i++) {
		x = json_array_get(json_object_get(r[i]->json, "results"), 0);
		st = json_string_value(json_object_get(x, "status"));
		t = json_string_value(json_object_get(x, "transaction_id"));
		if (r[i]->status == 200 && st != NULL && t != NULL &&
		    json_is_string(json_object_get(x, "cost")) &&
		    strcmp(json_string_value(json_object_get(x, "cost")),
		    "0.000010000") == 0) {
			recorded += strcmp(st, "recorded") == 0;
			dup += strcmp(st, "duplicate") == 0;
			if (tx[0] == '\0')
				snprintf(tx, sizeof tx, "%s", t);
			same += strcmp(tx, t) == 0;
		} else
			fprintf(stderr, "    request %d: %ld %s\n", i,
			    r[i]->status, r[i]->body);
		resp_free(r[i]);
	}
	CHECK(recorded == 1 && dup == N - 1, "recorded %d, duplicates %d",
	    recorded, dup);
	CHECK(same == N, "%d of %d answers name the one transaction", same, N);
	CHECK(dbn("SELECT count(*) FROM transactions WHERE kind = 'usage' AND "
	    "idempotency_key = 'ut-idem-race'") == 1, "booked more than once");
	CHECK(dbn("SELECT events FROM usage_daily WHERE cost_center = 'ut/idem' "
	    "AND model = 'gpt-4o' AND day = '" DAY "'") == 2, "rollup counts "
	    "the race more than once");
}

/* Bad events beside good ones: each bad one gets its own code and field,
 * exactly the good ones are booked. */
static void
t_mixed_batch(void)
{
	/*
	 * Good ones, gpt-4o in ut/mixed:
	 * ut-mix-good-1: 10 x 2.5e-06 = 0.000025
	 * ut-mix-good-2: 10 output x 1e-05 = 0.0001
	 * ut-mix-long-xxx (200 characters, the longest id):
	 *   10 x 2.5e-06 + 10 x 1e-05 = 0.000025 + 0.0001 = 0.000125
	 * Total 0.00025.
	 */
	char long_id[201], too_long[202], body[16384];
	long long tx0, ev0, po0;
	int64_t bal0, v;
	char m1[LEDGER_MONEY_BUFSZ];
	struct resp *r;
	size_t n;

	if (!ensure_center("ut", "Usage tests") ||
	    !ensure_center("ut/mixed", "Mixed batches"))
		return;
	memcpy(long_id, "ut-mix-long-", 12);
	memset(long_id + 12, 'x', 200 - 12);
	long_id[200] = '\0';
	memcpy(too_long, "ut-bad-long-", 12);
	memset(too_long + 12, 'y', 201 - 12);
	too_long[201] = '\0';
	tx0 = db_count("transactions");
	ev0 = db_count("usage_events");
	po0 = db_count("postings");
	bal0 = balance("expense:ut/mixed", 0);

	n = (size_t)snprintf(body, sizeof body, "["
	    /* 0 */ EV("ut-mix-good-1", "ut/mixed", GPT4O ",\"usage\":"
	    "{\"input_tokens\":10}") ","
	    /* 1: no id */
	    "{\"cost_center\":\"ut/mixed\",\"occurred_at\":\"" AT "\"," GPT4O
	    ",\"usage\":{\"input_tokens\":1}},"
	    /* 2 */ EV("ut-bad-neg", "ut/mixed", GPT4O ",\"usage\":"
	    "{\"input_tokens\":-5}") ","
	    /* 3 */ EV("ut-bad-nocc", "ut/nosuch", GPT4O ",\"usage\":"
	    "{\"input_tokens\":1}") ","
	    /* 4: id as a number */
	    "{\"id\":42,\"cost_center\":\"ut/mixed\",\"occurred_at\":\"" AT "\","
	    GPT4O ",\"usage\":{\"input_tokens\":1}},"
	    /* 5 */ EV("ut-bad-tags", "ut/mixed", GPT4O ",\"tags\":\"x\","
	    "\"usage\":{\"input_tokens\":1}") ","
	    /* 6: 201 characters */
	    "{\"id\":\"%s\",\"cost_center\":\"ut/mixed\",\"occurred_at\":\"" AT
	    "\"," GPT4O ",\"usage\":{\"input_tokens\":1}},"
	    /* 7 */ EV("ut-bad-unknown", "ut/mixed", GPT4O ",\"colour\":\"red\","
	    "\"usage\":{\"input_tokens\":1}") ","
	    /* 8 */ EV("ut-mix-good-2", "ut/mixed", GPT4O ",\"usage\":"
	    "{\"output_tokens\":10}") ","
	    /* 9: 200 characters */
	    "{\"id\":\"%s\",\"cost_center\":\"ut/mixed\",\"occurred_at\":\"" AT
	    "\"," GPT4O ",\"usage\":{\"input_tokens\":10,\"output_tokens\":10}},"
	    /* 10 */ EV("ut-bad-ccpath", "UT BAD", GPT4O ",\"usage\":"
	    "{\"input_tokens\":1}") ","
	    /* 11 */ EV("ut-bad-openai", "ut/mixed", GPT4O ",\"usage_openai\":"
	    "{\"prompt_tokens\":10,\"prompt_tokens_details\":{\"cached_tokens\":"
	    "11}}") ","
	    /* 12 */ EV("ut-bad-tagval", "ut/mixed", GPT4O ",\"tags\":{\"k\":5},"
	    "\"usage\":{\"input_tokens\":1}") ","
	    /* 13 */ EV("ut-bad-latency", "ut/mixed", GPT4O ",\"latency_ms\":-1,"
	    "\"usage\":{\"input_tokens\":1}") ","
	    /* 14 */ EV("ut-bad-status", "ut/mixed", GPT4O ",\"status\":\"done\","
	    "\"usage\":{\"input_tokens\":1}") ","
	    /* 15 */ EV("ut-bad-meter", "ut/mixed", GPT4O ",\"usage\":"
	    "{\"output_token\":3}") ","
	    /* 16 */ EV("ut-bad-two", "ut/mixed", GPT4O ",\"usage\":{},"
	    "\"usage_openai\":{}") ","
	    /* 17: no provider */
	    "{\"id\":\"ut-bad-noprov\",\"cost_center\":\"ut/mixed\",\"model\":"
	    "\"gpt-4o\",\"usage\":{\"input_tokens\":1}},"
	    /* 18 */ "{\"id\":\"ut-bad-time\",\"cost_center\":\"ut/mixed\","
	    "\"occurred_at\":\"yesterday\"," GPT4O ",\"usage\":"
	    "{\"input_tokens\":1}},"
	    /* 19 */ EV("ut-bad-reported", "ut/mixed", GPT4O ",\"reported_cost\":"
	    "1.5,\"usage\":{\"input_tokens\":1}") ","
	    /* 20 */ "7,"
	    /* 21 */ EV("ut-bad-nousage", "ut/mixed", GPT4O) ","
	    /* 22 */ EV("ut-bad-tier", "ut/mixed", GPT4O ",\"service_tier\":"
	    "\"turbo\",\"usage\":{\"input_tokens\":1}") ","
	    /* 23 */ EV("ut-bad-big", "ut/mixed", GPT4O ",\"usage\":"
	    "{\"input_tokens\":1099511627777}") ","
	    /* 24 */ EV("ut-bad user", "ut/mixed", GPT4O ",\"usage\":"
	    "{\"input_tokens\":1}")
	    "]", too_long, long_id);
	CHECK(n < sizeof body, "body too long for the buffer");
	r = usage(gateway_key, body);
	CHECK(r->status == 200 && nresults(r) == 25, "%ld %.300s", r->status,
	    r->body);
	BOOKED(r, 0, "recorded", "ut-mix-good-1", "0.000025000");
	REJECTED(r, 1, "missing_field", "id");
	REJECTED(r, 2, "invalid_field", "usage.input_tokens");
	REJECTED(r, 3, "unknown_cost_center", "cost_center");
	CHECK(strcmp(res_str(r, 3, "id"), "ut-bad-nocc") == 0, "%s", r->body);
	REJECTED(r, 4, "invalid_field", "id");
	REJECTED(r, 5, "invalid_field", "tags");
	REJECTED(r, 6, "invalid_field", "id");
	REJECTED(r, 7, "unknown_field", "colour");
	BOOKED(r, 8, "recorded", "ut-mix-good-2", "0.000100000");
	BOOKED(r, 9, "recorded", long_id, "0.000125000");
	REJECTED(r, 10, "invalid_field", "cost_center");
	REJECTED(r, 11, "invalid_field", "usage_openai");
	REJECTED(r, 12, "invalid_field", "tags");
	REJECTED(r, 13, "invalid_field", "latency_ms");
	REJECTED(r, 14, "invalid_field", "status");
	REJECTED(r, 15, "invalid_field", "usage.output_token");
	REJECTED(r, 16, "invalid_field", "usage_openai");
	REJECTED(r, 17, "missing_field", "provider");
	REJECTED(r, 18, "invalid_field", "occurred_at");
	REJECTED(r, 19, "invalid_field", "reported_cost");
	REJECTED(r, 20, "invalid_body", NULL);
	REJECTED(r, 21, "invalid_field", "usage");
	REJECTED(r, 22, "invalid_field", "service_tier");
	REJECTED(r, 23, "invalid_field", "usage.input_tokens");
	REJECTED(r, 24, "invalid_field", "id");
	resp_free(r);
	CHECK(db_count("transactions") == tx0 + 3 && db_count("usage_events")
	    == ev0 + 3 && db_count("postings") == po0 + 6, "booked %lld "
	    "transactions, %lld events, %lld postings; want 3, 3, 6",
	    db_count("transactions") - tx0, db_count("usage_events") - ev0,
	    db_count("postings") - po0);
	CHECK(dbn("SELECT count(*) FROM transactions WHERE idempotency_key LIKE "
	    "'ut-mix-%%'") == 3 && dbn("SELECT count(*) FROM transactions WHERE "
	    "idempotency_key LIKE 'ut-bad%%'") == 0, "the wrong events booked");
	CHECK(dbn("SELECT count(*) FROM accounts WHERE name = "
	    "'expense:ut/nosuch'") == 0, "an account for an unknown center");
	v = balance("expense:ut/mixed", 0);
	CHECK(v != INT64_MIN && v - bal0 == 250000, "expense:ut/mixed moved by "
	    "%s, want 0.000250000", money_str(v - bal0, m1));

	/* NDJSON: invalid UTF-8 inside one line rejects that line alone.
	 * gpt-4o 20 x 2.5e-06 = 0.00005; 20 output x 1e-05 = 0.0002. */
	tx0 = db_count("transactions");
	r = ndjson(gateway_key,
	    EV("ut-mix-nd-1", "ut/mixed", GPT4O ",\"usage\":{\"input_tokens\":"
	    "20}") "\n"
	    "{\"id\":\"ut-bad-utf8\",\"cost_center\":\"ut/mixed\","
	    "\"occurred_at\":\"" AT "\"," GPT4O ",\"user\":\"\xff\xfe\","
	    "\"usage\":{\"input_tokens\":1}}\n"
	    EV("ut-mix-nd-2", "ut/mixed", GPT4O ",\"usage\":{\"output_tokens\":"
	    "20}") "\n");
	CHECK(r->status == 200 && nresults(r) == 3, "%ld %s", r->status,
	    r->body);
	BOOKED(r, 0, "recorded", "ut-mix-nd-1", "0.000050000");
	REJECTED(r, 1, "malformed_json", NULL);
	BOOKED(r, 2, "recorded", "ut-mix-nd-2", "0.000200000");
	resp_free(r);
	CHECK(db_count("transactions") == tx0 + 2, "%lld booked, want 2",
	    db_count("transactions") - tx0);

	/* Nothing good at all: every event has its rejection, nothing is
	 * written. */
	tx0 = db_count("transactions");
	r = usage(gateway_key, "[{\"id\":\"ut-bad-only\"},[1],"
	    EV("ut-bad-only-2", "ut/mixed", GPT4O ",\"usage\":"
	    "{\"input_tokens\":\"10\"}") "]");
	CHECK(nresults(r) == 3, "%ld %s", r->status, r->body);
	REJECTED(r, 0, "missing_field", "provider");
	REJECTED(r, 1, "invalid_body", NULL);
	REJECTED(r, 2, "invalid_field", "usage.input_tokens");
	resp_free(r);
	CHECK(db_count("transactions") == tx0, "a rejected event was booked");
	v = balance("expense:ut/mixed", 0);
	CHECK(v - bal0 == 250000 + 50000 + 200000, "expense:ut/mixed moved by "
	    "%s, want 0.000500000", money_str(v - bal0, m1));
}

/* An event tollgate cannot price is kept, at zero and marked, with no
 * postings, and stays so when sent again. */
static void
t_unpriced(void)
{
	char tx[32], tx2[32], tx3[32];
	long long po0 = db_count("postings");
	struct resp *r;

	if (!ensure_center("ut", "Usage tests") ||
	    !ensure_center("ut/unpriced", "Unpriced"))
		return;
	r = usage(gateway_key, "["
	    EV("ut-unp-1", "ut/unpriced", "\"provider\":\"acme\",\"model\":"
	    "\"nothing\",\"usage\":{\"input_tokens\":100}") ","
	    /* deepseek-chat has no audio price */
	    EV("ut-unp-2", "ut/unpriced", "\"provider\":\"deepseek\",\"model\":"
	    "\"deepseek-chat\",\"usage\":{\"input_tokens\":10,"
	    "\"audio_input_tokens\":10}") ","
	    /* before the first price version */
	    "{\"id\":\"ut-unp-3\",\"cost_center\":\"ut/unpriced\","
	    "\"occurred_at\":\"2025-06-01T00:00:00Z\"," GPT4O ",\"usage\":"
	    "{\"input_tokens\":1000}},"
	    /* priced beside them: gpt-4o 1000 x 2.5e-06 = 0.0025 */
	    EV("ut-unp-priced", "ut/unpriced", GPT4O ",\"usage\":"
	    "{\"input_tokens\":1000}") "]");
	CHECK(r->status == 200 && nresults(r) == 4, "%ld %s", r->status,
	    r->body);
	BOOKED(r, 0, "recorded", "ut-unp-1", "0.000000000");
	CHECK(strcmp(res_str(r, 0, "unpriced"), "no price for this provider "
	    "and model") == 0, "%s", r->body);
	BOOKED(r, 1, "recorded", "ut-unp-2", "0.000000000");
	CHECK(*res_str(r, 1, "unpriced") != '\0', "%s", r->body);
	BOOKED(r, 2, "recorded", "ut-unp-3", "0.000000000");
	CHECK(strcmp(res_str(r, 2, "unpriced"), "no price version was in force "
	    "at occurred_at") == 0, "%s", r->body);
	BOOKED(r, 3, "recorded", "ut-unp-priced", "0.002500000");
	CHECK(json_object_get(res_at(r, 3), "unpriced") == NULL, "%s", r->body);
	snprintf(tx, sizeof tx, "%s", res_str(r, 0, "transaction_id"));
	snprintf(tx2, sizeof tx2, "%s", res_str(r, 1, "transaction_id"));
	snprintf(tx3, sizeof tx3, "%s", res_str(r, 2, "transaction_id"));
	resp_free(r);

	CHECK(strcmp(dbv("SELECT concat_ws('|', unpriced, cost, list_cost, "
	    "price_version IS NULL, provider, model) FROM usage_events WHERE "
	    "transaction_id = %s", tx), "no price for this provider and model|"
	    "0|0|t|acme|nothing") == 0, "usage_events: %s",
	    dbv("SELECT concat_ws('|', unpriced, cost, list_cost, price_version "
	    "IS NULL, provider, model) FROM usage_events WHERE transaction_id "
	    "= %s", tx));
	CHECK(dbn("SELECT count(*) FROM usage_events WHERE transaction_id IN "
	    "(%s, %s, %s) AND unpriced IS NOT NULL AND cost = 0", tx, tx2, tx3)
	    == 3, "unpriced events not marked");
	CHECK(dbn("SELECT count(*) FROM postings WHERE transaction_id IN "
	    "(%s, %s, %s)", tx, tx2, tx3) == 0, "an unpriced event has postings");
	CHECK(db_count("postings") == po0 + 2, "%lld postings, want 2 (the "
	    "priced event's)", db_count("postings") - po0);
	CHECK(balance("expense:ut/unpriced", 0) == 2500000, "balance");
	CHECK(strcmp(dbv("SELECT concat_ws('|', events, unpriced, list_cost, "
	    "cost) FROM usage_daily WHERE cost_center = 'ut/unpriced' AND "
	    "provider = 'acme' AND model = 'nothing' AND day = '" DAY "'"),
	    "1|1|0|0") == 0, "usage_daily: %s", dbv("SELECT concat_ws('|', "
	    "events, unpriced, list_cost, cost) FROM usage_daily WHERE "
	    "cost_center = 'ut/unpriced' AND provider = 'acme'"));
	CHECK(strcmp(dbv("SELECT concat_ws('|', quantity, cost) FROM "
	    "usage_daily_meters WHERE cost_center = 'ut/unpriced' AND provider "
	    "= 'acme' AND meter = 'input' AND day = '" DAY "'"), "100|0") == 0,
	    "usage_daily_meters: the quantity of an unpriced event");
	CHECK(strcmp(dbv("SELECT concat_ws('|', events, unpriced, cost) FROM "
	    "usage_daily WHERE cost_center = 'ut/unpriced' AND model = 'gpt-4o' "
	    "AND day = '2025-06-01'"), "1|1|0") == 0, "usage_daily 2025: %s",
	    dbv("SELECT concat_ws('|', events, unpriced, cost) FROM usage_daily "
	    "WHERE cost_center = 'ut/unpriced' AND model = 'gpt-4o' AND day = "
	    "'2025-06-01'"));

	/* Sent again: a duplicate, still unpriced, same transaction. */
	r = usage(gateway_key, EV("ut-unp-1", "ut/unpriced", "\"provider\":"
	    "\"acme\",\"model\":\"nothing\",\"usage\":{\"input_tokens\":100}"));
	BOOKED(r, 0, "duplicate", "ut-unp-1", "0.000000000");
	CHECK(strcmp(res_str(r, 0, "transaction_id"), tx) == 0 &&
	    strcmp(res_str(r, 0, "unpriced"), "no price for this provider and "
	    "model") == 0, "%s", r->body);
	resp_free(r);

	r = http("GET", "/v1/ledger/verify", finance_key, NULL, NULL);
	CHECK(r->status == 200 && json_is_true(json_object_get(r->json, "ok")),
	    "%s", r->body);
	resp_free(r);
}

/* An event that names no cost center is booked to its key's default;
 * a key without one gets unknown_cost_center. */
static void
t_key_default_cost_center(void)
{
	char team_key[128], none[128];
	long long tx0, keys0;
	struct resp *r;

	if (!ensure_center("ut", "Usage tests") ||
	    !ensure_center("ut/team", "Team") ||
	    !ensure_center("ut/other", "Other"))
		return;
	keys0 = db_count("api_keys");
	CHECK(cli_key("--role gateway --cost-center ut/ghost --name itest-ghost",
	    none, sizeof none) != 0, "a key with an unknown default was made");
	CHECK(db_count("api_keys") == keys0, "a key was stored");
	CHECK(cli_key("--role gateway --cost-center ut/team --name itest-team",
	    team_key, sizeof team_key) == 0, "tollgate key create failed");
	CHECK(strcmp(dbv("SELECT cost_center FROM api_keys WHERE name = "
	    "'itest-team'"), "ut/team") == 0, "the key's cost center");

	/* gpt-4o: 100 x 2.5e-06 = 0.00025 each */
	r = usage(team_key, "{\"id\":\"ut-def-1\",\"occurred_at\":\"" AT "\","
	    GPT4O ",\"usage\":{\"input_tokens\":100}}");
	BOOKED(r, 0, "recorded", "ut-def-1", "0.000250000");
	resp_free(r);
	CHECK(strcmp(dbv("SELECT u.cost_center FROM usage_events u JOIN "
	    "transactions t ON t.id = u.transaction_id WHERE t.idempotency_key "
	    "= 'ut-def-1'"), "ut/team") == 0, "booked to %s",
	    dbv("SELECT u.cost_center FROM usage_events u JOIN transactions t "
	    "ON t.id = u.transaction_id WHERE t.idempotency_key = 'ut-def-1'"));
	CHECK(balance("expense:ut/team", 0) == 250000, "expense:ut/team");
	/* A cost center in the event wins over the key's. */
	r = usage(team_key, EV("ut-def-2", "ut/other", GPT4O ",\"usage\":"
	    "{\"input_tokens\":100}"));
	BOOKED(r, 0, "recorded", "ut-def-2", "0.000250000");
	resp_free(r);
	CHECK(balance("expense:ut/other", 0) == 250000 &&
	    balance("expense:ut/team", 0) == 250000, "the event's cost center");
	/* "cost_center": null is no cost center: the key's; sent again
	 * without the member it is the same event. */
	r = usage(team_key, "{\"id\":\"ut-def-3\",\"cost_center\":null,"
	    "\"occurred_at\":\"" AT "\"," GPT4O ",\"usage\":{\"input_tokens\":"
	    "100}}");
	BOOKED(r, 0, "recorded", "ut-def-3", "0.000250000");
	resp_free(r);
	CHECK(balance("expense:ut/team", 0) == 500000, "null cost_center");
	r = usage(team_key, "{\"id\":\"ut-def-3\",\"occurred_at\":\"" AT "\","
	    GPT4O ",\"usage\":{\"input_tokens\":100}}");
	BOOKED(r, 0, "duplicate", "ut-def-3", "0.000250000");
	resp_free(r);

	/* The suite's gateway key has no default. */
	tx0 = db_count("transactions");
	r = usage(gateway_key, "{\"id\":\"ut-def-4\",\"occurred_at\":\"" AT "\","
	    GPT4O ",\"usage\":{\"input_tokens\":100}}");
	CHECK_ERR(r, 400, "unknown_cost_center", "cost_center");
	resp_free(r);
	r = usage(gateway_key, "[{\"id\":\"ut-def-4\",\"occurred_at\":\"" AT
	    "\"," GPT4O ",\"usage\":{\"input_tokens\":100}},"
	    EV("ut-def-5", "ut/team", GPT4O ",\"usage\":{\"input_tokens\":100}")
	    "]");
	REJECTED(r, 0, "unknown_cost_center", "cost_center");
	BOOKED(r, 1, "recorded", "ut-def-5", "0.000250000");
	resp_free(r);
	CHECK(db_count("transactions") == tx0 + 1 && dbn("SELECT count(*) FROM "
	    "transactions WHERE idempotency_key = 'ut-def-4'") == 0,
	    "an event without a cost center was booked");

	/* A default that is archived refuses like any archived center. */
	r = patch_center("ut/team", admin_key, "{\"archived\":true}");
	CHECK(r->status == 200, "%ld %s", r->status, r->body);
	resp_free(r);
	r = usage(team_key, "{\"id\":\"ut-def-6\",\"occurred_at\":\"" AT "\","
	    GPT4O ",\"usage\":{\"input_tokens\":100}}");
	CHECK_ERR(r, 400, "unknown_cost_center", "cost_center");
	resp_free(r);
	CHECK(dbn("SELECT count(*) FROM transactions WHERE idempotency_key = "
	    "'ut-def-6'") == 0, "booked to an archived default");
	r = patch_center("ut/team", admin_key, "{\"archived\":false}");
	CHECK(r->status == 200, "%ld %s", r->status, r->body);
	resp_free(r);
}

/* Who may post usage, and what a body must look like. */
static void
t_roles_and_bodies(void)
{
	/* gpt-4o: 100 x 2.5e-06 = 0.00025 */
	static const char ev[] = EV("ut-roles-1", "ut/roles", GPT4O
	    ",\"usage\":{\"input_tokens\":100}");
	static const struct {
		const char *body;
		const char *code;
	} bad[] = {
		{ "[]", "invalid_body" },
		{ "\"an event\"", "invalid_body" },
		{ "42", "invalid_body" },
		{ "null", "invalid_body" },
		{ "true", "invalid_body" },
		{ "{", "malformed_json" },
		{ "[{},", "malformed_json" },
		{ "{\"id\":\"a\",\"id\":\"b\"}", "malformed_json" },
		{ "{\"id\":\"ut-roles-x\"}", "missing_field" },
		{ "{\"id\":\"ut-roles-x\",\"size\":3}", "unknown_field" },
	};
	const char *const get_json[] = { "Accept: application/json", NULL };
	long long tx0, ev0;
	char admin_id[64], *big;
	struct resp *r;
	size_t i;

	if (!ensure_center("ut", "Usage tests") ||
	    !ensure_center("ut/roles", "Roles"))
		return;
	tx0 = db_count("transactions");
	ev0 = db_count("usage_events");
	r = usage(finance_key, ev);
	CHECK_ERR(r, 403, "forbidden", NULL);
	resp_free(r);
	r = usage(NULL, ev);
	CHECK_ERR(r, 401, "unauthorized", NULL);
	resp_free(r);
	r = usage("tg_not-a-key", ev);
	CHECK_ERR(r, 401, "invalid_key", NULL);
	resp_free(r);
	r = post_as(gateway_key, "text/plain", ev, strlen(ev));
	CHECK_ERR(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	r = post_as(gateway_key, "application/x-www-form-urlencoded", ev,
	    strlen(ev));
	CHECK_ERR(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	r = post_as(gateway_key, "application/json", "", 0);
	CHECK_ERR(r, 400, "missing_body", NULL);
	resp_free(r);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = usage(gateway_key, bad[i].body);
		CHECK_ERR(r, 400, bad[i].code, NULL);
		if (r->status != 400)
			fprintf(stderr, "    body %s: %s\n", bad[i].body, r->body);
		resp_free(r);
	}
	/* NDJSON with no event at all, and more events than allowed. */
	r = ndjson(gateway_key, "\n\r\n\n");
	CHECK_ERR(r, 400, "invalid_body", NULL);
	resp_free(r);
	big = malloc(10001 * 3 + 3);
	CHECK(big != NULL, "out of memory");
	if (big != NULL) {
		big[0] = '[';
		for (i = 0; i < 10001; i++)
			memcpy(big + 1 + 3 * i, i == 0 ? "{} " : ",{}", 3);
		big[1 + 3 * 10001] = ']';
		big[2 + 3 * 10001] = '\0';
		r = usage(gateway_key, big);
		CHECK_ERR(r, 400, "invalid_body", NULL);
		resp_free(r);
		free(big);
	}
	/* Array members and NDJSON lines that are not objects are rejected
	 * one by one. */
	r = usage(gateway_key, "[1,\"x\",[],null]");
	CHECK(r->status == 200 && nresults(r) == 4, "%ld %s", r->status,
	    r->body);
	for (i = 0; i < 4; i++)
		REJECTED(r, i, "invalid_body", NULL);
	resp_free(r);
	r = ndjson(gateway_key, "42\n[]\n");
	CHECK(r->status == 200 && nresults(r) == 2, "%ld %s", r->status,
	    r->body);
	REJECTED(r, 0, "invalid_body", NULL);
	REJECTED(r, 1, "invalid_body", NULL);
	resp_free(r);
	r = http("GET", "/v1/usage", gateway_key, NULL, get_json);
	CHECK_ERR(r, 405, "method_not_allowed", NULL);
	CHECK(strcmp(r->allow, "POST") == 0, "Allow: %s", r->allow);
	resp_free(r);
	CHECK(db_count("transactions") == tx0 && db_count("usage_events") ==
	    ev0, "a refused request wrote");

	/* An admin key may post usage; the event records which key. */
	snprintf(admin_id, sizeof admin_id, "%s", dbv("SELECT id FROM api_keys "
	    "WHERE name = 'itest-admin'"));
	r = usage(admin_key, ev);
	BOOKED(r, 0, "recorded", "ut-roles-1", "0.000250000");
	resp_free(r);
	CHECK(strcmp(dbv("SELECT u.key_id FROM usage_events u JOIN "
	    "transactions t ON t.id = u.transaction_id WHERE t.idempotency_key "
	    "= 'ut-roles-1'"), admin_id) == 0, "key_id");
	CHECK(strcmp(dbv("SELECT created_by FROM transactions WHERE "
	    "idempotency_key = 'ut-roles-1'"), admin_id) == 0, "created_by");
	/* NDJSON with a charset parameter, one event: still a result list. */
	r = post_as(gateway_key, "application/x-ndjson; charset=utf-8", ev,
	    strlen(ev));
	CHECK(r->status == 200 && nresults(r) == 1, "%ld %s", r->status,
	    r->body);
	BOOKED(r, 0, "duplicate", "ut-roles-1", "0.000250000");
	resp_free(r);
}

/* The reported cost is part of the event: an event sent again with
 * another reported cost, or without one, is other content. */
static void
t_reported_cost_is_content(void)
{
	/* gpt-4o: 10 x 2.5e-06 = 0.000025 */
#define RC_EV(id, extra) "{\"id\":\"" id "\",\"cost_center\":\"ut/idem\"," \
	"\"occurred_at\":\"" AT "\"," GPT4O extra ",\"usage\":" \
	"{\"input_tokens\":10}}"
	struct resp *r;

	if (!ensure_center("ut", "Usage tests") ||
	    !ensure_center("ut/idem", "Idempotency"))
		return;
	r = usage(gateway_key, RC_EV("ut-rc-1", ",\"reported_cost\":\"0.01\""));
	BOOKED(r, 0, "recorded", "ut-rc-1", "0.000025000");
	resp_free(r);
	r = usage(gateway_key, RC_EV("ut-rc-1", ",\"reported_cost\":\"0.010\""));
	BOOKED(r, 0, "duplicate", "ut-rc-1", "0.000025000");
	resp_free(r);
	r = usage(gateway_key, RC_EV("ut-rc-1", ",\"reported_cost\":\"0.02\""));
	CHECK_ERR(r, 409, "idempotency_conflict", "id");
	resp_free(r);
	r = usage(gateway_key, RC_EV("ut-rc-1", ""));
	CHECK_ERR(r, 409, "idempotency_conflict", "id");
	resp_free(r);
	/* The same holds for every reported cost the server accepts: a
	 * negative one may be refused, but once booked, leaving it out on
	 * a retry is other content, not a duplicate. */
	r = usage(gateway_key, RC_EV("ut-rc-2",
	    ",\"reported_cost\":\"-0.000000001\""));
	if (r->status == 400) {
		CHECK_ERR(r, 400, "invalid_field", "reported_cost");
		resp_free(r);
		return;
	}
	BOOKED(r, 0, "recorded", "ut-rc-2", "0.000025000");
	resp_free(r);
	CHECK(strcmp(dbv("SELECT u.reported_cost FROM usage_events u JOIN "
	    "transactions t ON t.id = u.transaction_id WHERE t.idempotency_key "
	    "= 'ut-rc-2'"), "-1") == 0, "reported_cost stored");
	r = usage(gateway_key, RC_EV("ut-rc-2", ""));
	CHECK_ERR(r, 409, "idempotency_conflict", "id");
	resp_free(r);
#undef RC_EV
}

/* A malformed NDJSON line's message names the line of the body it is
 * on, blank lines counted. */
static void
t_ndjson_error_line(void)
{
	struct resp *r;
	const char *msg;

	if (!ensure_center("ut", "Usage tests") ||
	    !ensure_center("ut/mixed", "Mixed batches"))
		return;
	/* gpt-4o: 10 x 2.5e-06 = 0.000025. The malformed event is on
	 * line 4 of the body, the second event. */
	r = ndjson(gateway_key,
	    EV("ut-ndl-1", "ut/mixed", GPT4O ",\"usage\":{\"input_tokens\":10}")
	    "\n\n\n{\"id\":\"ut-bad-ndl\",\n");
	CHECK(r->status == 200 && nresults(r) == 2, "%ld %s", r->status,
	    r->body);
	BOOKED(r, 0, "recorded", "ut-ndl-1", "0.000025000");
	REJECTED(r, 1, "malformed_json", NULL);
	msg = res_err(r, 1, "message");
	CHECK(strstr(msg, "line 4") != NULL, "the malformed line is line 4 of "
	    "the body; the message says: %s", msg);
	resp_free(r);
}

/* While the database is down, usage gets 503 with Retry-After and
 * nothing is booked; the retry after recovery books each event once. */
static void
t_database_outage(void)
{
	/* gpt-4o: 1000 x 2.5e-06 = 0.0025; 1000 output x 1e-05 = 0.01 */
	static const char batch[] = "["
	    EV("ut-down-1", "ut/outage", GPT4O ",\"usage\":{\"input_tokens\":"
	    "1000}") ","
	    EV("ut-down-2", "ut/outage", GPT4O ",\"usage\":{\"output_tokens\":"
	    "1000}") "]";
	struct resp *r;
	struct timespec t0, t1;
	int ok = 0;

	if (!ensure_center("ut", "Usage tests") ||
	    !ensure_center("ut/outage", "Outage"))
		return;
	CHECK(pg_ctl("stop") == 0, "cannot stop PostgreSQL");
	r = usage(gateway_key, batch);
	CHECK_ERR(r, 503, "database_unavailable", NULL);
	CHECK(r->retry_after[0] != '\0', "no Retry-After");
	resp_free(r);
	r = ndjson(gateway_key, EV("ut-down-1", "ut/outage", GPT4O ",\"usage\":"
	    "{\"input_tokens\":1000}"));
	CHECK_ERR(r, 503, "database_unavailable", NULL);
	resp_free(r);
	CHECK(pg_ctl("start") == 0, "cannot start PostgreSQL");
	/* Wait for readiness (bounded), not for a fixed time. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		r = http("GET", "/readyz", NULL, NULL, NULL);
		ok = r->status == 200;
		resp_free(r);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (ok || t1.tv_sec - t0.tv_sec > 30)
			break;
		usleep(20000);
	}
	CHECK(ok, "the server did not become ready within 30 s");
	r = usage(gateway_key, batch);
	BOOKED(r, 0, "recorded", "ut-down-1", "0.002500000");
	BOOKED(r, 1, "recorded", "ut-down-2", "0.010000000");
	resp_free(r);
	r = usage(gateway_key, batch);
	BOOKED(r, 0, "duplicate", "ut-down-1", "0.002500000");
	BOOKED(r, 1, "duplicate", "ut-down-2", "0.010000000");
	resp_free(r);
	CHECK(dbn("SELECT count(*) FROM transactions WHERE kind = 'usage' AND "
	    "idempotency_key LIKE 'ut-down-%%'") == 2, "booked more than once");
	CHECK(balance("expense:ut/outage", 0) == 12500000, "expense:ut/outage");
}

/* After everything above: the books balance and the rollups agree with
 * the events and the postings. */
static void
t_verify_at_end(void)
{
	struct resp *r;
	json_t *j;
	int64_t v;
	char m1[LEDGER_MONEY_BUFSZ];

	r = http("GET", "/v1/ledger/verify", finance_key, NULL, NULL);
	j = r->json;
	CHECK(r->status == 200 && json_is_true(json_object_get(j, "ok")),
	    "%ld %s", r->status, r->body);
	CHECK(strcmp(jstr(r, "trial_balance"), "0.000000000") == 0, "%s",
	    r->body);
	CHECK(json_is_array(json_object_get(j, "rollup_differences")) &&
	    json_array_size(json_object_get(j, "rollup_differences")) == 0,
	    "%s", r->body);
	CHECK(json_is_array(json_object_get(j, "posting_differences")) &&
	    json_array_size(json_object_get(j, "posting_differences")) == 0,
	    "%s", r->body);
	CHECK(json_is_array(json_object_get(j, "unbalanced_transactions")) &&
	    json_array_size(json_object_get(j, "unbalanced_transactions")) == 0,
	    "%s", r->body);
	CHECK(json_integer_value(json_object_get(j, "transactions")) ==
	    db_count("transactions"), "%s", r->body);
	resp_free(r);
	/* What the API says the ut tree cost is what its events cost. */
	v = balance("expense:ut", 1);
	CHECK(v == dbn("SELECT sum(cost) FROM usage_events WHERE cost_center = "
	    "'ut' OR cost_center LIKE 'ut/%%'"), "expense:ut %s, events %s",
	    money_str(v, m1), dbv("SELECT sum(cost) FROM usage_events WHERE "
	    "cost_center = 'ut' OR cost_center LIKE 'ut/%%'"));
	CHECK(dbn("SELECT sum(quantity) FROM usage_daily_meters WHERE "
	    "cost_center LIKE 'ut/%%' AND meter = 'input'") == dbn("SELECT "
	    "sum(quantities[1]) FROM usage_events WHERE cost_center LIKE "
	    "'ut/%%'"), "input quantities: rollup %s",
	    dbv("SELECT sum(quantity) FROM usage_daily_meters WHERE "
	    "cost_center LIKE 'ut/%%' AND meter = 'input'"));
}

/* An event on another day than AT, for the rollup groups below. */
#define EV2(id, cc, rest) "{\"id\":\"" id "\",\"cost_center\":\"" cc "\"," \
	"\"occurred_at\":\"2026-10-06T09:30:00Z\"," rest "}"

/*
 * One batch over two cost centers, two models and two days: each daily
 * row's quantities come from its own events' meters only, and each cost
 * center's row (usage_cc_daily) sums its own rows (0023 joins them from
 * one aggregation of the batch's meters instead of reading all of them
 * per row).
 */
static void
t_rollup_groups(void)
{
	static const char body[] = "["
	    EV("ut-rg-1", "ut/rg/a", GPT4O ",\"user\":\"u1\",\"usage\":{"
	    "\"input_tokens\":100,\"output_tokens\":10}") ","
	    EV("ut-rg-2", "ut/rg/a", OPUS ",\"usage\":{\"input_tokens\":200,"
	    "\"output_tokens\":20,\"cached_input_tokens\":7}") ","
	    EV("ut-rg-3", "ut/rg/b", GPT4O ",\"tags\":{\"f\":\"x\"},\"usage\":{"
	    "\"input_tokens\":300,\"output_tokens\":30}") ","
	    EV2("ut-rg-4", "ut/rg/a", GPT4O ",\"usage\":{\"input_tokens\":400,"
	    "\"output_tokens\":40}") ","
	    EV2("ut-rg-5", "ut/rg/b", OPUS ",\"user\":\"u2\",\"usage\":{"
	    "\"input_tokens\":500,\"output_tokens\":50}") ","
	    EV("ut-rg-6", "ut/rg/a", GPT4O ",\"user\":\"u1\",\"usage\":{"
	    "\"input_tokens\":600,\"output_tokens\":60}") "]";
	struct resp *r;
	size_t i;

	if (!ensure_center("ut", "Usage tests") ||
	    !ensure_center("ut/rg", "Rollup groups") ||
	    !ensure_center("ut/rg/a", "A") || !ensure_center("ut/rg/b", "B"))
		return;
	r = usage(gateway_key, body);
	CHECK(nresults(r) == 6, "%s", r->body);
	for (i = 0; i < 6; i++)
		CHECK(strcmp(res_str(r, i, "status"), "recorded") == 0,
		    "result %zu: %s", i, r->body);
	resp_free(r);
	CHECK(dbn("SELECT count(*) FROM usage_daily WHERE cost_center LIKE "
	    "'ut/rg/%%'") == 5, "daily rows: %s", dbv("SELECT string_agg("
	    "concat_ws(' ', day, cost_center, model, quantities), ', ') FROM "
	    "usage_daily WHERE cost_center LIKE 'ut/rg/%%'"));
	/* Each daily row against its own events, meter by meter. */
	CHECK(dbn("SELECT count(*) FROM usage_daily d WHERE d.cost_center "
	    "LIKE 'ut/rg/%%' AND d.quantities IS DISTINCT FROM (SELECT "
	    "array_agg(s.q ORDER BY s.i) FROM (SELECT t.i, sum(e.quantities"
	    "[t.i])::bigint AS q FROM usage_events e, generate_series(1, "
	    "cardinality(tg_meters())) AS t (i) WHERE e.cost_center = "
	    "d.cost_center AND e.model = d.model AND (e.occurred_at AT TIME "
	    "ZONE 'UTC')::date = d.day GROUP BY t.i) s)") == 0,
	    "daily quantities: %s", dbv("SELECT string_agg(concat_ws(' ', "
	    "day, cost_center, model, quantities), ', ') FROM usage_daily "
	    "WHERE cost_center LIKE 'ut/rg/%%'"));
	CHECK(strcmp(dbv("SELECT quantities[1] || '/' || quantities[5] FROM "
	    "usage_daily WHERE cost_center = 'ut/rg/a' AND model = 'gpt-4o' "
	    "AND day = '" DAY "'"), "700/70") == 0, "ut/rg/a gpt-4o: %s",
	    dbv("SELECT quantities FROM usage_daily WHERE cost_center = "
	    "'ut/rg/a' AND model = 'gpt-4o' AND day = '" DAY "'"));
	/* Each cost center's row against the meters of its own rows. */
	CHECK(dbn("SELECT count(*) FROM usage_cc_daily c WHERE c.cost_center "
	    "LIKE 'ut/rg/%%' AND c.quantities IS DISTINCT FROM (SELECT "
	    "coalesce(jsonb_object_agg(m.meter, m.q), '{}') FROM (SELECT "
	    "meter, sum(quantity) AS q FROM usage_daily_meters WHERE "
	    "cost_center = c.cost_center AND day = c.day GROUP BY meter) m "
	    "WHERE m.q <> 0)") == 0, "cost center quantities: %s",
	    dbv("SELECT string_agg(concat_ws(' ', day, cost_center, "
	    "quantities), ', ') FROM usage_cc_daily WHERE cost_center LIKE "
	    "'ut/rg/%%'"));
	CHECK(dbn("SELECT count(*) FROM usage_cc_daily WHERE cost_center LIKE "
	    "'ut/rg/%%'") == 4, "cost center rows");
	CHECK(strcmp(dbv("SELECT quantities ->> 'input' FROM usage_cc_daily "
	    "WHERE cost_center = 'ut/rg/a' AND day = '" DAY "'"), "900") == 0,
	    "ut/rg/a input: %s", dbv("SELECT quantities FROM usage_cc_daily "
	    "WHERE cost_center = 'ut/rg/a' AND day = '" DAY "'"));
}

/*
 * A kept plan made while ledger_keys had grown unanalysed estimated
 * hundreds of rows per key probe and went past jit_above_cost: the
 * outcome query was compiled at every call, 12 to 16 ms a commit
 * (measured) where a small booking takes 1. The booking runs without JIT
 * and keeps its generic plans.
 */
static void
t_booking_settings(void)
{
	CHECK(strcmp(dbv("SELECT string_agg(c, ' ' ORDER BY c) FROM pg_proc, "
	    "unnest(proconfig) AS c WHERE proname = 'usage_book_cols'"),
	    "jit=off plan_cache_mode=force_generic_plan") == 0,
	    "usage_book_cols() settings: %s", dbv("SELECT array_to_string("
	    "proconfig, ' ') FROM pg_proc WHERE proname = 'usage_book_cols'"));
}

const struct itest usage_tests[] = {
	{ "cost centers: tree, errors, audit log, archive",
	  t_cost_center_tree },
	{ "usage as object, array and NDJSON books exact costs to ledger and "
	  "rollups", t_ingest_paths },
	{ "a usage id is booked once: batch, retries, restart, conflicts",
	  t_idempotency },
	{ "concurrent retries of one usage event book it once",
	  t_concurrent_retries },
	{ "bad usage events are rejected one by one beside good ones",
	  t_mixed_batch },
	{ "unpriced usage is recorded at zero without postings", t_unpriced },
	{ "usage without a cost center goes to the key's default",
	  t_key_default_cost_center },
	{ "usage roles, content types and body shapes", t_roles_and_bodies },
	{ "a reported cost left out on a retry is other content",
	  t_reported_cost_is_content },
	{ "a malformed NDJSON line is named by its line in the body",
	  t_ndjson_error_line },
	{ "a database outage gives 503; the retry books each event once",
	  t_database_outage },
	{ "a batch over several cost centers, models and days rolls each "
	  "row up from its own events", t_rollup_groups },
	{ "the booking runs without JIT and with kept plans",
	  t_booking_settings },
	{ "after usage the ledger verifies with empty differences",
	  t_verify_at_end },
	{ NULL, NULL }
};
