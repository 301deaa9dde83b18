/*
 * test_reprice.c - allocation rules, unpriced events and repricing, as an
 * admin and a gateway would meet them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/itest.h"

static struct resp *
post(const char *path, const char *key, const char *body)
{
	return http("POST", path, key, body, NULL);
}

/* The status of result i of a usage reply, or "". */
static const char *
result_status(const struct resp *r, size_t i)
{
	const char *s = json_string_value(json_object_get(json_array_get(
	    json_object_get(r->json, "results"), i), "status"));

	return s != NULL ? s : "";
}

static const char *
result_field(const struct resp *r, size_t i, const char *name)
{
	const char *s = json_string_value(json_object_get(json_array_get(
	    json_object_get(r->json, "results"), i), name));

	return s != NULL ? s : "";
}

static void
t_allocation_rules(void)
{
	struct resp *r;
	char path[64];
	const char *id;
	long long audit;

	resp_free(post("/v1/cost-centers", admin_key,
	    "{\"id\":\"rr\",\"name\":\"Rules\"}"));
	resp_free(post("/v1/cost-centers", admin_key,
	    "{\"id\":\"rr/chat\",\"name\":\"Chat\"}"));
	resp_free(post("/v1/cost-centers", admin_key,
	    "{\"id\":\"rr/old\",\"name\":\"Old\"}"));
	audit = db_count("audit_log");
	r = post("/v1/allocation-rules", admin_key, "{\"position\":1,\"match\":"
	    "\"tag\",\"tag\":\"feature\",\"value\":\"legacy\",\"cost_center\":"
	    "\"rr/old\"}");
	CHECK(r->status == 201, "%s", r->body);
	resp_free(r);
	r = post("/v1/allocation-rules", admin_key, "{\"position\":2,\"match\":"
	    "\"tag\",\"tag\":\"feature\",\"value\":\"legacy\",\"cost_center\":"
	    "\"rr/chat\"}");
	CHECK(r->status == 201, "%s", r->body);
	resp_free(r);
	r = post("/v1/allocation-rules", admin_key, "{\"position\":3,\"match\":"
	    "\"user\",\"value\":\"carol\",\"cost_center\":\"rr/chat\"}");
	CHECK(r->status == 201, "%s", r->body);
	id = jstr(r, "id");
	snprintf(path, sizeof path, "/v1/allocation-rules/%s", id);
	resp_free(r);
	CHECK(db_count("audit_log") == audit + 3, "rules are audited");

	/* Bad rules write nothing. */
	r = post("/v1/allocation-rules", admin_key, "{\"position\":1,\"match\":"
	    "\"team\",\"value\":\"x\",\"cost_center\":\"rr\"}");
	CHECK_ERR(r, 400, "invalid_field", "match");
	resp_free(r);
	r = post("/v1/allocation-rules", admin_key, "{\"position\":1,\"match\":"
	    "\"tag\",\"value\":\"x\",\"cost_center\":\"rr\"}");
	CHECK_ERR(r, 400, "invalid_field", "tag");
	resp_free(r);
	r = post("/v1/allocation-rules", admin_key, "{\"position\":1,\"match\":"
	    "\"user\",\"value\":\"x\",\"cost_center\":\"nowhere\"}");
	CHECK_ERR(r, 400, "unknown_cost_center", "cost_center");
	resp_free(r);
	r = post("/v1/allocation-rules", gateway_key, "{\"position\":1,\"match\":"
	    "\"user\",\"value\":\"x\",\"cost_center\":\"rr\"}");
	CHECK_ERR(r, 403, "forbidden", NULL);
	resp_free(r);

	/* A rule to an archived center is passed over for the next one. */
	r = http("PATCH", "/v1/cost-centers/rr/old", admin_key,
	    "{\"archived\":true}", NULL);
	CHECK(r->status == 200, "%s", r->body);
	resp_free(r);
	/* ... and an archived center takes no new children. */
	r = post("/v1/cost-centers", admin_key,
	    "{\"id\":\"rr/old/new\",\"name\":\"New\"}");
	CHECK_ERR(r, 400, "unknown_parent", "id");
	resp_free(r);
	r = post("/v1/usage", gateway_key, "[{\"id\":\"rr-1\",\"tags\":{\"feature\":"
	    "\"legacy\"},\"provider\":\"openai\",\"model\":\"gpt-4o\",\"occurred_at\":"
	    "\"2026-10-07T00:00:00Z\",\"usage\":{\"input_tokens\":1000}},"
	    "{\"id\":\"rr-2\",\"user\":\"carol\",\"provider\":\"openai\",\"model\":"
	    "\"gpt-4o\",\"occurred_at\":\"2026-10-07T00:00:00Z\",\"usage\":"
	    "{\"input_tokens\":1000}}]");
	CHECK(strcmp(result_status(r, 0), "recorded") == 0 &&
	    strcmp(result_status(r, 1), "recorded") == 0, "%s", r->body);
	resp_free(r);
	CHECK(strcmp(db_value("SELECT string_agg(cost_center, ',' ORDER BY "
	    "cost_center) FROM usage_events u JOIN transactions t ON t.id = "
	    "u.transaction_id WHERE t.idempotency_key IN ('rr-1', 'rr-2')"),
	    "rr/chat,rr/chat") == 0, "rules route to rr/chat");

	/* Once the rule is gone, a retry of a booked event is still its
	 * duplicate, not a rejection. */
	r = http("DELETE", path, admin_key, NULL, NULL);
	CHECK(r->status == 200, "%s", r->body);
	resp_free(r);
	r = post("/v1/usage", gateway_key, "{\"id\":\"rr-2\",\"user\":\"carol\","
	    "\"provider\":\"openai\",\"model\":\"gpt-4o\",\"occurred_at\":"
	    "\"2026-10-07T00:00:00Z\",\"usage\":{\"input_tokens\":1000}}");
	CHECK(r->status == 200 && strcmp(result_status(r, 0), "duplicate") == 0,
	    "%ld %s", r->status, r->body);
	resp_free(r);
	r = http("DELETE", path, admin_key, NULL, NULL);
	CHECK_ERR(r, 404, "unknown_allocation_rule", NULL);
	resp_free(r);
}

