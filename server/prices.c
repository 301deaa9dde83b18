/*
 * prices.c - keeping the price book current.
 *
 * Versions are read back from PostgreSQL as native documents (SQL builds
 * them from the tables) and parsed by the same code that reads an upload,
 * so what is priced is exactly what was stored. A rebuilt book replaces
 * the old one in one pointer assignment between two requests: a request
 * never sees half a book.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "server/http.h"
#include "server/log.h"
#include "server/prices.h"
#include "server/sqlfiles.h"

struct pricing_book *
prices_book_from_result(PGresult *res, char *err, size_t errsz)
{
	struct pricing_book *b = pricing_book_new();
	struct pricing_table *t;
	struct field_err fe;
	json_error_t jerr;
	json_t *doc;
	const char *why;
	int i;

	if (b == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	for (i = 0; i < PQntuples(res); i++) {
		doc = json_loads(PQgetvalue(res, i, 2), 0, &jerr);
		t = doc != NULL ? price_json_native(doc, &fe) : NULL;
		json_decref(doc);
		if (t == NULL) {
			snprintf(err, errsz, "price version %s cannot be read: "
			    "%s", PQgetvalue(res, i, 0), doc != NULL ?
			    fe.message : jerr.text);
			pricing_book_free(b);
			return NULL;
		}
		if (pricing_book_add(b, atoll(PQgetvalue(res, i, 0)),
		    atoll(PQgetvalue(res, i, 1)), t, &why) != 0) {
			snprintf(err, errsz, "price version %s: %s",
			    PQgetvalue(res, i, 0), why);
			pricing_book_free(b);
			return NULL;
		}
	}
	return b;
}

static void
stamp_of(PGresult *res, int64_t *count, int64_t *max_id)
{
	int i;

	*count = PQntuples(res);
	*max_id = 0;
	for (i = 0; i < PQntuples(res); i++)
		if (atoll(PQgetvalue(res, i, 0)) > *max_id)
			*max_id = atoll(PQgetvalue(res, i, 0));
}

struct pricing_book *
prices_load_sync(PGconn *conn, int64_t *count, int64_t *max_id, char *err,
    size_t errsz)
{
	PGresult *res;
	struct pricing_book *b;

	res = PQexec(conn, db_statement_text("price_versions_load"));
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errsz, "%s", PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	b = prices_book_from_result(res, err, errsz);
	stamp_of(res, count, max_id);
	PQclear(res);
	return b;
}

struct reload {
	struct tg_server *srv;
	void (*done)(void *, int);
	void *arg;
};

static void
reload_cb(void *arg, const struct db_result *r)
{
	struct reload *rl = arg;
	struct tg_server *srv = rl->srv;
	struct pricing_book *b = NULL;
	char err[400], esc[450];
	int ok = 0;

	if (r->status == DB_OK &&
	    (b = prices_book_from_result(r->res, err, sizeof err)) != NULL) {
		pricing_book_free(srv->prices);
		srv->prices = b;
		stamp_of(r->res, &srv->prices_count, &srv->prices_max_id);
		log_info("event=prices_loaded versions=%zu",
		    pricing_book_count(b));
		ok = 1;
	} else if (r->status == DB_OK)
		log_error("event=prices_load_failed error=%s",
		    log_escape(err, esc, sizeof esc));
	if (rl->done != NULL)
		rl->done(rl->arg, ok);
	free(rl);
}

void
prices_reload(struct tg_server *srv, void (*done)(void *, int), void *arg)
{
	struct reload *rl = malloc(sizeof *rl);

	if (rl == NULL) {
		if (done != NULL)
			done(arg, 0);
		return;
	}
	rl->srv = srv;
	rl->done = done;
	rl->arg = arg;
	if (db_query(srv->db, "price_versions_load", 0, NULL, reload_cb,
	    rl) != 0) {
		free(rl);
		if (done != NULL)
			done(arg, 0);
	}
}

static void
stamp_cb(void *arg, const struct db_result *r)
{
	struct tg_server *srv = arg;

	srv->prices_polling = 0;
	if (srv->prices_poll_again) {
		srv->prices_poll_again = 0;
		event_active(srv->prices_poll, EV_TIMEOUT, 0);
	}
	if (r->status != DB_OK || PQntuples(r->res) != 1)
		return;
	if (atoll(PQgetvalue(r->res, 0, 0)) != srv->prices_count ||
	    atoll(PQgetvalue(r->res, 0, 1)) != srv->prices_max_id)
		prices_reload(srv, NULL, NULL);
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tg_server *srv = arg;

	(void)fd;
	(void)what;
	if (srv->prices_polling)
		return;
	/* Set first: the callback may run before db_query returns. */
	srv->prices_polling = 1;
	if (db_query(srv->db, "price_versions_stamp", 0, NULL, stamp_cb,
	    srv) != 0)
		srv->prices_polling = 0;
}

void
prices_changed(struct tg_server *srv)
{
	/* A poll under way may have read before the change committed. */
	if (srv->prices_polling)
		srv->prices_poll_again = 1;
	else if (srv->prices_poll != NULL)
		event_active(srv->prices_poll, EV_TIMEOUT, 0);
}

int
prices_watch_start(struct tg_server *srv)
{
	struct timeval tv = { PRICES_POLL_S, 0 };

	srv->prices_poll = event_new(srv->base, -1, EV_PERSIST, poll_cb, srv);
	if (srv->prices_poll == NULL || event_add(srv->prices_poll, &tv) != 0)
		return -1;
	return 0;
}

void
prices_watch_stop(struct tg_server *srv)
{
	if (srv->prices_poll != NULL)
		event_free(srv->prices_poll);
	srv->prices_poll = NULL;
}

int
prices_prepare(json_t *doc, const char *format,
    const struct pricing_table *prev, char **stored, json_t **report,
    struct field_err *err)
{
	struct pricing_table *t;
	json_t *canon;

	*stored = NULL;
	*report = json_object();
	if (strcmp(format, "native") == 0) {
		t = price_json_native(doc, err);
		json_object_set_new(*report, "source", json_string("native"));
	} else if (strcmp(format, "litellm") == 0) {
		t = price_json_litellm(doc, prev, *report, err);
	} else {
		err->code = "invalid_parameter";
		snprintf(err->field, sizeof err->field, "format");
		snprintf(err->message, sizeof err->message,
		    "format must be native or litellm");
		t = NULL;
	}
	if (t == NULL) {
		json_decref(*report);
		*report = NULL;
		return -1;
	}
	json_object_set_new(*report, "price_entries",
	    json_integer((json_int_t)pricing_table_count(t)));
	canon = price_json_dump(t);
	pricing_table_free(t);
	*stored = json_dumps(canon, JSON_COMPACT);
	json_decref(canon);
	if (*stored == NULL) {
		json_decref(*report);
		*report = NULL;
		err->code = "internal_error";
		snprintf(err->field, sizeof err->field, "%s", "");
		snprintf(err->message, sizeof err->message, "out of memory");
		return -1;
	}
	return 0;
}
