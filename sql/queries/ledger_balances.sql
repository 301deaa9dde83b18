-- Debits and credits per account over an optional window of occurred_at.
-- $1 account name or NULL for all; $2 'true' to fold the account's subtree
-- into it; $3, $4 window [from, to) or NULL.
WITH matched AS (
	SELECT a.id, a.currency,
	    CASE WHEN $2::boolean THEN $1::text ELSE a.name END AS name
	FROM accounts a
	WHERE $1::text IS NULL OR a.name = $1::text
	    OR ($2::boolean AND left(a.name, length($1::text) + 1) = $1::text || '/')
)
SELECT m.name, m.currency,
    coalesce(sum(w.amount) FILTER (WHERE w.amount > 0), 0)::bigint AS debits,
    coalesce(-sum(w.amount) FILTER (WHERE w.amount < 0), 0)::bigint AS credits
FROM matched m
LEFT JOIN (
	SELECT p.account_id, p.amount
	FROM postings p
	WHERE ($3::timestamptz IS NULL OR p.occurred_at >= $3::timestamptz)
	  AND ($4::timestamptz IS NULL OR p.occurred_at < $4::timestamptz)
) w ON w.account_id = m.id
GROUP BY m.name, m.currency
ORDER BY m.name, m.currency
