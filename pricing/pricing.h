/*
 * pricing.h - price tables and the cost engine: pure C, no I/O.
 *
 * Prices are int64_t pico-units (1e-12 of the currency) per unit of a
 * meter. A meter's cost is quantity x price, computed in 128 bits and
 * rounded once, half to even, to nano-units; an event's cost is the sum of
 * its meters' costs, so per-meter reports add up to the ledger exactly.
 *
 * A price table is one version's entries (provider + model + service tier),
 * model aliases and negotiated discounts, indexed for O(1) lookup once
 * sealed. A price book holds every version by effective_from, so that an
 * event is priced with the version in force at its occurred_at.
 *
 * Time-of-day windows are in named time zones; finding a zone's UTC offset
 * needs the tz database, which is I/O, so the caller supplies it as a
 * function (pricing_tz_fn).
 *
 * Functions that can fail return 0 or -1 and set *why to a static message.
 */
#ifndef TOLLGATE_PRICING_H
#define TOLLGATE_PRICING_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define PRICING_MUSTCHECK __attribute__((warn_unused_result))
#else
#define PRICING_MUSTCHECK
#endif

/* Meters; wire names in pricing_meter_name(). Each token is in one meter. */
enum pricing_meter {
	PM_INPUT,		/* "input": uncached input tokens */
	PM_CACHED_INPUT,	/* "cached_input": cache reads */
	PM_CACHE_WRITE_5M,	/* "cache_write_5m" */
	PM_CACHE_WRITE_1H,	/* "cache_write_1h" */
	PM_OUTPUT,		/* "output": output tokens, reasoning excluded */
	PM_REASONING,		/* "reasoning" */
	PM_AUDIO_INPUT,		/* "audio_input": tokens */
	PM_AUDIO_OUTPUT,	/* "audio_output": tokens */
	PM_IMAGE_INPUT,		/* "image_input": images */
	PM_IMAGE_OUTPUT,	/* "image_output": images */
	PM_IMAGE_INPUT_TOKEN,	/* "image_input_token": tokens */
	PM_IMAGE_OUTPUT_TOKEN,	/* "image_output_token": tokens */
	PM_REQUEST,		/* "request": requests */
	PM_SECOND,		/* "second": seconds */
	PM_COUNT
};

enum pricing_tier { PT_STANDARD, PT_BATCH, PT_FLEX, PT_PRIORITY, PT_COUNT };

#define PRICING_PROVIDER_MAX 64		/* bytes, NUL excluded */
#define PRICING_MODEL_MAX 128
#define PRICING_TZ_MAX 64
#define PRICING_MAX_CONTEXT_TIERS 4
#define PRICING_MAX_WINDOWS 4
/* Largest quantity of any meter in one event: 2^40. */
#define PRICING_QUANTITY_MAX (1LL << 40)
/* Largest price: 1000 units per unit, in pico-units. */
#define PRICING_PRICE_MAX 1000000000000000LL
/* Longest formatted unit price: "1000.000000000000" and NUL, with room. */
#define PRICING_PRICE_BUFSZ 40

/* NULL for a meter out of range, as for the other name functions. */
const char *pricing_meter_name(int meter);
/* -1 when unknown. */
int pricing_meter_parse(const char *name);
/* FOCUS-style consumed unit of a meter: "Tokens", "Images", "Requests",
 * "Seconds". */
const char *pricing_meter_unit(int meter);
const char *pricing_tier_name(int tier);
int pricing_tier_parse(const char *name);

/* Per-unit prices; bit m of `has` says pico[m] is a price (0 is a price). */
struct pricing_rates {
	int64_t pico[PM_COUNT];
	uint32_t has;
};

/* A long-context tier: when the prompt (input + cached_input +
 * cache_write_5m + cache_write_1h) is strictly above `above` tokens, the
 * tier's prices replace the base prices for every meter it prices. */
struct pricing_context_tier {
	int64_t above;
	struct pricing_rates rates;
};

/* A time-of-day window [start_min, end_min) in minutes after local
 * midnight in time_zone; start_min > end_min wraps past midnight. While it
 * applies, its prices replace those of the base (or context tier). */
struct pricing_window {
	char time_zone[PRICING_TZ_MAX + 1];
	int start_min, end_min;
	struct pricing_rates rates;
};

