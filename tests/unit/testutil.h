/*
 * testutil.h - what the unit tests share: a deterministic pseudo-random
 * generator (splitmix64), so that every run draws the same cases.
 */
#ifndef TOLLGATE_TESTUTIL_H
#define TOLLGATE_TESTUTIL_H

#include <stdint.h>

static inline uint64_t
rng_next(uint64_t *state)
{
	uint64_t	z;

	z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

#endif
