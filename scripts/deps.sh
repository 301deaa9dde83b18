#!/bin/sh
# Install what building and testing tollgate needs, when it is missing.
# Debian packages only; uses sudo when not run as root. Idempotent: a
# machine that has everything runs no apt command at all.
set -eu

PKGS="gcc make libc6-dev libpq-dev libevent-dev libjansson-dev
libcurl4-openssl-dev libssl-dev libcmocka-dev postgresql wrk valgrind
tzdata curl nginx"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# postgresql's package would start a cluster of its own on port 5432, and
# nginx's a server on port 80; we use neither: our scripts run private
# clusters on private sockets, and the tests their own nginx.
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
