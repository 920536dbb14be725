#!/usr/bin/env bash
# tests/test_upgrade.sh - ALTER EXTENSION k8s_events UPDATE from 1.0 (the script kept in
# extension/versions/) to 1.1: a database made at 1.0 and filled through the write path keeps
# working with the new library before the update, and after it has the summaries of its rows
# and exactly the catalog of a fresh 1.1 install.
# Prints "ok - ..." / "not ok - ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
need_program
tmp=$(mktemp -d /tmp/test_upgrade.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
old=k8s_events_upgrade_old
before_rule=k8s_events_upgrade_oldrule
fresh=k8s_events_upgrade_fresh

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1; }
psql -X -q -d postgres -c "SET client_min_messages = warning" \
	-c "DROP DATABASE IF EXISTS $old" -c "DROP DATABASE IF EXISTS $before_rule" -c "DROP DATABASE IF EXISTS $fresh" \
	-c "CREATE DATABASE $old" -c "CREATE DATABASE $before_rule" -c "CREATE DATABASE $fresh" >/dev/null

"$BIN" generate --seed 31 --start now-3d --hours 60 --nodes 6 --cluster-version mixed >"$tmp/a.ndjson"
"$BIN" generate --seed 32 --start now-2d --hours 30 --nodes 4 >"$tmp/b.ndjson"

# ---------------------------------------------------------------- a 1.0 database
for db in $old $before_rule; do
	q "$db" "CREATE EXTENSION k8s_events VERSION '1.0'" >/dev/null
	"$BIN" load -q -d "$db" --cluster a "$tmp/a.ndjson" >/dev/null 2>&1
	q "$db" "SELECT k8s_events.ingest('[{\"kind\": \"Pod\"}]', 'a')" >/dev/null
	q "$db" "SELECT k8s_events.add_cluster('sim', api_server => 'http://127.0.0.1:1', enabled => false)" >/dev/null
done
out=$(q $old "SELECT extversion FROM pg_extension WHERE extname = 'k8s_events';
              SELECT to_regclass('k8s_events.resource_summary') IS NULL;
              SELECT count(*) > 1000 FROM k8s_events.events; SELECT count(*) FROM k8s_events.rejected")
test "$out" = "$(printf '1.0\nt\nt\n1')"
check "a 1.0 database (its own script, no summaries) is filled by the new library's load and ingest" $? "$out"

# Until it is updated, a 1.0 database keeps the watchers' tables in k8s_events. A schema of the
# 1.1 name that the extension did not make (a database owner could make one) is never used:
# its tables could run the owner's code as the superuser that writes them.
q $old "CREATE SCHEMA k8s_events_internal;
        CREATE TABLE k8s_events_internal.cluster_lock_keys (cluster text PRIMARY KEY, key bigint UNIQUE);
        CREATE FUNCTION k8s_events_internal.trap() RETURNS trigger LANGUAGE plpgsql
            AS \$\$ BEGIN RAISE EXCEPTION 'the decoy schema was used'; END \$\$;
        CREATE TRIGGER trap BEFORE INSERT ON k8s_events_internal.cluster_lock_keys
            FOR EACH ROW EXECUTE FUNCTION k8s_events_internal.trap()" >/dev/null
out=$(q $old "SELECT k8s_events.ingest(jsonb_build_object('kind', 'Event', 'metadata',
                  jsonb_build_object('uid', '0c0c0c0c-0000-4000-8000-000000000001', 'resourceVersion', '1'),
                  'lastTimestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')), 'decoy');
              SELECT count(*) FROM k8s_events.cluster_lock_keys WHERE cluster = 'decoy'" 2>&1)
test "$out" = "$(printf '1\n1')"
check "a 1.0 database ignores a k8s_events_internal schema the extension did not make" $? "$out"
q $old "DROP SCHEMA k8s_events_internal CASCADE" >/dev/null 2>&1

# A 1.0 installed before the cluster-name rule became one C function: the rule spelt out.
q $before_rule "ALTER TABLE k8s_events.clusters DROP CONSTRAINT clusters_name_valid;
                ALTER TABLE k8s_events.clusters ADD CONSTRAINT clusters_name_valid
                    CHECK (name <> '' AND pg_catalog.octet_length(name) <= 253);
                ALTER EXTENSION k8s_events DROP FUNCTION k8s_events.check_cluster_name(text);
                DROP FUNCTION k8s_events.check_cluster_name(text)" >/dev/null

