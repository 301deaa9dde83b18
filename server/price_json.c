/*
 * price_json.c - reading and writing price documents.
 *
 * The native reader is strict: unknown fields, inexact prices, unknown
 * meters and time zones are errors that name the offending field, because
 * an admin wrote the document on purpose. The LiteLLM reader is lenient in
 * the other direction: the community file has fields we cannot represent
 * and prices finer than a pico-unit, so it imports what it can and lists
 * everything else in the report, never dropping anything silently.
 *
 * LiteLLM's numbers arrive as doubles from the JSON parser; each is turned
 * back into the shortest decimal that reads as the same double (the digits
 * the file had) and parsed exactly from there, so no floating-point
 * arithmetic touches a price.
 */
#include <stdlib.h>
#include <string.h>

#include "server/price_json.h"
#include "server/tz.h"

#define ERR(e, f, ...) do { \
	(e)->code = "invalid_field"; \
	snprintf((e)->field, sizeof (e)->field, "%s", (f)); \
	snprintf((e)->message, sizeof (e)->message, __VA_ARGS__); \
} while (0)

static int
known(const char *k, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(k, *list) == 0)
			return 1;
	return 0;
}

static int
reject_unknown(json_t *obj, const char *path, const char *const *list,
    struct field_err *err)
{
	const char *k;
	json_t *v;
	char f[200];

	json_object_foreach(obj, k, v) {
		if (!known(k, list)) {
			snprintf(f, sizeof f, "%s%s%.64s", path, *path ? "." : "", k);
			ERR(err, f, "unknown field %s", f);
			err->code = "unknown_field";
			return -1;
		}
	}
	return 0;
}

/* A name of provider/model/alias: printable ASCII, no spaces. */
static int
name_ok(const char *s, size_t max, int provider)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (provider ? !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || c == '.') : (c <= 0x20 || c >= 0x7f))
			return 0;
	}
	return 1;
}

static int
get_name(json_t *obj, const char *key, const char *path, size_t max,
    int provider, char *out, struct field_err *err)
{
	json_t *v = json_object_get(obj, key);
	char f[200];

	snprintf(f, sizeof f, "%s.%s", path, key);
	if (v == NULL) {
		ERR(err, f, "%s is required", f);
		return -1;
	}
	if (!json_is_string(v) || !name_ok(json_string_value(v), max, provider)) {
		ERR(err, f, "%s must be a string of 1 to %zu %s", f, max,
		    provider ? "characters from a-z 0-9 _ - ." :
		    "printable characters without spaces");
		return -1;
	}
	memcpy(out, json_string_value(v), strlen(json_string_value(v)) + 1);
	return 0;
}

static int
get_count(json_t *obj, const char *key, const char *path, int64_t *out,
    struct field_err *err)
{
	json_t *v = json_object_get(obj, key);
	char f[200];

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	snprintf(f, sizeof f, "%s.%s", path, key);
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > PRICING_QUANTITY_MAX) {
		ERR(err, f, "%s must be a positive integer", f);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* {"input": "0.0000025", ...} into rates; exact prices only. */
static int
get_prices(json_t *obj, const char *path, struct pricing_rates *r,
    struct field_err *err)
{
	const char *k, *why;
	json_t *v;
	char f[200];
	int m, rounded;
	int64_t pico;

	memset(r, 0, sizeof *r);
	if (!json_is_object(obj)) {
		ERR(err, path, "%s must be an object of meter: price", path);
		return -1;
	}
	json_object_foreach(obj, k, v) {
		snprintf(f, sizeof f, "%s.%.64s", path, k);
		if ((m = pricing_meter_parse(k)) < 0) {
			ERR(err, f, "unknown meter %.64s", k);
			return -1;
		}
		if (json_is_integer(v) && json_integer_value(v) == 0) {
			pico = 0;
		} else if (!json_is_string(v)) {
			ERR(err, f, "%s must be a decimal string (price per unit)",
			    f);
			return -1;
		} else if (pricing_parse_price(json_string_value(v),
		    json_string_length(v), &pico, &rounded, &why) != 0) {
			ERR(err, f, "%s: %s", f, why);
			return -1;
		} else if (rounded) {
			ERR(err, f, "%s has more than 12 fractional digits "
			    "(prices are kept in pico-units)", f);
			return -1;
		}
		r->pico[m] = pico;
		r->has |= 1u << m;
	}
	return 0;
}

static int
parse_hhmm(const char *s, int *out)
{
	if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' ||
	    s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '5' ||
	    s[4] < '0' || s[4] > '9')
		return -1;
	*out = ((s[0] - '0') * 10 + (s[1] - '0')) * 60 +
	    (s[3] - '0') * 10 + (s[4] - '0');
	return *out < 1440 ? 0 : -1;
}

