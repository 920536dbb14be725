-- Roles: k8s_events_reader reads, k8s_events_writer also ingests; PUBLIC gets nothing.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS k8s_events CASCADE;
CREATE EXTENSION k8s_events;
DROP ROLE IF EXISTS k8s_alice;
DROP ROLE IF EXISTS k8s_bob;
DROP ROLE IF EXISTS k8s_mallory;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

CREATE ROLE k8s_alice LOGIN IN ROLE k8s_events_reader;
CREATE ROLE k8s_bob LOGIN IN ROLE k8s_events_writer;
CREATE ROLE k8s_mallory LOGIN;

-- What each role may do, as the catalog says.
SELECT r.rolname,
       has_schema_privilege(r.rolname, 'k8s_events', 'USAGE') AS schema_usage,
       has_table_privilege(r.rolname, 'k8s_events.events', 'SELECT') AS read_events,
       has_table_privilege(r.rolname, 'k8s_events.resources', 'SELECT') AS read_resources,
       has_table_privilege(r.rolname, 'k8s_events.events', 'INSERT') AS insert_events,
       has_table_privilege(r.rolname, 'k8s_events.events', 'UPDATE') AS update_events,
       has_table_privilege(r.rolname, 'k8s_events.events', 'DELETE') AS delete_events,
       has_function_privilege(r.rolname, 'k8s_events.ingest(jsonb, text)', 'EXECUTE') AS ingest,
       has_function_privilege(r.rolname, 'k8s_events.create_partitions(timestamptz, timestamptz)', 'EXECUTE') AS create_partitions,
       has_function_privilege(r.rolname, 'k8s_events.drop_partitions(interval)', 'EXECUTE') AS drop_partitions
FROM pg_roles r WHERE r.rolname IN ('k8s_alice', 'k8s_bob', 'k8s_mallory') ORDER BY 1;

-- Security definer functions pin their search_path.
SELECT p.proname, p.prosecdef, p.proconfig FROM pg_proc p
WHERE p.pronamespace = 'k8s_events'::regnamespace AND p.prosecdef ORDER BY 1, 3;

