/*
 * db.c - the non-blocking PostgreSQL pool.
 *
 * Each connection is a small state machine driven by libevent events on its
 * libpq socket:
 *
 *   DOWN --timer--> CONNECTING --PQconnectPoll ok--> PREPARING --all
 *   statements prepared--> IDLE <--> BUSY
 *
 * and any failure leads back to DOWN with a reconnect timer whose delay
 * doubles up to a ceiling. The socket is put in non-blocking mode, and after
 * a partial PQflush the connection waits for the socket to become writable
 * as well as readable (libpq may need to read before it can write). An idle
 * connection keeps a read event armed, so a server that goes away is noticed
 * at once and not on the next query.
 *
 * Callbacks are made with the connection already back in a consistent state,
 * so a callback may submit the next query right away.
 *
 * A connection can be held by one caller across statements (one snapshot
 * for a streamed report): dispatch passes it by until the caller releases
 * it, which rolls back whatever transaction it left open. A held
 * connection that breaks is simply unlinked from its holder, whose next
 * statement is then refused.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>

#include "server/config.h"
#include "server/db.h"
#include "server/log.h"
#include "server/sqlfiles.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
#define CONNECT_TIMEOUT_MS 5000
#define SWEEP_MS 50

enum conn_state { C_DOWN, C_CONNECTING, C_PREPARING, C_IDLE, C_BUSY };

struct db_query {
	TAILQ_ENTRY(db_query) link;
	const char *name;	/* points into sql_queries */
	int nparams;
	char **values;		/* one allocation with the strings after it */
	db_cb cb;
	void *arg;
	int64_t enqueued_ms;
	int keep;		/* hold the connection once it succeeds */
	const char *text;	/* sent with its values (planned for them) */
};
TAILQ_HEAD(query_list, db_query);

/*
 * A statement whose text has this line is sent as text at each call
 * rather than run prepared: PostgreSQL plans it for the call's values.
 * A prepared statement gets a generic plan after five calls, made
 * without them, and for a report over a day or a year alike that plan
 * can be the one for a few rows (a sort to disk instead of a hash). It
 * is still prepared on connect, so that its errors show there.
 */
#define PLAN_EACH_CALL "\n-- tollgate: plan each call\n"

struct db_conn {
	struct db_pool *pool;
	PGconn *pg;
	struct event *io;
	struct event *timer;	/* reconnect delay or connect timeout */
	short io_flags;
	enum conn_state state;
	size_t prep_next;
	struct db_query *q;	/* in flight while BUSY */
	PGresult *first;	/* the query's first result */
	int backoff_ms;
	int was_up;
	struct db_held *held;	/* its holder, while held */
};

struct db_held {
	struct db_conn *conn;	/* NULL once the connection broke */
};

#define SESSION_OPTIONS_SZ 160

struct db_pool {
	struct event_base *base;
	const struct tg_config *cfg;
	char options[SESSION_OPTIONS_SZ];
	struct db_conn *conns;
	int nconns;
	struct query_list queue;
	int queued;
	struct event *sweep;
	struct db_stats st;
	int lost_logged;
	void (*notify)(void *, const char *, const char *);
	void *notify_arg;
};

