#!/usr/bin/env bash
# An API server restarted: `k8s-events simulate --state-file` goes on with the same history and
# resourceVersions after a kill -9 (as kube-apiserver over its etcd), refuses a state file of
# other options or with injected Events, and answers a watch from a resourceVersion it has not
# reached as kube-apiserver does (it waits up to 3 s, then 504 ResourceVersionTooLarge); it
# stops on SIGTERM even when it cannot keep up with its --rate. The background worker, its
# API server killed mid-stream and started again over its state file, stores every write
# once; an API server whose history went back (etcd restored from an older backup: started
# without its state file) makes it list again after three such 504s, and follow it.
# Own PostgreSQL server.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
need_program
own_server restart 54406

start=2026-12-01T00:00:00Z
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# rvs FILE: the "uid resourceVersion type" of every observation in FILE (NDJSON).
rvs() { python3 -c "import json, sys; [print(o['uid'], o['resourceVersion'], o['type']) for o in map(json.loads, open(sys.argv[1]))]" "$1"; }

# --- 1. Killed with -9 and started again over its state file: the same history goes on.
args=(--seed 9 --start "$start" --nodes 50 --namespaces 10 --initial-events 500 --state-file "$dir/a.state")
start_sim a --rate 2000 "${args[@]}"
sleep 3
curl -s "$(sim_url "$a_port")/simulator/observations?since_rv=0" >"$dir/a1.ndjson"
kill -9 "$a_pid"
wait "$a_pid" 2>/dev/null
saved=$(awk '$1 == "resource_version" { print $2 }' "$dir/a.state")
test -n "$saved" && grep -qx "start_us 1796083200000000" "$dir/a.state"
check "the state file says where the killed simulator stood (resourceVersion $saved)" $? "$(cat "$dir/a.state")"
old_port=$a_port
rm "$dir/a.port"
start_sim a --rate 2000 --port "$old_port" "${args[@]}"
first=$(sim_stat "$a_port" resource_version)
sleep 2
curl -s "$(sim_url "$a_port")/simulator/observations?since_rv=0" >"$dir/a2.ndjson"
rvs "$dir/a1.ndjson" >"$dir/a1.txt"
rvs "$dir/a2.ndjson" >"$dir/a2all.txt"
head -n "$(wc -l <"$dir/a1.txt")" "$dir/a2all.txt" >"$dir/a2.txt"
test "$a_port" = "$old_port" && test "$first" -ge "$saved" && cmp -s "$dir/a1.txt" "$dir/a2.txt"
rc=$?
check "started again, it serves the same $(wc -l <"$dir/a1.txt") writes with the same resourceVersions, then goes on (from $first)" $rc \
	"$(diff "$dir/a1.txt" "$dir/a2.txt" | head -5)"

# --- 2. A state file of other options, or of a history with injected Events, is refused.
out=$(loader/k8s-events simulate --port 0 --rate 2000 --seed 10 --start "$start" --nodes 50 --namespaces 10 \
	--initial-events 500 --state-file "$dir/a.state" 2>&1)
rc=$?
test "$rc" = 1 && grep -q 'another --seed (seed 9, not 10)' <<<"$out"
check "a state file written with another --seed is refused ($rc: $out)" $?
curl -s -XPOST "$(sim_url "$a_port")/simulator/inject?namespace=shop" >/dev/null
kill -TERM "$a_pid"
wait "$a_pid"
out=$(loader/k8s-events simulate --port 0 --rate 2000 "${args[@]}" 2>&1)
rc=$?
test "$rc" = 1 && grep -q '1 Events were injected' <<<"$out"
check "a history with an injected Event is refused: a replay cannot write it again ($rc: $out)" $?

# --- 2b. A state file whose time is the start second, with that second's writes (CronJobs
# due at 00:09:00, which run with the first tick: a --rate run stopped in that second, or an
# older simulator, writes one): the replay runs them too. The resourceVersion they reach is
# read from a frozen twin moved on by one microsecond.
cargs=(--seed 11 --start 2026-12-06T00:09:00Z --state-file "$dir/c.state")
start_sim c --speed 0 "${cargs[@]}"
rv0=$(sim_stat "$c_port" resource_version)
kill -TERM "$c_pid"
wait "$c_pid"
start_sim twin --speed 0 --seed 11 --start 2026-12-06T00:09:00Z
sim_advance "$twin_port" 0.000001
for _ in $(seq 100); do [ "$(sim_stat "$twin_port" resource_version)" != "$rv0" ] && break; sleep 0.1; done
rv1=$(sim_stat "$twin_port" resource_version)
kill "$twin_pid"
sed -i "s/^resource_version .*/resource_version $rv1/" "$dir/c.state"
rm "$dir/c.port"
start_sim c --speed 0 "${cargs[@]}"
again=$(sim_stat "$c_port" resource_version 2>/dev/null)
grep -qx "time_us 1796515740000000" "$dir/c.state" && test "$rv1" != "$rv0" && test "$again" = "$rv1"
check "a state file at the start second with its writes ($rv0 to $rv1): started again over it, it serves them ($again)" $? \
	"$(cat "$dir/c.state" "$dir/c.log")"
kill "$c_pid"

