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
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

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

/* Parameter name of the query string of path, URL-decoded enough for
 * these tests (no escapes in them); NULL when absent. */
static const char *
path_param(const char *path, const char *name, char *buf, size_t bufsz)
{
	const char *p = strchr(path, '?');
	size_t n = strlen(name), len;

	while (p != NULL) {
		p++;
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			len = strcspn(p + n + 1, "&");
			snprintf(buf, bufsz, "%.*s", (int)len, p + n + 1);
			return buf;
		}
		p = strchr(p, '&');
	}
	return NULL;
}

/*
 * What the events' query (sql/queries/report_spend_events.sql, over the
 * whole window) answers for the report at path, as the report writes it:
 * {"rows": [...], "total": {...}}. The report served from the rollups
 * (whole days, and its edges) must equal it in every row, figure and
 * quantity, in the same order. NULL when the query fails.
 */
static json_t *
events_answer(const char *path)
{
	static PGconn *c;
	static char *sql;
	static const char *const dims[] = { "cost_center", "provider",
		"model", "user" };
	char from[64], to[64], gb[256], gran[16], cc[128], tag[72] = "";
	char money[LEDGER_MONEY_BUFSZ];
	const char *params[12], *g;
	int64_t tot[3] = { 0, 0, 0 };
	json_t *rows = json_array(), *row, *q, *meters;
	PGresult *res, *mres;
	int by[4] = { 0, 0, 0, 0 }, i, d;

	if (c == NULL)
		c = PQconnectdb(getenv("TOLLGATE_DATABASE_URL"));
	if (sql == NULL)
		sql = itest_slurp("sql/queries/report_spend_events.sql");
	g = path_param(path, "group_by", gb, sizeof gb);
	for (d = 0; d < 4 && g != NULL; d++)
		by[d] = strstr(g, dims[d]) != NULL;
	if (g != NULL && strstr(g, "tag:") != NULL)
		snprintf(tag, sizeof tag, "%.*s", (int)strcspn(strstr(g,
		    "tag:") + 4, ","), strstr(g, "tag:") + 4);
	params[0] = path_param(path, "from", from, sizeof from);
	params[1] = path_param(path, "to", to, sizeof to);
	for (d = 0; d < 4; d++)
		params[2 + d] = by[d] ? "true" : "false";
	params[6] = tag[0] ? tag : NULL;
	params[7] = path_param(path, "granularity", gran, sizeof gran);
	if (params[7] == NULL)
		params[7] = "none";
	params[8] = path_param(path, "cost_center", cc, sizeof cc);
	mres = PQexec(c, "SELECT tg_meters()");
	params[9] = PQresultStatus(mres) == PGRES_TUPLES_OK ?
	    PQgetvalue(mres, 0, 0) : NULL;
	params[10] = params[11] = NULL;
	res = PQexecParams(c, sql, 12, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQresultStatus(mres) != PGRES_TUPLES_OK) {
		fprintf(stderr, "    events_answer: %s", PQerrorMessage(c));
		PQclear(res);
		PQclear(mres);
		json_decref(rows);
		return NULL;
	}
	for (i = 0; i < PQntuples(res); i++) {
		row = json_object();
		for (d = 0; d < 5; d++)
			if (d < 4 ? by[d] : tag[0] != '\0')
				json_object_set_new(row, d < 4 ? dims[d] : "tag",
				    PQgetisnull(res, i, d) ? json_null() :
				    json_string(PQgetvalue(res, i, d)));
		if (!PQgetisnull(res, i, 5))
			json_object_set_new(row, "period_start",
			    json_string(PQgetvalue(res, i, 5)));
		for (d = 0; d < 3; d++)
			tot[d] += atoll(PQgetvalue(res, i, 6 + d));
		ledger_money_format(atoll(PQgetvalue(res, i, 6)), money);
		json_object_set_new(row, "cost", json_string(money));
		ledger_money_format(atoll(PQgetvalue(res, i, 7)), money);
		json_object_set_new(row, "list_cost", json_string(money));
		json_object_set_new(row, "events", json_integer(
		    atoll(PQgetvalue(res, i, 8))));
		q = json_loads(PQgetvalue(res, i, 9), 0, NULL);
		json_object_set_new(row, "quantities", q);
		json_array_append_new(rows, row);
	}
	PQclear(res);
	PQclear(mres);
	ledger_money_format(tot[0], money);
	meters = json_pack("{s:s}", "cost", money);
	ledger_money_format(tot[1], money);
	json_object_set_new(meters, "list_cost", json_string(money));
	json_object_set_new(meters, "events", json_integer(tot[2]));
	return json_pack("{s:o, s:o}", "rows", rows, "total", meters);
}

/* Whether the report r (of path) answers what the events do, rows and
 * total; says how not when not. */
