/*
 * tz.c - time zone offsets from the C library. glibc treats an unknown TZ
 * as UTC without a word, so a zone is valid only when its file exists in
 * the tz database; names are checked before they are ever used as a path.
 * Switching TZ is process-wide, which is fine in this single-threaded
 * server; the cache keeps the switching (and tzset's file reads) rare.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/tz.h"

#define CACHE_SLOTS 256
#define ZONEINFO "/usr/share/zoneinfo/"

struct tz_slot {
	char name[72];
	int64_t bucket;		/* utc seconds / 900 */
	int offset_s;
	int used;
};

static struct tz_slot cache[CACHE_SLOTS];

static int
name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n >= 64 || name[0] == '/' || strstr(name, "..") != NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '/' ||
		    name[i] == '_' || name[i] == '-' || name[i] == '+'))
			return 0;
	return 1;
}

int
tz_valid(const char *name)
{
	char path[128];

	if (!name_ok(name))
		return 0;
	if (strcmp(name, "UTC") == 0)
		return 1;
	snprintf(path, sizeof path, ZONEINFO "%s", name);
	return access(path, R_OK) == 0;
}

static unsigned
hash(const char *s, int64_t bucket)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h ^ (unsigned)bucket) * 16777619u;
}

int
tz_offset(const char *tz, int64_t utc_us, int *offset_s, void *arg)
{
	int64_t secs = utc_us >= 0 ? utc_us / 1000000 :
	    -((-utc_us + 999999) / 1000000);
	int64_t bucket = secs >= 0 ? secs / 900 : -((-secs + 899) / 900);
	struct tz_slot *s = &cache[hash(tz, bucket) % CACHE_SLOTS];
	time_t t = (time_t)secs;
	struct tm tm;

	(void)arg;
	if (s->used && s->bucket == bucket && strcmp(s->name, tz) == 0) {
		*offset_s = s->offset_s;
		return 0;
	}
	if (!tz_valid(tz))
		return -1;
	setenv("TZ", tz, 1);
	tzset();
	if (localtime_r(&t, &tm) == NULL) {
		setenv("TZ", "UTC", 1);
		tzset();
		return -1;
	}
	setenv("TZ", "UTC", 1);
	tzset();
	*offset_s = (int)tm.tm_gmtoff;
	snprintf(s->name, sizeof s->name, "%s", tz);
	s->bucket = bucket;
	s->offset_s = *offset_s;
	s->used = 1;
	return 0;
}
