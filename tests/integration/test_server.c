/*
 * test_server.c - the HTTP edge as a client sees it: health, routing, the
 * error envelope, authentication and roles, limits, metrics, and riding
 * out a PostgreSQL restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/itest.h"

static int
is_error_envelope(const struct resp *r)
{
	json_t *e = json_object_get(r->json, "error");

	return json_is_object(e) &&
	    json_is_string(json_object_get(e, "code")) &&
	    json_is_string(json_object_get(e, "message")) &&
	    json_object_get(e, "field") != NULL &&
	    strncmp(r->ctype, "application/json", 16) == 0;
}

static void
t_healthz(void)
{
	const char *const rid[] = { "X-Request-Id: itest-abc.1", NULL };
	struct resp *r = http("GET", "/healthz", NULL, NULL, NULL);

	CHECK(r->status == 200, "status %ld", r->status);
	CHECK(strcmp(jstr(r, "status"), "ok") == 0, "%s", r->body);
	CHECK(r->request_id[0] != '\0', "no X-Request-Id");
	resp_free(r);
	r = http("GET", "/healthz", NULL, NULL, rid);
	CHECK(strcmp(r->request_id, "itest-abc.1") == 0, "id %s", r->request_id);
	resp_free(r);
}

static void
t_readyz(void)
{
	struct resp *r = http("GET", "/readyz", NULL, NULL, NULL);

	CHECK(r->status == 200, "status %ld %s", r->status, r->body);
	CHECK(json_integer_value(json_object_get(r->json, "schema_version")) >= 1,
	    "%s", r->body);
	resp_free(r);
}

static void
t_not_found(void)
{
	struct resp *r = http("GET", "/v1/nope", admin_key, NULL, NULL);

	CHECK_ERR(r, 404, "not_found", NULL);
	CHECK(is_error_envelope(r), "%s", r->body);
	CHECK(strlen(r->request_id) > 0 && strstr(r->body, r->request_id) != NULL,
	    "the error names its request id: %s", r->body);
	resp_free(r);
}

static void
t_method_not_allowed(void)
{
	struct resp *r = http("DELETE", "/v1/ledger/verify", admin_key, NULL,
	    NULL);

	CHECK_ERR(r, 405, "method_not_allowed", NULL);
	CHECK(is_error_envelope(r), "%s", r->body);
	CHECK(strcmp(r->allow, "GET") == 0, "Allow: %s", r->allow);
	resp_free(r);
	r = http("GET", "/v1/ledger/adjustments", admin_key, NULL, NULL);
	CHECK_ERR(r, 405, "method_not_allowed", NULL);
	CHECK(strcmp(r->allow, "POST") == 0, "Allow: %s", r->allow);
	resp_free(r);
}

static void
t_auth(void)
{
	const char *const bearer_only[] = { "Authorization: Bearer", NULL };
	const char *const basic[] = { "Authorization: Basic dXNlcjpwYXNz", NULL };
	struct resp *r;

	r = http("GET", "/v1/ledger/verify", NULL, NULL, NULL);
	CHECK_ERR(r, 401, "unauthorized", NULL);
	CHECK(is_error_envelope(r), "%s", r->body);
	resp_free(r);
	r = http("GET", "/v1/ledger/verify", NULL, NULL, bearer_only);
	CHECK_ERR(r, 401, "unauthorized", NULL);
	resp_free(r);
	r = http("GET", "/v1/ledger/verify", NULL, NULL, basic);
	CHECK_ERR(r, 401, "unauthorized", NULL);
	resp_free(r);
	r = http("GET", "/v1/ledger/verify", "tg_not-a-real-key", NULL, NULL);
	CHECK_ERR(r, 401, "invalid_key", NULL);
	resp_free(r);
	/* A key that differs from a real one in its last character. */
	{
		char k[128];

		snprintf(k, sizeof k, "%s", admin_key);
		k[strlen(k) - 1] = k[strlen(k) - 1] == 'A' ? 'B' : 'A';
		r = http("GET", "/v1/ledger/verify", k, NULL, NULL);
		CHECK_ERR(r, 401, "invalid_key", NULL);
		resp_free(r);
	}
}

