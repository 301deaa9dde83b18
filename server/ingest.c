/*
 * ingest.c - usage events in.
 *
 * A request's events are checked and priced here, one by one: a bad event
 * gets its own "rejected" result and the good ones beside it go on. The
 * good ones become rows for usage_book_cols() (sql/0023_ingest_answer_less.sql),
 * a batch sent as one array per column, which books each new id once and
 * answers duplicate or conflict for ids it has seen, whenever and however
 * they came (the spool keeps rows as JSON, for usage_ingest()). Requests
 * queue while batches are committing and are committed together next; a
 * request's events are never split across batches, so a request either
 * gets every outcome or, when the database fails, a 503 to retry the
 * whole of it (the ids make that retry safe).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/sha.h>

#include "ledger/ledger.h"
#include "server/api.h"
#include "server/budgets.h"
#include "server/canon.h"
#include "server/ingest.h"
#include "server/log.h"
#include "server/pgarr.h"
#include "server/spool.h"
#include "server/tz.h"
#include "server/usage_json.h"

#define ID_MAX 200
#define USER_MAX 200
#define RESERVATION_MAX 100

struct event {
	const char *id, *provider, *model, *cc, *user, *reservation, *status;
	int tier;
	int64_t at_us, latency, reported;
	int has_at, has_latency, has_reported;
	json_t *tags;
	struct pricing_usage u;
};

/* A checked event, priced, as it goes to usage_book_cols(). Its strings
 * point into the request's parsed body, which lives as long as the row. */
struct irow {
	int ok;			/* checked: it goes to the database */
	struct event e;
	char hash[2 * SHA256_DIGEST_LENGTH + 1];
	const char *unpriced;	/* why it has no price (static), or NULL */
	int64_t version;	/* the price version, when priced */
	int64_t list, cost;
	int64_t ml[PM_COUNT], mc[PM_COUNT];	/* per meter, when priced */
	/* Booked by this request's commit: its reply is written from these,
	 * without a JSON object of its own (most events of a batch). */
	int recorded;
	int64_t tx_id, booked_cost;
};

struct ureq {
	TAILQ_ENTRY(ureq) link;
	struct tg_req *r;
	int single;		/* the body was one event object */
	size_t n;		/* events */
	json_t *results;	/* one slot per event, in order */
	json_t *events;		/* the parsed body the rows point into */
	struct irow *rows;	/* per event; ok when it goes to the database */
	size_t nrows;
	size_t base;		/* ordinal of this request's first row */
	int spooled;		/* its rows are in the spool, not booked yet */
};
TAILQ_HEAD(ureq_list, ureq);

/* One commit's worth of requests. */
struct batch {
	struct ingest *in;
	struct ureq_list reqs;
	size_t events;
	int64_t sent_us;	/* for the debug log's commit time */
};

struct ingest {
	struct tg_server *srv;
	struct event *linger;		/* a short wait to gather a batch */
	struct ureq_list queue;
	int inflight;			/* batches being committed */
	size_t queued;			/* events waiting in queue */
	size_t answered;		/* events of the last commit */
	int stopping;
};

static void flush(struct ingest *in);

static void
linger_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush(arg);
}

struct ingest *
ingest_new(struct tg_server *srv)
{
	struct ingest *in = calloc(1, sizeof *in);

	if (in == NULL)
		return NULL;
	in->srv = srv;
	TAILQ_INIT(&in->queue);
	if ((in->linger = evtimer_new(srv->base, linger_cb, in)) == NULL) {
		free(in);
		return NULL;
	}
	return in;
}

static void
ureq_free(struct ureq *u)
{
	free(u->rows);
	json_decref(u->results);
	json_decref(u->events);
	free(u);
}

static void
fail_list(struct ureq_list *list)
{
	struct ureq *u;

	while ((u = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, u, link);
		http_reply_error(u->r, 503, "database_unavailable", NULL,
		    "the database is unavailable; nothing of this request was "
		    "booked twice: retry it");
		ureq_free(u);
	}
}

void
ingest_stop(struct ingest *in)
{
	if (in == NULL)
		return;
	in->stopping = 1;
	fail_list(&in->queue);
	in->queued = 0;
}

void
ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	fail_list(&in->queue);
	if (in->linger != NULL)
		event_free(in->linger);
	free(in);
}

static json_t *
rejected(size_t index, const char *id, const char *code, const char *field,
    const char *message)
{
	return json_pack("{s:I, s:s?, s:s, s:{s:s, s:s, s:s?}}", "index",
	    (json_int_t)index, "id", id, "status", "rejected", "error", "code",
	    code, "message", message, "field", field);
}

/*
 * {"results":[...]}: an event booked by this request's commit is written
 * here directly, as jansson would write its object (a 1000-event reply
 * built as objects cost more than the booking's own work in the server);
 * every other outcome is its own object in u->results.
 */
