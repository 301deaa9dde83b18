-- $1 milliseconds: the statement timeout of the rest of a held
-- connection's transaction (SET LOCAL), for a statement that reads the
-- whole ledger; the pool's sessions keep their own.
SELECT set_config('statement_timeout', $1::text, true)
