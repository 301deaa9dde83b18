/*
 * pricing.c - meter names, price strings, entry checks and the cost engine.
 *
 * A charge is money owed to a provider, so it must be exact and
 * reproducible: the engine never uses floating point, computes every line
 * from the exact rational quantity x price (x (1 - discount)) in 128 bits
 * and rounds it once, half to even. Rounding the list amount first and then
 * discounting it would round twice and drift from the contract by up to a
 * nano-unit per line. The totals are sums of the rounded lines so that a
 * report grouped by meter adds up to the ledger to the last nano-unit.
 *
 * Price strings come from price lists published as JSON numbers
 * ("2.5e-06", "0.0002833333333333333"); they are parsed digit by digit, so
 * any length and any exponent are read exactly, never through a double.
 *
 * Outputs are written only on success.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pricing/pricing.h"

#define PRICING_PPM		1000000
#define PRICING_MIN_PER_DAY	1440
/* Pico-units in a nano-unit, and the scale of a discounted product. */
#define PRICING_PICO_PER_NANO	1000U
#define PRICING_COST_DIV	1000000000U

__extension__ typedef unsigned __int128 pricing_u128;
__extension__ typedef __int128 pricing_i128;

/* In this order in usage_events.quantities and usage_daily.quantities
 * too (sql/0011's tg_meters()). */
static const char *const pricing_meter_names[PM_COUNT] = {
	"input", "cached_input", "cache_write_5m", "cache_write_1h", "output",
	"reasoning", "audio_input", "audio_output", "image_input",
	"image_output", "image_input_token", "image_output_token", "request",
	"second"
};

/* *why must be static, so each meter has its own message. */
static const char *const pricing_no_price[PM_COUNT] = {
	"no price for meter input", "no price for meter cached_input",
	"no price for meter cache_write_5m", "no price for meter cache_write_1h",
	"no price for meter output", "no price for meter reasoning",
	"no price for meter audio_input", "no price for meter audio_output",
	"no price for meter image_input", "no price for meter image_output",
	"no price for meter image_input_token",
	"no price for meter image_output_token",
	"no price for meter request", "no price for meter second"
};

/*
 * Where a meter's price comes from when the entry has none: price lists
 * leave out a price when it equals another meter's. -1 ends the chain;
 * request and second are the only meters whose absence means "free".
 */
static const int pricing_fallback[PM_COUNT] = {
	-1, PM_INPUT, PM_INPUT, PM_CACHE_WRITE_5M, -1, PM_OUTPUT, -1, -1, -1,
	-1, PM_INPUT, PM_OUTPUT, -1, -1
};

static const char *const pricing_tier_names[PT_COUNT] = {
	"standard", "batch", "flex", "priority"
};

static int
pricing_fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return (-1);
}

const char *
pricing_meter_name(int meter)
{
	if (meter < 0 || meter >= PM_COUNT)
		return (NULL);
	return (pricing_meter_names[meter]);
}

int
pricing_meter_parse(const char *name)
{
	int	m;

	if (name == NULL)
		return (-1);
	for (m = 0; m < PM_COUNT; m++) {
		if (strcmp(name, pricing_meter_names[m]) == 0)
			return (m);
	}
	return (-1);
}

const char *
pricing_meter_unit(int meter)
{
	switch (meter) {
	case PM_IMAGE_INPUT:
	case PM_IMAGE_OUTPUT:
		return ("Images");
	case PM_REQUEST:
		return ("Requests");
	case PM_SECOND:
		return ("Seconds");
	default:
		return (meter >= 0 && meter < PM_COUNT ? "Tokens" : NULL);
	}
}

const char *
pricing_tier_name(int tier)
{
	if (tier < 0 || tier >= PT_COUNT)
		return (NULL);
	return (pricing_tier_names[tier]);
}

int
pricing_tier_parse(const char *name)
{
	int	t;

	if (name == NULL)
		return (-1);
	for (t = 0; t < PT_COUNT; t++) {
		if (strcmp(name, pricing_tier_names[t]) == 0)
			return (t);
	}
	return (-1);
}

/* num / den rounded half to even; den is never 0. */
static pricing_u128
pricing_div_even(pricing_u128 num, uint32_t den)
{
	pricing_u128	q;
	uint32_t	r;

	/* Most products fit in 64 bits, where division is far cheaper. */
	if ((num >> 64) == 0) {
		q = (uint64_t)num / den;
		r = (uint32_t)((uint64_t)num % den);
	} else {
		q = num / den;
		r = (uint32_t)(num % den);
	}
	if (r > den - r || (r == den - r && (q & 1) != 0))
		q++;
	return (q);
}

