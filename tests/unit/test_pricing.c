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
#include "tests/unit/testutil.h"
#include "pricing/pricing.h"

#define SENTINEL	((int64_t)0x5a5a5a5a5a5a5a5aLL)
#define T_US(s)		((int64_t)(s) * 1000000LL)
/* 2026-01-15T00:00:00Z; the +1h of Europe/Berlin below is its winter. */
#define T0		1768435200LL
#define AT(h, m, s)	T_US(T0 + (h) * 3600LL + (m) * 60LL + (s))
/* 10:00 in Shanghai: DeepSeek's peak hours. */
#define PEAK		AT(2, 0, 0)


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

/* ---- engine rules, one at a time ---- */

static void
test_context_tier_boundary(void **state)
{
	struct pricing_usage	u = U(I = 200000, O = 1000);
	struct pricing_quote	q;

	(void)state;
	price_is(&E[GEM25PRO], &u, PEAK, 0, "0.260000000", NULL, &q, "200k");
	assert_int_equal(q.context_tier, -1);
	assert_int_equal(q.lines[1].unit_pico, 10000000);
	u.q[PM_INPUT]++;
	/* 200001 x 2.5e-06 = 0.5000025; 1000 x 1.5e-05 = 0.015 */
	price_is(&E[GEM25PRO], &u, PEAK, 0, "0.515002500", NULL, &q, "200k+1");
	assert_int_equal(q.context_tier, 0);
	assert_int_equal(q.lines[0].unit_pico, 2500000);
	assert_int_equal(q.lines[1].unit_pico, 15000000);
	/* Output does not count towards the prompt. */
	u.q[PM_INPUT] = 199999;
	u.q[PM_OUTPUT] = 60000;
	assert_int_equal(pricing_cost(&E[GEM25PRO], &u, PEAK, NULL, NULL, &q,
	    NULL), 0);
	assert_int_equal(q.context_tier, -1);
}

/* With several tiers, the one with the largest threshold below the prompt. */
static void
test_context_tier_choice(void **state)
{
	struct pricing_entry	 e = E[GEM25PRO];
	struct pricing_usage	 u = U(I = 1);
	struct pricing_quote	 q;
	const int64_t		 at[] = { 1, 1000, 1001, 200000, 200001,
	    500000, 500001, PRICING_QUANTITY_MAX };
	const int		 want[] = { -1, -1, 0, 0, 1, 1, 2, 2 };
	size_t			 i;

	(void)state;
	e.n_context = 0;
	px(ctx(&e, 1000), PM_INPUT, 1);
	px(ctx(&e, 200000), PM_INPUT, 2);
	px(ctx(&e, 500000), PM_OUTPUT, 3);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		u.q[PM_INPUT] = at[i];
		assert_int_equal(pricing_cost(&e, &u, 0, NULL, NULL, &q, NULL),
		    0);
		assert_int_equal(q.context_tier, want[i]);
	}
	/* Tier 2 prices output only: input keeps the base price, not tier 1. */
	assert_int_equal(q.lines[0].unit_pico, 1250000);
}

static void
test_tiers_batch_priority(void **state)
{
	struct pricing_usage	u = U(I = 1000, O = 200);
	struct pricing_quote	q;

	(void)state;
	/* 1000 x 1.25e-06 = 0.00125; 200 x 5e-06 = 0.001; total 0.00225 */
	price_is(&E[GPT4O_BATCH], &u, PEAK, 0, "0.002250000", NULL, &q,
	    "batch");
	/* 1000 x 4.25e-06 = 0.00425; 200 x 1.7e-05 = 0.0034; 0.00765 */
	price_is(&E[GPT4O_PRIO], &u, PEAK, 0, "0.007650000", NULL, &q,
	    "priority");
}

static void
test_cache_write_5m_1h(void **state)
{
	struct pricing_usage	u = U(W5 = 10000);
	struct pricing_quote	q;

	(void)state;
	/* 10000 x 1.875e-05 = 0.1875 */
	price_is(&E[OPUS41], &u, PEAK, 0, "0.187500000", NULL, &q, "5m");
	u.q[PM_CACHE_WRITE_5M] = 0;
	u.q[PM_CACHE_WRITE_1H] = 10000;
	/* 10000 x 3e-05 = 0.3 */
	price_is(&E[OPUS41], &u, PEAK, 0, "0.300000000", NULL, &q, "1h");
	assert_int_equal(q.lines[0].meter, PM_CACHE_WRITE_1H);
	assert_int_equal(q.lines[0].priced_as, PM_CACHE_WRITE_1H);
}

static void
test_fallbacks(void **state)
{
	struct pricing_entry	e;
	struct pricing_usage	u;
	struct pricing_quote	q;

	(void)state;
	/* Reasoning without its own price is output; with it, its own. */
	u = (struct pricing_usage)U(R = 1000);
	price_is(&E[O3_FLEX], &u, PEAK, 0, "0.004000000", NULL, &q, "o3");
	assert_int_equal(q.lines[0].priced_as, PM_OUTPUT);
	price_is(&E[GEM25FLASH], &u, PEAK, 0, "0.002500000", NULL, &q, "flash");
	assert_int_equal(q.lines[0].priced_as, PM_REASONING);
	e = E[GEM25FLASH];
	px(&e.base, PM_REASONING, 3500000);
	price_is(&e, &u, PEAK, 0, "0.003500000", NULL, &q, "own price");

	/* cache_write_1h -> cache_write_5m -> input. */
	e = E[GEM25PRO];
	u = (struct pricing_usage)U(W1 = 1000);
	price_is(&e, &u, PEAK, 0, "0.001250000", NULL, &q, "1h at input");
	assert_int_equal(q.lines[0].priced_as, PM_INPUT);
	px(&e.base, PM_CACHE_WRITE_5M, 2000000);
	price_is(&e, &u, PEAK, 0, "0.002000000", NULL, &q, "1h at 5m");
	assert_int_equal(q.lines[0].priced_as, PM_CACHE_WRITE_5M);

	/* Image tokens without a price are text tokens. */
	u = (struct pricing_usage)U(IIT = 1000, IOT = 100);
	/* 1000 x 2.5e-06 = 0.0025; 100 x 1e-05 = 0.001 */
	price_is(&E[GPT4O], &u, PEAK, 0, "0.003500000", NULL, &q, "img tok");
	assert_int_equal(q.lines[0].priced_as, PM_INPUT);
	assert_int_equal(q.lines[1].priced_as, PM_OUTPUT);

	/* Requests and seconds without a price: no line, no charge. */
	u = (struct pricing_usage)U(I = 1000, REQ = 1, SEC = 30);
	price_is(&E[GPT4O], &u, PEAK, 0, "0.002500000", NULL, &q, "free");
	assert_int_equal(q.n, 1);

	/*
	 * The fallback meter's price is layered too: off-peak prices output
	 * but not reasoning, so reasoning takes the off-peak output price.
	 */
	e = E[DS_REASONER];
	e.n_windows = 0;
	px(win(&e, "Asia/Shanghai", 30, 510), PM_OUTPUT, 105000);
	u = (struct pricing_usage)U(R = 10000);
	/* 10000 x 1.05e-07 = 0.00105 */
	price_is(&e, &u, AT(20, 0, 0), 0, "0.001050000", NULL, &q, "layered");
	assert_int_equal(q.window, 0);
	assert_int_equal(q.lines[0].priced_as, PM_OUTPUT);
}

static void
test_unpriced_refused(void **state)
{
	struct pricing_usage	u;

	(void)state;
	u = (struct pricing_usage)U(I = 100, AI = 50);
	price_bad(&E[GPT4O], &u, PEAK, NULL, "no price for meter audio_input");
	u = (struct pricing_usage)U(AO = 50);
	price_bad(&E[GEM25FLASH], &u, PEAK, NULL,
	    "no price for meter audio_output");
	u = (struct pricing_usage)U(O = 50);
	price_bad(&E[GPT_IMAGE_1], &u, PEAK, NULL, "no price for meter output");
	u = (struct pricing_usage)U(II = 1);
	price_bad(&E[GEM3PRO_IMG_BATCH], &u, PEAK, NULL,
	    "no price for meter image_input");
	u = (struct pricing_usage)U(I = 1);
	price_bad(&E[WHISPER], &u, PEAK, NULL, "no price for meter input");
}

