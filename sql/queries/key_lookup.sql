-- $1 SHA-256 of the presented secret, hex
SELECT id, role, coalesce(scope, ''), coalesce(cost_center, '') FROM api_keys
WHERE secret_hash = decode($1, 'hex') AND revoked_at IS NULL
