-- Fold the months bookings changed into their weekly and monthly sums
-- (0024); how many months. Run by the server's timer (main.c).
SELECT tg_fold_periods()
