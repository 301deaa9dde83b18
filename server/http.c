/*
 * http.c - the HTTP edge on libevent's evhttp.
 *
 * Every request goes through one generic callback: route, authenticate
 * (API key from the cache, or one database lookup), check the query
 * parameters, parse the JSON body, then call the route's handler. Every
 * reply, success or error, goes through finish(), which writes the one log
 * line and the metrics for the request and frees its context.
 *
 * libevent answers some malformed requests itself (an oversized body, bad
 * headers) through evhttp_send_error(), with an HTML page. tollgate defines
 * evhttp_send_error() itself, which the dynamic linker prefers over
 * libevent's own (libevent calls it through its PLT), so that those answers
 * carry the same JSON error envelope as every other; the integration tests
 * check that this holds.
 */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "server/http.h"
#include "server/log.h"
#include "server/metrics.h"

static struct tg_server *the_server;	/* for evhttp_send_error() */

int64_t
http_wall_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
http_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *
method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

static int
dump_to_evbuffer(const char *buf, size_t size, void *data)
{
	return evbuffer_add(data, buf, size);
}

static void
log_request(struct tg_server *srv, const char *id, const char *method,
    const char *path, int status, int64_t us, const char *key)
{
	char esc[300];

	if (!log_enabled(LOG_INFO))
		return;
	log_write_batched(LOG_INFO, "req=%s method=%s path=%s status=%d "
	    "us=%lld key=%s",
	    id, method, log_escape(path, esc, sizeof esc), status,
	    (long long)us, key[0] != '\0' ? key : "-");
	(void)srv;
}

/* Log, count and free a request that has been answered. */
static void
done(struct tg_req *r, const char *method, int status)
{
	struct tg_server *srv = r->srv;
	int64_t us = http_now_us() - r->start_us;

	metrics_observe(srv->metrics, r->route, status, us);
	log_request(srv, r->id, method, r->path, status, us, r->key.id);
	evhttp_clear_headers(&r->query);
	json_decref(r->body);
	json_decref(r->draft);
	free(r);
	srv->inflight--;
}

/* Send, log, count, free: the one way a request ends. */
static void
finish(struct tg_req *r, int status, const char *ctype, struct evbuffer *buf)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
	/* Read before sending: a request whose client left is freed by it. */
	const char *method = method_name(evhttp_request_get_command(r->ev));

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "X-Request-Id", r->id);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (status == 503)
		evhttp_add_header(h, "Retry-After", "1");
	evhttp_send_reply(r->ev, status, NULL, buf);
	done(r, method, status);
}

void
http_reply_buffer(struct tg_req *r, int status, const char *ctype,
    struct evbuffer *buf)
{
	finish(r, status, ctype, buf);
}

void
http_stream_start(struct tg_req *r, int status, const char *ctype)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "X-Request-Id", r->id);
	evhttp_add_header(h, "Cache-Control", "no-store");
	r->stream_status = status;
	evhttp_send_reply_start(r->ev, status, NULL);
}

void
http_stream_chunk(struct tg_req *r, struct evbuffer *buf)
{
	evhttp_send_reply_chunk(r->ev, buf);
}

int
http_stream_backlog(struct tg_req *r, size_t *bytes)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(r->ev);
	struct bufferevent *bev;

	if (conn == NULL || (bev = evhttp_connection_get_bufferevent(conn)) ==
	    NULL)
		return -1;
	*bytes = evbuffer_get_length(bufferevent_get_output(bev));
	return 0;
}

void
http_stream_end(struct tg_req *r)
{
	evhttp_send_reply_end(r->ev);
	done(r, "GET", r->stream_status);
}

void
http_stream_abort(struct tg_req *r)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(r->ev);

	/* Without the last chunk the client sees the transfer cut short,
	 * never a complete-looking file. A client already gone left the
	 * request without a connection: ending it frees it. */
	if (conn != NULL)
		evhttp_connection_free(conn);
	else
		evhttp_send_reply_end(r->ev);
	done(r, "GET", 599);
}

void
http_reply_json(struct tg_req *r, int status, json_t *body)
{
	struct evbuffer *buf = evbuffer_new();

	if (buf == NULL || body == NULL ||
	    json_dump_callback(body, dump_to_evbuffer, buf, JSON_COMPACT) != 0) {
		json_decref(body);
		if (buf != NULL)
			evbuffer_free(buf);
		http_reply_error(r, 500, "internal_error", NULL,
		    "the reply could not be built");
		return;
	}
	json_decref(body);
	evbuffer_add(buf, "\n", 1);
	finish(r, status, "application/json", buf);
	evbuffer_free(buf);
}

