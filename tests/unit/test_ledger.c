/*
 * test_ledger.c - unit tests for ledger/ledger.c: money, time stamps,
 * account names and posting sets, with the weight on the edges.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "tests/unit/testutil.h"

#define SENTINEL	((int64_t)0x5a5a5a5a5a5a5a5aLL)
#define T_US(s)		((int64_t)(s) * 1000000LL)
/* Unix seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define MIN_SEC		(-62135596800LL)
#define MAX_SEC		253402300799LL


/* ---- helpers: they report the input so a failure says which case. ---- */

static void
money_ok_at(const char *s, size_t len, int64_t want)
{
	int64_t		 v = SENTINEL;
	const char	*why = NULL;
	int		 rc;

	rc = ledger_money_parse(s, len, &v, &why);
	if (rc != 0)
		fail_msg("money \"%.*s\": refused (%s)", (int)len, s,
		    why != NULL ? why : "(null)");
	if (v != want)
		fail_msg("money \"%.*s\": got %lld, want %lld", (int)len, s,
		    (long long)v, (long long)want);
}

static void
money_bad_at(const char *s, size_t len)
{
	int64_t		 v = SENTINEL;
	const char	*why = NULL;
	int		 rc;

	rc = ledger_money_parse(s, len, &v, &why);
	if (rc != -1)
		fail_msg("money \"%.*s\": rc %d, want -1 (v=%lld)", (int)len,
		    s, rc, (long long)v);
	if (why == NULL || why[0] == '\0')
		fail_msg("money \"%.*s\": refused without a reason", (int)len,
		    s);
	if (v != SENTINEL)
		fail_msg("money \"%.*s\": output written on failure", (int)len,
		    s);
}

/* sizeof, not strlen, so literals with embedded NULs keep their length. */
#define MONEY_OK(lit, want)	money_ok_at((lit), sizeof(lit) - 1, (want))
#define MONEY_BAD(lit)		money_bad_at((lit), sizeof(lit) - 1)

static void
money_fmt_is(int64_t v, const char *want)
{
	char	buf[LEDGER_MONEY_BUFSZ];
	size_t	n;

	memset(buf, 'x', sizeof buf);
	n = ledger_money_format(v, buf);
	if (strcmp(buf, want) != 0 || n != strlen(want))
		fail_msg("money_format(%lld) = \"%s\" (%zu), want \"%s\"",
		    (long long)v, buf, n, want);
}

static int64_t
time_ok_at(const char *s, size_t len)
{
	int64_t		 v = SENTINEL;
	const char	*why = NULL;

	if (ledger_time_parse(s, len, &v, &why) != 0)
		fail_msg("time \"%.*s\": refused (%s)", (int)len, s,
		    why != NULL ? why : "(null)");
	return (v);
}

static void
time_bad_at(const char *s, size_t len)
{
	int64_t		 v = SENTINEL;
	const char	*why = NULL;
	int		 rc;

	rc = ledger_time_parse(s, len, &v, &why);
	if (rc != -1)
		fail_msg("time \"%.*s\": rc %d, want -1 (v=%lld)", (int)len, s,
		    rc, (long long)v);
	if (why == NULL || why[0] == '\0')
		fail_msg("time \"%.*s\": refused without a reason", (int)len, s);
	if (v != SENTINEL)
		fail_msg("time \"%.*s\": output written on failure", (int)len,
		    s);
}

#define TIME_OK(lit)	time_ok_at((lit), sizeof(lit) - 1)
#define TIME_BAD(lit)	time_bad_at((lit), sizeof(lit) - 1)

static void
time_is(const char *s, int64_t want_us)
{
	int64_t	got;

	got = time_ok_at(s, strlen(s));
	if (got != want_us)
		fail_msg("time \"%s\": got %lld us, want %lld us", s,
		    (long long)got, (long long)want_us);
}

static void
time_fmt_is(int64_t us, const char *want)
{
	char	buf[LEDGER_TIME_BUFSZ];
	size_t	n;

	memset(buf, 'x', sizeof buf);
	n = ledger_time_format(us, buf);
	if (strcmp(buf, want) != 0 || n != strlen(want))
		fail_msg("time_format(%lld) = \"%s\" (%zu), want \"%s\"",
		    (long long)us, buf, n, want);
}

static void
account_ok(const char *name)
{
	const char	*why = NULL;

	if (ledger_account_check(name, &why) != 0)
		fail_msg("account \"%s\": refused (%s)", name,
		    why != NULL ? why : "(null)");
}

static void
account_bad(const char *name)
{
	const char	*why = NULL;

	if (ledger_account_check(name, &why) != -1)
		fail_msg("account \"%s\": accepted", name);
	if (why == NULL || why[0] == '\0')
		fail_msg("account \"%s\": refused without a reason", name);
}

