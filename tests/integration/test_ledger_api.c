/*
 * test_ledger_api.c - adjustments, balances and the trial balance through
 * the API, and the database's own guarantees (zero sum, append-only)
 * checked directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "ledger/ledger.h"
#include "tests/integration/itest.h"

static struct resp *
adjust(const char *body)
{
	return http("POST", "/v1/ledger/adjustments", admin_key, body, NULL);
}

/* The balance of one account as nano-units, via the API. */
static int64_t
balance_of(const char *account, int subtree, const char *window)
{
	char path[512];
	struct resp *r;
	json_t *rows, *row;
	const char *s, *why;
	int64_t v = INT64_MIN;

	snprintf(path, sizeof path, "/v1/ledger/balances?account=%s%s%s",
	    account, subtree ? "&subtree=true" : "", window ? window : "");
	r = http("GET", path, finance_key, NULL, NULL);
	rows = json_object_get(r->json, "balances");
	if (r->status == 200 && json_array_size(rows) == 1) {
		row = json_array_get(rows, 0);
		s = json_string_value(json_object_get(row, "balance"));
		if (s == NULL || ledger_money_parse(s, strlen(s), &v, &why) != 0)
			v = INT64_MIN;
	}
	resp_free(r);
	return v;
}

static void
t_adjust_records_once(void)
{
	const char *body = "{\"idempotency_key\":\"adj-1\",\"memo\":\"opening\","
	    "\"occurred_at\":\"2026-10-05T12:00:00Z\",\"postings\":["
	    "{\"account\":\"expense:eng/search\",\"amount\":\"12.5\"},"
	    "{\"account\":\"payable:openai\",\"amount\":\"-12.500000000\"}]}";
	/* The same content spelled differently is the same request. */
	const char *same = "{\"idempotency_key\":\"adj-1\",\"memo\":\"opening\","
	    "\"occurred_at\":\"2026-10-05T14:00:00+02:00\",\"postings\":["
	    "{\"account\":\"expense:eng/search\",\"amount\":\"12.50\"},"
	    "{\"account\":\"payable:openai\",\"amount\":\"-12.5\"}]}";
	const char *other = "{\"idempotency_key\":\"adj-1\",\"postings\":["
	    "{\"account\":\"expense:eng/search\",\"amount\":\"13\"},"
	    "{\"account\":\"payable:openai\",\"amount\":\"-13\"}]}";
	int64_t before = balance_of("expense:eng", 1, NULL);
	struct resp *r1, *r2, *r3;
	json_t *p;

	r1 = adjust(body);
	CHECK(r1->status == 201, "status %ld %s", r1->status, r1->body);
	CHECK(strcmp(jstr(r1, "status"), "recorded") == 0, "%s", r1->body);
	CHECK(strcmp(jstr(r1, "occurred_at"), "2026-10-05T12:00:00Z") == 0,
	    "%s", r1->body);
	p = json_array_get(json_object_get(r1->json, "postings"), 0);
	CHECK(strcmp(json_string_value(json_object_get(p, "amount")),
	    "12.500000000") == 0, "%s", r1->body);
	r2 = adjust(same);
	CHECK(r2->status == 200, "status %ld %s", r2->status, r2->body);
	CHECK(strcmp(jstr(r2, "status"), "duplicate") == 0, "%s", r2->body);
	CHECK(strcmp(jstr(r1, "transaction_id"), jstr(r2, "transaction_id")) == 0,
	    "%s vs %s", jstr(r1, "transaction_id"), jstr(r2, "transaction_id"));
	r3 = adjust(other);
	CHECK_ERR(r3, 409, "idempotency_conflict", "idempotency_key");
	CHECK(strcmp(db_value("SELECT count(*) FROM transactions WHERE "
	    "idempotency_key = 'adj-1'"), "1") == 0, "booked more than once");
	CHECK(balance_of("expense:eng", 1, NULL) ==
	    (before == INT64_MIN ? 0 : before) + 12500000000LL,
	    "balance %lld", (long long)balance_of("expense:eng", 1, NULL));
	resp_free(r1);
	resp_free(r2);
	resp_free(r3);
}

