-- Spend per UTC day by cost center and provider or model from the daily
-- rollup (usage_daily), as report_spend_rollup.sql answers other
-- groupings: its rows as they stand, one per cost center, provider
-- and model, ordered by the day then the dimensions asked for, so that
-- the rows of one group follow each other and the server adds them up
-- (spend_rows.c). $1, $2 at midnight UTC or NULL; $3, $4, $5 group by
-- cost center, provider, model; $8 'day'; $6 false, $7 NULL and $10 the
-- meters (unused); $9 a subtree or NULL. Dimensions not asked for are
-- NULL; the quantities come as usage_daily keeps them (0011), a bigint[]
-- in the meters' order that the server names.
--
-- Read in the primary key's order (day, cost center, provider, model),
-- the rows need at most a sort within each day or cost center's rows
-- (an incremental sort), where adding them up here took a hash of a
-- year's rows and a sort of the groups. That takes a plan made for the
-- call's values (server/db.c): the generic plan cannot see which
-- dimensions are NULL.
-- tollgate: plan each call
SELECT CASE WHEN $3::boolean THEN r.cost_center END,
    CASE WHEN $4::boolean THEN r.provider END,
    CASE WHEN $5::boolean THEN r.model END, NULL::text, NULL::text,
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
  AND $8::text = 'day' AND $6::boolean IS NOT TRUE AND $7::text IS NULL
  AND $10::text[] IS NOT NULL
-- The period's text sorts as the day: the order of the other queries.
ORDER BY r.day, 1, 2, 3
