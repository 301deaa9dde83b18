/*
 * db.h - PostgreSQL from the event loop, without ever blocking it.
 *
 * A pool of non-blocking libpq connections, each driven by events on its
 * socket. Every connection prepares the named statements of sql/queries/
 * once after it connects; callers run them by name. Queries wait in one
 * FIFO for a free connection, at most db_queue_timeout_ms. When PostgreSQL
 * goes away, connections reconnect with backoff on their own, and queries
 * submitted while no connection is up are refused at once, so that the
 * caller can answer 503 instead of hanging.
 */
#ifndef TOLLGATE_DB_H
#define TOLLGATE_DB_H

#include <stdint.h>

#include <libpq-fe.h>

struct event_base;
struct tg_config;
struct db_pool;
struct db_held;

enum db_status {
	DB_OK,			/* res holds the rows */
	DB_ERROR,		/* PostgreSQL refused the statement: sqlstate */
	DB_UNAVAILABLE,		/* no connection, or it broke mid-query */
	DB_TIMEOUT,		/* waited too long for a free connection */
	DB_SHUTDOWN		/* the server is stopping */
};

struct db_result {
	enum db_status status;
	PGresult *res;		/* borrowed: valid during the callback only */
	const char *sqlstate;	/* "" unless DB_ERROR */
	const char *message;	/* never NULL */
	struct db_held *held;	/* db_query_hold's connection, on DB_OK */
};

typedef void (*db_cb)(void *arg, const struct db_result *r);

struct db_stats {
	int connections, up, busy, queued;
	uint64_t queries, errors, unavailable, timeouts, reconnects;
};

/* Start connecting; returns NULL only when out of memory. */
struct db_pool *db_pool_new(struct event_base *base,
    const struct tg_config *cfg);

/* Fail everything outstanding with DB_SHUTDOWN, close, free. NULL is fine. */
void db_pool_free(struct db_pool *pool);

/*
 * Connections made from now on LISTEN on channels tollgate_config and
 * tollgate_settle; cb(arg, channel, payload) is called for each
 * notification, on every connection (so more than once per change), from
 * inside the pool's event handling: it must not wait. Set before the pool
 * connects.
 */
void db_pool_listen(struct db_pool *pool,
    void (*cb)(void *, const char *, const char *), void *arg);

/* True when at least one connection is ready for queries. */
int db_pool_up(const struct db_pool *pool);

/*
 * Run the prepared statement `name` with text parameters (NULL for SQL
 * NULL; the values are copied). Returns 0 when queued: cb is then called
 * exactly once, usually later from the event loop, but before db_query
 * returns when sending fails at once (so set any "waiting" state before
 * calling). Returns -1 when refused at once (no connection up, unknown
 * statement): cb is never called.
 */
int db_query(struct db_pool *pool, const char *name, int nparams,
    const char *const *values, db_cb cb, void *arg)
    __attribute__((warn_unused_result));

/*
 * Like db_query, but on success the connection that ran the statement
 * stays with the caller (res->held) for the statements that follow, run
 * with db_query_held one at a time, until db_release gives it back. A
 * failed statement holds nothing.
 */
int db_query_hold(struct db_pool *pool, const char *name, int nparams,
    const char *const *values, db_cb cb, void *arg)
    __attribute__((warn_unused_result));
/* Run a statement on a held connection; -1 (cb never called) when the
 * connection broke meanwhile or is still running one. */
int db_query_held(struct db_held *h, const char *name, int nparams,
    const char *const *values, db_cb cb, void *arg)
    __attribute__((warn_unused_result));
/* Give a held connection back, rolling back any transaction it has open;
 * frees h. NULL is fine. */
void db_release(struct db_held *h);

void db_pool_stats(const struct db_pool *pool, struct db_stats *st);

/*
 * Synchronous helpers for start-up and command-line tools only, before the
 * event loop runs: connect (with the configured statement timeout) or
 * return NULL and a one-line reason in err.
 */
PGconn *db_connect_sync(const struct tg_config *cfg, char *err, size_t errsz);

/* The SQL of a named statement of sql/queries/, or NULL. */
const char *db_statement_text(const char *name);

/* "dbname on host:port" (or socket directory), never the password. */
void db_describe(PGconn *conn, char *buf, size_t bufsz);

#endif