/* Many clients racing with one key book it once. */
static void
t_adjust_concurrent_retries(void)
{
	const char *body = "{\"idempotency_key\":\"race-1\",\"postings\":["
	    "{\"account\":\"expense:race\",\"amount\":\"0.000000001\"},"
	    "{\"account\":\"payable:anthropic\",\"amount\":\"-0.000000001\"}]}";
	enum { N = 16 };
	struct resp *r[N];
	int i, created = 0, dup = 0;

	http_concurrent("/v1/ledger/adjustments", admin_key, body, N, r);
	for (i = 0; i < N; i++) {
		created += r[i]->status == 201;
		dup += r[i]->status == 200;
		resp_free(r[i]);
	}
	CHECK(created == 1 && dup == N - 1, "created %d, duplicates %d", created,
	    dup);
	CHECK(strcmp(db_value("SELECT count(*) FROM transactions WHERE "
	    "idempotency_key = 'race-1'"), "1") == 0, "booked more than once");
}

struct bad_case {
	const char *body;
	const char *code;
	const char *field;
};

static void
t_adjust_rejects_bad_input(void)
{
	static const struct bad_case cases[] = {
		{ "{\"postings\":[]}", "missing_field", "idempotency_key" },
		{ "{\"idempotency_key\":5,\"postings\":[]}", "invalid_field", "idempotency_key" },
		{ "{\"idempotency_key\":\"\",\"postings\":[]}", "invalid_field", "idempotency_key" },
		{ "{\"idempotency_key\":\"b\\u0001\",\"postings\":[]}", "invalid_field", "idempotency_key" },
		{ "{\"idempotency_key\":\"b\"}", "missing_field", "postings" },
		{ "{\"idempotency_key\":\"b\",\"postings\":{}}", "invalid_field", "postings" },
		{ "{\"idempotency_key\":\"b\",\"extra\":1,\"postings\":[]}", "unknown_field", "extra" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\",\"amount\":\"1\"}]}",
		  "invalid_field", "postings" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\",\"amount\":\"1\"},"
		  "{\"account\":\"payable:x\",\"amount\":\"-0.999999999\"}]}", "unbalanced", "postings" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"Expense:A\",\"amount\":\"1\"},"
		  "{\"account\":\"payable:x\",\"amount\":\"-1\"}]}", "invalid_field", "postings[0].account" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\",\"amount\":\"1\"},"
		  "{\"account\":\"bank:x\",\"amount\":\"-1\"}]}", "invalid_field", "postings[1].account" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\",\"amount\":\"0.0000000001\"},"
		  "{\"account\":\"payable:x\",\"amount\":\"-0.0000000001\"}]}", "invalid_field", "postings[0].amount" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\",\"amount\":1.5},"
		  "{\"account\":\"payable:x\",\"amount\":\"-1.5\"}]}", "invalid_field", "postings[0].amount" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\",\"amount\":\"1e3\"},"
		  "{\"account\":\"payable:x\",\"amount\":\"-1000\"}]}", "invalid_field", "postings[0].amount" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\",\"amount\":\"+1\"},"
		  "{\"account\":\"payable:x\",\"amount\":\"-1\"}]}", "invalid_field", "postings[0].amount" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\",\"amount\":\"99999999999\"},"
		  "{\"account\":\"payable:x\",\"amount\":\"-99999999999\"}]}", "invalid_field", "postings[0].amount" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\",\"amount\":9999999999999},"
		  "{\"account\":\"payable:x\",\"amount\":-9999999999999}]}", "invalid_field", "postings[0].amount" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\",\"amount\":\"0\"},"
		  "{\"account\":\"payable:x\",\"amount\":\"0\"}]}", "invalid_field", "postings[0].amount" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\"},"
		  "{\"account\":\"payable:x\",\"amount\":\"0\"}]}", "missing_field", "postings[0].amount" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\",\"amount\":\"1\",\"x\":1},"
		  "{\"account\":\"payable:x\",\"amount\":\"-1\"}]}", "unknown_field", "postings[0].x" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[1,2]}", "invalid_field", "postings[0]" },
		{ "{\"idempotency_key\":\"b\",\"occurred_at\":\"2026-02-30T00:00:00Z\",\"postings\":["
		  "{\"account\":\"expense:a\",\"amount\":\"1\"},{\"account\":\"payable:x\",\"amount\":\"-1\"}]}",
		  "invalid_field", "occurred_at" },
		{ "{\"idempotency_key\":\"b\",\"occurred_at\":\"2026-02-01 00:00:00\",\"postings\":["
		  "{\"account\":\"expense:a\",\"amount\":\"1\"},{\"account\":\"payable:x\",\"amount\":\"-1\"}]}",
		  "invalid_field", "occurred_at" },
		{ "{\"idempotency_key\":\"b\",\"memo\":[],\"postings\":["
		  "{\"account\":\"expense:a\",\"amount\":\"1\"},{\"account\":\"payable:x\",\"amount\":\"-1\"}]}",
		  "invalid_field", "memo" },
		{ "{\"idempotency_key\":\"b\",\"postings\":[{\"account\":\"expense:a\",\"amount\":\"9223372036\"},"
		  "{\"account\":\"expense:b\",\"amount\":\"9223372036\"},"
		  "{\"account\":\"payable:x\",\"amount\":\"-1\"}]}", "unbalanced", "postings" },
	};
	long long tx = db_count("transactions"), ps = db_count("postings");
	long long acc = db_count("accounts");
	struct resp *r;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = adjust(cases[i].body);
		CHECK_ERR(r, 400, cases[i].code, cases[i].field);
		if (test_failed && r->status != 400)
			fprintf(stderr, "    case %zu: %s\n", i, cases[i].body);
		resp_free(r);
	}
	CHECK(db_count("transactions") == tx && db_count("postings") == ps &&
	    db_count("accounts") == acc, "a rejected adjustment wrote");
}

