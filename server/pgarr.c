/*
 * pgarr.c - PostgreSQL array literals. See pgarr.h.
 *
 * Inside a quoted element PostgreSQL's array parser gives meaning to two
 * characters only, the double quote and the backslash, each escaped with
 * a backslash; everything else (commas, braces, spaces, any UTF-8) is
 * taken as it is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/pgarr.h"

void
pgarr_init(struct pgarr *a)
{
	memset(a, 0, sizeof *a);
	if ((a->buf = malloc(a->cap = 256)) == NULL) {
		a->cap = 0;
		a->oom = 1;
		return;
	}
	a->buf[a->len++] = '{';
}

void
pgarr_free(struct pgarr *a)
{
	free(a->buf);
	memset(a, 0, sizeof *a);
}

/* Room for `more` bytes; 0, or -1 (remembered) when out of memory. */
static int
reserve(struct pgarr *a, size_t more)
{
	size_t cap = a->cap;
	char *p;

	if (a->oom)
		return -1;
	if (a->len + more <= a->cap)
		return 0;
	while (cap < a->len + more)
		cap *= 2;
	if ((p = realloc(a->buf, cap)) == NULL) {
		a->oom = 1;
		return -1;
	}
	a->buf = p;
	a->cap = cap;
	return 0;
}

/* The separator before a new element; -1 when out of memory. */
static int
next(struct pgarr *a, size_t more)
{
	if (reserve(a, more + 1) != 0)
		return -1;
	if (a->n++ > 0)
		a->buf[a->len++] = ',';
	return 0;
}

void
pgarr_null(struct pgarr *a)
{
	if (next(a, 4) != 0)
		return;
	memcpy(a->buf + a->len, "NULL", 4);
	a->len += 4;
}

void
pgarr_text(struct pgarr *a, const char *s)
{
	size_t len, i;
	char *o;

	if (s == NULL) {
		pgarr_null(a);
		return;
	}
	len = strlen(s);
	/* At worst every byte escaped, and the two quotes. */
	if (next(a, 2 * len + 2) != 0)
		return;
	o = a->buf + a->len;
	*o++ = '"';
	for (i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			*o++ = '\\';
		*o++ = s[i];
	}
	*o++ = '"';
	a->len = (size_t)(o - a->buf);
}

/* Decimal digits of v at o; returns the end. */
static char *
put_int(char *o, int64_t v)
{
	char tmp[24];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int n = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*o++ = '-';
	while (n > 0)
		*o++ = tmp[--n];
	return o;
}

void
pgarr_int(struct pgarr *a, int64_t v)
{
	if (next(a, 21) != 0)
		return;
	a->len = (size_t)(put_int(a->buf + a->len, v) - a->buf);
}

void
pgarr_ints(struct pgarr *a, const int64_t *v, size_t n)
{
	size_t i;
	char *o;

	if (next(a, 4 + 21 * n) != 0)
		return;
	o = a->buf + a->len;
	*o++ = '"';
	*o++ = '{';
	for (i = 0; i < n; i++) {
		if (i > 0)
			*o++ = ',';
		o = put_int(o, v[i]);
	}
	*o++ = '}';
	*o++ = '"';
	a->len = (size_t)(o - a->buf);
}

const char *
pgarr_finish(struct pgarr *a)
{
	if (reserve(a, 2) != 0)
		return NULL;
	a->buf[a->len++] = '}';
	a->buf[a->len] = '\0';
	return a->buf;
}

int
pgarr_read_ints(const char *lit, int64_t *out, size_t max)
{
	long long v;
	char *end;
	size_t n = 0;

	if (*lit++ != '{')
		return -1;
	if (*lit == '}')
		return lit[1] == '\0' ? 0 : -1;
	for (;;) {
		errno = 0;
		v = strtoll(lit, &end, 10);
		if (end == lit || errno != 0 || (*end != ',' && *end != '}'))
			return -1;
		if (n < max)
			out[n] = v;
		n++;
		if (*end == '}')
			return end[1] == '\0' && n <= 0x7fffffff ? (int)n : -1;
		lit = end + 1;
	}
}
