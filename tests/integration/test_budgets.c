/*
 * test_budgets.c - budgets and decisions against the real server: the
 * budget API and its audit trail, allow / throttle / pause with the strict
 * ceiling, reservations settled, released, expired and kept across a
 * restart, bad input, concurrent callers against a small hard cap, and
 * PostgreSQL going away.
 *
 * Prices are the LiteLLM snapshot imported by the price tests (in force
 * from 2026-01-01): gpt-4o at 2.5e-06 per input and 1e-05 per output
 * token, so 1000 input tokens and 2000 output tokens cost 0.0225.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "tests/integration/itest.h"

#define ASK(cc, extra) "{\"cost_center\":\"" cc "\",\"provider\":\"openai\"," \
	"\"model\":\"gpt-4o\",\"estimate\":{\"input_tokens\":1000," \
	"\"max_output_tokens\":2000}" extra "}"

static void
cost_center(const char *id)
{
	char body[256];
	struct resp *r;

	snprintf(body, sizeof body, "{\"id\":\"%s\",\"name\":\"%s\"}", id, id);
	r = http("POST", "/v1/cost-centers", admin_key, body, NULL);
	CHECK(r->status == 201 || r->status == 409, "%s: %s", id, r->body);
	resp_free(r);
}

/* Create a budget; its id into id. */
static void
budget(const char *body, char *id, size_t idsz)
{
	struct resp *r = http("POST", "/v1/budgets", admin_key, body, NULL);

	CHECK(r->status == 201, "%ld %s", r->status, r->body);
	snprintf(id, idsz, "%s", jstr(r, "id"));
	resp_free(r);
}

static struct resp *
authorize(const char *body)
{
	return http("POST", "/v1/authorize", gateway_key, body, NULL);
}

/* A member of the reply's "status" object (a budget's state). */
static const char *
status_of(const char *budget_id, const char *field)
{
	static char out[64];
	char path[64];
	struct resp *r;

	snprintf(path, sizeof path, "/v1/budgets/%s", budget_id);
	r = http("GET", path, admin_key, NULL, NULL);
	snprintf(out, sizeof out, "%s", json_string_value(json_object_get(
	    json_object_get(r->json, "status"), field)) != NULL ?
	    json_string_value(json_object_get(json_object_get(r->json,
	    "status"), field)) : "?");
	resp_free(r);
	return out;
}

static int
usage(const char *id, const char *cc, const char *rsv, long output)
{
	char body[512];
	struct resp *r;
	int ok;

	snprintf(body, sizeof body, "{\"id\":\"%s\",\"cost_center\":\"%s\","
	    "\"provider\":\"openai\",\"model\":\"gpt-4o\"%s%s%s,\"usage\":"
	    "{\"input_tokens\":1000,\"output_tokens\":%ld}}", id, cc,
	    rsv ? ",\"reservation_id\":\"" : "", rsv ? rsv : "", rsv ? "\"" : "",
	    output);
	r = http("POST", "/v1/usage", gateway_key, body, NULL);
	ok = r->status == 200 && strstr(r->body, "\"recorded\"") != NULL;
	CHECK(ok, "usage %s: %ld %s", id, r->status, r->body);
	resp_free(r);
	return ok;
}

static void
t_budget_api(void)
{
	static const struct { const char *body, *code, *field; } bad[] = {
		{ "{\"name\":\"x\",\"scope\":{\"cost_center\":\"bt\"},"
		  "\"period\":\"month\"}", "missing_field", "amount" },
		{ "{\"name\":\"x\",\"scope\":{\"cost_center\":\"bt\"},"
		  "\"period\":\"fortnight\",\"amount\":\"1\"}", "invalid_field",
		  "period" },
		{ "{\"name\":\"x\",\"scope\":{\"cost_center\":\"bt\"},"
		  "\"period\":\"day\",\"time_zone\":\"Mars/Base\",\"amount\":\"1\"}",
		  "invalid_field", "time_zone" },
		{ "{\"name\":\"x\",\"scope\":{\"cost_center\":\"nope\"},"
		  "\"period\":\"day\",\"amount\":\"1\"}", "unknown_cost_center",
		  "scope.cost_center" },
		{ "{\"name\":\"x\",\"scope\":{\"cost_center\":\"bt\"},"
		  "\"period\":\"day\",\"amount\":\"-1\"}", "invalid_field",
		  "amount" },
		{ "{\"name\":\"x\",\"scope\":{\"cost_center\":\"bt\"},"
		  "\"period\":\"day\",\"amount\":1}", "invalid_field", "amount" },
		{ "{\"name\":\"x\",\"scope\":{\"cost_center\":\"bt\",\"team\":1},"
		  "\"period\":\"day\",\"amount\":\"1\"}", "unknown_field",
		  "scope.team" },
		{ "{\"name\":\"x\",\"scope\":{\"cost_center\":\"bt\"},"
		  "\"period\":\"day\",\"amount\":\"1\",\"thresholds\":[0.5,\"x\"]}",
		  "invalid_field", "thresholds" },
		{ "{\"name\":\"x\",\"scope\":{\"cost_center\":\"bt\"},"
		  "\"period\":\"day\",\"amount\":\"1\",\"mode\":\"firm\"}",
		  "invalid_field", "mode" },
		{ "{\"name\":\"x\",\"scope\":{\"cost_center\":\"bt\"},"
		  "\"period\":\"day\",\"amount\":\"1\",\"rate_limits\":"
		  "{\"tokens_per_minute\":-5}}", "invalid_field",
		  "rate_limits.tokens_per_minute" },
	};
	long long before = db_count("budgets");
	char id[32], path[64], sql[512];
	struct resp *r;
	size_t i;

	cost_center("bt");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = http("POST", "/v1/budgets", admin_key, bad[i].body, NULL);
		CHECK_ERR(r, 400, bad[i].code, bad[i].field);
		resp_free(r);
	}
	CHECK(db_count("budgets") == before, "a refused budget was written");
	r = http("POST", "/v1/budgets", gateway_key, "{}", NULL);
	CHECK(r->status == 403, "a gateway key made a budget: %ld", r->status);
	resp_free(r);

	budget("{\"name\":\"bt monthly\",\"scope\":{\"cost_center\":\"bt\","
	    "\"tags\":{\"env\":\"prod\"}},\"period\":\"month\",\"time_zone\":"
	    "\"Europe/Berlin\",\"amount\":\"10\",\"thresholds\":[0.5,0.8,1],"
	    "\"rate_limits\":{\"cost_per_minute\":\"0.5\"}}", id, sizeof id);
	snprintf(path, sizeof path, "/v1/budgets/%s", id);
	r = http("GET", path, finance_key, NULL, NULL);
	CHECK(r->status == 200 && strcmp(jstr(r, "amount"), "10.000000000") == 0 &&
	    strcmp(jstr(r, "mode"), "hard") == 0 &&
	    strcmp(jstr(r, "reserve"), "strict") == 0 &&
	    strcmp(jstr(r, "on_database_unavailable"), "fail_closed") == 0,
	    "%s", r->body);
	/* November in Berlin: from Oct 31 23:00 UTC. */
	CHECK(strcmp(status_of(id, "period_start"), "2026-10-31T23:00:00Z") == 0 ||
	    time(NULL) > 1796079600, "period_start %s", status_of(id,
	    "period_start"));
	resp_free(r);
	r = http("PATCH", path, admin_key, "{\"amount\":\"20.5\",\"scope\":"
	    "{\"user\":\"alice\"}}", NULL);
	CHECK(r->status == 200 && strcmp(jstr(r, "amount"), "20.500000000") == 0 &&
	    strcmp(json_string_value(json_object_get(json_object_get(r->json,
	    "scope"), "user")), "alice") == 0, "%s", r->body);
	resp_free(r);
	r = http("PATCH", path, admin_key, "{\"period\":\"hour\"}", NULL);
	CHECK_ERR(r, 400, "invalid_field", "period");
	resp_free(r);
	r = http("GET", "/v1/budgets", admin_key, NULL, NULL);
	CHECK(r->status == 200 && strstr(r->body, "\"bt monthly\"") != NULL,
	    "%s", r->body);
	resp_free(r);
	r = http("DELETE", path, admin_key, NULL, NULL);
	CHECK(r->status == 200 && json_is_true(json_object_get(r->json,
	    "deleted")), "%s", r->body);
	resp_free(r);
	r = http("GET", path, admin_key, NULL, NULL);
	CHECK_ERR(r, 404, "unknown_budget", NULL);
	resp_free(r);
	r = http("PATCH", path, admin_key, "{\"amount\":\"1\"}", NULL);
	CHECK_ERR(r, 404, "unknown_budget", NULL);
	resp_free(r);
	/* Every change is in the audit log with its key, before and after. */
	snprintf(sql, sizeof sql, "SELECT string_agg(action || ':' || "
	    "coalesce(before ->> 'amount', '-') || '>' || (after ->> 'amount') "
	    "|| ':' || (key_id IS NOT NULL), ',' ORDER BY id) FROM audit_log "
	    "WHERE entity = 'budget' AND entity_id = '%s'", id);
	CHECK(strcmp(db_value(sql), "create:->10000000000:true,"
	    "update:10000000000>20500000000:true,"
	    "delete:20500000000>20500000000:true") == 0, "audit: %s",
	    db_value(sql));
}

