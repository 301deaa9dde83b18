-- 0011 (quantities on each daily row) and 0012 (the distribution key
-- root) were written side by side: 0012 put root into usage_daily's
-- primary key and wrote usage_cc_daily_follow() again from 0007's text.
-- Here the two meet:
-- - usage_daily_quantities_follow() (0011) upserts the daily rows with
--   their root, on the key that now includes it;
-- - usage_cc_daily_follow() keeps 0012's root and 0011's skipping of the
--   daily rows whose events and costs did not move;
-- - usage_daily, whose rows 0012's backfill rewrote wherever they fell,
--   is written again in key order (0011 says why the report needs it).

CREATE OR REPLACE FUNCTION usage_daily_quantities_follow() RETURNS trigger
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
		    root, events, unpriced, list_cost, cost, quantities)
		SELECT day, cost_center, provider, model, root, 0, 0, 0, 0, ARRAY[
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
		FROM (SELECT day, cost_center, provider, model, root,
		        quantity AS q, array_position(tg_meters(), meter) AS i
		    FROM new_rows WHERE quantity <> 0) x
		GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
		ON CONFLICT (day, cost_center, provider, model, root) DO UPDATE SET
		    quantities = tg_quantities_plus(d.quantities,
		        excluded.quantities);
	ELSE
		-- A repricing correction moves costs only: nothing to do.
		INSERT INTO usage_daily AS d (day, cost_center, provider, model,
		    root, events, unpriced, list_cost, cost, quantities)
		SELECT day, cost_center, provider, model, root, 0, 0, 0, 0, ARRAY[
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
		FROM (SELECT day, cost_center, provider, model, root, i,
		        tg_sum(q) AS q
		    FROM (SELECT day, cost_center, provider, model, root,
		            quantity AS q, array_position(tg_meters(), meter) AS i
		        FROM new_rows
		        UNION ALL
		        SELECT day, cost_center, provider, model, root, -quantity,
		            array_position(tg_meters(), meter)
		        FROM old_rows) x
		    GROUP BY 1, 2, 3, 4, 5, 6) y
		WHERE q <> 0
		GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
		ON CONFLICT (day, cost_center, provider, model, root) DO UPDATE SET
		    quantities = tg_quantities_plus(d.quantities,
		        excluded.quantities);
	END IF;
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION usage_cc_daily_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO usage_cc_daily AS c (day, cost_center, root, events,
		    unpriced, list_cost, cost)
		SELECT day, cost_center, root, sum(events), sum(unpriced),
		    sum(list_cost), sum(cost)
		FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
		ON CONFLICT (day, cost_center, root) DO UPDATE SET
		    events = c.events + excluded.events,
		    unpriced = c.unpriced + excluded.unpriced,
		    list_cost = c.list_cost + excluded.list_cost,
		    cost = c.cost + excluded.cost;
	ELSE
		INSERT INTO usage_cc_daily AS c (day, cost_center, root, events,
		    unpriced, list_cost, cost)
		SELECT day, cost_center, root, sum(events), sum(unpriced),
		    sum(list_cost), sum(cost)
		FROM (SELECT day, cost_center, root, events, unpriced,
		        list_cost, cost
		    FROM new_rows
		    UNION ALL
		    SELECT day, cost_center, root, -events, -unpriced,
		        -list_cost, -cost
		    FROM old_rows) x
		GROUP BY 1, 2, 3
		HAVING sum(events) <> 0 OR sum(unpriced) <> 0
		    OR sum(list_cost) <> 0 OR sum(cost) <> 0
		ORDER BY 1, 2, 3
		ON CONFLICT (day, cost_center, root) DO UPDATE SET
		    events = c.events + excluded.events,
		    unpriced = c.unpriced + excluded.unpriced,
		    list_cost = c.list_cost + excluded.list_cost,
		    cost = c.cost + excluded.cost;
	END IF;
	RETURN NULL;
END $$;

CLUSTER usage_daily USING usage_daily_pkey;
ANALYZE usage_daily;