static int
same_as_events(const char *path, struct resp *r)
{
	json_t *want = events_answer(path);
	int ok = want != NULL && r->json != NULL &&
	    json_equal(json_object_get(want, "rows"), json_object_get(r->json,
	    "rows")) && json_equal(json_object_get(want, "total"),
	    json_object_get(r->json, "total"));
	char *w;

	if (!ok) {
		w = want != NULL ? json_dumps(want, JSON_COMPACT) : NULL;
		fprintf(stderr, "    %s\n      served: %.700s\n      events: "
		    "%.700s\n", path, r->body, w != NULL ? w : "-");
		free(w);
	}
	json_decref(want);
	return ok;
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
		{ "user,tag:team", "u.user_id, u.tags ->> 'team'" },
		{ "cost_center,user,tag:team",
		  "u.cost_center, u.user_id, u.tags ->> 'team'" },
	};
	static const char *const fields[][5] = {
		{ "period_start", NULL },
		{ "cost_center", "period_start", NULL },
		{ "model", "period_start", NULL },
		{ "cost_center", "provider", "model", "period_start", NULL },
		{ "user", "period_start", NULL },
		{ "tag", "period_start", NULL },
		{ "cost_center", "user", "period_start", NULL },
		{ "user", "tag", "period_start", NULL },
		{ "cost_center", "user", "tag", "period_start", NULL },
	};
	static const char *const grains[] = { NULL, "day", "week", "month",
		"hour" };
	static const struct { const char *q, *lo, *hi; } windows[] = {
		{ "", "-infinity", "infinity" },
		{ "&from=2026-09-30T00:00:00Z&to=2026-10-05T00:00:00Z",
		  "2026-09-30T00:00:00Z", "2026-10-05T00:00:00Z" },
		{ "&from=2026-09-30T06:30:00Z&to=2026-10-04T18:00:00Z",
		  "2026-09-30T06:30:00Z", "2026-10-04T18:00:00Z" },
		/* Edges inside hours, on events (rpt-21 and rpt-141 at
		 * from, counted; rpt-13 and rpt-133 at to, not). */
		{ "&from=2026-10-01T09:33:00Z&to=2026-10-05T17:49:00Z",
		  "2026-10-01T09:33:00Z", "2026-10-05T17:49:00Z" },
	};
	char path[256], sql[2048], dimsql[256];
	struct resp *r;
	size_t g, k, w;
	int rollups = 0, events = 0, pass;

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
	/* Events of today and yesterday: once folded, today's are read
	 * from the daily rows beside the sums of the days before. */
	for (w = 0; w < 2; w++) {
		time_t t = time(NULL) - (time_t)w * 86400;
		char ev[320], at[32];

		strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		snprintf(ev, sizeof ev, "{\"id\":\"rpt-now-%d\",\"cost_center\":"
		    "\"rpt/a\",\"provider\":\"openai\",\"model\":\"gpt-4o\","
		    "\"occurred_at\":\"%s\",\"user\":\"u1\",\"tags\":{\"team\":"
		    "\"red\"},\"usage\":{\"input_tokens\":%d,\"output_tokens\":9}}",
		    (int)w, at, 300 + (int)w);
		r = http("POST", "/v1/usage", gateway_key, ev, NULL);
		CHECK(r->status == 200 && strstr(r->body, "rejected") == NULL,
		    "%ld %.300s", r->status, r->body);
		resp_free(r);
	}
	/* Pass 0 with the days marked as bookings leave them (reports read
	 * the days), pass 1 once folded (their weeks and months). */
	for (pass = 0; pass < 2; pass++)
	for (g = 0; g < sizeof groups / sizeof groups[0]; g++)
		for (k = 0; k < sizeof grains / sizeof grains[0]; k++)
			for (w = 0; w < sizeof windows / sizeof windows[0]; w++) {
		char *got;
		const char *want;

		if (pass == 1 && g == 0 && k == 0 && w == 0)
			CHECK(strcmp(db_value("SELECT count(*) FROM "
			    "usage_rollup_dirty"), "0") != 0 &&
			    db_value("SELECT tg_fold_periods()") != NULL &&
			    strcmp(db_value("SELECT count(*) FROM "
			    "usage_rollup_dirty"), "0") == 0 &&
			    strcmp(db_value("SELECT count(*) > 0 FROM "
			    "usage_daily_periods"), "t") == 0, "%s", db_error());

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
		/* Every window here holds whole days and hours: only users
		 * or tags per hour read the events. */
		CHECK(strcmp(jstr(r, "source"), grains[k] != NULL &&
		    strcmp(grains[k], "hour") == 0 && (strstr(
		    groups[g].group_by, "user") != NULL || strstr(
		    groups[g].group_by, "tag") != NULL) ? "events" :
		    "rollups") == 0, "%s: source %s", path, jstr(r, "source"));
		CHECK(same_as_events(path, r), "%s", path);
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

/*
 * Quantities of every meter, read from the rollups (usage_daily's and
 * usage_hourly's arrays, usage_cc_daily's object) and from the events,
 * read the same to the byte: the same window a second longer at each end
 * is served from the rollups and its edges' events and holds the same
 * events, so everything from "rows" on must match, and match what the
 * events' query answers over the whole window.
 */
static void
t_spend_quantities(void)
{
	static const char *const groups[] = { "", "cost_center", "provider",
		"model", "cost_center,provider", "cost_center,model",
		"provider,model", "cost_center,provider,model" };
	static const char *const grains[] = { "", "&granularity=day",
		"&granularity=week", "&granularity=month",
		"&granularity=hour" };
	static const char *const fields[] = { "input_tokens",
		"cached_input_tokens", "cache_write_5m_tokens",
		"cache_write_1h_tokens", "output_tokens", "reasoning_tokens",
		"audio_input_tokens", "audio_output_tokens", "image_input",
		"image_output", "image_input_tokens", "image_output_tokens",
		"requests", "seconds" };
	char *body = malloc(40 * 900 + 8), *p, path[256];
	struct resp *r, *e;
	size_t g, k, f;
	int i, pass;

	for (i = 0; i < 2; i++) {
		r = http("POST", "/v1/cost-centers", admin_key, i == 0 ?
		    "{\"id\":\"qty\",\"name\":\"qty\"}" :
		    "{\"id\":\"qty/a\",\"name\":\"qty a\"}", NULL);
		CHECK(r->status == 201, "%s", r->body);
		resp_free(r);
	}
	p = body;
	*p++ = '[';
	for (i = 0; i < 40; i++) {
		/* 2026-08-03 .. 2026-08-22, between 01:00 and 22:59. */
		p += sprintf(p, "%s{\"id\":\"qty-%d\",\"cost_center\":\"%s\","
		    "\"provider\":\"%s\",\"model\":\"%s\",\"occurred_at\":"
		    "\"2026-08-%02dT%02d:%02d:00Z\",\"usage\":{", i ? "," : "",
		    i, i % 3 ? "qty/a" : "qty", i % 4 ? "openai" : "anthropic",
		    i % 4 ? (i % 2 ? "gpt-4o" : "gpt-4o-mini") : "claude-x",
		    3 + i / 2, 1 + (i * 5) % 22, (i * 13) % 60);
		/* Each meter in some events only, a few of them large. */
		for (f = 0; f < sizeof fields / sizeof fields[0]; f++)
			p += sprintf(p, "%s\"%s\":%lld", f ? "," : "", fields[f],
			    (i + (int)f) % 3 ? 0LL : (long long)(i + 1) *
			    (f % 5 == 0 ? 3000000011LL : 7 + (long long)f));
		p += sprintf(p, "}}");
	}
	strcpy(p, "]");
	r = http("POST", "/v1/usage", gateway_key, body, NULL);
	CHECK(r->status == 200 && strstr(r->body, "rejected") == NULL,
	    "seed: %ld %.300s", r->status, r->body);
	resp_free(r);
	free(body);
	/* With the months marked by the bookings, then folded (whole weeks
	 * from their sums, hours over every cost center from the hourly
	 * sums without them); for a subtree and for all cost centers. */
	for (pass = 0; pass < 4; pass++)
	for (g = 0; g < sizeof groups / sizeof groups[0]; g++)
		for (k = 0; k < sizeof grains / sizeof grains[0]; k++) {
		const char *a, *b;

		if (pass == 2 && g == 0 && k == 0)
			CHECK(db_value("SELECT tg_fold_periods()") != NULL &&
			    strcmp(db_value("SELECT count(*) FROM "
			    "usage_rollup_dirty"), "0") == 0, "%s", db_error());
		snprintf(path, sizeof path, "/v1/reports/spend?%s"
		    "group_by=%s%s&from=2026-08-01T00:00:00Z"
		    "&to=2026-08-25T00:00:00Z", pass % 2 ? "" :
		    "cost_center=qty&", groups[g], grains[k]);
		r = http("GET", path, finance_key, NULL, NULL);
		path[strlen(path) - 2] = '1';	/* to ...:01Z */
		strstr(path, "01T00:00:00Z")[10] = '1';
		e = http("GET", path, finance_key, NULL, NULL);
		a = r->status == 200 ? strstr(r->body, "\"rows\":") : NULL;
		b = e->status == 200 ? strstr(e->body, "\"rows\":") : NULL;
		/* A second over: whole days and their edges, which hold
		 * no event. */
		CHECK(a != NULL && b != NULL && strcmp(jstr(r, "source"),
		    "rollups") == 0 && strcmp(jstr(e, "source"), "rollups") ==
		    0 && strcmp(a, b) == 0 && strstr(a, "\"reasoning\": ") !=
		    NULL && same_as_events(path, e),
		    "%s\n      days: %.600s\n      edges:  %.600s", path,
		    r->body, e->body);
		resp_free(r);
		resp_free(e);
	}
}

static int64_t nanos_of(const char *s);

/* Cost centers root, root/a and root/b. */
static void
make_tree(const char *root)
{
	char doc[160];
	struct resp *r;
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(doc, sizeof doc, "{\"id\":\"%s%s\",\"name\":\"%s%s\"}",
		    root, i == 0 ? "" : i == 1 ? "/a" : "/b", root, i == 0 ?
		    "" : i == 1 ? " a" : " b");
		r = http("POST", "/v1/cost-centers", admin_key, doc, NULL);
		CHECK(r->status == 201, "%s", r->body);
		resp_free(r);
	}
}

/* Book the usage events of body, a JSON array (freed here). */
static void
book(char *body)
{
	struct resp *r = http("POST", "/v1/usage", gateway_key, body, NULL);

	CHECK(r->status == 200 && strstr(r->body, "rejected") == NULL,
	    "seed: %ld %.300s", r->status, r->body);
	resp_free(r);
	free(body);
}

/* A repricing correction by hand (cost 5000, list 7000 nano-units more)
 * of the events of the usage ids keys, a SQL list: "('a', 'b')". */
static void
reprice_by_hand(const char *keys)
{
	char sql[1536];

	snprintf(sql, sizeof sql, "DO $$ BEGIN PERFORM * FROM usage_reprice("
	    "(SELECT jsonb_agg(jsonb_build_object('tx', u.transaction_id, "
	    "'key', k.idempotency_key || '-fix', 'cc', u.cost_center, "
	    "'provider', u.provider, 'model', u.model, 'day', (u.occurred_at "
	    "AT TIME ZONE 'UTC')::date, 'pv', (SELECT max(id) FROM "
	    "price_versions), 'was_unpriced', u.unpriced IS NOT NULL, "
	    "'list_delta', 7000, 'cost_delta', 5000, 'm', jsonb_build_array("
	    "jsonb_build_object('meter', 'input', 'q', 0, 'l', 7000, 'c', "
	    "5000)))) FROM usage_events u JOIN ledger_keys k ON "
	    "k.transaction_id = u.transaction_id WHERE k.kind = 'usage' AND "
	    "k.idempotency_key IN %s)); END $$", keys);
	CHECK(db_exec(sql) == 0, "%s", db_error());
}


/*
 * Windows cut inside days and hours, read from the rollups with their
 * edges: each report equals what the events' query answers over the
 * whole window, row by row, for every grouping and granularity, before
 * and after the fold, with events exactly at from (counted) and at to
 * (not), a second either side, on the hours and midnights of the edge
 * days, and repricing corrections in the edge days inside and outside
 * the window. Then the movers, whose window before has edges too.
 */
