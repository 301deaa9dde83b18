/*
 * chargeback.c - FOCUS 1.2 rows (and the 1.3 allocation columns), written
 * as RFC 4180 CSV.
 *
 * Costs are the ledger's own nano-unit integers printed exactly; unit
 * prices are derived from them (cost over quantity) rather than from the
 * price table, because each event's cost was rounded once per meter and a
 * day's row sums many events: the derived price is the one for which
 * ListCost = ListUnitPrice x PricingQuantity holds.
 */
#include <stdio.h>
#include <string.h>

#include "ledger/ledger.h"
#include "pricing/pricing.h"
#include "reports/chargeback.h"

#define TOKENS_PER_UNIT 1000000

static const char header[] =
    "BillingAccountId,BillingAccountName,BillingPeriodStart,"
    "BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,"
    "ChargeClass,ChargeDescription,ChargeFrequency,BilledCost,"
    "EffectiveCost,ListCost,ListUnitPrice,ContractedCost,"
    "ContractedUnitPrice,BillingCurrency,ConsumedQuantity,ConsumedUnit,"
    "PricingQuantity,PricingUnit,ProviderName,PublisherName,"
    "InvoiceIssuerName,ServiceCategory,ServiceSubcategory,ServiceName,"
    "SkuId,SkuMeter,SubAccountId,SubAccountName,Tags,AllocatedMethodId,"
    "AllocatedMethodDetails,AllocatedResourceId,AllocatedTags,"
    "x_CostCenter,x_Department,x_Project,x_PriceVersionId\r\n";

const char *
chargeback_header(void)
{
	return header;
}

/* A field, quoted when it holds a comma, a quote or a line break. */
static void
field(chargeback_write_fn write, void *arg, const char *s, int first)
{
	const char *p;

	if (!first)
		write(arg, ",", 1);
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		write(arg, s, strlen(s));
		return;
	}
	write(arg, "\"", 1);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			write(arg, "\"", 1);
		write(arg, p, 1);
	}
	write(arg, "\"", 1);
}

void
chargeback_unit_price(int64_t nanos, int64_t quantity, int64_t per,
    char *buf)
{
	__int128 num = (__int128)nanos * per * 1000000000, q, r, scaled;
	unsigned long long hi, lo;
	int neg = num < 0;

	if (neg)
		num = -num;
	q = num / quantity;
	r = num % quantity;
	/* Half to even. */
	if (2 * r > quantity || (2 * r == quantity && (q & 1)))
		q++;
	scaled = q;
	hi = (unsigned long long)(scaled / 1000000000000000000LL);
	lo = (unsigned long long)(scaled % 1000000000000000000LL);
	snprintf(buf, CHARGEBACK_PRICE_BUFSZ, "%s%llu.%018llu",
	    neg && scaled != 0 ? "-" : "", hi, lo);
}

/* x_Department and x_Project: a cost center's first two segments. */
static void
segments(const char *cc, char *dept, size_t dsz, char *project, size_t psz)
{
	const char *slash = strchr(cc, '/'), *next;

	snprintf(dept, dsz, "%.*s", slash != NULL ? (int)(slash - cc) :
	    (int)strlen(cc), cc);
	project[0] = '\0';
	if (slash == NULL)
		return;
	next = strchr(slash + 1, '/');
	snprintf(project, psz, "%.*s", next != NULL ?
	    (int)(next - slash - 1) : (int)strlen(slash + 1), slash + 1);
}

void
chargeback_row(const struct chargeback_row *r, chargeback_write_fn write,
    void *arg)
{
	char bl[LEDGER_TIME_BUFSZ], bh[LEDGER_TIME_BUFSZ];
	char cl[LEDGER_TIME_BUFSZ], ch[LEDGER_TIME_BUFSZ];
	char cost[LEDGER_MONEY_BUFSZ], list[LEDGER_MONEY_BUFSZ];
	char lup[CHARGEBACK_PRICE_BUFSZ] = "", cup[CHARGEBACK_PRICE_BUFSZ] = "";
	char consumed[32] = "", pricing[32] = "", unit[40], account[96];
	char desc[256], sku[200], dept[72], project[72];
	const char *meter = pricing_meter_name(r->meter);
	const char *consumed_unit = pricing_meter_unit(r->meter);
	int tokens = strcmp(consumed_unit, "Tokens") == 0;
	int64_t per = tokens ? TOKENS_PER_UNIT : 1;

	ledger_time_format(r->billing_lo_us, bl);
	ledger_time_format(r->billing_hi_us, bh);
	ledger_time_format(r->charge_lo_us, cl);
	ledger_time_format(r->charge_hi_us, ch);
	ledger_money_format(r->cost, cost);
	ledger_money_format(r->list_cost, list);
	if (tokens)
		snprintf(unit, sizeof unit, "%d Tokens", TOKENS_PER_UNIT);
	else
		snprintf(unit, sizeof unit, "%s", consumed_unit);
	if (!r->correction && r->quantity > 0) {
		chargeback_unit_price(r->list_cost, r->quantity, per, lup);
		chargeback_unit_price(r->cost, r->quantity, per, cup);
		snprintf(consumed, sizeof consumed, "%lld",
		    (long long)r->quantity);
		if (tokens)
			snprintf(pricing, sizeof pricing, "%lld.%06lld",
			    (long long)(r->quantity / TOKENS_PER_UNIT),
			    (long long)(r->quantity % TOKENS_PER_UNIT));
		else
			snprintf(pricing, sizeof pricing, "%s", consumed);
	} else if (!r->correction) {
		snprintf(consumed, sizeof consumed, "0");
		snprintf(pricing, sizeof pricing, tokens ? "0.000000" : "0");
	}
	snprintf(account, sizeof account, "payable:%s", r->provider);
	snprintf(desc, sizeof desc, "%s %s %s%s", r->provider, r->model, meter,
	    r->correction ? " (repriced)" : "");
	snprintf(sku, sizeof sku, "%s/%s", r->provider, r->model);
	segments(r->cost_center, dept, sizeof dept, project, sizeof project);

	field(write, arg, account, 1);
	field(write, arg, r->provider, 0);
	field(write, arg, bl, 0);
	field(write, arg, bh, 0);
	field(write, arg, cl, 0);
	field(write, arg, ch, 0);
	field(write, arg, "Usage", 0);
	field(write, arg, r->correction ? "Correction" : NULL, 0);
	field(write, arg, desc, 0);
	field(write, arg, "Usage-Based", 0);
	field(write, arg, cost, 0);		/* BilledCost */
	field(write, arg, cost, 0);		/* EffectiveCost */
	field(write, arg, list, 0);
	field(write, arg, lup, 0);
	field(write, arg, cost, 0);		/* ContractedCost */
	field(write, arg, cup, 0);
	field(write, arg, "USD", 0);
	field(write, arg, consumed, 0);
	field(write, arg, consumed_unit, 0);
	field(write, arg, pricing, 0);
	field(write, arg, unit, 0);
	field(write, arg, r->provider, 0);	/* ProviderName */
	field(write, arg, r->provider, 0);	/* PublisherName */
	field(write, arg, r->provider, 0);	/* InvoiceIssuerName */
	field(write, arg, "AI and Machine Learning", 0);
	field(write, arg, "Generative AI", 0);
	field(write, arg, r->model, 0);		/* ServiceName */
	field(write, arg, sku, 0);
	field(write, arg, meter, 0);
	field(write, arg, r->cost_center, 0);
	field(write, arg, r->cost_center_name, 0);
	field(write, arg, r->tags_json, 0);
	field(write, arg, NULL, 0);		/* AllocatedMethodId */
	field(write, arg, NULL, 0);		/* AllocatedMethodDetails */
	field(write, arg, NULL, 0);		/* AllocatedResourceId */
	field(write, arg, NULL, 0);		/* AllocatedTags */
	field(write, arg, r->cost_center, 0);
	field(write, arg, dept, 0);
	field(write, arg, project, 0);
	field(write, arg, r->price_versions, 0);
	write(arg, "\r\n", 2);
}

