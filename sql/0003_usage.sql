-- Cost centers, the audit log, and usage events with their daily rollups.
--
-- A cost center's id is its path (eng, eng/search, eng/search/ranker); its
-- parent is the path's prefix and must exist. Usage events are ledger
-- transactions of kind 'usage' (debit expense:<cost center>, credit
-- payable:<provider>); usage_events keeps each event's dimensions and
-- quantities beside its transaction, and the rollups are maintained in the
-- same transaction as the postings so that reports never scan raw rows.

CREATE TABLE cost_centers (
	id         text PRIMARY KEY CHECK (length(id) <= 190 AND
	               id ~ '^[a-z0-9][a-z0-9_.-]{0,63}(/[a-z0-9][a-z0-9_.-]{0,63})*$'),
	parent     text REFERENCES cost_centers (id),
	name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	owner      text NOT NULL DEFAULT '' CHECK (length(owner) <= 200),
	tags       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tags) = 'object'),
	archived   boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (parent IS NOT DISTINCT FROM
	    nullif(regexp_replace(id, '/?[^/]*$', ''), ''))
);

-- The cost center a gateway key books to when an event names none.
ALTER TABLE api_keys ADD COLUMN cost_center text REFERENCES cost_centers (id);

-- Who changed what, when, before and after. Append-only.
CREATE TABLE audit_log (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at        timestamptz NOT NULL DEFAULT now(),
	key_id    text,
	action    text NOT NULL,
	entity    text NOT NULL,
	entity_id text NOT NULL,
	before    jsonb,
	after     jsonb
);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- No foreign keys here: each would cost a row-by-row check per event on
-- the hottest insert path, and every row this table points to is written
-- in the same statement (its transaction) or never deleted (cost centers
-- are archived, keys revoked, price versions kept). GET /v1/ledger/verify
-- looks for rows pointing nowhere instead.
CREATE TABLE usage_events (
	transaction_id bigint PRIMARY KEY,
	occurred_at    timestamptz NOT NULL,
	cost_center    text NOT NULL,
	provider       text NOT NULL,
	model          text NOT NULL,
	service_tier   text NOT NULL,
	user_id        text,
	tags           jsonb NOT NULL DEFAULT '{}',
	key_id         text,
	price_version  bigint,
	unpriced       text,		-- why, when the event could not be priced
	list_cost      bigint NOT NULL DEFAULT 0,
	cost           bigint NOT NULL DEFAULT 0,
	reported_cost  bigint,
	status         text NOT NULL DEFAULT 'ok'
	                   CHECK (status IN ('ok', 'error', 'cancelled')),
	latency_ms     bigint,
	reservation_id text,
	quantities     bigint[] NOT NULL	-- per meter, in tollgate's meter order
);
CREATE INDEX usage_events_unpriced ON usage_events (occurred_at)
	WHERE unpriced IS NOT NULL;
CREATE INDEX usage_events_cost_center ON usage_events (cost_center, occurred_at);

-- Per day (UTC) x cost center x provider x model: events and costs, and
-- per meter: quantities and costs.
CREATE TABLE usage_daily (
	day         date NOT NULL,
	cost_center text NOT NULL,
	provider    text NOT NULL,
	model       text NOT NULL,
	events      bigint NOT NULL,
	unpriced    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	PRIMARY KEY (day, cost_center, provider, model)
);

CREATE TABLE usage_daily_meters (
	day         date NOT NULL,
	cost_center text NOT NULL,
	provider    text NOT NULL,
	model       text NOT NULL,
	meter       text NOT NULL,
	quantity    bigint NOT NULL,
	list_cost   bigint NOT NULL,
	cost        bigint NOT NULL,
	PRIMARY KEY (day, cost_center, provider, model, meter)
);

CREATE FUNCTION cost_center_json(c cost_centers) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', c.id, 'parent', c.parent, 'name', c.name,
	    'owner', c.owner, 'tags', c.tags, 'archived', c.archived,
	    'created_at', tg_rfc3339(c.created_at),
	    'updated_at', tg_rfc3339(c.updated_at))
$$;

-- Create a cost center and its audit record. Returns 'created' with the
-- new center, or 'exists' / 'no_parent' / 'parent_archived' and NULL.
CREATE FUNCTION cost_center_create(p_id text, p_name text, p_owner text,
    p_tags jsonb, p_key text)
