-- latest, resources, histogram(): what dashboards and BI tools read.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS k8s_events CASCADE;
CREATE EXTENSION k8s_events;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET k8s_events.retention = '0';

CREATE FUNCTION pg_temp.ev(uid text, rv text, cnt int, last_ts text, kind text, name text,
                           typ text, reason text, ns text DEFAULT 'shop')
RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object(
    'kind', 'Event',
    'metadata', jsonb_build_object('uid', uid, 'resourceVersion', rv, 'namespace', ns),
    'involvedObject', jsonb_build_object('kind', kind, 'namespace', ns, 'name', name),
    'reason', reason, 'message', reason || ' #' || cnt, 'type', typ,
    'firstTimestamp', '2026-05-04T09:00:00Z', 'lastTimestamp', last_ts, 'count', cnt)
$$;

-- web-1: a probe failing 3 times (one event, three observations), then Started.
-- db-0: one OOMKilling warning seen first at count 2.  node-1: NodeNotReady in another cluster.
SELECT k8s_events.ingest(jsonb_build_array(
  pg_temp.ev('e0000000-0000-4000-8000-000000000001', '10', 1, '2026-05-04T09:05:00Z', 'Pod', 'web-1', 'Warning', 'Unhealthy'),
  pg_temp.ev('e0000000-0000-4000-8000-000000000001', '11', 2, '2026-05-04T09:20:00Z', 'Pod', 'web-1', 'Warning', 'Unhealthy'),
  pg_temp.ev('e0000000-0000-4000-8000-000000000001', '12', 3, '2026-05-04T10:40:00Z', 'Pod', 'web-1', 'Warning', 'Unhealthy'),
  pg_temp.ev('e0000000-0000-4000-8000-000000000002', '13', 1, '2026-05-04T10:50:00Z', 'Pod', 'web-1', 'Normal', 'Started'),
  pg_temp.ev('e0000000-0000-4000-8000-000000000003', '14', 2, '2026-05-04T09:10:00Z', 'Pod', 'db-0', 'Warning', 'OOMKilling')), 'prod');
SELECT k8s_events.ingest(pg_temp.ev('e0000000-0000-4000-8000-000000000004', '15', 1, '2026-05-04T09:30:00Z',
                                    'Node', 'node-1', 'Normal', 'NodeNotReady', 'default'), 'edge');

-- latest: one row per event, its newest observation.
SELECT cluster, uid, name, reason, count, occurrences, event_time FROM k8s_events.latest ORDER BY cluster, uid;

-- resources: one row per involved object.
SELECT * FROM k8s_events.resources ORDER BY cluster, namespace, kind, name;

-- histogram: hourly, gap-filled, every bucket of [from, to) present.
SELECT * FROM k8s_events.histogram('2026-05-04 08:00', '2026-05-04 12:00', '1 hour');
-- Filters: NULL means any; named arguments read well.
SELECT * FROM k8s_events.histogram('2026-05-04 09:00', '2026-05-04 11:00', '30 minutes',
                                   cluster => 'prod', name => 'web-1', type => 'Warning');
SELECT * FROM k8s_events.histogram('2026-05-04 09:00', '2026-05-04 10:00', '1 hour', kind => 'Deployment');
-- A from that is not on a bucket boundary: the first bucket is the one containing it.
SELECT * FROM k8s_events.histogram('2026-05-04 09:15', '2026-05-04 10:45', '1 hour', namespace => 'shop');
-- Month buckets stay on the 1st whatever the session time zone.
SET timezone = 'America/New_York';
SELECT bucket_start AT TIME ZONE 'UTC' AS bucket_utc, type, reason, occurrences
FROM k8s_events.histogram('2026-03-01 00:00+00', '2026-07-01 00:00+00', '1 month');
SET timezone = 'UTC';
-- An empty or reversed range has no buckets.
SELECT count(*) FROM k8s_events.histogram('2026-05-04 10:00', '2026-05-04 10:00', '1 hour');
SELECT count(*) FROM k8s_events.histogram('2026-05-04 11:00', '2026-05-04 10:00', '1 hour');
-- Each histogram reads the smallest summary that answers it (histogram_source()), and
-- nothing else: what one call scanned, from the statistics of its own transaction. A
-- namespace-wide hourly one reads event_counts only; a cluster-wide one the hourly or
-- daily rollup; one object's the partitions of its range only, through the object index.
SELECT count(*) > 0 FROM k8s_events.create_partitions('2026-05-01', '2026-05-08');
SELECT k8s_events.histogram_source('2026-05-04 08:00', '2026-05-04 12:00', '1 hour', 'shop') AS namespace_hourly,
       k8s_events.histogram_source('2026-05-04 08:00', '2026-05-04 12:00', '1 hour') AS cluster_hourly,
       k8s_events.histogram_source('2026-05-01 00:00', '2026-05-08 00:00', '1 day') AS cluster_daily,
       k8s_events.histogram_source('2026-05-01 00:00', '2026-05-08 00:00', '1 day', 'shop') AS namespace_daily,
       k8s_events.histogram_source('2026-05-01 00:00', '2026-05-08 00:00', '1 day', 'shop', 'web-1') AS one_object;
-- The tables a statement scanned: this transaction's scan counts before and after it.
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
SELECT pg_temp.scanned_by($$SELECT * FROM k8s_events.histogram('2026-05-04 08:00', '2026-05-04 12:00', '1 hour', namespace => 'shop')$$) AS namespace_hourly;
SELECT pg_temp.scanned_by($$SELECT * FROM k8s_events.histogram('2026-05-04 08:00', '2026-05-04 12:00', '1 hour', cluster => 'prod')$$) AS cluster_hourly;
SELECT pg_temp.scanned_by($$SELECT * FROM k8s_events.histogram('2026-05-01 00:00', '2026-05-08 00:00', '1 day', kind => 'Pod')$$) AS kind_daily;
SELECT pg_temp.scanned_by($$SELECT * FROM k8s_events.histogram('2026-05-04 08:00', '2026-05-04 12:00', '1 hour', namespace => 'shop', kind => 'Pod', name => 'web-1')$$) AS one_object;
SELECT pg_temp.scanned_by($$SELECT * FROM k8s_events.histogram('2026-05-04 08:30', '2026-05-04 12:00', '1 hour', cluster => 'prod')$$) AS off_the_hour;
-- The same with a driver's parameters, which plan-time constant folding never sees.
PREPARE h(timestamptz, timestamptz, interval, text) AS
    SELECT * FROM k8s_events.histogram($1, $2, $3, namespace => $4);
SELECT pg_temp.scanned_by($$EXECUTE h('2026-05-04 08:00', '2026-05-04 12:00', '1 hour', 'shop')$$) AS prepared;
