-- Shared-cost allocations: a cost center's spend over a period moved to
-- other cost centers by one balanced 'reallocation' transaction (credit
-- expense:<source>, debit expense:<target> per target), never by editing
-- what was booked.
--
-- The server reads the inputs (allocation_inputs), splits the amount in C
-- (ledger/alloc.c) and books with allocation_book, which reads the inputs
-- again under a per-source lock and refuses to book when they moved in
-- between, so that two allocations of one source never split the same
-- spend twice. An allocation's id is the reallocation's idempotency key.

CREATE TABLE allocations (
	id             text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
	transaction_id bigint NOT NULL,
	occurred_at    timestamptz NOT NULL,	-- its transaction's
	source         text NOT NULL,
	period_from    timestamptz NOT NULL,
	period_to      timestamptz NOT NULL CHECK (period_to > period_from),
	method         text NOT NULL CHECK (method IN ('even', 'weighted',
	                   'percent')),
	amount         bigint NOT NULL CHECK (amount > 0),
	currency       char(3) NOT NULL DEFAULT 'USD',
	request_hash   bytea NOT NULL,
	created_by     text,
	created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX allocations_transaction ON allocations (transaction_id);

-- One row per target, in the order the request gave them. weight is the
-- target's own spend (weighted) or its percent in nano-percent (percent);
-- 1 for even. ratio is amount / the allocation's amount, as FOCUS's
-- AllocatedRatio. A part of zero (a target without spend, or fewer
-- nano-units than targets) has no posting.
CREATE TABLE allocation_parts (
	allocation_id text NOT NULL,
	seq           int NOT NULL,
	cost_center   text NOT NULL,
	weight        bigint NOT NULL CHECK (weight >= 0),
	amount        bigint NOT NULL CHECK (amount >= 0),
	ratio         numeric NOT NULL,
	PRIMARY KEY (allocation_id, seq),
	UNIQUE (allocation_id, cost_center)
);

CREATE TRIGGER allocations_append_only BEFORE UPDATE OR DELETE ON allocations
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER allocations_no_truncate BEFORE TRUNCATE ON allocations
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER allocation_parts_append_only BEFORE UPDATE OR DELETE
	ON allocation_parts FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER allocation_parts_no_truncate BEFORE TRUNCATE ON allocation_parts
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- The chargeback reads a month's adjustments and reallocations apart from
-- its usage: few rows among millions, found by this index alone.
CREATE INDEX transactions_entries ON transactions (occurred_at)
	WHERE kind IN ('adjustment', 'reallocation');

-- Nano-units as the API writes money ("12.500000000").
CREATE FUNCTION tg_money_text(v bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT (v::numeric / 1000000000)::numeric(30, 9)::text
$$;

CREATE FUNCTION allocation_json(p_id text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id,
	    'transaction_id', a.transaction_id::text,
	    'source', a.source,
	    'period', jsonb_build_object('from', tg_rfc3339(a.period_from),
	        'to', tg_rfc3339(a.period_to)),
	    'method', a.method, 'amount', tg_money_text(a.amount),
	    'currency', a.currency,
	    'targets', (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
	        'cost_center', p.cost_center,
	        'amount', tg_money_text(p.amount),
	        'ratio', p.ratio::text,
	        'percent', CASE a.method WHEN 'percent' THEN
	            trim_scale(p.weight::numeric / 1000000000)::text END,
	        'weight', CASE a.method WHEN 'weighted' THEN
	            tg_money_text(p.weight) END)) ORDER BY p.seq)
	        FROM allocation_parts p WHERE p.allocation_id = a.id),
	    'created_by', a.created_by,
	    'created_at', tg_rfc3339(a.created_at))
	FROM allocations a WHERE a.id = p_id
$$;

-- What an allocation splits: which of the cost centers named do not exist
-- (or are archived), the source's balance over [p_from, p_to) (what
-- GET /v1/ledger/balances shows: usage, corrections, adjustments and
-- earlier reallocations in or out), and each target's own spend over the
-- same window (reallocations left out, so that weights are what the
-- targets consumed themselves).
CREATE FUNCTION allocation_inputs(p_source text, p_targets text[],
    p_from timestamptz, p_to timestamptz)
