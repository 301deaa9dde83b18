/*
 * spend_rows.h - the rows of GET /v1/reports/spend written as JSON text
 * straight from a spend query's result (api_reports.c runs the query).
 */
#ifndef TOLLGATE_SPEND_ROWS_H
#define TOLLGATE_SPEND_ROWS_H

#include <stdint.h>

#include <libpq-fe.h>

struct evbuffer;

/* The grouping's names, in the order of the result's first columns
 * (then "tag", column 4). */
extern const char *const spend_dims[4];

/* Whether column d of a spend row keys its group: 0-3 spend_dims as
 * grouped, 4 the tag when grouped by one, 5 the period always. */
static inline int
spend_dim_shown(const int by[4], int tag, int d)
{
	return d < 4 ? by[d] != 0 : d == 4 ? tag != 0 : 1;
}

/* The most results spend_rows_write adds up. */
#define SPEND_ROWS_MAX_RESULTS 4

/*
 * Append the report's rows of the nres results res to out,
 * comma-separated: each row's dimensions (by[d] set; the tag when tag is
 * set), period_start, cost, list_cost, events and quantities, in the
 * columns every spend query gives (0-4 dimensions, 5 period, 6-8 cost,
 * list cost, events, 9 quantities: PostgreSQL's jsonb text, or a bigint[]
 * in the meters' order), in any order: they are written by period, then
 * by the dimensions' bytes, NULL last. Rows with the same dimensions and
 * period are one group, added up, whether from one result
 * (report_spend_daily.sql gives a rollup's rows as they stand, one per
 * provider and model) or from several (the whole days and the edges of
 * a window).
 * Result k's rows count sign[k] times (1, or -1 for events taken away
 * from a whole day); a group they leave without events is not written.
 * total gets the cost, list cost and events of them all. -1 when a sum
 * does not fit 64 bits or out of memory (nothing useful is in out then).
 */
int spend_rows_write(struct evbuffer *out, PGresult *const res[],
    const int sign[], int nres, const int by[4], int tag, int64_t total[3]);

#endif