static void
test_quantity_limits(void **state)
{
	struct pricing_usage	u = U(I = PRICING_QUANTITY_MAX);
	struct pricing_quote	q;
	int			m;

	(void)state;
	/* 1099511627776 x 2.8e-07 = 307863.25577728 */
	price_is(&E[DS_CHAT], &u, PEAK, 0, "307863.255777280", NULL, &q,
	    "2^40");
	for (m = 0; m < PM_COUNT; m++) {
		memset(&u, 0, sizeof(u));
		u.q[m] = PRICING_QUANTITY_MAX + 1;
		price_bad(&E[GEM25PRO], &u, PEAK, NULL, "quantity above 2^40");
		u.q[m] = -1;
		price_bad(&E[GEM25PRO], &u, PEAK, NULL, "negative quantity");
	}
	/* Nothing used: an empty quote of zero. */
	memset(&u, 0, sizeof(u));
	price_is(&E[GEM25PRO], &u, PEAK, 0, "0.000000000", NULL, &q, "zero");
	assert_int_equal(q.n, 0);
}

/* Ties go to even, in the list and in the contracted cost alike. */
static void
test_rounding_ties(void **state)
{
	struct pricing_entry	e;
	struct pricing_usage	u;
	struct pricing_quote	q;

	(void)state;
	memset(&e, 0, sizeof(e));
	strcpy(e.provider, "test");
	strcpy(e.model, "half-nano");
	px(&e.base, PM_INPUT, 500);
	u = (struct pricing_usage)U(I = 1);
	price_is(&e, &u, 0, 0, "0.000000000", NULL, &q, "0.5");	/* 0.5 -> 0 */
	u.q[PM_INPUT] = 3;
	price_is(&e, &u, 0, 0, "0.000000002", NULL, &q, "1.5");	/* 1.5 -> 2 */
	u.q[PM_INPUT] = 5;
	price_is(&e, &u, 0, 0, "0.000000002", NULL, &q, "2.5");	/* 2.5 -> 2 */
	u.q[PM_INPUT] = 7;
	price_is(&e, &u, 0, 0, "0.000000004", NULL, &q, "3.5");	/* 3.5 -> 4 */

	/* 1 nano a token, half off: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4 */
	e.base.pico[PM_INPUT] = 1000;
	u.q[PM_INPUT] = 1;
	price_is(&e, &u, 0, 500000, "0.000000001", "0.000000000", &q, "c0.5");
	u.q[PM_INPUT] = 3;
	price_is(&e, &u, 0, 500000, "0.000000003", "0.000000002", &q, "c1.5");
	u.q[PM_INPUT] = 5;
	price_is(&e, &u, 0, 500000, "0.000000005", "0.000000002", &q, "c2.5");
	u.q[PM_INPUT] = 7;
	price_is(&e, &u, 0, 500000, "0.000000007", "0.000000004", &q, "c3.5");
	/* 1 x 1.5 nano is a tie with an odd neighbour below: up to 2. */
	e.base.pico[PM_INPUT] = 1500;
	u.q[PM_INPUT] = 1;
	price_is(&e, &u, 0, 0, "0.000000002", NULL, &q, "1.5 exactly");
	/* 2.501 nano is past the tie: up to 3. */
	e.base.pico[PM_INPUT] = 2501;
	price_is(&e, &u, 0, 0, "0.000000003", NULL, &q, "2.501");
	/* A 100% discount costs nothing. */
	price_is(&e, &u, 0, 1000000, "0.000000003", "0.000000000", &q, "free");
}

static void
test_windows(void **state)
{
	struct pricing_entry	e = E[DS_CHAT];
	struct pricing_usage	u = U(I = 1000000);
	struct pricing_quote	q;
	const char		*why = NULL;
	int			calls = 0;

	(void)state;
	/* A second before the epoch is 07:59:59 in Shanghai: off-peak. */
	price_is(&e, &u, -1, 0, "0.140000000", NULL, &q, "1969");
	assert_int_equal(q.window, 0);
	/*
	 * 1969-12-31T00:29:59Z is 08:29:59 in Shanghai, off-peak, and a second
	 * later it is peak; truncating division would end the window early.
	 */
	price_is(&e, &u, T_US(-86400 + 1799), 0, "0.140000000", NULL, &q,
	    "1969 last off-peak second");
	price_is(&e, &u, T_US(-86400 + 1800), 0, "0.280000000", NULL, &q,
	    "1969 peak");
	assert_int_equal(q.window, -1);
	/* 1969-12-31T23:59:59.999999Z is 00:59 in Berlin: in the wrap. */
	price_is(&E[DS_CHAT_BERLIN], &u, -1, 0, "0.140000000", NULL, &q,
	    "1969 Berlin");

	/* The zone is asked for every window until one applies. */
	e.n_windows = 0;
	px(win(&e, "Europe/Berlin", 0, 60), PM_INPUT, 1);
	px(win(&e, "Asia/Shanghai", 30, 510), PM_INPUT, 2);
	px(win(&e, "Asia/Shanghai", 0, 1440), PM_INPUT, 3);
	assert_int_equal(pricing_cost(&e, &u, AT(20, 0, 0), test_tz, &calls,
	    &q, &why), 0);
	assert_int_equal(q.window, 1);
	assert_int_equal(calls, 2);
	assert_int_equal(pricing_cost(&e, &u, PEAK, test_tz, NULL, &q, &why), 0);
	assert_int_equal(q.window, 2);

	/* An unknown zone, or no zone function, fails the pricing. */
	snprintf(e.windows[0].time_zone, sizeof(e.windows[0].time_zone),
	    "Mars/Olympus_Mons");
	price_bad(&e, &u, PEAK, test_tz, "unknown time zone");
	price_bad(&E[DS_CHAT], &u, PEAK, NULL, "no time zone function");
}

static void
test_cost_bad_entry(void **state)
{
	struct pricing_entry	e = E[GPT4O];
	struct pricing_usage	u = U(I = 1);

	(void)state;
	e.discount_ppm = 1000001;
	price_bad(&e, &u, 0, NULL, "discount");
	e.discount_ppm = -1;
	price_bad(&e, &u, 0, NULL, "discount");
	e = E[GPT4O];
	e.base.pico[PM_INPUT] = PRICING_PRICE_MAX + 1;
	price_bad(&e, &u, 0, NULL, "price out of range");
	e.base.pico[PM_INPUT] = -1;
	price_bad(&e, &u, 0, NULL, "price out of range");
	e = E[GPT4O];
	e.n_context = PRICING_MAX_CONTEXT_TIERS + 1;
	price_bad(&e, &u, 0, NULL, "too many");
}

/*
 * 2^40 on every meter at the largest price: 2^40 x 10^15 pico is about
 * 1.1e24 nano-units a line, beyond int64_t, so the engine refuses it
 * cleanly. At Opus's output price on every meter it fits and is exact.
 */
static void
test_cost_extremes(void **state)
{
	struct pricing_entry	e;
	struct pricing_usage	u;
	struct pricing_quote	q;
	int			m;

	(void)state;
	memset(&e, 0, sizeof(e));
	strcpy(e.provider, "test");
	strcpy(e.model, "max");
	for (m = 0; m < PM_COUNT; m++) {
		px(&e.base, m, PRICING_PRICE_MAX);
		u.q[m] = PRICING_QUANTITY_MAX;
	}
	price_bad(&e, &u, 0, NULL, "cost out of range");
	/* The largest line that fits: 9223372 x 1000 = 9223372000. */
	memset(&u, 0, sizeof(u));
	u.q[PM_INPUT] = 9223372;
	price_is(&e, &u, 0, 1, "9223372000.000000000", "9223362776.628000000",
	    &q, "max line");
	/* Two of them do not. */
	u.q[PM_OUTPUT] = 9223372;
	price_bad(&e, &u, 0, NULL, "total cost out of range");

	/*
	 * 1099511627776 x 7.5e-05 = 82463372.0832 a meter, x 14 meters =
	 * 1154487209.1648. 1 ppm of that is 82.4633720832 a meter ->
	 * 82.463372083, x 14 = 1154.487209162.
	 */
	for (m = 0; m < PM_COUNT; m++) {
		e.base.pico[m] = 75000000;
		u.q[m] = PRICING_QUANTITY_MAX;
	}
	price_is(&e, &u, 0, 999999, "1154487209.164800000", "1154.487209162",
	    &q, "all max");
	assert_int_equal(q.n, PM_COUNT);
}

