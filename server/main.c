/*
 * main.c - the tollgate command: serve, migrate, key create, config,
 * version.
 *
 * `serve` migrates synchronously, starts the PostgreSQL pool and waits for
 * it, then listens. SIGINT or SIGTERM stops accepting, lets requests in
 * flight finish (at most DRAIN_MS), and frees everything, so that valgrind
 * and LeakSanitizer see a clean exit.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "server/api.h"
#include "server/config.h"
#include "server/db.h"
#include "server/http.h"
#include "server/ingest.h"
#include "server/keys.h"
#include "server/leases.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/budgets.h"
#include "server/migrate.h"
#include "server/prices.h"
#include "server/spool.h"
#include "ledger/ledger.h"

#define TOLLGATE_VERSION "0.1.0"
#define POOL_WAIT_MS 10000
#define DRAIN_MS 5000

static int
usage(void)
{
	fprintf(stderr,
	    "usage: tollgate serve\n"
	    "       tollgate migrate\n"
	    "       tollgate key create --role admin|gateway|finance "
	    "[--name N] [--scope PATH] [--cost-center PATH] [--if-none]\n"
	    "       tollgate prices import --format litellm|native FILE "
	    "[--effective-from TS] [--note TEXT] [--if-empty]\n"
	    "       tollgate report chargeback --month YYYY-MM "
	    "[--grain day|month] [--out FILE]\n"
	    "       tollgate config\n"
	    "       tollgate version\n");
	return 2;
}

static int
load_config(struct tg_config *cfg)
{
	char err[512];

	if (config_load(cfg, err, sizeof err) != 0) {
		fprintf(stderr, "tollgate: configuration: %s\n", err);
		return -1;
	}
	log_min_level = cfg->log_level;
	return 0;
}

static PGconn *
connect_and_migrate(const struct tg_config *cfg, int quiet)
{
	char err[1024], where[512];
	int applied, version;
	PGconn *conn;
	PGresult *res;

	if ((conn = db_connect_sync(cfg, err, sizeof err)) == NULL) {
		fprintf(stderr, "tollgate: TOLLGATE_DATABASE_URL: cannot "
		    "connect: %s\n", err);
		return NULL;
	}
	if (migrate_run(conn, sql_migrations, sql_migrations_count, &applied,
	    &version, err, sizeof err) != 0) {
		fprintf(stderr, "tollgate: migrate: %s\n", err);
		PQfinish(conn);
		return NULL;
	}
	res = PQexec(conn, db_statement_text("partitions_ensure"));
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "tollgate: creating partitions: "
		    "%s", PQresultErrorMessage(res));
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);
	db_describe(conn, where, sizeof where);
	if (!quiet || applied > 0)
		printf("database %s: schema at version %d (%d migration%s "
		    "applied now)\n", where, version, applied,
		    applied == 1 ? "" : "s");
	return conn;
}

static int
cmd_migrate(void)
{
	struct tg_config cfg;
	PGconn *conn;

	if (load_config(&cfg) != 0)
		return 1;
	if ((conn = connect_and_migrate(&cfg, 0)) == NULL)
		return 1;
	PQfinish(conn);
	return 0;
}

static int
cmd_key(int argc, char **argv)
{
	struct tg_config cfg;
	const char *name = "", *scope = NULL, *cost_center = NULL;
	char id[KEY_ID_BUFSZ], secret[KEY_SECRET_BUFSZ], err[512];
	int i, role = 0, if_none = 0, rc;
	PGconn *conn;

	if (argc < 1 || strcmp(argv[0], "create") != 0)
		return usage();
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc) {
			if ((role = keys_role_parse(argv[++i])) == 0) {
				fprintf(stderr, "tollgate: --role must be admin, "
				    "gateway or finance\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--scope") == 0 && i + 1 < argc)
			scope = argv[++i];
		else if (strcmp(argv[i], "--cost-center") == 0 && i + 1 < argc)
			cost_center = argv[++i];
		else if (strcmp(argv[i], "--if-none") == 0)
			if_none = 1;
		else
			return usage();
	}
	if (role == 0) {
		fprintf(stderr, "tollgate: --role is required\n");
		return 2;
	}
	if (load_config(&cfg) != 0)
		return 1;
	if ((conn = connect_and_migrate(&cfg, 1)) == NULL)
		return 1;
	rc = keys_create_sync(conn, role, name, scope, cost_center, if_none, id,
	    secret, err, sizeof err);
	PQfinish(conn);
	if (rc < 0) {
		fprintf(stderr, "tollgate: key create: %s\n", err);
		return 1;
	}
	if (rc == 1)
		return 0;	/* --if-none and keys exist: nothing to say */
	printf("created %s key %s%s%s; its secret is shown only now:\n%s\n",
	    keys_role_name(role), id, *name ? " named " : "", name, secret);
	return 0;
}

