#!/usr/bin/env bash
# `k8s-events watch` against `k8s-events simulate`, on a PostgreSQL server of its own started
# WITHOUT preloading the library: the program needs only the extension and a writer role.
# Every check that counts rows compares the database with what the simulator says it served
# (/simulator/observations): exactly those, each once.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
export K8S_EVENTS_PRELOAD=''
own_server watch_cli 54346
need_program
K8S=$BIN

# start_watch LOG ARGS...: `k8s-events watch` in the background; sets watch_pid
start_watch() {
	local log=$1
	shift
	$K8S watch --stall-timeout 3 "$@" 2>"$dir/$log" &
	watch_pid=$!
	bg_pids+=($watch_pid)
}
# stop_watch PID: SIGTERM, and the exit status
stop_watch() {
	kill -TERM "$1" 2>/dev/null
	wait "$1"
}

ext() { sql "SELECT $2 FROM k8s_events.watch_status WHERE cluster = '$1' AND watcher = 'external'"; }

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events"
sql "CREATE ROLE k8s_watch_writer LOGIN IN ROLE k8s_events_writer" >/dev/null
sql "CREATE ROLE k8s_watch_nobody LOGIN" >/dev/null

out=$(sql "SHOW shared_preload_libraries")
test -z "$out"
check "the server runs without shared_preload_libraries" $? "$out"

# --- Usage and a failed first connection: exit 2.
$K8S watch --api-server http://127.0.0.1:1 2>"$dir/usage.log"
rc=$?
test "$rc" = 2 && grep -q -- "--cluster is required" "$dir/usage.log"
check "no --cluster: usage error, exit 2" $? "rc=$rc $(cat "$dir/usage.log")"
$K8S watch --cluster a --batch-size 0 2>"$dir/usage.log"
rc=$?
test "$rc" = 2 && grep -q -- "--batch-size must be an integer from 1 to 100000" "$dir/usage.log"
check "--batch-size 0: usage error, exit 2" $? "rc=$rc $(cat "$dir/usage.log")"
$K8S watch --cluster a --api-server http://127.0.0.1:1 -d "host=$dir/nowhere dbname=postgres" 2>"$dir/nopg.log"
rc=$?
test "$rc" = 2 && grep -q "cannot connect to PostgreSQL" "$dir/nopg.log"
check "PostgreSQL unreachable at start: exit 2 with the reason" $? "rc=$rc $(cat "$dir/nopg.log")"

# --- 1. A paginated initial list: 2,500 Events in pages of 500, then the watch.
start_sim a --speed 0 --initial-events 2500 --seed 11 --bookmark-interval 1
start_watch watch_a1.log --cluster a --api-server "http://127.0.0.1:$a_port" -d postgres
caught_up a "$a_port"
check "watch lists and watches: the checkpoint reaches the simulator's resourceVersion" $? "$(cat "$dir/watch_a1.log")"
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'a'" >"$dir/base_a.txt"
list_rv=$(sim_stat "$a_port" resource_version)
rows=$(wc -l <"$dir/base_a.txt")
lists=$(sim_stat "$a_port" list_requests)
test "$rows" = 2500 && test "$lists" = 5
check "initial list: $rows rows for 2500 alive Events, in $lists pages of 500" $? \
	"$(tail -5 "$dir/watch_a1.log"; curl -s "http://127.0.0.1:$a_port/simulator/stats")"
out=$(ext a "state || '|' || events_stored || '|' || duplicates || '|' || rejected || '|' || relists || '|' || (client = 'k8s-events watch pid $watch_pid on ' || '$(hostname)') || '|' || (pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = 'k8s-events watch'))")
test "$out" = "watching|2500|0|0|0|true|true"
check "watch_status: an external row, watching, 2500 stored, who and which session ($out)" $? "$out"

# --- 2. The cluster goes on: every write after the list is stored once.
sim_advance "$a_port" 1800
caught_up a "$a_port"
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
check "30 simulated minutes later: exactly the served observations ($out)" $? "$out"

# --- 3. A new Event reaches the table within about a second.
# Timed from the simulator's answer (python3's start-up on a busy machine is not the
# watcher's); 10 s still fails a watcher that waits for a full batch or its flush interval.
curl -s -XPOST "http://127.0.0.1:$a_port/simulator/inject?namespace=shop" >"$dir/inject.json"
t0=$(date +%s%N)
uid=$(python3 -c "import json,sys; print(json.load(sys.stdin)['uids'][0])" <"$dir/inject.json")
wait_for 30 "SELECT EXISTS (SELECT FROM k8s_events.events WHERE uid = '$uid')"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
test "$rc" = 0 && test "$ms" -lt 10000
check "an injected Event is stored $ms ms after it was emitted" $?

