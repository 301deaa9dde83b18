/*
 * test_allocations.c - shared-cost splits through POST /v1/allocations on
 * cost centers of their own (alc, alc/plat, alc/a, alc/b, alc/c): even,
 * weighted and percent splits with remainders checked to the nano-unit
 * against the balances, idempotent re-runs and conflicts, bad inputs that
 * write nothing, and a month's chargeback CSV with usage, a correction, a
 * manual adjustment and an allocation, checked against the ledger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "tests/integration/itest.h"

static void
setup(void)
{
	static const char *const ccs[] = { "alc", "alc/plat", "alc/a",
	    "alc/b", "alc/c", NULL };
	char body[200];
	struct resp *r;
	int i;

	for (i = 0; ccs[i] != NULL; i++) {
		snprintf(body, sizeof body, "{\"id\":\"%s\",\"name\":\"%s\","
		    "\"tags\":{\"team\":\"%s, inc\"}}", ccs[i], ccs[i], ccs[i]);
		r = http("POST", "/v1/cost-centers", admin_key, body, NULL);
		CHECK(r->status == 201 || r->status == 409, "%s", r->body);
		resp_free(r);
	}
}

static int64_t
nanos(const char *s)
{
	int64_t v = 0;
	const char *why;

	if (s == NULL || ledger_money_parse(s, strlen(s), &v, &why) != 0)
		return INT64_MIN;
	return v;
}

/* An expense on a cost center, booked by hand against a provider. */
static void
spend(const char *key, const char *cc, const char *at, const char *amount)
{
	char body[512];
	struct resp *r;

	snprintf(body, sizeof body, "{\"idempotency_key\":\"%s\","
	    "\"occurred_at\":\"%s\",\"memo\":\"seed\",\"postings\":["
	    "{\"account\":\"expense:%s\",\"amount\":\"%s\"},"
	    "{\"account\":\"payable:openai\",\"amount\":\"-%s\"}]}", key, at, cc,
	    amount, amount);
	r = http("POST", "/v1/ledger/adjustments", admin_key, body, NULL);
	CHECK(r->status == 201 || r->status == 200, "%s", r->body);
	resp_free(r);
}

