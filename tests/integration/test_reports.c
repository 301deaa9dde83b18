/*
 * test_reports.c - GET /v1/reports/spend against a brute-force
 * recomputation from the raw postings, for many group-bys, granularities
 * and windows (from the rollups and from the events), on a seeded
 * workload of its own cost centers (rpt, rpt/a, rpt/a/x, rpt/b), including
 * a repricing correction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "tests/integration/itest.h"

#define NEVENTS 150

static void
seed(void)
{
	static const char *const ccs[] = { "rpt/a", "rpt/b", "rpt/a/x", "rpt" };
	static const char *const models[] = { "gpt-4o", "gpt-4o-mini" };
	static const char *const teams[] = { "red", "blue" };
	static const int parents_first[] = { 3, 0, 1, 2 };
	char *body = malloc(NEVENTS * 400 + 8), *p;
	struct resp *r;
	int i;

	for (i = 0; i < 4; i++) {
		char cc[96];

		snprintf(cc, sizeof cc, "{\"id\":\"%s\",\"name\":\"%s\"}",
		    ccs[parents_first[i]], ccs[parents_first[i]]);
		r = http("POST", "/v1/cost-centers", admin_key, cc, NULL);
		CHECK(r->status == 201, "%s", r->body);
		resp_free(r);
	}
	p = body;
	*p++ = '[';
	for (i = 0; i < NEVENTS; i++) {
		/* Spread over 2026-09-28 .. 2026-10-09, at odd hours. */
		p += sprintf(p, "%s{\"id\":\"rpt-%d\",\"cost_center\":\"%s\","
		    "\"provider\":\"openai\",\"model\":\"%s\",\"occurred_at\":"
		    "\"2026-%02d-%02dT%02d:%02d:00Z\",%s\"tags\":{\"team\":\"%s\"},"
		    "\"usage\":{\"input_tokens\":%d,\"output_tokens\":%d}}",
		    i ? "," : "", i, ccs[i % 4], models[(i / 4) % 2],
		    (i * 7) % 12 < 3 ? 9 : 10, (i * 7) % 12 < 3 ?
		    28 + (i * 7) % 12 : 1 + (i * 7) % 12 - 3, (i * 5) % 24,
		    (i * 13) % 60, i % 3 ? "\"user\":\"u1\"," : i % 5 ?
		    "\"user\":\"u2\"," : "", teams[(i / 3) % 2],
		    100 + i * 37, 10 + i * 11);
	}
	strcpy(p, "]");
	r = http("POST", "/v1/usage", gateway_key, body, NULL);
	CHECK(r->status == 200 && strstr(r->body, "rejected") == NULL,
	    "seed: %ld %.300s", r->status, r->body);
	resp_free(r);
	free(body);
}

/* "key=nanos,..." of the report's rows with a non-zero cost, keys built
 * like the SQL below: non-null dimensions and the period, '|'-joined. */
static char *
report_keys(struct resp *r, const char *const *fields)
{
	json_t *rows = json_object_get(r->json, "rows"), *row, *v;
	char **keys = calloc(json_array_size(rows) + 1, sizeof *keys);
	char key[512], *out;
	size_t i, n = 0, len = 1;
	int64_t nanos;
	const char *why;
	int f, j;

	json_array_foreach(rows, i, row) {
		const char *c = json_string_value(json_object_get(row, "cost"));

		if (c == NULL || ledger_money_parse(c, strlen(c), &nanos,
		    &why) != 0 || nanos == 0)
			continue;
		key[0] = '\0';
		for (f = 0; fields[f] != NULL; f++) {
			v = json_object_get(row, fields[f]);
			if (json_is_string(v))
				snprintf(key + strlen(key), sizeof key -
				    strlen(key), "%s%s", key[0] ? "|" : "",
				    json_string_value(v));
		}
		snprintf(key + strlen(key), sizeof key - strlen(key), "=%lld",
		    (long long)nanos);
		keys[n++] = strdup(key);
		len += strlen(key) + 1;
	}
	/* Sorted as PostgreSQL sorts in the C collation. */
	for (i = 1; i < n; i++)
		for (j = (int)i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
			char *t = keys[j];

			keys[j] = keys[j - 1];
			keys[j - 1] = t;
		}
	out = calloc(1, len);
	for (i = 0; i < n; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, keys[i]);
		free(keys[i]);
	}
	free(keys);
	return out;
}

