-- Usage booking that answers only what the server does not know: the
-- server kept every event it sent, so usage_book_cols() returns each
-- position's outcome and resolved cost center, not the event's
-- occurred_at, provider, model, user, tags and reservation again (13
-- columns a row, formatted as text by PostgreSQL and parsed again by the
-- budgets, for a 1000-event batch). The spool's replay, which has no
-- event in memory, still gets them from usage_ingest_cols(), now a
-- wrapper that joins them back from its own arrays.
--
-- The same booking as 0022 otherwise, with:
-- - jit off. A kept plan is made once per connection; one made while
--   ledger_keys or usage_events had grown but not yet been analysed
--   estimated hundreds of rows per key probe in the outcome query, went
--   past jit_above_cost, and compiled the query at every call (measured:
--   about 190 ms a 1000-event batch, where the whole booking takes 25).
--   A booking never touches enough rows for compiled expressions to pay.
-- - A daily rollup row's quantities joined from the batch's meter rows,
--   aggregated once, instead of a correlated subquery that read all of
--   them for each daily row (the number of daily rows times the number
--   of meter rows: quadratic in a batch with many cost centers or
--   models). usage_cc_daily's quantities likewise, from one aggregation
--   of the meter rows per cost center and day.
--
-- And 0020's trigger on usage_events sums each event's quantities once
-- instead of three times (at the end of this file).

CREATE FUNCTION usage_book_cols(p_key text[], p_hash text[],
    p_at timestamptz[], p_cc text[], p_kcc text[], p_provider text[],
    p_model text[], p_tier text[], p_user text[], p_tags jsonb[],
    p_key_id text[], p_pv bigint[], p_unpriced text[], p_list_cost bigint[],
    p_cost bigint[], p_reported_cost bigint[], p_status text[],
    p_latency_ms bigint[], p_reservation_id text[], p_q text[],
    p_m_n int[], p_m_meter text[], p_m_q bigint[], p_m_l bigint[],
    p_m_c bigint[], p_auto_create boolean)
RETURNS TABLE (n int, status text, transaction_id bigint, cost bigint,
    unpriced text, cost_center text)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
	v_cc text[];		-- each event's cost center, NULL without one
	v_ccs text[];		-- and why it has none
	v_tx bigint[];		-- each position's new transaction, or NULL
	v_ids bigint[];
	v_at timestamptz[];
	v_root text[];
	v_bcc text[];
	v_provider text[];
	v_cost bigint[];
	v_rd usage_rollup_delta[];
	v_rm usage_meters_delta[];
	v_left bigint;		-- events left out after a unique violation
