-- Each usage_daily row (UTC day x cost center x provider x model) keeps
-- its quantities per meter, as an array in the order of
-- usage_events.quantities.
--
-- The spend report grouped by provider or model read usage_daily and
-- aggregated usage_daily_meters (three to twelve rows per daily row) into
-- a JSON object per group apart, then joined the two: by cost center,
-- provider, model and day, a year took about 500 ms of SQL, most of it
-- sorting and aggregating the meters. With the quantities in the row, a
-- day is the row as it stands and a week or a month adds rows up,
-- position by position, without a join.
--
-- An array rather than a JSON object as in usage_cc_daily: summing
-- positions is plain arithmetic where a JSON object is taken apart and
-- built again per row; the server names the positions (the meters' order
-- is pricing.c's, as in usage_events.quantities).
--
-- Kept by statement triggers on usage_daily_meters, as usage_cc_daily is
-- (0007): every statement that books meters (ingest, repricing
-- corrections, the bench's seeding) moves it in the same statement and
-- transaction, with no change to the booking functions. GET
-- /v1/ledger/verify compares it with usage_daily_meters.

-- The meters in the order of usage_events.quantities (pricing.c's
-- pricing_meter_names).
CREATE FUNCTION tg_meters() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT '{input,cached_input,cache_write_5m,cache_write_1h,output,reasoning,audio_input,audio_output,image_input,image_output,image_input_token,image_output_token,request,second}'::text[]
$$;

-- Meter names and quantities (in any order, a meter any number of times)
-- as one quantity per meter in tg_meters()' order.
CREATE FUNCTION tg_quantities_of(meters text[], qs bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT array_agg(coalesce(s.q, 0)::bigint ORDER BY t.i)
	FROM unnest(tg_meters()) WITH ORDINALITY AS t (meter, i)
	LEFT JOIN (SELECT m, sum(q) AS q FROM unnest(meters, qs) AS x (m, q)
	    GROUP BY m) s ON s.m = t.meter
$$;

-- Two arrays of quantities added position by position, as many
-- positions as tg_meters() has. One expression, so that PostgreSQL
-- inlines it: an ingest's trigger calls it for every daily row it moves.
CREATE FUNCTION tg_quantities_plus(a bigint[], b bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT ARRAY[
	    a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4], a[5] + b[5],
	    a[6] + b[6], a[7] + b[7], a[8] + b[8], a[9] + b[9], a[10] + b[10],
	    a[11] + b[11], a[12] + b[12], a[13] + b[13], a[14] + b[14]
	]
$$;

-- A sum of bigints as a bigint (an overflow is an error): sum(bigint)
-- gives a numeric and keeps a numeric state per group, five times the
-- memory of this one when a report adds up thousands of groups.
CREATE AGGREGATE tg_sum(bigint) (SFUNC = int8pl, STYPE = bigint,
    COMBINEFUNC = int8pl, PARALLEL = SAFE);

ALTER TABLE usage_daily ADD COLUMN quantities bigint[] NOT NULL
    DEFAULT tg_quantities_of('{}', '{}');

-- usage_daily_meters moved: add the quantities its rows gained (new rows,
-- or new minus old for updated ones) to their daily rows, in key order
-- like every writer of the rollups. Every booking writes the daily row
-- before its meters, so the insert only ever meets rows that exist; it is
-- an upsert so that nothing is lost if one day does not. A meter with no
-- place in the array is refused: its quantities would be missing from
-- the reports without a word.
CREATE FUNCTION usage_daily_quantities_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM new_rows WHERE meter <> ALL (tg_meters())) THEN
		RAISE EXCEPTION 'usage_daily_meters: a meter that usage_daily.quantities does not know'
		    USING ERRCODE = 'check_violation';
	END IF;
	-- Each meter's quantity at its position (i), added up per daily row
	-- by one aggregate per position: no function called per row.
	IF TG_OP = 'INSERT' THEN
		INSERT INTO usage_daily AS d (day, cost_center, provider, model,
		    events, unpriced, list_cost, cost, quantities)
		SELECT day, cost_center, provider, model, 0, 0, 0, 0, ARRAY[
		    coalesce(tg_sum(q) FILTER (WHERE i = 1), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 2), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 3), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 4), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 5), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 6), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 7), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 8), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 9), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 10), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 11), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 12), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 13), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 14), 0)]
		FROM (SELECT day, cost_center, provider, model, quantity AS q,
		        array_position(tg_meters(), meter) AS i
		    FROM new_rows WHERE quantity <> 0) x
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
		ON CONFLICT (day, cost_center, provider, model) DO UPDATE SET
		    quantities = tg_quantities_plus(d.quantities,
		        excluded.quantities);
	ELSE
		-- A repricing correction moves costs only: nothing to do.
		INSERT INTO usage_daily AS d (day, cost_center, provider, model,
		    events, unpriced, list_cost, cost, quantities)
		SELECT day, cost_center, provider, model, 0, 0, 0, 0, ARRAY[
		    coalesce(tg_sum(q) FILTER (WHERE i = 1), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 2), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 3), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 4), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 5), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 6), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 7), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 8), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 9), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 10), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 11), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 12), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 13), 0),
		    coalesce(tg_sum(q) FILTER (WHERE i = 14), 0)]
		FROM (SELECT day, cost_center, provider, model, i,
		        tg_sum(q) AS q
		    FROM (SELECT day, cost_center, provider, model, quantity AS q,
		            array_position(tg_meters(), meter) AS i
		        FROM new_rows
		        UNION ALL
		        SELECT day, cost_center, provider, model, -quantity,
		            array_position(tg_meters(), meter)
		        FROM old_rows) x
		    GROUP BY 1, 2, 3, 4, 5) y
		WHERE q <> 0
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
		ON CONFLICT (day, cost_center, provider, model) DO UPDATE SET
		    quantities = tg_quantities_plus(d.quantities,
		        excluded.quantities);
	END IF;
	RETURN NULL;
