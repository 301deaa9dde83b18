/*
 * budget.h - budgets, holds and decisions, in memory: pure C, no I/O.
 *
 * A budget caps the spend of a cost center's subtree (optionally narrowed
 * by user, provider, model and tags) over a calendar period in a time
 * zone. Its state is the period's spend (followed event by event) and the
 * holds of calls in flight (reservations). A decision reads only this
 * state, so it costs microseconds and never waits for a disk or a network.
 *
 * Money is int64_t nano-units throughout.
 */
#ifndef TOLLGATE_BUDGET_H
#define TOLLGATE_BUDGET_H

#include <stddef.h>
#include <stdint.h>

enum budget_period { BP_DAY, BP_WEEK, BP_MONTH, BP_QUARTER, BP_YEAR,
	BP_TOTAL, BP_COUNT };

enum budget_decision { BD_ALLOW, BD_THROTTLE, BD_PAUSE };

#define BUDGET_TAGS_MAX 16
#define BUDGET_THRESHOLDS_MAX 8
#define BUDGET_MATCH_MAX 64	/* budgets one request may fall under */
#define BUDGET_RATE_WINDOW 60	/* seconds of rate-limit history */

struct budget_tag {
	const char *key, *value;
};

/* A budget's definition; strings are owned by the budget once added. */
struct budget_def {
	int64_t id;
	char *name;
	char *cost_center;
	char *user, *provider, *model;	/* NULL: any */
	int ntags;			/* at most BUDGET_TAGS_MAX */
	struct budget_tag *tags;	/* all must match */
	int period;			/* enum budget_period */
	char *time_zone;
	int64_t amount;
	int hard;			/* 0: soft, warn only */
	int strict;			/* reserve the worst case */
	int nthresholds;
	int32_t thresholds_ppm[BUDGET_THRESHOLDS_MAX];
	int64_t cost_per_minute;	/* 0: no limit */
	int64_t tokens_per_minute;	/* 0: no limit */
	int fail_open;			/* when the database is unreachable */
	int64_t burn_pause_amount;	/* per minute; 0: no auto-pause */
	int burn_pause_minutes;		/* 1..BUDGET_RATE_WINDOW */
	int paused;			/* by an anomaly, until resumed */
};

/* Per-second holds over the last minute, for rate limits; reused per
 * minute over the last hour for the burn rate. */
struct budget_rate {
	int64_t sec[BUDGET_RATE_WINDOW];
	int64_t cost[BUDGET_RATE_WINDOW];
	int64_t tokens[BUDGET_RATE_WINDOW];
};

struct budget {
	struct budget_def d;
	int64_t period_lo, period_hi;	/* [lo, hi) in UTC microseconds */
	int64_t spent;			/* in [lo, hi) */
	int64_t spent_later;		/* events at or after hi, seen early */
	int64_t held;			/* live reservations */
	int64_t overshoot;		/* settled above what was held */
	int loaded;			/* spent has been read from the ledger */
	uint32_t gen;			/* bumped whenever spent must be read
					 * again: a read of an older one is
					 * stale */
	/* A lease on a hard budget's room, when several instances decide on
	 * one database: this instance may commit `lease` beyond the spend
	 * read at the grant, until lease_until; lease_used counts what was
	 * booked here and what expired since (held counts separately). */
	int64_t lease, lease_used, lease_until;
	int64_t lease_demand;		/* held since the grant, for sizing */
	int64_t lease_since;		/* when that grant was asked */
	int lease_listed;		/* in the leases' list, to renew */
	int64_t lease_asked;		/* leases.c's pending grant asking for
					 * it (0: none) */
	struct budget_rate *rate;	/* only for budgets with rate limits */
	struct budget_rate *burn;	/* spend per minute, for auto-pause */
	struct budget *next_in_cc;	/* same cost_center */
};

/* The UTC offset of a zone at an instant, as pricing_tz_fn. */
typedef int (*budget_tz_fn)(const char *tz, int64_t utc_us, int *offset_s,
    void *arg);

const char *budget_period_name(int period);
int budget_period_parse(const char *name);	/* -1 when unknown */

/*
 * The period containing now_us: calendar-aligned in time zone tz (weeks
 * start on Monday), [lo, hi) in UTC microseconds. For BP_TOTAL, all time.
 * Returns -1 for an unknown zone.
 */
int budget_period_bounds(int period, const char *tz, int64_t now_us,
    budget_tz_fn tzfn, void *tzarg, int64_t *lo, int64_t *hi);

struct budget_set;

struct budget_set *budget_set_new(void);
void budget_set_free(struct budget_set *s);
size_t budget_set_count(const struct budget_set *s);

