#!/usr/bin/env bash
# The per-cluster ingest and watch locks (extension/cluster_locks.h): userlocks keyed by the
# exact name through k8s_events_internal.cluster_lock_keys, out of reach of SQL. An unprivileged role
# that holds every advisory lock it can think of (the old hash-keyed ones, and the new class
# with the plausible keys) stalls neither ingest, nor the background watcher, nor
# `k8s-events watch`; names whose 32-bit hashes collide, or whose natural key is taken, get
# keys of their own and do not serialise each other; one cluster still has one watcher.
# On a PostgreSQL server of its own, with the library preloaded.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
own_server locks 54381
need_program
K8S=$BIN
check_detail_lines=20

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events"
sql "ALTER SYSTEM SET k8s_events.watch_stall_timeout = '3s'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
sql "CREATE ROLE lock_writer LOGIN IN ROLE k8s_events_writer" >/dev/null
# The squatter may read the extension's tables (k8s_events_reader), not its lock keys.
sql "CREATE ROLE squatter LOGIN IN ROLE k8s_events_reader" >/dev/null
sql "GRANT CONNECT ON DATABASE postgres TO squatter, lock_writer" >/dev/null

# The class of the new locks ('k8sl') and of the old ones ('k8se' ingest, 'k8sw' watch).
NEW=x\'6b38736c\'::int
OLD_INGEST=x\'6b387365\'::int
OLD_WATCH=x\'6b387377\'::int

# ev UID: a core/v1 Event, as the API server serves it, of now.
ev() {
	local ts
	ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	printf '{"apiVersion":"v1","kind":"Event","metadata":{"name":"web-1.%s","namespace":"shop","uid":"%s","resourceVersion":"%s","creationTimestamp":"%s"},"involvedObject":{"kind":"Pod","namespace":"shop","name":"web-1"},"reason":"BackOff","message":"Back-off restarting failed container web","source":{"component":"kubelet","host":"node-1"},"firstTimestamp":"%s","lastTimestamp":"%s","count":1,"type":"Warning","eventTime":null,"reportingComponent":"","reportingInstance":""}' \
		"${1:0:8}" "$1" "$RANDOM" "$ts" "$ts" "$ts"
}
uid_n=0
# next_uid: a fresh uid for each Event this script ingests.
next_uid() {
	uid_n=$((uid_n + 1))
	printf '00000000-0000-4000-8000-%012d' "$uid_n"
}

# as_writer SQL...: run the statements as lock_writer with lock_timeout = 2s, in one
# session; prints the output and errors.
as_writer() {
	local args=(-c "SET lock_timeout = '2s'") s
	for s in "$@"; do args+=(-c "$s"); done
	psql -X -q -At -v ON_ERROR_STOP=1 -d "dbname=postgres user=lock_writer" "${args[@]}" 2>&1
}
# ingest_as_writer CLUSTER: one new Event for CLUSTER, as the writer, with lock_timeout = 2s.
ingest_as_writer() { as_writer "SELECT k8s_events.ingest('$(ev "$(next_uid)")', '$1')"; }

# key_of CLUSTER: its lock key (as the superuser), empty when it has none.
key_of() { sql "SELECT key FROM k8s_events_internal.cluster_lock_keys WHERE cluster = '$1'"; }

# A session kept open: open_session NAME FD USER starts psql as USER (application_name NAME)
# reading from a fifo, which this shell holds open on FD; say FD SQL sends it statements;
# close_session NAME FD ends it (\q: the processes started meanwhile hold the fifo open too,
# so no EOF) and waits for it. Its output is in $dir/NAME.out.
open_session() {
	local name=$1 fd=$2 user=$3
	rm -f "$dir/$name.fifo"
	mkfifo "$dir/$name.fifo"
	PGAPPNAME=$name psql -X -q -At -d "dbname=postgres user=$user" <"$dir/$name.fifo" >"$dir/$name.out" 2>&1 &
	eval "${name}_psql=$!"
	bg_pids+=($!)
	eval "exec $fd>\"\$dir/\$name.fifo\""
}
say() { echo "$2" >&"$1"; }
close_session() {
	local pid
	say "$2" '\q'
	eval "exec $2>&-"
	eval "pid=\$${1}_psql"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
# session_pid NAME: the backend pid of the open session NAME (waits up to 10 s for it).
session_pid() {
	wait_for 10 "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = '$1')" &&
		sql "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'"
}
# userlock_held PID KIND KEY: PID holds the cluster lock KIND (1 ingest, 2 watch) on KEY,
# as pg_locks shows it; KEY empty: on any key.
userlock_held_sql() {
	echo "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'userlock' AND pid = $1
	  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	  AND classid::bigint = $NEW AND objsubid = $2 ${3:+AND objid::bigint = $3}
	  AND mode = 'ExclusiveLock' AND granted)"
}

