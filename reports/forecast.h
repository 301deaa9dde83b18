/*
 * forecast.h - where a month's spend is heading, from its daily costs:
 * pure C, integers only (costs are nano-units; each forecast is rounded
 * once, half to even).
 */
#ifndef TOLLGATE_FORECAST_H
#define TOLLGATE_FORECAST_H

#include <stdint.h>

#define FORECAST_DAYS 35	/* days of history, ending with today */
#define FORECAST_TREND 14	/* complete days the linear trend is fit to */
#define FORECAST_WEEKS 4	/* weeks the same-weekday average reads */

struct forecast {
	int64_t spent;		/* the month so far, today included */
	int64_t burn_per_day;	/* mean of the last 7 complete days */
	int64_t linear;		/* the month's end, on the 14-day trend */
	int64_t weekday;	/* the month's end, each day as the same
				 * weekday of the last 4 weeks */
	int64_t slope_per_day;	/* the trend's change per day, rounded */
};

/*
 * cost[i] is day (today - FORECAST_DAYS + 1 + i); the last is today, not
 * complete. month_day0 is the index of the month's first day (may be
 * negative when it is older than the history); days_left counts the
 * month's days from today on, today included.
 */
void forecast_month(const int64_t cost[FORECAST_DAYS], int month_day0,
    int days_left, struct forecast *out);

/*
 * The same-weekday part of the forecast, for any period (a budget's):
 * the spend of the days_left days from today on, today included, each
 * day costing the mean of the same weekday over the last FORECAST_WEEKS
 * complete weeks of cost (laid out as for forecast_month), rounded once.
 */
int64_t forecast_weekday_rest(const int64_t cost[FORECAST_DAYS],
    int days_left);

/*
 * The first of those days (0: today) by whose end spent_before (what was
 * spent before today) plus the same-weekday means reaches amount,
 * compared exactly; -1 when none of the days_left does.
 */
int forecast_weekday_run_out(const int64_t cost[FORECAST_DAYS],
    int days_left, int64_t spent_before, int64_t amount);

#endif
