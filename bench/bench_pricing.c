/*
 * bench_pricing.c - how long pricing one usage event takes.
 *
 * Every event the server records is looked up in the price table and
 * priced, so this is on the hot path of ingestion. The table is about the
 * size of a real price list (~220 entries, names like LiteLLM's), the
 * lookups rotate over all of its models so the hash index is exercised
 * rather than one cached slot, and each event has the four meters of a
 * typical reasoning-model call. The costs go to a volatile sink so that
 * the compiler cannot drop the work.
 *
 *   gcc -std=c11 -D_GNU_SOURCE -I. -O2 bench/bench_pricing.c \
 *       pricing/pricing.c pricing/table.c pricing/normalize.c \
 *       ledger/ledger.c -o /tmp/bp && /tmp/bp
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pricing/pricing.h"

#define BENCH_EVENTS	5000000L

struct bench_family {
	const char	*provider;
	const char	*model;
	int64_t		 in, cached, out;	/* pico per token */
	int64_t		 above;			/* long context, or 0 */
};

/* Real families and list prices; the suffixes below make the versions. */
static const struct bench_family bench_families[] = {
	{ "openai", "gpt-4o", 2500000, 1250000, 10000000, 0 },
	{ "openai", "gpt-4o-mini", 150000, 75000, 600000, 0 },
	{ "openai", "gpt-4.1", 2000000, 500000, 8000000, 0 },
	{ "openai", "gpt-4.1-mini", 400000, 100000, 1600000, 0 },
	{ "openai", "gpt-4.1-nano", 100000, 25000, 400000, 0 },
	{ "openai", "gpt-5", 1250000, 125000, 10000000, 0 },
	{ "openai", "gpt-5-mini", 250000, 25000, 2000000, 0 },
	{ "openai", "gpt-5-nano", 50000, 5000, 400000, 0 },
	{ "openai", "gpt-5.1", 1250000, 125000, 10000000, 0 },
	{ "openai", "gpt-5.2", 1750000, 175000, 14000000, 0 },
	{ "openai", "gpt-5.4", 2500000, 250000, 15000000, 272000 },
	{ "openai", "gpt-5.4-mini", 750000, 75000, 4500000, 0 },
	{ "openai", "gpt-5.5", 5000000, 500000, 30000000, 272000 },
	{ "openai", "o3", 2000000, 500000, 8000000, 0 },
	{ "openai", "o3-mini", 1100000, 550000, 4400000, 0 },
	{ "openai", "o4-mini", 1100000, 275000, 4400000, 0 },
	{ "openai", "gpt-realtime", 4000000, 400000, 16000000, 0 },
	{ "openai", "gpt-audio", 2500000, 0, 10000000, 0 },
	{ "anthropic", "claude-opus-4-1", 15000000, 1500000, 75000000, 0 },
	{ "anthropic", "claude-opus-4-5", 5000000, 500000, 25000000, 0 },
	{ "anthropic", "claude-opus-4-6", 5000000, 500000, 25000000, 200000 },
	{ "anthropic", "claude-sonnet-4", 3000000, 300000, 15000000, 200000 },
	{ "anthropic", "claude-sonnet-4-5", 3000000, 300000, 15000000,
	    200000 },
	{ "anthropic", "claude-sonnet-4-6", 3000000, 300000, 15000000,
	    200000 },
	{ "anthropic", "claude-haiku-4-5", 1000000, 100000, 5000000, 0 },
	{ "anthropic", "claude-3-7-sonnet", 3000000, 300000, 15000000, 0 },
	{ "anthropic", "claude-3-haiku", 250000, 30000, 1250000, 0 },
	{ "gemini", "gemini-2.5-pro", 1250000, 125000, 10000000, 200000 },
	{ "gemini", "gemini-2.5-flash", 300000, 30000, 2500000, 0 },
	{ "gemini", "gemini-2.5-flash-lite", 100000, 10000, 400000, 0 },
	{ "gemini", "gemini-2.0-flash", 100000, 25000, 400000, 0 },
	{ "gemini", "gemini-2.0-flash-lite", 75000, 18750, 300000, 0 },
	{ "gemini", "gemini-3-pro-preview", 2000000, 200000, 12000000,
	    200000 },
	{ "gemini", "gemini-3-flash", 500000, 50000, 3000000, 0 },
	{ "gemini", "gemini-3.1-pro-preview", 2000000, 200000, 12000000,
	    200000 },
	{ "gemini", "gemini-3.1-flash-lite", 250000, 25000, 1500000, 0 },
	{ "deepseek", "deepseek-chat", 280000, 28000, 420000, 0 },
	{ "deepseek", "deepseek-reasoner", 280000, 28000, 420000, 0 },
	{ "deepseek", "deepseek-v4-flash", 140000, 2800, 280000, 0 },
	{ "deepseek", "deepseek-v4-pro", 435000, 3625, 870000, 0 },
	{ "xai", "grok-4.3", 3000000, 750000, 15000000, 0 },
	{ "xai", "grok-4.5", 3000000, 750000, 15000000, 0 },
	{ "moonshot", "kimi-k2.6", 600000, 150000, 2500000, 0 },
	{ "zhipu", "glm-5.1", 600000, 110000, 2200000, 0 },
};

static const char *const bench_suffixes[] = {
	"", "-2025-08-07", "-latest", "-2026-03-05"
};

#define BENCH_NFAM	(sizeof(bench_families) / sizeof(bench_families[0]))
#define BENCH_NSUF	(sizeof(bench_suffixes) / sizeof(bench_suffixes[0]))
#define BENCH_NNAMES	(BENCH_NFAM * BENCH_NSUF)

struct bench_name {
	const char	*provider;
	char		 model[PRICING_MODEL_MAX + 1];
};

