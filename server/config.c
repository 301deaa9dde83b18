/*
 * config.c - the single table of settings and the code that reads them.
 *
 * Every setting is one row of `settings` below; `tollgate config` prints the
 * table, and `make check` fails when the README's table differs from it, so
 * the documentation cannot drift from the code. A bad value stops start-up
 * with a one-line error that names the setting and says what is allowed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/config.h"

enum setting_type { SET_STRING, SET_INT, SET_ADDR, SET_LEVEL };

struct setting {
	const char *name;
	enum setting_type type;
	const char *def;
	int64_t min, max;
	size_t off;		/* offset into struct tg_config */
	size_t size;		/* for strings */
	const char *help;
};

#define OFF(f) offsetof(struct tg_config, f)
#define STR(f) OFF(f), sizeof(((struct tg_config *)0)->f)

static const struct setting settings[] = {
	{ "TOLLGATE_DATABASE_URL", SET_STRING, "", 0, 0, STR(database_url),
	  "libpq connection string or URL of the PostgreSQL database; empty uses libpq's defaults (PGHOST, ...)" },
	{ "TOLLGATE_LISTEN", SET_ADDR, "127.0.0.1:8080", 0, 0, STR(listen_host),
	  "host:port the HTTP server listens on" },
	{ "TOLLGATE_LOG_LEVEL", SET_LEVEL, "info", 0, 0, OFF(log_level), 0,
	  "debug, info, warn or error; info logs one line per request" },
	{ "TOLLGATE_DB_POOL_SIZE", SET_INT, "4", 1, 64, OFF(db_pool_size), 0,
	  "PostgreSQL connections the server keeps open" },
	{ "TOLLGATE_BODY_LIMIT", SET_INT, "8388608", 1024, 1073741824,
	  OFF(body_limit), 0,
	  "largest request body accepted, in bytes; larger ones get 413" },
	{ "TOLLGATE_DB_STATEMENT_TIMEOUT_MS", SET_INT, "5000", 100, 600000,
	  OFF(db_statement_timeout_ms), 0,
	  "statement_timeout of every pooled connection, in milliseconds" },
	{ "TOLLGATE_VERIFY_TIMEOUT_MS", SET_INT, "600000", 100, 86400000,
	  OFF(verify_timeout_ms), 0,
	  "statement_timeout of GET /v1/ledger/verify, which reads the whole ledger, in milliseconds" },
	{ "TOLLGATE_DB_QUEUE_TIMEOUT_MS", SET_INT, "2000", 10, 60000,
	  OFF(db_queue_timeout_ms), 0,
	  "longest a request waits for a free connection before 503, in milliseconds" },
	{ "TOLLGATE_HTTP_TIMEOUT_S", SET_INT, "30", 1, 3600,
	  OFF(http_timeout_s), 0,
	  "idle and slow-client timeout of HTTP connections, in seconds" },
	{ "TOLLGATE_KEY_CACHE_TTL_S", SET_INT, "30", 0, 3600,
	  OFF(key_cache_ttl_s), 0,
	  "how long a verified API key is trusted from memory; a key revoked in the database stops working at once on every instance (notification), and within this time if that notification is lost" },
	{ "TOLLGATE_INGEST_MAX_EVENTS", SET_INT, "10000", 1, 100000,
	  OFF(ingest_max_events), 0,
	  "most usage events in one POST /v1/usage request" },
	{ "TOLLGATE_INGEST_BATCH", SET_INT, "5000", 1, 100000,
	  OFF(ingest_batch), 0,
	  "most usage events committed together (requests waiting while a commit runs share the next one)" },
	{ "TOLLGATE_AUTO_CREATE_COST_CENTERS", SET_INT, "0", 0, 1,
	  OFF(auto_create_cost_centers), 0,
	  "1: a cost center a usage event names is created on first use (with its parents, audited); 0: such events are rejected with unknown_cost_center" },
	{ "TOLLGATE_SPOOL_DIR", SET_STRING, "", 0, 0, STR(spool_dir),
	  "directory of the local write-ahead spool: usage events accepted while PostgreSQL is unreachable are kept there (fsync before the reply) and booked when it returns; empty: such requests get 503" },
	{ "TOLLGATE_INGEST_LINGER_US", SET_INT, "1000", 0, 100000,
	  OFF(ingest_linger_us), 0,
	  "microseconds usage waits, when a commit can start, for more events to commit with it" },
	{ "TOLLGATE_REPORT_FOLD_MS", SET_INT, "5000", 0, 3600000,
	  OFF(report_fold_ms), 0,
	  "milliseconds between folds of the daily rollups into the weekly, monthly and hourly sums that serve spend reports (days changed since the last fold, and today, are read from the daily rollups instead: the same figures, slower); 0: never" },
	{ "TOLLGATE_INGEST_PARALLEL", SET_INT, "2", 1, 16,
	  OFF(ingest_parallel), 0,
	  "usage commits running at once, each on its own connection (at most the pool size is useful)" },
	{ "TOLLGATE_INGEST_PARALLEL_MIN", SET_INT, "200", 1, 100000,
	  OFF(ingest_parallel_min), 0,
	  "usage events that must be waiting before a commit starts while another is running; fewer wait for it to end" },
	{ "TOLLGATE_INSTANCE", SET_STRING, "default", 0, 0, STR(instance),
	  "this instance's name, unique among the instances deciding on one database: a restarted instance takes back the reservations made under its name" },
	{ "TOLLGATE_LEASE_S", SET_INT, "10", 1, 3600, OFF(lease_s), 0,
	  "seconds a lease on a budget's room lasts unless renewed (renewed while in use); an instance that dies holds its leases this long, plus the drain" },
	{ "TOLLGATE_RESERVATION_TTL_MAX_S", SET_INT, "86400", 1, 86400,
	  OFF(reservation_ttl_max_s), 0,
	  "longest reservation_ttl_s accepted; also the drain: a lease's room returns to the other instances this long after the lease ends" },
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const char *const level_names[] = { "debug", "info", "warn", "error" };

static int
set_value(struct tg_config *cfg, const struct setting *s, const char *v,
    const char *origin, char *err, size_t errsz)
{
	char *base = (char *)cfg + s->off;
	char *end;
	long long n;
	size_t i, len = strlen(v);
	const char *colon;

	switch (s->type) {
	case SET_STRING:
		if (len >= s->size) {
			snprintf(err, errsz, "%s%s: longer than %zu bytes",
			    s->name, origin, s->size - 1);
			return -1;
		}
		memcpy(base, v, len + 1);
		return 0;
	case SET_INT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (len == 0 || *end != '\0' || errno != 0 || n < s->min ||
		    n > s->max) {
			snprintf(err, errsz, "%s%s: \"%s\" is not an integer "
			    "from %lld to %lld", s->name, origin, v,
			    (long long)s->min, (long long)s->max);
			return -1;
		}
		if (s->off == OFF(body_limit))
			*(int64_t *)(void *)base = n;
		else
			*(int *)(void *)base = (int)n;
		return 0;
	case SET_LEVEL:
		for (i = 0; i < 4; i++)
			if (strcasecmp(v, level_names[i]) == 0) {
				*(int *)(void *)base = (int)i;
				return 0;
			}
		snprintf(err, errsz, "%s%s: \"%s\" is not one of debug, info, "
		    "warn, error", s->name, origin, v);
		return -1;
	case SET_ADDR:
		colon = strrchr(v, ':');
		if (colon == NULL || colon == v ||
		    (size_t)(colon - v) >= sizeof(cfg->listen_host))
			goto bad_addr;
		errno = 0;
		n = strtoll(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || errno != 0 || n < 0 ||
		    n > 65535)
			goto bad_addr;
		memcpy(cfg->listen_host, v, (size_t)(colon - v));
		cfg->listen_host[colon - v] = '\0';
		cfg->listen_port = (int)n;
		return 0;
	bad_addr:
		snprintf(err, errsz, "%s%s: \"%s\" is not host:port with a "
		    "port from 0 to 65535", s->name, origin, v);
		return -1;
	}
	return -1;
}

static const struct setting *
find_setting(const char *name)
{
	size_t i;

	for (i = 0; i < NSETTINGS; i++) {
		/* The file may use the short lower-case form: listen = ... */
		if (strcasecmp(name, settings[i].name) == 0 ||
		    strcasecmp(name, settings[i].name + strlen("TOLLGATE_")) == 0)
			return &settings[i];
	}
	return NULL;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
load_file(struct tg_config *cfg, const char *path, char *err, size_t errsz)
{
	FILE *fp;
	char line[2048], origin[300];
	char *key, *val, *eq;
	const struct setting *s;
	int lineno = 0, rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "TOLLGATE_CONFIG: cannot open %s: %s",
		    path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof line, fp) != NULL) {
		lineno++;
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errsz, "TOLLGATE_CONFIG: %s line %d: "
			    "expected name = value", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if ((s = find_setting(key)) == NULL) {
			snprintf(err, errsz, "TOLLGATE_CONFIG: %s line %d: "
			    "unknown setting \"%s\"", path, lineno, key);
			rc = -1;
			break;
		}
		snprintf(origin, sizeof origin, " (%s line %d)", path, lineno);
		rc = set_value(cfg, s, val, origin, err, errsz);
	}
	fclose(fp);
	return rc;
}