static void
reply_results(struct ureq *u)
{
	struct evbuffer *buf = evbuffer_new();
	char money[LEDGER_MONEY_BUFSZ], num[32];
	const struct irow *row;
	json_t *slot;
	char *s;
	size_t i;
	int fail = buf == NULL;

	if (!fail)
		evbuffer_add(buf, "{\"results\":[", 12);
	for (i = 0; i < u->n && !fail; i++) {
		row = &u->rows[i];
		if (i > 0)
			evbuffer_add(buf, ",", 1);
		if (row->recorded) {
			snprintf(num, sizeof num, "%zu", i);
			evbuffer_add_printf(buf, "{\"index\":%s,\"id\":", num);
			api_json_text(buf, row->e.id);
			ledger_money_format(row->booked_cost, money);
			evbuffer_add_printf(buf, ",\"status\":\"recorded\","
			    "\"transaction_id\":\"%lld\",\"cost\":\"%s\","
			    "\"currency\":\"USD\"", (long long)row->tx_id, money);
			if (row->unpriced != NULL) {
				evbuffer_add(buf, ",\"unpriced\":", 12);
				api_json_text(buf, row->unpriced);
			}
			evbuffer_add(buf, "}", 1);
			continue;
		}
		slot = json_array_get(u->results, i);
		if ((s = json_dumps(slot, JSON_COMPACT)) == NULL) {
			fail = 1;
			break;
		}
		evbuffer_add(buf, s, strlen(s));
		free(s);
	}
	if (fail) {
		if (buf != NULL)
			evbuffer_free(buf);
		http_reply_error(u->r, 500, "internal_error", NULL,
		    "the reply could not be built");
		return;
	}
	evbuffer_add(buf, "]}\n", 3);
	http_reply_buffer(u->r, u->spooled ? 202 : 200, "application/json", buf);
	evbuffer_free(buf);
}

/* Reply once every event has its outcome. */
static void
reply(struct ureq *u)
{
	json_t *one = json_array_get(u->results, 0);
	json_t *err = json_object_get(one, "error");

	if (u->single && err != NULL) {
		const char *status = json_string_value(json_object_get(one,
		    "status"));

		http_reply_error(u->r, strcmp(status, "conflict") == 0 ? 409 :
		    400, json_string_value(json_object_get(err, "code")),
		    json_string_value(json_object_get(err, "field")), "%s",
		    json_string_value(json_object_get(err, "message")));
	} else
		reply_results(u);
	ureq_free(u);
}

static int
name_ok(const char *s, int provider)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (provider ? !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || c == '.') : (c <= 0x20 || c >= 0x7f))
			return 0;
	}
	return i > 0;
}

#define REJECT(code, field, ...) do { \
	snprintf(msg, sizeof msg, __VA_ARGS__); \
	*result = rejected(index, e->id, (code), (field), msg); \
	return -1; \
} while (0)

