/*
 * metrics.c - counters kept as plain arrays indexed by route and status, so
 * that observing a request is a few additions on the hot path and all the
 * formatting cost is paid by the scraper.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "server/db.h"
#include "server/metrics.h"

static const int64_t bucket_us[] = { 100, 250, 500, 1000, 2500, 5000, 10000,
	25000, 50000, 100000, 250000, 500000, 1000000, 5000000 };
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

struct route_stats {
	uint64_t status[500];		/* index: status - 100 */
	uint64_t buckets[NBUCKETS + 1];	/* last: +Inf */
	uint64_t count;
	int64_t sum_us;
};

struct metrics {
	size_t n;
	const char *const *labels;
	struct route_stats *r;		/* n + 1 */
};

struct metrics *
metrics_new(const char *const *labels, size_t n)
{
	struct metrics *m = calloc(1, sizeof *m);

	if (m == NULL)
		return NULL;
	m->n = n;
	m->labels = labels;
	if ((m->r = calloc(n + 1, sizeof *m->r)) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	free(m->r);
	free(m);
}

void
metrics_observe(struct metrics *m, size_t route, int status, int64_t us)
{
	struct route_stats *rs = &m->r[route < m->n ? route : m->n];
	size_t b;

	if (status >= 100 && status < 600)
		rs->status[status - 100]++;
	for (b = 0; b < NBUCKETS && us > bucket_us[b]; b++)
		;
	rs->buckets[b]++;
	rs->count++;
	rs->sum_us += us;
}

static void
split_label(const char *label, char *method, size_t msz, const char **path)
{
	const char *sp = strchr(label, ' ');
	size_t len = sp != NULL ? (size_t)(sp - label) : 0;

	if (len >= msz)
		len = msz - 1;
	memcpy(method, label, len);
	method[len] = '\0';
	*path = sp != NULL ? sp + 1 : label;
}

void
metrics_render(const struct metrics *m, const struct db_stats *db,
    struct evbuffer *out)
{
	const struct route_stats *rs;
	char method[16];
	const char *path;
	uint64_t cum;
	size_t i, b;
	int s;

	evbuffer_add_printf(out,
	    "# HELP tollgate_http_requests_total HTTP requests by route and status.\n"
	    "# TYPE tollgate_http_requests_total counter\n");
	for (i = 0; i <= m->n; i++) {
		rs = &m->r[i];
		if (i < m->n)
			split_label(m->labels[i], method, sizeof method, &path);
		else {
			strcpy(method, "");
			path = "unmatched";
		}
		for (s = 0; s < 500; s++)
			if (rs->status[s] != 0)
				evbuffer_add_printf(out,
				    "tollgate_http_requests_total{method=\"%s\","
				    "route=\"%s\",status=\"%d\"} %llu\n", method,
				    path, s + 100,
				    (unsigned long long)rs->status[s]);
	}
	evbuffer_add_printf(out,
	    "# HELP tollgate_http_request_duration_seconds Time from request "
	    "to reply.\n"
	    "# TYPE tollgate_http_request_duration_seconds histogram\n");
	for (i = 0; i <= m->n; i++) {
		rs = &m->r[i];
		if (rs->count == 0)
			continue;
		if (i < m->n)
			split_label(m->labels[i], method, sizeof method, &path);
		else {
			strcpy(method, "");
			path = "unmatched";
		}
		cum = 0;
		for (b = 0; b <= NBUCKETS; b++) {
			cum += rs->buckets[b];
			if (b < NBUCKETS)
				evbuffer_add_printf(out,
				    "tollgate_http_request_duration_seconds_bucket"
				    "{method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
				    method, path, (double)bucket_us[b] / 1e6,
				    (unsigned long long)cum);
			else
				evbuffer_add_printf(out,
				    "tollgate_http_request_duration_seconds_bucket"
				    "{method=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n",
				    method, path, (unsigned long long)cum);
		}
		evbuffer_add_printf(out,
		    "tollgate_http_request_duration_seconds_sum{method=\"%s\","
		    "route=\"%s\"} %lld.%06lld\n"
		    "tollgate_http_request_duration_seconds_count{method=\"%s\","
		    "route=\"%s\"} %llu\n", method, path,
		    (long long)(rs->sum_us / 1000000),
		    (long long)(rs->sum_us % 1000000), method, path,
		    (unsigned long long)rs->count);
	}
	evbuffer_add_printf(out,
	    "# HELP tollgate_db_connections PostgreSQL pool connections by state.\n"
	    "# TYPE tollgate_db_connections gauge\n"
	    "tollgate_db_connections{state=\"configured\"} %d\n"
	    "tollgate_db_connections{state=\"up\"} %d\n"
	    "tollgate_db_connections{state=\"busy\"} %d\n"
	    "# HELP tollgate_db_queue_length Queries waiting for a connection.\n"
	    "# TYPE tollgate_db_queue_length gauge\n"
	    "tollgate_db_queue_length %d\n"
	    "# HELP tollgate_db_queries_total Queries sent to PostgreSQL.\n"
	    "# TYPE tollgate_db_queries_total counter\n"
	    "tollgate_db_queries_total %llu\n"
	    "# HELP tollgate_db_failures_total Queries that did not succeed, by reason.\n"
	    "# TYPE tollgate_db_failures_total counter\n"
	    "tollgate_db_failures_total{reason=\"error\"} %llu\n"
	    "tollgate_db_failures_total{reason=\"unavailable\"} %llu\n"
	    "tollgate_db_failures_total{reason=\"queue_timeout\"} %llu\n"
	    "# HELP tollgate_db_reconnects_total Connections lost and retried.\n"
	    "# TYPE tollgate_db_reconnects_total counter\n"
	    "tollgate_db_reconnects_total %llu\n",
	    db->connections, db->up, db->busy, db->queued,
	    (unsigned long long)db->queries, (unsigned long long)db->errors,
	    (unsigned long long)db->unavailable,
	    (unsigned long long)db->timeouts,
	    (unsigned long long)db->reconnects);
}
