-- Run at every start and daily: the ledger's monthly partitions for the
-- month past and the year ahead (see sql/0004_partitions.sql); the
-- reservations' daily ones for the days ahead, and the days that ended
-- two days ago or earlier dropped once none of their holds is still held
-- (sql/0021_reservations_by_day.sql); and the logged holds of every
-- instance, one that writes no more included, once all have expired
-- (sql/0025_reservation_log.sql).
WITH gone AS (
	DELETE FROM reservation_log WHERE expires_max < now()
)
SELECT ledger_partitions_ensure(now() - interval '1 month',
    now() + interval '12 months'),
    reservations_partitions_ensure(now() - interval '1 day',
    now() + interval '3 days'),
    reservations_partitions_drop(now() - interval '2 days')
