/*
 * test_prices_api.c - price versions and quotes through the API: the
 * shared LiteLLM snapshot imports whole, every chat model in it quotes,
 * versions apply by occurred_at, windows follow a real time zone, and bad
 * price documents are refused with the field's path, storing nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "tests/integration/itest.h"

#define SNAPSHOT "pricing/data/litellm-model-prices.json"

static struct resp *
quote(const char *body)
{
	return http("POST", "/v1/quote", gateway_key, body, NULL);
}

static void
t_import_snapshot(void)
{
	char *file = itest_slurp(SNAPSHOT);
	long long before = db_count("price_versions");
	struct resp *r;
	json_t *rep;

	CHECK(file != NULL, "cannot read " SNAPSHOT);
	if (file == NULL)
		return;
	r = http("POST", "/v1/prices/import?format=litellm&effective_from="
	    "2026-01-01T00:00:00Z&note=snapshot", admin_key, file, NULL);
	free(file);
	CHECK(r->status == 201, "import: %ld %.300s", r->status, r->body);
	rep = json_object_get(r->json, "report");
	CHECK(json_integer_value(json_object_get(rep, "price_entries")) == 345 &&
	    json_integer_value(json_object_get(rep, "models")) == 218,
	    "%.300s", r->body);
	CHECK(json_is_true(json_object_get(r->json, "loaded")), "not loaded");
	resp_free(r);
	/* make run's import does nothing once a version exists. */
	{
		char cmd[512], out[1024];

		snprintf(cmd, sizeof cmd, "%s prices import --format litellm "
		    SNAPSHOT " --if-empty", getenv("TG_CLI"));
		CHECK(run_cmd(cmd, out, sizeof out) == 0, "import: %s", out);
	}
	CHECK(db_count("price_versions") == before + 1, "not stored");
	r = http("GET", "/v1/prices/versions", finance_key, NULL, NULL);
	CHECK(r->status == 200, "status %ld", r->status);
	rep = json_array_get(json_object_get(r->json, "versions"), 0);
	CHECK(strcmp(json_string_value(json_object_get(rep, "source")),
	    "litellm") == 0, "%s", r->body);
	CHECK(json_integer_value(json_object_get(rep, "price_entries")) == 345,
	    "%s", r->body);
	resp_free(r);
	/* Every one of the 218 models imported; what could not be
	 * represented is listed, not dropped. */
	r = http("GET", "/v1/prices/versions?id=1", finance_key, NULL, NULL);
	rep = json_object_get(r->json, "report");
	/* 116 LiteLLM fields without a meter, and 6 Gemini long-context
	 * cache-write prices without a base price. */
	CHECK(r->status == 200 && json_array_size(json_object_get(rep,
	    "unmapped_fields")) == 122 && json_array_size(json_object_get(rep,
	    "rounded")) == 1, "%.300s", r->body);
	resp_free(r);
	r = http("GET", "/v1/prices/versions?id=99", finance_key, NULL, NULL);
	CHECK_ERR(r, 404, "unknown_price_version", "id");
	resp_free(r);
	CHECK(strcmp(db_value("SELECT count(DISTINCT (provider, model)) FROM "
	    "price_entries"), "218") == 0, "models");
	CHECK(strcmp(db_value("SELECT coalesce(jsonb_array_length(report -> "
	    "'skipped'), 0) FROM price_versions"), "0") == 0, "skipped");
	CHECK(strcmp(db_value("SELECT count(*) FROM price_versions, "
	    "jsonb_array_elements(report -> 'unmapped_fields') u WHERE "
	    "u ->> 'field' = 'search_context_cost_per_query'"), "57") == 0,
	    "unmapped fields are reported");
	CHECK(strcmp(db_value("SELECT report -> 'rounded' -> 0 ->> "
	    "'imported_as' FROM price_versions"), "0.000283333333") == 0,
	    "the rounded price is reported");
}

/* litellm_provider as tollgate names the provider. */
static const char *
provider_of(const char *lp)
{
	if (strncmp(lp, "vertex_ai", 9) == 0)
		return "vertex_ai";
	if (strcmp(lp, "text-completion-openai") == 0)
		return "openai";
	return lp;
}

