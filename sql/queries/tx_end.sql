-- The end of a held connection's read-only snapshot (db_release).
ROLLBACK
