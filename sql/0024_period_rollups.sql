-- Weekly and monthly sums of the daily rollups, so that the spend report
-- over a year by week, by month or for the whole window adds up about a
-- row per key and period instead of a row per key and day: a year by
-- user and model per month read 400,000 rows of usage_user_daily (0020)
-- on the bench's seed and took 0.3 to 0.7 s. With them, for the reports
-- over every cost center (no subtree): days without the cost center
-- (the daily and tag sums) and hours without it (usage_hourly_pm,
-- usage_hourly_p).
--
-- These sums are written outside the booking transaction, so that
-- ingest pays almost nothing for them, and never make a report differ
-- from the ledger:
-- - They cover the UTC days before usage_periods_folded.through (the
--   day of the last fold): today's days, where ingest writes, are always
--   read from the daily rows.
-- - Every statement that books events or corrections also inserts into
--   usage_rollup_dirty the UTC days its rows fall on (a statement
--   trigger: one row per batch and day, an insert only, no row that two
--   bookings would both update). Every change to a daily rollup comes
--   from such a statement (0003, 0012, 0020, 0022: the rows of an
--   event's day or of the corrected event's), and no daily row is ever
--   deleted (0020's append-only triggers).
-- - tg_fold_periods(), run by the server every few seconds, deletes the
--   marks it can see, then rebuilds from the daily rows the periods that
--   hold a marked day before the new through, or a day that the new
--   through adds (once a day). Marks committed after its delete stay.
--   Under steady ingest, marks are of today: a fold rebuilds nothing.
-- - A report reads a period's sums only when the period lies whole in
--   its window and holds no marked day before through, in the same
--   statement (one snapshot) as it reads the marks and through; the days
--   from through on, and all days of other periods, from the daily rows
--   as before. Right after a booking of an earlier day (a late event, a
--   correction) the report reads the days of its periods; once folded,
--   their sums again.
-- GET /v1/ledger/verify compares the sums the reports would read with
-- the daily rows (period_rollup_differences).

-- UTC days whose daily rollups changed since the last fold (a day
-- marked several times is one day to fold), and the first day not
-- folded (one row).
CREATE TABLE usage_rollup_dirty (
	day date NOT NULL
);
CREATE INDEX usage_rollup_dirty_day ON usage_rollup_dirty (day);
CREATE TABLE usage_periods_folded (
	through date NOT NULL
);

-- grain 'week' or 'month' (period its first day); in the daily and tag
-- sums also 'day', over all cost centers (cost_center NULL).
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
CREATE INDEX usage_tag_periods_key ON usage_tag_periods
    (tag_key, grain, period);
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
CREATE INDEX usage_tag_cc_periods_key ON usage_tag_cc_periods
    (tag_key, grain, period);

-- The rollup per hour (0020) without the cost center, with and without
-- the model: a year by the hour over every cost center adds up 43,800
-- or 8,760 rows a year (one provider) instead of 876,000. Folded as the
-- periods are, by day.
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
	INSERT INTO usage_rollup_dirty (day)
	SELECT DISTINCT (occurred_at AT TIME ZONE 'UTC')::date FROM new_rows;
	RETURN NULL;
END
$$;

-- A correction changes the daily rows of the day of the event it
-- corrects.
CREATE FUNCTION usage_periods_mark_corrections() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO usage_rollup_dirty (day)
	SELECT DISTINCT (u.occurred_at AT TIME ZONE 'UTC')::date
	FROM new_rows c
	JOIN usage_events u ON u.transaction_id = c.corrects AND u.root = c.root;
	RETURN NULL;
END
$$;

-- The sums of each table as the daily rollups give them: of the days in
-- [lo, hi), and, unless weeks is NULL, only for the weeks, months and
-- days given. The fold writes them (tg_periods_build) and verify
-- compares the tables with them (tg_periods_differences): one
-- definition of each sum. Days over all cost centers have cost_center
-- NULL.
CREATE FUNCTION tg_daily_period_sums(lo date, hi date, weeks date[],
    months date[], days date[]) RETURNS SETOF usage_daily_periods
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT g.grain, date_trunc(g.grain, r.day::timestamp)::date,
	    CASE WHEN g.grain <> 'day' THEN r.cost_center END,
	    r.provider, r.model,
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
	  AND (weeks IS NULL OR date_trunc(g.grain, r.day::timestamp)::date
	      = ANY (CASE g.grain WHEN 'week' THEN weeks WHEN 'month' THEN
	      months ELSE days END))
	GROUP BY 1, 2, 3, 4, 5
$$;

CREATE FUNCTION tg_user_period_sums(lo date, hi date, weeks date[],
    months date[], days date[]) RETURNS SETOF usage_user_periods
LANGUAGE sql STABLE PARALLEL SAFE AS $$
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
	  AND (weeks IS NULL OR date_trunc(g.grain, r.day::timestamp)::date
	      = ANY (CASE g.grain WHEN 'week' THEN weeks WHEN 'month' THEN
	      months ELSE days END))
	GROUP BY 1, 2, 3, 4, 5, 6
$$;

CREATE FUNCTION tg_user_cc_period_sums(lo date, hi date, weeks date[],
    months date[], days date[]) RETURNS SETOF usage_user_cc_periods
LANGUAGE sql STABLE PARALLEL SAFE AS $$
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
	  AND (weeks IS NULL OR date_trunc(g.grain, r.day::timestamp)::date
	      = ANY (CASE g.grain WHEN 'week' THEN weeks WHEN 'month' THEN
	      months ELSE days END))
	GROUP BY 1, 2, 3, 4
$$;

CREATE FUNCTION tg_tag_period_sums(lo date, hi date, weeks date[],
    months date[], days date[]) RETURNS SETOF usage_tag_periods
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT g.grain, date_trunc(g.grain, r.day::timestamp)::date,
	    CASE WHEN g.grain <> 'day' THEN r.cost_center END,
	    r.provider, r.model, r.tag_key, r.tag_value,
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
	  AND (weeks IS NULL OR date_trunc(g.grain, r.day::timestamp)::date
	      = ANY (CASE g.grain WHEN 'week' THEN weeks WHEN 'month' THEN
	      months ELSE days END))
	GROUP BY 1, 2, 3, 4, 5, 6, 7
$$;

CREATE FUNCTION tg_tag_cc_period_sums(lo date, hi date, weeks date[],
    months date[], days date[]) RETURNS SETOF usage_tag_cc_periods
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT g.grain, date_trunc(g.grain, r.day::timestamp)::date,
	    CASE WHEN g.grain <> 'day' THEN r.cost_center END,
	    r.tag_key, r.tag_value,
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
	  AND (weeks IS NULL OR date_trunc(g.grain, r.day::timestamp)::date
	      = ANY (CASE g.grain WHEN 'week' THEN weeks WHEN 'month' THEN
	      months ELSE days END))
	GROUP BY 1, 2, 3, 4, 5
$$;

-- The hours of the days in [lo, hi), only those of the days given
-- unless days is NULL, over all cost centers.
CREATE FUNCTION tg_hourly_pm_sums(lo date, hi date, days date[])
RETURNS SETOF usage_hourly_pm
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT r.hour, r.provider, r.model,
	    tg_sum(r.events), tg_sum(r.unpriced), tg_sum(r.list_cost),
	    tg_sum(r.cost),
	    ARRAY[tg_sum(r.quantities[1]), tg_sum(r.quantities[2]),
	    tg_sum(r.quantities[3]), tg_sum(r.quantities[4]),
	    tg_sum(r.quantities[5]), tg_sum(r.quantities[6]),
	    tg_sum(r.quantities[7]), tg_sum(r.quantities[8]),
	    tg_sum(r.quantities[9]), tg_sum(r.quantities[10]),
	    tg_sum(r.quantities[11]), tg_sum(r.quantities[12]),
	    tg_sum(r.quantities[13]), tg_sum(r.quantities[14])]
	FROM usage_hourly r
	WHERE r.hour >= lo AND r.hour < hi
	  AND (days IS NULL OR r.hour::date = ANY (days))
	GROUP BY 1, 2, 3
$$;

CREATE FUNCTION tg_hourly_p_sums(lo date, hi date, days date[])
RETURNS SETOF usage_hourly_p
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT r.hour, r.provider,
	    tg_sum(r.events), tg_sum(r.unpriced), tg_sum(r.list_cost),
	    tg_sum(r.cost),
	    ARRAY[tg_sum(r.quantities[1]), tg_sum(r.quantities[2]),
	    tg_sum(r.quantities[3]), tg_sum(r.quantities[4]),
	    tg_sum(r.quantities[5]), tg_sum(r.quantities[6]),
	    tg_sum(r.quantities[7]), tg_sum(r.quantities[8]),
	    tg_sum(r.quantities[9]), tg_sum(r.quantities[10]),
	    tg_sum(r.quantities[11]), tg_sum(r.quantities[12]),
	    tg_sum(r.quantities[13]), tg_sum(r.quantities[14])]
	FROM usage_hourly r
	WHERE r.hour >= lo AND r.hour < hi
	  AND (days IS NULL OR r.hour::date = ANY (days))
	GROUP BY 1, 2
$$;

-- The weeks, months (and days over all cost centers, and hours) that
-- hold the given days, rebuilt from the daily rollups' days before
-- through.
CREATE FUNCTION tg_periods_build(days date[], through date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	weeks date[];
	months date[];
	lo date;
BEGIN
	SELECT array_agg(DISTINCT d), array_agg(DISTINCT
	        date_trunc('week', d::timestamp)::date),
	    array_agg(DISTINCT date_trunc('month', d::timestamp)::date),
	    least(min(date_trunc('week', d::timestamp)::date),
	        min(date_trunc('month', d::timestamp)::date))
	INTO days, weeks, months, lo
	FROM unnest(days) d WHERE d < through;
	IF days IS NULL THEN
		RETURN;
	END IF;

	DELETE FROM usage_daily_periods
	WHERE grain = 'month' AND period = ANY (months)
	    OR grain = 'week' AND period = ANY (weeks)
	    OR grain = 'day' AND period = ANY (days);
	INSERT INTO usage_daily_periods
	SELECT * FROM tg_daily_period_sums(lo, through, weeks, months, days);

	DELETE FROM usage_user_periods
	WHERE grain = 'month' AND period = ANY (months)
	    OR grain = 'week' AND period = ANY (weeks);
	INSERT INTO usage_user_periods
	SELECT * FROM tg_user_period_sums(lo, through, weeks, months, days);

	DELETE FROM usage_user_cc_periods
	WHERE grain = 'month' AND period = ANY (months)
	    OR grain = 'week' AND period = ANY (weeks);
	INSERT INTO usage_user_cc_periods
	SELECT * FROM tg_user_cc_period_sums(lo, through, weeks, months, days);

	DELETE FROM usage_tag_periods
	WHERE grain = 'month' AND period = ANY (months)
	    OR grain = 'week' AND period = ANY (weeks)
	    OR grain = 'day' AND period = ANY (days);
	INSERT INTO usage_tag_periods
	SELECT * FROM tg_tag_period_sums(lo, through, weeks, months, days);

	DELETE FROM usage_tag_cc_periods
	WHERE grain = 'month' AND period = ANY (months)
	    OR grain = 'week' AND period = ANY (weeks)
	    OR grain = 'day' AND period = ANY (days);
	INSERT INTO usage_tag_cc_periods
	SELECT * FROM tg_tag_cc_period_sums(lo, through, weeks, months, days);

	DELETE FROM usage_hourly_pm WHERE hour::date = ANY (days);
	INSERT INTO usage_hourly_pm SELECT * FROM tg_hourly_pm_sums(lo, through, days);
	DELETE FROM usage_hourly_p WHERE hour::date = ANY (days);
	INSERT INTO usage_hourly_p SELECT * FROM tg_hourly_p_sums(lo, through, days);
END
$$;

-- Fold the days marked before today (UTC), and the days since the last
-- fold's through up to today, into their sums; how many days. One fold
-- at a time (the lock: two would rebuild the same rows). The marks are
-- deleted in a statement of their own before the rebuild: the rebuild's
-- statements see every booking the delete saw, and a booking committed
-- after the delete keeps its mark. Marks of today on are dropped: their
-- days are read from the daily rows until a fold moves through past
-- them, and that fold rebuilds them. Safe in READ COMMITTED: no
-- statement relies on another's snapshot but for seeing at least what
-- the delete saw.
CREATE FUNCTION tg_fold_periods() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	was date;
	upto date;		-- the new through
	days date[];
BEGIN
	IF NOT pg_try_advisory_xact_lock(7469526473) THEN
		RETURN 0;
	END IF;
	SELECT f.through INTO was FROM usage_periods_folded f;
	upto := greatest(was, (now() AT TIME ZONE 'UTC')::date);
	WITH d AS (DELETE FROM usage_rollup_dirty RETURNING day)
	SELECT array_agg(DISTINCT day) FILTER (WHERE day < upto)
	INTO days FROM d;
	days := coalesce(days, '{}') || ARRAY(SELECT generate_series(
	    was::timestamp, upto - 1, interval '1 day')::date);
	IF cardinality(days) = 0 THEN
		RETURN 0;
	END IF;
	PERFORM tg_periods_build(days, upto);
	UPDATE usage_periods_folded SET through = upto;
	RETURN cardinality(days);
END
$$;

-- The sums that differ from their daily rows, for GET /v1/ledger/verify
-- (period_rollup_differences): of the periods a report would read them
-- for, each as its table, grain, period, key (its dimensions as a JSON
-- array, a NULL user or cost center as null), events and cost on both
-- sides.
CREATE FUNCTION tg_periods_differences() RETURNS TABLE ("table" text,
    grain text, period date, key jsonb, rollup_events bigint,
    events bigint, rollup_cost bigint, cost bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	f date := tg_periods_through();
	mw date[] := tg_periods_marked('week');
	mm date[] := tg_periods_marked('month');
	md date[] := tg_periods_marked('day');
BEGIN
	RETURN QUERY
	SELECT 'usage_daily_periods'::text, grain, period, key,
	    p.events, d.events, p.cost, d.cost
	FROM (SELECT x.grain, x.period,
	        jsonb_build_array(cost_center, provider, model) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM usage_daily_periods x) p
	FULL JOIN (SELECT x.grain, x.period,
	        jsonb_build_array(cost_center, provider, model) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM tg_daily_period_sums('-infinity', f, NULL, NULL, NULL) x)
	    d USING (grain, period, key)
	WHERE tg_period_served(grain, period, '-infinity', 'infinity',
	        CASE grain WHEN 'week' THEN mw WHEN 'month' THEN mm ELSE md END)
	  AND (p.events, p.unpriced, p.list_cost, p.cost, p.quantities)
	      IS DISTINCT FROM
	      (d.events, d.unpriced, d.list_cost, d.cost, d.quantities);

	RETURN QUERY
	SELECT 'usage_user_periods'::text, grain, period, key,
	    p.events, d.events, p.cost, d.cost
	FROM (SELECT x.grain, x.period,
	        jsonb_build_array(cost_center, provider, model, user_id) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM usage_user_periods x) p
	FULL JOIN (SELECT x.grain, x.period,
	        jsonb_build_array(cost_center, provider, model, user_id) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM tg_user_period_sums('-infinity', f, NULL, NULL, NULL) x)
	    d USING (grain, period, key)
	WHERE tg_period_served(grain, period, '-infinity', 'infinity',
	        CASE grain WHEN 'week' THEN mw WHEN 'month' THEN mm ELSE md END)
	  AND (p.events, p.unpriced, p.list_cost, p.cost, p.quantities)
	      IS DISTINCT FROM
	      (d.events, d.unpriced, d.list_cost, d.cost, d.quantities);

	RETURN QUERY
	SELECT 'usage_user_cc_periods'::text, grain, period, key,
	    p.events, d.events, p.cost, d.cost
	FROM (SELECT x.grain, x.period,
	        jsonb_build_array(cost_center, user_id) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM usage_user_cc_periods x) p
	FULL JOIN (SELECT x.grain, x.period,
	        jsonb_build_array(cost_center, user_id) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM tg_user_cc_period_sums('-infinity', f, NULL, NULL, NULL) x)
	    d USING (grain, period, key)
	WHERE tg_period_served(grain, period, '-infinity', 'infinity',
	        CASE grain WHEN 'week' THEN mw WHEN 'month' THEN mm ELSE md END)
	  AND (p.events, p.unpriced, p.list_cost, p.cost, p.quantities)
	      IS DISTINCT FROM
	      (d.events, d.unpriced, d.list_cost, d.cost, d.quantities);

	RETURN QUERY
	SELECT 'usage_tag_periods'::text, grain, period, key,
	    p.events, d.events, p.cost, d.cost
	FROM (SELECT x.grain, x.period,
	        jsonb_build_array(cost_center, provider, model, tag_key,
	            tag_value) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM usage_tag_periods x) p
	FULL JOIN (SELECT x.grain, x.period,
	        jsonb_build_array(cost_center, provider, model, tag_key,
	            tag_value) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM tg_tag_period_sums('-infinity', f, NULL, NULL, NULL) x)
	    d USING (grain, period, key)
	WHERE tg_period_served(grain, period, '-infinity', 'infinity',
	        CASE grain WHEN 'week' THEN mw WHEN 'month' THEN mm ELSE md END)
	  AND (p.events, p.unpriced, p.list_cost, p.cost, p.quantities)
	      IS DISTINCT FROM
	      (d.events, d.unpriced, d.list_cost, d.cost, d.quantities);

	RETURN QUERY
	SELECT 'usage_tag_cc_periods'::text, grain, period, key,
	    p.events, d.events, p.cost, d.cost
	FROM (SELECT x.grain, x.period,
	        jsonb_build_array(cost_center, tag_key, tag_value) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM usage_tag_cc_periods x) p
	FULL JOIN (SELECT x.grain, x.period,
	        jsonb_build_array(cost_center, tag_key, tag_value) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM tg_tag_cc_period_sums('-infinity', f, NULL, NULL, NULL) x)
	    d USING (grain, period, key)
	WHERE tg_period_served(grain, period, '-infinity', 'infinity',
	        CASE grain WHEN 'week' THEN mw WHEN 'month' THEN mm ELSE md END)
	  AND (p.events, p.unpriced, p.list_cost, p.cost, p.quantities)
	      IS DISTINCT FROM
	      (d.events, d.unpriced, d.list_cost, d.cost, d.quantities);

	RETURN QUERY
	SELECT 'usage_hourly_pm'::text, 'hour'::text,
	    coalesce(p.hour, d.hour)::date, key,
	    p.events, d.events, p.cost, d.cost
	FROM (SELECT x.hour,
	        jsonb_build_array(hour, provider, model) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM usage_hourly_pm x) p
	FULL JOIN (SELECT x.hour,
	        jsonb_build_array(hour, provider, model) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM tg_hourly_pm_sums('-infinity', f, NULL) x)
	    d USING (key)
	WHERE NOT coalesce(p.hour, d.hour)::date = ANY (md)
	  AND (p.events, p.unpriced, p.list_cost, p.cost, p.quantities)
	      IS DISTINCT FROM
	      (d.events, d.unpriced, d.list_cost, d.cost, d.quantities);

	RETURN QUERY
	SELECT 'usage_hourly_p'::text, 'hour'::text,
	    coalesce(p.hour, d.hour)::date, key,
	    p.events, d.events, p.cost, d.cost
	FROM (SELECT x.hour,
	        jsonb_build_array(hour, provider) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM usage_hourly_p x) p
	FULL JOIN (SELECT x.hour,
	        jsonb_build_array(hour, provider) AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM tg_hourly_p_sums('-infinity', f, NULL) x)
	    d USING (key)
	WHERE NOT coalesce(p.hour, d.hour)::date = ANY (md)
	  AND (p.events, p.unpriced, p.list_cost, p.cost, p.quantities)
	      IS DISTINCT FROM
	      (d.events, d.unpriced, d.list_cost, d.cost, d.quantities);
END
$$;

-- The first day not folded.
CREATE FUNCTION tg_periods_through() RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT through FROM usage_periods_folded
$$;

-- The periods of a grain whose sums a mark makes stale: those holding a
-- marked day before through. A report reads it once (a subquery).
CREATE FUNCTION tg_periods_marked(grain text) RETURNS date[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT coalesce(array_agg(DISTINCT date_trunc(grain,
	    m.day::timestamp)::date) FILTER (WHERE grain IS NOT NULL), '{}')
	FROM usage_rollup_dirty m WHERE m.day < tg_periods_through()
$$;

-- The first day a report may need daily rows from, besides the edges of
-- its window: the first stale period's start, or through.
CREATE FUNCTION tg_periods_since(grain text) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT least(tg_periods_through(), (SELECT date_trunc(grain,
	    min(m.day)::timestamp)::date FROM usage_rollup_dirty m
	    WHERE m.day < tg_periods_through()))
$$;

-- The grain whose sums serve a report's periods: weeks per week, months
-- per month and for a whole window; none per day or hour.
CREATE FUNCTION tg_fold_grain(granularity text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE granularity WHEN 'week' THEN 'week' WHEN 'month' THEN 'month'
	    WHEN 'none' THEN 'month' END
$$;

-- The same for the sums that also keep days over all cost centers
-- (usage_daily_periods, usage_tag_periods, usage_tag_cc_periods): per
-- day, when the report groups by no cost center and reads no subtree.
CREATE FUNCTION tg_fold_grain(granularity text, by_cost_center boolean,
    subtree text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN granularity = 'day' AND NOT by_cost_center
	        AND subtree IS NULL THEN 'day'
	    ELSE tg_fold_grain(granularity) END
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

-- Whether the period of the grain that starts on p is read from its
-- sums: whole inside [lo, hi), and not marked stale (tg_periods_marked).
-- Its sums hold its days before through; the report reads the others
-- from the daily rows (tg_day_unserved). Each argument but constants
-- used once, so that PostgreSQL inlines it with marked a subquery.
CREATE FUNCTION tg_period_served(grain text, p date, lo date, hi date,
    marked date[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT grain IS NOT NULL AND p >= lo
	    AND (p + CASE grain WHEN 'week' THEN interval '7 days'
	        WHEN 'day' THEN interval '1 day'
	        ELSE interval '1 month' END)::date <= hi
	    AND NOT p = ANY (marked)
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

-- Whether a daily row of [lo, hi) is read as a day: before the first
-- whole period, after the last, from through on, and those of periods
-- tg_period_served refuses. The ranges first, as plain comparisons of
-- day (since: tg_periods_since), so that an index finds the rows.
CREATE FUNCTION tg_day_unserved(grain text, day date, lo date, hi date,
    marked date[], since date, through date) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT (day < tg_period_ceil(grain, lo)
	        OR day >= tg_period_floor(grain, hi) OR day >= since)
	    AND (day >= through OR NOT tg_period_served(grain,
	        date_trunc(grain, day::timestamp)::date, lo, hi, marked))
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

INSERT INTO usage_periods_folded VALUES ((now() AT TIME ZONE 'UTC')::date);
SELECT tg_periods_build(array_agg(DISTINCT day), tg_periods_through())
FROM usage_daily;
ANALYZE usage_daily_periods;
ANALYZE usage_user_periods;
ANALYZE usage_user_cc_periods;
ANALYZE usage_tag_periods;
ANALYZE usage_tag_cc_periods;
ANALYZE usage_hourly_pm;
ANALYZE usage_hourly_p;
