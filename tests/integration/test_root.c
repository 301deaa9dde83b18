/*
 * test_root.c - the distribution key (sql/0012_distribution_root.sql): usage,
 * its repricing corrections, an adjustment and an allocation booked through
 * the API across two roots (dra, drb) in a month of their own (2031-03);
 * every row carries the root it should (a transaction's rows its
 * transaction's, whatever account they book), and GET /v1/ledger/verify
 * names a row that does not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/itest.h"

#define WINDOW "t.occurred_at >= '2031-03-01Z' AND t.occurred_at < '2031-04-01Z'"

static void
expect(const char *sql, const char *want)
{
	const char *got = db_value(sql);

	CHECK(got != NULL && strcmp(got, want) == 0, "%s\n      got  %s\n      want %s",
	    sql, got != NULL ? got : db_error(), want);
}

static void
book(void)
{
	static const char *const ccs[] = { "dra", "dra/x", "drb", "drb/y",
	    NULL };
	const char *doc = "{\"models\":[{\"provider\":\"drp\",\"model\":"
	    "\"dm-1\",\"prices\":{\"input\":\"0.000004\"}}]}";
	char body[200];
	struct resp *r;
	int i;

	for (i = 0; ccs[i] != NULL; i++) {
		snprintf(body, sizeof body, "{\"id\":\"%s\",\"name\":\"%s\"}",
		    ccs[i], ccs[i]);
		r = http("POST", "/v1/cost-centers", admin_key, body, NULL);
		CHECK(r->status == 201 || r->status == 409, "%s", r->body);
		resp_free(r);
	}
	/* Unpriced at first: the price comes later, so that repricing books
	 * a correction in each root. */
	r = http("POST", "/v1/usage", gateway_key, "[{\"id\":\"dr-1\","
	    "\"cost_center\":\"dra/x\",\"provider\":\"drp\",\"model\":\"dm-1\","
	    "\"occurred_at\":\"2031-03-05T00:00:00Z\",\"usage\":"
	    "{\"input_tokens\":1000}},{\"id\":\"dr-2\",\"cost_center\":"
	    "\"drb/y\",\"provider\":\"drp\",\"model\":\"dm-1\",\"occurred_at\":"
	    "\"2031-03-06T00:00:00Z\",\"usage\":{\"input_tokens\":500}}]", NULL);
	CHECK(r->status == 200 && strstr(r->body, "\"rejected\"") == NULL &&
	    strstr(r->body, "\"duplicate\"") == NULL, "%s", r->body);
	resp_free(r);
	r = import_and_wait(doc, "2035-01-01T00:00:00Z", "{\"provider\":"
	    "\"drp\",\"model\":\"dm-1\",\"occurred_at\":"
	    "\"2035-02-01T00:00:00Z\",\"usage\":{\"input_tokens\":1}}");
	CHECK(r != NULL && r->status == 200, "the new version was not loaded "
	    "within 15 s: %s", r != NULL ? r->body : "import failed");
	resp_free(r);
	r = http("POST", "/v1/ledger/reprice?from=2031-03-01T00:00:00Z&"
	    "to=2031-04-01T00:00:00Z", admin_key, NULL, NULL);
	CHECK(r->status == 200 && json_integer_value(json_object_get(r->json,
	    "corrected")) == 2, "%s", r->body);
	resp_free(r);
	/* No single cost center: the first expense posting (drb/y) decides,
	 * not the first posting. */
	r = http("POST", "/v1/ledger/adjustments", admin_key,
	    "{\"idempotency_key\":\"dr-adj\",\"occurred_at\":"
	    "\"2031-03-07T00:00:00Z\",\"postings\":[{\"account\":"
	    "\"payable:drp\",\"amount\":\"0.001\"},{\"account\":"
	    "\"expense:drb/y\",\"amount\":\"-0.0006\"},{\"account\":"
	    "\"expense:dra\",\"amount\":\"-0.0004\"}]}", NULL);
	CHECK(r->status == 201, "%s", r->body);
	resp_free(r);
	/* dra/x's 0.004 split between a target in another root and one in
	 * its own. */
	r = http("POST", "/v1/allocations", admin_key, "{\"id\":\"dr-alloc\","
	    "\"source\":\"dra/x\",\"month\":\"2031-03\",\"method\":\"even\","
	    "\"targets\":[\"drb/y\",\"dra\"]}", NULL);
	CHECK(r->status == 201 && strcmp(jstr(r, "amount"), "0.004000000") == 0,
	    "%s", r->body);
	resp_free(r);
}