static json_t *
error_body(const char *code, const char *field, const char *message,
    const char *request_id)
{
	return json_pack("{s:{s:s, s:s, s:s?, s:s}}", "error", "code", code,
	    "message", message, "field", field, "request_id", request_id);
}

void
http_reply_error(struct tg_req *r, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	char msg[512];
	struct evbuffer *buf;
	json_t *body;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	body = error_body(code, field, msg, r->id);
	if (status == 401)
		evhttp_add_header(evhttp_request_get_output_headers(r->ev),
		    "WWW-Authenticate", "Bearer");
	buf = evbuffer_new();
	if (buf != NULL && body != NULL) {
		json_dump_callback(body, dump_to_evbuffer, buf, JSON_COMPACT);
		evbuffer_add(buf, "\n", 1);
	}
	json_decref(body);
	finish(r, status, "application/json", buf);
	if (buf != NULL)
		evbuffer_free(buf);
}

void
http_reply_db_failure(struct tg_req *r, const struct db_result *res)
{
	char esc[400];

	switch (res->status) {
	case DB_ERROR:
		/* Transient: lock and serialization conflicts (class 40), a
		 * statement timeout, too many connections (53), a connection
		 * failure (08). The client should retry, not give up. */
		if (strncmp(res->sqlstate, "40", 2) == 0 ||
		    strcmp(res->sqlstate, "57014") == 0 ||
		    strncmp(res->sqlstate, "53", 2) == 0 ||
		    strncmp(res->sqlstate, "08", 2) == 0) {
			log_warn("req=%s event=db_transient sqlstate=%s", r->id,
			    res->sqlstate);
			http_reply_error(r, 503, "database_busy", NULL,
			    "the database could not finish the request in time "
			    "(SQLSTATE %s); retry later", res->sqlstate);
			return;
		}
		log_error("req=%s event=db_error sqlstate=%s error=%s", r->id,
		    res->sqlstate, log_escape(res->message, esc, sizeof esc));
		http_reply_error(r, 500, "internal_error", NULL,
		    "the database refused the request (SQLSTATE %s)",
		    res->sqlstate);
		return;
	case DB_TIMEOUT:
		http_reply_error(r, 503, "database_busy", NULL,
		    "the database is busy: %s; retry later", res->message);
		return;
	default:
		http_reply_unavailable(r);
		return;
	}
}

void
http_reply_unavailable(struct tg_req *r)
{
	http_reply_error(r, 503, "database_unavailable", NULL,
	    "the database is unavailable; retry later");
}

int
http_query(struct tg_req *r, const char *stmt, int n,
    const char *const *values, db_cb cb)
{
	if (db_query(r->srv->db, stmt, n, values, cb, r) == 0)
		return 0;
	http_reply_unavailable(r);
	return -1;
}