/*
 * The minute after local midnight in window w's zone at utc_us, with floor
 * division so that instants before 1970 fall on the right minute.
 */
static int
pricing_local_minute(const struct pricing_window *w, int64_t utc_us,
    pricing_tz_fn tzfn, void *tzarg, int *minute)
{
	int64_t	secs, mins;
	int	off;

	if (tzfn(w->time_zone, utc_us, &off, tzarg) != 0)
		return (-1);
	secs = utc_us / 1000000;
	if (utc_us % 1000000 < 0)
		secs--;
	/* |secs| < 2^44, and an int offset cannot carry it near 2^63. */
	secs += off;
	mins = secs / 60;
	if (secs % 60 < 0)
		mins--;
	mins %= PRICING_MIN_PER_DAY;
	if (mins < 0)
		mins += PRICING_MIN_PER_DAY;
	*minute = (int)mins;
	return (0);
}

static int
pricing_window_has(const struct pricing_window *w, int m)
{
	if (w->start_min <= w->end_min)
		return (m >= w->start_min && m < w->end_min);
	return (m >= w->start_min || m < w->end_min);
}

/* The price of meter m after the window and context-tier overrides. */
static int
pricing_layered(const struct pricing_rates *const *layers, int nlayers,
    int m, int64_t *pico)
{
	int	i;

	for (i = 0; i < nlayers; i++) {
		if (layers[i]->has & (1U << m)) {
			*pico = layers[i]->pico[m];
			return (1);
		}
	}
	return (0);
}

int
pricing_cost(const struct pricing_entry *e, const struct pricing_usage *u,
    int64_t occurred_us, pricing_tz_fn tzfn, void *tzarg,
    struct pricing_quote *out, const char **why)
{
	const struct pricing_rates	*layers[3];
	struct pricing_quote		 qt;
	struct pricing_line		*l;
	pricing_u128			 prod, v;
	int64_t				 prompt, pico;
	int				 m, as, i, nl = 0, minute, keep;

	if (e == NULL || u == NULL || out == NULL)
		return (pricing_fail(why, "missing entry, usage or quote"));
	if (e->discount_ppm < 0 || e->discount_ppm > PRICING_PPM)
		return (pricing_fail(why, "discount out of range"));
	if (e->n_context < 0 || e->n_context > PRICING_MAX_CONTEXT_TIERS ||
	    e->n_windows < 0 || e->n_windows > PRICING_MAX_WINDOWS)
		return (pricing_fail(why, "entry has too many tiers or windows"));
	for (m = 0; m < PM_COUNT; m++) {
		if (u->q[m] < 0)
			return (pricing_fail(why, "negative quantity"));
		if (u->q[m] > PRICING_QUANTITY_MAX)
			return (pricing_fail(why, "quantity above 2^40"));
	}
	keep = PRICING_PPM - e->discount_ppm;

	qt.n = 0;
	qt.list_nanos = qt.cost_nanos = 0;
	qt.window = qt.context_tier = -1;
	if (e->n_windows > 0) {
		if (tzfn == NULL)
			return (pricing_fail(why,
			    "entry has time windows but no time zone function"));
		for (i = 0; i < e->n_windows; i++) {
			if (pricing_local_minute(&e->windows[i], occurred_us,
			    tzfn, tzarg, &minute) != 0)
				return (pricing_fail(why,
				    "unknown time zone in a price window"));
			if (pricing_window_has(&e->windows[i], minute)) {
				qt.window = i;
				layers[nl++] = &e->windows[i].rates;
				break;
			}
		}
	}
	/* Four quantities of at most 2^40 each: no overflow. */
	prompt = u->q[PM_INPUT] + u->q[PM_CACHED_INPUT] +
	    u->q[PM_CACHE_WRITE_5M] + u->q[PM_CACHE_WRITE_1H];
	for (i = e->n_context - 1; i >= 0; i--) {
		if (prompt > e->context[i].above) {
			qt.context_tier = i;
			layers[nl++] = &e->context[i].rates;
			break;
		}
	}
	layers[nl++] = &e->base;

