#!/usr/bin/env bash
# The README's first command: scripts/demo loads a simulated week and answers the seed's
# three questions. Run on its own server; a second run stores nothing new.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
dir=$(mktemp -d /tmp/k8s_events_demo.XXXXXX)
chmod 755 "$dir"
export K8S_EVENTS_PGDIR=$dir K8S_EVENTS_PGPORT=54337
trap '[ -s "$dir/simulate.pid" ] && kill "$(cat "$dir/simulate.pid")"; [ -s "$dir/serve.pid" ] && kill "$(cat "$dir/serve.pid")"; tests/pg_server.sh stop "$dir"; rm -rf "$dir"' EXIT

out=$(scripts/demo 2>&1)
rc=$?
end=$(tail -40 <<<"$out") # what a failed check shows
test "$rc" = 0
check "scripts/demo exits 0" $? "$end"

# The load summary (k8s-events load): read = stored > 0, nothing rejected or skipped.
summary=$(grep '^read [0-9]*, stored' <<<"$out")
read -r received stored duplicates rejected skipped <<<"$(tr -dc '0-9 ' <<<"$summary" | tr -s ' ')"
test "${received:-0}" -gt 10000 && test "$stored" = "$received" && test "$rejected" = 0 && test "$skipped" = 0
check "the demo stores a week of simulated events ($summary)" $? "$end"

for section in "(a) deploy history" "(b) NodeNotReady per node" "(c) pod trouble"; do
	# Lines with column separators after the section title, less the header line.
	rows=$(awk -v s="$section" 'index($0, s) { on = 1; next } /^== / { on = 0 } on && / \| / { n++ } END { print n - 1 }' <<<"$out")
	test "$rows" -ge 3
	check "the demo answers $section with at least 3 rows ($rows shown)" $? "$end"
done

grep -q "psql -h $dir -p 54337 -U postgres k8s_events" <<<"$out"
check "the demo says how to connect with psql" $? "$end"

# With no real cluster configured, the watcher follows a simulated API server live.
live=$(awk '/^== live:/ { on = 1; next } on && /simulated/ { print; exit }' <<<"$out" | tr -d ' ')
IFS='|' read -r name state _ stored _ <<<"$live"
test "$name" = simulated && test "$state" = watching && test "${stored:-0}" -gt 0
check "events flow live from the simulated cluster ($live)" $? "$end"

# It ends with the dashboard running on the live simulated cluster, and says where.
url=$(grep -o 'The dashboard: http://[^ ]*' <<<"$out" | cut -d' ' -f3)
clusters=$(curl -s "${url}api/clusters" 2>&1)
grep -q '"cluster" : "demo"' <<<"$clusters" && grep -q '"cluster" : "simulated"' <<<"$clusters"
check "the demo ends with the dashboard running, showing clusters demo and simulated ($url)" $? "$end
$clusters"

out=$(scripts/demo 2>&1)
end=$(tail -40 <<<"$out")
summary=$(grep '^read [0-9]*, stored' <<<"$out")
read -r received2 stored2 duplicates2 _ <<<"$(tr -dc '0-9 ' <<<"$summary" | tr -s ' ')"
test "$stored2" = 0 && test "$duplicates2" = "$received"
check "running the demo again stores nothing new ($summary)" $? "$end"
grep -q "^== live:" <<<"$out" && test "$(grep -c . "$dir/simulate.pid")" = 1
check "running the demo again reuses the running simulator" $? "$end"
grep -q "The dashboard: $url" <<<"$out" && test "$(grep -c . "$dir/serve.pid")" = 1
check "and the running dashboard" $? "$end"