/* ---- properties under random usage ---- */

static const int prop_entries[] = {
	GPT4O, GPT4O_BATCH, GPT4O_PRIO, GPT4O_AUDIO, GPT_IMAGE_1,
	GPT_REALTIME, WHISPER, MINI_TTS, O3_FLEX, GPT5_MINI_FLEX, SONNET45,
	OPUS41, HAIKU45, GEM25PRO, GEM25FLASH, GEM25FLASH_IMG, GEM3PRO_IMG,
	GEM3PRO_IMG_BATCH, GEM3PRO_PRIO, DS_CHAT, DS_CHAT_BERLIN, DS_REASONER,
	DS_V4PRO, DS_V4FLASH
};

/* The meters an entry can price, its fallbacks included. */
static uint32_t
priceable(const struct pricing_entry *e)
{
	struct pricing_usage	u;
	struct pricing_quote	q;
	uint32_t		mask = 0;
	int			m;

	for (m = 0; m < PM_COUNT; m++) {
		memset(&u, 0, sizeof(u));
		u.q[m] = 1;
		if (pricing_cost(e, &u, PEAK, test_tz, NULL, &q, NULL) == 0)
			mask |= 1U << m;
	}
	return (mask);
}

static int64_t
rand_quantity(uint64_t *rng)
{
	uint64_t	r = rng_next(rng);

	switch (r % 6) {
	case 0:
		return (0);
	case 1:
		return ((int64_t)(r >> 8) % 100);
	case 2:
		return ((int64_t)(r >> 8) % 100000);
	case 3:
		/* Near the long-context thresholds. */
		return (199990 + (int64_t)(r >> 8) % 20);
	case 4:
		return ((int64_t)(r >> 8) % 1000000);
	default:
		return ((int64_t)(r >> 8) % (1LL << 30));
	}
}

static void
must_cost(const struct pricing_entry *e, const struct pricing_usage *u,
    int64_t at, struct pricing_quote *q)
{
	const char	*why = NULL;

	if (pricing_cost(e, u, at, test_tz, NULL, q, &why) != 0)
		fail_msg("%s: refused (%s)", e->model, why);
	quote_check(u, q, e->model);
}

/*
 * Growing one quantity never lowers the list or the contracted cost, the
 * totals are the sums of the lines, and the contracted total is within a
 * nano-unit a line of the discounted list total.
 *
 * One real entry breaks monotony and is kept out of it: LiteLLM gives
 * gemini-2.5-pro a cache-write price above 200k tokens (2.5e-07) but none
 * below, where cache writes fall back to input (1.25e-06); so one more
 * input token across the threshold makes 200000 cache writes cheaper.
 */
static void
test_prop_monotonic(void **state)
{
	struct pricing_entry	e;
	struct pricing_usage	u, v;
	struct pricing_quote	q1, q2;
	uint64_t		rng = 42;
	uint32_t		mask[NENT];
	__int128		drift;
	int64_t			at, delta;
	int			iter, m, grow, k;

	(void)state;
	for (k = 0; k < NENT; k++)
		mask[k] = priceable(&E[k]);
	mask[GEM25PRO] &= ~(1U << PM_CACHE_WRITE_5M | 1U << PM_CACHE_WRITE_1H);
	for (iter = 0; iter < 20000; iter++) {
		k = prop_entries[rng_next(&rng) % (sizeof(prop_entries) /
		    sizeof(prop_entries[0]))];
		e = E[k];
		e.discount_ppm = rng_next(&rng) % 3 == 0 ? 0 :
		    (int32_t)(rng_next(&rng) % 1000001);
		at = T_US(T0 + (int64_t)(rng_next(&rng) % (2 * 86400)));
		memset(&u, 0, sizeof(u));
		for (m = 0; m < PM_COUNT; m++) {
			if (mask[k] & (1U << m))
				u.q[m] = rand_quantity(&rng);
		}
		must_cost(&e, &u, at, &q1);

		drift = (__int128)q1.list_nanos * (1000000 - e.discount_ppm) -
		    (__int128)q1.cost_nanos * 1000000;
		if (drift < 0)
			drift = -drift;
		assert_true(drift <= (__int128)q1.n * 1000000);
		if (e.discount_ppm == 0)
			assert_int_equal(q1.cost_nanos, q1.list_nanos);

		do {
			grow = (int)(rng_next(&rng) % PM_COUNT);
		} while ((mask[k] & (1U << grow)) == 0);
		v = u;
		delta = 1 + (int64_t)(rng_next(&rng) % (rng_next(&rng) % 2 ?
		    10 : 1000000));
		v.q[grow] += delta;
		must_cost(&e, &v, at, &q2);
		if (q2.list_nanos < q1.list_nanos ||
		    q2.cost_nanos < q1.cost_nanos)
			fail_msg("%s: %s +%lld lowered the cost", e.model,
			    pricing_meter_name(grow), (long long)delta);
	}

	/* The exception above, as it stands in the price list. */
	u = (struct pricing_usage)U(I = 1, W5 = 199999);
	must_cost(&E[GEM25PRO], &u, PEAK, &q1);
	u.q[PM_INPUT]++;
	must_cost(&E[GEM25PRO], &u, PEAK, &q2);
	assert_true(q2.list_nanos < q1.list_nanos);
}

/* ---- price strings ---- */

static void
parse_is(const char *s, size_t len, int64_t want, int want_rounded)
{
	int64_t		 v = SENTINEL;
	int		 r = -1;
	const char	*why = NULL;

	if (pricing_parse_price(s, len, &v, &r, &why) != 0)
		fail_msg("price \"%.*s\": refused (%s)", (int)len, s, why);
	if (v != want || r != want_rounded)
		fail_msg("price \"%.*s\": got %lld rounded %d, want %lld "
		    "rounded %d", (int)len, s, (long long)v, r,
		    (long long)want, want_rounded);
}

static void
parse_bad(const char *s, size_t len)
{
	int64_t		 v = SENTINEL;
	int		 r = 7;
	const char	*why = NULL;

	if (pricing_parse_price(s, len, &v, &r, &why) != -1)
		fail_msg("price \"%.*s\": accepted as %lld", (int)len, s,
		    (long long)v);
	if (why == NULL || why[0] == '\0')
		fail_msg("price \"%.*s\": refused without a reason", (int)len,
		    s);
	if (v != SENTINEL || r != 7)
		fail_msg("price \"%.*s\": output written on failure", (int)len,
		    s);
}

#define PARSE_OK(lit, want, r)	parse_is((lit), sizeof(lit) - 1, (want), (r))
#define PARSE_BAD(lit)		parse_bad((lit), sizeof(lit) - 1)

