#!/usr/bin/env bash
# API servers gone wrong, between the watchers and `k8s-events simulate`: one that trickles a
# byte a second, one that accepts and never answers, one that answers a proxy's HTML login
# page, one that gzips its answers, and HTTP/2 (a cleartext-only h2c server, and h2 over TLS
# through nghttpx). The background worker (cluster fw) and `k8s-events watch` (cluster fx)
# follow the same simulator through tests/fault_server.py, whose mode the test switches. Each
# fault: the timeout fires or the error is clear in watch_status, nothing is stored from the
# bad answer, the watchers cost little while they wait, and once the server answers again
# they store exactly what the simulator served, each once. Own PostgreSQL server.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
. tests/cost.sh
# Debian's python3 (scripts/setup installs it) starts in a few ms; a version manager's shim
# ahead of it in PATH takes about a second a call, and the exact counts call it often.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
python3() { "$py" "$@"; }
need_program
own_server faults_net 55410
nghttpx_port=55411
nghttpd_port=55412

# Budgets of a watcher waiting on a broken server (a stall check, a byte or a retry a second):
# the idle budgets of tests/test_watcher_cost.sh, a few times over for the recoveries inside
# the window.
wait_cpu_pct=5
wait_wakeups=100

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events" \
	-c "ALTER SYSTEM SET k8s_events.watch_stall_timeout = '3s'" -c "SELECT pg_reload_conf()" >/dev/null

# status CLUSTER: its watch_status, for messages.
status() { sql "SELECT state, events_stored, rejected, reconnects, last_error FROM k8s_events.watch_status WHERE cluster = '$1'"; }
# both_saw PATTERN SECONDS: both watchers show last_error LIKE PATTERN within SECONDS.
both_saw() {
	wait_for "$2" "SELECT count(*) = 2 FROM k8s_events.watch_status WHERE cluster IN ('fw', 'fx') AND last_error LIKE '$1'"
}
# mode M: how the fault server answers the connections that come from now on.
mode() { echo "$1" >"$dir/mode"; }
# reconnect: the simulator ends its open watches (as at their timeout), so that both
# watchers connect again, through the fault server's current mode.
reconnect() { curl -s -XPOST "http://127.0.0.1:$s_port/simulator/close_watches" >/dev/null; }
# waiting_costs WHAT: the worker's and the watch's costs since begin_waiting, within budget.
begin_waiting() { begin worker "$worker_pid" && begin watch "$watch_pid"; }
waiting_costs() {
	measure worker
	below "$pct" "$wait_cpu_pct" && below "$wps" "$wait_wakeups"
	check "$1, the worker: ${pct}% of a core ($cpu s in $secs s), $wps wake-ups/s (budgets $wait_cpu_pct%, $wait_wakeups/s)" $?
	measure watch
	below "$pct" "$wait_cpu_pct" && below "$wps" "$wait_wakeups"
	check "$1, k8s-events watch: ${pct}% of a core ($cpu s in $secs s), $wps wake-ups/s (budgets $wait_cpu_pct%, $wait_wakeups/s)" $?
}
# What a cluster holds, against the simulator (each prints its counts, true when exact):
# served CLUSTER: every observation it served, each once (a cluster that followed it
# from its start); listed CLUSTER: after a LIST of the frozen simulator, one row per Event
# alive there, each once (saved as $dir/base_CLUSTER.txt); since_listed CLUSTER: those
# rows, and every observation since $listed_rv.
served() { exact_served "$1" "$s_port"; }
listed() {
	local rows distinct alive
	sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = '$1'" >"$dir/base_$1.txt"
	rows=$(wc -l <"$dir/base_$1.txt")
	distinct=$(sort -u "$dir/base_$1.txt" | wc -l)
	alive=$(sim_stat "$s_port" events_alive)
	echo "rows=$rows distinct=$distinct alive=$alive"
	test "$rows" = "$distinct" && test "$rows" = "$alive"
}
since_listed() { exact "$1" "$s_port" "$dir/base_$1.txt" "$listed_rv"; }
# both HOW C1 C2: both clusters catch up with the simulator and HOW holds for each; their
# counts in out1 and out2.
both() {
	local rc
	caught_up "$2" "$s_port" && caught_up "$3" "$s_port"
	rc=$?
	out1=$("$1" "$2") || rc=1
	out2=$("$1" "$3") || rc=1
	return "$rc"
}
# recovered WHAT: back to relaying: both watchers catch up and hold exactly what was served.
recovered() {
	mode relay
	both served fw fx
	check "$1: once it answers again, both store exactly what was served (worker: $out1; watch: $out2)" $? "$(status fw)
$(status fx)"
}

