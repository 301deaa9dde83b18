/*
 * test_forecast.c - month-end forecasts on synthetic spend with a known
 * slope, and on a weekly pattern the linear trend cannot see; a budget's
 * weekday projection and the day it runs out by it.
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

/* Weeks that differ: each weekday's mean is of its own 4 days. */
static void
test_weekday_rest_and_run_out(void **state)
{
	int64_t cost[FORECAST_DAYS] = { 0 };
	int i;

	(void)state;
	/* Today (34) is the weekday of 27, 20, 13, 6: those cost 1, 2, 3, 6
	 * (mean 3); tomorrow's (28, 21, 14, 7) 10 each; the day after's
	 * (29, 22, 15, 8) 1, 1, 1, 2 (mean 1.25); the rest nothing. */
	cost[27] = 1, cost[20] = 2, cost[13] = 3, cost[6] = 6;
	for (i = 7; i < 34; i += 7)
		cost[i] = 10;
	cost[29] = 1, cost[22] = 1, cost[15] = 1, cost[8] = 2;
	cost[34] = 1000;	/* today's partial spend is not used */
	assert_int_equal(forecast_weekday_rest(cost, 0), 0);
	assert_int_equal(forecast_weekday_rest(cost, 1), 3);
	assert_int_equal(forecast_weekday_rest(cost, 2), 13);
	/* 14.25 rounds to 14; ten days are that week twice, 28.5, which
	 * rounds to the even 28. */
	assert_int_equal(forecast_weekday_rest(cost, 3), 14);
	assert_int_equal(forecast_weekday_rest(cost, 10), 28);
	/* 100 spent before today, amount 113: reached by tomorrow's end
	 * (100 + 3 + 10); 114 only the day after (114.25); 200 not within
	 * 10 days (128.5). */
	assert_int_equal(forecast_weekday_run_out(cost, 10, 100, 113), 1);
	assert_int_equal(forecast_weekday_run_out(cost, 10, 100, 114), 2);
	assert_int_equal(forecast_weekday_run_out(cost, 10, 100, 200), -1);
	assert_int_equal(forecast_weekday_run_out(cost, 10, 100, 100), 0);
	assert_int_equal(forecast_weekday_run_out(cost, 1, 100, 113), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_slope),
		cmocka_unit_test(test_weekday_pattern),
		cmocka_unit_test(test_weekday_rest_and_run_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