static int
cmd_prices(int argc, char **argv)
{
	struct tg_config cfg;
	const char *format = NULL, *file = NULL, *eff = NULL, *note = NULL;
	const char *why;
	char err[1024], tbuf[LEDGER_TIME_BUFSZ], *stored = NULL, *report_s;
	const char *params[6];
	struct pricing_book *book = NULL;
	struct field_err fe;
	json_error_t jerr;
	json_t *doc = NULL, *report = NULL;
	int64_t count, max_id, eff_us;
	PGresult *res;
	PGconn *conn;
	int i, if_empty = 0, rc = 1;

	if (argc < 1 || strcmp(argv[0], "import") != 0)
		return usage();
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			format = argv[++i];
		else if (strcmp(argv[i], "--effective-from") == 0 && i + 1 < argc)
			eff = argv[++i];
		else if (strcmp(argv[i], "--note") == 0 && i + 1 < argc)
			note = argv[++i];
		else if (strcmp(argv[i], "--if-empty") == 0)
			if_empty = 1;
		else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else
			return usage();
	}
	if (format == NULL || file == NULL)
		return usage();
	eff_us = (int64_t)time(NULL) * 1000000;
	if (eff != NULL && ledger_time_parse(eff, strlen(eff), &eff_us,
	    &why) != 0) {
		fprintf(stderr, "tollgate: --effective-from: %s\n", why);
		return 2;
	}
	if (load_config(&cfg) != 0)
		return 1;
	if ((conn = connect_and_migrate(&cfg, 1)) == NULL)
		return 1;
	if ((book = prices_load_sync(conn, &count, &max_id, err,
	    sizeof err)) == NULL) {
		fprintf(stderr, "tollgate: loading prices: %s\n", err);
		goto out;
	}
	if (if_empty && count > 0) {
		rc = 0;
		goto out;
	}
	if ((doc = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		fprintf(stderr, "tollgate: %s: line %d: %s\n", file, jerr.line,
		    jerr.text);
		goto out;
	}
	if (strcmp(format, "native") == 0 && eff == NULL &&
	    json_is_string(json_object_get(doc, "effective_from")) &&
	    ledger_time_parse(json_string_value(json_object_get(doc,
	    "effective_from")), strlen(json_string_value(json_object_get(doc,
	    "effective_from"))), &eff_us, &why) != 0) {
		fprintf(stderr, "tollgate: %s: effective_from: %s\n", file, why);
		goto out;
	}
	if (note == NULL && strcmp(format, "native") == 0)
		note = json_string_value(json_object_get(doc, "note"));
	if (note == NULL)
		note = "";
	if (strlen(note) > 500) {
		fprintf(stderr, "tollgate: the note is longer than 500 bytes\n");
		goto out;
	}
	if (prices_prepare(doc, format, pricing_book_at(book, eff_us, NULL),
	    &stored, &report, &fe) != 0) {
		fprintf(stderr, "tollgate: %s: %s%s%s\n", file, fe.field,
		    fe.field[0] ? ": " : "", fe.message);
		goto out;
	}
	ledger_time_format(eff_us, tbuf);
	report_s = json_dumps(report, JSON_COMPACT);
	params[0] = tbuf;
	params[1] = format;
	params[2] = note;
	params[3] = NULL;
	params[4] = report_s;
	params[5] = stored;
	res = PQexecParams(conn, "SELECT price_version_create($1::timestamptz, "
	    "$2, $3, $4, $5::jsonb, $6::jsonb)", 6, NULL, params, NULL, NULL, 0);
	free(report_s);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "tollgate: prices import: %s",
		    PQresultErrorMessage(res));
		PQclear(res);
		goto out;
	}
	printf("price version %s effective from %s: %lld price entries",
	    PQgetvalue(res, 0, 0), tbuf, (long long)json_integer_value(
	    json_object_get(report, "price_entries")));
	if (json_object_get(report, "skipped") != NULL ||
	    json_object_get(report, "unmapped_fields") != NULL ||
	    json_object_get(report, "rounded") != NULL)
		printf("; %zu entries skipped, %zu fields not representable, "
		    "%zu prices rounded (see GET /v1/prices/versions?id=%s)",
		    json_array_size(json_object_get(report, "skipped")),
		    json_array_size(json_object_get(report, "unmapped_fields")),
		    json_array_size(json_object_get(report, "rounded")),
		    PQgetvalue(res, 0, 0));
	printf("\n");
	PQclear(res);
	rc = 0;
