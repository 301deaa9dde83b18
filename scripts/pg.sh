#!/bin/sh
# Private PostgreSQL clusters for `make run`, `make check` and `make bench`.
#
#   pg.sh start DIR   create the cluster in DIR when missing, start it when
#                     not running, print its libpq connection string
#   pg.sh stop DIR    stop it (fast shutdown)
#   pg.sh kill DIR    stop it at once (immediate shutdown), for fault tests
#   pg.sh reap        stop and remove throwaway clusters whose owner died
#
# A cluster listens on no TCP port: only on a unix socket in DIR/sock, so
# clusters never collide with each other or with a system PostgreSQL.
# initdb and postgres refuse to run as root, so as root they run as the
# `postgres` system user, which then owns DIR.
set -eu

BINDIR=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$BINDIR/initdb" ] || { echo "pg.sh: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 1; }

# From /, so that the tools need not be able to enter the caller's
# directory (a checkout under /root, say); paths given here are absolute.
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

url() {
	echo "host=$1/sock port=5432 user=postgres dbname=tollgate"
}

running() {
	as_owner "$BINDIR/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

start() {
	dir=$1
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir"
		if ! runuser -u postgres -- test -w "$dir"; then
			echo "pg.sh: the postgres user cannot write $dir (a parent directory is closed to it); set TOLLGATE_DATABASE_URL instead" >&2
			exit 1
		fi
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_owner mkdir -p "$dir/sock"
		as_owner "$BINDIR/initdb" -D "$dir/data" -U postgres -A trust \
		    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		    { cat "$dir/initdb.log" >&2; exit 1; }
		cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir/sock'
unix_socket_permissions = 0700
port = 5432
max_connections = 100
fsync = on
synchronous_commit = on
log_min_messages = warning
CONF
	fi
	if ! running "$dir"; then
		# A cluster killed with its owner leaves a stale pid file; pg_ctl
		# copes with it when the recorded process is gone.
		# In a session of its own, so that a Ctrl-C meant for the
		# foreground (make run, make check) does not reach it.
		as_owner setsid -w "$BINDIR/pg_ctl" -D "$dir/data" \
		    -l "$dir/server.log" -w -t 60 start >/dev/null ||
		    { tail -n 20 "$dir/server.log" >&2; exit 1; }
	fi
	if ! as_owner "$BINDIR/psql" -h "$dir/sock" -U postgres -d postgres -Atqc \
	    "SELECT 1 FROM pg_database WHERE datname = 'tollgate'" | grep -q 1; then
		as_owner "$BINDIR/createdb" -h "$dir/sock" -U postgres tollgate
	fi
	url "$dir"
}

stop() {
	[ -f "$1/data/PG_VERSION" ] || return 0
	running "$1" || return 0
	as_owner "$BINDIR/pg_ctl" -D "$1/data" -m "${2:-fast}" -w stop >/dev/null
}

reap() {
	for d in /tmp/tollgate-pg.*; do
		[ -d "$d" ] || continue
		owner=$(cat "$d/owner.pid" 2>/dev/null || echo "")
		if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
			continue
		fi
		stop "$d" immediate || true
		rm -rf "$d"
	done
}

abs() {
	(cd "$1" 2>/dev/null && pwd) || echo "$1"
}

case "${1:-}" in
start) start "$2" ;;
stop) stop "$(abs "$2")" fast ;;
kill) stop "$(abs "$2")" immediate ;;
url) url "$(cd "$2" && pwd)" ;;
reap) reap ;;
*) echo "usage: pg.sh start|stop|kill|url DIR | reap" >&2; exit 2 ;;
esac