static void
t_quote_every_chat_model(void)
{
	json_error_t jerr;
	json_t *doc = json_load_file(SNAPSHOT, 0, &jerr), *m;
	const char *key, *lp;
	char body[512];
	struct resp *r;
	int chat = 0, priced = 0;

	CHECK(doc != NULL, "%s", jerr.text);
	json_object_foreach(doc, key, m) {
		if (!json_is_object(m) || json_string_value(json_object_get(m,
		    "mode")) == NULL || strcmp(json_string_value(
		    json_object_get(m, "mode")), "chat") != 0)
			continue;
		chat++;
		lp = json_string_value(json_object_get(m, "litellm_provider"));
		snprintf(body, sizeof body, "{\"provider\":\"%s\",\"model\":\"%s\","
		    "\"occurred_at\":\"2026-06-01T12:00:00Z\",\"usage\":"
		    "{\"input_tokens\":1000,\"output_tokens\":500}}",
		    provider_of(lp), key);
		r = quote(body);
		if (r->status == 200 && json_array_size(json_object_get(r->json,
		    "meters")) == 2)
			priced++;
		else
			fprintf(stderr, "    %s: %ld %s", key, r->status, r->body);
		resp_free(r);
	}
	json_decref(doc);
	CHECK(chat == 166 && priced == chat, "%d of %d chat models priced",
	    priced, chat);
}

struct sample {
	const char *body;
	const char *cost;
};

static void
t_quote_samples(void)
{
	static const struct sample samples[] = {
		/* gpt-4o: 1000 x 2.5e-06 + 500 x 1e-05 = 0.0025 + 0.005 */
		{ "{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"usage\":"
		  "{\"input_tokens\":1000,\"output_tokens\":500}}", "0.007500000" },
		/* gpt-4o batch: 1000 x 1.25e-06 + 500 x 5e-06 */
		{ "{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"service_tier\":"
		  "\"batch\",\"usage\":{\"input_tokens\":1000,\"output_tokens\":500}}",
		  "0.003750000" },
		/* claude-opus-4-1 from Anthropic's own usage object:
		 * 1000 x 1.5e-05 + 5000 x 1.5e-06 + 100 x 1.875e-05 +
		 * 50 x 3e-05 + 200 x 7.5e-05 = 0.015 + 0.0075 + 0.001875 +
		 * 0.0015 + 0.015 */
		{ "{\"provider\":\"anthropic\",\"model\":\"claude-opus-4-1\","
		  "\"usage_anthropic\":{\"input_tokens\":1000,\"output_tokens\":200,"
		  "\"cache_read_input_tokens\":5000,\"cache_creation_input_tokens\":150,"
		  "\"cache_creation\":{\"ephemeral_5m_input_tokens\":100,"
		  "\"ephemeral_1h_input_tokens\":50}}}", "0.040875000" },
		/* gemini-2.5-pro, 200001 prompt tokens: the long-context
		 * tier for every meter: 200001 x 2.5e-06 + 1000 x 1.5e-05 =
		 * 0.5000025 + 0.015 */
		{ "{\"provider\":\"vertex_ai\",\"model\":\"gemini-2.5-pro\","
		  "\"usage_gemini\":{\"promptTokenCount\":200001,"
		  "\"candidatesTokenCount\":1000}}", "0.515002500" },
		/* ... and exactly 200000 is not above the threshold:
		 * 200000 x 1.25e-06 + 1000 x 1e-05 = 0.25 + 0.01 */
		{ "{\"provider\":\"vertex_ai\",\"model\":\"gemini-2.5-pro\","
		  "\"usage_gemini\":{\"promptTokenCount\":200000,"
		  "\"candidatesTokenCount\":1000}}", "0.260000000" },
		/* o3 from OpenAI's usage: prompt 1200 of which 1000 cached,
		 * completion 500 of which 300 reasoning (priced as output):
		 * 200 x 2e-06 + 1000 x 5e-07 + 200 x 8e-06 + 300 x 8e-06 =
		 * 0.0004 + 0.0005 + 0.0016 + 0.0024 */
		{ "{\"provider\":\"openai\",\"model\":\"o3\",\"usage_openai\":"
		  "{\"prompt_tokens\":1200,\"completion_tokens\":500,"
		  "\"prompt_tokens_details\":{\"cached_tokens\":1000},"
		  "\"completion_tokens_details\":{\"reasoning_tokens\":300}}}",
		  "0.004900000" },
		/* deepseek-chat: 7 x 2.8e-07 + 3 x 4.2e-07 = 0.00000196 +
		 * 0.00000126 */
		{ "{\"provider\":\"deepseek\",\"model\":\"deepseek-chat\",\"usage\":"
		  "{\"input_tokens\":7,\"output_tokens\":3}}", "0.000003220" },
	};
	struct resp *r;
	size_t i;

	for (i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		r = quote(samples[i].body);
		CHECK(r->status == 200 && strcmp(jstr(r, "cost"),
		    samples[i].cost) == 0, "sample %zu: %ld %s", i, r->status,
		    r->body);
		CHECK(json_integer_value(json_object_get(r->json,
		    "price_version")) >= 1, "no version");
		resp_free(r);
	}
}

