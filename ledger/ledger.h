/*
 * ledger.h - the ledger's pure core: money, time stamps, account names and
 * posting sets.
 *
 * Money is an int64_t count of nano-units (1e-9 of the currency unit). It
 * crosses the wire only as a decimal string; nothing here uses floating
 * point. Everything in this module is pure (no I/O, no clock, no allocation)
 * so that it is unit-tested alone and can be used from any thread.
 *
 * Functions that can fail return 0 on success and -1 on failure, and then
 * set *why to a static, human-readable message (never NULL on failure).
 */
#ifndef TOLLGATE_LEDGER_H
#define TOLLGATE_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#define LEDGER_NANOS_PER_UNIT 1000000000LL
#define LEDGER_MONEY_FRAC_DIGITS 9
/* Longest formatted amount: "-9223372036.854775807" plus NUL. */
#define LEDGER_MONEY_BUFSZ 24
/* Longest formatted time stamp: "2026-10-05T12:00:00.123456Z" plus NUL. */
#define LEDGER_TIME_BUFSZ 32
/* Longest account name accepted, in bytes. */
#define LEDGER_ACCOUNT_MAX 200
/* Most postings in one transaction. */
#define LEDGER_POSTINGS_MAX 1000

#if defined(__GNUC__)
#define LEDGER_MUSTCHECK __attribute__((warn_unused_result))
#else
#define LEDGER_MUSTCHECK
#endif

/*
 * Parse a decimal amount of money into nano-units. Grammar, whole string
 * (len bytes, no NUL needed): -?[0-9]+(\.[0-9]{1,9})?  No '+', no
 * whitespace, no exponent, no more than 9 fractional digits. The magnitude
 * must fit in int64_t nano-units (|v| <= INT64_MAX), so negation is safe.
 */
int ledger_money_parse(const char *s, size_t len, int64_t *out,
    const char **why) LEDGER_MUSTCHECK;

/*
 * Format nano-units as a decimal string with exactly 9 fractional digits
 * ("12.500000000", "-0.000000001", "0.000000000"). buf must hold
 * LEDGER_MONEY_BUFSZ bytes. Returns the string length.
 */
size_t ledger_money_format(int64_t v, char *buf);

/* Whole units (from a JSON integer) to nano-units, overflow-checked. */
int ledger_money_from_units(int64_t units, int64_t *out,
    const char **why) LEDGER_MUSTCHECK;

/*
 * Parse an RFC 3339 time stamp ("2026-10-05T12:00:00Z",
 * "2026-10-05T14:00:00.5+02:00") into microseconds since the Unix epoch, UTC.
 * 'T' or 't' separator, 'Z'/'z' or a +hh:mm / -hh:mm offset are required; at
 * most 6 fractional second digits; the date must exist (leap years); year
 * 0001..9999; leap second 60 is refused.
 */
int ledger_time_parse(const char *s, size_t len, int64_t *out_us,
    const char **why) LEDGER_MUSTCHECK;

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12),
 * and back. */
int64_t ledger_days_from_civil(int64_t y, int m, int d);
void ledger_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/*
 * Format microseconds since the epoch as UTC RFC 3339 with 'Z': no fraction
 * when the microseconds are zero, else exactly 6 fractional digits. buf must
 * hold LEDGER_TIME_BUFSZ bytes. Returns the string length.
 */
size_t ledger_time_format(int64_t us, char *buf);

/*
 * Account names are "<kind>:<path>" with kind one of expense, payable,
 * credit, refund, adjustment, equity, and path one or more '/'-separated
 * segments of [a-z0-9][a-z0-9_.-]* (at most 64 bytes each), total at most
 * LEDGER_ACCOUNT_MAX bytes.
 */
int ledger_account_check(const char *name, const char **why) LEDGER_MUSTCHECK;

struct ledger_posting {
	const char *account;
	int64_t amount;		/* nano-units; debit > 0, credit < 0 */
};

/*
 * Check a posting set before anything is sent to PostgreSQL: 2 to
 * LEDGER_POSTINGS_MAX postings, each with a valid account name and a
 * non-zero amount, summing to exactly zero without overflow (the running sum
 * is kept in 128 bits). On failure *bad_index is the index of the offending
 * posting, or -1 when the fault is the set as a whole (count, sum).
 */
int ledger_postings_check(const struct ledger_posting *p, size_t n,
    int *bad_index, const char **why) LEDGER_MUSTCHECK;

#endif
