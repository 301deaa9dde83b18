/*
 * tz.h - UTC offsets of IANA time zones, for the pricing engine's
 * time-of-day windows (and, later, budget periods). Backed by the system's
 * tz database through the C library; results are cached per zone and
 * quarter hour, since offsets only change at quarter-hour boundaries.
 */
#ifndef TOLLGATE_TZ_H
#define TOLLGATE_TZ_H

#include <stdint.h>

/* 1 when name is a time zone of the tz database ("UTC", "Europe/Berlin"). */
int tz_valid(const char *name);

/* The offset of zone tz at utc_us, in seconds east of UTC; 0 or -1 for an
 * unknown zone. Matches pricing_tz_fn (arg unused). */
int tz_offset(const char *tz, int64_t utc_us, int *offset_s, void *arg);

#endif
