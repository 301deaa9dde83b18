/*
 * test_pgarr.c - PostgreSQL array literals: every text element quoted
 * with only the double quote and the backslash escaped, NULL as NULL,
 * integers at their extremes, nested integer arrays as one element, and
 * the separators between elements.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "server/pgarr.h"

static void
test_empty(void **state)
{
	struct pgarr a;

	(void)state;
	pgarr_init(&a);
	assert_string_equal(pgarr_finish(&a), "{}");
	pgarr_free(&a);
}

static void
test_text(void **state)
{
	struct pgarr a;

	(void)state;
	pgarr_init(&a);
	pgarr_text(&a, "plain");
	pgarr_text(&a, NULL);
	pgarr_text(&a, "NULL");
	pgarr_text(&a, "");
	pgarr_text(&a, "a \"quoted\" back\\slash, {brace} é");
	assert_string_equal(pgarr_finish(&a),
	    "{\"plain\",NULL,\"NULL\",\"\","
	    "\"a \\\"quoted\\\" back\\\\slash, {brace} é\"}");
	pgarr_free(&a);
}

static void
test_ints(void **state)
{
	const int64_t q[] = { 1000, 0, -7, INT64_MAX, INT64_MIN };
	struct pgarr a;

	(void)state;
	pgarr_init(&a);
	pgarr_int(&a, 0);
	pgarr_int(&a, -1);
	pgarr_int(&a, INT64_MIN);
	pgarr_int(&a, INT64_MAX);
	pgarr_null(&a);
	assert_string_equal(pgarr_finish(&a), "{0,-1,-9223372036854775808,"
	    "9223372036854775807,NULL}");
	pgarr_free(&a);

	pgarr_init(&a);
	pgarr_ints(&a, q, 5);
	pgarr_ints(&a, q, 1);
	pgarr_ints(&a, q, 0);
	assert_string_equal(pgarr_finish(&a), "{\"{1000,0,-7,"
	    "9223372036854775807,-9223372036854775808}\",\"{1000}\",\"{}\"}");
	pgarr_free(&a);
}

/* Past the first allocation, many times over. */
static void
test_growth(void **state)
{
	char big[5000], want[16];
	struct pgarr a;
	const char *s;
	size_t i;

	(void)state;
	memset(big, '"', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	pgarr_init(&a);
	for (i = 0; i < 3000; i++)
		pgarr_int(&a, (int64_t)i);
	pgarr_text(&a, big);
	s = pgarr_finish(&a);
	assert_non_null(s);
	assert_int_equal(strncmp(s, "{0,1,2,", 7), 0);
	snprintf(want, sizeof want, ",2999,\"");
	assert_non_null(strstr(s, want));
	/* 4999 quotes, each escaped, between the element's own quotes. */
	assert_int_equal(strlen(strstr(s, want) + strlen(want)),
	    2 * 4999 + 2);
	pgarr_free(&a);
}

/* PostgreSQL's bigint[] text read back; anything else refused. */
static void
test_read_ints(void **state)
{
	int64_t v[3] = { 7, 7, 7 };

	(void)state;
	assert_int_equal(pgarr_read_ints("{}", v, 3), 0);
	assert_int_equal(pgarr_read_ints("{5}", v, 3), 1);
	assert_int_equal(v[0], 5);
	assert_int_equal(pgarr_read_ints("{1,-2,9223372036854775807}", v, 3),
	    3);
	assert_int_equal(v[1], -2);
	assert_int_equal(v[2], INT64_MAX);
	/* More than there is room for: counted, not stored. */
	v[1] = 7;
	assert_int_equal(pgarr_read_ints("{4,5,6,7}", v, 1), 4);
	assert_int_equal(v[0], 4);
	assert_int_equal(v[1], 7);
	assert_int_equal(pgarr_read_ints("{1,NULL}", v, 3), -1);
	assert_int_equal(pgarr_read_ints("{1,,2}", v, 3), -1);
	assert_int_equal(pgarr_read_ints("1,2", v, 3), -1);
	assert_int_equal(pgarr_read_ints("{1,2", v, 3), -1);
	assert_int_equal(pgarr_read_ints("{1}x", v, 3), -1);
	assert_int_equal(pgarr_read_ints("{99999999999999999999}", v, 3), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_ints),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_read_ints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