BEGIN
	IF p_auto_create THEN
		WITH paths AS (
			SELECT DISTINCT array_to_string(parts[1:i], '/') AS path, i
			FROM (SELECT string_to_array(x.cc, '/') AS parts
			    FROM unnest(p_cc) AS x (cc) WHERE x.cc IS NOT NULL) x,
			    generate_subscripts(parts, 1) AS i
		), made AS (
			INSERT INTO cost_centers AS c (id, parent, name)
			SELECT path, nullif(regexp_replace(path, '/?[^/]*$', ''), ''),
			    path
			FROM paths ORDER BY i, path
			ON CONFLICT (id) DO NOTHING
			RETURNING c.*
		)
		INSERT INTO audit_log (action, entity, entity_id, after)
		SELECT 'auto_create', 'cost_center', made.id,
		    cost_center_json(made.*)
		FROM made;
	END IF;

	-- Each event's cost center: its own, else the first allocation rule
	-- that matches it, else its key's default; none, or an archived one,
	-- rejects it.
	SELECT array_agg(c.id ORDER BY e.o),
	    array_agg(CASE WHEN c.id IS NULL THEN 'unknown_cost_center'
	        WHEN c.archived THEN 'archived_cost_center' END ORDER BY e.o)
	INTO v_cc, v_ccs
	FROM unnest(p_cc, p_kcc, p_user, p_key_id, p_tags) WITH ORDINALITY
	    AS e (cc, kcc, "user", key_id, tags, o)
	LEFT JOIN LATERAL (
		SELECT r.cost_center FROM allocation_rules r
		JOIN cost_centers rc ON rc.id = r.cost_center AND NOT rc.archived
		WHERE e.cc IS NULL AND (
		    (r.match = 'user' AND r.value = e."user") OR
		    (r.match = 'key' AND r.value = e.key_id) OR
		    (r.match = 'tag' AND e.tags ->> r.tag = r.value))
		ORDER BY r.position, r.id LIMIT 1) ar ON true
	LEFT JOIN cost_centers c ON c.id = coalesce(e.cc, ar.cost_center, e.kcc);

	-- A plain insert of the keys, as in 0010 (which says why), with the
	-- plan kept (see the top of this file). ev0 holds each new key's
	-- first event that has a cost center: the one booked. A key already
	-- there (a retry, or a batch committing beside this one, whose key
	-- this insert waited for) fails the insert as a whole: the events
	-- whose key now exists are then left out, to the outcome query
	-- (duplicate or conflict), and the rest booked by the same statement.
	-- (0010 ran it again with ON CONFLICT DO NOTHING instead, planned at
	-- every call; a kept plan would join the keys inserted back to the
	-- batch by nested loop.)
	LOOP
		BEGIN
			WITH ev0 AS (
				SELECT DISTINCT ON (e.key) e.key, e.hash, e.occurred_at, e.cc,
				    e.provider, e.model, e.tier, e."user", e.tags, e.key_id, e.pv,
				    e.unpriced, e.list_cost, e.cost, e.reported_cost, e.status,
				    e.latency_ms, e.reservation_id, e.q, (e.o - 1)::int AS n,
				    tg_root(e.cc) AS root,
				    (e.occurred_at AT TIME ZONE 'UTC')::date AS day
				FROM (SELECT unnest(p_key) AS key, unnest(p_hash) AS hash,
				    unnest(p_at) AS occurred_at, unnest(v_cc) AS cc,
				    unnest(v_ccs) AS cc_status, unnest(p_provider) AS provider,
				    unnest(p_model) AS model, unnest(p_tier) AS tier,
				    unnest(p_user) AS "user", unnest(p_tags) AS tags,
				    unnest(p_key_id) AS key_id, unnest(p_pv) AS pv,
				    unnest(p_unpriced) AS unpriced,
				    unnest(p_list_cost) AS list_cost, unnest(p_cost) AS cost,
				    unnest(p_reported_cost) AS reported_cost,
				    unnest(p_status) AS status,
				    unnest(p_latency_ms) AS latency_ms,
				    unnest(p_reservation_id) AS reservation_id,
				    unnest(p_q) AS q,
				    generate_series(1, cardinality(p_key)) AS o) e
				WHERE e.cc_status IS NULL
				ORDER BY e.key, e.o
			), new AS (
				SELECT nextval('ledger_transaction_ids') AS id, ev0.* FROM ev0
			), ins AS (
				INSERT INTO ledger_keys (kind, idempotency_key, transaction_id,
				    occurred_at, request_hash, root)
				SELECT 'usage', new.key, new.id, new.occurred_at,
				    decode(new.hash, 'hex'), new.root
				FROM new ORDER BY new.key
			), tx AS (
				INSERT INTO transactions (id, kind, idempotency_key, occurred_at,
				    created_by, root)
				SELECT id, 'usage', key, occurred_at, key_id, root FROM new
			), ue AS (
				INSERT INTO usage_events (transaction_id, occurred_at, cost_center,
				    provider, model, service_tier, user_id, tags, key_id,
				    price_version, unpriced, list_cost, cost, reported_cost, status,
				    latency_ms, reservation_id, quantities, root)
				SELECT id, occurred_at, cc, provider, model, tier, "user",
				    coalesce(tags, '{}'), key_id, pv, unpriced, list_cost, new.cost,
				    reported_cost, coalesce(new.status, 'ok'), latency_ms,
				    reservation_id, q::bigint[], root
				FROM new
			), rd AS (
				SELECT day, cc, provider, model, count(*) AS events,
				    count(new.unpriced) AS unpriced,
				    sum(list_cost)::bigint AS list_cost, sum(new.cost)::bigint AS cost
				FROM new GROUP BY 1, 2, 3, 4
			), rm AS (
				SELECT new.day, new.cc, new.provider, new.model, l.meter,
				    sum(l.q)::bigint AS q, sum(l.l)::bigint AS l,
				    sum(l.c)::bigint AS c
				FROM new JOIN (SELECT unnest(p_m_n) AS n,
				    unnest(p_m_meter) AS meter, unnest(p_m_q) AS q,
				    unnest(p_m_l) AS l, unnest(p_m_c) AS c) l
				    ON l.n = new.n
				GROUP BY 1, 2, 3, 4, 5
			), rq AS (
				-- Each daily row's quantities, in the order of
				-- tg_meters(), 0 where it has none.
				SELECT g.day, g.cc, g.provider, g.model,
				    array_agg(coalesce(rm.q, 0) ORDER BY t.i) AS q
				FROM (SELECT DISTINCT rm.day, rm.cc, rm.provider, rm.model
				    FROM rm) g
				CROSS JOIN unnest(tg_meters()) WITH ORDINALITY AS t (meter, i)
				LEFT JOIN rm ON rm.day = g.day AND rm.cc = g.cc
				    AND rm.provider = g.provider AND rm.model = g.model
				    AND rm.meter = t.meter
				GROUP BY 1, 2, 3, 4
			)
			SELECT (SELECT array_agg(new.id ORDER BY s.i)
			        FROM generate_series(0, cardinality(p_key) - 1) AS s (i)
			        LEFT JOIN new ON new.n = s.i),
			    coalesce(array_agg(new.id), '{}'), array_agg(new.occurred_at),
			    array_agg(new.root), array_agg(new.cc), array_agg(new.provider),
			    array_agg(new.cost),
			    (SELECT array_agg(ROW(rd.day, rd.cc, rd.provider, rd.model,
			        rd.events, rd.unpriced, rd.list_cost, rd.cost,
			        coalesce(rq.q, array_fill(0::bigint,
			            ARRAY[cardinality(tg_meters())]))
			        )::usage_rollup_delta)
			    FROM rd LEFT JOIN rq ON rq.day = rd.day AND rq.cc = rd.cc
			        AND rq.provider = rd.provider AND rq.model = rd.model),
			    (SELECT array_agg(ROW(rm.day, rm.cc, rm.provider, rm.model,
			        rm.meter, rm.q, rm.l, rm.c)::usage_meters_delta) FROM rm)
			INTO v_tx, v_ids, v_at, v_root, v_bcc, v_provider, v_cost, v_rd, v_rm
			FROM new;
			EXIT;
		EXCEPTION WHEN unique_violation THEN
			SELECT count(*) FILTER (WHERE x.s IS NULL AND x.booked),
			    array_agg(CASE WHEN x.s IS NULL AND x.booked THEN 'booked'
			        ELSE x.s END ORDER BY x.o)
			INTO v_left, v_ccs
			FROM (SELECT e.s, e.o, EXISTS (SELECT 1 FROM ledger_keys k
			        WHERE k.kind = 'usage' AND k.idempotency_key = e.key)
			        AS booked
			    FROM unnest(p_key, v_ccs) WITH ORDINALITY AS e (key, s, o)) x;
			IF v_left = 0 THEN
				RAISE;	-- another unique key: an error, as before
			END IF;
		END;
	END LOOP;
	PERFORM ledger_post_usage(v_ids, v_at, v_root, v_bcc, v_provider,
	    v_cost);

	-- A meter with no place in usage_daily.quantities is refused, as the
	-- trigger this replaces refused it: its quantities would be missing
	-- from the reports without a word.
	IF EXISTS (SELECT 1 FROM unnest(v_rm) AS x
	    WHERE x.meter <> ALL (tg_meters())) THEN
		RAISE EXCEPTION 'usage_daily_meters: a meter that usage_daily.quantities does not know'
		    USING ERRCODE = 'check_violation';
	END IF;

	-- The rollups last, in key order, as in 0010; here the daily row
	-- (costs and quantities), its cost center's row (the same, summed
	-- over providers and models) and the meters' rows, each written
	-- once, in the order every other writer takes them (daily, cost
	-- center, meters), so that none waits on another in a circle.
	PERFORM set_config('tollgate.rollups', 'written', true);
	INSERT INTO usage_daily AS d (day, cost_center, provider, model, root,
	    events, unpriced, list_cost, cost, quantities)
	SELECT x.day, x.cost_center, x.provider, x.model, tg_root(x.cost_center),
	    x.events, x.unpriced, x.list_cost, x.cost, x.quantities
	FROM unnest(v_rd) AS x
	ORDER BY 1, 2, 3, 4
	ON CONFLICT (day, cost_center, provider, model, root) DO UPDATE SET
	    events = d.events + excluded.events,
	    unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost,
	    quantities = tg_quantities_plus(d.quantities, excluded.quantities);
	INSERT INTO usage_cc_daily AS c (day, cost_center, root, events,
	    unpriced, list_cost, cost, quantities)
	SELECT x.day, x.cost_center, tg_root(x.cost_center), x.events,
	    x.unpriced, x.list_cost, x.cost, coalesce(q.q, '{}')
	FROM (SELECT r.day, r.cost_center, sum(r.events) AS events,
	        sum(r.unpriced) AS unpriced, sum(r.list_cost) AS list_cost,
	        sum(r.cost) AS cost
	    FROM unnest(v_rd) AS r GROUP BY 1, 2) x
	LEFT JOIN (SELECT y.day, y.cost_center, jsonb_object_agg(y.meter, y.q) AS q
	    FROM (SELECT m.day, m.cost_center, m.meter, sum(m.quantity) AS q
	        FROM unnest(v_rm) AS m GROUP BY 1, 2, 3) y
	    WHERE y.q <> 0
	    GROUP BY 1, 2) q ON q.day = x.day AND q.cost_center = x.cost_center
	ORDER BY 1, 2, 3
	ON CONFLICT (day, cost_center, root) DO UPDATE SET
	    events = c.events + excluded.events,
	    unpriced = c.unpriced + excluded.unpriced,
	    list_cost = c.list_cost + excluded.list_cost,
	    cost = c.cost + excluded.cost,
	    quantities = CASE WHEN excluded.quantities = '{}' THEN c.quantities
	        ELSE (SELECT coalesce(jsonb_object_agg(y.k, y.s), '{}')
	            FROM (SELECT x.k, sum(x.v::bigint) AS s
	                FROM (SELECT * FROM jsonb_each_text(c.quantities)
	                    UNION ALL
	                    SELECT * FROM jsonb_each_text(excluded.quantities))
	                    AS x (k, v)
	                GROUP BY x.k) y
	            WHERE y.s <> 0) END;
	INSERT INTO usage_daily_meters AS d (day, cost_center, provider,
	    model, meter, root, quantity, list_cost, cost)
	SELECT x.day, x.cost_center, x.provider, x.model, x.meter,
	    tg_root(x.cost_center), x.quantity, x.list_cost, x.cost
	FROM unnest(v_rm) AS x
	ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (day, cost_center, provider, model, meter, root) DO UPDATE
	SET quantity = d.quantity + excluded.quantity,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost;
	PERFORM set_config('tollgate.rollups', '', true);

	-- The outcome of each event, as in 0010: an event booked here from
	-- its own position, any other by its key (OFFSET 0: one index probe
	-- each, never a join over ledger_keys).
	RETURN QUERY
	SELECT (e.o - 1)::int,
	    CASE WHEN v_tx[e.o] IS NOT NULL THEN 'recorded'
	        WHEN k.transaction_id IS NOT NULL
	            AND k.request_hash = decode(e.hash, 'hex')
	        THEN 'duplicate'
	        WHEN k.transaction_id IS NOT NULL THEN 'conflict'
	        ELSE e.cc_status END,
	    coalesce(v_tx[e.o], k.transaction_id),
	    CASE WHEN v_tx[e.o] IS NOT NULL THEN e.cost ELSE u.cost END,
	    CASE WHEN v_tx[e.o] IS NOT NULL THEN e.unpriced ELSE u.unpriced END,
	    e.cc
	FROM (SELECT unnest(p_key) AS key, unnest(p_hash) AS hash,
	    unnest(v_cc) AS cc, unnest(v_ccs) AS cc_status,
	    unnest(p_cost) AS cost, unnest(p_unpriced) AS unpriced,
	    generate_series(1, cardinality(p_key)) AS o) e
	LEFT JOIN LATERAL (
		SELECT k.transaction_id, k.request_hash FROM ledger_keys k
		WHERE v_tx[e.o] IS NULL AND k.kind = 'usage'
		  AND k.idempotency_key = e.key OFFSET 0) k ON true
	LEFT JOIN LATERAL (
		SELECT (u.cost + coalesce((SELECT sum(c.cost_delta)
		    FROM usage_corrections c
		    WHERE c.corrects = u.transaction_id), 0))::bigint AS cost,
		    u.unpriced
		FROM usage_events u
		WHERE u.transaction_id = k.transaction_id OFFSET 0) u ON true
	ORDER BY e.o;