	for (m = 0; m < PM_COUNT; m++) {
		if (u->q[m] == 0)
			continue;
		for (as = m; as != -1; as = pricing_fallback[as]) {
			if (pricing_layered(layers, nl, as, &pico))
				break;
		}
		if (as == -1) {
			if (m == PM_REQUEST || m == PM_SECOND)
				continue;
			return (pricing_fail(why, pricing_no_price[m]));
		}
		if (pico < 0 || pico > PRICING_PRICE_MAX)
			return (pricing_fail(why, "price out of range"));

		l = &qt.lines[qt.n++];
		l->meter = m;
		l->priced_as = as;
		l->quantity = u->q[m];
		l->unit_pico = pico;
		/* At most 2^40 x 10^15 x 10^6 < 2^110: exact in 128 bits. */
		prod = (pricing_u128)(uint64_t)u->q[m] * (uint64_t)pico;
		v = pricing_div_even(prod, PRICING_PICO_PER_NANO);
		if (v > INT64_MAX)
			return (pricing_fail(why, "cost out of range"));
		l->list_nanos = (int64_t)v;
		/* Never above the list; without a discount, the same rational. */
		if (keep != PRICING_PPM)
			v = pricing_div_even(prod * (uint32_t)keep,
			    PRICING_COST_DIV);
		l->cost_nanos = (int64_t)v;
		if (__builtin_add_overflow(qt.list_nanos, l->list_nanos,
		    &qt.list_nanos) ||
		    __builtin_add_overflow(qt.cost_nanos, l->cost_nanos,
		    &qt.cost_nanos))
			return (pricing_fail(why, "total cost out of range"));
	}

	/* Only the lines in use: the quote is mostly unused line slots. */
	out->n = qt.n;
	memcpy(out->lines, qt.lines, (size_t)qt.n * sizeof(qt.lines[0]));
	out->list_nanos = qt.list_nanos;
	out->cost_nanos = qt.cost_nanos;
	out->context_tier = qt.context_tier;
	out->window = qt.window;
	return (0);
}

static int
pricing_isdigit(char c)
{
	return (c >= '0' && c <= '9');
}

/*
 * The value is 0.d1d2d3... x 10^point, d1 the first non-zero digit of the
 * mantissa, so its pico-units have exactly point + 12 digits before the
 * decimal point. Anything that is not 16 digits or fewer is either below
 * half a pico-unit or above the largest price, and needs no arithmetic.
 */
int
pricing_parse_price(const char *s, size_t len, int64_t *pico, int *rounded,
    const char **why)
{
	pricing_i128	 point, ndig;
	int64_t		 ex = 0, v = 0;
	size_t		 i, mend, dot = (size_t)-1, nz = (size_t)-1;
	int		 eneg = 0, first, sticky;
	char		 c;

	if (s == NULL || len == 0)
		return (pricing_fail(why, "empty price"));
	if (s[0] == '-' || s[0] == '+')
		return (pricing_fail(why, "price must not have a sign"));
	for (i = 0; i < len && pricing_isdigit(s[i]); i++) {
		if (nz == (size_t)-1 && s[i] != '0')
			nz = i;
	}
	if (i == 0)
		return (pricing_fail(why, "price must start with a digit"));
	if (i < len && s[i] == '.') {
		dot = i++;
		for (; i < len && pricing_isdigit(s[i]); i++) {
			if (nz == (size_t)-1 && s[i] != '0')
				nz = i;
		}
		if (i == dot + 1)
			return (pricing_fail(why, "no digits after '.'"));
	}
	mend = i;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		if (i == len || !pricing_isdigit(s[i]))
			return (pricing_fail(why, "no digits in exponent"));
		/* Saturate: past 10^15 every price is 0 or too large. */
		for (; i < len && pricing_isdigit(s[i]); i++) {
			if (ex < 1000000000000000LL)
				ex = ex * 10 + (s[i] - '0');
		}
	}
	if (i != len)
		return (pricing_fail(why, "invalid character in price"));

	if (nz == (size_t)-1) {
		*pico = 0;
		if (rounded != NULL)
			*rounded = 0;
		return (0);
	}
	if (dot == (size_t)-1)
		dot = mend;
	/* Digits of the mantissa before the point, counted from d1. */
	point = nz < dot ? (pricing_i128)(dot - nz) :
	    -(pricing_i128)(nz - dot - 1);
	point += eneg ? -(pricing_i128)ex : (pricing_i128)ex;
	ndig = point + 12;
	if (ndig > 16)
		return (pricing_fail(why, "price above 1000 per unit"));

	/*
	 * The integer digits (zeros past the end of the mantissa), then the
	 * first digit dropped and whether any digit after it is non-zero.
	 */
	first = 0;
	sticky = ndig < 0;
	for (i = nz; ndig > 0; ndig--) {
		if (i < mend && s[i] == '.')
			i++;
		c = i < mend ? s[i++] : '0';
		v = v * 10 + (c - '0');
	}
	if (ndig == 0) {
		if (i < mend && s[i] == '.')
			i++;
		if (i < mend)
			first = s[i++] - '0';
		for (; i < mend && !sticky; i++)
			sticky = s[i] != '0' && s[i] != '.';
	}
	if (first > 5 || (first == 5 && (sticky || (v & 1) != 0)))
		v++;
	if (v > PRICING_PRICE_MAX)
		return (pricing_fail(why, "price above 1000 per unit"));
	*pico = v;
	if (rounded != NULL)
		*rounded = first != 0 || sticky;
	return (0);
}

