-- Reservations in their latest state, as columns: see
-- reservations_write_cols() in 0013_reservations_cols.sql.
SELECT reservations_write_cols($1::text[], $2::text[], $3::text[],
    $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::timestamptz[],
    $9::timestamptz[], $10::text[], $11::timestamptz[], $12::bigint[],
    $13::text)