/* Check one event into e; -1 with *result set to its rejection. */
static int
check_event(json_t *ev, size_t index, struct event *e, json_t **result)
{
	static const char *const fields[] = { "id", "occurred_at", "provider",
	    "model", "service_tier", "usage", "usage_openai", "usage_anthropic",
	    "usage_gemini", "cost_center", "user", "tags", "reservation_id",
	    "latency_ms", "status", "reported_cost", NULL };
	char msg[600];
	const char *k, *s, *why;
	struct field_err fe;
	json_t *v;
	size_t i;

	memset(e, 0, sizeof *e);
	e->tier = PT_STANDARD;
	if (!json_is_object(ev))
		REJECT("invalid_body", NULL, "an event must be a JSON object");
	if ((v = json_object_get(ev, "id")) != NULL && json_is_string(v))
		e->id = json_string_value(v);
	json_object_foreach(ev, k, v) {
		for (i = 0; fields[i] != NULL && strcmp(k, fields[i]) != 0; i++)
			;
		if (fields[i] == NULL)
			REJECT("unknown_field", k, "unknown field %.64s", k);
	}
	if (e->id == NULL || json_string_length(json_object_get(ev, "id")) >
	    ID_MAX || !name_ok(e->id, 0))
		REJECT(json_object_get(ev, "id") == NULL ? "missing_field" :
		    "invalid_field", "id", "id is required: a string of 1 to "
		    "%d printable characters without spaces", ID_MAX);
	s = json_string_value(json_object_get(ev, "provider"));
	if (s == NULL || strlen(s) > PRICING_PROVIDER_MAX || !name_ok(s, 1))
		REJECT(json_object_get(ev, "provider") == NULL ?
		    "missing_field" : "invalid_field", "provider", "provider is "
		    "required: 1 to %d characters from a-z 0-9 _ - .",
		    PRICING_PROVIDER_MAX);
	e->provider = s;
	s = json_string_value(json_object_get(ev, "model"));
	if (s == NULL || strlen(s) > PRICING_MODEL_MAX || !name_ok(s, 0))
		REJECT(json_object_get(ev, "model") == NULL ? "missing_field" :
		    "invalid_field", "model", "model is required: 1 to %d "
		    "printable characters without spaces", PRICING_MODEL_MAX);
	e->model = s;
	if ((v = json_object_get(ev, "service_tier")) != NULL &&
	    !json_is_null(v) && (!json_is_string(v) ||
	    (e->tier = pricing_tier_parse(json_string_value(v))) < 0))
		REJECT("invalid_field", "service_tier", "service_tier must be "
		    "standard, batch, flex or priority");
	if ((v = json_object_get(ev, "occurred_at")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_string(v) || ledger_time_parse(json_string_value(v),
		    json_string_length(v), &e->at_us, &why) != 0)
			REJECT("invalid_field", "occurred_at", "occurred_at must "
			    "be an RFC 3339 time stamp");
		e->has_at = 1;
	} else
		e->at_us = http_wall_now_us();
	if (usage_json_parse(ev, &e->u, &fe) != 0)
		REJECT(fe.code, fe.field, "%s", fe.message);
	if ((v = json_object_get(ev, "cost_center")) != NULL && !json_is_null(v)) {
		char acct[LEDGER_ACCOUNT_MAX + 16];

		if (!json_is_string(v) || json_string_length(v) > 190)
			REJECT("invalid_field", "cost_center", "cost_center must "
			    "be a cost-center path");
		snprintf(acct, sizeof acct, "expense:%s", json_string_value(v));
		if (ledger_account_check(acct, &why) != 0)
			REJECT("invalid_field", "cost_center", "cost_center must "
			    "be a cost-center path: %s", why);
		e->cc = json_string_value(v);
	}
	if ((v = json_object_get(ev, "user")) != NULL && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_length(v) > USER_MAX ||
		    json_string_length(v) == 0)
			REJECT("invalid_field", "user", "user must be a string "
			    "of 1 to %d bytes", USER_MAX);
		e->user = json_string_value(v);
	}
	if ((v = json_object_get(ev, "tags")) != NULL && !json_is_null(v)) {
		const char *tk;
		json_t *tv;

		if (!json_is_object(v) || json_object_size(v) > 50)
			REJECT("invalid_field", "tags", "tags must be an object "
			    "of at most 50 string values");
		json_object_foreach(v, tk, tv)
			if (strlen(tk) == 0 || strlen(tk) > 64 ||
			    !json_is_string(tv) || json_string_length(tv) > 256)
				REJECT("invalid_field", "tags", "tag keys must "
				    "be 1 to 64 bytes and values strings of at "
				    "most 256 bytes");
		e->tags = v;
	}
	if ((v = json_object_get(ev, "reservation_id")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_string(v) || json_string_length(v) >
		    RESERVATION_MAX || !name_ok(json_string_value(v), 0))
			REJECT("invalid_field", "reservation_id", "reservation_id "
			    "must be a string of 1 to %d printable characters",
			    RESERVATION_MAX);
		e->reservation = json_string_value(v);
	}
	if ((v = json_object_get(ev, "latency_ms")) != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 86400000LL * 30)
			REJECT("invalid_field", "latency_ms", "latency_ms must be "
			    "a non-negative integer");
		e->latency = json_integer_value(v);
		e->has_latency = 1;
	}
	e->status = "ok";
	if ((v = json_object_get(ev, "status")) != NULL && !json_is_null(v)) {
		s = json_string_value(v);
		if (s == NULL || (strcmp(s, "ok") != 0 && strcmp(s, "error") != 0 &&
		    strcmp(s, "cancelled") != 0))
			REJECT("invalid_field", "status", "status must be ok, "
			    "error or cancelled");
		e->status = s;
	}
	if ((v = json_object_get(ev, "reported_cost")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_string(v) || ledger_money_parse(json_string_value(v),
		    json_string_length(v), &e->reported, &why) != 0)
			REJECT("invalid_field", "reported_cost", "reported_cost "
			    "must be a decimal string of money");
		e->has_reported = 1;
	}
	/* Without a cost center of its own, the database applies the
	 * allocation rules, then the key's default. */
	return 0;
}

#ifdef TOLLGATE_CHECK_HASH
/* The canonical text as it was first defined, with jansson: test builds
 * check every event's text against it. */
static char *
event_canon_jansson(const struct event *e, json_t *ev, const char *kcc)
{
	char tbuf[LEDGER_TIME_BUFSZ];
	json_t *q = json_array(), *c;
	char *s;
	int m;

	for (m = 0; m < PM_COUNT; m++)
		json_array_append_new(q, json_integer(e->u.q[m]));
	ledger_time_format(e->at_us, tbuf);
	c = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:o, s:O?, s:s?, s:s?, "
	    "s:O?, s:s?, s:s, s:o, s:o}",
	    "id", e->id, "at", e->has_at ? tbuf : NULL, "p", e->provider,
	    "m", e->model, "t", pricing_tier_name(e->tier), "q", q,
	    "cc", json_object_get(ev, "cost_center"),
	    "kcc", e->cc == NULL && kcc != NULL && *kcc != '\0' ? kcc : NULL,
	    "u", e->user,
	    "tg", e->tags != NULL && json_object_size(e->tags) > 0 ?
	    e->tags : NULL, "rs", e->reservation, "st", e->status,
	    "lat", e->has_latency ? json_integer(e->latency) : json_null(),
	    "rc", e->has_reported ? json_integer(e->reported) : json_null());
	s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(c);
	return s;
}
#endif

/*
 * The request hash covers what the event says, normalised: the same event
 * sent again, however spelt, is a duplicate; anything else is a conflict.
 * Its text is compact JSON with sorted keys, as jansson writes it (it was
 * first built with jansson, and hashes stored since must keep matching):
 * every key always, null for what is absent; absent and empty tags are
 * the same; the key's default cost center is part of what the event says
 * when it names none, so that two gateways sending one id with different
 * defaults conflict instead of merging into one cost center.
 */
