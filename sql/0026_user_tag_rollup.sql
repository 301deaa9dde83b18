-- A rollup per user and tag together, so that the spend report grouped by
-- a user and a tag (with or without cost center, over whole UTC days,
-- per day, week, month or for the whole window, for a subtree) is served
-- from rollups as the groupings by a user or by a tag alone are (0020,
-- 0024): read from the events, a year of 10 million events grouped by
-- user and tag took about 80 s (past the statement timeout: 422).
--
-- - usage_user_tag_cc_daily: per UTC day x cost center x user (NULL for
--   events without one, a group of its own: UNIQUE NULLS NOT DISTINCT as
--   usage_user_cc_daily) x tag key x value, for each tag an event
--   carries with a value (tags ->> key, as the events' report reads it).
--   Without provider and model: the report by provider or model with a
--   user and a tag stays on the events (per user and tag value and model
--   the rollup would hold about a row per event, 3.2 million on the
--   bench's seed against 0.64 million here). An event lacking the key is
--   in no row of it: the report takes those events as
--   usage_user_cc_daily's less the key's rows, as report_spend_tag.sql
--   does with usage_daily.
-- - usage_user_tag_cc_periods: its weekly and monthly sums, folded as
--   0024's are (same marks, same through, same fold), and per user and
--   key the sum over the key's values (tag_value NULL): what the report
--   takes from the user's spend for the events lacking the key, one row
--   instead of one per value (a year by month on the bench's seed: 2,400
--   rows to subtract instead of 18,500).
--
-- Kept as 0020's rollups per tag are, in the statement and transaction
-- that books the events and corrections: usage_user_tag_daily_follow()
-- (the statement trigger on usage_events that usage_book_cols()' insert
-- fires as every other writer's) gets one more statement after its
-- early return for batches without a tag, so ingest without tags (the
-- usual batch, and `make bench`'s) does no more than before; a statement
-- trigger on usage_corrections adds a repricing's deltas. Both write
-- after the per-tag rollups, in key order, as every writer does.
-- usage_book_cols() is not redefined: it writes usage_daily,
-- usage_cc_daily and usage_daily_meters itself (tollgate.rollups, 0022),
-- and leaves the rollups per user, tag and hour to that trigger.
-- GET /v1/ledger/verify compares the rollup with the events
-- (user_tag_rollup_differences) and the sums with it
-- (period_rollup_differences).

CREATE TABLE usage_user_tag_cc_daily (
	day         date NOT NULL,
	cost_center text NOT NULL,
	user_id     text,
	tag_key     text NOT NULL,
	tag_value   text NOT NULL,
	root        text NOT NULL,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL,
	CONSTRAINT usage_user_tag_cc_daily_key UNIQUE NULLS NOT DISTINCT
	    (day, cost_center, user_id, tag_key, tag_value, root)
);
-- The report reads one key's rows over a window.
CREATE INDEX usage_user_tag_cc_daily_tag ON usage_user_tag_cc_daily
    (tag_key, day);

CREATE TABLE usage_user_tag_cc_periods (
	grain       text NOT NULL,
	period      date NOT NULL,
	cost_center text NOT NULL,
	user_id     text,
	tag_key     text NOT NULL,
	tag_value   text,	-- NULL: the sum over the key's values
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL
);
CREATE INDEX usage_user_tag_cc_periods_key ON usage_user_tag_cc_periods
    (tag_key, grain, period);

-- 0023's follow, with the rollup per user and tag written last, after
-- the batches without a tag have returned.
CREATE OR REPLACE FUNCTION usage_user_tag_daily_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	-- One statement: the sums are a materialized CTE, which spills to
	-- disk like any other, so a COPY of millions of events (a bulk load)
	-- is summed as well as a batch of a thousand.
	WITH n AS MATERIALIZED (
	    SELECT date_trunc('hour', occurred_at AT TIME ZONE 'UTC') AS hour,
	        cost_center, provider, model, user_id, root, count(*) AS events,
	        count(unpriced) AS unpriced, tg_sum(list_cost) AS list_cost,
	        tg_sum(cost) AS cost,
	        ARRAY[tg_sum0(quantities[1]), tg_sum0(quantities[2]),
	        tg_sum0(quantities[3]), tg_sum0(quantities[4]),
	        tg_sum0(quantities[5]), tg_sum0(quantities[6]),
	        tg_sum0(quantities[7]), tg_sum0(quantities[8]),
	        tg_sum0(quantities[9]), tg_sum0(quantities[10]),
	        tg_sum0(quantities[11]), tg_sum0(quantities[12]),
	        tg_sum0(quantities[13]), tg_sum0(quantities[14])] AS quantities
	    FROM new_rows
	    GROUP BY 1, 2, 3, 4, 5, 6),
	by_user AS (
	INSERT INTO usage_user_daily AS d (day, cost_center, provider, model,
	    user_id, root, events, unpriced, list_cost, cost, quantities)
	SELECT n.hour::date, n.cost_center, n.provider, n.model, n.user_id,
	    n.root, tg_sum(n.events), tg_sum(n.unpriced), tg_sum(n.list_cost),
	    tg_sum(n.cost),
	    ARRAY[tg_sum0(n.quantities[1]), tg_sum0(n.quantities[2]),
	        tg_sum0(n.quantities[3]), tg_sum0(n.quantities[4]),
	        tg_sum0(n.quantities[5]), tg_sum0(n.quantities[6]),
	        tg_sum0(n.quantities[7]), tg_sum0(n.quantities[8]),
	        tg_sum0(n.quantities[9]), tg_sum0(n.quantities[10]),
	        tg_sum0(n.quantities[11]), tg_sum0(n.quantities[12]),
	        tg_sum0(n.quantities[13]), tg_sum0(n.quantities[14])]
	FROM n
	GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (day, cost_center, provider, model, user_id, root)
	DO UPDATE SET events = d.events + excluded.events,
	    unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost,
	    quantities = tg_quantities_plus(d.quantities, excluded.quantities)),
	by_user_cc AS (
	INSERT INTO usage_user_cc_daily AS d (day, cost_center, user_id, root,
	    events, unpriced, list_cost, cost, quantities)
	SELECT n.hour::date, n.cost_center, n.user_id, n.root, tg_sum(n.events),
	    tg_sum(n.unpriced), tg_sum(n.list_cost), tg_sum(n.cost),
	    ARRAY[tg_sum0(n.quantities[1]), tg_sum0(n.quantities[2]),
	        tg_sum0(n.quantities[3]), tg_sum0(n.quantities[4]),
	        tg_sum0(n.quantities[5]), tg_sum0(n.quantities[6]),
	        tg_sum0(n.quantities[7]), tg_sum0(n.quantities[8]),
	        tg_sum0(n.quantities[9]), tg_sum0(n.quantities[10]),
	        tg_sum0(n.quantities[11]), tg_sum0(n.quantities[12]),
	        tg_sum0(n.quantities[13]), tg_sum0(n.quantities[14])]
	FROM n
	GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (day, cost_center, user_id, root)
	DO UPDATE SET events = d.events + excluded.events,
	    unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost,
	    quantities = tg_quantities_plus(d.quantities, excluded.quantities))
	INSERT INTO usage_hourly AS d (hour, cost_center, provider, model,
	    root, events, unpriced, list_cost, cost, quantities)
	SELECT n.hour, n.cost_center, n.provider, n.model, n.root,
	    tg_sum(n.events), tg_sum(n.unpriced), tg_sum(n.list_cost),
	    tg_sum(n.cost),
	    ARRAY[tg_sum0(n.quantities[1]), tg_sum0(n.quantities[2]),
	        tg_sum0(n.quantities[3]), tg_sum0(n.quantities[4]),
	        tg_sum0(n.quantities[5]), tg_sum0(n.quantities[6]),
	        tg_sum0(n.quantities[7]), tg_sum0(n.quantities[8]),
	        tg_sum0(n.quantities[9]), tg_sum0(n.quantities[10]),
	        tg_sum0(n.quantities[11]), tg_sum0(n.quantities[12]),
	        tg_sum0(n.quantities[13]), tg_sum0(n.quantities[14])]
	FROM n
	GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (hour, cost_center, provider, model, root)
	DO UPDATE SET events = d.events + excluded.events,
	    unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost,
	    quantities = tg_quantities_plus(d.quantities, excluded.quantities);

	-- Most events carry no tag: the usual batch ends here.
	IF NOT EXISTS (SELECT 1 FROM new_rows WHERE tags <> '{}') THEN
		RETURN NULL;
	END IF;
	INSERT INTO usage_tag_daily AS d (day, cost_center, provider, model,
	    tag_key, tag_value, root, events, unpriced, list_cost, cost,
	    quantities)
	SELECT (n.occurred_at AT TIME ZONE 'UTC')::date, n.cost_center,
	    n.provider, n.model, t.k, t.v, n.root, count(*), count(n.unpriced),
	    tg_sum(n.list_cost), tg_sum(n.cost),
	    ARRAY[tg_sum0(n.quantities[1]), tg_sum0(n.quantities[2]),
	        tg_sum0(n.quantities[3]), tg_sum0(n.quantities[4]),
	        tg_sum0(n.quantities[5]), tg_sum0(n.quantities[6]),
	        tg_sum0(n.quantities[7]), tg_sum0(n.quantities[8]),
	        tg_sum0(n.quantities[9]), tg_sum0(n.quantities[10]),
	        tg_sum0(n.quantities[11]), tg_sum0(n.quantities[12]),
	        tg_sum0(n.quantities[13]), tg_sum0(n.quantities[14])]
	FROM new_rows n, jsonb_each_text(n.tags) AS t (k, v)
	WHERE n.tags <> '{}' AND t.v IS NOT NULL
	GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
	ON CONFLICT (day, cost_center, provider, model, tag_key, tag_value,
	    root)
	DO UPDATE SET events = d.events + excluded.events,
	    unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost,
	    quantities = tg_quantities_plus(d.quantities, excluded.quantities);

	INSERT INTO usage_tag_cc_daily AS d (day, cost_center, tag_key,
	    tag_value, root, events, unpriced, list_cost, cost, quantities)
	SELECT (n.occurred_at AT TIME ZONE 'UTC')::date, n.cost_center, t.k,
	    t.v, n.root, count(*), count(n.unpriced), tg_sum(n.list_cost),
	    tg_sum(n.cost),
	    ARRAY[tg_sum0(n.quantities[1]), tg_sum0(n.quantities[2]),
	        tg_sum0(n.quantities[3]), tg_sum0(n.quantities[4]),
	        tg_sum0(n.quantities[5]), tg_sum0(n.quantities[6]),
	        tg_sum0(n.quantities[7]), tg_sum0(n.quantities[8]),
	        tg_sum0(n.quantities[9]), tg_sum0(n.quantities[10]),
	        tg_sum0(n.quantities[11]), tg_sum0(n.quantities[12]),
	        tg_sum0(n.quantities[13]), tg_sum0(n.quantities[14])]
	FROM new_rows n, jsonb_each_text(n.tags) AS t (k, v)
	WHERE n.tags <> '{}' AND t.v IS NOT NULL
	GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (day, cost_center, tag_key, tag_value, root)
	DO UPDATE SET events = d.events + excluded.events,
	    unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost,
	    quantities = tg_quantities_plus(d.quantities, excluded.quantities);

	-- Tagged events with or without a user: those without are the NULL
	-- user's group.
	INSERT INTO usage_user_tag_cc_daily AS d (day, cost_center, user_id,
	    tag_key, tag_value, root, events, unpriced, list_cost, cost,
	    quantities)
	SELECT (n.occurred_at AT TIME ZONE 'UTC')::date, n.cost_center,
	    n.user_id, t.k, t.v, n.root, count(*), count(n.unpriced),
	    tg_sum(n.list_cost), tg_sum(n.cost),
	    ARRAY[tg_sum0(n.quantities[1]), tg_sum0(n.quantities[2]),
	        tg_sum0(n.quantities[3]), tg_sum0(n.quantities[4]),
	        tg_sum0(n.quantities[5]), tg_sum0(n.quantities[6]),
	        tg_sum0(n.quantities[7]), tg_sum0(n.quantities[8]),
	        tg_sum0(n.quantities[9]), tg_sum0(n.quantities[10]),
	        tg_sum0(n.quantities[11]), tg_sum0(n.quantities[12]),
	        tg_sum0(n.quantities[13]), tg_sum0(n.quantities[14])]
	FROM new_rows n, jsonb_each_text(n.tags) AS t (k, v)
	WHERE n.tags <> '{}' AND t.v IS NOT NULL
	GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (day, cost_center, user_id, tag_key, tag_value, root)
	DO UPDATE SET events = d.events + excluded.events,
	    unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost,
	    quantities = tg_quantities_plus(d.quantities, excluded.quantities);
	RETURN NULL;
END $$;

-- Corrections booked: their cost deltas (and an event priced at last:
-- one unpriced fewer) on the rows of the events they correct, as 0020's
-- usage_user_tag_daily_corrected() does for the others; its trigger is
-- named to fire after that one, so the tables are written in the
-- order the follow above writes them.
CREATE FUNCTION usage_user_tag_cc_daily_corrected() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO usage_user_tag_cc_daily AS d (day, cost_center, user_id,
	    tag_key, tag_value, root, events, unpriced, list_cost, cost,
	    quantities)
	SELECT (u.occurred_at AT TIME ZONE 'UTC')::date, u.cost_center,
	    u.user_id, t.k, t.v, u.root, 0,
	    -count(*) FILTER (WHERE c.was_unpriced), tg_sum(c.list_delta),
	    tg_sum(c.cost_delta), tg_quantities_of('{}', '{}')
	FROM new_rows c
	JOIN usage_events u ON u.transaction_id = c.corrects
	    AND u.root = c.root
	CROSS JOIN LATERAL jsonb_each_text(u.tags) AS t (k, v)
	WHERE t.v IS NOT NULL
	GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (day, cost_center, user_id, tag_key, tag_value, root)
	DO UPDATE SET unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost;
	RETURN NULL;
END $$;

-- The weekly and monthly sums as the daily rows give them, per value and
-- per key (tag_value NULL), as 0024's tg_user_cc_period_sums: the fold
-- writes them, verify compares with them.
CREATE FUNCTION tg_user_tag_cc_period_sums(lo date, hi date, weeks date[],
    months date[]) RETURNS SETOF usage_user_tag_cc_periods
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT r.grain, r.period, r.cost_center, r.user_id, r.tag_key,
	    r.tag_value, tg_sum(r.events), tg_sum(r.unpriced),
	    tg_sum(r.list_cost), tg_sum(r.cost),
	    ARRAY[tg_sum(r.quantities[1]), tg_sum(r.quantities[2]),
	    tg_sum(r.quantities[3]), tg_sum(r.quantities[4]),
	    tg_sum(r.quantities[5]), tg_sum(r.quantities[6]),
	    tg_sum(r.quantities[7]), tg_sum(r.quantities[8]),
	    tg_sum(r.quantities[9]), tg_sum(r.quantities[10]),
	    tg_sum(r.quantities[11]), tg_sum(r.quantities[12]),
	    tg_sum(r.quantities[13]), tg_sum(r.quantities[14])]
	FROM (SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date
	        AS period, d.*
	    FROM usage_user_tag_cc_daily d,
	        (VALUES ('week'), ('month')) g (grain)
	    WHERE d.day >= lo AND d.day < hi
	      AND (weeks IS NULL OR date_trunc(g.grain, d.day::timestamp)::date
	          = ANY (CASE g.grain WHEN 'week' THEN weeks ELSE months END))) r
	GROUP BY GROUPING SETS ((r.grain, r.period, r.cost_center, r.user_id,
	    r.tag_key, r.tag_value), (r.grain, r.period, r.cost_center,
	    r.user_id, r.tag_key))
$$;

-- The rows of usage_user_cc_daily a report over [lo, hi) adds up for a
-- grain (tg_fold_grain): the periods whole in the window that no mark
-- made stale from their sums, every other day from the daily rows, as
-- 0024 reads them. One SELECT of immutable arguments: PostgreSQL inlines
-- it into the report's query, planned for the call's values.
CREATE FUNCTION tg_user_cc_window(p_lo date, p_hi date, p_grain text)
RETURNS TABLE (day date, cost_center text, user_id text, events bigint,
    list_cost bigint, cost bigint, quantities bigint[])
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT p.period, p.cost_center, p.user_id, p.events, p.list_cost,
	    p.cost, p.quantities
	FROM usage_user_cc_periods p
	WHERE p.grain = p_grain AND p.period >= p_lo AND p.period < p_hi
	  AND tg_period_served(p.grain, p.period, p_lo, p_hi,
	      (SELECT tg_periods_marked(p_grain)))
	UNION ALL
	SELECT d.day, d.cost_center, d.user_id, d.events, d.list_cost, d.cost,
	    d.quantities
	FROM usage_user_cc_daily d
	WHERE d.day >= p_lo AND d.day < p_hi
	  AND tg_day_unserved(p_grain, d.day, p_lo, p_hi,
	      (SELECT tg_periods_marked(p_grain)),
	      (SELECT tg_periods_since(p_grain)), (SELECT tg_periods_through()))
$$;

-- The weeks and months that hold the given days, rebuilt from the daily
-- rows before through, as tg_periods_build() does the others'.
CREATE FUNCTION tg_user_tag_periods_build(days date[], through date)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	weeks date[];
	months date[];
	lo date;
BEGIN
	SELECT array_agg(DISTINCT date_trunc('week', d::timestamp)::date),
	    array_agg(DISTINCT date_trunc('month', d::timestamp)::date),
	    least(min(date_trunc('week', d::timestamp)::date),
	        min(date_trunc('month', d::timestamp)::date))
	INTO weeks, months, lo
	FROM unnest(days) d WHERE d < through;
	IF lo IS NULL THEN
		RETURN;
	END IF;
	DELETE FROM usage_user_tag_cc_periods
	WHERE grain = 'month' AND period = ANY (months)
	    OR grain = 'week' AND period = ANY (weeks);
	INSERT INTO usage_user_tag_cc_periods
	SELECT * FROM tg_user_tag_cc_period_sums(lo, through, weeks, months);
END
$$;

-- 0024's fold, which now rebuilds the sums per user and tag too, under
-- the same lock and from the same marks.
CREATE OR REPLACE FUNCTION tg_fold_periods() RETURNS integer
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
	PERFORM tg_user_tag_periods_build(days, upto);
	UPDATE usage_periods_folded SET through = upto;
	RETURN cardinality(days);
END
$$;

-- The sums that differ from their daily rows, for verify's
-- period_rollup_differences beside tg_periods_differences(), in its
-- columns: of the periods a report would read them for.
CREATE FUNCTION tg_user_tag_periods_differences() RETURNS TABLE (
    "table" text, grain text, period date, key jsonb,
    rollup_events bigint, events bigint, rollup_cost bigint, cost bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	mw date[] := tg_periods_marked('week');
	mm date[] := tg_periods_marked('month');
BEGIN
	RETURN QUERY
	SELECT 'usage_user_tag_cc_periods'::text, grain, period, key,
	    p.events, d.events, p.cost, d.cost
	FROM (SELECT x.grain, x.period,
	        jsonb_build_array(cost_center, user_id, tag_key, tag_value)
	            AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM usage_user_tag_cc_periods x) p
	FULL JOIN (SELECT x.grain, x.period,
	        jsonb_build_array(cost_center, user_id, tag_key, tag_value)
	            AS key,
	        x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	    FROM tg_user_tag_cc_period_sums('-infinity', tg_periods_through(),
	        NULL, NULL) x)
	    d USING (grain, period, key)
	WHERE tg_period_served(grain, period, '-infinity', 'infinity',
	        CASE grain WHEN 'week' THEN mw ELSE mm END)
	  AND (p.events, p.unpriced, p.list_cost, p.cost, p.quantities)
	      IS DISTINCT FROM
	      (d.events, d.unpriced, d.list_cost, d.cost, d.quantities);
END
$$;

-- What the events and corrections hold already, in key order. Bookings
-- wait for this migration from the CREATE TRIGGER below on (it locks
-- usage_events and usage_corrections until the commit), and the rows of
-- bookings committed before are read here: none is counted twice or
-- lost.
CREATE TRIGGER usage_user_tag_daily_corrected_pairs AFTER INSERT
	ON usage_corrections REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION usage_user_tag_cc_daily_corrected();
LOCK TABLE usage_events IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO usage_user_tag_cc_daily (day, cost_center, user_id, tag_key,
    tag_value, root, events, unpriced, list_cost, cost, quantities)
SELECT day, cost_center, user_id, t.k, t.v, root, tg_sum(events),
    tg_sum(unpriced), tg_sum(list_cost), tg_sum(cost),
    ARRAY[tg_sum0(q[1]), tg_sum0(q[2]), tg_sum0(q[3]), tg_sum0(q[4]),
        tg_sum0(q[5]), tg_sum0(q[6]), tg_sum0(q[7]), tg_sum0(q[8]),
        tg_sum0(q[9]), tg_sum0(q[10]), tg_sum0(q[11]), tg_sum0(q[12]),
        tg_sum0(q[13]), tg_sum0(q[14])]
FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, cost_center,
        user_id, tags, root, 1::bigint AS events,
        (unpriced IS NOT NULL)::int::bigint AS unpriced, list_cost, cost,
        quantities AS q
    FROM usage_events WHERE tags <> '{}'
    UNION ALL
    SELECT (u.occurred_at AT TIME ZONE 'UTC')::date, u.cost_center,
        u.user_id, u.tags, u.root, 0, -c.was_unpriced::int::bigint,
        c.list_delta, c.cost_delta, tg_quantities_of('{}', '{}')
    FROM usage_corrections c
    JOIN usage_events u ON u.transaction_id = c.corrects
        AND u.root = c.root
    WHERE u.tags <> '{}') x,
    jsonb_each_text(x.tags) AS t (k, v)
WHERE t.v IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6;
ANALYZE usage_user_tag_cc_daily;

-- The sums of the days folded so far (those before through; the marks
-- of later bookings rebuild theirs at the next fold).
SELECT tg_user_tag_periods_build(array_agg(DISTINCT day),
    tg_periods_through())
FROM usage_user_tag_cc_daily;
ANALYZE usage_user_tag_cc_periods;

-- Only ever added to, as the other rollups.
CREATE TRIGGER usage_user_tag_cc_daily_no_delete BEFORE DELETE
	ON usage_user_tag_cc_daily FOR EACH ROW
	EXECUTE FUNCTION ledger_append_only();