RETURNS TABLE (status text, center jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_parent text := nullif(regexp_replace(p_id, '/?[^/]*$', ''), '');
	v_row cost_centers;
BEGIN
	IF v_parent IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cost_centers
	    WHERE id = v_parent) THEN
		RETURN QUERY SELECT 'no_parent'::text, NULL::jsonb;
		RETURN;
	END IF;
	IF EXISTS (SELECT 1 FROM cost_centers WHERE id = v_parent AND archived)
	THEN
		RETURN QUERY SELECT 'parent_archived'::text, NULL::jsonb;
		RETURN;
	END IF;
	INSERT INTO cost_centers (id, parent, name, owner, tags)
	VALUES (p_id, v_parent, p_name, p_owner, p_tags)
	ON CONFLICT (id) DO NOTHING
	RETURNING * INTO v_row;
	IF v_row.id IS NULL THEN
		RETURN QUERY SELECT 'exists'::text, NULL::jsonb;
		RETURN;
	END IF;
	INSERT INTO audit_log (key_id, action, entity, entity_id, after)
	VALUES (p_key, 'create', 'cost_center', p_id, cost_center_json(v_row));
	RETURN QUERY SELECT 'created'::text, cost_center_json(v_row);
END $$;

-- Change the fields given (NULL: unchanged). Returns 'updated' with the
-- center, or 'not_found'.
CREATE FUNCTION cost_center_update(p_id text, p_name text, p_owner text,
    p_tags jsonb, p_archived boolean, p_key text)
