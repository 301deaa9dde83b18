-- $1 rule id, $2 key id
SELECT status, rule::text FROM allocation_rule_delete($1::bigint, $2)
