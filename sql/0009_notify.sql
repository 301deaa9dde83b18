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
