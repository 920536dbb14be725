#!/usr/bin/env bash
# tests/bench/load.sh [EVENTS_IN_THOUSANDS] [ROUNDS]
#
# `k8s-events load` against the limit of this machine: psql \copy of the very same rows
# into the very same table (k8s_events.events of a fresh database, its daily partitions
# made beforehand by k8s_events.create_partitions(), so with the same indexes).
# Each round loads into a fresh database with each tool, alternating; prints the
# throughput of both and the ratio load/COPY (target: at least 0.8). Also reports the
# loader's peak RSS, to show memory stays bounded whatever the input size.
# Uses its own throwaway server (tests/pg_server.sh) and `k8s-events generate`.
# Prints numbers; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
thousands=${1:-1000}
rounds=${2:-2}

export K8S_EVENTS_PGDIR=${K8S_EVENTS_PGDIR:-$(mktemp -d /tmp/k8s_events_bench.XXXXXX)}
export K8S_EVENTS_PGPORT=${K8S_EVENTS_PGPORT:-54338}
chmod 755 "$K8S_EVENTS_PGDIR"
eval "$(tests/pg_server.sh start "$K8S_EVENTS_PGDIR")"
# One run's autovacuum (of a million fresh rows) would otherwise run through the next timed run.
psql -X -q -d postgres -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null
data=$(mktemp /tmp/k8s_events_bench_load.XXXXXX)
trap 'tests/pg_server.sh stop "$K8S_EVENTS_PGDIR"; rm -f "$data" "$data.rows"' EXIT
chmod 644 "$data"

# About 45,000 events a simulated day with 200 nodes and 40 namespaces; generate more, keep N.
hours=$(((thousands * 1000 * 24 + 39999) / 40000))
set +o pipefail # head ends generate early
loader/k8s-events generate --seed 11 --start "now-$((hours / 24 + 2))d" --hours "$hours" \
	--nodes 200 --namespaces 40 --cluster-version mixed | head -n "$((thousands * 1000))" >"$data"
set -o pipefail
events=$(wc -l <"$data")
echo "data: $events events (NDJSON), $(($(stat -c %s "$data") / 1048576)) MiB"

fresh_db() {
	psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" \
		-c "CREATE DATABASE $1"
	psql -X -q -d "$1" -c "CREATE EXTENSION k8s_events"
}
now_ms() { date +%s%3N; }
cols="cluster, uid, resource_version, event_time, first_time, namespace, kind, name, type, reason,
      message, count, occurrences, source_component, source_host, reporting_controller,
      reporting_instance, action, event"

printf '%-6s %-22s %10s %12s %12s\n' round tool rows seconds rows/s
for round in $(seq 1 "$rounds"); do
	fresh_db bench_load
	# Each timed run starts with no dirty buffers of the one before to write out.
	psql -X -q -d postgres -c CHECKPOINT
	t0=$(now_ms)
	/usr/bin/time -f '%M' -o "$data.rss" loader/k8s-events load -q -d bench_load --cluster bench "$data"
	t1=$(now_ms)
	stored=$(psql -X -At -d bench_load -c "SELECT count(*) FROM k8s_events.events")
	load_ms=$((t1 - t0))
	rss_kb=$(cat "$data.rss")
	if [ "$round" = 1 ]; then
		psql -X -q -d bench_load -c "\\copy (SELECT $(echo $cols) FROM k8s_events.events) TO '$data.rows'"
		IFS='|' read -r from to <<<"$(psql -X -At -d bench_load -c \
			"SELECT min(event_time), max(event_time) FROM k8s_events.events")"
	fi

	fresh_db bench_copy
	psql -X -q -d bench_copy -c "SELECT count(*) FROM k8s_events.create_partitions('$from', '$to')" >/dev/null
	psql -X -q -d postgres -c CHECKPOINT
	t0=$(now_ms)
	psql -X -q -d bench_copy -c "\\copy k8s_events.events ($(echo $cols)) FROM '$data.rows'"
	t1=$(now_ms)
	copied=$(psql -X -At -d bench_copy -c "SELECT count(*) FROM k8s_events.events")
	copy_ms=$((t1 - t0))

	awk -v r="$round" -v a="$stored" -v la="$load_ms" -v b="$copied" -v lb="$copy_ms" -v rss="$rss_kb" 'BEGIN {
		printf "%-6s %-22s %10d %12.2f %12.0f\n", r, "k8s-events load", a, la / 1000, a / la * 1000
		printf "%-6s %-22s %10d %12.2f %12.0f\n", r, "psql \\copy (baseline)", b, lb / 1000, b / lb * 1000
		printf "%-6s ratio load/COPY throughput: %.2f   loader peak RSS: %.1f MiB\n", r,
			(a / la) / (b / lb), rss / 1024 }'
done
