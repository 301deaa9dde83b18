-- Rollups per user, per tag and per hour, so that the spend report
-- grouped by user or by a tag over whole UTC days, or per hour, is served
-- from them as the groupings by cost center, provider and model are from
-- usage_daily (0011, 0013): a year of 10 million events grouped by user
-- took 90 s, read from the events.
--
-- - usage_user_daily: per UTC day x cost center x provider x model x
--   user (NULL for events without one: a group of its own in the
--   reports, so a key column here; UNIQUE NULLS NOT DISTINCT makes the
--   NULL user one row that ON CONFLICT finds).
-- - usage_tag_daily: per UTC day x cost center x provider x model x tag
--   key x value, for each tag an event carries with a value (tags ->>
--   key, as the report from the events reads it; a JSON null is no
--   value). An event lacking a key is in no row of that key: the report
--   takes those events as usage_daily's minus the key's rows.
-- - usage_user_cc_daily and usage_tag_cc_daily: the same without
--   provider and model, for the groupings without them, as
--   usage_cc_daily is for usage_daily (0007): a year by user read 400,000
--   rows of usage_user_daily on the bench's seed (200 users using 5
--   models) and took 350 ms, a fifth of the rows a fifth of the time.
-- - usage_hourly: per UTC hour x cost center x provider x model, for
--   the report per hour.
--
-- All carry events, unpriced, list and contracted cost and the
-- quantities per meter as a bigint[] in tg_meters()' order, and the
-- distribution key root (0012), in their keys too.
--
-- Kept by statement triggers on usage_events (INSERT) and
-- usage_corrections (INSERT: a repricing correction moves costs, and the
-- priced state, of the event it corrects, whose user and tags it takes),
-- in the statement and transaction that books them, as 0007 and 0011
-- keep theirs: no booking function is redefined (another migration may
-- redefine the ingest). GET /v1/ledger/verify compares them with the
-- events and corrections, and the coarser ones with the finer
-- (user_rollup_differences, tag_rollup_differences,
-- hourly_rollup_differences).

-- A sum of bigints that is 0 over no values (NULLs skipped: int8pl is
-- strict), for the quantities: an event's array may be shorter than
-- tg_meters() (the positions it lacks are 0, as the report from the
-- events reads them), and a NULL sum in a rollup row would make every
-- later tg_quantities_plus() of that position NULL.
CREATE AGGREGATE tg_sum0(bigint) (SFUNC = int8pl, STYPE = bigint,
    INITCOND = '0', COMBINEFUNC = int8pl, PARALLEL = SAFE);