struct pricing_entry {
	char provider[PRICING_PROVIDER_MAX + 1];
	char model[PRICING_MODEL_MAX + 1];
	int tier;				/* enum pricing_tier */
	struct pricing_rates base;
	int n_context;				/* ascending by `above` */
	struct pricing_context_tier context[PRICING_MAX_CONTEXT_TIERS];
	int n_windows;
	struct pricing_window windows[PRICING_MAX_WINDOWS];
	int64_t max_input_tokens;		/* 0 when unknown */
	int64_t max_output_tokens;		/* 0 when unknown */
	int32_t discount_ppm;			/* set by pricing_table_seal() */
};

/* Quantities per meter, each 0..PRICING_QUANTITY_MAX. */
struct pricing_usage {
	int64_t q[PM_COUNT];
};

struct pricing_line {
	int meter;
	int priced_as;		/* the meter whose price was used (fallback) */
	int64_t quantity;
	int64_t unit_pico;	/* list price per unit */
	int64_t list_nanos;	/* quantity x unit, rounded half to even */
	int64_t cost_nanos;	/* after the negotiated discount, rounded once */
};

struct pricing_quote {
	int n;			/* lines, in meter order; quantity > 0 only */
	struct pricing_line lines[PM_COUNT];
	int64_t list_nanos;	/* sum of the lines */
	int64_t cost_nanos;
	int context_tier;	/* index into entry->context, or -1 */
	int window;		/* index into entry->windows, or -1 */
};

/*
 * The UTC offset in seconds of time zone tz at the instant utc_us
 * (microseconds since the epoch); 0 on success, -1 for an unknown zone.
 */
typedef int (*pricing_tz_fn)(const char *tz, int64_t utc_us, int *offset_s,
    void *arg);

/*
 * Price usage u with entry e at occurred_us. Fallbacks when a meter with a
 * quantity has no price: reasoning -> output; cached_input -> input;
 * cache_write_5m -> input; cache_write_1h -> cache_write_5m -> input;
 * image_input_token -> input; image_output_token -> output; request and
 * second -> no charge. Any other priced-less meter with a quantity fails
 * ("no price for meter ..."): a usage is never priced at zero by accident.
 * tzfn may be NULL when the entry has no windows.
 */
int pricing_cost(const struct pricing_entry *e, const struct pricing_usage *u,
    int64_t occurred_us, pricing_tz_fn tzfn, void *tzarg,
    struct pricing_quote *out, const char **why) PRICING_MUSTCHECK;

/*
 * Parse a non-negative decimal price per unit ("0.0000025", "2.5e-06";
 * exponents allowed) into pico-units, rounding half to even. *rounded is set
 * to 1 when the value was not a whole number of pico-units (and then also
 * when a non-zero price rounded to 0). Refuses negatives, non-numbers,
 * values above PRICING_PRICE_MAX.
 */
int pricing_parse_price(const char *s, size_t len, int64_t *pico,
    int *rounded, const char **why) PRICING_MUSTCHECK;

/* Pico-units as a decimal string with 9 to 12 fractional digits
 * ("0.000002500", "0.000000000125"). Returns the length. buf holds
 * PRICING_PRICE_BUFSZ bytes; a negative value is printed with a '-'. */
size_t pricing_format_price(int64_t pico, char *buf);

/* Check one entry on its own: names, prices in range, context tiers
 * strictly ascending, windows valid. */
int pricing_entry_check(const struct pricing_entry *e, const char **why)
    PRICING_MUSTCHECK;

struct pricing_table;

struct pricing_table *pricing_table_new(void);
void pricing_table_free(struct pricing_table *t);
/* Add a copy of e (checked); a second entry for the same provider, model
 * and tier is refused. */
int pricing_table_add(struct pricing_table *t, const struct pricing_entry *e,
    const char **why) PRICING_MUSTCHECK;
/* provider/alias names provider/model (which must exist at seal time). */
int pricing_table_alias(struct pricing_table *t, const char *provider,
    const char *alias, const char *model, const char **why) PRICING_MUSTCHECK;
/* A discount in parts per million off list, for a provider (model NULL) or
 * one model; the model's beats the provider's. 0 <= ppm <= 1000000. A
 * second discount for the same provider and model is refused; one that
 * matches no entry is kept and prices nothing. */
int pricing_table_discount(struct pricing_table *t, const char *provider,
    const char *model, int32_t ppm, const char **why) PRICING_MUSTCHECK;