static void
event_hash(const struct event *e, json_t *ev, const char *kcc,
    char hex[2 * SHA256_DIGEST_LENGTH + 1])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char tbuf[LEDGER_TIME_BUFSZ];
	json_t *cc = json_object_get(ev, "cost_center");
	struct canon c;
	const char *s;
	size_t len = 0;
	int m;

	canon_init(&c);
	canon_raw(&c, "{", 1);
	canon_key(&c, 1, "at");
	if (e->has_at) {
		ledger_time_format(e->at_us, tbuf);
		canon_str(&c, tbuf);
	} else
		canon_raw(&c, "null", 4);
	canon_key(&c, 0, "cc");
	canon_str_or_null(&c, json_string_value(cc));
	canon_key(&c, 0, "id");
	canon_str(&c, e->id);
	canon_key(&c, 0, "kcc");
	canon_str_or_null(&c, e->cc == NULL && kcc != NULL && *kcc != '\0' ?
	    kcc : NULL);
	canon_key(&c, 0, "lat");
	if (e->has_latency)
		canon_int(&c, e->latency);
	else
		canon_raw(&c, "null", 4);
	canon_key(&c, 0, "m");
	canon_str(&c, e->model);
	canon_key(&c, 0, "p");
	canon_str(&c, e->provider);
	canon_key(&c, 0, "q");
	canon_raw(&c, "[", 1);
	for (m = 0; m < PM_COUNT; m++) {
		if (m > 0)
			canon_raw(&c, ",", 1);
		canon_int(&c, e->u.q[m]);
	}
	canon_raw(&c, "]", 1);
	canon_key(&c, 0, "rc");
	if (e->has_reported)
		canon_int(&c, e->reported);
	else
		canon_raw(&c, "null", 4);
	canon_key(&c, 0, "rs");
	canon_str_or_null(&c, e->reservation);
	canon_key(&c, 0, "st");
	canon_str(&c, e->status);
	canon_key(&c, 0, "t");
	canon_str(&c, pricing_tier_name(e->tier));
	canon_key(&c, 0, "tg");
	if (e->tags != NULL && json_object_size(e->tags) > 0) {
		if (canon_strobj(&c, e->tags) != 0)
			c.oom = 1;	/* checked tags are strings: not reached */
	} else
		canon_raw(&c, "null", 4);
	canon_key(&c, 0, "u");
	canon_str_or_null(&c, e->user);
	canon_raw(&c, "}", 1);
	/* Out of memory: the hash of nothing, as before (the event then
	 * answers conflict on a retry rather than being lost). */
	s = canon_done(&c, &len);
#ifdef TOLLGATE_CHECK_HASH
	{
		char *j = event_canon_jansson(e, ev, kcc);

		if (s != NULL && j != NULL && strcmp(s, j) != 0) {
			log_error("event=hash_text_differs ours=\"%s\" "
			    "jansson=\"%s\"", s, j);
			abort();
		}
		free(j);
	}
#endif
	keys_hash(s != NULL ? s : "", s != NULL ? len : 0, digest);
	canon_free(&c);
	keys_hex(digest, sizeof digest, hex);
}

/* Price e; fills the quote, or the reason it is unpriced. */
static const char *
price_event(struct tg_server *srv, const struct event *e,
    struct pricing_quote *q, int64_t *version)
{
	const struct pricing_table *t;
	const struct pricing_entry *pe;
	const char *why;
	int priced;

	memset(q, 0, sizeof *q);
	*version = 0;
	t = srv->prices != NULL ? pricing_book_at(srv->prices, e->at_us,
	    version) : NULL;
	if (t == NULL)
		return "no price version was in force at occurred_at";
	if ((pe = pricing_table_find(t, e->provider, e->model, e->tier,
	    &priced)) == NULL)
		return "no price for this provider and model";
	if (pricing_cost(pe, &e->u, e->at_us, tz_offset, NULL, q, &why) != 0)
		return why;
	return NULL;
}

/* Hash and price a checked event into its row. */
static void
event_prepare(struct tg_req *r, json_t *ev, struct irow *row)
{
	const struct event *e = &row->e;
	struct pricing_quote q;
	int m, i;

	event_hash(e, ev, r->key.cost_center, row->hash);
	row->unpriced = price_event(r->srv, e, &q, &row->version);
	row->list = q.list_nanos;
	row->cost = q.cost_nanos;
	for (m = 0; m < PM_COUNT; m++)
		row->ml[m] = row->mc[m] = 0;
	for (i = 0; row->unpriced == NULL && i < q.n; i++) {
		row->ml[q.lines[i].meter] = q.lines[i].list_nanos;
		row->mc[q.lines[i].meter] = q.lines[i].cost_nanos;
	}
	row->ok = 1;
}

/* The usage_ingest() JSON row of an event, without its "n", as the spool
 * keeps it; NULL when out of memory. */