-- Quantities a less b, position by position (b NULL: none), as many
-- positions as tg_meters() has: the report's events lacking a tag key
-- are usage_daily's less the key's rows. One expression, inlined.
CREATE FUNCTION tg_quantities_minus(a bigint[], b bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN b IS NULL THEN a ELSE ARRAY[
	    a[1] - b[1], a[2] - b[2], a[3] - b[3], a[4] - b[4], a[5] - b[5],
	    a[6] - b[6], a[7] - b[7], a[8] - b[8], a[9] - b[9], a[10] - b[10],
	    a[11] - b[11], a[12] - b[12], a[13] - b[13], a[14] - b[14]
	] END
$$;

CREATE TABLE usage_user_daily (
	day         date NOT NULL,
	cost_center text NOT NULL,
	provider    text NOT NULL,
	model       text NOT NULL,
	user_id     text,
	root        text NOT NULL,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL,
	CONSTRAINT usage_user_daily_key UNIQUE NULLS NOT DISTINCT
	    (day, cost_center, provider, model, user_id, root)
);

CREATE TABLE usage_tag_daily (
	day         date NOT NULL,
	cost_center text NOT NULL,
	provider    text NOT NULL,
	model       text NOT NULL,
	tag_key     text NOT NULL,
	tag_value   text NOT NULL,
	root        text NOT NULL,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL,
	PRIMARY KEY (day, cost_center, provider, model, tag_key, tag_value,
	    root)
);
CREATE TABLE usage_user_cc_daily (
	day         date NOT NULL,
	cost_center text NOT NULL,
	user_id     text,
	root        text NOT NULL,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL,
	CONSTRAINT usage_user_cc_daily_key UNIQUE NULLS NOT DISTINCT
	    (day, cost_center, user_id, root)
);

CREATE TABLE usage_tag_cc_daily (
	day         date NOT NULL,
	cost_center text NOT NULL,
	tag_key     text NOT NULL,
	tag_value   text NOT NULL,
	root        text NOT NULL,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL,
	PRIMARY KEY (day, cost_center, tag_key, tag_value, root)
);

CREATE TABLE usage_hourly (
	hour        timestamp NOT NULL,	-- UTC
	cost_center text NOT NULL,
	provider    text NOT NULL,
	model       text NOT NULL,
	root        text NOT NULL,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	quantities  bigint[] NOT NULL,
	PRIMARY KEY (hour, cost_center, provider, model, root)
);

-- The report reads one key's rows over a window: without this index it
-- would read every key's.
CREATE INDEX usage_tag_daily_key ON usage_tag_daily (tag_key, day);
CREATE INDEX usage_tag_cc_daily_key ON usage_tag_cc_daily (tag_key, day);

-- Events booked: their sums per user, per hour and per tag, added to the rows in
-- key order (as every writer of the rollups, so that concurrent ingests
-- lock rows in one order). One aggregate per meter position: no
-- function called per event.
CREATE FUNCTION usage_user_tag_daily_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO usage_user_daily AS d (day, cost_center, provider, model,
	    user_id, root, events, unpriced, list_cost, cost, quantities)
	SELECT (occurred_at AT TIME ZONE 'UTC')::date, cost_center, provider,
	    model, user_id, root, count(*), count(unpriced), tg_sum(list_cost),
	    tg_sum(cost), ARRAY[tg_sum0(quantities[1]), tg_sum0(quantities[2]),
	        tg_sum0(quantities[3]), tg_sum0(quantities[4]),
	        tg_sum0(quantities[5]), tg_sum0(quantities[6]),
	        tg_sum0(quantities[7]), tg_sum0(quantities[8]),
	        tg_sum0(quantities[9]), tg_sum0(quantities[10]),
	        tg_sum0(quantities[11]), tg_sum0(quantities[12]),
	        tg_sum0(quantities[13]), tg_sum0(quantities[14])]
	FROM new_rows
	GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (day, cost_center, provider, model, user_id, root)
	DO UPDATE SET events = d.events + excluded.events,
	    unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost,
	    quantities = tg_quantities_plus(d.quantities, excluded.quantities);

	INSERT INTO usage_user_cc_daily AS d (day, cost_center, user_id, root,
	    events, unpriced, list_cost, cost, quantities)
	SELECT (occurred_at AT TIME ZONE 'UTC')::date, cost_center, user_id,
	    root, count(*), count(unpriced), tg_sum(list_cost), tg_sum(cost),
	    ARRAY[tg_sum0(quantities[1]), tg_sum0(quantities[2]),
	        tg_sum0(quantities[3]), tg_sum0(quantities[4]),
	        tg_sum0(quantities[5]), tg_sum0(quantities[6]),
	        tg_sum0(quantities[7]), tg_sum0(quantities[8]),
	        tg_sum0(quantities[9]), tg_sum0(quantities[10]),
	        tg_sum0(quantities[11]), tg_sum0(quantities[12]),
	        tg_sum0(quantities[13]), tg_sum0(quantities[14])]
	FROM new_rows
	GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (day, cost_center, user_id, root)
	DO UPDATE SET events = d.events + excluded.events,
	    unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost,
	    quantities = tg_quantities_plus(d.quantities, excluded.quantities);

	INSERT INTO usage_hourly AS d (hour, cost_center, provider, model,
	    root, events, unpriced, list_cost, cost, quantities)
	SELECT date_trunc('hour', occurred_at AT TIME ZONE 'UTC'), cost_center,
	    provider, model, root, count(*), count(unpriced), tg_sum(list_cost),
	    tg_sum(cost), ARRAY[tg_sum0(quantities[1]), tg_sum0(quantities[2]),
	        tg_sum0(quantities[3]), tg_sum0(quantities[4]),
	        tg_sum0(quantities[5]), tg_sum0(quantities[6]),
	        tg_sum0(quantities[7]), tg_sum0(quantities[8]),
	        tg_sum0(quantities[9]), tg_sum0(quantities[10]),
	        tg_sum0(quantities[11]), tg_sum0(quantities[12]),
	        tg_sum0(quantities[13]), tg_sum0(quantities[14])]
	FROM new_rows
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
	RETURN NULL;
END $$;

-- Corrections booked: their cost deltas (and an event priced at last:
-- one unpriced fewer) on the rows of the events they correct. The
-- events' rows exist (their own insert made them); upserts all the same,
-- so that nothing is lost if one does not.
CREATE FUNCTION usage_user_tag_daily_corrected() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO usage_user_daily AS d (day, cost_center, provider, model,
	    user_id, root, events, unpriced, list_cost, cost, quantities)
	SELECT (u.occurred_at AT TIME ZONE 'UTC')::date, u.cost_center,
	    u.provider, u.model, u.user_id, u.root, 0,
	    -count(*) FILTER (WHERE c.was_unpriced), tg_sum(c.list_delta),
	    tg_sum(c.cost_delta), tg_quantities_of('{}', '{}')
	FROM new_rows c
	JOIN usage_events u ON u.transaction_id = c.corrects
	    AND u.root = c.root
	GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (day, cost_center, provider, model, user_id, root)
	DO UPDATE SET unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost;

	INSERT INTO usage_user_cc_daily AS d (day, cost_center, user_id, root,
	    events, unpriced, list_cost, cost, quantities)
	SELECT (u.occurred_at AT TIME ZONE 'UTC')::date, u.cost_center,
	    u.user_id, u.root, 0, -count(*) FILTER (WHERE c.was_unpriced),
	    tg_sum(c.list_delta), tg_sum(c.cost_delta),
	    tg_quantities_of('{}', '{}')
	FROM new_rows c
	JOIN usage_events u ON u.transaction_id = c.corrects
	    AND u.root = c.root
	GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (day, cost_center, user_id, root)
	DO UPDATE SET unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost;

	INSERT INTO usage_hourly AS d (hour, cost_center, provider, model,
	    root, events, unpriced, list_cost, cost, quantities)
	SELECT date_trunc('hour', u.occurred_at AT TIME ZONE 'UTC'),
	    u.cost_center, u.provider, u.model, u.root, 0,
	    -count(*) FILTER (WHERE c.was_unpriced), tg_sum(c.list_delta),
	    tg_sum(c.cost_delta), tg_quantities_of('{}', '{}')
	FROM new_rows c
	JOIN usage_events u ON u.transaction_id = c.corrects
	    AND u.root = c.root
	GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (hour, cost_center, provider, model, root)
	DO UPDATE SET unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost;

	INSERT INTO usage_tag_daily AS d (day, cost_center, provider, model,
	    tag_key, tag_value, root, events, unpriced, list_cost, cost,
	    quantities)
	SELECT (u.occurred_at AT TIME ZONE 'UTC')::date, u.cost_center,
	    u.provider, u.model, t.k, t.v, u.root, 0,
	    -count(*) FILTER (WHERE c.was_unpriced), tg_sum(c.list_delta),
	    tg_sum(c.cost_delta), tg_quantities_of('{}', '{}')
	FROM new_rows c
	JOIN usage_events u ON u.transaction_id = c.corrects
	    AND u.root = c.root
	CROSS JOIN LATERAL jsonb_each_text(u.tags) AS t (k, v)
	WHERE t.v IS NOT NULL
	GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
	ON CONFLICT (day, cost_center, provider, model, tag_key, tag_value,
	    root)
	DO UPDATE SET unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost;

	INSERT INTO usage_tag_cc_daily AS d (day, cost_center, tag_key,
	    tag_value, root, events, unpriced, list_cost, cost, quantities)
	SELECT (u.occurred_at AT TIME ZONE 'UTC')::date, u.cost_center, t.k,
	    t.v, u.root, 0, -count(*) FILTER (WHERE c.was_unpriced),
	    tg_sum(c.list_delta), tg_sum(c.cost_delta),
	    tg_quantities_of('{}', '{}')
	FROM new_rows c
	JOIN usage_events u ON u.transaction_id = c.corrects
	    AND u.root = c.root
	CROSS JOIN LATERAL jsonb_each_text(u.tags) AS t (k, v)
	WHERE t.v IS NOT NULL
	GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (day, cost_center, tag_key, tag_value, root)
	DO UPDATE SET unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost;
	RETURN NULL;
END $$;

-- What the events and corrections hold already, written in key order
-- (the reports read a window's days). A correction's row joins its
-- event's sums here; the rollups are sums, so one row per key either
-- way.
INSERT INTO usage_user_daily (day, cost_center, provider, model, user_id,
    root, events, unpriced, list_cost, cost, quantities)
SELECT day, cost_center, provider, model, user_id, root, tg_sum(events),
    tg_sum(unpriced), tg_sum(list_cost), tg_sum(cost),
    ARRAY[tg_sum0(q[1]), tg_sum0(q[2]), tg_sum0(q[3]), tg_sum0(q[4]),
        tg_sum0(q[5]), tg_sum0(q[6]), tg_sum0(q[7]), tg_sum0(q[8]),
        tg_sum0(q[9]), tg_sum0(q[10]), tg_sum0(q[11]), tg_sum0(q[12]),
        tg_sum0(q[13]), tg_sum0(q[14])]
FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, cost_center,
        provider, model, user_id, root, 1::bigint AS events,
        (unpriced IS NOT NULL)::int::bigint AS unpriced, list_cost, cost,
        quantities AS q
    FROM usage_events
    UNION ALL
    SELECT (u.occurred_at AT TIME ZONE 'UTC')::date, u.cost_center,
        u.provider, u.model, u.user_id, u.root, 0,
        -c.was_unpriced::int::bigint, c.list_delta, c.cost_delta,
        tg_quantities_of('{}', '{}')
    FROM usage_corrections c
    JOIN usage_events u ON u.transaction_id = c.corrects
        AND u.root = c.root) x
GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6;

INSERT INTO usage_tag_daily (day, cost_center, provider, model, tag_key,
    tag_value, root, events, unpriced, list_cost, cost, quantities)
SELECT day, cost_center, provider, model, t.k, t.v, root, tg_sum(events),
    tg_sum(unpriced), tg_sum(list_cost), tg_sum(cost),
    ARRAY[tg_sum0(q[1]), tg_sum0(q[2]), tg_sum0(q[3]), tg_sum0(q[4]),
        tg_sum0(q[5]), tg_sum0(q[6]), tg_sum0(q[7]), tg_sum0(q[8]),
        tg_sum0(q[9]), tg_sum0(q[10]), tg_sum0(q[11]), tg_sum0(q[12]),
        tg_sum0(q[13]), tg_sum0(q[14])]
FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, cost_center,
        provider, model, tags, root, 1::bigint AS events,
        (unpriced IS NOT NULL)::int::bigint AS unpriced, list_cost, cost,
        quantities AS q
    FROM usage_events WHERE tags <> '{}'
    UNION ALL
    SELECT (u.occurred_at AT TIME ZONE 'UTC')::date, u.cost_center,
        u.provider, u.model, u.tags, u.root, 0,
        -c.was_unpriced::int::bigint, c.list_delta, c.cost_delta,
        tg_quantities_of('{}', '{}')
    FROM usage_corrections c
    JOIN usage_events u ON u.transaction_id = c.corrects
        AND u.root = c.root
    WHERE u.tags <> '{}') x,
    jsonb_each_text(x.tags) AS t (k, v)