static void
t_spend_edges(void)
{
	static const char *const groups[] = { "", "cost_center", "model",
		"cost_center,provider,model", "user", "tag:team",
		"cost_center,user", "model,tag:team", "user,tag:team",
		"model,user,tag:team" };
	static const char *const grains[] = { "", "&granularity=hour",
		"&granularity=day", "&granularity=week",
		"&granularity=month" };
	static const char *const windows[] = {
		/* Minutes: by user or tag, each edge day less the hours
		 * outside the window. */
		"&from=2026-11-03T05:13:00Z&to=2026-11-10T17:40:00Z",
		/* The edges' own events. */
		"&from=2026-11-03T18:30:00Z&to=2026-11-10T04:15:00Z",
		/* Whole hours: without user or tag, the hourly rollup. */
		"&from=2026-11-03T05:00:00Z&to=2026-11-10T17:00:00Z",
		"&from=2026-11-03T05:13:00Z", "&to=2026-11-10T17:40:00Z",
		/* Shorter than a day: the events. */
		"&from=2026-11-03T05:13:00Z&to=2026-11-04T05:12:00Z",
	};
	static const char *const at[] = { "03T05:13:00", "03T05:12:59",
		"03T05:13:01", "03T06:00:00", "03T00:00:00", "03T23:59:59",
		"04T00:00:00", "10T00:00:00", "10T17:00:00", "10T17:39:59",
		"10T17:40:00", "10T17:40:01", "10T23:59:59", "10T04:15:00",
		"03T18:30:00", "03T18:29:59" };
	static const char *const users[] = { "\"user\":\"ann\",",
		"\"user\":\"bob\",", "" };
	static const char *const tags[] = { "\"tags\":{\"team\":\"red\"},",
		"\"tags\":{\"team\":\"blue\"},", "" };
	char *body = malloc(80 * 400 + 8), *p, path[384], ts[32];
	struct resp *r;
	size_t g, k, w;
	int i, n = 0, pass, split = 0;

	make_tree("edg");
	p = body;
	*p++ = '[';
	/* The edge times, then one event every few hours of 2026-11-02 ..
	 * 2026-11-11. */
	for (i = 0; i < 80; i++) {
		if (i < (int)(sizeof at / sizeof at[0]))
			snprintf(ts, sizeof ts, "2026-11-%sZ", at[i]);
		else
			snprintf(ts, sizeof ts, "2026-11-%02dT%02d:%02d:%02dZ",
			    2 + i % 10, (i * 7) % 24, (i * 13) % 60, i % 7);
		p += sprintf(p, "%s{\"id\":\"edg-%d\",\"cost_center\":\"%s\","
		    "\"provider\":\"openai\",\"model\":\"%s\",\"occurred_at\":"
		    "\"%s\",%s%s\"usage\":{\"input_tokens\":%d,"
		    "\"output_tokens\":%d,\"cached_input_tokens\":%d}}",
		    i ? "," : "", i, i % 3 == 0 ? "edg" : i % 3 == 1 ?
		    "edg/a" : "edg/b", i % 2 ? "gpt-4o" : "gpt-4o-mini", ts,
		    users[i % 3], tags[(i / 3) % 3], 100 + i * 41, 7 + i * 13,
		    i % 4 ? 0 : 20 + i);
		n++;
	}
	strcpy(p, "]");
	book(body);
	/* Corrections: at from, a second before it (outside), a second
	 * before to (inside) and at to (outside). */
	reprice_by_hand("('edg-0', 'edg-1', 'edg-9', 'edg-10')");
	/* Pass 0 with the days marked, pass 1 folded. */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1)
			CHECK(db_value("SELECT tg_fold_periods()") != NULL, "%s",
			    db_error());
		for (g = 0; g < sizeof groups / sizeof groups[0]; g++)
			for (k = 0; k < sizeof grains / sizeof grains[0]; k++)
				for (w = 0; w < sizeof windows / sizeof windows[0];
				    w++) {
			int by_user_tag = strstr(groups[g], "user") != NULL ||
			    strstr(groups[g], "tag") != NULL;
			/* Per hour, a window shorter than a day has whole
			 * hours. No rollup keeps a model, a user and a tag. */
			int events = (w == 5 && k != 1) || strstr(groups[g],
			    "model,user,tag") != NULL || (k == 1 && by_user_tag);

			snprintf(path, sizeof path, "/v1/reports/spend?"
			    "cost_center=edg&group_by=%s%s%s", groups[g],
			    grains[k], windows[w]);
			r = http("GET", path, finance_key, NULL, NULL);
			CHECK(r->status == 200 && strcmp(jstr(r, "source"),
			    events ? "events" : "rollups") == 0 &&
			    same_as_events(path, r), "%s: %ld %s", path,
			    r->status, jstr(r, "source"));
			split += !events;
			resp_free(r);
		}
	}
	CHECK(split > 0 && n == 80, "%d split", split);
	/* Movers: by cost center and by model, against the window before
	 * (whose edges are inside days too), both from the events. */
	for (g = 1; g < 3; g++) {
		const char *dim = g == 1 ? "cost_center" : "model";
		char before[384], want[512] = "", got[512] = "";
		json_t *now, *prev, *row, *m, *x;
		size_t i2, j;

		snprintf(path, sizeof path, "/v1/reports/spend?cost_center=edg"
		    "&group_by=%s%s&top=9", dim, windows[0]);
		snprintf(before, sizeof before, "/v1/reports/spend?"
		    "cost_center=edg&group_by=%s&from=2026-10-26T16:46:00Z"
		    "&to=2026-11-03T05:13:00Z", dim);
		now = events_answer(path);
		prev = events_answer(before);
		/* Here no two groups change by the same amount: ordered by
		 * the change's size alone. */
		for (;;) {
			int64_t best = 0, d, c, b;
			const char *bk = NULL;

			json_array_foreach(json_object_get(now, "rows"), i2,
			    row) {
				const char *key = json_string_value(
				    json_object_get(row, dim));

				char mark[96];

				snprintf(mark, sizeof mark, ",%s,", key);
				snprintf(got, sizeof got, ",%s,", want);
				if (strstr(got, mark) != NULL)
					continue;
				c = nanos_of(json_string_value(json_object_get(
				    row, "cost")));
				b = 0;
				json_array_foreach(json_object_get(prev, "rows"),
				    j, x)
					if (strcmp(json_string_value(
					    json_object_get(x, dim)), key) == 0)
						b = nanos_of(json_string_value(
						    json_object_get(x, "cost")));
				d = c - b < 0 ? b - c : c - b;
				if (d > best) {
					best = d;
					bk = key;
				}
			}
			if (bk == NULL)
				break;
			snprintf(want + strlen(want), sizeof want -
			    strlen(want), "%s%s", want[0] ? "," : "", bk);
		}
		got[0] = '\0';
		r = http("GET", path, finance_key, NULL, NULL);
		m = json_object_get(r->json, "movers");
		json_array_foreach(m, i2, x)
			snprintf(got + strlen(got), sizeof got - strlen(got),
			    "%s%s", i2 ? "," : "", json_string_value(
			    json_object_get(x, dim)));
		CHECK(r->status == 200 && want[0] != '\0' &&
		    strcmp(got, want) == 0, "movers by %s: %s, want %s", dim,
		    got, want);
		resp_free(r);
		json_decref(now);
		json_decref(prev);
	}
}

/* The report at path (a query string ending in window w) as served; its
 * text from "rows" on, NULL unless 200 from the source wanted. */
static char *
rows_from(const char *path, const char *source)
{
	struct resp *r = http("GET", path, finance_key, NULL, NULL);
	const char *a = r->status == 200 ? strstr(r->body, "\"rows\":") : NULL;
	char *out = a != NULL && strcmp(jstr(r, "source"), source) == 0 ?
	    strdup(a) : NULL;

	if (out == NULL)
		fprintf(stderr, "    %s: %ld %.300s\n", path, r->status, r->body);
	resp_free(r);
	return out;
}

/* Pass 1: fold the marked months into their weekly and monthly sums.
 * Pass 2: then book one more July event with a user and tags, and
 * reprice it, leaving its day marked and the sums of its week and month
 * behind their days. */
