/*
 * test_forecast.c - month-end forecasts on synthetic spend with a known
 * slope, and on a weekly pattern the linear trend cannot see.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "reports/forecast.h"

static void
test_known_slope(void **state)
{
	int64_t cost[FORECAST_DAYS];
	struct forecast f;
	int64_t want = 0;
	int i;

	(void)state;
	/* Day i costs 1000 + 250 i; today (i = 34) only half spent. */
	for (i = 0; i < FORECAST_DAYS; i++)
		cost[i] = 1000 + 250 * i;
	cost[FORECAST_DAYS - 1] /= 2;
	/* The month began 10 days ago and has 5 days left, today included. */
	forecast_month(cost, FORECAST_DAYS - 11, 5, &f);
	assert_int_equal(f.slope_per_day, 250);
	for (i = FORECAST_DAYS - 11; i < FORECAST_DAYS - 1; i++)
		want += cost[i];
	assert_int_equal(f.spent, want + cost[FORECAST_DAYS - 1]);
	for (i = FORECAST_DAYS - 1; i < FORECAST_DAYS + 4; i++)
		want += 1000 + 250 * i;
	assert_int_equal(f.linear, want);
	/* The last 7 complete days: 1000 + 250 x (27..33), mean at 30. */
	assert_int_equal(f.burn_per_day, 1000 + 250 * 30);
}

static void
test_weekday_pattern(void **state)
{
	int64_t cost[FORECAST_DAYS];
	struct forecast f;
	int i;

	(void)state;
	/* Weekdays cost 700, weekends nothing; today is index 34. */
	for (i = 0; i < FORECAST_DAYS; i++)
		cost[i] = (i % 7 == 5 || i % 7 == 6) ? 0 : 700;
	forecast_month(cost, 0, 7, &f);
	/* A week from today: five working days at 700. The complete days
	 * so far: the 35 days but today. */
	{
		int64_t complete = 0;

		for (i = 0; i < FORECAST_DAYS - 1; i++)
			complete += cost[i];
		assert_int_equal(f.weekday, complete + 5 * 700);
	}
	assert_int_equal(f.slope_per_day, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_slope),
		cmocka_unit_test(test_weekday_pattern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
