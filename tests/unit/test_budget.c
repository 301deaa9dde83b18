/*
 * test_budget.c - the in-memory budgets: calendar periods in real time
 * zones (with the clock injected), matching by cost-center chain and
 * scope, the pause / throttle / allow rules, the strict ceiling, rate
 * limits, and a randomised run checking that strict holds never let the
 * spend pass a hard cap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger/budget.h"
#include "ledger/ledger.h"
#include "server/tz.h"
#include "tests/unit/testutil.h"

static int64_t
at(const char *rfc3339)
{
	const char *why;
	int64_t us;

	assert_int_equal(ledger_time_parse(rfc3339, strlen(rfc3339), &us,
	    &why), 0);
	return us;
}

static void
check_period(int period, const char *tz, const char *now, const char *lo,
    const char *hi)
{
	int64_t l, h;

	assert_int_equal(budget_period_bounds(period, tz, at(now), tz_offset,
	    NULL, &l, &h), 0);
	assert_int_equal(l, at(lo));
	assert_int_equal(h, at(hi));
}

static void
test_periods_in_time_zones(void **state)
{
	int64_t l, h;

	(void)state;
	/* 23:30 UTC on Oct 31 is already Nov 1 in Berlin (UTC+1). */
	check_period(BP_DAY, "Europe/Berlin", "2026-10-31T23:30:00Z",
	    "2026-10-31T23:00:00Z", "2026-11-01T23:00:00Z");
	check_period(BP_MONTH, "Europe/Berlin", "2026-10-31T23:30:00Z",
	    "2026-10-31T23:00:00Z", "2026-11-30T23:00:00Z");
	/* October in Berlin starts in summer time (UTC+2) and ends in
	 * winter time (UTC+1). */
	check_period(BP_MONTH, "Europe/Berlin", "2026-10-15T12:00:00Z",
	    "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z");
	/* The day of the change is 25 hours long. */
	check_period(BP_DAY, "Europe/Berlin", "2026-10-25T12:00:00Z",
	    "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z");
	/* Weeks start on Monday: 2026-11-24 is a Tuesday. */
	check_period(BP_WEEK, "UTC", "2026-11-24T10:00:00Z",
	    "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z");
	check_period(BP_WEEK, "America/New_York", "2026-11-23T03:00:00Z",
	    "2026-11-16T05:00:00Z", "2026-11-23T05:00:00Z");
	check_period(BP_QUARTER, "Asia/Tokyo", "2026-12-31T15:30:00Z",
	    "2026-12-31T15:00:00Z", "2027-03-31T15:00:00Z");
	check_period(BP_YEAR, "Asia/Kolkata", "2026-06-01T00:00:00Z",
	    "2025-12-31T18:30:00Z", "2026-12-31T18:30:00Z");
	assert_int_equal(budget_period_bounds(BP_TOTAL, "UTC", 0, tz_offset,
	    NULL, &l, &h), 0);
	assert_true(l == INT64_MIN && h == INT64_MAX);
	assert_int_equal(budget_period_bounds(BP_DAY, "Mars/Olympus", 0,
	    tz_offset, NULL, &l, &h), -1);
	assert_int_equal(budget_period_parse("quarter"), BP_QUARTER);
	assert_int_equal(budget_period_parse("fortnight"), -1);
}

static struct budget *
add(struct budget_set *s, int64_t id, const char *cc, int64_t amount,
    int strict)
{
	struct budget_def d;
	struct budget *b;

	memset(&d, 0, sizeof d);
	d.id = id;
	d.name = "b";
	d.cost_center = (char *)cc;
	d.period = BP_DAY;
	d.time_zone = "Europe/Berlin";
	d.amount = amount;
	d.hard = 1;
	d.strict = strict;
	b = budget_set_put(s, &d);
	assert_non_null(b);
	budget_roll(b, at("2026-10-31T22:30:00Z"), tz_offset, NULL);
	b->loaded = 1;
	return b;
}

static void
test_roll_over_at_local_midnight(void **state)
{
	struct budget_set *s = budget_set_new();
	struct budget_subject subj = { "eng", NULL, "openai", "gpt-4o", 0,
		NULL };
	struct budget *b;

	(void)state;
	b = add(s, 1, "eng", 1000, 1);
	/* 22:30 UTC is 23:30 in Berlin: Oct 31 until 23:00 UTC. */
	budget_spend(s, &subj, at("2026-10-31T22:59:59Z"), 100);
	budget_spend(s, &subj, at("2026-10-31T23:00:00Z"), 7);
	budget_spend(s, &subj, at("2026-10-30T22:00:00Z"), 5);	/* before */
	assert_int_equal(b->spent, 100);
	assert_int_equal(b->spent_later, 7);
	budget_roll(b, at("2026-10-31T22:59:59Z"), tz_offset, NULL);
	assert_int_equal(b->spent, 100);
	/* Midnight in Berlin: the new day starts with what it already has. */
	budget_roll(b, at("2026-10-31T23:00:00Z"), tz_offset, NULL);
	assert_int_equal(b->spent, 7);
	assert_int_equal(b->period_lo, at("2026-10-31T23:00:00Z"));
	assert_true(b->loaded);
	/* Skipping a whole period asks for a reload. */
	budget_roll(b, at("2026-11-03T12:00:00Z"), tz_offset, NULL);
	assert_int_equal(b->spent, 0);
	assert_false(b->loaded);
	budget_set_free(s);
}