static void
test_parse_price(void **state)
{
	char	buf[4200];

	(void)state;
	PARSE_OK("0.0000025", 2500000, 0);
	PARSE_OK("2.5e-06", 2500000, 0);
	PARSE_OK("2.5E-6", 2500000, 0);
	PARSE_OK("25e-7", 2500000, 0);
	PARSE_OK("0.25e-5", 2500000, 0);
	PARSE_OK("0.0000000025e+3", 2500000, 0);
	PARSE_OK("1e-05", 10000000, 0);
	PARSE_OK("1.25e-08", 12500, 0);
	PARSE_OK("3.625e-09", 3625, 0);
	PARSE_OK("0.039", 39000000000LL, 0);
	PARSE_OK("12345.678e-4", 1234567800000LL, 0);
	PARSE_OK("0.1e1", 1000000000000LL, 0);
	/* LiteLLM's gpt-realtime-whisper input_cost_per_second. */
	PARSE_OK("0.0002833333333333333", 283333333, 1);
	PARSE_OK("0.0000006666666666666667", 666667, 1);
	PARSE_OK("0", 0, 0);
	PARSE_OK("000.000", 0, 0);
	PARSE_OK("0e-999", 0, 0);
	PARSE_OK("0e999999999999999999999", 0, 0);
	PARSE_OK("1e-12", 1, 0);
	PARSE_OK("1000", PRICING_PRICE_MAX, 0);
	PARSE_OK("1e3", PRICING_PRICE_MAX, 0);
	PARSE_OK("1e+0003", PRICING_PRICE_MAX, 0);
	PARSE_OK("1e0000000000000000000000000003", PRICING_PRICE_MAX, 0);
	PARSE_OK("1000.0000000000004", PRICING_PRICE_MAX, 1);
	/* 1e15 is even, so the tie stays at the maximum. */
	PARSE_OK("1000.0000000000005", PRICING_PRICE_MAX, 1);
	/* Half to even, and rounded to 0 is still "rounded". */
	PARSE_OK("1e-13", 0, 1);
	PARSE_OK("5e-13", 0, 1);
	PARSE_OK("0.0000000000005", 0, 1);
	PARSE_OK("5.000001e-13", 1, 1);
	PARSE_OK("0.000000000000499999999999999999999", 0, 1);
	PARSE_OK("1.5e-12", 2, 1);
	PARSE_OK("2.5e-12", 2, 1);
	PARSE_OK("2.50000000000000000000001e-12", 3, 1);
	PARSE_OK("3.5e-12", 4, 1);
	PARSE_OK("1e-400", 0, 1);
	PARSE_OK("1e-99999999999999999999999", 0, 1);
	/* len, not the NUL, ends the string. */
	parse_is("2.5e-06xyz", 7, 2500000, 0);

	/* 0.(1000 zeros)1 x 10^1000 = 0.1 */
	memcpy(buf, "0.", 2);
	memset(buf + 2, '0', 1000);
	memcpy(buf + 1002, "1e1000", 6);
	parse_is(buf, 1008, 100000000000LL, 0);
	/* 1000.(4000 zeros)1: just above the maximum, rounded down to it. */
	memcpy(buf, "1000.", 5);
	memset(buf + 5, '0', 4000);
	buf[4005] = '1';
	parse_is(buf, 4006, PRICING_PRICE_MAX, 1);
	buf[4005] = '0';
	parse_is(buf, 4006, PRICING_PRICE_MAX, 0);

	PARSE_BAD("");
	PARSE_BAD("-0");
	PARSE_BAD("-2.5e-06");
	PARSE_BAD("+2.5e-06");
	PARSE_BAD(".5");
	PARSE_BAD("5.");
	PARSE_BAD("1e");
	PARSE_BAD("1e+");
	PARSE_BAD("1e-");
	PARSE_BAD("e5");
	PARSE_BAD("1.2.3");
	PARSE_BAD(" 1");
	PARSE_BAD("1 ");
	PARSE_BAD("0x10");
	PARSE_BAD("1e5.5");
	PARSE_BAD("1,5");
	PARSE_BAD("nan");
	PARSE_BAD("inf");
	PARSE_BAD("1\0");
	PARSE_BAD("1001");
	PARSE_BAD("1000.000000000001");
	/* 1e15 + 1.5 pico is a tie that rounds to 1e15 + 2. */
	PARSE_BAD("1000.0000000000015");
	PARSE_BAD("1e16");
	PARSE_BAD("1e400");
	PARSE_BAD("1e99999999999999999999999");
	assert_int_equal(pricing_parse_price(NULL, 0, NULL, NULL, NULL), -1);
}

static void
format_is(int64_t pico, const char *want)
{
	char	buf[PRICING_PRICE_BUFSZ];
	size_t	n;

	n = pricing_format_price(pico, buf);
	if (strcmp(buf, want) != 0 || n != strlen(want))
		fail_msg("format %lld: \"%s\" (%zu), want \"%s\"",
		    (long long)pico, buf, n, want);
}

static void
test_format_price(void **state)
{
	char		buf[PRICING_PRICE_BUFSZ];
	uint64_t	rng = 7;
	int64_t		p, v;
	int		i, r;

	(void)state;
	format_is(0, "0.000000000");
	format_is(2500000, "0.000002500");
	format_is(125, "0.000000000125");
	format_is(2000000000000LL, "2.000000000");
	format_is(1, "0.000000000001");
	format_is(10, "0.00000000001");
	format_is(100, "0.0000000001");
	format_is(1000, "0.000000001");
	format_is(12500, "0.0000000125");
	format_is(283333333, "0.000283333333");
	format_is(35000000000LL, "0.035000000");
	format_is(PRICING_PRICE_MAX, "1000.000000000");
	format_is(INT64_MAX, "9223372.036854775807");
	format_is(-1, "-0.000000000001");
	format_is(INT64_MIN, "-9223372.036854775808");

	/* Every price prints and parses back to itself, exactly. */
	for (i = 0; i < 100000; i++) {
		p = (int64_t)(rng_next(&rng) % (PRICING_PRICE_MAX + 1));
		if (i % 3 == 0)
			p /= 1000000;
		pricing_format_price(p, buf);
		r = -1;
		assert_int_equal(pricing_parse_price(buf, strlen(buf), &v, &r,
		    NULL), 0);
		assert_int_equal(v, p);
		assert_int_equal(r, 0);
	}
}

/* p written as a mantissa with extra digit d (and sticky digits): rounds. */
static void
test_parse_price_rounding_prop(void **state)
{
	char		buf[64];
	uint64_t	rng = 9;
	int64_t		p, v, want;
	int		i, d, sticky, r, n;

	(void)state;
	for (i = 0; i < 100000; i++) {
		p = (int64_t)(rng_next(&rng) % PRICING_PRICE_MAX);
		d = (int)(rng_next(&rng) % 10);
		sticky = (int)(rng_next(&rng) % 2);
		/* p.d(sticky) pico, written with an exponent. */
		n = snprintf(buf, sizeof(buf), "%lld%d%se-%d", (long long)p, d,
		    sticky ? "0001" : "", sticky ? 17 : 13);
		want = p + (d > 5 || (d == 5 && (sticky || (p & 1))));
		r = -1;
		assert_int_equal(pricing_parse_price(buf, (size_t)n, &v, &r,
		    NULL), 0);
		assert_int_equal(v, want);
		assert_int_equal(r, d != 0 || sticky);
	}
}

/* ---- entries, tables and the book ---- */

static void
entry_bad(const struct pricing_entry *e, const char *want_why)
{
	const char	*why = NULL;

	if (pricing_entry_check(e, &why) != -1)
		fail_msg("entry %s accepted, want \"%s\"", e->model, want_why);
	if (why == NULL || strstr(why, want_why) == NULL)
		fail_msg("entry %s: why \"%s\", want \"%s\"", e->model,
		    why != NULL ? why : "(null)", want_why);
}

static void
test_entry_check(void **state)
{
	struct pricing_entry	e;
	const char		*why;
	int			i;

	(void)state;
	for (i = 0; i < NENT; i++)
		assert_int_equal(pricing_entry_check(&E[i], &why), 0);
	e = E[GPT4O];
	e.model[0] = '\0';
	entry_bad(&e, "model name");
	strcpy(e.model, "gpt 4o");
	entry_bad(&e, "model name");
	memset(e.model, 'a', sizeof(e.model));	/* no NUL inside */
	entry_bad(&e, "model name");
	e = E[GPT4O];
	e.provider[0] = '\0';
	entry_bad(&e, "provider name");
	e = E[GPT4O];
	e.tier = PT_COUNT;
	entry_bad(&e, "tier");
	e.tier = -1;
	entry_bad(&e, "tier");
	e = E[GPT4O];
	e.base.pico[PM_OUTPUT] = -1;
	entry_bad(&e, "negative price");
	e.base.pico[PM_OUTPUT] = PRICING_PRICE_MAX + 1;
	entry_bad(&e, "price above");
	e.base.pico[PM_OUTPUT] = PRICING_PRICE_MAX;
	assert_int_equal(pricing_entry_check(&e, &why), 0);
	e.base.has |= 1U << PM_COUNT;
	entry_bad(&e, "unknown meter");
	e = E[SONNET45];
	px(ctx(&e, 200000), PM_INPUT, 1);
	entry_bad(&e, "ascending");
	e.context[1].above = 100000;
	entry_bad(&e, "ascending");
	e.context[1].above = 300000;
	assert_int_equal(pricing_entry_check(&e, &why), 0);
	e.context[1].rates.has = 0;
	entry_bad(&e, "no prices");
	e.n_context = PRICING_MAX_CONTEXT_TIERS + 1;
	entry_bad(&e, "context tiers");
	e = E[SONNET45];
	e.context[0].rates.pico[PM_OUTPUT] = -5;
	entry_bad(&e, "negative price");
	e = E[DS_CHAT];
	e.windows[0].end_min = 30;
	entry_bad(&e, "window minutes");
	e.windows[0].end_min = 1441;
	entry_bad(&e, "window minutes");
	e.windows[0].start_min = 1440;
	e.windows[0].end_min = 30;
	entry_bad(&e, "window minutes");
	e.windows[0].start_min = 0;
	e.windows[0].end_min = 1440;
	assert_int_equal(pricing_entry_check(&e, &why), 0);
	e.windows[0].time_zone[0] = '\0';
	entry_bad(&e, "time zone");
	e = E[DS_CHAT];
	e.windows[0].rates.has = 0;
	entry_bad(&e, "no prices");
	e = E[DS_CHAT];
	e.max_input_tokens = -1;
	entry_bad(&e, "token limit");
	e = E[DS_CHAT];
	e.discount_ppm = 1000001;
	entry_bad(&e, "discount");
	entry_bad(NULL, "missing");
}