/* Allow, the strict ceiling, throttle, settle, release, overshoot,
 * pause; and a chain where the department is full. */
static void
t_decisions(void)
{
	char id[32], dept[32], rsv1[40], rsv2[40], rsv3[40], path[96];
	struct resp *r;

	cost_center("bt");
	cost_center("bt/dec");
	budget("{\"name\":\"dec\",\"scope\":{\"cost_center\":\"bt/dec\"},"
	    "\"period\":\"total\",\"amount\":\"0.05\"}", id, sizeof id);
	r = authorize(ASK("bt/dec", ""));
	CHECK(strcmp(jstr(r, "decision"), "allow") == 0 &&
	    strcmp(jstr(r, "reserved"), "0.022500000") == 0, "%s", r->body);
	snprintf(rsv1, sizeof rsv1, "%s", jstr(r, "reservation_id"));
	resp_free(r);
	/* A retry with the same request id gets the same hold. */
	r = authorize(ASK("bt/dec", ",\"request_id\":\"q-1\""));
	snprintf(rsv2, sizeof rsv2, "%s", jstr(r, "reservation_id"));
	resp_free(r);
	r = authorize(ASK("bt/dec", ",\"request_id\":\"q-1\""));
	CHECK(strcmp(jstr(r, "reservation_id"), rsv2) == 0 &&
	    strcmp(rsv1, rsv2) != 0, "%s", r->body);
	resp_free(r);
	CHECK(strcmp(status_of(id, "held"), "0.045000000") == 0, "held %s",
	    status_of(id, "held"));
	/* 0.005 left: 250 output tokens fit (0.0025 + 250 x 1e-05). */
	r = authorize(ASK("bt/dec", ""));
	CHECK(strcmp(jstr(r, "decision"), "allow") == 0 &&
	    json_integer_value(json_object_get(r->json, "max_output_tokens")) ==
	    250 && strcmp(jstr(r, "reserved"), "0.005000000") == 0, "%s",
	    r->body);
	snprintf(rsv3, sizeof rsv3, "%s", jstr(r, "reservation_id"));
	resp_free(r);
	r = authorize(ASK("bt/dec", ""));
	CHECK(strcmp(jstr(r, "decision"), "throttle") == 0 &&
	    strcmp(jstr(r, "reason"), "room_held_by_inflight") == 0 &&
	    json_integer_value(json_object_get(r->json, "retry_after_ms")) > 0 &&
	    strcmp(json_string_value(json_object_get(json_object_get(r->json,
	    "budget"), "id")), id) == 0, "%s", r->body);
	resp_free(r);
	/* Settled below the hold: 1000 in + 100 out = 0.0035. */
	usage("bt-dec-1", "bt/dec", rsv1, 100);
	CHECK(strcmp(status_of(id, "spent"), "0.003500000") == 0 &&
	    strcmp(status_of(id, "held"), "0.027500000") == 0, "spent %s",
	    status_of(id, "spent"));
	/* Released: the room returns; releasing again is harmless. */
	snprintf(path, sizeof path, "/v1/reservations/%s/release", rsv2);
	r = http("POST", path, gateway_key, NULL, NULL);
	CHECK(r->status == 200 && strcmp(jstr(r, "state"), "released") == 0,
	    "%s", r->body);
	resp_free(r);
	r = http("POST", path, gateway_key, NULL, NULL);
	CHECK(r->status == 200, "%s", r->body);
	resp_free(r);
	CHECK(strcmp(status_of(id, "held"), "0.005000000") == 0, "held %s",
	    status_of(id, "held"));
	/* A retry after its hold ended is refused, never allowed unheld. */
	r = authorize(ASK("bt/dec", ",\"request_id\":\"q-1\""));
	CHECK_ERR(r, 409, "reservation_ended", "request_id");
	resp_free(r);
	/* Settled above the hold (the caller ignored the ceiling): booked
	 * in full and counted. */
	usage("bt-dec-2", "bt/dec", rsv3, 500);
	CHECK(strcmp(status_of(id, "spent"), "0.011000000") == 0 &&
	    strcmp(status_of(id, "held"), "0.000000000") == 0 &&
	    strcmp(status_of(id, "overshoot"), "0.002500000") == 0,
	    "spent %s", status_of(id, "spent"));
	snprintf(path, sizeof path, "/v1/reservations/%s/release", rsv3);
	r = http("POST", path, gateway_key, NULL, NULL);
	CHECK_ERR(r, 409, "reservation_ended", NULL);
	resp_free(r);
	r = http("GET", "/metrics", admin_key, NULL, NULL);
	CHECK(strstr(r->body, "tollgate_reservation_overshoot_total 1") != NULL,
	    "metrics: no overshoot counted");
	resp_free(r);
	/* Spent without a reservation, up to the cap: pause. */
	usage("bt-dec-3", "bt/dec", NULL, 3600);	/* 0.0385 */
	r = authorize(ASK("bt/dec", ""));
	CHECK(strcmp(jstr(r, "decision"), "pause") == 0 &&
	    strcmp(jstr(r, "reason"), "budget_exhausted") == 0, "%s", r->body);
	resp_free(r);
	/* 0.0005 left at 0.0495 a day: it runs out in about 15 minutes. */
	snprintf(path, sizeof path, "/v1/budgets/%s", id);
	r = http("GET", path, admin_key, NULL, NULL);
	CHECK(json_is_string(json_object_get(json_object_get(r->json,
	    "status"), "run_out_at")), "run_out_at: %s", r->body);
	resp_free(r);

	/* The project has room, the department does not. */
	cost_center("bt/proj");
	budget("{\"name\":\"dept\",\"scope\":{\"cost_center\":\"bt\"},"
	    "\"period\":\"total\",\"amount\":\"0.05\"}", dept, sizeof dept);
	budget("{\"name\":\"proj\",\"scope\":{\"cost_center\":\"bt/proj\"},"
	    "\"period\":\"total\",\"amount\":\"100\"}", id, sizeof id);
	r = authorize(ASK("bt/proj", ""));
	CHECK(strcmp(jstr(r, "decision"), "pause") == 0 &&
	    strcmp(json_string_value(json_object_get(json_object_get(r->json,
	    "budget"), "id")), dept) == 0, "%s", r->body);
	resp_free(r);
	/* A soft budget never stops a call. */
	snprintf(path, sizeof path, "/v1/budgets/%s", dept);
	r = http("PATCH", path, admin_key, "{\"mode\":\"soft\"}", NULL);
	resp_free(r);
	r = authorize(ASK("bt/proj", ""));
	CHECK(strcmp(jstr(r, "decision"), "allow") == 0, "%s", r->body);
	snprintf(path, sizeof path, "/v1/reservations/%s/release",
	    jstr(r, "reservation_id"));
	resp_free(r);
	r = http("POST", path, gateway_key, NULL, NULL);
	resp_free(r);
}

/* A reservation vanishes at its TTL and its room returns; one still
 * held survives a restart, and is settled after it. */
