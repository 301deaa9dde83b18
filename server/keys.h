/*
 * keys.h - API keys: generation, hashing, the role bits, and a small cache
 * of verified keys so that a request does not cost a database round trip.
 *
 * Only the SHA-256 of a secret is ever stored or compared; the cache is
 * keyed by that hash and entries are compared in constant time.
 */
#ifndef TOLLGATE_KEYS_H
#define TOLLGATE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#define KEY_HASH_LEN 32
#define KEY_ID_BUFSZ 24		/* "key_" + 16 hex + NUL */
#define KEY_SECRET_BUFSZ 64	/* "tg_" + 43 base64url + NUL */
#define KEY_SCOPE_MAX 200

enum key_role {
	ROLE_ADMIN = 1,
	ROLE_GATEWAY = 2,
	ROLE_FINANCE = 4
};
#define ROLE_ANY (ROLE_ADMIN | ROLE_GATEWAY | ROLE_FINANCE)

struct key_info {
	char id[KEY_ID_BUFSZ];
	int role;			/* one enum key_role bit */
	char scope[KEY_SCOPE_MAX + 1];	/* cost-center subtree; "" = all */
	char cost_center[KEY_SCOPE_MAX + 1]; /* default for usage; "" = none */
};

/* "admin" -> ROLE_ADMIN; 0 when unknown. */
int keys_role_parse(const char *s);
const char *keys_role_name(int role);

void keys_hash(const char *secret, size_t len, unsigned char out[KEY_HASH_LEN]);
/* Lower-case hex of n bytes; out holds 2n+1. */
void keys_hex(const unsigned char *in, size_t n, char *out);

/*
 * Create a key in the database (synchronously: command line only) and
 * write its secret into secret. With if_none, create nothing and return 1
 * when any key exists. Returns 0 when created, -1 with err on failure.
 */
int keys_create_sync(PGconn *conn, int role, const char *name,
    const char *scope, const char *cost_center, int if_none,
    char id[KEY_ID_BUFSZ],
    char secret[KEY_SECRET_BUFSZ], char *err, size_t errsz);

struct key_cache;

struct key_cache *key_cache_new(int ttl_s);
void key_cache_free(struct key_cache *kc);
/* The cached key for hash, or NULL when absent or older than the TTL
 * (with stale_ok, also when older: for when the database cannot be
 * asked, so that a known key keeps working through an outage). */
const struct key_info *key_cache_get(struct key_cache *kc,
    const unsigned char hash[KEY_HASH_LEN], int64_t now_s, int stale_ok);
/* Forget every key (keys changed: each is verified again on next use). */
void key_cache_clear(struct key_cache *kc);
void key_cache_put(struct key_cache *kc, const unsigned char hash[KEY_HASH_LEN],
    const struct key_info *info, int64_t now_s);

#endif