/* Build the index and apply discounts; after this the table is read-only.
 * On failure the table is left unsealed, as it was. */
int pricing_table_seal(struct pricing_table *t, const char **why)
    PRICING_MUSTCHECK;

/*
 * The entry for provider + model (an alias is resolved) + tier; when the
 * model has no entry for that tier, its standard entry, and *priced_tier
 * tells which tier was used. NULL when the model has no price at all, or
 * none for that tier nor standard (a model priced only for flex, asked for
 * batch). Before the table is sealed, aliases are not resolved yet.
 */
const struct pricing_entry *pricing_table_find(const struct pricing_table *t,
    const char *provider, const char *model, int tier, int *priced_tier);

size_t pricing_table_count(const struct pricing_table *t);
const struct pricing_entry *pricing_table_entry(const struct pricing_table *t,
    size_t i);
size_t pricing_table_alias_count(const struct pricing_table *t);
/* The i-th alias: its provider, alias and model names. */
void pricing_table_alias_get(const struct pricing_table *t, size_t i,
    const char **provider, const char **alias, const char **model);
size_t pricing_table_discount_count(const struct pricing_table *t);
void pricing_table_discount_get(const struct pricing_table *t, size_t i,
    const char **provider, const char **model, int32_t *ppm);

/* Every version, by effective_from. */
struct pricing_book;

struct pricing_book *pricing_book_new(void);
void pricing_book_free(struct pricing_book *b);
/* Takes ownership of the sealed table t on every path. Versions must be
 * added in strictly ascending effective_from order, with distinct ids. */
int pricing_book_add(struct pricing_book *b, int64_t version_id,
    int64_t effective_from_us, struct pricing_table *t, const char **why)
    PRICING_MUSTCHECK;
/* The table in force at at_us (the latest effective_from <= at_us), or
 * NULL before the first version. */
const struct pricing_table *pricing_book_at(const struct pricing_book *b,
    int64_t at_us, int64_t *version_id);
size_t pricing_book_count(const struct pricing_book *b);
/* The i-th version by effective_from (0 is the oldest); NULL past the end. */
const struct pricing_table *pricing_book_get(const struct pricing_book *b,
    size_t i, int64_t *version_id, int64_t *effective_from_us);

/*
 * Usage normalisation: the providers' own usage objects, as numbers
 * already read from their JSON (absent fields are 0), mapped to meters so
 * that each token is counted once. Each fails when the object is
 * inconsistent (a part larger than its whole, a negative count).
 */
struct pricing_openai_usage {
	int64_t prompt_tokens;		/* or input_tokens (Responses API) */
	int64_t completion_tokens;	/* or output_tokens */
	int64_t cached_tokens;		/* prompt_tokens_details.cached_tokens */
	int64_t audio_prompt_tokens;	/* prompt_tokens_details.audio_tokens */
	int64_t reasoning_tokens;	/* completion_tokens_details.reasoning_tokens */
	int64_t audio_completion_tokens; /* completion_tokens_details.audio_tokens */
};

struct pricing_anthropic_usage {
	int64_t input_tokens;		/* excludes cache reads and writes */
	int64_t output_tokens;
	int64_t cache_read_input_tokens;
	int64_t cache_creation_input_tokens;
	int has_cache_creation;		/* the cache_creation object is present */
	int64_t ephemeral_5m_input_tokens;
	int64_t ephemeral_1h_input_tokens;
};

struct pricing_gemini_usage {
	int64_t prompt_token_count;	/* includes cached content */
	int64_t cached_content_token_count;
	int64_t candidates_token_count;
	int64_t thoughts_token_count;
	int64_t tool_use_prompt_token_count;
	int64_t audio_prompt_tokens;	/* promptTokensDetails, AUDIO */
	int64_t audio_cached_tokens;	/* cacheTokensDetails, AUDIO */
};

int pricing_normalize_openai(const struct pricing_openai_usage *in,
    struct pricing_usage *out, const char **why) PRICING_MUSTCHECK;
int pricing_normalize_anthropic(const struct pricing_anthropic_usage *in,
    struct pricing_usage *out, const char **why) PRICING_MUSTCHECK;
int pricing_normalize_gemini(const struct pricing_gemini_usage *in,
    struct pricing_usage *out, const char **why) PRICING_MUSTCHECK;

#endif
