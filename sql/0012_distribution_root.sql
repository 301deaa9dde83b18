-- The distribution key: every ledger row carries `root`, the first segment
-- of the cost-center path its transaction books to (`eng` for
-- eng/search/ranker), so that when one primary is not enough the ledger
-- can be distributed with Citus by root (docs/scaling.md) without
-- rewriting a table: all rows of one transaction, and all of one cost
-- center's rows, then live on one node.
--
-- Which root a row has:
-- - usage events and the rollups (usage_daily, usage_daily_meters,
--   usage_cc_daily): their cost center's root;
-- - a usage transaction: its event's cost center's root;
-- - a correction (repricing): the root of the usage transaction it
--   corrects, so that an event and its corrections stay together (and a
--   correction of nothing, cost 0, still has one);
-- - an adjustment or a reallocation, which need not have a single cost
--   center: the root of its first expense posting (by seq, the order the
--   postings were given). For a reallocation that is its source (credited
--   first), whose lock and balance read already make the source the
--   allocation's home; a target of another root is then debited on the
--   source's node. A transaction that touches no expense account (a
--   payment to a provider, a credit, an opening balance) has the root ''
--   (no cost center has an empty id);
-- - postings, the idempotency key, the usage_corrections row, an
--   allocation and its parts: their transaction's root, never their own
--   account's or cost center's, so that a transaction never spans nodes.
--
-- Unique keys: Citus wants every primary key and unique constraint of a
-- distributed table to contain the distribution column. Where root is a
-- function of columns already in the key (the rollups' cost center, a
-- transaction's id, an allocation's id) it is added here: the same rows
-- are unique as before. ledger_keys keeps (kind, idempotency_key) alone:
-- with root in it, the same key could be booked once per root (a retry
-- whose cost center resolves elsewhere after a rule changed), which is
-- exactly what it exists to prevent; docs/scaling.md says what the move
-- does with it.
--
-- The backfill rewrites every ledger row once (an UPDATE, with the
-- append-only guards lifted for this transaction only): expect time and
-- space in proportion to the ledger, and vacuum afterwards.