static void
t_roles(void)
{
	const char *adj = "{\"idempotency_key\":\"role-test\",\"postings\":["
	    "{\"account\":\"expense:eng\",\"amount\":\"1\"},"
	    "{\"account\":\"payable:openai\",\"amount\":\"-1\"}]}";
	long long before = db_count("transactions");
	struct resp *r;

	r = http("POST", "/v1/ledger/adjustments", gateway_key, adj, NULL);
	CHECK_ERR(r, 403, "forbidden", NULL);
	resp_free(r);
	r = http("POST", "/v1/ledger/adjustments", finance_key, adj, NULL);
	CHECK_ERR(r, 403, "forbidden", NULL);
	resp_free(r);
	CHECK(db_count("transactions") == before, "a refused request wrote");
	r = http("GET", "/v1/ledger/verify", finance_key, NULL, NULL);
	CHECK(r->status == 200, "finance may verify: %ld", r->status);
	resp_free(r);
	r = http("GET", "/v1/ledger/balances", gateway_key, NULL, NULL);
	CHECK_ERR(r, 403, "forbidden", NULL);
	resp_free(r);
}

static void
t_body_limit(void)
{
	/* TOLLGATE_BODY_LIMIT is set to 1 MiB for the suite. */
	size_t n = 1536 * 1024;
	char *big = malloc(n + 1);
	long long before = db_count("transactions");
	struct resp *r;

	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	r = http("POST", "/v1/ledger/adjustments", admin_key, big, NULL);
	CHECK_ERR(r, 413, "body_too_large", NULL);
	CHECK(is_error_envelope(r), "%s", r->body);
	resp_free(r);
	free(big);
	CHECK(db_count("transactions") == before, "an oversized request wrote");
	/* The server is still fine afterwards. */
	r = http("GET", "/healthz", NULL, NULL, NULL);
	CHECK(r->status == 200, "status %ld", r->status);
	resp_free(r);
}

static void
t_bad_bodies(void)
{
	const char *const text[] = { "Content-Type: text/plain", NULL };
	static const char *const bad[] = { "{", "[1,2]", "\"x\"", "{\"a\":1,\"a\":2}",
	    "{\"idempotency_key\":\"\xff\xfe\"}", "nul", NULL };
	static const char *const codes[] = { "malformed_json", "invalid_body",
	    "invalid_body", "malformed_json", "malformed_json", "malformed_json" };
	long long before = db_count("transactions");
	struct resp *r;
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		r = http("POST", "/v1/ledger/adjustments", admin_key, bad[i],
		    NULL);
		CHECK_ERR(r, 400, codes[i], NULL);
		CHECK(is_error_envelope(r), "%s", r->body);
		resp_free(r);
	}
	r = http("POST", "/v1/ledger/adjustments", admin_key, "", NULL);
	CHECK_ERR(r, 400, "missing_body", NULL);
	resp_free(r);
	r = http("POST", "/v1/ledger/adjustments", admin_key, "{}", text);
	CHECK_ERR(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	CHECK(db_count("transactions") == before, "a bad body wrote");
}

static void
t_malformed_http(void)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "this is not a header\r\n\r\n";
	char out[4096];

	/* libevent refuses this request itself; the answer must still carry
	 * tollgate's JSON envelope. */
	CHECK(http_raw(req, sizeof req - 1, out, sizeof out) > 0, "no answer");
	CHECK(strncmp(out, "HTTP/1.1 400", 12) == 0, "%.100s", out);
	CHECK(strstr(out, "\"code\":\"bad_request\"") != NULL, "%s", out);
}