static void
postings_bad(const struct ledger_posting *p, size_t n, int want_index)
{
	const char	*why = NULL;
	int		 idx = 12345, rc;

	rc = ledger_postings_check(p, n, &idx, &why);
	if (rc != -1)
		fail_msg("postings (n=%zu): rc %d, want -1", n, rc);
	if (idx != want_index)
		fail_msg("postings (n=%zu): bad_index %d, want %d", n, idx,
		    want_index);
	if (why == NULL || why[0] == '\0')
		fail_msg("postings (n=%zu): refused without a reason", n);
}

static void
postings_ok(const struct ledger_posting *p, size_t n)
{
	const char	*why = NULL;
	int		 idx = 12345;

	if (ledger_postings_check(p, n, &idx, &why) != 0)
		fail_msg("postings (n=%zu): refused at %d (%s)", n, idx,
		    why != NULL ? why : "(null)");
}

/* ---- money: parse ---- */

static void
test_money_parse_basic(void **state)
{
	(void)state;
	MONEY_OK("0", 0);
	MONEY_OK("-0", 0);
	MONEY_OK("1", 1000000000LL);
	MONEY_OK("-1", -1000000000LL);
	MONEY_OK("0.000000001", 1);
	MONEY_OK("-0.000000001", -1);
	MONEY_OK("12.5", 12500000000LL);
	MONEY_OK("-12.5", -12500000000LL);
	MONEY_OK("0.1", 100000000LL);
	MONEY_OK("0.123456789", 123456789LL);
	MONEY_OK("-0.0", 0);
	MONEY_OK("007.50", 7500000000LL);
	MONEY_OK("000000000000000000000000000001", 1000000000LL);
	MONEY_OK("1.000000000", 1000000000LL);
}

static void
test_money_parse_limits(void **state)
{
	(void)state;
	MONEY_OK("9223372036.854775807", INT64_MAX);
	MONEY_OK("-9223372036.854775807", -INT64_MAX);
	MONEY_OK("9223372036", 9223372036000000000LL);
	MONEY_OK("-9223372036", -9223372036000000000LL);
	MONEY_BAD("9223372036.854775808");
	MONEY_BAD("-9223372036.854775808");
	MONEY_BAD("9223372037");
	MONEY_BAD("-9223372037");
	MONEY_BAD("99999999999");
	MONEY_BAD("9223372036854775807");
	MONEY_BAD("9223372036854775808");
	MONEY_BAD("99999999999999999999999999999");
}

static void
test_money_parse_syntax(void **state)
{
	(void)state;
	MONEY_OK("0.123456789", 123456789LL);
	MONEY_BAD("0.1234567890");
	MONEY_BAD("1.0000000000");
	MONEY_BAD("1e5");
	MONEY_BAD("1E5");
	MONEY_BAD("+1");
	MONEY_BAD("--1");
	MONEY_BAD("-+1");
	MONEY_BAD(" 1");
	MONEY_BAD("1 ");
	MONEY_BAD("\t1");
	MONEY_BAD("1\n");
	MONEY_BAD("1.");
	MONEY_BAD("-1.");
	MONEY_BAD(".5");
	MONEY_BAD("-.5");
	MONEY_BAD("");
	MONEY_BAD("-");
	MONEY_BAD(".");
	MONEY_BAD("1.2.3");
	MONEY_BAD("1,5");
	MONEY_BAD("0x10");
	MONEY_BAD("1_000");
	MONEY_BAD("\xef\xbc\x91");		/* U+FF11 FULLWIDTH DIGIT ONE */
	MONEY_BAD("1\xef\xbc\x91");
	MONEY_BAD("\xd9\xa1");			/* U+0661 ARABIC-INDIC ONE */
	MONEY_BAD("NaN");
	MONEY_BAD("inf");
	MONEY_BAD("1\0");
	MONEY_BAD("\0" "1");
	MONEY_BAD("1.5\0" "0");
	MONEY_BAD("\0");
}

