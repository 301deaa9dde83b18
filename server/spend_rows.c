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
 *
 * A window not on whole days is read in parts (api_reports.c): its
 * whole days from the rollups, its edges from the events or the hourly
 * rollup, or a whole edge day less the events outside the window. The
 * edges fall in the first and last periods, where their groups may be
 * the whole days' too: the rows of a period that several parts have are
 * put in one order here (the dimensions' bytes, NULL last: PostgreSQL's
 * order in the C and C.UTF-8 collations) and added up likewise.
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

/* A row of one of the results. */
struct src {
	PGresult *res;
	int part;			/* its index among the results */
	int row;
};

/* A group of rows: the one whose dimensions and period it shows, and
 * its sums. */
struct group {
	struct src at;
	int n;				/* rows added */
	int raw;			/* q is at's jsonb text, not yet read */
	int64_t v[3];			/* cost, list cost, events */
	int64_t q[PM_COUNT];		/* quantities */
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

/* Add PostgreSQL's text of a bigint[] ({1500,0,NULL,...}) times sign (1,
 * -1) to q position by position; -1 when a sum overflows or the text is
 * not such. */
static int
quantities_add(int64_t q[PM_COUNT], const char *a, int sign)
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
			    __builtin_mul_overflow((int64_t)x, sign, &x) ||
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

/* Add PostgreSQL's text of a jsonb {meter: quantity} object (as
 * usage_cc_daily's query gives it) times sign to q; -1 when a sum
 * overflows, a meter is unknown or the text is not such. */
static int
quantities_add_jsonb(int64_t q[PM_COUNT], const char *a, int sign)
{
	const char *end;
	char *num;
	long long x;
	int m;

	if (*a++ != '{')
		return -1;
	while (*a == ' ')
		a++;
	while (*a == '"') {
		end = strchr(++a, '"');
		if (end == NULL)
			return -1;
		for (m = 0; m < PM_COUNT; m++)
			if (strncmp(pricing_meter_name(m), a, (size_t)(end - a))
			    == 0 && pricing_meter_name(m)[end - a] == '\0')
				break;
		if (m == PM_COUNT || end[1] != ':')
			return -1;
		x = strtoll(end + 2, &num, 10);
		if (num == end + 2 ||
		    __builtin_mul_overflow((int64_t)x, sign, &x) ||
		    __builtin_add_overflow(q[m], (int64_t)x, &q[m]))
			return -1;
		a = num;
		if (a[0] == ',' && a[1] == ' ')
			a += 2;
	}
	return *a == '}' ? 0 : -1;
}

/* Column d of two rows as PostgreSQL orders text in the C collation:
 * bytes, NULL last. */
static int
col_cmp(const struct src *a, const struct src *b, int d)
{
	int na = PQgetisnull(a->res, a->row, d);
	int nb = PQgetisnull(b->res, b->row, d);

	if (na || nb)
		return na - nb;
	return strcmp(PQgetvalue(a->res, a->row, d),
	    PQgetvalue(b->res, b->row, d));
}

/* The grouping qsort compares rows by (set before each sort: the loop is
 * single-threaded). */
static const int *cmp_by;
static int cmp_tag;

/* Rows of one period by their dimensions; rows of one group by result
 * and row, so that each result's order stays. */
static int
by_dims(const void *x, const void *y)
{
	const struct src *a = x, *b = y;
	int d, c;

	for (d = 0; d < 5; d++)
		if (spend_dim_shown(cmp_by, cmp_tag, d) &&
		    (c = col_cmp(a, b, d)) != 0)
			return c;
	if (a->part != b->part)
		return a->part - b->part;
	return (a->row > b->row) - (a->row < b->row);
}

/* Whether rows a and b have the same dimensions asked for and period. */
static int
same_group(const struct src *a, const struct src *b, const int by[4],
    int tag)
{
	int d;

	for (d = 0; d < 6; d++)
		if (spend_dim_shown(by, tag, d) && col_cmp(a, b, d) != 0)
			return 0;
	return 1;
}

/* Group g as one row of the report, after a comma unless first: written
 * into one buffer and added to out at once. */
static void
row_text(struct evbuffer *out, const struct group *g, const int by[4],
    int tag, int first)
{
	PGresult *res = g->at.res;
	struct canon c;
	int d, k = 0, i = g->at.row;

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
	if (g->raw)	/* PostgreSQL's jsonb text is JSON already. */
		canon_raw(&c, PQgetvalue(res, i, 9),
		    (size_t)PQgetlength(res, i, 9));
	else
		quantities_text(&c, g->q);
	canon_raw(&c, "}", 1);
	(void)canon_into(&c, out);
	canon_free(&c);
}

/* Group g as a row, unless what was taken away (less) left it no
 * events: the events' report has no such group. */
static void
group_text(struct evbuffer *out, const struct group *g, const int by[4],
    int tag, int less, int *written)
{
	if (less && g->v[2] == 0)
		return;
	row_text(out, g, by, tag, (*written)++ == 0);
}

/* Add row s times sign to group g and to total; -1 on overflow or a bad
 * row. */
static int
group_add(struct group *g, const struct src *s, int sign, int64_t total[3])
{
	const char *qt = PQgetvalue(s->res, s->row, 9);
	int jsonb = PQftype(s->res, 9) != INT8_ARRAY_OID;
	int64_t x;
	int j;

	/* A group of one jsonb row (usage_cc_daily's day, as it stands)
	 * writes its text as it came: read it only when another joins. */
	if (g->raw && quantities_add_jsonb(g->q, PQgetvalue(g->at.res,
	    g->at.row, 9), 1) != 0)
		return -1;
	g->raw = g->n++ == 0 && jsonb && sign == 1;

	for (j = 0; j < 3; j++) {
		x = atoll(PQgetvalue(s->res, s->row, 6 + j));
		if (__builtin_mul_overflow(x, sign, &x) ||
		    __builtin_add_overflow(g->v[j], x, &g->v[j]) ||
		    __builtin_add_overflow(total[j], x, &total[j]))
			return -1;
	}
	if (g->raw)
		return 0;
	return jsonb ? quantities_add_jsonb(g->q, qt, sign) :
	    quantities_add(g->q, qt, sign);
}

int
spend_rows_write(struct evbuffer *out, PGresult *const res[],
    const int sign[], int nres, const int by[4], int tag, int64_t total[3])
{
	struct src *rows, head, *min;
	struct group g;
	int cur[SPEND_ROWS_MAX_RESULTS] = { 0 }, n = 0, k, i, m, parts;
	int written = 0, rc = 0, less = 0;

	memset(total, 0, 3 * sizeof *total);
	for (k = 0; k < nres; k++) {
		n += PQntuples(res[k]);
		less |= sign[k] < 0;
	}
	if (nres > SPEND_ROWS_MAX_RESULTS ||
	    (rows = malloc(((size_t)n + 1) * sizeof *rows)) == NULL)
		return -1;
	/* Period by period: the results are each in period order. */
	for (;;) {
		min = NULL;
		for (k = 0; k < nres; k++) {
			if (cur[k] >= PQntuples(res[k]))
				continue;
			head.res = res[k];
			head.part = k;
			head.row = cur[k];
			if (min == NULL || col_cmp(&head, min, 5) < 0) {
				rows[n] = head;
				min = &rows[n];
			}
		}
		if (min == NULL)
			break;
		head = *min;
		for (m = 0, parts = 0, k = 0; k < nres; k++) {
			struct src s = { res[k], k, cur[k] };

			parts += s.row < PQntuples(res[k]) &&
			    col_cmp(&s, &head, 5) == 0;
			for (; s.row < PQntuples(res[k]) &&
			    col_cmp(&s, &head, 5) == 0; s.row++)
				rows[m++] = s;
			cur[k] = s.row;
		}
		if (parts > 1) {
			cmp_by = by;
			cmp_tag = tag;
			qsort(rows, (size_t)m, sizeof *rows, by_dims);
		}
		for (i = 0; i < m && rc == 0; i++) {
			if (i == 0 || !same_group(&g.at, &rows[i], by, tag)) {
				if (i > 0)
					group_text(out, &g, by, tag, less,
					    &written);
				memset(&g, 0, sizeof g);
				g.at = rows[i];
			}
			rc = group_add(&g, &rows[i], sign[rows[i].part], total);
		}
		if (rc != 0)
			break;
		group_text(out, &g, by, tag, less, &written);
	}
	free(rows);
	return rc;
}
