-- Budgets and reservations (holds).
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