static void
test_money_parse_len(void **state)
{
	char		*exact;
	int64_t		 v = SENTINEL;
	const char	*why = NULL;

	(void)state;
	/* Only len bytes are looked at; what follows is someone else's. */
	money_ok_at("12.5xyz", 4, 12500000000LL);
	money_ok_at("19", 1, 1000000000LL);
	money_ok_at("-1.25", 4, -1200000000LL);
	money_ok_at("1.0000000001", 11, 1000000000LL);
	money_bad_at("1.5", 2);
	money_bad_at("-1", 1);
	money_bad_at("5", 0);

	/* A buffer with no NUL: ASan catches any read past len. */
	exact = malloc(4);
	assert_non_null(exact);
	memcpy(exact, "12.5", 4);
	assert_int_equal(ledger_money_parse(exact, 4, &v, &why), 0);
	assert_true(v == 12500000000LL);
	memcpy(exact, "1.2x", 4);
	v = SENTINEL;
	assert_int_equal(ledger_money_parse(exact, 4, &v, &why), -1);
	assert_true(v == SENTINEL);
	free(exact);

	/* An empty buffer is not read at all (ASan checks). */
	exact = malloc(1);
	assert_non_null(exact);
	exact[0] = '7';
	money_bad_at(exact + 1, 0);
	free(exact);

	/* NULL input is refused, not dereferenced. */
	why = NULL;
	assert_int_equal(ledger_money_parse(NULL, 0, &v, &why), -1);
	assert_non_null(why);
}

/* ---- money: format ---- */

static void
test_money_format_exact(void **state)
{
	(void)state;
	money_fmt_is(0, "0.000000000");
	money_fmt_is(1, "0.000000001");
	money_fmt_is(-1, "-0.000000001");
	money_fmt_is(12500000000LL, "12.500000000");
	money_fmt_is(-12500000000LL, "-12.500000000");
	money_fmt_is(1000000000LL, "1.000000000");
	money_fmt_is(999999999LL, "0.999999999");
	money_fmt_is(-999999999LL, "-0.999999999");
	money_fmt_is(123456789012LL, "123.456789012");
	money_fmt_is(INT64_MAX, "9223372036.854775807");
	money_fmt_is(-INT64_MAX, "-9223372036.854775807");
	/* Never produced by parse, but must not overflow the buffer. */
	money_fmt_is(INT64_MIN, "-9223372036.854775808");
}

static void
money_round_trip(int64_t v)
{
	char		 buf[LEDGER_MONEY_BUFSZ];
	const char	*dot;
	size_t		 n;

	n = ledger_money_format(v, buf);
	if (n != strlen(buf) || n >= LEDGER_MONEY_BUFSZ)
		fail_msg("money_format(%lld): bad length %zu", (long long)v, n);
	dot = strchr(buf, '.');
	if (dot == NULL || strlen(dot + 1) != LEDGER_MONEY_FRAC_DIGITS)
		fail_msg("money_format(%lld) = \"%s\": not 9 decimals",
		    (long long)v, buf);
	money_ok_at(buf, n, v);
}

static void
test_money_round_trip(void **state)
{
	static const int64_t edges[] = {
		0, 1, -1, 9, -9, 10, -10, 999999999, -999999999,
		1000000000, -1000000000, 1000000001, -1000000001,
		INT64_MAX, -INT64_MAX, INT64_MAX - 1, -INT64_MAX + 1,
		9223372036000000000LL, -9223372036000000000LL,
	};
	uint64_t	rng = 42;
	int64_t		p, v;
	size_t		i;
	int		k;

	(void)state;
	for (i = 0; i < sizeof edges / sizeof edges[0]; i++)
		money_round_trip(edges[i]);
	for (p = 1, k = 0; k <= 18; k++) {
		money_round_trip(p);
		money_round_trip(-p);
		money_round_trip(p - 1);
		money_round_trip(-(p - 1));
		money_round_trip(p + 1);
		money_round_trip(-(p + 1));
		if (k < 18)		/* 10^19 does not fit */
			p *= 10;
	}
	/* Shift by a random amount so that every magnitude is exercised. */
	for (i = 0; i < 5000; i++) {
		v = (int64_t)(rng_next(&rng) >> (1 + rng_next(&rng) % 63));
		if (rng_next(&rng) & 1)
			v = -v;
		money_round_trip(v);
	}
}

static void
test_money_from_units(void **state)
{
	int64_t		 v;
	const char	*why;

	(void)state;
	v = SENTINEL;
	assert_int_equal(ledger_money_from_units(0, &v, &why), 0);
	assert_true(v == 0);
	assert_int_equal(ledger_money_from_units(1, &v, &why), 0);
	assert_true(v == 1000000000LL);
	assert_int_equal(ledger_money_from_units(-1, &v, &why), 0);
	assert_true(v == -1000000000LL);
	assert_int_equal(ledger_money_from_units(9223372036LL, &v, &why), 0);
	assert_true(v == 9223372036000000000LL);
	assert_int_equal(ledger_money_from_units(-9223372036LL, &v, &why), 0);
	assert_true(v == -9223372036000000000LL);

	v = SENTINEL;
	why = NULL;
	assert_int_equal(ledger_money_from_units(9223372037LL, &v, &why), -1);
	assert_non_null(why);
	assert_true(v == SENTINEL);
	why = NULL;
	assert_int_equal(ledger_money_from_units(-9223372037LL, &v, &why), -1);
	assert_non_null(why);
	assert_true(v == SENTINEL);
	assert_int_equal(ledger_money_from_units(INT64_MAX, &v, &why), -1);
	assert_int_equal(ledger_money_from_units(INT64_MIN, &v, &why), -1);
	assert_true(v == SENTINEL);
}