static void
t_roots(void)
{
	struct resp *r;
	char *verify, *sql;
	const char *got;
	size_t n;

	book();
	/* Transactions: usage by its cost center, the adjustment by its first
	 * expense posting, the reallocation by its source; a correction by
	 * the event it corrects. */
	expect("SELECT string_agg(t.idempotency_key || '=' || t.root, ',' "
	    "ORDER BY t.idempotency_key) FROM transactions t WHERE " WINDOW
	    " AND t.kind <> 'correction'",
	    "dr-1=dra,dr-2=drb,dr-adj=drb,dr-alloc=dra");
	expect("SELECT string_agg(u.cost_center || '=' || t.root || '/' || "
	    "c.root, ',' ORDER BY u.cost_center) FROM transactions t "
	    "JOIN usage_events u ON u.transaction_id = t.corrects "
	    "JOIN usage_corrections c ON c.transaction_id = t.id "
	    "WHERE t.kind = 'correction' AND " WINDOW,
	    "dra/x=dra/dra,drb/y=drb/drb");
	expect("SELECT string_agg(u.cost_center || '=' || u.root, ',' ORDER BY "
	    "u.cost_center) FROM usage_events u WHERE u.provider = 'drp'",
	    "dra/x=dra,drb/y=drb");
	/* Keys and postings: their transaction's, whatever the account (the
	 * usage itself, unpriced, has no postings). */
	expect("SELECT count(*) FROM ledger_keys k JOIN transactions t ON "
	    "t.id = k.transaction_id AND t.occurred_at = k.occurred_at WHERE "
	    WINDOW " AND k.root = t.root", "6");
	expect("SELECT count(*) || ' ' || count(*) FILTER (WHERE p.root = "
	    "t.root) FROM postings p JOIN transactions t ON t.id = "
	    "p.transaction_id AND t.occurred_at = p.occurred_at WHERE " WINDOW,
	    "10 10");
	expect("SELECT string_agg(a.name || '=' || p.root, ',' ORDER BY p.seq) "
	    "FROM postings p JOIN transactions t ON t.id = p.transaction_id AND "
	    "t.occurred_at = p.occurred_at JOIN accounts a ON a.id = "
	    "p.account_id WHERE t.idempotency_key = 'dr-alloc' AND " WINDOW,
	    "expense:dra/x=dra,expense:drb/y=dra,expense:dra=dra");
	expect("SELECT string_agg(a.name || '=' || p.root, ',' ORDER BY p.seq) "
	    "FROM postings p JOIN transactions t ON t.id = p.transaction_id AND "
	    "t.occurred_at = p.occurred_at JOIN accounts a ON a.id = "
	    "p.account_id WHERE t.idempotency_key = 'dr-adj' AND " WINDOW,
	    "payable:drp=drb,expense:drb/y=drb,expense:dra=drb");
	expect("SELECT a.root || ':' || string_agg(p.cost_center || '=' || "
	    "p.root, ',' ORDER BY p.seq) FROM allocations a JOIN "
	    "allocation_parts p ON p.allocation_id = a.id WHERE a.id = "
	    "'dr-alloc' GROUP BY a.root", "dra:drb/y=dra,dra=dra");
	/* The rollups, corrections included. */
	expect("SELECT string_agg(cost_center || '=' || root || ' ' || cost, "
	    "',' ORDER BY cost_center) FROM usage_daily WHERE provider = 'drp'",
	    "dra/x=dra 4000000,drb/y=drb 2000000");
	expect("SELECT string_agg(DISTINCT cost_center || '=' || root, ',') "
	    "FROM usage_daily_meters WHERE provider = 'drp'",
	    "dra/x=dra,drb/y=drb");
	expect("SELECT string_agg(cost_center || '=' || root, ',' ORDER BY "
	    "cost_center) FROM usage_cc_daily WHERE day >= '2031-03-01' AND "
	    "day < '2031-04-01'", "dra/x=dra,drb/y=drb");

	r = http("GET", "/v1/ledger/verify", finance_key, NULL, NULL);
	CHECK(r->status == 200 && json_is_true(json_object_get(r->json, "ok")) &&
	    json_array_size(json_object_get(r->json, "root_differences")) == 0 &&
	    json_is_array(json_object_get(r->json, "root_differences")),
	    "verify: %.600s", r->body);
	resp_free(r);

	/* Rows with the wrong root, never committed: verify's statement, run
	 * in the same transaction, names them. */
	verify = itest_slurp("sql/queries/ledger_verify.sql");
	CHECK(verify != NULL, "sql/queries/ledger_verify.sql unreadable");
	if (verify == NULL)
		return;
	n = strlen(verify) + 100;
	sql = malloc(n);
	snprintf(sql, n, "SELECT root_differences FROM (%s\n) v", verify);
	CHECK(db_exec("BEGIN") == 0, "%s", db_error());
	CHECK(db_exec("INSERT INTO usage_cc_daily (day, cost_center, root) "
	    "VALUES ('2031-03-09', 'dra/x', 'drb')") == 0, "%s", db_error());
	CHECK(db_exec("SELECT ledger_post('adjustment', 'dr-bad', '\\x00', "
	    "'2031-03-09Z', '', NULL, ARRAY['expense:dra', 'payable:drp'], "
	    "ARRAY[1, -1]); INSERT INTO postings (transaction_id, seq, "
	    "account_id, amount, occurred_at, root) SELECT t.id, 2, p.account_id,"
	    " p.amount, p.occurred_at, 'drb' FROM transactions t JOIN postings p"
	    " ON p.transaction_id = t.id AND p.occurred_at = t.occurred_at "
	    "WHERE t.idempotency_key = 'dr-bad' AND p.seq = 0 UNION ALL SELECT "
	    "t.id, 3, p.account_id, p.amount, p.occurred_at, 'drb' FROM "
	    "transactions t JOIN postings p ON p.transaction_id = t.id AND "
	    "p.occurred_at = t.occurred_at WHERE t.idempotency_key = 'dr-bad' "
	    "AND p.seq = 1") == 0, "%s", db_error());
	got = db_value(sql);
	CHECK(got != NULL && strstr(got, "{\"row\": \"2031-03-09 dra/x\", "
	    "\"root\": \"drb\", \"table\": \"usage_cc_daily\", "
	    "\"expected\": \"dra\"}") != NULL && strstr(got, "\"root\": "
	    "\"drb\", \"table\": \"postings\", \"expected\": \"dra\"}") !=
	    NULL, "%s", got != NULL ? got : db_error());
	CHECK(db_exec("ROLLBACK") == 0, "%s", db_error());
	free(sql);
	free(verify);
}

const struct itest root_tests[] = {
	{ "every ledger row carries its transaction's root; verify checks it",
	  t_roots },
	{ NULL, NULL }
};
