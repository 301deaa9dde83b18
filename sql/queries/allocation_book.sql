-- $1 the split allocation (see allocation_book in 0006), $2 key id.
SELECT status, allocation::text FROM allocation_book($1::jsonb, $2)
