-- Usage booking with less work per batch, above all for small batches
-- (single-event requests), whose cost was mostly PostgreSQL parsing and
-- planning rather than writing: one event cost about 1.8 ms of backend
-- CPU, of which a third planned statements again and another part parsed
-- the booking statement and SQL functions. Same signature and outcomes
-- as 0012's usage_ingest_cols().
--
-- - One plan per statement, kept: the function runs with
--   plan_cache_mode = force_generic_plan, so its statements (and the
--   ones it calls) are planned once per connection without the batch's
--   values, and a plan without values estimates every unnested array
--   alike, whatever the batch's size. 0010 planned the booking statement
--   at every call (EXECUTE) because a plan made with one event's values
--   chose nested loops and cost 67 ms instead of 25 on a 1000-event
--   batch; the one join such a generic plan got wrong (the keys inserted
--   joined back to the batch: a nested loop over 1000 x 1000 rows) is
--   gone: the transaction ids are drawn before the insert, and a batch
--   whose plain insert succeeds booked every one of its rows. When a key
--   is already there, the same statement runs again without the events
--   whose key exists (0010 ran it again with ON CONFLICT DO NOTHING).
-- - No temporary table. The batch was first copied into ingest_rows
--   (about 11% of a 1000-event batch) so that the booking statement and
--   the outcome query could both read it; they now read the parameter
--   arrays themselves, with each event's resolved cost center passed
--   beside them as one more array.
-- - The rollups are written once each, by this function. Before, the
--   function upserted usage_daily and usage_daily_meters and six
--   statement triggers followed: usage_cc_daily twice (costs, then
--   quantities) and usage_daily a second time (its quantities), each
--   a plpgsql call with transition tables, about 0.6 ms a batch
--   whatever its size. The triggers stay for every other writer
--   (repricing, seeding, hand edits); they are skipped while the
--   setting tollgate.rollups is 'written', which this function sets for
--   its own three upserts only (transaction-local, and reset after).
--   No SQL-language function is called per batch (tg_quantities_of,
--   tg_quantities_add): those are parsed again at every statement that
--   calls them; their expressions are written out here instead.
-- - Each event's day is computed once, not once per meter row.
-- - The parameter arrays are unnested in select lists rather than in
--   FROM (here and in ledger_post_usage()): in FROM, each array is first
--   copied whole into a tuplestore; about 5% of a 1000-event batch.
-- - Which position was booked with which transaction travels as one
--   array indexed by position, so the outcome query joins nothing of
--   the batch with itself.

-- A daily rollup row's change, with its quantities per meter (in the
-- order of tg_meters()).
CREATE TYPE usage_rollup_delta AS (day date, cost_center text,
    provider text, model text, events bigint, unpriced bigint,
    list_cost bigint, cost bigint, quantities bigint[]);

-- The rollup-follow triggers, now skipped while a writer that maintains
-- every rollup itself says so. Names, and so their firing order, as
-- before.
DROP TRIGGER usage_cc_daily_insert ON usage_daily;
DROP TRIGGER usage_cc_daily_update ON usage_daily;
DROP TRIGGER usage_cc_daily_meters_insert ON usage_daily_meters;
DROP TRIGGER usage_cc_daily_meters_update ON usage_daily_meters;
DROP TRIGGER usage_daily_quantities_insert ON usage_daily_meters;
DROP TRIGGER usage_daily_quantities_update ON usage_daily_meters;
CREATE TRIGGER usage_cc_daily_insert AFTER INSERT ON usage_daily
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    WHEN (current_setting('tollgate.rollups', true)
        IS DISTINCT FROM 'written')
    EXECUTE FUNCTION usage_cc_daily_follow();
CREATE TRIGGER usage_cc_daily_update AFTER UPDATE ON usage_daily
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_setting('tollgate.rollups', true)
        IS DISTINCT FROM 'written')
    EXECUTE FUNCTION usage_cc_daily_follow();
CREATE TRIGGER usage_cc_daily_meters_insert AFTER INSERT ON usage_daily_meters
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    WHEN (current_setting('tollgate.rollups', true)
        IS DISTINCT FROM 'written')
    EXECUTE FUNCTION usage_cc_daily_meters_follow();
CREATE TRIGGER usage_cc_daily_meters_update AFTER UPDATE ON usage_daily_meters
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_setting('tollgate.rollups', true)
        IS DISTINCT FROM 'written')
    EXECUTE FUNCTION usage_cc_daily_meters_follow();
CREATE TRIGGER usage_daily_quantities_insert AFTER INSERT ON usage_daily_meters
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    WHEN (current_setting('tollgate.rollups', true)
        IS DISTINCT FROM 'written')
    EXECUTE FUNCTION usage_daily_quantities_follow();
