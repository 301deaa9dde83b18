-- New holds of instance $10, as the array text of reservations_insert.sql's
-- first nine parameters ($1 ids .. $9 expires), stored unparsed
-- (sql/0025_reservation_log.sql); $11 the latest expiry among them. The
-- instance's log rows whose holds have all expired go in the same step.
WITH gone AS (
	DELETE FROM reservation_log
	WHERE instance = $10 AND expires_max < now()
)
INSERT INTO reservation_log (instance, expires_max, ids, key_ids,
    request_ids, cost_centers, budgets, amounts, max_outputs, created,
    expires)
VALUES ($10, $11, $1, $2, $3, $4, $5, $6, $7, $8, $9)
