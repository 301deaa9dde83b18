-- $1 position, $2 match, $3 tag, $4 value, $5 cost center, $6 key id
SELECT status, rule::text
FROM allocation_rule_create($1::int, $2, $3, $4, $5, $6)