start_sim s --speed 0 --initial-events 300 --seed 31 --bookmark-interval 1
mode trickle
# Started as itself, not through the function above: its pid is the one to end.
"$py" tests/fault_server.py "$dir/f.port" "$dir/mode" "$s_port" "$dir/f.log" >/dev/null 2>"$dir/f.err" &
bg_pids+=($!)
for _ in $(seq 300); do [ -s "$dir/f.port" ] && break; sleep 0.1; done
f_port=$(cat "$dir/f.port")

# --- 1. A LIST answered a byte a second: the page never comes whole, the request is dropped
# after the stall timeout (3 s), though bytes keep coming; the old code waited for days.
sql "SELECT k8s_events.add_cluster('fw', api_server => 'http://127.0.0.1:$f_port')" >/dev/null
"$BIN" watch --cluster fx --api-server "http://127.0.0.1:$f_port" --stall-timeout 3 -d postgres 2>"$dir/watch.log" &
watch_pid=$!
bg_pids+=($watch_pid)
wait_for 10 "SELECT pid IS NOT NULL FROM k8s_events.watch_status WHERE cluster = 'fw'"
worker_pid=$(sql "SELECT pid FROM k8s_events.watch_status WHERE cluster = 'fw'")
begin_waiting
both_saw 'no whole list page in 3 s, only a trickle of bytes%' 20
rc=$?
check "a LIST trickled a byte a second is dropped after the stall timeout: $(status fw)" $rc "$(status fx)"
waiting_costs "waiting on a trickled LIST"
recovered "the trickled LIST"

# --- 2. A WATCH that is accepted and never answered: the stall timeout fires.
mode silent
reconnect
sim_advance "$s_port" 600
begin_waiting
both_saw 'nothing received for 3 s: the connection stalled' 20
rc=$?
check "a watch accepted and never answered is dropped after the stall timeout: $(status fw)" $rc "$(status fx)"
waiting_costs "waiting on a silent server"
recovered "the silent server"

# --- 3. A WATCH answered a byte a second: no whole frame for 3 s, dropped.
mode trickle
reconnect
sim_advance "$s_port" 600
begin_waiting
both_saw 'no whole watch frame in 3 s, only a trickle of bytes%' 20
rc=$?
check "a watch trickled a byte a second is dropped after the stall timeout: $(status fw)" $rc "$(status fx)"
waiting_costs "waiting on a trickled watch"
recovered "the trickled watch"

# --- 4. HTML (a proxy's login page, 200 text/html) where Events were asked for: a clear
# error, and none of its lines stored as rejects (the old code stored each, and retried).
rejected0=$(sql "SELECT count(*) FROM k8s_events.rejected")
mode html
reconnect
sim_advance "$s_port" 600
begin_waiting
both_saw '%HTTP 200 with Content-Type "text/html; charset=utf-8", not JSON%<!DOCTYPE html>%' 20
rc=$?
check "a 200 text/html answer is a clear error: $(status fw)" $rc "$(status fx)"
sleep 3
rejected=$(($(sql "SELECT count(*) FROM k8s_events.rejected") - rejected0))
test "$rejected" = 0
check "nothing of the HTML page is stored, not even as rejects ($rejected)" $? "$(sql "SELECT cluster, error, left(payload, 60) FROM k8s_events.rejected ORDER BY id DESC LIMIT 5")"
waiting_costs "answered with HTML"
recovered "the HTML answers"

# --- 5. Answers gzip-compressed (Content-Encoding: gzip), flushed frame by frame: curl
# asks for them (CURLOPT_ACCEPT_ENCODING) and decodes them; the watch stays live.
mode gzip
reconnect
sim_advance "$s_port" 900
both served fw fx
rc=$?
n=$(grep -c '^gzip GET /api/v1/events?watch=1' "$dir/f.log")
test "$rc" = 0 && test "$n" -ge 2
check "watches answered with gzip: exactly what was served ($n gzip watches; worker: $out1; watch: $out2)" $? "$(status fw)
$(status fx)"
# A LIST through it: a new cluster of `k8s-events watch`.
"$BIN" watch --cluster fz --api-server "http://127.0.0.1:$f_port" -d postgres 2>"$dir/watch_z.log" &
z_pid=$!
bg_pids+=($z_pid)
caught_up fz "$s_port"
rc=$?
out=$(listed fz)
rc2=$?
test "$rc" = 0 && test "$rc2" = 0 && grep -q '^gzip GET /api/v1/events?limit=500' "$dir/f.log"
check "a LIST answered with gzip: exactly the Events alive ($out)" $? "$(cat "$dir/watch_z.log")"
kill "$z_pid"
mode relay

