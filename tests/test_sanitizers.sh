#!/usr/bin/env bash
# tests/test_sanitizers.sh - the k8s-events program built with AddressSanitizer and UBSan
# (make asan: loader/k8s-events-asan), run the way its integration tests run it.
#
# It runs test_load (its kill -9 part with 50,000 events, not 1,000,000), test_generate,
# test_simulate, test_watch_cli (list, watch, TLS, kubeconfig, signals, against simulators
# that run under ASan too) and test_serve (the dashboard's API, the live stream, TLS,
# refusals) again with it (7 minutes on 2 cores; tests/run runs it beside its other scripts);
# first `load` of every input format and of bad ones, and `generate` in every format and API
# version, byte for byte as the normal build. All of it on a PostgreSQL server of its own
# (port 54408), and those scripts' own servers on their ports + 1000
# (K8S_EVENTS_PORT_SHIFT), so that it runs while tests/run runs the same scripts as built.
# Each script runs the program as $K8S_EVENTS (tests/lib.sh) and skips its CPU and memory
# budgets under K8S_EVENTS_UNDER_SANITIZER, saying so (the normal run checks them). Every
# report of any process of the program (also a simulator or a watcher in the background,
# whose exit status no check reads) goes to a file of its own: a script passes when its
# checks pass and no process wrote one. Memory errors and undefined behaviour end the
# process at once (halt_on_error, -fno-sanitize-recover); leaks are reported when a process
# exits (detect_leaks: also after SIGTERM, which each command handles by returning from main).
#
# The core unit tests run under ASan and valgrind in tests/test_core_unit.sh.
#   SANITIZER_TESTS="test_load test_serve" tests/test_sanitizers.sh    # these scripts only
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
root=$(pwd)
own_server sanitizers 54408
tmp=$dir
export K8S_EVENTS_PORT_SHIFT=1000
tests=${SANITIZER_TESTS:-all}
[ "$tests" = all ] && tests="test_load test_generate test_simulate test_watch_cli test_serve"
db=k8s_events_sanitizers

if ! make -s -j"$(nproc)" asan PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >"$tmp/build.log" 2>&1; then
	echo "not ok - make asan builds loader/k8s-events-asan"
	sed 's/^/#   /' "$tmp/build.log" | head -30
	exit 1
fi

# under_asan LOGDIR COMMAND...: run COMMAND with the sanitizers' reports going to
# LOGDIR/asan.PID (one file a process that reported), exit status 86 for a report (not 1 or
# 2, which the program's checks expect for bad input).
under_asan() {
	local logs=$1
	shift
	mkdir -p "$logs"
	K8S_EVENTS=$root/loader/k8s-events-asan K8S_EVENTS_UNDER_SANITIZER=1 \
		ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:exitcode=86:log_path=$logs/asan" \
		UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$logs/asan" \
		"$@"
}
# reports LOGDIR: the reports written there, each file's first lines with its stack.
reports() {
	local f
	for f in "$1"/asan.*; do
		[ -e "$f" ] || continue
		echo "== $f"
		grep -E 'ERROR|runtime error|SUMMARY|^ *#[0-9]+ ' "$f" | head -25
	done
}

# The harness sees a report: a planted overflow and a planted leak, built the same way.
cat >"$tmp/planted.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Out of line, so that the compiler keeps every allocation. */
__attribute__((noinline)) static char *filled(size_t n)
{
	char *p = malloc(n);
	memset(p, 'x', n);
	return p;
}
int main(int argc, char **argv)
{
	char *p = filled(8);
	if (strcmp(argv[1], "leak") == 0)
		for (int i = 0; i < 4; i++)
			p = filled(64); /* none is freed, no pointer to one is kept */
	else
		p[strlen(argv[1])] = 0; /* "overflow": p[8], one byte past the end */
	printf("%c\n", p[0]);
	return 0;
}
C
cc -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-o "$tmp/planted" "$tmp/planted.c"
for kind in overflow leak; do
	under_asan "$tmp/planted-$kind" "$tmp/planted" "$kind" >/dev/null 2>&1
	rc=$?
	out=$(reports "$tmp/planted-$kind")
	test "$rc" = 86 && grep -q "$([ $kind = leak ] && echo detected\ memory\ leaks || echo heap-buffer-overflow)" <<<"$out"
	check "a planted $kind is reported (exit 86 and a report file)" $? "exit $rc
