#!/usr/bin/env bash
# Security (issue 13), on a PostgreSQL server of its own with the library preloaded; what
# SQL alone cannot show (sql/privileges.sql: the writer's forgeries, who names the worker's
# files; sql/reader_reach.sql: everything the reader role can reach):
#   1. the leak check tests/run ends with finds a planted token and a planted key line;
#   2. TLS failures refuse with a clear status, store nothing, and verification is on by
#      default: a CA that did not sign the certificate, an expired certificate, one for
#      another host, and no CA at all, for the background worker (watch_status) and for
#      `k8s-events watch` (its message and exit status);
#   3. a token and a client key, inline in a kubeconfig the worker uses, reach nothing a
#      reader can read (nor anything at all in the database) when the API server refuses them;
#   4. hostile names stay data everywhere: cluster names, namespaces, kinds, names and
#      reasons with quotes, backslashes, dots, unicode (RTL marks, emoji, combining marks),
#      control characters, format directives and SQL fragments, through ingest(),
#      `k8s-events load`, `k8s-events watch` and the worker (a fake API server of
#      tests/hostile.py on loopback), stored byte for byte; what a text column cannot hold
#      (a \u0000, bytes that are not UTF-8) and fields longer than the store indexes are
#      rejected one by one with the reason, never the batch; NOTIFY payloads, the program's
#      output, an API server's hostile error body, serve's JSON and the partitions' names;
#   5. the workers' cost while they fail (CPU, memory).
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
need_program
check_detail_lines=30
own_server security "${K8S_EVENTS_SECURITY_PGPORT:-54405}"
K8S=$BIN

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events"
sql "ALTER SYSTEM SET k8s_events.notify_details = on" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
login_role k8s_security_reader k8s_events_reader
login_role k8s_security_writer k8s_events_writer

# q SQL [NAME=VALUE...]: SQL through psql's standard input, where :'NAME' is VALUE quoted as a
# literal, whatever its bytes: hostile names never go into SQL text any other way.
q() {
	local text=$1 a args=()
	shift
	for a in "$@"; do args+=(-v "$a"); done
	psql -X -q -At -d postgres "${args[@]}" <<<"$text"
}
# mention NEEDLE: what holds NEEDLE among everything the current role can read in the
# extension's schemas (relations, and functions of no arguments), as "name: rows".
reach_fn="CREATE FUNCTION pg_temp.reach(needle text) RETURNS TABLE (what text, n bigint)
LANGUAGE plpgsql AS \$\$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.oid::regclass::text AS w, format('SELECT * FROM %s', c.oid::regclass) AS stmt
           FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
           WHERE s.nspname LIKE 'k8s\\_events%' AND c.relkind IN ('r', 'p', 'v', 'm')
             AND has_table_privilege(c.oid, 'SELECT')
           UNION ALL
           SELECT p.oid::regprocedure::text, format('SELECT * FROM %s()', p.oid::regproc)
           FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace
           WHERE s.nspname LIKE 'k8s\\_events%' AND p.pronargs = 0 AND p.prokind = 'f'
             AND p.prorettype <> 'trigger'::regtype AND has_function_privilege(p.oid, 'EXECUTE')
  LOOP
    what := r.w;
    EXECUTE format('SELECT count(*) FROM (%s) AS t WHERE strpos(t::text, \$1) > 0', r.stmt) INTO n USING needle;
    IF n > 0 THEN RETURN NEXT; END IF;
  END LOOP;
END \$\$;"
mention() {
	q "SET client_min_messages = warning; $reach_fn
	   ${2:+SET ROLE $2;}
	   SELECT what || ': ' || n FROM pg_temp.reach(:'needle');
	   SELECT 'readable relations: ' || count(*) FROM pg_class c
	   JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname LIKE 'k8s\\_events%'
	   AND c.relkind IN ('r', 'p', 'v', 'm') AND has_table_privilege(c.oid, 'SELECT');" "needle=$1"
}