# --- 0. The squatter: an unprivileged role holding, in one session, for each cluster it
# targets the old ingest lock (pg_advisory_xact_lock(k8se, hashtext) took classid k8se,
# objid hash, objsubid 2), the old watch lock (classid k8sw, objid hash, objsubid 2), and on
# the new class the keys from the name's hash on, both as objsubid 1 (the int8 form) and 2
# (the int4 pair form): the same database, classid, objid and objsubid as the new locks.
targets="'c1', 'w1', 'x1'"
span=16
open_session squatter 5 squatter
say 5 "SELECT count(pg_advisory_lock($OLD_INGEST, hashtext(n))) + count(pg_advisory_lock($OLD_WATCH, hashtext(n)))
	FROM unnest(ARRAY[$targets]) AS n;"
say 5 "SELECT count(pg_advisory_lock(($NEW::bigint << 32) | ((hashtext(n)::bigint + i + 4294967296) % 4294967296)))
	+ count(pg_advisory_lock($NEW, (((hashtext(n)::bigint + i + 2147483648) % 4294967296) - 2147483648)::int))
	FROM unnest(ARRAY[$targets]) AS n, generate_series(0, $span - 1) AS i;"
squatter_pid=$(session_pid squatter)
want_locks=$((3 * 2 + 3 * span * 2))
squatter_locks="SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $squatter_pid AND granted"
wait_for 10 "SELECT ($squatter_locks) = $want_locks"
check "the squatter (no k8s_events_writer) holds $want_locks advisory locks: the old keys and the new class's plausible keys of $targets" $? \
	"$(cat "$dir/squatter.out"; sql "$squatter_locks")"

# It can read nothing of the lock keys, nor lock them.
for q in "SELECT * FROM k8s_events_internal.cluster_lock_keys" \
	"SELECT * FROM k8s_events_internal.cluster_lock_keys FOR UPDATE" \
	"BEGIN; LOCK TABLE k8s_events_internal.cluster_lock_keys IN ACCESS EXCLUSIVE MODE; COMMIT"; do
	out=$(psql -X -q -At -d "dbname=postgres user=squatter" -c "$q" 2>&1)
	rc=$?
	test "$rc" != 0 && grep -Eq "permission denied for (table cluster_lock_keys|schema k8s_events_internal)" <<<"$out"
	check "the squatter is refused: $q" $? "rc=$rc $out"
done

# The squatter's locks are the very ones the old code took: taking them now times out / is refused.
out=$(psql -X -q -At -d postgres -c "SET lock_timeout = '500ms'" \
	-c "SELECT pg_advisory_xact_lock($OLD_INGEST, hashtext('c1'))" 2>&1)
rc=$?
out2=$(sql "SELECT pg_try_advisory_lock($OLD_WATCH, hashtext('w1')) OR pg_try_advisory_lock($OLD_WATCH, hashtext('x1'))")
test "$rc" != 0 && grep -q "lock timeout" <<<"$out" && test "$out2" = f
check "control: the old ingest lock of c1 would wait (lock timeout), the old watch locks of w1, x1 are taken" $? "rc=$rc $out; $out2"

# --- 1. Ingest is not stalled by the squatter.
t0=$(date +%s%N)
out=$(ingest_as_writer c1)
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'c1'")
test "$rc" = 0 && test "$out" = 1 && test "$rows" = 1
check "ingest for c1 with the squatter on its locks: stored at once ($ms ms, lock_timeout 2s; $rows row)" $? "rc=$rc $out rows=$rows"
h=$(sql "SELECT (hashtext('c1')::bigint + 4294967296) % 4294967296")
k=$(key_of c1)
test "$k" = "$h"
check "c1's lock key is its hash, $h, as the squatter guessed, and still nothing stalled" $? "key=$k"

# --- 2. The background watcher is not stalled by the squatter.
start_sim w --speed 0 --initial-events 50 --seed 21 --bookmark-interval 1
sql "SELECT k8s_events.add_cluster('w1', api_server => 'http://127.0.0.1:$w_port')" >/dev/null
wait_for 20 "SELECT coalesce((SELECT state = 'watching' FROM k8s_events.watch_status WHERE cluster = 'w1' AND watcher = 'worker'), false)"
rc1=$?
caught_up w1 "$w_port"
rc2=$?
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'w1'")
test "$rc1" = 0 && test "$rc2" = 0 && test "$rows" = 50
check "the background watcher of w1, with the squatter on its locks: watching, the 50 Events stored ($rows)" $? \
	"$(sql "SELECT watcher, state, last_error FROM k8s_events.watch_status WHERE cluster = 'w1'")"