static void
t_balances(void)
{
	const char *oct = "{\"idempotency_key\":\"win-oct\",\"occurred_at\":"
	    "\"2026-10-31T23:59:59.999999Z\",\"postings\":["
	    "{\"account\":\"expense:win/a\",\"amount\":\"3\"},"
	    "{\"account\":\"payable:openai\",\"amount\":\"-3\"}]}";
	const char *nov = "{\"idempotency_key\":\"win-nov\",\"occurred_at\":"
	    "\"2026-11-01T00:00:00Z\",\"postings\":["
	    "{\"account\":\"expense:win/b\",\"amount\":\"4.25\"},"
	    "{\"account\":\"payable:openai\",\"amount\":\"-4.25\"}]}";
	struct resp *r;

	resp_free(adjust(oct));
	resp_free(adjust(nov));
	CHECK(balance_of("expense:win/a", 0, NULL) == 3000000000LL, "a");
	CHECK(balance_of("expense:win", 1, NULL) == 7250000000LL, "subtree %lld",
	    (long long)balance_of("expense:win", 1, NULL));
	/* Windows are start-inclusive, end-exclusive. */
	CHECK(balance_of("expense:win", 1, "&from=2026-11-01T00:00:00Z") ==
	    4250000000LL, "from");
	CHECK(balance_of("expense:win", 1, "&to=2026-11-01T00:00:00Z") ==
	    3000000000LL, "to");
	CHECK(balance_of("expense:win", 1, "&from=2026-11-01T01:00:00%2B01:00"
	    "&to=2026-12-01T00:00:00Z") == 4250000000LL, "offset in from");

	r = http("GET", "/v1/ledger/balances?account=expense:nobody", admin_key,
	    NULL, NULL);
	CHECK_ERR(r, 404, "unknown_account", "account");
	resp_free(r);
	r = http("GET", "/v1/ledger/balances?account=EXPENSE", admin_key, NULL,
	    NULL);
	CHECK_ERR(r, 400, "invalid_parameter", "account");
	resp_free(r);
	r = http("GET", "/v1/ledger/balances?account=expense:win&subtree=yes",
	    admin_key, NULL, NULL);
	CHECK_ERR(r, 400, "invalid_parameter", "subtree");
	resp_free(r);
	r = http("GET", "/v1/ledger/balances?from=2026-12-01T00:00:00Z&"
	    "to=2026-11-01T00:00:00Z", admin_key, NULL, NULL);
	CHECK_ERR(r, 400, "invalid_parameter", "to");
	resp_free(r);
	r = http("GET", "/v1/ledger/balances?from=yesterday", admin_key, NULL,
	    NULL);
	CHECK_ERR(r, 400, "invalid_parameter", "from");
	resp_free(r);
	r = http("GET", "/v1/ledger/balances?acount=expense:win", admin_key,
	    NULL, NULL);
	CHECK_ERR(r, 400, "unknown_parameter", "acount");
	resp_free(r);
	r = http("GET", "/v1/ledger/balances?account=expense:win&account=x",
	    admin_key, NULL, NULL);
	CHECK_ERR(r, 400, "duplicate_parameter", "account");
	resp_free(r);
	/* Every account: debits and credits are non-negative sums and the
	 * balances add up to zero. */
	r = http("GET", "/v1/ledger/balances", finance_key, NULL, NULL);
	CHECK(r->status == 200, "status %ld", r->status);
	{
		json_t *rows = json_object_get(r->json, "balances"), *row;
		int64_t sum = 0, v, d, c;
		const char *why;
		size_t i;

		CHECK(json_array_size(rows) >= 4, "%s", r->body);
		json_array_foreach(rows, i, row) {
			const char *b = json_string_value(json_object_get(row, "balance"));
			const char *ds = json_string_value(json_object_get(row, "debits"));
			const char *cs = json_string_value(json_object_get(row, "credits"));

			CHECK(b && ds && cs &&
			    ledger_money_parse(b, strlen(b), &v, &why) == 0 &&
			    ledger_money_parse(ds, strlen(ds), &d, &why) == 0 &&
			    ledger_money_parse(cs, strlen(cs), &c, &why) == 0,
			    "row %zu", i);
			CHECK(d >= 0 && c >= 0 && v == d - c, "row %zu", i);
			sum += v;
		}
		CHECK(sum == 0, "balances sum to %lld", (long long)sum);
	}
	resp_free(r);
}