# --- 4. 410 in the middle of a watch: watch again from the checkpoint, no relist.
sim_fault "$a_port" "gone_after=20"
sim_advance "$a_port" 1800
sleep 1
sim_fault "$a_port" "gone_after=0"
caught_up a "$a_port"
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
rc=$?
errors=$(sim_stat "$a_port" errors_sent)
relists=$(ext a relists)
test "$rc" = 0 && test "$errors" -ge 1 && test "$relists" = 0
check "410 mid-watch ($errors ERROR frames, $relists relists): exactly the served observations ($out)" $? "$out"

# --- 5. Malformed frames: rejected rows, and the stream goes on.
sim_fault "$a_port" "malformed_every=5"
sim_advance "$a_port" 600
sleep 1
sim_fault "$a_port" "malformed_every=0"
caught_up a "$a_port"
bad=$(sql "SELECT count(*) FROM k8s_events.rejected WHERE cluster = 'a' AND source = 'watch' AND error LIKE 'malformed watch frame%'")
counted=$(ext a rejected)
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
rc=$?
test "$bad" -gt 0 && test "$counted" = "$bad" && test "$rc" = 0
check "malformed frames: $bad rejected rows ($counted in watch_status), the rest stored exactly ($out)" $? "$out"

# --- 6. A second watch of the same cluster is refused while the first runs.
$K8S watch --cluster a --api-server "http://127.0.0.1:$a_port" -d postgres 2>"$dir/second.log"
rc=$?
test "$rc" = 1 && grep -q 'cluster "a" is already being watched' "$dir/second.log" &&
	grep -q "It is watched by k8s-events watch pid $watch_pid on" "$dir/second.log" && kill -0 "$watch_pid"
check "a second watch of the same cluster exits 1 and names the first" $? "rc=$rc $(cat "$dir/second.log")"

# --- 7. kill -9 mid-stream, then a restart: it resumes from the checkpoint with a WATCH
# (no LIST), and nothing is lost or doubled.
lists=$(sim_stat "$a_port" list_requests)
watches=$(sim_stat "$a_port" watch_requests)
sim_advance "$a_port" 3600
sleep 0.05
kill -9 "$watch_pid"
wait "$watch_pid" 2>/dev/null
wait_for 10 "SELECT state = 'stopped' AND pid IS NULL FROM k8s_events.watch_status WHERE cluster = 'a' AND watcher = 'external'"
check "a killed watcher shows as stopped in watch_status" $? "$(ext a "state || ' ' || coalesce(pid::text, '-')")"
cp=$(sql "SELECT resource_version FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'a'")
sim_advance "$a_port" 600
before=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'a'")
start_watch watch_a2.log --cluster a --api-server "http://127.0.0.1:$a_port" -d postgres
caught_up a "$a_port"
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
rc=$?
lists2=$(sim_stat "$a_port" list_requests)
watches2=$(sim_stat "$a_port" watch_requests)
test "$rc" = 0 && test "$lists2" = "$lists" && test "$watches2" -gt "$watches" &&
	grep -q "resuming from resourceVersion $cp" "$dir/watch_a2.log"
check "kill -9 and restart: resumed with a WATCH from resourceVersion $cp (lists $lists -> $lists2, watches $watches -> $watches2), exactly the served observations ($out)" $? "$out
$(cat "$dir/watch_a2.log")"
after=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'a'")
out=$(ext a "state || '|' || events_stored || '|' || duplicates")
test "$out" = "watching|$((after - before))|0"
check "watch_status counts what the restarted watcher stored ($out; $((after - before)) new rows)" $? "$out"

# --- 8. PostgreSQL restarted mid-stream: the watcher reconnects and resumes from the
# stored checkpoint.
sim_advance "$a_port" 300
tests/pg_server.sh stop "$dir/pg"
sim_advance "$a_port" 600
sleep 1
eval "$(tests/pg_server.sh start "$dir/pg")"
caught_up a "$a_port"
rc1=$?
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
rc2=$?
test "$rc1" = 0 && test "$rc2" = 0 && grep -q "connected to PostgreSQL again" "$dir/watch_a2.log" && kill -0 "$watch_pid"
check "PostgreSQL restarted mid-stream: reconnected, nothing lost or doubled ($out)" $? "$out
$(tail -5 "$dir/watch_a2.log")"