static void
test_match_chain_and_scope(void **state)
{
	struct budget_set *s = budget_set_new();
	struct budget_tag tags[] = { { "feature", "chat" }, { "env", "prod" } };
	struct budget_subject subj = { "eng/search/ranker", "alice", "openai",
		"gpt-4o", 2, tags };
	struct budget *out[BUDGET_MATCH_MAX], *b;
	struct budget_tag one[1];
	struct budget_def d;
	int n;

	(void)state;
	add(s, 1, "eng", 1000, 1);
	add(s, 2, "eng/search", 1000, 1);
	add(s, 3, "eng/searching", 1000, 1);	/* not an ancestor */
	add(s, 4, "ops", 1000, 1);
	b = add(s, 5, "eng/search/ranker", 1000, 1);
	d = b->d;
	d.id = 6;
	d.user = "bob";
	budget_set_put(s, &d);
	d.id = 7;
	d.user = "alice";
	d.model = "gpt-4o";
	d.ntags = 1;
	d.tags = one;
	one[0].key = "env";
	one[0].value = "prod";
	budget_set_put(s, &d);
	d.id = 8;
	one[0].value = "dev";
	budget_set_put(s, &d);
	n = budget_match(s, &subj, out, BUDGET_MATCH_MAX);
	assert_int_equal(n, 4);		/* 5 and 7, then 2, then 1 */
	assert_true((out[0]->d.id == 5 && out[1]->d.id == 7) ||
	    (out[0]->d.id == 7 && out[1]->d.id == 5));
	assert_int_equal(out[2]->d.id, 2);
	assert_int_equal(out[3]->d.id, 1);
	/* Removing and growing keep the indexes right. */
	budget_set_remove(s, 2);
	assert_null(budget_set_get(s, 2));
	for (n = 100; n < 400; n++)
		add(s, n, n < 130 ? "eng" : "ops", 10, 0);
	assert_int_equal(budget_set_count(s), 7 + 300);
	assert_int_equal(budget_match(s, &subj, out, BUDGET_MATCH_MAX), 3 + 30);
	for (n = 130; n < 400; n++)
		budget_set_remove(s, n);
	assert_int_equal(budget_set_count(s), 7 + 30);
	for (n = 100; n < 130; n++)
		assert_non_null(budget_set_get(s, n));
	assert_non_null(budget_set_get(s, 7));
	budget_set_free(s);
}

/* Cost of an ask: 10 nano-units of input, 3 per output token. */
static int64_t
cost_of(void *arg, int64_t n)
{
	(void)arg;
	return 10 + 3 * n;
}

static void
ask_for(struct budget_ask *a, int64_t max_output)
{
	memset(a, 0, sizeof *a);
	a->now_us = at("2026-10-31T22:30:00Z");
	a->max_output = max_output;
	a->worst = cost_of(NULL, max_output);
	a->estimate = cost_of(NULL, max_output / 2);
	a->tokens = 100 + max_output;
	a->cost_of = cost_of;
}

