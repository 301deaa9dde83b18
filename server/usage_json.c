/*
 * usage_json.c - reading quantities. Every count must be a JSON integer
 * from 0 to 2^40; unknown fields in our own usage object are refused (a
 * misspelt "output_token" must not silently price as zero), while unknown
 * fields in a provider's object are ignored, since providers add fields
 * over time and those are not ours to police.
 */
#include <string.h>

#include "server/usage_json.h"

const char *const usage_json_fields[] = { "usage", "usage_openai",
	"usage_anthropic", "usage_gemini", NULL };

struct qfield {
	const char *name;
	int meter;
};

static const struct qfield own_fields[] = {
	{ "input_tokens", PM_INPUT },
	{ "cached_input_tokens", PM_CACHED_INPUT },
	{ "cache_write_5m_tokens", PM_CACHE_WRITE_5M },
	{ "cache_write_1h_tokens", PM_CACHE_WRITE_1H },
	{ "output_tokens", PM_OUTPUT },
	{ "reasoning_tokens", PM_REASONING },
	{ "audio_input_tokens", PM_AUDIO_INPUT },
	{ "audio_output_tokens", PM_AUDIO_OUTPUT },
	{ "image_input", PM_IMAGE_INPUT },
	{ "image_output", PM_IMAGE_OUTPUT },
	{ "image_input_tokens", PM_IMAGE_INPUT_TOKEN },
	{ "image_output_tokens", PM_IMAGE_OUTPUT_TOKEN },
	{ "requests", PM_REQUEST },
	{ "seconds", PM_SECOND },
	{ NULL, 0 }
};

#define FAIL(err, f, ...) do { \
	(err)->code = "invalid_field"; \
	snprintf((err)->field, sizeof (err)->field, "%s", (f)); \
	snprintf((err)->message, sizeof (err)->message, __VA_ARGS__); \
	return -1; \
} while (0)

/* obj.path (dotted, e.g. "prompt_tokens_details.cached_tokens") as a
 * count; absent or null is 0. */
static int
count_at(json_t *obj, const char *base, const char *path, int64_t *out,
    struct field_err *err)
{
	char key[64], f[200];
	const char *dot;
	json_t *v = obj;
	size_t n;

	*out = 0;
	snprintf(f, sizeof f, "%s.%s", base, path);
	while (v != NULL && !json_is_null(v) && *path != '\0') {
		dot = strchr(path, '.');
		n = dot != NULL ? (size_t)(dot - path) : strlen(path);
		snprintf(key, sizeof key, "%.*s", (int)n, path);
		/* A null detail object (some compatible APIs send one) is
		 * the same as an absent one. */
		if (!json_is_object(v))
			FAIL(err, f, "%s must be inside an object", f);
		v = json_object_get(v, key);
		path += n + (dot != NULL);
	}
	if (v == NULL || json_is_null(v) || *path != '\0')
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > PRICING_QUANTITY_MAX)
		FAIL(err, f, "%s must be an integer from 0 to 2^40", f);
	*out = json_integer_value(v);
	return 0;
}

static int
parse_own(json_t *o, struct pricing_usage *u, struct field_err *err)
{
	const char *k;
	json_t *v;
	char f[200];
	int i;

	json_object_foreach(o, k, v) {
		for (i = 0; own_fields[i].name != NULL; i++)
			if (strcmp(k, own_fields[i].name) == 0)
				break;
		snprintf(f, sizeof f, "usage.%.64s", k);
		if (own_fields[i].name == NULL)
			FAIL(err, f, "unknown quantity %s", f);
		if (count_at(o, "usage", k, &u->q[own_fields[i].meter], err) != 0)
			return -1;
	}
	v = json_object_get(o, "requests");
	if (v == NULL || json_is_null(v))
		u->q[PM_REQUEST] = 1;
	return 0;
}

static int
parse_openai(json_t *o, struct pricing_usage *u, struct field_err *err)
{
	struct pricing_openai_usage x;
	const char *why;
	int64_t alt;

	/* Chat Completions names, or the Responses API's, not both: adding
	 * them would count the same tokens twice. */
	if (json_object_get(o, "prompt_tokens") != NULL &&
	    json_object_get(o, "input_tokens") != NULL)
		FAIL(err, "usage_openai.input_tokens", "usage_openai has both "
		    "prompt_tokens (Chat Completions) and input_tokens "
		    "(Responses API); give one");
	if (json_object_get(o, "completion_tokens") != NULL &&
	    json_object_get(o, "output_tokens") != NULL)
		FAIL(err, "usage_openai.output_tokens", "usage_openai has both "
		    "completion_tokens and output_tokens; give one");
	if (count_at(o, "usage_openai", "prompt_tokens", &x.prompt_tokens, err) ||
	    count_at(o, "usage_openai", "input_tokens", &alt, err))
		return -1;
	x.prompt_tokens += alt;
	if (count_at(o, "usage_openai", "completion_tokens",
	    &x.completion_tokens, err) ||
	    count_at(o, "usage_openai", "output_tokens", &alt, err))
		return -1;
	x.completion_tokens += alt;
	if (count_at(o, "usage_openai", "prompt_tokens_details.cached_tokens",
	    &x.cached_tokens, err) ||
	    count_at(o, "usage_openai", "input_tokens_details.cached_tokens",
	    &alt, err))
		return -1;
	x.cached_tokens += alt;
	if (count_at(o, "usage_openai", "prompt_tokens_details.audio_tokens",
	    &x.audio_prompt_tokens, err) ||
	    count_at(o, "usage_openai",
	    "completion_tokens_details.reasoning_tokens", &x.reasoning_tokens,
	    err) ||
	    count_at(o, "usage_openai", "output_tokens_details.reasoning_tokens",
	    &alt, err))
		return -1;
	x.reasoning_tokens += alt;
	if (count_at(o, "usage_openai", "completion_tokens_details.audio_tokens",
	    &x.audio_completion_tokens, err))
		return -1;
	if (pricing_normalize_openai(&x, u, &why) != 0)
		FAIL(err, "usage_openai", "usage_openai: %s", why);
	return 0;
}

