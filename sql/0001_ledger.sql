-- The ledger: API keys, accounts, transactions and postings.
--
-- Money is bigint nano-units (1e-9 of the currency unit). History is
-- append-only: transactions and postings are never updated or deleted;
-- corrections are new transactions that reference the ones they correct.
-- Every transaction's postings sum to zero per currency, checked by
-- triggers (and by the server before it sends them).

-- Time stamps leave the database as RFC 3339 in UTC, whatever the session's
-- TimeZone, with microseconds only when there are any (as the server
-- formats them).
CREATE FUNCTION tg_rfc3339(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') ||
	    CASE WHEN to_char(t AT TIME ZONE 'UTC', 'US') = '000000' THEN ''
	    ELSE '.' || to_char(t AT TIME ZONE 'UTC', 'US') END || 'Z'
$$;

CREATE TABLE api_keys (
	id          text PRIMARY KEY CHECK (id ~ '^key_[0-9a-f]{16}$'),
	name        text NOT NULL DEFAULT '',
	role        text NOT NULL CHECK (role IN ('admin', 'gateway', 'finance')),
	secret_hash bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
	scope       text,
	created_at  timestamptz NOT NULL DEFAULT now(),
	revoked_at  timestamptz
);

CREATE TABLE accounts (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL,
	kind       text NOT NULL CHECK (kind IN ('expense', 'payable', 'credit',
	               'refund', 'adjustment', 'equity')),
	currency   char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (name, currency),
	CHECK (name LIKE kind || ':_%')
);

CREATE TABLE transactions (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind            text NOT NULL CHECK (kind IN ('adjustment', 'usage',
	                    'correction', 'reallocation')),
	idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
	request_hash    bytea NOT NULL,
	occurred_at     timestamptz NOT NULL,
	recorded_at     timestamptz NOT NULL DEFAULT now(),
	memo            text NOT NULL DEFAULT '',
	created_by      text REFERENCES api_keys (id),
	corrects        bigint REFERENCES transactions (id),
	UNIQUE (kind, idempotency_key)
);
CREATE INDEX transactions_occurred_at ON transactions (occurred_at);

CREATE TABLE postings (
	transaction_id bigint NOT NULL REFERENCES transactions (id),
	seq            smallint NOT NULL CHECK (seq >= 0),
	account_id     bigint NOT NULL REFERENCES accounts (id),
	amount         bigint NOT NULL CHECK (amount <> 0),
	PRIMARY KEY (transaction_id, seq)
);
CREATE INDEX postings_account ON postings (account_id);

-- Zero-sum, checked twice over:
-- - after every statement that inserts postings, for the transactions it
--   touched (set-based, so a batch of events costs one check): each has
--   at least two postings and they sum to zero per currency. A
--   transaction's postings are therefore inserted by one statement.
-- - at commit, for each new transaction other than usage and corrections
--   (which are written together with their postings by one statement, and
--   may have none when their cost is zero): it must have its postings.
CREATE FUNCTION ledger_check_balanced(p_tx bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_n bigint;
BEGIN
	SELECT count(*) INTO v_n FROM postings WHERE transaction_id = p_tx;
	IF v_n < 2 THEN
		RAISE EXCEPTION 'transaction % has % postings; at least 2 are needed', p_tx, v_n
		    USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
	END IF;
END $$;

CREATE FUNCTION ledger_tx_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM ledger_check_balanced(NEW.id);
	RETURN NULL;
END $$;

CREATE FUNCTION ledger_postings_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_bad record;
BEGIN
	SELECT p.transaction_id AS tx, a.currency, count(*) AS n,
	    sum(p.amount) AS total INTO v_bad
	FROM postings p JOIN accounts a ON a.id = p.account_id
	WHERE p.transaction_id IN (SELECT DISTINCT transaction_id FROM new_rows)
	GROUP BY p.transaction_id, a.currency
	HAVING sum(p.amount) <> 0 OR count(*) < 2
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'postings of transaction % do not balance in %: % postings summing to %',
		    v_bad.tx, v_bad.currency, v_bad.n, v_bad.total
		    USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
	END IF;
	RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER transactions_balanced AFTER INSERT ON transactions
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
	WHEN (NEW.kind NOT IN ('usage', 'correction'))
	EXECUTE FUNCTION ledger_tx_balanced();
CREATE TRIGGER postings_balanced AFTER INSERT ON postings
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION ledger_postings_balanced();

CREATE FUNCTION ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
	    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON transactions
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER transactions_no_truncate BEFORE TRUNCATE ON transactions
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- Post one balanced transaction, exactly once per (kind, idempotency key).
-- A key seen before returns the original transaction: 'duplicate' when the
-- request hash matches, 'conflict' when it does not. Accounts are created on
-- first use. One statement, so one round trip, one implicit transaction,
-- and the postings inserted together, as the zero-sum check wants.
CREATE FUNCTION ledger_post(p_kind text, p_key text, p_hash bytea,
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
	INSERT INTO transactions AS t (kind, idempotency_key, request_hash,
	    occurred_at, memo, created_by)
	VALUES (p_kind, p_key, p_hash, p_occurred_at, p_memo, p_created_by)
	ON CONFLICT (kind, idempotency_key) DO NOTHING
	RETURNING t.id, t.recorded_at INTO v_id, v_at;
	IF v_id IS NULL THEN
		SELECT t.id, t.request_hash, t.recorded_at, t.occurred_at
		INTO v_id, v_hash, v_at, v_occ
		FROM transactions t
		WHERE t.kind = p_kind AND t.idempotency_key = p_key;
		RETURN QUERY SELECT CASE WHEN v_hash = p_hash THEN 'duplicate'
		    ELSE 'conflict' END, v_id, v_at, v_occ;
		RETURN;
	END IF;
	INSERT INTO accounts (name, kind)
	SELECT DISTINCT a, split_part(a, ':', 1) FROM unnest(p_accounts) AS a
	ON CONFLICT (name, currency) DO NOTHING;
	INSERT INTO postings (transaction_id, seq, account_id, amount)
	SELECT v_id, i - 1, acc.id, p_amounts[i]
	FROM generate_subscripts(p_accounts, 1) AS i
	JOIN accounts acc ON acc.name = p_accounts[i] AND acc.currency = 'USD';
	RETURN QUERY SELECT 'recorded'::text, v_id, v_at, p_occurred_at;
END $$;