static void
t_quote_errors(void)
{
	struct resp *r;

	r = quote("{\"provider\":\"openai\",\"model\":\"gpt-404\",\"usage\":"
	    "{\"input_tokens\":1}}");
	CHECK_ERR(r, 422, "unpriced_model", "model");
	resp_free(r);
	/* A quantity with no price for its meter is never priced at zero. */
	r = quote("{\"provider\":\"deepseek\",\"model\":\"deepseek-chat\","
	    "\"usage\":{\"audio_input_tokens\":10}}");
	CHECK_ERR(r, 422, "unpriced_meter", "usage");
	resp_free(r);
	r = quote("{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"usage\":"
	    "{\"input_tokens\":-1}}");
	CHECK_ERR(r, 400, "invalid_field", "usage.input_tokens");
	resp_free(r);
	r = quote("{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"usage\":"
	    "{\"input_token\":5}}");
	CHECK_ERR(r, 400, "invalid_field", "usage.input_token");
	resp_free(r);
	r = quote("{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"usage\":"
	    "{\"input_tokens\":1099511627777}}");
	CHECK_ERR(r, 400, "invalid_field", "usage.input_tokens");
	resp_free(r);
	r = quote("{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"usage_openai\":"
	    "{\"prompt_tokens\":10,\"prompt_tokens_details\":{\"cached_tokens\":"
	    "11}}}");
	CHECK_ERR(r, 400, "invalid_field", "usage_openai");
	resp_free(r);
	/* Chat Completions and Responses API names at once would count
	 * the same tokens twice. */
	r = quote("{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"usage_openai\":"
	    "{\"prompt_tokens\":10,\"input_tokens\":10}}");
	CHECK_ERR(r, 400, "invalid_field", "usage_openai.input_tokens");
	resp_free(r);
	/* A null detail object, as some compatible APIs send, is absent. */
	r = quote("{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"usage_openai\":"
	    "{\"prompt_tokens\":1000,\"completion_tokens\":100,"
	    "\"prompt_tokens_details\":null,\"completion_tokens_details\":null}}");
	CHECK(r->status == 200 && strcmp(jstr(r, "cost"), "0.003500000") == 0,
	    "%s", r->body);
	resp_free(r);
	r = quote("{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"usage\":{},"
	    "\"usage_openai\":{}}");
	CHECK(r->status == 400, "two usage objects: %ld", r->status);
	resp_free(r);
	r = quote("{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"service_tier\":"
	    "\"turbo\",\"usage\":{}}");
	CHECK_ERR(r, 400, "invalid_field", "service_tier");
	resp_free(r);
	r = quote("{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"occurred_at\":"
	    "\"2025-01-01T00:00:00Z\",\"usage\":{\"input_tokens\":1}}");
	CHECK_ERR(r, 422, "unpriced_model", "occurred_at");
	resp_free(r);
}

struct bad_doc {
	const char *body;
	const char *field;
	const char *code;	/* NULL: invalid_field */
};

