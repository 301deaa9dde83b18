-- Usage booking, cheaper per event: usage_ingest_cols() takes a batch as
-- columns (one array per field) and books it; usage_ingest(jsonb), what
-- the spool replays, turns its JSON rows into those columns.
--
-- Columns, not a JSON document: PostgreSQL spent about 10 ms of each
-- 1000-event batch building the jsonb parameter and 3 more taking it
-- apart (jsonb_to_recordset), against under 3 ms for the same rows as
-- arrays (unnest). Meters travel as flat arrays (batch position, meter,
-- quantity, list cost, cost), every meter with a quantity, priced or not.
--
-- The outcome of each event used to be read back by joining the batch to
-- ledger_keys and usage_events with the planner free to choose: with the
-- batch table unanalysed and the ledger's statistics behind, it read
-- every usage key in the ledger and its event, so a batch cost more the
-- more the ledger held (ingest fell from 14k to 5k events/s within 30 s
-- of load); and "recorded" compared each event's key with every new key.
-- Now the booking statement returns the batch positions it booked with
-- their transaction ids: an event booked here is answered from its own
-- row, and only the others (duplicates, conflicts, rejections) look
-- their key up, one index probe each.
--
-- The batch table gets a new name: a session still holding the old one
-- (a server running across the migration) must not meet other columns.

-- What a batch adds to the rollups, per row of each.
CREATE TYPE usage_daily_delta AS (day date, cost_center text,
    provider text, model text, events bigint, unpriced bigint,
    list_cost bigint, cost bigint);
CREATE TYPE usage_meters_delta AS (day date, cost_center text,
    provider text, model text, meter text, quantity bigint,
    list_cost bigint, cost bigint);

