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
BEGIN;
INSERT INTO pg_temp.k8s_events_load (uid, resource_version, event_time, first_time, namespace,
  kind, name, reason, count, event, earliest)
VALUES ('f0000000-0000-4000-8000-000000000009', '9', now() - interval '1 hour',
  now() - interval '1 hour', 'shop', 'Pod', 'web-1', 'Pulled', 1, '{"kind": "Event"}',
  now() - interval '1 hour');
INSERT INTO pg_temp.k8s_events_load (error, payload) VALUES ('dump.json:7: not an Event', '42');
-- A first time after the event's time, or an infinite one, becomes the event's time, as the
-- decoder has it (retention and object_events() bound an object's rows by its first time).
INSERT INTO pg_temp.k8s_events_load (uid, resource_version, event_time, first_time, namespace,
  kind, name, reason, count, event, earliest)
VALUES ('f0000000-0000-4000-8000-00000000000a', '10', date_trunc('hour', now()) - interval '3 hours',
  now() + interval '2 days', 'shop', 'Pod', 'web-2', 'Pulled', 1, '{"kind": "Event"}',
  date_trunc('hour', now()) - interval '3 hours'),
       ('f0000000-0000-4000-8000-00000000000b', '11', date_trunc('hour', now()) - interval '2 hours',
  '-infinity', 'shop', 'Pod', 'web-2', 'Pulled', 1, '{"kind": "Event"}',
  date_trunc('hour', now()) - interval '2 hours');
SELECT received, stored, duplicates, rejected, expired FROM k8s_events.ingest_copied('prod');
COMMIT;
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
SELECT error, payload FROM k8s_events.rejected WHERE source = 'k8s-events load';
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

SET client_min_messages = warning;
DISCARD TEMP;
DROP ROLE k8s_alice;
DROP ROLE k8s_bob;
DROP ROLE k8s_mallory;
