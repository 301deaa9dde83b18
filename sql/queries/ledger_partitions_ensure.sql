-- The ledger's monthly partitions for the month past and the year ahead
-- (see sql/0004_partitions.sql); run at every start and daily.
SELECT ledger_partitions_ensure(now() - interval '1 month',
    now() + interval '12 months')