out:
	free(stored);
	json_decref(report);
	json_decref(doc);
	pricing_book_free(book);
	PQfinish(conn);
	return rc;
}

/*
 * The event loop. With epoll's change list, the changes a loop pass makes
 * to a socket's events reach the kernel once, at the next wait, and those
 * that cancel out (evhttp stops reading a connection while it answers,
 * then reads again) not at all: epoll_ctl was 9% of the server's CPU on
 * single-event usage requests. Its known limit, a file descriptor shared
 * by dup(), does not arise here.
 */
static struct event_base *
base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* A control-plane change made on any instance (tollgate_config): read it
 * now instead of at the next poll. Or reservations settled on another
 * instance (tollgate_settle). */
static void
on_change(void *arg, const char *channel, const char *table)
{
	struct tg_server *srv = arg;

	if (strcmp(channel, "tollgate_settle") == 0)
		budgets_settled_elsewhere(srv->budgets, table);
	else if (strcmp(table, "api_keys") == 0)
		key_cache_clear(srv->keys);
	else if (strcmp(table, "price_versions") == 0)
		prices_changed(srv);
	else
		budgets_changed(srv->budgets);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct tg_server *srv = arg;

	(void)what;
	log_info("event=stopping signal=%d inflight=%d", (int)sig,
	    srv->inflight);
	http_stop_accepting(srv);
	srv->draining = 1;
}

static void
partitions_done(void *arg, const struct db_result *res)
{
	(void)arg;
	if (res->status != DB_OK)
		log_warn("event=partitions_failed error=\"%s\"", res->message);
}

/* A server that runs for months keeps a year of ledger partitions and a
 * few days of reservation partitions ahead, and drops the reservations
 * days that are over. */
static void
partitions_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tg_server *srv = arg;

	(void)fd;
	(void)what;
	if (db_query(srv->db, "partitions_ensure", 0, NULL,
	    partitions_done, NULL) != 0)
		log_warn("event=partitions_failed error=\"no connection\"");
}

/* Whether a fold of the period sums is running: one at a time from this
 * instance (tg_fold_periods() takes a lock against the others'). */
static int fold_running;

static void
fold_done(void *arg, const struct db_result *res)
{
	(void)arg;
	fold_running = 0;
	if (res->status != DB_OK && res->status != DB_SHUTDOWN)
		log_warn("event=periods_fold_failed error=\"%s\"", res->message);
}

/* Every TOLLGATE_REPORT_FOLD_MS: the periods holding days that bookings
 * marked since the last fold (late events, corrections), and once a day
 * the periods of the day just over, are summed again from the daily
 * rollups (0024), so that reports over them read these sums again. A
 * report is exact either way; a fold that does not run only makes the
 * reports of those periods slower. */
static void
fold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tg_server *srv = arg;

	(void)fd;
	(void)what;
	if (fold_running || !db_pool_up(srv->db))
		return;
	fold_running = 1;
	if (db_query(srv->db, "periods_fold", 0, NULL, fold_done, NULL) != 0)
		fold_running = 0;
}

/* Every few milliseconds: write the request lines waiting, and end the
 * loop once a drain is done. */
static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tg_server *srv = arg;

	(void)fd;
	(void)what;
	log_flush();
	if (srv->draining && (srv->inflight == 0 ||
	    http_now_us() - srv->drain_start_us > DRAIN_MS * 1000LL))
		event_base_loopbreak(srv->base);
	if (srv->draining && srv->drain_start_us == 0)
		srv->drain_start_us = http_now_us();
}

