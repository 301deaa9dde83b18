-- Reservations by day. Every decision that allows a call writes a row,
-- and nothing removed them: at a thousand calls a second the table grew
-- by 86 million rows a day, for rows whose only use is a restart within
-- the longest TTL (reservations_load reads the held ones). Now the table
-- is partitioned by created_at, one partition per UTC day, and
-- reservations_partitions_drop() drops whole days once no hold in them
-- can still be held: no row-by-row delete, no vacuum behind it.
--
-- The primary key takes created_at (a partitioned table's keys must hold
-- the partition key); ids stay unique, being made of the creation time
-- and 48 random bits. The DEFAULT partition catches what no day takes (a
-- clock far off, or a late end of a hold whose day was dropped), so that
-- a write never fails for want of a partition; days with rows there are
-- not created, as in ledger_partitions_ensure().

ALTER TABLE reservations RENAME TO reservations_0005;
ALTER TABLE reservations_0005 RENAME CONSTRAINT reservations_pkey
	TO reservations_0005_pkey;
ALTER INDEX reservations_held RENAME TO reservations_0005_held;

CREATE TABLE reservations (
	id          text NOT NULL CHECK (id ~ '^rsv_[0-9a-f]{24}$'),
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
	actual      bigint,
	instance    text NOT NULL DEFAULT 'default',
	PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE reservations_default PARTITION OF reservations DEFAULT;
CREATE INDEX reservations_held ON reservations (instance, expires_at)
	WHERE state = 'held';

-- The days [p_from, p_to) touches that have no partition yet (and no rows
-- in the default one). Returns how many were made.
CREATE FUNCTION reservations_partitions_ensure(p_from timestamptz,
    p_to timestamptz)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	v_day date := (p_from AT TIME ZONE 'UTC')::date;
	v_lo timestamptz;
	v_hi timestamptz;
	v_n int := 0;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('tollgate.reservations_partitions'));
	WHILE v_day < (p_to AT TIME ZONE 'UTC')::date + 1 LOOP
		v_lo := v_day::timestamp AT TIME ZONE 'UTC';
		v_hi := (v_day + 1)::timestamp AT TIME ZONE 'UTC';
		IF to_regclass('reservations_' || to_char(v_day, 'YYYYMMDD'))
		    IS NULL AND NOT EXISTS (SELECT 1 FROM reservations_default
		    WHERE created_at >= v_lo AND created_at < v_hi) THEN
			EXECUTE format('CREATE TABLE %I PARTITION OF reservations '
			    'FOR VALUES FROM (%L) TO (%L)',
			    'reservations_' || to_char(v_day, 'YYYYMMDD'), v_lo, v_hi);
			v_n := v_n + 1;
		END IF;
		v_day := v_day + 1;
	END LOOP;
	RETURN v_n;
END $$;

-- Drop the days that ended before p_before and hold nothing still held
-- (a row written as held whose TTL has passed is over: restarts skip it).
-- The default partition's ended rows go the same way, row by row (it
-- holds few). Returns how many days were dropped.
CREATE FUNCTION reservations_partitions_drop(p_before timestamptz)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	v record;
	v_live boolean;
	v_n int := 0;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('tollgate.reservations_partitions'));
	FOR v IN
		SELECT c.relname, to_date(substr(c.relname, 14), 'YYYYMMDD') AS day
		FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'reservations'::regclass
		  AND c.relname ~ '^reservations_[0-9]{8}$'
		ORDER BY 2
	LOOP
		EXIT WHEN ((v.day + 1)::timestamp AT TIME ZONE 'UTC') > p_before;
		EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE state = '
		    '''held'' AND expires_at > now())', v.relname) INTO v_live;
		CONTINUE WHEN v_live;
		EXECUTE format('DROP TABLE %I', v.relname);
		v_n := v_n + 1;
	END LOOP;
	DELETE FROM reservations_default
	WHERE created_at < p_before
	  AND (state <> 'held' OR expires_at <= now());
	RETURN v_n;
END $$;

-- What a restart may still need: the holds, and the last day's ends. The
-- days they fall on first.
SELECT reservations_partitions_ensure(
    least(now() - interval '1 day',
        (SELECT min(created_at) FROM reservations_0005
         WHERE state = 'held' AND expires_at > now())),
    now() + interval '2 days');
INSERT INTO reservations
SELECT id, key_id, request_id, cost_center, budgets, amount,
    max_output_tokens, created_at, expires_at, state, ended_at, actual,
    instance
FROM reservations_0005
WHERE (state = 'held' AND expires_at > now())
   OR created_at > now() - interval '1 day';
DROP TABLE reservations_0005;

-- Servers of the previous release write through this until they stop.
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
	ON CONFLICT (id, created_at) DO UPDATE SET state = excluded.state,
	    ended_at = excluded.ended_at, actual = excluded.actual
	WHERE r.state = 'held'
$$;
