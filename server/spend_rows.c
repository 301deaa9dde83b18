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

/* The integer at a, as PostgreSQL writes a bigint: its end, or NULL
 * when there is none or it does not fit 64 bits. strtoll, which knows
 * locales and bases, was a tenth of a large report's time. */
static const char *
int_read(const char *a, int64_t *v)
{
	int neg = *a == '-';
	const char *p = a + neg;
	uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;

	if (*p < '0' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (u > (lim - (uint64_t)(*p - '0')) / 10)
			return NULL;
		u = u * 10 + (uint64_t)(*p - '0');
	}
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return p;
}

/* Add PostgreSQL's text of a bigint[] ({1500,0,NULL,...}) to q position
 * by position; -1 when a sum overflows or the text is not such. */
static int
quantities_add(int64_t q[PM_COUNT], const char *a)
{
	int64_t x;
	const char *end;
	int m;

	if (*a++ != '{')
		return -1;
	for (m = 0; *a != '}'; m++) {
		if (a[0] == '0' && (a[1] == ',' || a[1] == '}'))
			a++;	/* most meters, most days */
		else if (strncmp(a, "NULL", 4) == 0)
			a += 4;
		else {
			if ((end = int_read(a, &x)) == NULL || m >= PM_COUNT ||
			    __builtin_add_overflow(q[m], x, &q[m]))
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

/*
 * Each row's sort key, KEYS strings from keys + row * KEYS: its period,
 * then its dimensions asked for (0-3 spend_dims, 4 the tag); NULL for
 * SQL NULL and for a dimension not asked for. Read once: libpq's
 * accessors, called at every comparison, were a tenth of a large
 * report's time.
 */
#define KEYS 6

static const char **
rows_keys(PGresult *res, const int by[4], int tag, int n)
{
	const char **keys = malloc((size_t)n * KEYS * sizeof *keys);
	int i, d, c;

	for (i = 0; keys != NULL && i < n; i++)
		for (d = 0; d < KEYS; d++) {
			c = d == 0 ? 5 : d - 1;
			keys[i * KEYS + d] = (d == 0 ||
			    spend_dim_shown(by, tag, c)) &&
			    !PQgetisnull(res, i, c) ? PQgetvalue(res, i, c) :
			    NULL;
		}
	return keys;
}

/* Two keys by their bytes, NULL last (as PostgreSQL orders ascending). */
static int
key_cmp(const char *x, const char *y)
{
	if (x == NULL || y == NULL)
		return (x == NULL) - (y == NULL);
	return strcmp(x, y);
}

/* Rows a and b by their keys from the first on. */
static int
keys_cmp(const char **keys, int a, int b, int first)
{
	int d, c;

	for (d = first; d < KEYS; d++)
		if ((c = key_cmp(keys[a * KEYS + d], keys[b * KEYS + d])) != 0)
			return c;
	return 0;
}

/* Whether rows a and b are of the same period. */
static int
same_period(const char **keys, int a, int b)
{
	return key_cmp(keys[a * KEYS], keys[b * KEYS]) == 0;
}

/* qsort_r's comparisons of row numbers: by period and dimensions, and
 * by dimensions only. */
static int
rows_cmp(const void *a, const void *b, void *keys)
{
	return keys_cmp(keys, *(const int *)a, *(const int *)b, 0);
}

static int
dims_cmp(const void *a, const void *b, void *keys)
{
	return keys_cmp(keys, *(const int *)a, *(const int *)b, 1);
}

/*
 * The rows in the report's order: idx gets every row's number, by
 * period then dimensions. The rollup queries do not order their rows:
 * PostgreSQL's sort of a year of rollup rows took longer than reading
 * them (a year by user and day: 80,000 rows, 400 bytes each). A rollup
 * is written day after day, so its rows mostly come by period already:
 * then only each period's few hundred are sorted here; else all of them.
 */
static void
rows_order(const char **keys, int *idx, int n)
{
	int i, j, m;

	for (i = 0; i < n; i++)
		idx[i] = i;
	for (i = 1; i < n && key_cmp(keys[(i - 1) * KEYS],
	    keys[i * KEYS]) <= 0; i++)
		;
	if (i < n) {
		qsort_r(idx, (size_t)n, sizeof *idx, rows_cmp, keys);
		return;
	}
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && same_period(keys, i, j); j++)
			;
		for (m = i + 1; m < j; m++)
			if (keys_cmp(keys, m - 1, m, 1) > 0) {
				qsort_r(idx + i, (size_t)(j - i), sizeof *idx,
				    dims_cmp, keys);
				break;
			}
	}
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
	int n = PQntuples(res), i, j, r, written = 0, *idx;
	const char **keys = NULL;
	struct group g;
	int64_t x;

	memset(total, 0, 3 * sizeof *total);
	memset(&g, 0, sizeof g);
	if (n == 0)
		return 0;
	if ((idx = malloc((size_t)n * sizeof *idx)) == NULL ||
	    (arrays && (keys = rows_keys(res, by, tag, n)) == NULL))
		goto fail;
	if (arrays)
		rows_order(keys, idx, n);
	else	/* one row per group, in the query's order */
		for (i = 0; i < n; i++)
			idx[i] = i;
	for (i = 0; i < n; i++) {
		r = idx[i];
		if (i == 0 || !arrays || keys_cmp(keys, g.row, r, 0) != 0) {
			if (i > 0)
				row_text(out, res, &g, by, tag, written++ == 0,
				    arrays);
			memset(&g, 0, sizeof g);
			g.row = r;
		}
		for (j = 0; j < 3; j++)
			if (int_read(PQgetvalue(res, r, 6 + j), &x) == NULL ||
			    __builtin_add_overflow(g.v[j], x, &g.v[j]) ||
			    __builtin_add_overflow(total[j], x, &total[j]))
				goto fail;
		if (arrays && quantities_add(g.q, PQgetvalue(res, r, 9)) != 0)
			goto fail;
	}
	row_text(out, res, &g, by, tag, written == 0, arrays);
	free(keys);
	free(idx);
	return 0;
fail:
	free(keys);
	free(idx);
	return -1;
}