/*
 * Add a budget, or replace the definition of one with the same id (its
 * strings are copied). Returns the budget, whose spend must be (re)read
 * from the ledger when `loaded` is 0: a new budget, or one whose scope or
 * period changed. NULL when out of memory.
 */
struct budget *budget_set_put(struct budget_set *s, const struct budget_def *d);
void budget_set_remove(struct budget_set *s, int64_t id);
struct budget *budget_set_get(const struct budget_set *s, int64_t id);
/* Call fn for every budget, in no particular order. */
void budget_set_each(struct budget_set *s, void (*fn)(struct budget *, void *),
    void *arg);

/* What a request or an event is about. */
struct budget_subject {
	const char *cost_center;
	const char *user;		/* NULL when none */
	const char *provider, *model;
	int ntags;
	const struct budget_tag *tags;
};

/* The budgets whose scope covers subj (the cost center's chain to the
 * root, then narrowed); at most max of them. */
int budget_match(const struct budget_set *s, const struct budget_subject *subj,
    struct budget **out, int max);

/*
 * Move b to the period containing now_us when it has ended: the spend
 * seen early for later periods becomes the new period's (exact while
 * periods are followed without gaps; a longer gap needs a reload, which
 * clears `loaded`).
 */
void budget_roll(struct budget *b, int64_t now_us, budget_tz_fn tzfn,
    void *tzarg);

/* A booked cost (or a correction) at occurred_us for every budget whose
 * scope covers subj. */
void budget_spend(struct budget_set *s, const struct budget_subject *subj,
    int64_t occurred_us, int64_t cost);
/* The same on budgets already matched (budget_match). */
void budget_spend_on(struct budget **bs, int n, int64_t occurred_us,
    int64_t cost);

/* What a request may cost: the price of `n` output tokens with its input,
 * for the strict ceiling. Monotonic in n. -1 when it cannot be priced. */
typedef int64_t (*budget_cost_fn)(void *arg, int64_t output_tokens);

struct budget_ask {
	int64_t now_us;
	int64_t estimate;	/* input + expected output, estimate mode */
	int64_t worst;		/* input + max output at the highest rate */
	int64_t max_output;	/* the output tokens `worst` assumes */
	int64_t tokens;		/* for tokens-per-minute limits */
	budget_cost_fn cost_of;	/* worst-rate cost of n output tokens */
	void *cost_arg;
	int leasing;		/* hard budgets decide within their lease */
	int lease_final;	/* leases were just asked for: decide */
	int offline;		/* the database is unreachable */
};

struct budget_answer {
	int decision;			/* enum budget_decision */
	const char *reason;		/* NULL for allow */
	struct budget *decider;		/* the budget that said no, or NULL */
	int64_t amount;			/* to hold, when allowed */
	int64_t max_output;		/* a ceiling for the call; 0: none */
	int64_t retry_after_ms;		/* for throttle */
	int strict;			/* the hold is the worst case */
	/* Throttled because these budgets' leases, not their room, are
	 * short: ask for more and decide again (with lease_final). */
	int nshort;
	struct budget *short_lease[BUDGET_MATCH_MAX];
};

/*
 * Decide on the budgets matched for a request. Every hard budget must have
 * room: pause when the spend alone leaves no room for the smallest call
 * (budget_exhausted), throttle when the room is held by calls in flight
 * (room_held_by_inflight) or a rate limit is reached (rate_limited); any
 * budget paused by an anomaly pauses (anomaly); else
 * allow. When any hard budget is strict the worst case is held; if it does
 * not fit but fewer output tokens would, allow with that ceiling. Soft
 * budgets never say no. Nothing is held here: see budget_hold.
 *
 * With ask->leasing, a hard budget's room is also bounded by its lease.
 * When the lease alone is short, the answer lists the budgets (nshort)
 * unless ask->lease_final; offline, a fail-closed budget's short lease
 * pauses (database_unavailable) and a fail-open one's is not a bound.
 */
void budget_decide(struct budget **bs, int n, const struct budget_ask *ask,
    struct budget_answer *out);

/* Hold (delta > 0) or let go of (delta < 0) an amount on budgets; a hold
 * also counts toward the rate limits at now_us. */
void budget_hold(struct budget **bs, int n, int64_t delta, int64_t tokens,
    int64_t now_us);

/* Whether b, set to pause on a burn rate, has spent more than its
 * amount in each of its last `minutes` minutes up to now_us. */
int budget_burn_tripped(const struct budget *b, int64_t now_us);
/* Forget the spend per minute (after a resume). */
void budget_burn_reset(struct budget *b);

/* Room left: amount - spent - held (negative when over). */
int64_t budget_remaining(const struct budget *b);
/* What b's lease lets this instance still hold at now_us (0 when it has
 * none or it ended; negative when over). */
int64_t budget_lease_free(const struct budget *b, int64_t now_us);

#endif
