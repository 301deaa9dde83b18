-- New holds are written as one row per write: the columns the server
-- already sends (reservations_insert.sql's first nine parameters, PostgreSQL
-- array text), stored as they come and parsed only when an instance starts
-- and takes its holds back. A row per hold cost PostgreSQL about 6 us
-- (the row, two index entries, parsing nine array elements); on a busy
-- budget that is a quarter of a core, on the cores that answer decisions.
--
-- A hold's end (settled, released, expired) is still written to
-- `reservations`, where ended holds are kept by day; a hold present there
-- is not held, whatever the log says. A log row whose holds have all
-- expired is deleted by the instance's next write.
CREATE TABLE reservation_log (
	instance     text NOT NULL,
	written_at   timestamptz NOT NULL DEFAULT now(),
	expires_max  timestamptz NOT NULL,
	ids          text NOT NULL,
	key_ids      text NOT NULL,
	request_ids  text NOT NULL,
	cost_centers text NOT NULL,
	budgets      text NOT NULL,
	amounts      text NOT NULL,
	max_outputs  text NOT NULL,
	created      text NOT NULL,
	expires      text NOT NULL
);
CREATE INDEX reservation_log_live ON reservation_log (instance, expires_max);

-- The logged holds one row each, for reservations_load.sql, people and
-- tests; an entry may be repeated (a write whose answer was lost is
-- written again). `budgets` stays the array's text.
CREATE VIEW reservation_log_holds AS
SELECT l.instance, e.id, e.key_id, e.request_id, e.cost_center, e.budgets,
    e.amount, e.max_output_tokens, e.created_at, e.expires_at,
    l.written_at, l.expires_max
FROM reservation_log l,
    unnest(l.ids::text[], l.key_ids::text[], l.request_ids::text[],
    l.cost_centers::text[], l.budgets::text[], l.amounts::bigint[],
    l.max_outputs::bigint[], l.created::timestamptz[],
    l.expires::timestamptz[])
    AS e (id, key_id, request_id, cost_center, budgets, amount,
    max_output_tokens, created_at, expires_at);
