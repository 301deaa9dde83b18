/*
 * spool.c - the write-ahead spool.
 *
 * spool.ndjson takes appends: one row per line, written with one write()
 * and made durable with fdatasync() before the caller replies. Replaying
 * starts by renaming it to replay-<n>.ndjson (new appends go to a fresh
 * spool.ndjson), then sends the renamed file's rows through usage_ingest()
 * in batches, one batch at a time, and unlinks the file once every batch
 * is committed. A crash at any point leaves the file behind, and it is
 * replayed again at the next start: rows already booked come back as
 * duplicates, so nothing is booked twice and nothing acknowledged is lost.
 * Rows the database refuses (a conflicting id, a cost center that no
 * longer resolves) are kept in rejected.ndjson with the reason, and logged.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <jansson.h>

#include "server/budgets.h"
#include "server/http.h"
#include "server/log.h"
#include "server/spool.h"

#define REPLAY_EVERY_MS 500

struct spool {
	struct tg_server *srv;
	char dir[900];
	int fd;				/* spool.ndjson, appending */
	size_t pending;			/* rows appended, not yet replayed */
	unsigned seq;			/* next replay file number */
	struct event *timer;
	/* The replay in progress. */
	char file[1300];
	char *data;			/* the file's contents */
	char **lines;
	size_t nlines, next;		/* rows, and the first not sent */
	size_t sent;			/* rows in the batch in flight */
	int busy;
};

static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Cut a file back to its last complete line: what follows was never
 * acknowledged (its append failed, or the machine stopped mid-write). */
static void
cut_torn_tail(int fd)
{
	off_t end = lseek(fd, 0, SEEK_END), pos = end;
	char c;

	while (pos > 0 && pread(fd, &c, 1, pos - 1) == 1 && c != '\n')
		pos--;
	if (pos != end && ftruncate(fd, pos) == 0)
		fdatasync(fd);
}

static int
open_append(struct spool *sp)
{
	char path[1000];

	snprintf(path, sizeof path, "%s/spool.ndjson", sp->dir);
	sp->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (sp->fd < 0)
		return -1;
	cut_torn_tail(sp->fd);
	/* The file's name must survive a power loss as well as its rows. */
	return sync_dir(sp->dir);
}

