/*
 * api_chargeback.c - GET /v1/reports/chargeback?month=YYYY-MM[&grain=day|month]:
 * the month's chargeback as CSV (reports/chargeback.c), streamed a page of
 * rows at a time (sql/queries/chargeback_page.sql), so its memory does not
 * grow with the month. The first page is read before anything is sent,
 * so a month that cannot be read gets an ordinary error reply; a page that
 * fails later cuts the transfer short rather than end a partial file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "ledger/ledger.h"
#include "pricing/pricing.h"
#include "reports/chargeback.h"
#include "server/api.h"

#define PAGE_ROWS 2000
#define DAY_US (86400LL * 1000000)

struct cb_stream {
	int64_t lo, hi;			/* the month */
	char month_lo[LEDGER_TIME_BUFSZ], month_hi[LEDGER_TIME_BUFSZ];
	char grain[8];
	char after[6][200];		/* the last row sent */
	int started;
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

/* Write the rows of one chargeback_page.sql result; the number written. */
int
chargeback_rows(PGresult *res, int64_t month_lo, int64_t month_hi,
    int month_grain, const struct pricing_book *prices,
    chargeback_write_fn write, void *arg)
{
	struct chargeback_row row;
	char versions[128];
	const char *why;
	int i, n = PQntuples(res);

	for (i = 0; i < n; i++) {
		char day[32];
		int64_t lo;

		memset(&row, 0, sizeof row);
		snprintf(day, sizeof day, "%sT00:00:00Z", PQgetvalue(res, i, 0));
		if (ledger_time_parse(day, strlen(day), &lo, &why) != 0)
			continue;
		row.billing_lo_us = month_lo;
		row.billing_hi_us = month_hi;
		row.charge_lo_us = month_grain ? month_lo : lo;
		row.charge_hi_us = month_grain ? month_hi : lo + DAY_US;
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

static void page_cb(void *arg, const struct db_result *res);

/* Ask for the page after the last row sent; when the database cannot
 * be asked the request is already answered (503, or cut short). */
static void
next_page(struct tg_req *r, struct cb_stream *s)
{
	const char *p[10];
	char limit[16];
	int i;

	snprintf(limit, sizeof limit, "%d", PAGE_ROWS);
	p[0] = s->month_lo;
	p[1] = s->month_hi;
	p[2] = s->grain;
	for (i = 0; i < 6; i++)
		p[3 + i] = s->started ? s->after[i] : NULL;
	p[9] = limit;
	if (s->started) {
		if (db_query(r->srv->db, "chargeback_page", 10, p, page_cb,
		    r) != 0) {
			free(s);
			http_stream_abort(r);
		}
		return;
	}
	if (http_query(r, "chargeback_page", 10, p, page_cb) != 0)
		free(s);
}

static void
page_cb(void *arg, const struct db_result *res)
{
	struct tg_req *r = arg;
	struct cb_stream *s = r->state;
	struct evbuffer *buf;
	int n, i, last;

	if (res->status != DB_OK) {
		if (s->started) {
			free(s);
			http_stream_abort(r);
		} else {
			free(s);
			http_reply_db_failure(r, res);
		}
		return;
	}
	if ((buf = evbuffer_new()) == NULL) {
		if (s->started)
			http_stream_abort(r);
		else
			http_reply_error(r, 500, "internal_error", NULL,
			    "out of memory");
		free(s);
		return;
	}
	if (!s->started) {
		http_stream_start(r, 200, "text/csv; charset=utf-8");
		evbuffer_add(buf, chargeback_header(),
		    strlen(chargeback_header()));
	}
	n = chargeback_rows(res->res, s->lo, s->hi,
	    strcmp(s->grain, "month") == 0, r->srv->prices, to_evbuffer, buf);
	http_stream_chunk(r, buf);
	evbuffer_free(buf);
	s->started = 1;
	if (n < PAGE_ROWS) {
		free(s);
		http_stream_end(r);
		return;
	}
	last = n - 1;
	for (i = 0; i < 6; i++)
		snprintf(s->after[i], sizeof s->after[i], "%s",
		    PQgetvalue(res->res, last, i));
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
	next_page(r, s);
}

static void
to_file(void *arg, const char *s, size_t n)
{
	fwrite(s, 1, n, arg);
}

int
chargeback_write_month(PGconn *conn, int64_t lo, int64_t hi, int month_grain,
    const struct pricing_book *prices, FILE *out, char *err, size_t errsz)
{
	char month_lo[LEDGER_TIME_BUFSZ], month_hi[LEDGER_TIME_BUFSZ];
	char limit[16], after[6][200];
	const char *p[10];
	PGresult *res;
	int i, n, started = 0;

	ledger_time_format(lo, month_lo);
	ledger_time_format(hi, month_hi);
	snprintf(limit, sizeof limit, "%d", PAGE_ROWS);
	fputs(chargeback_header(), out);
	do {
		p[0] = month_lo;
		p[1] = month_hi;
		p[2] = month_grain ? "month" : "day";
		for (i = 0; i < 6; i++)
			p[3 + i] = started ? after[i] : NULL;
		p[9] = limit;
		res = PQexecParams(conn, db_statement_text("chargeback_page"), 10,
		    NULL, p, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			snprintf(err, errsz, "%s", PQresultErrorMessage(res));
			PQclear(res);
			return -1;
		}
		n = chargeback_rows(res, lo, hi, month_grain, prices, to_file,
		    out);
		for (i = 0; n > 0 && i < 6; i++)
			snprintf(after[i], sizeof after[i], "%s",
			    PQgetvalue(res, n - 1, i));
		started = 1;
		PQclear(res);
	} while (n == PAGE_ROWS);
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(err, errsz, "cannot write the file");
		return -1;
	}
	return 0;
}
