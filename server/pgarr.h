/*
 * pgarr.h - PostgreSQL array literals ({"a","b",NULL,12}) built in memory,
 * for passing a batch of rows as one array parameter per column: cheaper
 * for PostgreSQL to read than the same rows as a JSON document, and
 * cheaper for us to write. Pure: no I/O, no libpq.
 *
 * Text elements are always quoted, so that no value is ever read as NULL
 * or split; NULL is written only by pgarr_null (or a NULL string). Out of
 * memory is remembered and reported once, by pgarr_finish.
 */
#ifndef TOLLGATE_PGARR_H
#define TOLLGATE_PGARR_H

#include <stddef.h>
#include <stdint.h>

struct pgarr {
	char *buf;
	size_t len, cap;
	size_t n;		/* elements so far */
	int oom;
};

/* Start an empty array; pgarr_free(a) releases it whatever happens. */
void pgarr_init(struct pgarr *a);
void pgarr_free(struct pgarr *a);

/* Append a text element: s, or SQL NULL when s is NULL. */
void pgarr_text(struct pgarr *a, const char *s);
void pgarr_null(struct pgarr *a);
void pgarr_int(struct pgarr *a, int64_t v);
/* Append one element that is itself the literal of an integer array
 * (for a text[] whose elements are cast to bigint[] one by one). */
void pgarr_ints(struct pgarr *a, const int64_t *v, size_t n);

/* Close the array: its literal (owned by a), or NULL when out of memory. */
const char *pgarr_finish(struct pgarr *a);

/* Read the literal of a one-dimensional integer array ({1,-2,3}, as
 * PostgreSQL writes a bigint[]) into out[0..max): how many elements it
 * has, or -1 when it is not such a literal (a NULL element, a non-integer,
 * no braces). Elements past max are checked but not stored. */
int pgarr_read_ints(const char *lit, int64_t *out, size_t max);

#endif