int
spool_append(struct spool *sp, char *const *rows, size_t n)
{
	struct evbuffer *buf = evbuffer_new();
	size_t i, len, done = 0;
	const char *data;
	off_t start;
	ssize_t w;

	if (sp->fd < 0 && open_append(sp) != 0)
		goto fail;
	if (buf == NULL || (start = lseek(sp->fd, 0, SEEK_END)) < 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (rows[i] != NULL)
			evbuffer_add_printf(buf, "{%s\n", rows[i]);
	len = evbuffer_get_length(buf);
	data = (const char *)evbuffer_pullup(buf, -1);
	while (done < len) {
		w = write(sp->fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto torn;
		done += (size_t)w;
	}
	if (fdatasync(sp->fd) != 0)
		goto torn;
	for (i = 0; i < n; i++)
		sp->pending += rows[i] != NULL;
	evbuffer_free(buf);
	return 0;
torn:
	/* Not acknowledged: take back what part of it was written. */
	if (ftruncate(sp->fd, start) == 0)
		fdatasync(sp->fd);
fail:
	log_error("event=spool_write_failed error=\"%s\"", strerror(errno));
	if (buf != NULL)
		evbuffer_free(buf);
	return -1;
}

size_t
spool_pending(const struct spool *sp)
{
	return sp != NULL ? sp->pending : 0;
}

/* n of a "replay-<n>.ndjson" name, exactly; -1 for any other name. */
static long
replay_number(const char *name)
{
	unsigned n;
	int end = 0;

	if (sscanf(name, "replay-%u.ndjson%n", &n, &end) != 1 ||
	    end == 0 || name[end] != '\0')
		return -1;
	return (long)n;
}

static void
replay_reset(struct spool *sp)
{
	free(sp->data);
	free(sp->lines);
	sp->data = NULL;
	sp->lines = NULL;
	sp->nlines = sp->next = sp->sent = 0;
	sp->file[0] = '\0';
}

/* Load the oldest replay file, if any, into memory. */
static int
load_next(struct spool *sp)
{
	DIR *d = opendir(sp->dir);
	struct dirent *de;
	char best[300] = "";
	unsigned n, best_n = 0;
	struct stat st;
	FILE *fp;
	size_t i;
	char *p, *nl;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (replay_number(de->d_name) >= 0 && (best[0] == '\0' ||
		    (unsigned)replay_number(de->d_name) < best_n)) {
			best_n = (unsigned)replay_number(de->d_name);
			snprintf(best, sizeof best, "%s", de->d_name);
		}
	closedir(d);
	if (best[0] == '\0')
		return 0;
	snprintf(sp->file, sizeof sp->file, "%s/%s", sp->dir, best);
	if ((fp = fopen(sp->file, "r")) == NULL || fstat(fileno(fp), &st) != 0) {
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	sp->data = malloc((size_t)st.st_size + 1);
	if (sp->data == NULL || fread(sp->data, 1, (size_t)st.st_size, fp) !=
	    (size_t)st.st_size) {
		fclose(fp);
		replay_reset(sp);
		return -1;
	}
	fclose(fp);
	sp->data[st.st_size] = '\0';
	for (i = 0, n = 0; i < (size_t)st.st_size; i++)
		n += sp->data[i] == '\n';
	if ((sp->lines = calloc(n + 1, sizeof *sp->lines)) == NULL) {
		replay_reset(sp);
		return -1;
	}
	/* Only whole lines that are JSON objects are rows: anything else
	 * (a torn tail, zeros after a power loss) was never acknowledged. */
	for (p = sp->data; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		json_t *row;

		*nl = '\0';
		row = json_loads(p, 0, NULL);
		if (json_is_object(row))
			sp->lines[sp->nlines++] = p;
		json_decref(row);
	}
	return 1;
}

static void send_batch(struct spool *sp);

/* Keep the rows of the batch in flight in rejected.ndjson, with why. */
static void
set_aside(struct spool *sp, const char *why)
{
	char path[1000];
	size_t i;
	int fd;

	log_error("event=spool_batch_refused sqlstate=%s rows=%zu", why,
	    sp->sent);
	snprintf(path, sizeof path, "%s/rejected.ndjson", sp->dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) < 0)
		return;
	for (i = 0; i < sp->sent && sp->next + i < sp->nlines; i++)
		dprintf(fd, "{\"status\":\"sqlstate %s\",\"row\":%s}\n", why,
		    sp->lines[sp->next + i]);
	fdatasync(fd);
	close(fd);
}

static void
replay_cb(void *arg, const struct db_result *res)
{
	struct spool *sp = arg;
	char path[1000];
	size_t i;
	int fd;

	sp->busy = 0;
	if (res->status == DB_ERROR && strncmp(res->sqlstate, "40", 2) != 0 &&
	    strcmp(res->sqlstate, "57014") != 0 &&
	    strncmp(res->sqlstate, "53", 2) != 0 &&
	    strncmp(res->sqlstate, "08", 2) != 0) {
		/* The database refuses this batch itself: set its rows aside
		 * (kept, and logged) rather than retry them for ever. */
		set_aside(sp, res->sqlstate);
		sp->next += sp->sent;
		sp->sent = 0;
		send_batch(sp);
		return;
	}
	if (res->status != DB_OK) {
		/* Unreachable or busy: try again on the next tick. */
		sp->sent = 0;
		return;
	}
	for (i = 0; i < (size_t)PQntuples(res->res); i++) {
		const char *st = PQgetvalue(res->res, (int)i, 1);
		size_t row = sp->next + (size_t)atoll(PQgetvalue(res->res,
		    (int)i, 0));

		if (strcmp(st, "recorded") == 0)
			budgets_booked(sp->srv->budgets, res->res, (int)i, 3, 5);
		if (strcmp(st, "recorded") == 0 || strcmp(st, "duplicate") == 0)
			continue;
		log_error("event=spool_row_refused status=%s", st);
		snprintf(path, sizeof path, "%s/rejected.ndjson", sp->dir);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0600)) >= 0) {
			dprintf(fd, "{\"status\":\"%s\",\"row\":%s}\n", st,
			    row < sp->nlines ? sp->lines[row] : "null");
			fdatasync(fd);
			close(fd);
		}
	}
	sp->pending = sp->pending > sp->sent ? sp->pending - sp->sent : 0;
	sp->next += sp->sent;
	sp->sent = 0;
	if (sp->next >= sp->nlines) {
		if (unlink(sp->file) == 0) {
			sync_dir(sp->dir);
			log_info("event=spool_replayed rows=%zu", sp->nlines);
		} else {
			/* Replaying it again books nothing twice, but say so. */
			log_error("event=spool_unlink_failed error=\"%s\"",
			    strerror(errno));
		}
		replay_reset(sp);
		return;
	}
	send_batch(sp);
}

