#!/usr/bin/env bash
# tests/test_core_unit.sh - unit tests of the plain-C pieces in core/ (frame splitter,
# quoting outside bytes in messages, kubeconfig, base64, the list/watch engine over HTTP,
# also when memory runs out) and loader/ (the dump reader), compiled against their sources
# without PostgreSQL, then run again built with AddressSanitizer and UBSan, and under
# valgrind: no memory error, leak or undefined behaviour.
# Prints "ok - ..." / "not ok - ..." lines; exits non-zero if any check failed.
set -u
cd "$(dirname "$0")/.."
TMP=$(mktemp -d /tmp/test_core_unit.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
FAILED=0
CC=${CC:-cc}
CFLAGS="-std=gnu11 -Wall -Wextra -Werror -O1 -g -I. -Iloader"

# The real dumps next to the main checkout (../shared from it, also from a git worktree).
if [ -z "${K8S_EVENTS_REAL_EVENTS:-}" ]; then
	for d in ../shared/data/real-events \
		"$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null)/../../shared/data/real-events"; do
		if [ -d "$d" ]; then
			K8S_EVENTS_REAL_EVENTS=$(cd "$d" && pwd)
			export K8S_EVENTS_REAL_EVENTS
			break
		fi
	done
fi

# name, then the source files it needs, then libraries
build_and_run() {
	local name=$1 srcs=$2 libs=$3
	if ! $CC $CFLAGS -o "$TMP/$name" "tests/unit/$name.c" $srcs $libs -ljansson 2>"$TMP/$name.cc"; then
		echo "not ok - compile tests/unit/$name.c"
		sed 's/^/# /' "$TMP/$name.cc"
		FAILED=$((FAILED + 1))
		return
	fi
	# The test prints its own ok/not ok lines.
	"$TMP/$name" || FAILED=$((FAILED + 1))
	# Again built with AddressSanitizer and UBSan: any memory error, leak or undefined
	# behaviour ends it with an error (the allocation-failure test is valgrind's: ASan's
	# allocator does not fail the way it injects).
	if [ "$name" != test_alloc_failure ]; then
		if $CC $CFLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
			-o "$TMP/$name.asan" "tests/unit/$name.c" $srcs $libs -ljansson 2>"$TMP/$name.asan.cc" &&
			ASAN_OPTIONS=detect_leaks=1 K8S_EVENTS_UNDER_SANITIZER=1 "$TMP/$name.asan" >"$TMP/$name.asan.out" 2>&1; then
			echo "ok - $name with AddressSanitizer and UBSan: no memory error, leak or undefined behaviour"
		else
			echo "not ok - $name with AddressSanitizer and UBSan: no memory error, leak or undefined behaviour"
			cat "$TMP/$name.asan.cc" "$TMP/$name.asan.out" | grep -v '^ok - ' | head -40 | sed 's/^/# /'
			FAILED=$((FAILED + 1))
		fi
	fi
	if command -v valgrind >/dev/null; then
		# Tests skip their slowest checks (K8S_EVENTS_UNDER_VALGRIND).
		if K8S_EVENTS_UNDER_VALGRIND=1 valgrind -q --leak-check=full --show-leak-kinds=all \
			--errors-for-leak-kinds=all --error-exitcode=99 \
			"$TMP/$name" >"$TMP/$name.vg.out" 2>"$TMP/$name.vg"; then
			echo "ok - $name under valgrind: no memory errors, no leaks"
		else
			echo "not ok - $name under valgrind: no memory errors, no leaks"
			head -40 "$TMP/$name.vg" | sed 's/^/# /'
			FAILED=$((FAILED + 1))
		fi
	else
		echo "skip - $name under valgrind (valgrind not installed)"
	fi
}

build_and_run test_frame_splitter "core/frame_splitter.c" ""
build_and_run test_quote_text "" ""
build_and_run test_kubeconfig "core/kubeconfig.c core/base64.c" "-lyaml"
build_and_run test_list_watch "core/list_watch.c core/http_stream.c core/frame_splitter.c core/kubeconfig.c core/base64.c" "-lcurl -lyaml -lpthread"
build_and_run test_alloc_failure "core/list_watch.c core/http_stream.c core/frame_splitter.c core/kubeconfig.c core/base64.c" "-lcurl -lyaml -lpthread"
build_and_run test_dump_reader "loader/load/dump_reader.c loader/load/dump_input.c loader/load/dump_json.c loader/load/dump_yaml.c" "-lyaml -lz -lm"

[ "$FAILED" = 0 ]
