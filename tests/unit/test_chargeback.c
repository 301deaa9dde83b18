/*
 * test_chargeback.c - the chargeback's CSV lines: RFC 4180 quoting of
 * awkward values, the column count, and unit prices derived so that
 * price x quantity gives back the cost, checked over random costs and
 * quantities with exact 128-bit arithmetic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pricing/pricing.h"
#include "reports/chargeback.h"
#include "tests/unit/testutil.h"

struct out {
	char buf[8192];
	size_t n;
};

static void
collect(void *arg, const char *s, size_t n)
{
	struct out *o = arg;

	assert_true(o->n + n < sizeof o->buf);
	memcpy(o->buf + o->n, s, n);
	o->n += n;
	o->buf[o->n] = '\0';
}

static void
test_quoting_and_columns(void **state)
{
	struct chargeback_row r;
	struct out o = { "", 0 };
	size_t i, commas = 0, quoted = 0;
	int inq = 0;

	(void)state;
	memset(&r, 0, sizeof r);
	r.billing_lo_us = 1790812800LL * 1000000;	/* 2026-10-01 */
	r.billing_hi_us = 1793491200LL * 1000000;
	r.charge_lo_us = r.billing_lo_us;
	r.charge_hi_us = r.billing_lo_us + 86400LL * 1000000;
	r.cost_center = "eng/search/ranker";
	r.cost_center_name = "Search, \"ranking\"\nteam";
	r.tags_json = "{\"k\": \"a,b\"}";
	r.provider = "openai";
	r.model = "gpt-4o";
	r.meter = PM_INPUT;
	r.quantity = 1500;
	r.list_cost = 3750000;
	r.cost = 3750000;
	r.price_versions = "3;4";
	chargeback_row(&r, collect, &o);
	assert_string_equal(o.buf + o.n - 2, "\r\n");
	for (i = 0; i < o.n; i++) {
		if (o.buf[i] == '"')
			inq = !inq, quoted++;
		else if (o.buf[i] == ',' && !inq)
			commas++;
	}
	/* 40 columns; the name and the tags quoted, quotes doubled. */
	assert_int_equal(commas, 39);
	assert_non_null(strstr(o.buf, ",\"Search, \"\"ranking\"\"\nteam\","));
	assert_non_null(strstr(o.buf, ",\"{\"\"k\"\": \"\"a,b\"\"}\","));
	assert_non_null(strstr(o.buf, ",eng/search/ranker,eng,search,3;4\r\n"));
	/* 1500 tokens for 0.00375: 2.5 per million tokens. */
	assert_non_null(strstr(o.buf, ",0.003750000,2.500000000000000000,"));
	assert_non_null(strstr(o.buf, ",1500,Tokens,0.001500,1000000 Tokens,"));
	assert_int_equal(strncmp(chargeback_header(), "BillingAccountId,", 17),
	    0);
}

/* Count the unquoted commas of a line. */
static size_t
columns(const struct out *o)
{
	size_t i, commas = 0;
	int inq = 0;

	for (i = 0; i < o->n; i++) {
		if (o->buf[i] == '"')
			inq = !inq;
		else if (o->buf[i] == ',' && !inq)
			commas++;
	}
	return commas + 1;
}

static void
test_allocation_and_adjustment_rows(void **state)
{
	struct chargeback_entry e;
	struct out o = { "", 0 };

	(void)state;
	memset(&e, 0, sizeof e);
	e.billing_lo_us = 1790812800LL * 1000000;	/* 2026-10-01 */
	e.billing_hi_us = 1793491200LL * 1000000;
	e.charge_lo_us = e.billing_lo_us;
	e.charge_hi_us = e.billing_lo_us + 86400LL * 1000000;
	e.cost_center = "eng/search";
	e.cost_center_name = "Search";
	e.tags_json = "{}";
	e.provider = "";
	e.memo = "";
	e.amount = 902700000;
	e.allocation_id = "alloc-1";
	e.method = "percent";
	e.source = "platform";
	e.details_json = "{\"Elements\": [{\"AllocatedRatio\": 0.6}]}";
	e.source_tags_json = "{\"unit\": \"plat\"}";
	chargeback_entry_row(&e, collect, &o);
	assert_int_equal(columns(&o), 40);
	assert_non_null(strstr(o.buf, "internal,internal,"));
	assert_non_null(strstr(o.buf, ",Usage,,\"allocated from platform "
	    "(percent split, allocation alloc-1)\",Usage-Based,0.902700000,"));
	/* The four Allocated* columns, then x_CostCenter and the rest. */
	assert_non_null(strstr(o.buf, ",percent,\"{\"\"Elements\"\": "
	    "[{\"\"AllocatedRatio\"\": 0.6}]}\",platform,\"{\"\"unit\"\": "
	    "\"\"plat\"\"}\",eng/search,eng,search,\r\n"));

	/* The source's side: negative, described as given away. */
	o.n = 0;
	e.cost_center = "platform";
	e.amount = -1504500000;
	chargeback_entry_row(&e, collect, &o);
	assert_int_equal(columns(&o), 40);
	assert_non_null(strstr(o.buf, ",-1.504500000,-1.504500000,"));
	assert_non_null(strstr(o.buf, "platform allocated to other cost "
	    "centers"));

	/* An adjustment against a provider: no Allocated* columns. */
	o.n = 0;
	memset(&e.allocation_id, 0, sizeof e - offsetof(struct chargeback_entry,
	    allocation_id));
	e.provider = "openai";
	e.memo = "true-up, Q3";
	e.amount = 1500000000;
	chargeback_entry_row(&e, collect, &o);
	assert_int_equal(columns(&o), 40);
	assert_int_equal(strncmp(o.buf, "payable:openai,openai,", 22), 0);
	assert_non_null(strstr(o.buf, ",Adjustment,,\"adjustment: true-up, "
	    "Q3\",One-Time,1.500000000,"));
	assert_non_null(strstr(o.buf, ",,,,,platform,platform,,\r\n"));
}

static void
test_unit_price_gives_back_the_cost(void **state)
{
	uint64_t rng = 7;
	char buf[CHARGEBACK_PRICE_BUFSZ];
	int i;

	(void)state;
	chargeback_unit_price(1, 3, 1000000, buf);
	assert_string_equal(buf, "0.000333333333333333");
	chargeback_unit_price(0, 5, 1, buf);
	assert_string_equal(buf, "0.000000000000000000");
	for (i = 0; i < 100000; i++) {
		int64_t nanos = (int64_t)(rng_next(&rng) % 1000000000000000ULL);
		int64_t q = 1 + (int64_t)(rng_next(&rng) % 1000000000000ULL);
		__int128 price = 0, prod, den = (__int128)1000000000000000LL, r,
		    back;
		const char *p;

		chargeback_unit_price(nanos, q, 1000000, buf);
		for (p = buf; *p != '\0'; p++)
			if (*p != '.')
				price = price * 10 + (*p - '0');
		/* price x 1e18, quantity x 1e6 per million: back to 1e9. */
		prod = price * q;
		back = prod / den;
		r = prod % den;
		if (2 * r > den || (2 * r == den && (back & 1)))
			back++;
		assert_true((int64_t)back == nanos);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quoting_and_columns),
		cmocka_unit_test(test_allocation_and_adjustment_rows),
		cmocka_unit_test(test_unit_price_gives_back_the_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