static void conn_io_cb(evutil_socket_t fd, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_start(struct db_conn *c);
static void pool_dispatch(struct db_pool *pool);

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
timer_in(struct db_conn *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
}

/* Watch the connection's socket for `flags` (EV_READ, EV_WRITE). */
static int
conn_watch(struct db_conn *c, short flags)
{
	evutil_socket_t fd = PQsocket(c->pg);

	if (fd < 0)
		return -1;
	if (c->io != NULL && event_get_fd(c->io) == fd && c->io_flags == flags)
		return 0;
	if (c->io != NULL) {
		event_free(c->io);
		c->io = NULL;
	}
	c->io = event_new(c->pool->base, fd, flags | EV_PERSIST, conn_io_cb, c);
	if (c->io == NULL || event_add(c->io, NULL) != 0)
		return -1;
	c->io_flags = flags;
	return 0;
}

static int
pool_up_count(const struct db_pool *pool)
{
	int i, n = 0;

	for (i = 0; i < pool->nconns; i++)
		if (pool->conns[i].state >= C_IDLE)
			n++;
	return n;
}

static void
finish_query(struct db_query *q, enum db_status status, PGresult *res,
    const char *message, struct db_held *held)
{
	struct db_result r;
	const char *state = NULL;

	r.held = held;
	r.status = status;
	r.res = res;
	r.sqlstate = "";
	r.message = message != NULL ? message : "";
	if (status == DB_ERROR && res != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		r.sqlstate = state != NULL ? state : "";
		r.message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		if (r.message == NULL)
			r.message = PQresultErrorMessage(res);
	}
	q->cb(q->arg, &r);
	free(q->values);
	free(q);
}

static void
fail_queue(struct db_pool *pool, enum db_status status, const char *why)
{
	struct db_query *q;

	while ((q = TAILQ_FIRST(&pool->queue)) != NULL) {
		TAILQ_REMOVE(&pool->queue, q, link);
		pool->queued--;
		if (status == DB_UNAVAILABLE)
			pool->st.unavailable++;
		finish_query(q, status, NULL, why, NULL);
	}
}

static void
unhold(struct db_conn *c)
{
	if (c->held != NULL)
		c->held->conn = NULL;
	c->held = NULL;
}

/* Drop the connection; retry later. In-flight and, when nothing else is up,
 * queued queries fail with DB_UNAVAILABLE. */
static void
conn_fail(struct db_conn *c, const char *what)
{
	struct db_pool *pool = c->pool;
	struct db_query *q = c->q;
	char msg[300], esc[300];
	const char *pgmsg = c->pg != NULL ? PQerrorMessage(c->pg) : "";

	snprintf(msg, sizeof msg, "database unavailable: %s", what);
	if (c->was_up || !pool->lost_logged)
		log_warn("event=db_down conn=%d what=%s error=%s",
		    (int)(c - pool->conns), what,
		    log_escape(pgmsg, esc, sizeof esc));
	if (c->was_up)
		pool->st.reconnects++;
	pool->lost_logged = 1;
	c->was_up = 0;
	if (c->io != NULL) {
		event_free(c->io);
		c->io = NULL;
	}
	if (c->first != NULL) {
		PQclear(c->first);
		c->first = NULL;
	}
	if (c->pg != NULL) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->state = C_DOWN;
	c->q = NULL;
	unhold(c);
	evtimer_del(c->timer);
	timer_in(c, c->backoff_ms);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    c->backoff_ms * 2;

	if (q != NULL) {
		pool->st.unavailable++;
		finish_query(q, DB_UNAVAILABLE, NULL, msg, NULL);
	}
	if (pool_up_count(pool) == 0)
		fail_queue(pool, DB_UNAVAILABLE, msg);
}

/* Flush what libpq has buffered; wait for writability while it cannot. */
static int
conn_flush(struct db_conn *c)
{
	int r = PQflush(c->pg);

	if (r < 0)
		return -1;
	return conn_watch(c, r == 1 ? EV_READ | EV_WRITE : EV_READ);
}

static void
conn_prepare_next(struct db_conn *c)
{
	const struct sql_file *f;

	/* Once prepared, a connection listens when the pool is told to. */
	if (c->prep_next == sql_queries_count && c->pool->notify != NULL) {
		if (!PQsendQuery(c->pg, "LISTEN tollgate_config; "
		    "LISTEN tollgate_settle") ||
		    conn_flush(c) != 0)
			conn_fail(c, "listen");
		return;
	}
	if (c->prep_next >= sql_queries_count) {
		c->state = C_IDLE;
		c->backoff_ms = BACKOFF_MIN_MS;
		if (!c->was_up)
			log_info("event=db_up conn=%d",
			    (int)(c - c->pool->conns));
		c->was_up = 1;
		c->pool->lost_logged = 0;
		if (conn_watch(c, EV_READ) != 0) {
			conn_fail(c, "watch");
			return;
		}
		pool_dispatch(c->pool);
		return;
	}
	f = &sql_queries[c->prep_next];
	if (!PQsendPrepare(c->pg, f->name, f->text, 0, NULL) ||
	    conn_flush(c) != 0)
		conn_fail(c, "prepare");
}

static void
conn_connect_step(struct db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		if (conn_watch(c, EV_READ) != 0)
			conn_fail(c, "watch");
		return;
	case PGRES_POLLING_WRITING:
		if (conn_watch(c, EV_WRITE) != 0)
			conn_fail(c, "watch");
		return;
	case PGRES_POLLING_OK:
		evtimer_del(c->timer);
		if (PQsetnonblocking(c->pg, 1) != 0) {
			conn_fail(c, "nonblocking");
			return;
		}
		c->state = C_PREPARING;
		c->prep_next = 0;
		conn_prepare_next(c);
		return;
	default:
		conn_fail(c, "connect");
		return;
	}
}