static void
test_pause_throttle_allow(void **state)
{
	struct budget_set *s = budget_set_new();
	struct budget *chain[2], *ranker, *eng;
	struct budget_answer ans;
	struct budget_ask a;

	(void)state;
	eng = add(s, 1, "eng", 1000, 1);
	ranker = add(s, 2, "eng/search", 5000, 1);
	chain[0] = ranker;
	chain[1] = eng;
	ask_for(&a, 100);			/* worst 310 */
	budget_decide(chain, 2, &a, &ans);
	assert_int_equal(ans.decision, BD_ALLOW);
	assert_int_equal(ans.amount, 310);
	assert_int_equal(ans.max_output, 0);
	budget_hold(chain, 2, ans.amount, a.tokens, a.now_us);
	assert_int_equal(eng->held, 310);
	assert_int_equal(ranker->held, 310);
	/* The department's room is held by calls in flight: a smaller
	 * call fits (ceiling), then none does (throttle). */
	eng->held = 800;
	budget_decide(chain, 2, &a, &ans);
	assert_int_equal(ans.decision, BD_ALLOW);
	assert_int_equal(ans.max_output, 63);	/* 10 + 3 * 63 = 199 <= 200 */
	assert_int_equal(ans.amount, 199);
	eng->held = 995;
	budget_decide(chain, 2, &a, &ans);
	assert_int_equal(ans.decision, BD_THROTTLE);
	assert_string_equal(ans.reason, "room_held_by_inflight");
	assert_ptr_equal(ans.decider, eng);
	assert_true(ans.retry_after_ms > 0);
	/* Spent, not held: pause, naming the department. */
	eng->held = 0;
	eng->spent = 990;
	budget_decide(chain, 2, &a, &ans);
	assert_int_equal(ans.decision, BD_PAUSE);
	assert_string_equal(ans.reason, "budget_exhausted");
	assert_ptr_equal(ans.decider, eng);
	/* Estimate mode holds the estimate and has no ceiling. */
	eng->spent = 0;
	eng->d.strict = ranker->d.strict = 0;
	budget_decide(chain, 2, &a, &ans);
	assert_int_equal(ans.decision, BD_ALLOW);
	assert_int_equal(ans.amount, 160);
	assert_false(ans.strict);
	eng->held = 900;
	budget_decide(chain, 2, &a, &ans);
	assert_int_equal(ans.decision, BD_THROTTLE);
	/* A soft budget never says no. */
	eng->d.hard = 0;
	eng->spent = 1000000;
	budget_decide(chain, 2, &a, &ans);
	assert_int_equal(ans.decision, BD_ALLOW);
	budget_set_free(s);
}

static void
test_rate_limits(void **state)
{
	struct budget_set *s = budget_set_new();
	struct budget *b;
	struct budget_answer ans;
	struct budget_ask a;
	int i;

	(void)state;
	b = add(s, 1, "eng", 1000000, 0);
	b->d.cost_per_minute = 1000;
	ask_for(&a, 100);		/* estimate 160 */
	for (i = 0; i < 6; i++) {
		budget_decide(&b, 1, &a, &ans);
		assert_int_equal(ans.decision, BD_ALLOW);
		budget_hold(&b, 1, ans.amount, a.tokens, a.now_us);
		a.now_us += 1000000;
	}
	budget_decide(&b, 1, &a, &ans);	/* 6 x 160 + 160 > 1000 */
	assert_int_equal(ans.decision, BD_THROTTLE);
	assert_string_equal(ans.reason, "rate_limited");
	/* The first hold leaves the window 60 s after it was made. */
	assert_int_equal(ans.retry_after_ms, 54000);
	a.now_us += 54 * 1000000LL;
	budget_decide(&b, 1, &a, &ans);
	assert_int_equal(ans.decision, BD_ALLOW);
	/* A call larger than a whole minute's allowance can never pass. */
	a.estimate = 5000;
	budget_decide(&b, 1, &a, &ans);
	assert_int_equal(ans.decision, BD_PAUSE);
	assert_string_equal(ans.reason, "rate_limited");
	b->d.cost_per_minute = 0;
	b->d.tokens_per_minute = 150;
	a.estimate = 1;
	a.tokens = 200;
	budget_decide(&b, 1, &a, &ans);
	assert_int_equal(ans.decision, BD_PAUSE);
	budget_set_free(s);
}

/* Random calls against a strict cap, each holding, then settling at most
 * what it held: the spend never passes the cap, and what is refused is
 * refused only when it did not fit. */
static void
test_strict_never_overspends(void **state)
{
	struct budget_set *s = budget_set_new();
	struct budget *b, *chain[1];
	struct budget_answer ans;
	struct budget_ask a;
	int64_t held[64] = { 0 }, actual;
	uint64_t rng = 42;
	int i, k;

	(void)state;
	b = add(s, 1, "eng", 100000, 1);
	chain[0] = b;
	for (i = 0; i < 20000; i++) {
		k = (int)(rng_next(&rng) % 64);
		if (held[k] > 0) {
			actual = (int64_t)(rng_next(&rng) % (uint64_t)(held[k] + 1));
			budget_hold(chain, 1, -held[k], 0, 0);
			b->spent += actual;
			held[k] = 0;
			continue;
		}
		ask_for(&a, 1 + (int64_t)(rng_next(&rng) % 2000));
		budget_decide(chain, 1, &a, &ans);
		if (ans.decision == BD_ALLOW) {
			assert_true(ans.amount <= budget_remaining(b));
			if (ans.max_output > 0)
				assert_true(ans.max_output < a.max_output);
			budget_hold(chain, 1, ans.amount, 0, 0);
			held[k] = ans.amount;
		} else {
			assert_true(cost_of(NULL, 1) > budget_remaining(b));
		}
		assert_true(b->spent + b->held <= b->d.amount);
	}
	budget_set_free(s);
}

