#!/usr/bin/env bash
# tests/test_bench.sh - `make bench` keeps working: at a tiny scale (2,000 events, one round)
# it runs every pair and writes its report. The numbers are not looked at: speed targets are
# benchmarks (BENCHMARKS.md), not tests.
# Prints "ok - ..." / "not ok - ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
tmp=$(mktemp -d /tmp/test_bench.XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
out=$(K8S_EVENTS_PGPORT=54339 K8S_EVENTS_PGDIR="$tmp/pg" make -s bench SCALE=2k ROUNDS=1 OUT="$tmp/BENCHMARKS.md" \
	PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config 2>&1)
rc=$?
check "make bench SCALE=2k ROUNDS=1 runs" $rc "$(echo "$out" | tail -20)"
sections=$(grep -c '^## ' "$tmp/BENCHMARKS.md" 2>/dev/null || echo 0)
rows=$(grep -c '^| [^w-]' "$tmp/BENCHMARKS.md" 2>/dev/null || echo 0)
test "$sections" -ge 5 && test "$rows" -ge 15 && grep -q '^- machine: ' "$tmp/BENCHMARKS.md"
check "it writes the report: the machine, $sections sections, $rows measured pairs" $? "$(cat "$tmp/BENCHMARKS.md" 2>&1 | head -40)"
[ "$failures" = 0 ]