$out"
done

asan=$root/loader/k8s-events-asan
need_program
# generate: every format, both API versions, the same bytes as the normal build's.
for args in "--format ndjson --cluster-version mixed" "--format watch --nodes 40 --namespaces 12" \
	"--format list --list-size 100 --cluster-version mixed"; do
	under_asan "$tmp/generate" "$asan" generate --seed 9 --hours 48 $args >"$tmp/asan.out" 2>"$tmp/asan.err"
	rc=$?
	"$BIN" generate --seed 9 --hours 48 $args >"$tmp/plain.out"
	out=$(reports "$tmp/generate")
	test "$rc" = 0 && test -z "$out" && test -s "$tmp/plain.out" && cmp -s "$tmp/asan.out" "$tmp/plain.out"
	check "generate $args: the normal build's bytes, no report" $? "exit $rc $(head -5 "$tmp/asan.err")
$out"
done

# load: every format in one run, gzip NDJSON on standard input, then bad inputs.
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
	-c "CREATE DATABASE $db" >/dev/null
psql -X -q -d "$db" -c "CREATE EXTENSION k8s_events" -c "ALTER DATABASE $db SET k8s_events.retention = '0'" >/dev/null
"$BIN" generate --seed 5 --start now-2d --hours 24 --nodes 8 --cluster-version mixed >"$tmp/gen.ndjson"
n=$(wc -l <"$tmp/gen.ndjson")
python3 tests/dump_formats.py "$tmp/gen.ndjson"
inputs=("$tmp"/gen.ndjson "$tmp"/gen.array.json "$tmp"/gen.list.json "$tmp"/gen.list.yaml
	"$tmp"/gen.frames.ndjson "$tmp"/gen.eventrouter.log "$tmp"/gen.wrapped.log "$tmp"/gen.list.json.gz)
k=$((${#inputs[@]} + 1))
out=$(gzip -c "$tmp/gen.ndjson" | under_asan "$tmp/load" "$asan" load -d "$db" --cluster formats "${inputs[@]}" - 2>&1)
rc=$?
reps=$(reports "$tmp/load")
test "$rc" = 0 && test -z "$reps" && grep -q "^read $((k * n)), stored $n, duplicate $(((k - 1) * n)), rejected 0" <<<"$out"
check "load of $k inputs (every format, gzip on stdin) of $n events: all read, stored once, no report" $? "exit $rc
$out
$reps"
{
	head -n 2 "$tmp/gen.ndjson"
	printf '{"kind":"Event","metadata":{"uid":"aaaa"},"reason":"X"}\n\x00\x01\xff garbage\n{"a": tru}\n'
	printf '{"kind":"Event","message":"caf\xe9"}\n[1, "two"]\n'
} >"$tmp/bad.ndjson"
head -c 5000 "$tmp/gen.list.json" >"$tmp/truncated.json"
: >"$tmp/empty.json"
out=$(under_asan "$tmp/load-bad" "$asan" load -d "$db" --cluster bad "$tmp/bad.ndjson" "$tmp/truncated.json" \
	"$tmp/empty.json" "$tmp/missing.json" 2>&1)
rc=$?
reps=$(reports "$tmp/load-bad")
test "$rc" = 2 && test -z "$reps" && grep -q "bad.ndjson:3: " <<<"$out" && grep -q "empty.json: the input is empty" <<<"$out"
check "load of bad lines, a truncated List, an empty and a missing file: each reported, exit 2, no report" $? "exit $rc
$out
$reps"

for t in $tests; do
	logs=$tmp/$t
	start=$SECONDS
	under_asan "$logs" bash "tests/$t.sh" >"$tmp/$t.out" 2>&1
	rc=$?
	# Each of its checks, marked as this run's.
	sed -nE 's/^(ok|not ok|skip) - /\1 - [asan] /p; /^#/p' "$tmp/$t.out"
	n=$(grep -c '^ok ' "$tmp/$t.out")
	f=$(grep -c '^not ok ' "$tmp/$t.out")
	failures=$((failures + f))
	out=$(reports "$logs")
	test -z "$out" && test "$rc" = 0
	check "$t with the program built with ASan and UBSan: no report, exit 0 ($n checks passed, $f failed, $((SECONDS - start)) s)" $? "exit $rc
$out
$(tail -5 "$tmp/$t.out")"
done

[ "$failures" = 0 ]