/* A cost center's balance over a month, in nano-units. */
static int64_t
balance(const char *cc, const char *month)
{
	char path[300];
	struct resp *r;
	int64_t v;
	int y, m;

	sscanf(month, "%d-%d", &y, &m);
	snprintf(path, sizeof path, "/v1/ledger/balances?account=expense:%s&"
	    "from=%s-01T00:00:00Z&to=%04d-%02d-01T00:00:00Z", cc, month,
	    m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
	r = http("GET", path, finance_key, NULL, NULL);
	v = nanos(json_string_value(json_object_get(json_array_get(
	    json_object_get(r->json, "balances"), 0), "balance")));
	resp_free(r);
	return v;
}

static struct resp *
allocate(const char *key, const char *body)
{
	return http("POST", "/v1/allocations", key, body, NULL);
}

/* The amount the reply gave target i. */
static int64_t
part(struct resp *r, size_t i)
{
	return nanos(json_string_value(json_object_get(json_array_get(
	    json_object_get(r->json, "targets"), i), "amount")));
}

static void
verify_clean(void)
{
	struct resp *r = http("GET", "/v1/ledger/verify", finance_key, NULL,
	    NULL);

	CHECK(r->status == 200 && json_is_true(json_object_get(r->json, "ok")),
	    "verify: %.600s", r->body);
	resp_free(r);
}

static void
t_splits(void)
{
	struct resp *r;

	setup();
	/* Even: 10 nano-units over three, the odd one to the first. */
	spend("alc-even", "alc/plat", "2026-03-10T00:00:00Z", "0.00000001");
	r = allocate(admin_key, "{\"id\":\"alc-even\",\"source\":\"alc/plat\","
	    "\"month\":\"2026-03\",\"method\":\"even\",\"targets\":[\"alc/a\","
	    "\"alc/b\",\"alc/c\"],\"memo\":\"shared platform\"}");
	CHECK(r->status == 201 && strcmp(jstr(r, "status"), "recorded") == 0 &&
	    strcmp(jstr(r, "amount"), "0.000000010") == 0 &&
	    part(r, 0) == 4 && part(r, 1) == 3 && part(r, 2) == 3, "%s",
	    r->body);
	resp_free(r);
	CHECK(balance("alc/plat", "2026-03") == 0 &&
	    balance("alc/a", "2026-03") == 4 && balance("alc/b", "2026-03") ==
	    3 && balance("alc/c", "2026-03") == 3, "even balances");

	/* Weighted by the targets' own spend, 1 : 2 : 4, of 100: 14.28,
	 * 28.57, 57.14; the left-over unit to the largest fraction. */
	spend("alc-w-src", "alc/plat", "2026-04-03T00:00:00Z", "0.0000001");
	spend("alc-w-a", "alc/a", "2026-04-04T00:00:00Z", "0.000000001");
	spend("alc-w-b", "alc/b", "2026-04-05T00:00:00Z", "0.000000002");
	spend("alc-w-c", "alc/c", "2026-04-06T00:00:00Z", "0.000000004");
	r = allocate(admin_key, "{\"id\":\"alc-weighted\",\"source\":"
	    "\"alc/plat\",\"period\":{\"from\":\"2026-04-01T00:00:00Z\",\"to\":"
	    "\"2026-05-01T02:00:00+02:00\"},\"method\":\"weighted\",\"targets\":"
	    "[\"alc/a\",\"alc/b\",\"alc/c\"]}");
	CHECK(r->status == 201 && part(r, 0) == 14 && part(r, 1) == 29 &&
	    part(r, 2) == 57, "%s", r->body);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(
	    json_object_get(r->json, "targets"), 2), "weight")),
	    "0.000000004") == 0, "%s", r->body);
	resp_free(r);
	CHECK(balance("alc/plat", "2026-04") == 0 &&
	    balance("alc/a", "2026-04") == 15 && balance("alc/b", "2026-04") ==
	    31 && balance("alc/c", "2026-04") == 61, "weighted balances");

	/* Percent: 60 / 25 / 15 of 1.000000001, the odd nano-unit to the
	 * largest fraction (0.6 of it). */
	spend("alc-p-src", "alc/plat", "2026-05-07T00:00:00Z", "1.000000001");
	r = allocate(admin_key, "{\"id\":\"alc-percent\",\"source\":"
	    "\"alc/plat\",\"month\":\"2026-05\",\"method\":\"percent\","
	    "\"targets\":[{\"cost_center\":\"alc/a\",\"percent\":\"60\"},"
	    "{\"cost_center\":\"alc/b\",\"percent\":25},{\"cost_center\":"
	    "\"alc/c\",\"percent\":\"15.000\"}]}");
	CHECK(r->status == 201 && part(r, 0) == 600000001 &&
	    part(r, 1) == 250000000 && part(r, 2) == 150000000, "%s", r->body);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(
	    json_object_get(r->json, "targets"), 0), "percent")), "60") == 0 &&
	    strcmp(json_string_value(json_object_get(json_array_get(
	    json_object_get(r->json, "targets"), 1), "ratio")), "0.25") == 0,
	    "%s", r->body);
	resp_free(r);
	CHECK(balance("alc/plat", "2026-05") == 0 &&
	    balance("alc/a", "2026-05") == 600000001, "percent balances");

	/* Each is one balanced reallocation, recorded and audited. */
	CHECK(strcmp(db_value("SELECT count(*) FROM transactions WHERE kind = "
	    "'reallocation' AND idempotency_key IN ('alc-even', "
	    "'alc-weighted', 'alc-percent')"), "3") == 0, "transactions");
	CHECK(strcmp(db_value("SELECT count(*) FROM audit_log WHERE entity = "
	    "'allocation' AND entity_id LIKE 'alc-%'"), "3") == 0, "audit");
	r = http("GET", "/v1/allocations", finance_key, NULL, NULL);
	CHECK(r->status == 200 && strstr(r->body, "\"alc-percent\"") != NULL,
	    "%ld %.200s", r->status, r->body);
	resp_free(r);
	r = http("GET", "/v1/allocations", gateway_key, NULL, NULL);
	CHECK(r->status == 403, "a gateway listed allocations: %ld", r->status);
	resp_free(r);
	verify_clean();
}

