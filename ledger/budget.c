/*
 * budget.c - budgets in memory, and the decision on them.
 *
 * Budgets are found by id (a hash) and by cost center (a hash of chains),
 * so that matching a request walks its cost center's path to the root
 * and looks at only the budgets set on those centers.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/budget.h"
#include "ledger/ledger.h"

#define BUCKETS_MIN 64

struct budget_set {
	struct budget **by_id;		/* open addressing on id */
	size_t id_cap, count;
	struct cc_head **by_cc;		/* chained on cost center */
	size_t cc_cap, cc_count;
};

struct cc_head {
	char *cc;
	struct budget *first;
	struct cc_head *next;
};

static const char *const period_names[BP_COUNT] = { "day", "week", "month",
	"quarter", "year", "total" };

const char *
budget_period_name(int period)
{
	return period >= 0 && period < BP_COUNT ? period_names[period] : NULL;
}

int
budget_period_parse(const char *name)
{
	int i;

	for (i = 0; i < BP_COUNT; i++)
		if (strcmp(name, period_names[i]) == 0)
			return i;
	return -1;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The UTC instant of local midnight starting day `days` in tz: local
 * time minus the offset in force then (found in two steps, since the
 * offset may differ from now's). */
static int
local_midnight(const char *tz, int64_t days, int off_now, budget_tz_fn tzfn,
    void *arg, int64_t *utc_us)
{
	int64_t local_s = days * 86400, guess;
	int off;

	guess = local_s - off_now;
	if (tzfn(tz, guess * 1000000, &off, arg) != 0)
		return -1;
	guess = local_s - off;
	if (tzfn(tz, guess * 1000000, &off, arg) != 0)
		return -1;
	*utc_us = (local_s - off) * 1000000;
	return 0;
}

int
budget_period_bounds(int period, const char *tz, int64_t now_us,
    budget_tz_fn tzfn, void *tzarg, int64_t *lo, int64_t *hi)
{
	int64_t days, y, first, next;
	int off, m, d;

	if (period == BP_TOTAL) {
		*lo = INT64_MIN;
		*hi = INT64_MAX;
		return 0;
	}
	if (tzfn(tz, now_us, &off, tzarg) != 0)
		return -1;
	days = floor_div(floor_div(now_us, 1000000) + off, 86400);
	ledger_civil_from_days(days, &y, &m, &d);
	switch (period) {
	case BP_DAY:
		first = days;
		next = days + 1;
		break;
	case BP_WEEK:
		/* 1970-01-01 was a Thursday: Monday is (days + 3) % 7 == 0. */
		first = days - ((days + 3) - floor_div(days + 3, 7) * 7);
		next = first + 7;
		break;
	case BP_MONTH:
		first = ledger_days_from_civil(y, m, 1);
		next = m == 12 ? ledger_days_from_civil(y + 1, 1, 1) :
		    ledger_days_from_civil(y, m + 1, 1);
		break;
	case BP_QUARTER:
		m = (m - 1) / 3 * 3 + 1;
		first = ledger_days_from_civil(y, m, 1);
		next = m == 10 ? ledger_days_from_civil(y + 1, 1, 1) :
		    ledger_days_from_civil(y, m + 3, 1);
		break;
	case BP_YEAR:
		first = ledger_days_from_civil(y, 1, 1);
		next = ledger_days_from_civil(y + 1, 1, 1);
		break;
	default:
		return -1;
	}
	if (local_midnight(tz, first, off, tzfn, tzarg, lo) != 0 ||
	    local_midnight(tz, next, off, tzfn, tzarg, hi) != 0)
		return -1;
	return 0;
}

static uint64_t
hash_id(int64_t id)
{
	uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;

	return h ^ (h >> 29);
}

struct budget_set *
budget_set_new(void)
{
	struct budget_set *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->id_cap = s->cc_cap = BUCKETS_MIN;
	s->by_id = calloc(s->id_cap, sizeof *s->by_id);
	s->by_cc = calloc(s->cc_cap, sizeof *s->by_cc);
	if (s->by_id == NULL || s->by_cc == NULL) {
		free(s->by_id);
		free(s->by_cc);
		free(s);
		return NULL;
	}
	return s;
}

static void
def_free(struct budget_def *d)
{
	int i;

	free(d->name);
	free(d->cost_center);
	free(d->user);
	free(d->provider);
	free(d->model);
	free(d->time_zone);
	for (i = 0; i < d->ntags; i++) {
		free((char *)d->tags[i].key);
		free((char *)d->tags[i].value);
	}
	free(d->tags);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static int
def_copy(struct budget_def *to, const struct budget_def *from)
{
	int i, bad = 0;

	*to = *from;
	to->name = strdup(from->name);
	to->cost_center = strdup(from->cost_center);
	to->user = dup_or_null(from->user);
	to->provider = dup_or_null(from->provider);
	to->model = dup_or_null(from->model);
	to->time_zone = strdup(from->time_zone);
	to->tags = from->ntags > 0 ? calloc((size_t)from->ntags,
	    sizeof *to->tags) : NULL;
	if (from->ntags > 0 && to->tags == NULL) {
		to->ntags = 0;
		bad = 1;
	}
	for (i = 0; i < to->ntags; i++) {
		to->tags[i].key = strdup(from->tags[i].key);
		to->tags[i].value = strdup(from->tags[i].value);
		bad |= to->tags[i].key == NULL || to->tags[i].value == NULL;
	}
	bad |= to->name == NULL || to->cost_center == NULL ||
	    to->time_zone == NULL || (from->user && !to->user) ||
	    (from->provider && !to->provider) || (from->model && !to->model);
	if (bad) {
		def_free(to);
		return -1;
	}
	return 0;
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether the spend counted so far still means the same: the same
 * events fall in the same window. */
static int
same_scope(const struct budget_def *a, const struct budget_def *b)
{
	int i;

	if (strcmp(a->cost_center, b->cost_center) != 0 ||
	    !same_str(a->user, b->user) || !same_str(a->provider, b->provider) ||
	    !same_str(a->model, b->model) || a->ntags != b->ntags ||
	    a->period != b->period || strcmp(a->time_zone, b->time_zone) != 0)
		return 0;
	for (i = 0; i < a->ntags; i++)
		if (strcmp(a->tags[i].key, b->tags[i].key) != 0 ||
		    strcmp(a->tags[i].value, b->tags[i].value) != 0)
			return 0;
	return 1;
}

static struct budget **
id_slot(const struct budget_set *s, int64_t id)
{
	size_t i = hash_id(id) & (s->id_cap - 1);

	while (s->by_id[i] != NULL && s->by_id[i]->d.id != id)
		i = (i + 1) & (s->id_cap - 1);
	return &s->by_id[i];
}

static struct cc_head **
cc_slot(const struct budget_set *s, const char *cc, size_t len)
{
	struct cc_head **h;
	uint64_t v = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++)
		v = (v ^ (unsigned char)cc[i]) * 1099511628211ULL;
	h = &s->by_cc[v & (s->cc_cap - 1)];
	while (*h != NULL && !(strlen((*h)->cc) == len &&
	    memcmp((*h)->cc, cc, len) == 0))
		h = &(*h)->next;
	return h;
}

static int
grow_ids(struct budget_set *s)
{
	struct budget **old = s->by_id;
	size_t cap = s->id_cap, i;

	s->by_id = calloc(cap * 2, sizeof *s->by_id);
	if (s->by_id == NULL) {
		s->by_id = old;
		return -1;
	}
	s->id_cap = cap * 2;
	for (i = 0; i < cap; i++)
		if (old[i] != NULL)
			*id_slot(s, old[i]->d.id) = old[i];
	free(old);
	return 0;
}

static int
grow_ccs(struct budget_set *s)
{
	struct cc_head **old = s->by_cc, *h, *next;
	size_t cap = s->cc_cap, i;

	s->by_cc = calloc(cap * 2, sizeof *s->by_cc);
	if (s->by_cc == NULL) {
		s->by_cc = old;
		return -1;
	}
	s->cc_cap = cap * 2;
	for (i = 0; i < cap; i++)
		for (h = old[i]; h != NULL; h = next) {
			next = h->next;
			h->next = NULL;
			*cc_slot(s, h->cc, strlen(h->cc)) = h;
		}
	free(old);
	return 0;
}

static void
cc_unlink(struct budget_set *s, struct budget *b)
{
	struct cc_head **h = cc_slot(s, b->d.cost_center,
	    strlen(b->d.cost_center)), *dead;
	struct budget **p;

	if (*h == NULL)
		return;
	for (p = &(*h)->first; *p != NULL; p = &(*p)->next_in_cc)
		if (*p == b) {
			*p = b->next_in_cc;
			break;
		}
	b->next_in_cc = NULL;
	if ((*h)->first == NULL) {
		dead = *h;
		*h = dead->next;
		free(dead->cc);
		free(dead);
		s->cc_count--;
	}
}

static int
cc_link(struct budget_set *s, struct budget *b)
{
	struct cc_head **h;

	if (s->cc_count * 2 >= s->cc_cap && grow_ccs(s) != 0)
		return -1;
	h = cc_slot(s, b->d.cost_center, strlen(b->d.cost_center));
	if (*h == NULL) {
		if ((*h = calloc(1, sizeof **h)) == NULL)
			return -1;
		if (((*h)->cc = strdup(b->d.cost_center)) == NULL) {
			free(*h);
			*h = NULL;
			return -1;
		}
		s->cc_count++;
	}
	b->next_in_cc = (*h)->first;
	(*h)->first = b;
	return 0;
}

struct budget *
budget_set_put(struct budget_set *s, const struct budget_def *d)
{
	struct budget **slot, *b;
	struct budget_def copy;

	if (def_copy(&copy, d) != 0)
		return NULL;
	slot = id_slot(s, d->id);
	if ((b = *slot) != NULL) {
		if (!same_scope(&b->d, &copy)) {
			b->gen++;
			b->loaded = 0;
			b->spent = b->spent_later = 0;
			b->period_lo = b->period_hi = 0;
		}
		cc_unlink(s, b);
		def_free(&b->d);
		b->d = copy;
		if (cc_link(s, b) != 0)
			return NULL;
		return b;
	}
	if ((s->count + 1) * 2 > s->id_cap && grow_ids(s) != 0) {
		def_free(&copy);
		return NULL;
	}
	if ((b = calloc(1, sizeof *b)) == NULL) {
		def_free(&copy);
		return NULL;
	}
	b->d = copy;
	if (cc_link(s, b) != 0) {
		def_free(&b->d);
		free(b);
		return NULL;
	}
	*id_slot(s, d->id) = b;
	s->count++;
	return b;
}

struct budget *
budget_set_get(const struct budget_set *s, int64_t id)
{
	return *id_slot(s, id);
}

void
budget_set_remove(struct budget_set *s, int64_t id)
{
	struct budget **slot = id_slot(s, id), *b = *slot, *moved;
	size_t i, j;

	if (b == NULL)
		return;
	cc_unlink(s, b);
	def_free(&b->d);
	free(b->rate);
	free(b->burn);
	free(b);
	*slot = NULL;
	s->count--;
	/* Re-seat the run after the hole (linear probing). */
	i = (size_t)(slot - s->by_id);
	for (j = (i + 1) & (s->id_cap - 1); s->by_id[j] != NULL;
	    j = (j + 1) & (s->id_cap - 1)) {
		moved = s->by_id[j];
		s->by_id[j] = NULL;
		*id_slot(s, moved->d.id) = moved;
	}
}

void
budget_set_each(struct budget_set *s, void (*fn)(struct budget *, void *),
    void *arg)
{
	size_t i;

	for (i = 0; i < s->id_cap; i++)
		if (s->by_id[i] != NULL)
			fn(s->by_id[i], arg);
}

size_t
budget_set_count(const struct budget_set *s)
{
	return s->count;
}

void
budget_set_free(struct budget_set *s)
{
	struct cc_head *h, *next;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->id_cap; i++)
		if (s->by_id[i] != NULL) {
			def_free(&s->by_id[i]->d);
			free(s->by_id[i]->rate);
			free(s->by_id[i]->burn);
			free(s->by_id[i]);
		}
	for (i = 0; i < s->cc_cap; i++)
		for (h = s->by_cc[i]; h != NULL; h = next) {
			next = h->next;
			free(h->cc);
			free(h);
		}
	free(s->by_id);
	free(s->by_cc);
	free(s);
}

static int
narrowed_match(const struct budget_def *d, const struct budget_subject *subj)
{
	int i, j;

	if ((d->user != NULL && !same_str(d->user, subj->user)) ||
	    (d->provider != NULL && !same_str(d->provider, subj->provider)) ||
	    (d->model != NULL && !same_str(d->model, subj->model)))
		return 0;
	for (i = 0; i < d->ntags; i++) {
		for (j = 0; j < subj->ntags; j++)
			if (strcmp(d->tags[i].key, subj->tags[j].key) == 0 &&
			    strcmp(d->tags[i].value, subj->tags[j].value) == 0)
				break;
		if (j == subj->ntags)
			return 0;
	}
	return 1;
}

int
budget_match(const struct budget_set *s, const struct budget_subject *subj,
    struct budget **out, int max)
{
	const char *cc = subj->cost_center;
	size_t len = strlen(cc);
	struct cc_head *h;
	struct budget *b;
	int n = 0;

	while (len > 0) {
		if ((h = *cc_slot(s, cc, len)) != NULL)
			for (b = h->first; b != NULL && n < max; b = b->next_in_cc)
				if (narrowed_match(&b->d, subj))
					out[n++] = b;
		while (len > 0 && cc[len - 1] != '/')
			len--;
		if (len > 0)
			len--;		/* the slash */
	}
	return n;
}

void
budget_roll(struct budget *b, int64_t now_us, budget_tz_fn tzfn, void *tzarg)
{
	int64_t lo, hi;

	if (now_us < b->period_hi)
		return;
	if (budget_period_bounds(b->d.period, b->d.time_zone, now_us, tzfn,
	    tzarg, &lo, &hi) != 0)
		return;
	/* Only the next period's early events are known; after a longer
	 * gap the spend must be read again. */
	if (lo == b->period_hi) {
		b->spent = b->spent_later;
	} else {
		b->spent = 0;
		b->loaded = 0;
		b->gen++;
	}
	b->spent_later = 0;
	b->period_lo = lo;
	b->period_hi = hi;
	/* A lease is on one period's room. */
	b->lease_until = 0;
}

/* Spend per minute of occurred_at, over the last hour. */
static void
burn_add(struct budget *b, int64_t occurred_us, int64_t cost)
{
	int64_t m = floor_div(occurred_us, 60000000);
	int slot = (int)(((m % BUDGET_RATE_WINDOW) + BUDGET_RATE_WINDOW) %
	    BUDGET_RATE_WINDOW);

	if (b->burn == NULL && (b->burn = calloc(1, sizeof *b->burn)) == NULL)
		return;
	if (b->burn->sec[slot] > m)
		return;			/* older than the hour kept */
	if (b->burn->sec[slot] != m) {
		b->burn->sec[slot] = m;
		b->burn->cost[slot] = 0;
	}
	b->burn->cost[slot] += cost;
}

void
budget_spend(struct budget_set *s, const struct budget_subject *subj,
    int64_t occurred_us, int64_t cost)
{
	struct budget *bs[BUDGET_MATCH_MAX];

	budget_spend_on(bs, budget_match(s, subj, bs, BUDGET_MATCH_MAX),
	    occurred_us, cost);
}

void
budget_spend_on(struct budget **bs, int n, int64_t occurred_us, int64_t cost)
{
	int i;

	for (i = 0; i < n; i++) {
		if (occurred_us >= bs[i]->period_lo &&
		    occurred_us < bs[i]->period_hi) {
			bs[i]->spent += cost;
			bs[i]->lease_used += cost;
		} else if (occurred_us >= bs[i]->period_hi)
			bs[i]->spent_later += cost;
		if (bs[i]->d.burn_pause_amount > 0)
			burn_add(bs[i], occurred_us, cost);
	}
}

int
budget_burn_tripped(const struct budget *b, int64_t now_us)
{
	int64_t now_m = floor_div(now_us, 60000000), m;
	int slot;

	if (b->d.burn_pause_amount <= 0 || b->burn == NULL)
		return 0;
	for (m = now_m - b->d.burn_pause_minutes + 1; m <= now_m; m++) {
		slot = (int)(((m % BUDGET_RATE_WINDOW) + BUDGET_RATE_WINDOW) %
		    BUDGET_RATE_WINDOW);
		if (b->burn->sec[slot] != m ||
		    b->burn->cost[slot] <= b->d.burn_pause_amount)
			return 0;
	}
	return 1;
}

void
budget_burn_reset(struct budget *b)
{
	free(b->burn);
	b->burn = NULL;
}

int64_t
budget_remaining(const struct budget *b)
{
	return b->d.amount - b->spent - b->held;
}

int64_t
budget_lease_free(const struct budget *b, int64_t now_us)
{
	return (now_us < b->lease_until ? b->lease - b->lease_used : 0) -
	    b->held;
}

/* Cost (or tokens) counted in the rate window ending at now_s. */
static int64_t
rate_sum(const struct budget *b, int64_t now_s, const int64_t *v)
{
	int64_t sum = 0;
	int i;

	if (b->rate == NULL)
		return 0;
	for (i = 0; i < BUDGET_RATE_WINDOW; i++)
		if (b->rate->sec[i] > now_s - BUDGET_RATE_WINDOW &&
		    b->rate->sec[i] <= now_s)
			sum += v[i];
	return sum;
}

/* Milliseconds until enough of the window has passed for `need` more
 * to fit under `limit`. */
static int64_t
rate_wait_ms(const struct budget *b, int64_t now_s, const int64_t *v,
    int64_t limit, int64_t need)
{
	int64_t sum = rate_sum(b, now_s, v), s;

	for (s = now_s - BUDGET_RATE_WINDOW + 1; s <= now_s; s++) {
		int i = (int)(((s % BUDGET_RATE_WINDOW) + BUDGET_RATE_WINDOW) %
		    BUDGET_RATE_WINDOW);

		if (b->rate->sec[i] == s)
			sum -= v[i];
		if (sum + need <= limit)
			return (s + BUDGET_RATE_WINDOW - now_s) * 1000;
	}
	return BUDGET_RATE_WINDOW * 1000;
}

static int
rate_limited(const struct budget *b, const struct budget_ask *ask,
    int64_t amount, int64_t *wait_ms)
{
	int64_t now_s = floor_div(ask->now_us, 1000000);

	if (b->d.cost_per_minute > 0 && amount > b->d.cost_per_minute) {
		*wait_ms = -1;
		return 1;
	}
	if (b->d.tokens_per_minute > 0 && ask->tokens > b->d.tokens_per_minute) {
		*wait_ms = -1;
		return 1;
	}
	if (b->rate == NULL)
		return 0;
	if (b->d.cost_per_minute > 0 &&
	    rate_sum(b, now_s, b->rate->cost) + amount > b->d.cost_per_minute) {
		*wait_ms = rate_wait_ms(b, now_s, b->rate->cost,
		    b->d.cost_per_minute, amount);
		return 1;
	}
	if (b->d.tokens_per_minute > 0 && rate_sum(b, now_s, b->rate->tokens) +
	    ask->tokens > b->d.tokens_per_minute) {
		*wait_ms = rate_wait_ms(b, now_s, b->rate->tokens,
		    b->d.tokens_per_minute, ask->tokens);
		return 1;
	}
	return 0;
}

/* The most output tokens whose worst-rate cost fits in room; 0 when not
 * even one does. */
static int64_t
ceiling_for(const struct budget_ask *ask, int64_t room)
{
	int64_t lo = 0, hi = ask->max_output, mid, c;

	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		c = ask->cost_of(ask->cost_arg, mid);
		if (c >= 0 && c <= room)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

void
budget_decide(struct budget **bs, int n, const struct budget_ask *ask,
    struct budget_answer *out)
{
	struct budget *tightest = NULL;
	int64_t amount, smallest, room, free_room = INT64_MAX, wait, lease;
	int64_t avail;
	int i, strict = 0;

	memset(out, 0, sizeof *out);
	for (i = 0; i < n; i++) {
		if (bs[i]->d.paused) {
			out->decision = BD_PAUSE;
			out->reason = "anomaly";
			out->decider = bs[i];
			return;
		}
		if (bs[i]->d.hard && bs[i]->d.strict)
			strict = 1;
	}
	out->strict = strict;
	amount = strict ? ask->worst : ask->estimate;
	smallest = amount;
	if (strict && ask->cost_of != NULL && ask->max_output > 0) {
		smallest = ask->cost_of(ask->cost_arg, 1);
		if (smallest < 0)
			smallest = amount;
	}
	/* Pause first: no amount of waiting makes room that is spent. */
	for (i = 0; i < n; i++) {
		if (!bs[i]->d.hard)
			continue;
		room = bs[i]->d.amount - bs[i]->spent;
		if (smallest > room) {
			out->decision = BD_PAUSE;
			out->reason = "budget_exhausted";
			out->decider = bs[i];
			return;
		}
		avail = room - bs[i]->held;
		/* A fail-open budget is not bound by its lease while the
		 * database, which grants leases, is out of reach. */
		if (ask->leasing && !(ask->offline && bs[i]->d.fail_open) &&
		    (lease = budget_lease_free(bs[i], ask->now_us)) < avail) {
			if (amount > lease)
				out->short_lease[out->nshort++] = bs[i];
			avail = lease;
		}
		if (avail < free_room) {
			free_room = avail;
			tightest = bs[i];
		}
	}
	if (out->nshort > 0 && ask->offline) {
		out->decision = BD_PAUSE;
		out->reason = "database_unavailable";
		out->decider = out->short_lease[0];
		out->nshort = 0;
		return;
	}
	if (out->nshort > 0 && !ask->lease_final) {
		out->decision = BD_THROTTLE;
		out->reason = "room_held_by_inflight";
		out->decider = out->short_lease[0];
		out->retry_after_ms = 250;
		return;
	}
	out->nshort = 0;
	if (amount > free_room && strict && ask->cost_of != NULL &&
	    smallest <= free_room) {
		out->max_output = ceiling_for(ask, free_room);
		if (out->max_output > 0)
			amount = ask->cost_of(ask->cost_arg, out->max_output);
	}
	if (amount > free_room) {
		out->decision = BD_THROTTLE;
		out->reason = "room_held_by_inflight";
		out->decider = tightest;
		out->retry_after_ms = 250;
		out->max_output = 0;
		return;
	}
	for (i = 0; i < n; i++) {
		if (!bs[i]->d.hard || !rate_limited(bs[i], ask, amount, &wait))
			continue;
		out->decider = bs[i];
		out->max_output = 0;
		if (wait < 0) {
			/* Larger than a whole minute's allowance. */
			out->decision = BD_PAUSE;
			out->reason = "rate_limited";
			return;
		}
		out->decision = BD_THROTTLE;
		out->reason = "rate_limited";
		out->retry_after_ms = wait;
		return;
	}
	out->decision = BD_ALLOW;
	out->amount = amount;
}

void
budget_hold(struct budget **bs, int n, int64_t delta, int64_t tokens,
    int64_t now_us)
{
	int64_t now_s = floor_div(now_us, 1000000);
	int i, slot = (int)(((now_s % BUDGET_RATE_WINDOW) + BUDGET_RATE_WINDOW) %
	    BUDGET_RATE_WINDOW);

	for (i = 0; i < n; i++) {
		struct budget_rate *rt;

		bs[i]->held += delta;
		if (delta > 0)
			bs[i]->lease_demand += delta;
		if (delta <= 0 || (bs[i]->d.cost_per_minute == 0 &&
		    bs[i]->d.tokens_per_minute == 0))
			continue;
		/* A limit is counted from its first hold on. */
		if (bs[i]->rate == NULL &&
		    (bs[i]->rate = calloc(1, sizeof *bs[i]->rate)) == NULL)
			continue;
		rt = bs[i]->rate;
		if (rt->sec[slot] != now_s) {
			rt->sec[slot] = now_s;
			rt->cost[slot] = 0;
			rt->tokens[slot] = 0;
		}
		rt->cost[slot] += delta;
		rt->tokens[slot] += tokens;
	}
}
