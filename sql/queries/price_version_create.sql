-- $1 effective_from, $2 source, $3 note, $4 key id, $5 report, $6 document
SELECT price_version_create($1::timestamptz, $2, $3, $4, $5::jsonb, $6::jsonb)
