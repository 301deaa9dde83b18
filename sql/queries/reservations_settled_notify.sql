-- $1 "rsv_id:cost," entries: reservations settled on this instance that
-- another instance holds (budgets_settled_elsewhere()).
SELECT pg_notify('tollgate_settle', $1)
