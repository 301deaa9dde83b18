/*
 * config.h - tollgate's settings: one table of every setting (name, type,
 * default, bounds, help), read from the environment and from an optional
 * file named by TOLLGATE_CONFIG. The environment wins over the file.
 */
#ifndef TOLLGATE_CONFIG_H
#define TOLLGATE_CONFIG_H

#include <stdint.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

struct tg_config {
	char database_url[1024];	/* libpq connection string */
	char listen_host[256];
	int listen_port;
	int log_level;			/* enum log_level */
	int db_pool_size;
	int64_t body_limit;		/* bytes */
	int db_statement_timeout_ms;
	int verify_timeout_ms;		/* GET /v1/ledger/verify's */
	int db_queue_timeout_ms;
	int http_timeout_s;
	int key_cache_ttl_s;
	int ingest_max_events;		/* per request */
	int ingest_batch;		/* events per commit */
	int ingest_parallel;		/* commits at once */
	int ingest_parallel_min;	/* events to start one beside another */
	int ingest_linger_us;		/* wait to gather a batch */
	int report_fold_ms;		/* 0: the periods are never folded */
	int auto_create_cost_centers;	/* 0 or 1 */
	char spool_dir[900];		/* "": no spool */
	char instance[64];		/* reservations' owner across restarts */
	int lease_s;			/* leases on budgets' room */
	int reservation_ttl_max_s;	/* also the drain after a lease */
};

/*
 * Fill cfg from defaults, the config file and the environment. On failure
 * returns -1 and writes a one-line message naming the setting into err.
 */
int config_load(struct tg_config *cfg, char *err, size_t errsz)
    __attribute__((warn_unused_result));

/* Print the table of settings as Markdown rows (the README's source). */
void config_print_table(FILE *fp);

#endif
