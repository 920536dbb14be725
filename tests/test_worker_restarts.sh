#!/usr/bin/env bash
# The launcher owns its watchers' restarts, and the supervisor the launcher's: a watcher that
# fails on every batch is started again after a growing backoff (not by the postmaster every
# few seconds), watch_status shows why, and a cluster never has two watcher processes, however
# its row is disabled and enabled meanwhile. A missing k8s_events.database is said once, not
# as a FATAL every 10 s. Own PostgreSQL servers.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
need_program
own_server restarts 54393

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events"

# watchers NAME: how many watcher processes of cluster NAME run now (their title names it).
# Children of this script's own postmaster only: another suite on the machine may be watching
# a cluster of the same name.
watchers() {
	pgrep -c -P "$(head -n 1 "$dir/pg/data/postmaster.pid")" -f "^postgres: k8s_events watcher $1 ?\$" || true
}
# starts NAME: how many times the launcher started a watcher of NAME after a failure.
restarts() { sql "SELECT restarts FROM k8s_events.watch_status WHERE cluster = '$1'"; }

# --- 1. Every batch fails (a CHECK that no row passes): restarts back off.
start_sim f --speed 0 --initial-events 40 --seed 3 --bookmark-interval 1
# The check takes half a second, so that each failing watcher lives long enough to be seen.
sql "CREATE FUNCTION public.rs_fail_slowly() RETURNS boolean LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_catalog.pg_sleep(0.5); RETURN false; END \$\$" >/dev/null
sql "ALTER TABLE k8s_events.events ADD CONSTRAINT rs_no_rows CHECK (public.rs_fail_slowly()) NOT VALID" >/dev/null
sql "SELECT k8s_events.add_cluster('rs-f1', api_server => 'http://127.0.0.1:$f_port')" >/dev/null
max=0
t_end=$((SECONDS + 45))
while [ $SECONDS -lt $t_end ]; do
	n=$(watchers rs-f1)
	[ "$n" -gt "$max" ] && max=$n
	sleep 0.2
done
lists=$(sim_stat "$f_port" list_requests)
out=$(sql "SELECT state, restarts, last_error FROM k8s_events.watch_status WHERE cluster = 'rs-f1'")
state=$(cut -d'|' -f1 <<<"$out")
n_restarts=$(cut -d'|' -f2 <<<"$out")
test "$n_restarts" -ge 3 && test "$n_restarts" -le 10 && test "$lists" -le 11
check "a watcher failing on every batch: $n_restarts restarts and $lists LISTs in 45 s (backoff; the postmaster used to restart it ~4 times a second)" $? "$out"
[ "$state" = failed ] && grep -q 'rs_no_rows' <<<"$out"
check "watch_status shows state failed and the error ($out)" $? "$out"
test "$max" = 1
check "never more than one watcher process of the cluster (at most $max seen at once)" $?
n=$(grep -c 'exited with exit code 1' "$dir/pg/server.log")
test "$n" -le 11
check "the server log has one exit per restart ($n), not a storm" $?

# --- 2. Failing watchers of clusters disabled and enabled meanwhile never become two.
sql "SELECT k8s_events.add_cluster('rs-f2', api_server => 'http://127.0.0.1:$f_port')" >/dev/null
max1=0
max2=0
for i in $(seq 12); do
	sql "SELECT k8s_events.set_cluster_enabled('rs-f1', $([ $((i % 2)) = 0 ] && echo true || echo false))" >/dev/null
	for _ in 1 2 3 4 5; do
		n=$(watchers rs-f1)
		[ "$n" -gt "$max1" ] && max1=$n
		n=$(watchers rs-f2)
		[ "$n" -gt "$max2" ] && max2=$n
		sleep 0.1
	done
done
sql "SELECT k8s_events.set_cluster_enabled('rs-f1', true)" >/dev/null
sleep 3
n=$(watchers rs-f1)
[ "$n" -gt "$max1" ] && max1=$n
rows=$(sql "SELECT count(*) FROM k8s_events.watch_status WHERE cluster IN ('rs-f1', 'rs-f2')")
test "$max1" -le 1 && test "$max2" -le 1 && test "$rows" = 2
check "12 disable/enable rounds with failing watchers: at most $max1 and $max2 processes, $rows status rows" $?