static int
parse_model(json_t *m, const char *path, struct pricing_entry *e,
    struct field_err *err)
{
	static const char *const fields[] = { "provider", "model",
	    "service_tier", "max_input_tokens", "max_output_tokens", "prices",
	    "context_tiers", "windows", NULL };
	static const char *const tfields[] = { "above_tokens", "prices", NULL };
	static const char *const wfields[] = { "time_zone", "start", "end",
	    "prices", NULL };
	json_t *v, *x;
	char f[200], p[240];
	size_t i;
	const char *why;

	memset(e, 0, sizeof *e);
	if (!json_is_object(m)) {
		ERR(err, path, "%s must be an object", path);
		return -1;
	}
	if (reject_unknown(m, path, fields, err) != 0 ||
	    get_name(m, "provider", path, PRICING_PROVIDER_MAX, 1, e->provider,
	    err) != 0 ||
	    get_name(m, "model", path, PRICING_MODEL_MAX, 0, e->model, err) != 0 ||
	    get_count(m, "max_input_tokens", path, &e->max_input_tokens, err) != 0 ||
	    get_count(m, "max_output_tokens", path, &e->max_output_tokens, err) != 0)
		return -1;
	v = json_object_get(m, "service_tier");
	e->tier = PT_STANDARD;
	if (v != NULL && (!json_is_string(v) ||
	    (e->tier = pricing_tier_parse(json_string_value(v))) < 0)) {
		snprintf(f, sizeof f, "%s.service_tier", path);
		ERR(err, f, "%s must be standard, batch, flex or priority", f);
		return -1;
	}
	snprintf(f, sizeof f, "%s.prices", path);
	if ((v = json_object_get(m, "prices")) == NULL) {
		ERR(err, f, "%s is required", f);
		return -1;
	}
	if (get_prices(v, f, &e->base, err) != 0)
		return -1;

	v = json_object_get(m, "context_tiers");
	snprintf(f, sizeof f, "%s.context_tiers", path);
	if (v != NULL && (!json_is_array(v) ||
	    json_array_size(v) > PRICING_MAX_CONTEXT_TIERS)) {
		ERR(err, f, "%s must be an array of at most %d tiers", f,
		    PRICING_MAX_CONTEXT_TIERS);
		return -1;
	}
	json_array_foreach(v, i, x) {
		snprintf(p, sizeof p, "%s[%zu]", f, i);
		if (!json_is_object(x) || reject_unknown(x, p, tfields, err) != 0) {
			if (!json_is_object(x))
				ERR(err, p, "%s must be an object", p);
			return -1;
		}
		if (get_count(x, "above_tokens", p, &e->context[i].above,
		    err) != 0)
			return -1;
		if (e->context[i].above == 0) {
			snprintf(p, sizeof p, "%s[%zu].above_tokens", f, i);
			ERR(err, p, "%s is required", p);
			return -1;
		}
		snprintf(p, sizeof p, "%s[%zu].prices", f, i);
		if (get_prices(json_object_get(x, "prices"), p,
		    &e->context[i].rates, err) != 0)
			return -1;
		if (i > 0 && e->context[i].above <= e->context[i - 1].above) {
			snprintf(p, sizeof p, "%s[%zu].above_tokens", f, i);
			ERR(err, p, "context tiers must be in ascending order of "
			    "above_tokens");
			return -1;
		}
		e->n_context++;
	}