/* Hand over the notifications that arrived with the last read. */
static void
conn_notifies(struct db_conn *c)
{
	PGnotify *n;

	while ((n = PQnotifies(c->pg)) != NULL) {
		if (c->pool->notify != NULL)
			c->pool->notify(c->pool->notify_arg, n->relname,
			    n->extra);
		PQfreemem(n);
	}
}

/* Read what has arrived; return 1 when the current command is complete
 * (its results collected in c->first), 0 when more is expected, -1 on a
 * broken connection. */
static int
conn_read(struct db_conn *c)
{
	PGresult *r;

	if (!PQconsumeInput(c->pg))
		return -1;
	conn_notifies(c);
	while (!PQisBusy(c->pg)) {
		r = PQgetResult(c->pg);
		if (r == NULL)
			return 1;
		if (c->first == NULL)
			c->first = r;
		else
			PQclear(r);
	}
	return 0;
}

static void
conn_command_done(struct db_conn *c)
{
	struct db_pool *pool = c->pool;
	struct db_query *q = c->q;
	PGresult *res = c->first;
	ExecStatusType st = res != NULL ? PQresultStatus(res) :
	    PGRES_FATAL_ERROR;
	char esc[300];

	c->first = NULL;
	if (c->state == C_PREPARING) {
		if (st != PGRES_COMMAND_OK)
			log_error("event=db_prepare_failed statement=%s error=%s",
			    c->prep_next < sql_queries_count ?
			    sql_queries[c->prep_next].name : "listen",
			    log_escape(res != NULL ? PQresultErrorMessage(res) :
			    "", esc, sizeof esc));
		PQclear(res);
		c->prep_next++;
		conn_prepare_next(c);
		return;
	}
	/* BUSY: the connection is free again before the callback runs. */
	c->q = NULL;
	c->state = C_IDLE;
	if (PQstatus(c->pg) != CONNECTION_OK) {
		PQclear(res);
		c->q = q;
		conn_fail(c, "query");
		return;
	}
	if ((st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) && q->keep) {
		if ((c->held = calloc(1, sizeof *c->held)) == NULL) {
			/* Whatever the statement began must not reach the
			 * next caller: the connection starts afresh. */
			PQclear(res);
			c->q = q;
			conn_fail(c, "out of memory");
			return;
		}
		c->held->conn = c;
	}
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		finish_query(q, DB_OK, res, NULL, c->held);
	} else {
		pool->st.errors++;
		finish_query(q, DB_ERROR, res, "statement failed", NULL);
	}
	PQclear(res);
	pool_dispatch(pool);
}

static void
conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	int r;

	(void)fd;
	switch (c->state) {
	case C_CONNECTING:
		conn_connect_step(c);
		return;
	case C_PREPARING:
	case C_BUSY:
		if ((what & EV_WRITE) && conn_flush(c) != 0) {
			conn_fail(c, "write");
			return;
		}
		if (!(what & EV_READ))
			return;
		if ((r = conn_read(c)) < 0) {
			conn_fail(c, "read");
			return;
		}
		if (r == 1)
			conn_command_done(c);
		return;
	case C_IDLE:
		/* Nothing is expected: an EOF or an error means it is gone. */
		if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK) {
			conn_fail(c, "idle connection closed");
			return;
		}
		conn_notifies(c);
		return;
	case C_DOWN:
		return;
	}
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == C_DOWN)
		conn_start(c);
	else if (c->state == C_CONNECTING)
		conn_fail(c, "connect timeout");
}

