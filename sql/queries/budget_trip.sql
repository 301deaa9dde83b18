-- $1 budget id, $2 when it tripped; see budget_trip().
SELECT t.status FROM budget_trip($1::bigint, $2::timestamptz) t