	v = json_object_get(m, "windows");
	snprintf(f, sizeof f, "%s.windows", path);
	if (v != NULL && (!json_is_array(v) ||
	    json_array_size(v) > PRICING_MAX_WINDOWS)) {
		ERR(err, f, "%s must be an array of at most %d windows", f,
		    PRICING_MAX_WINDOWS);
		return -1;
	}
	json_array_foreach(v, i, x) {
		struct pricing_window *w = &e->windows[i];
		const char *tz, *st, *en;

		snprintf(p, sizeof p, "%s[%zu]", f, i);
		if (!json_is_object(x)) {
			ERR(err, p, "%s must be an object", p);
			return -1;
		}
		if (reject_unknown(x, p, wfields, err) != 0)
			return -1;
		tz = json_string_value(json_object_get(x, "time_zone"));
		st = json_string_value(json_object_get(x, "start"));
		en = json_string_value(json_object_get(x, "end"));
		if (tz == NULL || strlen(tz) > PRICING_TZ_MAX || !tz_valid(tz)) {
			snprintf(p, sizeof p, "%s[%zu].time_zone", f, i);
			ERR(err, p, "%s must name a time zone of the tz database, "
			    "such as Asia/Shanghai", p);
			return -1;
		}
		if (st == NULL || parse_hhmm(st, &w->start_min) != 0) {
			snprintf(p, sizeof p, "%s[%zu].start", f, i);
			ERR(err, p, "%s must be a local time HH:MM", p);
			return -1;
		}
		if (en == NULL || parse_hhmm(en, &w->end_min) != 0 ||
		    w->end_min == w->start_min) {
			snprintf(p, sizeof p, "%s[%zu].end", f, i);
			ERR(err, p, "%s must be a local time HH:MM other than "
			    "start", p);
			return -1;
		}
		memcpy(w->time_zone, tz, strlen(tz) + 1);
		snprintf(p, sizeof p, "%s[%zu].prices", f, i);
		if (get_prices(json_object_get(x, "prices"), p, &w->rates,
		    err) != 0)
			return -1;
		e->n_windows++;
	}
	if (pricing_entry_check(e, &why) != 0) {
		ERR(err, path, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

/* "15", "2.5": percent with at most 4 decimals to ppm. */
static int
parse_percent(const char *s, int32_t *ppm)
{
	int64_t whole = 0, frac = 0;
	int digits = 0, fd = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++)
		if ((whole = whole * 10 + (*s - '0')) > 100)
			return -1;
	if (digits == 0)
		return -1;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9' && fd < 4; s++, fd++)
			frac = frac * 10 + (*s - '0');
		if (fd == 0)
			return -1;
		for (; fd < 4; fd++)
			frac *= 10;
	}
	if (*s != '\0' || whole * 10000 + frac > 1000000)
		return -1;
	*ppm = (int32_t)(whole * 10000 + frac);
	return 0;
}

static int
provider_known(const struct pricing_table *t, const char *provider)
{
	size_t i;

	for (i = 0; i < pricing_table_count(t); i++)
		if (strcmp(pricing_table_entry(t, i)->provider, provider) == 0)
			return 1;
	return 0;
}

static int
parse_extras(json_t *doc, struct pricing_table *t, struct field_err *err)
{
	static const char *const afields[] = { "provider", "alias", "model", NULL };
	static const char *const dfields[] = { "provider", "model", "percent",
	    NULL };
	char prov[PRICING_PROVIDER_MAX + 1], alias[PRICING_MODEL_MAX + 1];
	char model[PRICING_MODEL_MAX + 1], p[200];
	json_t *v, *x;
	const char *why, *pct;
	int32_t ppm;
	size_t i;

	v = json_object_get(doc, "aliases");
	if (v != NULL && !json_is_array(v)) {
		ERR(err, "aliases", "aliases must be an array");
		return -1;
	}
	json_array_foreach(v, i, x) {
		snprintf(p, sizeof p, "aliases[%zu]", i);
		if (!json_is_object(x)) {
			ERR(err, p, "%s must be an object", p);
			return -1;
		}
		if (reject_unknown(x, p, afields, err) != 0 ||
		    get_name(x, "provider", p, PRICING_PROVIDER_MAX, 1, prov,
		    err) != 0 ||
		    get_name(x, "alias", p, PRICING_MODEL_MAX, 0, alias, err) != 0 ||
		    get_name(x, "model", p, PRICING_MODEL_MAX, 0, model, err) != 0)
			return -1;
		if (pricing_table_alias(t, prov, alias, model, &why) != 0) {
			ERR(err, p, "%s: %s", p, why);
			return -1;
		}
	}
	v = json_object_get(doc, "discounts");
	if (v != NULL && !json_is_array(v)) {
		ERR(err, "discounts", "discounts must be an array");
		return -1;
	}
	json_array_foreach(v, i, x) {
		snprintf(p, sizeof p, "discounts[%zu]", i);
		if (!json_is_object(x)) {
			ERR(err, p, "%s must be an object", p);
			return -1;
		}
		model[0] = '\0';
		if (reject_unknown(x, p, dfields, err) != 0 ||
		    get_name(x, "provider", p, PRICING_PROVIDER_MAX, 1, prov,
		    err) != 0 ||
		    (json_object_get(x, "model") != NULL &&
		    !json_is_null(json_object_get(x, "model")) &&
		    get_name(x, "model", p, PRICING_MODEL_MAX, 0, model, err) != 0))
			return -1;
		pct = json_string_value(json_object_get(x, "percent"));
		if (pct == NULL || parse_percent(pct, &ppm) != 0) {
			snprintf(p, sizeof p, "discounts[%zu].percent", i);
			ERR(err, p, "%s must be a decimal string from \"0\" to "
			    "\"100\" with at most 4 decimals", p);
			return -1;
		}
		/* A discount must name what it discounts: a misspelt
		 * contract would otherwise price nothing, silently. */
		if (model[0] != '\0' ?
		    pricing_table_find(t, prov, model, PT_STANDARD, NULL) == NULL :
		    !provider_known(t, prov)) {
			snprintf(p, sizeof p, "discounts[%zu].%s", i,
			    model[0] != '\0' ? "model" : "provider");
			ERR(err, p, "%s names no priced model of this document "
			    "(an alias is not enough: name the model)", p);
			return -1;
		}
		if (pricing_table_discount(t, prov, model[0] ? model : NULL, ppm,
		    &why) != 0) {
			snprintf(p, sizeof p, "discounts[%zu]", i);
			ERR(err, p, "%s: %s", p, why);
			return -1;
		}
	}
	return 0;
}

struct pricing_table *
price_json_native(json_t *doc, struct field_err *err)
{
	static const char *const top[] = { "effective_from", "note", "currency",
	    "models", "aliases", "discounts", NULL };
	struct pricing_table *t;
	struct pricing_entry e;
	json_t *models, *m, *cur;
	char path[64];
	const char *why;
	size_t i;

	if (!json_is_object(doc)) {
		ERR(err, "", "a price document must be a JSON object");
		return NULL;
	}
	if (reject_unknown(doc, "", top, err) != 0)
		return NULL;
	cur = json_object_get(doc, "currency");
	if (cur != NULL && (!json_is_string(cur) ||
	    strcmp(json_string_value(cur), "USD") != 0)) {
		ERR(err, "currency", "currency must be \"USD\"");
		return NULL;
	}
	models = json_object_get(doc, "models");
	if (!json_is_array(models) || json_array_size(models) == 0) {
		ERR(err, "models", "models must be a non-empty array");
		return NULL;
	}
	if ((t = pricing_table_new()) == NULL) {
		ERR(err, "", "out of memory");
		return NULL;
	}
	json_array_foreach(models, i, m) {
		snprintf(path, sizeof path, "models[%zu]", i);
		if (parse_model(m, path, &e, err) != 0)
			goto fail;
		if (pricing_table_add(t, &e, &why) != 0) {
			ERR(err, path, "%s: %s", path, why);
			goto fail;
		}
	}
	if (parse_extras(doc, t, err) != 0)
		goto fail;
	if (pricing_table_seal(t, &why) != 0) {
		ERR(err, "", "%s", why);
		goto fail;
	}
	return t;
fail:
	pricing_table_free(t);
	return NULL;
}

/* --- LiteLLM ----------------------------------------------------------- */

struct litellm_field {
	const char *name;
	int meter;
};

static const struct litellm_field litellm_fields[] = {
	{ "input_cost_per_token", PM_INPUT },
	{ "output_cost_per_token", PM_OUTPUT },
	{ "cache_read_input_token_cost", PM_CACHED_INPUT },
	{ "input_cost_per_token_cache_hit", PM_CACHED_INPUT },
	{ "cache_creation_input_token_cost", PM_CACHE_WRITE_5M },
	{ "cache_creation_input_token_cost_above_1hr", PM_CACHE_WRITE_1H },
	{ "output_cost_per_reasoning_token", PM_REASONING },
	{ "input_cost_per_audio_token", PM_AUDIO_INPUT },
	{ "output_cost_per_audio_token", PM_AUDIO_OUTPUT },
	{ "input_cost_per_image", PM_IMAGE_INPUT },
	{ "output_cost_per_image", PM_IMAGE_OUTPUT },
	{ "input_cost_per_image_token", PM_IMAGE_INPUT_TOKEN },
	{ "output_cost_per_image_token", PM_IMAGE_OUTPUT_TOKEN },
	{ "input_cost_per_request", PM_REQUEST },
	{ "input_cost_per_second", PM_SECOND },
	{ "output_cost_per_second", PM_SECOND },
	{ "input_cost_per_audio_per_second", PM_SECOND },
	{ NULL, 0 }
};

static const char *const litellm_tier_suffix[PT_COUNT] = { "", "_batches",
	"_flex", "_priority" };

/* Split a LiteLLM field name into its base price, long-context threshold
 * and service tier. 0 when it is a price field we know. */
static int
litellm_split(const char *name, int *meter, int64_t *above, int *tier)
{
	char base[128];
	size_t n = strlen(name), k;
	const char *a;
	int t, i;

	if (n >= sizeof base)
		return -1;
	memcpy(base, name, n + 1);
	*tier = PT_STANDARD;
	for (t = 1; t < PT_COUNT; t++) {
		k = strlen(litellm_tier_suffix[t]);
		if (n > k && strcmp(base + n - k, litellm_tier_suffix[t]) == 0) {
			base[n - k] = '\0';
			n -= k;
			*tier = t;
			break;
		}
	}
	*above = 0;
	k = strlen("k_tokens");
	if (n > k && strcmp(base + n - k, "k_tokens") == 0 &&
	    (a = strstr(base, "_above_")) != NULL) {
		const char *last = a;

		while ((a = strstr(last + 1, "_above_")) != NULL)
			last = a;
		for (a = last + 7; *a >= '0' && *a <= '9'; a++)
			*above = *above * 10 + (*a - '0');
		if (a == last + 7 || strcmp(a, "k_tokens") != 0)
			return -1;
		*above *= 1000;
		base[last - base] = '\0';
	}
	for (i = 0; litellm_fields[i].name != NULL; i++)
		if (strcmp(base, litellm_fields[i].name) == 0) {
			*meter = litellm_fields[i].meter;
			return 0;
		}
	return -1;
}

/* Why a LiteLLM price field has no tollgate meter, for the report. */
static const char *
unmapped_reason(const char *k)
{
	static const struct {
		const char *prefix, *reason;
	} reasons[] = {
		{ "search_context_cost_per_query", "web search is billed per "
		  "query by context size; tollgate has no web-search meter" },
		{ "regional_processing_uplift", "a regional uplift is a "
		  "multiplier on other prices, not a price; tollgate prices "
		  "the global endpoint" },
		{ "cache_creation_input_audio", "no meter for cache writes of "
		  "audio tokens" },
		{ "cache_read_input_audio", "no meter for cache reads of audio "
		  "tokens" },
		{ "input_cost_per_video", "no meter for video input" },
		{ "output_cost_per_video", "no meter for video output" },
		{ "input_cost_per_character", "no meter for characters" },
	};
	size_t i;

	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (strncmp(k, reasons[i].prefix, strlen(reasons[i].prefix)) == 0)
			return reasons[i].reason;
	return "no tollgate meter for this price";
}

static int
looks_like_price(const char *k)
{
	return strstr(k, "cost") != NULL || strstr(k, "price") != NULL ||
	    strstr(k, "uplift") != NULL;
}

static void
shortest_decimal(double v, char *buf, size_t n)
{
	int p;

	for (p = 1; p <= 17; p++) {
		snprintf(buf, n, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void
report_add(json_t *report, const char *list, json_t *item)
{
	json_t *a = json_object_get(report, list);

	if (a == NULL) {
		a = json_array();
		json_object_set_new(report, list, a);
	}
	json_array_append_new(a, item);
}

/* Whether a "provider/" prefix of key (n bytes) names the provider. */
static int
prefix_is(const char *key, size_t n, const char *name)
{
	return name != NULL && strlen(name) == n && strncmp(key, name, n) == 0;
}

/*
 * tollgate's provider and model names of a LiteLLM entry: the provider
 * lower-cased, "vertex_ai-*" as vertex_ai, "text-completion-openai" as
 * openai; a "provider/" prefix of the key dropped. NULL, or why the names
 * cannot be used (the entry is then skipped and reported, never stored
 * with a name the native reader would refuse when loading it back).
 */
static const char *
litellm_names(const char *key, json_t *obj, char *prov, char *model)
{
	const char *lp = json_string_value(json_object_get(obj,
	    "litellm_provider"));
	const char *name, *slash;
	size_t n, i;

	if (lp == NULL || *lp == '\0')
		return "no litellm_provider";
	name = lp;
	if (strncmp(lp, "vertex_ai", 9) == 0)
		name = "vertex_ai";
	else if (strcmp(lp, "text-completion-openai") == 0)
		name = "openai";
	if (strlen(name) > PRICING_PROVIDER_MAX)
		return "the provider name is too long";
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i] >= 'A' && name[i] <= 'Z' ?
		    (char)(name[i] - 'A' + 'a') : name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || c == '.'))
			return "the provider name has characters other than "
			    "a-z 0-9 _ - .";
		prov[i] = c;
	}
	prov[i] = '\0';
	/* "gemini/gemini-2.5-pro" is model gemini-2.5-pro of gemini. */
	slash = strchr(key, '/');
	n = slash != NULL ? (size_t)(slash - key) : 0;
	if (slash != NULL && (prefix_is(key, n, prov) || prefix_is(key, n, lp)))
		key = slash + 1;
	if (!name_ok(key, PRICING_MODEL_MAX, 0))
		return "the model name is empty, longer than 128 bytes, or has "
		    "spaces or control characters";
	memcpy(model, key, strlen(key) + 1);
	return NULL;
}

