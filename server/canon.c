/*
 * canon.c - jansson's compact, sorted JSON, written directly. See canon.h.
 *
 * What jansson does (dump.c, 2.14), and so what this does: strings escape
 * backslash and double quote, \b \f \n \r \t by name and other bytes
 * below 0x20 as \u00XX in upper-case hex; nothing else (no slash, UTF-8
 * as it is); integers in decimal; object keys ordered by their bytes, a
 * shorter key before a longer one it begins.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "ledger/ledger.h"
#include "server/canon.h"

void
canon_init(struct canon *c)
{
	c->p = c->local;
	c->len = 0;
	c->cap = sizeof c->local;
	c->oom = 0;
}

void
canon_clear(struct canon *c)
{
	c->len = 0;
}

void
canon_free(struct canon *c)
{
	if (c->p != c->local)
		free(c->p);
	canon_init(c);
}

static int
reserve(struct canon *c, size_t more)
{
	size_t cap = c->cap;
	char *p;

	if (c->oom)
		return -1;
	if (c->len + more + 1 <= c->cap)
		return 0;
	while (cap < c->len + more + 1)
		cap *= 2;
	if (c->p == c->local) {
		if ((p = malloc(cap)) != NULL)
			memcpy(p, c->local, c->len);
	} else
		p = realloc(c->p, cap);
	if (p == NULL) {
		c->oom = 1;
		return -1;
	}
	c->p = p;
	c->cap = cap;
	return 0;
}

void
canon_raw(struct canon *c, const char *s, size_t n)
{
	if (reserve(c, n) != 0)
		return;
	memcpy(c->p + c->len, s, n);
	c->len += n;
}

void
canon_str(struct canon *c, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), i;
	char *o;

	/* At worst six bytes for each, and the quotes. */
	if (reserve(c, 6 * n + 2) != 0)
		return;
	o = c->p + c->len;
	*o++ = '"';
	for (i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		if (b >= 0x20 && b != '"' && b != '\\') {
			*o++ = (char)b;
			continue;
		}
		*o++ = '\\';
		switch (b) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[b >> 4];
			*o++ = hex[b & 15];
		}
	}
	*o++ = '"';
	c->len = (size_t)(o - c->p);
}

void
canon_str_or_null(struct canon *c, const char *s)
{
	if (s == NULL)
		canon_raw(c, "null", 4);
	else
		canon_str(c, s);
}

void
canon_int(struct canon *c, int64_t v)
{
	char tmp[24];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int n = 0;

	do {
		tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		tmp[sizeof tmp - 1 - n++] = '-';
	canon_raw(c, tmp + sizeof tmp - n, (size_t)n);
}

void
canon_key(struct canon *c, int first, const char *k)
{
	if (!first)
		canon_raw(c, ",", 1);
	canon_str(c, k);
	canon_raw(c, ":", 1);
}

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
canon_strobj(struct canon *c, json_t *o)
{
	const char *small[64], **keys = small, *k;
	size_t n = json_object_size(o), i = 0;
	json_t *v;

	if (n > sizeof small / sizeof small[0] &&
	    (keys = malloc(n * sizeof *keys)) == NULL) {
		c->oom = 1;
		return -1;
	}
	json_object_foreach(o, k, v) {
		if (!json_is_string(v)) {
			if (keys != small)
				free(keys);
			return -1;
		}
		keys[i++] = k;
	}
	qsort(keys, n, sizeof *keys, cmp_keys);
	canon_raw(c, "{", 1);
	for (i = 0; i < n; i++) {
		canon_key(c, i == 0, keys[i]);
		canon_str(c, json_string_value(json_object_get(o, keys[i])));
	}
	canon_raw(c, "}", 1);
	if (keys != small)
		free(keys);
	return 0;
}

const char *
canon_done(struct canon *c, size_t *len)
{
	if (reserve(c, 0) != 0)
		return NULL;
	c->p[c->len] = '\0';
	*len = c->len;
	return c->p;
}

int
canon_into(struct canon *c, struct evbuffer *out)
{
	const char *t;
	size_t n;

	if ((t = canon_done(c, &n)) == NULL || evbuffer_add(out, t, n) != 0)
		return -1;
	return 0;
}

void
canon_money(struct canon *c, int first, const char *k, int64_t nanos)
{
	char buf[LEDGER_MONEY_BUFSZ];

	size_t n = ledger_money_format(nanos, buf);

	/* Digits, a sign and a point: nothing to escape. */
	canon_key(c, first, k);
	canon_raw(c, "\"", 1);
	canon_raw(c, buf, n);
	canon_raw(c, "\"", 1);
}
