/*
 * api_ledger.c - the first ledger endpoints: manual adjustments, balances
 * and the trial balance.
 *
 * An adjustment is validated completely in C (ledger_postings_check) before
 * anything is sent, then posted by one statement (ledger_post) that is
 * idempotent on the key: a retry with the same content gets the original
 * transaction back, the same key with other content gets 409. PostgreSQL's
 * deferred zero-sum constraint is the second line of defence.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <openssl/sha.h>

#include "ledger/ledger.h"
#include "server/api.h"

#define MEMO_MAX 1000
#define KEY_MAX 200


static int
parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0)
		return -1;
	*out = v;
	return 0;
}

static void
adjust_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	const char *status;
	json_t *reply;

	if (res->status == DB_ERROR && (strncmp(res->sqlstate, "22", 2) == 0 ||
	    strncmp(res->sqlstate, "23", 2) == 0)) {
		http_reply_error(r, 400, "rejected", NULL,
		    "the ledger refused the transaction: %s", res->message);
		return;
	}
	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	status = PQgetvalue(res->res, 0, 0);
	if (strcmp(status, "conflict") == 0) {
		http_reply_error(r, 409, "idempotency_conflict",
		    "idempotency_key", "idempotency key already used by "
		    "transaction %s with different content",
		    PQgetvalue(res->res, 0, 1));
		return;
	}
	reply = r->draft;
	r->draft = NULL;
	json_object_set_new(reply, "status", json_string(status));
	json_object_set_new(reply, "transaction_id",
	    json_string(PQgetvalue(res->res, 0, 1)));
	json_object_set_new(reply, "recorded_at",
	    json_string(PQgetvalue(res->res, 0, 2)));
	/* A duplicate answers with the original's time, not this retry's. */
	json_object_set_new(reply, "occurred_at",
	    json_string(PQgetvalue(res->res, 0, 3)));
	http_reply_json(r, strcmp(status, "recorded") == 0 ? 201 : 200, reply);
}

/* Append s to buf as a quoted PostgreSQL array element. */
static void
array_add_text(struct evbuffer *buf, const char *s, int first)
{
	evbuffer_add_printf(buf, "%s\"", first ? "" : ",");
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			evbuffer_add(buf, "\\", 1);
		evbuffer_add(buf, s, 1);
	}
	evbuffer_add(buf, "\"", 1);
}

