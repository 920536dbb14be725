-- Everything the reader role (k8s_events_reader) can reach, enumerated from the catalog:
-- every relation and function of the extension's schemas and every member of the
-- extension, so that an object added later shows up here (and changes this output)
-- whether or not its author thought of the roles. privileges.sql has the writer's
-- forgeries and who may name the worker's files; this file is the reader's whole reach.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS k8s_events CASCADE;
CREATE EXTENSION k8s_events;
DROP ROLE IF EXISTS k8s_reach_reader;
RESET client_min_messages;
SET timezone = 'UTC';
CREATE ROLE k8s_reach_reader LOGIN IN ROLE k8s_events_reader;

-- Something in every table: a day of events (so partitions exist), a reject, a watched
-- cluster whose every file path holds a marker, and an external watcher's status.
SELECT k8s_events.ingest(jsonb_build_object('kind', 'Event',
  'metadata', jsonb_build_object('uid', 'f0000000-0000-4000-8000-0000000000a1', 'resourceVersion', '1'),
  'involvedObject', jsonb_build_object('kind', 'Pod', 'namespace', 'shop', 'name', 'web-1'),
  'reason', 'Pulled', 'type', 'Normal', 'count', 1,
  'message', 'Successfully pulled image "registry.example.com/shop/web:1.0"',
  'lastTimestamp', to_char(now() - interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), 'prod') AS stored;
SELECT k8s_events.ingest('[1]', 'prod') AS stored;
SELECT k8s_events.add_cluster('secretive', api_server => 'https://127.0.0.1:9/secret-marker-url',
  token_file => '/secret-marker/token', ca_file => '/secret-marker/ca.crt',
  client_cert_file => '/secret-marker/client.crt', client_key_file => '/secret-marker/client.key');
SELECT k8s_events.add_cluster('secretive-kc', kubeconfig => '/secret-marker/kubeconfig',
  context => 'secret-marker-context', namespace => 'secret-marker-ns');
SELECT k8s_events.watch_begin('external', 'a client');
SELECT k8s_events.watch_set_state('external', 'backoff', 'an error', 0, 0);

-- The extension's objects: its members, and whatever lies in its schemas (partitions are
-- made later, by ingest; they are not members).
CREATE TEMPORARY VIEW reach_objects AS
SELECT c.oid AS objid, 'pg_class'::regclass AS classid, n.nspname, c.relname::text AS name,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
                      WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table'
                      WHEN 'i' THEN 'index' WHEN 'I' THEN 'partitioned index' WHEN 'c' THEN 'type'
                      ELSE c.relkind::text END AS kind,
       c.relispartition AS is_partition
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('k8s_events', 'k8s_events_internal', 'k8s_events_partitions')
   OR EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
              AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
              AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'k8s_events'))
UNION ALL
SELECT p.oid, 'pg_proc'::regclass, n.nspname, p.oid::regprocedure::text,
       CASE p.prokind WHEN 'f' THEN 'function' WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                      ELSE 'window' END, false
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname IN ('k8s_events', 'k8s_events_internal', 'k8s_events_partitions')
   OR EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
              AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
              AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'k8s_events'));

-- The schemas: the reader may look up names in two of them, create in none.
SELECT n.nspname, has_schema_privilege('k8s_events_reader', n.oid, 'USAGE') AS usage,
       has_schema_privilege('k8s_events_reader', n.oid, 'CREATE') AS "create"
FROM pg_namespace n WHERE n.nspname LIKE 'k8s\_events%' ORDER BY 1;

-- Every relation and what the reader may do with it. Anything but SELECT would let it
-- change what every chart shows; clusters (file paths) and the workers' own tables it
-- may not read. Partitions are read through k8s_events.events, so one line for them all.
SELECT nspname, shown AS name, kind,
       concat_ws(',', CASE WHEN bool_and(has_table_privilege('k8s_events_reader', objid, 'SELECT')) THEN 'SELECT' END,
                      CASE WHEN bool_or(has_any_column_privilege('k8s_events_reader', objid, 'SELECT'))
                            AND NOT bool_and(has_table_privilege('k8s_events_reader', objid, 'SELECT')) THEN 'SELECT (some)' END,
                      CASE WHEN bool_or(has_any_column_privilege('k8s_events_reader', objid, 'INSERT,UPDATE,REFERENCES'))
                             OR bool_or(has_table_privilege('k8s_events_reader', objid, 'INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER'))
                           THEN 'WRITE' END) AS reader
FROM (SELECT *, CASE WHEN is_partition THEN 'events_* (the partitions)' ELSE name END AS shown FROM reach_objects) AS o
WHERE classid = 'pg_class'::regclass AND kind NOT IN ('index', 'partitioned index', 'type')
GROUP BY nspname, shown, kind
ORDER BY 1, 2;

-- Every function and procedure, whether it runs as its owner, and who may call it. A
-- reader may call only functions that read; a function PUBLIC may call is reachable by
-- the reader wherever its schema is.
SELECT name, kind, p.prosecdef AS secdef, p.provolatile AS vol,
       has_function_privilege('k8s_events_reader', objid, 'EXECUTE') AS reader,
       has_function_privilege('k8s_events_writer', objid, 'EXECUTE') AS writer
FROM reach_objects JOIN pg_proc p ON p.oid = objid
WHERE classid = 'pg_proc'::regclass
ORDER BY 1;

