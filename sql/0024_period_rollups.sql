-- Weekly and monthly sums of the daily rollups, so that the spend report
-- over a year by week, by month or for the whole window adds up about a
-- row per key and period instead of a row per key and day: a year by
-- user and model per month read 400,000 rows of usage_user_daily (0020)
-- on the bench's seed and took 0.3 to 0.7 s.
--
-- These sums are written outside the booking transaction, so that
-- ingest pays almost nothing for them, and never make a report differ
-- from the ledger:
-- - Every statement that books events or corrections also inserts into
--   usage_rollup_dirty the UTC months its rows fall on (a statement
--   trigger: one row per batch and month, an insert only, no row that
--   two bookings would both update). Every change to a daily rollup
--   comes from such a statement (0003, 0012, 0020, 0022: the rows of an
--   event's day or of the corrected event's), and no daily row is ever
--   deleted (0020's append-only triggers).
-- - tg_fold_periods(), run by the server every few seconds, deletes the
--   marks it can see, then rebuilds from the daily rows the weeks and
--   months they touch. Marks committed after its delete stay, so a
--   month without a mark was rebuilt after its last change.
-- - A report takes a period's sums from here only when the period lies
--   whole in its window and no month it touches is marked, in the same
--   statement (one snapshot) as it reads the marks; every other day comes
--   from the daily rows as before. Right after a booking the report reads
--   that month's days; once folded, its weeks and month.
-- GET /v1/ledger/verify compares the periods of the unmarked months with
-- the daily rows (period_rollup_differences).

-- UTC months whose daily rollups changed since they were last folded.
-- A month marked several times is one month to fold.
CREATE TABLE usage_rollup_dirty (
	month date NOT NULL
);
CREATE INDEX usage_rollup_dirty_month ON usage_rollup_dirty (month);

CREATE TABLE usage_daily_periods (
	grain       text NOT NULL,
	period      date NOT NULL,
	cost_center text,	-- NULL: all of them (grain 'day')
	provider    text NOT NULL,
	model       text NOT NULL,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL
);

CREATE INDEX usage_daily_periods_period ON usage_daily_periods (grain, period);

CREATE TABLE usage_user_periods (
	grain       text NOT NULL,
	period      date NOT NULL,
	cost_center text NOT NULL,
	provider    text NOT NULL,
	model       text NOT NULL,
	user_id     text,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL
);

CREATE INDEX usage_user_periods_period ON usage_user_periods (grain, period);

CREATE TABLE usage_user_cc_periods (
	grain       text NOT NULL,
	period      date NOT NULL,
	cost_center text NOT NULL,
	user_id     text,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL
);

CREATE INDEX usage_user_cc_periods_period ON usage_user_cc_periods (grain, period);

CREATE TABLE usage_tag_periods (
	grain       text NOT NULL,
	period      date NOT NULL,
	cost_center text,	-- NULL: all of them (grain 'day')
	provider    text NOT NULL,
	model       text NOT NULL,
	tag_key     text NOT NULL,
	tag_value   text NOT NULL,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL
);

CREATE INDEX usage_tag_periods_key ON usage_tag_periods (tag_key, grain, period);

CREATE TABLE usage_tag_cc_periods (
	grain       text NOT NULL,
	period      date NOT NULL,
	cost_center text,	-- NULL: all of them (grain 'day')
	tag_key     text NOT NULL,
	tag_value   text NOT NULL,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL
);

CREATE INDEX usage_tag_cc_periods_key ON usage_tag_cc_periods (tag_key, grain, period);

-- The rollup per hour (0020) without the cost center, with and without
-- the model: a year by the hour without cost centers or a subtree adds
-- up 43,800 or 8,760 rows a year (one provider) instead of 876,000.
-- Rebuilt, a marked month's hours, by the fold as the periods are; a
-- report reads the rows of the hours of unmarked months from here.
CREATE TABLE usage_hourly_pm (
	hour        timestamp NOT NULL,	-- UTC
	provider    text NOT NULL,
	model       text NOT NULL,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL,
	PRIMARY KEY (hour, provider, model)
);
CREATE TABLE usage_hourly_p (
	hour        timestamp NOT NULL,	-- UTC
	provider    text NOT NULL,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL,
	PRIMARY KEY (hour, provider)
);

CREATE FUNCTION usage_periods_mark_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO usage_rollup_dirty (month)
	SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date
	FROM new_rows;
	RETURN NULL;
END
$$;

-- A correction changes the daily rows of the day of the event it
-- corrects.
CREATE FUNCTION usage_periods_mark_corrections() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO usage_rollup_dirty (month)
	SELECT DISTINCT date_trunc('month', u.occurred_at AT TIME ZONE 'UTC')::date
	FROM new_rows c
	JOIN usage_events u ON u.transaction_id = c.corrects AND u.root = c.root;
	RETURN NULL;
END
$$;

-- The weeks and months of the given UTC months, rebuilt from the daily
-- rollups (a week that straddles two months is rebuilt with either),
-- and their hours without cost centers from the hourly rollup.
CREATE FUNCTION tg_periods_build(months date[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	weeks date[];
	lo date;
	hi date;
BEGIN
	SELECT array_agg(DISTINCT date_trunc('week', d)::date),
	    min(date_trunc('week', d)::date), max(d)::date + 1
	INTO weeks, lo, hi
	FROM unnest(months) m,
	    generate_series(m::timestamp, m + interval '1 month' - interval '1 day',
	        interval '1 day') d;
	IF weeks IS NULL THEN
		RETURN;
	END IF;
	hi := greatest(hi, (SELECT max(w) FROM unnest(weeks) w) + 7);

	DELETE FROM usage_daily_periods
	WHERE grain = 'month' AND period = ANY (months)
	    OR grain = 'week' AND period = ANY (weeks)
	    OR grain = 'day'
	        AND date_trunc('month', period::timestamp)::date = ANY (months);
	INSERT INTO usage_daily_periods (grain, period,
	    cost_center, provider, model,
	    events, unpriced, list_cost, cost, quantities)
	SELECT g.grain, date_trunc(g.grain, r.day::timestamp)::date,
	    CASE WHEN g.grain <> 'day' THEN r.cost_center END, r.provider,
	    r.model,
	    tg_sum(r.events), tg_sum(r.unpriced), tg_sum(r.list_cost),
	    tg_sum(r.cost),
	    ARRAY[tg_sum(r.quantities[1]), tg_sum(r.quantities[2]),
	    tg_sum(r.quantities[3]), tg_sum(r.quantities[4]),
	    tg_sum(r.quantities[5]), tg_sum(r.quantities[6]),
	    tg_sum(r.quantities[7]), tg_sum(r.quantities[8]),
	    tg_sum(r.quantities[9]), tg_sum(r.quantities[10]),
	    tg_sum(r.quantities[11]), tg_sum(r.quantities[12]),
	    tg_sum(r.quantities[13]), tg_sum(r.quantities[14])]
	FROM usage_daily r, (VALUES ('week'), ('month'), ('day')) g (grain)
	WHERE r.day >= lo AND r.day < hi
	  AND CASE g.grain WHEN 'week'
	      THEN date_trunc('week', r.day::timestamp)::date = ANY (weeks)
	      ELSE date_trunc('month', r.day::timestamp)::date = ANY (months) END
	GROUP BY 1, 2, 3, 4, 5;

	DELETE FROM usage_user_periods
	WHERE grain = 'month' AND period = ANY (months)
	    OR grain = 'week' AND period = ANY (weeks);
	INSERT INTO usage_user_periods (grain, period,
	    cost_center, provider, model, user_id,
	    events, unpriced, list_cost, cost, quantities)
	SELECT g.grain, date_trunc(g.grain, r.day::timestamp)::date,
	    r.cost_center, r.provider, r.model, r.user_id,
	    tg_sum(r.events), tg_sum(r.unpriced), tg_sum(r.list_cost),
	    tg_sum(r.cost),
	    ARRAY[tg_sum(r.quantities[1]), tg_sum(r.quantities[2]),
	    tg_sum(r.quantities[3]), tg_sum(r.quantities[4]),
	    tg_sum(r.quantities[5]), tg_sum(r.quantities[6]),
	    tg_sum(r.quantities[7]), tg_sum(r.quantities[8]),
	    tg_sum(r.quantities[9]), tg_sum(r.quantities[10]),
	    tg_sum(r.quantities[11]), tg_sum(r.quantities[12]),
	    tg_sum(r.quantities[13]), tg_sum(r.quantities[14])]
	FROM usage_user_daily r, (VALUES ('week'), ('month')) g (grain)
	WHERE r.day >= lo AND r.day < hi
	  AND date_trunc(g.grain, r.day::timestamp)::date = ANY (
	      CASE g.grain WHEN 'week' THEN weeks ELSE months END)
	GROUP BY 1, 2, 3, 4, 5, 6;

	DELETE FROM usage_user_cc_periods
	WHERE grain = 'month' AND period = ANY (months)
	    OR grain = 'week' AND period = ANY (weeks);
	INSERT INTO usage_user_cc_periods (grain, period,
	    cost_center, user_id,
	    events, unpriced, list_cost, cost, quantities)
	SELECT g.grain, date_trunc(g.grain, r.day::timestamp)::date,
	    r.cost_center, r.user_id,
	    tg_sum(r.events), tg_sum(r.unpriced), tg_sum(r.list_cost),
	    tg_sum(r.cost),
	    ARRAY[tg_sum(r.quantities[1]), tg_sum(r.quantities[2]),
	    tg_sum(r.quantities[3]), tg_sum(r.quantities[4]),
	    tg_sum(r.quantities[5]), tg_sum(r.quantities[6]),
	    tg_sum(r.quantities[7]), tg_sum(r.quantities[8]),
	    tg_sum(r.quantities[9]), tg_sum(r.quantities[10]),
	    tg_sum(r.quantities[11]), tg_sum(r.quantities[12]),
	    tg_sum(r.quantities[13]), tg_sum(r.quantities[14])]
	FROM usage_user_cc_daily r, (VALUES ('week'), ('month')) g (grain)
	WHERE r.day >= lo AND r.day < hi
	  AND date_trunc(g.grain, r.day::timestamp)::date = ANY (
	      CASE g.grain WHEN 'week' THEN weeks ELSE months END)
	GROUP BY 1, 2, 3, 4;

	DELETE FROM usage_tag_periods
	WHERE grain = 'month' AND period = ANY (months)
	    OR grain = 'week' AND period = ANY (weeks)
	    OR grain = 'day'
	        AND date_trunc('month', period::timestamp)::date = ANY (months);
	INSERT INTO usage_tag_periods (grain, period,
	    cost_center, provider, model, tag_key, tag_value,
	    events, unpriced, list_cost, cost, quantities)
	SELECT g.grain, date_trunc(g.grain, r.day::timestamp)::date,
	    CASE WHEN g.grain <> 'day' THEN r.cost_center END, r.provider,
	    r.model, r.tag_key, r.tag_value,
	    tg_sum(r.events), tg_sum(r.unpriced), tg_sum(r.list_cost),
	    tg_sum(r.cost),
	    ARRAY[tg_sum(r.quantities[1]), tg_sum(r.quantities[2]),
	    tg_sum(r.quantities[3]), tg_sum(r.quantities[4]),
	    tg_sum(r.quantities[5]), tg_sum(r.quantities[6]),
	    tg_sum(r.quantities[7]), tg_sum(r.quantities[8]),
	    tg_sum(r.quantities[9]), tg_sum(r.quantities[10]),
	    tg_sum(r.quantities[11]), tg_sum(r.quantities[12]),
	    tg_sum(r.quantities[13]), tg_sum(r.quantities[14])]
	FROM usage_tag_daily r, (VALUES ('week'), ('month'), ('day')) g (grain)
	WHERE r.day >= lo AND r.day < hi
	  AND CASE g.grain WHEN 'week'
	      THEN date_trunc('week', r.day::timestamp)::date = ANY (weeks)
	      ELSE date_trunc('month', r.day::timestamp)::date = ANY (months) END
	GROUP BY 1, 2, 3, 4, 5, 6, 7;

	DELETE FROM usage_tag_cc_periods
	WHERE grain = 'month' AND period = ANY (months)
	    OR grain = 'week' AND period = ANY (weeks)
	    OR grain = 'day'
	        AND date_trunc('month', period::timestamp)::date = ANY (months);
	INSERT INTO usage_tag_cc_periods (grain, period,
	    cost_center, tag_key, tag_value,
	    events, unpriced, list_cost, cost, quantities)
	SELECT g.grain, date_trunc(g.grain, r.day::timestamp)::date,
	    CASE WHEN g.grain <> 'day' THEN r.cost_center END, r.tag_key,
	    r.tag_value,
	    tg_sum(r.events), tg_sum(r.unpriced), tg_sum(r.list_cost),
	    tg_sum(r.cost),
	    ARRAY[tg_sum(r.quantities[1]), tg_sum(r.quantities[2]),
	    tg_sum(r.quantities[3]), tg_sum(r.quantities[4]),
	    tg_sum(r.quantities[5]), tg_sum(r.quantities[6]),
	    tg_sum(r.quantities[7]), tg_sum(r.quantities[8]),
	    tg_sum(r.quantities[9]), tg_sum(r.quantities[10]),
	    tg_sum(r.quantities[11]), tg_sum(r.quantities[12]),
	    tg_sum(r.quantities[13]), tg_sum(r.quantities[14])]
	FROM usage_tag_cc_daily r, (VALUES ('week'), ('month'), ('day')) g (grain)
	WHERE r.day >= lo AND r.day < hi
	  AND CASE g.grain WHEN 'week'
	      THEN date_trunc('week', r.day::timestamp)::date = ANY (weeks)
	      ELSE date_trunc('month', r.day::timestamp)::date = ANY (months) END
	GROUP BY 1, 2, 3, 4, 5;
	DELETE FROM usage_hourly_pm
	WHERE date_trunc('month', hour)::date = ANY (months);
	INSERT INTO usage_hourly_pm (hour, provider, model, events, unpriced,
	    list_cost, cost, quantities)
	SELECT r.hour, r.provider, r.model, tg_sum(r.events),
	    tg_sum(r.unpriced), tg_sum(r.list_cost), tg_sum(r.cost),
	    ARRAY[tg_sum(r.quantities[1]), tg_sum(r.quantities[2]),
	    tg_sum(r.quantities[3]), tg_sum(r.quantities[4]),
	    tg_sum(r.quantities[5]), tg_sum(r.quantities[6]),
	    tg_sum(r.quantities[7]), tg_sum(r.quantities[8]),
	    tg_sum(r.quantities[9]), tg_sum(r.quantities[10]),
	    tg_sum(r.quantities[11]), tg_sum(r.quantities[12]),
	    tg_sum(r.quantities[13]), tg_sum(r.quantities[14])]
	FROM usage_hourly r
	WHERE r.hour >= lo AND r.hour < hi
	  AND date_trunc('month', r.hour)::date = ANY (months)
	GROUP BY 1, 2, 3;

	DELETE FROM usage_hourly_p
	WHERE date_trunc('month', hour)::date = ANY (months);
	INSERT INTO usage_hourly_p (hour, provider, events, unpriced,
	    list_cost, cost, quantities)
	SELECT r.hour, r.provider, tg_sum(r.events), tg_sum(r.unpriced),
	    tg_sum(r.list_cost), tg_sum(r.cost),
	    ARRAY[tg_sum(r.quantities[1]), tg_sum(r.quantities[2]),
	    tg_sum(r.quantities[3]), tg_sum(r.quantities[4]),
	    tg_sum(r.quantities[5]), tg_sum(r.quantities[6]),
	    tg_sum(r.quantities[7]), tg_sum(r.quantities[8]),
	    tg_sum(r.quantities[9]), tg_sum(r.quantities[10]),
	    tg_sum(r.quantities[11]), tg_sum(r.quantities[12]),
	    tg_sum(r.quantities[13]), tg_sum(r.quantities[14])]
	FROM usage_hourly_pm r
	WHERE r.hour >= lo AND r.hour < hi
	  AND date_trunc('month', r.hour)::date = ANY (months)
	GROUP BY 1, 2;
END
$$;

-- Fold the marked months; how many. One at a time (the lock: two would
-- rebuild the same rows). The marks are deleted first, in a statement
-- of its own: the rebuild's statements that follow see every booking
-- their marks' deletion saw, and a booking committed after that delete
-- keeps its mark, so the month is read from its days until the next
-- fold. Safe in READ COMMITTED: no statement here relies on another's
-- snapshot but for seeing at least what the delete saw.
CREATE FUNCTION tg_fold_periods() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	months date[];
BEGIN
	IF NOT pg_try_advisory_xact_lock(7469526473) THEN
		RETURN 0;
	END IF;
	WITH d AS (DELETE FROM usage_rollup_dirty RETURNING month)
	SELECT array_agg(DISTINCT month) INTO months FROM d;
	IF months IS NULL THEN
		RETURN 0;
	END IF;
	PERFORM tg_periods_build(months);
	RETURN cardinality(months);
END
$$;

-- The period sums that differ from their daily rows, for
-- GET /v1/ledger/verify (period_rollup_differences): those of the
-- periods a report would read them for (no month they touch marked),
-- each as its table, grain, period, key (its dimensions as a JSON
-- array, a NULL user as null), events and cost on both sides.
CREATE FUNCTION tg_periods_differences() RETURNS TABLE ("table" text,
    grain text, period date, key jsonb, rollup_events bigint,
    events bigint, rollup_cost bigint, cost bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	marked date[] := (SELECT coalesce(array_agg(month), '{}')
	    FROM usage_rollup_dirty);
BEGIN
	RETURN QUERY
	SELECT 'usage_daily_periods'::text, grain, period, key, p.events, d.events,
	    p.cost, d.cost
	FROM (SELECT grain, period, jsonb_build_array(cost_center, provider, model) AS key,
	        events, unpriced, list_cost, cost, quantities
	    FROM usage_daily_periods) p
	FULL JOIN (SELECT g.grain,
	        date_trunc(g.grain, day::timestamp)::date AS period,
	        jsonb_build_array(CASE WHEN g.grain <> 'day'
	            THEN cost_center END, provider, model) AS key,
	        tg_sum(events) AS events, tg_sum(unpriced) AS unpriced,
	        tg_sum(list_cost) AS list_cost, tg_sum(cost) AS cost,
	        ARRAY[tg_sum(quantities[1]), tg_sum(quantities[2]), tg_sum(quantities[3]),
		    tg_sum(quantities[4]), tg_sum(quantities[5]), tg_sum(quantities[6]),
		    tg_sum(quantities[7]), tg_sum(quantities[8]), tg_sum(quantities[9]),
		    tg_sum(quantities[10]), tg_sum(quantities[11]), tg_sum(quantities[12]),
		    tg_sum(quantities[13]), tg_sum(quantities[14])]
	            AS quantities
	    FROM usage_daily, (VALUES ('week'), ('month'), ('day')) g (grain)
	    GROUP BY 1, 2, 3) d USING (grain, period, key)
	WHERE tg_period_served(grain, period, '-infinity', 'infinity', marked)
	  AND (p.events IS DISTINCT FROM d.events
	      OR p.unpriced IS DISTINCT FROM d.unpriced
	      OR p.list_cost IS DISTINCT FROM d.list_cost
	      OR p.cost IS DISTINCT FROM d.cost
	      OR p.quantities IS DISTINCT FROM d.quantities);

	RETURN QUERY
	SELECT 'usage_user_periods'::text, grain, period, key, p.events, d.events,
	    p.cost, d.cost
	FROM (SELECT grain, period, jsonb_build_array(cost_center, provider, model, user_id) AS key,
	        events, unpriced, list_cost, cost, quantities
	    FROM usage_user_periods) p
	FULL JOIN (SELECT g.grain,
	        date_trunc(g.grain, day::timestamp)::date AS period,
	        jsonb_build_array(cost_center, provider, model, user_id) AS key,
	        tg_sum(events) AS events, tg_sum(unpriced) AS unpriced,
	        tg_sum(list_cost) AS list_cost, tg_sum(cost) AS cost,
	        ARRAY[tg_sum(quantities[1]), tg_sum(quantities[2]), tg_sum(quantities[3]),
		    tg_sum(quantities[4]), tg_sum(quantities[5]), tg_sum(quantities[6]),
		    tg_sum(quantities[7]), tg_sum(quantities[8]), tg_sum(quantities[9]),
		    tg_sum(quantities[10]), tg_sum(quantities[11]), tg_sum(quantities[12]),
		    tg_sum(quantities[13]), tg_sum(quantities[14])]
	            AS quantities
	    FROM usage_user_daily, (VALUES ('week'), ('month')) g (grain)
	    GROUP BY 1, 2, 3) d USING (grain, period, key)
	WHERE tg_period_served(grain, period, '-infinity', 'infinity', marked)
	  AND (p.events IS DISTINCT FROM d.events
	      OR p.unpriced IS DISTINCT FROM d.unpriced
	      OR p.list_cost IS DISTINCT FROM d.list_cost
	      OR p.cost IS DISTINCT FROM d.cost
	      OR p.quantities IS DISTINCT FROM d.quantities);

	RETURN QUERY
	SELECT 'usage_user_cc_periods'::text, grain, period, key, p.events, d.events,
	    p.cost, d.cost
	FROM (SELECT grain, period, jsonb_build_array(cost_center, user_id) AS key,
	        events, unpriced, list_cost, cost, quantities
	    FROM usage_user_cc_periods) p
	FULL JOIN (SELECT g.grain,
	        date_trunc(g.grain, day::timestamp)::date AS period,
	        jsonb_build_array(cost_center, user_id) AS key,
	        tg_sum(events) AS events, tg_sum(unpriced) AS unpriced,
	        tg_sum(list_cost) AS list_cost, tg_sum(cost) AS cost,
	        ARRAY[tg_sum(quantities[1]), tg_sum(quantities[2]), tg_sum(quantities[3]),
		    tg_sum(quantities[4]), tg_sum(quantities[5]), tg_sum(quantities[6]),
		    tg_sum(quantities[7]), tg_sum(quantities[8]), tg_sum(quantities[9]),
		    tg_sum(quantities[10]), tg_sum(quantities[11]), tg_sum(quantities[12]),
		    tg_sum(quantities[13]), tg_sum(quantities[14])]
	            AS quantities
	    FROM usage_user_cc_daily, (VALUES ('week'), ('month')) g (grain)
	    GROUP BY 1, 2, 3) d USING (grain, period, key)
	WHERE tg_period_served(grain, period, '-infinity', 'infinity', marked)
	  AND (p.events IS DISTINCT FROM d.events
	      OR p.unpriced IS DISTINCT FROM d.unpriced
	      OR p.list_cost IS DISTINCT FROM d.list_cost
	      OR p.cost IS DISTINCT FROM d.cost
	      OR p.quantities IS DISTINCT FROM d.quantities);

	RETURN QUERY
	SELECT 'usage_tag_periods'::text, grain, period, key, p.events, d.events,
	    p.cost, d.cost
	FROM (SELECT grain, period, jsonb_build_array(cost_center, provider, model, tag_key, tag_value) AS key,
	        events, unpriced, list_cost, cost, quantities
	    FROM usage_tag_periods) p
	FULL JOIN (SELECT g.grain,
	        date_trunc(g.grain, day::timestamp)::date AS period,
	        jsonb_build_array(CASE WHEN g.grain <> 'day'
	            THEN cost_center END, provider, model, tag_key, tag_value) AS key,
	        tg_sum(events) AS events, tg_sum(unpriced) AS unpriced,
	        tg_sum(list_cost) AS list_cost, tg_sum(cost) AS cost,
	        ARRAY[tg_sum(quantities[1]), tg_sum(quantities[2]), tg_sum(quantities[3]),
		    tg_sum(quantities[4]), tg_sum(quantities[5]), tg_sum(quantities[6]),
		    tg_sum(quantities[7]), tg_sum(quantities[8]), tg_sum(quantities[9]),
		    tg_sum(quantities[10]), tg_sum(quantities[11]), tg_sum(quantities[12]),
		    tg_sum(quantities[13]), tg_sum(quantities[14])]
	            AS quantities
	    FROM usage_tag_daily, (VALUES ('week'), ('month'), ('day')) g (grain)
	    GROUP BY 1, 2, 3) d USING (grain, period, key)
	WHERE tg_period_served(grain, period, '-infinity', 'infinity', marked)
	  AND (p.events IS DISTINCT FROM d.events
	      OR p.unpriced IS DISTINCT FROM d.unpriced
	      OR p.list_cost IS DISTINCT FROM d.list_cost
	      OR p.cost IS DISTINCT FROM d.cost
	      OR p.quantities IS DISTINCT FROM d.quantities);

	RETURN QUERY
	SELECT 'usage_tag_cc_periods'::text, grain, period, key, p.events, d.events,
	    p.cost, d.cost
	FROM (SELECT grain, period, jsonb_build_array(cost_center, tag_key, tag_value) AS key,
	        events, unpriced, list_cost, cost, quantities
	    FROM usage_tag_cc_periods) p
	FULL JOIN (SELECT g.grain,
	        date_trunc(g.grain, day::timestamp)::date AS period,
	        jsonb_build_array(CASE WHEN g.grain <> 'day'
	            THEN cost_center END, tag_key, tag_value) AS key,
	        tg_sum(events) AS events, tg_sum(unpriced) AS unpriced,
	        tg_sum(list_cost) AS list_cost, tg_sum(cost) AS cost,
	        ARRAY[tg_sum(quantities[1]), tg_sum(quantities[2]), tg_sum(quantities[3]),
		    tg_sum(quantities[4]), tg_sum(quantities[5]), tg_sum(quantities[6]),
		    tg_sum(quantities[7]), tg_sum(quantities[8]), tg_sum(quantities[9]),
		    tg_sum(quantities[10]), tg_sum(quantities[11]), tg_sum(quantities[12]),
		    tg_sum(quantities[13]), tg_sum(quantities[14])]
	            AS quantities
	    FROM usage_tag_cc_daily, (VALUES ('week'), ('month'), ('day')) g (grain)
	    GROUP BY 1, 2, 3) d USING (grain, period, key)
	WHERE tg_period_served(grain, period, '-infinity', 'infinity', marked)
	  AND (p.events IS DISTINCT FROM d.events
	      OR p.unpriced IS DISTINCT FROM d.unpriced
	      OR p.list_cost IS DISTINCT FROM d.list_cost
	      OR p.cost IS DISTINCT FROM d.cost
	      OR p.quantities IS DISTINCT FROM d.quantities);

	RETURN QUERY
	SELECT 'usage_hourly_pm'::text, 'hour'::text, hour::date,
	    jsonb_build_array(hour, provider, model), p.events, d.events,
	    p.cost, d.cost
	FROM usage_hourly_pm p
	FULL JOIN (SELECT hour, provider, model, tg_sum(events) AS events,
	        tg_sum(unpriced) AS unpriced, tg_sum(list_cost) AS list_cost,
	        tg_sum(cost) AS cost,
	        ARRAY[tg_sum(quantities[1]), tg_sum(quantities[2]),
	    tg_sum(quantities[3]), tg_sum(quantities[4]),
	    tg_sum(quantities[5]), tg_sum(quantities[6]),
	    tg_sum(quantities[7]), tg_sum(quantities[8]),
	    tg_sum(quantities[9]), tg_sum(quantities[10]),
	    tg_sum(quantities[11]), tg_sum(quantities[12]),
	    tg_sum(quantities[13]), tg_sum(quantities[14])] AS quantities
	    FROM usage_hourly GROUP BY 1, 2, 3) d USING (hour, provider, model)
	WHERE NOT date_trunc('month', hour)::date
	        = ANY (marked)
	  AND (p.events IS DISTINCT FROM d.events
	      OR p.unpriced IS DISTINCT FROM d.unpriced
	      OR p.list_cost IS DISTINCT FROM d.list_cost
	      OR p.cost IS DISTINCT FROM d.cost
	      OR p.quantities IS DISTINCT FROM d.quantities);

	RETURN QUERY
	SELECT 'usage_hourly_p'::text, 'hour'::text, hour::date,
	    jsonb_build_array(hour, provider), p.events, d.events,
	    p.cost, d.cost
	FROM usage_hourly_p p
	FULL JOIN (SELECT hour, provider, tg_sum(events) AS events,
	        tg_sum(unpriced) AS unpriced, tg_sum(list_cost) AS list_cost,
	        tg_sum(cost) AS cost,
	        ARRAY[tg_sum(quantities[1]), tg_sum(quantities[2]),
	    tg_sum(quantities[3]), tg_sum(quantities[4]),
	    tg_sum(quantities[5]), tg_sum(quantities[6]),
	    tg_sum(quantities[7]), tg_sum(quantities[8]),
	    tg_sum(quantities[9]), tg_sum(quantities[10]),
	    tg_sum(quantities[11]), tg_sum(quantities[12]),
	    tg_sum(quantities[13]), tg_sum(quantities[14])] AS quantities
	    FROM usage_hourly GROUP BY 1, 2) d USING (hour, provider)
	WHERE NOT date_trunc('month', hour)::date
	        = ANY (marked)
	  AND (p.events IS DISTINCT FROM d.events
	      OR p.unpriced IS DISTINCT FROM d.unpriced
	      OR p.list_cost IS DISTINCT FROM d.list_cost
	      OR p.cost IS DISTINCT FROM d.cost
	      OR p.quantities IS DISTINCT FROM d.quantities);
END
$$;


-- The grain whose sums serve a report's periods: weeks per week, months
-- per month and for a whole window; none per day or hour.
CREATE FUNCTION tg_fold_grain(granularity text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE granularity WHEN 'week' THEN 'week' WHEN 'month' THEN 'month'
	    WHEN 'none' THEN 'month' END
$$;

-- The first day of a window from (its start, a UTC midnight, or NULL:
-- open) and the first day after a window to.
CREATE FUNCTION tg_utc_lo(t timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT coalesce((t AT TIME ZONE 'UTC')::date, '-infinity'::date)
$$;
CREATE FUNCTION tg_utc_hi(t timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT coalesce((t AT TIME ZONE 'UTC')::date, 'infinity'::date)
$$;

-- The same for the tables that also keep days over all cost centers
-- (usage_daily_periods, usage_tag_periods, usage_tag_cc_periods): per
-- day, when the report groups by no cost center and reads no subtree.
CREATE FUNCTION tg_fold_grain(granularity text, by_cost_center boolean,
    subtree text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN granularity = 'day' AND NOT by_cost_center
	        AND subtree IS NULL THEN 'day'
	    ELSE tg_fold_grain(granularity) END
$$;

-- Whether the period of the grain that starts on p is served from its
-- sums: whole inside [lo, hi), and no month it touches marked in dirty.
-- Each argument used once but constants, so that PostgreSQL inlines it
-- with dirty a subquery.
CREATE FUNCTION tg_period_served(grain text, p date, lo date, hi date,
    dirty date[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT grain IS NOT NULL AND p >= lo
	    AND (p + CASE grain WHEN 'week' THEN interval '7 days'
	        WHEN 'day' THEN interval '1 day'
	        ELSE interval '1 month' END)::date <= hi
	    AND NOT ARRAY[date_trunc('month', p::timestamp)::date,
	        date_trunc('month', (p + CASE grain WHEN 'week' THEN 6
	            ELSE 0 END)::timestamp)::date] && dirty
$$;

-- The first whole period's start in [lo, hi) and the last one's end:
-- days before and after come from the daily rows.
CREATE FUNCTION tg_period_ceil(grain text, lo date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN grain IS NULL THEN 'infinity'::date
	    WHEN date_trunc(grain, lo::timestamp)::date = lo THEN lo
	    ELSE (date_trunc(grain, lo::timestamp) + CASE grain
	        WHEN 'week' THEN interval '7 days' WHEN 'day' THEN interval '1 day'
	        ELSE interval '1 month' END)::date
	    END
$$;
CREATE FUNCTION tg_period_floor(grain text, hi date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN grain IS NULL THEN '-infinity'::date
	    ELSE date_trunc(grain, hi::timestamp)::date END
$$;

-- Whether a daily row of [lo, hi) is read as a day, its period not
-- served from sums: the days before the first whole period, after the
-- last, and from since (six days before the first marked month: a week
-- may start then) those of periods tg_period_served refuses. The ranges
-- first, as plain comparisons of day, so that an index finds the rows.
CREATE FUNCTION tg_day_unserved(grain text, day date, lo date, hi date,
    dirty date[], since date) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT (day < tg_period_ceil(grain, lo)
	        OR day >= tg_period_floor(grain, hi) OR day >= since)
	    AND NOT tg_period_served(grain,
	        date_trunc(grain, day::timestamp)::date, lo, hi, dirty)
$$;

-- The marks first: from here on every booking leaves one (CREATE
-- TRIGGER locks out bookings until this migration commits, so none
-- falls between the build below and the triggers).
CREATE TRIGGER usage_periods_mark_events AFTER INSERT ON usage_events
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION usage_periods_mark_events();
CREATE TRIGGER usage_periods_mark_corrections AFTER INSERT
	ON usage_corrections REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION usage_periods_mark_corrections();

SELECT tg_periods_build(array_agg(DISTINCT date_trunc('month',
    day::timestamp)::date)) FROM usage_daily;
ANALYZE usage_daily_periods;
ANALYZE usage_user_periods;
ANALYZE usage_user_cc_periods;
ANALYZE usage_tag_periods;
ANALYZE usage_tag_cc_periods;
ANALYZE usage_hourly_pm;
ANALYZE usage_hourly_p;