static void
fold_or_book(int pass)
{
	struct resp *r;

	if (pass == 1) {
		CHECK(strcmp(db_value("SELECT count(*) > 0 FROM "
		    "usage_rollup_dirty"), "t") == 0 && db_value("SELECT "
		    "tg_fold_periods()") != NULL && strcmp(db_value("SELECT "
		    "count(*) FROM usage_rollup_dirty"), "0") == 0 && strcmp(
		    db_value("SELECT count(*) FROM usage_user_periods WHERE "
		    "period = '2026-07-01' AND grain = 'month'"), "0") != 0,
		    "%s", db_error());
		return;
	}
	r = http("POST", "/v1/usage", gateway_key, "{\"id\":\"ugt-late\","
	    "\"cost_center\":\"ugt/a\",\"provider\":\"openai\",\"model\":"
	    "\"gpt-4o\",\"occurred_at\":\"2026-07-10T12:00:00Z\",\"user\":"
	    "\"ann\",\"tags\":{\"team\":\"red\"},\"usage\":{"
	    "\"input_tokens\":1234,\"output_tokens\":56}}", NULL);
	CHECK(r->status == 200 && strstr(r->body, "rejected") == NULL,
	    "%ld %.300s", r->status, r->body);
	resp_free(r);
	CHECK(db_exec("DO $$ BEGIN PERFORM * FROM usage_reprice((SELECT "
	    "jsonb_agg(jsonb_build_object('tx', u.transaction_id, "
	    "'key', 'ugt-late-fix', 'cc', u.cost_center, 'provider', "
	    "u.provider, 'model', u.model, 'day', (u.occurred_at AT TIME ZONE "
	    "'UTC')::date, 'pv', (SELECT max(id) FROM price_versions), "
	    "'was_unpriced', false, 'list_delta', 300, 'cost_delta', 200, "
	    "'m', jsonb_build_array(jsonb_build_object('meter', 'input', "
	    "'q', 0, 'l', 300, 'c', 200)))) FROM usage_events u JOIN "
	    "ledger_keys k ON k.transaction_id = u.transaction_id WHERE "
	    "k.kind = 'usage' AND k.idempotency_key = 'ugt-late')); END $$")
	    == 0, "%s", db_error());
	CHECK(strcmp(db_value("SELECT array_agg(DISTINCT day)::text FROM "
	    "usage_rollup_dirty"), "{2026-07-10}") == 0, "marks: %s",
	    db_value("SELECT array_agg(day)::text FROM usage_rollup_dirty"));
}

/*
 * Groupings by user or by a tag, or by both, read from their rollups
 * (0020, 0026), read the same to the byte as from the events: each
 * window on whole days against the same window widened or narrowed by a
 * second where no event is (served from the events), for users, no
 * user, tags, tags lacking or empty, an unpriced event priced later and
 * a repricing correction, every granularity the rollups serve and two
 * subtrees. Then GET /v1/ledger/verify finds a rollup row set wrong by
 * hand (per user, per tag, per user and tag, per hour), against the
 * events and against the coarser rollups without provider and model.
 */
