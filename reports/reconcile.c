/*
 * reconcile.c - a provider's export, read strictly: a malformed line is
 * named, never skipped, since a silently dropped row would show as drift.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ledger/ledger.h"
#include "reports/reconcile.h"

#define FIELDS_MAX 64
#define FIELD_MAX 256

const char *const reconcile_columns[RQ_COUNT] = { "input_tokens",
	"output_tokens", "cached_input_tokens" };

/* One record (RFC 4180) from *p; its field count, or -1. */
static int
record(const char **p, const char *end, char f[][FIELD_MAX])
{
	const char *s = *p;
	size_t len;
	int n = 0;

	for (;;) {
		if (n == FIELDS_MAX)
			return -1;
		len = 0;
		if (s < end && *s == '"') {
			for (s++;; s++) {
				if (s >= end)
					return -1;
				if (*s == '"' && s + 1 < end && s[1] == '"')
					s++;
				else if (*s == '"')
					break;
				if (len + 1 >= FIELD_MAX)
					return -1;
				f[n][len++] = *s;
			}
			s++;
		} else
			while (s < end && *s != ',' && *s != '\n' && *s != '\r') {
				if (*s == '"' || len + 1 >= FIELD_MAX)
					return -1;
				f[n][len++] = *s++;
			}
		f[n++][len] = '\0';
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		if (s < end && *s == '\r')
			s++;
		if (s < end && *s != '\n')
			return -1;
		*p = s < end ? s + 1 : s;
		return n;
	}
}

static int
by_key(const void *a, const void *b)
{
	const struct recon_row *x = a, *y = b;
	int c = strcmp(x->date, y->date);

	return c != 0 ? c : strcmp(x->model, y->model);
}

static int
whole(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s == '\0')
		return -1;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v < 0)
		return -1;
	*out = v;
	return 0;
}

struct recon_row *
reconcile_parse(const char *data, size_t len, size_t *n, int has[RQ_COUNT],
    char *err, size_t errsz, char *where, size_t wsz)
{
	static char f[FIELDS_MAX][FIELD_MAX];
	const char *p = data, *end = data + len, *why;
	int col_date = -1, col_model = -1, col_cost = -1, col_q[RQ_COUNT];
	int nf, i, k, line = 1;
	struct recon_row *rows = NULL, *grown, *r;
	size_t cap = 0, count = 0, w;

	*n = 0;
	where[0] = '\0';
	if ((nf = record(&p, end, f)) < 0) {
		snprintf(err, errsz, "the header is not CSV");
		return NULL;
	}
	for (k = 0; k < RQ_COUNT; k++)
		col_q[k] = -1;
	for (i = 0; i < nf; i++) {
		if (strcasecmp(f[i], "date") == 0)
			col_date = i;
		else if (strcasecmp(f[i], "model") == 0)
			col_model = i;
		else if (strcasecmp(f[i], "cost") == 0)
			col_cost = i;
		for (k = 0; k < RQ_COUNT; k++)
			if (strcasecmp(f[i], reconcile_columns[k]) == 0)
				col_q[k] = i;
	}
	if (col_date < 0 || col_model < 0 || col_cost < 0) {
		snprintf(err, errsz, "the header must name date, model and cost");
		snprintf(where, wsz, "%s", col_date < 0 ? "date" : col_model < 0 ?
		    "model" : "cost");
		return NULL;
	}
	for (k = 0; k < RQ_COUNT; k++)
		has[k] = col_q[k] >= 0;
	while (p < end) {
		line++;
		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
			p += *p == '\r' ? 2 : 1;
			continue;
		}
		if ((nf = record(&p, end, f)) < 0 || nf <= col_date ||
		    nf <= col_model || nf <= col_cost) {
			snprintf(err, errsz, "line %d is not a CSV row with every "
			    "column", line);
			snprintf(where, wsz, "line %d", line);
			goto bad;
		}
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = realloc(rows, cap * sizeof *rows)) == NULL) {
				snprintf(err, errsz, "out of memory");
				goto bad;
			}
			rows = grown;
		}
		r = &rows[count];
		memset(r, 0, sizeof *r);
		/* A date or a time stamp: its day. */
		if (strlen(f[col_date]) < 10 || f[col_date][4] != '-' ||
		    f[col_date][7] != '-' || strlen(f[col_model]) == 0 ||
		    strlen(f[col_model]) >= sizeof r->model) {
			snprintf(err, errsz, "line %d: date must be YYYY-MM-DD and "
			    "model a name", line);
			snprintf(where, wsz, "line %d", line);
			goto bad;
		}
		memcpy(r->date, f[col_date], 10);
		snprintf(r->model, sizeof r->model, "%s", f[col_model]);
		if (ledger_money_parse(f[col_cost], strlen(f[col_cost]), &r->cost,
		    &why) != 0) {
			snprintf(err, errsz, "line %d: cost: %s", line, why);
			snprintf(where, wsz, "line %d", line);
			goto bad;
		}
		for (k = 0; k < RQ_COUNT; k++)
			if (col_q[k] >= 0 && (nf <= col_q[k] ||
			    (f[col_q[k]][0] != '\0' &&
			    whole(f[col_q[k]], &r->q[k]) != 0))) {
				snprintf(err, errsz, "line %d: %s must be a whole "
				    "number", line, reconcile_columns[k]);
				snprintf(where, wsz, "line %d", line);
				goto bad;
			}
		count++;
	}
	if (count > 1)
		qsort(rows, count, sizeof *rows, by_key);
	/* Sum rows of the same date and model. */
	for (i = 0, w = 0; (size_t)i < count; i++) {
		if (w > 0 && by_key(&rows[w - 1], &rows[i]) == 0) {
			rows[w - 1].cost += rows[i].cost;
			for (k = 0; k < RQ_COUNT; k++)
				rows[w - 1].q[k] += rows[i].q[k];
		} else
			rows[w++] = rows[i];
	}
	*n = w;
	if (rows == NULL)
		rows = calloc(1, sizeof *rows);
	return rows;
bad:
	free(rows);
	return NULL;
}
