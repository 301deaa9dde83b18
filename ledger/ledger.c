/*
 * ledger.c - money, time stamps, account names and posting sets.
 *
 * This is the part of the ledger that decides what a valid amount, instant,
 * account and transaction are, before anything reaches PostgreSQL. It is
 * deliberately pure: no I/O, no allocation, no floating point and no libc
 * time or ctype functions, whose results depend on TZ and the locale. Civil
 * dates are converted with Howard Hinnant's days_from_civil/civil_from_days,
 * which are exact for the proleptic Gregorian calendar.
 *
 * Outputs are written only on success, so a caller's variable keeps its old
 * value when a parse is refused.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ledger/ledger.h"

#define LEDGER_US_PER_SEC	1000000LL
#define LEDGER_SEC_PER_DAY	86400LL
#define LEDGER_US_PER_DAY	(LEDGER_SEC_PER_DAY * LEDGER_US_PER_SEC)
#define LEDGER_SEGMENT_MAX	64

/* The posting sum needs more than 64 bits; gcc has 128. */
__extension__ typedef __int128 ledger_i128;

static const char *const ledger_kinds[] = {
	"expense", "payable", "credit", "refund", "adjustment", "equity"
};

static int
ledger_fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return (-1);
}

/* isdigit() would follow the locale; the wire format is ASCII only. */
static int
ledger_isdigit(char c)
{
	return (c >= '0' && c <= '9');
}

