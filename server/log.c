/*
 * log.c - the log line writer. Each line is formatted into one buffer and
 * written with a single write(2), so lines from a crash or from several
 * processes sharing the descriptor never interleave mid-line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "server/log.h"

int log_min_level = LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_write(int level, const char *fmt, ...)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int r;
	va_list ap;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof line, "ts=%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof line - n, ".%06ldZ level=%s ",
	    (long)tv.tv_usec, level_names[level & 3]);
	n += (size_t)r;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		r = 0;
	n += (size_t)r;
	if (n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	/* A failed log write has nowhere to be reported. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

const char *
log_escape(const char *s, char *buf, size_t bufsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	unsigned char c;

	if (bufsz < 8) {
		if (bufsz > 0)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (; s != NULL && *s != '\0'; s++) {
		if (o + 8 >= bufsz) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static void
libevent_log(int severity, const char *msg)
{
	char esc[512];
	int level = severity == EVENT_LOG_DEBUG ? LOG_DEBUG :
	    severity == EVENT_LOG_MSG ? LOG_INFO :
	    severity == EVENT_LOG_WARN ? LOG_WARN : LOG_ERROR;

	if (log_enabled(level))
		log_write(level, "event=libevent msg=%s",
		    log_escape(msg, esc, sizeof esc));
}

void
log_hook_libevent(void)
{
	event_set_log_callback(libevent_log);
}
