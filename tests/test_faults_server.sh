#!/usr/bin/env bash
# The database server's faults, and the API server's clock: PostgreSQL killed with -9 (a
# backend, then the whole server) in the middle of a worker's batch and of a `k8s-events
# load`; the disk of the partitions' tablespace full during ingest (a small tmpfs); an API
# server whose clock is 10 years ahead, or behind. Each: nothing lost, nothing doubled, exact
# counts against what the simulator served or the file holds, summaries equal to the rows,
# and the worker's cost within budget. Own PostgreSQL server; needs root (mount).
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
. tests/cost.sh
# Debian's python3 (scripts/setup installs it) starts in a few ms; a version manager's shim
# ahead of it in PATH takes about a second a call, and the exact counts call it often.
[ -x /usr/bin/python3 ] && python3() { /usr/bin/python3 "$@"; }
need_program
own_server faults_srv 55413

# Budgets, as tests/test_watcher_cost.sh's: under load, CPU seconds per 1,000 Events stored
# and wake-ups a second; waiting (backoff, or bookmarks only), a share of a core.
load_cpu_per_1000=1.5
load_wakeups=3000
wait_cpu_pct=5
wait_wakeups=100

# The tmpfs is unmounted once the server that writes into it has stopped.
cleanup() {
	local p
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null; done
	tests/pg_server.sh stop "$dir/pg"
	if mountpoint -q "$dir/ts"; then umount "$dir/ts" || umount -l "$dir/ts"; fi
	rm -rf "$dir"
}
trap cleanup EXIT

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events"

status() { sql "SELECT state, events_stored, rejected, restarts, last_error FROM k8s_events.watch_status WHERE cluster = '$1'"; }
worker_of() { sql "SELECT pid FROM k8s_events.watch_status WHERE cluster = '$1'"; }
# in_transaction PID: wait (up to 20 s) until PID holds a transaction id: it is writing.
in_transaction() {
	local _
	for _ in $(seq 1000); do
		[ "$(sql "SELECT EXISTS (SELECT FROM pg_locks WHERE pid = $1 AND locktype = 'transactionid')" 2>/dev/null)" = t ] && return 0
		sleep 0.02
	done
	return 1
}
# crash_server: kill -9 the postmaster and every process of it at once (a power cut, as
# far as processes go), wait until they are gone, and start the server again.
crash_server() {
	local pm pids p _
	pm=$(head -n 1 "$dir/pg/data/postmaster.pid")
	pids=("$pm" $(ps -o pid= --ppid "$pm"))
	kill -9 "${pids[@]}"
	for _ in $(seq 100); do
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && break; done
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	tests/pg_server.sh start "$dir/pg" >/dev/null 2>"$dir/restart.log"
}
# load_costs NAME WHAT ROWS: the cost of NAME's window per 1,000 of ROWS stored, in budget.
load_costs() {
	local per
	measure "$1"
	per=$(awk -v c="$cpu" -v n="$3" 'BEGIN { printf "%.3f", (n > 0 ? 1000 * c / n : 999) }')
	test "$3" -ge 500 && below "$per" "$load_cpu_per_1000" && below "$wps" "$load_wakeups"
	check "$2: $3 Events in $secs s, $cpu s CPU = $per s per 1,000 stored, $wps wake-ups/s (budgets $load_cpu_per_1000 s, $load_wakeups/s)" $?
}
# wait_costs NAME WHAT: NAME's window, waiting: a small share of a core.
wait_costs() {
	measure "$1"
	below "$pct" "$wait_cpu_pct" && below "$wps" "$wait_wakeups"
	check "$2: ${pct}% of a core ($cpu s in $secs s), $wps wake-ups/s (budgets $wait_cpu_pct%, $wait_wakeups/s)" $?
}
rows_of() { sql "SELECT count(*) FROM k8s_events.events WHERE cluster = '$1'"; }
# resumed AFTER SEQ CONDITION: cluster k's worker is watching again (and CONDITION holds of
# its watch_status row), and the simulator's first request after SEQ was a WATCH from a
# resourceVersion: no LIST.
resumed() {
	local rc req
	wait_for 60 "SELECT state = 'watching' AND $3 FROM k8s_events.watch_status WHERE cluster = 'k'"
	rc=$?
	check "after $1 the worker is watching again: $(status k)" $rc
	req=$(first_request_after "$k_port" "$2")
	[[ $req == "watch "[0-9]* ]]
	check "after $1 it resumed with a WATCH from its checkpoint ($req)" $?
}
# first_request_after PORT SEQ: the simulator's first API request after SEQ: "verb resourceVersion".
first_request_after() {
	curl -s "http://127.0.0.1:$1/simulator/requests?since=$2" |
		python3 -c "import json, sys; r = json.loads(sys.stdin.readline()); print(r['verb'], r['args'].get('resourceVersion', '-'))"
}