static void
t_idempotent(void)
{
	static const char body[] = "{\"id\":\"alc-rerun\",\"source\":"
	    "\"alc/plat\",\"month\":\"2026-06\",\"method\":\"percent\","
	    "\"targets\":[{\"cost_center\":\"alc/a\",\"percent\":\"70\"},"
	    "{\"cost_center\":\"alc/b\",\"percent\":\"30\"}]}";
	struct resp *r;
	char tx[32];
	long long before;

	setup();
	spend("alc-rerun-src", "alc/plat", "2026-06-02T00:00:00Z", "3");
	r = allocate(admin_key, body);
	CHECK(r->status == 201, "%s", r->body);
	snprintf(tx, sizeof tx, "%s", jstr(r, "transaction_id"));
	resp_free(r);
	before = db_count("transactions");
	/* Again, the same content spelled otherwise: the original, though
	 * the source has nothing left to allocate. */
	r = allocate(admin_key, "{\"method\":\"percent\",\"id\":\"alc-rerun\","
	    "\"source\":\"alc/plat\",\"period\":{\"from\":"
	    "\"2026-06-01T00:00:00Z\",\"to\":\"2026-07-01T00:00:00Z\"},"
	    "\"targets\":[{\"cost_center\":\"alc/a\",\"percent\":\"70.00\"},"
	    "{\"percent\":30,\"cost_center\":\"alc/b\"}]}");
	CHECK(r->status == 200 && strcmp(jstr(r, "status"), "duplicate") == 0 &&
	    strcmp(jstr(r, "transaction_id"), tx) == 0 &&
	    strcmp(jstr(r, "amount"), "3.000000000") == 0, "%s", r->body);
	resp_free(r);
	/* Other content under the same id. */
	r = allocate(admin_key, "{\"id\":\"alc-rerun\",\"source\":\"alc/plat\","
	    "\"month\":\"2026-06\",\"method\":\"even\",\"targets\":[\"alc/a\","
	    "\"alc/b\"]}");
	CHECK_ERR(r, 409, "idempotency_conflict", "id");
	resp_free(r);
	CHECK(db_count("transactions") == before, "a re-run booked more");
	/* Late spend after the allocation: another allocation moves it. */
	spend("alc-rerun-late", "alc/plat", "2026-06-20T00:00:00Z", "1");
	r = allocate(admin_key, "{\"id\":\"alc-rerun-2\",\"source\":"
	    "\"alc/plat\",\"month\":\"2026-06\",\"method\":\"even\","
	    "\"targets\":[\"alc/c\"]}");
	CHECK(r->status == 201 && strcmp(jstr(r, "amount"), "1.000000000") ==
	    0, "%s", r->body);
	resp_free(r);
	CHECK(balance("alc/plat", "2026-06") == 0, "the source keeps spend");
	verify_clean();
}