# --- 3. The cause fixed: the next start stores everything, and a clean run ends the series.
sql "ALTER TABLE k8s_events.events DROP CONSTRAINT rs_no_rows" >/dev/null
# Disabling and enabling starts it now instead of after the backoff.
sql "SELECT k8s_events.set_cluster_enabled('rs-f1', false)" >/dev/null
sql "SELECT k8s_events.set_cluster_enabled('rs-f1', true)" >/dev/null
caught_up rs-f1 "$f_port"
rc=$?
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'rs-f1'")
state=$(sql "SELECT state FROM k8s_events.watch_status WHERE cluster = 'rs-f1'")
# What the simulator serves: its 40 initial Events, and any its model writes at the very
# instant it starts (a CronJob due then: 42 when it starts at 09:01:00).
alive=$(sim_stat "$f_port" events_alive)
test "$rc" = 0 && test "$rows" = "$alive" && test "$alive" -ge 40 && test "$state" = watching
check "constraint dropped: the watcher stores all $rows events the simulator serves ($alive) and watches ($state)" $?
caught_up rs-f2 "$f_port"
check "the other failing cluster recovers by itself after its backoff" $? "$(sql "SELECT * FROM k8s_events.watch_status WHERE cluster = 'rs-f2'")"

# --- 3b. A LIST that fails on its second page, every time: the first page's rows commit, but
# no checkpoint does, so the watcher makes no progress, and its restarts back off all the
# same (they are not a new series each time a page was stored).
start_sim p --speed 0 --initial-events 1200 --seed 5 --bookmark-interval 1
cont=$(curl -s "$(sim_url "$p_port")/api/v1/events?limit=500" | python3 -c "import json, sys; print(json.load(sys.stdin)['metadata']['continue'])")
uid=$(curl -s "$(sim_url "$p_port")/api/v1/events?limit=500&continue=$cont" | python3 -c "import json, sys; print(json.load(sys.stdin)['items'][0]['metadata']['uid'])")
sql "ALTER TABLE k8s_events.events ADD CONSTRAINT rs_page_two CHECK (uid <> '$uid'::uuid) NOT VALID" >/dev/null
lists0=$(sim_stat "$p_port" list_requests)
sql "SELECT k8s_events.add_cluster('rs-p', api_server => 'http://127.0.0.1:$p_port')" >/dev/null
sleep 30
lists=$(($(sim_stat "$p_port" list_requests) - lists0))
out=$(sql "SELECT state, restarts, last_error FROM k8s_events.watch_status WHERE cluster = 'rs-p'")
n_restarts=$(cut -d'|' -f2 <<<"$out")
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'rs-p'")
test "$n_restarts" -ge 2 && test "$n_restarts" -le 7 && test "$rows" = 500
check "a LIST failing on its second page: $n_restarts restarts and $lists page requests in 30 s, first page stored once ($rows rows)" $? "$out"
sql "SELECT k8s_events.remove_cluster('rs-p')" >/dev/null
sql "ALTER TABLE k8s_events.events DROP CONSTRAINT rs_page_two" >/dev/null

# --- 4. Terminated from outside (pg_terminate_backend): restarted by the launcher, once.
pid=$(sql "SELECT pid FROM k8s_events.watch_status WHERE cluster = 'rs-f1'")
sql "SELECT pg_terminate_backend($pid)" >/dev/null
wait_for 20 "SELECT state = 'watching' AND pid <> $pid FROM k8s_events.watch_status WHERE cluster = 'rs-f1'"
rc=$?
n=$(watchers rs-f1)
test "$rc" = 0 && test "$n" = 1
check "a terminated watcher is started again by the launcher (one process: $n)" $? "$(sql "SELECT state, pid, restarts, last_error FROM k8s_events.watch_status WHERE cluster = 'rs-f1'")"

# --- 4b. The supervisor terminated: the postmaster starts it again (after 10 s), and the
# launcher it left running stays the only one.
spid=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'k8s_events supervisor'")
lpid=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'k8s_events launcher'")
sql "SELECT pg_terminate_backend($spid)" >/dev/null
wait_for 30 "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'k8s_events supervisor' AND pid <> $spid)"
rc=$?
sleep 3
out=$(sql "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE backend_type = 'k8s_events launcher'")
test "$rc" = 0 && test "$out" = "$lpid"
check "a restarted supervisor leaves the running launcher alone: one launcher ($out, was $lpid)" $?

