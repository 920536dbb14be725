#!/usr/bin/env bash
# tests/test_valgrind.sh - memcheck of the k8s-events program and of the extension inside a
# real PostgreSQL server.
#
# 1. The program (loader/k8s-events as built, -O2 -g) under valgrind: `load` of every input
#    format (NDJSON, JSON array, kubectl -o json and -o yaml, watch frames, eventrouter lines,
#    gzip, standard input), of bad, truncated, empty and missing inputs and of the real dumps;
#    `generate`; `simulate` over TLS with a token and `watch` through a kubeconfig, stopped by
#    SIGTERM; `serve` answering a request. Each: what it did is right, and valgrind found
#    0 errors and 0 bytes definitely lost (--errors-for-leak-kinds=definite --error-exitcode).
# 2. The extension the way PostgreSQL runs its own tests under valgrind: Debian's server
#    (no USE_VALGRIND build exists there) started under `valgrind --trace-children=yes
#    --leak-check=no` with the suppressions of tests/valgrind.supp (PostgreSQL's own
#    harmless reports, each with its reason), every backend and worker logging to a file of
#    its own. The whole regression suite runs against it (4 to 8 minutes under valgrind;
#    tests/run runs this script beside its other scripts; VALGRIND_REGRESS="ingest views"
#    runs some suites only), then the background watcher follows a simulated cluster over TLS. Any error left in any
#    log fails the test, printed with its stack (and said to be ours when a frame is in our
#    code). A planted error in a C function the server loads shows that one is seen.
# Runs the program against the server tests/run started (PGHOST/PGPORT/PGUSER); the server
# under valgrind is its own, on port 55431 (K8S_EVENTS_VALGRIND_PGPORT).
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
need_program
root=$(pwd)
case $BIN in /*) ;; *) BIN=$root/$BIN ;; esac
shared=$root/../shared/data/real-events
check_detail_lines=40

if ! command -v valgrind >/dev/null; then
	echo "not ok - valgrind is installed (scripts/setup installs it)"
	exit 1
fi
dir=$(mktemp -d /tmp/k8s_events_valgrind.XXXXXX)
chmod 755 "$dir"
db=k8s_events_valgrind
pg=$dir/pg
cleanup() {
	local p
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null; done
	K8S_EVENTS_PG_START_TIMEOUT=300 tests/pg_server.sh stop "$pg" 2>/dev/null
	psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT

# ---------------------------------------------------------------- 1. the program

# vg NAME COMMAND...: COMMAND under memcheck, its report in $dir/NAME.vg; exit 99 on any
# error or definite leak, else the command's own status. In the background, valgrind is
# started without the function (`valgrind "${memcheck[@]}" ... &`), so that $! is its pid.
memcheck=(--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
	--error-exitcode=99 --num-callers=30)
vg() { valgrind "${memcheck[@]}" --log-file="$dir/$1.vg" "${@:2}"; }
# clean NAME: the report says 0 errors and nothing definitely lost; else prints its errors.
clean() {
	if grep -q "ERROR SUMMARY: 0 errors" "$dir/$1.vg" && ! grep -q "definitely lost: [1-9]" "$dir/$1.vg"; then
		return 0
	fi
	grep -v '^==[0-9]*== *$' "$dir/$1.vg" | sed -n '/Invalid\|uninitialised\|definitely lost in\|Mismatched\|overlap\|ERROR SUMMARY/,+14p' | head -40
	return 1
}

# The harness sees an error: a planted invalid read and a planted leak.
cat >"$dir/planted.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
	char *p = malloc(8);
	memset(p, 'x', 8);
	if (strcmp(argv[1], "leak") == 0)
		p = NULL; /* the 8 bytes are lost */
	else
		printf("%c\n", p[strlen(argv[1])]); /* "overread": p[8], one byte past the end */
	return p != NULL && p[0] == 'y';
}
C
cc -g -O0 -o "$dir/planted" "$dir/planted.c"
for kind in overread leak; do
	vg "planted-$kind" "$dir/planted" "$kind" >/dev/null
	rc=$?
	out=$(clean "planted-$kind")
	test "$rc" = 99 && test -n "$out"
	check "a planted $kind is reported (exit 99, the error shown)" $? "exit $rc
$out"
done