static void
t_bad_inputs(void)
{
	static const struct {
		const char *body;
		int status;
		const char *code, *field;
	} cases[] = {
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"method\":\"even\",\"targets\":[\"alc/a\","
		  "\"alc/nope\"]}", 400, "unknown_cost_center", "targets[1]" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/nope\",\"month\":"
		  "\"2026-02\",\"method\":\"even\",\"targets\":[\"alc/a\"]}",
		  400, "unknown_cost_center", "source" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"method\":\"percent\",\"targets\":["
		  "{\"cost_center\":\"alc/a\",\"percent\":\"60\"},"
		  "{\"cost_center\":\"alc/b\",\"percent\":\"39.999999999\"}]}",
		  400, "invalid_field", "targets" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"method\":\"percent\",\"targets\":["
		  "{\"cost_center\":\"alc/a\",\"percent\":60.5},"
		  "{\"cost_center\":\"alc/b\",\"percent\":\"39.5\"}]}",
		  400, "invalid_field", "targets[0].percent" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"method\":\"percent\",\"targets\":["
		  "{\"cost_center\":\"alc/a\",\"percent\":\"0\"},"
		  "{\"cost_center\":\"alc/b\",\"percent\":\"100\"}]}",
		  400, "invalid_field", "targets[0].percent" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"method\":\"even\",\"targets\":[]}",
		  400, "invalid_field", "targets" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"method\":\"even\"}",
		  400, "missing_field", "targets" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"method\":\"even\",\"targets\":[\"alc/plat\"]}",
		  400, "invalid_field", "targets[0]" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"method\":\"even\",\"targets\":[\"alc/a\","
		  "\"alc/a\"]}", 400, "invalid_field", "targets[1]" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"method\":\"even\",\"targets\":[{\"cost_center\":"
		  "\"alc/a\",\"percent\":\"100\"}]}", 400, "invalid_field",
		  "targets[0]" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"period\":"
		  "{\"from\":\"2026-02-10T00:00:00Z\",\"to\":"
		  "\"2026-02-10T00:00:00Z\"},\"method\":\"even\",\"targets\":"
		  "[\"alc/a\"]}", 400, "invalid_field", "period.to" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"period\":"
		  "{\"from\":\"2026-02-30T00:00:00Z\",\"to\":"
		  "\"2026-03-10T00:00:00Z\"},\"method\":\"even\",\"targets\":"
		  "[\"alc/a\"]}", 400, "invalid_field", "period.from" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-13\",\"method\":\"even\",\"targets\":[\"alc/a\"]}",
		  400, "invalid_field", "month" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"period\":{\"from\":\"2026-02-01T00:00:00Z\","
		  "\"to\":\"2026-03-01T00:00:00Z\"},\"method\":\"even\","
		  "\"targets\":[\"alc/a\"]}", 400, "invalid_field", "period" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"method\":"
		  "\"even\",\"targets\":[\"alc/a\"]}", 400, "missing_field",
		  "period" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"method\":\"fair\",\"targets\":[\"alc/a\"]}",
		  400, "invalid_field", "method" },
		{ "{\"source\":\"alc/plat\",\"month\":\"2026-02\",\"method\":"
		  "\"even\",\"targets\":[\"alc/a\"]}", 400, "missing_field",
		  "id" },
		{ "{\"id\":\"alc-bad\",\"source\":\"Alc Plat\",\"month\":"
		  "\"2026-02\",\"method\":\"even\",\"targets\":[\"alc/a\"]}",
		  400, "invalid_field", "source" },
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"method\":\"even\",\"targets\":[\"alc/a\"],"
		  "\"colour\":1}", 400, "unknown_field", "colour" },
		/* Nothing booked on the source in February. */
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-02\",\"method\":\"even\",\"targets\":[\"alc/a\"]}",
		  422, "nothing_to_allocate", "source" },
		/* The targets spent nothing in January to weigh by. */
		{ "{\"id\":\"alc-bad\",\"source\":\"alc/plat\",\"month\":"
		  "\"2026-01\",\"method\":\"weighted\",\"targets\":[\"alc/a\","
		  "\"alc/b\"]}", 422, "no_weights", "targets" },
	};
	long long tx, allocs, audit;
	struct resp *r;
	size_t i;

	setup();
	spend("alc-bad-src", "alc/plat", "2026-01-15T00:00:00Z", "2");
	tx = db_count("transactions");
	allocs = db_count("allocations");
	audit = db_count("audit_log");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = allocate(admin_key, cases[i].body);
		CHECK_ERR(r, cases[i].status, cases[i].code, cases[i].field);
		resp_free(r);
	}
	r = allocate(finance_key, cases[0].body);
	CHECK(r->status == 403 && strcmp(err_code(r), "forbidden") == 0,
	    "finance allocated: %ld", r->status);
	resp_free(r);
	r = allocate(gateway_key, cases[0].body);
	CHECK(r->status == 403, "a gateway allocated: %ld", r->status);
	resp_free(r);
	CHECK(db_count("transactions") == tx && db_count("allocations") ==
	    allocs && db_count("audit_log") == audit, "a refusal wrote");
}

enum { C_CATEGORY = 6, C_CLASS, C_BILLED = 10, C_AMETHOD = 32, C_ADETAILS,
	C_ARESOURCE, C_ATAGS, C_CC, C_NCOLS = 40 };

#define MAX_CCS 64

