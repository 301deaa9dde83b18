-- The daily cost (with corrections) of a cost center's subtree over the 35
-- days ending with $2 (today, UTC), as (index 0..34, cost); days without
-- usage are absent. $1 the cost center.
SELECT (d.day - $2::date + 34)::int, sum(d.cost)::text
FROM usage_daily d
WHERE (d.cost_center COLLATE "C" = $1::text
    OR (d.cost_center COLLATE "C" > $1::text || '/'
        AND d.cost_center COLLATE "C" < $1::text || '0'))
  AND d.day > $2::date - 35 AND d.day <= $2::date
GROUP BY d.day