-- The root of a cost-center path, and of a set of postings given as
-- account names (its first expense account's, '' without one). Writers
-- derive root with these from the cost centers and accounts they book,
-- so the server sends nothing new.
CREATE FUNCTION tg_root(p_cost_center text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT split_part(p_cost_center, '/', 1)
$$;

CREATE FUNCTION tg_postings_root(p_accounts text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT coalesce((SELECT tg_root(substr(x.a, 9))
	    FROM unnest(p_accounts) WITH ORDINALITY AS x (a, i)
	    WHERE x.a LIKE 'expense:%' ORDER BY x.i LIMIT 1), '')
$$;

ALTER TABLE transactions ADD COLUMN root text;
ALTER TABLE postings ADD COLUMN root text;
ALTER TABLE ledger_keys ADD COLUMN root text;
ALTER TABLE usage_events ADD COLUMN root text;
ALTER TABLE usage_corrections ADD COLUMN root text;
ALTER TABLE usage_daily ADD COLUMN root text;
ALTER TABLE usage_daily_meters ADD COLUMN root text;
ALTER TABLE usage_cc_daily ADD COLUMN root text;
ALTER TABLE allocations ADD COLUMN root text;
ALTER TABLE allocation_parts ADD COLUMN root text;

-- Filling a column is not editing history, but the guards cannot tell.
-- The rollup-follow triggers would only add zeros.
ALTER TABLE transactions DISABLE TRIGGER transactions_append_only;
ALTER TABLE postings DISABLE TRIGGER postings_append_only;
ALTER TABLE ledger_keys DISABLE TRIGGER ledger_keys_append_only;
ALTER TABLE allocations DISABLE TRIGGER allocations_append_only;
ALTER TABLE allocation_parts DISABLE TRIGGER allocation_parts_append_only;
ALTER TABLE usage_daily DISABLE TRIGGER usage_cc_daily_update;
ALTER TABLE usage_daily_meters DISABLE TRIGGER usage_cc_daily_meters_update;

UPDATE usage_events SET root = tg_root(cost_center);
UPDATE usage_daily SET root = tg_root(cost_center);
UPDATE usage_daily_meters SET root = tg_root(cost_center);
UPDATE usage_cc_daily SET root = tg_root(cost_center);

-- Transactions set-based by kind (a join each), each row written once.
UPDATE transactions t SET root = u.root
FROM usage_events u
WHERE t.kind = 'usage' AND u.transaction_id = t.id;
UPDATE transactions t SET root = u.root
FROM usage_events u
WHERE t.kind = 'correction' AND u.transaction_id = t.corrects;
-- Adjustments and reallocations (few), and any usage or correction whose
-- event is missing (verify reports those as orphans).
UPDATE transactions t SET root = coalesce((
	SELECT tg_root(substr(a.name, 9))
	FROM postings p JOIN accounts a ON a.id = p.account_id
	WHERE p.transaction_id = t.id AND p.occurred_at = t.occurred_at
	  AND a.kind = 'expense'
	ORDER BY p.seq LIMIT 1), '')
WHERE t.root IS NULL;

UPDATE postings p SET root = t.root
FROM transactions t
WHERE t.id = p.transaction_id AND t.occurred_at = p.occurred_at;
UPDATE ledger_keys k SET root = t.root
FROM transactions t
WHERE t.id = k.transaction_id AND t.occurred_at = k.occurred_at;
UPDATE usage_corrections c SET root = u.root
FROM usage_events u
WHERE u.transaction_id = c.corrects;
UPDATE allocations a SET root = t.root
FROM transactions t
WHERE t.id = a.transaction_id AND t.occurred_at = a.occurred_at;
-- Rows whose transaction is missing (orphans, which verify names) get
-- the root their own columns suggest, so that NOT NULL can hold.
UPDATE postings p SET root = coalesce((SELECT CASE WHEN a.kind = 'expense'
    THEN tg_root(substr(a.name, 9)) END
    FROM accounts a WHERE a.id = p.account_id), '')
WHERE p.root IS NULL;
UPDATE ledger_keys SET root = '' WHERE root IS NULL;
UPDATE usage_corrections SET root = '' WHERE root IS NULL;
UPDATE allocations SET root = tg_root(source) WHERE root IS NULL;
UPDATE allocation_parts p SET root = coalesce((SELECT a.root
    FROM allocations a WHERE a.id = p.allocation_id), '');

ALTER TABLE transactions ENABLE TRIGGER transactions_append_only;
ALTER TABLE postings ENABLE TRIGGER postings_append_only;
ALTER TABLE ledger_keys ENABLE TRIGGER ledger_keys_append_only;
ALTER TABLE allocations ENABLE TRIGGER allocations_append_only;
ALTER TABLE allocation_parts ENABLE TRIGGER allocation_parts_append_only;
ALTER TABLE usage_daily ENABLE TRIGGER usage_cc_daily_update;
ALTER TABLE usage_daily_meters ENABLE TRIGGER usage_cc_daily_meters_update;

-- No default: a writer that forgets root fails instead of booking rows
-- that a distributed ledger would put on the wrong node.
ALTER TABLE transactions ALTER COLUMN root SET NOT NULL;
ALTER TABLE postings ALTER COLUMN root SET NOT NULL;
ALTER TABLE ledger_keys ALTER COLUMN root SET NOT NULL;
ALTER TABLE usage_events ALTER COLUMN root SET NOT NULL;
ALTER TABLE usage_corrections ALTER COLUMN root SET NOT NULL;
ALTER TABLE usage_daily ALTER COLUMN root SET NOT NULL;
ALTER TABLE usage_daily_meters ALTER COLUMN root SET NOT NULL;
ALTER TABLE usage_cc_daily ALTER COLUMN root SET NOT NULL;
ALTER TABLE allocations ALTER COLUMN root SET NOT NULL;
ALTER TABLE allocation_parts ALTER COLUMN root SET NOT NULL;

-- The keys with root, last so that lookups by the old columns still use
-- them as a prefix. ON CONFLICT targets below name root accordingly.
ALTER TABLE transactions DROP CONSTRAINT transactions_pkey,
	ADD PRIMARY KEY (id, occurred_at, root);
ALTER TABLE postings DROP CONSTRAINT postings_pkey,
	ADD PRIMARY KEY (transaction_id, seq, occurred_at, root);
-- A correction has its event's root, so the foreign key can say so.
ALTER TABLE usage_corrections DROP CONSTRAINT usage_corrections_corrects_fkey;
ALTER TABLE usage_events DROP CONSTRAINT usage_events_pkey,
	ADD PRIMARY KEY (transaction_id, root);
ALTER TABLE usage_corrections DROP CONSTRAINT usage_corrections_pkey,
	ADD PRIMARY KEY (transaction_id, root),
	ADD FOREIGN KEY (corrects, root)
	    REFERENCES usage_events (transaction_id, root);
ALTER TABLE usage_daily DROP CONSTRAINT usage_daily_pkey,
	ADD PRIMARY KEY (day, cost_center, provider, model, root);
ALTER TABLE usage_daily_meters DROP CONSTRAINT usage_daily_meters_pkey,
	ADD PRIMARY KEY (day, cost_center, provider, model, meter, root);
ALTER TABLE usage_cc_daily DROP CONSTRAINT usage_cc_daily_pkey,
	ADD PRIMARY KEY (day, cost_center, root);
-- An allocation's id stays unique across roots all the same: it is also
-- its reallocation's idempotency key in ledger_keys, and allocation_book
-- answers conflict when ledger_post finds it there.
ALTER TABLE allocations DROP CONSTRAINT allocations_pkey,
	ADD PRIMARY KEY (id, root);
ALTER TABLE allocation_parts DROP CONSTRAINT allocation_parts_pkey,
	DROP CONSTRAINT allocation_parts_allocation_id_cost_center_key,
	ADD PRIMARY KEY (allocation_id, seq, root),
	ADD UNIQUE (allocation_id, cost_center, root);

-- As in 0004, with the transaction's root on the key, the transaction and
-- its postings.
CREATE OR REPLACE FUNCTION ledger_post(p_kind text, p_key text, p_hash bytea,
    p_occurred_at timestamptz, p_memo text, p_created_by text,
    p_accounts text[], p_amounts bigint[])
RETURNS TABLE (status text, transaction_id bigint, recorded_at timestamptz,
    occurred_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
	v_hash bytea;
	v_at timestamptz;
	v_occ timestamptz;
	v_root text := tg_postings_root(p_accounts);
BEGIN
	IF cardinality(p_accounts) IS DISTINCT FROM cardinality(p_amounts) THEN
		RAISE EXCEPTION 'accounts and amounts differ in length'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO ledger_keys AS k (kind, idempotency_key, transaction_id,
	    occurred_at, request_hash, root)
	VALUES (p_kind, p_key, nextval('ledger_transaction_ids'), p_occurred_at,
	    p_hash, v_root)
	ON CONFLICT (kind, idempotency_key) DO NOTHING
	RETURNING k.transaction_id INTO v_id;
	IF v_id IS NULL THEN
		SELECT k.transaction_id, k.request_hash, k.occurred_at
		INTO v_id, v_hash, v_occ
		FROM ledger_keys k
		WHERE k.kind = p_kind AND k.idempotency_key = p_key;
		SELECT t.recorded_at INTO v_at FROM transactions t
		WHERE t.id = v_id AND t.occurred_at = v_occ;
		RETURN QUERY SELECT CASE WHEN v_hash = p_hash THEN 'duplicate'
		    ELSE 'conflict' END, v_id, v_at, v_occ;
		RETURN;
	END IF;
	INSERT INTO transactions AS t (id, kind, idempotency_key, occurred_at,
	    memo, created_by, root)
	VALUES (v_id, p_kind, p_key, p_occurred_at, p_memo, p_created_by, v_root)
	RETURNING t.recorded_at INTO v_at;
	INSERT INTO accounts (name, kind)
	SELECT DISTINCT a, split_part(a, ':', 1) FROM unnest(p_accounts) AS a
	ON CONFLICT (name, currency) DO NOTHING;
	INSERT INTO postings (transaction_id, seq, account_id, amount,
	    occurred_at, root)
	SELECT v_id, i - 1, acc.id, p_amounts[i], p_occurred_at, v_root
	FROM generate_subscripts(p_accounts, 1) AS i
	JOIN accounts acc ON acc.name = p_accounts[i] AND acc.currency = 'USD';
	RETURN QUERY SELECT 'recorded'::text, v_id, v_at, p_occurred_at;
END $$;

-- As in 0010, with each transaction's root: its postings take it from
-- there (a correction's is its event's), not from the account booked.
DROP FUNCTION ledger_post_usage(bigint[], timestamptz[], text[], text[],
    bigint[]);
CREATE FUNCTION ledger_post_usage(p_ids bigint[], p_at timestamptz[],
    p_root text[], p_cc text[], p_provider text[], p_amount bigint[])
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
	    occurred_at, root)
	SELECT x.id, s.seq, a.id, s.amount, x.at, x.root
	FROM unnest(p_ids, p_at, p_root, p_cc, p_provider, p_amount)
	        AS x (id, at, root, cc, provider, amount),
	    LATERAL (VALUES (0, 'expense:' || x.cc, x.amount),
	        (1, 'payable:' || x.provider, -x.amount)) AS s (seq, name, amount)
	JOIN accounts a ON a.name = s.name AND a.currency = 'USD'
	WHERE x.amount <> 0;
END $$;

-- As in 0010, with root computed once per event from its resolved cost
-- center (ev), and for the rollups from theirs. The session's ingest_rows
-- table is unchanged, so a server running across this migration keeps
-- its own.
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
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_n int[];
	v_ids bigint[];
	v_at timestamptz[];
	v_root text[];
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

	-- See 0010 for why this is planned at every call and tried first
	-- without ON CONFLICT.
	v_sql := $q$
	WITH ev AS (
		SELECT DISTINCT ON (e.key) e.*, tg_root(e.cc) AS root
		FROM ingest_rows e
		WHERE e.cc_status IS NULL
		ORDER BY e.key, e.n
	), ins AS (
		INSERT INTO ledger_keys AS k (kind, idempotency_key,
		    transaction_id, occurred_at, request_hash, root)
		SELECT 'usage', ev.key, nextval('ledger_transaction_ids'),
		    ev.occurred_at, decode(ev.hash, 'hex'), ev.root
		FROM ev ORDER BY ev.key
		%s
		RETURNING k.transaction_id AS id, k.idempotency_key
	), new AS (
		SELECT ins.id, ev.* FROM ins JOIN ev ON ev.key = ins.idempotency_key
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
		    reservation_id, q, root
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
	    array_agg(new.occurred_at), array_agg(new.root), array_agg(new.cc),
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
		INTO v_n, v_ids, v_at, v_root, v_cc, v_provider, v_cost, v_rd,
		    v_rm
		USING p_m_n, p_m_meter, p_m_q, p_m_l, p_m_c;
	EXCEPTION WHEN unique_violation THEN
		EXECUTE format(v_sql,
		    'ON CONFLICT (kind, idempotency_key) DO NOTHING')
		INTO v_n, v_ids, v_at, v_root, v_cc, v_provider, v_cost, v_rd,
		    v_rm
		USING p_m_n, p_m_meter, p_m_q, p_m_l, p_m_c;
	END;
	PERFORM ledger_post_usage(v_ids, v_at, v_root, v_cc, v_provider,
	    v_cost);

	-- The rollups last and in key order, as in 0010.
	INSERT INTO usage_daily AS d (day, cost_center, provider, model, root,
	    events, unpriced, list_cost, cost)
	SELECT x.day, x.cost_center, x.provider, x.model, tg_root(x.cost_center),
	    x.events, x.unpriced, x.list_cost, x.cost
	FROM unnest(v_rd) AS x
	ORDER BY 1, 2, 3, 4
	ON CONFLICT (day, cost_center, provider, model, root) DO UPDATE SET
	    events = d.events + excluded.events,
	    unpriced = d.unpriced + excluded.unpriced,
	    list_cost = d.list_cost + excluded.list_cost,
	    cost = d.cost + excluded.cost;
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

	-- The outcome of each event, as in 0010.
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

-- As in 0004, with each correction in its event's root (read from the
-- event, not from the cost center the caller names).
CREATE OR REPLACE FUNCTION usage_reprice(p jsonb)
RETURNS TABLE (transaction_id bigint, corrects bigint, cost_delta bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_ids bigint[];
	v_at timestamptz[];
	v_root text[];
	v_cc text[];
	v_provider text[];
	v_cost bigint[];
BEGIN
	WITH ev AS (
		SELECT e.*, u.occurred_at, u.root
		FROM jsonb_to_recordset(p) AS e (tx bigint, key text,
		    cc text, provider text, model text, day date, pv bigint,
		    was_unpriced boolean, list_delta bigint, cost_delta bigint,
		    m jsonb)
		JOIN usage_events u ON u.transaction_id = e.tx
	), ins AS (
		INSERT INTO ledger_keys AS k (kind, idempotency_key,
		    transaction_id, occurred_at, request_hash, root)
		SELECT 'correction', ev.key, nextval('ledger_transaction_ids'),
		    ev.occurred_at, '\x'::bytea, ev.root
		FROM ev ORDER BY ev.key
		ON CONFLICT (kind, idempotency_key) DO NOTHING
		RETURNING k.transaction_id AS id, k.idempotency_key
	), new AS (
		SELECT ins.id, ev.* FROM ins JOIN ev ON ev.key = ins.idempotency_key
	), tx AS (
		INSERT INTO transactions (id, kind, idempotency_key, occurred_at,
		    corrects, memo, root)
		SELECT id, 'correction', key, occurred_at, tx,
		    'repriced with price version ' || pv, root
		FROM new
	), uc AS (
		INSERT INTO usage_corrections (transaction_id, corrects,
		    price_version, list_delta, cost_delta, was_unpriced, meters,
		    root)
		SELECT id, tx, pv, list_delta, cost_delta, was_unpriced, m, root
		FROM new
	), rd AS (
		UPDATE usage_daily d SET
		    unpriced = d.unpriced - x.unpriced,
		    list_cost = d.list_cost + x.list_delta,
		    cost = d.cost + x.cost_delta
		FROM (SELECT day, cc, provider, model,
		    count(*) FILTER (WHERE was_unpriced) AS unpriced,
		    sum(list_delta) AS list_delta, sum(cost_delta) AS cost_delta
		    FROM new GROUP BY 1, 2, 3, 4) x
		WHERE (d.day, d.cost_center, d.provider, d.model, d.root) =
		    (x.day, x.cc, x.provider, x.model, tg_root(x.cc))
	), rm AS (
		INSERT INTO usage_daily_meters AS d (day, cost_center, provider,
		    model, meter, root, quantity, list_cost, cost)
		SELECT new.day, new.cc, new.provider, new.model, l.meter,
		    tg_root(new.cc), 0, sum(l.l), sum(l.c)
		FROM new, jsonb_to_recordset(new.m) AS l (meter text, q bigint,
		    l bigint, c bigint)
		GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
		ON CONFLICT (day, cost_center, provider, model, meter, root)
		DO UPDATE
		SET list_cost = d.list_cost + excluded.list_cost,
		    cost = d.cost + excluded.cost
	)
	SELECT array_agg(new.id), array_agg(new.occurred_at),
	    array_agg(new.root), array_agg(new.cc), array_agg(new.provider),
	    array_agg(new.cost_delta)
	INTO v_ids, v_at, v_root, v_cc, v_provider, v_cost
	FROM new;
	PERFORM ledger_post_usage(v_ids, v_at, v_root, v_cc, v_provider,
	    v_cost);
	RETURN QUERY SELECT c.transaction_id, c.corrects, c.cost_delta
	FROM usage_corrections c WHERE c.transaction_id = ANY (v_ids);
END $$;

-- As in 0007, per root too (a function of the cost center).
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
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
		ON CONFLICT (day, cost_center, root) DO UPDATE SET
		    events = c.events + excluded.events,
		    unpriced = c.unpriced + excluded.unpriced,
		    list_cost = c.list_cost + excluded.list_cost,
		    cost = c.cost + excluded.cost;
	END IF;
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION usage_cc_daily_meters_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO usage_cc_daily AS c (day, cost_center, root,
		    quantities)
		SELECT day, cost_center, root, jsonb_object_agg(meter, q)
		FROM (SELECT day, cost_center, root, meter, sum(quantity) AS q
		    FROM new_rows GROUP BY 1, 2, 3, 4) m
		WHERE q <> 0
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
		ON CONFLICT (day, cost_center, root) DO UPDATE SET
		    quantities = tg_quantities_add(c.quantities, excluded.quantities);
	ELSE
		INSERT INTO usage_cc_daily AS c (day, cost_center, root,
		    quantities)
		SELECT day, cost_center, root, jsonb_object_agg(meter, q)
		FROM (SELECT day, cost_center, root, meter, sum(quantity) AS q
		    FROM (SELECT day, cost_center, root, meter, quantity
		        FROM new_rows
		        UNION ALL
		        SELECT day, cost_center, root, meter, -quantity
		        FROM old_rows) x
		    GROUP BY 1, 2, 3, 4) m
		WHERE q <> 0
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
		ON CONFLICT (day, cost_center, root) DO UPDATE SET
		    quantities = tg_quantities_add(c.quantities, excluded.quantities);
	END IF;
	RETURN NULL;
END $$;

-- As in 0006, with the allocation and its parts in the root of its
-- reallocation: its source's, which ledger_post derives from the source's
-- account, posted first.
CREATE OR REPLACE FUNCTION allocation_book(p jsonb, p_key text)
RETURNS TABLE (status text, allocation jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_id text := p ->> 'id';
	v_hash bytea := decode(p ->> 'hash', 'hex');
	v_from timestamptz := (p ->> 'from')::timestamptz;
	v_to timestamptz := (p ->> 'to')::timestamptz;
	v_root text := tg_root(p ->> 'source');
	v_old bytea;
	v_in record;
	v_post record;
	v_doc jsonb;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended(
	    'tollgate.allocation:' || (p ->> 'source'), 0));
	SELECT a.request_hash INTO v_old FROM allocations a WHERE a.id = v_id;
	IF FOUND THEN
		RETURN QUERY SELECT CASE WHEN v_old = v_hash THEN 'duplicate'
		    ELSE 'conflict' END, allocation_json(v_id);
		RETURN;
	END IF;
	SELECT * INTO v_in FROM allocation_inputs(p ->> 'source',
	    ARRAY(SELECT jsonb_array_elements(p -> 'targets') ->> 'cost_center'),
	    v_from, v_to);
	IF cardinality(v_in.missing) > 0
	    OR v_in.amount IS DISTINCT FROM (p ->> 'amount')::bigint
	    OR (p ->> 'method' = 'weighted' AND v_in.weights IS DISTINCT FROM
	        ARRAY(SELECT (x ->> 'weight')::bigint
	            FROM jsonb_array_elements(p -> 'targets') x)) THEN
		RETURN QUERY SELECT 'stale'::text, NULL::jsonb;
		RETURN;
	END IF;
	SELECT * INTO v_post FROM ledger_post('reallocation', v_id, v_hash,
	    v_from, coalesce(p ->> 'memo', ''), p_key,
	    ARRAY['expense:' || (p ->> 'source')] || ARRAY(
	        SELECT 'expense:' || (x ->> 'cost_center')
	        FROM jsonb_array_elements(p -> 'targets') WITH ORDINALITY
	            AS t (x, i)
	        WHERE (x ->> 'amount')::bigint <> 0 ORDER BY i),
	    ARRAY[-(p ->> 'amount')::bigint] || ARRAY(
	        SELECT (x ->> 'amount')::bigint
	        FROM jsonb_array_elements(p -> 'targets') WITH ORDINALITY
	            AS t (x, i)
	        WHERE (x ->> 'amount')::bigint <> 0 ORDER BY i));
	IF v_post.status <> 'recorded' THEN
		-- Booked meanwhile under this id (by a request that held the
		-- lock of another source), or the key names an older
		-- reallocation without a record here.
		RETURN QUERY SELECT 'conflict'::text, allocation_json(v_id);
		RETURN;
	END IF;
	INSERT INTO allocations (id, transaction_id, occurred_at, source,
	    period_from, period_to, method, amount, request_hash, created_by,
	    root)
	VALUES (v_id, v_post.transaction_id, v_from, p ->> 'source', v_from,
	    v_to, p ->> 'method', (p ->> 'amount')::bigint, v_hash, p_key,
	    v_root);
	INSERT INTO allocation_parts (allocation_id, seq, cost_center, weight,
	    amount, ratio, root)
	SELECT v_id, i - 1, x ->> 'cost_center', (x ->> 'weight')::bigint,
	    (x ->> 'amount')::bigint, (x ->> 'ratio')::numeric, v_root
	FROM jsonb_array_elements(p -> 'targets') WITH ORDINALITY AS t (x, i);
	v_doc := allocation_json(v_id);
	INSERT INTO audit_log (key_id, action, entity, entity_id, before, after)
	VALUES (p_key, 'create', 'allocation', v_id, NULL, v_doc);
	RETURN QUERY SELECT 'recorded'::text, v_doc;
END $$;
