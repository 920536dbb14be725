#!/usr/bin/env bash
# k8s-events load: every dump format, real and generated, stored exactly as ingest() stores
# the same events; malformed inputs reported as FILE:LINE with every good item around them
# kept; idempotency; exit statuses; privileges; 1M events in bounded memory.
# Runs against the server tests/run started (PGHOST/PGPORT/PGUSER), in databases of its own.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
root=$(pwd)
need_program
case $BIN in /*) ;; *) BIN=$root/$BIN ;; esac
shared=$root/../shared/data/real-events
tmp=$(mktemp -d /tmp/k8s_events_load.XXXXXX)
chmod 755 "$tmp"
db=k8s_events_load_test
cleanup() {
	psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
		-c "DROP DATABASE IF EXISTS ${db}_bare" -c "DROP ROLE IF EXISTS k8s_load_writer" \
		-c "DROP ROLE IF EXISTS k8s_load_nobody" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
check_detail_lines=30 # the details are whole outputs of load
# In its own database, with the errors in the result (lib.sh's sql: database postgres).
sql() { psql -X -q -At -d "$db" -c "$1" 2>&1; }
load() { "$BIN" load -d "$db" "$@"; }
fresh() {
	psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
		-c "CREATE DATABASE $db" >/dev/null && psql -X -q -d "$db" -c "CREATE EXTENSION k8s_events" \
		-c "ALTER DATABASE $db SET k8s_events.retention = '0'" >/dev/null
}
cols="uid, resource_version, event_time, first_time, namespace, kind, name, type, reason, message,
      count, occurrences, source_component, source_host, reporting_controller, reporting_instance,
      action, event"
# same_as_ingest FILE CLUSTER: rows that load stored for CLUSTER equal what ingest() stores from
# the same events (given as one JSON payload file) in cluster CLUSTER_ref.
differences() {
	sql "SELECT count(*) FROM ((SELECT $cols FROM k8s_events.events WHERE cluster = '$1'
	     EXCEPT ALL SELECT $cols FROM k8s_events.events WHERE cluster = '$2')
	     UNION ALL (SELECT $cols FROM k8s_events.events WHERE cluster = '$2'
	     EXCEPT ALL SELECT $cols FROM k8s_events.events WHERE cluster = '$1')) d"
}
ingest_ref() { # ingest_ref JSONFILE CLUSTER: store a JSON payload file through ingest()
	sql "SELECT stored FROM k8s_events.ingest_report(pg_read_file('$1')::jsonb, '$2')"
}

# ---- command line
out=$("$BIN" load --help 2>&1)
check "load --help exits 0 and names the formats" $? "$out"
echo "$out" | grep -q "eventrouter" && echo "$out" | grep -q "gzip"
check "load --help describes formats and exit statuses" $? "$out"
out=$("$BIN" load --frobnicate x 2>&1)
test $? = 2 && echo "$out" | grep -q 'unknown option "--frobnicate"'
check "an unknown option is a usage error (exit 2)" $? "$out"
out=$("$BIN" load --batch-size 0 x 2>&1)
test $? = 2 && echo "$out" | grep -q "batch-size must be"
check "a bad --batch-size is a usage error (exit 2)" $? "$out"

# ---- connection problems
out=$("$BIN" load -d k8s_events_no_such_db /dev/null 2>&1)
test $? = 2 && echo "$out" | grep -q 'cannot connect to PostgreSQL: .*k8s_events_no_such_db'
check "a database that does not exist: exit 2, libpq's message" $? "$out"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ${db}_bare" \
	-c "CREATE DATABASE ${db}_bare" >/dev/null
out=$("$BIN" load -d "${db}_bare" /dev/null 2>&1)
test $? = 2 && echo "$out" | grep -q "extension is not installed in database \"${db}_bare\"" &&
	echo "$out" | grep -q "CREATE EXTENSION k8s_events"
check "a database without the extension: exit 2 and a hint" $? "$out"
out=$(PGDATABASE="${db}_bare" "$BIN" load /dev/null 2>&1)
test $? = 2 && echo "$out" | grep -q "${db}_bare"
check "PGDATABASE is honoured when -d is not given" $? "$out"

# ---- generated events in every shape, each compared with ingest() of the same events
fresh
"$BIN" generate --seed 21 --start now-3d --hours 30 --nodes 12 --cluster-version mixed >"$tmp/gen.ndjson"
n=$(wc -l <"$tmp/gen.ndjson")
python3 tests/dump_formats.py "$tmp/gen.ndjson"
chmod 644 "$tmp"/*
ingest_ref "$tmp/gen.array.json" ref >/dev/null
for f in gen.ndjson gen.array.json gen.list.json gen.list.yaml gen.frames.ndjson gen.eventrouter.log gen.wrapped.log gen.list.json.gz; do
	cluster=${f//./_}
	out=$(load --cluster "$cluster" "$tmp/$f" 2>&1)
	rc=$?
	diff=$(differences "$cluster" ref)
	test "$rc" = 0 && test "$diff" = 0 && echo "$out" | grep -q "^read $n, stored $n, duplicate 0, rejected 0"
	check "$f ($n events): exit 0, every row as ingest() stores it" $? "rc=$rc differences=$diff
$out"
done

# A dataset whose rows the temporary table's heap stores out of input order (a row that
# fits goes to an earlier page with room): rows must still be stored in input order, or the
# occurrences of repeated observations come out differently from ingest().
"$BIN" generate --seed 21 --start 2026-11-22T21:35:29Z --hours 30 --nodes 12 \
	--cluster-version mixed >"$tmp/reorder.ndjson"
python3 -c "import json, sys; json.dump([json.loads(l) for l in open(sys.argv[1])], open(sys.argv[2], 'w'))" \
	"$tmp/reorder.ndjson" "$tmp/reorder.json"
chmod 644 "$tmp/reorder.json"
ingest_ref "$tmp/reorder.json" reorder_ref >/dev/null
out=$(load --cluster reorder "$tmp/reorder.ndjson" 2>&1)
rc=$?
diff=$(differences reorder reorder_ref)
test "$rc" = 0 && test "$diff" = 0
check "rows stored in input order whatever the heap's order (differences: $diff)" $? "$out"

# Standard input, and a gzip stream through it.
out=$(gzip -c "$tmp/gen.ndjson" | load --cluster stdin_gz 2>&1)
test $? = 0 && test "$(differences stdin_gz ref)" = 0
check "gzip on standard input" $? "$out"

# ---- idempotency, and batches that end anywhere
out=$(load --cluster gen_ndjson "$tmp/gen.ndjson" 2>&1)
test $? = 0 && echo "$out" | grep -q "^read $n, stored 0, duplicate $n, rejected 0"
check "loading the same file again stores nothing (duplicate $n)" $? "$out"
out=$(load --cluster small_batches --batch-size 7 "$tmp/gen.frames.ndjson" 2>&1)
test $? = 0 && test "$(differences small_batches ref)" = 0
check "batches of 7 rows: the same rows and occurrences as one ingest()" $? "$out"
# Observations of one Event out of count order: within a batch the rows are credited in
# order of count, across batches in the order they come, so a batch must end after exactly
# --batch-size rows whatever the timing. The reference: ingest() of each 7 rows in turn.
python3 - "$tmp" <<'PY'
import json, random, sys
d = sys.argv[1]
events = [json.loads(l) for l in open(f"{d}/gen.ndjson")]
random.seed(3)
for i in range(0, len(events), 40):
    window = events[i:i + 40]
    random.shuffle(window)
    events[i:i + 40] = window
with open(f"{d}/shuffled.ndjson", "w") as f:
    for e in events:
        f.write(json.dumps(e) + "\n")
for k in range(0, len(events), 7):
    json.dump(events[k:k + 7], open(f"{d}/shuffled.{k // 7:06d}.json", "w"))
PY
chmod 644 "$tmp"/shuffled.*
for f in "$tmp"/shuffled.0*.json; do
	echo "SELECT k8s_events.ingest(pg_read_file('$f')::jsonb, 'shuffled_ref');"
done | psql -X -q -At -d "$db" -v ON_ERROR_STOP=1 >/dev/null
moved=$(sql "SELECT count(*) FROM (SELECT uid FROM k8s_events.events WHERE cluster = 'shuffled_ref'
             GROUP BY uid HAVING count(*) > 1 AND bool_or(occurrences <> 1)) m")
same=0
# Three loads, since where batches end could depend on timing; one under a sanitizer, where
# what is checked is memory, and each load of 828 batches is mostly the server's time.
rounds=3
[ -n "${K8S_EVENTS_UNDER_SANITIZER:-}" ] && rounds=1
for round in $(seq $rounds); do
	out=$(load --cluster "shuffled_$round" --batch-size 7 "$tmp/shuffled.ndjson" 2>&1) &&
		test "$(differences "shuffled_$round" shuffled_ref)" = 0 && same=$((same + 1))
done
test "$same" = "$rounds" && test "$moved" -gt 0
check "out of order, batches of 7: as ingest() of each 7 in turn, $rounds loads of $rounds ($moved Events with counts out of order)" $? "same=$same
$out"
out=$(load --cluster halves <(head -n $((n / 2)) "$tmp/gen.ndjson") 2>&1 &&
	load --cluster halves "$tmp/gen.ndjson" 2>&1)
test $? = 0 && test "$(differences halves ref)" = 0 && echo "$out" | tail -1 | grep -q "duplicate $((n / 2)),"
check "a load cut in half, then the whole file: no row lost or doubled" $? "$out"

# ---- the real dumps in ../shared
if [ -d "$shared" ]; then
	while IFS= read -r f; do
		rel=${f#"$shared"/}
		cluster=real_$(echo "$rel" | tr -c 'a-zA-Z0-9\n' '_')
		out=$(load --cluster "$cluster" "$f" 2>&1)
		rc=$?
		case "$f" in
		*.yaml) ref_stored=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = '$cluster'") ;;
		*) ref_stored=$(ingest_ref "$f" "${cluster}_ref") ;;
		esac
		got=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = '$cluster'")
		diff=0
		case "$f" in *.json) diff=$(differences "$cluster" "${cluster}_ref") ;; esac
		test "$rc" -le 1 && test "$got" = "$ref_stored" && test "$diff" = 0
		check "real dump $rel: $got events, as ingest() stores them" $? "rc=$rc got=$got ref=$ref_stored diff=$diff
$out"
	done < <(find "$shared" -name '*.json' -o -name '*.yaml' | sort)
	# The API's every-field fixtures, with a real UUID for their placeholder uid: the YAML
	# and the JSON of one Event must make the same row, in both API shapes.
	for shape in core.v1 events.k8s.io.v1; do
		for ext in yaml json; do
			sed 's/uidValue/0b0b0b0b-0000-4000-8000-00000000beef/' \
				"$shared/kubernetes-api/testdata-HEAD/$shape.Event.$ext" >"$tmp/fixture.$shape.$ext"
		done
		chmod 644 "$tmp"/fixture.*
		c=fixture_${shape//./_}
		out=$(load --cluster "$c" "$tmp/fixture.$shape.yaml" 2>&1)
		rc=$?
		ingest_ref "$tmp/fixture.$shape.json" "${c}_ref" >/dev/null
		got=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = '$c'")
		test "$rc" = 0 && test "$got" = 1 && test "$(differences "$c" "${c}_ref")" = 0
		check "$shape.Event.yaml stores the same row as $shape.Event.json" $? "rc=$rc got=$got
$out"
	done
else
	echo "skip - real dumps (no ../shared/data/real-events beside the project)"
fi

# ---- malformed inputs: reported as FILE:LINE, good items around them stored
good() { sed -n "${1}p" "$tmp/gen.ndjson"; }
{
	good 1
	printf '{"kind":"Event","metadata":{"uid":"aaaa"},"reason":"X"}\n' # not a UUID
	good 2
	printf '\x00\x01\x02\xff\xfe garbage\n'
	good 3
	printf '{"a": tru}\n'
	good 4
	printf '{"kind":"Event","message":"caf\xe9"}\n' # invalid UTF-8
	good 5
	printf '[1, "two"]\n'
	good 6
	printf '{"kind":"Pod","metadata":{"uid":"0b0b0b0b-0000-4000-8000-000000000001"}}\n'
	good 7
} >"$tmp/bad.ndjson"
before=$(sql "SELECT count(*) FROM k8s_events.rejected")
out=$(load --cluster bad "$tmp/bad.ndjson" 2>&1)
rc=$?
stored=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'bad'")
rejected=$(sql "SELECT count(*) FROM k8s_events.rejected WHERE cluster = 'bad'")
test "$rc" = 1 && test "$stored" = 7 && test "$rejected" -ge 6
check "a file of good and bad lines: exit 1, the 7 good events stored, the bad ones rejected" $? "rc=$rc stored=$stored rejected=$rejected
$out"
for line in 2 4 6 8; do
	echo "$out" | grep -q "^$tmp/bad.ndjson:$line: "
	check "bad line $line reported as FILE:$line" $? "$out"
done
echo "$out" | grep -q "^$tmp/bad.ndjson:2: metadata.uid \"aaaa\" is not a UUID"
check "the reason says what is wrong (not a UUID)" $? "$out"
hex=$(sql "SELECT count(*) FROM k8s_events.rejected WHERE cluster = 'bad' AND left(payload, 2) = '\\x' AND error LIKE '%stored as hex%'")
test "$hex" -ge 1
check "bytes that are not text are kept in rejected as hex" $? "hex rows: $hex"
err=$(sql "SELECT count(*) FROM k8s_events.rejected WHERE cluster = 'bad' AND error LIKE '$tmp/bad.ndjson:%'")
test "$err" = "$rejected"
check "rejected rows name FILE:LINE in their error" $? "$err of $rejected"

: >"$tmp/empty.json"
out=$(load --cluster empty "$tmp/empty.json" 2>&1)
test $? = 1 && echo "$out" | grep -q "empty.json: the input is empty"
check "an empty file: exit 1, said so" $? "$out"

head -c 5000 "$tmp/gen.list.json" >"$tmp/truncated.json"
out=$(load --cluster truncated "$tmp/truncated.json" 2>&1)
rc=$?
got=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'truncated'")
test "$rc" -ge 1 && test "$got" -ge 1 && echo "$out" | grep -qi "truncated\|ends inside"
check "a truncated List: the items before the cut stored ($got), the cut reported, exit $rc" $? "$out"

python3 -c "
import json
e = json.loads(open('$tmp/gen.ndjson').readline())
e['metadata']['uid'] = '0b0b0b0b-0000-4000-8000-00000000aaaa'
e['message'] = 'x' * (10 * 1024 * 1024)
print(json.dumps(e))" >"$tmp/big.ndjson"
good 9 >>"$tmp/big.ndjson"
out=$(load --cluster big "$tmp/big.ndjson" 2>&1)
got=$(sql "SELECT count(*), max(length(message)) FROM k8s_events.events WHERE cluster = 'big'")
test "$got" = "2|10485760"
check "a 10 MB line is one event, stored whole" $? "$got
$out"

out=$(load --cluster missing "$tmp/no-such-file.json" "$tmp/gen.ndjson" 2>&1)
rc=$?
got=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'missing'")
test "$rc" = 2 && test "$got" = "$n" && echo "$out" | grep -q "no-such-file.json"
check "an unreadable input: exit 2, the other inputs still loaded" $? "rc=$rc got=$got
$out"

# ---- progress: only when asked or on a terminal
out=$(load --cluster progress --progress "$tmp/gen.ndjson" 2>&1)
echo "$out" | grep -q "events/s"
check "--progress shows bytes and events/s" $? "$out"
out=$(load --cluster progress "$tmp/gen.ndjson" 2>&1)
! echo "$out" | grep -q "events/s"
check "no progress bar when stderr is not a terminal" $? "$out"

# ---- privileges: k8s_events_writer may load, others get a clear error
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS k8s_load_writer" \
	-c "DROP ROLE IF EXISTS k8s_load_nobody" -c "CREATE ROLE k8s_load_writer LOGIN IN ROLE k8s_events_writer" \
	-c "CREATE ROLE k8s_load_nobody LOGIN" >/dev/null
out=$("$BIN" load -d "dbname=$db user=k8s_load_writer" --cluster as_writer "$tmp/gen.ndjson" 2>&1)
test $? = 0 && test "$(differences as_writer ref)" = 0
check "a k8s_events_writer role loads" $? "$out"
out=$("$BIN" load -d "dbname=$db user=k8s_load_nobody" --cluster as_nobody "$tmp/gen.ndjson" 2>&1)
test $? = 2 && echo "$out" | grep -q "permission denied" && echo "$out" | grep -q "GRANT k8s_events_writer TO k8s_load_nobody"
check "a role without k8s_events_writer: exit 2, permission denied and a hint" $? "$out"

# ---- a million events: killed mid-load, then loaded again whole, in bounded memory.
# Under a sanitizer 50,000 (the same paths in a twentieth of the time; no memory bound).
want=1000000
[ -n "${K8S_EVENTS_UNDER_SANITIZER:-}" ] && want=50000
"$BIN" generate --seed 5 --start now-40d --hours 900 --nodes 150 --namespaces 30 2>/dev/null |
	head -n $want | gzip -1 >"$tmp/million.ndjson.gz"
m=$(zcat "$tmp/million.ndjson.gz" | wc -l)
"$BIN" load -q -d "$db" --cluster million "$tmp/million.ndjson.gz" 2>/dev/null &
pid=$!
# Kill it once some batches have committed, well before the end.
for _ in $(seq 1 120); do
	[ "$(sql "SELECT count(*) >= $((want / 50)) FROM k8s_events.events WHERE cluster = 'million'")" = t ] && break
	sleep 0.25
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
partial=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'million'")
out=$(/usr/bin/time -f 'maxrss_kb=%M' "$BIN" load -d "$db" --cluster million "$tmp/million.ndjson.gz" 2>&1)
rc=$?
rss=$(echo "$out" | sed -n 's/^maxrss_kb=//p')
got=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'million'")
test "$m" = "$want" && test "$partial" -gt 0 && test "$partial" -lt "$m"
check "kill -9 mid-load keeps the batches it committed ($partial of $m)" $? "partial=$partial m=$m"
test "$rc" = 0 && test "$got" = "$m" &&
	echo "$out" | grep -q "^read $m, stored $((m - partial)), duplicate $partial, rejected 0"
check "loading again completes it: stored $((m - partial)), duplicate $partial, $got rows in all" $? "rc=$rc got=$got
$out"
if cost_checks "peak RSS of $m events (gzip NDJSON) read in one run < 200 MB"; then
	test "${rss:-999999}" -lt 200000
	check "1,000,000 events (gzip NDJSON) read in one run with peak RSS ${rss:-?} kB < 200 MB" $? "$out"
fi

check_summaries "$db" "k8s-events load of every format, reloads, batches of 7, out of order, kill -9 mid-load"

exit $((failures > 0))