static char *
row_json(struct tg_req *r, const struct irow *row)
{
	const struct event *e = &row->e;
	char tbuf[LEDGER_TIME_BUFSZ];
	json_t *o, *qs = json_array(), *ms = json_array();
	char *s, *out;
	int m;

	for (m = 0; m < PM_COUNT; m++)
		json_array_append_new(qs, json_integer(e->u.q[m]));
	/* Every meter with a quantity is rolled up, priced or not (a
	 * request without a per-request price still counts as a request). */
	for (m = 0; m < PM_COUNT; m++)
		if (e->u.q[m] != 0)
			json_array_append_new(ms, json_pack("{s:s, s:I, s:I, s:I}",
			    "meter", pricing_meter_name(m),
			    "q", (json_int_t)e->u.q[m], "l", (json_int_t)row->ml[m],
			    "c", (json_int_t)row->mc[m]));
	ledger_time_format(e->at_us, tbuf);
	o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:s, s:s, s:s?, s:O?, "
	    "s:s, s:I, s:I, s:s, s:o, s:o}",
	    "key", e->id, "hash", row->hash, "occurred_at", tbuf, "cc", e->cc,
	    "kcc", r->key.cost_center[0] != '\0' ? r->key.cost_center : NULL,
	    "provider", e->provider, "model", e->model,
	    "tier", pricing_tier_name(e->tier), "user", e->user,
	    "tags", e->tags, "key_id", r->key.id,
	    "list_cost", (json_int_t)row->list,
	    "cost", (json_int_t)row->cost, "status", e->status,
	    "q", qs, "m", ms);
	if (row->unpriced != NULL)
		json_object_set_new(o, "unpriced", json_string(row->unpriced));
	else
		json_object_set_new(o, "pv", json_integer(row->version));
	if (e->reservation != NULL)
		json_object_set_new(o, "reservation_id",
		    json_string(e->reservation));
	if (e->has_latency)
		json_object_set_new(o, "latency_ms", json_integer(e->latency));
	if (e->has_reported)
		json_object_set_new(o, "reported_cost",
		    json_integer(e->reported));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return NULL;
	/* Drop the leading '{': the spool writes its own in front. */
	out = strdup(s + 1);
	free(s);
	return out;
}

/*
 * PostgreSQL cannot be reached: with a spool, the batch's rows go to it
 * (durably) and each request hears "spooled" (202); without one, or when
 * the spool cannot take them, 503. Either way the batch is done.
 */
/* Append a request's rows to the spool, in the JSON it replays. */
static int
spool_request(struct ingest *in, struct ureq *u)
{
	char **text;
	size_t i;
	int rc = 0;

	if ((text = calloc(u->n, sizeof *text)) == NULL)
		return -1;
	for (i = 0; i < u->n && rc == 0; i++)
		if (u->rows[i].ok && (text[i] = row_json(u->r, &u->rows[i])) ==
		    NULL)
			rc = -1;
	if (rc == 0)
		rc = spool_append(in->srv->spool, text, u->n);
	for (i = 0; i < u->n; i++)
		free(text[i]);
	free(text);
	return rc;
}

static void
spool_or_fail(struct ingest *in, struct ureq_list *reqs)
{
	struct ureq *u;
	size_t i;
	json_t *slot;

	if (in->srv->spool == NULL) {
		fail_list(reqs);
		return;
	}
	/* Request by request: those on disk hear 202, the first that
	 * cannot be written and all after it hear 503. */
	while ((u = TAILQ_FIRST(reqs)) != NULL) {
		if (spool_request(in, u) != 0) {
			fail_list(reqs);
			return;
		}
		TAILQ_REMOVE(reqs, u, link);
		for (i = 0; i < u->n; i++) {
			if (!u->rows[i].ok)
				continue;
			slot = json_array_get(u->results, i);
			json_object_set_new(slot, "status", json_string("spooled"));
		}
		u->spooled = 1;
		reply(u);
	}
}

/* A booked event, for the budgets: the booking answers its resolved cost
 * center, its cost and its transaction; the rest is the event as sent. */
static void
booked_event(struct ingest *in, const struct irow *row, PGresult *res,
    int i, uint64_t xid)
{
	const struct event *e = &row->e;
	struct budget_booked bk;

	bk.cost_center = PQgetvalue(res, i, 5);
	bk.at_us = e->at_us;
	bk.provider = e->provider;
	bk.model = e->model;
	bk.user = e->user;
	bk.tags = e->tags;
	bk.reservation = e->reservation;
	bk.xid = xid;
	bk.cost = atoll(PQgetvalue(res, i, 3));
	budgets_booked_event(in->srv->budgets, &bk);
}