# In a database of its own on the server of tests/run (lib.sh's sql: there, for exact).
sql() { psql -X -q -At -d "$db" -c "$1"; }
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
	-c "CREATE DATABASE $db" >/dev/null
psql -X -q -d "$db" -c "CREATE EXTENSION k8s_events" -c "ALTER DATABASE $db SET k8s_events.retention = '0'" >/dev/null
"$BIN" generate --seed 21 --start now-2d --hours 12 --nodes 6 --cluster-version mixed >"$dir/gen.ndjson"
n=$(wc -l <"$dir/gen.ndjson")
python3 tests/dump_formats.py "$dir/gen.ndjson"
formats="gen.ndjson gen.array.json gen.list.json gen.list.yaml gen.frames.ndjson gen.eventrouter.log gen.wrapped.log gen.list.json.gz"

# Every format in one run (and gzip NDJSON on standard input): each is read whole, the
# events stored once, every other reading of them a duplicate.
files=()
for f in $formats; do files+=("$dir/$f"); done
out=$(gzip -c "$dir/gen.ndjson" | vg load-formats "$BIN" load -d "$db" --cluster formats "${files[@]}" - 2>&1)
rc=$?
k=$(($(echo "$formats" | wc -w) + 1))
vgout=$(clean load-formats)
vgrc=$?
test "$rc" = 0 && test "$vgrc" = 0 && grep -q "^read $((k * n)), stored $n, duplicate $(((k - 1) * n)), rejected 0" <<<"$out"
check "load of $k inputs ($(echo "$formats" | sed 's/gen\.//g'), gzip on stdin) of $n events: all read, stored once; valgrind: 0 errors, 0 definitely lost" $? "exit $rc
$out
$vgout"

# Bad inputs: lines that are no JSON, not UTF-8, no Event, a NUL byte, a 2 MB message; a List
# cut in the middle; an empty file; a file that does not exist.
good() { sed -n "${1}p" "$dir/gen.ndjson"; }
{
	good 1
	printf '{"kind":"Event","metadata":{"uid":"aaaa"},"reason":"X"}\n'
	printf '\x00\x01\x02\xff\xfe garbage\n'
	printf '{"a": tru}\n'
	printf '{"kind":"Event","message":"caf\xe9"}\n'
	printf '[1, "two"]\n'
	python3 -c "
import json, sys
e = json.loads(sys.argv[1])
e['metadata']['uid'] = '0b0b0b0b-0000-4000-8000-00000000aaaa'
e['message'] = 'x' * (2 * 1024 * 1024)
print(json.dumps(e))" "$(good 2)"
	good 3
} >"$dir/bad.ndjson"
head -c 5000 "$dir/gen.list.json" >"$dir/truncated.json"
: >"$dir/empty.json"
out=$(vg load-bad "$BIN" load -d "$db" --cluster bad "$dir/bad.ndjson" "$dir/truncated.json" "$dir/empty.json" "$dir/missing.json" 2>&1)
rc=$?
vgout=$(clean load-bad)
vgrc=$?
stored=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'bad'")
test "$rc" = 2 && test "$vgrc" = 0 && test "$stored" -ge 4 && grep -q "bad.ndjson:2: " <<<"$out" &&
	grep -q "empty.json: the input is empty" <<<"$out" && grep -q "missing.json" <<<"$out"
check "load of bad lines, a truncated List, an empty and a missing file: each reported, the good kept ($stored), exit 2; valgrind: 0 errors, 0 definitely lost" $? "exit $rc stored $stored
$out
$vgout"

if [ -d "$shared" ]; then
	mapfile -t real < <(find "$shared" -name '*.json' -o -name '*.yaml' | sort)
	out=$(vg load-real "$BIN" load -d "$db" --cluster real "${real[@]}" 2>&1)
	rc=$?
	vgout=$(clean load-real)
	vgrc=$?
	test "$rc" -le 1 && test "$vgrc" = 0 && grep -q "^read [1-9]" <<<"$out"
	check "load of the ${#real[@]} real dumps: $(tail -1 <<<"$out"); valgrind: 0 errors, 0 definitely lost" $? "exit $rc
$out
$vgout"
else
	echo "skip - load of the real dumps under valgrind (no ../shared/data/real-events beside the project)"
fi