static void
t_verify(void)
{
	struct resp *r = http("GET", "/v1/ledger/verify", admin_key, NULL, NULL);

	CHECK(r->status == 200, "status %ld", r->status);
	CHECK(json_is_true(json_object_get(r->json, "ok")), "%s", r->body);
	CHECK(strcmp(jstr(r, "trial_balance"), "0.000000000") == 0, "%s", r->body);
	CHECK(json_integer_value(json_object_get(r->json, "transactions")) ==
	    db_count("transactions"), "%s", r->body);
	resp_free(r);
}

/* PostgreSQL itself refuses an unbalanced transaction and any edit of
 * history, whatever a client of the database does. */
static void
t_database_guards(void)
{
	long long tx = db_count("transactions");
	CHECK(db_exec("DO $$ DECLARE t bigint; a bigint; BEGIN "
	    "INSERT INTO accounts (name, kind) VALUES ('expense:guard', 'expense') "
	    "ON CONFLICT DO NOTHING; SELECT id INTO a FROM accounts WHERE name = 'expense:guard'; "
	    "INSERT INTO transactions (kind, idempotency_key, occurred_at, root) "
	    "VALUES ('adjustment', 'guard-1', now(), 'guard') RETURNING id INTO t; "
	    "INSERT INTO postings VALUES (t, 0, a, 5, now(), 'guard'); "
	    "INSERT INTO postings VALUES (t, 1, a, -4, now(), 'guard'); END $$") != 0 &&
	    strstr(db_error(), "do not balance") != NULL,
	    "an unbalanced transaction was committed: %s", db_error());
	CHECK(db_count("transactions") == tx, "count changed");
	CHECK(db_exec("UPDATE postings SET amount = amount + 1") != 0 &&
	    strstr(db_error(), "append-only") != NULL, "postings were updated");
	CHECK(db_exec("DELETE FROM transactions") != 0 &&
	    strstr(db_error(), "append-only") != NULL,
	    "transactions were deleted");
	CHECK(db_exec("TRUNCATE postings CASCADE") != 0 &&
	    strstr(db_error(), "append-only") != NULL,
	    "postings were truncated");
	CHECK(db_exec("DELETE FROM ledger_keys") != 0 &&
	    strstr(db_error(), "append-only") != NULL,
	    "idempotency keys were deleted");
	CHECK(db_exec("DELETE FROM accounts") != 0 &&
	    strstr(db_error(), "append-only") != NULL, "accounts were deleted");
	/* The same guard holds for a transaction without any postings. */
	CHECK(db_exec("INSERT INTO transactions (kind, idempotency_key, "
	    "occurred_at, root) VALUES ('adjustment', 'guard-2', now(), '')") != 0 && strstr(db_error(), "at least 2") != NULL,
	    "a transaction without postings: %s", db_error());
	CHECK(db_count("transactions") == tx, "history changed");
}

