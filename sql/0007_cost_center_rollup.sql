-- Spend per cost center and UTC day, all providers and models together,
-- with the day's quantities per meter in the row.
--
-- The spend report grouped by cost center (or by nothing) per day, week
-- or month reads this instead of usage_daily and usage_daily_meters: a
-- year is one row per cost center and day, read without a join or a
-- per-meter aggregation (the finer rollups take five times the rows and
-- a join of their meters).
--
-- It is kept by triggers on the finer rollups, so that every statement
-- that moves them (ingest, repricing corrections, and whatever books into
-- them later) moves this one in the same statement and transaction, with
-- no second copy of the booking code to keep in step. GET
-- /v1/ledger/verify compares it with them.

CREATE TABLE usage_cc_daily (
	day         date NOT NULL,
	cost_center text NOT NULL,
	events      bigint NOT NULL DEFAULT 0,
	unpriced    bigint NOT NULL DEFAULT 0,
	list_cost   bigint NOT NULL DEFAULT 0,
	cost        bigint NOT NULL DEFAULT 0,
	-- {meter: quantity} for the meters whose quantity is not zero, as
	-- the spend report shows them.
	quantities  jsonb NOT NULL DEFAULT '{}'
	    CHECK (jsonb_typeof(quantities) = 'object'),
	PRIMARY KEY (day, cost_center)
);

-- Two {meter: quantity} objects added, meters summing to zero left out.
CREATE FUNCTION tg_quantities_add(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT coalesce(jsonb_object_agg(k, s), '{}') FROM (
		SELECT k, sum(v::bigint) AS s
		FROM (SELECT * FROM jsonb_each_text(a)
		    UNION ALL SELECT * FROM jsonb_each_text(b)) x (k, v)
		GROUP BY k) y
	WHERE s <> 0
$$;

-- usage_daily moved: add what its rows gained (new rows, or new minus
-- old for updated ones), in key order like every writer of the rollups.
CREATE FUNCTION usage_cc_daily_follow() RETURNS trigger
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
		GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (day, cost_center) DO UPDATE SET
		    events = c.events + excluded.events,
		    unpriced = c.unpriced + excluded.unpriced,
		    list_cost = c.list_cost + excluded.list_cost,
		    cost = c.cost + excluded.cost;
	END IF;
	RETURN NULL;
END $$;

-- usage_daily_meters moved: add the quantities its rows gained (a
-- repricing correction moves costs only, and changes nothing here).
CREATE FUNCTION usage_cc_daily_meters_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO usage_cc_daily AS c (day, cost_center, quantities)
		SELECT day, cost_center, jsonb_object_agg(meter, q)
		FROM (SELECT day, cost_center, meter, sum(quantity) AS q
		    FROM new_rows GROUP BY 1, 2, 3) m
		WHERE q <> 0
		GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (day, cost_center) DO UPDATE SET
		    quantities = tg_quantities_add(c.quantities, excluded.quantities);
	ELSE
		INSERT INTO usage_cc_daily AS c (day, cost_center, quantities)
		SELECT day, cost_center, jsonb_object_agg(meter, q)
		FROM (SELECT day, cost_center, meter, sum(quantity) AS q
		    FROM (SELECT day, cost_center, meter, quantity FROM new_rows
		        UNION ALL
		        SELECT day, cost_center, meter, -quantity FROM old_rows) x
		    GROUP BY 1, 2, 3) m
		WHERE q <> 0
		GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (day, cost_center) DO UPDATE SET
		    quantities = tg_quantities_add(c.quantities, excluded.quantities);
	END IF;
	RETURN NULL;
END $$;

-- A trigger with transition tables takes one event; an INSERT ... ON
-- CONFLICT DO UPDATE fires both, each with its own rows.
CREATE TRIGGER usage_cc_daily_insert AFTER INSERT ON usage_daily
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION usage_cc_daily_follow();
CREATE TRIGGER usage_cc_daily_update AFTER UPDATE ON usage_daily
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION usage_cc_daily_follow();
CREATE TRIGGER usage_cc_daily_meters_insert AFTER INSERT ON usage_daily_meters
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION usage_cc_daily_meters_follow();
CREATE TRIGGER usage_cc_daily_meters_update AFTER UPDATE ON usage_daily_meters
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION usage_cc_daily_meters_follow();
-- The rollups are only ever added to; a row taken away by hand would
-- leave this one behind, so that is refused.
CREATE TRIGGER usage_daily_no_delete BEFORE DELETE ON usage_daily
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER usage_daily_meters_no_delete BEFORE DELETE ON usage_daily_meters
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- What the finer rollups hold already.
INSERT INTO usage_cc_daily (day, cost_center, events, unpriced, list_cost,
    cost, quantities)
SELECT d.day, d.cost_center, d.events, d.unpriced, d.list_cost, d.cost,
    coalesce(m.quantities, '{}')
FROM (SELECT day, cost_center, sum(events) AS events,
        sum(unpriced) AS unpriced, sum(list_cost) AS list_cost,
        sum(cost) AS cost
    FROM usage_daily GROUP BY 1, 2) d
LEFT JOIN (SELECT day, cost_center, jsonb_object_agg(meter, q) AS quantities
    FROM (SELECT day, cost_center, meter, sum(quantity) AS q
        FROM usage_daily_meters GROUP BY 1, 2, 3) x
    WHERE q <> 0 GROUP BY 1, 2) m USING (day, cost_center);
