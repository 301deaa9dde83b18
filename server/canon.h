/*
 * canon.h - compact JSON written byte for byte as jansson's
 * json_dumps(JSON_COMPACT | JSON_SORT_KEYS) writes it, without building
 * jansson objects: for the request hash of each usage event, which must
 * not change, since ids booked before are told duplicate or conflict by
 * it. The caller writes keys in sorted order itself (as json_pack's "s?"
 * writes null for a NULL string, so does canon_str_or_null).
 *
 * Strings must be valid UTF-8 without NUL, as jansson's parser leaves
 * them; they are escaped as jansson escapes them. Out of memory is
 * remembered and reported by canon_done.
 */
#ifndef TOLLGATE_CANON_H
#define TOLLGATE_CANON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct evbuffer;

struct canon {
	char *p;
	size_t len, cap;
	int oom;
	char local[1024];
};

void canon_init(struct canon *c);
void canon_free(struct canon *c);
/* Empty c for reuse, keeping its memory. */
void canon_clear(struct canon *c);

void canon_raw(struct canon *c, const char *s, size_t n);
void canon_str(struct canon *c, const char *s);
/* s, or null when s is NULL. */
void canon_str_or_null(struct canon *c, const char *s);
void canon_int(struct canon *c, int64_t v);
/* An object member "k": with its comma when not the first. */
void canon_key(struct canon *c, int first, const char *k);
/* An object whose values are all strings (as checked tags are), keys
 * sorted; -1 when it holds anything else. */
int canon_strobj(struct canon *c, json_t *o);

/* The text so far (NUL-terminated) and its length, or NULL when out of
 * memory. */
const char *canon_done(struct canon *c, size_t *len);
/* Append the text so far to out; -1 when out of memory (then or before). */
int canon_into(struct canon *c, struct evbuffer *out);

/* An object member "k" whose value is nano-units as a decimal string
 * (ledger_money_format), as the API writes money. */
void canon_money(struct canon *c, int first, const char *k, int64_t nanos);

#endif