static void
t_bad_price_documents(void)
{
#define M(x) "{\"models\":[" x "]}"
	static const struct bad_doc docs[] = {
		{ M("{\"provider\":\"acme\",\"model\":\"m\",\"prices\":{\"input\":\"-0.1\"}}"),
		  "models[0].prices.input", NULL },
		{ M("{\"provider\":\"acme\",\"model\":\"m\",\"prices\":{\"input\":\"cheap\"}}"),
		  "models[0].prices.input", NULL },
		{ M("{\"provider\":\"acme\",\"model\":\"m\",\"prices\":{\"input\":0.5}}"),
		  "models[0].prices.input", NULL },
		{ M("{\"provider\":\"acme\",\"model\":\"m\",\"prices\":{\"inputs\":\"0.1\"}}"),
		  "models[0].prices.inputs", NULL },
		{ M("{\"provider\":\"acme\",\"model\":\"m\",\"prices\":{\"input\":"
		    "\"0.0000000000001\"}}"), "models[0].prices.input", NULL },
		{ M("{\"provider\":\"acme\",\"model\":\"m\",\"prices\":{\"input\":\"1\"}},"
		    "{\"provider\":\"acme\",\"model\":\"m\",\"prices\":{\"input\":\"2\"}}"),
		  "models[1]", NULL },
		{ M("{\"provider\":\"acme\",\"model\":\"m\",\"prices\":{\"input\":\"1\"},"
		    "\"context_tiers\":[{\"above_tokens\":200000,\"prices\":{\"input\":\"2\"}},"
		    "{\"above_tokens\":128000,\"prices\":{\"input\":\"3\"}}]}"),
		  "models[0].context_tiers[1].above_tokens", NULL },
		{ M("{\"provider\":\"acme\",\"model\":\"m\",\"prices\":{\"input\":\"1\"},"
		    "\"windows\":[{\"time_zone\":\"Mars/Olympus\",\"start\":\"00:30\","
		    "\"end\":\"08:30\",\"prices\":{\"input\":\"0.5\"}}]}"),
		  "models[0].windows[0].time_zone", NULL },
		{ M("{\"provider\":\"acme\",\"model\":\"m\",\"service_tier\":\"gold\","
		    "\"prices\":{\"input\":\"1\"}}"), "models[0].service_tier", NULL },
		{ M("{\"provider\":\"Acme Inc\",\"model\":\"m\",\"prices\":{}}"),
		  "models[0].provider", NULL },
		{ "{\"models\":[]}", "models", NULL },
		{ "{\"modelz\":[]}", "modelz", "unknown_field" },
		{ "{\"models\":[{\"provider\":\"acme\",\"model\":\"m\",\"prices\":{\"input\":\"1\"}}],"
		  "\"discounts\":[{\"provider\":\"acme\",\"percent\":\"101\"}]}",
		  "discounts[0].percent", NULL },
		{ "{\"models\":[{\"provider\":\"acme\",\"model\":\"m\",\"prices\":{\"input\":\"1\"}}],"
		  "\"discounts\":[{\"provider\":\"acme\",\"model\":\"mm\",\"percent\":\"5\"}]}",
		  "discounts[0].model", NULL },
		{ "{\"models\":[{\"provider\":\"acme\",\"model\":\"m\",\"prices\":{\"input\":\"1\"}}],"
		  "\"effective_from\":\"2020-01-01T00:00:00Z\"}", "effective_from", NULL },
	};
	long long before = db_count("price_versions");
	long long entries = db_count("price_entries");
	struct resp *r;
	size_t i;

	for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		r = http("POST", "/v1/prices", admin_key, docs[i].body, NULL);
		CHECK_ERR(r, 400, docs[i].code != NULL ? docs[i].code :
		    "invalid_field", docs[i].field);
		if (r->status != 400 || strcmp(err_field(r), docs[i].field) != 0)
			fprintf(stderr, "    doc %zu: %s\n", i, r->body);
		resp_free(r);
	}
	r = http("POST", "/v1/prices", admin_key, "{\"models\":[", NULL);
	CHECK_ERR(r, 400, "malformed_json", NULL);
	resp_free(r);
	r = http("POST", "/v1/prices/import?format=csv", admin_key, "{}", NULL);
	CHECK_ERR(r, 400, "invalid_parameter", "format");
	resp_free(r);
	r = http("POST", "/v1/prices", finance_key, docs[0].body, NULL);
	CHECK_ERR(r, 403, "forbidden", NULL);
	resp_free(r);
	CHECK(db_count("price_versions") == before &&
	    db_count("price_entries") == entries, "a refused document wrote");