-- Proved, not only looked up: as the reader, every function it may not execute refuses
-- with insufficient_privilege, and every table refuses INSERT, UPDATE, DELETE, TRUNCATE,
-- ALTER and DROP, partitions included. Anything that does not refuse is listed. (Arguments
-- are subqueries: a strict function of NULL constants is folded away before any check.)
CREATE TEMPORARY TABLE reach_refused (what text, outcome text);
GRANT INSERT ON reach_refused TO k8s_reach_reader;
CREATE FUNCTION pg_temp.try(what text, stmt text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    EXECUTE stmt;
    INSERT INTO pg_temp.reach_refused VALUES (what, 'ran');
  EXCEPTION
    WHEN insufficient_privilege THEN
      INSERT INTO pg_temp.reach_refused VALUES (what, 'refused');
    WHEN OTHERS THEN
      INSERT INTO pg_temp.reach_refused VALUES (what, 'failed otherwise: ' || SQLERRM);
  END;
END
$$;
CREATE TEMPORARY TABLE reach_statements AS
SELECT name AS what,
       format('SELECT %s.%I(%s)', quote_ident(nspname), p.proname,
              (SELECT string_agg('(SELECT NULL::' || format_type(t, NULL) || ')', ', ')
               FROM unnest(p.proargtypes::oid[]) AS t)) AS stmt
FROM reach_objects JOIN pg_proc p ON p.oid = objid
WHERE classid = 'pg_proc'::regclass AND p.prokind = 'f'
  AND NOT has_function_privilege('k8s_events_reader', objid, 'EXECUTE')
UNION ALL
SELECT nspname || '.' || name || ' ' || op,
       format(sql, nspname, name, (SELECT min(attname) FROM pg_attribute WHERE attrelid = objid AND attnum > 0
                                  AND NOT attisdropped AND attidentity = '' AND attgenerated = ''))
FROM reach_objects,
     (VALUES ('INSERT', 'INSERT INTO %I.%I DEFAULT VALUES'), ('UPDATE', 'UPDATE %I.%I SET %3$I = %3$I'),
             ('DELETE', 'DELETE FROM %I.%I'), ('TRUNCATE', 'TRUNCATE %I.%I'),
             ('DROP', 'DROP TABLE %I.%I'), ('ALTER', 'ALTER TABLE %I.%I ADD COLUMN forged int')) AS ops(op, sql)
WHERE classid = 'pg_class'::regclass AND kind IN ('table', 'partitioned table')
UNION ALL
SELECT 'DETACH a partition',
       format('ALTER TABLE k8s_events.events DETACH PARTITION k8s_events_partitions.%I', min(name))
FROM reach_objects WHERE is_partition;
GRANT SELECT ON reach_statements TO k8s_reach_reader;
SET ROLE k8s_reach_reader;
SELECT count(pg_temp.try(what, stmt)) AS tried FROM pg_temp.reach_statements;
RESET ROLE;
SELECT count(*) AS statements, count(*) FILTER (WHERE outcome = 'refused') AS refused FROM reach_refused;
SELECT what, outcome FROM reach_refused WHERE outcome <> 'refused' ORDER BY 1;
-- Nothing changed:
SELECT count(*) AS events, (SELECT count(*) FROM k8s_events.clusters) AS clusters,
       (SELECT count(*) FROM k8s_events.partitions) > 0 AS partitions
FROM k8s_events.events;

-- Credentials: whatever the reader can read (every relation it may SELECT, every function
-- of no arguments it may call) holds none of the clusters' settings: no file path, no
-- server URL, no context or namespace of a kubeconfig. The files' contents never reach the
-- database at all (tests/test_security.sh greps what the worker stores and reports).
CREATE FUNCTION pg_temp.holds_marker(stmt text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s) AS t WHERE t::text LIKE ''%%secret-marker%%''', stmt) INTO n;
  RETURN n;
END
$$;
CREATE TEMPORARY TABLE reach_reads AS
SELECT nspname || '.' || name AS what, format('SELECT * FROM %I.%I', nspname, name) AS stmt
FROM reach_objects
WHERE classid = 'pg_class'::regclass AND kind IN ('table', 'partitioned table', 'view', 'materialized view')
  AND has_table_privilege('k8s_events_reader', objid, 'SELECT')
UNION ALL
SELECT name, format('SELECT * FROM %I.%I()', nspname, p.proname)
FROM reach_objects JOIN pg_proc p ON p.oid = objid
WHERE classid = 'pg_proc'::regclass AND p.prokind = 'f' AND p.pronargs = 0
  AND p.prorettype <> 'trigger'::regtype AND has_function_privilege('k8s_events_reader', objid, 'EXECUTE');
GRANT SELECT ON reach_reads TO k8s_reach_reader;
SET ROLE k8s_reach_reader;
SELECT what, pg_temp.holds_marker(stmt) AS rows_with_a_setting FROM pg_temp.reach_reads ORDER BY 1;
-- The reader sees that the clusters exist, and how they are doing; not how they are reached.
SELECT cluster, state, watcher FROM k8s_events.watch_status ORDER BY 1;
SELECT name FROM k8s_events.clusters;
SELECT k8s_events.add_cluster('mine', api_server => 'https://127.0.0.1:1');
SELECT k8s_events.set_cluster_enabled('secretive', false);
SELECT k8s_events.remove_cluster('secretive');
UPDATE k8s_events.clusters SET token_file = '/etc/passwd';
SELECT * FROM k8s_events.drop_partitions();
SELECT * FROM k8s_events.ingest_copied('prod');
RESET ROLE;
SELECT name, enabled, token_file FROM k8s_events.clusters ORDER BY 1;

SET client_min_messages = warning;
DISCARD TEMP;
SELECT k8s_events.remove_cluster('secretive');
SELECT k8s_events.remove_cluster('secretive-kc');
DROP EXTENSION k8s_events CASCADE;
DROP ROLE k8s_reach_reader;
