-- $1 holder, $2 budget ids, $3 floors, $4 ends; see lease_return().
SELECT lease_return($1, $2::bigint[], $3::bigint[], $4::timestamptz[])
