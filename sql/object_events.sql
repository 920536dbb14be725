-- object_events(): one object's rows, newest first, read from only the partitions that hold
-- them; always the same rows as the plain query over k8s_events.events.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS k8s_events CASCADE;
CREATE EXTENSION k8s_events;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET k8s_events.retention = '0';

-- web-1 (namespace shop): 800 events over 40 days, five at each instant 6 hours apart, so
-- pages must break ties the same way every time.
-- node-1 (cluster-scoped: its events are stored in namespace default, as the API server
-- keeps them): 3 events over 3 weeks. db-0: one event.
-- Another cluster has a web-1 of its own, and shop has a Deployment named web-1.
CREATE FUNCTION pg_temp.ev(uid text, rv text, ts timestamptz, kind text, name text, ns text,
                           reason text DEFAULT 'Unhealthy')
RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object(
    'kind', 'Event',
    'metadata', jsonb_build_object('uid', uid, 'resourceVersion', rv, 'namespace', coalesce(ns, 'default')),
    'involvedObject', jsonb_build_object('kind', kind, 'namespace', ns, 'name', name),
    'reason', reason, 'message', reason || ' at ' || ts, 'type', 'Warning',
    'firstTimestamp', to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'lastTimestamp', to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'count', 1))
$$;
SELECT k8s_events.ingest(jsonb_agg(pg_temp.ev(
          pg_catalog.format('e0000000-0000-4000-8000-%s', lpad(i::text, 12, '0')), i::text,
          timestamptz '2026-03-01 00:00' + (i / 5) * interval '6 hours', 'Pod', 'web-1', 'shop')),
        'prod')
FROM generate_series(0, 799) AS i;
SELECT k8s_events.ingest(jsonb_build_array(
  pg_temp.ev('f0000000-0000-4000-8000-000000000001', '1', '2026-03-02 10:00', 'Node', 'node-1', NULL, 'NodeNotReady'),
  pg_temp.ev('f0000000-0000-4000-8000-000000000002', '2', '2026-03-12 10:00', 'Node', 'node-1', NULL, 'NodeNotReady'),
  pg_temp.ev('f0000000-0000-4000-8000-000000000003', '3', '2026-03-22 10:00', 'Node', 'node-1', NULL, 'NodeReady'),
  pg_temp.ev('f0000000-0000-4000-8000-000000000004', '4', '2026-03-05 10:00', 'Pod', 'db-0', 'shop'),
  pg_temp.ev('f0000000-0000-4000-8000-000000000005', '5', '2026-03-05 11:00', 'Deployment', 'web-1', 'shop', 'ScalingReplicaSet')),
  'prod');
SELECT k8s_events.ingest(pg_temp.ev('f0000000-0000-4000-8000-000000000006', '6', '2026-03-06 10:00', 'Pod', 'web-1', 'shop'),
        'staging');

-- The plain query it must equal: the same order (ties by uid, then resource_version).
CREATE FUNCTION pg_temp.plain(c text, ns text, k text, n text, from_time timestamptz, to_time timestamptz,
                              max_rows int, skip_rows int)
RETURNS SETOF k8s_events.events LANGUAGE sql AS $$
  SELECT * FROM k8s_events.events AS e
  WHERE e.cluster = c AND e.namespace IS NOT DISTINCT FROM ns AND e.kind IS NOT DISTINCT FROM k
    AND e.name IS NOT DISTINCT FROM n AND e.event_time >= from_time AND e.event_time < to_time
  ORDER BY e.event_time DESC, e.uid DESC, e.resource_version COLLATE "C" DESC
  LIMIT max_rows OFFSET skip_rows
$$;
CREATE FUNCTION pg_temp.same(c text, ns text, k text, n text, from_time timestamptz, to_time timestamptz,
                             max_rows int, skip_rows int)
RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN a IS NOT DISTINCT FROM b THEN 'same ' || coalesce(cardinality(a), 0) || ' rows'
              ELSE 'DIFFERENT: ' || coalesce(a::text, '{}') || ' vs ' || coalesce(b::text, '{}') END
  FROM (SELECT array_agg(e.resource_version ORDER BY o) AS a
        FROM k8s_events.object_events(c, ns, k, n, from_time, to_time, max_rows, skip_rows)
             WITH ORDINALITY AS e(cluster, uid, resource_version, event_time, first_time, namespace,
                                  kind, name, type, reason, message, count, occurrences,
                                  source_component, source_host, reporting_controller,
                                  reporting_instance, action, event, ingested_at, o)) AS x,
       (SELECT array_agg(p.resource_version ORDER BY o) AS b
        FROM pg_temp.plain(c, ns, k, n, from_time, to_time, max_rows, skip_rows)
             WITH ORDINALITY AS p(cluster, uid, resource_version, event_time, first_time, namespace,
                                  kind, name, type, reason, message, count, occurrences,
                                  source_component, source_host, reporting_controller,
                                  reporting_instance, action, event, ingested_at, o)) AS y
$$;

-- The newest 100 of web-1, and every page of it (ties broken the same way on both sides).
SELECT event_time, resource_version, reason
FROM k8s_events.object_events('prod', 'shop', 'Pod', 'web-1', max_rows => 6);
SELECT p AS page, pg_temp.same('prod', 'shop', 'Pod', 'web-1', '-infinity', 'infinity', 100, p * 100)
FROM generate_series(0, 8) AS p;
-- Page sizes that walk several windows back, and all of it at once.
SELECT n, pg_temp.same('prod', 'shop', 'Pod', 'web-1', '-infinity', 'infinity', n, 3)
FROM unnest(ARRAY[1, 4, 5, 19, 21, 60, 797, 1000]) AS n;
-- Ranges: inside, across, before and after the object's rows, empty and reversed.
SELECT f, t, pg_temp.same('prod', 'shop', 'Pod', 'web-1', f, t, 50, 0)
FROM (VALUES (timestamptz '2026-03-10', timestamptz '2026-03-12'),
             ('2026-03-10 06:00', '2026-03-10 06:00:00.000001'),
             ('-infinity', '2026-03-03'), ('2026-04-08', 'infinity'),
             ('2026-01-01', '2026-02-01'), ('2026-05-01', '2026-06-01'),
             ('2026-03-10', '2026-03-10'), ('2026-03-12', '2026-03-10')) AS r(f, t);
-- A cluster-scoped object, an object of one row, and objects that share a name with it in
-- another kind or cluster (never mixed in), and one that does not exist.
SELECT event_time, kind, name, namespace, reason
FROM k8s_events.object_events('prod', 'default', 'Node', 'node-1');
SELECT pg_temp.same('prod', 'default', 'Node', 'node-1', '-infinity', 'infinity', 2, 1);
SELECT event_time, kind, name FROM k8s_events.object_events('prod', 'shop', 'Pod', 'db-0');
SELECT cluster, kind, name, reason FROM k8s_events.object_events('prod', 'shop', 'Deployment', 'web-1');
SELECT cluster, kind, name, event_time FROM k8s_events.object_events('staging', 'shop', 'Pod', 'web-1');
SELECT count(*) FROM k8s_events.object_events('prod', 'shop', 'Pod', 'web-2');
SELECT count(*) FROM k8s_events.object_events('prod', NULL, 'Pod', 'web-1');
SELECT count(*) FROM k8s_events.object_events(NULL, 'shop', 'Pod', 'web-1');
SELECT count(*) FROM k8s_events.object_events('prod', 'shop', 'Pod', 'web-1', max_rows => 0);
-- A NULL bound is none, with or without a summary row.
SELECT pg_temp.same('prod', 'shop', 'Pod', 'web-1', '-infinity', '2026-03-03', 50, 0) AS before_3rd,
       (SELECT count(*) FROM k8s_events.object_events('prod', 'shop', 'Pod', 'web-1', NULL, '2026-03-03', 50)) AS null_from,
       (SELECT count(*) FROM k8s_events.object_events('prod', 'shop', 'Pod', 'web-1', '2026-04-08', NULL, 50)) AS null_to;

-- What it reads: the newest rows of web-1 come from the partitions of its last day or two,
-- not from the 40 its rows span (the scans of this transaction, before and after).
CREATE FUNCTION pg_temp.scanned_by(query text) RETURNS SETOF name LANGUAGE plpgsql AS $$
DECLARE
    before jsonb;