static struct pricing_table *
table_of(const int *which, size_t n)
{
	struct pricing_table	*t;
	const char		*why = NULL;
	size_t			 i;

	assert_non_null(t = pricing_table_new());
	for (i = 0; i < n; i++) {
		if (pricing_table_add(t, &E[which[i]], &why) != 0)
			fail_msg("add %s: %s", E[which[i]].model, why);
	}
	return (t);
}

static const int some[] = {
	GPT4O, GPT4O_BATCH, GPT4O_PRIO, O3_FLEX, SONNET45, HAIKU45, OPUS41,
	GEM25PRO, GEM3PRO_IMG, GEM3PRO_IMG_BATCH, GEM3PRO_PRIO, DS_CHAT
};

static void
test_table_find(void **state)
{
	struct pricing_table		*t;
	const struct pricing_entry	*e;
	const char			*why = NULL;
	int				 tier = -1;

	(void)state;
	t = table_of(some, sizeof(some) / sizeof(some[0]));
	assert_int_equal(pricing_table_alias(t, "openai", "4o", "gpt-4o",
	    &why), 0);
	/* Before sealing, models are found but aliases not yet. */
	assert_non_null(pricing_table_find(t, "openai", "gpt-4o", PT_STANDARD,
	    NULL));
	assert_null(pricing_table_find(t, "openai", "4o", PT_STANDARD, NULL));
	assert_int_equal(pricing_table_seal(t, &why), 0);
	assert_non_null(pricing_table_find(t, "openai", "4o", PT_STANDARD,
	    NULL));
	assert_int_equal(pricing_table_count(t), 12);

	e = pricing_table_find(t, "openai", "gpt-4o", PT_BATCH, &tier);
	assert_non_null(e);
	assert_int_equal(e->tier, PT_BATCH);
	assert_int_equal(tier, PT_BATCH);
	assert_int_equal(e->base.pico[PM_INPUT], 1250000);
	e = pricing_table_find(t, "openai", "gpt-4o", PT_PRIORITY, &tier);
	assert_int_equal(tier, PT_PRIORITY);
	assert_int_equal(e->base.pico[PM_INPUT], 4250000);
	/* No flex price for gpt-4o: the standard one, and we are told. */
	e = pricing_table_find(t, "openai", "gpt-4o", PT_FLEX, &tier);
	assert_non_null(e);
	assert_int_equal(tier, PT_STANDARD);
	assert_int_equal(e->tier, PT_STANDARD);
	assert_non_null(pricing_table_find(t, "anthropic", "claude-haiku-4-5",
	    PT_BATCH, NULL));
	/* o3 has only a flex entry here: nothing for the other tiers. */
	tier = 99;
	assert_null(pricing_table_find(t, "openai", "o3", PT_STANDARD, &tier));
	assert_int_equal(tier, 99);
	assert_null(pricing_table_find(t, "openai", "o3", PT_BATCH, NULL));
	assert_non_null(pricing_table_find(t, "openai", "o3", PT_FLEX, NULL));
	/* Names are exact: provider, case, prefixes. */
	assert_null(pricing_table_find(t, "azure", "gpt-4o", PT_STANDARD, NULL));
	assert_null(pricing_table_find(t, "openai", "GPT-4o", PT_STANDARD, NULL));
	assert_null(pricing_table_find(t, "openai", "gpt-4", PT_STANDARD, NULL));
	assert_null(pricing_table_find(t, "openai", "gpt-4o", PT_COUNT, NULL));
	assert_null(pricing_table_find(t, "openai", "gpt-4o", -1, NULL));
	assert_null(pricing_table_find(t, NULL, "gpt-4o", PT_STANDARD, NULL));
	assert_non_null(pricing_table_entry(t, 11));
	assert_null(pricing_table_entry(t, 12));

	/* Sealed is read-only. */
	assert_int_equal(pricing_table_add(t, &E[DS_V4PRO], &why), -1);
	assert_int_equal(pricing_table_alias(t, "openai", "a", "gpt-4o", &why),
	    -1);
	assert_int_equal(pricing_table_discount(t, "openai", NULL, 1, &why),
	    -1);
	assert_int_equal(pricing_table_seal(t, &why), -1);
	pricing_table_free(t);
}

static void
test_table_duplicates(void **state)
{
	struct pricing_table	*t;
	struct pricing_entry	 e;
	const char		*why = NULL;

	(void)state;
	t = table_of(some, sizeof(some) / sizeof(some[0]));
	assert_int_equal(pricing_table_add(t, &E[GPT4O_BATCH], &why), -1);
	assert_non_null(strstr(why, "duplicate"));
	/* Another provider, or another tier, is another entry. */
	e = E[GPT4O];
	strcpy(e.provider, "azure");
	assert_int_equal(pricing_table_add(t, &e, &why), 0);
	e.tier = PT_FLEX;
	assert_int_equal(pricing_table_add(t, &e, &why), 0);
	e.base.pico[PM_INPUT] = -1;
	e.tier = PT_BATCH;
	assert_int_equal(pricing_table_add(t, &e, &why), -1);
	assert_int_equal(pricing_table_count(t), 14);
	assert_int_equal(pricing_table_seal(t, &why), 0);
	assert_int_equal(pricing_table_find(t, "azure", "gpt-4o", PT_FLEX,
	    NULL)->tier, PT_FLEX);
	pricing_table_free(t);
}

static void
test_table_aliases(void **state)
{
	struct pricing_table		*t;
	const struct pricing_entry	*e;
	const char			*why = NULL, *p, *a, *m;
	int				 tier;

	(void)state;
	t = table_of(some, sizeof(some) / sizeof(some[0]));
	assert_int_equal(pricing_table_alias(t, "openai", "gpt-4o-2024-08-06",
	    "gpt-4o", &why), 0);
	assert_int_equal(pricing_table_alias(t, "anthropic",
	    "claude-sonnet-4-5-20250929", "claude-sonnet-4-5", &why), 0);
	assert_int_equal(pricing_table_alias(t, "openai", "bad name", "gpt-4o",
	    &why), -1);
	assert_int_equal(pricing_table_seal(t, &why), 0);
	e = pricing_table_find(t, "openai", "gpt-4o-2024-08-06", PT_PRIORITY,
	    &tier);
	assert_non_null(e);
	assert_string_equal(e->model, "gpt-4o");
	assert_int_equal(tier, PT_PRIORITY);
	e = pricing_table_find(t, "openai", "gpt-4o-2024-08-06", PT_FLEX,
	    &tier);
	assert_int_equal(tier, PT_STANDARD);
	e = pricing_table_find(t, "anthropic", "claude-sonnet-4-5-20250929",
	    PT_STANDARD, NULL);
	assert_ptr_equal(e, pricing_table_find(t, "anthropic",
	    "claude-sonnet-4-5", PT_STANDARD, NULL));
	/* An alias is per provider. */
	assert_null(pricing_table_find(t, "anthropic", "gpt-4o-2024-08-06",
	    PT_STANDARD, NULL));
	assert_int_equal(pricing_table_alias_count(t), 2);
	pricing_table_alias_get(t, 1, &p, &a, &m);
	assert_string_equal(p, "anthropic");
	assert_string_equal(a, "claude-sonnet-4-5-20250929");
	assert_string_equal(m, "claude-sonnet-4-5");
	pricing_table_alias_get(t, 2, &p, &a, &m);
	assert_null(p);
	pricing_table_free(t);
}

