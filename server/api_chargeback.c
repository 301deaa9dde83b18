/*
 * api_chargeback.c - GET /v1/reports/chargeback?month=YYYY-MM[&grain=day|month]:
 * the month's chargeback as CSV (reports/chargeback.c), streamed a page of
 * rows at a time, so its memory does not grow with the month: first the
 * usage and its corrections (sql/queries/chargeback_page.sql), then the
 * adjustments and reallocations on expense accounts
 * (chargeback_entries.sql).
 *
 * Every page is read on one held connection inside one read-only
 * REPEATABLE READ transaction, so the file is one snapshot of the ledger:
 * events booked while it downloads are in none of its pages, never in
 * some. The first page is read before anything is sent, so a month that
 * cannot be read gets an ordinary error reply; a page that fails later
 * cuts the transfer short rather than end a partial file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "ledger/ledger.h"
#include "pricing/pricing.h"
#include "reports/chargeback.h"
#include "server/api.h"

#define PAGE_ROWS 2000
/* How far a client may fall behind before the next page waits for it:
 * memory stays bounded whatever its pace. */
#define BACKLOG_MAX (1 << 20)
#define BACKLOG_WAIT_US 5000
#define DAY_US (86400LL * 1000000)

struct cb_stream {
	int64_t lo, hi;			/* the month */
	char month_lo[LEDGER_TIME_BUFSZ], month_hi[LEDGER_TIME_BUFSZ];
	char grain[8];
	char after[6][200];		/* the last row sent */
	int started;
	int entries;			/* past the usage, on the entries */
	struct db_held *held;		/* the snapshot's connection */
};

static void
to_evbuffer(void *arg, const char *s, size_t n)
{
	evbuffer_add(arg, s, n);
}

/* Parse "YYYY-MM" into the month's [lo, hi) in UTC. */
int
chargeback_month(const char *s, int64_t *lo, int64_t *hi)
{
	int y, m;
	char tail;

	if (s == NULL || strlen(s) != 7 || sscanf(s, "%4d-%2d%c", &y, &m,
	    &tail) != 2 || y < 1970 || y > 9998 || m < 1 || m > 12 ||
	    s[4] != '-')
		return -1;
	*lo = ledger_days_from_civil(y, m, 1) * DAY_US;
	*hi = ledger_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1,
	    1) * DAY_US;
	return 0;
}

/* The price versions that could have priced a period: the one in force
 * at its start and any that took over within it. */
void
chargeback_versions(const struct pricing_book *b, int64_t lo, int64_t hi,
    char *buf, size_t bufsz)
{
	int64_t id, from;
	size_t i;

	buf[0] = '\0';
	if (b == NULL)
		return;
	if (pricing_book_at(b, lo, &id) != NULL)
		snprintf(buf, bufsz, "%lld", (long long)id);
	for (i = 0; pricing_book_get(b, i, &id, &from) != NULL; i++)
		if (from > lo && from < hi)
			snprintf(buf + strlen(buf), bufsz - strlen(buf), "%s%lld",
			    buf[0] != '\0' ? ";" : "", (long long)id);
}

/* A row's charge period: its day (YYYY-MM-DD), or the month at month
 * grain; -1 when the day does not read. */
static int
charge_period(const char *date, int64_t month_lo, int64_t month_hi,
    int month_grain, int64_t *lo, int64_t *hi)
{
	const char *why;
	char day[32];
	int64_t d;

	snprintf(day, sizeof day, "%sT00:00:00Z", date);
	if (ledger_time_parse(day, strlen(day), &d, &why) != 0)
		return -1;
	*lo = month_grain ? month_lo : d;
	*hi = month_grain ? month_hi : d + DAY_US;
	return 0;
}