const char *
http_param(struct tg_req *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

/* Check the query string against the route's list; 0 or replied. */
static int
check_params(struct tg_req *r)
{
	const struct tg_route *rt = &tg_routes[r->route];
	const char *q = evhttp_uri_get_query(
	    evhttp_request_get_evhttp_uri(r->ev));
	struct evkeyval *kv, *kv2;
	const char *p, *allowed = rt->params != NULL ? rt->params : "";
	size_t len;
	int ok;

	if (q == NULL)
		return 0;
	if (evhttp_parse_query_str(q, &r->query) != 0) {
		http_reply_error(r, 400, "invalid_query", NULL,
		    "the query string is malformed");
		return -1;
	}
	TAILQ_FOREACH(kv, &r->query, next) {
		len = strlen(kv->key);
		ok = 0;
		for (p = allowed; *p != '\0'; p += strcspn(p, " "),
		    p += strspn(p, " "))
			if (strncmp(p, kv->key, len) == 0 &&
			    (p[len] == ' ' || p[len] == '\0') && len > 0)
				ok = 1;
		if (!ok) {
			http_reply_error(r, 400, "unknown_parameter", kv->key,
			    "unknown query parameter \"%.64s\"%s%s", kv->key,
			    *allowed ? "; allowed: " : "", allowed);
			return -1;
		}
		for (kv2 = TAILQ_NEXT(kv, next); kv2 != NULL;
		    kv2 = TAILQ_NEXT(kv2, next))
			if (strcmp(kv->key, kv2->key) == 0) {
				http_reply_error(r, 400, "duplicate_parameter",
				    kv->key, "query parameter \"%.64s\" is "
				    "given more than once", kv->key);
				return -1;
			}
	}
	return 0;
}

/* Parse the JSON object body; 0 or replied. */
static int
parse_body(struct tg_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
	const char *ct = evhttp_find_header(
	    evhttp_request_get_input_headers(r->ev), "Content-Type");
	size_t len = evbuffer_get_length(in);
	json_error_t jerr;
	const char *data;

	if (ct != NULL && strncasecmp(ct, "application/json", 16) != 0) {
		http_reply_error(r, 415, "unsupported_media_type", NULL,
		    "the body must be application/json");
		return -1;
	}
	if (len == 0) {
		http_reply_error(r, 400, "missing_body", NULL,
		    "a JSON object body is required");
		return -1;
	}
	data = (const char *)evbuffer_pullup(in, -1);
	r->body = json_loadb(data, len, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, &jerr);
	if (r->body == NULL) {
		http_reply_error(r, 400, "malformed_json", NULL,
		    "malformed JSON at line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(r->body)) {
		http_reply_error(r, 400, "invalid_body", NULL,
		    "the body must be a JSON object");
		return -1;
	}
	return 0;
}

static void
run_handler(struct tg_req *r)
{
	const struct tg_route *rt = &tg_routes[r->route];

	if (!(rt->roles & r->key.role) && rt->roles != 0) {
		http_reply_error(r, 403, "forbidden", NULL,
		    "a key of role %s may not use %s %s",
		    keys_role_name(r->key.role), method_name(rt->method),
		    rt->path);
		return;
	}
	if (check_params(r) != 0)
		return;
	if (rt->body == BODY_JSON_OBJECT && parse_body(r) != 0)
		return;
	rt->fn(r);
}

static void
key_lookup_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	if (PQntuples(res->res) != 1) {
		http_reply_error(r, 401, "invalid_key", NULL,
		    "the API key is not valid");
		return;
	}
	snprintf(r->key.id, sizeof r->key.id, "%s", PQgetvalue(res->res, 0, 0));
	r->key.role = keys_role_parse(PQgetvalue(res->res, 0, 1));
	snprintf(r->key.scope, sizeof r->key.scope, "%s",
	    PQgetvalue(res->res, 0, 2));
	snprintf(r->key.cost_center, sizeof r->key.cost_center, "%s",
	    PQgetvalue(res->res, 0, 3));
	key_cache_put(r->srv->keys, r->key_hash, &r->key, (int64_t)time(NULL));
	run_handler(r);
}

static void
authenticate(struct tg_req *r)
{
	char hex[2 * KEY_HASH_LEN + 1];
	const char *params[1] = { hex };
	const struct key_info *ki;
	const char *auth = evhttp_find_header(
	    evhttp_request_get_input_headers(r->ev), "Authorization");
	size_t len;

	if (auth == NULL) {
		http_reply_error(r, 401, "unauthorized", NULL,
		    "missing Authorization: Bearer <key>");
		return;
	}
	len = strlen(auth);
	if (len < 8 || strncasecmp(auth, "Bearer ", 7) != 0 || len > 7 + 128) {
		http_reply_error(r, 401, "unauthorized", NULL,
		    "the Authorization header must be \"Bearer <key>\"");
		return;
	}
	keys_hash(auth + 7, len - 7, r->key_hash);
	ki = key_cache_get(r->srv->keys, r->key_hash, (int64_t)time(NULL),
	    !db_pool_up(r->srv->db));
	if (ki != NULL) {
		r->key = *ki;
		run_handler(r);
		return;
	}
	keys_hex(r->key_hash, sizeof r->key_hash, hex);
	(void)http_query(r, "key_lookup", 1, params, key_lookup_cb);
}

static int
valid_request_id(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == n;
}

/* Whether route rt serves r's path; sets r->arg for prefix routes. */
static int
route_matches(const struct tg_route *rt, struct tg_req *r)
{
	size_t n = strlen(rt->path);

	if (n >= 2 && strcmp(rt->path + n - 2, "/*") == 0) {
		if (strncmp(r->path, rt->path, n - 1) != 0 ||
		    r->path[n - 1] == '\0')
			return 0;
		r->arg = r->path + n - 1;
		return 1;
	}
	return strcmp(r->path, rt->path) == 0;
}

static void
gen_cb(struct evhttp_request *ev, void *arg)
{
	struct tg_server *srv = arg;
	enum evhttp_cmd_type m = evhttp_request_get_command(ev);
	const char *path, *rid;
	struct tg_req *r;
	size_t i, path_match = tg_nroutes;
	char allow[64];

	if ((r = calloc(1, sizeof *r)) == NULL) {
		evhttp_send_reply(ev, 503, NULL, NULL);
		return;
	}
	srv->inflight++;
	r->srv = srv;
	r->ev = ev;
	r->start_us = http_now_us();
	r->route = tg_nroutes;
	TAILQ_INIT(&r->query);
	rid = evhttp_find_header(evhttp_request_get_input_headers(ev),
	    "X-Request-Id");
	if (rid != NULL && valid_request_id(rid))
		snprintf(r->id, sizeof r->id, "%s", rid);
	else
		snprintf(r->id, sizeof r->id, "%08x%08llx", srv->boot_id,
		    (unsigned long long)++srv->req_seq);
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(ev));
	snprintf(r->path, sizeof r->path, "%s", path != NULL ? path : "");

	for (i = 0; i < tg_nroutes; i++) {
		if (!route_matches(&tg_routes[i], r))
			continue;
		path_match = i;
		if (tg_routes[i].method == m)
			break;
	}
	if (i == tg_nroutes) {
		if (path_match == tg_nroutes) {
			http_reply_error(r, 404, "not_found", NULL,
			    "no such endpoint: %.200s", r->path);
			return;
		}
		allow[0] = '\0';
		for (i = 0; i < tg_nroutes; i++)
			if (route_matches(&tg_routes[i], r))
				snprintf(allow + strlen(allow),
				    sizeof allow - strlen(allow), "%s%s",
				    allow[0] ? ", " : "",
				    method_name(tg_routes[i].method));
		evhttp_add_header(evhttp_request_get_output_headers(ev),
		    "Allow", allow);
		r->route = path_match;
		http_reply_error(r, 405, "method_not_allowed", NULL,
		    "%s is not allowed on %s; allowed: %s", method_name(m),
		    r->path, allow);
		return;
	}
	r->route = i;
	if (tg_routes[i].roles == 0)
		run_handler(r);
	else
		authenticate(r);
}