/* PostgreSQL's notices (a connection terminated by an administrator, ...)
 * go to our log instead of libpq's bare line on stderr. */
static void
notice_cb(void *arg, const char *message)
{
	char esc[512];

	(void)arg;
	log_info("event=db_notice msg=%s", log_escape(message, esc, sizeof esc));
}

static void
conn_start(struct db_conn *c)
{
	struct db_pool *pool = c->pool;
	/* TCP keepalives and a user timeout notice a peer that vanished
	 * without a reset, so an in-flight query cannot hang for ever. */
	const char *keys[] = { "dbname", "application_name", "options",
	    "keepalives_idle", "keepalives_interval", "keepalives_count",
	    "tcp_user_timeout", NULL };
	const char *vals[] = { pool->cfg->database_url, "tollgate",
	    pool->options, "10", "5", "3", "30000", NULL };

	c->pg = PQconnectStartParams(keys, vals, 1);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
		conn_fail(c, "connect");
		return;
	}
	PQsetNoticeProcessor(c->pg, notice_cb, NULL);
	c->state = C_CONNECTING;
	timer_in(c, CONNECT_TIMEOUT_MS);
	if (conn_watch(c, EV_WRITE) != 0)
		conn_fail(c, "watch");
}

static void
conn_send(struct db_conn *c, struct db_query *q)
{
	c->q = q;
	c->state = C_BUSY;
	c->pool->st.queries++;
	if (!(q->text != NULL ? PQsendQueryParams(c->pg, q->text, q->nparams,
	    NULL, (const char *const *)q->values, NULL, NULL, 0) :
	    PQsendQueryPrepared(c->pg, q->name, q->nparams,
	    (const char *const *)q->values, NULL, NULL, 0)) ||
	    conn_flush(c) != 0)
		conn_fail(c, "send");
}

static void
pool_dispatch(struct db_pool *pool)
{
	struct db_query *q;
	int i;

	for (i = 0; i < pool->nconns && !TAILQ_EMPTY(&pool->queue); i++) {
		if (pool->conns[i].state != C_IDLE ||
		    pool->conns[i].held != NULL)
			continue;
		q = TAILQ_FIRST(&pool->queue);
		TAILQ_REMOVE(&pool->queue, q, link);
		pool->queued--;
		conn_send(&pool->conns[i], q);
	}
}

static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_pool *pool = arg;
	struct db_query *q;
	int64_t limit = now_ms() - pool->cfg->db_queue_timeout_ms;

	(void)fd;
	(void)what;
	while ((q = TAILQ_FIRST(&pool->queue)) != NULL &&
	    q->enqueued_ms <= limit) {
		TAILQ_REMOVE(&pool->queue, q, link);
		pool->queued--;
		pool->st.timeouts++;
		finish_query(q, DB_TIMEOUT, NULL,
		    "no database connection became free in time", NULL);
	}
}

/*
 * Every session: the configured statement timeout, and no JIT, which
 * compiles the larger statements (verify, a batch of usage) for seconds
 * to save milliseconds. Dates as ISO text whatever the database's
 * default, since the reports write a period as its date's text.
 */
static void
session_options(const struct tg_config *cfg, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "-c statement_timeout=%d -c jit=off "
	    "-c client_min_messages=warning -c DateStyle=ISO",
	    cfg->db_statement_timeout_ms);
}

