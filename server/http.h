/*
 * http.h - the HTTP edge: the server context, the per-request context, the
 * routing table's shape, and the reply helpers every handler uses.
 *
 * A handler receives a request that is routed, authenticated, authorised and
 * (for routes that take one) carries a parsed JSON object body. It must end
 * the request exactly once with one of the http_reply_* functions, now or
 * from a database callback; after that call the request is gone.
 */
#ifndef TOLLGATE_HTTP_H
#define TOLLGATE_HTTP_H

#include <stdint.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "server/config.h"
#include "server/db.h"
#include "server/keys.h"

struct metrics;
struct pricing_book;
struct ingest;
struct budgets;

struct tg_server {
	struct tg_config cfg;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct db_pool *db;
	struct key_cache *keys;
	struct metrics *metrics;
	uint64_t req_seq;
	uint32_t boot_id;
	struct pricing_book *prices;	/* every price version, in memory */
	int64_t prices_count, prices_max_id;	/* what the book was built from */
	struct event *prices_poll;
	struct ingest *ingest;
	struct budgets *budgets;
	struct leases *leases;
	struct spool *spool;		/* NULL unless TOLLGATE_SPOOL_DIR */
	int prices_polling, prices_poll_again;
	int inflight;
	int draining;
	int64_t drain_start_us;
};

struct tg_req;
typedef void (*tg_handler)(struct tg_req *r);

enum route_body { BODY_NONE, BODY_JSON_OBJECT, BODY_RAW };

struct tg_route {
	enum evhttp_cmd_type method;
	/* Exact, or a prefix route ending in a slash and a star: then the
	 * rest of the path is the request's `arg` (a cost center id, with
	 * its slashes). */
	const char *path;
	tg_handler fn;
	int roles;		/* enum key_role bits; 0 = no key needed */
	enum route_body body;	/* BODY_RAW: the handler reads it itself */
	const char *params;	/* allowed query parameters, space-separated */
};

extern const struct tg_route tg_routes[];
extern const size_t tg_nroutes;

struct tg_req {
	struct tg_server *srv;
	struct evhttp_request *ev;
	size_t route;		/* index into tg_routes; tg_nroutes = none */
	int64_t start_us;
	char id[68];
	char path[256];
	const char *arg;	/* the rest of the path after a prefix route */
	struct evkeyvalq query;
	struct key_info key;	/* the caller, when the route needs a key */
	unsigned char key_hash[KEY_HASH_LEN];
	json_t *body;		/* the parsed body, when the route takes one */
	json_t *draft;		/* a handler's reply in progress; freed at the end */
	int stream_status;	/* a streamed reply's status, once started */
	void *state;		/* a handler's own, across callbacks; its to free */
};

/* Bind and serve; returns -1 with a message in err. */
int http_start(struct tg_server *srv, char *err, size_t errsz)
    __attribute__((warn_unused_result));
/* Stop accepting new connections (existing ones finish). */
void http_stop_accepting(struct tg_server *srv);
void http_free(struct tg_server *srv);

/* Reply with a JSON document; steals body. */
void http_reply_json(struct tg_req *r, int status, json_t *body);
/* Reply with the error envelope {"error":{code,message,field,request_id}}. */
void http_reply_error(struct tg_req *r, int status, const char *code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Reply to a database outcome other than DB_OK: 503 when unavailable,
 * 500 otherwise. */
void http_reply_db_failure(struct tg_req *r, const struct db_result *res);
/* Reply with a ready buffer (its contents are moved) of type ctype. */
void http_reply_buffer(struct tg_req *r, int status, const char *ctype,
    struct evbuffer *buf);

/*
 * A reply streamed in chunks (GET only): start sends the status and
 * headers, end the last chunk; abort closes the connection without it, so
 * that the client knows the body is incomplete. End and abort free r.
 */
void http_stream_start(struct tg_req *r, int status, const char *ctype);
void http_stream_chunk(struct tg_req *r, struct evbuffer *buf);
void http_stream_end(struct tg_req *r);
/* Bytes sent but not yet taken by the client; -1 when it is gone. */
int http_stream_backlog(struct tg_req *r, size_t *bytes);
void http_stream_abort(struct tg_req *r);

/* A query-string parameter, or NULL. Parameters are checked against the
 * route's list before the handler runs, and repeats are refused. */
const char *http_param(struct tg_req *r, const char *name);

/*
 * Run a prepared statement for this request; cb gets the request as arg.
 * Returns 0 when queued; when the database is unavailable it has already
 * replied 503 and returns -1: the caller just returns.
 */
int http_query(struct tg_req *r, const char *stmt, int n,
    const char *const *values, db_cb cb);
/* Reply 503 database_unavailable: the database took no statement (a
 * handler that runs its own, on a held connection, after freeing its
 * state: the reply frees the request). */
void http_reply_unavailable(struct tg_req *r);

/* Monotonic microseconds, for durations. */
int64_t http_now_us(void);
/* Microseconds since the epoch, for time stamps. */
int64_t http_wall_now_us(void);

#endif