END $$;

-- The booking with each event's dimensions beside its outcome, as 0022
-- answered it, for usage_ingest() (the spool's replay).
CREATE OR REPLACE FUNCTION usage_ingest_cols(p_key text[], p_hash text[],
    p_at timestamptz[], p_cc text[], p_kcc text[], p_provider text[],
    p_model text[], p_tier text[], p_user text[], p_tags jsonb[],
    p_key_id text[], p_pv bigint[], p_unpriced text[], p_list_cost bigint[],
    p_cost bigint[], p_reported_cost bigint[], p_status text[],
    p_latency_ms bigint[], p_reservation_id text[], p_q text[],
    p_m_n int[], p_m_meter text[], p_m_q bigint[], p_m_l bigint[],
    p_m_c bigint[], p_auto_create boolean)
RETURNS TABLE (n int, status text, transaction_id bigint, cost bigint,
    unpriced text, cost_center text, occurred_at timestamptz,
    provider text, model text, user_id text, tags jsonb,
    reservation_id text)
LANGUAGE sql AS $$
	SELECT b.n, b.status, b.transaction_id, b.cost, b.unpriced,
	    b.cost_center, e.occurred_at, e.provider, e.model, e."user",
	    e.tags, e.reservation_id
	FROM usage_book_cols(p_key, p_hash, p_at, p_cc, p_kcc, p_provider,
	    p_model, p_tier, p_user, p_tags, p_key_id, p_pv, p_unpriced,
	    p_list_cost, p_cost, p_reported_cost, p_status, p_latency_ms,
	    p_reservation_id, p_q, p_m_n, p_m_meter, p_m_q, p_m_l, p_m_c,
	    p_auto_create) AS b
	JOIN (SELECT unnest(p_at) AS occurred_at, unnest(p_provider) AS provider,
	    unnest(p_model) AS model, unnest(p_user) AS "user",
	    unnest(p_tags) AS tags, unnest(p_reservation_id) AS reservation_id,
	    generate_series(0, cardinality(p_key) - 1) AS n) e ON e.n = b.n
	ORDER BY b.n
$$;

-- 0020's rollups per user, per hour and per tag, kept by a statement
-- trigger on usage_events, summed each event's fourteen quantities three
-- times (per user and model, per user, per hour): 42 subscripts and
-- aggregate steps per event, about 7% of a 1000-event booking. The
-- events are now summed once, by hour, cost center, provider, model and
-- user (the finest of the three groupings), and the three rollups read
-- those few sums. Same rows, same order, same tag rollups.
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
	RETURN NULL;
END $$;