# --- 1. The leak check (tests/check_leaks.sh) finds what it is there to find.
mkdir -p "$dir/leaks/clean" "$dir/leaks/planted"
leak_token=$(new_secret)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/leak-key.pem" 2>/dev/null
: >"$dir/leaks/registry"
K8S_EVENTS_SECRETS=$dir/leaks/registry register_secret "$leak_token"
K8S_EVENTS_SECRETS=$dir/leaks/registry register_key "$dir/leak-key.pem"
cp "$dir/pg/server.log" "$dir/leaks/clean/server.log"
tests/check_leaks.sh "$dir/leaks/registry" "$dir/leaks/clean" >"$dir/leaks/clean.out"
clean_rc=$?
echo "2026-12-07 10:00:00 UTC [1] ERROR: bad token \"$leak_token\"" >"$dir/leaks/planted/token.log"
echo "key: $(sed -n 7p "$dir/leak-key.pem")" >"$dir/leaks/planted/key.log"
tests/check_leaks.sh "$dir/leaks/registry" "$dir/leaks/planted" >"$dir/leaks/planted.out"
planted_rc=$?
test "$clean_rc" = 0 && test "$planted_rc" = 1 && grep -q "token.log:1:" "$dir/leaks/planted.out" &&
	grep -q "key.log:1:" "$dir/leaks/planted.out" && ! grep -q -- "$leak_token" "$dir/leaks/planted.out"
check "the leak check passes a clean log and finds a planted token and a planted key line (without printing them)" $? \
	"$(cat "$dir/leaks/clean.out" "$dir/leaks/planted.out")"

