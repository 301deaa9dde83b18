/*
 * prices.h - the server's price book: every price version, loaded from
 * PostgreSQL into memory so that pricing never waits on the database, and
 * reloaded when a version is added (by this instance at once, by another
 * instance within PRICES_POLL_S seconds).
 */
#ifndef TOLLGATE_PRICES_H
#define TOLLGATE_PRICES_H

#include <jansson.h>
#include <libpq-fe.h>

#include "pricing/pricing.h"
#include "server/price_json.h"

#define PRICES_POLL_S 5

struct tg_server;

/* A book from the rows of the price_versions_load statement. */
struct pricing_book *prices_book_from_result(PGresult *res, char *err,
    size_t errsz);

/* Synchronously, for start-up and the command line; *count and *max_id
 * say which versions it holds (for the reload poll). */
struct pricing_book *prices_load_sync(PGconn *conn, int64_t *count,
    int64_t *max_id, char *err, size_t errsz);

/* Reload now; done(arg, 1) once the new book is in place, (arg, 0) when
 * the database could not be read (the old book stays). done may be NULL. */
void prices_reload(struct tg_server *srv, void (*done)(void *, int),
    void *arg);

/* Start and stop the poll for versions added by other instances. */
int prices_watch_start(struct tg_server *srv);
/* A price version was added elsewhere (a notification): check now. */
void prices_changed(struct tg_server *srv);
void prices_watch_stop(struct tg_server *srv);

/*
 * Turn an uploaded document (format "native" or "litellm") into what
 * price_version_create stores: the canonical native document (as text, to
 * free()) and the import report. prev is the table in force now (for
 * LiteLLM's carried-over aliases and discounts), may be NULL. -1 with err.
 */
int prices_prepare(json_t *doc, const char *format,
    const struct pricing_table *prev, char **stored, json_t **report,
    struct field_err *err) __attribute__((warn_unused_result));

#endif