END $$;

-- usage_cc_daily follows every update of usage_daily; the updates above
-- move quantities only, which it takes from usage_daily_meters itself, so
-- it now leaves out the rows whose events and costs did not move instead
-- of rewriting them with nothing added. As 0007's otherwise.
CREATE OR REPLACE FUNCTION usage_cc_daily_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO usage_cc_daily AS c (day, cost_center, events,
		    unpriced, list_cost, cost)
		SELECT day, cost_center, sum(events), sum(unpriced),
		    sum(list_cost), sum(cost)
		FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (day, cost_center) DO UPDATE SET
		    events = c.events + excluded.events,
		    unpriced = c.unpriced + excluded.unpriced,
		    list_cost = c.list_cost + excluded.list_cost,
		    cost = c.cost + excluded.cost;
	ELSE
		INSERT INTO usage_cc_daily AS c (day, cost_center, events,
		    unpriced, list_cost, cost)
		SELECT day, cost_center, sum(events), sum(unpriced),
		    sum(list_cost), sum(cost)
		FROM (SELECT day, cost_center, events, unpriced, list_cost, cost
		    FROM new_rows
		    UNION ALL
		    SELECT day, cost_center, -events, -unpriced, -list_cost, -cost
		    FROM old_rows) x
		GROUP BY 1, 2
		HAVING sum(events) <> 0 OR sum(unpriced) <> 0
		    OR sum(list_cost) <> 0 OR sum(cost) <> 0
		ORDER BY 1, 2
		ON CONFLICT (day, cost_center) DO UPDATE SET
		    events = c.events + excluded.events,
		    unpriced = c.unpriced + excluded.unpriced,
		    list_cost = c.list_cost + excluded.list_cost,
		    cost = c.cost + excluded.cost;
	END IF;
	RETURN NULL;
END $$;

-- What usage_daily_meters holds already.
UPDATE usage_daily d SET quantities = m.quantities
FROM (SELECT day, cost_center, provider, model,
        tg_quantities_of(array_agg(meter), array_agg(quantity)) AS quantities
    FROM usage_daily_meters GROUP BY 1, 2, 3, 4) m
WHERE d.day = m.day AND d.cost_center = m.cost_center
  AND d.provider = m.provider AND d.model = m.model;

-- The update left every row's old version behind and its new one
-- wherever the join put it. The report by cost center, provider, model
-- and day reads the rows in key order, by an index scan only while the
-- table is about in day order (as ingest writes it, a day after the
-- other), else with a sort of a year's rows to disk: write it again in
-- key order.
CLUSTER usage_daily USING usage_daily_pkey;
ANALYZE usage_daily;

-- As 0007's triggers: one event each, an upsert fires both.
CREATE TRIGGER usage_daily_quantities_insert AFTER INSERT
	ON usage_daily_meters REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION usage_daily_quantities_follow();
CREATE TRIGGER usage_daily_quantities_update AFTER UPDATE
	ON usage_daily_meters REFERENCING OLD TABLE AS old_rows
	NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION usage_daily_quantities_follow();