static void
t_expiry_and_restart(void)
{
	char id[32], rsv[40], first[40], path[96], sql[256];
	struct resp *r;
	double t0;
	int gone = 0;

	cost_center("bt");
	cost_center("bt/ttl");
	budget("{\"name\":\"ttl\",\"scope\":{\"cost_center\":\"bt/ttl\"},"
	    "\"period\":\"day\",\"amount\":\"1\"}", id, sizeof id);
	r = authorize(ASK("bt/ttl", ",\"reservation_ttl_s\":1"));
	CHECK(strcmp(jstr(r, "decision"), "allow") == 0, "%s", r->body);
	snprintf(first, sizeof first, "%s", jstr(r, "reservation_id"));
	resp_free(r);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM reservation_log_holds "
	    "WHERE id = '%s'", first);
	(void)db_wait(sql, "1");
	CHECK(strcmp(db_value(sql), "1") == 0, "the hold was not logged");
	snprintf(path, sizeof path, "/v1/reservations?budget=%s", id);
	for (t0 = now_s(); now_s() - t0 < 10 && !gone;) {
		r = http("GET", path, admin_key, NULL, NULL);
		gone = json_array_size(json_object_get(r->json,
		    "reservations")) == 0;
		resp_free(r);
		if (!gone)
			usleep(50000);
	}
	CHECK(gone, "the reservation did not expire within 10 s");
	CHECK(strcmp(status_of(id, "held"), "0.000000000") == 0, "held %s",
	    status_of(id, "held"));

	r = authorize(ASK("bt/ttl", ""));
	snprintf(rsv, sizeof rsv, "%s", jstr(r, "reservation_id"));
	resp_free(r);
	CHECK(server_stop() == 0, "the server did not stop cleanly");
	CHECK(server_start() == 0, "the server did not start again");
	CHECK(strcmp(status_of(id, "held"), "0.022500000") == 0,
	    "after a restart held is %s", status_of(id, "held"));
	usage("bt-ttl-1", "bt/ttl", rsv, 2000);
	CHECK(strcmp(status_of(id, "held"), "0.000000000") == 0 &&
	    strcmp(status_of(id, "spent"), "0.022500000") == 0, "held %s",
	    status_of(id, "held"));
	/* The burn rate is what was booked in the last hour and day; the
	 * day's pace carries the spend to the period's end. */
	snprintf(path, sizeof path, "/v1/budgets/%s", id);
	r = http("GET", path, admin_key, NULL, NULL);
	{
		json_t *st = json_object_get(r->json, "status");
		json_t *burn = json_object_get(st, "burn_rate");
		const char *f = json_string_value(json_object_get(st,
		    "forecast_at_period_end"));

		CHECK(json_is_null(json_object_get(st, "run_out_at")),
		    "a day budget 2%% spent runs out within the day: %s",
		    r->body);
		CHECK(r->status == 200 && strcmp(json_string_value(
		    json_object_get(burn, "last_hour_per_hour")),
		    "0.022500000") == 0 && strcmp(json_string_value(
		    json_object_get(burn, "last_day_per_day")),
		    "0.022500000") == 0 && f != NULL &&
		    strcmp(f, "0.022500000") >= 0 && strlen(f) == 11 &&
		    strcmp(f, "0.045000000") <= 0, "%s", r->body);
	}
	resp_free(r);
	/* SIGKILL: a hold written before the kill is held again after it. */
	r = authorize(ASK("bt/ttl", ""));
	snprintf(rsv, sizeof rsv, "%s", jstr(r, "reservation_id"));
	resp_free(r);
	snprintf(sql, sizeof sql, "SELECT count(DISTINCT id) FROM "
	    "reservation_log_holds WHERE id = '%s'", rsv);
	(void)db_wait(sql, "1");
	CHECK(strcmp(db_value(sql), "1") == 0, "the hold was not written");
	/* A log row whose holds have all expired went with a later write. */
	snprintf(sql, sizeof sql, "SELECT count(*) FROM reservation_log_holds "
	    "WHERE id = '%s'", first);
	CHECK(strcmp(db_value(sql), "0") == 0, "the expired hold is logged");
	snprintf(sql, sizeof sql, "SELECT count(*) FROM reservation_log l, "
	    "reservation_log_holds h WHERE h.id = '%s' AND l.instance = "
	    "h.instance AND l.expires_max < h.written_at", rsv);
	CHECK(strcmp(db_value(sql), "0") == 0, "an expired log row stayed");
	CHECK(server_kill() == 0, "kill failed");
	CHECK(server_start() == 0, "the server did not start again");
	CHECK(strcmp(status_of(id, "held"), "0.022500000") == 0,
	    "after SIGKILL held is %s", status_of(id, "held"));
	snprintf(path, sizeof path, "/v1/reservations/%s/release", rsv);
	r = http("POST", path, gateway_key, NULL, NULL);
	CHECK(r->status == 200, "release after SIGKILL: %s", r->body);
	resp_free(r);
	snprintf(sql, sizeof sql, "SELECT state FROM reservations WHERE "
	    "expires_at - created_at = interval '1 second' AND %s = "
	    "ANY (budgets)", id);
	CHECK(strcmp(db_value(sql) ? db_value(sql) : "", "expired") == 0,
	    "the expiry was not written: %s", db_value(sql));

	/* A request_id asked again once its hold has ended and been
	 * forgotten (here by a restart) gets a new hold, and that hold is
	 * written like any other: the old row must not stand in its way. */
	r = authorize(ASK("bt/ttl", ",\"request_id\":\"bt-again\""));
	snprintf(rsv, sizeof rsv, "%s", jstr(r, "reservation_id"));
	resp_free(r);
	snprintf(path, sizeof path, "/v1/reservations/%s/release", rsv);
	r = http("POST", path, gateway_key, NULL, NULL);
	CHECK(r->status == 200, "release: %s", r->body);
	resp_free(r);
	snprintf(sql, sizeof sql, "SELECT state FROM reservations WHERE "
	    "id = '%s'", rsv);
	(void)db_wait(sql, "released");
	CHECK(db_value(sql) != NULL && strcmp(db_value(sql), "released") == 0,
	    "the release was not written");
	CHECK(server_stop() == 0, "the server did not stop cleanly");
	CHECK(server_start() == 0, "the server did not start again");
	r = authorize(ASK("bt/ttl", ",\"request_id\":\"bt-again\""));
	CHECK(strcmp(jstr(r, "decision"), "allow") == 0 &&
	    strcmp(jstr(r, "reservation_id"), rsv) != 0, "%s", r->body);
	snprintf(sql, sizeof sql, "SELECT count(DISTINCT id) FROM "
	    "reservation_log_holds WHERE id = '%s'", jstr(r, "reservation_id"));
	resp_free(r);
	(void)db_wait(sql, "1");
	CHECK(strcmp(db_value(sql), "1") == 0,
	    "the second hold of a request_id was not written");
}

/* Reservations are kept by UTC day: a hold's end lands in its day's
 * partition, and a day that is over is dropped whole, unless a hold in it
 * is still held; logged holds go once expired. */