static void
t_spend_user_tag_rollups(void)
{
	static const char *const groups[] = { "user", "tag:team",
		"tag:feature", "tag:nobody", "cost_center,user",
		"provider,model,user", "cost_center,provider,model,user",
		"model,tag:team", "cost_center,provider,model,tag:feature",
		"user,tag:team", "cost_center,user,tag:feature",
		"user,tag:nobody", "model,user,tag:team" };
	static const char *const grains[] = { "", "&granularity=day",
		"&granularity=week", "&granularity=month" };
	/* Whole days, and the same a second off where no event is. */
	static const struct { const char *days, *secs; } windows[] = {
		{ "", "&from=2000-01-01T00:00:01Z" },
		{ "&from=2026-07-07T00:00:00Z&to=2026-07-16T00:00:00Z",
		  "&from=2026-07-07T00:00:00Z&to=2026-07-16T00:00:01Z" },
		{ "&from=2026-07-09T00:00:00Z", "&from=2026-07-08T23:59:59Z" },
		{ "&to=2026-07-13T00:00:00Z", "&to=2026-07-13T00:00:01Z" },
	};
	static const char *const tags[] = { "",
		"\"tags\":{\"team\":\"red\",\"feature\":\"search\"},",
		"\"tags\":{\"team\":\"blue\"},",
		"\"tags\":{\"feature\":\"chat, \\\"beta\\\"\"},",
		"\"tags\":{\"team\":\"\",\"feature\":\"search\"}," };
	static const char *const users[] = { "\"user\":\"ann\",",
		"\"user\":\"bob\",", "", "\"user\":\"cy\"," };
	char *body = malloc(48 * 500 + 8), *p, path[384], alt[384];
	/* Two subtrees, and every cost center (the days over all of them,
	 * 0024). */
	const char *cc[] = { "cost_center=ugt&", "cost_center=ugt/a&", "" };
	struct resp *r;
	size_t g, k, w, c;
	int i, same = 0, events = 0, pass;

	make_tree("ugt");
	p = body;
	*p++ = '[';
	for (i = 0; i < 48; i++)
		/* 2026-07-06 .. 2026-07-19 from 01:00 to 22:59; every 11th
		 * on a model without a price (unpriced). */
		p += sprintf(p, "%s{\"id\":\"ugt-%d\",\"cost_center\":\"%s\","
		    "\"provider\":\"%s\",\"model\":\"%s\",\"occurred_at\":"
		    "\"2026-07-%02dT%02d:%02d:00Z\",%s%s\"usage\":{"
		    "\"input_tokens\":%d,\"output_tokens\":%d,"
		    "\"cached_input_tokens\":%d}}", i ? "," : "", i,
		    i % 3 == 0 ? "ugt" : i % 3 == 1 ? "ugt/a" : "ugt/b",
		    i % 4 ? "openai" : "anthropic", i % 11 == 5 ? "zz-none" :
		    i % 4 ? (i % 2 ? "gpt-4o" : "gpt-4o-mini") :
		    "claude-sonnet-4", 6 + (i * 5) % 14, 1 + (i * 7) % 22,
		    (i * 13) % 60, users[i % 4], tags[(i / 2) % 5],
		    100 + i * 37, 10 + i * 11, i % 3 ? 0 : 50 + i);
	strcpy(p, "]");
	book(body);
	/* A repricing correction of a priced event with a user and tags,
	 * and of the unpriced one, priced by hand. */
	reprice_by_hand("('ugt-3', 'ugt-5')");
	/* Pass 0 with the months marked by the bookings (reports read
	 * the days), pass 1 once folded (the weeks and months whole in a
	 * window from their sums), pass 2 after one more booking and its
	 * correction following the fold: the sums of its week and of July
	 * are stale, its day's mark sends the reports to their days. */
	for (pass = 0; pass < 3; pass++)
	for (c = 0; c < 3; c++)
		for (g = 0; g < sizeof groups / sizeof groups[0]; g++)
			for (k = 0; k < sizeof grains / sizeof grains[0]; k++)
				for (w = 0; w < sizeof windows / sizeof windows[0];
				    w++) {
		char *a, *b;
		/* A user and a tag with a model have no rollup. */
		const char *src = strstr(groups[g], "model,user,tag") != NULL ?
		    "events" : "rollups";

		if (c == 0 && g == 0 && k == 0 && w == 0 && pass > 0)
			fold_or_book(pass);

		snprintf(path, sizeof path, "/v1/reports/spend?%s"
		    "group_by=%s%s%s", cc[c], groups[g], grains[k],
		    windows[w].days);
		snprintf(alt, sizeof alt, "/v1/reports/spend?%s"
		    "group_by=%s%s%s", cc[c], groups[g], grains[k],
		    windows[w].secs);
		a = rows_from(path, src);
		b = rows_from(alt, src);
		CHECK(a != NULL && b != NULL && strcmp(a, b) == 0,
		    "%s\n      days:  %.600s\n      edges: %.600s", path,
		    a != NULL ? a : "-", b != NULL ? b : "-");
		r = http("GET", alt, finance_key, NULL, NULL);
		CHECK(same_as_events(alt, r), "%s", alt);
		resp_free(r);
		same += a != NULL && b != NULL && strcmp(a, b) == 0;
		events += a != NULL && strstr(a, "\"events\":") != NULL;
		free(a);
		free(b);
	}
	CHECK(same == 3 * 3 * (int)(sizeof groups / sizeof groups[0]) * 4 * 4 &&
	    events == same, "%d same", same);
	/* What the groups cover: a NULL user, a NULL tag beside an empty
	 * one, the correction. */
	r = http("GET", "/v1/reports/spend?cost_center=ugt&group_by=user,"
	    "tag:team&from=2026-07-01T00:00:00Z", finance_key, NULL, NULL);
	CHECK(r->status == 200 && strstr(r->body, "\"user\":null") != NULL &&
	    strstr(r->body, "\"tag\":null") != NULL &&
	    strstr(r->body, "\"tag\":\"\"") != NULL, "%.600s", r->body);
	resp_free(r);

	/* A monthly sum set wrong by hand is found by verify while its
	 * month is folded, and nothing is once a day of it is marked (the
	 * reports read its days then). */
	CHECK(db_value("SELECT tg_fold_periods()") != NULL && db_exec(
	    "UPDATE usage_tag_cc_periods SET cost = cost + 1 WHERE grain = "
	    "'month' AND period = '2026-07-01' AND cost_center = 'ugt/a' AND "
	    "tag_key = 'team' AND tag_value = 'red'") == 0 && db_exec(
	    "UPDATE usage_user_tag_cc_periods SET events = events + 1 WHERE "
	    "grain = 'month' AND period = '2026-07-01' AND cost_center = "
	    "'ugt/b' AND user_id IS NULL AND tag_key = 'feature' AND "
	    "tag_value = 'search'") == 0, "%s", db_error());
	r = http("GET", "/v1/ledger/verify", admin_key, NULL, NULL);
	CHECK(r->status == 200 && json_is_false(json_object_get(r->json,
	    "ok")) && json_array_size(json_object_get(r->json,
	    "period_rollup_differences")) == 2 && strstr(r->body,
	    "\"usage_tag_cc_periods\"") != NULL && strstr(r->body,
	    "\"usage_user_tag_cc_periods\"") != NULL, "%.800s", r->body);
	resp_free(r);
	CHECK(db_exec("INSERT INTO usage_rollup_dirty VALUES ('2026-07-01')")
	    == 0, "%s", db_error());
	r = http("GET", "/v1/ledger/verify", admin_key, NULL, NULL);
	CHECK(json_array_size(json_object_get(r->json,
	    "period_rollup_differences")) == 0, "%.800s", r->body);
	resp_free(r);
	CHECK(db_value("SELECT tg_fold_periods()") != NULL, "%s", db_error());
	/* A rollup row set wrong by hand is found, then put back. */
	r = http("GET", "/v1/ledger/verify", admin_key, NULL, NULL);
	CHECK(r->status == 200 && json_is_true(json_object_get(r->json, "ok")) &&
	    json_array_size(json_object_get(r->json,
	    "user_rollup_differences")) == 0 && json_array_size(
	    json_object_get(r->json, "tag_rollup_differences")) == 0 &&
	    json_array_size(json_object_get(r->json,
	    "user_tag_rollup_differences")) == 0, "%.600s", r->body);
	resp_free(r);
	/* The rollup per user and tag against the events. */
	CHECK(db_exec("UPDATE usage_user_tag_cc_daily SET list_cost = "
	    "list_cost + 1 WHERE cost_center = 'ugt/b' AND user_id IS NULL AND "
	    "tag_key = 'feature' AND tag_value = 'search'") == 0, "%s",
	    db_error());
	r = http("GET", "/v1/ledger/verify", admin_key, NULL, NULL);
	CHECK(r->status == 200 && json_is_false(json_object_get(r->json,
	    "ok")) && json_array_size(json_object_get(r->json,
	    "user_tag_rollup_differences")) == strtoul(db_value("SELECT "
	    "count(*) FROM usage_user_tag_cc_daily WHERE cost_center = 'ugt/b' "
	    "AND user_id IS NULL AND tag_key = 'feature' AND tag_value = "
	    "'search'"), NULL, 10) && strstr(r->body, "\"user\":null") !=
	    NULL && json_array_size(json_object_get(r->json,
	    "user_tag_rollup_differences")) > 0, "%.800s", r->body);
	resp_free(r);
	CHECK(db_exec("UPDATE usage_user_tag_cc_daily SET list_cost = "
	    "list_cost - 1 WHERE cost_center = 'ugt/b' AND user_id IS NULL AND "
	    "tag_key = 'feature' AND tag_value = 'search'") == 0, "%s",
	    db_error());
	CHECK(db_exec("UPDATE usage_user_daily SET cost = cost + 1 WHERE "
	    "cost_center = 'ugt/a' AND user_id IS NULL") == 0 && db_exec(
	    "UPDATE usage_tag_daily SET quantities[1] = quantities[1] + 1 "
	    "WHERE cost_center = 'ugt/b' AND tag_key = 'feature' AND "
	    "tag_value = 'search'") == 0 && db_exec("UPDATE usage_hourly SET "
	    "events = events + 1 WHERE cost_center = 'ugt' AND hour = (SELECT "
	    "min(hour) FROM usage_hourly WHERE cost_center = 'ugt')") == 0,
	    "%s", db_error());
	r = http("GET", "/v1/ledger/verify", admin_key, NULL, NULL);
	CHECK(json_array_size(json_object_get(r->json,
	    "hourly_rollup_differences")) == 1, "%.800s", r->body);
	CHECK(r->status == 200 && json_is_false(json_object_get(r->json,
	    "ok")) && json_array_size(json_object_get(r->json,
	    "user_rollup_differences")) == strtoul(db_value("SELECT count(*) + "
	    "count(DISTINCT day) FROM usage_user_daily WHERE cost_center = "
	    "'ugt/a' AND user_id IS NULL"), NULL, 10) && json_array_size(
	    json_object_get(r->json, "tag_rollup_differences")) == strtoul(
	    db_value("SELECT count(*) + count(DISTINCT day) FROM "
	    "usage_tag_daily WHERE cost_center = 'ugt/b' AND tag_key = "
	    "'feature' AND tag_value = 'search'"), NULL, 10) &&
	    strstr(r->body, "\"user\":null") != NULL &&
	    strstr(r->body, "\"value\":\"search\"") != NULL, "%.800s", r->body);
	resp_free(r);
	CHECK(db_exec("UPDATE usage_user_daily SET cost = cost - 1 WHERE "
	    "cost_center = 'ugt/a' AND user_id IS NULL") == 0 && db_exec(
	    "UPDATE usage_tag_daily SET quantities[1] = quantities[1] - 1 "
	    "WHERE cost_center = 'ugt/b' AND tag_key = 'feature' AND "
	    "tag_value = 'search'") == 0 && db_exec("UPDATE usage_hourly SET "
	    "events = events - 1 WHERE cost_center = 'ugt' AND hour = (SELECT "
	    "min(hour) FROM usage_hourly WHERE cost_center = 'ugt')") == 0,
	    "%s", db_error());
	r = http("GET", "/v1/ledger/verify", admin_key, NULL, NULL);
	CHECK(json_is_true(json_object_get(r->json, "ok")), "%.600s", r->body);
	resp_free(r);
}

static int64_t
nanos_of(const char *s)
{
	int64_t v = 0;
	const char *why;

	if (ledger_money_parse(s, strlen(s), &v, &why) != 0)
		return INT64_MIN;
	return v;
}

/* Decimal string to an integer scaled by 10^digits (exactly). */
static __int128
scaled(const char *s, int digits)
{
	__int128 v = 0;
	int frac = -1, neg = *s == '-';

	for (s += neg; *s != '\0'; s++) {
		if (*s == '.') {
			frac = 0;
			continue;
		}
		v = v * 10 + (*s - '0');
		if (frac >= 0)
			frac++;
	}
	for (frac = frac < 0 ? 0 : frac; frac < digits; frac++)
		v *= 10;
	return neg ? -v : v;
}

enum { C_ACCOUNT, C_PSTART = 4, C_PEND, C_CLASS = 7, C_BILLED = 10,
	C_EFFECTIVE, C_LIST, C_LUP, C_CONTRACTED, C_CUP, C_CQTY = 17, C_CUNIT,
	C_PQTY, C_PUNIT, C_METER = 28, C_SUBACCOUNT, C_TAGS = 31, C_CC = 36,
	C_NCOLS = 40 };

