#!/usr/bin/env bash
# tests/bench/watcher_soak.sh [SECONDS] [SPEED]
#
# The background watcher following `k8s-events simulate` running SPEED times faster than
# real time (default 3000: about two simulated days a minute), for SECONDS (default 120).
# Prints the watcher's resident memory every 10 s and the ratio of the last reading to the
# first (the baseline, taken in the same run after the initial list), and the event rate.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-120}
speed=${2:-3000}
dir=$(mktemp -d /tmp/k8s_events_soak.XXXXXX)
chmod 755 "$dir"
export K8S_EVENTS_PGDIR=$dir/pg K8S_EVENTS_PGPORT=54334
mkdir -p "$dir/pg"
eval "$(tests/pg_server.sh start "$dir/pg")"
loader/k8s-events simulate --port 0 --port-file "$dir/port" --speed "$speed" --initial-events 2000 \
	--nodes 30 --namespaces 8 --bookmark-interval 5 >"$dir/sim.log" 2>&1 &
sim=$!
trap 'kill $sim; tests/pg_server.sh stop "$dir/pg"; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events" \
	-c "SET k8s_events.retention = '0'" \
	-c "SELECT k8s_events.add_cluster('soak', api_server => 'http://127.0.0.1:$(cat "$dir/port")')" >/dev/null
until [ "$(psql -X -At -d postgres -c "SELECT state FROM k8s_events.watch_status WHERE cluster = 'soak'")" = watching ]; do sleep 0.2; done
pid=$(psql -X -At -d postgres -c "SELECT pid FROM k8s_events.watch_status WHERE cluster = 'soak'")
# Private memory only: VmRSS also counts the shared buffers the process touches.
rss() { awk '/^RssAnon/ { print $2 }' "/proc/$pid/status"; }
first=$(rss)
stored0=$(psql -X -At -d postgres -c "SELECT events_stored FROM k8s_events.watch_status WHERE cluster = 'soak'")
echo "t=0s anon=${first}kB stored=$stored0"
for t in $(seq 10 10 "$seconds"); do
	sleep 10
	echo "t=${t}s anon=$(rss)kB stored=$(psql -X -At -d postgres -c "SELECT events_stored FROM k8s_events.watch_status WHERE cluster = 'soak'")"
done
last=$(rss)
stored=$(psql -X -At -d postgres -c "SELECT events_stored FROM k8s_events.watch_status WHERE cluster = 'soak'")
awk -v a="$first" -v b="$last" -v n=$((stored - stored0)) -v s="$seconds" 'BEGIN {
	printf "watcher private memory (RssAnon) last/first: %.2f (%d kB -> %d kB); %d events stored in %d s (%.0f/s)\n", b / a, a, b, n, s, n / s }'
echo "command: tests/bench/watcher_soak.sh $seconds $speed"
