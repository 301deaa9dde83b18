-- Budgets, reservations (holds), and the booking functions telling the
-- server what they booked, so that the budgets it keeps in memory follow
-- the ledger exactly.
--
-- A budget caps the spend of a cost center's subtree, optionally narrowed
-- by user, provider, model and tags, over a calendar period in a time
-- zone. The period's spend is not stored: it is the usage (with its
-- corrections) in the window, read at start and then followed.

CREATE TABLE budgets (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	cost_center     text NOT NULL REFERENCES cost_centers (id),
	scope_user      text,
	scope_provider  text,
	scope_model     text,
	scope_tags      jsonb NOT NULL DEFAULT '{}'
	                    CHECK (jsonb_typeof(scope_tags) = 'object'),
	period          text NOT NULL CHECK (period IN ('day', 'week', 'month',
	                    'quarter', 'year', 'total')),
	time_zone       text NOT NULL DEFAULT 'UTC',
	amount          bigint NOT NULL CHECK (amount >= 0),
	mode            text NOT NULL DEFAULT 'hard' CHECK (mode IN ('hard', 'soft')),
	reserve         text NOT NULL DEFAULT 'strict'
	                    CHECK (reserve IN ('strict', 'estimate')),
	thresholds      jsonb NOT NULL DEFAULT '[]'
	                    CHECK (jsonb_typeof(thresholds) = 'array'),
	cost_per_minute bigint CHECK (cost_per_minute > 0),
	tokens_per_minute bigint CHECK (tokens_per_minute > 0),
	on_database_unavailable text NOT NULL DEFAULT 'fail_closed'
	                    CHECK (on_database_unavailable IN ('fail_closed', 'fail_open')),
	deleted         boolean NOT NULL DEFAULT false,
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now(),
	-- Auto-pause: spending faster than burn_pause_amount per minute for
	-- burn_pause_minutes minutes pauses the budget until an admin
	-- resumes it.
	burn_pause_amount  bigint CHECK (burn_pause_amount > 0),
	burn_pause_minutes int CHECK (burn_pause_minutes BETWEEN 1 AND 60),
	paused_at       timestamptz,
	CHECK ((burn_pause_amount IS NULL) = (burn_pause_minutes IS NULL))
);

