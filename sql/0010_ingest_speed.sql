-- usage_ingest() again, same arguments and rows, cheaper per event.
--
-- The outcome of each event used to be read back by joining the batch to
-- ledger_keys and usage_events with the planner free to choose: with the
-- batch table unanalysed and the ledger's statistics behind, it chose to
-- read every usage key in the ledger and its event (a merge join), so a
-- batch cost more the more the ledger held (1000 events: 8 ms with 5,000
-- keys, ingest falling from 14k to 5k events/s within 30 s of load); and
-- "recorded" was found by comparing each event's key with every new key
-- (1000 x 1000 string comparisons). Now the booking statement returns the
-- batch positions it booked with their transaction ids; an event booked
-- here needs no lookup (its id, cost and unpriced flag are its own), and
-- only the others (duplicates, conflicts, rejections) probe ledger_keys,
-- one index lookup each.
--
-- The batch table gets a new name: a session still holding the old one
-- (a server running across the migration) must not meet other columns.

CREATE OR REPLACE FUNCTION usage_ingest(p jsonb, p_auto_create boolean)
RETURNS TABLE (n int, status text, transaction_id bigint, cost bigint,
    unpriced text, cost_center text, occurred_at timestamptz,
    provider text, model text, user_id text, tags jsonb,
    reservation_id text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_n int[];
	v_ids bigint[];
	v_at timestamptz[];
	v_cc text[];
	v_provider text[];
	v_cost bigint[];
BEGIN
	IF p_auto_create THEN
		WITH paths AS (
			SELECT DISTINCT array_to_string(parts[1:i], '/') AS path, i
			FROM (SELECT string_to_array(e.cc, '/') AS parts
			    FROM jsonb_to_recordset(p) AS e (cc text)
			    WHERE e.cc IS NOT NULL) x,
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

	-- Looked up rather than CREATE ... IF NOT EXISTS, which sends the
	-- client a notice at every call.
	IF to_regclass('pg_temp.ingest_rows') IS NULL THEN
		CREATE TEMP TABLE ingest_rows (n int, key text,
		    hash text, occurred_at timestamptz, cc text, provider text,
		    model text, tier text, "user" text, tags jsonb, key_id text,
		    pv bigint, unpriced text, list_cost bigint, cost bigint,
		    reported_cost bigint, status text, latency_ms bigint,
		    reservation_id text, q bigint[], m jsonb, cc_status text)
		    ON COMMIT DELETE ROWS;
	END IF;
	INSERT INTO ingest_rows
	SELECT e.n, e.key, e.hash, e.occurred_at, c.id, e.provider, e.model,
	    e.tier, e."user", e.tags, e.key_id, e.pv, e.unpriced, e.list_cost,
	    e.cost, e.reported_cost, e.status, e.latency_ms, e.reservation_id,
	    e.q, e.m,
	    CASE WHEN c.id IS NULL THEN 'unknown_cost_center'
	        WHEN c.archived THEN 'archived_cost_center' END
	FROM jsonb_to_recordset(p) AS e (n int, key text, hash text,
	    occurred_at timestamptz, cc text, kcc text, provider text,
	    model text, tier text, "user" text, tags jsonb, key_id text,
	    pv bigint, unpriced text, list_cost bigint, cost bigint,
	    reported_cost bigint, status text, latency_ms bigint,
	    reservation_id text, q bigint[], m jsonb)
	LEFT JOIN LATERAL (
		SELECT r.cost_center FROM allocation_rules r
		JOIN cost_centers rc ON rc.id = r.cost_center AND NOT rc.archived
		WHERE e.cc IS NULL AND (
		    (r.match = 'user' AND r.value = e."user") OR
		    (r.match = 'key' AND r.value = e.key_id) OR
		    (r.match = 'tag' AND e.tags ->> r.tag = r.value))
		ORDER BY r.position, r.id LIMIT 1) ar ON true
	LEFT JOIN cost_centers c ON c.id = coalesce(e.cc, ar.cost_center, e.kcc);

	-- Planned at every call (EXECUTE): a plan cached for batches of one
	-- size is ruinous for another (the batch table has no statistics).
	-- ev holds each new key's first event that has a cost center: the
	-- one booked.
	EXECUTE $q$
	WITH ev AS (
		SELECT DISTINCT ON (e.key) e.*
		FROM ingest_rows e
		WHERE e.cc_status IS NULL
		ORDER BY e.key, e.n
	), ins AS (
		INSERT INTO ledger_keys AS k (kind, idempotency_key,
		    transaction_id, occurred_at, request_hash)
		SELECT 'usage', ev.key, nextval('ledger_transaction_ids'),
		    ev.occurred_at, decode(ev.hash, 'hex')
		FROM ev ORDER BY ev.key
		ON CONFLICT (kind, idempotency_key) DO NOTHING
		RETURNING k.transaction_id AS id, k.idempotency_key
	), new AS (
		SELECT ins.id, ev.* FROM ins JOIN ev ON ev.key = ins.idempotency_key
	), tx AS (
		INSERT INTO transactions (id, kind, idempotency_key, occurred_at,
		    created_by)
		SELECT id, 'usage', key, occurred_at, key_id FROM new
	), ue AS (
		INSERT INTO usage_events (transaction_id, occurred_at, cost_center,
		    provider, model, service_tier, user_id, tags, key_id,
		    price_version, unpriced, list_cost, cost, reported_cost, status,
		    latency_ms, reservation_id, quantities)
		SELECT id, occurred_at, cc, provider, model, tier, "user",
		    coalesce(tags, '{}'), key_id, pv, unpriced, list_cost, new.cost,
		    reported_cost, coalesce(new.status, 'ok'), latency_ms,
		    reservation_id, q
		FROM new
	), rd AS (
		INSERT INTO usage_daily AS d (day, cost_center, provider, model,
		    events, unpriced, list_cost, cost)
		SELECT (occurred_at AT TIME ZONE 'UTC')::date, cc, provider, model,
		    count(*), count(new.unpriced), sum(list_cost), sum(new.cost)
		FROM new GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
		ON CONFLICT (day, cost_center, provider, model) DO UPDATE SET
		    events = d.events + excluded.events,
		    unpriced = d.unpriced + excluded.unpriced,
		    list_cost = d.list_cost + excluded.list_cost,
		    cost = d.cost + excluded.cost
	), rm AS (
		INSERT INTO usage_daily_meters AS d (day, cost_center, provider,
		    model, meter, quantity, list_cost, cost)
		SELECT (new.occurred_at AT TIME ZONE 'UTC')::date, new.cc,
		    new.provider, new.model, l.meter, sum(l.q), sum(l.l), sum(l.c)
		FROM new, jsonb_to_recordset(new.m) AS l (meter text, q bigint,
		    l bigint, c bigint)
		GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
		ON CONFLICT (day, cost_center, provider, model, meter) DO UPDATE
		SET quantity = d.quantity + excluded.quantity,
		    list_cost = d.list_cost + excluded.list_cost,
		    cost = d.cost + excluded.cost
	)
	SELECT coalesce(array_agg(new.n), '{}'), coalesce(array_agg(new.id), '{}'),
	    array_agg(new.occurred_at), array_agg(new.cc),
	    array_agg(new.provider), array_agg(new.cost)
	FROM new
	$q$ INTO v_n, v_ids, v_at, v_cc, v_provider, v_cost;
	PERFORM ledger_post_usage(v_ids, v_at, v_cc, v_provider, v_cost);

	-- An event booked here is answered from its own row. Any other looks
	-- its key up (LATERAL, so one index probe each, never a scan of the
	-- ledger): booked before (or earlier in this batch) with the same
	-- hash is a duplicate, with another a conflict; an event whose key is
	-- unknown and that has no cost center is rejected. A duplicate
	-- answers its transaction's cost with the corrections booked since.
	-- OFFSET 0 keeps the planner from flattening the lookups into a join
	-- over the whole of ledger_keys.
	RETURN QUERY EXECUTE $q$
	SELECT e.n,
	    CASE WHEN r.id IS NOT NULL THEN 'recorded'
	        WHEN k.transaction_id IS NOT NULL
	            AND k.request_hash = decode(e.hash, 'hex')
	        THEN 'duplicate'
	        WHEN k.transaction_id IS NOT NULL THEN 'conflict'
	        ELSE e.cc_status END,
	    coalesce(r.id, k.transaction_id),
	    CASE WHEN r.id IS NOT NULL THEN e.cost ELSE u.cost END,
	    CASE WHEN r.id IS NOT NULL THEN e.unpriced ELSE u.unpriced END,
	    e.cc, e.occurred_at, e.provider, e.model, e."user",
	    e.tags, e.reservation_id
	FROM ingest_rows e
	LEFT JOIN unnest($1::int[], $2::bigint[]) AS r (n, id) ON r.n = e.n
	LEFT JOIN LATERAL (
		SELECT k.transaction_id, k.request_hash FROM ledger_keys k
		WHERE r.id IS NULL AND k.kind = 'usage'
		  AND k.idempotency_key = e.key OFFSET 0) k ON true
	LEFT JOIN LATERAL (
		SELECT (u.cost + coalesce((SELECT sum(c.cost_delta)
		    FROM usage_corrections c
		    WHERE c.corrects = u.transaction_id), 0))::bigint AS cost,
		    u.unpriced
		FROM usage_events u
		WHERE u.transaction_id = k.transaction_id OFFSET 0) u ON true
	ORDER BY e.n
	$q$ USING v_n, v_ids;
END $$;