WHERE t.v IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7;

-- The coarser ones from the finer.
INSERT INTO usage_user_cc_daily (day, cost_center, user_id, root, events,
    unpriced, list_cost, cost, quantities)
SELECT day, cost_center, user_id, root, tg_sum(events), tg_sum(unpriced),
    tg_sum(list_cost), tg_sum(cost),
    ARRAY[tg_sum(quantities[1]), tg_sum(quantities[2]),
        tg_sum(quantities[3]), tg_sum(quantities[4]), tg_sum(quantities[5]),
        tg_sum(quantities[6]), tg_sum(quantities[7]), tg_sum(quantities[8]),
        tg_sum(quantities[9]), tg_sum(quantities[10]),
        tg_sum(quantities[11]), tg_sum(quantities[12]),
        tg_sum(quantities[13]), tg_sum(quantities[14])]
FROM usage_user_daily
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;

INSERT INTO usage_tag_cc_daily (day, cost_center, tag_key, tag_value, root,
    events, unpriced, list_cost, cost, quantities)
SELECT day, cost_center, tag_key, tag_value, root, tg_sum(events),
    tg_sum(unpriced), tg_sum(list_cost), tg_sum(cost),
    ARRAY[tg_sum(quantities[1]), tg_sum(quantities[2]),
        tg_sum(quantities[3]), tg_sum(quantities[4]), tg_sum(quantities[5]),
        tg_sum(quantities[6]), tg_sum(quantities[7]), tg_sum(quantities[8]),
        tg_sum(quantities[9]), tg_sum(quantities[10]),
        tg_sum(quantities[11]), tg_sum(quantities[12]),
        tg_sum(quantities[13]), tg_sum(quantities[14])]
