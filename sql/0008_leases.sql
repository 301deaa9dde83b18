-- Several tollgate instances deciding on one database: each leases a
-- slice of a hard budget's room and decides within it, so that together
-- they never pass a cap (docs/scaling.md).

-- Reservations belong to the instance that made them: a restarted
-- instance takes back its own, never another's.
ALTER TABLE reservations ADD COLUMN instance text NOT NULL DEFAULT 'default';
DROP INDEX reservations_held;
CREATE INDEX reservations_held ON reservations (instance, expires_at)
	WHERE state = 'held';

-- p: as before, plus each reservation's instance.
CREATE OR REPLACE FUNCTION reservations_write(p jsonb) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO reservations AS r (id, key_id, request_id, cost_center,
	    budgets, amount, max_output_tokens, created_at, expires_at, state,
	    ended_at, actual, instance)
	SELECT e.id, e.key_id, e.request_id, e.cc, e.budgets, e.amount,
	    e.max_output_tokens, e.created_at, e.expires_at, e.state,
	    e.ended_at, e.actual, coalesce(e.instance, 'default')
	FROM jsonb_to_recordset(p) AS e (id text, key_id text,
	    request_id text, cc text, budgets bigint[], amount bigint,
	    max_output_tokens bigint, created_at timestamptz,
	    expires_at timestamptz, state text, ended_at timestamptz,
	    actual bigint, instance text)
	ORDER BY e.id
	ON CONFLICT (id) DO UPDATE SET state = excluded.state,
	    ended_at = excluded.ended_at, actual = excluded.actual
	WHERE r.state = 'held'
$$;

-- The spend of budgets over their periods (ids, period starts and ends:
-- arrays of the same length). STABLE: it reads with its caller's
-- snapshot, which the caller can then name with pg_current_snapshot(). A
-- cost center's subtree is read as a range of ids (see
-- usage_events_cost_center).
CREATE FUNCTION budget_spend_of(p_ids bigint[], p_lo timestamptz[],
    p_hi timestamptz[])
RETURNS TABLE (budget_id bigint, spend bigint)
LANGUAGE sql STABLE AS $$
	-- An aggregate per budget over two index ranges (the center, then
	-- its subtree), each bounded by the period on occurred_at, so that
	-- neither reads the center's events of other periods.
	SELECT w.id, coalesce(s.spend, 0)::bigint
	FROM unnest(p_ids, p_lo, p_hi) AS w (id, lo, hi)
	JOIN budgets b ON b.id = w.id
	CROSS JOIN LATERAL (
		SELECT sum(e.cost + coalesce((SELECT sum(x.cost_delta)
		    FROM usage_corrections x
		    WHERE x.corrects = e.transaction_id), 0)) AS spend
		FROM (
			SELECT u.transaction_id, u.cost, u.user_id, u.provider,
			    u.model, u.tags
			FROM usage_events u
			WHERE u.cost_center COLLATE "C" = b.cost_center
			  AND u.occurred_at >= w.lo AND u.occurred_at < w.hi
			UNION ALL
			SELECT u.transaction_id, u.cost, u.user_id, u.provider,
			    u.model, u.tags
			FROM usage_events u
			WHERE u.cost_center COLLATE "C" > b.cost_center || '/'
			  AND u.cost_center COLLATE "C" < b.cost_center || '0'
			  AND u.occurred_at >= w.lo AND u.occurred_at < w.hi) e
		WHERE (b.scope_user IS NULL OR e.user_id = b.scope_user)
		  AND (b.scope_provider IS NULL OR e.provider = b.scope_provider)
		  AND (b.scope_model IS NULL OR e.model = b.scope_model)
		  AND e.tags @> b.scope_tags) s
$$;

-- A lease: what one running instance (holder) may still commit on a
-- budget beyond the spend booked in the ledger. It counts against the
-- other instances' room until drain_until: its end plus the longest
-- reservation the holder may grant, because calls allowed under it may
-- still be running after it ends.
CREATE TABLE budget_leases (
	budget_id   bigint NOT NULL,
	holder      text NOT NULL,
	instance    text NOT NULL,
	amount      bigint NOT NULL CHECK (amount >= 0),
	granted_at  timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL,
	drain_until timestamptz NOT NULL,
	PRIMARY KEY (budget_id, holder),
	CHECK (drain_until >= expires_at)
);

