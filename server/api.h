/*
 * api.h - the handlers behind the routing table (api.c), one group per
 * file: health and metrics in api.c, the ledger in api_ledger.c.
 */
#ifndef TOLLGATE_API_H
#define TOLLGATE_API_H

#include <stdio.h>

#include "server/http.h"

struct evbuffer;

void api_ledger_adjust(struct tg_req *r);
void api_ledger_balances(struct tg_req *r);
void api_ledger_verify(struct tg_req *r);
void api_prices_create(struct tg_req *r);
void api_prices_import(struct tg_req *r);
void api_prices_get(struct tg_req *r);
void api_prices_versions(struct tg_req *r);
void api_quote(struct tg_req *r);
void api_cost_center_create(struct tg_req *r);
void api_cost_center_list(struct tg_req *r);
void api_cost_center_get(struct tg_req *r);
void api_cost_center_update(struct tg_req *r);
void api_usage(struct tg_req *r);
void api_usage_unpriced(struct tg_req *r);
void api_ledger_reprice(struct tg_req *r);
void api_rule_create(struct tg_req *r);
void api_rule_delete(struct tg_req *r);
void api_rule_list(struct tg_req *r);
void api_budget_create(struct tg_req *r);
void api_budget_list(struct tg_req *r);
void api_budget_get(struct tg_req *r);
void api_budget_update(struct tg_req *r);
void api_budget_delete(struct tg_req *r);
void api_budget_resume(struct tg_req *r);
void api_authorize(struct tg_req *r);
void api_authorize_check(struct tg_req *r);
void api_reservations_list(struct tg_req *r);
void api_reservation_release(struct tg_req *r);
void api_report_spend(struct tg_req *r);
void api_report_chargeback(struct tg_req *r);
void api_report_chargeback_totals(struct tg_req *r);
void api_report_forecast(struct tg_req *r);
void api_reconcile(struct tg_req *r);
void api_report_recommendations(struct tg_req *r);
void api_allocation_create(struct tg_req *r);
void api_allocation_list(struct tg_req *r);

/* The chargeback's pieces the command line shares (api_chargeback.c):
 * a month "YYYY-MM" as [lo, hi) in UTC; the price versions that could
 * have priced [lo, hi); and the CSV lines of a chargeback_page.sql
 * result (returns how many rows it held). */
int chargeback_month(const char *s, int64_t *lo, int64_t *hi);
void chargeback_versions(const struct pricing_book *b, int64_t lo,
    int64_t hi, char *buf, size_t bufsz);
int chargeback_rows(PGresult *res, int64_t month_lo, int64_t month_hi,
    int month_grain, const struct pricing_book *prices,
    void (*write)(void *arg, const char *s, size_t n), void *arg);
/* The CSV lines of a chargeback_entries.sql result (adjustments and
 * reallocations); how many rows it held. */
int chargeback_entry_rows(PGresult *res, int64_t month_lo, int64_t month_hi,
    int month_grain, void (*write)(void *arg, const char *s, size_t n),
    void *arg);
/* The whole month to out, synchronously (the command line); -1 and a
 * reason in err. */
int chargeback_write_month(PGconn *conn, int64_t lo, int64_t hi,
    int month_grain, const struct pricing_book *prices, FILE *out,
    char *err, size_t errsz);

/* Money in nano-units as the API writes it ("0.004500000"). */
json_t *api_money(int64_t nanos);
/* s as a JSON string into out, escaped byte for byte as jansson escapes
 * it (replies written as text must read as the objects they replace). */
void api_json_text(struct evbuffer *out, const char *s);
/* A time stamp in microseconds as RFC 3339 UTC. */
json_t *api_time(int64_t us);
struct pricing_usage;
/* The meters with a quantity, as {"input": 1200, ...}. */
json_t *api_quantities(const struct pricing_usage *u);

/* Reply 200 {key: <the JSON text of column 0, row 0>}, or the failure. */
void api_reply_column(struct tg_req *r, const struct db_result *res,
    const char *key);

/* A tags object: at most 50 string values, keys 1..64 bytes, values at
 * most 256; 0 or replied. */
int api_check_tags(struct tg_req *r, json_t *tags, const char *field);

/* Shared validation helpers: each replies 400 itself and returns -1. */
int api_reject_unknown(struct tg_req *r, json_t *obj, const char *prefix,
    const char *const *known);
/* A field of obj: NULL when absent, or replied 400 when of the wrong type
 * (*bad set). */
int api_get_string(struct tg_req *r, json_t *obj, const char *name,
    const char *field, int required, size_t maxlen, const char **out);
int api_param_time(struct tg_req *r, const char *name, int64_t *out_us,
    int *present);
/* A money field: a decimal string, or a JSON integer of whole units; a
 * JSON real is refused because it may not be exact. 0, or replied 400. */
int api_money_field(struct tg_req *r, json_t *v, const char *field,
    int64_t *out);
/* A cost-center path: what the ledger accepts after "expense:". */
int api_cost_center_id_ok(const char *id);

#endif
