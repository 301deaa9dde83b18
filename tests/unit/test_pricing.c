/*
 * test_pricing.c - unit tests for pricing/: the cost engine on real price
 * list entries with hand-computed costs, its properties under random
 * usage, price strings, tables, the book of versions and the usage
 * normalisers.
 *
 * Prices are those of LiteLLM's model_prices_and_context_window.json as
 * snapshotted in shared/data/litellm-model-prices.json, in US dollars per
 * unit there and pico-dollars here (2.5e-06 $/token = 2500000 pico). Each
 * expected cost is worked out by hand in the comment next to it and
 * compared as the string ledger_money_format() prints, as a bill would.
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
#include "pricing/pricing.h"

#define SENTINEL	((int64_t)0x5a5a5a5a5a5a5a5aLL)
#define T_US(s)		((int64_t)(s) * 1000000LL)
/* 2026-01-15T00:00:00Z; the +1h of Europe/Berlin below is its winter. */
#define T0		1768435200LL
#define AT(h, m, s)	T_US(T0 + (h) * 3600LL + (m) * 60LL + (s))
/* 10:00 in Shanghai: DeepSeek's peak hours. */
#define PEAK		AT(2, 0, 0)

/* splitmix64: a fixed seed keeps every run identical. */
static uint64_t
rng_next(uint64_t *state)
{
	uint64_t	z;

	z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* Fixed offsets stand in for the tz database; anything else is unknown. */
static int
test_tz(const char *tz, int64_t utc_us, int *offset_s, void *arg)
{
	(void)utc_us;
	if (arg != NULL)
		(*(int *)arg)++;
	if (strcmp(tz, "Asia/Shanghai") == 0)
		*offset_s = 8 * 3600;
	else if (strcmp(tz, "Europe/Berlin") == 0)
		*offset_s = 3600;
	else
		return (-1);
	return (0);
}

/* ---- real entries ---- */

enum {
	GPT4O, GPT4O_BATCH, GPT4O_PRIO, GPT4O_AUDIO, GPT_IMAGE_1,
	GPT_REALTIME, WHISPER, MINI_TTS, O3_FLEX, GPT5_MINI_FLEX,
	SONNET45, OPUS41, HAIKU45, GEM25PRO, GEM25FLASH, GEM25FLASH_IMG,
	GEM3PRO_IMG, GEM3PRO_IMG_BATCH, GEM3PRO_PRIO, DS_CHAT, DS_CHAT_BERLIN,
	DS_REASONER, DS_V4PRO, DS_V4FLASH, NENT
};

static struct pricing_entry	E[NENT];

static void
px(struct pricing_rates *r, int meter, int64_t pico)
{
	r->pico[meter] = pico;
	r->has |= 1U << meter;
}

static struct pricing_entry *
ent(int i, const char *provider, const char *model, int tier)
{
	struct pricing_entry	*e = &E[i];

	memset(e, 0, sizeof(*e));
	snprintf(e->provider, sizeof(e->provider), "%s", provider);
	snprintf(e->model, sizeof(e->model), "%s", model);
	e->tier = tier;
	return (e);
}

static struct pricing_rates *
ctx(struct pricing_entry *e, int64_t above)
{
	e->context[e->n_context].above = above;
	return (&e->context[e->n_context++].rates);
}

static struct pricing_rates *
win(struct pricing_entry *e, const char *tz, int start, int end)
{
	struct pricing_window	*w = &e->windows[e->n_windows++];

	snprintf(w->time_zone, sizeof(w->time_zone), "%s", tz);
	w->start_min = start;
	w->end_min = end;
	return (&w->rates);
}

static void
build_openai(void)
{
	struct pricing_entry	*e;

	e = ent(GPT4O, "openai", "gpt-4o", PT_STANDARD);
	px(&e->base, PM_INPUT, 2500000);	/* input_cost_per_token 2.5e-06 */
	px(&e->base, PM_CACHED_INPUT, 1250000);	/* cache_read_input_token_cost 1.25e-06 */
	px(&e->base, PM_OUTPUT, 10000000);	/* output_cost_per_token 1e-05 */
	e = ent(GPT4O_BATCH, "openai", "gpt-4o", PT_BATCH);
	px(&e->base, PM_INPUT, 1250000);	/* input_cost_per_token_batches 1.25e-06 */
	px(&e->base, PM_OUTPUT, 5000000);	/* output_cost_per_token_batches 5e-06 */
	e = ent(GPT4O_PRIO, "openai", "gpt-4o", PT_PRIORITY);
	px(&e->base, PM_INPUT, 4250000);	/* input_cost_per_token_priority 4.25e-06 */
	px(&e->base, PM_CACHED_INPUT, 2125000);	/* cache_read_input_token_cost_priority 2.125e-06 */
	px(&e->base, PM_OUTPUT, 17000000);	/* output_cost_per_token_priority 1.7e-05 */
	e = ent(GPT4O_AUDIO, "openai", "gpt-4o-audio-preview", PT_STANDARD);
	px(&e->base, PM_INPUT, 2500000);	/* input_cost_per_token 2.5e-06 */
	px(&e->base, PM_OUTPUT, 10000000);	/* output_cost_per_token 1e-05 */
	px(&e->base, PM_AUDIO_INPUT, 40000000);	/* input_cost_per_audio_token 4e-05 */
	px(&e->base, PM_AUDIO_OUTPUT, 80000000); /* output_cost_per_audio_token 8e-05 */
	e = ent(GPT_IMAGE_1, "openai", "gpt-image-1", PT_STANDARD);
	px(&e->base, PM_INPUT, 5000000);	/* input_cost_per_token 5e-06 */
	px(&e->base, PM_CACHED_INPUT, 1250000);	/* cache_read_input_token_cost 1.25e-06 */
	px(&e->base, PM_IMAGE_INPUT_TOKEN, 10000000);	/* input_cost_per_image_token 1e-05 */
	px(&e->base, PM_IMAGE_OUTPUT_TOKEN, 40000000);	/* output_cost_per_image_token 4e-05 */
	e = ent(GPT_REALTIME, "openai", "gpt-realtime", PT_STANDARD);
	px(&e->base, PM_INPUT, 4000000);	/* input_cost_per_token 4e-06 */
	px(&e->base, PM_CACHED_INPUT, 400000);	/* cache_read_input_token_cost 4e-07 */
	px(&e->base, PM_OUTPUT, 16000000);	/* output_cost_per_token 1.6e-05 */
	px(&e->base, PM_AUDIO_INPUT, 32000000);	/* input_cost_per_audio_token 3.2e-05 */
	px(&e->base, PM_AUDIO_OUTPUT, 64000000); /* output_cost_per_audio_token 6.4e-05 */
	px(&e->base, PM_IMAGE_INPUT, 5000000);	/* input_cost_per_image 5e-06 */
	e = ent(WHISPER, "openai", "gpt-realtime-whisper", PT_STANDARD);
	/* input_cost_per_second 0.0002833333333333333, rounded to pico */
	px(&e->base, PM_SECOND, 283333333);
	e = ent(MINI_TTS, "openai", "gpt-4o-mini-tts", PT_STANDARD);
	px(&e->base, PM_INPUT, 2500000);	/* input_cost_per_token 2.5e-06 */
	px(&e->base, PM_OUTPUT, 10000000);	/* output_cost_per_token 1e-05 */
	px(&e->base, PM_AUDIO_OUTPUT, 12000000); /* output_cost_per_audio_token 1.2e-05 */
	px(&e->base, PM_SECOND, 250000000);	/* output_cost_per_second 0.00025 */
	e = ent(O3_FLEX, "openai", "o3", PT_FLEX);
	px(&e->base, PM_INPUT, 1000000);	/* input_cost_per_token_flex 1e-06 */
	px(&e->base, PM_CACHED_INPUT, 250000);	/* cache_read_input_token_cost_flex 2.5e-07 */
	px(&e->base, PM_OUTPUT, 4000000);	/* output_cost_per_token_flex 4e-06 */
	e = ent(GPT5_MINI_FLEX, "openai", "gpt-5-mini", PT_FLEX);
	px(&e->base, PM_INPUT, 125000);		/* input_cost_per_token_flex 1.25e-07 */
	px(&e->base, PM_CACHED_INPUT, 12500);	/* cache_read_input_token_cost_flex 1.25e-08 */
	px(&e->base, PM_OUTPUT, 1000000);	/* output_cost_per_token_flex 1e-06 */
}

static void
build_anthropic(void)
{
	struct pricing_entry	*e;
	struct pricing_rates	*r;

	e = ent(SONNET45, "anthropic", "claude-sonnet-4-5", PT_STANDARD);
	px(&e->base, PM_INPUT, 3000000);	/* input_cost_per_token 3e-06 */
	px(&e->base, PM_CACHED_INPUT, 300000);	/* cache_read_input_token_cost 3e-07 */
	px(&e->base, PM_CACHE_WRITE_5M, 3750000); /* cache_creation_input_token_cost 3.75e-06 */
	px(&e->base, PM_CACHE_WRITE_1H, 6000000); /* cache_creation_input_token_cost_above_1hr 6e-06 */
	px(&e->base, PM_OUTPUT, 15000000);	/* output_cost_per_token 1.5e-05 */
	r = ctx(e, 200000);			/* the *_above_200k_tokens fields */
	px(r, PM_INPUT, 6000000);		/* 6e-06 */
	px(r, PM_CACHED_INPUT, 600000);		/* 6e-07 */
	px(r, PM_CACHE_WRITE_5M, 7500000);	/* 7.5e-06 */
	px(r, PM_CACHE_WRITE_1H, 12000000);	/* ..._above_1hr_above_200k_tokens 1.2e-05 */
	px(r, PM_OUTPUT, 22500000);		/* 2.25e-05 */
	e = ent(OPUS41, "anthropic", "claude-opus-4-1", PT_STANDARD);
	px(&e->base, PM_INPUT, 15000000);	/* input_cost_per_token 1.5e-05 */
	px(&e->base, PM_CACHED_INPUT, 1500000);	/* cache_read_input_token_cost 1.5e-06 */
	px(&e->base, PM_CACHE_WRITE_5M, 18750000); /* cache_creation_input_token_cost 1.875e-05 */
	px(&e->base, PM_CACHE_WRITE_1H, 30000000); /* cache_creation_input_token_cost_above_1hr 3e-05 */
	px(&e->base, PM_OUTPUT, 75000000);	/* output_cost_per_token 7.5e-05 */
	e = ent(HAIKU45, "anthropic", "claude-haiku-4-5", PT_STANDARD);
	px(&e->base, PM_INPUT, 1000000);	/* input_cost_per_token 1e-06 */
	px(&e->base, PM_CACHED_INPUT, 100000);	/* cache_read_input_token_cost 1e-07 */
	px(&e->base, PM_CACHE_WRITE_5M, 1250000); /* cache_creation_input_token_cost 1.25e-06 */
	px(&e->base, PM_CACHE_WRITE_1H, 2000000); /* cache_creation_input_token_cost_above_1hr 2e-06 */
	px(&e->base, PM_OUTPUT, 5000000);	/* output_cost_per_token 5e-06 */
}

static void
build_gemini(void)
{
	struct pricing_entry	*e;
	struct pricing_rates	*r;

	e = ent(GEM25PRO, "gemini", "gemini-2.5-pro", PT_STANDARD);
	px(&e->base, PM_INPUT, 1250000);	/* input_cost_per_token 1.25e-06 */
	px(&e->base, PM_CACHED_INPUT, 125000);	/* cache_read_input_token_cost 1.25e-07 */
	px(&e->base, PM_OUTPUT, 10000000);	/* output_cost_per_token 1e-05 */
	/* search_context_cost_per_query 0.035, standing in for a request */
	px(&e->base, PM_REQUEST, 35000000000LL);
	r = ctx(e, 200000);			/* the *_above_200k_tokens fields */
	px(r, PM_INPUT, 2500000);		/* 2.5e-06 */
	px(r, PM_CACHED_INPUT, 250000);		/* 2.5e-07 */
	px(r, PM_CACHE_WRITE_5M, 250000);	/* cache_creation_..._above_200k_tokens 2.5e-07 */
	px(r, PM_OUTPUT, 15000000);		/* 1.5e-05 */
	e = ent(GEM25FLASH, "gemini", "gemini-2.5-flash", PT_STANDARD);
	px(&e->base, PM_INPUT, 300000);		/* input_cost_per_token 3e-07 */
	px(&e->base, PM_CACHED_INPUT, 30000);	/* cache_read_input_token_cost 3e-08 */
	px(&e->base, PM_AUDIO_INPUT, 1000000);	/* input_cost_per_audio_token 1e-06 */
	px(&e->base, PM_OUTPUT, 2500000);	/* output_cost_per_token 2.5e-06 */
	px(&e->base, PM_REASONING, 2500000);	/* output_cost_per_reasoning_token 2.5e-06 */
	e = ent(GEM25FLASH_IMG, "gemini", "gemini-2.5-flash-image", PT_STANDARD);
	px(&e->base, PM_INPUT, 300000);		/* input_cost_per_token 3e-07 */
	px(&e->base, PM_OUTPUT, 2500000);	/* output_cost_per_token 2.5e-06 */
	px(&e->base, PM_IMAGE_OUTPUT, 39000000000LL);	/* output_cost_per_image 0.039 */
	px(&e->base, PM_IMAGE_OUTPUT_TOKEN, 30000000);	/* output_cost_per_image_token 3e-05 */
	e = ent(GEM3PRO_IMG, "gemini", "gemini-3-pro-image", PT_STANDARD);
	px(&e->base, PM_INPUT, 2000000);	/* input_cost_per_token 2e-06 */
	px(&e->base, PM_OUTPUT, 12000000);	/* output_cost_per_token 1.2e-05 */
	px(&e->base, PM_IMAGE_INPUT, 1100000000);	/* input_cost_per_image 0.0011 */
	px(&e->base, PM_IMAGE_OUTPUT, 134000000000LL);	/* output_cost_per_image 0.134 */
	px(&e->base, PM_IMAGE_OUTPUT_TOKEN, 120000000);	/* output_cost_per_image_token 0.00012 */
	e = ent(GEM3PRO_IMG_BATCH, "gemini", "gemini-3-pro-image", PT_BATCH);
	px(&e->base, PM_INPUT, 1000000);	/* input_cost_per_token_batches 1e-06 */
	px(&e->base, PM_OUTPUT, 6000000);	/* output_cost_per_token_batches 6e-06 */
	e = ent(GEM3PRO_PRIO, "gemini", "gemini-3-pro-preview", PT_PRIORITY);
	px(&e->base, PM_INPUT, 3600000);	/* input_cost_per_token_priority 3.6e-06 */
	px(&e->base, PM_CACHED_INPUT, 360000);	/* cache_read_input_token_cost_priority 3.6e-07 */
	px(&e->base, PM_OUTPUT, 21600000);	/* output_cost_per_token_priority 2.16e-05 */
	r = ctx(e, 200000);	/* the *_above_200k_tokens_priority fields */
	px(r, PM_INPUT, 7200000);		/* 7.2e-06 */
	px(r, PM_CACHED_INPUT, 720000);		/* 7.2e-07 */
	px(r, PM_OUTPUT, 32400000);		/* 3.24e-05 */
}

static void
build_deepseek(void)
{
	struct pricing_entry	*e;
	struct pricing_rates	*r;

	e = ent(DS_CHAT, "deepseek", "deepseek-chat", PT_STANDARD);
	px(&e->base, PM_INPUT, 280000);		/* input_cost_per_token 2.8e-07 */
	px(&e->base, PM_CACHED_INPUT, 28000);	/* cache_read_input_token_cost 2.8e-08 */
	px(&e->base, PM_OUTPUT, 420000);	/* output_cost_per_token 4.2e-07 */
	/*
	 * Off-peak is not in LiteLLM's file: DeepSeek's 2025 off-peak hours,
	 * 00:30-08:30 Beijing time, at half the list price.
	 */
	r = win(e, "Asia/Shanghai", 30, 510);
	px(r, PM_INPUT, 140000);
	px(r, PM_CACHED_INPUT, 14000);
	px(r, PM_OUTPUT, 210000);
	/* The same hours seen from Berlin (+1h): 17:30-01:30, past midnight. */
	E[DS_CHAT_BERLIN] = *e;
	e = &E[DS_CHAT_BERLIN];
	snprintf(e->windows[0].time_zone, sizeof(e->windows[0].time_zone),
	    "Europe/Berlin");
	e->windows[0].start_min = 17 * 60 + 30;
	e->windows[0].end_min = 90;
	e = ent(DS_REASONER, "deepseek", "deepseek-reasoner", PT_STANDARD);
	px(&e->base, PM_INPUT, 280000);		/* input_cost_per_token 2.8e-07 */
	px(&e->base, PM_CACHED_INPUT, 28000);	/* cache_read_input_token_cost 2.8e-08 */
	px(&e->base, PM_OUTPUT, 420000);	/* output_cost_per_token 4.2e-07 */
	e = ent(DS_V4PRO, "deepseek", "deepseek-v4-pro", PT_STANDARD);
	px(&e->base, PM_INPUT, 435000);		/* input_cost_per_token 4.35e-07 */
	px(&e->base, PM_CACHED_INPUT, 3625);	/* cache_read_input_token_cost 3.625e-09 */
	px(&e->base, PM_OUTPUT, 870000);	/* output_cost_per_token 8.7e-07 */
	e = ent(DS_V4FLASH, "deepseek", "deepseek-v4-flash", PT_STANDARD);
	px(&e->base, PM_INPUT, 140000);		/* input_cost_per_token 1.4e-07 */
	px(&e->base, PM_CACHED_INPUT, 2800);	/* cache_read_input_token_cost 2.8e-09 */
	px(&e->base, PM_CACHE_WRITE_5M, 0);	/* cache_creation_input_token_cost 0.0 */
	px(&e->base, PM_OUTPUT, 280000);	/* output_cost_per_token 2.8e-07 */
}

static int
setup_entries(void **state)
{
	(void)state;
	build_openai();
	build_anthropic();
	build_gemini();
	build_deepseek();
	return (0);
}

/* ---- pricing helpers ---- */

static const char *
fmt_money(int64_t v, char *buf)
{
	ledger_money_format(v, buf);
	return (buf);
}

/* The quote's invariants: lines in meter order, quantity > 0, sums. */
static void
quote_check(const struct pricing_usage *u, const struct pricing_quote *q,
    const char *label)
{
	int64_t	list = 0, cost = 0;
	int	i;

	for (i = 0; i < q->n; i++) {
		if (i > 0 && q->lines[i].meter <= q->lines[i - 1].meter)
			fail_msg("%s: lines out of meter order", label);
		if (q->lines[i].quantity <= 0 ||
		    q->lines[i].quantity != u->q[q->lines[i].meter])
			fail_msg("%s: line quantity wrong", label);
		if (q->lines[i].cost_nanos > q->lines[i].list_nanos)
			fail_msg("%s: discount raised a line", label);
		list += q->lines[i].list_nanos;
		cost += q->lines[i].cost_nanos;
	}
	if (list != q->list_nanos || cost != q->cost_nanos)
		fail_msg("%s: totals are not the sums of the lines", label);
}

static void
price_is(const struct pricing_entry *e0, const struct pricing_usage *u,
    int64_t at, int32_t ppm, const char *want_list, const char *want_cost,
    struct pricing_quote *q, const char *label)
{
	struct pricing_entry	 e = *e0;
	const char		*why = NULL;
	char			 a[LEDGER_MONEY_BUFSZ], b[LEDGER_MONEY_BUFSZ];

	e.discount_ppm = ppm;
	if (pricing_cost(&e, u, at, test_tz, NULL, q, &why) != 0)
		fail_msg("%s: refused (%s)", label, why);
	quote_check(u, q, label);
	if (strcmp(fmt_money(q->list_nanos, a), want_list) != 0)
		fail_msg("%s: list %s, want %s", label, a, want_list);
	if (want_cost == NULL)
		want_cost = want_list;
	if (strcmp(fmt_money(q->cost_nanos, b), want_cost) != 0)
		fail_msg("%s: cost %s, want %s", label, b, want_cost);
}

static void
price_bad(const struct pricing_entry *e, const struct pricing_usage *u,
    int64_t at, pricing_tz_fn tzfn, const char *want_why)
{
	struct pricing_quote	 q;
	const char		*why = NULL;

	q.list_nanos = SENTINEL;
	if (pricing_cost(e, u, at, tzfn, NULL, &q, &why) != -1)
		fail_msg("%s: priced, want refused", e->model);
	if (why == NULL || strstr(why, want_why) == NULL)
		fail_msg("%s: why \"%s\", want \"%s\"", e->model,
		    why != NULL ? why : "(null)", want_why);
	assert_int_equal(q.list_nanos, SENTINEL);
}

/* ---- the hand-computed cases ---- */

struct cost_case {
	int		 entry;
	struct pricing_usage u;
	int64_t		 at;
	int32_t		 ppm;
	const char	*list;
	const char	*cost;		/* NULL: same as list */
};

#define U(...)	{ { __VA_ARGS__ } }
#define I	[PM_INPUT]
#define C	[PM_CACHED_INPUT]
#define W5	[PM_CACHE_WRITE_5M]
#define W1	[PM_CACHE_WRITE_1H]
#define O	[PM_OUTPUT]
#define R	[PM_REASONING]
#define AI	[PM_AUDIO_INPUT]
#define AO	[PM_AUDIO_OUTPUT]
#define II	[PM_IMAGE_INPUT]
#define IO	[PM_IMAGE_OUTPUT]
#define IIT	[PM_IMAGE_INPUT_TOKEN]
#define IOT	[PM_IMAGE_OUTPUT_TOKEN]
#define REQ	[PM_REQUEST]
#define SEC	[PM_SECOND]

static const struct cost_case cases[] = {
	/* 1000 x 2.5e-06 = 0.0025; 200 x 1e-05 = 0.002; total 0.0045 */
	{ GPT4O, U(I = 1000, O = 200), PEAK, 0, "0.004500000", NULL },
	/* 200 x 2.5e-06 = 0.0005; 1000 x 1.25e-06 = 0.00125; 200 x 1e-05 =
	 * 0.002; reasoning at output: 300 x 1e-05 = 0.003; total 0.00675 */
	{ GPT4O, U(I = 200, C = 1000, O = 200, R = 300), PEAK, 0,
	    "0.006750000", NULL },
	/* 15% off: list 0.0045 as above; 0.0025 x 0.85 = 0.002125;
	 * 0.002 x 0.85 = 0.0017; total 0.003825 */
	{ GPT4O, U(I = 1000, O = 200), PEAK, 150000, "0.004500000",
	    "0.003825000" },
	/* batch: 1000 x 1.25e-06 = 0.00125; no batch cache price, so cached
	 * at the batch input: 500 x 1.25e-06 = 0.000625; 200 x 5e-06 = 0.001;
	 * total 0.002875 */
	{ GPT4O_BATCH, U(I = 1000, C = 500, O = 200), PEAK, 0, "0.002875000",
	    NULL },
	/* priority: 1000 x 4.25e-06 = 0.00425; 2000 x 2.125e-06 = 0.00425;
	 * 200 x 1.7e-05 = 0.0034; total 0.0119 */
	{ GPT4O_PRIO, U(I = 1000, C = 2000, O = 200), PEAK, 0, "0.011900000",
	    NULL },
	/* 100 x 2.5e-06 = 0.00025; 500 x 4e-05 = 0.02; 50 x 1e-05 = 0.0005;
	 * 250 x 8e-05 = 0.02; total 0.04075 */
	{ GPT4O_AUDIO, U(I = 100, AI = 500, O = 50, AO = 250), PEAK, 0,
	    "0.040750000", NULL },
	/* 50 x 5e-06 = 0.00025; 1000 x 1e-05 = 0.01; 4160 x 4e-05 = 0.1664;
	 * total 0.17665 */
	{ GPT_IMAGE_1, U(I = 50, IIT = 1000, IOT = 4160), PEAK, 0,
	    "0.176650000", NULL },
	/* 100 x 4e-06 = 0.0004; 200 x 4e-07 = 0.00008; 100 x 1.6e-05 =
	 * 0.0016; 1000 x 3.2e-05 = 0.032; 500 x 6.4e-05 = 0.032; 2 images x
	 * 5e-06 = 0.00001; total 0.06609 */
	{ GPT_REALTIME, U(I = 100, C = 200, O = 100, AI = 1000, AO = 500,
	    II = 2), PEAK, 0, "0.066090000", NULL },
	/* 1 s x 0.000283333333 = 0.000283333333 -> 0.000283333 */
	{ WHISPER, U(SEC = 1), PEAK, 0, "0.000283333", NULL },
	/* 60 s x 0.000283333333 = 0.01699999998 -> 0.017000000 */
	{ WHISPER, U(SEC = 60), PEAK, 0, "0.017000000", NULL },
	/* 20 x 2.5e-06 = 0.00005; 1000 x 1.2e-05 = 0.012; total 0.01205 */
	{ MINI_TTS, U(I = 20, AO = 1000), PEAK, 0, "0.012050000", NULL },
	/* 5 s x 0.00025 = 0.00125 */
	{ MINI_TTS, U(SEC = 5), PEAK, 0, "0.001250000", NULL },
	/* flex: 1000 x 1e-06 = 0.001; 4000 x 2.5e-07 = 0.001; 500 x 4e-06 =
	 * 0.002; reasoning at output: 1500 x 4e-06 = 0.006; total 0.01 */
	{ O3_FLEX, U(I = 1000, C = 4000, O = 500, R = 1500), PEAK, 0,
	    "0.010000000", NULL },
	/* 10 x 3e-06 = 0.00003; 50000 x 3e-07 = 0.015; 5m: 2000 x 3.75e-06 =
	 * 0.0075; 800 x 1.5e-05 = 0.012; total 0.03453 */
	{ SONNET45, U(I = 10, C = 50000, W5 = 2000, O = 800), PEAK, 0,
	    "0.034530000", NULL },
	/* 1h: 10 x 3e-06 = 0.00003; 2000 x 6e-06 = 0.012; 800 x 1.5e-05 =
	 * 0.012; total 0.02403 */
	{ SONNET45, U(I = 10, W1 = 2000, O = 800), PEAK, 0, "0.024030000",
	    NULL },
	/* prompt 150000 + 40000 + 5000 + 5000 = 200000, not above: base.
	 * 150000 x 3e-06 = 0.45; 40000 x 3e-07 = 0.012; 5000 x 3.75e-06 =
	 * 0.01875; 5000 x 6e-06 = 0.03; 1000 x 1.5e-05 = 0.015; 0.52575 */
	{ SONNET45, U(I = 150000, C = 40000, W5 = 5000, W1 = 5000, O = 1000),
	    PEAK, 0, "0.525750000", NULL },
	/* prompt 200001: every meter at the above-200k price. 150001 x 6e-06
	 * = 0.900006; 40000 x 6e-07 = 0.024; 5000 x 7.5e-06 = 0.0375; 5000 x
	 * 1.2e-05 = 0.06; 1000 x 2.25e-05 = 0.0225; total 1.044006 */
	{ SONNET45, U(I = 150001, C = 40000, W5 = 5000, W1 = 5000, O = 1000),
	    PEAK, 0, "1.044006000", NULL },
	/* 3 x 1.5e-05 = 0.000045; 20000 x 1.5e-06 = 0.03; 1000 x 1.875e-05 =
	 * 0.01875; 1000 x 3e-05 = 0.03; 400 x 7.5e-05 = 0.03; 0.108795 */
	{ OPUS41, U(I = 3, C = 20000, W5 = 1000, W1 = 1000, O = 400), PEAK, 0,
	    "0.108795000", NULL },
	/* 15% off: 2000 x 1e-06 = 0.002 -> 0.0017; 500 x 5e-06 = 0.0025 ->
	 * 0.002125; list 0.0045, cost 0.003825 */
	{ HAIKU45, U(I = 2000, O = 500), PEAK, 150000, "0.004500000",
	    "0.003825000" },
	/* prompt 200000, not above: 200000 x 1.25e-06 = 0.25; 1000 x 1e-05 =
	 * 0.01; total 0.26 */
	{ GEM25PRO, U(I = 200000, O = 1000), PEAK, 0, "0.260000000", NULL },
	/* prompt 200001: 200001 x 2.5e-06 = 0.5000025; output too: 1000 x
	 * 1.5e-05 = 0.015; total 0.5150025 */
	{ GEM25PRO, U(I = 200001, O = 1000), PEAK, 0, "0.515002500", NULL },
	/* prompt 100001 + 100000 = 200001: 100001 x 2.5e-06 = 0.2500025;
	 * 100000 x 2.5e-07 = 0.025; 100 x 1.5e-05 = 0.0015; 0.2765025 */
	{ GEM25PRO, U(I = 100001, C = 100000, O = 100), PEAK, 0,
	    "0.276502500", NULL },
	/* prompt 210000: 150000 x 2.5e-06 = 0.375; the tier prices cache
	 * writes: 60000 x 2.5e-07 = 0.015; 100 x 1.5e-05 = 0.0015; 0.3915 */
	{ GEM25PRO, U(I = 150000, W5 = 60000, O = 100), PEAK, 0,
	    "0.391500000", NULL },
	/* prompt 2000: no base cache-write price, so at input: 1000 x
	 * 1.25e-06 = 0.00125 twice; 10 x 1e-05 = 0.0001; total 0.0026 */
	{ GEM25PRO, U(I = 1000, W5 = 1000, O = 10), PEAK, 0, "0.002600000",
	    NULL },
	/* 100 x 1.25e-06 = 0.000125; 100 x 1e-05 = 0.001; 1 request x 0.035;
	 * total 0.036125 */
	{ GEM25PRO, U(I = 100, O = 100, REQ = 1), PEAK, 0, "0.036125000",
	    NULL },
	/* 1000 x 3e-07 = 0.0003; 3000 x 3e-08 = 0.00009; 500 x 1e-06 =
	 * 0.0005; 200 x 2.5e-06 = 0.0005; reasoning at its own price: 800 x
	 * 2.5e-06 = 0.002; total 0.00339 */
	{ GEM25FLASH, U(I = 1000, C = 3000, AI = 500, O = 200, R = 800), PEAK,
	    0, "0.003390000", NULL },
	/* 500 x 3e-07 = 0.00015; 1 image x 0.039; 1290 x 3e-05 = 0.0387;
	 * total 0.07785 */
	{ GEM25FLASH_IMG, U(I = 500, IO = 1, IOT = 1290), PEAK, 0,
	    "0.077850000", NULL },
	/* 2 images x 0.0011 = 0.0022; 300 x 2e-06 = 0.0006; 100 x 1.2e-05 =
	 * 0.0012; 1120 x 0.00012 = 0.1344; total 0.1384 */
	{ GEM3PRO_IMG, U(I = 300, O = 100, II = 2, IOT = 1120), PEAK, 0,
	    "0.138400000", NULL },
	/* 2 images out x 0.134 = 0.268 */
	{ GEM3PRO_IMG, U(IO = 2), PEAK, 0, "0.268000000", NULL },
	/* batch: 300 x 1e-06 = 0.0003; 100 x 6e-06 = 0.0006; total 0.0009 */
	{ GEM3PRO_IMG_BATCH, U(I = 300, O = 100), PEAK, 0, "0.000900000",
	    NULL },
	/* priority, prompt 200000: 200000 x 3.6e-06 = 0.72; 1000 x 2.16e-05
	 * = 0.0216; total 0.7416 */
	{ GEM3PRO_PRIO, U(I = 200000, O = 1000), PEAK, 0, "0.741600000",
	    NULL },
	/* priority, prompt 200001: 200001 x 7.2e-06 = 1.4400072; 1000 x
	 * 3.24e-05 = 0.0324; total 1.4724072 */
	{ GEM3PRO_PRIO, U(I = 200001, O = 1000), PEAK, 0, "1.472407200",
	    NULL },
	/* 10:00 Shanghai, peak: 1000 x 2.8e-07 = 0.00028; 9000 x 2.8e-08 =
	 * 0.000252; 500 x 4.2e-07 = 0.00021; total 0.000742 */
	{ DS_CHAT, U(I = 1000, C = 9000, O = 500), PEAK, 0, "0.000742000",
	    NULL },
	/* 16:30:00 UTC = 00:30 Shanghai, first off-peak minute: 1000 x
	 * 1.4e-07 = 0.00014; 9000 x 1.4e-08 = 0.000126; 500 x 2.1e-07 =
	 * 0.000105; total 0.000371 */
	{ DS_CHAT, U(I = 1000, C = 9000, O = 500), AT(16, 30, 0), 0,
	    "0.000371000", NULL },
	/* 16:29:59 UTC = 00:29:59 Shanghai, still peak: 0.000742 */
	{ DS_CHAT, U(I = 1000, C = 9000, O = 500), AT(16, 29, 59), 0,
	    "0.000742000", NULL },
	/* 00:29:59 UTC = 08:29:59 Shanghai, last off-peak second: 0.000371 */
	{ DS_CHAT, U(I = 1000, C = 9000, O = 500), AT(0, 29, 59), 0,
	    "0.000371000", NULL },
	/* 00:30 UTC = 08:30 Shanghai, peak again: 0.000742 */
	{ DS_CHAT, U(I = 1000, C = 9000, O = 500), AT(0, 30, 0), 0,
	    "0.000742000", NULL },
	/* Berlin window 17:30-01:30 wraps: 16:29:59 UTC = 17:29:59, peak */
	{ DS_CHAT_BERLIN, U(I = 1000, C = 9000, O = 500), AT(16, 29, 59), 0,
	    "0.000742000", NULL },
	/* 16:30 UTC = 17:30 Berlin, off-peak (before local midnight) */
	{ DS_CHAT_BERLIN, U(I = 1000, C = 9000, O = 500), AT(16, 30, 0), 0,
	    "0.000371000", NULL },
	/* 23:30 UTC = 00:30 Berlin, off-peak (after local midnight) */
	{ DS_CHAT_BERLIN, U(I = 1000, C = 9000, O = 500), AT(23, 30, 0), 0,
	    "0.000371000", NULL },
	/* 00:30 UTC = 01:30 Berlin, the window has ended: peak */
	{ DS_CHAT_BERLIN, U(I = 1000, C = 9000, O = 500), AT(0, 30, 0), 0,
	    "0.000742000", NULL },
	/* 500 x 2.8e-07 = 0.00014; 300 x 4.2e-07 = 0.000126; reasoning at
	 * output: 2000 x 4.2e-07 = 0.00084; total 0.001106 */
	{ DS_REASONER, U(I = 500, O = 300, R = 2000), PEAK, 0, "0.001106000",
	    NULL },
	/* 1 x 4.35e-07 = 0.000000435; 1 x 3.625e-09 = 0.000000003625 ->
	 * 0.000000004; 1 x 8.7e-07 = 0.00000087; total 0.000001309 */
	{ DS_V4PRO, U(I = 1, C = 1, O = 1), PEAK, 0, "0.000001309", NULL },
	/* 1000 x 1.4e-07 = 0.00014; 5000 x 2.8e-09 = 0.000014; a 0.0 cache
	 * write price is a price: 2000 x 0 = 0; 100 x 2.8e-07 = 0.000028;
	 * total 0.000182 */
	{ DS_V4FLASH, U(I = 1000, C = 5000, W5 = 2000, O = 100), PEAK, 0,
	    "0.000182000", NULL },
	/* ties: 1 x 1.25e-08 = 0.0000000125 -> ...012 (2 is even) */
	{ GPT5_MINI_FLEX, U(C = 1), PEAK, 0, "0.000000012", NULL },
	/* 3 x 1.25e-08 = 0.0000000375 -> ...038 */
	{ GPT5_MINI_FLEX, U(C = 3), PEAK, 0, "0.000000038", NULL },
	/* 5 x 1.25e-08 = 0.0000000625 -> ...062 */
	{ GPT5_MINI_FLEX, U(C = 5), PEAK, 0, "0.000000062", NULL },
	/* 15% off, rounded once: 12.5 x 0.85 = 10.625 nano -> 11, where
	 * rounding the list first would give 12 x 0.85 = 10.2 -> 10 */
	{ GPT5_MINI_FLEX, U(C = 1), PEAK, 150000, "0.000000012",
	    "0.000000011" },
	/* 8% off: 12.5 x 0.92 = 11.5 nano -> 12 */
	{ GPT5_MINI_FLEX, U(C = 1), PEAK, 80000, "0.000000012",
	    "0.000000012" },
	/* 16% off: 12.5 x 0.84 = 10.5 nano -> 10 */
	{ GPT5_MINI_FLEX, U(C = 1), PEAK, 160000, "0.000000012",
	    "0.000000010" },
};

static void
test_cost_cases(void **state)
{
	struct pricing_quote	q;
	char			label[64];
	size_t			i;

	(void)state;
	assert_true(sizeof(cases) / sizeof(cases[0]) >= 30);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(label, sizeof(label), "case %zu (%s)", i + 1,
		    E[cases[i].entry].model);
		price_is(&E[cases[i].entry], &cases[i].u, cases[i].at,
		    cases[i].ppm, cases[i].list, cases[i].cost, &q, label);
	}
}

/* The cases between them price every meter, each at its own price. */
static void
test_cost_cases_cover_meters(void **state)
{
	struct pricing_quote	 q;
	const char		*why;
	uint32_t		 seen = 0;
	size_t			 i;
	int			 k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(pricing_cost(&E[cases[i].entry], &cases[i].u,
		    cases[i].at, test_tz, NULL, &q, &why), 0);
		for (k = 0; k < q.n; k++) {
			if (q.lines[k].priced_as == q.lines[k].meter)
				seen |= 1U << q.lines[k].meter;
		}
	}
	assert_int_equal(seen, (1U << PM_COUNT) - 1);
}
