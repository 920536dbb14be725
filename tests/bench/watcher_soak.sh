#!/usr/bin/env bash
# tests/bench/watcher_soak.sh [SECONDS] [SPEED] [IDLE_SECONDS]
#
# The background watcher following `k8s-events simulate` running SPEED times faster than
# real time (default 3000: about two simulated days a minute), for SECONDS (default 120).
# Prints the watcher's resident memory every 10 s and the ratio of the last reading to the
# first (the baseline, taken in the same run after the initial list), and the event rate.
# Then what the watcher costs: its CPU time (utime + stime of /proc/PID/stat) and wake-ups
# (voluntary + nonvoluntary context switches) per 1,000 Events over the soak, and, with the
# simulator frozen for IDLE_SECONDS (default 30; bookmarks every 5 s and nothing else), per
# idle hour (extrapolated) and per second.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-120}
speed=${2:-3000}
idle=${3:-30}
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
url=http://127.0.0.1:$(cat "$dir/port")
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events" \
	-c "SET k8s_events.retention = '0'" \
	-c "SELECT k8s_events.add_cluster('soak', api_server => '$url')" >/dev/null
until [ "$(psql -X -At -d postgres -c "SELECT state FROM k8s_events.watch_status WHERE cluster = 'soak'")" = watching ]; do sleep 0.2; done
pid=$(psql -X -At -d postgres -c "SELECT pid FROM k8s_events.watch_status WHERE cluster = 'soak'")
# Private memory only: VmRSS also counts the shared buffers the process touches.
rss() { awk '/^RssAnon/ { print $2 }' "/proc/$pid/status"; }
# CPU time used so far in clock ticks (the fields after the ")" that ends the command name),
# context switches so far, and the time in ms.
ticks() { sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }'; }
switches() { cat /proc/"$pid"/task/*/status | awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { n += $2 } END { print n }'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
hz=$(getconf CLK_TCK)
first=$(rss)
stored0=$(psql -X -At -d postgres -c "SELECT events_stored FROM k8s_events.watch_status WHERE cluster = 'soak'")
ticks0=$(ticks) switches0=$(switches) ms0=$(now_ms)
echo "t=0s anon=${first}kB stored=$stored0"
for t in $(seq 10 10 "$seconds"); do
	sleep 10
	echo "t=${t}s anon=$(rss)kB stored=$(psql -X -At -d postgres -c "SELECT events_stored FROM k8s_events.watch_status WHERE cluster = 'soak'")"
done
last=$(rss)
stored=$(psql -X -At -d postgres -c "SELECT events_stored FROM k8s_events.watch_status WHERE cluster = 'soak'")
ticks1=$(ticks) switches1=$(switches) ms1=$(now_ms)
awk -v a="$first" -v b="$last" -v n=$((stored - stored0)) -v s="$seconds" 'BEGIN {
	printf "watcher private memory (RssAnon) last/first: %.2f (%d kB -> %d kB); %d events stored in %d s (%.0f/s)\n", b / a, a, b, n, s, n / s }'
awk -v t=$((ticks1 - ticks0)) -v hz="$hz" -v c=$((switches1 - switches0)) -v ms=$((ms1 - ms0)) -v n=$((stored - stored0)) 'BEGIN {
	printf "watcher under load: %.2f s CPU (%.1f%% of a core): %.3f s per 1,000 events stored; %.0f wake-ups/s (%.1f per event)\n",
		t / hz, 100 * t / hz / (ms / 1000), (n > 0 ? 1000 * t / hz / n : 0), c / (ms / 1000), (n > 0 ? c / n : 0) }'

# Idle: the simulator frozen; once the watcher has stored everything served, nothing but
# bookmarks for IDLE_SECONDS.
curl -s -XPOST "$url/simulator/faults?speed=0" >/dev/null
rv=$(curl -s "$url/simulator/stats" | python3 -c "import json, sys; print(json.load(sys.stdin)['resource_version'])")
until [ "$(psql -X -At -d postgres -c "SELECT resource_version::bigint >= $rv FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'soak'")" = t ]; do sleep 0.2; done
sleep 1 # the last batch's commit and status update
ticks0=$(ticks) switches0=$(switches) ms0=$(now_ms)
sleep "$idle"
ticks1=$(ticks) switches1=$(switches) ms1=$(now_ms)
awk -v t=$((ticks1 - ticks0)) -v hz="$hz" -v c=$((switches1 - switches0)) -v ms=$((ms1 - ms0)) 'BEGIN {
	s = ms / 1000
	printf "watcher idle (%.0f s, a bookmark every 5 s): %.2f s CPU (%.2f%% of a core): %.1f s per idle hour (in steps of %.1f s: a clock tick); %.1f wake-ups/s\n",
		s, t / hz, 100 * t / hz / s, 3600 * t / hz / s, 3600 / hz / s, c / s }'
echo "watcher private memory (RssAnon) at the end: $(rss) kB"
echo "command: tests/bench/watcher_soak.sh $seconds $speed $idle"