CREATE FUNCTION usage_ingest_cols(p_key text[], p_hash text[],
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
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_n int[];
	v_ids bigint[];
	v_at timestamptz[];
	v_cc text[];
	v_provider text[];
	v_cost bigint[];
	v_rd usage_daily_delta[];
	v_rm usage_meters_delta[];
	v_sql text;
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

	-- Looked up rather than CREATE ... IF NOT EXISTS, which sends the
	-- client a notice at every call.
	IF to_regclass('pg_temp.ingest_rows') IS NULL THEN
		CREATE TEMP TABLE ingest_rows (n int, key text,
		    hash text, occurred_at timestamptz, cc text, provider text,
		    model text, tier text, "user" text, tags jsonb, key_id text,
		    pv bigint, unpriced text, list_cost bigint, cost bigint,
		    reported_cost bigint, status text, latency_ms bigint,
		    reservation_id text, q bigint[], cc_status text)
		    ON COMMIT DELETE ROWS;
	END IF;
	INSERT INTO ingest_rows
	SELECT e.n - 1, e.key, e.hash, e.occurred_at, c.id, e.provider,
	    e.model, e.tier, e."user", e.tags, e.key_id, e.pv, e.unpriced,
	    e.list_cost, e.cost, e.reported_cost, e.status, e.latency_ms,
	    e.reservation_id, e.q::bigint[],
	    CASE WHEN c.id IS NULL THEN 'unknown_cost_center'
	        WHEN c.archived THEN 'archived_cost_center' END
	FROM unnest(p_key, p_hash, p_at, p_cc, p_kcc, p_provider, p_model,
	    p_tier, p_user, p_tags, p_key_id, p_pv, p_unpriced, p_list_cost,
	    p_cost, p_reported_cost, p_status, p_latency_ms, p_reservation_id,
	    p_q) WITH ORDINALITY AS e (key, hash, occurred_at, cc, kcc,
	    provider, model, tier, "user", tags, key_id, pv, unpriced,
	    list_cost, cost, reported_cost, status, latency_ms, reservation_id,
	    q, n)
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
	-- size is ruinous for another (the batch table has no statistics;
	-- measured: 1000 events in 67 ms instead of 25 after single events).
	-- ev holds each new key's first event that has a cost center: the
	-- one booked.
	--
	-- The keys go in first as a plain insert: nearly every batch holds
	-- only new ids, and ON CONFLICT's speculative insertion costs about
	-- twice a plain one. A key already there (a retry, or a batch
	-- committing beside this one) makes the plain insert fail as a whole;
	-- the statement then runs again with ON CONFLICT DO NOTHING, which
	-- books the new keys and leaves the others to the outcome query.
	v_sql := $q$
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
		%s
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
		SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, cc, provider,
		    model, count(*) AS events, count(new.unpriced) AS unpriced,
		    sum(list_cost)::bigint AS list_cost, sum(new.cost)::bigint AS cost
		FROM new GROUP BY 1, 2, 3, 4
	), rm AS (
		SELECT (new.occurred_at AT TIME ZONE 'UTC')::date AS day, new.cc,
		    new.provider, new.model, l.meter, sum(l.q)::bigint AS q,
		    sum(l.l)::bigint AS l, sum(l.c)::bigint AS c
		FROM new JOIN unnest($1::int[], $2::text[], $3::bigint[],
		    $4::bigint[], $5::bigint[]) AS l (n, meter, q, l, c)
		    ON l.n = new.n
		GROUP BY 1, 2, 3, 4, 5
	)
	SELECT coalesce(array_agg(new.n), '{}'), coalesce(array_agg(new.id), '{}'),
	    array_agg(new.occurred_at), array_agg(new.cc),
	    array_agg(new.provider), array_agg(new.cost),
	    (SELECT array_agg(ROW(rd.day, rd.cc, rd.provider, rd.model,
	        rd.events, rd.unpriced, rd.list_cost,
	        rd.cost)::usage_daily_delta) FROM rd),
	    (SELECT array_agg(ROW(rm.day, rm.cc, rm.provider, rm.model,
	        rm.meter, rm.q, rm.l, rm.c)::usage_meters_delta) FROM rm)
	FROM new
	$q$;
	BEGIN
		EXECUTE format(v_sql, '')
		INTO v_n, v_ids, v_at, v_cc, v_provider, v_cost, v_rd, v_rm
		USING p_m_n, p_m_meter, p_m_q, p_m_l, p_m_c;
	EXCEPTION WHEN unique_violation THEN
		EXECUTE format(v_sql,
		    'ON CONFLICT (kind, idempotency_key) DO NOTHING')
		INTO v_n, v_ids, v_at, v_cc, v_provider, v_cost, v_rd, v_rm
		USING p_m_n, p_m_meter, p_m_q, p_m_l, p_m_c;
	END;
	PERFORM ledger_post_usage(v_ids, v_at, v_cc, v_provider, v_cost);

	-- The rollups last, so that their rows, which every batch of the
	-- same cost centers and day updates, stay locked only from here to
	-- the commit: a batch committing beside this one waits for them
	-- only at its own end. In key order, so that two never wait on each
	-- other in a circle.
	INSERT INTO usage_daily AS d (day, cost_center, provider, model,
	    events, unpriced, list_cost, cost)
	SELECT x.day, x.cost_center, x.provider, x.model, x.events, x.unpriced,
	    x.list_cost, x.cost
	FROM unnest(v_rd) AS x
	ORDER BY 1, 2, 3, 4
	ON CONFLICT (day, cost_center, provider, model) DO UPDATE SET
	    events = d.events + excluded.events,
	    unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost;
	INSERT INTO usage_daily_meters AS d (day, cost_center, provider,
	    model, meter, quantity, list_cost, cost)
	SELECT x.day, x.cost_center, x.provider, x.model, x.meter, x.quantity,
	    x.list_cost, x.cost
	FROM unnest(v_rm) AS x
	ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (day, cost_center, provider, model, meter) DO UPDATE
	SET quantity = d.quantity + excluded.quantity,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost;

	-- An event booked here is answered from its own row. Any other looks
	-- its key up: booked before (or earlier in this batch) with the same
	-- hash is a duplicate, with another a conflict; an event whose key is
	-- unknown and that has no cost center is rejected. A duplicate
	-- answers its transaction's cost with the corrections booked since.
	-- OFFSET 0 keeps the planner from flattening the lookups into a join
	-- over the whole of ledger_keys; so shaped, one cached plan serves
	-- every batch size (planning it each time cost 0.2 ms a batch).
	RETURN QUERY
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
	LEFT JOIN unnest(v_n, v_ids) AS r (n, id) ON r.n = e.n
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
	ORDER BY e.n;
END $$;

-- The same booking from rows in JSON ([{n, key, hash, occurred_at, cc,
-- kcc, provider, model, tier, user, tags, key_id, pv, unpriced,
-- list_cost, cost, reported_cost, status, latency_ms, reservation_id, q,
-- m: [{meter, q, l, c}]}]), as the spool keeps them: turned into columns
-- and booked by usage_ingest_cols(); each row answers with its own n.
CREATE OR REPLACE FUNCTION usage_ingest(p jsonb, p_auto_create boolean)
RETURNS TABLE (n int, status text, transaction_id bigint, cost bigint,
    unpriced text, cost_center text, occurred_at timestamptz,
    provider text, model text, user_id text, tags jsonb,
    reservation_id text)