struct db_pool *
db_pool_new(struct event_base *base, const struct tg_config *cfg)
{
	struct db_pool *pool;
	struct timeval tv = { 0, SWEEP_MS * 1000 };
	int i;

	if ((pool = calloc(1, sizeof *pool)) == NULL)
		return NULL;
	pool->base = base;
	pool->cfg = cfg;
	session_options(cfg, pool->options, sizeof pool->options);
	TAILQ_INIT(&pool->queue);
	pool->nconns = cfg->db_pool_size;
	pool->conns = calloc((size_t)pool->nconns, sizeof *pool->conns);
	pool->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, pool);
	if (pool->conns == NULL || pool->sweep == NULL) {
		db_pool_free(pool);
		return NULL;
	}
	evtimer_add(pool->sweep, &tv);
	for (i = 0; i < pool->nconns; i++) {
		pool->conns[i].pool = pool;
		pool->conns[i].backoff_ms = BACKOFF_MIN_MS;
		pool->conns[i].timer = evtimer_new(base, conn_timer_cb,
		    &pool->conns[i]);
		if (pool->conns[i].timer == NULL) {
			db_pool_free(pool);
			return NULL;
		}
		conn_start(&pool->conns[i]);
	}
	return pool;
}

void
db_pool_free(struct db_pool *pool)
{
	struct db_conn *c;
	struct db_query *q;
	int i;

	if (pool == NULL)
		return;
	for (i = 0; pool->conns != NULL && i < pool->nconns; i++) {
		c = &pool->conns[i];
		q = c->q;
		c->q = NULL;
		c->state = C_DOWN;
		unhold(c);
		if (q != NULL)
			finish_query(q, DB_SHUTDOWN, NULL, "server stopping",
			    NULL);
		if (c->io != NULL)
			event_free(c->io);
		if (c->timer != NULL)
			event_free(c->timer);
		if (c->first != NULL)
			PQclear(c->first);
		if (c->pg != NULL)
			PQfinish(c->pg);
	}
	fail_queue(pool, DB_SHUTDOWN, "server stopping");
	if (pool->sweep != NULL)
		event_free(pool->sweep);
	free(pool->conns);
	free(pool);
}

void
db_pool_listen(struct db_pool *pool,
    void (*cb)(void *, const char *, const char *), void *arg)
{
	pool->notify = cb;
	pool->notify_arg = arg;
}

int
db_pool_up(const struct db_pool *pool)
{
	return pool_up_count(pool) > 0;
}

static const struct sql_file *
find_statement(const char *name)
{
	size_t i;

	for (i = 0; i < sql_queries_count; i++)
		if (strcmp(sql_queries[i].name, name) == 0)
			return &sql_queries[i];
	return NULL;
}

const char *
db_statement_text(const char *name)
{
	const struct sql_file *f = find_statement(name);

	return f != NULL ? f->text : NULL;
}

/* Whether f carries PLAN_EACH_CALL, looked up once per statement rather
 * than in its text at every query. */
static int
plan_each_call(const struct sql_file *f)
{
	static unsigned char *known;	/* per statement: 0 unknown, 1 no, 2 yes */
	size_t i = (size_t)(f - sql_queries);

	if (known == NULL && (known = calloc(sql_queries_count, 1)) == NULL)
		return strstr(f->text, PLAN_EACH_CALL) != NULL;
	if (known[i] == 0)
		known[i] = strstr(f->text, PLAN_EACH_CALL) != NULL ? 2 : 1;
	return known[i] == 2;
}

/* A query of a prepared statement with its parameters copied; NULL when
 * the statement is unknown or memory ran out. */
static struct db_query *
query_new(const char *name, int nparams, const char *const *values,
    db_cb cb, void *arg)
{
	struct db_query *q;
	const struct sql_file *f;
	size_t need = 0, len;
	char *p;
	int i;

	if ((f = find_statement(name)) == NULL)
		return NULL;
	for (i = 0; i < nparams; i++)
		if (values[i] != NULL)
			need += strlen(values[i]) + 1;
	if ((q = calloc(1, sizeof *q)) == NULL)
		return NULL;
	if (plan_each_call(f))
		q->text = f->text;
	q->values = malloc(sizeof(char *) * (size_t)(nparams + 1) + need);
	if (q->values == NULL) {
		free(q);
		return NULL;
	}
	p = (char *)(q->values + nparams + 1);
	for (i = 0; i < nparams; i++) {
		if (values[i] == NULL) {
			q->values[i] = NULL;
			continue;
		}
		len = strlen(values[i]) + 1;
		memcpy(p, values[i], len);
		q->values[i] = p;
		p += len;
	}
	q->values[nparams] = NULL;
	q->name = f->name;	/* static: it outlives the caller's string */
	q->nparams = nparams;
	q->cb = cb;
	q->arg = arg;
	q->enqueued_ms = now_ms();
	return q;
}

