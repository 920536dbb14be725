#!/usr/bin/env bash
# ingest() tells listeners on channel k8s_events that it stored rows, at commit (what, only
# with k8s_events.notify_details).
# Runs against the server tests/run started (PGHOST/PGPORT/PGUSER in the environment).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
db=k8s_events_notify
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
psql -X -q -d "$db" -c "CREATE EXTENSION k8s_events" >/dev/null

event='{"kind":"Event","metadata":{"uid":"12345678-1234-4123-8123-123456789abc","resourceVersion":"7"},
        "involvedObject":{"kind":"Pod","namespace":"shop","name":"web-1"},"reason":"Started","type":"Normal",
        "lastTimestamp":"2026-06-01T10:00:00Z","count":1}'

# psql prints notifications delivered to its own session after each command. Any role can
# LISTEN: by default the notification says only that rows were stored, with no payload.
psql -X -q -d postgres -c "DROP ROLE IF EXISTS k8s_notify_nobody" -c "CREATE ROLE k8s_notify_nobody LOGIN" >/dev/null
# The listener is fed through a pipe: it listens before the ingest runs and, after it, one
# more command makes psql print what arrived meanwhile (no fixed sleep a slow machine outruns).
listener=$(mktemp)
feed=$(mktemp -u)
mkfifo "$feed"
trap 'rm -f "$feed" "$listener"' EXIT
psql -X -d "$db" -U k8s_notify_nobody <"$feed" >"$listener" 2>&1 &
listen_pid=$!
exec 7>"$feed"
kill -0 "$listen_pid" 2>/dev/null && printf '%s\n' 'LISTEN k8s_events;' '\echo listening' >&7
for _ in $(seq 300); do grep -q '^listening$' "$listener" && break; sleep 0.1; done
out=$(psql -X -e -d "$db" 2>&1 <<SQL
SET k8s_events.retention = '0';
LISTEN k8s_events;
SELECT k8s_events.ingest('$event', 'prod-eu');
SELECT k8s_events.ingest('$event', 'prod-eu');
SQL
)
# (a psql that died early is not written to: the shell would die of SIGPIPE, unreported)
kill -0 "$listen_pid" 2>/dev/null && printf '%s\n' 'SELECT 1;' '\q' >&7
exec 7>&-
wait "$listen_pid"
rm -f "$feed"
grep -q 'Asynchronous notification "k8s_events" received' <<<"$out"
check "ingest notifies k8s_events, by default with no payload" $? "$out"
test "$(grep -c 'Asynchronous notification' <<<"$out")" = 1
check "a payload that stores nothing new sends no notification" $? "$out"
grep -q 'Asynchronous notification "k8s_events" received' "$listener" && ! grep -q "prod-eu\|payload" "$listener"
check "a role with no grant at all hears that rows were stored, not of which cluster nor how many" $? "$(cat "$listener")"
rm -f "$listener"

# k8s_events.notify_details (superuser only) adds the cluster, the rows and the newest time.
out=$(psql -X -e -d "$db" 2>&1 <<SQL
SET k8s_events.retention = '0';
SET k8s_events.notify_details = on;
LISTEN k8s_events;
SELECT k8s_events.ingest(replace('$event', '"7"', '"9"')::jsonb, 'prod-eu');
SQL
)
grep -q 'Asynchronous notification "k8s_events" with payload "{"cluster":"prod-eu","rows":1,"newest":"2026-06-01T10:00:00Z"}"' <<<"$out"
check "with k8s_events.notify_details: the cluster, the rows stored and the newest event time" $? "$out"
# (The library loaded first, by a function any role may call: before that a SET only
# makes a placeholder, which the library then refuses to take from a non-superuser.)
out=$(psql -X -d "$db" -U k8s_notify_nobody -c "SELECT k8s_events.time_bucket('1 hour', now()) IS NOT NULL" \
	-c "SET k8s_events.notify_details = on" 2>&1)
grep -q "permission denied" <<<"$out"
check "only a superuser may turn k8s_events.notify_details on" $? "$out"

# Nothing is delivered for a transaction that rolls back.
out=$(psql -X -e -d "$db" 2>&1 <<SQL
SET k8s_events.retention = '0';
LISTEN k8s_events;
BEGIN;
SELECT k8s_events.ingest(replace('$event', '"7"', '"8"')::jsonb, 'prod-eu');
ROLLBACK;
SELECT 1;
SQL
)
grep -q '^ROLLBACK' <<<"$out" && ! grep -q 'Asynchronous notification' <<<"$out"
check "a rolled-back ingest notifies nobody" $? "$out"

psql -X -q -d postgres -c "DROP DATABASE $db" -c "DROP ROLE k8s_notify_nobody" >/dev/null