int
config_load(struct tg_config *cfg, char *err, size_t errsz)
{
	const char *v;
	size_t i;

	memset(cfg, 0, sizeof *cfg);
	for (i = 0; i < NSETTINGS; i++)
		if (set_value(cfg, &settings[i], settings[i].def, " (default)",
		    err, errsz) != 0)
			return -1;
	if ((v = getenv("TOLLGATE_CONFIG")) != NULL && *v != '\0' &&
	    load_file(cfg, v, err, errsz) != 0)
		return -1;
	for (i = 0; i < NSETTINGS; i++) {
		if ((v = getenv(settings[i].name)) == NULL)
			continue;
		if (set_value(cfg, &settings[i], v, "", err, errsz) != 0)
			return -1;
	}
	return 0;
}

void
config_print_table(FILE *fp)
{
	size_t i;

	fprintf(fp, "| Variable | Default | Meaning |\n|---|---|---|\n");
	fprintf(fp, "| `TOLLGATE_CONFIG` | (none) | file of `name = value` "
	    "lines (names as below, or without the `TOLLGATE_` prefix, any "
	    "case); the environment wins over it |\n");
	for (i = 0; i < NSETTINGS; i++)
		fprintf(fp, "| `%s` | %s%s%s | %s |\n", settings[i].name,
		    *settings[i].def ? "`" : "",
		    *settings[i].def ? settings[i].def : "(empty)",
		    *settings[i].def ? "`" : "", settings[i].help);
}
