/*
 * test_alloc.c - shared-cost splits: even, weighted and percent splits with
 * remainders, exact sums on random inputs, and the ratios FOCUS shows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "ledger/alloc.h"
#include "tests/unit/testutil.h"

static void
test_even_remainder(void **state)
{
	int64_t w[3] = { 1, 1, 1 }, p[3];
	const char *why;

	(void)state;
	/* 10 over 3: 3 each and the one left over to the first. */
	assert_int_equal(alloc_split(10, w, 3, p, &why), 0);
	assert_int_equal(p[0], 4);
	assert_int_equal(p[1], 3);
	assert_int_equal(p[2], 3);
	/* 11: the first two. */
	assert_int_equal(alloc_split(11, w, 3, p, &why), 0);
	assert_int_equal(p[0], 4);
	assert_int_equal(p[1], 4);
	assert_int_equal(p[2], 3);
	/* Less than one nano-unit each. */
	assert_int_equal(alloc_split(2, w, 3, p, &why), 0);
	assert_int_equal(p[0], 1);
	assert_int_equal(p[1], 1);
	assert_int_equal(p[2], 0);
	assert_int_equal(alloc_split(0, w, 3, p, &why), 0);
	assert_int_equal(p[0] + p[1] + p[2], 0);
}

static void
test_weighted_largest_remainder(void **state)
{
	/* 100 by 1:2:4 is 14.28, 28.57, 57.14: floors 14, 28, 57 = 99; the
	 * largest fraction (.57) takes the last one. */
	int64_t w[3] = { 1, 2, 4 }, p[3];
	int64_t z[3] = { 0, 5, 0 };
	const char *why;

	(void)state;
	assert_int_equal(alloc_split(100, w, 3, p, &why), 0);
	assert_int_equal(p[0], 14);
	assert_int_equal(p[1], 29);
	assert_int_equal(p[2], 57);
	/* A target without spend gets nothing. */
	assert_int_equal(alloc_split(7, z, 3, p, &why), 0);
	assert_int_equal(p[0], 0);
	assert_int_equal(p[1], 7);
	assert_int_equal(p[2], 0);
}

static void
test_percent(void **state)
{
	/* 60 / 25 / 15 percent, in nano-percent, of 1.000000001 units. */
	int64_t w[3] = { 60000000000LL, 25000000000LL, 15000000000LL }, p[3];
	int64_t third[3] = { 33333333333LL, 33333333333LL, 33333333334LL };
	const char *why;

	(void)state;
	assert_int_equal(alloc_split(1000000001, w, 3, p, &why), 0);
	assert_int_equal(p[0], 600000001);	/* .6 of the odd nano-unit */
	assert_int_equal(p[1], 250000000);
	assert_int_equal(p[2], 150000000);
	assert_int_equal(alloc_split(100, third, 3, p, &why), 0);
	assert_int_equal(p[0] + p[1] + p[2], 100);
	assert_int_equal(p[2], 34);
}

static void
test_refused(void **state)
{
	int64_t w[2] = { 0, 0 }, neg[2] = { 1, -1 }, p[2];
	const char *why = NULL;

	(void)state;
	assert_int_equal(alloc_split(5, w, 2, p, &why), -1);
	assert_non_null(why);
	assert_int_equal(alloc_split(5, neg, 2, p, &why), -1);
	assert_int_equal(alloc_split(-5, w, 2, p, &why), -1);
	assert_int_equal(alloc_split(5, w, 0, p, &why), -1);
	assert_int_equal(alloc_split(5, w, ALLOC_TARGETS_MAX + 1, p, &why), -1);
}

/* Any amount, any weights up to the largest: the parts sum to the whole,
 * and none is more than one nano-unit from its exact share. */
static void
test_random_sums(void **state)
{
	static int64_t w[ALLOC_TARGETS_MAX], p[ALLOC_TARGETS_MAX];
	uint64_t rng = 6;
	const char *why;
	int round;

	(void)state;
	for (round = 0; round < 2000; round++) {
		size_t n = 1 + rng_next(&rng) % (round % 10 ? 12 :
		    ALLOC_TARGETS_MAX), i;
		int64_t whole = (int64_t)(rng_next(&rng) >> (1 + round % 63));
		unsigned __int128 sum = 0;
		__int128 total = 0;

		for (i = 0; i < n; i++) {
			w[i] = (int64_t)(rng_next(&rng) >> (1 + rng_next(&rng) %
			    63));
			sum += (unsigned __int128)w[i];
		}
		if (sum == 0)
			continue;
		assert_int_equal(alloc_split(whole, w, n, p, &why), 0);
		for (i = 0; i < n; i++) {
			__int128 exact_lo = (__int128)((unsigned __int128)whole *
			    (unsigned __int128)w[i] / sum);

			assert_true(p[i] == exact_lo || p[i] == exact_lo + 1);
			total += p[i];
		}
		assert_true(total == whole);
	}
}

static void
test_ratio(void **state)
{
	char b[ALLOC_RATIO_BUFSZ];

	(void)state;
	alloc_ratio(600000001, 1000000001, b);
	assert_string_equal(b, "0.6");
	alloc_ratio(1, 3, b);
	assert_string_equal(b, "0.333333333");
	alloc_ratio(2, 3, b);
	assert_string_equal(b, "0.666666667");
	alloc_ratio(5, 5, b);
	assert_string_equal(b, "1");
	alloc_ratio(-5, 5, b);
	assert_string_equal(b, "-1");
	alloc_ratio(0, 5, b);
	assert_string_equal(b, "0");
	alloc_ratio(3, 0, b);
	assert_string_equal(b, "0");
	alloc_ratio(INT64_MAX, INT64_MAX, b);
	assert_string_equal(b, "1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_even_remainder),
		cmocka_unit_test(test_weighted_largest_remainder),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_random_sums),
		cmocka_unit_test(test_ratio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