FROM usage_tag_daily
GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5;

INSERT INTO usage_hourly (hour, cost_center, provider, model, root,
    events, unpriced, list_cost, cost, quantities)
SELECT hour, cost_center, provider, model, root, tg_sum(events),
    tg_sum(unpriced), tg_sum(list_cost), tg_sum(cost),
    ARRAY[tg_sum0(q[1]), tg_sum0(q[2]), tg_sum0(q[3]), tg_sum0(q[4]),
        tg_sum0(q[5]), tg_sum0(q[6]), tg_sum0(q[7]), tg_sum0(q[8]),
        tg_sum0(q[9]), tg_sum0(q[10]), tg_sum0(q[11]), tg_sum0(q[12]),
        tg_sum0(q[13]), tg_sum0(q[14])]
FROM (SELECT date_trunc('hour', occurred_at AT TIME ZONE 'UTC') AS hour,
        cost_center, provider, model, root, 1::bigint AS events,
        (unpriced IS NOT NULL)::int::bigint AS unpriced, list_cost, cost,
        quantities AS q
    FROM usage_events
    UNION ALL
    SELECT date_trunc('hour', u.occurred_at AT TIME ZONE 'UTC'),
        u.cost_center, u.provider, u.model, u.root, 0,
        -c.was_unpriced::int::bigint, c.list_delta, c.cost_delta,
        tg_quantities_of('{}', '{}')
    FROM usage_corrections c
    JOIN usage_events u ON u.transaction_id = c.corrects
        AND u.root = c.root) x
GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5;

ANALYZE usage_hourly;
ANALYZE usage_user_daily;
ANALYZE usage_tag_daily;
ANALYZE usage_user_cc_daily;
ANALYZE usage_tag_cc_daily;

CREATE TRIGGER usage_user_tag_daily_insert AFTER INSERT ON usage_events
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION usage_user_tag_daily_follow();
CREATE TRIGGER usage_user_tag_daily_corrected AFTER INSERT
	ON usage_corrections REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION usage_user_tag_daily_corrected();
-- Only ever added to, as usage_daily (0007).
CREATE TRIGGER usage_user_daily_no_delete BEFORE DELETE ON usage_user_daily
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER usage_tag_daily_no_delete BEFORE DELETE ON usage_tag_daily
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER usage_hourly_no_delete BEFORE DELETE ON usage_hourly
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER usage_user_cc_daily_no_delete BEFORE DELETE
	ON usage_user_cc_daily FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER usage_tag_cc_daily_no_delete BEFORE DELETE
	ON usage_tag_cc_daily FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