RETURNS TABLE (status text, center jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_before cost_centers;
	v_after cost_centers;
BEGIN
	SELECT * INTO v_before FROM cost_centers WHERE id = p_id FOR UPDATE;
	IF v_before.id IS NULL THEN
		RETURN QUERY SELECT 'not_found'::text, NULL::jsonb;
		RETURN;
	END IF;
	UPDATE cost_centers SET name = coalesce(p_name, name),
	    owner = coalesce(p_owner, owner), tags = coalesce(p_tags, tags),
	    archived = coalesce(p_archived, archived), updated_at = now()
	WHERE id = p_id
	RETURNING * INTO v_after;
	INSERT INTO audit_log (key_id, action, entity, entity_id, before, after)
	VALUES (p_key, 'update', 'cost_center', p_id,
	    cost_center_json(v_before), cost_center_json(v_after));
	RETURN QUERY SELECT 'updated'::text, cost_center_json(v_after);
END $$;

-- Allocation rules: an event that names no cost center goes to the cost
-- center of the first rule (by position) that matches its user, its key,
-- or one of its tags; failing that, to its key's default cost center.
CREATE TABLE allocation_rules (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	position    int NOT NULL,
	match       text NOT NULL CHECK (match IN ('user', 'key', 'tag')),
	tag         text CHECK ((match = 'tag') = (tag IS NOT NULL)),
	value       text NOT NULL,
	cost_center text NOT NULL REFERENCES cost_centers (id),
	created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX allocation_rules_position ON allocation_rules (position, id);

CREATE FUNCTION allocation_rule_json(r allocation_rules) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object('id', r.id::text,
	    'position', r.position, 'match', r.match, 'tag', r.tag,
	    'value', r.value, 'cost_center', r.cost_center,
	    'created_at', tg_rfc3339(r.created_at)))
$$;

CREATE FUNCTION allocation_rule_create(p_position int, p_match text,
    p_tag text, p_value text, p_cc text, p_key text)
RETURNS TABLE (status text, rule jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_row allocation_rules;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM cost_centers WHERE id = p_cc
	    AND NOT archived) THEN
		RETURN QUERY SELECT 'unknown_cost_center'::text, NULL::jsonb;
		RETURN;
	END IF;
	INSERT INTO allocation_rules (position, match, tag, value, cost_center)
	VALUES (p_position, p_match, p_tag, p_value, p_cc)
	RETURNING * INTO v_row;
	INSERT INTO audit_log (key_id, action, entity, entity_id, after)
	VALUES (p_key, 'create', 'allocation_rule', v_row.id::text,
	    allocation_rule_json(v_row));
	RETURN QUERY SELECT 'created'::text, allocation_rule_json(v_row);
END $$;

CREATE FUNCTION allocation_rule_delete(p_id bigint, p_key text)
RETURNS TABLE (status text, rule jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_row allocation_rules;
BEGIN
	DELETE FROM allocation_rules WHERE id = p_id RETURNING * INTO v_row;
	IF v_row.id IS NULL THEN
		RETURN QUERY SELECT 'not_found'::text, NULL::jsonb;
		RETURN;
	END IF;
	INSERT INTO audit_log (key_id, action, entity, entity_id, before)
	VALUES (p_key, 'delete', 'allocation_rule', p_id::text,
	    allocation_rule_json(v_row));
	RETURN QUERY SELECT 'deleted'::text, allocation_rule_json(v_row);
END $$;

-- Book a batch of usage events, each exactly once per idempotency key.
-- p is a JSON array of events already validated and priced by the server:
--   n (position), key, hash (hex of the request hash), occurred_at, cc
--   (null when the event names none),
--   provider, model, tier, user, tags, key_id, pv (price version), unpriced
--   (why, or null), list_cost, cost, reported_cost, status, latency_ms,
--   reservation_id, q (quantities per meter), m ([{meter, q, l, c}] for the
--   meters with a quantity).
--   kcc is the key's default cost center, used after allocation rules.
-- Returns each event's outcome: recorded (the first copy of a new key),
-- duplicate (the key is booked with the same content) or conflict (with
-- other content), with the booked transaction and its cost; or
-- unknown_cost_center / archived_cost_center, and then nothing is written
-- for that event.
CREATE FUNCTION usage_ingest(p jsonb, p_auto_create boolean)
RETURNS TABLE (n int, status text, transaction_id bigint, cost bigint,
    unpriced text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_new text[];
BEGIN
	-- Where the deployment allows it, a cost center an event names is
	-- created (with its missing ancestors, parents first) on first use,
	-- and audited.
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

	-- The batch is read from JSON once, into a table of this session
	-- that empties at every commit, with each event's cost center
	-- resolved: its own, else the first matching allocation rule, else
	-- its key's default.
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

	INSERT INTO accounts (name, kind)
	SELECT DISTINCT a, split_part(a, ':', 1)
	FROM ingest_batch AS e,
	    LATERAL (VALUES ('expense:' || e.cc), ('payable:' || e.provider))
	        AS x (a)
	WHERE e.cost <> 0 AND e.cc_status IS NULL
	ORDER BY 1
	ON CONFLICT (name, currency) DO NOTHING;

	WITH ev AS (
		SELECT DISTINCT ON (e.key) e.*
		FROM ingest_batch e
		WHERE e.cc_status IS NULL
		ORDER BY e.key, e.n
	), ins AS (
		INSERT INTO transactions AS t (kind, idempotency_key,
		    request_hash, occurred_at, created_by)
		SELECT 'usage', ev.key, decode(ev.hash, 'hex'), ev.occurred_at,
		    ev.key_id
		FROM ev ORDER BY ev.key
		ON CONFLICT (kind, idempotency_key) DO NOTHING
		RETURNING t.id, t.idempotency_key
	), new AS (
		SELECT ins.id, ev.* FROM ins JOIN ev ON ev.key = ins.idempotency_key
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
	), po AS (
		INSERT INTO postings (transaction_id, seq, account_id, amount)
		SELECT new.id, 0, a.id, new.cost
		FROM new JOIN accounts a ON a.name = 'expense:' || new.cc
		    AND a.currency = 'USD'
		WHERE new.cost <> 0
		UNION ALL
		SELECT new.id, 1, a.id, -new.cost
		FROM new JOIN accounts a ON a.name = 'payable:' || new.provider
		    AND a.currency = 'USD'
		WHERE new.cost <> 0
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
	SELECT coalesce(array_agg(new.key), '{}') INTO v_new FROM new;

	-- A key already booked answers duplicate or conflict whatever its
	-- cost center resolves to now (archived since, rule removed): a
	-- retry must learn that its event is in the ledger. The cost given
	-- back includes the corrections booked since.
	RETURN QUERY
	SELECT e.n,
	    CASE WHEN e.key = ANY (v_new) AND e.n = min(e.n) FILTER (WHERE
	            e.cc_status IS NULL) OVER (PARTITION BY e.key)
	        THEN 'recorded'
	        WHEN t.id IS NOT NULL AND t.request_hash = decode(e.hash, 'hex')
	        THEN 'duplicate'
	        WHEN t.id IS NOT NULL THEN 'conflict'
	        ELSE e.cc_status END,
	    t.id,
	    (u.cost + coalesce((SELECT sum(c.cost_delta) FROM usage_corrections c
	        WHERE c.corrects = t.id), 0))::bigint,
	    u.unpriced
	FROM ingest_batch e
	LEFT JOIN transactions t ON t.kind = 'usage' AND t.idempotency_key = e.key
	LEFT JOIN usage_events u ON u.transaction_id = t.id
	ORDER BY e.n;
END $$;

-- Repricing books corrections, never edits: a correction transaction
-- (kind 'correction', corrects = the usage transaction) carries the
-- difference between what the event should cost now and what it has cost
-- so far, and the rollups move by the same difference.
CREATE TABLE usage_corrections (
	transaction_id bigint PRIMARY KEY REFERENCES transactions (id),
	corrects       bigint NOT NULL REFERENCES usage_events (transaction_id),
	price_version  bigint NOT NULL REFERENCES price_versions (id),
	list_delta     bigint NOT NULL,
	cost_delta     bigint NOT NULL,
	was_unpriced   boolean NOT NULL
);
CREATE INDEX usage_corrections_corrects ON usage_corrections (corrects);

-- p: [{tx, key, cc, provider, model, day, pv, was_unpriced, list_delta,
-- cost_delta, m: [{meter, q, l, c}] (per-meter deltas; q is the quantity
-- newly priced, 0 when only the price changed)}]. Returns how many
-- corrections were booked (a key seen before is not booked again).
CREATE FUNCTION usage_reprice(p jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_n bigint;
BEGIN
	INSERT INTO accounts (name, kind)
	SELECT DISTINCT a, split_part(a, ':', 1)
	FROM jsonb_to_recordset(p) AS e (cc text, provider text, cost_delta bigint),
	    LATERAL (VALUES ('expense:' || e.cc), ('payable:' || e.provider))
	        AS x (a)
	WHERE e.cost_delta <> 0
	ORDER BY 1
	ON CONFLICT (name, currency) DO NOTHING;

	WITH ev AS (
		SELECT * FROM jsonb_to_recordset(p) AS e (tx bigint, key text,
		    cc text, provider text, model text, day date, pv bigint,
		    was_unpriced boolean, list_delta bigint, cost_delta bigint,
		    m jsonb)
	), ins AS (
		INSERT INTO transactions AS t (kind, idempotency_key,
		    request_hash, occurred_at, corrects, memo)
		SELECT 'correction', ev.key, '\x'::bytea, u.occurred_at, ev.tx,
		    'repriced with price version ' || ev.pv
		FROM ev JOIN usage_events u ON u.transaction_id = ev.tx
		ORDER BY ev.key
		ON CONFLICT (kind, idempotency_key) DO NOTHING
		RETURNING t.id, t.idempotency_key
	), new AS (
		SELECT ins.id, ev.* FROM ins JOIN ev ON ev.key = ins.idempotency_key
	), uc AS (
		INSERT INTO usage_corrections (transaction_id, corrects,
		    price_version, list_delta, cost_delta, was_unpriced)
		SELECT id, tx, pv, list_delta, cost_delta, was_unpriced FROM new
	), po AS (
		INSERT INTO postings (transaction_id, seq, account_id, amount)
		SELECT new.id, 0, a.id, new.cost_delta
		FROM new JOIN accounts a ON a.name = 'expense:' || new.cc
		    AND a.currency = 'USD'
		WHERE new.cost_delta <> 0
		UNION ALL
		SELECT new.id, 1, a.id, -new.cost_delta
		FROM new JOIN accounts a ON a.name = 'payable:' || new.provider
		    AND a.currency = 'USD'
		WHERE new.cost_delta <> 0
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
	SELECT count(*) INTO v_n FROM new;
	RETURN v_n;
END $$;
