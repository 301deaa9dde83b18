/*
 * test_spool.c - TOLLGATE_SPOOL_DIR: while PostgreSQL is down, usage is
 * accepted into the local spool (202, "spooled"), survives a SIGKILL of
 * the server, and is booked exactly once when PostgreSQL is back, whether
 * the server was restarted meanwhile or not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/itest.h"

#define SPOOL_DIR "build/itest-spool"

/* Wait (bounded) until the ids are booked; their count. */
static int
wait_booked(const char *ids_sql, int want)
{
	char sql[512];
	const char *v;
	int i, n = -1;

	snprintf(sql, sizeof sql, "SELECT count(*) FROM transactions WHERE "
	    "kind = 'usage' AND idempotency_key IN (%s)", ids_sql);
	for (i = 0; i < 300; i++) {
		v = db_value(sql);
		n = v != NULL ? atoi(v) : -1;
		if (n >= want)
			break;
		usleep(50000);
	}
	return n;
}

static struct resp *
send_events(const char *a, const char *b)
{
	char body[1024];

	snprintf(body, sizeof body, "[{\"id\":\"%s\",\"cost_center\":\"spool\","
	    "\"provider\":\"openai\",\"model\":\"gpt-4o\",\"occurred_at\":"
	    "\"2026-10-10T00:00:00Z\",\"usage\":{\"input_tokens\":1000}},"
	    "{\"id\":\"%s\",\"cost_center\":\"spool\",\"provider\":\"openai\","
	    "\"model\":\"gpt-4o\",\"occurred_at\":\"2026-10-10T00:00:00Z\","
	    "\"usage\":{\"input_tokens\":1000}},{\"provider\":\"openai\"}]", a, b);
	return http("POST", "/v1/usage", gateway_key, body, NULL);
}

static void
t_spool(void)
{
	struct resp *r;
	json_t *res;

	CHECK(run_cmd("rm -rf " SPOOL_DIR, NULL, 0) == 0, "rm");
	resp_free(http("POST", "/v1/cost-centers", admin_key,
	    "{\"id\":\"spool\",\"name\":\"Spool\"}", NULL));
	setenv("TOLLGATE_SPOOL_DIR", SPOOL_DIR, 1);
	CHECK(server_stop() == 0 && server_start() == 0, "restart with spool");
	/* Keys seen before keep working while the database is away. */
	resp_free(http("GET", "/v1/cost-centers", gateway_key, NULL, NULL));

	CHECK(pg_ctl("stop") == 0, "stop PostgreSQL");
	r = send_events("sp-1", "sp-2");
	res = json_object_get(r->json, "results");
	CHECK(r->status == 202 && strcmp(json_string_value(json_object_get(
	    json_array_get(res, 0), "status")), "spooled") == 0 &&
	    strcmp(json_string_value(json_object_get(json_array_get(res, 2),
	    "status")), "rejected") == 0, "%ld %s", r->status, r->body);
	resp_free(r);
	/* The acknowledgement was durable: a crash now loses nothing. */
	CHECK(server_kill() == 0, "kill");
	CHECK(pg_ctl("start") == 0, "start PostgreSQL");
	CHECK(server_start() == 0, "start again");
	CHECK(wait_booked("'sp-1', 'sp-2'", 2) == 2,
	    "spooled events were not booked after the restart");

	/* Without a restart: PostgreSQL goes and comes back. One id is
	 * already booked: the replay finds its duplicate. */
	resp_free(http("GET", "/v1/cost-centers", gateway_key, NULL, NULL));
	CHECK(pg_ctl("stop") == 0, "stop PostgreSQL");
	r = send_events("sp-3", "sp-1");
	CHECK(r->status == 202, "%ld %s", r->status, r->body);
	resp_free(r);
	CHECK(pg_ctl("start") == 0, "start PostgreSQL");
	CHECK(wait_booked("'sp-1', 'sp-2', 'sp-3'", 3) == 3,
	    "spooled events were not booked when PostgreSQL came back");
	CHECK(strcmp(db_value("SELECT count(*) FROM transactions WHERE "
	    "idempotency_key LIKE 'sp-%'"), "3") == 0, "booked once each");

	/* A spool left by a crash mid-append: the whole row is booked, the
	 * torn one (never acknowledged) is dropped, other files are left. */
	CHECK(server_stop() == 0, "stop");
	{
		FILE *fp = fopen(SPOOL_DIR "/spool.ndjson", "a");
		FILE *bak = fopen(SPOOL_DIR "/replay-7.ndjson.bak", "w");

		CHECK(fp != NULL && bak != NULL, "spool files");
		if (fp != NULL) {
			fputs("{\"key\":\"torn-1\",\"hash\":\"00\",\"occurred_at\":"
			    "\"2026-10-10T00:00:00Z\",\"cc\":\"spool\",\"provider\":"
			    "\"openai\",\"model\":\"gpt-4o\",\"tier\":\"standard\","
			    "\"pv\":1,\"list_cost\":2500,\"cost\":2500,\"q\":[1],"
			    "\"m\":[{\"meter\":\"input\",\"q\":1,\"l\":2500,"
			    "\"c\":2500}]}\n{\"key\":\"torn-2\",\"ha", fp);
			fclose(fp);
		}
		if (bak != NULL)
			fclose(bak);
	}
	CHECK(server_start() == 0, "start");
	CHECK(wait_booked("'torn-1'", 1) == 1, "the whole row was not booked");
	CHECK(strcmp(db_value("SELECT count(*) FROM transactions WHERE "
	    "idempotency_key = 'torn-2'"), "0") == 0, "a torn row was booked");
	CHECK(run_cmd("test -f " SPOOL_DIR "/replay-7.ndjson.bak", NULL, 0) == 0,
	    "a file not the spool's own was touched");

	unsetenv("TOLLGATE_SPOOL_DIR");
	CHECK(server_stop() == 0 && server_start() == 0, "restart without");
	r = http("GET", "/v1/ledger/verify", admin_key, NULL, NULL);
	CHECK(json_is_true(json_object_get(r->json, "ok")), "%s", r->body);
	resp_free(r);
}

const struct itest spool_tests[] = {
	{ "with a spool, usage during an outage is kept and booked once",
	  t_spool },
	{ NULL, NULL }
};
