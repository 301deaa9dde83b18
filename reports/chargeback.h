/*
 * chargeback.h - the monthly chargeback in FinOps FOCUS columns: pure C,
 * no I/O. A caller reads rows (usage from the rollups, then the ledger's
 * other entries on expense accounts: adjustments and shared-cost
 * reallocations) and hands them here one by one; each becomes one RFC 4180
 * line written through a callback, so a month of any size is written in
 * constant memory.
 */
#ifndef TOLLGATE_CHARGEBACK_H
#define TOLLGATE_CHARGEBACK_H

#include <stddef.h>
#include <stdint.h>

typedef void (*chargeback_write_fn)(void *arg, const char *s, size_t n);

/* One row: a period (day or month) x cost center x provider x model x
 * meter, usage or its corrections. */
struct chargeback_row {
	int64_t billing_lo_us, billing_hi_us;	/* the month, UTC */
	int64_t charge_lo_us, charge_hi_us;	/* the day or the month */
	const char *cost_center, *cost_center_name;
	const char *tags_json;			/* the cost center's tags */
	const char *provider, *model;
	int meter;				/* enum pricing_meter */
	int correction;				/* ChargeClass "Correction" */
	int64_t quantity;			/* usage rows; -1 for corrections */
	int64_t list_cost, cost;		/* nano-units */
	const char *price_versions;		/* "3" or "3;4" */
};

/* A posting to an expense account that is not usage: a manual adjustment,
 * or one side of a shared-cost reallocation (the source's credit, or a
 * target's debit). */
struct chargeback_entry {
	int64_t billing_lo_us, billing_hi_us;	/* the month, UTC */
	int64_t charge_lo_us, charge_hi_us;	/* the day or the month */
	const char *cost_center, *cost_center_name;
	const char *tags_json;			/* the cost center's tags */
	const char *provider;			/* "" when none is named */
	const char *memo;
	int64_t amount;				/* nano-units, signed */
	/* Reallocations only (NULL otherwise): */
	const char *allocation_id, *method, *source;
	const char *details_json;		/* AllocatedMethodDetails */
	const char *source_tags_json;		/* AllocatedTags */
};

/* The header line, CRLF-terminated. */
const char *chargeback_header(void);

/* Write one row as a CRLF-terminated CSV line. */
void chargeback_row(const struct chargeback_row *r, chargeback_write_fn write,
    void *arg);

/* Write one ledger entry as a CRLF-terminated CSV line: ChargeCategory
 * "Adjustment" for adjustments, "Usage" for reallocated spend, with the
 * Allocated* columns filled; no quantities or unit prices. */
void chargeback_entry_row(const struct chargeback_entry *e,
    chargeback_write_fn write, void *arg);

/*
 * A unit price: cost (nano-units) for `quantity` units, per `per` units,
 * as a decimal with 18 fractional digits, rounded half to even, so that
 * the price times quantity / per, rounded to 9 digits, gives back the
 * cost. buf holds CHARGEBACK_PRICE_BUFSZ bytes.
 */
#define CHARGEBACK_PRICE_BUFSZ 64
void chargeback_unit_price(int64_t nanos, int64_t quantity, int64_t per,
    char *buf);

#endif