static void
t_unpriced_then_repriced(void)
{
	const char *doc = "{\"models\":[{\"provider\":\"zeta\",\"model\":\"z-1\","
	    "\"prices\":{\"input\":\"0.000004\",\"output\":\"0.00001\"}}]}";
	struct resp *r;

	resp_free(post("/v1/cost-centers", admin_key,
	    "{\"id\":\"rp\",\"name\":\"Reprice\"}"));
	r = post("/v1/usage", gateway_key, "[{\"id\":\"rp-1\",\"cost_center\":\"rp\","
	    "\"provider\":\"zeta\",\"model\":\"z-1\",\"occurred_at\":"
	    "\"2026-10-08T00:00:00Z\",\"usage\":{\"input_tokens\":1000,"
	    "\"output_tokens\":100}},{\"id\":\"rp-2\",\"cost_center\":\"rp\","
	    "\"provider\":\"zeta\",\"model\":\"z-2\",\"occurred_at\":"
	    "\"2026-10-08T00:00:00Z\",\"usage\":{\"input_tokens\":5}}]");
	CHECK(strcmp(result_field(r, 0, "cost"), "0.000000000") == 0 &&
	    *result_field(r, 0, "unpriced") != '\0', "%s", r->body);
	resp_free(r);
	r = http("GET", "/v1/usage/unpriced?limit=10000", finance_key, NULL, NULL);
	CHECK(r->status == 200 && strstr(r->body, "\"rp-1\"") != NULL &&
	    strstr(r->body, "\"rp-2\"") != NULL, "%.300s", r->body);
	resp_free(r);
	r = http("GET", "/v1/usage/unpriced?limit=0", finance_key, NULL, NULL);
	CHECK_ERR(r, 400, "invalid_parameter", "limit");
	resp_free(r);

	/* The price becomes known later (a version effective after the
	 * event), through the command line like another instance; reprice
	 * once the server has loaded it. */
	r = import_and_wait(doc, "2033-01-01T00:00:00Z", "{\"provider\":"
	    "\"zeta\",\"model\":\"z-1\",\"occurred_at\":"
	    "\"2033-02-01T00:00:00Z\",\"usage\":{\"input_tokens\":1}}");
	CHECK(r != NULL && r->status == 200, "the new version was not loaded "
	    "within 15 s: %s", r != NULL ? r->body : "import failed");
	resp_free(r);
	r = post("/v1/ledger/reprice", admin_key, NULL);
	/* 1000 x 4e-06 + 100 x 1e-05 = 0.004 + 0.001 = 0.005 */
	CHECK(r->status == 200 && json_integer_value(json_object_get(r->json,
	    "corrected")) >= 1, "%s", r->body);
	resp_free(r);
	CHECK(strcmp(db_value("SELECT sum(p.amount) FROM postings p JOIN "
	    "accounts a ON a.id = p.account_id WHERE a.name = 'expense:rp'"),
	    "5000000") == 0, "the correction books 0.005");
	CHECK(strcmp(db_value("SELECT count(*) FROM transactions WHERE kind = "
	    "'correction' AND corrects = (SELECT id FROM transactions WHERE "
	    "idempotency_key = 'rp-1')"), "1") == 0, "one correction");
	/* Nothing left to correct: a second run books nothing (and the
	 * server stays up). */
	r = post("/v1/ledger/reprice", admin_key, NULL);
	CHECK(r->status == 200 && json_integer_value(json_object_get(r->json,
	    "corrected")) == 0, "%s", r->body);
	resp_free(r);
	r = http("GET", "/healthz", NULL, NULL, NULL);
	CHECK(r->status == 200, "server down after reprice");
	resp_free(r);
	/* The original is untouched; a retry reports the corrected cost. */
	CHECK(strcmp(db_value("SELECT cost FROM usage_events u JOIN transactions "
	    "t ON t.id = u.transaction_id WHERE t.idempotency_key = 'rp-1'"),
	    "0") == 0, "the original changed");
	r = post("/v1/usage", gateway_key, "{\"id\":\"rp-1\",\"cost_center\":\"rp\","
	    "\"provider\":\"zeta\",\"model\":\"z-1\",\"occurred_at\":"
	    "\"2026-10-08T00:00:00Z\",\"usage\":{\"input_tokens\":1000,"
	    "\"output_tokens\":100}}");
	CHECK(strcmp(result_status(r, 0), "duplicate") == 0 &&
	    strcmp(result_field(r, 0, "cost"), "0.005000000") == 0, "%s",
	    r->body);
	resp_free(r);
	/* z-2 has still no price: still listed. */
	r = http("GET", "/v1/usage/unpriced?limit=10000", finance_key, NULL, NULL);
	CHECK(strstr(r->body, "\"rp-1\"") == NULL &&
	    strstr(r->body, "\"rp-2\"") != NULL, "%.300s", r->body);
	resp_free(r);
	r = http("GET", "/v1/ledger/verify", admin_key, NULL, NULL);
	CHECK(json_is_true(json_object_get(r->json, "ok")), "%s", r->body);
	resp_free(r);
	r = post("/v1/ledger/reprice", finance_key, NULL);
	CHECK_ERR(r, 403, "forbidden", NULL);
	resp_free(r);
}

