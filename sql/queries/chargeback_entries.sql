-- One page of the chargeback's ledger entries beside usage: each posting
-- to an expense account of a manual adjustment or a shared-cost
-- reallocation in the month, with what the allocation says about it.
-- $1 the month's start, $2 its end, $3 'day' or 'month', $4, $5 the last
-- (transaction, posting) of the previous page (NULL for the first page),
-- $6 rows per page. Ordered by transaction and posting.
SELECT date_trunc($3::text, t.occurred_at AT TIME ZONE 'UTC')::date::text,
    substr(a.name, 9) AS cost_center, t.kind, p.amount, t.memo,
    coalesce(cc.name, substr(a.name, 9)), coalesce(cc.tags, '{}')::text,
    (SELECT min(substr(pa.name, 9)) FROM postings pp
     JOIN accounts pa ON pa.id = pp.account_id
     WHERE pp.transaction_id = t.id AND pp.occurred_at = t.occurred_at
       AND pa.name LIKE 'payable:%'
     HAVING count(DISTINCT pa.name) = 1) AS provider,
    al.id, al.method, al.source,
    CASE WHEN al.id IS NULL THEN NULL
        WHEN ap.seq IS NOT NULL THEN jsonb_build_object(
            'Elements', jsonb_build_array(allocation_element(al.method, ap)),
            'x_AllocationId', al.id)
        ELSE jsonb_build_object(
            'Elements', (SELECT jsonb_agg(allocation_element(al.method, x)
                || jsonb_build_object('x_CostCenter', x.cost_center)
                ORDER BY x.seq)
                FROM allocation_parts x WHERE x.allocation_id = al.id),
            'x_AllocationId', al.id) END::text,
    (SELECT s.tags::text FROM cost_centers s WHERE s.id = al.source),
    t.id, p.seq
FROM transactions t
JOIN postings p ON p.transaction_id = t.id AND p.occurred_at = t.occurred_at
JOIN accounts a ON a.id = p.account_id
LEFT JOIN cost_centers cc ON cc.id = substr(a.name, 9)
LEFT JOIN allocations al ON t.kind = 'reallocation'
    AND al.transaction_id = t.id AND al.occurred_at = t.occurred_at
LEFT JOIN allocation_parts ap ON ap.allocation_id = al.id
    AND ap.cost_center = substr(a.name, 9)
WHERE t.kind IN ('adjustment', 'reallocation')
  AND t.occurred_at >= $1::timestamptz AND t.occurred_at < $2::timestamptz
  AND a.name LIKE 'expense:%'
  AND ($4::bigint IS NULL OR (t.id, p.seq) > ($4::bigint, $5::int))
ORDER BY t.id, p.seq
LIMIT $6::int