static void
send_batch(struct spool *sp)
{
	struct evbuffer *buf;
	const char *params[2], *text;
	size_t i, max = (size_t)sp->srv->cfg.ingest_batch;

	if (sp->busy || !db_pool_up(sp->srv->db))
		return;
	if (sp->lines == NULL && load_next(sp) <= 0)
		return;
	if ((buf = evbuffer_new()) == NULL)
		return;
	evbuffer_add(buf, "[", 1);
	for (i = 0; i < max && sp->next + i < sp->nlines; i++)
		evbuffer_add_printf(buf, "%s{\"n\":%zu,%s", i ? "," : "", i,
		    sp->lines[sp->next + i] + 1);
	evbuffer_add(buf, "]", 2);
	sp->sent = i;
	text = (const char *)evbuffer_pullup(buf, -1);
	params[0] = text;
	params[1] = sp->srv->cfg.auto_create_cost_centers ? "true" : "false";
	/* Busy before the query: its callback may run before db_query
	 * returns (a send that fails at once), and it clears the flag. */
	sp->busy = 1;
	if (text == NULL || db_query(sp->srv->db, "usage_ingest", 2, params,
	    replay_cb, sp) != 0) {
		sp->busy = 0;
		sp->sent = 0;
	}
	evbuffer_free(buf);
}

/* Start replaying what was appended, when PostgreSQL can be reached. */
static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct spool *sp = arg;
	struct stat st;
	char from[1000], to[1000];

	(void)fd;
	(void)what;
	if (sp->busy || !db_pool_up(sp->srv->db))
		return;
	snprintf(from, sizeof from, "%s/spool.ndjson", sp->dir);
	if (sp->lines == NULL && stat(from, &st) == 0 && st.st_size > 0) {
		snprintf(to, sizeof to, "%s/replay-%u.ndjson", sp->dir,
		    sp->seq++);
		if (rename(from, to) == 0) {
			sync_dir(sp->dir);
			close(sp->fd);
			/* On failure spool_append tries again. */
			if (open_append(sp) != 0)
				log_error("event=spool_reopen_failed");
		}
	}
	send_batch(sp);
}

struct spool *
spool_open(struct tg_server *srv, const char *dir, char *err, size_t errsz)
{
	struct spool *sp = calloc(1, sizeof *sp);
	struct timeval tv = { 0, REPLAY_EVERY_MS * 1000 };
	DIR *d;
	struct dirent *de;

	if (sp == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	sp->srv = srv;
	snprintf(sp->dir, sizeof sp->dir, "%s", dir);
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) || open_append(sp) != 0) {
		snprintf(err, errsz, "TOLLGATE_SPOOL_DIR: cannot use %s: %s",
		    dir, strerror(errno));
		free(sp);
		return NULL;
	}
	/* Replay files left by an earlier run keep their numbers. */
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (replay_number(de->d_name) >= (long)sp->seq)
				sp->seq = (unsigned)replay_number(de->d_name) + 1;
		closedir(d);
	}
	sp->timer = event_new(srv->base, -1, EV_PERSIST, tick, sp);
	if (sp->timer == NULL || event_add(sp->timer, &tv) != 0) {
		snprintf(err, errsz, "cannot start the spool timer");
		spool_close(sp);
		return NULL;
	}
	return sp;
}

void
spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->timer != NULL)
		event_free(sp->timer);
	if (sp->fd >= 0)
		close(sp->fd);
	replay_reset(sp);
	free(sp);
}