# --- 1. The worker's backend killed with -9 in the middle of a batch: the postmaster
# reinitialises (every session ends), the supervisor, launcher and watcher come back, and the
# watcher resumes from its committed checkpoint with a WATCH, no LIST.
start_sim k --speed 0 --initial-events 500 --seed 41 --bookmark-interval 1
sql "SELECT k8s_events.add_cluster('k', api_server => 'http://127.0.0.1:$k_port')" >/dev/null
caught_up k "$k_port"
check "the worker listed the 500 Events" $? "$(status k)"
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'k'" >"$dir/base_k.txt"
k_rv=$(sim_stat "$k_port" resource_version)
w=$(worker_of k)
rows0=$(rows_of k)
begin worker "$w"
sim_fault "$k_port" "rate=1000"
sleep 3
in_transaction "$w"
rc=$?
load_costs worker "at 1,000 Events a second, the worker" $(($(rows_of k) - rows0))
seq=$(sim_stat "$k_port" requests_logged)
kill -9 "$w"
check "killed the worker $w while it held a transaction" $rc
resumed "the server's reinitialisation" "$seq" "pid <> $w"
w=$(worker_of k)
rows0=$(rows_of k)
begin worker "$w"
sleep 3
load_costs worker "after the restart, at 1,000 Events a second, the worker" $(($(rows_of k) - rows0))

# --- 2. The whole server killed with -9 (postmaster and all) in the middle of a batch, and
# started again: the same.
in_transaction "$w"
rc=$?
seq=$(sim_stat "$k_port" requests_logged)
crash_server
check "killed the whole server while the worker $w held a transaction, started it again" $rc
resumed "the crash" "$seq" "pid IS NOT NULL"
sleep 2
sim_fault "$k_port" "rate=0&speed=0"
caught_up k "$k_port"
rc=$?
out=$(exact k "$k_port" "$dir/base_k.txt" "$k_rv")
rc2=$?
test "$rc" = 0 && test "$rc2" = 0
check "two kills in the middle of batches: the worker stored exactly what was served ($out)" $? "$(status k)"
check_summaries postgres "the worker's crashes"

# --- 3. The whole server killed with -9 in the middle of a `k8s-events load`. A load
# commits batch by batch (--batch-size rows, in the file's order), so what it left is a
# whole number of batches from the file's start; loading the file again stores the rest,
# each Event once. To kill it inside a batch, a session holds a lock on the partition of
# the file's third day: the batch that first reaches that day waits for it, mid-transaction.
ld_start=$(date -u -d '-4 days' +%Y-%m-%dT00:00:00Z)
"$BIN" generate --seed 5 --start "$ld_start" --hours 96 --nodes 20 --namespaces 6 >"$dir/big.ndjson"
python3 -c "
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)['metadata']
    print(m['uid'], m['resourceVersion'])" "$dir/big.ndjson" >"$dir/big.keys"