static void
test_burn_rate_pause(void **state)
{
	struct budget_set *s = budget_set_new();
	struct budget_subject subj = { "eng", NULL, "openai", "gpt-4o", 0,
		NULL };
	struct budget_answer ans;
	struct budget_ask a;
	struct budget *b;
	int64_t t = at("2026-10-31T22:30:10Z");

	(void)state;
	b = add(s, 1, "eng", 1000000, 0);
	b->d.burn_pause_amount = 100;
	b->d.burn_pause_minutes = 2;
	budget_spend(s, &subj, t, 150);
	assert_false(budget_burn_tripped(b, t));	/* one minute of two */
	budget_spend(s, &subj, t - 60000000, 100);	/* not above 100 */
	assert_false(budget_burn_tripped(b, t));
	budget_spend(s, &subj, t - 60000000, 1);
	assert_true(budget_burn_tripped(b, t));
	/* A minute later the earlier one has left the window. */
	assert_false(budget_burn_tripped(b, t + 60000000));
	b->d.paused = 1;
	ask_for(&a, 10);
	budget_decide(&b, 1, &a, &ans);
	assert_int_equal(ans.decision, BD_PAUSE);
	assert_string_equal(ans.reason, "anomaly");
	budget_burn_reset(b);
	assert_false(budget_burn_tripped(b, t));
	budget_set_free(s);
}

/* Leased: the lease bounds a hard budget's room too; a short lease is
 * reported (to be asked for) before anything else is decided, then bounds
 * the answer; offline, fail-closed budgets pause beyond it and fail-open
 * ones are not bound by it. */
static void
test_decide_within_leases(void **state)
{
	struct budget_set *s = budget_set_new();
	struct budget *b;
	struct budget_answer ans;
	struct budget_ask a;

	(void)state;
	b = add(s, 1, "eng", 1000, 1);
	ask_for(&a, 100);			/* worst 310 */
	a.leasing = 1;
	/* No lease yet. */
	budget_decide(&b, 1, &a, &ans);
	assert_int_equal(ans.decision, BD_THROTTLE);
	assert_int_equal(ans.nshort, 1);
	assert_ptr_equal(ans.short_lease[0], b);
	/* A lease of 400, 100 of it booked here since: 300 left, so the
	 * worst case (310) is short, and after asking, capped to fit. */
	b->lease = 400;
	b->lease_used = 100;
	b->lease_until = a.now_us + 1000000;
	budget_decide(&b, 1, &a, &ans);
	assert_int_equal(ans.nshort, 1);
	a.lease_final = 1;
	budget_decide(&b, 1, &a, &ans);
	assert_int_equal(ans.decision, BD_ALLOW);
	assert_int_equal(ans.nshort, 0);
	assert_true(ans.amount <= 300 && ans.max_output > 0);
	/* Holds count against the lease as they do against the room. */
	b->held = 295;
	budget_decide(&b, 1, &a, &ans);
	assert_int_equal(ans.decision, BD_THROTTLE);
	assert_string_equal(ans.reason, "room_held_by_inflight");
	/* A lease past its end holds nothing. */
	b->held = 0;
	a.lease_final = 0;
	b->lease_until = a.now_us;
	budget_decide(&b, 1, &a, &ans);
	assert_int_equal(ans.nshort, 1);
	/* Offline: within the lease goes on; beyond it, by policy. */
	a.offline = 1;
	b->lease_until = a.now_us + 1000000;
	b->lease = 1000;
	budget_decide(&b, 1, &a, &ans);
	assert_int_equal(ans.decision, BD_ALLOW);
	b->lease = 200;
	budget_decide(&b, 1, &a, &ans);
	assert_int_equal(ans.decision, BD_PAUSE);
	assert_string_equal(ans.reason, "database_unavailable");
	b->d.fail_open = 1;
	budget_decide(&b, 1, &a, &ans);
	assert_int_equal(ans.decision, BD_ALLOW);
	assert_int_equal(ans.amount, 310);
	/* A booking in the period uses the lease; a period roll ends it. */
	budget_spend_on(&b, 1, b->period_lo, 50);
	assert_int_equal(b->lease_used, 150);
	budget_roll(b, b->period_hi, tz_offset, NULL);
	assert_int_equal(b->lease_until, 0);
	budget_set_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_periods_in_time_zones),
		cmocka_unit_test(test_roll_over_at_local_midnight),
		cmocka_unit_test(test_match_chain_and_scope),
		cmocka_unit_test(test_pause_throttle_allow),
		cmocka_unit_test(test_rate_limits),
		cmocka_unit_test(test_strict_never_overspends),
		cmocka_unit_test(test_burn_rate_pause),
		cmocka_unit_test(test_decide_within_leases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
