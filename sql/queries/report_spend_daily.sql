-- Spend by cost center, provider, model and UTC day from the daily
-- rollup (usage_daily), as report_spend_rollup.sql answers it: each
-- report row is a rollup row as it stands, read in the primary key's
-- order, which is the report's (the date's text sorts as the date). $1,
-- $2 at midnight UTC or NULL; $3, $4, $5 true and $8 'day'; $6 false, $7
-- NULL and $10 the meters (unused); $9 a subtree or NULL. The quantities
-- come as usage_daily keeps them (0011), a bigint[] in the meters' order
-- that the server names.
SELECT r.cost_center, r.provider, r.model, NULL::text, NULL::text,
    to_char(r.day, 'YYYY-MM-DD"T00:00:00Z"'), r.cost::text,
    r.list_cost::text, r.events::text, r.quantities
FROM usage_daily r
WHERE r.day >= coalesce(($1::timestamptz AT TIME ZONE 'UTC')::date,
        '-infinity'::date)
  AND r.day < coalesce(($2::timestamptz AT TIME ZONE 'UTC')::date,
        'infinity'::date)
  AND ($9::text IS NULL OR r.cost_center COLLATE "C" = $9::text
      OR (r.cost_center COLLATE "C" > $9::text || '/'
          AND r.cost_center COLLATE "C" < $9::text || '0'))
  AND $3::boolean AND $4::boolean AND $5::boolean AND $8::text = 'day'
  AND $6::boolean IS NOT TRUE AND $7::text IS NULL
  AND $10::text[] IS NOT NULL
ORDER BY r.day, r.cost_center, r.provider, r.model
