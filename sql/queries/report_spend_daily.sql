-- Spend per UTC day by cost center and provider or model from the daily
-- rollup (usage_daily), as report_spend_rollup.sql answers other
-- groupings: its rows as they stand, one per cost center, provider
-- and model, unordered: the server orders them by day and the
-- dimensions asked for and adds up the rows of one group
-- (spend_rows.c). $1, $2 at midnight UTC or NULL; $3, $4, $5 group by
-- cost center, provider, model; $8 'day'; $6 false, $7 NULL and $10 the
-- meters (unused); $9 a subtree or NULL. Dimensions not asked for are
-- NULL; the quantities come as usage_daily keeps them (0011), a bigint[]
-- in the meters' order that the server names.
--
-- Adding them up here took a hash of a year's rows and a sort of the
-- groups. Planned at each call for its values (server/db.c), for the
-- subtree's condition.
-- tollgate: plan each call
SELECT CASE WHEN $3::boolean THEN r.cost_center END,
    CASE WHEN $4::boolean THEN r.provider END,
    CASE WHEN $5::boolean THEN r.model END, NULL::text, NULL::text,
    r.day::text || 'T00:00:00Z', r.cost,
    r.list_cost, r.events, r.quantities
FROM usage_daily r
WHERE r.day >= coalesce(($1::timestamptz AT TIME ZONE 'UTC')::date,
        '-infinity'::date)
  AND r.day < coalesce(($2::timestamptz AT TIME ZONE 'UTC')::date,
        'infinity'::date)
  AND ($9::text IS NULL OR r.cost_center COLLATE "C" = $9::text
      OR (r.cost_center COLLATE "C" > $9::text || '/'
          AND r.cost_center COLLATE "C" < $9::text || '0'))
  AND $8::text = 'day' AND $6::boolean IS NOT TRUE AND $7::text IS NULL
  AND $10::text[] IS NOT NULL
-- Unordered: the server orders the rows (spend_rows.c).