static void
seal_bad(struct pricing_table *t, const char *want_why)
{
	const char	*why = NULL;
	int		 i;

	/* Twice: a failed seal leaves the table as it was, unsealed. */
	for (i = 0; i < 2; i++) {
		if (pricing_table_seal(t, &why) != -1)
			fail_msg("sealed, want \"%s\"", want_why);
		if (strstr(why, want_why) == NULL)
			fail_msg("seal: \"%s\", want \"%s\"", why, want_why);
		assert_non_null(pricing_table_find(t, "openai", "gpt-4o",
		    PT_STANDARD, NULL));
		assert_null(pricing_table_find(t, "openai", "4o", PT_STANDARD,
		    NULL));
	}
	assert_int_equal(pricing_table_add(t, &E[DS_V4PRO], &why), 0);
	pricing_table_free(t);
}

static void
test_table_seal_errors(void **state)
{
	struct pricing_table	*t;
	const size_t		 n = sizeof(some) / sizeof(some[0]);

	(void)state;
	t = table_of(some, n);
	assert_int_equal(pricing_table_alias(t, "openai", "gpt-5", "gpt-6",
	    NULL), 0);
	seal_bad(t, "alias names a model without entries");
	t = table_of(some, n);
	assert_int_equal(pricing_table_alias(t, "openai", "o3", "gpt-4o",
	    NULL), 0);
	seal_bad(t, "alias has the name of a model");
	t = table_of(some, n);
	assert_int_equal(pricing_table_alias(t, "openai", "4o", "gpt-4o",
	    NULL), 0);
	assert_int_equal(pricing_table_alias(t, "openai", "4o", "o3", NULL), 0);
	seal_bad(t, "duplicate alias");
	t = table_of(some, n);
	assert_int_equal(pricing_table_alias(t, "openai", "4o", "gpt-4o",
	    NULL), 0);
	assert_int_equal(pricing_table_alias(t, "openai", "four-o", "4o",
	    NULL), 0);
	seal_bad(t, "alias names another alias");
}

static void
test_table_discounts(void **state)
{
	struct pricing_table		*t;
	const struct pricing_entry	*e;
	struct pricing_usage		 u = U(I = 2000, O = 500);
	struct pricing_quote		 q;
	const char			*why = NULL, *p, *m;
	int32_t				 ppm;

	(void)state;
	t = table_of(some, sizeof(some) / sizeof(some[0]));
	assert_int_equal(pricing_table_discount(t, "anthropic",
	    "claude-haiku-4-5", 150000, &why), 0);
	assert_int_equal(pricing_table_discount(t, "anthropic", NULL, 100000,
	    &why), 0);
	assert_int_equal(pricing_table_discount(t, "anthropic", NULL, 5, &why),
	    -1);
	assert_int_equal(pricing_table_discount(t, "openai", NULL, 1000001,
	    &why), -1);
	assert_int_equal(pricing_table_discount(t, "openai", NULL, -1, &why),
	    -1);
	assert_int_equal(pricing_table_discount(t, "openai", "gpt-4o", 1000000,
	    &why), 0);
	/* Contracts outlive models: kept, pricing nothing, no error. */
	assert_int_equal(pricing_table_discount(t, "openai", "gpt-3.5-turbo",
	    500000, &why), 0);
	assert_int_equal(pricing_table_discount(t, "mistral", NULL, 1, &why),
	    0);
	assert_int_equal(pricing_table_seal(t, &why), 0);

	/* The model's discount beats the provider's, whatever the order. */
	e = pricing_table_find(t, "anthropic", "claude-haiku-4-5", PT_STANDARD,
	    NULL);
	assert_int_equal(e->discount_ppm, 150000);
	/* 2000 x 1e-06 = 0.002; 500 x 5e-06 = 0.0025; 0.0045, 15% off
	 * 0.003825 */
	must_cost(e, &u, PEAK, &q);
	assert_int_equal(q.list_nanos, 4500000);
	assert_int_equal(q.cost_nanos, 3825000);
	e = pricing_table_find(t, "anthropic", "claude-opus-4-1", PT_STANDARD,
	    NULL);
	assert_int_equal(e->discount_ppm, 100000);
	/* 2000 x 1.5e-05 = 0.03; 500 x 7.5e-05 = 0.0375; 0.0675, 10% off
	 * 0.06075 */
	must_cost(e, &u, PEAK, &q);
	assert_int_equal(q.list_nanos, 67500000);
	assert_int_equal(q.cost_nanos, 60750000);
	/* Every tier of the model; none of the other models. */
	assert_int_equal(pricing_table_find(t, "openai", "gpt-4o", PT_BATCH,
	    NULL)->discount_ppm, 1000000);
	assert_int_equal(pricing_table_find(t, "openai", "o3", PT_FLEX,
	    NULL)->discount_ppm, 0);
	assert_int_equal(pricing_table_find(t, "deepseek", "deepseek-chat",
	    PT_STANDARD, NULL)->discount_ppm, 0);

	assert_int_equal(pricing_table_discount_count(t), 5);
	pricing_table_discount_get(t, 1, &p, &m, &ppm);
	assert_string_equal(p, "anthropic");
	assert_null(m);
	assert_int_equal(ppm, 100000);
	pricing_table_discount_get(t, 0, &p, &m, &ppm);
	assert_string_equal(m, "claude-haiku-4-5");
	pricing_table_free(t);
}

/* Enough entries to grow every array and the index several times. */
static void
test_table_large(void **state)
{
	struct pricing_table		*t;
	struct pricing_entry		 e = E[GPT4O];
	const struct pricing_entry	*f;
	char				 name[32];
	const char			*why = NULL;
	int				 i;

	(void)state;
	assert_non_null(t = pricing_table_new());
	for (i = 0; i < 3000; i++) {
		snprintf(e.model, sizeof(e.model), "model-%d", i / 2);
		e.tier = i % 2 ? PT_BATCH : PT_STANDARD;
		e.base.pico[PM_INPUT] = i;
		assert_int_equal(pricing_table_add(t, &e, &why), 0);
		if (i % 3 == 0) {
			snprintf(name, sizeof(name), "alias-%d", i);
			assert_int_equal(pricing_table_alias(t, "openai", name,
			    e.model, &why), 0);
		}
	}
	assert_int_equal(pricing_table_seal(t, &why), 0);
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "model-%d", i / 2);
		f = pricing_table_find(t, "openai", name, i % 2 ? PT_BATCH :
		    PT_PRIORITY, NULL);
		assert_non_null(f);
		assert_int_equal(f->base.pico[PM_INPUT], i);
		if (i % 3 == 0) {
			snprintf(name, sizeof(name), "alias-%d", i);
			f = pricing_table_find(t, "openai", name, PT_STANDARD,
			    NULL);
			assert_int_equal(f->base.pico[PM_INPUT], i - i % 2);
		}
	}
	assert_null(pricing_table_find(t, "openai", "model-1500", PT_STANDARD,
	    NULL));
	pricing_table_free(t);
	/* Empty tables seal, and find nothing. */
	assert_non_null(t = pricing_table_new());
	assert_int_equal(pricing_table_seal(t, &why), 0);
	assert_null(pricing_table_find(t, "openai", "gpt-4o", 0, NULL));
	pricing_table_free(t);
	pricing_table_free(NULL);
}

static struct pricing_table *
sealed_with(int which)
{
	struct pricing_table	*t = table_of(&which, 1);

	assert_int_equal(pricing_table_seal(t, NULL), 0);
	return (t);
}