size_t
pricing_format_price(int64_t pico, char *buf)
{
	char		 digits[24];
	uint64_t	 mag;
	size_t		 n = 0, len = 0, drop = 0;

	/* Prices are never negative, but every int64_t must still print. */
	mag = pico < 0 ? (uint64_t)0 - (uint64_t)pico : (uint64_t)pico;
	do {
		digits[n++] = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag != 0 || n < 13);
	/* Nano-unit precision always shows, like money; finer only if used. */
	while (drop < 3 && digits[drop] == '0')
		drop++;

	if (pico < 0)
		buf[len++] = '-';
	while (n > drop) {
		buf[len++] = digits[--n];
		if (n == 12)
			buf[len++] = '.';
	}
	buf[len] = '\0';
	return (len);
}

/*
 * A name fits its array with its NUL, is not empty, and is printable ASCII
 * without spaces, so that it can go into a log line or a URL unquoted.
 */
static int
pricing_name_ok(const char *name, size_t size)
{
	size_t	i;

	for (i = 0; i < size && name[i] != '\0'; i++) {
		if (name[i] <= ' ' || name[i] > '~')
			return (0);
	}
	return (i > 0 && i < size);
}

static int
pricing_rates_check(const struct pricing_rates *r, const char **why)
{
	int	m;

	if (r->has >> PM_COUNT != 0)
		return (pricing_fail(why, "price for an unknown meter"));
	for (m = 0; m < PM_COUNT; m++) {
		if ((r->has & (1U << m)) == 0)
			continue;
		if (r->pico[m] < 0)
			return (pricing_fail(why, "negative price"));
		if (r->pico[m] > PRICING_PRICE_MAX)
			return (pricing_fail(why, "price above 1000 per unit"));
	}
	return (0);
}

int
pricing_entry_check(const struct pricing_entry *e, const char **why)
{
	const struct pricing_window	*w;
	int				 i;

	if (e == NULL)
		return (pricing_fail(why, "missing entry"));
	if (!pricing_name_ok(e->provider, sizeof(e->provider)))
		return (pricing_fail(why, "invalid provider name"));
	if (!pricing_name_ok(e->model, sizeof(e->model)))
		return (pricing_fail(why, "invalid model name"));
	if (e->tier < 0 || e->tier >= PT_COUNT)
		return (pricing_fail(why, "unknown service tier"));
	if (pricing_rates_check(&e->base, why) != 0)
		return (-1);

	if (e->n_context < 0 || e->n_context > PRICING_MAX_CONTEXT_TIERS)
		return (pricing_fail(why, "too many context tiers"));
	for (i = 0; i < e->n_context; i++) {
		if (e->context[i].above < 0)
			return (pricing_fail(why, "negative context threshold"));
		if (i > 0 && e->context[i].above <= e->context[i - 1].above)
			return (pricing_fail(why,
			    "context tiers not strictly ascending"));
		/* An empty tier is a price list read wrongly, not a tier. */
		if (e->context[i].rates.has == 0)
			return (pricing_fail(why, "context tier has no prices"));
		if (pricing_rates_check(&e->context[i].rates, why) != 0)
			return (-1);
	}

	if (e->n_windows < 0 || e->n_windows > PRICING_MAX_WINDOWS)
		return (pricing_fail(why, "too many price windows"));
	for (i = 0; i < e->n_windows; i++) {
		w = &e->windows[i];
		if (!pricing_name_ok(w->time_zone, sizeof(w->time_zone)))
			return (pricing_fail(why, "invalid window time zone"));
		/* end 1440 is midnight; start == end would be ambiguous. */
		if (w->start_min < 0 || w->start_min >= PRICING_MIN_PER_DAY ||
		    w->end_min < 0 || w->end_min > PRICING_MIN_PER_DAY ||
		    w->start_min == w->end_min)
			return (pricing_fail(why, "invalid window minutes"));
		if (w->rates.has == 0)
			return (pricing_fail(why, "price window has no prices"));
		if (pricing_rates_check(&w->rates, why) != 0)
			return (-1);
	}

	if (e->max_input_tokens < 0 || e->max_output_tokens < 0)
		return (pricing_fail(why, "negative token limit"));
	if (e->discount_ppm < 0 || e->discount_ppm > PRICING_PPM)
		return (pricing_fail(why, "discount out of range"));
	return (0);
}
