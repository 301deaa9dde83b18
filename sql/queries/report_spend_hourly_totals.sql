-- Spend per UTC hour without cost centers and over every cost center
-- (no subtree), as report_spend_hourly.sql answers it: $1, $2 on the
-- hour or NULL; $3 false; $4, $5 group by provider, model; $6 false, $7
-- NULL, $9 NULL and $10 the meters (unused); $8 'hour'.
--
-- The hours of days folded and not marked since (0024) come from the
-- hourly sums without cost centers (per provider, or per provider and
-- model when grouped by model), the others (today's, a late event's)
-- from the hourly rollup. The rows come as they stand, unordered: the
-- server orders them by hour and the dimensions asked for and adds up
-- the rows of one group (spend_rows.c): per provider a year is 8,760
-- rows, as many as groups.
--
-- Planned at each call for its values (server/db.c).
-- tollgate: plan each call
SELECT NULL::text, CASE WHEN $4::boolean THEN r.provider END,
    CASE WHEN $5::boolean THEN r.model END, NULL::text, NULL::text,
    replace(r.hour::text, ' ', 'T') || 'Z', r.cost,
    r.list_cost, r.events, r.quantities
FROM (SELECT h.hour, h.provider, NULL::text AS model, h.events,
        h.list_cost, h.cost, h.quantities
    FROM usage_hourly_p h
    WHERE NOT $5::boolean
      AND h.hour >= coalesce($1::timestamptz AT TIME ZONE 'UTC',
          '-infinity'::timestamp)
      AND h.hour < coalesce($2::timestamptz AT TIME ZONE 'UTC',
          'infinity'::timestamp)
      AND NOT h.hour::date = ANY ((SELECT tg_periods_marked('day'))::date[])
    UNION ALL
    SELECT h.hour, h.provider, h.model, h.events, h.list_cost, h.cost,
        h.quantities
    FROM usage_hourly_pm h
    WHERE $5::boolean
      AND h.hour >= coalesce($1::timestamptz AT TIME ZONE 'UTC',
          '-infinity'::timestamp)
      AND h.hour < coalesce($2::timestamptz AT TIME ZONE 'UTC',
          'infinity'::timestamp)
      AND NOT h.hour::date = ANY ((SELECT tg_periods_marked('day'))::date[])
    UNION ALL
    SELECT h.hour, h.provider, h.model, h.events, h.list_cost, h.cost,
        h.quantities
    FROM usage_hourly h
    WHERE h.hour >= coalesce($1::timestamptz AT TIME ZONE 'UTC',
          '-infinity'::timestamp)
      AND h.hour < coalesce($2::timestamptz AT TIME ZONE 'UTC',
          'infinity'::timestamp)
      -- The first marked day on (an index range), then those days and
      -- the days not folded.
      AND h.hour >= (SELECT tg_periods_since('day'))
      AND (h.hour >= (SELECT tg_periods_through())
          OR h.hour::date = ANY ((SELECT tg_periods_marked('day'))::date[]))) r
WHERE $8::text = 'hour' AND NOT $3::boolean AND NOT $6::boolean
  AND $7::text IS NULL AND $9::text IS NULL AND $10::text[] IS NOT NULL
-- Unordered: the server orders the rows (spend_rows.c).