static struct bench_name	bench_names[BENCH_NNAMES];

static void
bench_die(const char *what, const char *why)
{
	fprintf(stderr, "bench_pricing: %s: %s\n", what, why);
	exit(1);
}

static int
bench_tz(const char *tz, int64_t utc_us, int *offset_s, void *arg)
{
	(void)tz;
	(void)utc_us;
	(void)arg;
	*offset_s = 8 * 3600;
	return (0);
}

static void
bench_rate(struct pricing_rates *r, int m, int64_t pico)
{
	r->pico[m] = pico;
	r->has |= 1U << m;
}

static struct pricing_table *
bench_table(void)
{
	const struct bench_family	*f;
	struct pricing_table		*t;
	struct pricing_entry		 e;
	struct pricing_rates		*r;
	const char			*why;
	size_t				 i, j, n = 0;

	if ((t = pricing_table_new()) == NULL)
		bench_die("table", "out of memory");
	for (i = 0; i < BENCH_NFAM; i++) {
		f = &bench_families[i];
		for (j = 0; j < BENCH_NSUF; j++, n++) {
			memset(&e, 0, sizeof(e));
			snprintf(e.provider, sizeof(e.provider), "%s",
			    f->provider);
			snprintf(e.model, sizeof(e.model), "%s%s", f->model,
			    bench_suffixes[j]);
			bench_names[n].provider = f->provider;
			memcpy(bench_names[n].model, e.model,
			    sizeof(e.model));
			bench_rate(&e.base, PM_INPUT, f->in);
			bench_rate(&e.base, PM_CACHED_INPUT, f->cached);
			bench_rate(&e.base, PM_OUTPUT, f->out);
			if (f->above != 0) {
				r = &e.context[e.n_context++].rates;
				e.context[0].above = f->above;
				bench_rate(r, PM_INPUT, f->in * 2);
				bench_rate(r, PM_OUTPUT, f->out * 3 / 2);
			}
			if (strcmp(f->provider, "deepseek") == 0) {
				e.n_windows = 1;
				strcpy(e.windows[0].time_zone, "Asia/Shanghai");
				e.windows[0].start_min = 30;
				e.windows[0].end_min = 510;
				bench_rate(&e.windows[0].rates, PM_INPUT,
				    f->in / 2);
			}
			if (pricing_table_add(t, &e, &why) != 0)
				bench_die(e.model, why);
			/* One in four also has a batch price: 220 in all. */
			if (n % 4 == 0) {
				e.tier = PT_BATCH;
				e.base.pico[PM_INPUT] /= 2;
				e.base.pico[PM_OUTPUT] /= 2;
				if (pricing_table_add(t, &e, &why) != 0)
					bench_die(e.model, why);
			}
		}
	}
	if (pricing_table_discount(t, "anthropic", NULL, 150000, &why) != 0 ||
	    pricing_table_alias(t, "openai", "chatgpt-4o-latest", "gpt-4o",
	    &why) != 0 || pricing_table_seal(t, &why) != 0)
		bench_die("seal", why);
	return (t);
}

static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e9 + (double)ts.tv_nsec);
}

int
main(void)
{
	static volatile int64_t		 sink;
	struct pricing_table		*t;
	const struct pricing_entry	*e;
	struct pricing_usage		 u;
	struct pricing_quote		 q;
	const char			*why;
	const struct bench_name		*nm;
	int64_t				 at = 1768435200LL * 1000000, acc = 0;
	double				 t0, t1;
	long				 i;
	int				 tier;

	t = bench_table();
	/* A typical reasoning call: prompt mostly cached, some reasoning. */
	memset(&u, 0, sizeof(u));
	u.q[PM_INPUT] = 1200;
	u.q[PM_CACHED_INPUT] = 3000;
	u.q[PM_OUTPUT] = 350;
	u.q[PM_REASONING] = 900;

	t0 = bench_now();
	for (i = 0; i < BENCH_EVENTS; i++) {
		/* A stride coprime to the count visits every name in turn. */
		nm = &bench_names[(size_t)(i * 7) % BENCH_NNAMES];
		e = pricing_table_find(t, nm->provider, nm->model,
		    (int)(i & 1) ? PT_BATCH : PT_STANDARD, &tier);
		if (e == NULL)
			bench_die(nm->model, "not found");
		u.q[PM_INPUT] = 1200 + (i & 1023);
		if (pricing_cost(e, &u, at + i * 1000000, bench_tz, NULL, &q,
		    &why) != 0)
			bench_die(nm->model, why);
		acc += q.cost_nanos;
	}
	t1 = bench_now();
	sink = acc;
	printf("pricing: %.1f ns per priced event (find + cost), %ld events\n",
	    (t1 - t0) / BENCH_EVENTS, BENCH_EVENTS);

	/* The engine alone, on one Anthropic entry with a context tier. */
	e = pricing_table_find(t, "anthropic", "claude-sonnet-4-5",
	    PT_STANDARD, NULL);
	acc = 0;
	t0 = bench_now();
	for (i = 0; i < BENCH_EVENTS; i++) {
		u.q[PM_INPUT] = 1200 + (i & 1023);
		if (pricing_cost(e, &u, at, NULL, NULL, &q, &why) != 0)
			bench_die(e->model, why);
		acc += q.cost_nanos;
	}
	t1 = bench_now();
	sink += acc;
	printf("pricing: %.1f ns per priced event (cost alone), %ld events\n",
	    (t1 - t0) / BENCH_EVENTS, BENCH_EVENTS);
	printf("pricing: %zu entries, checksum %lld\n", pricing_table_count(t),
	    (long long)sink);
	pricing_table_free(t);
	return (0);
}
