#!/bin/sh
# The README's table of settings must be exactly what the binary's single
# table of settings says (`tollgate config`).
set -eu
cd "$(dirname "$0")/.."
want=$(env -i PATH="$PATH" bin/tollgate config)
got=$(sed -n '/^| Variable | Default | Meaning |$/,/^$/p' README.md | sed '/^$/d')
if [ "$want" != "$got" ]; then
	echo "check-docs: README.md's settings table differs from 'bin/tollgate config':"
	printf '%s\n' "$want" > /tmp/tollgate-config-want.$$
	printf '%s\n' "$got" | diff /tmp/tollgate-config-want.$$ - || true
	rm -f /tmp/tollgate-config-want.$$
	exit 1
fi
echo "check-docs: README settings table matches the code"