/* Write the rows of one chargeback_page.sql result; the number written. */
int
chargeback_rows(PGresult *res, int64_t month_lo, int64_t month_hi,
    int month_grain, const struct pricing_book *prices,
    chargeback_write_fn write, void *arg)
{
	struct chargeback_row row;
	char versions[128];
	int i, n = PQntuples(res);

	for (i = 0; i < n; i++) {
		memset(&row, 0, sizeof row);
		if (charge_period(PQgetvalue(res, i, 0), month_lo, month_hi,
		    month_grain, &row.charge_lo_us, &row.charge_hi_us) != 0)
			continue;
		row.billing_lo_us = month_lo;
		row.billing_hi_us = month_hi;
		row.cost_center = PQgetvalue(res, i, 1);
		row.provider = PQgetvalue(res, i, 2);
		row.model = PQgetvalue(res, i, 3);
		row.meter = pricing_meter_parse(PQgetvalue(res, i, 4));
		row.correction = *PQgetvalue(res, i, 5) != '\0';
		row.quantity = PQgetisnull(res, i, 6) ? -1 :
		    atoll(PQgetvalue(res, i, 6));
		row.list_cost = atoll(PQgetvalue(res, i, 7));
		row.cost = atoll(PQgetvalue(res, i, 8));
		row.cost_center_name = PQgetvalue(res, i, 9);
		row.tags_json = PQgetvalue(res, i, 10);
		if (row.meter < 0)
			continue;
		chargeback_versions(prices, row.charge_lo_us, row.charge_hi_us,
		    versions, sizeof versions);
		row.price_versions = versions;
		chargeback_row(&row, write, arg);
	}
	return n;
}

/* Write the rows of one chargeback_entries.sql result; the number
 * written. */
int
chargeback_entry_rows(PGresult *res, int64_t month_lo, int64_t month_hi,
    int month_grain, void (*write)(void *arg, const char *s, size_t n),
    void *arg)
{
	struct chargeback_entry e;
	int i, n = PQntuples(res);

	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof e);
		if (charge_period(PQgetvalue(res, i, 0), month_lo, month_hi,
		    month_grain, &e.charge_lo_us, &e.charge_hi_us) != 0)
			continue;
		e.billing_lo_us = month_lo;
		e.billing_hi_us = month_hi;
		e.cost_center = PQgetvalue(res, i, 1);
		e.amount = atoll(PQgetvalue(res, i, 3));
		e.memo = PQgetvalue(res, i, 4);
		e.cost_center_name = PQgetvalue(res, i, 5);
		e.tags_json = PQgetvalue(res, i, 6);
		e.provider = PQgetvalue(res, i, 7);
		if (!PQgetisnull(res, i, 8)) {
			e.allocation_id = PQgetvalue(res, i, 8);
			e.method = PQgetvalue(res, i, 9);
			e.source = PQgetvalue(res, i, 10);
			e.details_json = PQgetvalue(res, i, 11);
			e.source_tags_json = PQgetvalue(res, i, 12);
		}
		chargeback_entry_row(&e, write, arg);
	}
	return n;
}

static void page_cb(void *arg, const struct db_result *res);
static void when_drained(evutil_socket_t fd, short what, void *arg);

/* End the stream and give the snapshot's connection back. */
static void
stream_done(struct tg_req *r, struct cb_stream *s, int ok)
{
	db_release(s->held);
	free(s);
	r->state = NULL;
	if (ok)
		http_stream_end(r);
	else
		http_stream_abort(r);
}

/* A failure: a stream begun is cut short (the client sees no chunked
 * end, so it cannot take a part for the whole); one not begun is an
 * error reply, res's when there is one. */
static void
stream_fail(struct tg_req *r, struct cb_stream *s,
    const struct db_result *res, int status, const char *code,
    const char *msg)
{
	if (s->started) {
		stream_done(r, s, 0);
		return;
	}
	db_release(s->held);
	free(s);
	r->state = NULL;
	if (res != NULL)
		http_reply_db_failure(r, res);
	else
		http_reply_error(r, status, code, NULL, msg);
}

/* Ask for the page after the last row sent, of the usage or of the
 * entries; a connection lost meanwhile ends the request. */
static void
next_page(struct tg_req *r, struct cb_stream *s)
{
	const char *p[10];
	char limit[16];
	int i, n;

	snprintf(limit, sizeof limit, "%d", PAGE_ROWS);
	p[0] = s->month_lo;
	p[1] = s->month_hi;
	p[2] = s->grain;
	if (s->entries) {
		p[3] = s->started && s->entries > 1 ? s->after[0] : NULL;
		p[4] = s->started && s->entries > 1 ? s->after[1] : NULL;
		p[5] = limit;
		n = 6;
	} else {
		for (i = 0; i < 6; i++)
			p[3 + i] = s->started ? s->after[i] : NULL;
		p[9] = limit;
		n = 10;
	}
	if (db_query_held(s->held, s->entries ? "chargeback_entries" :
	    "chargeback_page", n, p, page_cb, r) != 0)
		stream_fail(r, s, NULL, 503, "database_unavailable",
		    "the database is unavailable; retry later");
}