# --- 9. SIGTERM: what was received is committed, then exit 0 (in a second, or five beside the
# sanitizer and valgrind lanes; a watcher waiting for its flush interval takes 60). Batches are
# held for a minute here, so the rows can only come from the commit at the stop.
stop_watch "$watch_pid"
start_watch watch_a3.log --cluster a --api-server "http://127.0.0.1:$a_port" -d postgres --flush-interval 60000 --batch-size 100000
wait_for 10 "SELECT state = 'watching' FROM k8s_events.watch_status WHERE cluster = 'a' AND watcher = 'external'"
# The simulator sends a bookmark only once the watch has every write; two more than before
# the jump means all of it was sent; then as long as before for the watcher to read it.
bookmarks=$(sim_stat "$a_port" bookmarks_sent)
sim_advance "$a_port" 600
for _ in $(seq 300); do
	[ "$(sim_stat "$a_port" bookmarks_sent)" -ge $((bookmarks + 2)) ] && break
	sleep 0.1
done
sleep 1.5
pending=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
pending_rc=$?
t0=$(date +%s%N)
stop_watch "$watch_pid"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
rc2=$?
test "$pending_rc" = 1 && test "$rc" = 0 && test "$ms" -lt 5000 && test "$rc2" = 0
check "SIGTERM: exit $rc after $ms ms, the held batch committed (before: $pending; after: $out)" $? "$(cat "$dir/watch_a3.log")"
out=$(ext a "state")
test "$out" = stopped && grep -q "stopped by SIGTERM" "$dir/watch_a3.log"
check "after SIGTERM watch_status says stopped" $? "$out"

# --- 10. A cluster the background worker owns is refused; disabled, it may be watched,
# and watch_status shows both kinds.
sql "SELECT k8s_events.add_cluster('w', api_server => 'http://127.0.0.1:$a_port')" >/dev/null
$K8S watch --cluster w --api-server "http://127.0.0.1:$a_port" -d postgres 2>"$dir/worker.log"
rc=$?
test "$rc" = 1 && grep -q 'cluster "w" is watched by the background worker' "$dir/worker.log" &&
	grep -q "set_cluster_enabled('w', false)" "$dir/worker.log"
check "a cluster enabled for the background worker is refused, exit 1, with the hint" $? "rc=$rc $(cat "$dir/worker.log")"
sql "SELECT k8s_events.set_cluster_enabled('w', false)" >/dev/null
start_watch watch_w.log --cluster w --api-server "http://127.0.0.1:$a_port" -d postgres --namespace shop
caught_up w "$a_port"
rc=$?
out=$(sql "SELECT string_agg(watcher || ':' || state, ',' ORDER BY watcher DESC) FROM k8s_events.watch_status WHERE cluster = 'w'")
others=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'w' AND namespace <> 'shop'")
mine=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'w'")
test "$rc" = 0 && test "$out" = "worker:disabled,external:watching" && test "$others" = 0 && test "$mine" -gt 0
check "a disabled cluster can be watched (namespace shop: $mine rows); one query shows both kinds ($out)" $? "$out others=$others"
stop_watch "$watch_pid"

# --- 11. Privileges: k8s_events_writer is enough; without it, a clear permission error.
start_watch watch_r.log --cluster r --api-server "http://127.0.0.1:$a_port" -d "dbname=postgres user=k8s_watch_writer"
caught_up r "$a_port"
rc=$?
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'r'")
alive=$(sim_stat "$a_port" events_alive)
test "$rc" = 0 && test "$rows" = "$alive"
check "a role with only k8s_events_writer watches ($rows rows for $alive alive Events)" $? "$(cat "$dir/watch_r.log")"
stop_watch "$watch_pid"
$K8S watch --cluster r2 --api-server "http://127.0.0.1:$a_port" -d "dbname=postgres user=k8s_watch_nobody" 2>"$dir/nobody.log"
rc=$?
test "$rc" = 1 && grep -q "permission denied" "$dir/nobody.log" &&
	grep -q "GRANT k8s_events_writer TO k8s_watch_nobody" "$dir/nobody.log"
check "a role without k8s_events_writer: exit 1, permission denied and the GRANT to run" $? "rc=$rc $(cat "$dir/nobody.log")"

# --- 12. TLS: a wrong CA is refused at the first connection (exit 2, the certificate named,
# watch_status failed); the right one works.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 1 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/other-key.pem" -out "$dir/other.pem" -days 1 \
	-subj "/CN=other" 2>/dev/null
register_key "$dir/key.pem" "$dir/other-key.pem"
new_secret >"$dir/token"
start_sim s --speed 0 --initial-events 30 --seed 13 --bookmark-interval 1 --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" --token-file "$dir/token"
echo "$s_port" >>"$dir/https"
$K8S watch --cluster tls --api-server "https://127.0.0.1:$s_port" --ca-file "$dir/other.pem" --token-file "$dir/token" -d postgres 2>"$dir/wrongca.log"
rc=$?
out=$(ext tls "state || ': ' || last_error")
test "$rc" = 2 && grep -qi "certificate" "$dir/wrongca.log" && [[ "$out" == failed:*certificate* ]]
check "TLS with the wrong CA: exit 2, the certificate named, watch_status failed" $? "rc=$rc $(cat "$dir/wrongca.log")
$out"
start_watch watch_tls.log --cluster tls --api-server "https://127.0.0.1:$s_port" --ca-file "$dir/cert.pem" --token-file "$dir/token" -d postgres
caught_up tls "$s_port"
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'tls'")
test "$rows" = 30
check "TLS with the right CA and a bearer token: the 30 Events are stored" $? "$(cat "$dir/watch_tls.log")"
stop_watch "$watch_pid"

# --- 12a. The first request: a wrong token (401) is a mistake to say and stop at (exit 2);
# a 503 or a 429 is the server asking to be asked again: retried after Retry-After.
printf 'not-the-token\n' >"$dir/wrong-token"
timeout 30 $K8S watch --cluster tls --api-server "https://127.0.0.1:$s_port" --ca-file "$dir/cert.pem" --token-file "$dir/wrong-token" -d postgres 2>"$dir/401.log"
rc=$?
test "$rc" = 2 && grep -q "HTTP 401" "$dir/401.log"
check "a wrong token at the first request: exit 2 with the 401" $? "rc=$rc $(cat "$dir/401.log")"
for code in 503 429; do
	start_sim busy$code --speed 0 --initial-events 30 --seed 19 --bookmark-interval 1 --fail-status $code --fail-count 1
	port=$(cat "$dir/busy$code.port")
	start_watch watch_busy$code.log --cluster busy$code --api-server "http://127.0.0.1:$port" -d postgres
	caught_up busy$code "$port"
	rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'busy$code'")
	kill -0 "$watch_pid" && test "$rows" = 30 && grep -q "HTTP $code" "$dir/watch_busy$code.log"
	check "a $code at the first request is retried, not fatal: the 30 Events are stored ($rows)" $? "$(cat "$dir/watch_busy$code.log")"
	stop_watch "$watch_pid"
done

! grep -q "$(cat "$dir/token")" "$dir"/*.log "$dir/pg/server.log"
check "the token appears in no output or log" $?

# --- 13. A kubeconfig with a context: the same cluster through it.
cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: wrong
clusters:
- name: sim
  cluster:
    server: https://127.0.0.1:$s_port
    certificate-authority: cert.pem
users:
- name: reader
  user:
    tokenFile: token
contexts:
- name: wrong
  context: {cluster: sim, user: nobody}
- name: sim-reader
  context: {cluster: sim, user: reader}
EOF
start_watch watch_kc.log --cluster kc --kubeconfig "$dir/kubeconfig" --context sim-reader -d postgres
caught_up kc "$s_port"
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'kc'")
test "$rows" = 30
check "--kubeconfig with --context: the 30 Events are stored" $? "$(cat "$dir/watch_kc.log")"
kill -INT "$watch_pid"
wait "$watch_pid"
rc=$?
test "$rc" = 0 && grep -q "stopped by SIGINT" "$dir/watch_kc.log"
check "SIGINT stops it too, exit 0" $? "rc=$rc $(cat "$dir/watch_kc.log")"

# --- 13b. kubeconfig's tls-server-name: a server whose certificate names it only by a DNS
# name nobody resolves, reached at 127.0.0.1. Without the name, the hostname check refuses
# it; with it, the name is what is sent (SNI) and checked, and the 30 Events are stored.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/named-key.pem" -out "$dir/named.pem" -days 1 \
	-subj "/CN=api.k8s-events.invalid" -addext "subjectAltName=DNS:api.k8s-events.invalid" 2>/dev/null
register_key "$dir/named-key.pem"
start_sim n --speed 0 --initial-events 30 --seed 17 --bookmark-interval 1 --tls-cert "$dir/named.pem" --tls-key "$dir/named-key.pem" --token-file "$dir/token"
echo "$n_port" >>"$dir/https"
named_kubeconfig() {
	cat <<EOF
apiVersion: v1
kind: Config
current-context: n
clusters:
- name: n
  cluster:
    server: https://127.0.0.1:$n_port
    certificate-authority: named.pem
$1
users:
- name: reader
  user:
    tokenFile: token
contexts:
- name: n
  context: {cluster: n, user: reader}
EOF
}
named_kubeconfig "" >"$dir/kubeconfig-noname"
$K8S watch --cluster noname --kubeconfig "$dir/kubeconfig-noname" -d postgres 2>"$dir/noname.log"
rc=$?
test "$rc" = 2
check "a certificate for another name, without tls-server-name: refused (exit 2)" $? "rc=$rc $(cat "$dir/noname.log")"
named_kubeconfig "    tls-server-name: api.k8s-events.invalid" >"$dir/kubeconfig-named"
start_watch watch_named.log --cluster named --kubeconfig "$dir/kubeconfig-named" -d postgres
caught_up named "$n_port"
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'named'")
test "$rows" = 30
check "kubeconfig tls-server-name: the name is checked against the certificate and sent, the address is the URL's: 30 Events stored" $? "rows=$rows $(cat "$dir/watch_named.log")"
stop_watch "$watch_pid"
named_kubeconfig "    tls-server-name: api.other.invalid" >"$dir/kubeconfig-othername"
$K8S watch --cluster othername --kubeconfig "$dir/kubeconfig-othername" -d postgres 2>"$dir/othername.log"
rc=$?
test "$rc" = 2
check "a tls-server-name the certificate does not name: refused (exit 2)" $? "rc=$rc $(cat "$dir/othername.log")"

# --- 14. With the background worker (the library preloaded from here on): it does not write
# a cluster an external watcher holds, and says who does; once the watcher stops, the worker
# takes over from the same checkpoint, with a WATCH.
cat >>"$dir/pg/data/postgresql.conf" <<CONF
shared_preload_libraries = 'k8s_events'
k8s_events.database = 'postgres'
k8s_events.watch_stall_timeout = '3s'
CONF
tests/pg_server.sh stop "$dir/pg"
eval "$(tests/pg_server.sh start "$dir/pg")"
start_watch watch_p.log --cluster p --api-server "http://127.0.0.1:$a_port" -d postgres
caught_up p "$a_port"
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'p'" >"$dir/base_p.txt"
p_rv=$(sim_stat "$a_port" resource_version)
sql "SELECT k8s_events.add_cluster('p', api_server => 'http://127.0.0.1:$a_port')" >/dev/null
wait_for 15 "SELECT state = 'backoff' AND last_error LIKE 'cluster is being watched by k8s-events watch pid $watch_pid on %' FROM k8s_events.watch_status WHERE cluster = 'p' AND watcher = 'worker'"
check "the worker leaves a cluster an external watcher holds, and says who holds it" $? "$(sql "SELECT watcher, state, last_error FROM k8s_events.watch_status WHERE cluster = 'p'")"
sim_advance "$a_port" 600
caught_up p "$a_port"
lists=$(sim_stat "$a_port" list_requests)
stop_watch "$watch_pid"
sim_advance "$a_port" 600
wait_for 20 "SELECT state = 'watching' FROM k8s_events.watch_status WHERE cluster = 'p' AND watcher = 'worker'"
rc1=$?
caught_up p "$a_port"
out=$(exact p "$a_port" "$dir/base_p.txt" "$p_rv")
rc2=$?
lists2=$(sim_stat "$a_port" list_requests)
test "$rc1" = 0 && test "$rc2" = 0 && test "$lists2" = "$lists"
check "the worker takes over from the external watcher's checkpoint without a LIST ($out)" $? "$out lists $lists -> $lists2
$(sql "SELECT watcher, state, last_error FROM k8s_events.watch_status WHERE cluster = 'p'")"

check_summaries postgres "k8s-events watch (kill -9 and restart, relists, a worker taking over)"

[ "$failures" = 0 ]