# --- 6. HTTP/2. A server that speaks only HTTP/2 in clear text (nghttpd --no-tls, h2c with
# prior knowledge) cannot answer an HTTP/1.1 request: a clear error, nothing stored, no crash.
mkdir -p "$dir/h2root"
nghttpd --no-tls -d "$dir/h2root" "$nghttpd_port" >"$dir/nghttpd.log" 2>&1 &
bg_pids+=($!)
for _ in $(seq 300); do (echo >"/dev/tcp/127.0.0.1/$nghttpd_port") 2>/dev/null && break; sleep 0.1; done
sql "SELECT k8s_events.add_cluster('h2c', api_server => 'http://127.0.0.1:$nghttpd_port')" >/dev/null
wait_for 15 "SELECT state = 'backoff' AND last_error LIKE '%not HTTP/1.x: a server that speaks only HTTP/2 without TLS (h2c)%' FROM k8s_events.watch_status WHERE cluster = 'h2c'"
rc=$?
h2c_pid=$(sql "SELECT pid FROM k8s_events.watch_status WHERE cluster = 'h2c'")
sleep 3
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'h2c'")
test "$rc" = 0 && test "$rows" = 0 && test "$(sql "SELECT pid FROM k8s_events.watch_status WHERE cluster = 'h2c'")" = "$h2c_pid" &&
	test "$(sql "SELECT restarts FROM k8s_events.watch_status WHERE cluster = 'h2c'")" = 0
rc=$?
check "an h2c-only server: the worker says why, stores nothing, keeps running: $(status h2c)" $rc
out=$("$BIN" watch --cluster h2cx --api-server "http://127.0.0.1:$nghttpd_port" -d postgres 2>&1)
rc=$?
test "$rc" = 2 && grep -q 'speaks only HTTP/2 without TLS' <<<"$out"
check "an h2c-only server: k8s-events watch exits 2 saying why (exit $rc)" $? "$out"
sql "SELECT k8s_events.remove_cluster('h2c')" >/dev/null

# h2 over TLS (ALPN offers h2 only), nghttpx in front of the simulator: curl negotiates
# HTTP/2, and the watchers work as over HTTP/1.1.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 1 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
chmod 644 "$dir"/*.pem
nghttpx --conf=/dev/null --no-ocsp --frontend="127.0.0.1,$nghttpx_port" --backend="127.0.0.1,$s_port" \
	--npn-list=h2 --workers=1 --accesslog-file="$dir/h2.access" --errorlog-file="$dir/h2.err" \
	"$dir/key.pem" "$dir/cert.pem" >"$dir/nghttpx.log" 2>&1 &
bg_pids+=($!)
for _ in $(seq 300); do (echo >"/dev/tcp/127.0.0.1/$nghttpx_port") 2>/dev/null && break; sleep 0.1; done
sql "SELECT k8s_events.add_cluster('h2', api_server => 'https://127.0.0.1:$nghttpx_port', ca_file => '$dir/cert.pem')" >/dev/null
"$BIN" watch --cluster h2x --api-server "https://127.0.0.1:$nghttpx_port" --ca-file "$dir/cert.pem" -d postgres 2>"$dir/watch_h2.log" &
bg_pids+=($!)
both listed h2 h2x
check "h2 over TLS through nghttpx: the LIST stores the Events alive (worker: $out1; watch: $out2)" $? "$(status h2)
$(status h2x)"
listed_rv=$(sim_stat "$s_port" resource_version)
sim_advance "$s_port" 600
both since_listed h2 h2x
rc=$?
# nghttpx logs a request when it ends: end the watches.
reconnect
sleep 1
n=$(grep -c 'GET /api/v1/events?watch=1[^"]* HTTP/2' "$dir/h2.access")
test "$rc" = 0 && test "$n" -ge 2 && ! grep -q 'HTTP/1' "$dir/h2.access"
check "h2 over TLS: the watches store exactly what was served, every request HTTP/2 ($n watches; worker: $out1; watch: $out2)" $? "$(status h2)
$(status h2x)
$(tail -3 "$dir/h2.access")"

check_summaries postgres "the network faults"
[ "$failures" = 0 ]
