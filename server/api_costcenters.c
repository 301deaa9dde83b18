/*
 * api_costcenters.c - the cost-center tree: create, list, read with the
 * subtree, change (rename, owner, tags, archive). Each change and its
 * audit record are written by one statement, so neither exists without
 * the other.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "server/api.h"
#include "server/budgets.h"

#define NAME_MAX_LEN 200
#define TAGS_MAX 50

int
api_check_tags(struct tg_req *r, json_t *tags, const char *field)
{
	const char *k;
	json_t *v;
	char f[160];

	if (!json_is_object(tags) || json_object_size(tags) > TAGS_MAX) {
		http_reply_error(r, 400, "invalid_field", field, "%s must be an "
		    "object of at most %d string values", field, TAGS_MAX);
		return -1;
	}
	json_object_foreach(tags, k, v) {
		snprintf(f, sizeof f, "%s.%.64s", field, k);
		if (strlen(k) == 0 || strlen(k) > 64 || !json_is_string(v) ||
		    json_string_length(v) > 256) {
			http_reply_error(r, 400, "invalid_field", f, "tag keys "
			    "must be 1 to 64 bytes and values strings of at "
			    "most 256 bytes");
			return -1;
		}
	}
	return 0;
}

static void
center_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	const char *status;
	json_t *c;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	status = PQgetvalue(res->res, 0, 0);
	if (strcmp(status, "exists") == 0) {
		http_reply_error(r, 409, "cost_center_exists", "id",
		    "cost center %s exists", json_string_value(
		    json_object_get(r->body, "id")));
		return;
	}
	if (strcmp(status, "no_parent") == 0) {
		http_reply_error(r, 400, "unknown_parent", "id", "the parent of "
		    "%s does not exist; create it first", json_string_value(
		    json_object_get(r->body, "id")));
		return;
	}
	if (strcmp(status, "parent_archived") == 0) {
		http_reply_error(r, 400, "unknown_parent", "id", "the parent of "
		    "%s is archived", json_string_value(json_object_get(r->body,
		    "id")));
		return;
	}
	if (strcmp(status, "not_found") == 0) {
		http_reply_error(r, 404, "unknown_cost_center", NULL,
		    "no cost center %s", r->arg);
		return;
	}
	c = json_loads(PQgetvalue(res->res, 0, 1), 0, NULL);
	/* Decisions on this instance know the change at once. */
	budgets_cost_center_seen(r->srv->budgets,
	    json_string_value(json_object_get(c, "id")),
	    json_is_true(json_object_get(c, "archived")));
	http_reply_json(r, strcmp(status, "created") == 0 ? 201 : 200, c);
}

void
api_cost_center_create(struct tg_req *r)
{
	static const char *const fields[] = { "id", "name", "owner", "tags",
	    NULL };
	const char *id, *name, *owner, *params[5];
	json_t *tags = json_object_get(r->body, "tags");
	char *tags_s;

	if (api_reject_unknown(r, r->body, "", fields) != 0 ||
	    api_get_string(r, r->body, "id", "id", 1, 190, &id) != 0 ||
	    api_get_string(r, r->body, "name", "name", 1, NAME_MAX_LEN,
	    &name) != 0 ||
	    api_get_string(r, r->body, "owner", "owner", 0, NAME_MAX_LEN,
	    &owner) != 0)
		return;
	if (!api_cost_center_id_ok(id)) {
		http_reply_error(r, 400, "invalid_field", "id", "id must be a "
		    "path of segments of a-z 0-9 _ - . (each starting with a "
		    "letter or digit, at most 64 bytes) joined by /");
		return;
	}
	if (tags != NULL && api_check_tags(r, tags, "tags") != 0)
		return;
	tags_s = tags != NULL ? json_dumps(tags, JSON_COMPACT) : NULL;
	params[0] = id;
	params[1] = name;
	params[2] = owner != NULL ? owner : "";
	params[3] = tags_s != NULL ? tags_s : "{}";
	params[4] = r->key.id;
	(void)http_query(r, "cost_center_create", 5, params, center_cb);
	free(tags_s);
}

void
api_cost_center_update(struct tg_req *r)
{
	static const char *const fields[] = { "name", "owner", "tags",
	    "archived", NULL };
	const char *name, *owner, *params[6];
	json_t *tags = json_object_get(r->body, "tags");
	json_t *archived = json_object_get(r->body, "archived");
	char *tags_s = NULL;

	if (api_reject_unknown(r, r->body, "", fields) != 0 ||
	    api_get_string(r, r->body, "name", "name", 0, NAME_MAX_LEN,
	    &name) != 0 ||
	    api_get_string(r, r->body, "owner", "owner", 0, NAME_MAX_LEN,
	    &owner) != 0)
		return;
	if (name != NULL && *name == '\0') {
		http_reply_error(r, 400, "invalid_field", "name",
		    "name must not be empty");
		return;
	}
	if (archived != NULL && !json_is_boolean(archived)) {
		http_reply_error(r, 400, "invalid_field", "archived",
		    "archived must be true or false");
		return;
	}
	if (tags != NULL && api_check_tags(r, tags, "tags") != 0)
		return;
	if (tags != NULL)
		tags_s = json_dumps(tags, JSON_COMPACT);
	params[0] = r->arg;
	params[1] = name;
	params[2] = owner;
	params[3] = tags_s;
	params[4] = archived == NULL ? NULL : json_is_true(archived) ?
	    "true" : "false";
	params[5] = r->key.id;
	(void)http_query(r, "cost_center_update", 6, params, center_cb);
	free(tags_s);
}

static void
list_cb(void *arg, const struct db_result *res)
{
	api_reply_column(arg, res, "cost_centers");
}

void
api_cost_center_list(struct tg_req *r)
{
	const char *all = http_param(r, "include_archived");
	const char *params[1];

	if (all != NULL && strcmp(all, "true") != 0 &&
	    strcmp(all, "false") != 0) {
		http_reply_error(r, 400, "invalid_parameter", "include_archived",
		    "include_archived must be true or false");
		return;
	}
	params[0] = all != NULL && strcmp(all, "true") == 0 ? "true" : "false";
	(void)http_query(r, "cost_center_list", 1, params, list_cb);
}

static void
get_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	json_t *c;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	if (PQntuples(res->res) != 1) {
		http_reply_error(r, 404, "unknown_cost_center", NULL,
		    "no cost center %s", r->arg);
		return;
	}
	c = json_loads(PQgetvalue(res->res, 0, 0), 0, NULL);
	json_object_set_new(c, "subtree", json_loads(PQgetvalue(res->res, 0,
	    1), 0, NULL));
	http_reply_json(r, 200, c);
}

void
api_cost_center_get(struct tg_req *r)
{
	const char *params[1] = { r->arg };

	if (!api_cost_center_id_ok(r->arg)) {
		http_reply_error(r, 404, "unknown_cost_center", NULL,
		    "no cost center %.200s", r->arg);
		return;
	}
	(void)http_query(r, "cost_center_get", 1, params, get_cb);
}
