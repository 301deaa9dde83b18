/*
 * itest.h - a small harness for integration tests: it starts the real
 * tollgate binary against a throwaway PostgreSQL, speaks HTTP to it with
 * libcurl, and looks at the database with libpq to check what was (and was
 * not) written.
 */
#ifndef TOLLGATE_ITEST_H
#define TOLLGATE_ITEST_H

#include <jansson.h>
#include <libpq-fe.h>

struct resp {
	long status;
	char *body;
	json_t *json;		/* NULL when the body is not JSON */
	char ctype[128];
	char request_id[80];
	char retry_after[16];
	char allow[64];
};

/* A growing NUL-terminated buffer, and the libcurl write callback that
 * fills one. */
struct buf {
	char *p;
	size_t n;
};
size_t itest_collect(char *data, size_t size, size_t nmemb, void *arg);

extern char admin_key[128], gateway_key[128], finance_key[128];
extern int test_failed;

/* method: "GET", "POST", ...; key may be NULL; body may be NULL.
 * extra: NULL-terminated list of "Header: value" strings. */
struct resp *http(const char *method, const char *path, const char *key,
    const char *body, const char *const *extra);
void resp_free(struct resp *r);
/* The server's URL for path (static storage, until the next call). */
const char *server_url(const char *path);
/* Send raw bytes on a new connection, read the answer until the server
 * closes or 5 s pass; returns the bytes read. */
int http_raw(const char *data, size_t n, char *out, size_t outsz);

/* The error code of an error reply, or "". */
const char *err_code(const struct resp *r);
const char *err_field(const struct resp *r);
/* A string member of the reply's top-level object, or "". */
const char *jstr(const struct resp *r, const char *name);

/* One value of a query run on the test database (NULL on error). The
 * returned string lives until the next call. */
const char *db_value(const char *sql);
/* Poll sql for up to 10 s until its first value is want (want NULL: until
 * it has a row); 1 when it came. For what the server writes behind its
 * answers. */
int db_wait(const char *sql, const char *want);
/* Seconds on a monotonic clock. */
double now_s(void);
long long db_count(const char *table);
/* Run SQL on the test database; 0 when it succeeded (errors not shown). */
int db_exec(const char *sql);
/* The error message of the last failed db_exec(). */
const char *db_error(void);

int server_start(void);
int server_stop(void);		/* 0 when it exited cleanly */
int server_kill(void);		/* SIGKILL, and reap it */
/* A second server on the same database, with extra environment settings
 * ("NAME=value", NULL-terminated, kept by the caller); ended with a
 * signal (0 when SIGTERM made it exit cleanly). itest_use_second(1) sends
 * the requests of http() and http_concurrent() to it, (0) back. */
int server2_start(const char *const *env);
int server2_end(int sig);
void itest_use_second(int yes);
/* http_concurrent() sends its odd-numbered requests to the second server. */
void itest_split(int on);
int pg_ctl(const char *what);	/* "stop" or "start" through scripts/pg.sh */
/* Run a command, capture its standard output (at most outsz bytes). */
int run_cmd(const char *cmd, char *out, size_t outsz);
/* POST body to path n times at once, with key; out[i] gets each reply
 * (free each with resp_free). */
void http_concurrent(const char *path, const char *key, const char *body,
    int n, struct resp **out);

/*
 * Store a native price document through the command line, as another
 * instance would, then quote quote_body until it prices (the server's
 * poll loaded the version) or 15 s pass. The last quote's reply, or NULL
 * when the import failed.
 */
struct resp *import_and_wait(const char *doc, const char *effective_from,
    const char *quote_body);
/* A whole file, NUL-terminated (free it), or NULL. */
char *itest_slurp(const char *path);
/* A TCP port on 127.0.0.1 that was free a moment ago. */
int itest_free_port(void);
/* The port the server under test listens on. */
int itest_server_port(void);

/* `tollgate key create ARGS`; the secret into out. 0 or -1. */
int cli_key(const char *args, char *out, size_t outsz);

/* A strict RFC 4180 reader: the fields of one record from *p, advanced
 * past its CRLF; -1 on anything malformed (longer fields are cut). */
#define ITEST_CSV_FIELD 1024
/* The chargeback CSV's header line, as DESIGN section 8 lists it. */
#define ITEST_FOCUS_HEADER "BillingAccountId,BillingAccountName," \
	"BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart," \
	"ChargePeriodEnd,ChargeCategory,ChargeClass,ChargeDescription," \
	"ChargeFrequency,BilledCost,EffectiveCost,ListCost,ListUnitPrice," \
	"ContractedCost,ContractedUnitPrice,BillingCurrency," \
	"ConsumedQuantity,ConsumedUnit,PricingQuantity,PricingUnit," \
	"ProviderName,PublisherName,InvoiceIssuerName,ServiceCategory," \
	"ServiceSubcategory,ServiceName,SkuId,SkuMeter,SubAccountId," \
	"SubAccountName,Tags,AllocatedMethodId,AllocatedMethodDetails," \
	"AllocatedResourceId,AllocatedTags,x_CostCenter,x_Department," \
	"x_Project,x_PriceVersionId\r\n"
int itest_csv_record(const char **p, char fields[][ITEST_CSV_FIELD], int max);

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "    FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fprintf(stderr, "\n"); \
		test_failed = 1; \
	} \
} while (0)

/* Check an error reply's status, code and field in one line. */
#define CHECK_ERR(r, st, code, field) do { \
	CHECK((r)->status == (st), "status %ld, want %d: %s", (r)->status, (st), (r)->body); \
	CHECK(strcmp(err_code(r), (code)) == 0, "code %s, want %s", err_code(r), (code)); \
	CHECK((field) == NULL || strcmp(err_field(r), (field) ? (field) : "") == 0, \
	    "field %s, want %s", err_field(r), (field) ? (field) : ""); \
} while (0)

struct itest {
	const char *name;
	void (*fn)(void);
};

extern const struct itest server_tests[];
extern const struct itest ledger_tests[];
extern const struct itest price_tests[];
extern const struct itest usage_tests[];
extern const struct itest crash_tests[];
extern const struct itest reprice_tests[];
extern const struct itest spool_tests[];
extern const struct itest budget_tests[];
extern const struct itest nginx_tests[];
extern const struct itest report_tests[];
extern const struct itest alloc_tests[];
extern const struct itest root_tests[];

#endif