/* One LiteLLM entry into up to PT_COUNT entries; returns how many. */
static int
litellm_entry(const char *key, json_t *obj, json_t *report,
    struct pricing_entry out[PT_COUNT])
{
	int have[PT_COUNT] = { 0 }, meter, tier, i, rounded, t, n = 0;
	struct pricing_rates ctx[PT_COUNT][PRICING_MAX_CONTEXT_TIERS];
	int64_t ctx_above[PRICING_MAX_CONTEXT_TIERS];
	int n_ctx = 0, c;
	char prov[PRICING_PROVIDER_MAX + 1], model[PRICING_MODEL_MAX + 1];
	char num[64], pbuf[PRICING_PRICE_BUFSZ];
	const char *k, *why;
	json_t *v, *mx;
	int64_t above, pico;
	struct pricing_rates *r;

	memset(out, 0, sizeof(struct pricing_entry) * PT_COUNT);
	memset(ctx, 0, sizeof ctx);
	if ((why = litellm_names(key, obj, prov, model)) != NULL) {
		report_add(report, "skipped", json_pack("{s:s, s:s}", "key", key,
		    "reason", why));
		return -1;
	}
	json_object_foreach(obj, k, v) {
		if (!looks_like_price(k))
			continue;
		if (litellm_split(k, &meter, &above, &tier) != 0) {
			report_add(report, "unmapped_fields", json_pack(
			    "{s:s, s:s, s:s}", "key", key, "field", k, "reason",
			    unmapped_reason(k)));
			continue;
		}
		if (json_is_null(v))
			continue;
		if (!json_is_number(v) || json_number_value(v) < 0) {
			report_add(report, "unmapped_fields", json_pack(
			    "{s:s, s:s, s:s}", "key", key, "field", k, "reason",
			    "not a non-negative number"));
			continue;
		}
		shortest_decimal(json_number_value(v), num, sizeof num);
		if (pricing_parse_price(num, strlen(num), &pico, &rounded,
		    &why) != 0) {
			report_add(report, "unmapped_fields", json_pack(
			    "{s:s, s:s, s:s}", "key", key, "field", k, "reason",
			    why));
			continue;
		}
		if (rounded) {
			pricing_format_price(pico, pbuf);
			report_add(report, "rounded", json_pack(
			    "{s:s, s:s, s:s, s:s}", "key", key, "field", k,
			    "value", num, "imported_as", pbuf));
		}
		if (above == 0) {
			r = &out[tier].base;
		} else {
			for (c = 0; c < n_ctx && ctx_above[c] != above; c++)
				;
			if (c == n_ctx) {
				if (n_ctx == PRICING_MAX_CONTEXT_TIERS) {
					report_add(report, "unmapped_fields",
					    json_pack("{s:s, s:s, s:s}", "key",
					    key, "field", k, "reason",
					    "too many context tiers"));
					continue;
				}
				ctx_above[n_ctx++] = above;
			}
			r = &ctx[tier][c];
		}
		/* Two LiteLLM fields for one meter (cache hit vs cache read,
		 * input vs output per second): keep the first, report the
		 * other when it differs. */
		if ((r->has & (1u << meter)) && r->pico[meter] != pico) {
			report_add(report, "unmapped_fields", json_pack(
			    "{s:s, s:s, s:s}", "key", key, "field", k, "reason",
			    "another field already prices this meter"));
			continue;
		}
		r->pico[meter] = pico;
		r->has |= 1u << meter;
		if (above == 0)
			have[tier] = 1;
	}
	if (!have[PT_STANDARD])
		return 0;
	for (t = 1; t < PT_COUNT; t++)
		for (c = 0; c < n_ctx && !have[t]; c++)
			if (ctx[t][c].has != 0) {
				char what[96];

				snprintf(what, sizeof what, "long-context prices "
				    "above %lld tokens (%s)",
				    (long long)ctx_above[c], pricing_tier_name(t));
				report_add(report, "unmapped_fields", json_pack(
				    "{s:s, s:s, s:s}", "key", key, "field", what,
				    "reason", "a long-context price for a service "
				    "tier without prices of its own"));
			}
	/* Context tiers in ascending order of threshold (insertion sort of
	 * at most PRICING_MAX_CONTEXT_TIERS columns). */
	for (c = 1; c < n_ctx; c++)
		for (i = c; i > 0 && ctx_above[i - 1] > ctx_above[i]; i--) {
			int64_t ta = ctx_above[i];

			ctx_above[i] = ctx_above[i - 1];
			ctx_above[i - 1] = ta;
			for (t = 0; t < PT_COUNT; t++) {
				struct pricing_rates tr = ctx[t][i];

				ctx[t][i] = ctx[t][i - 1];
				ctx[t][i - 1] = tr;
			}
		}
	for (t = 0; t < PT_COUNT; t++) {
		struct pricing_entry *e = &out[n];

		if (!have[t])
			continue;
		if (t != PT_STANDARD) {
			/* A service tier starts from the standard prices and
			 * replaces those the file gives for it. */
			struct pricing_rates own = out[t].base;

			e->base = out[PT_STANDARD].base;
			for (i = 0; i < PM_COUNT; i++)
				if (own.has & (1u << i)) {
					e->base.pico[i] = own.pico[i];
					e->base.has |= 1u << i;
				}
		}
		memcpy(e->provider, prov, sizeof e->provider);
		memcpy(e->model, model, sizeof e->model);
		e->tier = t;
		for (c = 0; c < n_ctx; c++) {
			/* A tier price for a meter the base does not price
			 * would make one more prompt token lower the cost of
			 * that meter (it falls back to another price below
			 * the threshold): leave it out, and say so. */
			for (i = 0; i < PM_COUNT; i++)
				if ((ctx[t][c].has & (1u << i)) &&
				    !(e->base.has & (1u << i))) {
					char what[96];

					ctx[t][c].has &= ~(1u << i);
					snprintf(what, sizeof what, "%s above "
					    "%lld tokens (%s)",
					    pricing_meter_name(i),
					    (long long)ctx_above[c],
					    pricing_tier_name(t));
					report_add(report, "unmapped_fields",
					    json_pack("{s:s, s:s, s:s}", "key",
					    key, "field", what, "reason", "a "
					    "long-context price for a meter "
					    "without a base price"));
				}
			if (ctx[t][c].has != 0) {
				e->context[e->n_context].above = ctx_above[c];
				e->context[e->n_context].rates = ctx[t][c];
				e->n_context++;
			}
		}
		mx = json_object_get(obj, "max_input_tokens");
		if (json_is_integer(mx) && json_integer_value(mx) > 0)
			e->max_input_tokens = json_integer_value(mx);
		mx = json_object_get(obj, "max_output_tokens");
		if (!json_is_integer(mx))
			mx = json_object_get(obj, "max_tokens");
		if (json_is_integer(mx) && json_integer_value(mx) > 0)
			e->max_output_tokens = json_integer_value(mx);
		n++;
	}
	return n;
}