RETURNS TABLE (missing text[], amount bigint, weights bigint[])
LANGUAGE sql STABLE AS $$
	SELECT
	    (SELECT coalesce(array_agg(n.cc ORDER BY n.i), '{}')
	     FROM unnest(p_source || p_targets) WITH ORDINALITY AS n (cc, i)
	     WHERE NOT EXISTS (SELECT 1 FROM cost_centers c
	         WHERE c.id = n.cc AND NOT c.archived)),
	    (SELECT coalesce(sum(p.amount), 0)::bigint
	     FROM postings p JOIN accounts a ON a.id = p.account_id
	     WHERE a.name = 'expense:' || p_source
	       AND p.occurred_at >= p_from AND p.occurred_at < p_to),
	    (SELECT array_agg(coalesce(s.spend, 0) ORDER BY n.i)
	     FROM unnest(p_targets) WITH ORDINALITY AS n (cc, i)
	     LEFT JOIN LATERAL (
		SELECT sum(p.amount)::bigint AS spend
		FROM postings p
		JOIN accounts a ON a.id = p.account_id
		JOIN transactions t ON t.id = p.transaction_id
		    AND t.occurred_at = p.occurred_at
		WHERE a.name = 'expense:' || n.cc
		  AND p.occurred_at >= p_from AND p.occurred_at < p_to
		  AND t.kind <> 'reallocation') s ON true)
$$;

-- Book an allocation the server has split. p: {id, hash (hex), source,
-- from, to, method, amount, weights: [..], targets: [{cost_center,
-- weight, amount, ratio}], memo}. Returns the status and the allocation:
-- 'recorded'; 'duplicate' or 'conflict' (the id was used before, with the
-- same or other content; the original comes back); 'stale' (the source's
-- balance or the weights changed since they were read: read and split
-- again).
CREATE FUNCTION allocation_book(p jsonb, p_key text)
RETURNS TABLE (status text, allocation jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_id text := p ->> 'id';
	v_hash bytea := decode(p ->> 'hash', 'hex');
	v_from timestamptz := (p ->> 'from')::timestamptz;
	v_to timestamptz := (p ->> 'to')::timestamptz;
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
	    period_from, period_to, method, amount, request_hash, created_by)
	VALUES (v_id, v_post.transaction_id, v_from, p ->> 'source', v_from,
	    v_to, p ->> 'method', (p ->> 'amount')::bigint, v_hash, p_key);
	INSERT INTO allocation_parts (allocation_id, seq, cost_center, weight,
	    amount, ratio)
	SELECT v_id, i - 1, x ->> 'cost_center', (x ->> 'weight')::bigint,
	    (x ->> 'amount')::bigint, (x ->> 'ratio')::numeric
	FROM jsonb_array_elements(p -> 'targets') WITH ORDINALITY AS t (x, i);
	v_doc := allocation_json(v_id);
	INSERT INTO audit_log (key_id, action, entity, entity_id, before, after)
	VALUES (p_key, 'create', 'allocation', v_id, NULL, v_doc);
	RETURN QUERY SELECT 'recorded'::text, v_doc;
END $$;

-- One element of FOCUS's AllocatedMethodDetails for a part: its ratio of
-- the allocation, and what it was computed from (the target's percent, or
-- its own spend in the currency; an even split needs nothing more).
CREATE FUNCTION allocation_element(p_method text, p allocation_parts)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('AllocatedRatio', p.ratio) ||
	    CASE p_method
	    WHEN 'percent' THEN jsonb_build_object('UsageUnit', 'Percent',
	        'UsageQuantity', trim_scale(p.weight::numeric / 1000000000))
	    WHEN 'weighted' THEN jsonb_build_object('UsageUnit', 'USD',
	        'UsageQuantity', trim_scale(p.weight::numeric / 1000000000))
	    ELSE '{}'::jsonb END
$$;