static void
t_reservation_days(void)
{
	static const char *const rows =
	    "INSERT INTO reservations (id, cost_center, budgets, amount, "
	    "created_at, expires_at, state, ended_at, instance) VALUES "
	    "('rsv_0000000000000000000000a1', 'bt', '{1}', 1, "
	    "now() - interval '10 days', now() - interval '10 days', "
	    "'released', now() - interval '10 days', 'days-test'), "
	    "('rsv_0000000000000000000000a2', 'bt', '{1}', 1, "
	    "now() - interval '9 days', now() + interval '1 hour', 'held', "
	    "NULL, 'days-test'), "
	    "('rsv_0000000000000000000000a3', 'bt', '{1}', 1, "
	    "now() - interval '8 days', now() - interval '8 days', 'held', "
	    "NULL, 'days-test')";
	char sql[256], day[3][64], path[96];
	struct resp *r;
	int i;

	/* A hold's end is its row, in the day the hold was made. */
	cost_center("bt");
	r = authorize(ASK("bt", ""));
	CHECK(strcmp(jstr(r, "decision"), "allow") == 0, "%s", r->body);
	snprintf(sql, sizeof sql, "SELECT tableoid::regclass::text FROM "
	    "reservations WHERE id = '%s' AND state = 'released'",
	    jstr(r, "reservation_id"));
	snprintf(path, sizeof path, "/v1/reservations/%s/release",
	    jstr(r, "reservation_id"));
	resp_free(r);
	r = http("POST", path, gateway_key, NULL, NULL);
	CHECK(r->status == 200, "release: %s", r->body);
	resp_free(r);
	(void)db_wait(sql, NULL);
	CHECK(db_value(sql) != NULL && strcmp(db_value(sql), db_value(
	    "SELECT 'reservations_' || to_char(now() AT TIME ZONE 'UTC', "
	    "'YYYYMMDD')")) == 0, "the hold is in %s", db_value(sql));

	CHECK(strcmp(db_value("SELECT reservations_partitions_ensure(now() - "
	    "interval '10 days', now() - interval '8 days')"), "3") == 0,
	    "three past days were not made");
	CHECK(db_exec(rows) == 0, "%s", db_error());
	for (i = 0; i < 3; i++) {
		snprintf(sql, sizeof sql, "SELECT 'reservations_' || "
		    "to_char((now() - interval '%d days') AT TIME ZONE 'UTC', "
		    "'YYYYMMDD')", 10 - i);
		snprintf(day[i], sizeof day[i], "%s", db_value(sql));
	}
	CHECK(strcmp(db_value("SELECT reservations_partitions_drop(now() - "
	    "interval '2 days')"), "2") == 0, "two days dropped");
	for (i = 0; i < 3; i++) {
		snprintf(sql, sizeof sql, "SELECT to_regclass('%s') IS NULL",
		    day[i]);
		CHECK(strcmp(db_value(sql), i == 1 ? "f" : "t") == 0,
		    "%s should %s", day[i], i == 1 ? "stay (a live hold)" :
		    "be dropped");
	}
	CHECK(strcmp(db_value("SELECT count(*) FROM reservations WHERE "
	    "instance = 'days-test'"), "1") == 0, "the live hold stays");
	CHECK(db_exec("DELETE FROM reservations WHERE instance = "
	    "'days-test'") == 0, "%s", db_error());
	CHECK(strcmp(db_value("SELECT reservations_partitions_drop(now() - "
	    "interval '2 days')"), "1") == 0, "its day goes once it ended");

	/* The log of an instance that writes no more: its rows go at the
	 * next start (and daily) once all their holds have expired. */
	CHECK(db_exec("INSERT INTO reservation_log (instance, expires_max, "
	    "ids, key_ids, request_ids, cost_centers, budgets, amounts, "
	    "max_outputs, created, expires) SELECT 'days-test', now() + "
	    "d * interval '1 hour', '{}', '{}', '{}', '{}', '{}', '{}', '{}', "
	    "'{}', '{}' FROM (VALUES (-1), (1)) v (d)") == 0, "%s",
	    db_error());
	CHECK(server_stop() == 0, "the server did not stop cleanly");
	CHECK(server_start() == 0, "the server did not start again");
	CHECK(strcmp(db_value("SELECT string_agg((expires_max > now())::text, "
	    "',') FROM reservation_log WHERE instance = 'days-test'"), "true")
	    == 0, "the log rows left: %s", db_value("SELECT count(*) FROM "
	    "reservation_log WHERE instance = 'days-test'"));
	CHECK(db_exec("DELETE FROM reservation_log WHERE instance = "
	    "'days-test'") == 0, "%s", db_error());
}

static void
t_bad_input(void)
{
	static const struct { const char *body, *code, *field; } bad[] = {
		{ "{\"provider\":\"openai\",\"estimate\":{\"input_tokens\":1}}",
		  "missing_field", "model" },
		{ "{\"provider\":\"openai\",\"model\":\"gpt-4o\"}",
		  "missing_field", "estimate" },
		{ "{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"estimate\":"
		  "{\"input_tokens\":-1}}", "invalid_field",
		  "estimate.input_tokens" },
		{ "{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"estimate\":"
		  "{\"input_tokens\":1,\"max_output_tokens\":1e30}}",
		  "invalid_field", "estimate.max_output_tokens" },
		{ "{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"estimate\":"
		  "{\"input_tokens\":99999999999999}}", "invalid_field",
		  "estimate.input_tokens" },
		{ "{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"estimate\":"
		  "{\"input_tokens\":1},\"reservation_ttl_s\":0}",
		  "invalid_field", "reservation_ttl_s" },
		{ "{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"estimate\":"
		  "{\"input_tokens\":1},\"colour\":\"red\"}", "unknown_field",
		  "colour" },
		{ "{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"service_tier\":"
		  "\"gold\",\"estimate\":{\"input_tokens\":1}}", "invalid_field",
		  "service_tier" },
	};
	char id[32];
	struct resp *r;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = authorize(bad[i].body);
		CHECK_ERR(r, 400, bad[i].code, bad[i].field);
		resp_free(r);
	}
	r = authorize(ASK("bt/nowhere", ""));
	CHECK(strcmp(jstr(r, "decision"), "pause") == 0 &&
	    strcmp(jstr(r, "reason"), "unknown_cost_center") == 0, "%s",
	    r->body);
	resp_free(r);
	cost_center("bt");
	cost_center("bt/unpriced");
	budget("{\"name\":\"unpriced\",\"scope\":{\"cost_center\":"
	    "\"bt/unpriced\"},\"period\":\"day\",\"amount\":\"1\"}", id,
	    sizeof id);
	r = authorize("{\"cost_center\":\"bt/unpriced\",\"provider\":\"acme\","
	    "\"model\":\"mystery-9\",\"estimate\":{\"input_tokens\":10,"
	    "\"max_output_tokens\":10}}");
	CHECK(strcmp(jstr(r, "decision"), "pause") == 0 &&
	    strcmp(jstr(r, "reason"), "unpriced_model") == 0, "%s", r->body);
	resp_free(r);
	CHECK(strcmp(status_of(id, "held"), "0.000000000") == 0, "held");
}

/* 64 callers at once, round after round, against a hard strict cap of
 * 1.00, each settling with all the output it was allowed: the booked
 * spend never passes the cap, and every allowed call is settled. */
static void
t_concurrent_cap(void)
{
	struct resp *out[64];
	char id[32], uid[64], sql[256];
	int round, i, allowed = 0, paused = 0, settled = 0;

	cost_center("bt");
	cost_center("bt/conc");
	budget("{\"name\":\"conc\",\"scope\":{\"cost_center\":\"bt/conc\"},"
	    "\"period\":\"month\",\"amount\":\"1.00\"}", id, sizeof id);
	for (round = 0; round < 40 && paused < 64; round++) {
		http_concurrent("/v1/authorize", gateway_key, ASK("bt/conc", ""),
		    64, out);
		paused = 0;
		for (i = 0; i < 64; i++) {
			const char *d = out[i]->json != NULL ?
			    json_string_value(json_object_get(out[i]->json,
			    "decision")) : NULL;

			CHECK(d != NULL, "round %d: %s", round, out[i]->body);
			if (d != NULL && strcmp(d, "allow") == 0) {
				allowed++;
				snprintf(uid, sizeof uid, "bt-conc-%d-%d",
				    round, i);
				settled += usage(uid, "bt/conc",
				    json_string_value(json_object_get(
				    out[i]->json, "reservation_id")),
				    (long)json_integer_value(json_object_get(
				    out[i]->json, "max_output_tokens")));
			} else if (d != NULL && strcmp(d, "pause") == 0)
				paused++;
			resp_free(out[i]);
		}
	}
	CHECK(paused == 64, "the cap was never reached (%d allowed)", allowed);
	CHECK(allowed > 40 && settled == allowed, "%d allowed, %d settled",
	    allowed, settled);
	snprintf(sql, sizeof sql, "SELECT sum(amount) <= 1000000000 AND "
	    "sum(amount) > 950000000 FROM postings p JOIN accounts a ON a.id = "
	    "p.account_id WHERE a.name = 'expense:bt/conc'");
	CHECK(strcmp(db_value(sql), "t") == 0, "booked %s",
	    db_value("SELECT sum(amount) FROM postings p JOIN accounts a ON "
	    "a.id = p.account_id WHERE a.name = 'expense:bt/conc'"));
	CHECK(strcmp(status_of(id, "held"), "0.000000000") == 0, "held %s",
	    status_of(id, "held"));
}

