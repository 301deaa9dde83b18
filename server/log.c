/*
 * log.c - the log line writer. Each line is formatted into one buffer and
 * written with a single write(2) (alone, or with other whole request
 * lines), so lines from a crash or from several processes sharing the
 * descriptor never interleave mid-line.
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

/*
 * Lines written with log_write_batched wait here for log_flush instead of
 * costing a write(2) each (request lines, one per request, were a
 * noticeable part of a short request). At most PIPE_BUF bytes, so that
 * one write of the batch is still atomic on a pipe; any other line
 * flushes the batch first, so lines stay in order.
 */
#define LOG_LINE_MAX 2048
static char batch[2 * LOG_LINE_MAX];
static size_t nbatch;

/* The timestamp's text is made once a second, not once a line. */
static time_t stamp_sec = -1;
static char stamp[32];
static size_t nstamp;

static size_t
vformat(char *line, size_t size, int level, const char *fmt, va_list ap)
{
	struct timeval tv;
	struct tm tm;
	size_t n;
	int r;

	gettimeofday(&tv, NULL);
	if (tv.tv_sec != stamp_sec) {
		gmtime_r(&tv.tv_sec, &tm);
		nstamp = strftime(stamp, sizeof stamp, "ts=%Y-%m-%dT%H:%M:%S",
		    &tm);
		stamp_sec = tv.tv_sec;
	}
	memcpy(line, stamp, nstamp);
	n = nstamp;
	r = snprintf(line + n, size - n, ".%06ldZ level=%s ",
	    (long)tv.tv_usec, level_names[level & 3]);
	n += (size_t)r;
	r = vsnprintf(line + n, size - n - 1, fmt, ap);
	if (r < 0)
		r = 0;
	n += (size_t)r;
	if (n > size - 2)
		n = size - 2;
	line[n++] = '\n';
	return n;
}

void
log_flush(void)
{
	/* A failed log write has nowhere to be reported. */
	if (nbatch > 0)
		(void)!write(STDERR_FILENO, batch, nbatch);
	nbatch = 0;
}

void
log_write(int level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	n = vformat(line, sizeof line, level, fmt, ap);
	va_end(ap);
	log_flush();
	(void)!write(STDERR_FILENO, line, n);
}

void
log_write_batched(int level, const char *fmt, ...)
{
	va_list ap;

	if (sizeof batch - nbatch < LOG_LINE_MAX)
		log_flush();
	va_start(ap, fmt);
	nbatch += vformat(batch + nbatch, LOG_LINE_MAX, level, fmt, ap);
	va_end(ap);
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
