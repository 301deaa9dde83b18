#!/bin/sh
# `make run`: serve on TOLLGATE_LISTEN (127.0.0.1:8080 by default) in the
# foreground. Without TOLLGATE_DATABASE_URL, a PostgreSQL of its own lives
# in var/pg: created on first use, started here, stopped when the server
# stops, its data kept for next time. The first admin key is created and
# printed when the database has no key at all.
set -eu
cd "$(dirname "$0")/.."

own_pg=""
if [ -z "${TOLLGATE_DATABASE_URL:-}" ]; then
	TOLLGATE_DATABASE_URL=$(scripts/pg.sh start var/pg)
	export TOLLGATE_DATABASE_URL
	own_pg=var/pg
	echo "using the local PostgreSQL in var/pg (set TOLLGATE_DATABASE_URL to use another)"
fi

bin/tollgate migrate
bin/tollgate key create --role admin --name local-admin --if-none
# The sample prices apply from 2025 on, so that events a user replays from
# the past are priced too.
bin/tollgate prices import --format litellm pricing/data/litellm-model-prices.json \
    --effective-from 2025-01-01T00:00:00Z --note "LiteLLM snapshot (pricing/data)" \
    --if-empty

status=0
trap '' INT TERM
(trap - INT TERM; exec bin/tollgate serve) || status=$?
if [ -n "$own_pg" ]; then
	scripts/pg.sh stop "$own_pg"
	echo "stopped the local PostgreSQL; its data stays in var/pg"
fi
exit "$status"
