#!/usr/bin/env bash
# tests/bench/generate.sh [HOURS]: how fast `k8s-events generate` writes events, against
# the baseline of copying the same bytes (cat of its output) in the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
hours=${1:-720}
out=$(mktemp /tmp/k8s_events_gen.XXXXXX)
trap 'rm -f "$out"' EXIT
args=(generate --hours "$hours" --nodes 20 --namespaces 8)
t0=$(date +%s%N)
loader/k8s-events "${args[@]}" >"$out"
t1=$(date +%s%N)
cat "$out" >/dev/null
cat "$out" >/dev/null
t2=$(date +%s%N)
cat "$out" >/dev/null
t3=$(date +%s%N)
lines=$(wc -l <"$out")
bytes=$(stat -c %s "$out")
awk -v n="$lines" -v b="$bytes" -v g=$((t1 - t0)) -v c=$((t3 - t2)) 'BEGIN {
	printf "generate: %d events, %.1f MiB in %.0f ms = %.0f events/s\n", n, b / 1048576, g / 1e6, n / g * 1e9
	printf "cat of the same bytes: %.1f ms\n", c / 1e6
	printf "ratio generate/cat time: %.1f\n", g / c }'
echo "command: loader/k8s-events ${args[*]}"