wpid=$(sql "SELECT pid FROM k8s_events.watch_status WHERE cluster = 'w1' AND watcher = 'worker'")
wkey=$(key_of w1)
test -n "$wpid" && test -n "$wkey" && test "$(sql "$(userlock_held_sql "$wpid" 2 "$wkey")")" = t
check "pg_locks: the worker (pid $wpid) holds w1's watch lock as a userlock, objid $wkey, objsubid 2" $? \
	"$(sql "SELECT locktype, classid, objid, objsubid, mode, granted FROM pg_locks WHERE pid = ${wpid:-0}")"

# --- 3. `k8s-events watch` is not stalled by the squatter.
$K8S watch --stall-timeout 3 --cluster x1 --api-server "http://127.0.0.1:$w_port" -d "dbname=postgres user=lock_writer" 2>"$dir/watch_x1.log" &
watch_pid=$!
bg_pids+=($watch_pid)
caught_up x1 "$w_port"
rc=$?
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'x1'")
test "$rc" = 0 && test "$rows" = 50 && kill -0 "$watch_pid"
check "k8s-events watch of x1, with the squatter on its locks: the 50 Events stored ($rows)" $? "$(cat "$dir/watch_x1.log")"

# The squatter held everything all along.
test "$(sql "$squatter_locks")" = "$want_locks" && kill -0 "$squatter_psql"
check "the squatter still holds its $want_locks advisory locks" $? "$(sql "$squatter_locks")"
close_session squatter 5

# --- 6 (first part). One watcher per cluster still: a second `k8s-events watch` of x1 is
# refused and names the first; pg_locks shows the first's watch lock as a userlock.
timeout 20 $K8S watch --stall-timeout 3 --cluster x1 --api-server "http://127.0.0.1:$w_port" -d "dbname=postgres user=lock_writer" 2>"$dir/second.log"
rc=$?
test "$rc" = 1 && grep -q 'cluster "x1" is already being watched' "$dir/second.log" &&
	grep -q "It is watched by k8s-events watch pid $watch_pid on" "$dir/second.log" && kill -0 "$watch_pid"
check "a second k8s-events watch of x1 exits 1, 'is already being watched', naming the first" $? "rc=$rc $(cat "$dir/second.log")"
xpid=$(sql "SELECT pid FROM k8s_events.watch_status WHERE cluster = 'x1' AND watcher = 'external'")
xkey=$(key_of x1)
test -n "$xpid" && test -n "$xkey" && test "$(sql "$(userlock_held_sql "$xpid" 2 "$xkey")")" = t
check "pg_locks: the k8s-events watch session (pid $xpid) holds x1's watch lock as a userlock, objid $xkey, objsubid 2" $? \
	"$(sql "SELECT locktype, classid, objid, objsubid, mode, granted FROM pg_locks WHERE pid = ${xpid:-0}")"
kill -TERM "$watch_pid"
wait "$watch_pid"

# --- 6 (second part). The same through watch_begin in two sessions.
open_session wa 6 lock_writer
say 6 "SELECT k8s_events.watch_begin('v1', 'lock test client A') IS NULL;"
apid=$(session_pid wa)
wait_for 10 "$(userlock_held_sql "$apid" 2)"
check "watch_begin('v1') in session A (pid $apid): a session-level userlock, objsubid 2, held after the statement" $? \
	"$(cat "$dir/wa.out")"
out=$(as_writer "SELECT k8s_events.watch_begin('v1', 'lock test client B')")
rc=$?
test "$rc" != 0 && grep -q 'cluster "v1" is already being watched' <<<"$out" &&
	grep -q "DETAIL:  It is watched by lock test client A (session pid $apid)." <<<"$out"
check "watch_begin('v1') in session B is refused, and its detail names session A" $? "rc=$rc $out"
vkey=$(key_of v1)
test -n "$vkey" && test "$(sql "$(userlock_held_sql "$apid" 2 "$vkey")")" = t
check "pg_locks: v1's watch lock is session A's userlock with objid = v1's key $vkey" $? \
	"$(sql "SELECT locktype, classid, objid, objsubid FROM pg_locks WHERE pid = $apid")"
close_session wa 6
out=$(as_writer "SELECT k8s_events.watch_begin('v1', 'lock test client B') IS NULL")
test "$out" = t
check "once session A ends, session B takes v1" $? "$out"