static void
t_database_down(void)
{
	char closed[32], open[32];
	struct resp *r;
	double t0;
	int ok = 0;

	cost_center("bt");
	cost_center("bt/down");
	cost_center("bt/open");
	budget("{\"name\":\"down\",\"scope\":{\"cost_center\":\"bt/down\"},"
	    "\"period\":\"day\",\"amount\":\"1\"}", closed, sizeof closed);
	budget("{\"name\":\"open\",\"scope\":{\"cost_center\":\"bt/open\"},"
	    "\"period\":\"day\",\"amount\":\"1\",\"on_database_unavailable\":"
	    "\"fail_open\"}", open, sizeof open);
	CHECK(pg_ctl("stop") == 0, "cannot stop PostgreSQL");
	/* Decisions ask no database: the server learns of the outage from
	 * its connections closing. */
	for (t0 = now_s(); now_s() - t0 < 10 && !ok;) {
		r = authorize(ASK("bt/down", ""));
		ok = strcmp(jstr(r, "decision"), "pause") == 0 &&
		    strcmp(jstr(r, "reason"), "database_unavailable") == 0;
		if (!ok && strcmp(jstr(r, "decision"), "allow") == 0) {
			char rel[80];

			snprintf(rel, sizeof rel, "/v1/reservations/%s/release",
			    jstr(r, "reservation_id"));
			resp_free(r);
			r = http("POST", rel, gateway_key, NULL, NULL);
		}
		resp_free(r);
		if (!ok)
			usleep(20000);
	}
	CHECK(ok, "fail-closed did not pause within 10 s of the outage");
	ok = 0;
	r = authorize(ASK("bt/open", ""));
	CHECK(strcmp(jstr(r, "decision"), "allow") == 0, "%s", r->body);
	resp_free(r);
	CHECK(pg_ctl("start") == 0, "cannot start PostgreSQL");
	for (t0 = now_s(); now_s() - t0 < 30 && !ok;) {
		r = authorize(ASK("bt/down", ""));
		ok = strcmp(jstr(r, "decision"), "allow") == 0;
		resp_free(r);
		if (!ok)
			usleep(50000);
	}
	CHECK(ok, "decisions did not recover within 30 s");
}

/* Spending faster than the budget allows per minute pauses it, in the
 * record too, until an admin resumes it; both are audited. */
static void
t_anomaly(void)
{
	char id[32], path[64], sql[256];
	struct resp *r;
	double t0;

	cost_center("bt");
	cost_center("bt/burn");
	budget("{\"name\":\"burn\",\"scope\":{\"cost_center\":\"bt/burn\"},"
	    "\"period\":\"day\",\"amount\":\"100\",\"pause_on_burn_rate\":"
	    "{\"amount\":\"0.01\",\"minutes\":1}}", id, sizeof id);
	r = authorize(ASK("bt/burn", ""));
	CHECK(strcmp(jstr(r, "decision"), "allow") == 0, "%s", r->body);
	resp_free(r);
	usage("bt-burn-1", "bt/burn", NULL, 2000);	/* 0.0225 this minute */
	r = authorize(ASK("bt/burn", ""));
	CHECK(strcmp(jstr(r, "decision"), "pause") == 0 &&
	    strcmp(jstr(r, "reason"), "anomaly") == 0, "%s", r->body);
	resp_free(r);
	CHECK(strcmp(status_of(id, "paused"), "anomaly") == 0, "paused: %s",
	    status_of(id, "paused"));
	/* The pause is written behind the decision: resuming before it is
	 * recorded would leave the record paused. */
	snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_log WHERE "
	    "entity = 'budget' AND entity_id = '%s' AND action = 'anomaly'",
	    id);
	for (t0 = now_s(); strcmp(db_value(sql), "1") != 0 && now_s() - t0 < 5;)
		usleep(10000);
	snprintf(path, sizeof path, "/v1/budgets/%s/resume", id);
	r = http("POST", path, gateway_key, NULL, NULL);
	CHECK(r->status == 403, "a gateway resumed a budget: %ld", r->status);
	resp_free(r);
	r = http("POST", path, admin_key, NULL, NULL);
	CHECK(r->status == 200 && json_is_null(json_object_get(json_object_get(
	    r->json, "status"), "paused")), "%s", r->body);
	resp_free(r);
	r = authorize(ASK("bt/burn", ""));
	CHECK(strcmp(jstr(r, "decision"), "allow") == 0, "%s", r->body);
	resp_free(r);
	snprintf(sql, sizeof sql, "SELECT string_agg(action || ':' || "
	    "coalesce(key_id, '-') || ':' || (after ->> 'paused_at' IS NOT "
	    "NULL), ',' ORDER BY id) FROM audit_log WHERE entity = 'budget' "
	    "AND entity_id = '%s' AND action <> 'create'", id);
	CHECK(db_value(sql) != NULL && strncmp(db_value(sql), "anomaly:-:true,"
	    "resume:key_", 19) == 0 && strstr(db_value(sql), ":false") != NULL,
	    "audit: %s", db_value(sql));
	r = http("POST", "/v1/budgets", admin_key, "{\"name\":\"x\",\"scope\":"
	    "{\"cost_center\":\"bt\"},\"period\":\"day\",\"amount\":\"1\","
	    "\"pause_on_burn_rate\":{\"amount\":\"1\",\"minutes\":90}}", NULL);
	CHECK_ERR(r, 400, "invalid_field", "pause_on_burn_rate.minutes");
	resp_free(r);
}

/* A call naming no cost center is decided where booking will put it:
 * the first matching allocation rule. */
static void
t_routing(void)
{
	char id[32], rule[32], path[64];
	const char *ask = "{\"user\":\"router-u\",\"provider\":\"openai\","
	    "\"model\":\"gpt-4o\",\"estimate\":{\"input_tokens\":1000,"
	    "\"max_output_tokens\":2000}}";
	struct resp *r;

	cost_center("bt");
	cost_center("bt/routed");
	budget("{\"name\":\"routed\",\"scope\":{\"cost_center\":"
	    "\"bt/routed\"},\"period\":\"day\",\"amount\":\"1\"}", id,
	    sizeof id);
	r = authorize(ask);
	CHECK(strcmp(jstr(r, "reason"), "unknown_cost_center") == 0, "%s",
	    r->body);
	resp_free(r);
	r = http("POST", "/v1/allocation-rules", admin_key, "{\"position\":1,"
	    "\"match\":\"user\",\"value\":\"router-u\",\"cost_center\":"
	    "\"bt/routed\"}", NULL);
	CHECK(r->status == 201, "%s", r->body);
	snprintf(rule, sizeof rule, "%s", jstr(r, "id"));
	resp_free(r);
	r = authorize(ask);
	CHECK(strcmp(jstr(r, "decision"), "allow") == 0 &&
	    strstr(r->body, "\"scope\":\"bt/routed\"") != NULL, "%s", r->body);
	resp_free(r);
	CHECK(strcmp(status_of(id, "held"), "0.022500000") == 0, "held %s",
	    status_of(id, "held"));
	snprintf(path, sizeof path, "/v1/allocation-rules/%s", rule);
	r = http("DELETE", path, admin_key, NULL, NULL);
	CHECK(r->status == 200, "%s", r->body);
	resp_free(r);
	r = authorize(ask);
	CHECK(strcmp(jstr(r, "reason"), "unknown_cost_center") == 0, "%s",
	    r->body);
	resp_free(r);
}

/* The sum of what was booked on a cost center's expense account, in
 * nano-units. */
static long long
booked(const char *cc)
{
	char sql[256];
	const char *v;

	snprintf(sql, sizeof sql, "SELECT coalesce(sum(amount), 0) FROM "
	    "postings p JOIN accounts a ON a.id = p.account_id WHERE a.name = "
	    "'expense:%s'", cc);
	v = db_value(sql);
	return v != NULL ? atoll(v) : -1;
}

static const char *
decision(const struct resp *r)
{
	return r->json != NULL && json_is_string(json_object_get(r->json,
	    "decision")) ? jstr(r, "decision") : "?";
}

/* Whether a budget's holds on an instance (1: the second) come to zero
 * within 2 s. */
static int
held_ends(const char *id, int second)
{
	double t0 = now_s();
	int zero;

	itest_use_second(second);
	while (!(zero = strcmp(status_of(id, "held"), "0.000000000") == 0) &&
	    now_s() - t0 < 2)
		usleep(20000);
	itest_use_second(0);
	return zero;
}

/* Two instances on one database hammer one small hard strict budget,
 * settling most calls where they were allowed and some on the other
 * instance: together they never pass the cap. */