void
api_ledger_adjust(struct tg_req *r)
{
	static const char *const top[] = { "idempotency_key", "occurred_at",
	    "memo", "postings", NULL };
	static const char *const pfields[] = { "account", "amount", NULL };
	struct ledger_posting ps[LEDGER_POSTINGS_MAX];
	char field[64], prefix[64], tbuf[LEDGER_TIME_BUFSZ];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	unsigned char digest[SHA256_DIGEST_LENGTH];
	const char *key, *memo, *occ, *why, *params[8];
	json_t *postings, *p, *canon, *out_postings;
	struct evbuffer *accts = NULL, *amts = NULL;
	int64_t occurred_us;
	size_t i, n;
	char *canon_s, *accts_s, *amts_s;
	int bad;

	if (api_reject_unknown(r, r->body, "", top) != 0 ||
	    api_get_string(r, r->body, "idempotency_key", "idempotency_key", 1,
	    KEY_MAX, &key) != 0 ||
	    api_get_string(r, r->body, "memo", "memo", 0, MEMO_MAX, &memo) != 0 ||
	    api_get_string(r, r->body, "occurred_at", "occurred_at", 0, 64,
	    &occ) != 0)
		return;
	if (occ != NULL) {
		if (ledger_time_parse(occ, strlen(occ), &occurred_us, &why) != 0) {
			http_reply_error(r, 400, "invalid_field", "occurred_at",
			    "occurred_at must be an RFC 3339 time stamp: %s",
			    why);
			return;
		}
	} else
		occurred_us = http_wall_now_us();
	postings = json_object_get(r->body, "postings");
	if (postings == NULL) {
		http_reply_error(r, 400, "missing_field", "postings",
		    "postings is required");
		return;
	}
	n = json_array_size(postings);
	if (!json_is_array(postings) || n < 2 || n > LEDGER_POSTINGS_MAX) {
		http_reply_error(r, 400, "invalid_field", "postings",
		    "postings must be an array of 2 to %d postings",
		    LEDGER_POSTINGS_MAX);
		return;
	}
	for (i = 0; i < n; i++) {
		p = json_array_get(postings, i);
		snprintf(prefix, sizeof prefix, "postings[%zu].", i);
		if (!json_is_object(p)) {
			snprintf(field, sizeof field, "postings[%zu]", i);
			http_reply_error(r, 400, "invalid_field", field,
			    "%s must be an object", field);
			return;
		}
		if (api_reject_unknown(r, p, prefix, pfields) != 0)
			return;
		snprintf(field, sizeof field, "postings[%zu].account", i);
		if (api_get_string(r, p, "account", field, 1,
		    LEDGER_ACCOUNT_MAX, &ps[i].account) != 0)
			return;
		snprintf(field, sizeof field, "postings[%zu].amount", i);
		if (api_money_field(r, json_object_get(p, "amount"), field,
		    &ps[i].amount) != 0)
			return;
	}
	if (ledger_postings_check(ps, n, &bad, &why) != 0) {
		if (bad < 0) {
			http_reply_error(r, 400, "unbalanced", "postings",
			    "postings: %s", why);
			return;
		}
		snprintf(field, sizeof field, "postings[%d].%s", bad,
		    ledger_account_check(ps[bad].account, &why) != 0 ?
		    "account" : "amount");
		if (ledger_postings_check(ps, n, &bad, &why) == 0)
			why = "invalid";
		http_reply_error(r, 400, "invalid_field", field, "%s: %s",
		    field, why);
		return;
	}

	/* The request hash covers the content, not the spelling: "10" and
	 * "10.00" are the same amount. A missing occurred_at is hashed as
	 * missing, so a retry later still matches. */
	out_postings = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(out_postings, json_pack("{s:s, s:o}",
		    "account", ps[i].account, "amount", api_money(ps[i].amount)));
	ledger_time_format(occurred_us, tbuf);
	canon = json_pack("{s:s, s:s?, s:s, s:O}", "k", key, "o",
	    occ != NULL ? tbuf : NULL, "m", memo != NULL ? memo : "", "p",
	    out_postings);
	canon_s = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(canon);
	if (canon_s == NULL) {
		json_decref(out_postings);
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	SHA256((const unsigned char *)canon_s, strlen(canon_s), digest);
	free(canon_s);
	keys_hex(digest, sizeof digest, hex);

	r->draft = json_pack("{s:s, s:s, s:s, s:o}", "idempotency_key", key,
	    "occurred_at", tbuf, "memo", memo != NULL ? memo : "", "postings",
	    out_postings);
	accts = evbuffer_new();
	amts = evbuffer_new();
	if (r->draft == NULL || accts == NULL || amts == NULL)
		goto oom;
	evbuffer_add(accts, "{", 1);
	evbuffer_add(amts, "{", 1);
	for (i = 0; i < n; i++) {
		array_add_text(accts, ps[i].account, i == 0);
		evbuffer_add_printf(amts, "%s%lld", i == 0 ? "" : ",",
		    (long long)ps[i].amount);
	}
	evbuffer_add(accts, "}", 2);	/* with the NUL */
	evbuffer_add(amts, "}", 2);
	accts_s = (char *)evbuffer_pullup(accts, -1);
	amts_s = (char *)evbuffer_pullup(amts, -1);
	if (accts_s == NULL || amts_s == NULL)
		goto oom;
	params[0] = "adjustment";
	params[1] = key;
	params[2] = hex;
	params[3] = tbuf;
	params[4] = memo != NULL ? memo : "";
	params[5] = r->key.id;
	params[6] = accts_s;
	params[7] = amts_s;
	(void)http_query(r, "ledger_post", 8, params, adjust_cb);
	evbuffer_free(accts);
	evbuffer_free(amts);
	return;
oom:
	if (accts != NULL)
		evbuffer_free(accts);
	if (amts != NULL)
		evbuffer_free(amts);
	http_reply_error(r, 500, "internal_error", NULL, "out of memory");
}

static void
balances_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	const char *account = http_param(r, "account");
	json_t *rows;
	int64_t debits, credits, balance;
	int i, n;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	n = PQntuples(res->res);
	if (n == 0 && account != NULL) {
		http_reply_error(r, 404, "unknown_account", "account",
		    "no account %s", account);
		return;
	}
	rows = json_array();
	for (i = 0; i < n; i++) {
		if (parse_int64(PQgetvalue(res->res, i, 2), &debits) != 0 ||
		    parse_int64(PQgetvalue(res->res, i, 3), &credits) != 0 ||
		    __builtin_sub_overflow(debits, credits, &balance)) {
			json_decref(rows);
			http_reply_error(r, 500, "internal_error", NULL,
			    "a balance is out of range");
			return;
		}
		json_array_append_new(rows, json_pack("{s:s, s:s, s:o, s:o, s:o}",
		    "account", PQgetvalue(res->res, i, 0),
		    "currency", PQgetvalue(res->res, i, 1),
		    "debits", api_money(debits), "credits", api_money(credits),
		    "balance", api_money(balance)));
	}
	http_reply_json(r, 200, json_pack("{s:o}", "balances", rows));
}