static void
test_book(void **state)
{
	struct pricing_book		*b;
	const struct pricing_table	*t;
	struct pricing_table		*unsealed;
	const char			*why = NULL;
	int64_t				 v1 = T_US(T0), v2 = T_US(T0 + 86400);
	int64_t				 id = -1;

	(void)state;
	assert_non_null(b = pricing_book_new());
	assert_null(pricing_book_at(b, v1, &id));
	assert_int_equal(pricing_book_add(b, 1, v1, sealed_with(GPT4O), &why),
	    0);
	assert_int_equal(pricing_book_add(b, 2, v2, sealed_with(HAIKU45),
	    &why), 0);
	/* Refused tables are freed all the same: ASan would see a leak. */
	unsealed = table_of((const int[]){ OPUS41 }, 1);
	assert_int_equal(pricing_book_add(b, 3, v2 + 1, unsealed, &why), -1);
	assert_non_null(strstr(why, "not sealed"));
	assert_int_equal(pricing_book_add(b, 3, v2, sealed_with(OPUS41), &why),
	    -1);
	assert_non_null(strstr(why, "ascending"));
	assert_int_equal(pricing_book_add(b, 2, v2 + 1, sealed_with(OPUS41),
	    &why), -1);
	assert_non_null(strstr(why, "duplicate"));
	assert_int_equal(pricing_book_add(b, 3, v2 + 1, NULL, &why), -1);
	assert_int_equal(pricing_book_count(b), 2);

	assert_null(pricing_book_at(b, v1 - 1, &id));
	assert_int_equal(id, -1);
	t = pricing_book_at(b, v1, &id);
	assert_int_equal(id, 1);
	assert_non_null(pricing_table_find(t, "openai", "gpt-4o", 0, NULL));
	assert_non_null(pricing_book_at(b, v2 - 1, &id));
	assert_int_equal(id, 1);
	/* Exactly at effective_from, the new version is in force. */
	t = pricing_book_at(b, v2, &id);
	assert_int_equal(id, 2);
	assert_null(pricing_table_find(t, "openai", "gpt-4o", 0, NULL));
	assert_non_null(pricing_book_at(b, INT64_MAX, NULL));
	assert_null(pricing_book_at(b, INT64_MIN, NULL));
	pricing_book_free(b);
	pricing_book_free(NULL);
}

/* Many versions: every instant finds the latest version not after it. */
static void
test_book_search(void **state)
{
	struct pricing_book	*b;
	uint64_t		 rng = 3;
	int64_t			 id, at;
	int			 i;

	(void)state;
	assert_non_null(b = pricing_book_new());
	for (i = 0; i < 100; i++)
		assert_int_equal(pricing_book_add(b, 1000 + i, T_US(i * 10),
		    sealed_with(DS_CHAT), NULL), 0);
	for (i = 0; i < 10000; i++) {
		at = (int64_t)(rng_next(&rng) % 1100) - 50;
		id = -1;
		if (at < 0) {
			assert_null(pricing_book_at(b, T_US(at), &id));
			continue;
		}
		assert_non_null(pricing_book_at(b, T_US(at), &id));
		assert_int_equal(id, 1000 + (at / 10 > 99 ? 99 : at / 10));
	}
	pricing_book_free(b);
}

/* ---- usage normalisation ---- */

static int64_t
meter_sum(const struct pricing_usage *u)
{
	int64_t	s = 0;
	int	m;

	for (m = 0; m < PM_COUNT; m++) {
		assert_true(u->q[m] >= 0);
		s += u->q[m];
	}
	return (s);
}

static void
usage_is(const struct pricing_usage *u, const struct pricing_usage *want)
{
	int	m;

	for (m = 0; m < PM_COUNT; m++) {
		if (u->q[m] != want->q[m])
			fail_msg("meter %s: %lld, want %lld",
			    pricing_meter_name(m), (long long)u->q[m],
			    (long long)want->q[m]);
	}
}

static void
test_normalize_openai(void **state)
{
	struct pricing_openai_usage	in, bad;
	struct pricing_usage		u, want;
	const char			*why = NULL;
	uint64_t			rng = 11;
	int64_t				*f;
	int				i;

	(void)state;
	/* o3-style: 1000 of 1200 prompt tokens cached, 300 of 500 reasoning. */
	in = (struct pricing_openai_usage){ .prompt_tokens = 1200,
	    .completion_tokens = 500, .cached_tokens = 1000,
	    .reasoning_tokens = 300 };
	assert_int_equal(pricing_normalize_openai(&in, &u, &why), 0);
	want = (struct pricing_usage)U(I = 200, C = 1000, O = 200, R = 300);
	usage_is(&u, &want);
	assert_int_equal(meter_sum(&u), 1200 + 500);

	/* gpt-4o-audio-preview: audio in both directions. */
	in = (struct pricing_openai_usage){ .prompt_tokens = 812,
	    .completion_tokens = 402, .cached_tokens = 0,
	    .audio_prompt_tokens = 600, .audio_completion_tokens = 350 };
	assert_int_equal(pricing_normalize_openai(&in, &u, &why), 0);
	want = (struct pricing_usage)U(I = 212, AI = 600, O = 52, AO = 350);
	usage_is(&u, &want);

	/* Parts larger than their whole, and negatives, are refused. */
	in = (struct pricing_openai_usage){ .prompt_tokens = 1200,
	    .completion_tokens = 500, .cached_tokens = 1000,
	    .audio_prompt_tokens = 200, .reasoning_tokens = 300,
	    .audio_completion_tokens = 200 };
	assert_int_equal(pricing_normalize_openai(&in, &u, &why), 0);
	assert_int_equal(u.q[PM_INPUT], 0);
	assert_int_equal(u.q[PM_OUTPUT], 0);
	bad = in;
	bad.cached_tokens++;
	assert_int_equal(pricing_normalize_openai(&bad, &u, &why), -1);
	bad = in;
	bad.audio_completion_tokens++;
	assert_int_equal(pricing_normalize_openai(&bad, &u, &why), -1);
	bad = in;
	bad.cached_tokens = 1201;
	bad.audio_prompt_tokens = 0;
	assert_int_equal(pricing_normalize_openai(&bad, &u, &why), -1);
	bad = in;
	bad.reasoning_tokens = 501;
	bad.audio_completion_tokens = 0;
	assert_int_equal(pricing_normalize_openai(&bad, &u, &why), -1);
	for (f = &bad.prompt_tokens; f <= &bad.audio_completion_tokens; f++) {
		bad = in;
		*f = -1;
		assert_int_equal(pricing_normalize_openai(&bad, &u, &why), -1);
		assert_non_null(strstr(why, "negative"));
	}

	/* Every token in exactly one meter. */
	for (i = 0; i < 10000; i++) {
		in.prompt_tokens = (int64_t)(rng_next(&rng) % 1000000);
		in.cached_tokens = (int64_t)(rng_next(&rng) %
		    (uint64_t)(in.prompt_tokens + 1));
		in.audio_prompt_tokens = (int64_t)(rng_next(&rng) %
		    (uint64_t)(in.prompt_tokens - in.cached_tokens + 1));
		in.completion_tokens = (int64_t)(rng_next(&rng) % 100000);
		in.reasoning_tokens = (int64_t)(rng_next(&rng) %
		    (uint64_t)(in.completion_tokens + 1));
		in.audio_completion_tokens = (int64_t)(rng_next(&rng) %
		    (uint64_t)(in.completion_tokens - in.reasoning_tokens + 1));
		assert_int_equal(pricing_normalize_openai(&in, &u, &why), 0);
		assert_int_equal(meter_sum(&u), in.prompt_tokens +
		    in.completion_tokens);
		assert_int_equal(u.q[PM_REQUEST], 0);
	}
}

static void
test_normalize_anthropic(void **state)
{
	struct pricing_anthropic_usage	in, bad;
	struct pricing_usage		u, want;
	const char			*why = NULL;
	int64_t				*f;

	(void)state;
	/* A cached conversation turn writing the 1h cache. */
	in = (struct pricing_anthropic_usage){ .input_tokens = 12,
	    .output_tokens = 800, .cache_read_input_tokens = 50000,
	    .cache_creation_input_tokens = 2000, .has_cache_creation = 1,
	    .ephemeral_5m_input_tokens = 0, .ephemeral_1h_input_tokens = 2000 };
	assert_int_equal(pricing_normalize_anthropic(&in, &u, &why), 0);
	want = (struct pricing_usage)U(I = 12, C = 50000, W1 = 2000, O = 800);
	usage_is(&u, &want);
	assert_int_equal(meter_sum(&u), 12 + 800 + 50000 + 2000);

	/* Both caches written. */
	in.ephemeral_5m_input_tokens = 500;
	in.ephemeral_1h_input_tokens = 1500;
	assert_int_equal(pricing_normalize_anthropic(&in, &u, &why), 0);
	want = (struct pricing_usage)U(I = 12, C = 50000, W5 = 500, W1 = 1500,
	    O = 800);
	usage_is(&u, &want);
	/* The breakdown must add up to the total... */
	bad = in;
	bad.ephemeral_1h_input_tokens = 1499;
	assert_int_equal(pricing_normalize_anthropic(&bad, &u, &why), -1);
	assert_non_null(strstr(why, "cache_creation"));
	bad.ephemeral_1h_input_tokens = 1501;
	assert_int_equal(pricing_normalize_anthropic(&bad, &u, &why), -1);
	bad.ephemeral_5m_input_tokens = INT64_MAX;
	assert_int_equal(pricing_normalize_anthropic(&bad, &u, &why), -1);
	/* ...when there is one. */
	bad = in;
	bad.cache_creation_input_tokens = 0;
	assert_int_equal(pricing_normalize_anthropic(&bad, &u, &why), 0);
	assert_int_equal(u.q[PM_CACHE_WRITE_5M], 500);
	assert_int_equal(u.q[PM_CACHE_WRITE_1H], 1500);

	/* Without the breakdown, writes are 5-minute writes. */
	in.has_cache_creation = 0;
	assert_int_equal(pricing_normalize_anthropic(&in, &u, &why), 0);
	want = (struct pricing_usage)U(I = 12, C = 50000, W5 = 2000, O = 800);
	usage_is(&u, &want);

	for (f = &bad.input_tokens; f <= &bad.cache_creation_input_tokens;
	    f++) {
		bad = in;
		*f = -1;
		assert_int_equal(pricing_normalize_anthropic(&bad, &u, &why),
		    -1);
	}
	bad = in;
	bad.ephemeral_5m_input_tokens = -1;
	assert_int_equal(pricing_normalize_anthropic(&bad, &u, &why), -1);
	bad = in;
	bad.ephemeral_1h_input_tokens = -1;
	assert_int_equal(pricing_normalize_anthropic(&bad, &u, &why), -1);
}

