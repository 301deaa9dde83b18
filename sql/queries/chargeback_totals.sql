-- The totals of a month's chargeback CSV ($1, $2: the month's bounds):
-- BilledCost per cost center as the file's rows add up, every posting to
-- an expense account in the month (usage, corrections, adjustments,
-- reallocations).
SELECT substr(a.name, length('expense:') + 1), sum(p.amount)::bigint
FROM postings p
JOIN accounts a ON a.id = p.account_id
WHERE a.name LIKE 'expense:%'
  AND p.occurred_at >= $1::timestamptz AND p.occurred_at < $2::timestamptz
GROUP BY a.name
ORDER BY a.name