static int
cmd_serve(void)
{
	static const char *labels[64];
	struct tg_server srv;
	struct event *sigint = NULL, *sigterm = NULL, *drain = NULL;
	struct event *partitions = NULL, *fold = NULL;
	struct timeval tick = { 0, 10000 }, day = { 86400, 0 }, folds;
	char err[512];
	int64_t deadline;
	size_t i;
	PGconn *conn;
	int rc = 1;

	/* Keep up to 64 MB freed for the next large report: given back to
	 * the kernel and faulted in again page by page, a year-wide report's
	 * result (tens of MB of small blocks) cost an eighth of its time. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);

	memset(&srv, 0, sizeof srv);
	if (load_config(&srv.cfg) != 0)
		return 1;
	if ((conn = connect_and_migrate(&srv.cfg, 0)) == NULL)
		return 1;
	srv.prices = prices_load_sync(conn, &srv.prices_count,
	    &srv.prices_max_id, err, sizeof err);
	if (srv.prices == NULL) {
		fprintf(stderr, "tollgate: loading prices: %s\n", err);
		PQfinish(conn);
		return 1;
	}
	if ((srv.budgets = budgets_new(&srv)) == NULL ||
	    budgets_load_sync(srv.budgets, conn, err, sizeof err) != 0) {
		fprintf(stderr, "tollgate: loading budgets: %s\n",
		    srv.budgets != NULL ? err : "out of memory");
		PQfinish(conn);
		budgets_free(srv.budgets);
		pricing_book_free(srv.prices);
		return 1;
	}
	PQfinish(conn);
	printf("price book: %zu version%s\n", pricing_book_count(srv.prices),
	    pricing_book_count(srv.prices) == 1 ? "" : "s");

	log_hook_libevent();
	signal(SIGPIPE, SIG_IGN);
	srv.boot_id = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	for (i = 0; i < tg_nroutes && i < 64; i++) {
		static char buf[64][96];

		snprintf(buf[i], sizeof buf[i], "%s %s",
		    tg_routes[i].method == EVHTTP_REQ_GET ? "GET" :
		    tg_routes[i].method == EVHTTP_REQ_POST ? "POST" :
		    tg_routes[i].method == EVHTTP_REQ_PUT ? "PUT" :
		    tg_routes[i].method == EVHTTP_REQ_PATCH ? "PATCH" :
		    tg_routes[i].method == EVHTTP_REQ_DELETE ? "DELETE" : "?",
		    tg_routes[i].path);
		labels[i] = buf[i];
	}
	if ((srv.base = base_new()) == NULL ||
	    (srv.metrics = metrics_new(labels, tg_nroutes)) == NULL ||
	    (srv.keys = key_cache_new(srv.cfg.key_cache_ttl_s)) == NULL ||
	    (srv.db = db_pool_new(srv.base, &srv.cfg)) == NULL ||
	    (srv.ingest = ingest_new(&srv)) == NULL ||
	    (srv.leases = leases_new(&srv)) == NULL) {
		fprintf(stderr, "tollgate: out of memory\n");
		goto out;
	}
	db_pool_listen(srv.db, on_change, &srv);
	/* Serve only once the pool can answer, so the first requests after
	 * start do not see a spurious 503. */
	deadline = http_now_us() + POOL_WAIT_MS * 1000LL;
	while (!db_pool_up(srv.db) && http_now_us() < deadline)
		event_base_loop(srv.base, EVLOOP_ONCE);
	if (!db_pool_up(srv.db)) {
		fprintf(stderr, "tollgate: TOLLGATE_DATABASE_URL: the "
		    "connection pool could not connect\n");
		goto out;
	}
	if (srv.cfg.spool_dir[0] != '\0' &&
	    (srv.spool = spool_open(&srv, srv.cfg.spool_dir, err,
	    sizeof err)) == NULL) {
		fprintf(stderr, "tollgate: %s\n", err);
		goto out;
	}
	if (http_start(&srv, err, sizeof err) != 0) {
		fprintf(stderr, "tollgate: %s\n", err);
		goto out;
	}
	if (prices_watch_start(&srv) != 0 || budgets_start(srv.budgets) != 0 ||
	    leases_start(srv.leases) != 0) {
		fprintf(stderr, "tollgate: cannot start the price and budget "
		    "watches\n");
		goto out;
	}
	sigint = evsignal_new(srv.base, SIGINT, on_signal, &srv);
	sigterm = evsignal_new(srv.base, SIGTERM, on_signal, &srv);
	drain = event_new(srv.base, -1, EV_PERSIST, drain_cb, &srv);
	partitions = event_new(srv.base, -1, EV_PERSIST, partitions_cb, &srv);
	fold = event_new(srv.base, -1, EV_PERSIST, fold_cb, &srv);
	folds.tv_sec = srv.cfg.report_fold_ms / 1000;
	folds.tv_usec = (srv.cfg.report_fold_ms % 1000) * 1000;
	if (sigint == NULL || sigterm == NULL || drain == NULL ||
	    partitions == NULL || fold == NULL ||
	    evsignal_add(sigint, NULL) != 0 || evsignal_add(sigterm, NULL) != 0 ||
	    evtimer_add(drain, &tick) != 0 || evtimer_add(partitions, &day) != 0 ||
	    (srv.cfg.report_fold_ms > 0 && evtimer_add(fold, &folds) != 0)) {
		fprintf(stderr, "tollgate: cannot set up signals\n");
		goto out;
	}
	printf("tollgate %s listening on http://%s:%d\n", TOLLGATE_VERSION,
	    srv.cfg.listen_host, srv.cfg.listen_port);
	fflush(stdout);
	log_info("event=listening addr=%s:%d pool=%d", srv.cfg.listen_host,
	    srv.cfg.listen_port, srv.cfg.db_pool_size);
	event_base_dispatch(srv.base);
	log_info("event=stopped");	/* with the request lines before it */
	rc = 0;
out:
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	if (drain != NULL)
		event_free(drain);
	if (partitions != NULL)
		event_free(partitions);
	if (fold != NULL)
		event_free(fold);
	prices_watch_stop(&srv);
	/* Waiting usage first, then the pool: failed queries still reply
	 * on live requests. */
	ingest_stop(srv.ingest);
	budgets_stop(srv.budgets);
	leases_stop(srv.leases);
	db_pool_free(srv.db);
	ingest_free(srv.ingest);
	spool_close(srv.spool);
	pricing_book_free(srv.prices);
	leases_free(srv.leases);
	budgets_free(srv.budgets);
	http_free(&srv);
	key_cache_free(srv.keys);
	metrics_free(srv.metrics);
	if (srv.base != NULL)
		event_base_free(srv.base);
	libevent_global_shutdown();
	return rc;
}

