/*
 * log.h - one line per event on standard error, key=value, readable by a
 * person and unforgeable by a client: untrusted values go through
 * log_escape(), which quotes them and escapes anything but printable ASCII.
 */
#ifndef TOLLGATE_LOG_H
#define TOLLGATE_LOG_H

#include <stddef.h>

#include "server/config.h"

extern int log_min_level;

#define log_enabled(lvl) ((lvl) >= log_min_level)

/* Write "ts=... level=... " then the formatted rest, then a newline. */
void log_write(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same line, written with others at the next log_flush (or sooner,
 * when the batch is full or another line is written): for lines written
 * at every request. The event loop flushes every few milliseconds, so a
 * crash loses at most those. */
void log_write_batched(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_flush(void);

#define log_debug(...) do { if (log_enabled(LOG_DEBUG)) log_write(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...) do { if (log_enabled(LOG_INFO)) log_write(LOG_INFO, __VA_ARGS__); } while (0)
#define log_warn(...) do { if (log_enabled(LOG_WARN)) log_write(LOG_WARN, __VA_ARGS__); } while (0)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

/*
 * Quote s for a log line into buf (always NUL-terminated, truncated with
 * "..." when too long). Returns buf.
 */
const char *log_escape(const char *s, char *buf, size_t bufsz);

/* Route libevent's own warnings into our log. */
void log_hook_libevent(void);

#endif
