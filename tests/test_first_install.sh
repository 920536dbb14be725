#!/usr/bin/env bash
# The first CREATE EXTENSION of a server makes the extension's two roles, which are
# cluster-wide. Two databases doing it at once must both succeed: the second finds the roles
# missing, then waits on the first's uncommitted k8s_events_reader, and used to fail on the
# role's unique name when the first committed.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
own_server firstinstall 54341

sql "CREATE DATABASE first_a" >/dev/null && sql "CREATE DATABASE first_b" >/dev/null
roles=$(sql "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'k8s\_events\_%'")
test "$roles" = 0
check "a new server has none of the extension's roles" $? "$roles"

# Database first_a creates the extension (and the roles) in a transaction it keeps open.
coproc first_a { psql -X -q -At -v ON_ERROR_STOP=1 -d first_a 2>&1; }
# bash unsets first_a_PID once the coprocess has exited, so keep it for the final wait.
a_pid=$first_a_PID
echo "BEGIN; CREATE EXTENSION k8s_events; SELECT 'created';" >&"${first_a[1]}"
read -r -t 30 line <&"${first_a[0]}"
test "$line" = created
check "database first_a creates the extension in an open transaction" $? "$line"

# Database first_b does the same meanwhile: its CREATE ROLE waits for first_a's.
psql -X -q -v ON_ERROR_STOP=1 -d first_b -c "CREATE EXTENSION k8s_events" >"$dir/first_b.out" 2>&1 &
b_pid=$!
wait_for 30 "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = 'first_b' AND wait_event_type = 'Lock')"
check "database first_b's CREATE EXTENSION waits for first_a's roles" $?

echo "COMMIT; SELECT 'committed';" >&"${first_a[1]}"
read -r -t 30 line <&"${first_a[0]}"
test "$line" = committed
check "database first_a commits" $? "$line"
wait "$b_pid"
rc=$?
test "$rc" = 0
check "database first_b's CREATE EXTENSION succeeds too" $? "exit $rc: $(cat "$dir/first_b.out")"
echo "\\q" >&"${first_a[1]}"
wait "$a_pid"

out=$(sql "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'k8s\_events\_%'")
test "$out" = "k8s_events_reader,k8s_events_writer"
check "the two roles exist once" $? "$out"
# first_b's grants name the roles first_a made.
out=$(psql -X -At -d first_b -c "SELECT has_schema_privilege('k8s_events_reader', 'k8s_events', 'USAGE'),
       has_table_privilege('k8s_events_reader', 'k8s_events.events', 'SELECT'),
       has_function_privilege('k8s_events_writer', 'k8s_events.ingest(jsonb, text)', 'EXECUTE')" 2>&1)
test "$out" = "t|t|t"
check "database first_b grants the shared roles what they need" $? "$out"