/* TOLLGATE_AUTO_CREATE_COST_CENTERS=1 makes the server pass true here;
 * the suite's server runs with the default, so the booking function is
 * called directly, as the server would call it, with the event priced as
 * the server prices it (1 gpt-4o input token at 2.5e-06 = 2500 nanos,
 * price version 1: the snapshot). */
static void
t_auto_create(void)
{
	long long audit = db_count("audit_log");
	const char *batch = "'[{\"n\":0,\"key\":\"ac-1\",\"hash\":\"00\","
	    "\"occurred_at\":\"2026-10-09T00:00:00Z\",\"cc\":\"auto/x/y\","
	    "\"provider\":\"openai\",\"model\":\"gpt-4o\",\"tier\":\"standard\","
	    "\"pv\":1,\"list_cost\":2500,\"cost\":2500,\"q\":[1],\"m\":"
	    "[{\"meter\":\"input\",\"q\":1,\"l\":2500,\"c\":2500}]}]'";
	char sql[1024];

	snprintf(sql, sizeof sql, "SELECT status FROM usage_ingest(%s, false)",
	    batch);
	CHECK(strcmp(db_value(sql), "unknown_cost_center") == 0,
	    "without auto-creation the event is refused");
	CHECK(strcmp(db_value("SELECT count(*) FROM cost_centers WHERE id "
	    "LIKE 'auto%'"), "0") == 0, "nothing created");
	snprintf(sql, sizeof sql, "SELECT status FROM usage_ingest(%s, true)",
	    batch);
	CHECK(strcmp(db_value(sql), "recorded") == 0, "auto-created");
	CHECK(strcmp(db_value("SELECT string_agg(id || '<' || coalesce(parent, "
	    "'-'), ' ' ORDER BY id) FROM cost_centers WHERE id LIKE 'auto%'"),
	    "auto<- auto/x<auto auto/x/y<auto/x") == 0, "the path with parents");
	CHECK(db_count("audit_log") == audit + 3, "each creation is audited");
}

const struct itest reprice_tests[] = {
	{ "unknown cost centers are created on use only when allowed",
	  t_auto_create },
	{ "allocation rules route events, skip archived targets, audit changes",
	  t_allocation_rules },
	{ "an unpriced event is listed, then repriced by a correction once",
	  t_unpriced_then_repriced },
	{ NULL, NULL }
};
