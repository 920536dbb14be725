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
sections=$(grep -c '^### ' "$tmp/BENCHMARKS.md" 2>/dev/null || echo 0)
rows=$(grep -c '^| [^w-]' "$tmp/BENCHMARKS.md" 2>/dev/null || echo 0)
test "$sections" -ge 6 && test "$rows" -ge 20 && grep -q '^- machine: ' "$tmp/BENCHMARKS.md" &&
	grep -q '^## 2k events' "$tmp/BENCHMARKS.md"
check "it writes the report: the machine, $sections sections, $rows measured pairs" $? "$(cat "$tmp/BENCHMARKS.md" 2>&1 | head -40)"
# The load's summary writes come from the statistics of its database: some, and at most one
# row of each of the seven tables per event (a batch writes each key it names once).
written=$(sed -n 's/^| summary rows written per 1,000 events stored .*| \([0-9,]*\): \([0-9,]*\) inserted, \([0-9,]*\) rewritten |.*/\1 \2 \3/p' "$tmp/BENCHMARKS.md" | tr -d ,)
read -r total inserted rewritten <<<"$written"
test -n "$total" && test "$total" -gt 0 && test "$total" -le 7000 &&
	test $((total - inserted - rewritten)) -ge -1 && test $((total - inserted - rewritten)) -le 1
check "it counts the summary rows the load wrote per 1,000 events ($written)" $? "$(grep 'summary rows' "$tmp/BENCHMARKS.md")"
# Each scale's results are kept beside the report, for the growth table of the next scale.
test -s "$tmp/BENCHMARKS.2k.json" && python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['scale'] == '2k' and r['p50_ms'] and r['results']" "$tmp/BENCHMARKS.2k.json"
check "it keeps the run's results for the growth table ($tmp/BENCHMARKS.2k.json)" $? "$(ls -la "$tmp")"
[ "$failures" = 0 ]
