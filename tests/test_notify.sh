#!/usr/bin/env bash
# ingest() tells listeners on channel k8s_events what it stored, at commit.
# Runs against the server tests/run started (PGHOST/PGPORT/PGUSER in the environment).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
db=k8s_events_notify
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
psql -X -q -d "$db" -c "CREATE EXTENSION k8s_events" >/dev/null

event='{"kind":"Event","metadata":{"uid":"12345678-1234-4123-8123-123456789abc","resourceVersion":"7"},
        "involvedObject":{"kind":"Pod","namespace":"shop","name":"web-1"},"reason":"Started","type":"Normal",
        "lastTimestamp":"2026-06-01T10:00:00Z","count":1}'

# psql prints notifications delivered to its own session after each command.
out=$(psql -X -e -d "$db" 2>&1 <<SQL
SET k8s_events.retention = '0';
LISTEN k8s_events;
SELECT k8s_events.ingest('$event', 'prod-eu');
SELECT k8s_events.ingest('$event', 'prod-eu');
SQL
)
grep -q 'Asynchronous notification "k8s_events" with payload "{"cluster":"prod-eu","rows":1,"newest":"2026-06-01T10:00:00Z"}"' <<<"$out"
check "ingest notifies k8s_events with cluster, rows and newest event time" $? "$out"
test "$(grep -c 'Asynchronous notification' <<<"$out")" = 1
check "a payload that stores nothing new sends no notification" $? "$out"

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

psql -X -q -d postgres -c "DROP DATABASE $db" >/dev/null
