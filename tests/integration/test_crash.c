/*
 * test_crash.c - durable acknowledgement under SIGKILL: clients send usage
 * events with new ids as fast as they can, the server is killed with
 * SIGKILL at a random moment and started again, and every id whose
 * booking was acknowledged must be in the ledger exactly once. Twenty
 * times over.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "tests/integration/itest.h"

#define ROUNDS 20
#define CLIENTS 8
#define EVENTS_PER_REQUEST 20

struct client {
	CURL *e;
	char *body;
	char *reply;
	size_t len;
};

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct client *c = arg;
	char *p = realloc(c->reply, c->len + size * n + 1);

	if (p == NULL)
		return 0;
	memcpy(p + c->len, data, size * n);
	c->reply = p;
	c->len += size * n;
	p[c->len] = '\0';
	return size * n;
}

static void
client_start(CURLM *m, struct client *c, struct curl_slist *h, int round,
    int seq)
{
	size_t cap = 256 * EVENTS_PER_REQUEST, off = 0;
	int i;

	c->body = malloc(cap);
	off += (size_t)snprintf(c->body + off, cap - off, "[");
	for (i = 0; i < EVENTS_PER_REQUEST; i++)
		off += (size_t)snprintf(c->body + off, cap - off,
		    "%s{\"id\":\"crash-%d-%d-%d\",\"cost_center\":\"crash\","
		    "\"provider\":\"openai\",\"model\":\"gpt-4o\",\"occurred_at\":"
		    "\"2026-10-06T00:00:00Z\",\"usage\":{\"input_tokens\":%d}}",
		    i ? "," : "", round, seq, i, 100 + i);
	snprintf(c->body + off, cap - off, "]");
	c->reply = NULL;
	c->len = 0;
	c->e = curl_easy_init();
	curl_easy_setopt(c->e, CURLOPT_URL, server_url("/v1/usage"));
	curl_easy_setopt(c->e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c->e, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->e, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c->e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c->e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->e, CURLOPT_PRIVATE, c);
	curl_multi_add_handle(m, c->e);
}

/* Add the ids the reply acknowledges to the SQL array literal acked. */
static int
take_acks(struct client *c, char **acked, size_t *len, size_t *cap)
{
	json_t *doc = json_loads(c->reply != NULL ? c->reply : "", 0, NULL);
	json_t *res, *r;
	const char *st, *id;
	size_t i, need;
	int n = 0;

	res = json_object_get(doc, "results");
	json_array_foreach(res, i, r) {
		st = json_string_value(json_object_get(r, "status"));
		id = json_string_value(json_object_get(r, "id"));
		if (st == NULL || id == NULL || (strcmp(st, "recorded") != 0 &&
		    strcmp(st, "duplicate") != 0))
			continue;
		need = *len + strlen(id) + 4;
		if (need > *cap) {
			*cap = need * 2;
			*acked = realloc(*acked, *cap);
		}
		*len += (size_t)sprintf(*acked + *len, "%s%s", *len > 1 ? "," : "",
		    id);
		n++;
	}
	json_decref(doc);
	return n;
}

static void
t_sigkill_during_ingest(void)
{
	unsigned seed = (unsigned)time(NULL);
	struct curl_slist *h = NULL;
	struct client cl[CLIENTS];
	char auth[200], sql[128], *acked;
	size_t len, cap;
	const char *v;
	int round, i, running, seq, done, kill_after, killed, total = 0;
	CURLM *m;
	CURLMsg *msg;
	struct resp *r;

	r = http("POST", "/v1/cost-centers", admin_key,
	    "{\"id\":\"crash\",\"name\":\"Crash test\"}", NULL);
	CHECK(r->status == 201 || r->status == 409, "%s", r->body);
	resp_free(r);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", gateway_key);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	srand(seed);
	for (round = 0; round < ROUNDS && !test_failed; round++) {
		m = curl_multi_init();
		cap = 4096;
		acked = malloc(cap);
		strcpy(acked, "{");
		len = 1;
		seq = 0;
		done = 0;
		killed = 0;
		/* Kill after a random number of answered requests: the
		 * moment falls anywhere in the stream of commits. */
		kill_after = 1 + rand() % 40;
		for (i = 0; i < CLIENTS; i++)
			client_start(m, &cl[i], h, round, seq++);
		running = CLIENTS;
		while (running > 0) {
			curl_multi_perform(m, &running);
			while ((msg = curl_multi_info_read(m, &i)) != NULL) {
				struct client *c;
				long st = 0;

				if (msg->msg != CURLMSG_DONE)
					continue;
				curl_easy_getinfo(msg->easy_handle,
				    CURLINFO_PRIVATE, (char **)&c);
				curl_easy_getinfo(c->e, CURLINFO_RESPONSE_CODE, &st);
				if (st == 200)
					total += take_acks(c, &acked, &len, &cap);
				curl_multi_remove_handle(m, c->e);
				curl_easy_cleanup(c->e);
				free(c->body);
				free(c->reply);
				done++;
				if (!killed && done >= kill_after) {
					CHECK(server_kill() == 0, "kill failed");
					killed = 1;
				}
				if (!killed) {
					client_start(m, c, h, round, seq++);
					running++;
				}
			}
			if (running > 0)
				curl_multi_poll(m, NULL, 0, 100, NULL);
		}
		curl_multi_cleanup(m);
		strcpy(acked + len, "}");
		CHECK(server_start() == 0, "restart failed (round %d)", round);
		/* Every acknowledged id, once. */
		{
			size_t qlen = len + 200;
			char *q = malloc(qlen), *want = malloc(32);
			int n_acked = 0;
			const char *p;

			for (p = acked; *p != '\0'; p++)
				n_acked += *p == ',';
			n_acked += len > 1;
			snprintf(q, qlen, "SELECT count(*) FROM transactions WHERE "
			    "kind = 'usage' AND idempotency_key = ANY ('%s')",
			    acked);
			snprintf(want, 32, "%d", n_acked);
			v = db_value(q);
			CHECK(v != NULL && strcmp(v, want) == 0, "round %d (seed "
			    "%u): %s of %d acknowledged ids are booked", round,
			    seed, v != NULL ? v : "?", n_acked);
			free(q);
			free(want);
		}
		free(acked);
	}
	curl_slist_free_all(h);
	snprintf(sql, sizeof sql, "%d", total);
	CHECK(total > 0, "no event was acknowledged at all");
	r = http("GET", "/v1/ledger/verify", admin_key, NULL, NULL);
	CHECK(json_is_true(json_object_get(r->json, "ok")), "%s", r->body);
	resp_free(r);
}

const struct itest crash_tests[] = {
	{ "every acknowledged event survives SIGKILL of the server, 20 times",
	  t_sigkill_during_ingest },
	{ NULL, NULL }
};