static void
t_metrics(void)
{
	struct resp *r = http("GET", "/metrics", NULL, NULL, NULL);

	CHECK_ERR(r, 401, "unauthorized", NULL);
	resp_free(r);
	r = http("GET", "/metrics", finance_key, NULL, NULL);
	CHECK(r->status == 200, "status %ld", r->status);
	CHECK(strstr(r->body, "tollgate_http_requests_total{method=\"GET\","
	    "route=\"/healthz\",status=\"200\"}") != NULL, "%.300s", r->body);
	CHECK(strstr(r->body, "tollgate_http_request_duration_seconds_bucket")
	    != NULL, "no histogram");
	CHECK(strstr(r->body, "tollgate_db_connections{state=\"up\"}") != NULL,
	    "no pool state");
	CHECK(strstr(r->body, "status=\"413\"") != NULL, "413 not counted");
	resp_free(r);
}

static long
status_of(const char *method, const char *path, const char *key,
    const char *body, struct resp **keep)
{
	struct resp *r = http(method, path, key, body, NULL);
	long st = r->status;

	if (keep != NULL)
		*keep = r;
	else
		resp_free(r);
	return st;
}

static void
t_database_restart(void)
{
	const char *adj = "{\"idempotency_key\":\"during-outage\",\"postings\":["
	    "{\"account\":\"expense:ops\",\"amount\":\"2\"},"
	    "{\"account\":\"payable:openai\",\"amount\":\"-2\"}]}";
	struct resp *r;
	struct timespec t0, t1;
	int ok = 0, i;

	CHECK(pg_ctl("stop") == 0, "cannot stop PostgreSQL");
	r = http("GET", "/v1/ledger/balances", admin_key, NULL, NULL);
	CHECK_ERR(r, 503, "database_unavailable", NULL);
	CHECK(r->retry_after[0] != '\0', "no Retry-After");
	resp_free(r);
	r = http("POST", "/v1/ledger/adjustments", admin_key, adj, NULL);
	CHECK_ERR(r, 503, "database_unavailable", NULL);
	resp_free(r);
	CHECK(status_of("GET", "/healthz", NULL, NULL, NULL) == 200,
	    "healthz must not need the database");
	CHECK(status_of("GET", "/readyz", NULL, NULL, NULL) == 503,
	    "readyz must say not ready");

	CHECK(pg_ctl("start") == 0, "cannot start PostgreSQL");
	/* Recovery without restarting tollgate, bounded in time. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 1000 && !ok; i++) {
		ok = status_of("GET", "/readyz", NULL, NULL, NULL) == 200;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 30)
			break;
		if (!ok)
			usleep(20000);
	}
	CHECK(ok, "the server did not recover within 30 s");
	r = http("POST", "/v1/ledger/adjustments", admin_key, adj, NULL);
	CHECK(r->status == 201, "after recovery: %ld %s", r->status, r->body);
	resp_free(r);
	/* The refused attempt during the outage wrote nothing: one copy. */
	CHECK(strcmp(db_value("SELECT count(*) FROM transactions "
	    "WHERE idempotency_key = 'during-outage'"), "1") == 0,
	    "expected exactly one transaction");
}

const struct itest server_tests[] = {
	{ "healthz answers without a key and echoes request ids", t_healthz },
	{ "readyz reports the schema version", t_readyz },
	{ "unknown route is a JSON 404", t_not_found },
	{ "wrong method is a JSON 405 with Allow", t_method_not_allowed },
	{ "missing, malformed and unknown keys are 401", t_auth },
	{ "roles are enforced per route and refusals write nothing", t_roles },
	{ "an oversized body is a JSON 413 and writes nothing", t_body_limit },
	{ "malformed bodies are JSON 400s and write nothing", t_bad_bodies },
	{ "a malformed HTTP request gets a JSON 400", t_malformed_http },
	{ "metrics count requests by route and status", t_metrics },
	{ "a PostgreSQL restart gives 503, then recovers by itself",
	  t_database_restart },
	{ NULL, NULL }
};
