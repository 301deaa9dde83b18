-- Spend by user from the rollups per user (0020), as
-- report_spend_events.sql answers it, for groupings by user (and any of
-- cost center, provider, model) over whole UTC days: $1, $2 at midnight
-- UTC or NULL; $3, $4, $5 group by cost center, provider, model; $6
-- true; $7 NULL and $10 the meters (unused); $8 granularity none, day,
-- week or month; $9 a subtree or NULL. The rollups' rows come as they
-- stand, unordered: the server orders them by period and the dimensions
-- asked for and adds up the rows of one group, their quantities (a
-- bigint[] in the meters' order) position by position (spend_rows.c),
-- as report_spend_daily.sql's: PostgreSQL's hash of the rows took as
-- long as their sort, and its sort of a year by user and day (80,000
-- rows) longer than reading them.
-- Events without a user are the group whose user is NULL, last among
-- equals as the events' report orders it.
-- Without provider or model, usage_user_cc_daily has the fifth of the
-- rows that usage_user_daily has; the plan made for the call's values
-- reads only the one its branch's condition leaves. Per week, per month
-- and for a whole window, the periods inside the window that no mark
-- made stale come from their weekly or monthly sums (0024, which hold
-- the days before the last fold's), the other days from the daily rows:
-- a year by user and model per month reads 13,200 rows, not 400,000.
--
-- Planned at each call for its values (server/db.c), as
-- report_spend_rollup.sql is: the plan reads one table of each pair.
-- tollgate: plan each call
SELECT CASE WHEN $3::boolean THEN r.cost_center END,
    CASE WHEN $4::boolean THEN r.provider END,
    CASE WHEN $5::boolean THEN r.model END, r.user_id, NULL::text,
    CASE WHEN $8::text = 'day' THEN r.day::text || 'T00:00:00Z'
        WHEN $8::text <> 'none' THEN date_trunc($8::text,
        r.day::timestamp)::date::text || 'T00:00:00Z' END,
    r.cost, r.list_cost, r.events, r.quantities
FROM (SELECT w.day, w.cost_center, NULL::text AS provider,
        NULL::text AS model, w.user_id, w.events, w.list_cost, w.cost,
        w.quantities
    FROM tg_user_cc_window(tg_utc_lo($1::timestamptz),
        tg_utc_hi($2::timestamptz), tg_fold_grain($8::text)) w
    WHERE NOT ($4::boolean OR $5::boolean)
    UNION ALL
    SELECT p.period AS day, p.cost_center,
        p.provider, p.model, p.user_id, p.events, p.list_cost,
        p.cost, p.quantities
    FROM usage_user_periods p
    WHERE ($4::boolean OR $5::boolean)
      AND p.grain = tg_fold_grain($8::text)
      AND p.period >= tg_utc_lo($1::timestamptz)
      AND p.period < tg_utc_hi($2::timestamptz)
      AND tg_period_served(p.grain, p.period, tg_utc_lo($1::timestamptz),
          tg_utc_hi($2::timestamptz),
          (SELECT tg_periods_marked(tg_fold_grain($8::text))))
    UNION ALL
    SELECT d.day AS day, d.cost_center,
        d.provider, d.model, d.user_id, d.events, d.list_cost,
        d.cost, d.quantities
    FROM usage_user_daily d
    WHERE ($4::boolean OR $5::boolean)
      AND d.day >= tg_utc_lo($1::timestamptz)
      AND d.day < tg_utc_hi($2::timestamptz)
      AND tg_day_unserved(tg_fold_grain($8::text), d.day,
          tg_utc_lo($1::timestamptz), tg_utc_hi($2::timestamptz),
          (SELECT tg_periods_marked(tg_fold_grain($8::text))),
          (SELECT tg_periods_since(tg_fold_grain($8::text))),
          (SELECT tg_periods_through()))) r
WHERE ($9::text IS NULL OR r.cost_center COLLATE "C" = $9::text
      OR (r.cost_center COLLATE "C" > $9::text || '/'
          AND r.cost_center COLLATE "C" < $9::text || '0'))
  AND $6::boolean AND $7::text IS NULL AND $10::text[] IS NOT NULL
-- Unordered: the server orders the rows (spend_rows.c).
