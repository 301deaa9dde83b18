-- Transactions and postings partitioned by month of occurred_at, with
-- idempotency in a table of its own.
--
-- A partitioned table's unique keys must contain the partition key, so
-- (kind, idempotency key) moves to ledger_keys, which also remembers the
-- request hash (for duplicate / conflict answers) and where the
-- transaction lives. Postings carry their transaction's occurred_at, so a
-- month's postings sit in that month's partition and a window of the
-- ledger is read without touching the others.
--
-- The per-row foreign keys of postings and transactions go: on the ingest
-- path they cost a lookup per posting, and every row they pointed to is
-- written by the same statement or never deleted (accounts become
-- append-only here, keys are revoked, not deleted). GET /v1/ledger/verify
-- reports rows that point nowhere.
--
-- Months without a partition of their own (far past or future) land in a
-- default partition; ledger_partitions_ensure creates the months ahead,
-- called by every migration run and daily by the server.

CREATE SEQUENCE ledger_transaction_ids AS bigint;
SELECT setval('ledger_transaction_ids',
    coalesce((SELECT max(id) FROM transactions), 0) + 1, false);

CREATE TABLE ledger_keys (
	kind            text NOT NULL,
	idempotency_key text NOT NULL,
	transaction_id  bigint NOT NULL,
	occurred_at     timestamptz NOT NULL,
	request_hash    bytea NOT NULL,
	PRIMARY KEY (kind, idempotency_key)
);
INSERT INTO ledger_keys
SELECT kind, idempotency_key, id, occurred_at, request_hash FROM transactions;

ALTER TABLE usage_corrections
	DROP CONSTRAINT usage_corrections_transaction_id_fkey;
ALTER TABLE transactions RENAME TO transactions_0003;
ALTER TABLE transactions_0003 RENAME CONSTRAINT transactions_pkey
	TO transactions_0003_pkey;
ALTER INDEX transactions_occurred_at RENAME TO transactions_0003_occurred_at;
ALTER TABLE postings RENAME TO postings_0003;
ALTER TABLE postings_0003 RENAME CONSTRAINT postings_pkey TO postings_0003_pkey;
ALTER INDEX postings_account RENAME TO postings_0003_account;