/*
 * Verify outlasts the pool's statement timeout (5 s): while another
 * session holds a lock on the events for about 6.5 s, an ordinary read
 * of the events gives up at the pool's timeout; verify waits, under its
 * own, and answers in full.
 */
static void
t_verify_outlasts_statement_timeout(void)
{
	PGconn *c = PQconnectdb(getenv("TOLLGATE_DATABASE_URL"));
	double deadline = now_s() + 30;
	struct resp *r;
	PGresult *res;
	int up = 0;

	CHECK(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	/* Every pooled connection up and its statements prepared first: a
	 * connection still coming back from an earlier test would prepare
	 * them under the lock and time out. */
	while (!up && now_s() < deadline) {
		r = http("GET", "/metrics", admin_key, NULL, NULL);
		up = r->status == 200 && strstr(r->body,
		    "tollgate_db_connections{state=\"up\"} 4\n") != NULL;
		resp_free(r);
		if (!up)
			usleep(20000);
	}
	CHECK(up, "the pool's four connections did not come up");
	CHECK(PQsendQuery(c, "BEGIN; LOCK TABLE usage_events IN ACCESS "
	    "EXCLUSIVE MODE; SELECT pg_sleep(6.5); COMMIT") == 1, "%s",
	    PQerrorMessage(c));
	CHECK(db_wait("SELECT count(*) FROM pg_locks WHERE relation = "
	    "'usage_events'::regclass AND mode = 'AccessExclusiveLock' AND "
	    "granted", "1"), "the lock was not taken");
	r = http("GET", "/v1/reports/spend?from=2026-10-01T00:00:00Z&to="
	    "2026-10-01T00:30:00Z", admin_key, NULL, NULL);
	CHECK_ERR(r, 422, "report_too_large", "from");
	resp_free(r);
	r = http("GET", "/v1/ledger/verify", admin_key, NULL, NULL);
	CHECK(r->status == 200 && json_is_true(json_object_get(r->json,
	    "ok")), "verify under the lock: %ld %s", r->status, r->body);
	resp_free(r);
	while ((res = PQgetResult(c)) != NULL)
		PQclear(res);
	PQfinish(c);
}

const struct itest ledger_tests[] = {
	{ "an adjustment is recorded once; retries are duplicates; other "
	  "content is 409", t_adjust_records_once },
	{ "concurrent retries of one key book it once",
	  t_adjust_concurrent_retries },
	{ "bad adjustments get 400 with code and field and write nothing",
	  t_adjust_rejects_bad_input },
	{ "balances by account, subtree and window", t_balances },
	{ "the trial balance is zero", t_verify },
	{ "verify outlasts the pool's statement timeout under its own",
	  t_verify_outlasts_statement_timeout },
	{ "PostgreSQL refuses unbalanced transactions and edits of history",
	  t_database_guards },
	{ NULL, NULL }
};