static void
t_chargeback(void)
{
	static const char header[] = ITEST_FOCUS_HEADER;
	static char f[C_NCOLS + 1][ITEST_CSV_FIELD];
	char sql[512], out[128], cmd[1024], *file;
	const char *p;
	struct resp *r;
	int64_t total = 0, rpt_a = 0, nasty = 0;
	int n, rows = 0, corrections = 0, checked = 0;

	/* A cost center whose tags need quoting, and October usage on it. */
	r = http("POST", "/v1/cost-centers", admin_key, "{\"id\":\"rpt/q\","
	    "\"name\":\"Q, \\\"the\\\" team\",\"tags\":{\"note\":\"a,b "
	    "\\\"c\\\"\\nd\"}}", NULL);
	CHECK(r->status == 201, "%s", r->body);
	resp_free(r);
	r = http("POST", "/v1/usage", gateway_key, "{\"id\":\"rpt-q-1\","
	    "\"cost_center\":\"rpt/q\",\"provider\":\"openai\",\"model\":"
	    "\"gpt-4o\",\"occurred_at\":\"2026-10-15T10:00:00Z\",\"usage\":"
	    "{\"input_tokens\":1234,\"output_tokens\":567}}", NULL);
	resp_free(r);

	r = http("GET", "/v1/reports/chargeback?month=2026-10", finance_key,
	    NULL, NULL);
	CHECK(r->status == 200 && strncmp(r->ctype, "text/csv", 8) == 0,
	    "%ld %s", r->status, r->ctype);
	CHECK(strncmp(r->body, header, strlen(header)) == 0, "header: %.200s",
	    r->body);
	for (p = r->body + strlen(header); *p != '\0';) {
		if ((n = itest_csv_record(&p, f, C_NCOLS + 1)) != C_NCOLS) {
			CHECK(0, "row %d: %d fields near %.80s", rows, n, p);
			break;
		}
		rows++;
		CHECK(strcmp(f[C_BILLED], f[C_EFFECTIVE]) == 0 &&
		    strcmp(f[C_BILLED], f[C_CONTRACTED]) == 0, "costs differ");
		CHECK(strncmp(f[C_PSTART], "2026-10-", 8) == 0 &&
		    f[C_PSTART][strlen(f[C_PSTART]) - 1] == 'Z' &&
		    f[C_PEND][strlen(f[C_PEND]) - 1] == 'Z', "period %s",
		    f[C_PSTART]);
		if (f[C_LUP][0] != '\0') {
			/* ListCost = ListUnitPrice x PricingQuantity, to the
			 * nano-unit (1e18 x 1e6 scale down to 1e9). */
			__int128 prod = scaled(f[C_LUP], 18) *
			    scaled(f[C_PQTY], 6), q, rem;
			__int128 den = (__int128)1000000000000000LL;

			q = prod / den;
			rem = prod % den;
			if (2 * rem > den || (2 * rem == den && (q & 1)))
				q++;
			CHECK((int64_t)q == nanos_of(f[C_LIST]),
			    "ListCost %s != %s x %s", f[C_LIST], f[C_LUP],
			    f[C_PQTY]);
			CHECK(strcmp(f[C_CUNIT], "Tokens") != 0 ||
			    strcmp(f[C_PUNIT], "1000000 Tokens") == 0, "unit %s",
			    f[C_PUNIT]);
			CHECK(strcmp(f[C_CUNIT], "Tokens") != 0 ||
			    scaled(f[C_PQTY], 6) == scaled(f[C_CQTY], 0),
			    "PricingQuantity %s for %s tokens", f[C_PQTY],
			    f[C_CQTY]);
			checked++;
		}
		total += nanos_of(f[C_BILLED]);
		if (strcmp(f[C_CC], "rpt/a") == 0)
			rpt_a += nanos_of(f[C_BILLED]);
		if (strcmp(f[C_CC], "rpt/q") == 0) {
			nasty++;
			CHECK(strcmp(f[C_TAGS], db_value("SELECT tags::text FROM "
			    "cost_centers WHERE id = 'rpt/q'")) == 0,
			    "tags: %s", f[C_TAGS]);
		}
	}
	/* rpt/q: input, output and the request itself. */
	CHECK(rows > 10 && checked > 10 && nasty == 3, "%d rows, %d checked, "
	    "%lld on rpt/q", rows, checked, (long long)nasty);
	/* The month of every expense account in the ledger (usage,
	 * corrections and adjustments), and a cost center's balance. */
	CHECK(total == atoll(db_value("SELECT coalesce(sum(p.amount), 0) "
	    "FROM postings p JOIN accounts a ON a.id = p.account_id "
	    "WHERE a.name LIKE 'expense:%' AND p.occurred_at >= '2026-10-01Z' "
	    "AND p.occurred_at < '2026-11-01Z'")), "total %lld",
	    (long long)total);
	resp_free(r);
	r = http("GET", "/v1/ledger/balances?account=expense:rpt/a&from="
	    "2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z", finance_key, NULL,
	    NULL);
	snprintf(out, sizeof out, "%s", json_string_value(json_object_get(
	    json_array_get(json_object_get(r->json, "balances"), 0),
	    "balance")) ? json_string_value(json_object_get(json_array_get(
	    json_object_get(r->json, "balances"), 0), "balance")) : "?");
	CHECK(nanos_of(out) == rpt_a, "rpt/a: balance %s, chargeback %lld",
	    out, (long long)rpt_a);
	resp_free(r);

	/* September holds the repriced event: its correction is a row of
	 * its own. */
	r = http("GET", "/v1/reports/chargeback?month=2026-09", finance_key,
	    NULL, NULL);
	corrections = 0;
	for (p = r->body + strlen(header); r->status == 200 && *p != '\0';) {
		if (itest_csv_record(&p, f, C_NCOLS + 1) != C_NCOLS)
			break;
		if (strcmp(f[C_CLASS], "Correction") == 0 &&
		    strcmp(f[C_CC], "rpt") == 0 &&
		    strcmp(f[C_BILLED], "0.000001000") == 0 &&
		    strcmp(f[C_METER], "input") == 0 && f[C_CQTY][0] == '\0')
			corrections++;
	}
	CHECK(corrections == 1, "correction rows: %d", corrections);
	/* The command line writes the same file. */
	snprintf(sql, sizeof sql, "/tmp/tollgate-chargeback.%d.csv",
	    (int)getpid());
	snprintf(cmd, sizeof cmd, "%s report chargeback --month 2026-09 --out "
	    "%s", getenv("TG_CLI"), sql);
	CHECK(run_cmd(cmd, NULL, 0) == 0, "%s failed", cmd);
	file = itest_slurp(sql);
	CHECK(file != NULL && strcmp(file, r->body) == 0,
	    "the command line's file differs from the API's");
	free(file);
	unlink(sql);
	resp_free(r);
	r = http("GET", "/v1/reports/chargeback?month=2026-13", finance_key,
	    NULL, NULL);
	CHECK_ERR(r, 400, "invalid_parameter", "month");
	resp_free(r);
}

/* Spend rising by a known amount a day: the forecast finds the slope. */
static void
t_forecast(void)
{
	char body[512], at[LEDGER_TIME_BUFSZ];
	int64_t today = (int64_t)time(NULL) / 86400 * 86400 * 1000000LL;
	struct resp *r;
	int k;

	r = http("POST", "/v1/cost-centers", admin_key,
	    "{\"id\":\"fc\",\"name\":\"forecast\"}", NULL);
	resp_free(r);
	/* k days ago, 10 + (14 - k) input tokens at 2.5e-06: the cost
	 * rises by 0.0000025 a day. */
	for (k = 1; k <= 14; k++) {
		ledger_time_format(today - k * 86400LL * 1000000 + 43200LL * 1000000,
		    at);
		snprintf(body, sizeof body, "{\"id\":\"fc-%d\",\"cost_center\":"
		    "\"fc\",\"provider\":\"openai\",\"model\":\"gpt-4o\","
		    "\"occurred_at\":\"%s\",\"usage\":{\"input_tokens\":%d}}", k,
		    at, 10 + 14 - k);
		r = http("POST", "/v1/usage", gateway_key, body, NULL);
		CHECK(r->status == 200 && strstr(r->body, "recorded") != NULL,
		    "%s", r->body);
		resp_free(r);
	}
	r = http("GET", "/v1/reports/forecast?cost_center=fc", finance_key,
	    NULL, NULL);
	/* The last 7 days: 10 + 7 .. 10 + 13 tokens, 20 on average. */
	CHECK(r->status == 200 && strcmp(jstr(r, "trend_per_day"),
	    "0.000002500") == 0 && strcmp(jstr(r, "burn_rate_per_day"),
	    "0.000050000") == 0 && json_is_object(json_object_get(r->json,
	    "forecast_at_month_end")), "%s", r->body);
	resp_free(r);
	r = http("GET", "/v1/reports/forecast", finance_key, NULL, NULL);
	CHECK_ERR(r, 400, "missing_parameter", "cost_center");
	resp_free(r);
}

/* A string member of row i, or "". */
static const char *
row_str(json_t *rows, size_t i, const char *k)
{
	const char *v = json_string_value(json_object_get(json_array_get(rows,
	    i), k));

	return v != NULL ? v : "";
}