total=$(wc -l <"$dir/big.keys")
batch=2000
sql "SELECT count(*) FROM k8s_events.create_partitions('$ld_start', '$ld_start'::timestamptz + interval '5 days')" >/dev/null
day3=$(sql "SELECT partition FROM k8s_events.partitions WHERE range_from <= '$ld_start'::timestamptz + interval '2 days 12 hours'
            AND range_to > '$ld_start'::timestamptz + interval '2 days 12 hours'")
psql -X -q -d postgres -c "BEGIN" -c "LOCK TABLE $day3 IN SHARE MODE" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
bg_pids+=($!)
wait_for 10 "SELECT EXISTS (SELECT FROM pg_locks WHERE relation = '$day3'::regclass AND granted)"
"$BIN" load --cluster ld --batch-size "$batch" -d postgres "$dir/big.ndjson" >"$dir/load1.out" 2>&1 &
load_pid=$!
bg_pids+=($load_pid)
wait_for 60 "SELECT EXISTS (SELECT FROM pg_locks WHERE relation = '$day3'::regclass AND NOT granted)"
rc=$?
stored=$(rows_of ld)
crash_server
wait "$load_pid"
load_rc=$?
test "$rc" = 0 && test "$stored" -gt 0 && test "$load_rc" != 0 && grep -qi 'server closed the connection' "$dir/load1.out"
check "a load of $total Events killed with the server inside a batch ($stored rows committed before) exits $load_rc, saying why" $? "$(cat "$dir/load1.out")"
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'ld'" >"$dir/ld.txt"
out=$(python3 - "$dir/big.keys" "$dir/ld.txt" "$batch" <<'PY'
import sys
keys = [l.strip() for l in open(sys.argv[1])]
db = [l.strip() for l in open(sys.argv[2]) if l.strip()]
batch = int(sys.argv[3])
n = len(db)
print(f"{n} rows = {n // batch} batches of {batch}, the file's first {n}: {set(db) == set(keys[:n])}")
sys.exit(0 if n % batch == 0 and len(set(db)) == n and set(db) == set(keys[:n]) else 1)
PY
)
check "what the crash left: $out" $?
"$BIN" load --cluster ld --batch-size "$batch" -d postgres "$dir/big.ndjson" >"$dir/load2.out" 2>&1
rc=$?
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'ld'" >"$dir/ld.txt"
out=$(python3 - "$dir/big.keys" "$dir/ld.txt" <<'PY'
import sys
keys = set(l.strip() for l in open(sys.argv[1]))
db = [l.strip() for l in open(sys.argv[2]) if l.strip()]
print(f"rows={len(db)} file={len(keys)} missing={len(keys - set(db))} extra={len(set(db) - keys)}")
sys.exit(0 if len(db) == len(set(db)) and set(db) == keys else 1)
PY
)
rc2=$?
test "$rc" = 0 && test "$rc2" = 0
check "loading the file again: exactly its Events, each once ($out; $(tail -1 "$dir/load2.out"))" $? "$(cat "$dir/load2.out")"
check_summaries postgres "the load's crash"

# --- 4. The disk of the partitions full. A tablespace on an 8 MB tmpfs, the default for
# new tables of the database, so that the partitions made for the Events of 10 days ago go
# there. Full (a filler file): the worker's batch fails with PostgreSQL's "No space left on
# device", watch_status says so, the launcher restarts it with backoff, a load fails saying
# why; the rows committed before stay. The filler deleted, the worker recovers by itself.
mkdir -p "$dir/ts"
if mount -t tmpfs -o "size=8m,mode=0700,uid=$(id -u postgres),gid=$(id -g postgres)" tmpfs "$dir/ts"; then
	psql -X -q -d postgres -c "CREATE TABLESPACE faults_tiny LOCATION '$dir/ts'" \
		-c "ALTER DATABASE postgres SET default_tablespace = faults_tiny"
	start_sim df --speed 0 --initial-events 500 --seed 43 --bookmark-interval 1 \
		--start "$(date -u -d '-10 days' +%Y-%m-%dT%H:%M:%SZ)"
	sql "SELECT k8s_events.add_cluster('df', api_server => 'http://127.0.0.1:$df_port')" >/dev/null
	caught_up df "$df_port"
	rc=$?
	where=$(sql "SELECT DISTINCT coalesce(t.spcname, 'default') FROM k8s_events.partitions AS p
	             JOIN pg_class AS c ON c.oid = p.partition LEFT JOIN pg_tablespace AS t ON t.oid = c.reltablespace
	             WHERE p.range_to > now() - interval '11 days' AND p.range_from < now() - interval '8 days'")
	test "$rc" = 0 && test "$where" = faults_tiny
	check "the worker stored 10-day-old Events in partitions on the tmpfs ($where)" $? "$(status df)"
	sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'df'" >"$dir/base_df.txt"
	df_rv=$(sim_stat "$df_port" resource_version)
	dd if=/dev/zero of="$dir/ts/filler" bs=64k 2>/dev/null
	launcher=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'k8s_events launcher'")
	begin launcher "$launcher"
	restarts0=$(sql "SELECT restarts FROM k8s_events.watch_status WHERE cluster = 'df'")
	sim_advance "$df_port" 1800
	wait_for 20 "SELECT last_error LIKE '%No space left on device%' FROM k8s_events.watch_status WHERE cluster = 'df'"
	rc=$?
	check "disk full: watch_status says so: $(status df)" $rc
	"$BIN" generate --seed 6 --start "$(date -u -d '-10 days' +%Y-%m-%dT%H:%M:%SZ)" --hours 1 >"$dir/small.ndjson"
	"$BIN" load --cluster dfl -d postgres "$dir/small.ndjson" >"$dir/load3.out" 2>&1
	rc=$?
	test "$rc" != 0 && grep -q 'No space left on device' "$dir/load3.out" && test "$(rows_of dfl)" = 0
	check "disk full: a load fails saying why (exit $rc), nothing of it stored" $? "$(cat "$dir/load3.out")"
	sleep 6
	n=$(($(sql "SELECT restarts FROM k8s_events.watch_status WHERE cluster = 'df'") - restarts0))
	out=$(comm -3 <(sort "$dir/base_df.txt") <(sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'df'" | sort) | wc -l)
	test "$out" = 0
	rc=$?
	check "disk full: the rows committed before are all there, nothing more ($(rows_of df))" $rc
	test "$n" -ge 1 && test "$n" -le 6
	check "disk full: the launcher restarted the failing worker $n times (backoff, not a storm)" $?
	wait_costs launcher "disk full, the launcher"
	rm -f "$dir/ts/filler"
	# The launcher's next start may be up to half a minute away (its backoff doubles).
	df_now=$(sim_stat "$df_port" resource_version)
	wait_for 90 "SELECT coalesce((SELECT resource_version::bigint >= $df_now FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'df'), false)"
	rc=$?
	out=$(exact df "$df_port" "$dir/base_df.txt" "$df_rv")
	rc2=$?
	test "$rc" = 0 && test "$rc2" = 0
	check "space back: the worker recovered by itself and stored exactly what was served ($out)" $? "$(status df)"
	"$BIN" load --cluster dfl -d postgres "$dir/small.ndjson" >"$dir/load4.out" 2>&1
	rc=$?
	test "$rc" = 0 && test "$(rows_of dfl)" = "$(wc -l <"$dir/small.ndjson")"
	check "space back: the load stores the whole file ($(tail -1 "$dir/load4.out"))" $? "$(cat "$dir/load4.out")"
	check_summaries postgres "a full disk"
	sql "ALTER DATABASE postgres RESET default_tablespace" >/dev/null
	sql "SELECT k8s_events.remove_cluster('df')" >/dev/null
else
	notok "mount a tmpfs for the disk-full check (needs root)"
fi

# --- 5. The API server's clock 10 years ahead: its Events are stored, in partitions of
# that time, and retention leaves them. 10 years behind: every Event is older than
# k8s_events.retention; each goes to k8s_events.rejected with the reason (the old code
# counted them as expired, which no watcher shows: lost without a word).
ahead=$(date -u -d '+10 years' +%Y-%m-%dT%H:%M:%SZ)
behind=$(date -u -d '-10 years' +%Y-%m-%dT%H:%M:%SZ)
start_sim fut --speed 0 --initial-events 200 --seed 44 --bookmark-interval 1 --start "$ahead"
start_sim past --speed 0 --initial-events 200 --seed 45 --bookmark-interval 1 --start "$behind"
sql "SELECT k8s_events.add_cluster('fut', api_server => 'http://127.0.0.1:$fut_port')" >/dev/null
sql "SELECT k8s_events.add_cluster('past', api_server => 'http://127.0.0.1:$past_port')" >/dev/null
"$BIN" watch --cluster pastx --api-server "http://127.0.0.1:$past_port" -d postgres 2>"$dir/watch_past.log" &
bg_pids+=($!)
caught_up fut "$fut_port" && caught_up past "$past_port" && caught_up pastx "$past_port"
check "the workers and k8s-events watch follow API servers 10 years ahead and behind" $? "$(status fut)
$(status past)
$(status pastx)"
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'fut'" >"$dir/base_fut.txt"
fut_rv=$(sim_stat "$fut_port" resource_version)
past_rv=$(sim_stat "$past_port" resource_version)
past_alive=$(sim_stat "$past_port" events_alive)
out=$(sql "SELECT count(*) || ' rows, ' || count(DISTINCT (uid, resource_version)) || ' distinct, alive ' || $(sim_stat "$fut_port" events_alive)
           FROM k8s_events.events WHERE cluster = 'fut' AND event_time > now() + interval '9 years'")
test "$out" = "$(rows_of fut) rows, $(rows_of fut) distinct, alive $(rows_of fut)"
check "10 years ahead: the listed Events are stored as they are ($out)" $?
w=$(worker_of past)
begin worker "$w"
sim_advance "$fut_port" 900
sim_advance "$past_port" 900
caught_up fut "$fut_port" && caught_up past "$past_port" && caught_up pastx "$past_port"
rc=$?
sleep 3
wait_costs worker "10 years behind, the worker"
sql "SELECT * FROM k8s_events.drop_partitions()" >/dev/null
out=$(exact fut "$fut_port" "$dir/base_fut.txt" "$fut_rv")
rc2=$?
test "$rc" = 0 && test "$rc2" = 0
check "10 years ahead: exactly what was served, and retention (drop_partitions) keeps it ($out)" $? "$(status fut)"
parts=$(sql "SELECT count(*) FROM k8s_events.partitions WHERE range_from > now() + interval '9 years'")
test "$parts" -ge 1 && test "$parts" -le 3
check "10 years ahead: $parts partitions of that time, no more" $?
# What the simulator served 10 years behind, against what is in rejected, per cluster.
rejected_exact() {
	curl -s "http://127.0.0.1:$past_port/simulator/observations?since_rv=$past_rv" >"$dir/past_obs.ndjson"
	sql "SELECT error FROM k8s_events.rejected WHERE cluster = '$1' LIMIT 1" >"$dir/past_err.txt"
	sql "SELECT payload FROM k8s_events.rejected WHERE cluster = '$1'" >"$dir/past_rej.ndjson"
	python3 - "$dir/past_obs.ndjson" "$dir/past_rej.ndjson" "$past_alive" "$(rows_of "$1")" <<'PY'
import json, sys
later = {o["uid"] + " " + o["resourceVersion"] for o in map(json.loads, open(sys.argv[1]))}
rej = []
for line in open(sys.argv[2]):
    item = json.loads(line)
    m = item.get("object", item)["metadata"]  # a watch frame, or a list's Event
    rej.append(m["uid"] + " " + m["resourceVersion"])
alive, rows = int(sys.argv[3]), int(sys.argv[4])
# The list's (the Events alive then), and every one served after it, each once.
listed = len(set(rej) - later)
print(f"rejected={len(rej)} distinct={len(set(rej))} (listed {listed} of {alive} alive, later {len(set(rej) & later)} of {len(later)} served), stored={rows}")
sys.exit(0 if len(rej) == len(set(rej)) and later <= set(rej) and listed == alive and rows == 0 else 1)
PY
}
for c in past pastx; do
	out=$(rejected_exact "$c")
	rc=$?
	grep -q "^event_time .* is older than k8s_events.retention (120 days): not stored; is the API server's clock right?" "$dir/past_err.txt"
	rc2=$?
	test "$rc" = 0 && test "$rc2" = 0
	check "10 years behind ($c): every Event served is in k8s_events.rejected once, with the reason ($out)" $? "$(cat "$dir/past_err.txt")
$(status "$c")"
done
check_summaries postgres "the clocks 10 years off"
[ "$failures" = 0 ]
