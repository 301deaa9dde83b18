/*
 * reconcile.h - a provider's usage and cost export (CSV), read and summed
 * per day x model, to set beside the ledger's: pure C, no I/O.
 */
#ifndef TOLLGATE_RECONCILE_H
#define TOLLGATE_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

enum { RQ_INPUT, RQ_OUTPUT, RQ_CACHED, RQ_COUNT };

struct recon_row {
	char date[11];			/* YYYY-MM-DD */
	char model[129];
	int64_t cost;			/* nano-units */
	int64_t q[RQ_COUNT];		/* tokens, when the export has them */
};

/* The token columns an export may carry, in RQ_ order. */
extern const char *const reconcile_columns[RQ_COUNT];

/*
 * Read a CSV export: a header naming at least date, model and cost (any
 * case, any order; input_tokens, output_tokens, cached_input_tokens when
 * present), then one line per row. Rows are summed per date x model and
 * sorted by date, then model (byte order). *has[k] says whether the
 * export has token column k. Returns the rows (free them) and their
 * count in *n, or NULL with err (and the column or line in where).
 */
struct recon_row *reconcile_parse(const char *data, size_t len, size_t *n,
    int has[RQ_COUNT], char *err, size_t errsz, char *where, size_t wsz);

#endif
