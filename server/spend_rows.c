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
 * The rollup queries send their rows as they stand, unordered; the rows
 * of one group are added up here. PostgreSQL added them up with a hash
 * of a year's rows and then sorted them, which took longer than reading
 * them, and even its sort of the rows alone (a year by user and day:
 * 80,000 rows of 400 bytes) took a third of its time. A rollup is
 * written day after day, so its rows mostly come by period already:
 * then only each period's few hundred are sorted here.
 *
 * A window not on whole days is read in parts (api_reports.c): its
 * whole days from the rollups, its edges from the events or the hourly
 * rollup, or a whole edge day less the events outside the window. The
 * edges fall in the first and last periods, where their groups may be
 * the whole days' too: the rows of a period that several parts have are
 * put in one order and added up likewise. The order is the dimensions'
 * bytes, NULL last: PostgreSQL's in the C and C.UTF-8 collations.
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

/*
 * A row of one of the results, with its sort key: its period, then its
 * dimensions asked for (0-3 spend_dims, 4 the tag); NULL for SQL NULL
 * and for a dimension not asked for. Read once: libpq's accessors,
 * called at every comparison, were a tenth of a large report's time.
 */
#define KEYS 6

struct src {
	const char *key[KEYS];
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

/* The integer at a, as PostgreSQL writes a bigint, times sign (1, -1):
 * its end, or NULL when there is none or it does not fit 64 bits.
 * strtoll, which knows locales and bases, was a tenth of a large
 * report's time. */
static const char *
int_read(const char *a, int sign, int64_t *v)
{
	int neg = (*a == '-') != (sign < 0);
	const char *p = a + (*a == '-');
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

/* Add PostgreSQL's text of a bigint[] ({1500,0,NULL,...}) times sign (1,
 * -1) to q position by position; -1 when a sum overflows or the text is
 * not such. */
static int
quantities_add(int64_t q[PM_COUNT], const char *a, int sign)
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
			if ((end = int_read(a, sign, &x)) == NULL ||
			    m >= PM_COUNT ||
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

/* Add PostgreSQL's text of a jsonb {meter: quantity} object (as
 * usage_cc_daily's query gives it) times sign to q; -1 when a sum
 * overflows, a meter is unknown or the text is not such. */
static int
quantities_add_jsonb(int64_t q[PM_COUNT], const char *a, int sign)
{
	const char *end, *num;
	char name[32];
	int64_t x;
	int m;

	if (*a++ != '{')
		return -1;
	while (*a == ' ')
		a++;
	while (*a == '"') {
		end = strchr(++a, '"');
		if (end == NULL || (size_t)(end - a) >= sizeof name)
			return -1;
		memcpy(name, a, (size_t)(end - a));
		name[end - a] = '\0';
		if ((m = pricing_meter_parse(name)) < 0 || end[1] != ':')
			return -1;
		if ((num = int_read(end + 2 + (end[2] == ' '), sign,
		    &x)) == NULL ||
		    __builtin_add_overflow(q[m], x, &q[m]))
			return -1;
		a = num;
		if (a[0] == ',' && a[1] == ' ')
			a += 2;
	}
	return *a == '}' ? 0 : -1;
}

/* Two keys by their bytes, NULL last (as PostgreSQL orders ascending
 * in the C collations). */
static int
key_cmp(const char *x, const char *y)
{
	if (x == NULL || y == NULL)
		return (x == NULL) - (y == NULL);
	return strcmp(x, y);
}

/* Rows a and b by their keys from the first on. */
static int
keys_cmp(const struct src *a, const struct src *b, int first)
{
	int d, c;

	for (d = first; d < KEYS; d++)
		if ((c = key_cmp(a->key[d], b->key[d])) != 0)
			return c;
	return 0;
}

/* Rows with the same keys by result and row, so that each result's order
 * stays. */
static int
by_source(const struct src *a, const struct src *b)
{
	if (a->part != b->part)
		return a->part - b->part;
	return (a->row > b->row) - (a->row < b->row);
}

/* qsort's orders: by period and dimensions, and by dimensions. */
static int
by_period_dims(const void *x, const void *y)
{
	int c = keys_cmp(x, y, 0);

	return c != 0 ? c : by_source(x, y);
}

static int
by_dims(const void *x, const void *y)
{
	int c = keys_cmp(x, y, 1);

	return c != 0 ? c : by_source(x, y);
}

/* Result k's rows, with their keys, into rows; by period: sorted here
 * when PostgreSQL's order was not. */
static void
rows_read(struct src *rows, PGresult *res, int k, const int by[4], int tag)
{
	int n = PQntuples(res), i, d, c, sorted = 1;

	for (i = 0; i < n; i++) {
		rows[i].res = res;
		rows[i].part = k;
		rows[i].row = i;
		for (d = 0; d < KEYS; d++) {
			c = d == 0 ? 5 : d - 1;
			rows[i].key[d] = (d == 0 ||
			    spend_dim_shown(by, tag, c)) &&
			    !PQgetisnull(res, i, c) ? PQgetvalue(res, i, c) :
			    NULL;
		}
		if (i > 0 && key_cmp(rows[i - 1].key[0], rows[i].key[0]) > 0)
			sorted = 0;
	}
	if (!sorted)
		qsort(rows, (size_t)n, sizeof *rows, by_period_dims);
}

/* Group g as one row of the report into c, after a comma unless first. */
static void
row_text(struct canon *c, const struct group *g, const int by[4], int tag,
    int first)
{
	int d, k = 0;

	canon_raw(c, first ? "{" : ",{", first ? 1 : 2);
	for (d = 0; d < 5; d++) {
		if (!spend_dim_shown(by, tag, d))
			continue;
		canon_key(c, k++ == 0, d < 4 ? spend_dims[d] : "tag");
		canon_str_or_null(c, g->at.key[d + 1]);
	}
	if (g->at.key[0] != NULL) {
		canon_key(c, k++ == 0, "period_start");
		canon_str(c, g->at.key[0]);
	}
	canon_money(c, k++ == 0, "cost", g->v[0]);
	canon_money(c, 0, "list_cost", g->v[1]);
	canon_raw(c, ",\"events\":", 10);
	canon_int(c, g->v[2]);
	canon_raw(c, ",\"quantities\":", 14);
	if (g->raw)	/* PostgreSQL's jsonb text is JSON already. */
		canon_raw(c, PQgetvalue(g->at.res, g->at.row, 9),
		    (size_t)PQgetlength(g->at.res, g->at.row, 9));
	else
		quantities_text(c, g->q);
	canon_raw(c, "}", 1);
}

/* Group g as a row, unless what was taken away (less) left it no
 * events: the events' report has no such group. The rows go to out a
 * buffer at a time: an evbuffer_add per row was a tenth of the work. */
static int
group_text(struct canon *c, struct evbuffer *out, const struct group *g,
    const int by[4], int tag, int less, int *written)
{
	if (less && g->v[2] == 0)
		return 0;
	row_text(c, g, by, tag, (*written)++ == 0);
	if (c->len < 65536)
		return 0;
	if (canon_into(c, out) != 0)
		return -1;
	canon_clear(c);
	return 0;
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

	for (j = 0; j < 3; j++)
		if (int_read(PQgetvalue(s->res, s->row, 6 + j), sign,
		    &x) == NULL ||
		    __builtin_add_overflow(g->v[j], x, &g->v[j]) ||
		    __builtin_add_overflow(total[j], x, &total[j]))
			return -1;
	if (g->raw)
		return 0;
	return jsonb ? quantities_add_jsonb(g->q, qt, sign) :
	    quantities_add(g->q, qt, sign);
}

int
spend_rows_write(struct evbuffer *out, PGresult *const res[],
    const int sign[], int nres, const int by[4], int tag, int64_t total[3])
{
	struct src *all, *rows, *p;
	struct canon c;
	struct group g;
	int cur[SPEND_ROWS_MAX_RESULTS], end[SPEND_ROWS_MAX_RESULTS];
	int n = 0, k, i, m, parts, first;
	int written = 0, rc = 0, less = 0;
	const char *period;

	memset(total, 0, 3 * sizeof *total);
	if (nres > SPEND_ROWS_MAX_RESULTS)
		return -1;
	for (k = 0; k < nres; k++) {
		n += PQntuples(res[k]);
		less |= sign[k] < 0;
	}
	if ((all = malloc(((size_t)n + 1) * sizeof *all)) == NULL ||
	    (rows = malloc(((size_t)n + 1) * sizeof *rows)) == NULL) {
		free(all);
		return -1;
	}
	canon_init(&c);
	for (n = 0, k = 0; k < nres; k++) {
		rows_read(all + n, res[k], k, by, tag);
		cur[k] = n;
		end[k] = n += PQntuples(res[k]);
	}
	/* Period by period: each result is in period order now. */
	for (;;) {
		for (period = NULL, first = -1, k = 0; k < nres; k++)
			if (cur[k] < end[k] && (first < 0 ||
			    key_cmp(all[cur[k]].key[0], period) < 0)) {
				period = all[cur[k]].key[0];
				first = k;
			}
		if (first < 0)
			break;
		for (p = NULL, m = 0, parts = 0, k = 0; k < nres; k++) {
			for (i = cur[k]; i < end[k] &&
			    key_cmp(all[i].key[0], period) == 0; i++)
				;
			if (i == cur[k])
				continue;
			if (parts++ == 0)	/* used where they stand */
				p = all + cur[k];
			else {
				if (p != rows)
					memcpy(rows, p, (size_t)m * sizeof *rows);
				p = rows;
				memcpy(rows + m, all + cur[k], (size_t)(i -
				    cur[k]) * sizeof *rows);
			}
			m += i - cur[k];
			cur[k] = i;
		}
		for (i = 1; i < m && keys_cmp(&p[i - 1], &p[i], 1) <= 0; i++)
			;
		if (i < m)
			qsort(p, (size_t)m, sizeof *p, by_dims);
		for (i = 0; i < m && rc == 0; i++) {
			if (i == 0 || keys_cmp(&g.at, &p[i], 0) != 0) {
				if (i > 0 && group_text(&c, out, &g, by, tag,
				    less, &written) != 0)
					rc = -1;
				memset(&g, 0, sizeof g);
				g.at = p[i];
			}
			if (rc == 0)
				rc = group_add(&g, &p[i], sign[p[i].part],
				    total);
		}
		if (rc != 0 || group_text(&c, out, &g, by, tag, less,
		    &written) != 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && canon_into(&c, out) != 0)
		rc = -1;
	canon_free(&c);
	free(rows);
	free(all);
	return rc;
}