# --- 4. Names whose 32-bit hashes collide do not serialise each other.
pair=$(sql "SELECT string_agg(n, ' ' ORDER BY n) FROM (SELECT 'cl-' || g AS n FROM generate_series(1, 300000) AS g) AS s
	GROUP BY hashtext(n) HAVING count(*) > 1 ORDER BY min(n) LIMIT 1")
read -r name1 name2 <<<"$pair"
h1=$(sql "SELECT hashtext('$name1')")
h2=$(sql "SELECT hashtext('${name2:-x}')")
test -n "$name2" && test "$name1" != "$name2" && test "$h1" = "$h2"
check "two names with the same hashtext(): $name1 and $name2 ($h1)" $?
# name1 is written once first, so that its key is committed; then session A holds name1's
# ingest lock in an open transaction. (Were name1's key still uncommitted, made by session
# A's own transaction, name2's first INSERT into cluster_lock_keys would wait on the unique
# index for session A to end: a one-off wait at the names' first use, by writers only.)
out=$(ingest_as_writer "$name1")
open_session ia 6 lock_writer
say 6 "BEGIN; SELECT k8s_events.ingest('$(ev "$(next_uid)")', '$name1');"
apid=$(session_pid ia)
wait_for 10 "$(userlock_held_sql "$apid" 1 "$(key_of "$name1")")"
check "session A (pid $apid) holds $name1's ingest lock in an open transaction" $? "$out $(cat "$dir/ia.out")"
t0=$(date +%s%N)
out=$(ingest_as_writer "$name2")
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
test "$rc" = 0 && test "$out" = 1
check "session B: ingest for $name2 does not wait for $name1's lock ($ms ms, lock_timeout 2s)" $? "rc=$rc $out"
out=$(ingest_as_writer "$name1")
rc=$?
test "$rc" != 0 && grep -q "canceling statement due to lock timeout" <<<"$out"
check "control: session B's ingest for $name1 itself waits, and fails on lock_timeout" $? "rc=$rc $out"
say 6 "COMMIT;"
close_session ia 6
k1=$(key_of "$name1")
k2=$(key_of "$name2")
hu=$(sql "SELECT ($h1::bigint + 4294967296) % 4294967296")
test "$k1" = "$hu" && test "$k2" = $(((hu + 1) % 4294967296))
check "their keys differ: $name1 $k1 (the hash), $name2 $k2 (the next free one)" $?
rows=$(sql "SELECT string_agg(cluster || ':' || n, ' ' ORDER BY cluster) FROM (SELECT cluster, count(*) AS n FROM k8s_events.events WHERE cluster IN ('$name1', '$name2') GROUP BY cluster) AS c")
test "$rows" = "$name1:2 $name2:1"
check "the rows: $rows" $?

# --- 5. A forced key collision: coll-x's natural key K is another name's; coll-x gets K+1,
# and holding the other name's ingest lock does not block coll-x.
out=$(ingest_as_writer coll-x)
kx=$(key_of coll-x)
sql "DELETE FROM k8s_events_internal.cluster_lock_keys WHERE cluster = 'coll-x'; INSERT INTO k8s_events_internal.cluster_lock_keys VALUES ('other-name', $kx)" >/dev/null
out=$(ingest_as_writer coll-x)
rc=$?
kx2=$(key_of coll-x)
test "$rc" = 0 && test "$out" = 1 && test -n "$kx" && test "$kx2" = $(((kx + 1) % 4294967296))
check "coll-x's key $kx given to other-name: coll-x now gets the next one ($kx2)" $? "rc=$rc $out"
open_session ib 6 lock_writer
say 6 "BEGIN; SELECT k8s_events.ingest('$(ev "$(next_uid)")', 'other-name');"
apid=$(session_pid ib)
wait_for 10 "$(userlock_held_sql "$apid" 1 "$kx")"
check "session A (pid $apid) holds other-name's ingest lock (key $kx) in an open transaction" $? "$(cat "$dir/ib.out")"
t0=$(date +%s%N)
out=$(ingest_as_writer coll-x)
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
test "$rc" = 0 && test "$out" = 1
check "session B: ingest for coll-x does not wait for other-name's lock ($ms ms)" $? "rc=$rc $out"
out=$(ingest_as_writer other-name)
rc=$?
test "$rc" != 0 && grep -q "canceling statement due to lock timeout" <<<"$out"
check "control: session B's ingest for other-name waits, and fails on lock_timeout" $? "rc=$rc $out"
say 6 "COMMIT;"
close_session ib 6
test "$(key_of other-name)" = "$kx" && test "$(key_of coll-x)" = "$kx2"
check "the keys stay: other-name $kx, coll-x $kx2" $?

check_summaries postgres "concurrent writers of one cluster and of several"

[ "$failures" = 0 ]