static void
t_two_instances(void)
{
	static const char *const env[] = { "TOLLGATE_INSTANCE=second", NULL };
	struct resp *out[64];
	char id[32], uid[64];
	int round, i, allowed = 0, paused = 0, settled = 0;

	cost_center("bt");
	cost_center("bt/two");
	budget("{\"name\":\"two\",\"scope\":{\"cost_center\":\"bt/two\"},"
	    "\"period\":\"month\",\"amount\":\"1.00\"}", id, sizeof id);
	CHECK(server2_start(env) == 0, "the second instance did not start");
	itest_split(1);
	for (round = 0; round < 60 && paused < 64; round++) {
		http_concurrent("/v1/authorize", gateway_key, ASK("bt/two", ""),
		    64, out);
		paused = 0;
		for (i = 0; i < 64; i++) {
			const char *d = decision(out[i]);

			CHECK(strcmp(d, "?") != 0, "round %d: %s", round,
			    out[i]->body);
			if (strcmp(d, "allow") == 0) {
				allowed++;
				snprintf(uid, sizeof uid, "bt-two-%d-%d", round, i);
				/* Settled where it was allowed, or, every
				 * fourth call, on the other instance. */
				itest_use_second((i % 2) ^ (i % 4 == 3));
				settled += usage(uid, "bt/two",
				    jstr(out[i], "reservation_id"),
				    (long)json_integer_value(json_object_get(
				    out[i]->json, "max_output_tokens")));
				itest_use_second(0);
			} else if (strcmp(d, "pause") == 0)
				paused++;
			resp_free(out[i]);
		}
	}
	itest_split(0);
	CHECK(paused == 64, "the cap was never reached (%d allowed)", allowed);
	CHECK(allowed > 20 && settled == allowed, "%d allowed, %d settled",
	    allowed, settled);
	CHECK(booked("bt/two") <= 1000000000LL, "booked %lld over the cap",
	    booked("bt/two"));
	/* Holds settled on the other instance end where they were made
	 * (notified), not at their TTL. */
	CHECK(held_ends(id, 0), "held %s", status_of(id, "held"));
	CHECK(held_ends(id, 1), "held on the second instance");
	CHECK(server2_end(SIGTERM) == 0, "the second instance did not stop "
	    "cleanly");
	CHECK(strcmp(db_value("SELECT count(*) FROM budget_leases l JOIN "
	    "budgets b ON b.id = l.budget_id WHERE b.cost_center = 'bt/two' "
	    "AND l.instance = 'second'"), "0") == 0,
	    "a stopped instance kept its leases");
}

/* Waits until GET path on the second instance with key answers want;
 * the seconds it took, or -1 after 5 s. */
static double
second_sees(const char *path, const char *key, long want)
{
	double t0 = now_s();
	struct resp *r;
	long st;

	itest_use_second(1);
	do {
		r = http("GET", path, key, NULL, NULL);
		st = r->status;
		resp_free(r);
		if (st == want)
			break;
		usleep(10000);
	} while (now_s() - t0 < 5);
	itest_use_second(0);
	return st == want ? now_s() - t0 : -1;
}

/* A budget made, and a key revoked, on one instance are known to another
 * within a second (notifications, not the polls or the key cache's TTL). */
static void
t_changes_reach_instances(void)
{
	static const char *const env[] = { "TOLLGATE_INSTANCE=notified", NULL };
	char id[32], path[64], key[128];
	struct resp *r;
	double took;

	CHECK(cli_key("--role finance --name itest-revoked", key,
	    sizeof key) == 0, "key create");
	CHECK(server2_start(env) == 0, "the second instance did not start");
	CHECK(second_sees("/v1/reports/spend", key, 200) >= 0,
	    "the new key does not work on the second instance");
	cost_center("bt");
	cost_center("bt/notify");
	budget("{\"name\":\"notify\",\"scope\":{\"cost_center\":\"bt/notify\"},"
	    "\"period\":\"month\",\"amount\":\"1\"}", id, sizeof id);
	snprintf(path, sizeof path, "/v1/budgets/%s", id);
	took = second_sees(path, admin_key, 200);
	CHECK(took >= 0 && took < 1, "the budget reached the other instance "
	    "in %.3f s", took);
	CHECK(db_exec("UPDATE api_keys SET revoked_at = now() WHERE name = "
	    "'itest-revoked'") == 0, "%s", db_error());
	took = second_sees("/v1/reports/spend", key, 401);
	CHECK(took >= 0 && took < 1, "the revoked key still worked on the "
	    "other instance after %.3f s", took);
	r = http("GET", "/v1/reports/spend", key, NULL, NULL);
	CHECK(r->status == 401, "revoked key on this instance: %ld", r->status);
	resp_free(r);
	CHECK(server2_end(SIGTERM) == 0, "the second instance did not stop "
	    "cleanly");
}

/* An instance killed with SIGKILL while holding most of a budget's room:
 * the other cannot use that room until the lease has ended and drained,
 * and calls allowed under it that settle afterwards still count. */
static void
t_killed_with_leases(void)
{
	static const char *const env[] = { "TOLLGATE_INSTANCE=killed",
	    "TOLLGATE_LEASE_S=1", "TOLLGATE_RESERVATION_TTL_MAX_S=2", NULL };
	char id[32], rsv[40][40], uid[64];
	struct resp *r;
	double t0;
	int i, held = 0, allowed = 0;

	cost_center("bt");
	cost_center("bt/kill");
	budget("{\"name\":\"kill\",\"scope\":{\"cost_center\":\"bt/kill\"},"
	    "\"period\":\"month\",\"amount\":\"0.30\"}", id, sizeof id);
	CHECK(server2_start(env) == 0, "the second instance did not start");
	itest_use_second(1);
	for (i = 0; i < 40; i++) {
		r = authorize(ASK("bt/kill", ""));
		if (strcmp(decision(r), "allow") == 0)
			snprintf(rsv[held++], sizeof rsv[0], "%s",
			    jstr(r, "reservation_id"));
		else
			CHECK(strcmp(decision(r), "pause") == 0 ||
			    strcmp(decision(r), "throttle") == 0, "%s", r->body);
		resp_free(r);
	}
	itest_use_second(0);
	CHECK(held >= 5, "the second instance held only %d calls", held);
	r = authorize(ASK("bt/kill", ""));
	CHECK(strcmp(decision(r), "allow") != 0,
	    "room held by the other instance was allowed again: %s", r->body);
	resp_free(r);
	CHECK(server2_end(SIGKILL) == 0, "kill");
	/* The killed instance's calls finish and are booked here. */
	for (i = 0; i < held; i += 2) {
		snprintf(uid, sizeof uid, "bt-kill-%d", i);
		usage(uid, "bt/kill", rsv[i], 2000);
	}
	/* Until the room comes back, then until it is held again here. */
	for (t0 = now_s(); now_s() - t0 < 20;) {
		r = authorize(ASK("bt/kill", ""));
		if (strcmp(decision(r), "allow") == 0)
			allowed++;
		else if (allowed > 0) {
			resp_free(r);
			break;
		}
		resp_free(r);
		if (allowed == 0)
			usleep(100000);
	}
	CHECK(allowed > 0, "the room never came back");
	/* Booked plus still held here never passes the cap. */
	snprintf(uid, sizeof uid, "SELECT (%s::numeric * 1e9)::bigint",
	    status_of(id, "held"));
	CHECK(booked("bt/kill") + atoll(db_value(uid)) <= 300000000LL,
	    "booked %lld, held %s", booked("bt/kill"), status_of(id, "held"));
}

/* While PostgreSQL is away, decisions go on within the leases held, then
 * fail-closed budgets pause; afterwards they recover. */