void
chargeback_entry_row(const struct chargeback_entry *e,
    chargeback_write_fn write, void *arg)
{
	char bl[LEDGER_TIME_BUFSZ], bh[LEDGER_TIME_BUFSZ];
	char cl[LEDGER_TIME_BUFSZ], ch[LEDGER_TIME_BUFSZ];
	char cost[LEDGER_MONEY_BUFSZ], account[96], desc[600];
	char dept[72], project[72];
	int has_provider = e->provider != NULL && e->provider[0] != '\0';
	int alloc = e->allocation_id != NULL;

	ledger_time_format(e->billing_lo_us, bl);
	ledger_time_format(e->billing_hi_us, bh);
	ledger_time_format(e->charge_lo_us, cl);
	ledger_time_format(e->charge_hi_us, ch);
	ledger_money_format(e->amount, cost);
	/* Reallocations and adjustments without a provider move money
	 * inside the organisation: no provider's account is billed. */
	snprintf(account, sizeof account, "%s%s", has_provider ?
	    "payable:" : "internal", has_provider ? e->provider : "");
	if (alloc && strcmp(e->cost_center, e->source) == 0)
		snprintf(desc, sizeof desc, "%s allocated to other cost "
		    "centers (%s split, allocation %s)", e->source, e->method,
		    e->allocation_id);
	else if (alloc)
		snprintf(desc, sizeof desc, "allocated from %s (%s split, "
		    "allocation %s)", e->source, e->method, e->allocation_id);
	else
		snprintf(desc, sizeof desc, "adjustment%s%s",
		    e->memo[0] != '\0' ? ": " : "", e->memo);
	segments(e->cost_center, dept, sizeof dept, project, sizeof project);

	field(write, arg, account, 1);
	field(write, arg, has_provider ? e->provider : "internal", 0);
	field(write, arg, bl, 0);
	field(write, arg, bh, 0);
	field(write, arg, cl, 0);
	field(write, arg, ch, 0);
	field(write, arg, alloc ? "Usage" : "Adjustment", 0);
	field(write, arg, NULL, 0);		/* ChargeClass */
	field(write, arg, desc, 0);
	field(write, arg, alloc ? "Usage-Based" : "One-Time", 0);
	field(write, arg, cost, 0);		/* BilledCost */
	field(write, arg, cost, 0);		/* EffectiveCost */
	field(write, arg, cost, 0);		/* ListCost */
	field(write, arg, NULL, 0);		/* ListUnitPrice */
	field(write, arg, cost, 0);		/* ContractedCost */
	field(write, arg, NULL, 0);		/* ContractedUnitPrice */
	field(write, arg, "USD", 0);
	field(write, arg, NULL, 0);		/* ConsumedQuantity */
	field(write, arg, NULL, 0);		/* ConsumedUnit */
	field(write, arg, NULL, 0);		/* PricingQuantity */
	field(write, arg, NULL, 0);		/* PricingUnit */
	field(write, arg, has_provider ? e->provider : NULL, 0);
	field(write, arg, has_provider ? e->provider : NULL, 0);
	field(write, arg, has_provider ? e->provider : NULL, 0);
	field(write, arg, "AI and Machine Learning", 0);
	field(write, arg, "Generative AI", 0);
	field(write, arg, NULL, 0);		/* ServiceName */
	field(write, arg, NULL, 0);		/* SkuId */
	field(write, arg, NULL, 0);		/* SkuMeter */
	field(write, arg, e->cost_center, 0);
	field(write, arg, e->cost_center_name, 0);
	field(write, arg, e->tags_json, 0);
	field(write, arg, alloc ? e->method : NULL, 0);
	field(write, arg, alloc ? e->details_json : NULL, 0);
	field(write, arg, alloc ? e->source : NULL, 0);
	field(write, arg, alloc ? e->source_tags_json : NULL, 0);
	field(write, arg, e->cost_center, 0);
	field(write, arg, dept, 0);
	field(write, arg, project, 0);
	field(write, arg, NULL, 0);		/* x_PriceVersionId */
	write(arg, "\r\n", 2);
}
