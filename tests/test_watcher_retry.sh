#!/usr/bin/env bash
# The background watcher honours Retry-After: on a 429 or 503 from the API server it backs off
# for at least the seconds the server asked, says so in watch_status, and then stores exactly
# what the server served. The timing is read from the simulator's own request log
# (/simulator/requests: when each request arrived, as the server saw it). Own PostgreSQL server.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
own_server retry 54336

# gaps PORT SINCE: the API requests after SINCE, one "verb status seconds-since-previous rv" a line
gaps() {
	curl -s "http://127.0.0.1:$1/simulator/requests?since=$2" | python3 -c "
import json, sys
prev = None
for r in map(json.loads, sys.stdin):
    gap = '-' if prev is None else f\"{r['mono'] - prev:.3f}\"
    prev = r['mono']
    print(r['verb'], r['status'], gap, r['args'].get('resourceVersion', '-'))"
}
# watch_state_seen CLUSTER PATTERN SECONDS: watch_status showed state backoff with last_error LIKE PATTERN
watch_state_seen() {
	wait_for "$3" "SELECT state = 'backoff' AND last_error LIKE '$2' FROM k8s_events.watch_status WHERE cluster = '$1'"
}

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events"

# --- 1. 429 with Retry-After: 4 on the first two requests: the initial list waits 4 s each
# time (its own backoff would be 1-1.5 s, then 2-3 s), then lists and watches.
start_sim r --speed 0 --initial-events 300 --seed 21 --bookmark-interval 1
sim_fault "$r_port" "fail_status=429&fail_count=2&retry_after=4"
sql "SELECT k8s_events.add_cluster('r', api_server => 'http://127.0.0.1:$r_port')" >/dev/null
watch_state_seen r 'HTTP 429 %' 10
check "after a 429 watch_status says backoff, last_error HTTP 429" $? "$(sql "SELECT state, last_error FROM k8s_events.watch_status WHERE cluster = 'r'")"
caught_up r "$r_port"
check "then the watcher lists and catches up" $?
gaps "$r_port" 0 >"$dir/gaps1"
python3 - "$dir/gaps1" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
assert [r[:2] for r in rows[:4]] == [["list", "429"], ["list", "429"], ["list", "200"], ["watch", "200"]], rows
assert float(rows[1][2]) >= 4 and float(rows[2][2]) >= 4, rows
PY
rc=$? # before the command substitution in the description changes $?
check "the server saw each retry at least 4 s after the 429 it answered ($(head -3 "$dir/gaps1" | awk '{print $3}' | tr '\n' ' '))" $rc "$(cat "$dir/gaps1")"
out=$(sql "SELECT state, events_stored, reconnects FROM k8s_events.watch_status WHERE cluster = 'r'")
test "$out" = "watching|300|2"
check "watch_status: watching, the 300 Events stored, 2 backoffs ($out)" $? "$out"
sim_advance "$r_port" 1800
caught_up r "$r_port"
out=$(exact_served r "$r_port")
check "events flow: exactly the served observations ($out)" $? "$out"

# --- 2. 503 with Retry-After: 3 in the middle of watching: the server ends the watch, the next
# one gets the 503, and the watch is resumed from the checkpoint no sooner than 3 s later.
seq=$(sim_stat "$r_port" requests_logged)
checkpoint=$(sql "SELECT resource_version FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'r'")
sim_fault "$r_port" "fail_status=503&fail_count=1&retry_after=3"
curl -s -XPOST "http://127.0.0.1:$r_port/simulator/close_watches" >/dev/null
watch_state_seen r 'HTTP 503 %' 10
check "a 503 mid-stream: backoff, last_error HTTP 503" $? "$(sql "SELECT state, last_error FROM k8s_events.watch_status WHERE cluster = 'r'")"
wait_for 15 "SELECT state = 'watching' FROM k8s_events.watch_status WHERE cluster = 'r'"
sleep 0.5
gaps "$r_port" "$seq" >"$dir/gaps2"
python3 - "$dir/gaps2" "$checkpoint" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
assert [r[:2] for r in rows[:2]] == [["watch", "503"], ["watch", "200"]], rows
assert float(rows[1][2]) >= 3, rows
assert rows[0][3] == sys.argv[2] and rows[1][3] == sys.argv[2], rows
PY
rc=$? # before the command substitution in the description changes $?
check "the watch after the 503 came at least 3 s later ($(sed -n 2p "$dir/gaps2" | awk '{print $3}') s), from the checkpoint, no list" $rc "$(cat "$dir/gaps2")"
sim_advance "$r_port" 1800
caught_up r "$r_port"
out=$(exact_served r "$r_port")
check "events flow again: exactly the served observations ($out)" $? "$out"

# --- 3. The same 429 without Retry-After: the watcher's own backoff (1-1.5 s) decides, so the
# waits above were the server's.
seq=$(sim_stat "$r_port" requests_logged)
sim_fault "$r_port" "fail_status=429&fail_count=1&retry_after=0"
curl -s -XPOST "http://127.0.0.1:$r_port/simulator/close_watches" >/dev/null
watch_state_seen r 'HTTP 429 %' 10
rc1=$?
wait_for 15 "SELECT state = 'watching' FROM k8s_events.watch_status WHERE cluster = 'r'"
sleep 0.5
gaps "$r_port" "$seq" >"$dir/gaps3"
python3 - "$dir/gaps3" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
assert [r[:2] for r in rows[:2]] == [["watch", "429"], ["watch", "200"]], rows
assert 0.9 <= float(rows[1][2]) < 3, rows
PY
rc2=$?
test "$rc1" = 0 && test "$rc2" = 0
rc=$? # before the command substitution in the description changes $?
check "a 429 without Retry-After is retried after the watcher's own 1-1.5 s ($(sed -n 2p "$dir/gaps3" | awk '{print $3}') s)" $rc "$(cat "$dir/gaps3")"
sim_advance "$r_port" 600
caught_up r "$r_port"
out=$(exact_served r "$r_port")
check "and nothing is lost: exactly the served observations ($out)" $? "$out"

[ "$failures" = 0 ]