static void
t_chargeback_month(void)
{
	static const char header[] = ITEST_FOCUS_HEADER;
	static char f[C_NCOLS + 1][ITEST_CSV_FIELD];
	static char ccs[MAX_CCS][1024];
	int64_t sums[MAX_CCS], total = 0, month_total;
	int nccs = 0, rows = 0, allocated = 0, adjustments = 0, corrections = 0;
	char path[128], cmd[1024], *file;
	const char *p;
	struct resp *r, *totals;
	json_t *details, *list;
	int i, n;

	setup();
	r = http("POST", "/v1/usage", gateway_key, "["
	    "{\"id\":\"alc-u1\",\"cost_center\":\"alc/plat\",\"provider\":"
	    "\"openai\",\"model\":\"gpt-4o\",\"occurred_at\":"
	    "\"2026-07-03T10:00:00Z\",\"usage\":{\"input_tokens\":100000,"
	    "\"output_tokens\":20000}},"
	    "{\"id\":\"alc-u2\",\"cost_center\":\"alc/a\",\"provider\":"
	    "\"openai\",\"model\":\"gpt-4o\",\"occurred_at\":"
	    "\"2026-07-04T10:00:00Z\",\"usage\":{\"input_tokens\":30000,"
	    "\"output_tokens\":7000}},"
	    "{\"id\":\"alc-u3\",\"cost_center\":\"alc/b\",\"provider\":"
	    "\"openai\",\"model\":\"gpt-4o-mini\",\"occurred_at\":"
	    "\"2026-07-05T10:00:00Z\",\"usage\":{\"input_tokens\":50000,"
	    "\"output_tokens\":3000}}]", NULL);
	CHECK(r->status == 200 && strstr(r->body, "rejected") == NULL &&
	    strstr(r->body, "\"cost\":\"0.000000000\"") == NULL,
	    "usage (are the prices loaded?): %.300s", r->body);
	resp_free(r);
	/* A repricing correction on alc/a, as the reprice job books one. */
	CHECK(db_exec("DO $$ BEGIN PERFORM * FROM usage_reprice((SELECT "
	    "jsonb_build_array(jsonb_build_object('tx', u.transaction_id, "
	    "'key', 'alc-u2-fix', 'cc', u.cost_center, 'provider', u.provider, "
	    "'model', u.model, 'day', (u.occurred_at AT TIME ZONE 'UTC')::date, "
	    "'pv', (SELECT max(id) FROM price_versions), 'was_unpriced', false, "
	    "'list_delta', -1234, 'cost_delta', -1234, 'm', jsonb_build_array("
	    "jsonb_build_object('meter', 'output', 'q', 0, 'l', -1234, 'c', "
	    "-1234)))) FROM usage_events u JOIN ledger_keys k ON "
	    "k.transaction_id = u.transaction_id WHERE k.kind = 'usage' AND "
	    "k.idempotency_key = 'alc-u2')); END $$") == 0, "%s", db_error());
	/* A manual adjustment, and the platform's spend allocated. */
	spend("alc-jul-adj", "alc/b", "2026-07-20T08:00:00Z", "0.25");
	r = allocate(admin_key, "{\"id\":\"alc-jul\",\"source\":\"alc/plat\","
	    "\"month\":\"2026-07\",\"method\":\"weighted\",\"targets\":"
	    "[\"alc/a\",\"alc/b\"]}");
	CHECK(r->status == 201 && part(r, 0) + part(r, 1) ==
	    nanos(jstr(r, "amount")), "%s", r->body);
	resp_free(r);

	r = http("GET", "/v1/reports/chargeback?month=2026-07", finance_key,
	    NULL, NULL);
	CHECK(r->status == 200 && strncmp(r->body, header, strlen(header)) ==
	    0, "%ld %.200s", r->status, r->body);
	for (p = r->body + strlen(header); r->status == 200 && *p != '\0';) {
		if ((n = itest_csv_record(&p, f, C_NCOLS + 1)) != C_NCOLS) {
			CHECK(0, "row %d: %d fields near %.80s", rows, n, p);
			break;
		}
		rows++;
		total += nanos(f[C_BILLED]);
		for (i = 0; i < nccs && strcmp(ccs[i], f[C_CC]) != 0; i++)
			;
		if (i == nccs && nccs < MAX_CCS) {
			snprintf(ccs[nccs], sizeof ccs[nccs], "%s", f[C_CC]);
			sums[nccs++] = 0;
		}
		if (i < MAX_CCS)
			sums[i] += nanos(f[C_BILLED]);
		if (strcmp(f[C_CLASS], "Correction") == 0 &&
		    strcmp(f[C_CC], "alc/a") == 0 &&
		    strcmp(f[C_BILLED], "-0.000001234") == 0)
			corrections++;
		if (strcmp(f[C_CATEGORY], "Adjustment") == 0 &&
		    strcmp(f[C_CC], "alc/b") == 0 &&
		    strcmp(f[C_BILLED], "0.250000000") == 0 &&
		    f[C_AMETHOD][0] == '\0')
			adjustments++;
		if (f[C_AMETHOD][0] == '\0')
			continue;
		/* Every allocated row says where it came from and how. */
		details = json_loads(f[C_ADETAILS], 0, NULL);
		CHECK(strcmp(f[C_AMETHOD], "weighted") == 0 &&
		    strcmp(f[C_ARESOURCE], "alc/plat") == 0 &&
		    strcmp(f[C_ATAGS], db_value("SELECT tags::text FROM "
		    "cost_centers WHERE id = 'alc/plat'")) == 0 &&
		    json_is_array(json_object_get(details, "Elements")) &&
		    strcmp(json_string_value(json_object_get(details,
		    "x_AllocationId")), "alc-jul") == 0 &&
		    strcmp(f[C_CATEGORY], "Usage") == 0,
		    "allocated row: %s %s %s %s", f[C_AMETHOD], f[C_ARESOURCE],
		    f[C_ATAGS], f[C_ADETAILS]);
		CHECK(strcmp(f[C_CC], "alc/plat") == 0 ? nanos(f[C_BILLED]) < 0 &&
		    json_array_size(json_object_get(details, "Elements")) == 2 :
		    nanos(f[C_BILLED]) > 0 && json_array_size(json_object_get(
		    details, "Elements")) == 1, "%s %s %s", f[C_CC],
		    f[C_BILLED], f[C_ADETAILS]);
		json_decref(details);
		allocated++;
	}
	CHECK(allocated == 3 && adjustments == 1 && corrections == 1,
	    "%d allocated rows, %d adjustments, %d corrections", allocated,
	    adjustments, corrections);
	/* The file's total is the ledger's month of expense accounts. */
	month_total = atoll(db_value("SELECT coalesce(sum(p.amount), 0) FROM "
	    "postings p JOIN accounts a ON a.id = p.account_id WHERE a.name "
	    "LIKE 'expense:%' AND p.occurred_at >= '2026-07-01Z' AND "
	    "p.occurred_at < '2026-08-01Z'"));
	CHECK(total == month_total, "BilledCost %lld, ledger %lld",
	    (long long)total, (long long)month_total);
	for (i = 0; i < nccs; i++)
		CHECK(sums[i] == balance(ccs[i], "2026-07"), "%s: %lld in the "
		    "file, %lld in the ledger", ccs[i], (long long)sums[i],
		    (long long)balance(ccs[i], "2026-07"));
	/* The totals endpoint says what the file adds up to. */
	totals = http("GET", "/v1/reports/chargeback/totals?month=2026-07",
	    finance_key, NULL, NULL);
	CHECK(totals->status == 200 && nanos(jstr(totals, "billed_cost")) ==
	    total, "totals: %s", totals->body);
	list = json_object_get(totals->json, "cost_centers");
	CHECK(json_array_size(list) == (size_t)nccs, "%zu cost centers in "
	    "the totals, %d in the file", json_array_size(list), nccs);
	for (i = 0; i < nccs; i++) {
		json_t *e = json_array_get(list, i);
		size_t k;

		for (k = 0; k < json_array_size(list); k++)
			if (strcmp(json_string_value(json_object_get(
			    json_array_get(list, k), "cost_center")), ccs[i]) == 0)
				e = json_array_get(list, k);
		CHECK(strcmp(json_string_value(json_object_get(e,
		    "cost_center")), ccs[i]) == 0 && nanos(json_string_value(
		    json_object_get(e, "billed_cost"))) == sums[i],
		    "%s: %lld in the file", ccs[i], (long long)sums[i]);
	}
	resp_free(totals);
	totals = http("GET", "/v1/reports/chargeback/totals?month=2026-13",
	    finance_key, NULL, NULL);
	CHECK_ERR(totals, 400, "invalid_parameter", "month");
	resp_free(totals);
	CHECK(balance("alc/plat", "2026-07") == 0, "the platform kept spend");
	/* The command line writes the same file, from the same snapshot
	 * kind of read. */
	snprintf(path, sizeof path, "/tmp/tollgate-alloc.%d.csv", (int)getpid());
	snprintf(cmd, sizeof cmd, "%s report chargeback --month 2026-07 "
	    "--out %s", getenv("TG_CLI"), path);
	CHECK(run_cmd(cmd, NULL, 0) == 0, "%s failed", cmd);
	file = itest_slurp(path);
	CHECK(file != NULL && strcmp(file, r->body) == 0,
	    "the command line's file differs from the API's");
	free(file);
	unlink(path);
	resp_free(r);

	/* By month, the same total. */
	r = http("GET", "/v1/reports/chargeback?month=2026-07&grain=month",
	    finance_key, NULL, NULL);
	total = 0;
	for (p = r->body + strlen(header); r->status == 200 && *p != '\0';) {
		if (itest_csv_record(&p, f, C_NCOLS + 1) != C_NCOLS)
			break;
		total += nanos(f[C_BILLED]);
	}
	CHECK(total == month_total, "by month: %lld", (long long)total);
	resp_free(r);
	verify_clean();
}

