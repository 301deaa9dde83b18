/*
 * keys.c - API key generation, hashing and the verified-key cache.
 *
 * A secret is "tg_" followed by 32 random bytes in base64url. Its SHA-256 is
 * what the database keeps; a lost secret cannot be recovered, only replaced.
 * The cache is an open-addressing table of at most CACHE_MAX entries; when
 * it is full it is simply emptied, which costs one database lookup per key
 * and bounds the memory an attacker can make us use.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "server/keys.h"

#define CACHE_SLOTS 4096	/* power of two */
#define CACHE_MAX (CACHE_SLOTS / 2)

struct cache_entry {
	unsigned char hash[KEY_HASH_LEN];
	int64_t stored_s;
	int used;
	struct key_info info;
};

struct key_cache {
	int ttl_s;
	int count;
	struct cache_entry slots[CACHE_SLOTS];
};

static const char *const role_names[] = { "admin", "gateway", "finance" };

int
keys_role_parse(const char *s)
{
	int i;

	for (i = 0; i < 3; i++)
		if (s != NULL && strcmp(s, role_names[i]) == 0)
			return 1 << i;
	return 0;
}

const char *
keys_role_name(int role)
{
	switch (role) {
	case ROLE_ADMIN:
		return "admin";
	case ROLE_GATEWAY:
		return "gateway";
	case ROLE_FINANCE:
		return "finance";
	}
	return "none";
}

/* OpenSSL 3's one-shot SHA256() looks the algorithm up at every call,
 * which cost more than the hashing of a key or an event: the digest is
 * fetched once, and one context serves every call (the server has one
 * thread). */
void
keys_hash(const char *secret, size_t len, unsigned char out[KEY_HASH_LEN])
{
	static EVP_MD *md;
	static EVP_MD_CTX *ctx;

	if ((md == NULL && (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) ||
	    (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL) ||
	    EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, secret, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		SHA256((const unsigned char *)secret, len, out);
}

void
keys_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
base64url(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = tab[v & 63];
	}
	if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
	} else if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
	}
	out[o] = '\0';
}

int
keys_create_sync(PGconn *conn, int role, const char *name, const char *scope,
    const char *cost_center, int if_none, char id[KEY_ID_BUFSZ],
    char secret[KEY_SECRET_BUFSZ], char *err, size_t errsz)
{
	unsigned char rnd[32], idb[8], hash[KEY_HASH_LEN];
	char hashhex[2 * KEY_HASH_LEN + 1];
	const char *params[6];
	PGresult *res;
	int rc = -1;

	if (RAND_bytes(rnd, sizeof rnd) != 1 || RAND_bytes(idb, sizeof idb) != 1) {
		snprintf(err, errsz, "no randomness available");
		return -1;
	}
	memcpy(secret, "tg_", 3);
	base64url(rnd, sizeof rnd, secret + 3);
	OPENSSL_cleanse(rnd, sizeof rnd);
	memcpy(id, "key_", 4);
	keys_hex(idb, sizeof idb, id + 4);
	keys_hash(secret, strlen(secret), hash);
	keys_hex(hash, sizeof hash, hashhex);

	params[0] = id;
	params[1] = name != NULL ? name : "";
	params[2] = keys_role_name(role);
	params[3] = hashhex;
	params[4] = scope;
	params[5] = cost_center;
	/* The advisory lock makes "create the first key" safe against two
	 * concurrent `make run`s. */
	res = PQexecParams(conn,
	    "WITH l AS (SELECT pg_advisory_xact_lock(7201)) "
	    "INSERT INTO api_keys (id, name, role, secret_hash, scope, "
	    "cost_center) "
	    "SELECT $1, $2, $3, decode($4, 'hex'), $5, $6 FROM l "
	    "WHERE NOT $7::boolean OR NOT EXISTS (SELECT 1 FROM api_keys)",
	    7, NULL, (const char *const[]){ params[0], params[1], params[2],
	    params[3], params[4], params[5], if_none ? "true" : "false" }, NULL,
	    NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		snprintf(err, errsz, "%s", PQresultErrorMessage(res));
	else
		rc = atoi(PQcmdTuples(res)) == 1 ? 0 : 1;
	PQclear(res);
	if (rc != 0)
		OPENSSL_cleanse(secret, KEY_SECRET_BUFSZ);
	return rc;
}

struct key_cache *
key_cache_new(int ttl_s)
{
	struct key_cache *kc = calloc(1, sizeof *kc);

	if (kc != NULL)
		kc->ttl_s = ttl_s;
	return kc;
}

void
key_cache_free(struct key_cache *kc)
{
	if (kc != NULL)
		OPENSSL_cleanse(kc, sizeof *kc);
	free(kc);
}

static size_t
slot_of(const unsigned char *hash)
{
	size_t h;

	memcpy(&h, hash, sizeof h);
	return h & (CACHE_SLOTS - 1);
}

const struct key_info *
key_cache_get(struct key_cache *kc, const unsigned char hash[KEY_HASH_LEN],
    int64_t now_s, int stale_ok)
{
	size_t i, s = slot_of(hash);
	struct cache_entry *e;

	for (i = 0; i < CACHE_SLOTS; i++) {
		e = &kc->slots[(s + i) & (CACHE_SLOTS - 1)];
		if (!e->used)
			return NULL;
		if (CRYPTO_memcmp(e->hash, hash, KEY_HASH_LEN) == 0)
			return stale_ok || now_s - e->stored_s < kc->ttl_s ?
			    &e->info : NULL;
	}
	return NULL;
}

void
key_cache_clear(struct key_cache *kc)
{
	memset(kc->slots, 0, sizeof kc->slots);
	kc->count = 0;
}

void
key_cache_put(struct key_cache *kc, const unsigned char hash[KEY_HASH_LEN],
    const struct key_info *info, int64_t now_s)
{
	size_t i, s = slot_of(hash);
	struct cache_entry *e;

	if (kc->ttl_s <= 0)
		return;
	if (kc->count >= CACHE_MAX)
		key_cache_clear(kc);
	for (i = 0; i < CACHE_SLOTS; i++) {
		e = &kc->slots[(s + i) & (CACHE_SLOTS - 1)];
		if (e->used && CRYPTO_memcmp(e->hash, hash, KEY_HASH_LEN) != 0)
			continue;
		if (!e->used)
			kc->count++;
		memcpy(e->hash, hash, KEY_HASH_LEN);
		e->info = *info;
		e->stored_s = now_s;
		e->used = 1;
		return;
	}
}