BEGIN
    SELECT coalesce(jsonb_object_agg(s.relname, s.seq_scan + coalesce(s.idx_scan, 0)), '{}')
    INTO before FROM pg_stat_xact_user_tables AS s WHERE s.schemaname LIKE 'k8s\_events%';
    EXECUTE query;
    RETURN QUERY
    SELECT s.relname FROM pg_stat_xact_user_tables AS s
    WHERE s.schemaname LIKE 'k8s\_events%'
      AND s.seq_scan + coalesce(s.idx_scan, 0) > coalesce((before ->> s.relname::text)::bigint, 0)
    ORDER BY 1;
END
$$;
SELECT (SELECT count(*) FROM k8s_events.partitions) AS partitions;
SELECT pg_temp.scanned_by($$SELECT * FROM k8s_events.object_events('prod', 'shop', 'Pod', 'web-1', max_rows => 5)$$)
    AS newest_five;
-- node-1's three rows, from the partitions of its windows back to its first event, with a
-- driver's parameters.
PREPARE newest(text, text, text, text) AS
    SELECT * FROM k8s_events.object_events($1, $2, $3, $4, max_rows => 5);
SELECT pg_temp.scanned_by($$EXECUTE newest('prod', 'default', 'Node', 'node-1')$$) AS node_prepared;

-- A summary out of date (rows deleted by hand, as only the owner can): the count of the
-- rows found disagrees with it, and the whole range is read, as the plain query would.
BEGIN;
DELETE FROM k8s_events.events WHERE cluster = 'prod' AND name = 'web-1' AND kind = 'Pod'
    AND event_time >= '2026-04-09';
SELECT pg_temp.same('prod', 'shop', 'Pod', 'web-1', '-infinity', 'infinity', 30, 0);
ROLLBACK;
-- Rows the summary has not seen (inserted by hand, around the write path): it bounds the
-- search, so an older row of node-1 is found once rebuild_summaries() has counted it (as
-- verify_summaries() would have reported). Rows of an object with no summary row at all,
-- here with no namespace, are read as the plain query reads them.
BEGIN;
SELECT count(*) FROM k8s_events.create_partitions('2026-01-15', '2026-01-16');
INSERT INTO k8s_events.events (cluster, uid, resource_version, event_time, first_time, namespace,
                               kind, name, type, reason, message, count, occurrences, event)
VALUES ('prod', 'f0000000-0000-4000-8000-0000000000ff', '99', '2026-01-15', '2026-01-15', 'default',
        'Node', 'node-1', 'Normal', 'Added', 'by hand', 1, 1, '{}'),
       ('prod', 'f0000000-0000-4000-8000-0000000000fe', '98', '2026-03-03', '2026-03-03', NULL,
        'Node', 'node-2', 'Normal', 'Added', 'by hand', 1, 1, '{}'),
       ('prod', 'f0000000-0000-4000-8000-0000000000fd', '97', '2026-03-04', '2026-03-04', NULL,
        'Node', 'node-2', 'Normal', 'Added', 'by hand', 1, 1, '{}');
SELECT summary, key FROM k8s_events.verify_summaries() WHERE summary = 'resource_summary' ORDER BY key;
SELECT pg_temp.same('prod', 'default', 'Node', 'node-1', '-infinity', 'infinity', 10, 0) AS before_rebuild;
SELECT k8s_events.rebuild_summaries();
SELECT pg_temp.same('prod', 'default', 'Node', 'node-1', '-infinity', 'infinity', 10, 0) AS rebuilt;
SELECT pg_temp.same('prod', NULL, 'Node', 'node-2', '-infinity', 'infinity', 10, 0) AS null_namespace;
DELETE FROM k8s_events.resource_summary WHERE name = 'node-2';
SELECT pg_temp.same('prod', NULL, 'Node', 'node-2', '-infinity', 'infinity', 10, 0);
SELECT event_time, namespace, name FROM k8s_events.object_events('prod', NULL, 'Node', 'node-2');
SELECT count(*) AS null_bounds FROM k8s_events.object_events('prod', NULL, 'Node', 'node-2', NULL, NULL);
ROLLBACK;

-- Bad arguments: a clear error, nothing read.
SELECT * FROM k8s_events.object_events('prod', 'shop', 'Pod', 'web-1', max_rows => -1);
SELECT * FROM k8s_events.object_events('prod', 'shop', 'Pod', 'web-1', skip_rows => -5);

-- Readers may call it (it reads as the caller: no more than they may SELECT).
SET ROLE k8s_events_reader;
SELECT count(*) FROM k8s_events.object_events('prod', 'shop', 'Pod', 'web-1', max_rows => 7);
RESET ROLE;
