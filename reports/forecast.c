/*
 * forecast.c - the month's end from its daily costs.
 *
 * The linear forecast fits y = a + b x by least squares to the last 14
 * complete days and adds its values for today and the days left; the
 * weekday forecast adds, for each of those days, the mean of the same
 * weekday over the last 4 weeks. Both replace today's partial cost by
 * their own, and both are computed as one exact fraction in 128 bits,
 * rounded once. A budget's status uses the weekday part alone over its
 * own period, and the day its spend reaches its amount by it.
 */
#include "reports/forecast.h"

static int64_t
round_div(__int128 num, __int128 den)
{
	__int128 q, r;
	int neg = (num < 0) != (den < 0);

	if (num < 0)
		num = -num;
	if (den < 0)
		den = -den;
	q = num / den;
	r = num % den;
	if (2 * r > den || (2 * r == den && (q & 1)))
		q++;
	return (int64_t)(neg ? -q : q);
}

void
forecast_month(const int64_t cost[FORECAST_DAYS], int month_day0,
    int days_left, struct forecast *out)
{
	const int today = FORECAST_DAYS - 1, n = FORECAST_TREND;
	const int first = today - n;	/* the trend's x = 0 */
	__int128 sy = 0, sxy = 0, sx, sxx, d, b, sum_x = 0, num;
	int64_t complete = 0, week = 0;
	int i, k;

	out->spent = 0;
	for (i = month_day0 < 0 ? 0 : month_day0; i <= today; i++) {
		out->spent += cost[i];
		if (i < today)
			complete += cost[i];
	}
	for (i = today - 7; i < today; i++)
		week += cost[i];
	out->burn_per_day = round_div(week, 7);

	for (i = 0; i < n; i++) {
		sy += cost[first + i];
		sxy += (__int128)i * cost[first + i];
	}
	sx = (__int128)n * (n - 1) / 2;
	sxx = (__int128)(n - 1) * n * (2 * n - 1) / 6;
	d = n * sxx - sx * sx;
	b = n * sxy - sx * sy;
	/* Today is x = n; the days left x = n .. n + days_left - 1. */
	for (k = 0; k < days_left; k++)
		sum_x += n + k;
	num = (__int128)days_left * (sy * d - b * sx) + b * n * sum_x;
	out->linear = complete + round_div(num, (__int128)n * d);
	out->slope_per_day = round_div(b, d);

	out->weekday = complete + forecast_weekday_rest(cost, days_left);
}

/* FORECAST_WEEKS times the same-weekday mean of day today + k: the
 * complete days today + k % 7 - 7w, w = 1 .. FORECAST_WEEKS. */
static __int128
weekday_sum(const int64_t cost[FORECAST_DAYS], int k)
{
	const int today = FORECAST_DAYS - 1;
	__int128 sum = 0;
	int w;

	for (w = 1; w <= FORECAST_WEEKS; w++)
		sum += cost[today + k % 7 - 7 * w];
	return sum;
}

int64_t
forecast_weekday_rest(const int64_t cost[FORECAST_DAYS], int days_left)
{
	__int128 num = 0;
	int k;

	for (k = 0; k < days_left; k++)
		num += weekday_sum(cost, k);
	return round_div(num, FORECAST_WEEKS);
}

int
forecast_weekday_run_out(const int64_t cost[FORECAST_DAYS], int days_left,
    int64_t spent_before, int64_t amount)
{
	/* Both sides times FORECAST_WEEKS, so that nothing is rounded. */
	__int128 num = (__int128)spent_before * FORECAST_WEEKS;
	const __int128 goal = (__int128)amount * FORECAST_WEEKS;
	int k;

	for (k = 0; k < days_left; k++) {
		num += weekday_sum(cost, k);
		if (num >= goal)
			return k;
	}
	return -1;
}