static void
batch_cb(void *arg, const struct db_result *res)
{
	struct batch *b = arg;
	struct ingest *in = b->in;
	struct ureq *u, *best;
	struct irow *row;
	const char *status, *code;
	json_t *slot;
	size_t n, ev, k;
	uint64_t xid;
	int i;

	if (res->status != DB_OK) {
		/* A statement error is ours, not the client's: say so on
		 * every request of the batch (nothing was booked). */
		while (res->status == DB_ERROR &&
		    (u = TAILQ_FIRST(&b->reqs)) != NULL) {
			TAILQ_REMOVE(&b->reqs, u, link);
			http_reply_db_failure(u->r, res);
			ureq_free(u);
		}
		/* Unreachable mid-batch: it may have committed or not; a
		 * spooled copy is safe either way, since replaying a booked
		 * id only finds its duplicate. */
		spool_or_fail(in, &b->reqs);
		free(b);
		in->inflight--;
		flush(in);
		return;
	}
	/*
	 * The rows come in position order (usage_book_cols() sorts them),
	 * as the requests and their events were added: one cursor walks
	 * both. Row k of a request is its k-th event with a row.
	 */
	best = TAILQ_FIRST(&b->reqs);
	ev = 0;
	k = best != NULL ? best->base : 0;
	xid = 0;
	for (i = 0; i < PQntuples(res->res) && best != NULL; i++) {
		n = (size_t)atoll(PQgetvalue(res->res, i, 0));
		while (best != NULL && (ev == best->n ||
		    ((u = TAILQ_NEXT(best, link)) != NULL && n >= u->base))) {
			best = TAILQ_NEXT(best, link);
			ev = 0;
			k = best != NULL ? best->base : 0;
		}
		if (best == NULL || n < best->base)
			break;
		for (; ev < best->n; ev++)
			if (best->rows[ev].ok && k++ == n)
				break;
		if (ev == best->n)
			continue;
		row = &best->rows[ev];
		status = PQgetvalue(res->res, i, 1);
		if (strcmp(status, "recorded") == 0) {
			if (xid == 0)
				xid = strtoull(PQgetvalue(res->res, i, 6), NULL, 10);
			booked_event(in, row, res->res, i, xid);
			row->recorded = 1;
			row->tx_id = atoll(PQgetvalue(res->res, i, 2));
			row->booked_cost = atoll(PQgetvalue(res->res, i, 3));
			ev++;
			continue;
		}
		slot = json_pack("{s:I, s:s, s:s}", "index", (json_int_t)ev,
		    "id", json_string_value(json_object_get(json_array_get(
		    best->results, ev), "id")), "status", status);
		if (strcmp(status, "duplicate") == 0) {
			json_object_set_new(slot, "transaction_id",
			    json_string(PQgetvalue(res->res, i, 2)));
			json_object_set_new(slot, "cost",
			    api_money(atoll(PQgetvalue(res->res, i, 3))));
			json_object_set_new(slot, "currency", json_string("USD"));
			if (*PQgetvalue(res->res, i, 4) != '\0')
				json_object_set_new(slot, "unpriced",
				    json_string(PQgetvalue(res->res, i, 4)));
		} else if (strcmp(status, "conflict") == 0) {
			json_object_set_new(slot, "transaction_id",
			    json_string(PQgetvalue(res->res, i, 2)));
			json_object_set_new(slot, "error", json_pack(
			    "{s:s, s:s, s:s}", "code", "idempotency_conflict",
			    "message", "this id was booked with other content",
			    "field", "id"));
		} else {
			code = status;
			json_object_set_new(slot, "status", json_string("rejected"));
			json_object_set_new(slot, "error", json_pack(
			    "{s:s, s:s, s:s}", "code", "unknown_cost_center",
			    "message", strcmp(code, "archived_cost_center") == 0 ?
			    "the cost center is archived" : "no such cost "
			    "center; or the event names none and no allocation "
			    "rule nor the key's default applies", "field",
			    "cost_center"));
		}
		json_array_set_new(best->results, ev, slot);
		ev++;
	}
	log_debug("event=ingest_committed events=%zu us=%lld inflight=%d",
	    b->events, (long long)(http_now_us() - b->sent_us), in->inflight);
	/* The next batch goes before these replies are built: PostgreSQL
	 * works on it meanwhile instead of waiting for our loop. */
	in->inflight--;
	in->answered = b->events;
	flush(in);
	while ((u = TAILQ_FIRST(&b->reqs)) != NULL) {
		TAILQ_REMOVE(&b->reqs, u, link);
		reply(u);
	}
	free(b);
}

/* The columns of usage_book_cols(), in its order. */
enum {
	C_KEY, C_HASH, C_AT, C_CC, C_KCC, C_PROVIDER, C_MODEL, C_TIER, C_USER,
	C_TAGS, C_KEY_ID, C_PV, C_UNPRICED, C_LIST, C_COST, C_REPORTED,
	C_STATUS, C_LATENCY, C_RESERVATION, C_Q, C_M_N, C_M_METER, C_M_Q,
	C_M_L, C_M_C, C_COUNT
};