-- Create, change or delete (mark deleted) a budget, pause it on an
-- anomaly or resume it, with its audit record in the same transaction. p holds the fields to set, already checked by
-- the server (amounts in nano-units); a field absent from p is left as it
-- is. Returns the budget as a row document, or NULL when p_id names no
-- live budget; 'unknown_cost_center' when the scope's cost center does
-- not exist or is archived.
CREATE FUNCTION budget_write(p_action text, p_id bigint, p jsonb, p_key text)
RETURNS TABLE (status text, budget jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_before budgets;
	v_after budgets;
BEGIN
	IF p ? 'cost_center' AND NOT EXISTS (SELECT 1 FROM cost_centers c
	    WHERE c.id = p ->> 'cost_center' AND NOT c.archived) THEN
		RETURN QUERY SELECT 'unknown_cost_center'::text, NULL::jsonb;
		RETURN;
	END IF;
	IF p_action = 'create' THEN
		INSERT INTO budgets (name, cost_center, scope_user, scope_provider,
		    scope_model, scope_tags, period, time_zone, amount, mode,
		    reserve, thresholds, cost_per_minute, tokens_per_minute,
		    on_database_unavailable, burn_pause_amount, burn_pause_minutes)
		VALUES (p ->> 'name', p ->> 'cost_center', p ->> 'user',
		    p ->> 'provider', p ->> 'model', coalesce(p -> 'tags', '{}'),
		    p ->> 'period', coalesce(p ->> 'time_zone', 'UTC'),
		    (p ->> 'amount')::bigint, coalesce(p ->> 'mode', 'hard'),
		    coalesce(p ->> 'reserve', 'strict'),
		    coalesce(p -> 'thresholds', '[]'),
		    (p ->> 'cost_per_minute')::bigint,
		    (p ->> 'tokens_per_minute')::bigint,
		    coalesce(p ->> 'on_database_unavailable', 'fail_closed'),
		    (p ->> 'burn_pause_amount')::bigint,
		    (p ->> 'burn_pause_minutes')::int)
		RETURNING * INTO v_after;
	ELSE
		SELECT * INTO v_before FROM budgets b
		WHERE b.id = p_id AND NOT b.deleted FOR UPDATE;
		IF v_before.id IS NULL THEN
			RETURN QUERY SELECT 'not_found'::text, NULL::jsonb;
			RETURN;
		END IF;
		UPDATE budgets b SET
		    name = CASE WHEN p ? 'name' THEN p ->> 'name' ELSE b.name END,
		    cost_center = CASE WHEN p ? 'cost_center'
		        THEN p ->> 'cost_center' ELSE b.cost_center END,
		    scope_user = CASE WHEN p ? 'user' THEN p ->> 'user'
		        ELSE b.scope_user END,
		    scope_provider = CASE WHEN p ? 'provider' THEN p ->> 'provider'
		        ELSE b.scope_provider END,
		    scope_model = CASE WHEN p ? 'model' THEN p ->> 'model'
		        ELSE b.scope_model END,
		    scope_tags = CASE WHEN p ? 'tags' THEN p -> 'tags'
		        ELSE b.scope_tags END,
		    period = CASE WHEN p ? 'period' THEN p ->> 'period'
		        ELSE b.period END,
		    time_zone = CASE WHEN p ? 'time_zone' THEN p ->> 'time_zone'
		        ELSE b.time_zone END,
		    amount = CASE WHEN p ? 'amount' THEN (p ->> 'amount')::bigint
		        ELSE b.amount END,
		    mode = CASE WHEN p ? 'mode' THEN p ->> 'mode' ELSE b.mode END,
		    reserve = CASE WHEN p ? 'reserve' THEN p ->> 'reserve'
		        ELSE b.reserve END,
		    thresholds = CASE WHEN p ? 'thresholds' THEN p -> 'thresholds'
		        ELSE b.thresholds END,
		    cost_per_minute = CASE WHEN p ? 'cost_per_minute'
		        THEN (p ->> 'cost_per_minute')::bigint
		        ELSE b.cost_per_minute END,
		    tokens_per_minute = CASE WHEN p ? 'tokens_per_minute'
		        THEN (p ->> 'tokens_per_minute')::bigint
		        ELSE b.tokens_per_minute END,
		    on_database_unavailable = CASE WHEN p ? 'on_database_unavailable'
		        THEN p ->> 'on_database_unavailable'
		        ELSE b.on_database_unavailable END,
		    burn_pause_amount = CASE WHEN p ? 'burn_pause_amount'
		        THEN (p ->> 'burn_pause_amount')::bigint
		        ELSE b.burn_pause_amount END,
		    burn_pause_minutes = CASE WHEN p ? 'burn_pause_minutes'
		        THEN (p ->> 'burn_pause_minutes')::int
		        ELSE b.burn_pause_minutes END,
		    paused_at = CASE p_action WHEN 'anomaly'
		        THEN coalesce(b.paused_at, now())
		        WHEN 'resume' THEN NULL ELSE b.paused_at END,
		    deleted = p_action = 'delete',
		    updated_at = now()
		WHERE b.id = p_id
		RETURNING * INTO v_after;
	END IF;
	INSERT INTO audit_log (key_id, action, entity, entity_id, before, after)
	VALUES (p_key, p_action, 'budget', v_after.id::text,
	    CASE WHEN v_before.id IS NOT NULL THEN to_jsonb(v_before) END,
	    to_jsonb(v_after));
	RETURN QUERY SELECT 'ok'::text, to_jsonb(v_after);
END $$;

-- Holds on budgets for calls in flight. The server decides from memory
-- and writes reservations here in batches, so that a restart knows the
-- money still in flight; a reservation ends settled (by the usage event
-- naming it), released, or expired.
CREATE TABLE reservations (
	id          text PRIMARY KEY CHECK (id ~ '^rsv_[0-9a-f]{24}$'),
	key_id      text,
	request_id  text,
	cost_center text NOT NULL,
	budgets     bigint[] NOT NULL,
	amount      bigint NOT NULL CHECK (amount >= 0),
	max_output_tokens bigint,
	created_at  timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL,
	state       text NOT NULL CHECK (state IN ('held', 'settled', 'released',
	                'expired')),
	ended_at    timestamptz,
	actual      bigint
);
CREATE UNIQUE INDEX reservations_request ON reservations (key_id, request_id)
	WHERE request_id IS NOT NULL;
CREATE INDEX reservations_held ON reservations (expires_at)
	WHERE state = 'held';
CREATE INDEX usage_events_reservation ON usage_events (reservation_id)
	WHERE reservation_id IS NOT NULL;
-- A budget's spend reads its cost center's subtree: the center itself and
-- the ids between "<id>/" and "<id>0" in byte order, whatever the
-- database's collation.
DROP INDEX usage_events_cost_center;
CREATE INDEX usage_events_cost_center ON usage_events
	((cost_center COLLATE "C"), occurred_at);

-- p: [{id, key_id, request_id, cc, budgets, amount, max_output_tokens,
-- created_at, expires_at, state, ended_at, actual}], each reservation
-- once, in its latest state. A reservation that has ended never becomes
-- held again, so a late or repeated write cannot resurrect it.
CREATE FUNCTION reservations_write(p jsonb) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO reservations AS r (id, key_id, request_id, cost_center,
	    budgets, amount, max_output_tokens, created_at, expires_at, state,
	    ended_at, actual)
	SELECT e.id, e.key_id, e.request_id, e.cc, e.budgets, e.amount,
	    e.max_output_tokens, e.created_at, e.expires_at, e.state,
	    e.ended_at, e.actual
	FROM jsonb_to_recordset(p) AS e (id text, key_id text,
	    request_id text, cc text, budgets bigint[], amount bigint,
	    max_output_tokens bigint, created_at timestamptz,
	    expires_at timestamptz, state text, ended_at timestamptz,
	    actual bigint)
	ORDER BY e.id
	ON CONFLICT (id) DO UPDATE SET state = excluded.state,
	    ended_at = excluded.ended_at, actual = excluded.actual
	WHERE r.state = 'held'
$$;

-- What the booking functions return grows: the resolved cost center and
-- the event's dimensions, so that the server's budgets follow each
-- booked event, and the corrections booked by repricing.
DROP FUNCTION usage_ingest(jsonb, boolean);
DROP FUNCTION usage_reprice(jsonb);

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
		    price_version, list_delta, cost_delta, was_unpriced)
		SELECT id, tx, pv, list_delta, cost_delta, was_unpriced FROM new
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
