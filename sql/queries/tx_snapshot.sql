-- One snapshot for every statement that follows on a held connection, so
-- that a report read in pages is one consistent picture of the ledger.
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY
