#!/usr/bin/env bash
# The background watcher against `k8s-events simulate`, on a PostgreSQL server of its own
# with the library preloaded. Every check that counts rows compares the database with what
# the simulator says it served (/simulator/observations): exactly those, each once.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
own_server watcher 54335

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events"
# Every simulator here sends a bookmark each second, so a watch silent for 3 s has stalled.
sql "ALTER SYSTEM SET k8s_events.watch_stall_timeout = '3s'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null

# --- 1. A paginated initial list: 2,500 Events in pages of 500, then the watch.
start_sim a --speed 0 --initial-events 2500 --seed 11 --bookmark-interval 1
sql "SELECT k8s_events.add_cluster('a', api_server => 'http://127.0.0.1:$a_port')" >/dev/null
caught_up a "$a_port"
check "the watcher lists and watches: checkpoint reaches the simulator's resourceVersion" $?
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'a'" >"$dir/base_a.txt"
list_rv=$(sim_stat "$a_port" resource_version)
rows=$(wc -l <"$dir/base_a.txt")
alive=$(sim_stat "$a_port" events_alive)
lists=$(sim_stat "$a_port" list_requests)
test "$rows" = "$alive" && test "$rows" = 2500 && test "$lists" -ge 5
check "initial list: $rows rows for $alive alive Events, in $lists pages" $?
out=$(sql "SELECT state, events_stored, duplicates, rejected, relists FROM k8s_events.watch_status WHERE cluster = 'a'")
test "$out" = "watching|2500|0|0|0"
check "watch_status: watching, 2500 stored, nothing duplicated, rejected or relisted ($out)" $? "$out"

# --- 1b. The launcher made the coming days' partitions (maintenance at start).
ahead=$(sql "SELECT count(*) FROM k8s_events.partitions WHERE range_to > now() + interval '1 day'")
test "$ahead" -ge 1
check "the launcher creates partitions ahead of time ($ahead beyond tomorrow)" $?

# --- 1c. Continue tokens that expire in the middle of a paginated list: relist until one
# completes; every Event is stored once.
sim_fault "$a_port" "expire_continue=true"
sql "SELECT k8s_events.add_cluster('c', api_server => 'http://127.0.0.1:$a_port')" >/dev/null
wait_for 20 "SELECT relists >= 1 FROM k8s_events.watch_status WHERE cluster = 'c'"
rc1=$?
sim_fault "$a_port" "expire_continue=false"
caught_up c "$a_port"
rc2=$?
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'c'")
dups=$(sql "SELECT count(*) - count(DISTINCT (uid, resource_version)) FROM k8s_events.events WHERE cluster = 'c'")
alive=$(sim_stat "$a_port" events_alive)
test "$rc1" = 0 && test "$rc2" = 0 && test "$rows" = "$alive" && test "$dups" = 0
check "expired continue tokens: relisted, then all $alive Events stored once ($rows)" $?
sql "SELECT k8s_events.remove_cluster('c')" >/dev/null

# --- 2. The cluster goes on: every write after the list is stored once.
sim_advance "$a_port" 1800
caught_up a "$a_port"
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
check "30 simulated minutes later: exactly the served observations ($out)" $? "$out"

# --- 3. A new Event reaches the table quickly.
t0=$(date +%s%N)
uid=$(curl -s -XPOST "http://127.0.0.1:$a_port/simulator/inject?namespace=shop" | python3 -c "import json,sys; print(json.load(sys.stdin)['uids'][0])")
wait_for 10 "SELECT EXISTS (SELECT FROM k8s_events.events WHERE uid = '$uid')"
rc=$?
check "an injected Event is stored ($(( ($(date +%s%N) - t0) / 1000000 )) ms after it was emitted)" $rc

# --- 4. 410 Gone in the middle of a watch: watch again from the checkpoint, which the
# server still holds, so not even intermediate versions are lost.
sim_fault "$a_port" "gone_after=20"
sim_advance "$a_port" 1800
sleep 1
sim_fault "$a_port" "gone_after=0"
caught_up a "$a_port"
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
rc=$?
errors=$(sim_stat "$a_port" errors_sent)
test "$rc" = 0 && test "$errors" -ge 1
check "410 mid-watch ($errors ERROR frames): resumed from the checkpoint, exactly the served observations ($out)" $? "$out"

# --- 5. A malformed frame: a rejected row, and the stream goes on.
before=$(sql "SELECT count(*) FROM k8s_events.rejected WHERE cluster = 'a'")
sim_fault "$a_port" "malformed_every=5"
sim_advance "$a_port" 600
sleep 1
sim_fault "$a_port" "malformed_every=0"
caught_up a "$a_port"
after=$(sql "SELECT count(*) FROM k8s_events.rejected WHERE cluster = 'a' AND source = 'watch' AND error LIKE 'malformed watch frame%'")
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
rc=$?
test "$after" -gt "$before" && test "$rc" = 0
check "malformed frames: $after rejected rows, and the rest stored exactly ($out)" $? "$out"

# --- 6. PostgreSQL restarted mid-stream: the watch resumes from the checkpoint.
sim_advance "$a_port" 300
tests/pg_server.sh stop "$dir/pg"
sim_advance "$a_port" 600
eval "$(tests/pg_server.sh start "$dir/pg")"
caught_up a "$a_port"
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
check "PostgreSQL restarted mid-stream: nothing lost or doubled ($out)" $? "$out"

# --- 7. A namespace-scoped cluster beside the first: two watchers at once.
ns=shop
sql "SELECT k8s_events.add_cluster('a-shop', api_server => 'http://127.0.0.1:$a_port', namespace => '$ns')" >/dev/null
caught_up a-shop "$a_port"
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'a-shop'" >"$dir/base_ns.txt"
ns_rv=$(sim_stat "$a_port" resource_version)
others=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'a-shop' AND event->'metadata'->>'namespace' <> '$ns'")
test "$others" = 0 && test -s "$dir/base_ns.txt"
rc=$? # before the command substitution in the description changes $?
check "a namespace-scoped cluster stores only its namespace ($(wc -l <"$dir/base_ns.txt") rows)" $rc
sim_advance "$a_port" 1200
caught_up a "$a_port" && caught_up a-shop "$a_port"
out1=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
rc1=$?
out2=$(exact a-shop "$a_port" "$dir/base_ns.txt" "$ns_rv" "$ns")
rc2=$?
test "$rc1" = 0 && test "$rc2" = 0
check "two clusters at once, each exactly what it was served ($out1; $out2)" $? "$out1
$out2"

# --- 7b. Bookmarks move a quiet watch's checkpoint: Events in other namespaces raise the
# server's resourceVersion, and the namespace-scoped watcher's checkpoint follows.
before=$(sql "SELECT resource_version FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'a-shop'")
curl -s -XPOST "http://127.0.0.1:$a_port/simulator/inject?namespace=elsewhere&count=3" >/dev/null
caught_up a-shop "$a_port"
rc=$?
after=$(sql "SELECT resource_version FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'a-shop'")
test "$rc" = 0 && test "$after" -gt "$before"
check "a bookmark advances the checkpoint of a watch that saw no Event ($before -> $after)" $?

# --- 8. SIGTERM stops a watcher at once, even on a silent stream.
pid=$(sql "SELECT pid FROM k8s_events.watch_status WHERE cluster = 'a'")
t0=$(date +%s%N)
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.005; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
test "$ms" -lt 5000
check "SIGTERM stops a watcher on a silent stream (${ms} ms)" $?

# --- 9. Clusters removed and disabled at runtime.
sql "SELECT k8s_events.remove_cluster('a-shop')" >/dev/null
wait_for 10 "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'k8s_events watcher' AND query IS NOT NULL AND pid NOT IN (SELECT pid FROM k8s_events.watch_status WHERE pid IS NOT NULL))"
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'a-shop'")
n=$(sql "SELECT count(*) FROM k8s_events.watch_status")
test "$n" = 1 && test "$rows" -gt 0
check "remove_cluster stops its watcher and keeps its events ($rows rows)" $?
sql "SELECT k8s_events.set_cluster_enabled('a', false)" >/dev/null
wait_for 10 "SELECT state = 'disabled' AND pid IS NULL FROM k8s_events.watch_status WHERE cluster = 'a'"
check "set_cluster_enabled(false) stops the watcher; watch_status says disabled" $?
sql "SELECT k8s_events.set_cluster_enabled('a', true)" >/dev/null
sim_advance "$a_port" 600
caught_up a "$a_port"
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
check "enabled again, it resumes from its checkpoint: exactly the served observations ($out)" $? "$out"

# --- 9b. The checkpoint fell out of the server's window: 410 at once, relist. What the
# server no longer has (versions in between) cannot come back; every Event it still
# holds is stored, once.
start_sim h --speed 0 --initial-events 100 --seed 15 --bookmark-interval 1 --history-max 20
sql "SELECT k8s_events.add_cluster('h', api_server => 'http://127.0.0.1:$h_port')" >/dev/null
caught_up h "$h_port"
sql "SELECT k8s_events.set_cluster_enabled('h', false)" >/dev/null
wait_for 10 "SELECT pid IS NULL FROM k8s_events.watch_status WHERE cluster = 'h'"
sim_advance "$h_port" 3600
sql "SELECT k8s_events.set_cluster_enabled('h', true)" >/dev/null
caught_up h "$h_port"
curl -s "http://127.0.0.1:$h_port/api/v1/events" | python3 -c "
import json, sys
for e in json.load(sys.stdin)['items']:
    print(e['metadata']['uid'], e['metadata']['resourceVersion'])" | sort >"$dir/alive_h.txt"
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'h'" | sort >"$dir/db_h.txt"
missing=$(comm -23 "$dir/alive_h.txt" "$dir/db_h.txt" | wc -l)
relists=$(sql "SELECT relists FROM k8s_events.watch_status WHERE cluster = 'h'")
dups=$(sql "SELECT count(*) - count(DISTINCT (uid, resource_version)) FROM k8s_events.events WHERE cluster = 'h'")
test "$relists" -ge 1 && test "$missing" = 0 && test "$dups" = 0 && test -s "$dir/alive_h.txt"
rc=$? # before the command substitution in the description changes $?
check "410 at once: relisted ($relists), all $(wc -l <"$dir/alive_h.txt") Events the server holds are stored, none twice" $rc "missing=$missing dups=$dups relists=$relists"

# --- 10. A required token, rotated: re-read at every connection, never logged.
token_one=$(new_secret)
token_two=$(new_secret)
echo "$token_one" >"$dir/token"
start_sim t --speed 0 --initial-events 50 --seed 12 --bookmark-interval 1 --token-file "$dir/token"
sql "SELECT k8s_events.add_cluster('t', api_server => 'http://127.0.0.1:$t_port', token_file => '$dir/token')" >/dev/null
caught_up t "$t_port"
check "a bearer token from token_file is accepted" $?
echo "$token_two" >"$dir/token.new" && mv "$dir/token.new" "$dir/token"
sim_fault "$t_port" "drop_after=1"
sim_advance "$t_port" 600
sleep 1
sim_fault "$t_port" "drop_after=0"
caught_up t "$t_port"
check "after the token file rotates and the connection drops, the new token is used" $?
! grep -q -e "$token_one" -e "$token_two" "$dir/pg/server.log"
check "the token never appears in the server log" $?

# --- 11. TLS: a wrong CA is refused with a clear status; the right one works.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 1 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/other-key.pem" -out "$dir/other.pem" -days 1 \
	-subj "/CN=other" 2>/dev/null