CREATE TABLE transactions (
	id              bigint NOT NULL DEFAULT nextval('ledger_transaction_ids'),
	kind            text NOT NULL CHECK (kind IN ('adjustment', 'usage',
	                    'correction', 'reallocation')),
	-- The key stays on the transaction too, so that a month detached
	-- for archiving still says which requests it holds.
	idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
	occurred_at     timestamptz NOT NULL,
	recorded_at     timestamptz NOT NULL DEFAULT now(),
	memo            text NOT NULL DEFAULT '',
	created_by      text,
	corrects        bigint,
	PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
ALTER SEQUENCE ledger_transaction_ids OWNED BY transactions.id;

CREATE TABLE postings (
	transaction_id bigint NOT NULL,
	seq            smallint NOT NULL CHECK (seq >= 0),
	account_id     bigint NOT NULL,
	amount         bigint NOT NULL CHECK (amount <> 0),
	occurred_at    timestamptz NOT NULL,	-- its transaction's
	PRIMARY KEY (transaction_id, seq, occurred_at)
) PARTITION BY RANGE (occurred_at);
-- Balances: an account's postings over a window.
CREATE INDEX postings_account ON postings (account_id, occurred_at);

CREATE TABLE transactions_default PARTITION OF transactions DEFAULT;
CREATE TABLE postings_default PARTITION OF postings DEFAULT;

-- Create the monthly partitions (UTC months) that [p_from, p_to) touches
-- and that do not exist yet. A month whose rows already sit in a default
-- partition is left there: moving them would lock the ledger for the
-- length of the copy. Returns how many months were created.
CREATE FUNCTION ledger_partitions_ensure(p_from timestamptz, p_to timestamptz)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	v_month timestamp := date_trunc('month', p_from AT TIME ZONE 'UTC');
	v_lo text;
	v_hi text;
	v_n int := 0;
BEGIN
	-- Two servers starting together must not race to create the same
	-- partition.
	PERFORM pg_advisory_xact_lock(hashtext('tollgate.ledger_partitions'));
	WHILE v_month < p_to AT TIME ZONE 'UTC' LOOP
		v_lo := to_char(v_month, 'YYYY-MM-DD') || ' 00:00:00+00';
		v_hi := to_char(v_month + interval '1 month', 'YYYY-MM-DD') ||
		    ' 00:00:00+00';
		IF to_regclass('transactions_' || to_char(v_month, 'YYYY_MM'))
		    IS NULL AND NOT EXISTS (SELECT 1 FROM transactions_default
		    WHERE occurred_at >= v_lo::timestamptz
		      AND occurred_at < v_hi::timestamptz)
		    AND NOT EXISTS (SELECT 1 FROM postings_default
		    WHERE occurred_at >= v_lo::timestamptz
		      AND occurred_at < v_hi::timestamptz) THEN
			EXECUTE format('CREATE TABLE %I PARTITION OF transactions '
			    'FOR VALUES FROM (%L) TO (%L)',
			    'transactions_' || to_char(v_month, 'YYYY_MM'), v_lo, v_hi);
			EXECUTE format('CREATE TABLE %I PARTITION OF postings '
			    'FOR VALUES FROM (%L) TO (%L)',
			    'postings_' || to_char(v_month, 'YYYY_MM'), v_lo, v_hi);
			v_n := v_n + 1;
		END IF;
		v_month := v_month + interval '1 month';
	END LOOP;
	RETURN v_n;
END $$;

-- The months the ledger already has, and the year ahead.
SELECT ledger_partitions_ensure(m, m + interval '1 month')
FROM (SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')
    AT TIME ZONE 'UTC' AS m FROM transactions_0003) x;
SELECT ledger_partitions_ensure(now() - interval '1 month',
    now() + interval '12 months');

-- The zero-sum check reads only the rows the statement inserted: each
-- statement's postings for a transaction must balance per currency with
-- at least two of them, so the sum over all of a transaction's postings
-- is zero whatever the number of statements. Reading the partitions
-- instead would cost an index probe per partition per transaction.
CREATE OR REPLACE FUNCTION ledger_postings_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_bad record;
BEGIN
	SELECT p.transaction_id AS tx, a.currency, count(*) AS n,
	    sum(p.amount) AS total INTO v_bad
	FROM new_rows p LEFT JOIN accounts a ON a.id = p.account_id
	GROUP BY p.transaction_id, a.currency
	HAVING sum(p.amount) <> 0 OR count(*) < 2 OR a.currency IS NULL
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'postings of transaction % do not balance in %: % postings summing to %',
		    v_bad.tx, coalesce(v_bad.currency, 'an unknown account'),
		    v_bad.n, v_bad.total
		    USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
	END IF;
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION ledger_tx_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_n bigint;
BEGIN
	SELECT count(*) INTO v_n FROM postings
	WHERE transaction_id = NEW.id AND occurred_at = NEW.occurred_at;
	IF v_n < 2 THEN
		RAISE EXCEPTION 'transaction % has % postings; at least 2 are needed', NEW.id, v_n
		    USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
	END IF;
	RETURN NULL;
END $$;
DROP FUNCTION ledger_check_balanced(bigint);

INSERT INTO transactions (id, kind, idempotency_key, occurred_at,
    recorded_at, memo, created_by, corrects)
SELECT id, kind, idempotency_key, occurred_at, recorded_at, memo,
    created_by, corrects
FROM transactions_0003;
INSERT INTO postings (transaction_id, seq, account_id, amount, occurred_at)
SELECT p.transaction_id, p.seq, p.account_id, p.amount, t.occurred_at
FROM postings_0003 p JOIN transactions_0003 t ON t.id = p.transaction_id;
DROP TABLE postings_0003;
DROP TABLE transactions_0003;

CREATE CONSTRAINT TRIGGER transactions_balanced AFTER INSERT ON transactions
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
	WHEN (NEW.kind NOT IN ('usage', 'correction'))
	EXECUTE FUNCTION ledger_tx_balanced();
CREATE TRIGGER postings_balanced AFTER INSERT ON postings
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION ledger_postings_balanced();

CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON transactions
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER transactions_no_truncate BEFORE TRUNCATE ON transactions
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_keys_append_only BEFORE UPDATE OR DELETE ON ledger_keys
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_keys_no_truncate BEFORE TRUNCATE ON ledger_keys
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER accounts_append_only BEFORE UPDATE OR DELETE ON accounts
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- Usage and its corrections book cost the same way: debit
-- expense:<cost center>, credit payable:<provider>, accounts created on
-- first use. Amounts of zero book nothing.
CREATE FUNCTION ledger_post_usage(p_ids bigint[], p_at timestamptz[],
    p_cc text[], p_provider text[], p_amount bigint[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO accounts (name, kind)
	SELECT DISTINCT a, split_part(a, ':', 1)
	FROM unnest(p_cc, p_provider, p_amount) AS x (cc, provider, amount),
	    LATERAL (VALUES ('expense:' || x.cc), ('payable:' || x.provider))
	        AS y (a)
	WHERE x.amount <> 0
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
BEGIN
	IF cardinality(p_accounts) IS DISTINCT FROM cardinality(p_amounts) THEN
		RAISE EXCEPTION 'accounts and amounts differ in length'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO ledger_keys AS k (kind, idempotency_key, transaction_id,
	    occurred_at, request_hash)
	VALUES (p_kind, p_key, nextval('ledger_transaction_ids'), p_occurred_at,
	    p_hash)
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
	    memo, created_by)
	VALUES (v_id, p_kind, p_key, p_occurred_at, p_memo, p_created_by)
	RETURNING t.recorded_at INTO v_at;
	INSERT INTO accounts (name, kind)
	SELECT DISTINCT a, split_part(a, ':', 1) FROM unnest(p_accounts) AS a
	ON CONFLICT (name, currency) DO NOTHING;
	INSERT INTO postings (transaction_id, seq, account_id, amount,
	    occurred_at)
	SELECT v_id, i - 1, acc.id, p_amounts[i], p_occurred_at
	FROM generate_subscripts(p_accounts, 1) AS i
	JOIN accounts acc ON acc.name = p_accounts[i] AND acc.currency = 'USD';
	RETURN QUERY SELECT 'recorded'::text, v_id, v_at, p_occurred_at;
END $$;

-- The booking functions, with the keys in ledger_keys and the postings
-- booked by ledger_post_usage. They also return what they booked: for
-- each event its resolved cost center and dimensions, for repricing each
-- correction, so that the server's budgets follow the ledger.
DROP FUNCTION usage_ingest(jsonb, boolean);
DROP FUNCTION usage_reprice(jsonb);

-- A correction's per-meter deltas ([{meter, q, l, c}]), so that the
-- chargeback shows corrections as rows of their own; NULL for the
-- corrections booked before.
ALTER TABLE usage_corrections ADD COLUMN meters jsonb;

CREATE FUNCTION usage_ingest(p jsonb, p_auto_create boolean)
RETURNS TABLE (n int, status text, transaction_id bigint, cost bigint,
    unpriced text, cost_center text, occurred_at timestamptz,
    provider text, model text, user_id text, tags jsonb,
    reservation_id text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_new text[];
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

	CREATE TEMP TABLE IF NOT EXISTS ingest_batch (n int, key text,
	    hash text, occurred_at timestamptz, cc text, provider text,
	    model text, tier text, "user" text, tags jsonb, key_id text,
	    pv bigint, unpriced text, list_cost bigint, cost bigint,
	    reported_cost bigint, status text, latency_ms bigint,
	    reservation_id text, q bigint[], m jsonb, cc_status text)
	    ON COMMIT DELETE ROWS;
	INSERT INTO ingest_batch
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
	EXECUTE $q$
	WITH ev AS (
		SELECT DISTINCT ON (e.key) e.*
		FROM ingest_batch e
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
	SELECT coalesce(array_agg(new.key), '{}'), array_agg(new.id),
	    array_agg(new.occurred_at), array_agg(new.cc),
	    array_agg(new.provider), array_agg(new.cost)
	FROM new
	$q$ INTO v_new, v_ids, v_at, v_cc, v_provider, v_cost;
	PERFORM ledger_post_usage(v_ids, v_at, v_cc, v_provider, v_cost);

	RETURN QUERY EXECUTE $q$
	SELECT e.n,
	    CASE WHEN e.key = ANY ($1) AND e.n = min(e.n) FILTER (WHERE
	            e.cc_status IS NULL) OVER (PARTITION BY e.key)
	        THEN 'recorded'
	        WHEN k.transaction_id IS NOT NULL
	            AND k.request_hash = decode(e.hash, 'hex')
	        THEN 'duplicate'
	        WHEN k.transaction_id IS NOT NULL THEN 'conflict'
	        ELSE e.cc_status END,
	    k.transaction_id,
	    (u.cost + coalesce((SELECT sum(c.cost_delta) FROM usage_corrections c
	        WHERE c.corrects = k.transaction_id), 0))::bigint,
	    u.unpriced, e.cc, e.occurred_at, e.provider, e.model, e."user",
	    e.tags, e.reservation_id
	FROM ingest_batch e
	LEFT JOIN ledger_keys k ON k.kind = 'usage' AND k.idempotency_key = e.key
	LEFT JOIN usage_events u ON u.transaction_id = k.transaction_id
	ORDER BY e.n
	$q$ USING v_new;
END $$;

CREATE FUNCTION usage_reprice(p jsonb)
RETURNS TABLE (transaction_id bigint, corrects bigint, cost_delta bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_ids bigint[];
	v_at timestamptz[];
	v_cc text[];
	v_provider text[];
	v_cost bigint[];
BEGIN
	WITH ev AS (
		SELECT e.*, u.occurred_at
		FROM jsonb_to_recordset(p) AS e (tx bigint, key text,
		    cc text, provider text, model text, day date, pv bigint,
		    was_unpriced boolean, list_delta bigint, cost_delta bigint,
		    m jsonb)
		JOIN usage_events u ON u.transaction_id = e.tx
	), ins AS (
		INSERT INTO ledger_keys AS k (kind, idempotency_key,
		    transaction_id, occurred_at, request_hash)
		SELECT 'correction', ev.key, nextval('ledger_transaction_ids'),
		    ev.occurred_at, '\x'::bytea
		FROM ev ORDER BY ev.key
		ON CONFLICT (kind, idempotency_key) DO NOTHING
		RETURNING k.transaction_id AS id, k.idempotency_key
	), new AS (
		SELECT ins.id, ev.* FROM ins JOIN ev ON ev.key = ins.idempotency_key
	), tx AS (
		INSERT INTO transactions (id, kind, idempotency_key, occurred_at,
		    corrects, memo)
		SELECT id, 'correction', key, occurred_at, tx,
		    'repriced with price version ' || pv
		FROM new
	), uc AS (
		INSERT INTO usage_corrections (transaction_id, corrects,
		    price_version, list_delta, cost_delta, was_unpriced, meters)
		SELECT id, tx, pv, list_delta, cost_delta, was_unpriced, m FROM new
	), rd AS (
		UPDATE usage_daily d SET
		    unpriced = d.unpriced - x.unpriced,
		    list_cost = d.list_cost + x.list_delta,
		    cost = d.cost + x.cost_delta
		FROM (SELECT day, cc, provider, model,
		    count(*) FILTER (WHERE was_unpriced) AS unpriced,
		    sum(list_delta) AS list_delta, sum(cost_delta) AS cost_delta
		    FROM new GROUP BY 1, 2, 3, 4) x
		WHERE (d.day, d.cost_center, d.provider, d.model) =
		    (x.day, x.cc, x.provider, x.model)
	), rm AS (
		INSERT INTO usage_daily_meters AS d (day, cost_center, provider,
		    model, meter, quantity, list_cost, cost)
		SELECT new.day, new.cc, new.provider, new.model, l.meter, 0,
		    sum(l.l), sum(l.c)
		FROM new, jsonb_to_recordset(new.m) AS l (meter text, q bigint,
		    l bigint, c bigint)
		GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
		ON CONFLICT (day, cost_center, provider, model, meter) DO UPDATE
		SET list_cost = d.list_cost + excluded.list_cost,
		    cost = d.cost + excluded.cost
	)
	SELECT array_agg(new.id), array_agg(new.occurred_at), array_agg(new.cc),
	    array_agg(new.provider), array_agg(new.cost_delta)
	INTO v_ids, v_at, v_cc, v_provider, v_cost
	FROM new;
	PERFORM ledger_post_usage(v_ids, v_at, v_cc, v_provider, v_cost);
	RETURN QUERY SELECT c.transaction_id, c.corrects, c.cost_delta
	FROM usage_corrections c WHERE c.transaction_id = ANY (v_ids);
END $$;