/* A provider's export beside the ledger, per day x model. */
static void
t_reconcile(void)
{
	static const char *const ev[] = {
	    "{\"id\":\"rc-1\",\"cost_center\":\"rc\",\"provider\":\"openai\","
	    "\"model\":\"gpt-4o\",\"occurred_at\":\"2026-10-20T08:00:00Z\","
	    "\"usage\":{\"input_tokens\":1000,\"output_tokens\":200}}",
	    "{\"id\":\"rc-2\",\"cost_center\":\"rc\",\"provider\":\"openai\","
	    "\"model\":\"gpt-4o-mini\",\"occurred_at\":\"2026-10-21T08:00:00Z\","
	    "\"usage\":{\"input_tokens\":500,\"output_tokens\":100}}" };
	const char *csv = "Date,Model,Input_Tokens,Output_Tokens,Cost\r\n"
	    "2026-10-20,gpt-4o,600,200,0.003\r\n"
	    "2026-10-20T00:00:00Z,gpt-4o,400,,0.0015\r\n"
	    "2026-10-21,gpt-4o-mini,500,100,0.0009\r\n"
	    "2026-10-22,\"o3\",10,10,0.01\r\n";
	json_t *rows;
	struct resp *r;
	const char *mini;
	size_t i;

	r = http("POST", "/v1/cost-centers", admin_key,
	    "{\"id\":\"rc\",\"name\":\"reconcile\"}", NULL);
	resp_free(r);
	for (i = 0; i < 2; i++) {
		r = http("POST", "/v1/usage", gateway_key, ev[i], NULL);
		CHECK(r->status == 200, "%s", r->body);
		resp_free(r);
	}
	mini = db_value("SELECT sum(cost) FROM usage_events WHERE provider = "
	    "'openai' AND model = 'gpt-4o-mini' AND occurred_at >= '2026-10-21Z' "
	    "AND occurred_at < '2026-10-22Z'");
	r = http("POST", "/v1/reconcile?provider=openai", finance_key, csv,
	    NULL);
	rows = json_object_get(r->json, "rows");
	CHECK(r->status == 200 && json_array_size(rows) == 3, "%s", r->body);
	/* The two lines of one day and model are summed, and match. */
	CHECK(strcmp(row_str(rows, 0, "difference"), "0.000000000") == 0 &&
	    json_integer_value(json_object_get(json_object_get(json_array_get(
	    rows, 0), "provider_tokens"), "input_tokens")) == 1000 &&
	    json_integer_value(json_object_get(json_object_get(json_array_get(
	    rows, 0), "ledger_tokens"), "input_tokens")) == 1000, "%s", r->body);
	/* gpt-4o-mini: 500 x 1.5e-07 + 100 x 6e-07 in the ledger. */
	CHECK(mini != NULL && strcmp(mini, "135000") == 0 &&
	    strcmp(row_str(rows, 1, "ledger_cost"), "0.000135000") == 0 &&
	    strcmp(row_str(rows, 1, "difference"), "0.000765000") == 0, "%s",
	    r->body);
	CHECK(strcmp(row_str(rows, 2, "ledger_cost"), "0.000000000") == 0 &&
	    json_integer_value(
	    json_object_get(json_object_get(r->json, "total"),
	    "rows_differing")) == 2, "%s", r->body);
	resp_free(r);
	r = http("POST", "/v1/reconcile?provider=openai", finance_key,
	    "date,model,tokens\n2026-10-20,gpt-4o,5\n", NULL);
	CHECK_ERR(r, 400, "invalid_body", "cost");
	resp_free(r);
	r = http("POST", "/v1/reconcile?provider=openai", finance_key,
	    "date,model,cost\n2026-10-20,gpt-4o,lots\n", NULL);
	CHECK_ERR(r, 400, "invalid_body", "line 2");
	resp_free(r);
}

/* Recommendations on a seeded workload: cheaper models whose cost the
 * quote endpoint confirms, caching, and billed failures. */
static void
t_recommendations(void)
{
	static const char *const ev[] = {
	    "{\"id\":\"rec-1\",\"cost_center\":\"rec\",\"provider\":\"openai\","
	    "\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":1000,"
	    "\"output_tokens\":200}}",
	    "{\"id\":\"rec-2\",\"cost_center\":\"rec\",\"provider\":\"openai\","
	    "\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":1000,"
	    "\"output_tokens\":200}}",
	    "{\"id\":\"rec-3\",\"cost_center\":\"rec\",\"provider\":\"openai\","
	    "\"model\":\"gpt-4o\",\"status\":\"error\",\"usage\":"
	    "{\"input_tokens\":100}}" };
	char body[256];
	json_t *recs, *x;
	struct resp *r, *q;
	size_t i;
	int cheaper = 0, caching = 0, failed = 0;
	int64_t cost, alt, saving;

	r = http("POST", "/v1/cost-centers", admin_key,
	    "{\"id\":\"rec\",\"name\":\"recommend\"}", NULL);
	resp_free(r);
	for (i = 0; i < 3; i++) {
		r = http("POST", "/v1/usage", gateway_key, ev[i], NULL);
		CHECK(r->status == 200, "%s", r->body);
		resp_free(r);
	}
	r = http("GET", "/v1/reports/recommendations", finance_key, NULL, NULL);
	CHECK(r->status == 200, "%s", r->body);
	recs = json_object_get(r->json, "recommendations");
	json_array_foreach(recs, i, x) {
		const char *kind = json_string_value(json_object_get(x, "kind"));

		if (strcmp(json_string_value(json_object_get(x, "cost_center")),
		    "rec") != 0)
			continue;
		if (strcmp(kind, "failed_calls_cost") == 0)
			failed += strcmp(json_string_value(json_object_get(x,
			    "saving")), "0.000250000") == 0;
		if (strcmp(kind, "prompt_caching") == 0)
			caching += strcmp(json_string_value(json_object_get(x,
			    "saving")), "0.001312500") == 0;
		if (strcmp(kind, "cheaper_model") != 0)
			continue;
		/* The same mix quoted on the alternative costs what it says. */
		snprintf(body, sizeof body, "{\"provider\":\"openai\",\"model\":"
		    "\"%s\",\"usage\":{\"input_tokens\":2100,\"output_tokens\":400,"
		    "\"requests\":3}}", json_string_value(json_object_get(
		    json_object_get(x, "detail"), "alternative")));
		q = http("POST", "/v1/quote", gateway_key, body, NULL);
		cost = nanos_of(json_string_value(json_object_get(json_object_get(
		    x, "evidence"), "cost")));
		alt = nanos_of(json_string_value(json_object_get(json_object_get(
		    x, "detail"), "alternative_cost")));
		saving = nanos_of(json_string_value(json_object_get(x, "saving")));
		CHECK(q->status == 200 && nanos_of(jstr(q, "cost")) == alt &&
		    saving == cost - alt && saving > 0, "%s / %s", body, q->body);
		resp_free(q);
		cheaper++;
	}
	CHECK(cheaper >= 1 && caching == 1 && failed == 1,
	    "cheaper %d, caching %d, failed %d: %.600s", cheaper, caching,
	    failed, r->body);
	resp_free(r);
}

/*
 * Calls at least the latency threshold long, on a model whose price table
 * has a batch tier: the saving is what those calls would have cost at
 * the batch rates. gpt-4o in the LiteLLM snapshot: input 2.5e-06 and
 * output 1e-05 per token standard, 1.25e-06 and 5e-06 at the batch tier.
 */
