-- Reservations in their latest state, one array per column ($1 ids, $2
-- key ids, $3 request ids, $4 cost centers, $5 budget ids (each element
-- an array literal, '{1,2}'), $6 amounts, $7 output ceilings, $8 created,
-- $9 expires, $10 states, $11 ended (NULL while held), $12 actual cost
-- (NULL unless settled)), all of instance $13. Columns rather than a
-- JSON document, and a statement rather than a function (which would be
-- planned at every call): the server writes every hold it makes, many
-- thousands a second on a busy budget, on the cores that answer
-- decisions. An ended hold's row is never changed again.
INSERT INTO reservations AS r (id, key_id, request_id, cost_center, budgets,
    amount, max_output_tokens, created_at, expires_at, state, ended_at,
    actual, instance)
SELECT e.id, e.key_id, e.request_id, e.cc, e.budgets::bigint[], e.amount,
    e.max_output, e.created, e.expires, e.state, e.ended, e.actual,
    $13::text
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
    $6::bigint[], $7::bigint[], $8::timestamptz[], $9::timestamptz[],
    $10::text[], $11::timestamptz[], $12::bigint[])
    AS e (id, key_id, request_id, cc, budgets, amount, max_output, created,
    expires, state, ended, actual)
ORDER BY e.id
ON CONFLICT (id, created_at) DO UPDATE SET state = excluded.state,
    ended_at = excluded.ended_at, actual = excluded.actual
WHERE r.state = 'held'