/* The month's chargeback CSV, as GET /v1/reports/chargeback gives it. */
static int
cmd_report(int argc, char **argv)
{
	struct tg_config cfg;
	const char *month = NULL, *grain = "day", *path = NULL;
	struct pricing_book *book;
	char err[1024];
	int64_t lo, hi, count, max_id;
	PGconn *conn;
	FILE *out = stdout;
	int i, rc = 1;

	if (argc < 1 || strcmp(argv[0], "chargeback") != 0)
		return usage();
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--month") == 0 && i + 1 < argc)
			month = argv[++i];
		else if (strcmp(argv[i], "--grain") == 0 && i + 1 < argc)
			grain = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			path = argv[++i];
		else
			return usage();
	}
	if (chargeback_month(month, &lo, &hi) != 0 ||
	    (strcmp(grain, "day") != 0 && strcmp(grain, "month") != 0)) {
		fprintf(stderr, "tollgate: --month is YYYY-MM and --grain day "
		    "or month\n");
		return 2;
	}
	if (load_config(&cfg) != 0)
		return 1;
	if ((conn = connect_and_migrate(&cfg, 1)) == NULL)
		return 1;
	if ((book = prices_load_sync(conn, &count, &max_id, err,
	    sizeof err)) == NULL) {
		fprintf(stderr, "tollgate: loading prices: %s\n", err);
		PQfinish(conn);
		return 1;
	}
	if (path != NULL && (out = fopen(path, "w")) == NULL) {
		fprintf(stderr, "tollgate: --out %s: cannot create it\n", path);
		goto done;
	}
	if (chargeback_write_month(conn, lo, hi, strcmp(grain, "month") == 0,
	    book, out, err, sizeof err) != 0)
		fprintf(stderr, "tollgate: chargeback: %s\n", err);
	else
		rc = 0;
	if (path != NULL && fclose(out) != 0) {
		fprintf(stderr, "tollgate: --out %s: cannot write it\n", path);
		rc = 1;
	}
done:
	pricing_book_free(book);
	PQfinish(conn);
	return rc;
}

int
main(int argc, char **argv)
{
	struct tg_config cfg;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve();
	if (strcmp(argv[1], "migrate") == 0)
		return cmd_migrate();
	if (strcmp(argv[1], "key") == 0)
		return cmd_key(argc - 2, argv + 2);
	if (strcmp(argv[1], "prices") == 0)
		return cmd_prices(argc - 2, argv + 2);
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(argc - 2, argv + 2);
	if (strcmp(argv[1], "version") == 0) {
		printf("tollgate %s (schema %d)\n", TOLLGATE_VERSION,
		    migrate_latest());
		return 0;
	}
	if (strcmp(argv[1], "config") == 0) {
		if (load_config(&cfg) != 0)
			return 1;
		config_print_table(stdout);
		return 0;
	}
	return usage();
}
