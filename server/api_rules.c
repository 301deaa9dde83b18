/*
 * api_rules.c - allocation rules: which cost center an event goes to when
 * it names none, by its user, its key or one of its tags, in the order of
 * the rules' positions (then the key's default cost center). The rules
 * are applied by usage_ingest() in the database, so every instance books
 * by a change at once; decisions apply the same rules from memory (this
 * instance at once, others within a second). Each change and its audit
 * record are one statement.
 */
#include <stdlib.h>
#include <string.h>

#include "server/api.h"
#include "server/budgets.h"

static void
rule_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	const char *status;
	json_t *rule;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	status = PQgetvalue(res->res, 0, 0);
	if (strcmp(status, "unknown_cost_center") == 0) {
		http_reply_error(r, 400, "unknown_cost_center", "cost_center",
		    "no such cost center (or it is archived)");
		return;
	}
	if (strcmp(status, "not_found") == 0) {
		http_reply_error(r, 404, "unknown_allocation_rule", NULL,
		    "no allocation rule %s", r->arg);
		return;
	}
	rule = json_loads(PQgetvalue(res->res, 0, 1), 0, NULL);
	/* Decisions on this instance route by the change at once. */
	budgets_rule_changed(r->srv->budgets, status, rule);
	http_reply_json(r, strcmp(status, "created") == 0 ? 201 : 200, rule);
}

void
api_rule_create(struct tg_req *r)
{
	static const char *const fields[] = { "position", "match", "tag",
	    "value", "cost_center", NULL };
	const char *match, *tag, *value, *cc, *params[6];
	json_t *pos = json_object_get(r->body, "position");
	char posbuf[16];

	if (api_reject_unknown(r, r->body, "", fields) != 0 ||
	    api_get_string(r, r->body, "match", "match", 1, 8, &match) != 0 ||
	    api_get_string(r, r->body, "tag", "tag", 0, 64, &tag) != 0 ||
	    api_get_string(r, r->body, "value", "value", 1, 256, &value) != 0 ||
	    api_get_string(r, r->body, "cost_center", "cost_center", 1, 190,
	    &cc) != 0)
		return;
	if (strcmp(match, "user") != 0 && strcmp(match, "key") != 0 &&
	    strcmp(match, "tag") != 0) {
		http_reply_error(r, 400, "invalid_field", "match",
		    "match must be user, key or tag");
		return;
	}
	if ((strcmp(match, "tag") == 0) != (tag != NULL && *tag != '\0')) {
		http_reply_error(r, 400, "invalid_field", "tag", "tag names the "
		    "tag key, and is given exactly when match is tag");
		return;
	}
	if (pos == NULL || !json_is_integer(pos) || json_integer_value(pos) < 0 ||
	    json_integer_value(pos) > 1000000) {
		http_reply_error(r, 400, "invalid_field", "position",
		    "position must be an integer from 0 to 1000000");
		return;
	}
	snprintf(posbuf, sizeof posbuf, "%lld", (long long)json_integer_value(pos));
	params[0] = posbuf;
	params[1] = match;
	params[2] = tag;
	params[3] = value;
	params[4] = cc;
	params[5] = r->key.id;
	(void)http_query(r, "allocation_rule_create", 6, params, rule_cb);
}

void
api_rule_delete(struct tg_req *r)
{
	const char *params[2] = { r->arg, r->key.id };

	if (strlen(r->arg) > 18 || strspn(r->arg, "0123456789") !=
	    strlen(r->arg)) {
		http_reply_error(r, 404, "unknown_allocation_rule", NULL,
		    "no allocation rule %.40s", r->arg);
		return;
	}
	(void)http_query(r, "allocation_rule_delete", 2, params, rule_cb);
}

static void
list_cb(void *arg, const struct db_result *res)
{
	api_reply_column(arg, res, "rules");
}

void
api_rule_list(struct tg_req *r)
{
	(void)http_query(r, "allocation_rule_list", 0, NULL, list_cb);
}