static void
t_outage_within_lease(void)
{
	char id[32], sql[200];
	struct resp *r;
	json_t *v;
	long long lease;
	int i, allowed = 0, ok = 0;
	double t0;

	cost_center("bt");
	cost_center("bt/lease");
	budget("{\"name\":\"lease\",\"scope\":{\"cost_center\":\"bt/lease\"},"
	    "\"period\":\"month\",\"amount\":\"10\"}", id, sizeof id);
	r = authorize(ASK("bt/lease", ""));
	CHECK(strcmp(decision(r), "allow") == 0, "%s", r->body);
	resp_free(r);
	snprintf(sql, sizeof sql, "SELECT coalesce(sum(amount), 0) FROM "
	    "budget_leases WHERE budget_id = %s", id);
	lease = atoll(db_value(sql));
	CHECK(lease > 0 && lease < 10000000000LL, "lease %lld", lease);
	/* The instance shows the slice it holds. */
	snprintf(sql, sizeof sql, "/v1/budgets/%s", id);
	r = http("GET", sql, admin_key, NULL, NULL);
	v = json_object_get(json_object_get(json_object_get(r->json, "status"),
	    "lease"), "amount");
	CHECK(json_is_string(v) && strtoll(json_string_value(v), NULL, 10) *
	    1000000000LL + atoll(strchr(json_string_value(v), '.') + 1) ==
	    lease, "lease in the status: %s", r->body);
	resp_free(r);
	CHECK(pg_ctl("stop") == 0, "cannot stop PostgreSQL");
	for (i = 0; i < 100; i++) {
		r = authorize(ASK("bt/lease", ""));
		if (strcmp(decision(r), "allow") == 0) {
			allowed++;
			resp_free(r);
			continue;
		}
		CHECK(strcmp(decision(r), "pause") == 0 &&
		    strcmp(jstr(r, "reason"), "database_unavailable") == 0,
		    "%s", r->body);
		resp_free(r);
		break;
	}
	CHECK(allowed > 0, "the lease was not used while the database was "
	    "away");
	CHECK(i < 100, "decisions went on past the lease");
	CHECK(pg_ctl("start") == 0, "cannot start PostgreSQL");
	for (t0 = now_s(); now_s() - t0 < 30 && !ok;) {
		r = authorize(ASK("bt/lease", ""));
		ok = strcmp(decision(r), "allow") == 0;
		resp_free(r);
		if (!ok)
			usleep(50000);
	}
	CHECK(ok, "decisions did not recover within 30 s");
}

/*
 * A budget's same-weekday projection, in its own time zone and scope: the
 * last 4 weeks spend by a weekly pattern (gpt-4o input at 2.5e-06), so
 * each day left in the period costs its weekday's mean, and the budget
 * runs out on the day that mean crosses its amount.
 *
 * Asia/Tokyo (UTC+9, no daylight saving): each event is at 08:00 there,
 * 23:00 UTC the day before, so days counted in UTC would shift every
 * weekday by one. Noise in another cost center and on another model is
 * outside the budget's scope.
 */
static void
t_weekday_forecast(void)
{
	/* Input tokens by weekday, Monday first; each week 10 more. */
	static const long base[7] = { 100, 400, 200, 300, 500, 0, 40 };
	const int64_t tok = 2500;	/* nanos per gpt-4o input token */
	int64_t now = (int64_t)time(NULL), today = (now + 32400) / 86400;
	int64_t p0, p1, y, before = 0, mean4[7], cum4, amount = 0, want;
	int64_t spent, days_left, k, run_out = -1;
	char *body = malloc(64 * 1024), id[32], path[64], at[LEDGER_TIME_BUFSZ];
	char buf[64], date[16];
	size_t len = 0;
	struct resp *r;
	int m, d, j, wd;

	CHECK(body != NULL, "out of memory");
	if (body == NULL)
		return;
	cost_center("bt");
	cost_center("bt/wd");
	cost_center("bt/wd-other");
	/* The local year holding today: the budget's period. */
	ledger_civil_from_days(today, &y, &m, &d);
	p0 = ledger_days_from_civil(y, 1, 1);
	p1 = ledger_days_from_civil(y + 1, 1, 1);
	days_left = p1 - today;
	len += (size_t)snprintf(body + len, 64 * 1024 - len, "[");
	for (j = 1; j <= 28; j++) {
		long n;

		wd = (int)((today - j + 3) % 7);	/* 1970-01-01: Thursday */
		n = base[wd] + 10 * ((j - 1) / 7);
		/* 08:00 in Tokyo on local day today - j. */
		ledger_time_format(((today - j) * 86400 - 3600) * 1000000LL, at);
		len += (size_t)snprintf(body + len, 64 * 1024 - len,
		    "%s{\"id\":\"wd-%d\",\"cost_center\":\"bt/wd\","
		    "\"provider\":\"openai\",\"model\":\"gpt-4o\","
		    "\"occurred_at\":\"%s\",\"usage\":{\"input_tokens\":%ld}},"
		    "{\"id\":\"wd-o-%d\",\"cost_center\":\"bt/wd-other\","
		    "\"provider\":\"openai\",\"model\":\"gpt-4o\","
		    "\"occurred_at\":\"%s\",\"usage\":{\"input_tokens\":999}},"
		    "{\"id\":\"wd-m-%d\",\"cost_center\":\"bt/wd\","
		    "\"provider\":\"openai\",\"model\":\"gpt-4o-mini\","
		    "\"occurred_at\":\"%s\",\"usage\":{\"input_tokens\":999}}",
		    j > 1 ? "," : "", j, at, n, j, at, j, at);
		if (today - j >= p0)
			before += n * tok;
	}
	/* Today, at its first instant in Tokyo: 7 tokens. */
	ledger_time_format((today * 86400 - 32400) * 1000000LL, at);
	len += (size_t)snprintf(body + len, 64 * 1024 - len,
	    ",{\"id\":\"wd-today\",\"cost_center\":\"bt/wd\","
	    "\"provider\":\"openai\",\"model\":\"gpt-4o\","
	    "\"occurred_at\":\"%s\",\"usage\":{\"input_tokens\":7}}]", at);
	r = http("POST", "/v1/usage", gateway_key, body, NULL);
	CHECK(r->status == 200 && strstr(r->body, "rejected") == NULL,
	    "%ld %.300s", r->status, r->body);
	resp_free(r);
	free(body);
	spent = before + 7 * tok;

	/* 4 times each weekday's mean: the 4 weeks add 0 + 10 + 20 + 30. */
	for (wd = 0; wd < 7; wd++)
		mean4[wd] = (4 * base[wd] + 60) * tok;
	/* The projection at the period's end; the amount is reached at the
	 * end of the day three days on (or the period's last day). */
	cum4 = 4 * before;
	for (k = 0; k < days_left; k++) {
		cum4 += mean4[(today + k + 3) % 7];
		if (k == (days_left > 3 ? 3 : days_left - 1)) {
			amount = cum4 / 4;
			run_out = k;
		}
	}
	want = cum4 / 4;	/* the means are whole: nothing to round */
	snprintf(buf, sizeof buf, "{\"name\":\"wd\",\"scope\":"
	    "{\"cost_center\":\"bt/wd\",\"model\":\"gpt-4o\"},");
	{
		char b[512], a[LEDGER_MONEY_BUFSZ];

		ledger_money_format(amount, a);
		snprintf(b, sizeof b, "%s\"period\":\"year\",\"time_zone\":"
		    "\"Asia/Tokyo\",\"amount\":\"%s\"}", buf, a);
		budget(b, id, sizeof id);
	}
	snprintf(path, sizeof path, "/v1/budgets/%s", id);
	r = http("GET", path, admin_key, NULL, NULL);
	{
		json_t *st = json_object_get(r->json, "status");
		char w[LEDGER_MONEY_BUFSZ], s2[LEDGER_MONEY_BUFSZ];

		ledger_money_format(want, w);
		ledger_money_format(spent, s2);
		ledger_civil_from_days(today + run_out, &y, &m, &d);
		snprintf(date, sizeof date, "%04lld-%02d-%02d", (long long)y, m,
		    d);
		CHECK(r->status == 200 && json_is_string(json_object_get(st,
		    "spent")) && strcmp(json_string_value(json_object_get(st,
		    "spent")), s2) == 0, "spent, want %s: %s", s2, r->body);
		CHECK(json_is_string(json_object_get(st,
		    "forecast_at_period_end_weekday")) && strcmp(
		    json_string_value(json_object_get(st,
		    "forecast_at_period_end_weekday")), w) == 0,
		    "weekday forecast, want %s: %s", w, r->body);
		CHECK(json_is_string(json_object_get(st, "run_out_on_weekday")) &&
		    strcmp(json_string_value(json_object_get(st,
		    "run_out_on_weekday")), date) == 0,
		    "run out by weekday, want %s: %s", date, r->body);
	}
	resp_free(r);
	/* A total budget has no period end to project to. */
	budget("{\"name\":\"wd-total\",\"scope\":{\"cost_center\":"
	    "\"bt/wd\"},\"period\":\"total\",\"amount\":\"100\"}", id,
	    sizeof id);
	snprintf(path, sizeof path, "/v1/budgets/%s", id);
	r = http("GET", path, admin_key, NULL, NULL);
	CHECK(r->status == 200 && json_is_null(json_object_get(json_object_get(
	    r->json, "status"), "forecast_at_period_end_weekday")) &&
	    json_is_null(json_object_get(json_object_get(r->json, "status"),
	    "run_out_on_weekday")), "%s", r->body);
	resp_free(r);
}