static void
page_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct cb_stream *s = r->state;
	struct evbuffer *buf;
	int n, i, last, month = strcmp(s->grain, "month") == 0;

	if (res->status != DB_OK) {
		stream_fail(r, s, res, 0, NULL, NULL);
		return;
	}
	if ((buf = evbuffer_new()) == NULL) {
		stream_fail(r, s, NULL, 500, "internal_error", "out of memory");
		return;
	}
	if (!s->started) {
		http_stream_start(r, 200, "text/csv; charset=utf-8");
		evbuffer_add(buf, chargeback_header(),
		    strlen(chargeback_header()));
	}
	n = s->entries ? chargeback_entry_rows(res->res, s->lo, s->hi, month,
	    to_evbuffer, buf) : chargeback_rows(res->res, s->lo, s->hi, month,
	    r->srv->prices, to_evbuffer, buf);
	http_stream_chunk(r, buf);
	evbuffer_free(buf);
	s->started = 1;
	last = n - 1;
	if (n < PAGE_ROWS && s->entries) {
		stream_done(r, s, 1);
		return;
	}
	if (n < PAGE_ROWS) {
		s->entries = 1;		/* the entries' first page next */
	} else if (s->entries) {
		s->entries = 2;
		snprintf(s->after[0], sizeof s->after[0], "%s",
		    PQgetvalue(res->res, last, 13));
		snprintf(s->after[1], sizeof s->after[1], "%s",
		    PQgetvalue(res->res, last, 14));
	} else
		for (i = 0; i < 6; i++)
			snprintf(s->after[i], sizeof s->after[i], "%s",
			    PQgetvalue(res->res, last, i));
	when_drained(-1, 0, r);
}

/* The next page once the client has taken most of what was sent; a
 * client gone ends the stream (and gives the connection back). */
static void
when_drained(evutil_socket_t fd, short what, void *arg)
{
	struct timeval wait = { 0, BACKLOG_WAIT_US };
	struct tg_req *r = arg;
	struct cb_stream *s = r->state;
	size_t backlog;

	(void)fd;
	(void)what;
	if (http_stream_backlog(r, &backlog) != 0) {
		stream_done(r, s, 0);
		return;
	}
	if (backlog > BACKLOG_MAX && event_base_once(r->srv->base, -1,
	    EV_TIMEOUT, when_drained, r, &wait) == 0)
		return;
	next_page(r, s);
}

/* The snapshot is open: read the first page in it. */
static void
snapshot_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct cb_stream *s = r->state;

	if (res->status != DB_OK) {
		stream_fail(r, s, res, 0, NULL, NULL);
		return;
	}
	s->held = res->held;
	next_page(r, s);
}

void
api_report_chargeback(struct tg_req *r)
{
	const char *month = http_param(r, "month"), *grain = http_param(r,
	    "grain");
	struct cb_stream *s;
	int64_t lo, hi;

	if (chargeback_month(month, &lo, &hi) != 0) {
		http_reply_error(r, 400, month == NULL ? "missing_parameter" :
		    "invalid_parameter", "month", "month is YYYY-MM");
		return;
	}
	if (grain != NULL && strcmp(grain, "day") != 0 &&
	    strcmp(grain, "month") != 0) {
		http_reply_error(r, 400, "invalid_parameter", "grain",
		    "grain is day or month");
		return;
	}
	if ((s = calloc(1, sizeof *s)) == NULL) {
		http_reply_error(r, 500, "internal_error", NULL, "out of memory");
		return;
	}
	s->lo = lo;
	s->hi = hi;
	ledger_time_format(lo, s->month_lo);
	ledger_time_format(hi, s->month_hi);
	snprintf(s->grain, sizeof s->grain, "%s", grain != NULL ? grain : "day");
	r->state = s;
	if (db_query_hold(r->srv->db, "tx_snapshot", 0, NULL, snapshot_cb,
	    r) != 0)
		stream_fail(r, s, NULL, 503, "database_unavailable",
		    "no database connection is free for a report; retry later");
}

static void
to_file(void *arg, const char *s, size_t n)
{
	fwrite(s, 1, n, arg);
}

