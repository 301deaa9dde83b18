/*
 * usage_json.h - the quantities of a usage event (or a quote request) from
 * its JSON: tollgate's own "usage" object, or a provider's usage object
 * ("usage_openai", "usage_anthropic", "usage_gemini") normalised by the
 * pricing module so that each token is counted once.
 */
#ifndef TOLLGATE_USAGE_JSON_H
#define TOLLGATE_USAGE_JSON_H

#include <jansson.h>

#include "pricing/pricing.h"
#include "server/price_json.h"

/* The field names that carry quantities, for callers' unknown-field lists. */
extern const char *const usage_json_fields[];

/*
 * Fill u from event, which must carry exactly one of the usage objects.
 * requests defaults to 1. 0, or -1 with err naming the field.
 */
int usage_json_parse(json_t *event, struct pricing_usage *u,
    struct field_err *err) __attribute__((warn_unused_result));

#endif