# --- 5. k8s_events.database missing: one WARNING with a hint, no FATAL every 10 s; the
# launcher starts once the database exists, and a DROP DATABASE ... WITH (FORCE) is said once.
pg2=$dir/pg2
mkdir -p "$pg2"
chmod 755 "$pg2"
K8S_EVENTS_DATABASE=rs_missing K8S_EVENTS_PGPORT=54394 tests/pg_server.sh start "$pg2" >/dev/null
# shellcheck disable=SC2317 # runs at exit
stop_pg2() { tests/pg_server.sh stop "$pg2"; own_server_cleanup; }
trap stop_pg2 EXIT
sql2() { psql -X -q -At -h "$pg2" -p 54394 -U postgres -d "${2:-postgres}" -c "$1"; }
# launcher_in_db: wait up to 60 s for the launcher to run in rs_missing.
launcher_in_db() {
	local _
	for _ in $(seq 600); do
		[ "$(sql2 "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'k8s_events launcher' AND datname = 'rs_missing'")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
sleep 12
warn=$(grep -c 'database "rs_missing" does not exist: no cluster' "$pg2/server.log")
fatal=$(grep -c 'FATAL: .*database "rs_missing" does not exist' "$pg2/server.log")
test "$warn" = 1 && test "$fatal" = 0
check "a missing k8s_events.database: $warn WARNING, $fatal FATAL in 12 s" $? "$(tail -5 "$pg2/server.log")"
grep -q 'HINT:  Create that database' "$pg2/server.log"
check "the WARNING says what to do" $?
spid=$(sql2 "SELECT pid FROM pg_stat_activity WHERE backend_type = 'k8s_events supervisor'")
if [ -n "$spid" ]; then
	c0=$(awk '/ctxt_switches/ {s += $2} END {print s}' "/proc/$spid/status")
	sleep 5
	c1=$(awk '/ctxt_switches/ {s += $2} END {print s}' "/proc/$spid/status")
	test $((c1 - c0)) -lt 50
	check "the waiting supervisor wakes rarely ($((c1 - c0)) context switches in 5 s)" $?
else
	notok "the supervisor runs"
fi
sql2 "CREATE DATABASE rs_missing" >/dev/null
sql2 "CREATE EXTENSION k8s_events" rs_missing >/dev/null
launcher_in_db
ok=$?
check "once the database exists, the launcher runs in it" $ok
# Connections refused (ALLOW_CONNECTIONS false) and the launcher ended: said once, and no
# launcher is started to fail at connecting; allowed again, it starts.
lpid=$(sql2 "SELECT pid FROM pg_stat_activity WHERE backend_type = 'k8s_events launcher'")
sql2 "ALTER DATABASE rs_missing ALLOW_CONNECTIONS false" >/dev/null
sql2 "SELECT pg_terminate_backend($lpid)" >/dev/null
sleep 12
warn=$(grep -c 'database "rs_missing" does not allow connections' "$pg2/server.log")
fatal=$(grep -c 'FATAL: .*"rs_missing" is not currently accepting connections' "$pg2/server.log")
test "$warn" = 1 && test "$fatal" = 0
check "a database that refuses connections: $warn WARNING, $fatal FATAL in 12 s" $? "$(tail -5 "$pg2/server.log")"
sql2 "ALTER DATABASE rs_missing ALLOW_CONNECTIONS true" >/dev/null
launcher_in_db
ok=$?
check "connections allowed again: the launcher runs" $ok
sql2 "DROP DATABASE rs_missing WITH (FORCE)" >/dev/null
# The launcher it terminates may end with one FATAL of its own; the old static launcher then
# failed to connect every 10 s.
sleep 25
warn=$(grep -c 'database "rs_missing" does not exist: no cluster' "$pg2/server.log")
fatal=$(grep -c 'FATAL: .*database "rs_missing" does not exist' "$pg2/server.log")
test "$warn" = 2 && test "$fatal" -le 1
check "DROP DATABASE ... WITH (FORCE): said once more ($warn WARNINGs in all, $fatal FATAL in 25 s)" $? "$(tail -5 "$pg2/server.log")"

[ "$failures" = 0 ]