static void
t_recommend_batch(void)
{
	static const struct { const char *id; long in, out, latency; } ev[] = {
		{ "recb-1", 1000, 200, 20000 },	/* 0.0045, batch 0.00225 */
		{ "recb-2", 1000, 200, 10000 },	/* at the threshold: slow */
		{ "recb-3", 2000, 100, 500 },	/* 0.006, fast */
	};
	static const struct { const char *query; const char *saving, *cost;
	    long calls, threshold; } want[] = {
		/* Default 10 s: the first two, 2 x (0.0045 - 0.00225). */
		{ "", "0.004500000", "0.009000000", 2, 10000 },
		/* 400 ms: all three; the third 0.006 - (0.0025 + 0.0005). */
		{ "?batch_latency_ms=400", "0.007500000", "0.015000000", 3, 400 },
		/* 15 s: the first only. */
		{ "?batch_latency_ms=15000", "0.002250000", "0.004500000", 1,
		  15000 },
		/* Longer than every call: nothing to batch. */
		{ "?batch_latency_ms=60000", NULL, NULL, 0, 60000 },
	};
	char body[512];
	struct resp *r;
	json_t *x;
	size_t i, k;
	int found;

	r = http("POST", "/v1/cost-centers", admin_key,
	    "{\"id\":\"rec-batch\",\"name\":\"batch\"}", NULL);
	resp_free(r);
	for (i = 0; i < sizeof ev / sizeof ev[0]; i++) {
		snprintf(body, sizeof body, "{\"id\":\"%s\",\"cost_center\":"
		    "\"rec-batch\",\"provider\":\"openai\",\"model\":"
		    "\"gpt-4o\",\"latency_ms\":%ld,\"usage\":{\"input_tokens\":"
		    "%ld,\"output_tokens\":%ld}}", ev[i].id, ev[i].latency,
		    ev[i].in, ev[i].out);
		r = http("POST", "/v1/usage", gateway_key, body, NULL);
		CHECK(r->status == 200 && strstr(r->body, "recorded") != NULL,
		    "%s", r->body);
		resp_free(r);
	}
	/* The batch tier's prices, as the price table states them. */
	r = http("GET", "/v1/prices?provider=openai&model=gpt-4o", finance_key,
	    NULL, NULL);
	CHECK(r->status == 200 && strstr(r->body, "\"batch\"") != NULL,
	    "gpt-4o has no batch tier: %.400s", r->body);
	resp_free(r);
	for (k = 0; k < sizeof want / sizeof want[0]; k++) {
		snprintf(body, sizeof body, "/v1/reports/recommendations%s",
		    want[k].query);
		r = http("GET", body, finance_key, NULL, NULL);
		CHECK(r->status == 200, "%s: %s", body, r->body);
		found = 0;
		json_array_foreach(json_object_get(r->json, "recommendations"),
		    i, x) {
			json_t *e = json_object_get(x, "evidence");

			if (strcmp(json_string_value(json_object_get(x,
			    "cost_center")), "rec-batch") != 0 ||
			    strcmp(json_string_value(json_object_get(x, "kind")),
			    "batch_tier") != 0)
				continue;
			found++;
			CHECK(want[k].saving != NULL && strcmp(json_string_value(
			    json_object_get(x, "saving")), want[k].saving) == 0 &&
			    strcmp(json_string_value(json_object_get(x, "model")),
			    "gpt-4o") == 0 && json_integer_value(json_object_get(e,
			    "slow_calls")) == want[k].calls &&
			    strcmp(json_string_value(json_object_get(e,
			    "slow_calls_cost")), want[k].cost) == 0 &&
			    json_integer_value(json_object_get(e,
			    "latency_threshold_ms")) == want[k].threshold,
			    "%s: want saving %s on %ld calls, got %s", body,
			    want[k].saving ? want[k].saving : "none", want[k].calls,
			    json_string_value(json_object_get(x, "saving")));
		}
		CHECK(found == (want[k].saving != NULL), "%s: %d batch_tier "
		    "recommendations: %.600s", body, found, r->body);
		resp_free(r);
	}
}

/* Bad report parameters: 400 with a stable code and the parameter. */
static void
t_report_bad_params(void)
{
	static const struct { const char *path, *code, *field; } bad[] = {
		{ "/v1/reports/recommendations?batch_latency_ms=abc",
		  "invalid_parameter", "batch_latency_ms" },
		{ "/v1/reports/recommendations?batch_latency_ms=-1",
		  "invalid_parameter", "batch_latency_ms" },
		{ "/v1/reports/recommendations?batch_latency_ms=1e3",
		  "invalid_parameter", "batch_latency_ms" },
		{ "/v1/reports/recommendations?batch_latency_ms=",
		  "invalid_parameter", "batch_latency_ms" },
		{ "/v1/reports/recommendations?batch_latency_ms=10000000000",
		  "invalid_parameter", "batch_latency_ms" },
		{ "/v1/reports/recommendations?from=yesterday",
		  "invalid_parameter", "from" },
		{ "/v1/reports/recommendations?to=2026-13-01T00:00:00Z",
		  "invalid_parameter", "to" },
		{ "/v1/reports/recommendations?from=2026-10-02T00:00:00Z"
		  "&to=2026-10-01T00:00:00Z", "invalid_parameter", "to" },
		{ "/v1/reports/recommendations?latency=5",
		  "unknown_parameter", "latency" },
		{ "/v1/reports/recommendations?batch_latency_ms=5"
		  "&batch_latency_ms=6", "duplicate_parameter",
		  "batch_latency_ms" },
		{ "/v1/reports/chargeback?month=2026-10&grain=bogus",
		  "invalid_parameter", NULL },
	};
	struct resp *r;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = http("GET", bad[i].path, finance_key, NULL, NULL);
		CHECK_ERR(r, 400, bad[i].code, bad[i].field);
		if (r->status != 400)
			fprintf(stderr, "    (%s)\n", bad[i].path);
		resp_free(r);
	}
}

/*
 * A report that reads the events themselves and runs out of time says
 * so, and what to change (422 report_too_large), rather than "retry
 * later": it would run out again. Here the events are locked away for
 * longer than the statement timeout; a report from the rollups still
 * answers meanwhile.
 */
static void
t_spend_events_timeout(void)
{
	PGconn *c = PQconnectdb(getenv("TOLLGATE_DATABASE_URL"));
	PGresult *res;
	struct resp *r;

	CHECK(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	res = PQexec(c, "BEGIN; LOCK TABLE usage_events IN ACCESS EXCLUSIVE "
	    "MODE");
	CHECK(PQresultStatus(res) == PGRES_COMMAND_OK, "%s",
	    PQerrorMessage(c));
	PQclear(res);
	r = http("GET", "/v1/reports/spend?from=2026-10-01T00:00:00Z&to="
	    "2026-10-03T00:00:00Z&group_by=provider,model,user,tag:team",
	    finance_key, NULL, NULL);
	CHECK_ERR(r, 422, "report_too_large", "group_by");
	resp_free(r);
	r = http("GET", "/v1/reports/spend?from=2026-10-01T00:00:00Z&to="
	    "2026-10-03T00:00:00Z&group_by=user,tag:team&granularity=hour",
	    finance_key, NULL, NULL);
	CHECK_ERR(r, 422, "report_too_large", "granularity");
	resp_free(r);
	r = http("GET", "/v1/reports/spend?from=2026-10-01T00:00:00Z&to="
	    "2026-10-03T00:00:00Z&group_by=cost_center,user,tag:team"
	    "&granularity=day", finance_key, NULL, NULL);
	CHECK(r->status == 200 && strcmp(jstr(r, "source"), "rollups") == 0,
	    "from the rollups: %ld %s", r->status, r->body);
	resp_free(r);
	r = http("GET", "/v1/reports/spend?from=2026-10-01T00:00:00Z&to="
	    "2026-10-03T00:00:00Z&group_by=user&granularity=hour", finance_key,
	    NULL, NULL);
	CHECK_ERR(r, 422, "report_too_large", "granularity");
	resp_free(r);
	r = http("GET", "/v1/reports/spend?from=2026-10-01T00:00:00Z&to="
	    "2026-10-03T00:00:00Z&group_by=user", finance_key, NULL, NULL);
	CHECK(r->status == 200, "from the rollups: %ld %s", r->status,
	    r->body);
	resp_free(r);
	PQclear(PQexec(c, "ROLLBACK"));
	PQfinish(c);
}

const struct itest report_tests[] = {
	{ "recommendations: cheaper models, caching, billed failures, each "
	  "with its evidence", t_recommendations },
	{ "recommendations: slow calls priced at the batch tier, by the "
	  "latency threshold", t_recommend_batch },
	{ "bad recommendations and chargeback parameters: 400 with the "
	  "parameter", t_report_bad_params },
	{ "a provider's export is set beside the ledger per day and model",
	  t_reconcile },
	{ "a forecast finds the slope of spend rising by a known amount",
	  t_forecast },
	{ "spend reports equal the postings for every grouping and window",
	  t_spend_vs_postings },
	{ "spend quantities read the same from the rollups and the events",
	  t_spend_quantities },
	{ "spend over windows cut inside days and hours: the rollups and "
	  "their edges answer what the events do", t_spend_edges },
	{ "spend by user and by tag reads the same from their rollups and "
	  "the events, and verify checks those rollups",
	  t_spend_user_tag_rollups },
	{ "a spend report that reads the events and runs out of time says "
	  "what to change", t_spend_events_timeout },
	{ "the chargeback CSV: FOCUS header, row invariants, ledger totals, "
	  "quoting, corrections, the command line", t_chargeback },
	{ NULL, NULL }
};