/*
 * libevent's own error replies (see the top of this file). Runs for
 * requests that never reached gen_cb, so it logs and counts them itself.
 */
void
evhttp_send_error(struct evhttp_request *req, int error, const char *reason)
{
	struct evbuffer *buf = evbuffer_new();
	const char *code, *msg;
	char id[32];
	json_t *body;

	(void)reason;
	switch (error) {
	case 413:
		code = "body_too_large";
		msg = "the request body is larger than the server accepts";
		break;
	case 400:
		code = "bad_request";
		msg = "the HTTP request is malformed";
		break;
	default:
		code = "http_error";
		msg = "the HTTP request could not be served";
		break;
	}
	snprintf(id, sizeof id, "%08x%08llx",
	    the_server != NULL ? the_server->boot_id : 0,
	    the_server != NULL ? (unsigned long long)++the_server->req_seq : 0);
	body = error_body(code, NULL, msg, id);
	if (buf != NULL && body != NULL) {
		json_dump_callback(body, dump_to_evbuffer, buf, JSON_COMPACT);
		evbuffer_add(buf, "\n", 1);
	}
	json_decref(body);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "X-Request-Id", id);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Connection", "close");
	evhttp_send_reply(req, error, NULL, buf);
	if (buf != NULL)
		evbuffer_free(buf);
	if (the_server != NULL) {
		metrics_observe(the_server->metrics, tg_nroutes, error, 0);
		log_request(the_server, id, "-", "-", error, 0, "");
	}
}

int
http_start(struct tg_server *srv, char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int port = srv->cfg.listen_port;

	if ((srv->http = evhttp_new(srv->base)) == NULL) {
		snprintf(err, errsz, "cannot create the HTTP server");
		return -1;
	}
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(srv->http, srv->cfg.body_limit);
	evhttp_set_max_headers_size(srv->http, 64 * 1024);
	evhttp_set_timeout(srv->http, srv->cfg.http_timeout_s);
	evhttp_set_default_content_type(srv->http, "application/json");
	evhttp_set_gencb(srv->http, gen_cb, srv);
	srv->sock = evhttp_bind_socket_with_handle(srv->http,
	    srv->cfg.listen_host, (ev_uint16_t)port);
	if (srv->sock == NULL) {
		snprintf(err, errsz, "TOLLGATE_LISTEN: cannot listen on %s:%d",
		    srv->cfg.listen_host, port);
		return -1;
	}
	if (getsockname(evhttp_bound_socket_get_fd(srv->sock),
	    (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	srv->cfg.listen_port = port;
	the_server = srv;
	return 0;
}

void
http_stop_accepting(struct tg_server *srv)
{
	if (srv->http != NULL && srv->sock != NULL) {
		evhttp_del_accept_socket(srv->http, srv->sock);
		srv->sock = NULL;
	}
}

void
http_free(struct tg_server *srv)
{
	if (srv->http != NULL)
		evhttp_free(srv->http);
	srv->http = NULL;
	the_server = NULL;
}