/* ---- time ---- */

static void
test_time_parse_epoch(void **state)
{
	(void)state;
	time_is("1970-01-01T00:00:00Z", 0);
	time_is("1970-01-01T00:00:00.000001Z", 1);
	time_is("1970-01-01T00:00:01Z", T_US(1));
	time_is("1969-12-31T23:59:59Z", T_US(-1));
	time_is("1969-12-31T23:59:59.999999Z", -1);
	time_is("1900-01-01T00:00:00Z", T_US(-2208988800LL));
	time_is("2000-03-01T00:00:00Z", T_US(951868800LL));
	time_is("2026-10-05T12:00:00Z", T_US(1791201600LL));
	time_is("2038-01-19T03:14:08Z", T_US(2147483648LL));
	time_is("0001-01-01T00:00:00Z", T_US(MIN_SEC));
	time_is("9999-12-31T23:59:59Z", T_US(MAX_SEC));
	time_is("9999-12-31T23:59:59.999999Z", T_US(MAX_SEC) + 999999);
	assert_true(TIME_OK("1969-07-20T20:17:40Z") < 0);
}

static void
test_time_parse_leap_years(void **state)
{
	(void)state;
	time_is("2024-02-29T00:00:00Z", T_US(1709164800LL));
	time_is("2000-02-29T00:00:00Z", T_US(951782400LL));
	time_is("2024-03-01T00:00:00Z", T_US(1709164800LL + 86400));
	time_is("2023-03-01T00:00:00Z", T_US(1677628800LL));
	TIME_BAD("2023-02-29T00:00:00Z");
	TIME_BAD("1900-02-29T00:00:00Z");
	TIME_BAD("2100-02-29T00:00:00Z");
	TIME_BAD("2024-02-30T00:00:00Z");
	(void)TIME_OK("0004-02-29T00:00:00Z");
	(void)TIME_OK("0400-02-29T00:00:00Z");
	TIME_BAD("0100-02-29T00:00:00Z");
	TIME_BAD("2024-04-31T00:00:00Z");
	TIME_BAD("2024-06-31T00:00:00Z");
	TIME_BAD("2024-09-31T00:00:00Z");
	TIME_BAD("2024-11-31T00:00:00Z");
	(void)TIME_OK("2024-01-31T00:00:00Z");
	(void)TIME_OK("2024-12-31T00:00:00Z");
}

static void
test_time_parse_offsets(void **state)
{
	int64_t	noon;

	(void)state;
	noon = TIME_OK("2026-10-05T12:00:00Z");
	time_is("2026-10-05T14:00:00+02:00", noon);
	time_is("2026-10-05T06:30:00-05:30", noon);
	time_is("2026-10-05T12:00:00+00:00", noon);
	time_is("2026-10-05T12:00:00-00:00", noon);
	time_is("2026-10-05T14:00:00.5+02:00", noon + 500000);
	time_is("2026-10-06T11:59:00+23:59", noon);
	time_is("2026-10-04T12:01:00-23:59", noon);
	/* Offsets move the date too, across a leap day. */
	time_is("2024-03-01T01:00:00+02:00", TIME_OK("2024-02-29T23:00:00Z"));
	time_is("1970-01-01T00:00:00+01:00", T_US(-3600));
	time_is("1969-12-31T19:00:00-05:00", 0);

	TIME_BAD("2026-10-05T12:00:00+24:00");
	TIME_BAD("2026-10-05T12:00:00+02:60");
	TIME_BAD("2026-10-05T12:00:00+0200");
	TIME_BAD("2026-10-05T12:00:00+02");
	TIME_BAD("2026-10-05T12:00:00+2:00");
	TIME_BAD("2026-10-05T12:00:00+02:0");
	TIME_BAD("2026-10-05T12:00:00 +02:00");
	TIME_BAD("2026-10-05T12:00:00+02-00");
	TIME_BAD("2026-10-05T12:00:00UTC");
	TIME_BAD("2026-10-05T12:00:00");
	TIME_BAD("2026-10-05T12:00:00.5");
	TIME_BAD("2026-10-05");
}

