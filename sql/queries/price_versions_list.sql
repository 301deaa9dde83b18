SELECT v.id, tg_rfc3339(v.effective_from), v.source, v.note,
    coalesce(v.created_by, ''), tg_rfc3339(v.created_at),
    (SELECT count(*) FROM price_entries e WHERE e.version_id = v.id)
FROM price_versions v
ORDER BY v.effective_from