register_key "$dir/key.pem" "$dir/other-key.pem"
chmod 644 "$dir"/*.pem
start_sim s --speed 0 --initial-events 30 --seed 13 --bookmark-interval 1 --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem"
echo "$s_port" >>"$dir/https"
sql "SELECT k8s_events.add_cluster('tls-wrong', api_server => 'https://127.0.0.1:$s_port', ca_file => '$dir/other.pem')" >/dev/null
wait_for 15 "SELECT state = 'backoff' AND last_error ILIKE '%certificate%' FROM k8s_events.watch_status WHERE cluster = 'tls-wrong'"
check "TLS with the wrong CA is refused: backoff, last_error names the certificate" $? "$(sql "SELECT state, last_error FROM k8s_events.watch_status WHERE cluster = 'tls-wrong'")"
sql "SELECT k8s_events.add_cluster('tls', api_server => 'https://127.0.0.1:$s_port', ca_file => '$dir/cert.pem')" >/dev/null
caught_up tls "$s_port"
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'tls'")
test "$rows" = 30
check "TLS with the right CA: the 30 Events are stored" $?

# --- 12. Frames split at every byte (inside UTF-8 too) and a 1 MB Event.
start_sim u --speed 0 --initial-events 200 --seed 14 --bookmark-interval 1 --max-frame-split --unicode-every 3 --big-event-bytes 1000000
sql "SELECT k8s_events.add_cluster('u', api_server => 'http://127.0.0.1:$u_port')" >/dev/null
caught_up u "$u_port"
u_rv=$(sim_stat "$u_port" resource_version)
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'u'" >"$dir/base_u.txt"
sim_advance "$u_port" 1800
caught_up u "$u_port"
out=$(exact u "$u_port" "$dir/base_u.txt" "$u_rv")
rc=$?
big=$(sql "SELECT max(octet_length(message)) >= 1000000 FROM k8s_events.events WHERE cluster = 'u'")
bad=$(sql "SELECT count(*) FROM k8s_events.rejected WHERE cluster = 'u'")
test "$rc" = 0 && test "$big" = t && test "$bad" = 0
check "frames split at any byte and a 1 MB Event: stored exactly, nothing rejected ($out)" $? "$out"

# --- 12b. The API server fails for a while (503, then 429): back off, then recover.
before=$(sql "SELECT reconnects FROM k8s_events.watch_status WHERE cluster = 'a'")
sim_fault "$a_port" "fail_status=503&fail_count=2"
sim_fault "$a_port" "drop_after=1"
sim_advance "$a_port" 300
wait_for 20 "SELECT reconnects > $before FROM k8s_events.watch_status WHERE cluster = 'a'"
sim_fault "$a_port" "drop_after=0"
seen=$(sql "SELECT last_error FROM k8s_events.watch_status WHERE cluster = 'a'")
caught_up a "$a_port"
rc=$?
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
rc2=$?
test "$rc" = 0 && test "$rc2" = 0
check "503s from the API server: backoff, then recovery with nothing lost ($seen)" $? "$out"
sim_fault "$a_port" "fail_status=429&fail_count=1"
sim_fault "$a_port" "drop_after=1"
sim_advance "$a_port" 300
wait_for 20 "SELECT last_error LIKE 'HTTP 429%' FROM k8s_events.watch_status WHERE cluster = 'a'"
rc1=$?
sim_fault "$a_port" "drop_after=0"
caught_up a "$a_port"
rc2=$?
test "$rc1" = 0 && test "$rc2" = 0
check "429 Too Many Requests: backoff, then recovery" $? "$(sql "SELECT state, last_error FROM k8s_events.watch_status WHERE cluster = 'a'")"

# --- 12c. A stalled watch (connection open, nothing sent) is abandoned and resumed.
before=$(sql "SELECT reconnects FROM k8s_events.watch_status WHERE cluster = 'a'")
sim_fault "$a_port" "stall_after=1&bookmark_interval=0"
sim_advance "$a_port" 600
wait_for 20 "SELECT reconnects > $before FROM k8s_events.watch_status WHERE cluster = 'a'"
rc1=$?
sim_fault "$a_port" "stall_after=0&bookmark_interval=1"
caught_up a "$a_port"
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
rc2=$?
test "$rc1" = 0 && test "$rc2" = 0
check "a stalled watch is dropped after watch_stall_timeout and resumed: nothing lost ($out)" $? "stall noticed: $rc1; $out
$(sql "SELECT state, relists, reconnects, last_error FROM k8s_events.watch_status WHERE cluster = 'a'")
$(grep -i 'k8s_events' "$dir/pg/server.log" | tail -8)"

# --- 13. The API server killed and started again: backoff, then recovery.
for c in t tls-wrong tls h; do sql "SELECT k8s_events.remove_cluster('$c')" >/dev/null; done
sql "SELECT k8s_events.add_cluster('k', api_server => 'http://127.0.0.1:$u_port')" >/dev/null
caught_up k "$u_port"
kill "$u_pid"
wait "$u_pid" 2>/dev/null
wait_for 15 "SELECT state = 'backoff' AND last_error LIKE 'cannot reach the API server%' FROM k8s_events.watch_status WHERE cluster = 'k'"
check "API server gone: the watcher backs off and says why" $? "$(sql "SELECT state, last_error FROM k8s_events.watch_status WHERE cluster = 'k'")"
"${K8S_EVENTS:-loader/k8s-events}" simulate --port "$u_port" --speed 0 --initial-events 40 --seed 16 --bookmark-interval 1 >"$dir/u2.log" 2>&1 &
bg_pids+=($!)
sleep 0.5
caught_up k "$u_port"
rc=$?
state=$(sql "SELECT state FROM k8s_events.watch_status WHERE cluster = 'k'")
test "$rc" = 0 && test "$state" = watching
check "API server back: the watcher recovers and catches up ($state)" $?

# --- 14. The launcher restarted: the next one takes over the running watchers instead of
# starting a second watcher per cluster, and can still stop them.
old=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'k8s_events launcher'")
kill -TERM "$old"
wait_for 30 "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'k8s_events launcher' AND pid <> $old)"
sleep 2
watchers=$(sql "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'k8s_events watcher'")
wanted=$(sql "SELECT count(*) FROM k8s_events.clusters WHERE enabled")
test "$watchers" = "$wanted"
check "after the launcher restarts, one watcher per enabled cluster ($watchers for $wanted)" $?
sql "SELECT k8s_events.remove_cluster('k')" >/dev/null
wait_for 10 "SELECT count(*) = $((wanted - 1)) FROM pg_stat_activity WHERE backend_type = 'k8s_events watcher'"
check "the new launcher stops a watcher it took over" $?

check_summaries postgres "the background watcher (relists, 410s, stalls, restarts)"

[ "$failures" = 0 ]
