-- One price version with its import report. $1 id
SELECT v.id, tg_rfc3339(v.effective_from), v.source, v.note,
    coalesce(v.created_by, ''), tg_rfc3339(v.created_at),
    (SELECT count(*) FROM price_entries e WHERE e.version_id = v.id),
    v.report::text
FROM price_versions v
WHERE v.id = $1::bigint