# --- 2. TLS. One CA signs a certificate for 127.0.0.1, an expired one (2020) and one for
# another host; another CA signs nothing the servers present. openssl 3.0's x509 cannot
# date a certificate in the past, `openssl ca` can.
tls=$dir/tls
mkdir -p "$tls/db"
: >"$tls/db/index"
echo 01 >"$tls/db/serial"
cat >"$tls/ca.cnf" <<'EOF'
[ca]
default_ca = test
[test]
database = db/index
new_certs_dir = db
serial = db/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
EOF
(
	cd "$tls" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=k8s-events test CA"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 -subj "/CN=another CA"
	sign() { # sign NAME SAN START END
		openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" -addext "subjectAltName=$2"
		openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -startdate "$3" -enddate "$4" \
			-in "$1.csr" -out "$1.pem"
	}
	sign good "IP:127.0.0.1" "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" "$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)"
	sign expired "IP:127.0.0.1" 20200101000000Z 20200102000000Z
	sign elsewhere "DNS:api.elsewhere.invalid" "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" "$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)"
) >"$tls/openssl.log" 2>&1
register_key "$tls"/*.key
chmod 644 "$tls"/*.pem
expiry=$(openssl x509 -in "$tls/expired.pem" -noout -enddate 2>&1)
openssl verify -CAfile "$tls/ca.pem" "$tls/good.pem" >/dev/null 2>&1 && [ "$expiry" = "notAfter=Jan  2 00:00:00 2020 GMT" ]
check "test certificates: one valid for 127.0.0.1, one expired ($expiry), one for another host" $? "$(tail -5 "$tls/openssl.log")"
new_secret >"$dir/token"
for s in good expired elsewhere; do
	start_sim "$s" --speed 0 --initial-events 20 --seed 41 --bookmark-interval 1 --token-file "$dir/token" \
		--tls-cert "$tls/$s.pem" --tls-key "$tls/$s.key"
	eval "echo \"\$${s}_port\"" >>"$dir/https"
done
url() { eval "echo \"https://127.0.0.1:\$${1}_port\""; }

# The worker: each failure in watch_status, with its reason, and nothing stored; the same
# server with the right CA works, so the certificates are what was refused.
sql "SELECT column_default FROM information_schema.columns WHERE table_schema = 'k8s_events'
     AND table_name = 'clusters' AND column_name = 'insecure_skip_tls_verify'" >"$dir/default"
q "SELECT k8s_events.add_cluster('tls-good', api_server => :'u', token_file => :'t', ca_file => :'ca');
   SELECT k8s_events.add_cluster('tls-wrong-ca', api_server => :'u', token_file => :'t', ca_file => :'other');
   SELECT k8s_events.add_cluster('tls-expired', api_server => :'x', token_file => :'t', ca_file => :'ca');
   SELECT k8s_events.add_cluster('tls-elsewhere', api_server => :'e', token_file => :'t', ca_file => :'ca');
   SELECT k8s_events.add_cluster('tls-default', api_server => :'u', token_file => :'t');" \
	"u=$(url good)" "x=$(url expired)" "e=$(url elsewhere)" "t=$dir/token" "ca=$tls/ca.pem" \
	"other=$tls/other-ca.pem" >/dev/null
caught_up tls-good "$good_port"
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'tls-good'")
test "$rows" = 20
check "TLS with the CA that signed the certificate: the 20 Events are stored" $? "rows=$rows"
tls_worker() { # tls_worker CLUSTER PATTERN WHAT
	local status
	wait_for 20 "SELECT coalesce((SELECT state = 'backoff' AND last_error LIKE 'cannot reach the API server: SSL%' AND last_error ILIKE '$2'
	              FROM k8s_events.watch_status WHERE cluster = '$1'), false)"
	local rc=$?
	status=$(sql "SELECT state || ': ' || coalesce(last_error, '') FROM k8s_events.watch_status WHERE cluster = '$1'")
	stored=$(sql "SELECT (SELECT count(*) FROM k8s_events.events WHERE cluster = '$1')
	                   + (SELECT count(*) FROM k8s_events.rejected WHERE cluster = '$1')
	                   + (SELECT count(*) FROM k8s_events_internal.watch_checkpoints WHERE cluster = '$1')")
	test "$rc" = 0 && test "$stored" = 0
	check "worker, $3: refused, watch_status says why ($status), nothing stored" $? "$status; rows, rejects and checkpoints: $stored"
}
tls_worker tls-wrong-ca '%unable to get local issuer certificate%' "a CA that did not sign the certificate"
tls_worker tls-expired '%certificate has expired%' "an expired certificate"
tls_worker tls-elsewhere '%no alternative certificate subject name matches target host name%' "a certificate for another host"
tls_worker tls-default '%unable to get local issuer certificate%' "no CA given (the system's CAs; verification is on by default)"
test "$(cat "$dir/default")" = false
check "insecure_skip_tls_verify defaults to false in k8s_events.clusters" $? "$(cat "$dir/default")"

# `k8s-events watch`: exit 2 at the first connection, the reason on standard error and in
# watch_status, nothing stored.
tls_watch() { # tls_watch CLUSTER PATTERN WHAT ARGS...
	local cluster=$1 pattern=$2 what=$3 rc out status stored
	shift 3
	timeout 20 $K8S watch --cluster "$cluster" --token-file "$dir/token" -d postgres "$@" 2>"$dir/$cluster.log"
	rc=$?
	out=$(cat "$dir/$cluster.log")
	status=$(sql "SELECT state || ': ' || coalesce(last_error, '') FROM k8s_events.watch_status WHERE cluster = '$cluster'")
	stored=$(sql "SELECT (SELECT count(*) FROM k8s_events.events WHERE cluster = '$cluster')
	                   + (SELECT count(*) FROM k8s_events.rejected WHERE cluster = '$cluster')
	                   + (SELECT count(*) FROM k8s_events_internal.watch_checkpoints WHERE cluster = '$cluster')")
	test "$rc" = 2 && grep -q "k8s-events watch: cluster \"$cluster\": cannot reach the API server: SSL.*$pattern" <<<"$out" &&
		[[ "$status" == "failed: "*$pattern* ]] && test "$stored" = 0
	check "k8s-events watch, $what: exit $rc, the reason on standard error and in watch_status, nothing stored" $? \
		"$out
$status; rows, rejects and checkpoints: $stored"
}
tls_watch cli-wrong-ca "unable to get local issuer certificate" "a CA that did not sign the certificate" \
	--api-server "$(url good)" --ca-file "$tls/other-ca.pem"
tls_watch cli-expired "certificate has expired" "an expired certificate" \
	--api-server "$(url expired)" --ca-file "$tls/ca.pem"
tls_watch cli-elsewhere "no alternative certificate subject name matches target host name" "a certificate for another host" \
	--api-server "$(url elsewhere)" --ca-file "$tls/ca.pem"
tls_watch cli-default "unable to get local issuer certificate" "no --ca-file (verification is on by default)" \
	--api-server "$(url good)"

# --- 3. Credentials the API server refuses (a token and a client certificate of a
# kubeconfig, inline): the worker says 401, and neither reaches anything readable.
kube_token=$(new_secret)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/client.key" -out "$dir/client.pem" -days 1 \
	-subj "/CN=client" 2>/dev/null
register_key "$dir/client.key"
cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: c
clusters:
- name: c
  cluster:
    server: $(url good)
    certificate-authority-data: $(base64 -w0 "$tls/ca.pem")
users:
- name: u
  user:
    token: $kube_token
    client-certificate-data: $(base64 -w0 "$dir/client.pem")
    client-key-data: $(base64 -w0 "$dir/client.key")
contexts:
- name: c
  context: {cluster: c, user: u}
EOF
chmod 644 "$dir/kubeconfig"
q "SELECT k8s_events.add_cluster('refused', kubeconfig => :'k')" "k=$dir/kubeconfig" >/dev/null
wait_for 20 "SELECT coalesce((SELECT state = 'backoff' AND last_error LIKE 'HTTP 401 %' FROM k8s_events.watch_status WHERE cluster = 'refused'), false)"
check "a token the API server refuses: backoff, HTTP 401 in watch_status" $? \
	"$(sql "SELECT state, last_error FROM k8s_events.watch_status WHERE cluster = 'refused'")"
key_line=$(sed -n 5p "$dir/client.key")
for needle in "$kube_token" "$(cat "$dir/token")" "$key_line" "$(base64 -w0 "$dir/client.key" | cut -c 1-80)"; do
	as_reader=$(mention "$needle" k8s_security_reader)
	anywhere=$(mention "$needle")
	test "$(grep -c ': [1-9]' <<<"$as_reader")" = 0 && test "$(grep -c ': [1-9]' <<<"$anywhere")" = 0 &&
		grep -q "readable relations: [1-9]" <<<"$as_reader"
	check "credential ${needle:0:27}...: in nothing the reader can read ($(tail -1 <<<"$as_reader")), nor anywhere in the extension's schemas" $? \
		"reader: $as_reader
superuser: $anywhere"
done
sql "SELECT k8s_events.set_cluster_enabled('refused', false)" >/dev/null

# --- 4. Hostile names.
python3 tests/hostile.py events "$dir" "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
python3 tests/hostile.py names "$dir"
clusters=()
for i in 0 1 2 3; do clusters+=("$(cat "$dir/cluster-$i")"); done
hex() { printf "'%s', encode(convert_to(coalesce(%s::text, ''), 'UTF8'), 'hex')" "$1" "$1"; }
hex_sql="SELECT coalesce(json_agg(json_build_object('uid', uid::text, $(hex cluster), $(hex namespace),
           $(hex kind), $(hex name), $(hex reason), $(hex message), $(hex type), $(hex source_component),
           $(hex source_host), $(hex reporting_controller), $(hex reporting_instance), $(hex action),
           $(hex event))), '[]')
         FROM k8s_events.events WHERE cluster = :'c'"
rejects_sql="SELECT coalesce(json_agg(json_build_object($(hex error), $(hex payload))), '[]')
             FROM k8s_events.rejected WHERE cluster = :'c'"
# stored_exactly PATH CLUSTER [watch]: the rows equal the Events sent, byte for byte, and the
# rejects are exactly the expected ones, each with its reason as readable text.
stored_exactly() {
	local path=$1 c=$2 out rc
	shift 2
	q "$hex_sql" "c=$c" >"$dir/rows.json" 2>&1
	q "$rejects_sql" "c=$c" >"$dir/rejects.json" 2>&1
	out=$(python3 tests/hostile.py compare "$dir" "$dir/rows.json" "$c" "$@" 2>&1 &&
		python3 tests/hostile.py rejected "$dir" "$dir/rejects.json" "$path" 2>&1)
	rc=$?
	check "$path, cluster $(printf '%q' "$c"): every hostile value stored byte for byte, each bad Event rejected alone with its reason ($(tr '\n' ' ' <<<"$out"))" $rc \
		"$out
$(head -c 600 "$dir/rows.json")"
}
# notified OUTPUT CLUSTER ROWS: psql's output has a notification whose payload is JSON naming
# CLUSTER (exactly) and ROWS rows.
notified() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, re, sys
out, cluster, rows = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2], int(sys.argv[3])
got = [json.loads(m) for m in re.findall(r'notification "k8s_events" with payload "(.*)" received from server process', out)]
print(f"{len(got)} notifications, {sum(g['rows'] for g in got if g['cluster'] == cluster)} rows of the cluster")
sys.exit(0 if got and all(g["cluster"] == cluster for g in got) and sum(g["rows"] for g in got) == rows else 1)
PY
}

# ingest(): the Events (the too long ones among them), with NOTIFY details on.
c=${clusters[0]}
psql -X -q -d postgres -v "c=$c" >"$dir/ingest.out" 2>&1 <<EOF
LISTEN k8s_events;
\\set payload \`cat $dir/ingest.json\`
SELECT * FROM k8s_events.ingest_report(:'payload', :'c');
EOF
stored_exactly ingest "$c"
out=$(notified "$dir/ingest.out" "$c" 20)
check "ingest(): the NOTIFY payload is JSON that names the cluster exactly ($out)" $? "$(cat "$dir/ingest.out")"
before=$(sql "SELECT count(*) FROM k8s_events.events")
q "\\set payload \`cat $dir/nul.json\`
   SELECT k8s_events.ingest(:'payload', 'nul')" >"$dir/nul.out" 2>&1
after=$(sql "SELECT count(*) FROM k8s_events.events")
grep -q 'unsupported Unicode escape sequence' "$dir/nul.out" && grep -q 'u0000 cannot be converted to text' "$dir/nul.out" &&
	test "$before" = "$after"
check "ingest() of an Event with \\u0000: PostgreSQL's jsonb refuses it, saying why; nothing stored" $? "$(cat "$dir/nul.out")"

# k8s-events load, as a writer: one line a rejected item, the summary, no control byte.
c=${clusters[1]}
$K8S load --cluster "$c" -d "dbname=postgres user=k8s_security_writer" "$dir/dump.ndjson" >"$dir/load.out" 2>"$dir/load.log"
rc=$?
stored_exactly load "$c"
test "$rc" = 1 && grep -q "^read 26, stored 20, duplicate 0, rejected 6, skipped 0$" "$dir/load.log" &&
	test "$(wc -l <"$dir/load.log")" = 7 && ! grep -q -P '[\x00-\x09\x0b-\x1f\x7f]' "$dir/load.log"
check "k8s-events load: exit $rc, one line per rejected item and the summary, no control character" $? "$(cat -A "$dir/load.log" | cut -c 1-200)"

# The fake API server: a LIST with a NUL and a too long name among its Events, a WATCH with
# more of them and bytes that are not UTF-8.
python3 tests/hostile.py api "$dir" "$dir/api.port" >"$dir/api.log" 2>&1 &
api_pid=$!
bg_pids+=($api_pid)
for _ in $(seq 600); do [ -s "$dir/api.port" ] && break; sleep 0.05; done
api="http://127.0.0.1:$(cat "$dir/api.port")"

# k8s-events watch, as a writer.
c=${clusters[2]}
$K8S watch --cluster "$c" --api-server "$api" -d "dbname=postgres user=k8s_security_writer" 2>"$dir/watch.log" &
watch_pid=$!
bg_pids+=($watch_pid)
wait_for 20 "SELECT EXISTS (SELECT FROM k8s_events_internal.watch_checkpoints WHERE cluster = \$c\$$c\$c\$ AND resource_version = '3000')"
kill -TERM "$watch_pid"
wait "$watch_pid"
rc=$?
stored_exactly watch "$c" watch
out=$(q "SELECT state || ' ' || events_stored || ' ' || rejected FROM k8s_events.watch_status WHERE cluster = :'c'" "c=$c")
test "$rc" = 0 && test "$out" = "stopped 40 7" && ! grep -q -P '[\x00-\x09\x0b-\x1f\x7f]' "$dir/watch.log"
check "k8s-events watch: watch_status counts 40 stored, 7 rejected; its messages hold no control character ($out)" $? \
	"$(cat -A "$dir/watch.log")"

# The background worker, with a LISTEN session open while it stores.
c=${clusters[3]}
done_sql="EXISTS (SELECT FROM k8s_events_internal.watch_checkpoints WHERE cluster = E'line\\nbreak %s%n' AND resource_version = '3000')"
{
	echo "LISTEN k8s_events;"
	for _ in $(seq 100); do echo "SELECT CASE WHEN $done_sql THEN NULL ELSE pg_sleep(0.1) END;"; done
} | psql -X -q -At -d postgres >"$dir/listen.out" 2>&1 &
listen_pid=$!
sleep 0.3
q "SELECT k8s_events.add_cluster(:'c', api_server => :'a')" "c=$c" "a=$api" >/dev/null
wait_for 20 "SELECT $done_sql"
wait "$listen_pid"
stored_exactly worker "$c" watch
out=$(notified "$dir/listen.out" "$c" 40)
check "worker: the NOTIFY payloads are JSON that name the cluster exactly ($out)" $? "$(head -c 1000 "$dir/listen.out")"
out=$(q "SELECT state || ' ' || events_stored || ' ' || rejected FROM k8s_events.watch_status WHERE cluster = :'c'" "c=$c")
test "$out" = "watching 40 7"
check "worker: watch_status shows the cluster by its name, 40 stored, 7 rejected ($out)" $? "$out"

# An API server whose error body is hostile bytes: in watch_status and on standard error as
# readable text, on one line.
sql "SELECT k8s_events.add_cluster('failing', api_server => '$api/fail')" >/dev/null
wait_for 20 "SELECT coalesce((SELECT last_error LIKE 'HTTP 503 %' FROM k8s_events.watch_status WHERE cluster = 'failing'), false)"
# (a 503 is the server asking to be asked again: the program retries it, even at its first
# request, until stopped)
$K8S watch --cluster failing-cli --api-server "$api/fail" -d postgres 2>"$dir/failing.log" &
failing_pid=$!
bg_pids+=($failing_pid)
wait_for 20 "SELECT coalesce((SELECT last_error LIKE 'HTTP 503 %' FROM k8s_events.watch_status WHERE cluster = 'failing-cli'), false)"
kill -TERM "$failing_pid"
wait "$failing_pid"
rc=$?
q "SELECT encode(convert_to(last_error, 'UTF8'), 'hex') FROM k8s_events.watch_status WHERE cluster IN ('failing', 'failing-cli') ORDER BY cluster" >"$dir/failing.hex" 2>&1
out=$(python3 - "$dir/failing.hex" "$dir/failing.log" <<'PY'
import re, sys
errors = [bytes.fromhex(l.strip()).decode("utf-8") for l in open(sys.argv[1]) if l.strip()]
log = open(sys.argv[2], "rb").read().decode("utf-8")
bad = [e for e in errors + log.splitlines() if re.search(r"[\x00-\x1f\x7f-\x9f]", e)]
print(f"{len(errors)} statuses; {ascii(errors[0][:90]) if errors else ''}...")
sys.exit(0 if len(errors) == 2 and not bad and all("HTTP 503" in e for e in errors) and "not ok - forged" not in log.splitlines() else 1)
PY
)
rc2=$?
test "$rc" = 0 && test "$rc2" = 0
check "a hostile error body (escapes, newline, a cut emoji, a byte not UTF-8): readable text on one line in watch_status and on standard error ($out)" $? \
	"rc=$rc $out
$(cat "$dir/failing.hex" | head -c 600)
$(cat -A "$dir/failing.log" | head -c 600)"
sql "SELECT k8s_events.set_cluster_enabled('failing', false)" >/dev/null

# The partitions are named by their time only, and the SQL fragments ran nowhere.
out=$(sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE c.relname !~ '^events_[0-9]{8}(_[0-9]+)?\$')
           FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
           WHERE s.nspname = 'k8s_events_partitions' AND c.relkind = 'r'")
tables=$(sql "SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
              WHERE s.nspname = 'k8s_events' AND c.relname IN ('events', 'rejected', 'clusters')")
test "${out#* }" = 0 && test "${out% *}" -gt 0 && test "$tables" = 3
check "partitions are named by their time alone (${out% *} partitions), the SQL fragments ran nowhere" $? "$out $tables"

# serve (a reader) sends every name as JSON strings, byte for byte.
mkdir -p "$dir/page"
echo '<!doctype html><title>k8s_events</title>' >"$dir/page/index.html"
$K8S serve --listen 127.0.0.1:0 -d "host=$PGHOST port=$PGPORT user=k8s_security_reader dbname=postgres" \
	--dashboard "$dir/page" >"$dir/serve.out" 2>"$dir/serve.err" &
serve_pid=$!
bg_pids+=($serve_pid)
for _ in $(seq 300); do grep -q "dashboard at" "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
serve_url=$(grep -o 'http://[^ ]*' "$dir/serve.out" | head -1)
serve_ticks0=$(awk '{ print $14 + $15 }' "/proc/$serve_pid/stat" 2>/dev/null)
out=$(SERVE=${serve_url%/} python3 - "$dir" "${clusters[@]}" <<'PY'
import json, os, sys, urllib.error, urllib.parse, urllib.request
d, clusters = sys.argv[1], sys.argv[2:]
base = os.environ["SERVE"]
expect = json.load(open(os.path.join(d, "expect.json"), encoding="utf-8"))
want = {(e["involvedObject"]["namespace"], e["involvedObject"]["kind"], e["involvedObject"]["name"]) for e in expect["list"]}
def get(path, **params):
    try:
        with urllib.request.urlopen(base + path + "?" + urllib.parse.urlencode(params)) as r:
            return r.status, json.loads(r.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode("utf-8"))
problems = []
_, listed = get("/api/clusters")
if not set(clusters) <= {c["cluster"] for c in listed}:
    problems.append(f"/api/clusters: {[c['cluster'] for c in listed]}")
for c in clusters:
    status, body = get("/api/resources", cluster=c, **{"from": "now-1d", "limit": "500"})
    if any(ord(ch) < 32 for ch in c):
        # Control characters are refused as parameters (docs/dashboard.md), with a reason.
        if status != 400 or body.get("parameter") != "cluster":
            problems.append(f"{c!r}: {status} {body}")
        continue
    got = {(i["namespace"], i["kind"], i["name"]) for i in body.get("items", [])}
    if status != 200 or got != want:
        problems.append(f"{c!r}: {status}, {len(got)} resources, {len(got ^ want)} differ")
    # The filters' lists (kinds too: as parameters, serve takes a kind of letters and digits only).
    status, body = get("/api/filters", cluster=c, **{"from": "now-1d"})
    names = {ns for ns, _, _ in want}  # each Event has one value in every field
    lists = {"namespaces": set(body.get("namespaces", [])), "kinds": set(body.get("kinds", [])),
             "reasons": {r["reason"] for r in body.get("reasons", [])}} if status == 200 else {}
    if status != 200 or any(lists[k] != names for k in lists):
        problems.append(f"{c!r} /api/filters: {status} {({k: len(v ^ names) for k, v in lists.items()})}")
print(f"{len(clusters)} clusters, {len(want)} objects each; " + ("; ".join(problems) if problems else "all exact"))
sys.exit(1 if problems else 0)
PY
)
check "serve's JSON: the clusters, resources and filters by their hostile names, exactly; a name with a control character is refused as a parameter ($out)" $? "$out"
serve_cpu=$(awk -v t0="$serve_ticks0" -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15 - t0) / hz }' "/proc/$serve_pid/stat")
kill "$serve_pid"
awk -v c="$serve_cpu" 'BEGIN { exit !(c < 2) }'
check "serve's CPU for those requests: $serve_cpu s (budget 2 s)" $?

check_summaries postgres "every path with hostile names"

# --- 5. Cost: the workers of the clusters that fail (TLS, 401, 503) back off, and cost
# little while they do. CPU over 5 s, resident memory.
pids=$(sql "SELECT string_agg(pid::text, ' ') FROM k8s_events.watch_status
            WHERE cluster IN ('tls-wrong-ca', 'tls-expired', 'tls-elsewhere', 'tls-default') AND pid IS NOT NULL")
ticks() { local t=0 p; for p in $pids; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
t0=$(ticks)
sleep 5
t1=$(ticks)
cpu=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')
rss=$(for p in $pids; do awk '$1 == "RssAnon:" { print $2 }' "/proc/$p/status"; done | sort -n | tail -1)
test -n "$pids" && awk -v c="$cpu" 'BEGIN { exit !(c < 0.5) }' && test "${rss:-0}" -lt 30000
check "four workers refused by TLS: $cpu s of CPU in 5 s together (budget 0.5 s), at most ${rss:-?} kB anonymous memory each (budget 30,000 kB)" $? "pids=$pids"

[ "$failures" = 0 ]
