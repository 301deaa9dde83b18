-- $1 source, $2 targets (text[]), $3 from, $4 to, $5 allocation id, $6
-- request hash (hex): the cost centers that do not exist, the source's
-- balance and the targets' own spend, and, when the id was used before,
-- 'duplicate' or 'conflict' and that allocation.
SELECT i.missing::text, i.amount, i.weights::text,
    CASE WHEN a.id IS NULL THEN NULL
        WHEN a.request_hash = decode($6, 'hex') THEN 'duplicate'
        ELSE 'conflict' END,
    allocation_json(a.id)::text
FROM allocation_inputs($1, $2::text[], $3::timestamptz, $4::timestamptz) i
LEFT JOIN allocations a ON a.id = $5