# --- 3. A watch from a resourceVersion not reached: waits up to 3 s, then 504.
start_sim f --speed 0 --seed 4 --start "$start" --initial-events 20
rv=$(sim_stat "$f_port" resource_version)
t0=$(now_ms)
out=$(curl -s -D "$dir/h.txt" "$(sim_url "$f_port")/api/v1/events?watch=1&timeoutSeconds=10&resourceVersion=$((rv + 100))")
waited=$(($(now_ms) - t0))
python3 - "$out" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
assert s["code"] == 504 and s["reason"] == "Timeout", s
assert s["message"].startswith("Too large resource version: "), s
assert s["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge", s
assert s["details"]["retryAfterSeconds"] == 1, s
PY
rc=$?
test "$rc" = 0 && grep -q '^HTTP/1.1 504' "$dir/h.txt" && grep -qi '^Retry-After: 1' "$dir/h.txt" && test "$waited" -ge 2500
check "a watch from a resourceVersion ahead: 504 ResourceVersionTooLarge after $waited ms, Retry-After 1" $? "$out
$(cat "$dir/h.txt")"
# One reached within the 3 s is watched as usual: the next write (an injected Event, rv + 1)
# is its first frame. The watch itself lasts up to 10 s, so that a loaded machine (the tests
# run beside others) cannot end it before the second write; it is ended once that is in.
curl -s -N "$(sim_url "$f_port")/api/v1/events?watch=1&timeoutSeconds=10&resourceVersion=$((rv + 1))" >"$dir/w.ndjson" &
w=$!
sleep 1
uid=$(curl -s -XPOST "$(sim_url "$f_port")/simulator/inject?namespace=shop" | python3 -c "import json, sys; print(json.load(sys.stdin)['uids'][0])")
uid2=$(curl -s -XPOST "$(sim_url "$f_port")/simulator/inject?namespace=shop" | python3 -c "import json, sys; print(json.load(sys.stdin)['uids'][0])")
for _ in $(seq 100); do grep -q "$uid2" "$dir/w.ndjson" && break; sleep 0.1; done
sleep 0.2 # anything after it would be a defect: give it the time to come
kill "$w" 2>/dev/null
wait "$w"
out=$(python3 -c "import json, sys; print(' '.join(f['object']['metadata']['uid'] for f in map(json.loads, open(sys.argv[1])) if f['type'] == 'ADDED'))" "$dir/w.ndjson")
test "$out" = "$uid2"
check "a watch from a resourceVersion reached within 3 s gets what follows it ($out)" $? "$(head -c 600 "$dir/w.ndjson")
first injected: $uid"

# --- 4. SIGTERM while the simulation cannot keep up with its --rate: it stops.
start_sim g --rate 1000000 --seed 4 --start "$start" --observation-log 1000 --history-max 1000
sleep 1
kill -TERM "$g_pid"
for _ in $(seq 50); do kill -0 "$g_pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$g_pid" 2>/dev/null
check "SIGTERM stops a simulator that cannot keep up with --rate 1000000" $?
kill -9 "$g_pid" 2>/dev/null

# --- 5. The worker, its API server killed mid-stream and started again over its state file.
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events" >/dev/null
args=(--seed 7 --start "$start" --nodes 50 --namespaces 10 --initial-events 300 --bookmark-interval 1 --state-file "$dir/r.state")
start_sim r --speed 0 "${args[@]}"
sql "SELECT k8s_events.add_cluster('r', api_server => 'http://127.0.0.1:$r_port')" >/dev/null
caught_up r "$r_port"
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'r'" >"$dir/base_r.txt"
list_rv=$(sim_stat "$r_port" resource_version)
sim_fault "$r_port" "rate=300"
sleep 3
kill -9 "$r_pid"
wait "$r_pid" 2>/dev/null
wait_for 15 "SELECT state = 'backoff' FROM k8s_events.watch_status WHERE cluster = 'r'"
rm "$dir/r.port"
start_sim r --rate 300 --port "$r_port" "${args[@]}"
sleep 3
sim_fault "$r_port" "rate=0&speed=0"
caught_up r "$r_port"
rc=$?
# The second server served all the first one did again, and on: its observations are all.
out=$(exact r "$r_port" "$dir/base_r.txt" "$list_rv")
ok=$?
test "$rc" = 0 && test "$ok" = 0
check "API server killed mid-stream and started again over its state file: every write stored once ($out)" $? \
	"$(sql "SELECT state, relists, reconnects, last_error FROM k8s_events.watch_status WHERE cluster = 'r'")"

# --- 6. An API server whose history went back: the same cluster started again without its
# state file, from the start. After three 504s the worker lists it and follows it.
sim_fault "$r_port" "rate=300"
sleep 2
kill -9 "$r_pid"
wait "$r_pid" 2>/dev/null
rm "$dir/r.state" "$dir/r.port"
relists0=$(sql "SELECT relists FROM k8s_events.watch_status WHERE cluster = 'r'")
start_sim r --speed 0 --port "$r_port" "${args[@]}"
wait_for 60 "SELECT relists > $relists0 AND state = 'watching' FROM k8s_events.watch_status WHERE cluster = 'r'"
rc=$?
uid=$(curl -s -XPOST "$(sim_url "$r_port")/simulator/inject?namespace=shop" | python3 -c "import json, sys; print(json.load(sys.stdin)['uids'][0])")
wait_for 20 "SELECT EXISTS (SELECT FROM k8s_events.events WHERE cluster = 'r' AND uid = '$uid')"
rc2=$?
n=$(grep -c 'Too large resource version' "$dir/pg/server.log")
test "$rc" = 0 && test "$rc2" = 0
check "an API server whose history went back: the worker lists it again after $n refused watches and stores what it serves" $? \
	"$(sql "SELECT state, relists, reconnects, last_error FROM k8s_events.watch_status WHERE cluster = 'r'")"
dups=$(sql "SELECT count(*) - count(DISTINCT (uid, resource_version)) FROM k8s_events.events WHERE cluster = 'r'")
test "$dups" = 0
check "nothing stored twice ($dups)" $?
check_summaries postgres "restarted API servers"

[ "$failures" = 0 ]