/* One page through libpq, synchronously; -1 and the reason in err. */
static PGresult *
page_sync(PGconn *conn, const char *stmt, int n, const char *const *p,
    char *err, size_t errsz)
{
	PGresult *res = PQexecParams(conn, db_statement_text(stmt), n, NULL,
	    p, NULL, NULL, 0);

	if (PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK)
		return res;
	snprintf(err, errsz, "%s", PQresultErrorMessage(res));
	PQclear(res);
	return NULL;
}

int
chargeback_write_month(PGconn *conn, int64_t lo, int64_t hi, int month_grain,
    const struct pricing_book *prices, FILE *out, char *err, size_t errsz)
{
	char month_lo[LEDGER_TIME_BUFSZ], month_hi[LEDGER_TIME_BUFSZ];
	char limit[16], after[6][200];
	const char *p[10];
	PGresult *res;
	int i, n, started = 0, rc = -1;

	ledger_time_format(lo, month_lo);
	ledger_time_format(hi, month_hi);
	snprintf(limit, sizeof limit, "%d", PAGE_ROWS);
	/* The same single snapshot as the server's. */
	if ((res = page_sync(conn, "tx_snapshot", 0, NULL, err, errsz)) == NULL)
		return -1;
	PQclear(res);
	fputs(chargeback_header(), out);
	p[0] = month_lo;
	p[1] = month_hi;
	p[2] = month_grain ? "month" : "day";
	do {
		for (i = 0; i < 6; i++)
			p[3 + i] = started ? after[i] : NULL;
		p[9] = limit;
		if ((res = page_sync(conn, "chargeback_page", 10, p, err,
		    errsz)) == NULL)
			goto out;
		n = chargeback_rows(res, lo, hi, month_grain, prices, to_file,
		    out);
		for (i = 0; n > 0 && i < 6; i++)
			snprintf(after[i], sizeof after[i], "%s",
			    PQgetvalue(res, n - 1, i));
		started = 1;
		PQclear(res);
	} while (n == PAGE_ROWS);
	started = 0;
	do {
		p[3] = started ? after[0] : NULL;
		p[4] = started ? after[1] : NULL;
		p[5] = limit;
		if ((res = page_sync(conn, "chargeback_entries", 6, p, err,
		    errsz)) == NULL)
			goto out;
		n = chargeback_entry_rows(res, lo, hi, month_grain, to_file,
		    out);
		for (i = 0; n > 0 && i < 2; i++)
			snprintf(after[i], sizeof after[i], "%s",
			    PQgetvalue(res, n - 1, 13 + i));
		started = 1;
		PQclear(res);
	} while (n == PAGE_ROWS);
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(err, errsz, "cannot write the file");
		goto out;
	}
	rc = 0;
out:
	PQclear(PQexec(conn, "ROLLBACK"));
	return rc;
}

static void
totals_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	json_t *list, *o;
	int64_t total = 0, v;
	int i;

	if (res->status != DB_OK) {
		http_reply_db_failure(r, res);
		return;
	}
	list = json_array();
	for (i = 0; i < PQntuples(res->res); i++) {
		v = atoll(PQgetvalue(res->res, i, 1));
		total += v;
		json_array_append_new(list, json_pack("{s:s, s:o}",
		    "cost_center", PQgetvalue(res->res, i, 0), "billed_cost",
		    api_money(v)));
	}
	o = json_pack("{s:s, s:s, s:o, s:o}", "month", http_param(r, "month"),
	    "currency", "USD", "billed_cost", api_money(total),
	    "cost_centers", list);
	http_reply_json(r, 200, o);
}

/* GET /v1/reports/chargeback/totals?month=: what the month's CSV adds up
 * to, per cost center and in all (the file itself has no footer). */
void
api_report_chargeback_totals(struct tg_req *r)
{
	char lo_s[LEDGER_TIME_BUFSZ], hi_s[LEDGER_TIME_BUFSZ];
	const char *month = http_param(r, "month"), *p[2];
	int64_t lo, hi;

	if (chargeback_month(month, &lo, &hi) != 0) {
		http_reply_error(r, 400, month == NULL ? "missing_parameter" :
		    "invalid_parameter", "month", "month is YYYY-MM");
		return;
	}
	ledger_time_format(lo, lo_s);
	ledger_time_format(hi, hi_s);
	p[0] = lo_s;
	p[1] = hi_s;
	(void)http_query(r, "chargeback_totals", 2, p, totals_cb);
}