/* Row `n` of a batch, from the request u's event row. */
static void
add_row(struct pgarr *c, struct tg_req *r, const struct irow *row, size_t n)
{
	const struct event *e = &row->e;
	char tbuf[LEDGER_TIME_BUFSZ];
	char *tags;
	int m;

	ledger_time_format(e->at_us, tbuf);
	pgarr_text(&c[C_KEY], e->id);
	pgarr_text(&c[C_HASH], row->hash);
	pgarr_text(&c[C_AT], tbuf);
	pgarr_text(&c[C_CC], e->cc);
	pgarr_text(&c[C_KCC], r->key.cost_center[0] != '\0' ?
	    r->key.cost_center : NULL);
	pgarr_text(&c[C_PROVIDER], e->provider);
	pgarr_text(&c[C_MODEL], e->model);
	pgarr_text(&c[C_TIER], pricing_tier_name(e->tier));
	pgarr_text(&c[C_USER], e->user);
	if (e->tags != NULL) {
		if ((tags = json_dumps(e->tags, JSON_COMPACT)) == NULL)
			c[C_TAGS].oom = 1;
		pgarr_text(&c[C_TAGS], tags);
		free(tags);
	} else
		pgarr_null(&c[C_TAGS]);
	pgarr_text(&c[C_KEY_ID], r->key.id);
	if (row->unpriced != NULL)
		pgarr_null(&c[C_PV]);
	else
		pgarr_int(&c[C_PV], row->version);
	pgarr_text(&c[C_UNPRICED], row->unpriced);
	pgarr_int(&c[C_LIST], row->list);
	pgarr_int(&c[C_COST], row->cost);
	if (e->has_reported)
		pgarr_int(&c[C_REPORTED], e->reported);
	else
		pgarr_null(&c[C_REPORTED]);
	pgarr_text(&c[C_STATUS], e->status);
	if (e->has_latency)
		pgarr_int(&c[C_LATENCY], e->latency);
	else
		pgarr_null(&c[C_LATENCY]);
	pgarr_text(&c[C_RESERVATION], e->reservation);
	pgarr_ints(&c[C_Q], e->u.q, PM_COUNT);
	/* Every meter with a quantity is rolled up, priced or not (a
	 * request without a per-request price still counts as a request). */
	for (m = 0; m < PM_COUNT; m++) {
		if (e->u.q[m] == 0)
			continue;
		pgarr_int(&c[C_M_N], (int64_t)n);
		pgarr_text(&c[C_M_METER], pricing_meter_name(m));
		pgarr_int(&c[C_M_Q], e->u.q[m]);
		pgarr_int(&c[C_M_L], row->ml[m]);
		pgarr_int(&c[C_M_C], row->mc[m]);
	}
}

/*
 * Whether a batch can be sent now: with nothing committing, whatever
 * waits; beside a running commit (up to TOLLGATE_INGEST_PARALLEL), only
 * TOLLGATE_INGEST_PARALLEL_MIN events or more. A commit costs PostgreSQL
 * about 0.8 ms of CPU whatever its size, then waits for the running one
 * to release the rollup rows they share: two commits at once pay for
 * themselves on large batches (1000-event requests: about 30% more
 * events a second) and cost single-event requests about 20%, whose
 * small batches then run beside each other instead of growing.
 */
static int
can_start(const struct ingest *in)
{
	if (TAILQ_EMPTY(&in->queue))
		return 0;
	if (in->inflight == 0)
		return 1;
	return in->inflight < in->srv->cfg.ingest_parallel &&
	    in->queued >= (size_t)in->srv->cfg.ingest_parallel_min;
}

/*
 * Send waiting requests as batches while can_start() says so. Concurrent
 * batches are safe: a key inserted by one and not yet committed makes the
 * other wait for it, then see it, and answer duplicate or conflict; rows
 * are written in key order so that two batches never wait on each other
 * in a circle.
 */
static void
flush(struct ingest *in)
{
	struct pgarr cols[C_COUNT];
	const char *params[C_COUNT + 1];
	struct batch *b;
	struct ureq *u;
	size_t total, i;
	int c, ok;

	while (!in->stopping && can_start(in)) {
		if ((b = calloc(1, sizeof *b)) == NULL) {
			fail_list(&in->queue);
			in->queued = 0;
			return;
		}
		b->in = in;
		TAILQ_INIT(&b->reqs);
		for (c = 0; c < C_COUNT; c++)
			pgarr_init(&cols[c]);
		total = 0;
		while ((u = TAILQ_FIRST(&in->queue)) != NULL &&
		    (total == 0 || total + u->nrows <=
		    (size_t)in->srv->cfg.ingest_batch)) {
			TAILQ_REMOVE(&in->queue, u, link);
			in->queued -= u->nrows;
			TAILQ_INSERT_TAIL(&b->reqs, u, link);
			u->base = total;
			for (i = 0; i < u->n; i++)
				if (u->rows[i].ok)
					add_row(cols, u->r, &u->rows[i], total++);
		}
		ok = 1;
		for (c = 0; c < C_COUNT; c++)
			if ((params[c] = pgarr_finish(&cols[c])) == NULL)
				ok = 0;
		params[C_COUNT] = in->srv->cfg.auto_create_cost_centers ?
		    "true" : "false";
		in->inflight++;
		b->events = total;
		b->sent_us = http_now_us();
		log_debug("event=ingest_batch events=%zu waiting=%zu inflight=%d",
		    total, in->queued, in->inflight);
		if (!ok || db_query(in->srv->db, "usage_book_cols", C_COUNT + 1,
		    params, batch_cb, b) != 0) {
			spool_or_fail(in, &b->reqs);
			free(b);
			in->inflight--;
		}
		for (c = 0; c < C_COUNT; c++)
			pgarr_free(&cols[c]);
	}
}

/* The events of the body: one object, an array, or NDJSON lines. Returns
 * the events array (new reference) or NULL having replied. *bad gets, per
 * event, null or why its NDJSON line is not JSON. */