#undef M
}

/* A later version applies from its effective_from on; a window follows
 * the local time of its zone; discounts split list and contracted cost. */
static void
t_versions_windows_discounts(void)
{
	const char *doc = "{\"effective_from\":\"2030-01-01T00:00:00Z\","
	    "\"note\":\"contract\",\"models\":[{\"provider\":\"deepseek\","
	    "\"model\":\"deepseek-chat\",\"prices\":{\"input\":\"0.00000028\","
	    "\"output\":\"0.00000042\"},\"windows\":[{\"time_zone\":"
	    "\"Asia/Shanghai\",\"start\":\"00:30\",\"end\":\"08:30\",\"prices\":"
	    "{\"input\":\"0.00000014\",\"output\":\"0.00000021\"}}]}],"
	    "\"aliases\":[{\"provider\":\"deepseek\",\"alias\":\"deepseek-v3\","
	    "\"model\":\"deepseek-chat\"}],\"discounts\":[{\"provider\":"
	    "\"deepseek\",\"percent\":\"10\"}]}";
	struct resp *r;

	r = http("POST", "/v1/prices", admin_key, doc, NULL);
	CHECK(r->status == 201, "%ld %s", r->status, r->body);
	resp_free(r);
	/* Before 2030 the snapshot is in force. */
	r = quote("{\"provider\":\"deepseek\",\"model\":\"deepseek-v3\","
	    "\"occurred_at\":\"2029-12-31T23:59:59Z\",\"usage\":{\"input_tokens\":"
	    "1000000}}");
	CHECK_ERR(r, 422, "unpriced_model", "model");
	resp_free(r);
	/* 2030-01-01T16:29Z is 00:29 in Shanghai: outside the window.
	 * 1e6 x 2.8e-07 = 0.28 list; 10% off = 0.252. */
	r = quote("{\"provider\":\"deepseek\",\"model\":\"deepseek-v3\","
	    "\"occurred_at\":\"2030-01-01T16:29:59Z\",\"usage\":{\"input_tokens\":"
	    "1000000}}");
	CHECK(r->status == 200 && strcmp(jstr(r, "list_cost"), "0.280000000") == 0 &&
	    strcmp(jstr(r, "cost"), "0.252000000") == 0 &&
	    strcmp(jstr(r, "priced_model"), "deepseek-chat") == 0 &&
	    json_is_null(json_object_get(r->json, "window")), "%s", r->body);
	resp_free(r);
	/* 16:30Z is 00:30 local: inside, half price. */
	r = quote("{\"provider\":\"deepseek\",\"model\":\"deepseek-chat\","
	    "\"occurred_at\":\"2030-01-01T16:30:00Z\",\"usage\":{\"input_tokens\":"
	    "1000000}}");
	CHECK(r->status == 200 && strcmp(jstr(r, "list_cost"), "0.140000000") == 0 &&
	    strcmp(jstr(r, "cost"), "0.126000000") == 0 &&
	    json_is_object(json_object_get(r->json, "window")), "%s", r->body);
	resp_free(r);
	/* 00:29Z next day is 08:29 local: still inside; 00:30Z is out. */
	r = quote("{\"provider\":\"deepseek\",\"model\":\"deepseek-chat\","
	    "\"occurred_at\":\"2030-01-02T00:29:59Z\",\"usage\":{\"input_tokens\":"
	    "1000000}}");
	CHECK(strcmp(jstr(r, "list_cost"), "0.140000000") == 0, "%s", r->body);
	resp_free(r);
	r = quote("{\"provider\":\"deepseek\",\"model\":\"deepseek-chat\","
	    "\"occurred_at\":\"2030-01-02T00:30:00Z\",\"usage\":{\"input_tokens\":"
	    "1000000}}");
	CHECK(strcmp(jstr(r, "list_cost"), "0.280000000") == 0, "%s", r->body);
	resp_free(r);
	r = http("GET", "/v1/prices?provider=deepseek&model=deepseek-chat&at="
	    "2030-06-01T00:00:00Z", finance_key, NULL, NULL);
	CHECK(r->status == 200 && json_array_size(json_object_get(r->json,
	    "entries")) == 1, "%s", r->body);
	resp_free(r);
	r = http("GET", "/v1/prices?provider=deepseek&model=deepseek-chat&at="
	    "2026-06-01T00:00:00Z", finance_key, NULL, NULL);
	CHECK(r->status == 200 && json_integer_value(json_object_get(r->json,
	    "price_version")) == 1, "%s", r->body);
	resp_free(r);
	/* Not before the latest version any more. */
	r = http("POST", "/v1/prices?effective_from=2029-01-01T00:00:00Z",
	    admin_key, doc, NULL);
	CHECK_ERR(r, 400, "invalid_field", "effective_from");
	resp_free(r);
}

