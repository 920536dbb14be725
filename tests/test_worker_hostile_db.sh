#!/usr/bin/env bash
# The background workers in a database whose owner is hostile. The launcher and the watchers
# connect to k8s_events.database as the bootstrap superuser, and connecting applies what the
# database's owner set with ALTER DATABASE ... SET. A non-superuser owner must not be able to
# make them run code of theirs (a search_path that puts their schema first, with their own
# now(), =, count(*), text, ...), nor stop them storing batches (a default isolation level,
# read-only default, timeouts, role or session_authorization of theirs).
#
#   1. the SQL the extension's C code runs is schema-qualified throughout (a static check);
#   2. a hostile search_path and objects: nothing of theirs runs, the owner stays what it
#      is, and the watcher stores exactly what it is served (row writer and INSERT path);
#   3. hostile session defaults: the workers still list, watch and store.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
check_detail_lines=40

# --- 1. Static: every SQL text in extension/*.c qualified, every SQL function safe.
out=$(python3 tests/check_sql_qualified.py 2>&1)
check "the extension's SQL is schema-qualified, operators included (tests/check_sql_qualified.py)" $? "$out"

export K8S_EVENTS_DATABASE=k8s
own_server worker_hostile 54361

# The test's own queries run in database k8s as postgres, with settings of their own: the
# database's settings below are meant for the workers, and must not reach these.
test_options="-c search_path=pg_catalog -c default_transaction_read_only=off"
test_options+=" -c default_transaction_isolation=read\\ committed -c default_transaction_deferrable=off"
test_options+=" -c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0"
test_options+=" -c idle_session_timeout=0 -c session_authorization=postgres -c role=none"
test_options+=" -c exit_on_error=off -c standard_conforming_strings=on -c transform_null_equals=off"
test_options+=" -c DateStyle=ISO -c IntervalStyle=postgres -c TimeZone=UTC"
# sql QUERY (lib.sh's, here in database k8s): wait_for, caught_up and exact use it too.
sql() { PGOPTIONS=$test_options psql -X -q -At -d k8s -c "$1"; }
# owner SQL...: as the database's owner, with the database's settings (one session).
owner() {
	local args=()
	for q in "$@"; do args+=(-c "$q"); done
	psql -X -q -At -v ON_ERROR_STOP=1 -U dbowner -d k8s "${args[@]}"
}
restart() {
	tests/pg_server.sh stop "$dir/pg"
	eval "$(tests/pg_server.sh start "$dir/pg")"
}
log_lines() { wc -l <"$dir/pg/server.log"; }
# What the hostile objects did since log line $1 (as the workers, or anyone): trace rows
# (kept when the transaction commits) and WARNING lines (kept whatever it did).
hostile_ran() {
	{
		sql "SELECT what || ' as ' || who FROM public.trace ORDER BY at"
		tail -n +"$(($1 + 1))" "$dir/pg/server.log" | grep 'k8s_hostile'
	} | head -20
}
superuser_owner() { sql "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = 'dbowner'"; }

psql -X -q -d postgres -c "CREATE ROLE dbowner LOGIN" -c "CREATE DATABASE k8s OWNER dbowner"
sql "SET client_min_messages = warning; CREATE EXTENSION k8s_events" >/dev/null
# The launcher (retried every 10 s until k8s exists) makes partitions once the extension is
# there. Dropped again below, so that the partitions ahead prove maintenance ran after the
# restart, in the hostile database.
wait_for 40 "SELECT count(*) >= 1 FROM k8s_events.partitions WHERE range_to > pg_catalog.now() + interval '1 day'"
check "the launcher maintains partitions in database k8s" $?
sql "DO \$\$DECLARE p regclass; BEGIN FOR p IN SELECT partition FROM k8s_events.partitions LOOP EXECUTE 'DROP TABLE ' || p; END LOOP; END\$\$" >/dev/null

# --- 2. A hostile search_path, and objects of the owner's in public shadowing pg_catalog's.
# Each leaves a trace and, run by a superuser, makes its owner one; each returns what the
# pg_catalog original would, so that nothing else changes.
psql -X -q -v ON_ERROR_STOP=1 -U dbowner -d k8s >"$dir/plant.log" 2>&1 <<'SQL'
SET client_min_messages = error;
CREATE TABLE public.trace (at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    what text NOT NULL, who name NOT NULL);
CREATE FUNCTION public.hostile(what pg_catalog.text) RETURNS pg_catalog.bool
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE WARNING 'k8s_hostile: % ran as %', what, current_user;
    INSERT INTO public.trace (what, who) VALUES (what, current_user);
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = current_user AND rolsuper) THEN
        ALTER ROLE dbowner SUPERUSER;
    END IF;
    RETURN true;
