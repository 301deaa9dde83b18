-- Fold the days bookings marked before today, and the days up to today,
-- into their weekly, monthly, daily and hourly sums (0024); how many
-- days. Run by the server's timer (main.c).
SELECT tg_fold_periods()
