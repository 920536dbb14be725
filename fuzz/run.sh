#!/usr/bin/env bash
# fuzz/run.sh - build every libFuzzer target of fuzz/ with AddressSanitizer and
# UndefinedBehaviorSanitizer (clang and libclang-rt-14-dev, from Debian) and run each for
# FUZZ_SECONDS (default 60), two at a time, from its seed corpus in fuzz/corpus/TARGET/.
# Any crash, leak, hang (a run over 10 s), or undefined behaviour fails the target; its
# input is kept as fuzz/output/TARGET-crash-*: once fixed, add it to fuzz/corpus/TARGET/,
# where every later run replays it first.
# Prints "ok - ..." / "not ok - ..." per target; exits non-zero when one failed.
#   make fuzz                        # all, 60 s each
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS=fuzz_kubeconfig
# FUZZ_EXTRA names more targets, each one self-contained .c file (tests/test_fuzz.sh runs one
# with a planted overflow, to show that a crash fails the run).
set -u
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
OUT=fuzz/output
mkdir -p "$OUT"
BUILD=$(mktemp -d /tmp/k8s_events_fuzz.XXXXXX)
trap 'rm -rf "$BUILD"' EXIT
CC=${FUZZ_CC:-clang}
FLAGS="-g -O1 -std=gnu11 -I. -Iloader -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"

# target: its sources besides itself, and its libraries
declare -A SOURCES=(
	[fuzz_frames]="core/frame_splitter.c"
	[fuzz_event_decode]="core/event_decode.c core/rfc3339.c"
	[fuzz_rfc3339]="core/rfc3339.c"
	[fuzz_image_ref]="core/image_ref.c core/messages.c"
	[fuzz_kubeconfig]="core/kubeconfig.c core/base64.c"
	[fuzz_dump_reader]="loader/load/dump_reader.c loader/load/dump_input.c loader/load/dump_json.c loader/load/dump_yaml.c"
	[fuzz_serve_params]="loader/serve/params.c loader/parse_args.c core/rfc3339.c"
)
declare -A LIBS=(
	[fuzz_event_decode]="-ljansson"
	[fuzz_kubeconfig]="-lyaml"
	[fuzz_dump_reader]="-ljansson -lyaml -lz -lm"
	[fuzz_serve_params]="-lm"
)
TARGETS=${FUZZ_TARGETS:-$(printf '%s\n' "${!SOURCES[@]}" | sort | tr '\n' ' ')}

if ! command -v "$CC" >/dev/null; then
	echo "not ok - fuzz: $CC is not installed (scripts/setup installs clang and libclang-rt-14-dev)"
	exit 1
fi

run_one() {
	local t=$1 src="fuzz/$1.c" corpus="$BUILD/$1.corpus"
	case $t in */*.c) src=$t t=$(basename "$t" .c) corpus="$BUILD/$t.corpus" ;; esac
	if ! $CC $FLAGS -o "$BUILD/$t" "$src" ${SOURCES[$t]:-} ${LIBS[$t]:-} 2>"$BUILD/$t.cc"; then
		echo "not ok - $t: does not build"
		sed 's/^/# /' "$BUILD/$t.cc" | head -20
		return 1
	fi
	# New inputs go to a scratch copy: the repository keeps only the seeds.
	mkdir -p "$corpus"
	cp -r "fuzz/corpus/$t/." "$corpus/" 2>/dev/null
	if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$BUILD/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$OUT/$t-" -print_final_stats=1 "$corpus" >"$BUILD/$t.log" 2>&1; then
		runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD/$t.log" | grep -o '[0-9]*$')
		echo "ok - $t: ${runs:-?} inputs in ${SECONDS_EACH} s, no crash, leak, hang or undefined behaviour"
	else
		echo "not ok - $t: $(grep -m1 -E 'ERROR|runtime error|Timeout|leak' "$BUILD/$t.log")"
		grep -E 'ERROR|runtime error|#[0-9]+ 0x|SUMMARY|Test unit written' "$BUILD/$t.log" | head -30 | sed 's/^/# /'
		return 1
	fi
}
failed=0
pids=()
# Two at a time: the machines this runs on have two cores.
for t in $TARGETS ${FUZZ_EXTRA:-}; do
	while [ "$(jobs -rp | wc -l)" -ge "${FUZZ_JOBS:-2}" ]; do sleep 0.5; done
	run_one "$t" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || failed=$((failed + 1))
done
[ "$failed" = 0 ]