END $$;

CREATE FUNCTION public.now() RETURNS pg_catalog.timestamptz
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN PERFORM public.hostile('now()'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION public.md5(pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN PERFORM public.hostile('md5(text)'); RETURN pg_catalog.md5($1); END $$;
CREATE FUNCTION public.hashtext(pg_catalog.text) RETURNS pg_catalog.int4
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN PERFORM public.hostile('hashtext(text)'); RETURN pg_catalog.hashtext($1); END $$;
CREATE FUNCTION public.unnest(anyarray) RETURNS SETOF anyelement
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN PERFORM public.hostile('unnest(anyarray)'); RETURN QUERY SELECT pg_catalog.unnest($1); END $$;

CREATE FUNCTION public.hostile_count(pg_catalog.int8) RETURNS pg_catalog.int8
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN PERFORM public.hostile('count(*)'); RETURN $1 + 1; END $$;
CREATE AGGREGATE public.count(*) (SFUNC = public.hostile_count, STYPE = pg_catalog.int8,
    INITCOND = '0');

-- Operators: hostile(NAME) then the original's function.
CREATE FUNCTION public.hostile_op(name pg_catalog.text, fn pg_catalog.text, lt pg_catalog.text,
    rt pg_catalog.text, op pg_catalog.text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
    EXECUTE format('CREATE FUNCTION public.%I(a %s, b %s) RETURNS %s LANGUAGE plpgsql VOLATILE '
                   'SET search_path = pg_catalog, pg_temp AS $$ BEGIN PERFORM public.hostile(%L); '
                   'RETURN pg_catalog.%I(a, b); END $$',
                   name, lt, rt, (SELECT o.oprresult::regtype FROM pg_operator AS o
                                  WHERE o.oprname = op AND o.oprleft = lt::regtype
                                    AND o.oprright = rt::regtype),
                   op || '(' || lt || ',' || rt || ')', fn);
    EXECUTE format('CREATE OPERATOR public.%s (FUNCTION = public.%I, LEFTARG = %s, RIGHTARG = %s)',
                   op, name, lt, rt);
END $f$;
SELECT public.hostile_op('h_texteq', 'texteq', 'pg_catalog.text', 'pg_catalog.text', '=');
SELECT public.hostile_op('h_textne', 'textne', 'pg_catalog.text', 'pg_catalog.text', '<>');
SELECT public.hostile_op('h_textcat', 'textcat', 'pg_catalog.text', 'pg_catalog.text', '||');
SELECT public.hostile_op('h_uuideq', 'uuid_eq', 'pg_catalog.uuid', 'pg_catalog.uuid', '=');
SELECT public.hostile_op('h_int4eq', 'int4eq', 'pg_catalog.int4', 'pg_catalog.int4', '=');
SELECT public.hostile_op('h_int8eq', 'int8eq', 'pg_catalog.int8', 'pg_catalog.int8', '=');
SELECT public.hostile_op('h_oideq', 'oideq', 'pg_catalog.oid', 'pg_catalog.oid', '=');
SELECT public.hostile_op('h_int8pl', 'int8pl', 'pg_catalog.int8', 'pg_catalog.int8', '+');
SELECT public.hostile_op('h_int84gt', 'int84gt', 'pg_catalog.int8', 'pg_catalog.int4', '>');
SELECT public.hostile_op('h_tspl', 'timestamptz_pl_interval', 'pg_catalog.timestamptz',
    'pg_catalog.interval', '+');
SELECT public.hostile_op('h_tsge', 'timestamptz_ge', 'pg_catalog.timestamptz',
    'pg_catalog.timestamptz', '>=');
SELECT public.hostile_op('h_tslt', 'timestamptz_lt', 'pg_catalog.timestamptz',
    'pg_catalog.timestamptz', '<');

-- Types named without a schema: a domain of the owner's, whose check runs their code.
CREATE DOMAIN public.text AS pg_catalog.text CHECK (public.hostile('text domain'));
CREATE DOMAIN public.uuid AS pg_catalog.uuid CHECK (public.hostile('uuid domain'));
CREATE DOMAIN public.int4 AS pg_catalog.int4 CHECK (public.hostile('int4 domain'));
CREATE DOMAIN public.int8 AS pg_catalog.int8 CHECK (public.hostile('int8 domain'));
CREATE DOMAIN public.jsonb AS pg_catalog.jsonb CHECK (public.hostile('jsonb domain'));
CREATE DOMAIN public.timestamptz AS pg_catalog.timestamptz
    CHECK (public.hostile('timestamptz domain'));

ALTER DATABASE k8s SET search_path = public, pg_catalog;
SQL
check "the owner plants a search_path and objects of theirs" $? "$(cat "$dir/plant.log")"

# They work: the owner's own session (with the database's search_path) runs each of them.
owner "SET client_min_messages = error" \
	"SELECT now()" "SELECT md5('x')" "SELECT hashtext('x')" "SELECT unnest(ARRAY[1])" \
	"SELECT count(*) FROM pg_class" \
	"SELECT a = b, a <> b, a || b FROM (VALUES ('x'::pg_catalog.text, 'y'::pg_catalog.text)) AS v(a, b)" \
	"SELECT gen_random_uuid() = gen_random_uuid()" "SELECT 1::pg_catalog.int4 = 2" \
	"SELECT 1::pg_catalog.int8 = 2::pg_catalog.int8, 1::pg_catalog.int8 + 2::pg_catalog.int8, 1::pg_catalog.int8 > 0" \
	"SELECT 'pg_class'::regclass::oid = 'pg_class'::regclass::oid" \
	"SELECT pg_catalog.now() + interval '1 day', pg_catalog.now() >= pg_catalog.now(), pg_catalog.now() < pg_catalog.now()" \
	"SELECT 'x'::text, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 1::int4, 1::int8, '{}'::jsonb, pg_catalog.now()::timestamptz" \
	>/dev/null 2>"$dir/owner.err"
ran=$(sql "SELECT count(DISTINCT what) FROM public.trace WHERE who = 'dbowner'")
test "$ran" = 23
check "the owner's session runs all 23 planted objects instead of pg_catalog's ($ran)" $? \
	"$(sql "SELECT DISTINCT what FROM public.trace"; cat "$dir/owner.err")"
sql "DELETE FROM public.trace" >/dev/null

# The workers connect anew, with the database's settings: what they do from here is watched.
start_sim a --speed 0 --initial-events 600 --seed 21 --bookmark-interval 1
mark=$(log_lines)
restart
sql "SELECT k8s_events.add_cluster('a', api_server => 'http://127.0.0.1:$a_port')" >/dev/null
caught_up a "$a_port"
check "hostile search_path: the watcher lists and watches (checkpoint reaches the simulator's)" $?
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'a'" >"$dir/base_a.txt"
list_rv=$(sim_stat "$a_port" resource_version)
rows=$(wc -l <"$dir/base_a.txt")
alive=$(sim_stat "$a_port" events_alive)
test "$rows" = "$alive" && test "$rows" = 600
check "hostile search_path: the initial list is stored ($rows rows for $alive Events)" $?
sim_advance "$a_port" 900
caught_up a "$a_port"
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
check "hostile search_path: watched batches stored exactly ($out)" $? "$out"

ahead=$(sql "SELECT count(*) FROM k8s_events.partitions WHERE range_to > pg_catalog.now() + interval '1 day'")
test "$ahead" -ge 1
check "hostile search_path: the launcher's maintenance made the partitions ahead ($ahead)" $?

# The INSERT path (a table with triggers): the same, through the SQL of ingest.c.
# The trigger notes who the watcher runs as, for part 3.
sql "CREATE SCHEMA guard;
     CREATE TABLE guard.inserts (at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
         who text NOT NULL DEFAULT session_user || ' ' || current_user);
     CREATE FUNCTION guard.note_insert() RETURNS trigger LANGUAGE plpgsql
         SET search_path = pg_catalog, pg_temp
         AS \$\$BEGIN INSERT INTO guard.inserts DEFAULT VALUES; RETURN NULL; END\$\$;
     CREATE TRIGGER guard_note AFTER INSERT ON k8s_events.events
         FOR EACH STATEMENT EXECUTE FUNCTION guard.note_insert()" >/dev/null
sim_advance "$a_port" 900
caught_up a "$a_port"
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
rc=$?
inserts=$(sql "SELECT count(*) FROM guard.inserts")
test "$rc" = 0 && test "$inserts" -ge 1
check "hostile search_path, table with a trigger: INSERTed ($inserts statements), stored exactly ($out)" $? "$out"

out=$(hostile_ran "$mark")
test -z "$out"
check "hostile search_path: none of the owner's objects ran" $? "$out"
su=$(superuser_owner)
test "$su" = f
check "hostile search_path: the owner is still not a superuser (rolsuper=$su)" $?
state=$(sql "SELECT state || ' ' || coalesce(last_error, '-') FROM k8s_events.watch_status WHERE cluster = 'a'")
test "$state" = "watching -"
check "hostile search_path: watch_status watching, no error ($state)" $? \
	"$(tail -n +"$((mark + 1))" "$dir/pg/server.log" | grep -v k8s_hostile | tail -15)"

# --- 3. Session defaults of the owner's that would stop a batch, or change who runs it.
# Afresh: what part 2 left (a trace, or an owner made superuser) is not counted again.
sql "DELETE FROM public.trace; DELETE FROM guard.inserts; ALTER ROLE dbowner NOSUPERUSER" >/dev/null
owner "ALTER DATABASE k8s RESET ALL" \
	"ALTER DATABASE k8s SET default_transaction_isolation = 'repeatable read'" \
	"ALTER DATABASE k8s SET default_transaction_read_only = on" \
	"ALTER DATABASE k8s SET default_transaction_deferrable = on" \
	"ALTER DATABASE k8s SET statement_timeout = '1ms'" \
	"ALTER DATABASE k8s SET lock_timeout = '1ms'" \
	"ALTER DATABASE k8s SET idle_in_transaction_session_timeout = '1ms'" \
	"ALTER DATABASE k8s SET idle_session_timeout = '1ms'" \
	"ALTER DATABASE k8s SET role = 'dbowner'" \
	"ALTER DATABASE k8s SET session_authorization = 'dbowner'" \
	"ALTER DATABASE k8s SET exit_on_error = on" \
	"ALTER DATABASE k8s SET standard_conforming_strings = off" \
	"ALTER DATABASE k8s SET transform_null_equals = on" \
	"ALTER DATABASE k8s SET DateStyle = 'SQL, DMY'" \
	"ALTER DATABASE k8s SET IntervalStyle = 'sql_standard'" \
	"ALTER DATABASE k8s SET array_nulls = off" \
	"ALTER DATABASE k8s SET gin_fuzzy_search_limit = 1" \
	"ALTER DATABASE k8s SET bytea_output = escape" >"$dir/settings.log" 2>&1
check "the owner sets the database's session defaults" $? "$(cat "$dir/settings.log")"
settings=$(sql "SELECT pg_catalog.array_to_string(setconfig, ', ') FROM pg_catalog.pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = 'k8s')")

start_sim b --speed 0 --initial-events 300 --seed 22 --bookmark-interval 1
mark=$(log_lines)
restart
sim_advance "$a_port" 900
caught_up a "$a_port"
out=$(exact a "$a_port" "$dir/base_a.txt" "$list_rv")
check "hostile defaults: the watcher resumes and stores exactly ($out)" $? "$out
$settings"
sql "SELECT k8s_events.add_cluster('b', api_server => 'http://127.0.0.1:$b_port')" >/dev/null
caught_up b "$b_port"
rc=$?
rows=$(sql "SELECT count(*) FROM k8s_events.events WHERE cluster = 'b'")
test "$rc" = 0 && test "$rows" = 300
check "hostile defaults: a new cluster is listed and watched ($rows of 300 rows)" $?
sim_advance "$b_port" 600
sim_advance "$a_port" 600
caught_up b "$b_port" && caught_up a "$a_port"
rc=$?
out=$(exact_served b "$b_port")
rc2=$?
test "$rc" = 0 && test "$rc2" = 0
check "hostile defaults: both watch on, the new one stores exactly what it was served ($out)" $? "$out"
state=$(sql "SELECT string_agg(cluster || ' ' || state || ' ' || coalesce(last_error, '-'), '; ' ORDER BY cluster) FROM k8s_events.watch_status")
test "$state" = "a watching -; b watching -"
check "hostile defaults: watch_status watching, no error ($state)" $? \
	"$(tail -n +"$((mark + 1))" "$dir/pg/server.log" | tail -15)"
# The trigger of part 2 is still there: the watcher's INSERTs say who ran them.
who=$(sql "SELECT string_agg(DISTINCT who, ', ') FROM guard.inserts")
test "$who" = "postgres postgres"
check "hostile defaults: the watcher stores as the bootstrap superuser (session and current user: ${who:-none seen})" $?
out=$(hostile_ran "$mark")
su=$(superuser_owner)
test -z "$out" && test "$su" = f
check "hostile defaults: nothing of the owner's ran, the owner is not a superuser (rolsuper=$su)" $? "$out"

PGOPTIONS=$test_options check_summaries k8s "a watcher under a hostile owner's settings and objects"

[ "$failures" = 0 ]
