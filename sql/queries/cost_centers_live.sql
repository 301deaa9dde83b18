-- Cost centers changed after $1 (epoch microseconds; 0 for all), for the
-- decisions' check that a cost center exists and is not archived.
SELECT id, archived, (extract(epoch FROM updated_at) * 1000000)::bigint
FROM cost_centers
WHERE updated_at > 'epoch'::timestamptz + $1::bigint * interval '1 microsecond'
ORDER BY updated_at