/* The number of live reservations on a budget. */
static size_t
live_holds(const char *budget_id)
{
	char path[64];
	struct resp *r;
	size_t n;

	snprintf(path, sizeof path, "/v1/reservations?budget=%s", budget_id);
	r = http("GET", path, admin_key, NULL, NULL);
	n = json_array_size(json_object_get(r->json, "reservations"));
	resp_free(r);
	return n;
}

/*
 * GET /v1/authorize/check with malformed headers: 400 with a stable code
 * and the header at fault, and nothing held. Tags come as the body's
 * JSON object, so a budget narrowed by a tag decides here too.
 */
static void
t_check_headers(void)
{
	static const char *const base[] = {
		"X-Tollgate-Cost-Center: bt/chk", "X-Tollgate-Provider: openai",
		"X-Tollgate-Model: gpt-4o", "X-Tollgate-Input-Tokens: 100",
		"X-Tollgate-Max-Output-Tokens: 100" };
	static const struct { const char *header, *code, *field; } bad[] = {
		{ "X-Tollgate-Input-Tokens: 12abc", "invalid_field",
		  "X-Tollgate-Input-Tokens" },
		{ "X-Tollgate-Input-Tokens: -5", "invalid_field",
		  "X-Tollgate-Input-Tokens" },
		{ "X-Tollgate-Input-Tokens: 99999999999999999999",
		  "invalid_field", "X-Tollgate-Input-Tokens" },
		{ "X-Tollgate-Input-Tokens;", "invalid_field",
		  "X-Tollgate-Input-Tokens" },		/* empty */
		{ "X-Tollgate-Input-Tokens:", "missing_field",
		  "X-Tollgate-Input-Tokens" },		/* absent */
		{ "X-Tollgate-Max-Output-Tokens: 0", "invalid_field",
		  "X-Tollgate-Max-Output-Tokens" },
		{ "X-Tollgate-Max-Output-Tokens: 1.5", "invalid_field",
		  "X-Tollgate-Max-Output-Tokens" },
		{ "X-Tollgate-Cached-Input-Tokens: lots", "invalid_field",
		  "X-Tollgate-Cached-Input-Tokens" },
		{ "X-Tollgate-Reservation-Ttl: 86401", "invalid_field",
		  "X-Tollgate-Reservation-Ttl" },
		{ "X-Tollgate-Service-Tier: gold", "invalid_field",
		  "X-Tollgate-Service-Tier" },
		{ "X-Tollgate-Model:", "missing_field", "X-Tollgate-Model" },
		{ "X-Tollgate-Tags: feature=chat", "invalid_field",
		  "X-Tollgate-Tags" },
		{ "X-Tollgate-Tags: [\"chat\"]", "invalid_field",
		  "X-Tollgate-Tags" },
		{ "X-Tollgate-Tags: {\"feature\":\"a\",\"feature\":\"b\"}",
		  "invalid_field", "X-Tollgate-Tags" },
		{ "X-Tollgate-Tags: {\"feature\":7}", "invalid_field",
		  "X-Tollgate-Tags.feature" },
	};
	const char *h[8];
	char id[32], tagged[32], path[96];
	long long audit;
	struct resp *r;
	size_t i, j, n, nl;

	cost_center("bt");
	cost_center("bt/chk");
	budget("{\"name\":\"chk\",\"scope\":{\"cost_center\":\"bt/chk\"},"
	    "\"period\":\"day\",\"amount\":\"1\"}", id, sizeof id);
	audit = db_count("audit_log");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* The base headers, the one under test in place of its own. */
		nl = strcspn(bad[i].header, ":;");
		for (n = j = 0; j < sizeof base / sizeof base[0]; j++)
			if (strncmp(base[j], bad[i].header, nl) != 0)
				h[n++] = base[j];
		h[n++] = bad[i].header;
		h[n] = NULL;
		r = http("GET", "/v1/authorize/check", gateway_key, NULL, h);
		CHECK_ERR(r, 400, bad[i].code, bad[i].field);
		if (r->status != 400)
			fprintf(stderr, "    (%s)\n", bad[i].header);
		resp_free(r);
	}
	CHECK(live_holds(id) == 0, "a refused check held room");
	CHECK(db_count("audit_log") == audit, "a refused check was audited");

	/* A tag-narrowed budget with no room: the call naming its tag is
	 * paused by it, one with another tag (or none) is allowed. */
	budget("{\"name\":\"chk-chat\",\"scope\":{\"cost_center\":"
	    "\"bt/chk\",\"tags\":{\"feature\":\"chat\"}},\"period\":"
	    "\"day\",\"amount\":\"0.000000001\"}", tagged, sizeof tagged);
	for (n = 0; n < 5; n++)
		h[n] = base[n];
	h[5] = "X-Tollgate-Tags: {\"feature\": \"chat\"}";
	h[6] = NULL;
	r = http("GET", "/v1/authorize/check", gateway_key, NULL, h);
	CHECK(r->status == 402, "tagged: %ld %s", r->status, r->body);
	resp_free(r);
	CHECK(live_holds(id) == 0 && live_holds(tagged) == 0,
	    "a paused check held room");
	h[5] = "X-Tollgate-Tags: {\"feature\": \"search\"}";
	r = http("GET", "/v1/authorize/check", gateway_key, NULL, h);
	CHECK(r->status == 204, "other tag: %ld %s", r->status, r->body);
	resp_free(r);
	CHECK(live_holds(id) == 1 && live_holds(tagged) == 0,
	    "the allowed call holds on the budgets in its scope only");
	/* Let it go. */
	snprintf(path, sizeof path, "/v1/reservations?budget=%s", id);
	r = http("GET", path, admin_key, NULL, NULL);
	snprintf(path, sizeof path, "/v1/reservations/%s/release",
	    json_string_value(json_object_get(json_array_get(json_object_get(
	    r->json, "reservations"), 0), "id")));
	resp_free(r);
	r = http("POST", path, gateway_key, NULL, NULL);
	CHECK(r->status == 200, "release: %s", r->body);
	resp_free(r);
}

const struct itest budget_tests[] = {
	{ "a call without a cost center is decided by the allocation rules",
	  t_routing },
	{ "spending too fast pauses a budget until an admin resumes it",
	  t_anomaly },
	{ "budgets: create, read, change, delete, each audited; bad ones "
	  "refused", t_budget_api },
	{ "authorize: allow, strict ceiling, throttle, settle, release, "
	  "overshoot, pause, a full department", t_decisions },
	{ "reservations expire at their TTL and survive a restart and a "
	  "SIGKILL",
	  t_expiry_and_restart },
	{ "reservations are kept by day, and days that are over dropped whole",
	  t_reservation_days },
	{ "bad authorize requests: clear errors or a reasoned pause",
	  t_bad_input },
	{ "a budget's weekday forecast and run-out day follow a weekly "
	  "pattern in its time zone and scope", t_weekday_forecast },
	{ "authorize/check: malformed headers refused with the header, "
	  "nothing held; tags as a JSON header", t_check_headers },
	{ "64 concurrent callers never pass a hard strict cap",
	  t_concurrent_cap },
	{ "PostgreSQL down: fail-closed pauses, fail-open allows, then "
	  "recovery", t_database_down },
	{ "two instances on one database never pass a hard strict cap "
	  "together", t_two_instances },
	{ "a budget made and a key revoked on one instance reach another "
	  "within a second", t_changes_reach_instances },
	{ "an instance killed holding leases: its room returns after the "
	  "lease and the drain, no overspend", t_killed_with_leases },
	{ "PostgreSQL down: decisions within the lease, then fail-closed, "
	  "then recovery", t_outage_within_lease },
	{ NULL, NULL }
};
