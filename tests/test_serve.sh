#!/usr/bin/env bash
# `k8s-events serve`: its refusals (a role that can write, a public address without a token,
# a token file others can read), then the API over real HTTP against a real PostgreSQL
# (tests/serve_api.py: every number equals SQL over the raw rows, hostile parameters get
# 400 and change nothing, the live stream, the token and the login cookie, TLS), its cost
# (CPU, wake-ups, memory), and a clean stop on SIGTERM with a stream open.
# Runs against the server tests/run started (PGHOST/PGPORT/PGUSER in the environment).
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
need_program

db=k8s_events_serve
dir=$(mktemp -d /tmp/k8s_events_serve.XXXXXX)
chmod 755 "$dir"
serve_pids=()
cleanup() {
	local p
	for p in "${serve_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${serve_pids[@]}"; do wait "$p" 2>/dev/null; done
	keep_logs "$dir"
	rm -rf "$dir"
}
trap cleanup EXIT

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
	-c "CREATE DATABASE $db" >/dev/null
psql -X -q -d "$db" -c "CREATE EXTENSION k8s_events" >/dev/null
login_role k8s_serve_reader k8s_events_reader
login_role k8s_serve_writer k8s_events_writer

# Two days of a simulated cluster ending now, and a second cluster, loaded as the owner.
"$BIN" generate --seed 21 --start now-2d --hours 48 --nodes 4 --namespaces 3 >"$dir/events.ndjson" 2>/dev/null
"$BIN" load -q -d "$db" --cluster prod "$dir/events.ndjson"
"$BIN" generate --seed 22 --start now-1d --hours 24 --nodes 2 --namespaces 2 2>/dev/null |
	head -n 500 >"$dir/edge.ndjson"
"$BIN" load -q -d "$db" --cluster edge "$dir/edge.ndjson"

# The page: what `make dashboard` builds, as files (the browser tests use the real one).
mkdir -p "$dir/page/assets"
printf '<!doctype html><html><head><script type="module" src="/assets/app-1a2b3c.js"></script></head><body></body></html>\n' >"$dir/page/index.html"
head -c 3000 /dev/zero | tr '\0' 'x' | sed 's/^/const x = "/; s/$/";/' >"$dir/page/assets/app-1a2b3c.js"
echo 'secret' >"$dir/page/.env"

reader="host=$PGHOST port=$PGPORT user=k8s_serve_reader dbname=$db"

# ---------------------------------------------------------------- refusals

refuses() { # refuses DESCRIPTION EXPECTED_STATUS PATTERN ARGS...
	local desc=$1 want=$2 pattern=$3 out rc
	shift 3
	out=$(timeout 10 "$BIN" serve --listen 127.0.0.1:0 --dashboard "$dir/page" "$@" 2>&1)
	rc=$?
	[ "$rc" = "$want" ] && grep -q -- "$pattern" <<<"$out"
	check "$desc" $? "exit $rc: $out"
}
refuses "serve refuses a superuser" 1 "is a superuser" -d "host=$PGHOST port=$PGPORT user=$PGUSER dbname=$db"
refuses "serve refuses a role that can store events (k8s_events_writer)" 1 "can run k8s_events\." \
	-d "host=$PGHOST port=$PGPORT user=k8s_serve_writer dbname=$db"
refuses "serve refuses a database without the extension, saying so" 1 "extension is not installed" \
	-d "host=$PGHOST port=$PGPORT user=k8s_serve_reader dbname=postgres"
out=$(timeout 10 "$BIN" serve --listen 0.0.0.0:0 --dashboard "$dir/page" -d "$reader" 2>&1)
rc=$?
[ "$rc" = 2 ] && grep -q "needs --auth-token-file" <<<"$out"
check "serve refuses to listen beyond loopback without a token" $? "exit $rc: $out"
new_secret >"$dir/token"
chmod 644 "$dir/token"
refuses "serve refuses a token file others can read" 1 "chmod 600" --auth-token-file "$dir/token" -d "$reader"
chmod 600 "$dir/token"
printf 'short\n' >"$dir/short"
chmod 600 "$dir/short"
refuses "serve refuses a token shorter than 16 characters" 1 "16 to 4096" --auth-token-file "$dir/short" -d "$reader"
out=$(timeout 10 "$BIN" serve --listen 127.0.0.1:0 --dashboard "$dir/nowhere" -d "$reader" 2>&1)
rc=$?
[ "$rc" = 1 ] && grep -q "nowhere" <<<"$out"
check "serve refuses to start without the built page" $? "exit $rc: $out"

# ---------------------------------------------------------------- the API

# start_serve NAME ARGS...: run serve in the background, wait for its URL, set url_NAME, pid_NAME.
start_serve() {
	local name=$1 i
	shift
	"$BIN" serve --listen 127.0.0.1:0 --dashboard "$dir/page" -d "$reader" "$@" \
		>"$dir/$name.out" 2>"$dir/$name.err" &
	serve_pids+=($!)
	eval "pid_$name=$!"
	for i in $(seq 300); do
		grep -q "dashboard at" "$dir/$name.out" 2>/dev/null && break
		sleep 0.1
	done
	eval "url_$name=$(grep -o 'https\?://[^ ]*' "$dir/$name.out")"
}
start_serve plain
# shellcheck disable=SC2154 # set by start_serve
check_cmd "serve prints the URL it listens on" test -n "$url_plain"

# A self-signed certificate for the TLS server (openssl is in scripts/setup).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$dir/tls.key" -out "$dir/tls.crt" >/dev/null 2>&1
register_key "$dir/tls.key"
start_serve token --auth-token-file "$dir/token"
start_serve tls --tls-cert "$dir/tls.crt" --tls-key "$dir/tls.key"

# shellcheck disable=SC2154
SERVE_URL=$url_plain SERVE_TOKEN_URL=$url_token SERVE_TLS_URL=$url_tls SERVE_CA=$dir/tls.crt \
	SERVE_PID=$pid_plain SERVE_TOKEN=$(cat "$dir/token") SERVE_DB=$db \
	python3 tests/serve_api.py
api_rc=$?
[ "$api_rc" = 0 ] || failures=$((failures + 1))

# ---------------------------------------------------------------- a clean stop

# shellcheck disable=SC2154
(timeout 20 curl -sN "${url_plain}api/stream" >/dev/null 2>&1 &)
sleep 0.5
kill -TERM "$pid_plain"
stopped=1
for _ in $(seq 50); do
	if ! kill -0 "$pid_plain" 2>/dev/null; then
		stopped=0
		break
	fi
	sleep 0.1
done
wait "$pid_plain"
rc=$?
[ "$stopped" = 0 ] && [ "$rc" = 0 ] && grep -q "stopping (SIGTERM)" "$dir/plain.err"
check "SIGTERM stops serve within 5 s with a live stream open, exit 0" $? "rc $rc: $(tail -5 "$dir/plain.err")"

for p in "${serve_pids[@]}"; do kill "$p" 2>/dev/null; done
for p in "${serve_pids[@]}"; do wait "$p" 2>/dev/null; done
serve_pids=()
psql -X -q -d postgres -c "DROP DATABASE $db" >/dev/null
[ "$failures" = 0 ]