for format in ndjson watch; do
	vg "generate-$format" "$BIN" generate --seed 7 --hours 24 --cluster-version mixed --format "$format" >"$dir/vg.$format"
	rc=$?
	"$BIN" generate --seed 7 --hours 24 --cluster-version mixed --format "$format" >"$dir/plain.$format"
	vgout=$(clean "generate-$format")
	vgrc=$?
	test "$rc" = 0 && test "$vgrc" = 0 && test -s "$dir/plain.$format" && cmp -s "$dir/vg.$format" "$dir/plain.$format"
	check "generate --format $format: the same bytes as without valgrind; valgrind: 0 errors, 0 definitely lost" $? "exit $rc
$vgout"
done

# simulate over TLS with a bearer token, watch through a kubeconfig naming the CA and the
# token file: the list, then 10 simulated minutes of changes; SIGTERM stops both.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 1 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
printf 'a-token-for-the-simulator\n' >"$dir/token"
chmod 644 "$dir"/*.pem "$dir/token"
valgrind "${memcheck[@]}" --log-file="$dir/simulate.vg" "$BIN" simulate --port 0 --port-file "$dir/sim.port" --speed 0 --initial-events 300 --seed 13 \
	--bookmark-interval 1 --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" --token-file "$dir/token" \
	>"$dir/sim.log" 2>&1 &
sim_pid=$!
bg_pids+=($sim_pid)
for _ in $(seq 300); do [ -s "$dir/sim.port" ] && break; sleep 0.1; done
sim_port=$(cat "$dir/sim.port" 2>/dev/null)
echo "$sim_port" >"$dir/https"
cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: sim
clusters:
- name: sim
  cluster:
    server: https://127.0.0.1:$sim_port
    certificate-authority: cert.pem
users:
- name: reader
  user:
    tokenFile: token
contexts:
- name: sim
  context: {cluster: sim, user: reader}
EOF
valgrind "${memcheck[@]}" --log-file="$dir/watch.vg" "$BIN" watch --cluster vg --kubeconfig "$dir/kubeconfig" -d "$db" 2>"$dir/watch.log" &
watch_pid=$!
bg_pids+=($watch_pid)
# reached: the watcher's committed checkpoint reaches what the simulator has served now.
reached() {
	local want deadline=$((SECONDS + 120))
	want=$(sim_stat "$sim_port" resource_version)
	while [ $SECONDS -lt $deadline ]; do
		[ "$(sql "SELECT coalesce((SELECT resource_version::bigint >= $want FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'vg'), false)")" = t ] && return 0
		sleep 0.5
	done
	return 1
}
reached
rc1=$?
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'vg'" >"$dir/base.txt"
base_rv=$(sim_stat "$sim_port" resource_version)
sim_advance "$sim_port" 600
reached
rc2=$?
out=$(exact vg "$sim_port" "$dir/base.txt" "$base_rv")
rc3=$?
kill -TERM "$watch_pid"
wait "$watch_pid"
wrc=$?
kill -TERM "$sim_pid"
wait "$sim_pid"
src=$?
bg_pids=()
wout=$(clean watch)
w_clean=$?
sout=$(clean simulate)
s_clean=$?
test "$rc1" = 0 && test "$rc2" = 0 && test "$rc3" = 0 && test "$wrc" = 0 && test "$w_clean" = 0
check "watch over TLS through a kubeconfig: list and 10 minutes of changes stored exactly ($out), exit 0 on SIGTERM; valgrind: 0 errors, 0 definitely lost" $? "exit $wrc, reached $rc1 $rc2
$(tail -5 "$dir/watch.log")
$wout"
test "$src" = 0 && test "$s_clean" = 0
check "simulate over TLS with a token: exit 0 on SIGTERM; valgrind: 0 errors, 0 definitely lost" $? "exit $src
$(tail -5 "$dir/sim.log")
$sout"

# serve as a reader: the clusters it lists, then SIGTERM.
login_role k8s_valgrind_reader k8s_events_reader
mkdir -p "$dir/page"
echo '<!doctype html><title>page</title>' >"$dir/page/index.html"
valgrind "${memcheck[@]}" --log-file="$dir/serve.vg" "$BIN" serve --listen 127.0.0.1:0 --dashboard "$dir/page" \
	-d "host=$PGHOST port=$PGPORT user=k8s_valgrind_reader dbname=$db" >"$dir/serve.out" 2>"$dir/serve.err" &
serve_pid=$!
bg_pids+=($serve_pid)
for _ in $(seq 300); do grep -q "dashboard at" "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$dir/serve.out")
body=$(curl -s --max-time 60 "${url}api/clusters")
kill -TERM "$serve_pid"
wait "$serve_pid"
rc=$?
bg_pids=()
vgout=$(clean serve)
vgrc=$?
test "$rc" = 0 && test "$vgrc" = 0 && grep -q '"vg"' <<<"$body"
check "serve answers /api/clusters (${body:0:60}...), exit 0 on SIGTERM; valgrind: 0 errors, 0 definitely lost" $? "exit $rc
$(cat "$dir/serve.err")
$vgout"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" >/dev/null

# ---------------------------------------------------------------- 2. the server
sql() { psql -X -q -At -d postgres -c "$1"; }

bindir=${PG_BINDIR:-$(/usr/lib/postgresql/15/bin/pg_config --bindir)}
vglogs=$dir/vglogs
mkdir -p "$vglogs"
cp tests/valgrind.supp "$vglogs/"
# pg_ctl starts this in place of postgres (tests/pg_server.sh: K8S_EVENTS_PG_EXEC). Without
# JIT: a query the planner thinks costly would load LLVM, PostgreSQL's and not ours to check,
# and glibc's loader reads past a string there as valgrind sees it.
cat >"$vglogs/postgres" <<EOF
#!/bin/sh
exec valgrind --trace-children=yes --leak-check=no --suppressions=$vglogs/valgrind.supp \\
	--error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END --num-callers=40 \\
	--log-file=$vglogs/%p.log "$bindir/postgres" -c jit=off "\$@"
EOF
chmod 755 "$vglogs/postgres"
[ "$(id -u)" = 0 ] && chown -R postgres: "$vglogs"
export K8S_EVENTS_PGDIR=$pg K8S_EVENTS_PGPORT=${K8S_EVENTS_VALGRIND_PGPORT:-55431}
export K8S_EVENTS_PG_EXEC=$vglogs/postgres K8S_EVENTS_PG_START_TIMEOUT=300
mkdir -p "$pg"
if ! out=$(tests/pg_server.sh start "$pg" 2>&1); then
	echo "not ok - PostgreSQL starts under valgrind"
	echo "$out" | sed 's/^/#   /'
	tail -20 "$pg/server.log" | sed 's/^/#   /'
	exit 1
fi
eval "$out"
unset K8S_EVENTS_PG_EXEC
wrapped=$(grep -l "Command: $bindir/postgres" "$vglogs"/*.log 2>/dev/null | wc -l)
test "$wrapped" -ge 3
check "PostgreSQL runs under valgrind with the library preloaded ($wrapped processes so far)" $? "$(ls "$vglogs")"

# A planted error in a C function the server loads: an extension's error must be seen.
cat >"$dir/planted_ext.c" <<'C'
#include "postgres.h"
#include "fmgr.h"
#include <stdlib.h>
PG_MODULE_MAGIC;
PG_FUNCTION_INFO_V1(valgrind_planted);
Datum valgrind_planted(PG_FUNCTION_ARGS)
{
	int *p = malloc(sizeof(int));   /* never written */
	bool b = (*p == 42);            /* a decision on an undefined value */
	free(p);
	PG_RETURN_BOOL(b);
}
C
cc -shared -fPIC -g -O0 -I"$(/usr/lib/postgresql/15/bin/pg_config --includedir-server)" \
	-o "$dir/planted_ext.so" "$dir/planted_ext.c"