static void
t_spend_vs_postings(void)
{
	static const struct { const char *group_by, *sql; } groups[] = {
		{ "", NULL },
		{ "cost_center", "u.cost_center" },
		{ "model", "u.model" },
		{ "cost_center,provider,model", "u.cost_center, u.provider, u.model" },
		{ "user", "u.user_id" },
		{ "tag:team", "u.tags ->> 'team'" },
		{ "cost_center,user", "u.cost_center, u.user_id" },
	};
	static const char *const fields[][5] = {
		{ "period_start", NULL },
		{ "cost_center", "period_start", NULL },
		{ "model", "period_start", NULL },
		{ "cost_center", "provider", "model", "period_start", NULL },
		{ "user", "period_start", NULL },
		{ "tag", "period_start", NULL },
		{ "cost_center", "user", "period_start", NULL },
	};
	static const char *const grains[] = { NULL, "day", "week", "month",
		"hour" };
	static const struct { const char *q, *lo, *hi; } windows[] = {
		{ "", "-infinity", "infinity" },
		{ "&from=2026-09-30T00:00:00Z&to=2026-10-05T00:00:00Z",
		  "2026-09-30T00:00:00Z", "2026-10-05T00:00:00Z" },
		{ "&from=2026-09-30T06:30:00Z&to=2026-10-04T18:00:00Z",
		  "2026-09-30T06:30:00Z", "2026-10-04T18:00:00Z" },
	};
	char path[256], sql[2048], dimsql[256];
	struct resp *r;
	size_t g, k, w;
	int rollups = 0, events = 0;

	seed();
	/* One event repriced by hand: a correction the report must count. */
	CHECK(db_exec("DO $$ BEGIN PERFORM * FROM usage_reprice((SELECT "
	    "jsonb_build_array(jsonb_build_object('tx', u.transaction_id, "
	    "'key', 'rpt-7-fix', 'cc', u.cost_center, 'provider', u.provider, "
	    "'model', u.model, 'day', (u.occurred_at AT TIME ZONE 'UTC')::date, "
	    "'pv', (SELECT max(id) FROM price_versions), 'was_unpriced', false, "
	    "'list_delta', 1000, 'cost_delta', 1000, 'm', jsonb_build_array("
	    "jsonb_build_object('meter', 'input', 'q', 0, 'l', 1000, 'c', "
	    "1000)))) FROM usage_events u JOIN ledger_keys k ON "
	    "k.transaction_id = u.transaction_id WHERE k.kind = 'usage' AND "
	    "k.idempotency_key = 'rpt-7')); END $$") == 0, "%s", db_error());
	for (g = 0; g < sizeof groups / sizeof groups[0]; g++)
		for (k = 0; k < sizeof grains / sizeof grains[0]; k++)
			for (w = 0; w < sizeof windows / sizeof windows[0]; w++) {
		char *got;
		const char *want;

		snprintf(path, sizeof path, "/v1/reports/spend?cost_center=rpt"
		    "%s%s%s%s%s", groups[g].group_by[0] ? "&group_by=" : "",
		    groups[g].group_by, grains[k] ? "&granularity=" : "",
		    grains[k] ? grains[k] : "", windows[w].q);
		r = http("GET", path, finance_key, NULL, NULL);
		CHECK(r->status == 200, "%s: %ld %s", path, r->status, r->body);
		if (r->status != 200) {
			resp_free(r);
			continue;
		}
		rollups += strcmp(jstr(r, "source"), "rollups") == 0;
		events += strcmp(jstr(r, "source"), "events") == 0;
		/* The same grouping, by hand, from the postings. */
		snprintf(dimsql, sizeof dimsql, "%s", groups[g].sql ?
		    groups[g].sql : "");
		if (grains[k] != NULL)
			snprintf(dimsql + strlen(dimsql), sizeof dimsql -
			    strlen(dimsql), "%stg_rfc3339(date_trunc('%s', "
			    "u.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')",
			    dimsql[0] ? ", " : "", grains[k]);
		snprintf(sql, sizeof sql, "SELECT coalesce(string_agg(k || '=' || "
		    "c, ',' ORDER BY (k || '=' || c) COLLATE \"C\"), '') FROM (SELECT "
		    "%s%s%s AS k, sum(p.amount) AS c "
		    "FROM postings p JOIN accounts a ON a.id = p.account_id "
		    "AND a.name LIKE 'expense:%%' JOIN transactions t ON t.id = "
		    "p.transaction_id AND t.occurred_at = p.occurred_at "
		    "JOIN usage_events u ON u.transaction_id = coalesce(t.corrects, "
		    "t.id) WHERE (u.cost_center = 'rpt' OR u.cost_center LIKE "
		    "'rpt/%%') AND u.occurred_at >= '%s' AND u.occurred_at < '%s' "
		    "GROUP BY 1 HAVING sum(p.amount) <> 0) x", dimsql[0] ?
		    "concat_ws('|', " : "''::text", dimsql, dimsql[0] ? ")" : "",
		    windows[w].lo, windows[w].hi);
		want = db_value(sql);
		got = report_keys(r, fields[g]);
		CHECK(want != NULL && strchr(want, '=') != NULL &&
		    strcmp(got, want) == 0,
		    "%s\n      report: %.400s\n      ledger: %.400s", path, got,
		    want != NULL ? want : db_error());
		free(got);
		resp_free(r);
	}
	CHECK(rollups > 0 && events > 0, "rollups %d, events %d", rollups,
	    events);
	/* Movers: the cost centers whose spend changed most against the
	 * three days before, by hand from the postings. */
	r = http("GET", "/v1/reports/spend?cost_center=rpt&group_by=cost_center"
	    "&from=2026-10-03T00:00:00Z&to=2026-10-06T00:00:00Z&top=2",
	    finance_key, NULL, NULL);
	{
		json_t *m = json_object_get(r->json, "movers"), *x;
		char got[256] = "";
		size_t i;

		json_array_foreach(m, i, x)
			snprintf(got + strlen(got), sizeof got - strlen(got),
			    "%s%s:%s", i ? "," : "", json_string_value(
			    json_object_get(x, "cost_center")), json_string_value(
			    json_object_get(x, "change")));
		CHECK(r->status == 200 && strcmp(got, db_value("SELECT "
		    "string_agg(cc || ':' || to_char(d / 1e9, 'FM9990.000000000'), "
		    "',' ORDER BY abs(d) DESC, cc) FROM (SELECT cc, d FROM (SELECT "
		    "u.cost_center AS cc, sum(CASE WHEN u.occurred_at >= "
		    "'2026-10-03Z' THEN p.amount ELSE -p.amount END) AS d FROM "
		    "postings p JOIN accounts a ON a.id = p.account_id AND a.name "
		    "LIKE 'expense:%' JOIN transactions t ON t.id = "
		    "p.transaction_id AND t.occurred_at = p.occurred_at JOIN "
		    "usage_events u ON u.transaction_id = coalesce(t.corrects, "
		    "t.id) WHERE (u.cost_center = 'rpt' OR u.cost_center LIKE "
		    "'rpt/%') AND u.occurred_at >= '2026-09-30Z' AND "
		    "u.occurred_at < '2026-10-06Z' GROUP BY 1) y WHERE d <> 0 "
		    "ORDER BY abs(d) DESC, cc LIMIT 2) z")) == 0 &&
		    json_array_size(m) == 2, "movers: %s / %s", got,
		    db_value("SELECT 1"));
	}
	resp_free(r);
	r = http("GET", "/v1/reports/spend?top=3", finance_key, NULL, NULL);
	CHECK_ERR(r, 400, "invalid_parameter", "top");
	resp_free(r);
	r = http("GET", "/v1/reports/spend?group_by=colour", finance_key, NULL,
	    NULL);
	CHECK_ERR(r, 400, "invalid_parameter", "group_by");
	resp_free(r);
	r = http("GET", "/v1/reports/spend?granularity=year", finance_key, NULL,
	    NULL);
	CHECK_ERR(r, 400, "invalid_parameter", "granularity");
	resp_free(r);
	r = http("GET", "/v1/reports/spend", gateway_key, NULL, NULL);
	CHECK(r->status == 403, "a gateway read a report: %ld", r->status);
	resp_free(r);
}

const struct itest report_tests[] = {
	{ "spend reports equal the postings for every grouping and window",
	  t_spend_vs_postings },
	{ NULL, NULL }
};
