#!/usr/bin/env bash
# A change to a row of k8s_events.clusters, made with a plain UPDATE, takes effect at commit:
# the launcher restarts that cluster's watcher with the new settings. Pointing the cluster at
# another API server or scope drops its checkpoint in the same transaction (a resourceVersion
# means nothing to another server), so the new watcher lists; new credentials keep it, so the
# new watcher resumes the watch where the old one was. Two simulators with different seeds,
# checked through their request logs (/simulator/requests) and observation logs. Own server.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
own_server update 54337

# requests PORT SINCE: the API requests after SINCE, one "time verb status path resourceVersion" a line
requests() {
	curl -s "http://127.0.0.1:$1/simulator/requests?since=$2" | python3 -c "
import json, sys
from datetime import datetime, timezone
for r in map(json.loads, sys.stdin):
    t = datetime.strptime(r['time'], '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=timezone.utc).timestamp()
    print(f\"{t:.6f}\", r['verb'], r['status'], r['path'], r['args'].get('resourceVersion', '-'))"
}
checkpoint() { sql "SELECT coalesce((SELECT resource_version FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'c'), 'none')"; }
watcher_pid() { sql "SELECT coalesce(pid, 0) FROM k8s_events.watch_status WHERE cluster = 'c'"; }

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events"

# Simulator A, and simulator B that wants a bearer token. With these seeds A's resourceVersions
# are above B's (checked below), so a checkpoint of A's taken to B would make the watch wait,
# silently, for B to get that far: B's Events would be missed.
start_sim a --speed 0 --initial-events 200 --seed 999 --bookmark-interval 1
token_one=$(new_secret)
token_two=$(new_secret)
echo "$token_one" >"$dir/token-b"
cp "$dir/token-b" "$dir/token-b1"
start_sim b --speed 0 --initial-events 150 --seed 31 --bookmark-interval 1 --token-file "$dir/token-b"
since() { python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.2f}')" "$@"; }

# --- 1. Following A.
sql "SELECT k8s_events.add_cluster('c', api_server => 'http://127.0.0.1:$a_port')" >/dev/null
caught_up c "$a_port"
sim_advance "$a_port" 1200
caught_up c "$a_port"
out=$(exact_served c "$a_port")
check "following A: exactly A's served Events ($out)" $? "$out"
a_checkpoint=$(checkpoint)
a_pid=$(watcher_pid)

b_rv=$(sim_stat "$b_port" resource_version)
test "$a_checkpoint" -gt "$b_rv"
check "precondition: A's checkpoint ($a_checkpoint) is above B's resourceVersion ($b_rv)" $?

# --- 2. UPDATE to B: the checkpoint goes in the same transaction; B is listed within seconds.
# The transaction stays open after its UPDATE until the old watcher's next checkpoint (a
# bookmark a second) waits for it: the watcher must wait for the commit, see that the row now
# points at B, and write no checkpoint of A's after it. psql is fed through a pipe, so the
# commit comes when that wait is seen (up to 30 s), not after a fixed sleep.
mkfifo "$dir/update.sql"
psql -X -q -At -d postgres <"$dir/update.sql" >"$dir/update.out" 2>&1 &
upd=$!
exec 7>"$dir/update.sql"
cat >&7 <<SQL
BEGIN;
UPDATE k8s_events.clusters SET api_server = 'http://127.0.0.1:$b_port', token_file = '$dir/token-b1' WHERE name = 'c';
SELECT 'in-transaction', count(*) FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'c';
SQL
for _ in $(seq 300); do
	blocked=$(sql "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $a_pid")
	[ "$blocked" = Lock ] && break
	sleep 0.1
done
# (a psql that died early is not written to: the shell would die of SIGPIPE, unreported)
kill -0 "$upd" 2>/dev/null && echo "SELECT 'committing', extract(epoch FROM clock_timestamp()); COMMIT;" >&7
exec 7>&-
wait $upd
t_commit=$(sed -n 's/^committing|//p' "$dir/update.out")
test "$blocked" = Lock
check "the old watcher's checkpoint write waits for the UPDATE's transaction ($blocked)" $? "$(cat "$dir/update.out")"
grep -qx "in-transaction|0" "$dir/update.out"
check "UPDATE api_server drops the checkpoint in the same transaction (it was $a_checkpoint)" $? "$(cat "$dir/update.out")"
# The old watcher, woken at the commit, either sees the row point at B and writes no
# checkpoint, or is stopped by the launcher while it still waits for the row: either way
# the launcher finds no checkpoint of A's to drop after it.
old_watcher_done() {
	grep -q 'cluster "c" was pointed at another server or scope: its old watcher stores no checkpoint' \
		"$dir/pg/server.log" || grep -A2 "\[$a_pid\] FATAL:  terminating background worker" \
		"$dir/pg/server.log" | grep -q 'FOR SHARE'
}
for _ in $(seq 50); do old_watcher_done && break; sleep 0.1; done
old_watcher_done && ! grep -q 'dropped the checkpoint its previous' "$dir/pg/server.log"
check "the old watcher wrote no checkpoint of A's after the commit (nothing for the launcher to drop)" $? "$(grep k8s_events "$dir/pg/server.log" | tail -5)"
deadline=$((SECONDS + 30))
until out=$(exact_served c "$a_port" "$b_port"); rc=$?; [ $rc = 0 ] || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
check "B's Events are stored: exactly A's served plus B's served ($out), $(since "$(date +%s.%N)" "$t_commit") s after the commit" $rc "$out"
requests "$b_port" 0 >"$dir/b_requests"
first=$(head -1 "$dir/b_requests")
read -r t_first verb status path _ <<<"$first"
test "$verb $status $path" = "list 200 /api/v1/events"
check "the first request B saw is a LIST (no resourceVersion carried over): $verb $status $path" $? "$(cat "$dir/b_requests")"
python3 -c "import sys; sys.exit(0 if $t_first - $t_commit < 10 else 1)"
rc=$? # before the command substitution in the description changes $?
check "... $(since "$t_first" "$t_commit") s after the UPDATE committed" $rc
! grep -q " 401 " "$dir/b_requests"
check "the new watcher used the new token_file (no 401 at B)" $? "$(cat "$dir/b_requests")"
new_pid=$(watcher_pid)
test "$new_pid" != 0 && test "$new_pid" != "$a_pid" && ! kill -0 "$a_pid" 2>/dev/null
check "the old watcher (pid $a_pid) is gone, a new one ($new_pid) runs" $?
for _ in $(seq 50); do a_watches=$(sim_stat "$a_port" watches_active); [ "$a_watches" = 0 ] && break; sleep 0.1; done
test "$a_watches" = 0
check "A is no longer watched ($a_watches watches open)" $?
caught_up c "$b_port"
b_checkpoint=$(checkpoint)
out=$(sql "SELECT state, relists FROM k8s_events.watch_status WHERE cluster = 'c'")
test "$out" = "watching|0"
check "watch_status: watching B, no relist (a fresh list, not a 410) ($out, checkpoint $b_checkpoint)" $? "$out"

# --- 3. Only the token file changes: the checkpoint stays, the new watcher watches from it.
seq=$(sim_stat "$b_port" requests_logged)
lists=$(sim_stat "$b_port" list_requests)
echo "$token_two" >"$dir/token-b2"
echo "$token_two" >"$dir/token-b.new" && mv "$dir/token-b.new" "$dir/token-b"
old_pid=$(watcher_pid)
out=$(psql -X -q -At -d postgres <<SQL
BEGIN;
UPDATE k8s_events.clusters SET token_file = '$dir/token-b2' WHERE name = 'c';
SELECT resource_version FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'c';
COMMIT;
SQL
)
test "$out" = "$b_checkpoint"
check "UPDATE token_file keeps the checkpoint ($out)" $? "$out"
deadline=$((SECONDS + 15))
until grep -q "^[0-9.]* watch 200 /api/v1/events $b_checkpoint\$" <(requests "$b_port" "$seq") || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
requests "$b_port" "$seq" >"$dir/b_requests2"
grep -q "^[0-9.]* watch 200 /api/v1/events $b_checkpoint\$" "$dir/b_requests2"
check "a new watcher resumes the WATCH at B from resourceVersion=$b_checkpoint with the new token" $? "$(cat "$dir/b_requests2")"
! grep -q " list \| 401 " "$dir/b_requests2" && test "$(sim_stat "$b_port" list_requests)" = "$lists"
check "... and does not list again" $? "$(cat "$dir/b_requests2")"
new_pid=$(watcher_pid)
test "$new_pid" != 0 && test "$new_pid" != "$old_pid"
check "the watcher was restarted (pid $old_pid -> $new_pid)" $?
curl -s -XPOST "http://127.0.0.1:$b_port/simulator/inject?namespace=shop&count=5" >/dev/null
sim_advance "$b_port" 600
caught_up c "$b_port"
out=$(exact_served c "$a_port" "$b_port")
check "events flow from B: exactly A's served plus B's served ($out)" $? "$out"

# --- 4. An UPDATE that changes no setting, and one of insecure_skip_tls_verify (a credential
# setting: restart, checkpoint kept).
pid=$(watcher_pid)
seq=$(sim_stat "$b_port" requests_logged)
sql "UPDATE k8s_events.clusters SET api_server = api_server, enabled = true WHERE name = 'c'" >/dev/null
sleep 2
test "$(watcher_pid)" = "$pid" && test "$(sim_stat "$b_port" requests_logged)" = "$seq"
check "an UPDATE that changes nothing leaves the watcher alone" $?
cp_before=$(checkpoint)
sql "UPDATE k8s_events.clusters SET insecure_skip_tls_verify = true WHERE name = 'c'" >/dev/null
wait_for 10 "SELECT pid IS NOT NULL AND pid <> $pid AND state = 'watching' FROM k8s_events.watch_status WHERE cluster = 'c'"
rc=$?
test "$rc" = 0 && test "$(checkpoint)" = "$cp_before" && ! requests "$b_port" "$seq" | grep -q " list "
check "insecure_skip_tls_verify changed: restarted, checkpoint kept, no list" $?

# --- 5. Another scope on the same server (namespace): checkpoint dropped, the namespace listed.
ns=$(curl -s -H "Authorization: Bearer $token_two" "http://127.0.0.1:$b_port/api/v1/events?limit=1" | python3 -c "import json,sys; print(json.load(sys.stdin)['items'][0]['metadata']['namespace'])")
seq=$(sim_stat "$b_port" requests_logged)
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'c'")
out=$(psql -X -q -At -d postgres <<SQL
BEGIN;
UPDATE k8s_events.clusters SET namespace = '$ns' WHERE name = 'c';
SELECT count(*) FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'c';
COMMIT;
SQL
)
test "$out" = 0
check "UPDATE namespace drops the checkpoint in the same transaction" $? "$out"
deadline=$((SECONDS + 15))
until requests "$b_port" "$seq" | grep -q " watch 200 /api/v1/namespaces/$ns/events " || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
requests "$b_port" "$seq" >"$dir/b_requests3"
head -1 "$dir/b_requests3" | grep -q " list 200 /api/v1/namespaces/$ns/events -$" &&
	grep -q " watch 200 /api/v1/namespaces/$ns/events " "$dir/b_requests3"
check "the new watcher lists namespace $ns, then watches it" $? "$(cat "$dir/b_requests3")"
caught_up c "$b_port"
test "$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'c'")" = "$rows"
check "nothing stored twice: the namespace's Events were all stored already ($rows rows)" $?

# --- 6. enabled = false by a plain UPDATE stops the watcher at once.
sql "UPDATE k8s_events.clusters SET enabled = false WHERE name = 'c'" >/dev/null
wait_for 10 "SELECT state = 'disabled' AND pid IS NULL FROM k8s_events.watch_status WHERE cluster = 'c'"
check "UPDATE enabled = false stops the watcher within seconds" $?

[ "$failures" = 0 ]