struct pricing_table *
price_json_litellm(json_t *doc, const struct pricing_table *prev,
    json_t *report, struct field_err *err)
{
	struct pricing_table *t;
	struct pricing_entry es[PT_COUNT];
	const char *key, *why, *p, *a, *m;
	json_t *obj;
	size_t read = 0, models = 0, entries = 0, i, na = 0, nd = 0;
	int32_t ppm;
	int n, j;

	if (!json_is_object(doc)) {
		ERR(err, "", "a LiteLLM price file is a JSON object of models");
		return NULL;
	}
	if ((t = pricing_table_new()) == NULL) {
		ERR(err, "", "out of memory");
		return NULL;
	}
	json_object_foreach(doc, key, obj) {
		if (key[0] == '_' || strcmp(key, "sample_spec") == 0)
			continue;
		read++;
		if (!json_is_object(obj)) {
			report_add(report, "skipped", json_pack("{s:s, s:s}",
			    "key", key, "reason", "not an object"));
			continue;
		}
		n = litellm_entry(key, obj, report, es);
		if (n < 0)
			continue;
		if (n == 0) {
			report_add(report, "skipped", json_pack("{s:s, s:s}",
			    "key", key, "reason", "no standard price that "
			    "tollgate can represent"));
			continue;
		}
		for (j = 0; j < n; j++) {
			if (pricing_table_add(t, &es[j], &why) != 0) {
				report_add(report, "skipped", json_pack(
				    "{s:s, s:s, s:s}", "key", key,
				    "service_tier", pricing_tier_name(es[j].tier),
				    "reason", why));
				if (j == 0)
					break;
				continue;
			}
			entries++;
			if (j == 0)
				models++;
		}
	}
	if (entries == 0) {
		pricing_table_free(t);
		ERR(err, "", "nothing in the document could be priced; is it "
		    "LiteLLM's model_prices_and_context_window.json?");
		return NULL;
	}
	/* Aliases and discounts are ours, not LiteLLM's: keep them. */
	for (i = 0; prev != NULL && i < pricing_table_alias_count(prev); i++) {
		pricing_table_alias_get(prev, i, &p, &a, &m);
		if (pricing_table_find(t, p, m, PT_STANDARD, NULL) == NULL ||
		    pricing_table_find(t, p, a, PT_STANDARD, NULL) != NULL) {
			report_add(report, "dropped_aliases", json_pack(
			    "{s:s, s:s, s:s, s:s}", "provider", p, "alias", a,
			    "model", m, "reason", "the model is not in the new "
			    "table, or the alias is now a model of its own"));
			continue;
		}
		if (pricing_table_alias(t, p, a, m, &why) == 0)
			na++;
	}
	for (i = 0; prev != NULL && i < pricing_table_discount_count(prev); i++) {
		pricing_table_discount_get(prev, i, &p, &m, &ppm);
		if (pricing_table_discount(t, p, m, ppm, &why) == 0)
			nd++;
	}
	if (pricing_table_seal(t, &why) != 0) {
		pricing_table_free(t);
		ERR(err, "", "%s", why);
		return NULL;
	}
	json_object_set_new(report, "source", json_string("litellm"));
	json_object_set_new(report, "entries_read", json_integer((json_int_t)read));
	json_object_set_new(report, "models", json_integer((json_int_t)models));
	json_object_set_new(report, "price_entries",
	    json_integer((json_int_t)entries));
	json_object_set_new(report, "aliases_carried_over",
	    json_integer((json_int_t)na));
	json_object_set_new(report, "discounts_carried_over",
	    json_integer((json_int_t)nd));
	return t;
}

