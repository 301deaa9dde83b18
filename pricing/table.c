/*
 * table.c - price tables (one version of the price list) and the book of
 * every version.
 *
 * Every usage event looks its price up, so lookup must not depend on the
 * size of the list: a table keeps one open-addressing hash index of
 * (provider, model) names, each holding the entry of every service tier,
 * so that the fallback from a missing tier to standard costs no second
 * probe. The index grows while entries are added, which also makes the
 * duplicate check O(1); sealing adds the aliases to it, pointing at their
 * target's tiers, and writes the discounts into the entries. A sealed
 * table is read-only, so any number of threads may read it.
 *
 * A failed seal leaves the table as it was before, unsealed. Finding
 * works before sealing too, for models only: importers use it to check
 * what the new table holds before carrying aliases over.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pricing/pricing.h"

#define PRICING_PPM	1000000

/*
 * A (provider, name) key of the index: a model, or an alias of one. The
 * names live in the entry or alias at index src, found by index because
 * those arrays move as they grow.
 */
struct pricing_key {
	uint64_t	 hash;
	uint32_t	 src;
	int		 is_alias;
	int32_t		 tier[PT_COUNT];	/* entry index, or -1 */
};

struct pricing_alias {
	char	provider[PRICING_PROVIDER_MAX + 1];
	char	alias[PRICING_MODEL_MAX + 1];
	char	model[PRICING_MODEL_MAX + 1];
};

struct pricing_discount {
	char	provider[PRICING_PROVIDER_MAX + 1];
	char	model[PRICING_MODEL_MAX + 1];	/* "" for the provider */
	int32_t	ppm;
};

struct pricing_table {
	struct pricing_entry	*entries;
	size_t			 n_entries, cap_entries;
	struct pricing_alias	*aliases;
	size_t			 n_aliases, cap_aliases;
	struct pricing_discount	*discounts;
	size_t			 n_discounts, cap_discounts;
	struct pricing_key	*keys;
	size_t			 n_keys, cap_keys;
	uint32_t		*slots;		/* key index + 1; 0 is free */
	size_t			 mask;		/* slot count - 1 */
	int			 sealed;
};

struct pricing_version {
	int64_t			 version_id;
	int64_t			 from_us;
	struct pricing_table	*table;
};

struct pricing_book {
	struct pricing_version	*v;
	size_t			 n, cap;
};

static int
pricing_fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return (-1);
}

/*
 * The array p with room for one more element than its n: p itself, a
 * larger copy (*cap updated), or NULL when out of memory (p untouched).
 * Sizes stay far below overflow: each element is at least 16 bytes.
 */
static void *
pricing_grow(void *p, size_t *cap, size_t n, size_t size)
{
	size_t	ncap;

	if (n < *cap)
		return (p);
	ncap = *cap == 0 ? 16 : *cap * 2;
	if ((p = realloc(p, ncap * size)) != NULL)
		*cap = ncap;
	return (p);
}