chmod 755 "$dir/planted_ext.so"
psql -X -q -d postgres -c "CREATE FUNCTION valgrind_planted() RETURNS bool AS '$dir/planted_ext.so' LANGUAGE C" \
	-c "SELECT valgrind_planted()" -c "DROP FUNCTION valgrind_planted()" >/dev/null 2>&1

# The regression suite: every C function the server loads, called the way the suites call it.
regress=${VALGRIND_REGRESS:-all}
[ "$regress" = all ] && regress=$(ls sql/*.sql | xargs -n1 basename | sed 's/\.sql$//')
if [ ! -d "$shared" ]; then regress=$(echo "$regress" | tr ' ' '\n' | grep -vx real_events); fi
start=$SECONDS
"$(/usr/lib/postgresql/15/bin/pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress" --inputdir=. \
	--outputdir="$dir/regress" --bindir="$bindir" --dbname=contrib_regression $regress >"$dir/regress.log" 2>&1
rc=$?
check "pg_regress $(echo $regress | wc -w) suites against the server under valgrind ($((SECONDS - start)) s)" $rc \
	"$(grep -E '^(test | *[a-z_]+ +\.\.\.)' "$dir/regress.log")
$(head -60 "$dir/regress/regression.diffs" 2>/dev/null)"

# The background watcher follows a simulated cluster over TLS: list, then 10 minutes of changes.
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events"
start_sim w --speed 0 --initial-events 300 --seed 14 --bookmark-interval 1 --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" --token-file "$dir/token"
echo "$w_port" >>"$dir/https"
sql "SELECT k8s_events.add_cluster('w', api_server => 'https://127.0.0.1:$w_port', ca_file => '$dir/cert.pem', token_file => '$dir/token')" >/dev/null
rv=$(sim_stat "$w_port" resource_version)
wait_for 180 "SELECT coalesce((SELECT resource_version::bigint >= $rv FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'w'), false)"
rc1=$?
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'w'" >"$dir/base_w.txt"
sim_advance "$w_port" 600
rv2=$(sim_stat "$w_port" resource_version)
wait_for 180 "SELECT coalesce((SELECT resource_version::bigint >= $rv2 FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'w'), false)"
rc2=$?
out=$(exact w "$w_port" "$dir/base_w.txt" "$rv")
rc3=$?
test "$rc1" = 0 && test "$rc2" = 0 && test "$rc3" = 0
check "the background watcher under valgrind over TLS: the list and 10 minutes of changes stored exactly ($out)" $? \
	"$(sql "SELECT state, last_error FROM k8s_events.watch_status")"
sql "SELECT k8s_events.remove_cluster('w')" >/dev/null
kill "$w_pid" 2>/dev/null
wait "$w_pid" 2>/dev/null
bg_pids=()

K8S_EVENTS_PG_START_TIMEOUT=300 tests/pg_server.sh stop "$pg"
# Every error left after the suppressions, from every process's log.
python3 - "$vglogs" "$dir/planted_ext.c" extension core <<'PY' >"$dir/errors.txt"
import glob, os, re, sys
logs, planted, *srcdirs = sys.argv[1:]
ours = {f for d in srcdirs for f in os.listdir(d) if f.endswith(".c")}
errors, procs, suppressed = [], 0, 0
for path in sorted(glob.glob(f"{logs}/*.log")):
    text = open(path, errors="replace").read()
    procs += 1
    m = re.search(r"ERROR SUMMARY: \d+ errors from \d+ contexts \(suppressed: (\d+)", text)
    suppressed += int(m.group(1)) if m else 0
    for block in re.findall(r"VALGRINDERROR-BEGIN\n(.*?)VALGRINDERROR-END", text, re.S):
        lines = [re.sub(r"^==\d+== ?", "", l) for l in block.splitlines()]
        frames = " ".join(lines)
        if "valgrind_planted" in frames:
            kind = "planted"
        elif "k8s_events.so" in frames or any(re.search(rf"\({re.escape(f)}:\d+\)", frames) for f in ours):
            kind = "ours"
        else:
            kind = "postgres"
        errors.append((kind, os.path.basename(path), "\n".join(lines[:30])))
print(f"{procs} {suppressed} {sum(k == 'planted' for k, _, _ in errors)}"
      f" {sum(k == 'ours' for k, _, _ in errors)} {sum(k == 'postgres' for k, _, _ in errors)}")
for kind, path, text in errors:
    if kind != "planted":
        print(f"--- {kind}: {path}\n{text}")
PY
read -r procs suppressed planted ours theirs <"$dir/errors.txt"
test "${planted:-0}" -ge 1
check "the planted error in a loaded C function is found in the server's logs" $?
test "${ours:-1}" = 0 && test "${theirs:-1}" = 0
check "the server under valgrind: 0 errors in our code, 0 unsuppressed in PostgreSQL ($procs processes, $suppressed of PostgreSQL's suppressed by tests/valgrind.supp)" $? \
	"$(tail -n +2 "$dir/errors.txt")"

[ "$failures" = 0 ]