-- Grant (or renew) the holder's leases on budgets p_ids, whose periods are
-- [p_lo, p_hi). Each grant is at least p_floor (what the holder has
-- already committed: its live holds), else at most p_want, never more
-- than the room the ledger and the other leases leave, and, while other
-- instances hold live leases, not more than an equal share of the room.
-- Returns each budget's spend with the snapshot it was read in, the grant,
-- and what the other leases hold.
CREATE FUNCTION lease_grant(p_holder text, p_instance text, p_ids bigint[],
    p_lo timestamptz[], p_hi timestamptz[], p_floor bigint[],
    p_want bigint[], p_lease_ms bigint, p_drain_ms bigint)
RETURNS TABLE (budget_id bigint, spend bigint, snap text, granted bigint,
    others bigint)
LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz;
BEGIN
	-- In id order, so that two grants never wait on each other.
	PERFORM 1 FROM budgets b WHERE b.id = ANY (p_ids) ORDER BY b.id
	    FOR UPDATE;
	t := clock_timestamp();
	DELETE FROM budget_leases l
	WHERE l.budget_id = ANY (p_ids) AND l.drain_until <= t;
	-- A new statement: its snapshot sees every booking and lease
	-- committed before the locks were taken.
	RETURN QUERY
	WITH w AS (
		SELECT x.id, x.fl, x.want
		FROM unnest(p_ids, p_floor, p_want) AS x (id, fl, want)),
	s AS (SELECT * FROM budget_spend_of(p_ids, p_lo, p_hi)),
	o AS (
		SELECT l.budget_id AS id, sum(l.amount)::bigint AS amount,
		    count(*) FILTER (WHERE l.expires_at > t) AS live
		FROM budget_leases l
		WHERE l.budget_id = ANY (p_ids) AND l.holder <> p_holder
		GROUP BY l.budget_id),
	g AS (
		SELECT w.id, s.spend, coalesce(o.amount, 0) AS others,
		    greatest(w.fl, least(w.want,
		        b.amount - s.spend - coalesce(o.amount, 0),
		        CASE WHEN coalesce(o.live, 0) > 0
		            THEN (b.amount - s.spend) / (o.live + 1)
		            ELSE b.amount END))::bigint AS granted
		FROM w
		JOIN budgets b ON b.id = w.id
		JOIN s ON s.budget_id = w.id
		LEFT JOIN o ON o.id = w.id),
	up AS (
		INSERT INTO budget_leases AS l (budget_id, holder, instance,
		    amount, granted_at, expires_at, drain_until)
		SELECT g.id, p_holder, p_instance, g.granted, t,
		    t + p_lease_ms * interval '1 millisecond',
		    t + (p_lease_ms + p_drain_ms) * interval '1 millisecond'
		FROM g
		ON CONFLICT ON CONSTRAINT budget_leases_pkey DO UPDATE
		SET amount = excluded.amount, granted_at = excluded.granted_at,
		    expires_at = excluded.expires_at,
		    drain_until = greatest(l.drain_until, excluded.drain_until))
	SELECT g.id, g.spend, pg_current_snapshot()::text, g.granted, g.others
	FROM g;
END
$$;

-- Give back what the holder's leases do not cover any more: a lease with
-- nothing held under it goes at once; one still covering holds (p_floor)
-- shrinks to them and ends when the last of them does (p_until, not in
-- the past).
CREATE FUNCTION lease_return(p_holder text, p_ids bigint[],
    p_floor bigint[], p_until timestamptz[])
RETURNS void
LANGUAGE sql AS $$
	DELETE FROM budget_leases l
	USING unnest(p_ids, p_floor) AS x (id, fl)
	WHERE l.budget_id = x.id AND l.holder = p_holder AND x.fl = 0;
	UPDATE budget_leases l
	SET amount = x.fl, expires_at = least(l.expires_at, x.until),
	    drain_until = x.until
	FROM unnest(p_ids, p_floor, p_until) AS x (id, fl, until)
	WHERE l.budget_id = x.id AND l.holder = p_holder AND x.fl > 0
$$;
