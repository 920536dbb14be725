#!/usr/bin/env bash
# CREATE EXTENSION works without shared_preload_libraries, and settings written in
# postgresql.conf before the library loads take effect once it does.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
export K8S_EVENTS_PRELOAD=''
own_server nopreload 54338

out=$(psql -X -At -d postgres -c "SHOW shared_preload_libraries" 2>&1)
test -z "$out"
check "the server runs without shared_preload_libraries" $? "$out"

# A setting in postgresql.conf is a placeholder until the library loads.
echo "k8s_events.retention = '0'" >>"$dir/pg/data/postgresql.conf"
psql -X -q -d postgres -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5

out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d postgres 2>&1 <<'SQL'
CREATE EXTENSION k8s_events;
SELECT k8s_events.ingest('{"kind":"Event","metadata":{"uid":"0a0a0a0a-0000-4000-8000-000000000001","resourceVersion":"1"},"lastTimestamp":"2020-01-01T00:00:00Z"}', 'old');
SHOW k8s_events.retention;
SQL
)
test "$out" = "$(printf '1\n0')"
check "CREATE EXTENSION and ingest without preload; postgresql.conf's retention applies" $? "$out"

out=$(psql -X -At -d postgres -c "LOAD 'k8s_events'" -c "SET k8s_events.retension = '1 day'" 2>&1)
grep -q 'invalid configuration parameter name "k8s_events.retension"' <<<"$out"
check "a misspelt k8s_events.* setting is an error once the library is loaded" $? "$out"

out=$(psql -X -At -d postgres -c "DROP EXTENSION k8s_events" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'k8s_events'" 2>&1)
test "$(tail -1 <<<"$out")" = 0
check "DROP EXTENSION removes the schema, the table and its partitions" $? "$out"
