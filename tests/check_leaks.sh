#!/usr/bin/env bash
# tests/check_leaks.sh REGISTRY PATH...: no token or key the tests used appears in a log.
#
# REGISTRY holds, one a line, every token and private-key line the tests made (tests/lib.sh:
# new_secret, register_key); PATHs are logs, or directories of them (tests/run passes its
# PostgreSQL server's log and the logs keep_logs kept of every own server). A line of any
# file that holds a registered value, or the prefix every test token starts with, is a
# leak. Prints one "ok - ..." or "not ok - ..." line (with the leaks as "#" lines, the
# values cut short); exit status 1 on a leak.
set -uo pipefail
registry=$1
shift
prefix=k8s-events-test-secret-
patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT
{
	[ -f "$registry" ] && grep -v '^$' "$registry"
	echo "$prefix"
} | sort -u >"$patterns"
n=$(($(wc -l <"$patterns") - 1))
count=$(find "$@" -type f 2>/dev/null | wc -l)
bytes=$(find "$@" -type f -exec cat {} + 2>/dev/null | wc -c)
leaks=$(find "$@" -type f -exec grep -a -n -H -F -f "$patterns" {} + 2>/dev/null | head -20)
if [ -z "$leaks" ]; then
	echo "ok - no token or key of the tests ($n registered, and the prefix $prefix) in $count logs ($bytes bytes)"
else
	echo "not ok - a token or key of the tests appears in a log"
	# Show where, not the whole secret.
	sed -E 's/(k8s-events-test-secret-[0-9a-f]{4})[0-9a-f]*/\1.../g; s/([A-Za-z0-9+\/]{8})[A-Za-z0-9+\/=]{32,}/\1.../g
	        s/^(.{200}).*/\1.../; s/^/#   /' <<<"$leaks"
	exit 1
fi
