-- $1 reservations in their latest state, see reservations_write()
SELECT reservations_write($1::jsonb)
