/*
 * alloc.c - largest-remainder splits in integer arithmetic. Products of an
 * amount and a weight (each below 2^63) are kept in 128 bits, so no input
 * the API accepts can overflow; nothing here is floating point.
 */
#include <stdio.h>
#include <string.h>

#include "ledger/alloc.h"

int
alloc_split(int64_t whole, const int64_t *weights, size_t n, int64_t *parts,
    const char **why)
{
	unsigned __int128 sum = 0, rem[ALLOC_TARGETS_MAX];
	int64_t given = 0, left;
	size_t i, best;

	if (n < 1 || n > ALLOC_TARGETS_MAX) {
		*why = "the number of targets is out of range";
		return -1;
	}
	if (whole < 0) {
		*why = "the amount to split is negative";
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (weights[i] < 0) {
			*why = "a weight is negative";
			return -1;
		}
		sum += (unsigned __int128)weights[i];
	}
	if (sum == 0) {
		*why = "the weights sum to zero";
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned __int128 p = (unsigned __int128)whole *
		    (unsigned __int128)weights[i];

		/* p / sum <= whole, so it fits. */
		parts[i] = (int64_t)(p / sum);
		rem[i] = p % sum;
		given += parts[i];
	}
	/* Fewer than n nano-units are left: one each to the largest
	 * remainders, the first on a tie. */
	for (left = whole - given; left > 0; left--) {
		best = n;
		for (i = 0; i < n; i++)
			if (weights[i] > 0 && (best == n || rem[i] > rem[best]))
				best = i;
		parts[best]++;
		rem[best] = 0;
	}
	return 0;
}

void
alloc_ratio(int64_t part, int64_t whole, char *buf)
{
	unsigned __int128 num, den, q, r;
	unsigned long long ip, fp;
	int neg = (part < 0) != (whole < 0) && part != 0;
	size_t len;

	if (whole == 0) {
		snprintf(buf, ALLOC_RATIO_BUFSZ, "0");
		return;
	}
	num = (unsigned __int128)(part < 0 ? -(__int128)part : part) *
	    1000000000u;
	den = (unsigned __int128)(whole < 0 ? -(__int128)whole : whole);
	q = num / den;
	r = num % den;
	if (2 * r > den || (2 * r == den && (q & 1)))
		q++;
	ip = (unsigned long long)(q / 1000000000u);
	fp = (unsigned long long)(q % 1000000000u);
	snprintf(buf, ALLOC_RATIO_BUFSZ, "%s%llu.%09llu", neg && q != 0 ? "-" :
	    "", ip, fp);
	len = strlen(buf);
	while (buf[len - 1] == '0')
		buf[--len] = '\0';
	if (buf[len - 1] == '.')
		buf[--len] = '\0';
}