-- The writer stores events, and gets partitions made for it, without owning the table.
SET ROLE k8s_bob;
SELECT k8s_events.ingest(jsonb_build_object('kind', 'Event',
  'metadata', jsonb_build_object('uid', 'f0000000-0000-4000-8000-000000000001', 'resourceVersion', '1'),
  'involvedObject', jsonb_build_object('kind', 'Pod', 'namespace', 'shop', 'name', 'web-1'),
  'reason', 'Started', 'type', 'Normal', 'count', 1,
  'lastTimestamp', to_char(now() - interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), 'prod');
SELECT k8s_events.ingest('[1]', 'prod');
SELECT count(*) FROM k8s_events.rejected;
-- ...but cannot write rows any other way, change what is stored, drop partitions, or change retention.
SELECT * FROM k8s_events.drop_partitions('0');
INSERT INTO k8s_events.events (cluster, uid, resource_version, event_time, first_time, count, occurrences, event)
VALUES ('prod', 'f0000000-0000-4000-8000-000000000009', '9', now(), now(), 1, 1000, '{}');
INSERT INTO k8s_events.rejected (cluster, source, error, payload) VALUES ('x', 'x', 'x', 'x');
UPDATE k8s_events.events SET reason = 'Forged';
DELETE FROM k8s_events.events;
DO $$
BEGIN
  EXECUTE format('DROP TABLE %s', (SELECT partition FROM k8s_events.partitions LIMIT 1));
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'DROP TABLE of a partition refused (SQLSTATE %)', SQLSTATE;
END
$$;
SET k8s_events.retention = '0';
RESET ROLE;
SELECT count(*) AS partitions, bool_and(pg_get_userbyid(c.relowner) = current_user) AS owned_by_extension_owner
FROM k8s_events.partitions p JOIN pg_class c ON c.oid = p.partition;

-- Bulk loading (k8s-events load): the writer COPYs decoded rows into a temporary table of
-- its own session, and ingest_copied() stores them as the owner; it reads nothing else.
SET ROLE k8s_bob;
SELECT k8s_events.create_load_table();
-- An Event as a client sends it: its JSON, and the columns it decoded from it.
CREATE FUNCTION pg_temp.ev(uid text, rv text, name text, last_at timestamptz, first_at timestamptz)
RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('kind', 'Event', 'metadata', jsonb_build_object('uid', uid, 'resourceVersion', rv),
    'involvedObject', jsonb_build_object('kind', 'Pod', 'namespace', 'shop', 'name', name),
    'reason', 'Pulled', 'count', 1,
    'lastTimestamp', to_char(last_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'firstTimestamp', to_char(first_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
$$;
CREATE FUNCTION pg_temp.copy_row(uid text, rv text, name text, last_at timestamptz, first_at timestamptz)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO pg_temp.k8s_events_load (uid, resource_version, event_time, first_time, namespace,
    kind, name, reason, count, event, earliest)
  VALUES (uid::uuid, rv, last_at, least(first_at, last_at), 'shop', 'Pod', name, 'Pulled', 1,
    pg_temp.ev(uid, rv, name, last_at, first_at), least(first_at, last_at))
$$;
BEGIN;
SELECT pg_temp.copy_row('f0000000-0000-4000-8000-000000000009', '9', 'web-1',
  date_trunc('second', now()) - interval '1 hour', date_trunc('second', now()) - interval '1 hour');
INSERT INTO pg_temp.k8s_events_load (error, payload) VALUES ('dump.json:7: not an Event', '42');
-- A first time after the event's time becomes the event's time, as the decoder has it
-- (retention and object_events() bound an object's rows by its first time).
SELECT pg_temp.copy_row('f0000000-0000-4000-8000-00000000000a', '10', 'web-2',
  date_trunc('hour', now()) - interval '3 hours', date_trunc('hour', now()) + interval '2 days');
UPDATE pg_temp.k8s_events_load SET first_time = date_trunc('hour', now()) + interval '2 days'
WHERE resource_version = '10';
SELECT received, stored, duplicates, rejected, expired FROM k8s_events.ingest_copied('prod');
COMMIT;
-- The columns are hints: the server decodes every Event again, with ingest()'s decoder, and
-- rejects a row whose columns say anything else (it would pick the row's key, its partition,
-- and which stored rows count as its earlier observations). The forgeries of issue 13: two
-- rows of one uid and resourceVersion an hour and three days back whose Event has no time at
-- all; a time, a uid, an earliest time or a first time that are not the Event's.
BEGIN;
INSERT INTO pg_temp.k8s_events_load (uid, resource_version, event_time, first_time, count, event, earliest)
VALUES ('f0000000-0000-4000-8000-00000000000c', '12', now() - interval '1 hour', now() - interval '1 hour', 1,
        '{"kind": "Event", "metadata": {"uid": "f0000000-0000-4000-8000-00000000000c", "resourceVersion": "12"}}', NULL),
       ('f0000000-0000-4000-8000-00000000000c', '12', now() - interval '3 days', now() - interval '3 days', 1,
        '{"kind": "Event", "metadata": {"uid": "f0000000-0000-4000-8000-00000000000c", "resourceVersion": "12"}}', NULL);
SELECT pg_temp.copy_row('f0000000-0000-4000-8000-00000000000d', '13', 'web-3',
  date_trunc('second', now()) - interval '1 hour', date_trunc('second', now()) - interval '1 hour');
UPDATE pg_temp.k8s_events_load SET event_time = event_time - interval '3 days' WHERE resource_version = '13';
SELECT pg_temp.copy_row('f0000000-0000-4000-8000-00000000000e', '14', 'web-3',
  date_trunc('second', now()) - interval '1 hour', date_trunc('second', now()) - interval '1 hour');
UPDATE pg_temp.k8s_events_load SET uid = 'f0000000-0000-4000-8000-000000000009' WHERE resource_version = '14';
SELECT pg_temp.copy_row('f0000000-0000-4000-8000-00000000000f', '15', 'web-3',
  date_trunc('second', now()) - interval '1 hour', date_trunc('second', now()) - interval '1 hour');
UPDATE pg_temp.k8s_events_load SET earliest = 'infinity' WHERE resource_version = '15';
SELECT pg_temp.copy_row('f0000000-0000-4000-8000-000000000010', '16', 'web-3',
  date_trunc('second', now()) - interval '1 hour', date_trunc('second', now()) - interval '2 hours');
UPDATE pg_temp.k8s_events_load SET first_time = '-infinity' WHERE resource_version = '16';
SELECT pg_temp.copy_row('f0000000-0000-4000-8000-000000000011', '17', 'web-3',
  date_trunc('second', now()) - interval '1 hour', date_trunc('second', now()) - interval '1 hour');
UPDATE pg_temp.k8s_events_load SET reason = 'Killing' WHERE resource_version = '17';
SELECT received, stored, duplicates, rejected, expired FROM k8s_events.ingest_copied('prod');
COMMIT;
SELECT count(*) AS forged_rows_stored FROM k8s_events.events WHERE name IS NULL OR name = 'web-3';
SELECT count(*) AS rows_left FROM pg_temp.k8s_events_load;
-- Anything else under that name is refused: a view, or a table of other columns.
BEGIN;
DROP TABLE pg_temp.k8s_events_load;
CREATE TEMPORARY VIEW k8s_events_load AS SELECT 1 AS uid;
SELECT * FROM k8s_events.ingest_copied('prod');
ROLLBACK;
BEGIN;
DROP TABLE pg_temp.k8s_events_load;
CREATE TEMPORARY TABLE k8s_events_load (uid uuid, secret text);
SELECT * FROM k8s_events.ingest_copied('prod');
ROLLBACK;
RESET ROLE;
SELECT error, CASE WHEN payload LIKE '{%' THEN 'the event of resourceVersion ' || (payload::jsonb #>> '{metadata,resourceVersion}')
                   ELSE payload END AS payload
FROM k8s_events.rejected WHERE source = 'k8s-events load' ORDER BY id;
SELECT name, resource_version, first_time = event_time AS first_is_event_time
FROM k8s_events.events WHERE name = 'web-2' ORDER BY event_time;
SELECT s.first_event_time = min(e.event_time) AS first_is_the_oldest_event_time
FROM k8s_events.resource_summary AS s JOIN k8s_events.events AS e ON e.name = s.name
WHERE s.name = 'web-2' GROUP BY s.first_event_time;

-- The reader reads, and cannot write.
SET ROLE k8s_alice;
SELECT cluster, name, reason FROM k8s_events.events;
SELECT name, normal, warning FROM k8s_events.resources;
SELECT k8s_events.time_bucket('1 hour', '2026-06-01 10:17+00'::timestamptz);
SELECT k8s_events.ingest('{}', 'prod');
SELECT k8s_events.create_load_table();
SELECT * FROM k8s_events.ingest_copied('prod');
INSERT INTO k8s_events.rejected (cluster, source, error, payload) VALUES ('x', 'x', 'x', 'x');
SELECT * FROM k8s_events.create_partitions('2026-07-01', '2026-07-02');
RESET ROLE;

-- Anyone else sees nothing at all.
SET ROLE k8s_mallory;
SELECT count(*) FROM k8s_events.events;
SELECT k8s_events.event_time('{}');
SELECT k8s_events.ingest('{}', 'prod');
RESET ROLE;

-- Only a superuser (the extension owner) names the files the background worker reads with
-- the server's rights (token, CA, client certificate and key, kubeconfig): not the writer,
-- not the reader, not a role with CREATEROLE, not even the database's owner.
CREATE ROLE k8s_owner LOGIN CREATEROLE;
SELECT current_database() AS db \gset
ALTER DATABASE :"db" OWNER TO k8s_owner;
SELECT r.rolname,
       has_table_privilege(r.rolname, 'k8s_events.clusters', 'INSERT') AS insert_clusters,
       has_table_privilege(r.rolname, 'k8s_events.clusters', 'UPDATE') AS update_clusters,
       has_column_privilege(r.rolname, 'k8s_events.clusters', 'token_file', 'SELECT') AS see_token_file,
       has_table_privilege(r.rolname, 'k8s_events_internal.watch_checkpoints', 'UPDATE') AS forge_checkpoints
FROM pg_roles r WHERE r.rolname IN ('k8s_alice', 'k8s_bob', 'k8s_mallory', 'k8s_owner') ORDER BY 1;
SET ROLE k8s_owner;
SELECT k8s_events.add_cluster('files', api_server => 'https://127.0.0.1:6443', token_file => '/etc/passwd');
SELECT k8s_events.add_cluster('files', kubeconfig => '/var/lib/postgresql/.pgpass');
UPDATE k8s_events.clusters SET ca_file = '/etc/shadow';
ALTER TABLE k8s_events.clusters DISABLE TRIGGER ALL;
GRANT INSERT ON k8s_events.clusters TO k8s_owner;
RESET ROLE;
SET ROLE k8s_bob;
SELECT k8s_events.add_cluster('files', api_server => 'https://127.0.0.1:6443', client_key_file => '/etc/ssl/private/x.key');
RESET ROLE;
SELECT count(*) AS clusters FROM k8s_events.clusters;
ALTER DATABASE :"db" OWNER TO CURRENT_USER;

SET client_min_messages = warning;
DISCARD TEMP;
DROP ROLE k8s_owner;
DROP ROLE k8s_alice;
DROP ROLE k8s_bob;
DROP ROLE k8s_mallory;