static void
test_time_parse_range(void **state)
{
	(void)state;
	/* The UTC instant, not just the written date, stays in 0001..9999. */
	time_is("0001-01-01T00:00:00-01:00", T_US(MIN_SEC + 3600));
	time_is("0001-01-01T01:00:00+01:00", T_US(MIN_SEC));
	TIME_BAD("0001-01-01T00:00:00+00:01");
	TIME_BAD("0001-01-01T00:59:59.999999+01:00");
	time_is("9999-12-31T22:59:59+01:00", T_US(MAX_SEC - 7200));
	time_is("9999-12-31T22:59:59-01:00", T_US(MAX_SEC));
	TIME_BAD("9999-12-31T23:59:59-00:01");
	TIME_BAD("9999-12-31T23:00:00-01:00");
	TIME_BAD("0000-01-01T00:00:00Z");
	TIME_BAD("0000-12-31T23:59:59Z");
	/* Year 0000 as written is refused even when the UTC instant is not. */
	TIME_BAD("0000-12-31T23:30:00-01:00");
	TIME_BAD("10000-01-01T00:00:00Z");
	TIME_BAD("-0001-01-01T00:00:00Z");
}

static void
test_time_parse_fields(void **state)
{
	(void)state;
	(void)TIME_OK("2026-10-05T23:59:59Z");
	(void)TIME_OK("2026-10-05T00:00:00Z");
	TIME_BAD("2026-10-05T24:00:00Z");
	TIME_BAD("2026-10-05T12:60:00Z");
	TIME_BAD("2026-10-05T12:00:60Z");
	TIME_BAD("2016-12-31T23:59:60Z");	/* a real leap second */
	TIME_BAD("2026-10-05T12:00:99Z");
	TIME_BAD("2026-13-05T12:00:00Z");
	TIME_BAD("2026-00-05T12:00:00Z");
	TIME_BAD("2026-10-32T12:00:00Z");
	TIME_BAD("2026-10-00T12:00:00Z");
	TIME_BAD("2026-1-05T12:00:00Z");
	TIME_BAD("2026-10-5T12:00:00Z");
	TIME_BAD("2026-10-05T1:00:00Z");
	TIME_BAD("2026/10/05T12:00:00Z");
	TIME_BAD("2026-10-05T12.00.00Z");
	TIME_BAD("2026-10-05 12:00:00Z");
	TIME_BAD("2026-10-05X12:00:00Z");
	TIME_BAD("2026-10-05T12:00Z");
	TIME_BAD("2026-1a-05T12:00:00Z");
	TIME_BAD("+026-10-05T12:00:00Z");
	TIME_BAD("2026-10-05T12:00:0\xef\xbc\x91Z");
	TIME_BAD("");
	TIME_BAD("Z");
}

static void
test_time_parse_fraction(void **state)
{
	int64_t	base;

	(void)state;
	base = TIME_OK("2026-10-05T12:00:00Z");
	time_is("2026-10-05T12:00:00.5Z", base + 500000);
	time_is("2026-10-05T12:00:00.05Z", base + 50000);
	time_is("2026-10-05T12:00:00.123Z", base + 123000);
	time_is("2026-10-05T12:00:00.1234Z", base + 123400);
	time_is("2026-10-05T12:00:00.12345Z", base + 123450);
	time_is("2026-10-05T12:00:00.123456Z", base + 123456);
	time_is("2026-10-05T12:00:00.000000Z", base);
	time_is("2026-10-05T12:00:00.999999Z", base + 999999);
	TIME_BAD("2026-10-05T12:00:00.1234567Z");
	TIME_BAD("2026-10-05T12:00:00.0000000Z");
	TIME_BAD("2026-10-05T12:00:00.Z");
	TIME_BAD("2026-10-05T12:00:00.+02:00");
	TIME_BAD("2026-10-05T12:00:00,5Z");
	TIME_BAD("2026-10-05T12:00:00.5.5Z");
}

static void
test_time_parse_case_and_trailing(void **state)
{
	int64_t	base;
	char	*exact;

	(void)state;
	base = TIME_OK("2026-10-05T12:00:00Z");
	time_is("2026-10-05t12:00:00Z", base);
	time_is("2026-10-05T12:00:00z", base);
	time_is("2026-10-05t12:00:00.5z", base + 500000);
	TIME_BAD("2026-10-05T12:00:00ZZ");
	TIME_BAD("2026-10-05T12:00:00Z ");
	TIME_BAD(" 2026-10-05T12:00:00Z");
	TIME_BAD("2026-10-05T12:00:00Zjunk");
	TIME_BAD("2026-10-05T12:00:00+02:00Z");
	TIME_BAD("2026-10-05T12:00:00+02:00:00");
	TIME_BAD("2026-10-05T12:00:00Z\0");
	TIME_BAD("2026-10-05T12:00:00\0Z");

	/* len is respected: a longer buffer is cut, a NUL-less one is safe. */
	assert_true(time_ok_at("2026-10-05T12:00:00Zjunk", 20) == base);
	time_bad_at("2026-10-05T12:00:00Z", 19);
	exact = malloc(20);
	assert_non_null(exact);
	memcpy(exact, "2026-10-05T12:00:00Z", 20);
	assert_true(time_ok_at(exact, 20) == base);
	memcpy(exact, "2026-10-05T12:00:00.", 20);
	time_bad_at(exact, 20);
	free(exact);
	time_bad_at(NULL, 0);
	/* An offset cut short by len must not be completed from beyond it. */
	time_bad_at("2026-10-05T12:00:00+02:00", 22);
	time_bad_at("2026-10-05T12:00:00.123", 21);
	exact = malloc(22);
	assert_non_null(exact);
	memcpy(exact, "2026-10-05T12:00:00+02", 22);
	time_bad_at(exact, 22);
	free(exact);
}

