-- The trial balance: every posting ever made sums to zero per currency, and
-- every transaction is balanced with at least two postings.
SELECT
	(SELECT count(*) FROM transactions) AS transactions,
	(SELECT count(*) FROM postings) AS postings,
	(SELECT coalesce(sum(amount), 0)::text FROM postings) AS trial_balance,
	(SELECT coalesce(array_agg(id ORDER BY id), '{}')::text FROM (
		SELECT t.id FROM transactions t
		LEFT JOIN postings p ON p.transaction_id = t.id
		LEFT JOIN accounts a ON a.id = p.account_id
		GROUP BY t.id, a.currency
		HAVING count(p.seq) < 2 OR sum(p.amount) <> 0
		ORDER BY t.id LIMIT 100) bad) AS unbalanced