# ---------------------------------------------------------------- the update
for db in $old $before_rule; do
	out=$(q "$db" "ALTER EXTENSION k8s_events UPDATE" 2>&1)
	v=$(q "$db" "SELECT extversion FROM pg_extension WHERE extname = 'k8s_events'")
	test "$v" = 1.1
	check "ALTER EXTENSION k8s_events UPDATE of $db goes to 1.1 ($v)" $? "$out"
	check_summaries "$db" "the update built them from the rows of $db"
done
out=$(q $old "SELECT (SELECT count(*) FROM k8s_events.resources)
                   = (SELECT count(*) FROM (SELECT DISTINCT cluster, namespace, kind, name FROM k8s_events.events) AS o),
                   (SELECT sum(normal + warning) FROM k8s_events.resources)
                   = (SELECT sum(occurrences) FILTER (WHERE type IN ('Normal', 'Warning')) FROM k8s_events.events)")
test "$out" = "t|t"
check "after the update, resources has every object and every occurrence" $? "$out"

# ---------------------------------------------------------------- the same catalog as a fresh 1.1
q $fresh "CREATE EXTENSION k8s_events" >/dev/null
catalog() {
	q "$1" "SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
	        WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	          AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'k8s_events') ORDER BY 1;
	        SELECT c.relname || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnum
	        FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid
	        WHERE c.relnamespace = 'k8s_events'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
	          AND c.relname !~ '^events_[0-9]' ORDER BY 1;
	        SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
	        WHERE connamespace = 'k8s_events'::regnamespace AND conrelid::regclass::text !~ 'events_[0-9]' ORDER BY 1;
	        SELECT indexrelid::regclass || ' ' || pg_get_indexdef(indexrelid) FROM pg_index AS i
	        JOIN pg_class AS c ON c.oid = i.indrelid
	        WHERE c.relnamespace = 'k8s_events'::regnamespace AND c.relname !~ '^events_[0-9]' ORDER BY 1;
	        SELECT p.oid::regprocedure || ' ' || md5(pg_get_functiondef(p.oid)) || ' ' || coalesce(p.proacl::text, '')
	        FROM pg_proc AS p WHERE p.pronamespace = 'k8s_events'::regnamespace ORDER BY 1;
	        SELECT relname || ' ' || coalesce(relacl::text, '') FROM pg_class
	        WHERE relnamespace = 'k8s_events'::regnamespace AND relname !~ '^events_[0-9]' ORDER BY 1;
	        SELECT c.relname || ' ' || x.extcondition FROM pg_extension AS e,
	               unnest(e.extconfig, e.extcondition) AS x(oid, extcondition) JOIN pg_class AS c ON c.oid = x.oid
	        WHERE e.extname = 'k8s_events' ORDER BY 1"
}
catalog $fresh >"$tmp/fresh"
for db in $old $before_rule; do
	catalog "$db" >"$tmp/$db"
	out=$(diff "$tmp/$db" "$tmp/fresh")
	test -z "$out" && test "$(wc -l <"$tmp/fresh")" -gt 100
	check "after the update $db has the objects, columns, constraints, indexes, functions and privileges of a fresh 1.1" $? "$out"
done

# ---------------------------------------------------------------- and goes on
"$BIN" load -q -d $old --cluster b "$tmp/b.ndjson" >/dev/null 2>&1
"$BIN" load -q -d $old --cluster a "$tmp/a.ndjson" >/dev/null 2>&1
check_summaries $old "loading after the update (a new cluster, and the old one's rows again)"
out=$(q $old "SELECT k8s_events.add_cluster('', api_server => 'http://127.0.0.1:1')" 2>&1)
echo "$out" | grep -q 'cluster name must not be empty'
check "the updated clusters table checks names with the one rule" $? "$out"

psql -X -q -d postgres -c "DROP DATABASE $old" -c "DROP DATABASE $before_rule" -c "DROP DATABASE $fresh" >/dev/null
[ "$failures" = 0 ]