static void
test_time_format_exact(void **state)
{
	(void)state;
	time_fmt_is(0, "1970-01-01T00:00:00Z");
	time_fmt_is(1, "1970-01-01T00:00:00.000001Z");
	time_fmt_is(-1, "1969-12-31T23:59:59.999999Z");
	time_fmt_is(500000, "1970-01-01T00:00:00.500000Z");
	time_fmt_is(T_US(-1), "1969-12-31T23:59:59Z");
	time_fmt_is(T_US(1791201600LL) + 123456,
	    "2026-10-05T12:00:00.123456Z");
	time_fmt_is(T_US(1709164800LL), "2024-02-29T00:00:00Z");
	time_fmt_is(T_US(951782400LL), "2000-02-29T00:00:00Z");
	time_fmt_is(T_US(MIN_SEC), "0001-01-01T00:00:00Z");
	time_fmt_is(T_US(MAX_SEC) + 999999, "9999-12-31T23:59:59.999999Z");
	/* Beyond what parse produces: expanded years, within the buffer. */
	time_fmt_is(T_US(MAX_SEC) + 1000000, "10000-01-01T00:00:00Z");
	time_fmt_is(T_US(MIN_SEC) - 1, "0000-12-31T23:59:59.999999Z");
	time_fmt_is(INT64_MAX, "294247-01-10T04:00:54.775807Z");
	time_fmt_is(INT64_MIN, "-290308-12-21T19:59:05.224192Z");
}

static void
time_round_trip(int64_t us)
{
	char	buf[LEDGER_TIME_BUFSZ];
	size_t	n;
	int64_t	got;

	n = ledger_time_format(us, buf);
	if (n != strlen(buf))
		fail_msg("time_format(%lld): bad length %zu", (long long)us, n);
	got = time_ok_at(buf, n);
	if (got != us)
		fail_msg("time \"%s\": got %lld, want %lld", buf,
		    (long long)got, (long long)us);
}

static void
test_time_round_trip(void **state)
{
	static const char *const canon[] = {
		"1970-01-01T00:00:00Z", "2024-02-29T23:59:59.000001Z",
		"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
		"1600-03-01T00:00:00Z", "1969-12-31T23:59:59.500000Z",
	};
	char		buf[LEDGER_TIME_BUFSZ];
	uint64_t	rng = 7, span;
	int64_t		lo, hi;
	size_t		i;

	(void)state;
	lo = T_US(MIN_SEC);
	hi = T_US(MAX_SEC) + 999999;
	time_round_trip(lo);
	time_round_trip(hi);
	time_round_trip(0);
	time_round_trip(1);
	time_round_trip(-1);
	span = (uint64_t)(hi - lo) + 1;
	for (i = 0; i < 5000; i++) {
		time_round_trip(lo + (int64_t)(rng_next(&rng) % span));
		/* Whole seconds too, which format without a fraction. */
		time_round_trip(T_US(MIN_SEC +
		    (int64_t)(rng_next(&rng) % (MAX_SEC - MIN_SEC + 1))));
	}
	/* Canonical strings come back unchanged. */
	for (i = 0; i < sizeof canon / sizeof canon[0]; i++) {
		ledger_time_format(time_ok_at(canon[i], strlen(canon[i])), buf);
		assert_string_equal(buf, canon[i]);
	}
}

/*
 * An independent oracle: walk every day from 0001-01-01 to 9999-12-31 with
 * a naive calendar and check that parse and format agree with it.
 */
