-- $1 holder, $2 instance, $3 budget ids, $4 period starts, $5 period ends,
-- $6 floors, $7 wants, $8 lease ms, $9 drain ms; see lease_grant().
-- Columns as budget_spend.sql, then the grant and the other leases.
SELECT g.budget_id, g.spend::text, g.snap, g.granted, g.others
FROM lease_grant($1, $2, $3::bigint[], $4::timestamptz[],
    $5::timestamptz[], $6::bigint[], $7::bigint[], $8::bigint, $9::bigint) g