static int
held_count(const struct db_pool *pool)
{
	int i, n = 0;

	for (i = 0; i < pool->nconns; i++)
		if (pool->conns[i].held != NULL)
			n++;
	return n;
}

static int
enqueue(struct db_pool *pool, const char *name, int nparams,
    const char *const *values, db_cb cb, void *arg, int keep)
{
	struct db_query *q;

	if (!db_pool_up(pool)) {
		pool->st.unavailable++;
		return -1;
	}
	/* Holders never take the last connection from everyone else. */
	if (keep && held_count(pool) >= (pool->nconns > 1 ? pool->nconns - 1 :
	    1))
		return -1;
	if ((q = query_new(name, nparams, values, cb, arg)) == NULL)
		return -1;
	q->keep = keep;
	TAILQ_INSERT_TAIL(&pool->queue, q, link);
	pool->queued++;
	pool_dispatch(pool);
	return 0;
}

int
db_query(struct db_pool *pool, const char *name, int nparams,
    const char *const *values, db_cb cb, void *arg)
{
	return enqueue(pool, name, nparams, values, cb, arg, 0);
}

int
db_query_hold(struct db_pool *pool, const char *name, int nparams,
    const char *const *values, db_cb cb, void *arg)
{
	return enqueue(pool, name, nparams, values, cb, arg, 1);
}

int
db_query_held(struct db_held *h, const char *name, int nparams,
    const char *const *values, db_cb cb, void *arg)
{
	struct db_query *q;

	if (h->conn == NULL || h->conn->state != C_IDLE ||
	    (q = query_new(name, nparams, values, cb, arg)) == NULL)
		return -1;
	conn_send(h->conn, q);
	return 0;
}

static void
released_cb(void *arg, const struct db_result *r)
{
	(void)arg;
	(void)r;
}

void
db_release(struct db_held *h)
{
	struct db_conn *c;
	struct db_query *q;

	if (h == NULL)
		return;
	c = h->conn;
	free(h);
	if (c == NULL)
		return;
	c->held = NULL;
	if (c->state != C_IDLE) {
		/* A statement still runs for a caller who has gone: the
		 * connection cannot be trusted with its transaction. */
		conn_fail(c, "released while busy");
		return;
	}
	if ((q = query_new("tx_end", 0, NULL, released_cb, NULL)) == NULL) {
		conn_fail(c, "out of memory");
		return;
	}
	conn_send(c, q);
}

void
db_pool_stats(const struct db_pool *pool, struct db_stats *st)
{
	int i;

	*st = pool->st;
	st->connections = pool->nconns;
	st->up = st->busy = 0;
	for (i = 0; i < pool->nconns; i++) {
		if (pool->conns[i].state >= C_IDLE)
			st->up++;
		if (pool->conns[i].state == C_BUSY)
			st->busy++;
	}
	st->queued = pool->queued;
}

PGconn *
db_connect_sync(const struct tg_config *cfg, char *err, size_t errsz)
{
	char options[SESSION_OPTIONS_SZ];
	const char *keys[] = { "dbname", "application_name", "options",
	    "connect_timeout", NULL };
	const char *vals[] = { cfg->database_url, "tollgate", options, "10",
	    NULL };
	PGconn *conn;
	char *nl;

	session_options(cfg, options, sizeof options);
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errsz, "%s", PQerrorMessage(conn));
		while ((nl = strchr(err, '\n')) != NULL)
			*nl = ' ';
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

void
db_describe(PGconn *conn, char *buf, size_t bufsz)
{
	const char *host = PQhost(conn);

	snprintf(buf, bufsz, "%s as %s on %s%s%s", PQdb(conn), PQuser(conn),
	    host != NULL ? host : "?", host != NULL && host[0] == '/' ?
	    " port " : ":", PQport(conn));
}