static void
test_time_every_day(void **state)
{
	static const int mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	char	want[64], buf[LEDGER_TIME_BUFSZ];
	int64_t	day = -719162, got;	/* 0001-01-01 is day -719162 */
	int	y, m, d, dim, leap;

	(void)state;
	for (y = 1; y <= 9999; y++) {
		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		for (m = 1; m <= 12; m++) {
			dim = mdays[m - 1] + (m == 2 && leap);
			for (d = 1; d <= dim; d++, day++) {
				snprintf(want, sizeof want,
				    "%04d-%02d-%02dT00:00:00Z", y, m, d);
				got = time_ok_at(want, 20);
				if (got != day * 86400000000LL)
					fail_msg("%s: got %lld", want,
					    (long long)got);
				ledger_time_format(got, buf);
				if (strcmp(buf, want) != 0)
					fail_msg("%s formats as %s", want, buf);
			}
			snprintf(want, sizeof want,
			    "%04d-%02d-%02dT00:00:00Z", y, m, dim + 1);
			time_bad_at(want, 20);
		}
	}
	assert_true(day == 2932897);	/* 10000-01-01 */
}

/* ---- accounts ---- */

static void
test_account_valid(void **state)
{
	(void)state;
	account_ok("expense:eng");
	account_ok("expense:eng/search/ranker");
	account_ok("payable:openai");
	account_ok("adjustment:q3-fix_1.a");
	account_ok("credit:x");
	account_ok("refund:0");
	account_ok("equity:opening");
	account_ok("expense:9lives/a-b/c_d/e.f");
	account_ok("expense:a..b");
	account_ok("expense:a--");
}

static void
test_account_invalid(void **state)
{
	(void)state;
	account_bad("income:eng");
	account_bad("expenses:eng");
	account_bad("expens:eng");
	account_bad("Expense:eng");
	account_bad(":eng");
	account_bad("expense");
	account_bad("expense-eng");
	account_bad("");
	account_bad("expense:");
	account_bad("expense:/eng");
	account_bad("expense:eng/");
	account_bad("expense:eng//x");
	account_bad("expense:/");
	account_bad("expense:Eng");
	account_bad("expense:eng/Search");
	account_bad("expense:eng search");
	account_bad(" expense:eng");
	account_bad("expense:eng ");
	account_bad("expense: eng");
	account_bad("expense:-eng");
	account_bad("expense:.eng");
	account_bad("expense:_eng");
	account_bad("expense:eng/-x");
	account_bad("expense:eng/.x");
	account_bad("expense:eng/_x");
	account_bad("expense:.");
	account_bad("expense:eng/..");
	account_bad("expense:eng:x");
	account_bad("expense::eng");
	account_bad("expense:eng\\x");
	account_bad("expense:caf\xc3\xa9");
	account_bad("expense:\xef\xbc\x91");
	account_bad(NULL);
}

static void
test_account_lengths(void **state)
{
	char	name[512], seg[128];
	size_t	n;

	(void)state;
	/* A 64-byte segment is fine; 65 is not. */
	memset(seg, 'a', 64);
	seg[64] = '\0';
	snprintf(name, sizeof name, "expense:%s", seg);
	account_ok(name);
	snprintf(name, sizeof name, "expense:x/%s/y", seg);
	account_ok(name);
	memset(seg, 'a', 65);
	seg[65] = '\0';
	snprintf(name, sizeof name, "expense:%s", seg);
	account_bad(name);
	snprintf(name, sizeof name, "expense:x/%s/y", seg);
	account_bad(name);

	/* 200 bytes in total is fine, 201 is not, however it is segmented. */
	memset(seg, 'b', 64);
	seg[64] = '\0';
	n = (size_t)snprintf(name, sizeof name, "expense:%s/%s/", seg, seg);
	memset(name + n, 'c', 200 - n);
	name[200] = '\0';
	assert_int_equal(strlen(name), 200);
	account_ok(name);
	name[200] = 'c';
	name[201] = '\0';
	account_bad(name);
	memset(name, 'd', sizeof name - 1);
	memcpy(name, "expense:", 8);
	name[sizeof name - 1] = '\0';
	account_bad(name);
}

/* ---- postings ---- */

