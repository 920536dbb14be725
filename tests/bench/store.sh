#!/usr/bin/env bash
# tests/bench/store.sh [DAYS] [NODES] [NAMESPACES]
#
# Benchmarks of the event store, each against a baseline measured in the same run:
#  1. ingest(): events/s through k8s_events.ingest() vs. rows/s of a plain COPY of the
#     very same rows into k8s_events.events of a second database (same partitions, same
#     indexes).
#  2. indexes: the seed's questions, the dashboard's drill-down and histogram, timed
#     (median of 5, EXPLAIN ANALYZE execution time) with the indexes vs. with index
#     scans disabled on the same data.
# Uses its own throwaway server (tests/pg_server.sh) and `k8s-events generate`.
# Prints ratios; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
days=${1:-14}
nodes=${2:-30}
namespaces=${3:-8}

export K8S_EVENTS_PGDIR=${K8S_EVENTS_PGDIR:-$(mktemp -d /tmp/k8s_events_bench.XXXXXX)}
export K8S_EVENTS_PGPORT=${K8S_EVENTS_PGPORT:-54339}
chmod 755 "$K8S_EVENTS_PGDIR"
eval "$(tests/pg_server.sh start "$K8S_EVENTS_PGDIR")"
# The vacuum of the rows ingest() wrote would otherwise run through the timed COPY.
psql -X -q -d postgres -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null
trap 'tests/pg_server.sh stop "$K8S_EVENTS_PGDIR"; rm -f "$data"' EXIT
data=$(mktemp /tmp/k8s_events_bench_data.XXXXXX)
chmod 644 "$data"
db=bench
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -X -q -d "$db" -c "CREATE EXTENSION k8s_events"

start=$(date -u -d "$days days ago" +%Y-%m-%dT00:00:00Z)
loader/k8s-events generate --seed 7 --start "$start" --hours $((days * 24)) --nodes "$nodes" \
	--namespaces "$namespaces" --cluster-version mixed --format list --list-size 1000 >"$data"
echo "data: $(wc -l <"$data") EventLists, $(($(stat -c %s "$data") / 1048576)) MiB ($days days, $nodes nodes, $namespaces namespaces)"

ms() { # median execution time in ms of a query, 5 runs, after one warm-up
	local sql=$1 settings=${2:-}
	for i in 0 1 2 3 4 5; do
		psql -X -At -d "$db" -c "SET max_parallel_workers_per_gather = 0; $settings" \
			-c "EXPLAIN (ANALYZE, TIMING OFF) $sql" | sed -nE 's/^Execution Time: ([0-9.]+) ms$/\1/p' |
			{ [ "$i" = 0 ] && cat >/dev/null || cat; }
	done | sort -n | sed -n 3p
}

echo
echo "== 1. ingest() against COPY of the same rows"
psql -X -q -d "$db" <<SQL
CREATE TABLE staging (doc text);
\copy staging (doc) FROM '$data' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
SQL
ingest_s=$(psql -X -At -d "$db" -c "SET k8s_events.retention = '0'" -c '\timing on' \
	-c "SELECT sum(k8s_events.ingest(doc::jsonb, 'bench')) FROM staging" | sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p')
rows=$(psql -X -At -d "$db" -c "SELECT count(*) FROM k8s_events.events")
# The baseline: the same rows into the same table, with its per-partition indexes, in a
# second database whose partitions exist beforehand.
cols="cluster, uid, resource_version, event_time, first_time, namespace, kind, name, type, reason,
      message, count, occurrences, source_component, source_host, reporting_controller,
      reporting_instance, action, event"
psql -X -q -d "$db" -c "\\copy (SELECT $(echo $cols) FROM k8s_events.events) TO '$data.rows'"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ${db}_copy" \
	-c "CREATE DATABASE ${db}_copy"
psql -X -q -d "${db}_copy" -c "CREATE EXTENSION k8s_events" \
	-c "SELECT count(*) FROM k8s_events.create_partitions('$start', now())" >/dev/null
copy_s=$(psql -X -At -d "${db}_copy" -c '\timing on' -c "\\copy k8s_events.events ($(echo $cols)) FROM '$data.rows'" |
	sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p')
rm -f "$data.rows"
awk -v r="$rows" -v a="$ingest_s" -v b="$copy_s" 'BEGIN {
	printf "ingest(): %d events in %.0f ms = %.0f events/s\n", r, a, r / a * 1000
	printf "COPY    : %d rows   in %.0f ms = %.0f rows/s\n", r, b, r / b * 1000
	printf "ratio ingest/COPY throughput: %.2f\n", b / a }'

psql -X -q -d "$db" -c "VACUUM ANALYZE k8s_events.events"
echo
echo "== 2. queries with the indexes vs. without (index scans disabled), median of 5"
read -r ns name day <<<"$(psql -X -At -F ' ' -d "$db" -c "
	SELECT namespace, name, date_trunc('day', max(event_time))::date FROM k8s_events.events
	WHERE kind = 'Pod' GROUP BY namespace, name ORDER BY count(*) DESC LIMIT 1")"
noindex="SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off;"
printf '%-44s %10s %10s %8s\n' query "indexed" "no index" ratio
run() {
	local label=$1 sql=$2 a b
	a=$(ms "$sql")
	b=$(ms "$sql" "$noindex")
	awk -v l="$label" -v a="$a" -v b="$b" 'BEGIN { printf "%-44s %8.2fms %8.2fms %7.1fx\n", l, a, b, b / a }'
}
run "drill-down: one pod, one day" "SELECT event_time, type, reason, message FROM k8s_events.events
	WHERE namespace = '$ns' AND kind = 'Pod' AND name = '$name'
	  AND event_time >= '$day' AND event_time < date '$day' + 1 ORDER BY event_time"
run "histogram: one pod, all days, 1 hour" "SELECT * FROM k8s_events.histogram(now() - interval '$days days', now(), '1 hour',
	namespace => '$ns', kind => 'Pod', name => '$name')"
run "histogram: whole cluster, 1 day, 5 min" "SELECT * FROM k8s_events.histogram(date '$day', date '$day' + 1, '5 minutes')"
run "seed (a) deploy history" "$(grep -v '^--' examples/deploy_history.sql)"
run "seed (b) NodeNotReady per node per hour" "$(grep -v '^--' examples/node_not_ready.sql)"
run "seed (c) pod trouble near NodeNotReady" "$(grep -v '^--' examples/node_trouble.sql)"
run "resources of one namespace" "SELECT * FROM k8s_events.resources WHERE namespace = '$ns'"

echo
psql -X -d "$db" -c "
	SELECT pg_size_pretty(sum(pg_table_size(partition))) AS table_size,
	       pg_size_pretty(sum(pg_indexes_size(partition))) AS indexes_size,
	       count(*) AS partitions
	FROM k8s_events.partitions"