LANGUAGE sql AS $$
	WITH e AS (
		SELECT e.*, (row_number() OVER (ORDER BY e.n) - 1)::int AS i
		FROM jsonb_to_recordset(p) AS e (n int, key text, hash text,
		    occurred_at timestamptz, cc text, kcc text, provider text,
		    model text, tier text, "user" text, tags jsonb, key_id text,
		    pv bigint, unpriced text, list_cost bigint, cost bigint,
		    reported_cost bigint, status text, latency_ms bigint,
		    reservation_id text, q bigint[], m jsonb)
	), a AS (
		SELECT array_agg(e.n ORDER BY e.i) AS ns,
		    array_agg(e.key ORDER BY e.i) AS key,
		    array_agg(e.hash ORDER BY e.i) AS hash,
		    array_agg(e.occurred_at ORDER BY e.i) AS occurred_at,
		    array_agg(e.cc ORDER BY e.i) AS cc,
		    array_agg(e.kcc ORDER BY e.i) AS kcc,
		    array_agg(e.provider ORDER BY e.i) AS provider,
		    array_agg(e.model ORDER BY e.i) AS model,
		    array_agg(e.tier ORDER BY e.i) AS tier,
		    array_agg(e."user" ORDER BY e.i) AS usr,
		    array_agg(e.tags ORDER BY e.i) AS tags,
		    array_agg(e.key_id ORDER BY e.i) AS key_id,
		    array_agg(e.pv ORDER BY e.i) AS pv,
		    array_agg(e.unpriced ORDER BY e.i) AS unpriced,
		    array_agg(e.list_cost ORDER BY e.i) AS list_cost,
		    array_agg(e.cost ORDER BY e.i) AS cost,
		    array_agg(e.reported_cost ORDER BY e.i) AS reported_cost,
		    array_agg(e.status ORDER BY e.i) AS status,
		    array_agg(e.latency_ms ORDER BY e.i) AS latency_ms,
		    array_agg(e.reservation_id ORDER BY e.i) AS reservation_id,
		    array_agg(e.q::text ORDER BY e.i) AS q
		FROM e
	), m AS (
		SELECT coalesce(array_agg(e.i), '{}') AS n,
		    coalesce(array_agg(l.meter), '{}') AS meter,
		    coalesce(array_agg(l.q), '{}') AS q,
		    coalesce(array_agg(l.l), '{}') AS l,
		    coalesce(array_agg(l.c), '{}') AS c
		FROM e, jsonb_to_recordset(coalesce(e.m, '[]')) AS l (meter text,
		    q bigint, l bigint, c bigint)
	)
	SELECT a.ns[u.n + 1], u.status, u.transaction_id, u.cost, u.unpriced,
	    u.cost_center, u.occurred_at, u.provider, u.model, u.user_id,
	    u.tags, u.reservation_id
	FROM a, m, usage_ingest_cols(a.key, a.hash, a.occurred_at, a.cc, a.kcc,
	    a.provider, a.model, a.tier, a.usr, a.tags, a.key_id, a.pv,
	    a.unpriced, a.list_cost, a.cost, a.reported_cost, a.status,
	    a.latency_ms, a.reservation_id, a.q, m.n, m.meter, m.q, m.l, m.c,
	    p_auto_create) AS u
	WHERE a.key IS NOT NULL
	ORDER BY u.n
$$;

-- As in 0004, with the accounts named once per cost center and provider
-- rather than once per posting: building and de-duplicating two names
-- per event cost about 1 ms per 1000 events, for the two or three
-- accounts a batch touches.
CREATE OR REPLACE FUNCTION ledger_post_usage(p_ids bigint[],
    p_at timestamptz[], p_cc text[], p_provider text[], p_amount bigint[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO accounts (name, kind)
	SELECT a, split_part(a, ':', 1)
	FROM (SELECT DISTINCT 'expense:' || x.cc
	        FROM unnest(p_cc, p_amount) AS x (cc, amount)
	        WHERE x.amount <> 0
	    UNION
	    SELECT DISTINCT 'payable:' || x.provider
	        FROM unnest(p_provider, p_amount) AS x (provider, amount)
	        WHERE x.amount <> 0) AS y (a)
	WHERE NOT EXISTS (SELECT 1 FROM accounts c
	    WHERE c.name = y.a AND c.currency = 'USD')
	ORDER BY 1
	ON CONFLICT (name, currency) DO NOTHING;
	INSERT INTO postings (transaction_id, seq, account_id, amount,
	    occurred_at)
	SELECT x.id, s.seq, a.id, s.amount, x.at
	FROM unnest(p_ids, p_at, p_cc, p_provider, p_amount)
	        AS x (id, at, cc, provider, amount),
	    LATERAL (VALUES (0, 'expense:' || x.cc, x.amount),
	        (1, 'payable:' || x.provider, -x.amount)) AS s (seq, name, amount)
	JOIN accounts a ON a.name = s.name AND a.currency = 'USD'
	WHERE x.amount <> 0;
END $$;