/* Entries booked while the file downloads are in none of its pages: the
 * download is held between its usage and its entries (a lock on a table
 * only the entries read) while an adjustment is booked and committed;
 * the entries, read after it, must still not see it. */
static void
t_snapshot(void)
{
	char file[128], done[160], cmd[2048], *csv;
	int i, waiting = 0;

	setup();
	spend("alc-snap-1", "alc/a", "2026-08-05T00:00:00Z", "1.000000007");
	CHECK(db_exec("BEGIN") == 0 && db_exec("LOCK TABLE allocation_parts "
	    "IN ACCESS EXCLUSIVE MODE") == 0, "lock: %s", db_error());
	snprintf(file, sizeof file, "/tmp/tollgate-snap.%d.csv", (int)getpid());
	snprintf(done, sizeof done, "%s.done", file);
	unlink(done);
	snprintf(cmd, sizeof cmd, "(curl -s -H 'Authorization: Bearer %s' "
	    "'%s' -o %s; touch %s) </dev/null >/dev/null 2>&1 &", finance_key,
	    server_url("/v1/reports/chargeback?month=2026-08"), file, done);
	CHECK(run_cmd(cmd, NULL, 0) == 0, "%s", cmd);
	for (i = 0; i < 500 && !waiting; i++) {
		/* pg_locks is live; pg_stat_activity would be read once per
		 * transaction. */
		waiting = strcmp(db_value("SELECT count(*) FROM pg_locks WHERE "
		    "relation = 'allocation_parts'::regclass AND NOT granted"),
		    "0") != 0;
		if (!waiting)
			usleep(10000);
	}
	CHECK(waiting, "the download never reached its entries");
	spend("alc-snap-2", "alc/b", "2026-08-06T00:00:00Z", "2.000000003");
	CHECK(db_exec("COMMIT") == 0, "%s", db_error());
	for (i = 0; i < 1000 && access(done, F_OK) != 0; i++)
		usleep(10000);
	csv = itest_slurp(file);
	CHECK(csv != NULL && strstr(csv, ",1.000000007,") != NULL &&
	    strstr(csv, ",2.000000003,") == NULL,
	    "the file is not one snapshot: %.300s", csv != NULL ? csv : "");
	free(csv);
	unlink(file);
	unlink(done);
	/* A download now sees both. */
	{
		struct resp *r = http("GET", "/v1/reports/chargeback?month="
		    "2026-08", finance_key, NULL, NULL);

		CHECK(strstr(r->body, ",1.000000007,") != NULL &&
		    strstr(r->body, ",2.000000003,") != NULL, "%.300s",
		    r->body);
		resp_free(r);
	}
}

const struct itest alloc_tests[] = {
	{ "allocation: even, weighted and percent splits to the nano-unit",
	  t_splits },
	{ "allocation: a re-run is a duplicate, other content a conflict",
	  t_idempotent },
	{ "allocation: bad inputs and other roles are refused, writing "
	  "nothing", t_bad_inputs },
	{ "allocation: the chargeback CSV of a month with a correction, an "
	  "adjustment and an allocation equals the ledger", t_chargeback_month },
	{ "allocation: the chargeback CSV is one snapshot, whatever is booked "
	  "while it downloads", t_snapshot },
	{ NULL, NULL }
};
