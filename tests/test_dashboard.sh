#!/usr/bin/env bash
# The dashboard in headless Chromium (tests/browser/dashboard.mjs, playwright-core from
# dashboard/'s lockfile, Debian's chromium): filters, a click to the right one of two
# objects of the same name, hover and click on the chart, the live stream, hostile text,
# back and forward, keyboard, dark theme, a phone's width; screenshots of both pages in
# tests/output/screenshots/. Also the page's weight: under 200 KB of script gzip'd.
# Runs against the server tests/run started (PGHOST/PGPORT/PGUSER in the environment).
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
need_program

if [ ! -f dashboard/dist/index.html ] || [ ! -d dashboard/node_modules/playwright-core ]; then
	make -s dashboard >/dev/null || {
		echo "not ok - build the page (make dashboard)"
		exit 1
	}
fi

db=k8s_events_dashboard
dir=$(mktemp -d /tmp/k8s_events_dashboard.XXXXXX)
chmod 755 "$dir"
serve_pid=
cleanup() {
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
	-c "CREATE DATABASE $db" >/dev/null
psql -X -q -d "$db" -c "CREATE EXTENSION k8s_events" >/dev/null
login_role k8s_dashboard_reader k8s_events_reader
"$BIN" generate --seed 31 --start now-2d --hours 48 --nodes 4 --namespaces 3 >"$dir/events.ndjson" 2>/dev/null
"$BIN" load -q -d "$db" --cluster prod "$dir/events.ndjson"

# Two pods named twin, in alpha (3 BackOff) and in beta (5), a minute ago.
ev() {
	printf '{"kind":"Event","metadata":{"uid":"%s","resourceVersion":"1","namespace":"%s"},"involvedObject":{"kind":"Pod","namespace":"%s","name":"twin"},"reason":"BackOff","type":"Warning","message":"Back-off restarting failed container in %s","lastTimestamp":"%s","firstTimestamp":"%s","count":1}' \
		"$(cat /proc/sys/kernel/random/uuid)" "$1" "$1" "$1" "$2" "$2"
}
when=$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)
{
	for _ in 1 2 3; do ev alpha "$when"; echo; done
	for _ in 1 2 3 4 5; do ev beta "$when"; echo; done
} >"$dir/twins.ndjson"
"$BIN" load -q -d "$db" --cluster prod "$dir/twins.ndjson"

# What the browser loads: its script, gzip'd as served.
js=$(for f in dashboard/dist/assets/*.js; do gzip -9c "$f"; done | wc -c)
[ "$js" -lt 204800 ]
check "the page's script is $((js / 1024)) KB gzip'd (< 200 KB)" $?

"$BIN" serve --listen 127.0.0.1:0 --dashboard dashboard/dist \
	-d "host=$PGHOST port=$PGPORT user=k8s_dashboard_reader dbname=$db" >"$dir/serve.out" 2>"$dir/serve.err" &
serve_pid=$!
for _ in $(seq 300); do
	grep -q "dashboard at" "$dir/serve.out" 2>/dev/null && break
	sleep 0.1
done
url=$(grep -o 'http://[^ ]*' "$dir/serve.out")
check_cmd "serve starts with the built page" test -n "$url"

shots=tests/output/screenshots
DASH_URL=$url DASH_DB=$db SHOTS=$shots timeout 180 node tests/browser/dashboard.mjs
rc=$?
[ "$rc" = 0 ] || failures=$((failures + 1))
n=$(ls "$shots"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 5 ]
check "screenshots of both pages, light, dark and phone, in $shots ($n)" $?

kill "$serve_pid" 2>/dev/null
wait "$serve_pid" 2>/dev/null
serve_pid=
psql -X -q -d postgres -c "DROP DATABASE $db" >/dev/null
[ "$failures" = 0 ]
