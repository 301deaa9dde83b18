/*
 * alloc.h - the arithmetic of a shared-cost split: pure C, no I/O.
 *
 * A whole amount of nano-units is split in proportion to integer weights
 * (1 each for an even split, the targets' own spend, or percentages in
 * nano-percent) so that the parts sum to exactly the whole: each part is
 * the whole times its weight over the weights' sum, rounded down, and the
 * nano-units left over go one each to the parts that lost the largest
 * fractions, the earlier target first on a tie (largest remainder). The
 * same inputs always give the same parts.
 */
#ifndef TOLLGATE_ALLOC_H
#define TOLLGATE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* Most targets of one split. */
#define ALLOC_TARGETS_MAX 500
/* A ratio as "0.333333333": sign, digits, point, 9 decimals, NUL. */
#define ALLOC_RATIO_BUFSZ 32

/*
 * Split `whole` (>= 0) over n (1..ALLOC_TARGETS_MAX) non-negative weights
 * into parts[0..n-1]. Returns 0, or -1 with *why set when n is out of
 * range, the whole or a weight is negative, or the weights sum to zero.
 */
int alloc_split(int64_t whole, const int64_t *weights, size_t n,
    int64_t *parts, const char **why)
    __attribute__((warn_unused_result));

/*
 * part / whole as a decimal of at most 9 fractional digits, rounded half
 * to even, trailing zeros dropped ("0.6", "1", "0.333333333"); "0" when
 * whole is 0. For AllocatedRatio, which FOCUS wants as a JSON number.
 */
void alloc_ratio(int64_t part, int64_t whole, char *buf);

#endif