/* A version written by another instance (here: the command line) is
 * picked up by the running server's poll, within a bounded time. */
static void
t_reload_from_elsewhere(void)
{
	struct resp *r = import_and_wait("{\"models\":[{\"provider\":\"acme\","
	    "\"model\":\"rocket-1\",\"prices\":{\"input\":\"0.000001\"}}]}",
	    "2031-01-01T00:00:00Z", "{\"provider\":\"acme\",\"model\":"
	    "\"rocket-1\",\"occurred_at\":\"2031-02-01T00:00:00Z\",\"usage\":"
	    "{\"input_tokens\":1000}}");

	/* 1000 x 1e-06 = 0.001 */
	CHECK(r != NULL && r->status == 200 && strcmp(jstr(r, "cost"),
	    "0.001000000") == 0, "the server did not load the new version "
	    "within 15 s: %s", r != NULL ? r->body : "import failed");
	resp_free(r);
}

/* LiteLLM entries with names tollgate cannot keep are skipped and
 * reported; the rest imports, and the book still loads. */
static void
t_litellm_names(void)
{
	const char *doc = "{\"x-1\":{\"litellm_provider\":\"Azure_AI\","
	    "\"mode\":\"chat\",\"input_cost_per_token\":1e-06},"
	    "\"bad model\":{\"litellm_provider\":\"acme\",\"mode\":\"chat\","
	    "\"input_cost_per_token\":1e-06},"
	    "\"y\":{\"litellm_provider\":\"acme corp\",\"mode\":\"chat\","
	    "\"input_cost_per_token\":1e-06}}";
	struct resp *r;
	json_t *skipped;

	r = http("POST", "/v1/prices/import?format=litellm&effective_from="
	    "2032-01-01T00:00:00Z", admin_key, doc, NULL);
	skipped = json_object_get(json_object_get(r->json, "report"), "skipped");
	CHECK(r->status == 201 && json_array_size(skipped) == 2 &&
	    json_is_true(json_object_get(r->json, "loaded")), "%s", r->body);
	resp_free(r);
	r = quote("{\"provider\":\"azure_ai\",\"model\":\"x-1\",\"occurred_at\":"
	    "\"2032-02-01T00:00:00Z\",\"usage\":{\"input_tokens\":1000}}");
	CHECK(r->status == 200 && strcmp(jstr(r, "cost"), "0.001000000") == 0,
	    "%s", r->body);
	resp_free(r);
}

const struct itest price_tests[] = {
	{ "the LiteLLM snapshot imports whole, with its report",
	  t_import_snapshot },
	{ "every chat model of the snapshot quotes", t_quote_every_chat_model },
	{ "quotes match hand-computed costs", t_quote_samples },
	{ "bad quotes are refused with a clear error", t_quote_errors },
	{ "bad price documents get 400 with the field path and store nothing",
	  t_bad_price_documents },
	{ "versions by effective_from, windows in a time zone, discounts",
	  t_versions_windows_discounts },
	{ "a version added by another instance is loaded by polling",
	  t_reload_from_elsewhere },
	{ "LiteLLM names tollgate cannot keep are skipped and reported",
	  t_litellm_names },
	{ NULL, NULL }
};