static void
test_postings_basic(void **state)
{
	struct ledger_posting	 pair[] = {
		{ "expense:eng/search", 12500000000LL },
		{ "payable:openai", -12500000000LL },
	};
	struct ledger_posting	 three[] = {
		{ "expense:eng", 3 },
		{ "expense:ops", 4 },
		{ "payable:openai", -7 },
	};
	struct ledger_posting	 p[4];
	const char		*why = NULL;

	(void)state;
	postings_ok(pair, 2);
	postings_ok(three, 3);
	/* bad_index and why may be NULL. */
	assert_int_equal(ledger_postings_check(pair, 2, NULL, NULL), 0);
	assert_int_equal(ledger_postings_check(pair, 1, NULL, &why), -1);
	assert_non_null(why);

	postings_bad(pair, 1, -1);
	postings_bad(pair, 0, -1);
	/* One posting is a fault of the set, even when the posting is bad. */
	memcpy(p, pair, sizeof pair);
	p[0].amount = 0;
	postings_bad(p, 1, -1);
	p[0].account = "nope";
	postings_bad(p, 1, -1);
	postings_bad(NULL, 0, -1);
	postings_bad(NULL, 2, -1);

	memcpy(p, pair, sizeof pair);
	p[1].amount = -12500000001LL;
	postings_bad(p, 2, -1);

	memcpy(p, three, sizeof three);
	p[1].amount = 0;
	p[2].amount = -3;
	postings_bad(p, 3, 1);

	memcpy(p, three, sizeof three);
	p[2].account = "payable:OpenAI";
	postings_bad(p, 3, 2);
	p[2].account = NULL;
	postings_bad(p, 3, 2);
	p[0].account = "bogus";
	postings_bad(p, 3, 0);

	/* The first offence is the one reported. */
	memcpy(p, three, sizeof three);
	p[0].amount = 0;
	p[2].account = "nope";
	postings_bad(p, 3, 0);
}

static void
test_postings_overflow(void **state)
{
	struct ledger_posting	 p[4] = {
		{ "expense:a", INT64_MAX },
		{ "expense:b", INT64_MAX },
		{ "payable:c", -INT64_MAX },
		{ "payable:d", -INT64_MAX },
	};

	(void)state;
	/* The running sum passes 2^63 but ends at zero: accepted. */
	postings_ok(p, 4);
	p[2].amount = -INT64_MAX;
	p[1].amount = -INT64_MAX;
	p[3].amount = INT64_MAX;
	postings_ok(p, 4);
	/* 2^64 wraps to zero in 64 bits; in 128 bits it is not zero. */
	p[0].amount = INT64_MAX;
	p[1].amount = INT64_MAX;
	p[2].amount = 2;
	postings_bad(p, 3, -1);
	/* INT64_MAX + INT64_MAX + 1 + 1 also wraps to zero. */
	p[2].amount = 1;
	p[3].amount = 1;
	postings_bad(p, 4, -1);
	/* INT64_MIN cannot be negated and is not a valid amount. */
	p[0].amount = INT64_MIN;
	p[1].amount = INT64_MAX;
	p[2].amount = 1;
	postings_bad(p, 3, 0);
}

static void
test_postings_count(void **state)
{
	static struct ledger_posting	p[LEDGER_POSTINGS_MAX + 1];
	size_t				i;

	(void)state;
	/* 1000 balanced postings: one debit of 999, 999 credits of 1. */
	p[0].account = "expense:eng";
	p[0].amount = LEDGER_POSTINGS_MAX - 1;
	for (i = 1; i < LEDGER_POSTINGS_MAX; i++) {
		p[i].account = "payable:vendor";
		p[i].amount = -1;
	}
	postings_ok(p, LEDGER_POSTINGS_MAX);

	/* 1001 postings, balanced too: refused for the count alone. */
	p[0].amount = LEDGER_POSTINGS_MAX;
	p[LEDGER_POSTINGS_MAX].account = "payable:vendor";
	p[LEDGER_POSTINGS_MAX].amount = -1;
	postings_bad(p, LEDGER_POSTINGS_MAX + 1, -1);

	/* A bad posting deep in a large set is found at its index. */
	p[0].amount = LEDGER_POSTINGS_MAX - 1;
	p[777].amount = 0;
	p[0].amount -= 1;
	postings_bad(p, LEDGER_POSTINGS_MAX, 777);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_money_parse_basic),
		cmocka_unit_test(test_money_parse_limits),
		cmocka_unit_test(test_money_parse_syntax),
		cmocka_unit_test(test_money_parse_len),
		cmocka_unit_test(test_money_format_exact),
		cmocka_unit_test(test_money_round_trip),
		cmocka_unit_test(test_money_from_units),
		cmocka_unit_test(test_time_parse_epoch),
		cmocka_unit_test(test_time_parse_leap_years),
		cmocka_unit_test(test_time_parse_offsets),
		cmocka_unit_test(test_time_parse_range),
		cmocka_unit_test(test_time_parse_fields),
		cmocka_unit_test(test_time_parse_fraction),
		cmocka_unit_test(test_time_parse_case_and_trailing),
		cmocka_unit_test(test_time_format_exact),
		cmocka_unit_test(test_time_round_trip),
		cmocka_unit_test(test_time_every_day),
		cmocka_unit_test(test_account_valid),
		cmocka_unit_test(test_account_invalid),
		cmocka_unit_test(test_account_lengths),
		cmocka_unit_test(test_postings_basic),
		cmocka_unit_test(test_postings_overflow),
		cmocka_unit_test(test_postings_count),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
