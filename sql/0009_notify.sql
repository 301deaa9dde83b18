-- Control-plane changes wake every instance at once (LISTEN
-- tollgate_config, on each pooled connection): the payload names the
-- table, and the instance reads what changed as its poll would. Polling
-- stays as the fallback for a notification lost with a connection.
CREATE FUNCTION tollgate_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('tollgate_config', TG_TABLE_NAME);
	RETURN NULL;
END
$$;

CREATE TRIGGER budgets_notify AFTER INSERT OR UPDATE OR DELETE ON budgets
	FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER cost_centers_notify AFTER INSERT OR UPDATE OR DELETE
	ON cost_centers
	FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER allocation_rules_notify AFTER INSERT OR UPDATE OR DELETE
	ON allocation_rules
	FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER price_versions_notify AFTER INSERT OR UPDATE OR DELETE
	ON price_versions
	FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER api_keys_notify AFTER INSERT OR UPDATE OR DELETE ON api_keys
	FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();

-- An anomaly pause is written behind the decision that tripped it (at
-- p_at, the instance's clock). A resume recorded since then wins: an
-- admin's resume that overtook the pause's write is not undone by it.
CREATE FUNCTION budget_trip(p_id bigint, p_at timestamptz)
RETURNS TABLE (status text, budget jsonb)
LANGUAGE plpgsql AS $$
BEGIN
	-- The resume's budget_write takes the same lock.
	PERFORM 1 FROM budgets b WHERE b.id = p_id FOR UPDATE;
	IF EXISTS (SELECT 1 FROM audit_log a WHERE a.entity = 'budget'
	    AND a.entity_id = p_id::text AND a.action = 'resume'
	    AND a.at >= p_at) THEN
		RETURN QUERY SELECT 'resumed'::text, NULL::jsonb;
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM budget_write('anomaly', p_id, '{}', NULL);
END
$$;
