/*
 * metrics.h - request counters and latency histograms per route, rendered
 * in the Prometheus text format with the database pool's state.
 */
#ifndef TOLLGATE_METRICS_H
#define TOLLGATE_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct db_stats;
struct metrics;

/* labels[i] is "METHOD path" of route i; route n counts unmatched paths. */
struct metrics *metrics_new(const char *const *labels, size_t n);
void metrics_free(struct metrics *m);

void metrics_observe(struct metrics *m, size_t route, int status,
    int64_t micros);

void metrics_render(const struct metrics *m, const struct db_stats *db,
    struct evbuffer *out);

#endif
