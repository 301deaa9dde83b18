-- Reservations written as columns (one array each) rather than as a JSON
-- document: the server writes every hold it makes, thousands a second
-- on a busy budget, and reading them as JSON (jsonb_to_recordset) was a
-- good part of what PostgreSQL spent per hold, on the same cores that
-- answer decisions. reservations_write(jsonb) stays for servers of the
-- previous release running across the migration.
--
-- p_budgets: each element the literal of the budget ids ('{1,2}');
-- p_ended and p_actual NULL while held; every row is p_instance's.
CREATE FUNCTION reservations_write_cols(p_id text[], p_key_id text[],
    p_request_id text[], p_cc text[], p_budgets text[], p_amount bigint[],
    p_max_output bigint[], p_created timestamptz[], p_expires timestamptz[],
    p_state text[], p_ended timestamptz[], p_actual bigint[],
    p_instance text)
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO reservations AS r (id, key_id, request_id, cost_center,
	    budgets, amount, max_output_tokens, created_at, expires_at, state,
	    ended_at, actual, instance)
	SELECT e.id, e.key_id, e.request_id, e.cc, e.budgets::bigint[],
	    e.amount, e.max_output, e.created, e.expires, e.state, e.ended,
	    e.actual, p_instance
	FROM unnest(p_id, p_key_id, p_request_id, p_cc, p_budgets, p_amount,
	    p_max_output, p_created, p_expires, p_state, p_ended, p_actual)
	    AS e (id, key_id, request_id, cc, budgets, amount, max_output,
	    created, expires, state, ended, actual)
	ORDER BY e.id
	ON CONFLICT (id) DO UPDATE SET state = excluded.state,
	    ended_at = excluded.ended_at, actual = excluded.actual
	WHERE r.state = 'held'
$$;
