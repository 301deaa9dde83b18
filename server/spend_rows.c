/*
 * spend_rows.c - the spend report's rows as JSON text, written straight
 * from the query's result into the reply: a year by cost center,
 * provider, model and day is tens of thousands of rows, and building each
 * as jansson objects then dumping them cost more than the query.
 *
 * The rows read the same whichever query answered (events, rollups):
 * quantities given as a bigint[] in the meters' order (usage_daily's) are
 * written as PostgreSQL writes the jsonb objects of the other queries,
 * keys in jsonb's order, with its spaces.
 *
 * Per day, the daily rollup is read as it stands, one row per cost
 * center, provider and model, ordered by the grouping asked for: rows of
 * one group follow each other and are added up here. PostgreSQL added
 * them up with a hash of a year's rows and then sorted them, which took
 * longer than reading them, and its sorted plan needed a second sort.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "ledger/ledger.h"
#include "pricing/pricing.h"
#include "server/canon.h"
#include "server/spend_rows.h"

/* PostgreSQL's type id of bigint[] (pg_type.h, which is the server's). */
#define INT8_ARRAY_OID 1016

const char *const spend_dims[4] = { "cost_center", "provider", "model",
	"user" };

/* A group of rows: the one whose dimensions and period it shows, and
 * its sums. */
struct group {
	int row;
	int64_t v[3];			/* cost, list cost, events */
	int64_t q[PM_COUNT];		/* quantities, bigint[] results only */
};

/* Meters ordered as jsonb orders an object's keys: shorter first, then
 * byte by byte. */
static int
by_jsonb_key(const void *a, const void *b)
{
	const char *x = pricing_meter_name(*(const int *)a);
	const char *y = pricing_meter_name(*(const int *)b);
	size_t lx = strlen(x), ly = strlen(y);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return memcmp(x, y, lx);
}

/* The meters whose quantity is not zero, as jsonb text. */
static void
quantities_text(struct canon *out, const int64_t q[PM_COUNT])
{
	static int order[PM_COUNT], ordered;
	const char *name;
	int i, m, first = 1;

	if (!ordered) {
		for (i = 0; i < PM_COUNT; i++)
			order[i] = i;
		qsort(order, PM_COUNT, sizeof order[0], by_jsonb_key);
		ordered = 1;
	}
	canon_raw(out, "{", 1);
	for (i = 0; i < PM_COUNT; i++) {
		m = order[i];
		if (q[m] == 0)
			continue;
		name = pricing_meter_name(m);
		canon_raw(out, first ? "\"" : ", \"", first ? 1 : 3);
		canon_raw(out, name, strlen(name));
		canon_raw(out, "\": ", 3);
		canon_int(out, q[m]);
		first = 0;
	}
	canon_raw(out, "}", 1);
}

/* Add PostgreSQL's text of a bigint[] ({1500,0,NULL,...}) to q position
 * by position; -1 when a sum overflows or the text is not such. */
static int
quantities_add(int64_t q[PM_COUNT], const char *a)
{
	long long x;
	char *end;
	int m;

	if (*a++ != '{')
		return -1;
	for (m = 0; *a != '}'; m++) {
		if (a[0] == '0' && (a[1] == ',' || a[1] == '}'))
			a++;	/* most meters, most days */
		else if (strncmp(a, "NULL", 4) == 0)
			a += 4;
		else {
			x = strtoll(a, &end, 10);
			if (end == a || m >= PM_COUNT ||
			    __builtin_add_overflow(q[m], (int64_t)x, &q[m]))
				return -1;
			a = end;
		}
		if (*a == ',')
			a++;
		else if (*a != '}')
			return -1;
	}
	return 0;
}

/* Whether rows a and b have the same dimensions asked for and period. */
static int
same_group(PGresult *res, int a, int b, const int by[4], int tag)
{
	int d;

	for (d = 0; d < 6; d++) {
		if (!spend_dim_shown(by, tag, d))
			continue;
		if (PQgetisnull(res, a, d) != PQgetisnull(res, b, d) ||
		    strcmp(PQgetvalue(res, a, d), PQgetvalue(res, b, d)) != 0)
			return 0;
	}
	return 1;
}

/* Group g as one row of the report, after a comma unless first: written
 * into one buffer and added to out at once. */
static void
row_text(struct evbuffer *out, PGresult *res, const struct group *g,
    const int by[4], int tag, int first, int arrays)
{
	struct canon c;
	int d, k = 0, i = g->row;

	canon_init(&c);
	canon_raw(&c, first ? "{" : ",{", first ? 1 : 2);
	for (d = 0; d < 5; d++) {
		if (!spend_dim_shown(by, tag, d))
			continue;
		canon_key(&c, k++ == 0, d < 4 ? spend_dims[d] : "tag");
		canon_str_or_null(&c, PQgetisnull(res, i, d) ? NULL :
		    PQgetvalue(res, i, d));
	}
	if (!PQgetisnull(res, i, 5)) {
		canon_key(&c, k++ == 0, "period_start");
		canon_str(&c, PQgetvalue(res, i, 5));
	}
	canon_money(&c, k++ == 0, "cost", g->v[0]);
	canon_money(&c, 0, "list_cost", g->v[1]);
	canon_raw(&c, ",\"events\":", 10);
	canon_int(&c, g->v[2]);
	canon_raw(&c, ",\"quantities\":", 14);
	if (arrays)
		quantities_text(&c, g->q);
	else	/* PostgreSQL's jsonb text is JSON already. */
		canon_raw(&c, PQgetvalue(res, i, 9),
		    (size_t)PQgetlength(res, i, 9));
	canon_raw(&c, "}", 1);
	(void)canon_into(&c, out);
	canon_free(&c);
}

int
spend_rows_write(struct evbuffer *out, PGresult *res, const int by[4],
    int tag, int64_t total[3])
{
	int arrays = PQftype(res, 9) == INT8_ARRAY_OID;
	int n = PQntuples(res), i, j, written = 0;
	struct group g;
	int64_t x;

	memset(total, 0, 3 * sizeof *total);
	memset(&g, 0, sizeof g);
	for (i = 0; i < n; i++) {
		if (i == 0 || !arrays || !same_group(res, g.row, i, by, tag)) {
			if (i > 0)
				row_text(out, res, &g, by, tag, written++ == 0,
				    arrays);
			memset(&g, 0, sizeof g);
			g.row = i;
		}
		for (j = 0; j < 3; j++) {
			x = atoll(PQgetvalue(res, i, 6 + j));
			if (__builtin_add_overflow(g.v[j], x, &g.v[j]) ||
			    __builtin_add_overflow(total[j], x, &total[j]))
				return -1;
		}
		if (arrays && quantities_add(g.q, PQgetvalue(res, i, 9)) != 0)
			return -1;
	}
	if (n > 0)
		row_text(out, res, &g, by, tag, written == 0, arrays);
	return 0;
}
