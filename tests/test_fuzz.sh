#!/usr/bin/env bash
# tests/test_fuzz.sh - make fuzz: every libFuzzer target (fuzz/) under AddressSanitizer and
# UBSan for K8S_EVENTS_FUZZ_SECONDS each (default 60): no crash, leak, hang or undefined
# behaviour. First a target with a planted heap overflow, which must fail the run: a fuzz
# run that cannot fail proves nothing.
# Prints "ok - ..." / "not ok - ..." lines.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
tmp=$(mktemp -d /tmp/test_fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/fuzz_planted.c" <<'C'
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* Reads one byte past a copy of the input when it starts with "BU". */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	volatile char c;

	memcpy(copy, data, size);
	if (size >= 2 && data[0] == 'B' && data[1] == 'U')
		c = copy[size + 1];
	free(copy);
	(void) c;
	return 0;
}
C
out=$(FUZZ_SECONDS=30 FUZZ_TARGETS=" " FUZZ_EXTRA="$tmp/fuzz_planted.c" fuzz/run.sh 2>&1)
rc=$?
test "$rc" != 0 && grep -q "not ok - fuzz_planted: .*heap-buffer-overflow" <<<"$out"
check "a planted heap overflow fails the fuzz run, named" $? "rc=$rc $out"
rm -f fuzz/output/fuzz_planted-*

out=$(FUZZ_SECONDS=${K8S_EVENTS_FUZZ_SECONDS:-60} fuzz/run.sh 2>&1)
rc=$?
echo "$out"
test "$rc" = 0 && test "$(grep -c '^ok - fuzz_' <<<"$out")" = 7
check "make fuzz: the 7 targets ran without a crash, leak, hang or undefined behaviour" $?