static int
parse_anthropic(json_t *o, struct pricing_usage *u, struct field_err *err)
{
	struct pricing_anthropic_usage x;
	const char *why;

	memset(&x, 0, sizeof x);
	if (count_at(o, "usage_anthropic", "input_tokens", &x.input_tokens, err) ||
	    count_at(o, "usage_anthropic", "output_tokens", &x.output_tokens,
	    err) ||
	    count_at(o, "usage_anthropic", "cache_read_input_tokens",
	    &x.cache_read_input_tokens, err) ||
	    count_at(o, "usage_anthropic", "cache_creation_input_tokens",
	    &x.cache_creation_input_tokens, err) ||
	    count_at(o, "usage_anthropic",
	    "cache_creation.ephemeral_5m_input_tokens",
	    &x.ephemeral_5m_input_tokens, err) ||
	    count_at(o, "usage_anthropic",
	    "cache_creation.ephemeral_1h_input_tokens",
	    &x.ephemeral_1h_input_tokens, err))
		return -1;
	x.has_cache_creation = json_is_object(json_object_get(o,
	    "cache_creation"));
	if (pricing_normalize_anthropic(&x, u, &why) != 0)
		FAIL(err, "usage_anthropic", "usage_anthropic: %s", why);
	return 0;
}

/* The AUDIO entry of a Gemini modality list, e.g. promptTokensDetails. */
static int
gemini_modality(json_t *o, const char *list, int64_t *out,
    struct field_err *err)
{
	json_t *a = json_object_get(o, list), *x;
	const char *mod;
	char f[200];
	size_t i;

	*out = 0;
	if (a == NULL || json_is_null(a))
		return 0;
	snprintf(f, sizeof f, "usage_gemini.%s", list);
	if (!json_is_array(a))
		FAIL(err, f, "%s must be an array", f);
	json_array_foreach(a, i, x) {
		mod = json_string_value(json_object_get(x, "modality"));
		if (mod != NULL && strcmp(mod, "AUDIO") == 0) {
			snprintf(f, sizeof f, "usage_gemini.%s[%zu]", list, i);
			return count_at(x, f, "tokenCount", out, err);
		}
	}
	return 0;
}

static int
parse_gemini(json_t *o, struct pricing_usage *u, struct field_err *err)
{
	struct pricing_gemini_usage x;
	const char *why;

	memset(&x, 0, sizeof x);
	if (count_at(o, "usage_gemini", "promptTokenCount",
	    &x.prompt_token_count, err) ||
	    count_at(o, "usage_gemini", "cachedContentTokenCount",
	    &x.cached_content_token_count, err) ||
	    count_at(o, "usage_gemini", "candidatesTokenCount",
	    &x.candidates_token_count, err) ||
	    count_at(o, "usage_gemini", "thoughtsTokenCount",
	    &x.thoughts_token_count, err) ||
	    count_at(o, "usage_gemini", "toolUsePromptTokenCount",
	    &x.tool_use_prompt_token_count, err) ||
	    gemini_modality(o, "promptTokensDetails", &x.audio_prompt_tokens,
	    err) ||
	    gemini_modality(o, "cacheTokensDetails", &x.audio_cached_tokens, err))
		return -1;
	if (pricing_normalize_gemini(&x, u, &why) != 0)
		FAIL(err, "usage_gemini", "usage_gemini: %s", why);
	return 0;
}

int
usage_json_parse(json_t *event, struct pricing_usage *u, struct field_err *err)
{
	static int (*const parse[])(json_t *, struct pricing_usage *,
	    struct field_err *) = { parse_own, parse_openai, parse_anthropic,
	    parse_gemini };
	json_t *v;
	int i, which = -1;

	memset(u, 0, sizeof *u);
	for (i = 0; usage_json_fields[i] != NULL; i++) {
		if ((v = json_object_get(event, usage_json_fields[i])) == NULL)
			continue;
		if (which >= 0)
			FAIL(err, usage_json_fields[i], "give one of usage, "
			    "usage_openai, usage_anthropic, usage_gemini, not "
			    "%s and %s", usage_json_fields[which],
			    usage_json_fields[i]);
		which = i;
	}
	if (which < 0)
		FAIL(err, "usage", "usage is required (or usage_openai, "
		    "usage_anthropic, usage_gemini)");
	v = json_object_get(event, usage_json_fields[which]);
	if (!json_is_object(v))
		FAIL(err, usage_json_fields[which], "%s must be an object",
		    usage_json_fields[which]);
	if (parse[which](v, u, err) != 0)
		return -1;
	if (which > 0)
		u->q[PM_REQUEST] = 1;
	return 0;
}