/* FNV-1a over provider, a NUL, and name: cheap for short ASCII keys. */
static uint64_t
pricing_hash(const char *provider, const char *name)
{
	const unsigned char	*p;
	uint64_t		 h = 0xcbf29ce484222325ULL;

	for (p = (const unsigned char *)provider; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	h *= 0x100000001b3ULL;
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	/* Fold the high bits in, since the mask keeps only the low ones. */
	return (h ^ (h >> 29));
}

/* The key for (provider, name), or NULL. */
static struct pricing_key *
pricing_lookup(const struct pricing_table *t, const char *provider,
    const char *name)
{
	struct pricing_key	*k;
	uint64_t		 h;
	size_t			 i;

	if (t->slots == NULL)
		return (NULL);
	h = pricing_hash(provider, name);
	for (i = h & t->mask; t->slots[i] != 0; i = (i + 1) & t->mask) {
		k = &t->keys[t->slots[i] - 1];
		if (k->hash != h)
			continue;
		if (k->is_alias ?
		    strcmp(t->aliases[k->src].alias, name) == 0 &&
		    strcmp(t->aliases[k->src].provider, provider) == 0 :
		    strcmp(t->entries[k->src].model, name) == 0 &&
		    strcmp(t->entries[k->src].provider, provider) == 0)
			return (k);
	}
	return (NULL);
}

static void
pricing_place(struct pricing_table *t, size_t ki)
{
	size_t	i;

	for (i = t->keys[ki].hash & t->mask; t->slots[i] != 0;
	    i = (i + 1) & t->mask)
		;
	t->slots[i] = (uint32_t)(ki + 1);
}

/* Index the first n keys again, in slots that must have room for them. */
static void
pricing_reindex(struct pricing_table *t, size_t n)
{
	size_t	i;

	memset(t->slots, 0, (t->mask + 1) * sizeof(t->slots[0]));
	t->n_keys = n;
	for (i = 0; i < n; i++)
		pricing_place(t, i);
}

/* New slots for the keys and one more, at most half full. */
static int
pricing_rehash(struct pricing_table *t)
{
	uint32_t	*slots;
	size_t		 size = 64;

	while (size < (t->n_keys + 1) * 2)
		size *= 2;
	if ((slots = calloc(size, sizeof(*slots))) == NULL)
		return (-1);
	free(t->slots);
	t->slots = slots;
	t->mask = size - 1;
	pricing_reindex(t, t->n_keys);
	return (0);
}

/* Add a key for the names of entry or alias src. */
static struct pricing_key *
pricing_key_add(struct pricing_table *t, const char *provider,
    const char *name, size_t src, int is_alias)
{
	struct pricing_key	*k;
	void			*p;
	int			 i;

	if ((p = pricing_grow(t->keys, &t->cap_keys, t->n_keys,
	    sizeof(*k))) == NULL)
		return (NULL);
	t->keys = p;
	if ((t->n_keys + 1) * 2 > t->mask + 1 || t->slots == NULL) {
		if (pricing_rehash(t) != 0)
			return (NULL);
	}
	k = &t->keys[t->n_keys];
	k->hash = pricing_hash(provider, name);
	k->src = (uint32_t)src;
	k->is_alias = is_alias;
	for (i = 0; i < PT_COUNT; i++)
		k->tier[i] = -1;
	pricing_place(t, t->n_keys++);
	return (k);
}

struct pricing_table *
pricing_table_new(void)
{
	return (calloc(1, sizeof(struct pricing_table)));
}

void
pricing_table_free(struct pricing_table *t)
{
	if (t == NULL)
		return;
	free(t->entries);
	free(t->aliases);
	free(t->discounts);
	free(t->keys);
	free(t->slots);
	free(t);
}

/* Same rules as the names in an entry (see pricing_entry_check). */
static int
pricing_name_ok(const char *name, size_t max)
{
	size_t	i;

	if (name == NULL)
		return (0);
	for (i = 0; i <= max && name[i] != '\0'; i++) {
		if (name[i] <= ' ' || name[i] > '~')
			return (0);
	}
	return (i > 0 && i <= max);
}

/* The checks common to everything that changes an unsealed table. */
static int
pricing_writable(const struct pricing_table *t, const char *provider,
    const char **why)
{
	if (t == NULL)
		return (pricing_fail(why, "missing table"));
	if (t->sealed)
		return (pricing_fail(why, "table is sealed"));
	if (!pricing_name_ok(provider, PRICING_PROVIDER_MAX))
		return (pricing_fail(why, "invalid provider name"));
	return (0);
}

int
pricing_table_add(struct pricing_table *t, const struct pricing_entry *e,
    const char **why)
{
	struct pricing_key	*k;
	void			*p;

	if (pricing_entry_check(e, why) != 0 ||
	    pricing_writable(t, e->provider, why) != 0)
		return (-1);
	/* k stays valid until a key is added: only the entries grow. */
	k = pricing_lookup(t, e->provider, e->model);
	if (k != NULL && k->tier[e->tier] != -1)
		return (pricing_fail(why,
		    "duplicate entry for provider, model and tier"));
	if ((p = pricing_grow(t->entries, &t->cap_entries, t->n_entries,
	    sizeof(*e))) == NULL)
		return (pricing_fail(why, "out of memory"));
	t->entries = p;
	t->entries[t->n_entries] = *e;
	if (k == NULL && (k = pricing_key_add(t, e->provider, e->model,
	    t->n_entries, 0)) == NULL)
		return (pricing_fail(why, "out of memory"));
	k->tier[e->tier] = (int32_t)t->n_entries++;
	return (0);
}

int
pricing_table_alias(struct pricing_table *t, const char *provider,
    const char *alias, const char *model, const char **why)
{
	struct pricing_alias	*a;

	if (pricing_writable(t, provider, why) != 0)
		return (-1);
	if (!pricing_name_ok(alias, PRICING_MODEL_MAX) ||
	    !pricing_name_ok(model, PRICING_MODEL_MAX))
		return (pricing_fail(why, "invalid model name"));
	if ((a = pricing_grow(t->aliases, &t->cap_aliases, t->n_aliases,
	    sizeof(*a))) == NULL)
		return (pricing_fail(why, "out of memory"));
	t->aliases = a;
	a = &t->aliases[t->n_aliases++];
	strcpy(a->provider, provider);
	strcpy(a->alias, alias);
	strcpy(a->model, model);
	return (0);
}

int
pricing_table_discount(struct pricing_table *t, const char *provider,
    const char *model, int32_t ppm, const char **why)
{
	struct pricing_discount	*d;
	size_t			 i;

	if (pricing_writable(t, provider, why) != 0)
		return (-1);
	if (model != NULL && !pricing_name_ok(model, PRICING_MODEL_MAX))
		return (pricing_fail(why, "invalid model name"));
	if (ppm < 0 || ppm > PRICING_PPM)
		return (pricing_fail(why, "discount out of range"));
	if (model == NULL)
		model = "";
	/* Contracts hold a handful of discounts: a scan is enough. */
	for (i = 0; i < t->n_discounts; i++) {
		if (strcmp(t->discounts[i].provider, provider) == 0 &&
		    strcmp(t->discounts[i].model, model) == 0)
			return (pricing_fail(why, "duplicate discount"));
	}
	if ((d = pricing_grow(t->discounts, &t->cap_discounts, t->n_discounts,
	    sizeof(*d))) == NULL)
		return (pricing_fail(why, "out of memory"));
	t->discounts = d;
	d = &t->discounts[t->n_discounts++];
	strcpy(d->provider, provider);
	strcpy(d->model, model);
	d->ppm = ppm;
	return (0);
}

/*
 * Write the discounts into the entries: provider-wide, then per model. A
 * discount that matches no entry stays in the table and prices nothing: a
 * contract outlives a model that a new price list no longer has.
 */
static void
pricing_apply_discounts(struct pricing_table *t)
{
	const struct pricing_discount	*d;
	const struct pricing_key	*k;
	size_t				 i, j;
	int				 tier;

	for (j = 0; j < t->n_entries; j++)
		t->entries[j].discount_ppm = 0;
	for (i = 0; i < t->n_discounts; i++) {
		d = &t->discounts[i];
		if (d->model[0] != '\0')
			continue;
		for (j = 0; j < t->n_entries; j++) {
			if (strcmp(t->entries[j].provider, d->provider) == 0)
				t->entries[j].discount_ppm = d->ppm;
		}
	}
	for (i = 0; i < t->n_discounts; i++) {
		d = &t->discounts[i];
		if (d->model[0] == '\0')
			continue;
		/* By the model's own name: a contract names what is billed. */
		k = pricing_lookup(t, d->provider, d->model);
		for (tier = 0; k != NULL && !k->is_alias && tier < PT_COUNT;
		    tier++) {
			if (k->tier[tier] != -1)
				t->entries[k->tier[tier]].discount_ppm = d->ppm;
		}
	}
}

int
pricing_table_seal(struct pricing_table *t, const char **why)
{
	const struct pricing_alias	*a;
	const struct pricing_key	*target, *clash;
	struct pricing_key		*k;
	size_t				 nmodels, i;
	int32_t				 tiers[PT_COUNT];
	const char			*msg = NULL;

	if (t == NULL)
		return (pricing_fail(why, "missing table"));
	if (t->sealed)
		return (pricing_fail(why, "table is already sealed"));
	nmodels = t->n_keys;
	for (i = 0; i < t->n_aliases && msg == NULL; i++) {
		a = &t->aliases[i];
		target = pricing_lookup(t, a->provider, a->model);
		clash = pricing_lookup(t, a->provider, a->alias);
		if (target == NULL)
			msg = "alias names a model without entries";
		else if (target->is_alias)
			msg = "alias names another alias";
		else if (clash != NULL)
			msg = clash->is_alias ? "duplicate alias" :
			    "alias has the name of a model";
		else {
			/* Adding a key may move target: copy its tiers first. */
			memcpy(tiers, target->tier, sizeof(tiers));
			if ((k = pricing_key_add(t, a->provider, a->alias, i,
			    1)) == NULL)
				msg = "out of memory";
			else
				memcpy(k->tier, tiers, sizeof(tiers));
		}
	}
	if (msg == NULL) {
		pricing_apply_discounts(t);
		t->sealed = 1;
		return (0);
	}
	/* Drop the alias keys; the slots only have fewer keys to hold. */
	if (t->n_keys > nmodels)
		pricing_reindex(t, nmodels);
	return (pricing_fail(why, msg));
}

const struct pricing_entry *
pricing_table_find(const struct pricing_table *t, const char *provider,
    const char *model, int tier, int *priced_tier)
{
	const struct pricing_key	*k;
	int				 used = tier;

	/* Models are indexed as they are added, aliases when sealed. */
	if (t == NULL || provider == NULL || model == NULL || tier < 0 ||
	    tier >= PT_COUNT)
		return (NULL);
	if ((k = pricing_lookup(t, provider, model)) == NULL)
		return (NULL);
	if (k->tier[used] == -1)
		used = PT_STANDARD;
	if (k->tier[used] == -1)
		return (NULL);
	if (priced_tier != NULL)
		*priced_tier = used;
	return (&t->entries[k->tier[used]]);
}

size_t
pricing_table_count(const struct pricing_table *t)
{
	return (t == NULL ? 0 : t->n_entries);
}

const struct pricing_entry *
pricing_table_entry(const struct pricing_table *t, size_t i)
{
	if (t == NULL || i >= t->n_entries)
		return (NULL);
	return (&t->entries[i]);
}

size_t
pricing_table_alias_count(const struct pricing_table *t)
{
	return (t == NULL ? 0 : t->n_aliases);
}

void
pricing_table_alias_get(const struct pricing_table *t, size_t i,
    const char **provider, const char **alias, const char **model)
{
	const struct pricing_alias	*a = NULL;

	if (t != NULL && i < t->n_aliases)
		a = &t->aliases[i];
	*provider = a != NULL ? a->provider : NULL;
	*alias = a != NULL ? a->alias : NULL;
	*model = a != NULL ? a->model : NULL;
}

size_t
pricing_table_discount_count(const struct pricing_table *t)
{
	return (t == NULL ? 0 : t->n_discounts);
}

void
pricing_table_discount_get(const struct pricing_table *t, size_t i,
    const char **provider, const char **model, int32_t *ppm)
{
	const struct pricing_discount	*d = NULL;

	if (t != NULL && i < t->n_discounts)
		d = &t->discounts[i];
	*provider = d != NULL ? d->provider : NULL;
	/* NULL for a provider-wide discount, as it was given. */
	*model = d != NULL && d->model[0] != '\0' ? d->model : NULL;
	*ppm = d != NULL ? d->ppm : 0;
}

struct pricing_book *
pricing_book_new(void)
{
	return (calloc(1, sizeof(struct pricing_book)));
}

void
pricing_book_free(struct pricing_book *b)
{
	size_t	i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		pricing_table_free(b->v[i].table);
	free(b->v);
	free(b);
}

int
pricing_book_add(struct pricing_book *b, int64_t version_id,
    int64_t effective_from_us, struct pricing_table *t, const char **why)
{
	struct pricing_version	*v = NULL;
	const char		*msg = NULL;
	size_t			 i;

	if (b == NULL)
		msg = "missing book";
	else if (t == NULL)
		msg = "missing table";
	else if (!t->sealed)
		msg = "table is not sealed";
	else if (b->n > 0 && effective_from_us <= b->v[b->n - 1].from_us)
		msg = "versions must be added in ascending effective_from";
	for (i = 0; msg == NULL && i < b->n; i++) {
		if (b->v[i].version_id == version_id)
			msg = "duplicate version id";
	}
	if (msg == NULL && (v = pricing_grow(b->v, &b->cap, b->n,
	    sizeof(*v))) == NULL)
		msg = "out of memory";
	if (msg != NULL) {
		pricing_table_free(t);
		return (pricing_fail(why, msg));
	}
	b->v = v;
	b->v[b->n].version_id = version_id;
	b->v[b->n].from_us = effective_from_us;
	b->v[b->n++].table = t;
	return (0);
}

const struct pricing_table *
pricing_book_at(const struct pricing_book *b, int64_t at_us,
    int64_t *version_id)
{
	size_t	lo = 0, hi, mid;

	if (b == NULL)
		return (NULL);
	/* The first version starting after at_us; the one before it wins. */
	hi = b->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (b->v[mid].from_us <= at_us)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return (NULL);
	if (version_id != NULL)
		*version_id = b->v[lo - 1].version_id;
	return (b->v[lo - 1].table);
}

size_t
pricing_book_count(const struct pricing_book *b)
{
	return (b == NULL ? 0 : b->n);
}

const struct pricing_table *
pricing_book_get(const struct pricing_book *b, size_t i, int64_t *version_id,
    int64_t *effective_from_us)
{
	if (b == NULL || i >= b->n)
		return (NULL);
	if (version_id != NULL)
		*version_id = b->v[i].version_id;
	if (effective_from_us != NULL)
		*effective_from_us = b->v[i].from_us;
	return (b->v[i].table);
}