/* --- writing ----------------------------------------------------------- */

static json_t *
rates_json(const struct pricing_rates *r)
{
	char buf[PRICING_PRICE_BUFSZ];
	json_t *o = json_object();
	int m;

	for (m = 0; m < PM_COUNT; m++)
		if (r->has & (1u << m)) {
			pricing_format_price(r->pico[m], buf);
			json_object_set_new(o, pricing_meter_name(m),
			    json_string(buf));
		}
	return o;
}

json_t *
price_json_window(const struct pricing_window *w, int with_prices)
{
	char start[16], end[16];
	json_t *o;

	snprintf(start, sizeof start, "%02d:%02d", w->start_min / 60,
	    w->start_min % 60);
	snprintf(end, sizeof end, "%02d:%02d", w->end_min / 60, w->end_min % 60);
	o = json_pack("{s:s, s:s, s:s}", "time_zone", w->time_zone, "start",
	    start, "end", end);
	if (with_prices)
		json_object_set_new(o, "prices", rates_json(&w->rates));
	return o;
}

json_t *
price_json_entry(const struct pricing_entry *e)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "provider", e->provider,
	    "model", e->model, "service_tier", pricing_tier_name(e->tier),
	    "prices", rates_json(&e->base));
	json_t *a;
	int i;

	if (e->max_input_tokens > 0)
		json_object_set_new(o, "max_input_tokens",
		    json_integer(e->max_input_tokens));
	if (e->max_output_tokens > 0)
		json_object_set_new(o, "max_output_tokens",
		    json_integer(e->max_output_tokens));
	if (e->n_context > 0) {
		a = json_array();
		for (i = 0; i < e->n_context; i++)
			json_array_append_new(a, json_pack("{s:I, s:o}",
			    "above_tokens", (json_int_t)e->context[i].above,
			    "prices", rates_json(&e->context[i].rates)));
		json_object_set_new(o, "context_tiers", a);
	}
	if (e->n_windows > 0) {
		a = json_array();
		for (i = 0; i < e->n_windows; i++)
			json_array_append_new(a,
			    price_json_window(&e->windows[i], 1));
		json_object_set_new(o, "windows", a);
	}
	return o;
}

json_t *
price_json_dump(const struct pricing_table *t)
{
	json_t *models = json_array(), *aliases = json_array();
	json_t *discounts = json_array();
	const char *p, *a, *m;
	char pct[16];
	int32_t ppm;
	size_t i;

	for (i = 0; i < pricing_table_count(t); i++)
		json_array_append_new(models,
		    price_json_entry(pricing_table_entry(t, i)));
	for (i = 0; i < pricing_table_alias_count(t); i++) {
		pricing_table_alias_get(t, i, &p, &a, &m);
		json_array_append_new(aliases, json_pack("{s:s, s:s, s:s}",
		    "provider", p, "alias", a, "model", m));
	}
	for (i = 0; i < pricing_table_discount_count(t); i++) {
		pricing_table_discount_get(t, i, &p, &m, &ppm);
		snprintf(pct, sizeof pct, "%d.%04d", ppm / 10000, ppm % 10000);
		json_array_append_new(discounts, json_pack("{s:s, s:s?, s:s}",
		    "provider", p, "model", m, "percent", pct));
	}
	return json_pack("{s:s, s:o, s:o, s:o}", "currency", "USD", "models",
	    models, "aliases", aliases, "discounts", discounts);
}
