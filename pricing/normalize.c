/*
 * normalize.c - providers' usage objects to meters.
 *
 * Each provider counts tokens its own way: OpenAI's prompt_tokens includes
 * the cached and audio tokens, Anthropic's input_tokens excludes cache
 * reads and writes, Gemini's promptTokenCount includes cached content but
 * not tool-use prompts nor thoughts. Priced naively, a cached token would
 * be charged twice (as input and as a cache read) or a reasoning token not
 * at all. Here every token lands in exactly one meter, and a usage object
 * whose parts do not fit in their whole is refused rather than clamped,
 * since a clamp would hide a wrong bill.
 *
 * Outputs are written only on success; meters a provider does not report
 * are 0, request included (the caller counts requests).
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pricing/pricing.h"

static int
pricing_fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return (-1);
}

/* Any negative among n counts. */
static int
pricing_any_negative(const int64_t *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (v[i] < 0)
			return (1);
	}
	return (0);
}

int
pricing_normalize_openai(const struct pricing_openai_usage *in,
    struct pricing_usage *out, const char **why)
{
	struct pricing_usage	u;

	if (in == NULL || out == NULL)
		return (pricing_fail(why, "missing usage"));
	if (pricing_any_negative((const int64_t[]){ in->prompt_tokens,
	    in->completion_tokens, in->cached_tokens, in->audio_prompt_tokens,
	    in->reasoning_tokens, in->audio_completion_tokens }, 6))
		return (pricing_fail(why, "negative token count"));
	/* Both parts are within the whole, so the subtractions are safe. */
	if (in->cached_tokens > in->prompt_tokens ||
	    in->audio_prompt_tokens > in->prompt_tokens - in->cached_tokens)
		return (pricing_fail(why,
		    "cached and audio tokens exceed prompt_tokens"));
	if (in->reasoning_tokens > in->completion_tokens ||
	    in->audio_completion_tokens >
	    in->completion_tokens - in->reasoning_tokens)
		return (pricing_fail(why,
		    "reasoning and audio tokens exceed completion_tokens"));

	memset(&u, 0, sizeof(u));
	u.q[PM_INPUT] = in->prompt_tokens - in->cached_tokens -
	    in->audio_prompt_tokens;
	u.q[PM_CACHED_INPUT] = in->cached_tokens;
	u.q[PM_AUDIO_INPUT] = in->audio_prompt_tokens;
	u.q[PM_OUTPUT] = in->completion_tokens - in->reasoning_tokens -
	    in->audio_completion_tokens;
	u.q[PM_REASONING] = in->reasoning_tokens;
	u.q[PM_AUDIO_OUTPUT] = in->audio_completion_tokens;
	*out = u;
	return (0);
}

int
pricing_normalize_anthropic(const struct pricing_anthropic_usage *in,
    struct pricing_usage *out, const char **why)
{
	struct pricing_usage	u;
	int64_t			sum;

	if (in == NULL || out == NULL)
		return (pricing_fail(why, "missing usage"));
	if (pricing_any_negative((const int64_t[]){ in->input_tokens,
	    in->output_tokens, in->cache_read_input_tokens,
	    in->cache_creation_input_tokens, in->ephemeral_5m_input_tokens,
	    in->ephemeral_1h_input_tokens }, 6))
		return (pricing_fail(why, "negative token count"));

	memset(&u, 0, sizeof(u));
	u.q[PM_INPUT] = in->input_tokens;
	u.q[PM_CACHED_INPUT] = in->cache_read_input_tokens;
	u.q[PM_OUTPUT] = in->output_tokens;
	if (in->has_cache_creation) {
		/*
		 * The breakdown is what is billed; the total is only a check,
		 * and some gateways report the breakdown without it.
		 */
		if (__builtin_add_overflow(in->ephemeral_5m_input_tokens,
		    in->ephemeral_1h_input_tokens, &sum) ||
		    (in->cache_creation_input_tokens > 0 &&
		    sum != in->cache_creation_input_tokens))
			return (pricing_fail(why, "cache_creation breakdown "
			    "does not sum to cache_creation_input_tokens"));
		u.q[PM_CACHE_WRITE_5M] = in->ephemeral_5m_input_tokens;
		u.q[PM_CACHE_WRITE_1H] = in->ephemeral_1h_input_tokens;
	} else {
		/* Before the breakdown existed, every write was 5 minutes. */
		u.q[PM_CACHE_WRITE_5M] = in->cache_creation_input_tokens;
	}
	*out = u;
	return (0);
}

int
pricing_normalize_gemini(const struct pricing_gemini_usage *in,
    struct pricing_usage *out, const char **why)
{
	struct pricing_usage	u;
	int64_t			audio, text;

	if (in == NULL || out == NULL)
		return (pricing_fail(why, "missing usage"));
	if (pricing_any_negative((const int64_t[]){ in->prompt_token_count,
	    in->cached_content_token_count, in->candidates_token_count,
	    in->thoughts_token_count, in->tool_use_prompt_token_count,
	    in->audio_prompt_tokens, in->audio_cached_tokens }, 7))
		return (pricing_fail(why, "negative token count"));
	if (in->cached_content_token_count > in->prompt_token_count)
		return (pricing_fail(why,
		    "cachedContentTokenCount exceeds promptTokenCount"));
	if (in->audio_cached_tokens > in->audio_prompt_tokens ||
	    in->audio_cached_tokens > in->cached_content_token_count)
		return (pricing_fail(why, "cached audio tokens exceed the "
		    "audio prompt or the cached content"));
	/* Uncached audio must fit in the uncached prompt. */
	audio = in->audio_prompt_tokens - in->audio_cached_tokens;
	text = in->prompt_token_count - in->cached_content_token_count;
	if (audio > text)
		return (pricing_fail(why,
		    "audio tokens exceed promptTokenCount"));
	if (__builtin_add_overflow(text - audio,
	    in->tool_use_prompt_token_count, &text))
		return (pricing_fail(why, "token count out of range"));

	memset(&u, 0, sizeof(u));
	u.q[PM_INPUT] = text;
	u.q[PM_CACHED_INPUT] = in->cached_content_token_count;
	u.q[PM_AUDIO_INPUT] = audio;
	u.q[PM_OUTPUT] = in->candidates_token_count;
	u.q[PM_REASONING] = in->thoughts_token_count;
	*out = u;
	return (0);
}