/* Read exactly n ASCII digits (n is small, so int cannot overflow). */
static int
ledger_digits(const char *s, size_t n, int *out)
{
	size_t	i;
	int	v = 0;

	for (i = 0; i < n; i++) {
		if (!ledger_isdigit(s[i]))
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return (0);
}

/* Write v as exactly width digits, zero-padded; returns the new end. */
static char *
ledger_put_digits(char *p, uint64_t v, int width)
{
	int	i;

	for (i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return (p + width);
}

int
ledger_money_parse(const char *s, size_t len, int64_t *out,
    const char **why)
{
	size_t	i = 0, start, nfrac;
	int64_t	units = 0, frac = 0, v;
	int	neg = 0;

	if (s == NULL || len == 0)
		return (ledger_fail(why, "empty amount"));
	if (s[0] == '-') {
		neg = 1;
		i++;
	}

	start = i;
	for (; i < len && ledger_isdigit(s[i]); i++) {
		/* Leading zeros are legal, so the digit count is no bound. */
		if (__builtin_mul_overflow(units, 10, &units) ||
		    __builtin_add_overflow(units, s[i] - '0', &units))
			return (ledger_fail(why, "amount out of range"));
	}
	if (i == start)
		return (ledger_fail(why, "amount must start with a digit"));

	if (i < len) {
		if (s[i] != '.')
			return (ledger_fail(why, "invalid character in amount"));
		start = ++i;
		for (; i < len && ledger_isdigit(s[i]); i++) {
			if (i - start == LEDGER_MONEY_FRAC_DIGITS)
				return (ledger_fail(why,
				    "more than 9 fractional digits"));
			frac = frac * 10 + (s[i] - '0');
		}
		nfrac = i - start;
		if (nfrac == 0)
			return (ledger_fail(why, "no digits after '.'"));
		if (i < len)
			return (ledger_fail(why, "invalid character in amount"));
		for (; nfrac < LEDGER_MONEY_FRAC_DIGITS; nfrac++)
			frac *= 10;
	}

	/*
	 * Build the magnitude as a positive number: refusing anything above
	 * INT64_MAX also refuses INT64_MIN, so every amount can be negated.
	 */
	if (__builtin_mul_overflow(units, LEDGER_NANOS_PER_UNIT, &v) ||
	    __builtin_add_overflow(v, frac, &v))
		return (ledger_fail(why, "amount out of range"));
	*out = neg ? -v : v;
	return (0);
}

size_t
ledger_money_format(int64_t v, char *buf)
{
	char		 digits[LEDGER_MONEY_BUFSZ];
	uint64_t	 mag;
	size_t		 n = 0, len = 0;

	/* Negate in unsigned arithmetic so that INT64_MIN is still printed. */
	mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	/* At least ten digits, so "0.000000001" keeps its leading zero. */
	do {
		digits[n++] = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag != 0 || n < LEDGER_MONEY_FRAC_DIGITS + 1);

	if (v < 0)
		buf[len++] = '-';
	while (n > 0) {
		buf[len++] = digits[--n];
		if (n == LEDGER_MONEY_FRAC_DIGITS)
			buf[len++] = '.';
	}
	buf[len] = '\0';
	return (len);
}

int
ledger_money_from_units(int64_t units, int64_t *out, const char **why)
{
	int64_t	v;

	/*
	 * No product can be INT64_MIN (2^63 is not a multiple of 10^9), so the
	 * result always satisfies |v| <= INT64_MAX like a parsed amount.
	 */
	if (__builtin_mul_overflow(units, LEDGER_NANOS_PER_UNIT, &v))
		return (ledger_fail(why, "amount out of range"));
	*out = v;
	return (0);
}

static int
ledger_days_in_month(int64_t y, int m)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return (29);
	return (days[m - 1]);
}

/* The year is shifted to start in March. */
int64_t
ledger_days_from_civil(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

void
ledger_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t	era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int
ledger_time_parse(const char *s, size_t len, int64_t *out_us,
    const char **why)
{
	int	y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, n;
	int64_t	frac = 0, secs, us, lo, hi;
	size_t	i;

	if (s == NULL || len < 19)
		return (ledger_fail(why, "time stamp too short"));
	if (ledger_digits(s, 4, &y) != 0 || s[4] != '-' ||
	    ledger_digits(s + 5, 2, &mo) != 0 || s[7] != '-' ||
	    ledger_digits(s + 8, 2, &d) != 0)
		return (ledger_fail(why, "malformed date"));
	if (s[10] != 'T' && s[10] != 't')
		return (ledger_fail(why, "date and time not separated by 'T'"));
	if (ledger_digits(s + 11, 2, &h) != 0 || s[13] != ':' ||
	    ledger_digits(s + 14, 2, &mi) != 0 || s[16] != ':' ||
	    ledger_digits(s + 17, 2, &sec) != 0)
		return (ledger_fail(why, "malformed time of day"));

	i = 19;
	if (i < len && s[i] == '.') {
		for (i++, n = 0; i < len && ledger_isdigit(s[i]); i++, n++) {
			if (n == 6)
				return (ledger_fail(why,
				    "more than 6 fractional second digits"));
			frac = frac * 10 + (s[i] - '0');
		}
		if (n == 0)
			return (ledger_fail(why, "no digits after '.'"));
		for (; n < 6; n++)
			frac *= 10;
	}

	if (i == len)
		return (ledger_fail(why, "missing time zone offset"));
	if (s[i] == 'Z' || s[i] == 'z')
		i++;
	else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '+' ? 1 : -1;
		if (len - i < 6 || ledger_digits(s + i + 1, 2, &oh) != 0 ||
		    s[i + 3] != ':' || ledger_digits(s + i + 4, 2, &om) != 0)
			return (ledger_fail(why, "malformed time zone offset"));
		if (oh > 23 || om > 59)
			return (ledger_fail(why, "time zone offset out of range"));
		i += 6;
	} else
		return (ledger_fail(why, "missing time zone offset"));
	if (i != len)
		return (ledger_fail(why, "trailing characters in time stamp"));

	if (y < 1)
		return (ledger_fail(why, "year out of range"));
	if (mo < 1 || mo > 12)
		return (ledger_fail(why, "month out of range"));
	if (d < 1 || d > ledger_days_in_month(y, mo))
		return (ledger_fail(why, "day does not exist in that month"));
	if (h > 23 || mi > 59 || sec > 59)
		return (ledger_fail(why, "time of day out of range"));

	/* Years 1..9999 keep every term far below 2^63; no checks needed. */
	secs = ledger_days_from_civil(y, mo, d) * LEDGER_SEC_PER_DAY +
	    h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	us = secs * LEDGER_US_PER_SEC + frac;

	/*
	 * An offset can carry the instant outside 0001..9999 UTC; refuse it so
	 * that every stored instant formats back into a parseable stamp.
	 */
	lo = ledger_days_from_civil(1, 1, 1) * LEDGER_US_PER_DAY;
	hi = ledger_days_from_civil(10000, 1, 1) * LEDGER_US_PER_DAY - 1;
	if (us < lo || us > hi)
		return (ledger_fail(why, "time stamp outside years 0001..9999"));
	*out_us = us;
	return (0);
}

size_t
ledger_time_format(int64_t us, char *buf)
{
	int64_t		 days, rem, y;
	uint64_t	 ay, t;
	int		 m, d, sod, frac, nd;
	char		*p = buf;

	/* Floor division, so instants before 1970 fall on the earlier day. */
	days = us / LEDGER_US_PER_DAY;
	rem = us % LEDGER_US_PER_DAY;
	if (rem < 0) {
		rem += LEDGER_US_PER_DAY;
		days--;
	}
	ledger_civil_from_days(days, &y, &m, &d);
	sod = (int)(rem / LEDGER_US_PER_SEC);
	frac = (int)(rem % LEDGER_US_PER_SEC);

	/*
	 * ledger_time_parse never yields a year outside 0001..9999, but any
	 * int64_t must still print unambiguously, so widen the year there.
	 */
	if (y < 0)
		*p++ = '-';
	ay = y < 0 ? (uint64_t)0 - (uint64_t)y : (uint64_t)y;
	for (nd = 4, t = ay / 10000; t != 0; t /= 10)
		nd++;
	p = ledger_put_digits(p, ay, nd);
	*p++ = '-';
	p = ledger_put_digits(p, (uint64_t)m, 2);
	*p++ = '-';
	p = ledger_put_digits(p, (uint64_t)d, 2);
	*p++ = 'T';
	p = ledger_put_digits(p, (uint64_t)(sod / 3600), 2);
	*p++ = ':';
	p = ledger_put_digits(p, (uint64_t)(sod / 60 % 60), 2);
	*p++ = ':';
	p = ledger_put_digits(p, (uint64_t)(sod % 60), 2);
	if (frac != 0) {
		*p++ = '.';
		p = ledger_put_digits(p, (uint64_t)frac, 6);
	}
	*p++ = 'Z';
	*p = '\0';
	return ((size_t)(p - buf));
}

static int
ledger_account_char(char c, int first)
{
	if ((c >= 'a' && c <= 'z') || ledger_isdigit(c))
		return (1);
	return (!first && (c == '_' || c == '.' || c == '-'));
}

int
ledger_account_check(const char *name, const char **why)
{
	size_t	len, i, k, seglen;

	if (name == NULL)
		return (ledger_fail(why, "missing account name"));
	/* Bounded scan: a huge name is refused without reading all of it. */
	for (len = 0; len <= LEDGER_ACCOUNT_MAX && name[len] != '\0'; len++)
		;
	if (len > LEDGER_ACCOUNT_MAX)
		return (ledger_fail(why, "account name too long"));

	for (i = 0; i < len && name[i] != ':'; i++)
		;
	if (i == len)
		return (ledger_fail(why, "account name has no ':'"));
	for (k = 0; k < sizeof ledger_kinds / sizeof ledger_kinds[0]; k++) {
		if (strlen(ledger_kinds[k]) == i &&
		    memcmp(ledger_kinds[k], name, i) == 0)
			break;
	}
	if (k == sizeof ledger_kinds / sizeof ledger_kinds[0])
		return (ledger_fail(why, "unknown account kind"));

	seglen = 0;
	for (i++; i <= len; i++) {
		if (name[i] == '/' || name[i] == '\0') {
			if (seglen == 0)
				return (ledger_fail(why,
				    "empty account path segment"));
			seglen = 0;
			continue;
		}
		if (!ledger_account_char(name[i], seglen == 0))
			return (ledger_fail(why, seglen == 0 ?
			    "account segment must start with [a-z0-9]" :
			    "invalid character in account name"));
		if (++seglen > LEDGER_SEGMENT_MAX)
			return (ledger_fail(why, "account segment too long"));
	}
	return (0);
}

static int
ledger_bad_posting(int *bad_index, size_t i, const char **why,
    const char *msg)
{
	if (bad_index != NULL)
		*bad_index = (int)i;
	return (ledger_fail(why, msg));
}

int
ledger_postings_check(const struct ledger_posting *p, size_t n,
    int *bad_index, const char **why)
{
	const char	*msg;
	ledger_i128	 sum = 0;
	size_t		 i;

	if (bad_index != NULL)
		*bad_index = -1;
	if (n < 2)
		return (ledger_fail(why, "fewer than 2 postings"));
	if (n > LEDGER_POSTINGS_MAX)
		return (ledger_fail(why, "too many postings"));
	if (p == NULL)
		return (ledger_fail(why, "missing postings"));

	for (i = 0; i < n; i++) {
		if (ledger_account_check(p[i].account, &msg) != 0)
			return (ledger_bad_posting(bad_index, i, why, msg));
		if (p[i].amount == 0)
			return (ledger_bad_posting(bad_index, i, why,
			    "posting amount is zero"));
		/* Same rule as parsed money: every amount can be negated. */
		if (p[i].amount == INT64_MIN)
			return (ledger_bad_posting(bad_index, i, why,
			    "posting amount out of range"));
		/* 1000 int64_t terms cannot overflow 128 bits. */
		sum += p[i].amount;
	}
	if (sum != 0)
		return (ledger_fail(why, "postings do not sum to zero"));
	return (0);
}