static json_t *
read_events(struct tg_req *r, int *single, json_t **bad)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(r->ev);
	const char *ct = evhttp_find_header(
	    evhttp_request_get_input_headers(r->ev), "Content-Type");
	size_t len = evbuffer_get_length(body), i;
	const char *data, *line, *end, *nl;
	json_error_t jerr;
	json_t *doc, *events;
	char msg[300];

	*single = 0;
	*bad = json_array();
	if (len == 0) {
		http_reply_error(r, 400, "missing_body", NULL,
		    "a usage event, an array of them, or NDJSON is required");
		return NULL;
	}
	data = (const char *)evbuffer_pullup(body, -1);
	if (ct != NULL && strncasecmp(ct, "application/x-ndjson", 20) == 0) {
		events = json_array();
		/* i counts physical lines, so that an error names the line
		 * an editor shows. */
		for (line = data, end = data + len, i = 0; line < end;
		    line = nl + 1, i++) {
			nl = memchr(line, '\n', (size_t)(end - line));
			if (nl == NULL)
				nl = end;
			if (nl == line || (nl - line == 1 && *line == '\r'))
				continue;
			doc = json_loadb(line, (size_t)(nl - line),
			    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
			if (doc == NULL) {
				snprintf(msg, sizeof msg, "line %zu: malformed "
				    "JSON: %s", i + 1, jerr.text);
				json_array_append_new(*bad, json_string(msg));
				doc = json_null();
			} else
				json_array_append_new(*bad, json_null());
			json_array_append_new(events, doc);
		}
		return events;
	}
	if (ct != NULL && strncasecmp(ct, "application/json", 16) != 0) {
		http_reply_error(r, 415, "unsupported_media_type", NULL,
		    "the body must be application/json or application/x-ndjson");
		return NULL;
	}
	doc = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (doc == NULL) {
		http_reply_error(r, 400, "malformed_json", NULL,
		    "malformed JSON at line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
		return NULL;
	}
	if (json_is_object(doc)) {
		*single = 1;
		events = json_array();
		json_array_append_new(events, doc);
		return events;
	}
	if (!json_is_array(doc)) {
		json_decref(doc);
		http_reply_error(r, 400, "invalid_body", NULL, "the body must be "
		    "a usage event object or an array of them");
		return NULL;
	}
	return doc;
}

void
api_usage(struct tg_req *r)
{
	struct ingest *in = r->srv->ingest;
	struct ureq *u;
	json_t *events, *ev, *res, *bad;
	size_t i;
	int single;

	if ((events = read_events(r, &single, &bad)) == NULL) {
		json_decref(bad);
		return;
	}
	if (json_array_size(events) == 0 || json_array_size(events) >
	    (size_t)r->srv->cfg.ingest_max_events) {
		json_decref(events);
		json_decref(bad);
		http_reply_error(r, 400, "invalid_body", NULL, "a request carries "
		    "1 to %d events", r->srv->cfg.ingest_max_events);
		return;
	}
	if ((u = calloc(1, sizeof *u)) == NULL ||
	    (u->rows = calloc(json_array_size(events), sizeof *u->rows)) ==
	    NULL) {
		free(u);
		json_decref(events);
		json_decref(bad);
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	u->r = r;
	u->single = single;
	u->n = json_array_size(events);
	u->results = json_array();
	/* The rows point into the events: they live as long as u. */
	u->events = events;
	json_array_foreach(events, i, ev) {
		const char *malformed = json_string_value(json_array_get(bad, i));

		res = NULL;
		if (malformed != NULL)
			res = rejected(i, NULL, "malformed_json", NULL, malformed);
		else if (check_event(ev, i, &u->rows[i].e, &res) == 0) {
			event_prepare(r, ev, &u->rows[i]);
			u->nrows++;
			res = json_pack("{s:I, s:s}", "index", (json_int_t)i, "id",
			    u->rows[i].e.id);
		}
		json_array_append_new(u->results, res);
	}
	json_decref(bad);
	if (u->nrows == 0) {
		reply(u);
		return;
	}
	/* Back-pressure: past this many events waiting, say so now rather
	 * than let waiting requests and memory grow without end. */
	if (in->queued + u->nrows > (size_t)r->srv->cfg.ingest_batch * 20) {
		ureq_free(u);
		http_reply_error(r, 503, "database_busy", NULL, "too many usage "
		    "events are waiting to be committed; retry later");
		return;
	}
	in->queued += u->nrows;
	TAILQ_INSERT_TAIL(&in->queue, u, link);
	/*
	 * With nothing committing, commit once half as many events wait as
	 * the last commit answered: those clients are sending their next
	 * events now, and the other half then waits while the first commits
	 * and goes as soon as it ends. Clients that all wait for one commit
	 * at a time leave PostgreSQL idle while the replies and the next
	 * requests travel, about half of each cycle (single events at 64
	 * connections: 8k a second against 17k when the commits follow each
	 * other); a linger timer cannot split them, as libevent reads every
	 * request that came in before it looks at its timers. Otherwise,
	 * when a commit can start, wait a moment before committing, so that
	 * one commit takes many requests. A full batch goes at once; other
	 * requests go when a commit ends.
	 */
	if (in->queued >= (size_t)r->srv->cfg.ingest_batch ||
	    r->srv->cfg.ingest_linger_us == 0 ||
	    (in->inflight == 0 && 2 * in->queued >= in->answered))
		flush(in);
	else if (can_start(in) && !evtimer_pending(in->linger, NULL)) {
		struct timeval tv = { 0, r->srv->cfg.ingest_linger_us };

		evtimer_add(in->linger, &tv);
	}
}