CREATE TRIGGER usage_daily_quantities_update AFTER UPDATE ON usage_daily_meters
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_setting('tollgate.rollups', true)
        IS DISTINCT FROM 'written')
    EXECUTE FUNCTION usage_daily_quantities_follow();

-- As in 0012, with the batch's arrays read in the select list: unnest()
-- in FROM copies each array's elements into a tuplestore of its own
-- before the first row (8% of a 1000-event booking, unnest's in this
-- file together), one in the select list hands them on row by row.
CREATE OR REPLACE FUNCTION ledger_post_usage(p_ids bigint[],
    p_at timestamptz[], p_root text[], p_cc text[], p_provider text[],
    p_amount bigint[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO accounts (name, kind)
	SELECT a, split_part(a, ':', 1)
	FROM (SELECT DISTINCT 'expense:' || x.cc
	        FROM (SELECT unnest(p_cc) AS cc, unnest(p_amount) AS amount) x
	        WHERE x.amount <> 0
	    UNION
	    SELECT DISTINCT 'payable:' || x.provider
	        FROM (SELECT unnest(p_provider) AS provider,
	            unnest(p_amount) AS amount) x
	        WHERE x.amount <> 0) AS y (a)
	WHERE NOT EXISTS (SELECT 1 FROM accounts c
	    WHERE c.name = y.a AND c.currency = 'USD')
	ORDER BY 1
	ON CONFLICT (name, currency) DO NOTHING;
	INSERT INTO postings (transaction_id, seq, account_id, amount,
	    occurred_at, root)
	SELECT x.id, s.seq, a.id, s.amount, x.at, x.root
	FROM (SELECT unnest(p_ids) AS id, unnest(p_at) AS at,
	        unnest(p_root) AS root, unnest(p_cc) AS cc,
	        unnest(p_provider) AS provider, unnest(p_amount) AS amount) x,
	    LATERAL (VALUES (0, 'expense:' || x.cc, x.amount),
	        (1, 'payable:' || x.provider, -x.amount)) AS s (seq, name, amount)
	JOIN accounts a ON a.name = s.name AND a.currency = 'USD'
	WHERE x.amount <> 0;
END $$;

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
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
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
			)
			SELECT (SELECT array_agg(new.id ORDER BY s.i)
			        FROM generate_series(0, cardinality(p_key) - 1) AS s (i)
			        LEFT JOIN new ON new.n = s.i),
			    coalesce(array_agg(new.id), '{}'), array_agg(new.occurred_at),
			    array_agg(new.root), array_agg(new.cc), array_agg(new.provider),
			    array_agg(new.cost),
			    (SELECT array_agg(ROW(rd.day, rd.cc, rd.provider, rd.model,
			        rd.events, rd.unpriced, rd.list_cost, rd.cost,
			        (SELECT array_agg(coalesce(y.q, 0) ORDER BY t.i)
			        FROM unnest(tg_meters()) WITH ORDINALITY AS t (meter, i)
			        LEFT JOIN (SELECT rm.meter, tg_sum(rm.q) AS q FROM rm
			            WHERE rm.day = rd.day AND rm.cc = rd.cc
			              AND rm.provider = rd.provider
			              AND rm.model = rd.model
			            GROUP BY rm.meter) y ON y.meter = t.meter)
			        )::usage_rollup_delta) FROM rd),
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
	SELECT x.day, x.cost_center, tg_root(x.cost_center), sum(x.events),
	    sum(x.unpriced), sum(x.list_cost), sum(x.cost),
	    coalesce((SELECT jsonb_object_agg(y.meter, y.q)
	        FROM (SELECT m.meter, sum(m.quantity) AS q
	            FROM unnest(v_rm) AS m
	            WHERE m.day = x.day AND m.cost_center = x.cost_center
	            GROUP BY m.meter) y
	        WHERE y.q <> 0), '{}')
	FROM unnest(v_rd) AS x
	GROUP BY 1, 2 ORDER BY 1, 2, 3
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
	    e.cc, e.occurred_at, e.provider, e.model, e."user",
	    e.tags, e.reservation_id
	FROM (SELECT unnest(p_key) AS key, unnest(p_hash) AS hash,
	    unnest(v_cc) AS cc, unnest(v_ccs) AS cc_status,
	    unnest(p_cost) AS cost, unnest(p_unpriced) AS unpriced,
	    unnest(p_at) AS occurred_at, unnest(p_provider) AS provider,
	    unnest(p_model) AS model, unnest(p_user) AS "user",
	    unnest(p_tags) AS tags, unnest(p_reservation_id) AS reservation_id,
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