static void
test_normalize_gemini(void **state)
{
	struct pricing_gemini_usage	in, bad;
	struct pricing_usage		u, want;
	const char			*why = NULL;
	uint64_t			rng = 13;
	int64_t				*f;
	int				i;

	(void)state;
	/* 5000 prompt tokens, 3000 from the cache, 700 audio of which 200
	 * cached; 150 tool-use prompt tokens; 400 out, 1200 thoughts. */
	in = (struct pricing_gemini_usage){ .prompt_token_count = 5000,
	    .cached_content_token_count = 3000, .candidates_token_count = 400,
	    .thoughts_token_count = 1200, .tool_use_prompt_token_count = 150,
	    .audio_prompt_tokens = 700, .audio_cached_tokens = 200 };
	assert_int_equal(pricing_normalize_gemini(&in, &u, &why), 0);
	want = (struct pricing_usage)U(I = 1650, C = 3000, AI = 500, O = 400,
	    R = 1200);
	usage_is(&u, &want);
	assert_int_equal(meter_sum(&u), 5000 + 150 + 400 + 1200);

	bad = in;
	bad.cached_content_token_count = 5001;
	assert_int_equal(pricing_normalize_gemini(&bad, &u, &why), -1);
	bad = in;
	bad.audio_cached_tokens = 701;
	assert_int_equal(pricing_normalize_gemini(&bad, &u, &why), -1);
	bad = in;
	bad.cached_content_token_count = 100;
	assert_int_equal(pricing_normalize_gemini(&bad, &u, &why), -1);
	/* 2500 uncached audio tokens in a 2000-token uncached prompt. */
	bad = in;
	bad.audio_prompt_tokens = 2700;
	assert_int_equal(pricing_normalize_gemini(&bad, &u, &why), -1);
	bad.audio_prompt_tokens = 2200;
	assert_int_equal(pricing_normalize_gemini(&bad, &u, &why), 0);
	assert_int_equal(u.q[PM_INPUT], 150);
	/* 1500 uncached text tokens + INT64_MAX tool-use tokens. */
	bad = in;
	bad.tool_use_prompt_token_count = INT64_MAX;
	assert_int_equal(pricing_normalize_gemini(&bad, &u, &why), -1);
	for (f = &bad.prompt_token_count; f <= &bad.audio_cached_tokens; f++) {
		bad = in;
		*f = -1;
		assert_int_equal(pricing_normalize_gemini(&bad, &u, &why), -1);
	}

	for (i = 0; i < 10000; i++) {
		in.prompt_token_count = (int64_t)(rng_next(&rng) % 2000000);
		in.cached_content_token_count = (int64_t)(rng_next(&rng) %
		    (uint64_t)(in.prompt_token_count + 1));
		in.audio_cached_tokens = (int64_t)(rng_next(&rng) %
		    (uint64_t)(in.cached_content_token_count + 1));
		in.audio_prompt_tokens = in.audio_cached_tokens +
		    (int64_t)(rng_next(&rng) % (uint64_t)(in.prompt_token_count -
		    in.cached_content_token_count + 1));
		in.tool_use_prompt_token_count = (int64_t)(rng_next(&rng) %
		    1000);
		in.candidates_token_count = (int64_t)(rng_next(&rng) % 65536);
		in.thoughts_token_count = (int64_t)(rng_next(&rng) % 65536);
		assert_int_equal(pricing_normalize_gemini(&in, &u, &why), 0);
		assert_int_equal(meter_sum(&u), in.prompt_token_count +
		    in.tool_use_prompt_token_count + in.candidates_token_count +
		    in.thoughts_token_count);
	}
}

static void
test_names(void **state)
{
	static const char *const units[PM_COUNT] = {
		"Tokens", "Tokens", "Tokens", "Tokens", "Tokens", "Tokens",
		"Tokens", "Tokens", "Images", "Images", "Tokens", "Tokens",
		"Requests", "Seconds"
	};
	static const char *const names[PM_COUNT] = {
		"input", "cached_input", "cache_write_5m", "cache_write_1h",
		"output", "reasoning", "audio_input", "audio_output",
		"image_input", "image_output", "image_input_token",
		"image_output_token", "request", "second"
	};
	int	m;

	(void)state;
	for (m = 0; m < PM_COUNT; m++) {
		assert_string_equal(pricing_meter_name(m), names[m]);
		assert_int_equal(pricing_meter_parse(names[m]), m);
		assert_string_equal(pricing_meter_unit(m), units[m]);
	}
	assert_null(pricing_meter_name(PM_COUNT));
	assert_null(pricing_meter_name(-1));
	assert_null(pricing_meter_unit(PM_COUNT));
	assert_int_equal(pricing_meter_parse("Input"), -1);
	assert_int_equal(pricing_meter_parse("inputs"), -1);
	assert_int_equal(pricing_meter_parse(""), -1);
	assert_int_equal(pricing_meter_parse(NULL), -1);
	assert_string_equal(pricing_tier_name(PT_STANDARD), "standard");
	assert_string_equal(pricing_tier_name(PT_BATCH), "batch");
	assert_string_equal(pricing_tier_name(PT_FLEX), "flex");
	assert_string_equal(pricing_tier_name(PT_PRIORITY), "priority");
	assert_null(pricing_tier_name(PT_COUNT));
	assert_int_equal(pricing_tier_parse("priority"), PT_PRIORITY);
	assert_int_equal(pricing_tier_parse("default"), -1);
	assert_int_equal(pricing_tier_parse(NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cost_cases),
		cmocka_unit_test(test_cost_cases_cover_meters),
		cmocka_unit_test(test_context_tier_boundary),
		cmocka_unit_test(test_context_tier_choice),
		cmocka_unit_test(test_tiers_batch_priority),
		cmocka_unit_test(test_cache_write_5m_1h),
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_unpriced_refused),
		cmocka_unit_test(test_quantity_limits),
		cmocka_unit_test(test_rounding_ties),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_cost_bad_entry),
		cmocka_unit_test(test_cost_extremes),
		cmocka_unit_test(test_prop_monotonic),
		cmocka_unit_test(test_parse_price),
		cmocka_unit_test(test_format_price),
		cmocka_unit_test(test_parse_price_rounding_prop),
		cmocka_unit_test(test_entry_check),
		cmocka_unit_test(test_table_find),
		cmocka_unit_test(test_table_duplicates),
		cmocka_unit_test(test_table_aliases),
		cmocka_unit_test(test_table_seal_errors),
		cmocka_unit_test(test_table_discounts),
		cmocka_unit_test(test_table_large),
		cmocka_unit_test(test_book),
		cmocka_unit_test(test_book_search),
		cmocka_unit_test(test_normalize_openai),
		cmocka_unit_test(test_normalize_anthropic),
		cmocka_unit_test(test_normalize_gemini),
	};

	return (cmocka_run_group_tests(tests, setup_entries, NULL));
}