void
api_ledger_balances(struct tg_req *r)
{
	const char *account = http_param(r, "account");
	const char *subtree = http_param(r, "subtree"), *why;
	char from[LEDGER_TIME_BUFSZ], to[LEDGER_TIME_BUFSZ];
	const char *params[4];
	int64_t from_us = 0, to_us = 0;
	int has_from, has_to, sub = 0;

	if (account != NULL && ledger_account_check(account, &why) != 0) {
		http_reply_error(r, 400, "invalid_parameter", "account",
		    "account: %s", why);
		return;
	}
	if (subtree != NULL) {
		if (strcmp(subtree, "true") == 0)
			sub = 1;
		else if (strcmp(subtree, "false") != 0) {
			http_reply_error(r, 400, "invalid_parameter", "subtree",
			    "subtree must be true or false");
			return;
		}
		if (sub && account == NULL) {
			http_reply_error(r, 400, "invalid_parameter", "subtree",
			    "subtree=true needs an account");
			return;
		}
	}
	if (api_param_time(r, "from", &from_us, &has_from) != 0 ||
	    api_param_time(r, "to", &to_us, &has_to) != 0)
		return;
	if (has_from && has_to && from_us >= to_us) {
		http_reply_error(r, 400, "invalid_parameter", "to",
		    "to must be later than from");
		return;
	}
	ledger_time_format(from_us, from);
	ledger_time_format(to_us, to);
	params[0] = account;
	params[1] = sub ? "true" : "false";
	params[2] = has_from ? from : NULL;
	params[3] = has_to ? to : NULL;
	(void)http_query(r, "ledger_balances", 4, params, balances_cb);
}

/* PostgreSQL's array text of ids, {1,2,3}, as a list of strings. */
static json_t *
id_list(const char *list)
{
	json_t *out = json_array();
	char *end;

	if (*list == '{')
		list++;
	while (*list >= '0' && *list <= '9') {
		strtoll(list, &end, 10);
		json_array_append_new(out, json_stringn(list,
		    (size_t)(end - list)));
		list = *end == ',' ? end + 1 : end;
	}
	return out;
}

/* Verify's checks, in ledger_verify.sql's columns from the fourth on:
 * each a list of what differs, ids or JSON objects, empty when it holds. */
static const struct {
	const char *name;
	int ids;
} checks[] = {
	{ "unbalanced_transactions", 1 },
	{ "rollup_differences", 0 },
	{ "posting_differences", 0 },
	{ "meter_differences", 0 },
	{ "orphan_events", 1 },
	{ "orphan_transactions", 1 },
	{ "allocation_differences", 0 },
	{ "cost_center_rollup_differences", 0 },
	{ "user_rollup_differences", 0 },
	{ "tag_rollup_differences", 0 },
	{ "hourly_rollup_differences", 0 },
	{ "root_differences", 0 },
	{ "period_rollup_differences", 0 },
	{ "user_tag_rollup_differences", 0 },
};

static void
verify_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	json_t *out, *list;
	const char *v;
	int64_t tb;
	size_t i;
	int ok;

	db_release(r->state);
	r->state = NULL;
	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	out = json_object();
	ok = parse_int64(PQgetvalue(res->res, 0, 2), &tb) == 0;
	json_object_set_new(out, "transactions",
	    json_integer(atoll(PQgetvalue(res->res, 0, 0))));
	json_object_set_new(out, "postings",
	    json_integer(atoll(PQgetvalue(res->res, 0, 1))));
	json_object_set_new(out, "trial_balance", ok ? api_money(tb) :
	    json_string(PQgetvalue(res->res, 0, 2)));
	ok = ok && tb == 0;
	for (i = 0; i < sizeof checks / sizeof checks[0]; i++) {
		v = PQgetvalue(res->res, 0, 3 + (int)i);
		list = checks[i].ids ? id_list(v) : json_loads(v, 0, NULL);
		if (list == NULL)
			list = json_array();
		ok = ok && json_array_size(list) == 0;
		json_object_set_new(out, checks[i].name, list);
	}
	json_object_set_new(out, "ok", json_boolean(ok));
	http_reply_json(r, 200, out);
}

/* The held connection's steps: a snapshot, its own timeout, then verify
 * in it. */
static void
verify_step(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	char ms[16];
	const char *params[1] = { ms };

	if (res->status != DB_OK) {
		db_release(r->state);
		r->state = NULL;
		http_reply_db_failure(r, res);
		return;
	}
	if (r->state == NULL) {
		r->state = res->held;
		snprintf(ms, sizeof ms, "%d", r->srv->cfg.verify_timeout_ms);
		if (db_query_held(r->state, "tx_statement_timeout", 1, params,
		    verify_step, r) == 0)
			return;
	} else if (db_query_held(r->state, "ledger_verify", 0, NULL,
	    verify_cb, r) == 0)
		return;
	db_release(r->state);
	r->state = NULL;
	http_reply_unavailable(r);
}

/* Verify reads the whole ledger: on a large one, longer than the pool's
 * statement timeout allows (a year of 10 million events: about 100 s),
 * so it runs on a held connection in a transaction of its own timeout,
 * TOLLGATE_VERIFY_TIMEOUT_MS, and one snapshot. */
void
api_ledger_verify(struct tg_req *r)
{
	r->state = NULL;
	if (db_query_hold(r->srv->db, "tx_snapshot", 0, NULL, verify_step,
	    r) != 0)
		http_reply_unavailable(r);
}
