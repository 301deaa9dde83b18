/*
 * price_json.h - price documents in and out of JSON: tollgate's native
 * format (docs/prices.md), LiteLLM's model_prices_and_context_window.json,
 * and the native document of a table (what is stored and shown).
 */
#ifndef TOLLGATE_PRICE_JSON_H
#define TOLLGATE_PRICE_JSON_H

#include <jansson.h>

#include "pricing/pricing.h"

/* What was wrong with an input and where (its JSON path). */
struct field_err {
	const char *code;	/* stable error code, e.g. "invalid_field" */
	char field[256];
	char message[512];
};

/*
 * A native document to a new sealed table. Prices must be exact (at most
 * 12 fractional digits). effective_from and note are the caller's
 * business and are ignored here. NULL with err filled on failure.
 */
struct pricing_table *price_json_native(json_t *doc, struct field_err *err);

/*
 * LiteLLM's price file to a new sealed table. What cannot be represented
 * (entries, fields) and what was rounded to whole pico-units is listed in
 * report (an object this fills). Aliases and discounts, which the file
 * does not have, are carried over from prev (may be NULL) and counted in
 * the report. NULL with err filled when the document is not a LiteLLM
 * price object at all or nothing in it can be priced.
 */
struct pricing_table *price_json_litellm(json_t *doc,
    const struct pricing_table *prev, json_t *report, struct field_err *err);

/* The native document of a table (new reference). */
json_t *price_json_dump(const struct pricing_table *t);

/* One entry as JSON (the "models" element of the native format). */
json_t *price_json_entry(const struct pricing_entry *e);

/* A time-of-day window as JSON, with or without its prices. */
json_t *price_json_window(const struct pricing_window *w, int with_prices);

#endif
