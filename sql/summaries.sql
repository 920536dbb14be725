-- resource_summary and event_counts: kept by the write path, equal to a recomputation from
-- the rows after every kind of write (verify_summaries() returns no row), whatever order
-- observations arrive in.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS k8s_events CASCADE;
CREATE EXTENSION k8s_events;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET k8s_events.retention = '0';

-- 400 observations of 60 events about 25 objects (one with no namespace, one Event with no
-- reason) over three days: each event seen at counts 1..n, some types Normal, some Warning,
-- reported from three nodes.
CREATE TEMP TABLE obs AS
SELECT i,
       jsonb_strip_nulls(jsonb_build_object(
         'kind', 'Event',
         'metadata', jsonb_build_object(
             'uid', 'e0000000-0000-4000-8000-' || lpad((i % 60)::text, 12, '0'),
             'resourceVersion', (1000 + i)::text,
             'namespace', CASE WHEN i % 60 % 25 = 7 THEN NULL ELSE 'ns' || (i % 60 % 25 % 3) END),
         'involvedObject', jsonb_build_object(
             'kind', CASE WHEN i % 60 % 25 < 20 THEN 'Pod' ELSE 'Node' END,
             'namespace', CASE WHEN i % 60 % 25 = 7 THEN NULL ELSE 'ns' || (i % 60 % 25 % 3) END,
             'name', 'obj-' || (i % 60 % 25)),
         'reason', CASE WHEN i % 60 = 13 THEN NULL ELSE (ARRAY['BackOff', 'Pulled', 'Unhealthy', 'Started'])[1 + i % 60 % 4] END,
         'message', 'message of observation ' || i,
         -- resource_summary.nodes: most observations name the node that reported them, of
         -- three, so that an object has several, and retention takes some away.
         'source', jsonb_build_object('component', 'kubelet',
                                      'host', CASE WHEN i % 7 = 3 THEN NULL ELSE 'node-' || (i % 3) END),
         'type', CASE WHEN i % 60 % 4 IN (0, 2) THEN 'Warning' ELSE 'Normal' END,
         'firstTimestamp', to_char(timestamptz '2026-05-04 09:00:00+00' + (i % 60) * interval '7 minutes',
                                   'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         'lastTimestamp', to_char(timestamptz '2026-05-04 09:00:00+00' + (i % 60) * interval '7 minutes'
                                  + (i / 60) * interval '11 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         'count', 1 + i / 60)) AS event
FROM generate_series(0, 399) AS i;

-- In order, in batches of 7 (the write path aggregates per batch).
SET k8s_events.batch_size = 7;
SELECT stored FROM k8s_events.ingest_report((SELECT jsonb_agg(event ORDER BY i) FROM obs), 'in_order');
-- Newest first, in batches of 3.
SET k8s_events.batch_size = 3;
SELECT stored FROM k8s_events.ingest_report((SELECT jsonb_agg(event ORDER BY i DESC) FROM obs), 'reversed');
RESET k8s_events.batch_size;
-- Shuffled, one call per observation.
SELECT sum((k8s_events.ingest_report(event, 'shuffled')).stored) FROM (SELECT event FROM obs ORDER BY md5(i::text)) AS o;

-- An object seen on the first day only, for retention below.
SELECT k8s_events.ingest((SELECT event FROM obs WHERE i = 0), 'short_lived');
SELECT count(*) AS differences FROM k8s_events.verify_summaries();
SELECT count(*) AS objects, count(*) FILTER (WHERE namespace IS NULL) AS without_namespace
FROM k8s_events.resource_summary WHERE cluster = 'in_order';

-- The same summary whatever the order: the clusters differ in nothing but their name.
SELECT c.cluster, count(*) AS differing_rows
FROM (SELECT DISTINCT cluster FROM k8s_events.resource_summary) AS c,
     LATERAL ((SELECT namespace, kind, name, normal, warning, observations, first_event_time,
                      last_event_time, last_count, last_uid, last_resource_version, last_type,
                      last_reason, last_message, reasons, nodes
               FROM k8s_events.resource_summary WHERE cluster = c.cluster
               EXCEPT
               SELECT namespace, kind, name, normal, warning, observations, first_event_time,
                      last_event_time, last_count, last_uid, last_resource_version, last_type,
                      last_reason, last_message, reasons, nodes
               FROM k8s_events.resource_summary WHERE cluster = 'in_order')) AS d
GROUP BY c.cluster ORDER BY 1;

-- A few objects as the resources view shows them.
SELECT namespace, kind, name, normal, warning, observations, first_event_time, last_event_time,
       last_type, last_reason, reasons
FROM k8s_events.resources WHERE cluster = 'in_order' AND name IN ('obj-0', 'obj-7', 'obj-13', 'obj-22')
ORDER BY name;
-- The nodes that reported each object's observations, as many as the rows say.
SELECT s.name, s.nodes,
       (SELECT jsonb_object_agg(h.source_host, h.n) FROM
          (SELECT e.source_host, count(*) AS n FROM k8s_events.events AS e
           WHERE e.cluster = s.cluster AND e.name = s.name AND e.source_host IS NOT NULL
           GROUP BY 1) AS h) AS from_rows
FROM k8s_events.resources AS s WHERE s.cluster = 'in_order' AND s.name IN ('obj-0', 'obj-7', 'obj-13')
ORDER BY s.name;

-- The same rows again store nothing and change nothing.
CREATE TEMP TABLE before AS SELECT * FROM k8s_events.resource_summary;
CREATE TEMP TABLE counts_before AS SELECT * FROM k8s_events.event_counts;
SELECT stored, duplicates FROM k8s_events.ingest_report((SELECT jsonb_agg(event) FROM obs), 'in_order');
SELECT count(*) AS changed FROM (SELECT * FROM k8s_events.resource_summary EXCEPT SELECT * FROM before) AS x;
SELECT count(*) AS changed FROM (SELECT * FROM k8s_events.event_counts EXCEPT SELECT * FROM counts_before) AS x;

-- A rolled-back batch leaves the summaries as they were.
BEGIN;
SELECT stored FROM k8s_events.ingest_report((SELECT jsonb_agg(event) FROM obs), 'rolled_back');
SELECT count(*) > 0 AS summarised FROM k8s_events.resource_summary WHERE cluster = 'rolled_back';
ROLLBACK;
SELECT count(*) AS rows_of_rolled_back FROM k8s_events.resource_summary WHERE cluster = 'rolled_back';
SELECT count(*) AS differences FROM k8s_events.verify_summaries();

-- With a trigger on the table, rows go in through an INSERT statement: the summaries take
-- what the trigger made of them.
CREATE FUNCTION pg_temp.shout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.message := upper(NEW.message);
    RETURN NEW;
END
$$;
CREATE TRIGGER shout BEFORE INSERT ON k8s_events.events FOR EACH ROW EXECUTE FUNCTION pg_temp.shout();
SELECT stored FROM k8s_events.ingest_report((SELECT jsonb_agg(event) FROM obs), 'triggered');
DROP TRIGGER shout ON k8s_events.events;
SELECT last_message FROM k8s_events.resource_summary WHERE cluster = 'triggered' AND name = 'obj-0';
SELECT count(*) AS differences FROM k8s_events.verify_summaries();

-- verify_summaries() sees a summary that is wrong, and rebuild_summaries() mends it.
UPDATE k8s_events.resource_summary SET warning = warning + 1, reasons = '{}'
WHERE cluster = 'in_order' AND name = 'obj-0';
DELETE FROM k8s_events.event_counts WHERE cluster = 'reversed' AND reason = 'Pulled';
UPDATE k8s_events_internal.counts_by_day SET occurrences = occurrences + 1
WHERE cluster = 'shuffled' AND reason = 'BackOff';
SELECT summary, count(*) AS differences, count(*) FILTER (WHERE stored IS NULL) AS missing
FROM k8s_events.verify_summaries() GROUP BY 1 ORDER BY 1;
SELECT key ->> 'name' AS name, stored -> 'warning' AS stored_warning,
       recomputed -> 'warning' AS recomputed_warning, recomputed -> 'reasons' AS recomputed_reasons
FROM k8s_events.verify_summaries() WHERE summary = 'resource_summary';
SELECT * FROM k8s_events.rebuild_summaries();
SELECT count(*) AS differences FROM k8s_events.verify_summaries();

-- histogram() answers whole-hour buckets over an hour-aligned range from event_counts, and
-- the numbers are the rows' own.
CREATE FUNCTION pg_temp.raw_histogram(from_time timestamptz, to_time timestamptz, bucket interval,
                                      cl text, ns text, kd text, ty text, nm text DEFAULT NULL)
RETURNS TABLE (bucket_start timestamptz, type text, reason text, occurrences bigint)
LANGUAGE sql AS $$
    SELECT k8s_events.time_bucket(bucket, e.event_time), e.type, e.reason, sum(e.occurrences)
    FROM k8s_events.events AS e
    WHERE e.event_time >= from_time AND e.event_time < to_time
      AND (cl IS NULL OR e.cluster = cl) AND (ns IS NULL OR e.namespace = ns)
      AND (kd IS NULL OR e.kind = kd) AND (ty IS NULL OR e.type = ty)
      AND (nm IS NULL OR e.name = nm)
    GROUP BY 1, 2, 3
$$;
SELECT k8s_events.histogram_source('2026-05-04 00:00', '2026-05-08 00:00', '1 hour') AS hourly,
       k8s_events.histogram_source('2026-05-04 00:00', '2026-05-08 00:00', '1 hour', 'ns1') AS hourly_ns,
       k8s_events.histogram_source('2026-05-04 00:00', '2026-05-08 00:00', '1 day') AS daily,
       k8s_events.histogram_source('2026-05-04 00:00', '2026-05-08 00:00', '1 day', 'ns1') AS daily_ns,
       k8s_events.histogram_source('2026-05-04 00:00', '2026-05-08 01:00', '1 day') AS daily_off_midnight,
       k8s_events.histogram_source('2026-05-01 00:00', '2026-06-01 00:00', '1 month') AS monthly,
       k8s_events.histogram_source('2026-05-04 00:00', '2026-05-08 00:00', '36 hours') AS hours_36,
       k8s_events.histogram_source('2026-05-04 00:00', '2026-05-08 00:00', '30 minutes') AS half_hours,
       k8s_events.histogram_source('2026-05-04 00:30', '2026-05-08 00:00', '1 hour') AS off_the_hour,
       k8s_events.histogram_source('2026-05-04 00:00', '2026-05-08 00:00', '1 hour', NULL, 'obj-1') AS one_object,
       k8s_events.histogram_source('-infinity', '2026-05-08 00:00', '1 hour') AS unbounded;
SELECT args.bucket, args.cl, args.ns, args.kd, args.ty,
       (SELECT count(*) FROM ((SELECT * FROM k8s_events.histogram(args.f, args.t, args.bucket, args.cl, args.ns, args.kd, NULL, args.ty)
                               WHERE occurrences > 0
                               EXCEPT SELECT * FROM pg_temp.raw_histogram(args.f, args.t, args.bucket, args.cl, args.ns, args.kd, args.ty))
                              UNION ALL
                              (SELECT * FROM pg_temp.raw_histogram(args.f, args.t, args.bucket, args.cl, args.ns, args.kd, args.ty)
                               EXCEPT SELECT * FROM k8s_events.histogram(args.f, args.t, args.bucket, args.cl, args.ns, args.kd, NULL, args.ty))) AS d) AS differences
FROM (VALUES (timestamptz '2026-05-04 00:00', timestamptz '2026-05-08 00:00', interval '1 hour', NULL, NULL, NULL, NULL),
             ('2026-05-04 00:00', '2026-05-08 00:00', '1 hour', 'shuffled', 'ns1', NULL, NULL),
             ('2026-05-04 00:00', '2026-05-08 00:00', '3 hours', 'reversed', NULL, 'Node', 'Warning'),
             ('2026-05-04 10:00', '2026-05-05 13:00', '1 day', 'in_order', 'ns2', 'Pod', NULL),
             ('2026-05-01 00:00', '2026-06-01 00:00', '1 month', NULL, NULL, NULL, 'Normal'),
             ('2026-05-04 09:30', '2026-05-05 13:15', '15 minutes', 'in_order', NULL, NULL, NULL),
             ('2026-05-03 00:00', '2026-05-09 00:00', '1 day', NULL, NULL, NULL, NULL),
             ('2026-05-03 00:00', '2026-05-09 00:00', '1 day', 'shuffled', NULL, 'Pod', 'Warning'),
             ('2026-04-27 00:00', '2026-05-11 00:00', '7 days', 'reversed', NULL, NULL, NULL),
             ('2026-05-04 00:00', '2026-05-07 00:00', '36 hours', NULL, NULL, 'Node', NULL),
             ('2026-05-04 06:00', '2026-05-05 18:00', '2 hours', 'in_order', NULL, 'Pod', NULL))
     AS args(f, t, bucket, cl, ns, kd, ty)
ORDER BY 1, 2;
-- And in order, gap-filled: every bucket once (an empty one as one row with NULL type and
-- reason), by bucket, type, reason, whichever summary answers (one cluster's are read bucket
-- by bucket, every cluster's in one pass).
CREATE FUNCTION pg_temp.raw_filled(f timestamptz, t timestamptz, bucket interval,
                                   cl text, ns text, kd text, ty text, nm text DEFAULT NULL)
RETURNS TABLE (bucket_start timestamptz, type text, reason text, occurrences bigint)
LANGUAGE sql AS $$
    SELECT b.bucket_start, r.type, r.reason, coalesce(r.occurrences, 0)
    FROM (SELECT timezone('UTC', g) AS bucket_start
          FROM generate_series(timezone('UTC', k8s_events.time_bucket(bucket, f)),
                               timezone('UTC', k8s_events.time_bucket(bucket, t - interval '1 microsecond')),
                               bucket) AS g) AS b
    LEFT JOIN pg_temp.raw_histogram(f, t, bucket, cl, ns, kd, ty, nm) AS r USING (bucket_start)
    ORDER BY 1, 2, 3
$$;
SELECT args.bucket, args.cl, args.ns, args.kd, args.ty,
       k8s_events.histogram_source(args.f, args.t, args.bucket, args.ns) AS source,
       (SELECT count(*) FROM k8s_events.histogram(args.f, args.t, args.bucket, args.cl, args.ns, args.kd, NULL, args.ty)) AS rows,
       (SELECT array_agg(ROW(h.bucket_start, h.type, h.reason, h.occurrences) ORDER BY h.n)
        FROM k8s_events.histogram(args.f, args.t, args.bucket, args.cl, args.ns, args.kd, NULL, args.ty)
             WITH ORDINALITY AS h(bucket_start, type, reason, occurrences, n))
       IS NOT DISTINCT FROM
       (SELECT array_agg(ROW(r.bucket_start, r.type, r.reason, r.occurrences) ORDER BY r.n)
        FROM pg_temp.raw_filled(args.f, args.t, args.bucket, args.cl, args.ns, args.kd, args.ty)
             WITH ORDINALITY AS r(bucket_start, type, reason, occurrences, n)) AS same_rows_in_order
FROM (VALUES (timestamptz '2026-05-04 00:00', timestamptz '2026-05-08 00:00', interval '1 hour', NULL, NULL, NULL, NULL),
             ('2026-05-04 00:00', '2026-05-08 00:00', '1 hour', 'shuffled', NULL, NULL, NULL),
             ('2026-05-04 00:00', '2026-05-08 00:00', '1 hour', 'shuffled', 'ns1', NULL, NULL),
             ('2026-05-04 03:00', '2026-05-07 22:00', '6 hours', 'reversed', NULL, NULL, NULL),
             ('2026-05-04 00:00', '2026-05-08 00:00', '3 hours', 'reversed', NULL, 'Node', 'Warning'),
             ('2026-05-04 05:00', '2026-05-06 07:00', '4 hours', 'in_order', 'ns2', NULL, NULL),
             ('2026-05-01 00:00', '2026-06-01 00:00', '1 month', 'in_order', NULL, NULL, NULL),
             ('2026-04-15 00:00', '2026-05-06 00:00', '1 month', 'shuffled', NULL, NULL, 'Normal'),
             ('2026-05-03 00:00', '2026-05-09 00:00', '1 day', 'in_order', NULL, NULL, NULL),
             ('2026-05-03 00:00', '2026-05-09 00:00', '1 day', 'shuffled', NULL, 'Pod', 'Warning'),
             ('2026-04-27 00:00', '2026-05-11 00:00', '7 days', 'reversed', NULL, NULL, NULL),
             ('2026-05-04 00:00', '2026-05-07 00:00', '36 hours', 'in_order', NULL, 'Node', NULL),
             ('2026-05-04 06:00', '2026-05-05 18:00', '2 hours', 'nowhere', NULL, NULL, NULL),
             -- Whole days of a range on the hour, off midnight: its whole days from
             -- counts_by_day, the hours at its ends from counts_by_hour.
             ('2026-05-03 05:00', '2026-05-08 17:00', '1 day', 'shuffled', NULL, NULL, NULL),
             ('2026-05-03 05:00', '2026-05-08 17:00', '1 day', NULL, NULL, 'Pod', 'Warning'),
             ('2026-05-02 13:00', '2026-05-10 07:00', '7 days', 'reversed', NULL, NULL, NULL),
             ('2026-05-04 05:00', '2026-05-05 03:00', '1 day', 'in_order', NULL, NULL, NULL),
             ('2026-05-05 00:00', '2026-05-06 03:00', '1 day', 'in_order', NULL, NULL, NULL))
     AS args(f, t, bucket, cl, ns, kd, ty)
ORDER BY 1, 2, 3, 4, 5;

-- One object, its namespace, kind and name given, over a finite range: read through a plan
-- kept for the session (object_histogram()), the same rows in the same order as its raw
-- rows gap-filled (raw_filled() of its name), each call (the second with the kept plan). An
-- object with no namespace is asked with namespace NULL (any), and goes histogram()'s general
-- way.
SELECT args.bucket, args.cl, args.ns, args.kd, args.nm, args.ty, call,
       (SELECT count(*) FILTER (WHERE h.occurrences > 0)
        FROM k8s_events.histogram(args.f, args.t, args.bucket, args.cl, args.ns, args.kd, args.nm, args.ty) AS h) AS filled,
       (SELECT array_agg(ROW(h.bucket_start, h.type, h.reason, h.occurrences) ORDER BY h.n)
        FROM k8s_events.histogram(args.f, args.t, args.bucket, args.cl, args.ns, args.kd, args.nm, args.ty)
             WITH ORDINALITY AS h(bucket_start, type, reason, occurrences, n))
       IS NOT DISTINCT FROM
       (SELECT array_agg(ROW(r.bucket_start, r.type, r.reason, r.occurrences) ORDER BY r.n)
        FROM pg_temp.raw_filled(args.f, args.t, args.bucket, args.cl, args.ns, args.kd, args.ty, args.nm)
             WITH ORDINALITY AS r(bucket_start, type, reason, occurrences, n)) AS same_rows_in_order
FROM (VALUES (timestamptz '2026-05-04 00:00', timestamptz '2026-05-08 00:00', interval '1 hour', 'in_order', 'ns1', 'Pod', 'obj-1', NULL),
             ('2026-05-04 00:00', '2026-05-08 00:00', '1 hour', NULL, 'ns1', 'Pod', 'obj-1', NULL),
             ('2026-05-04 09:10', '2026-05-05 13:20', '10 minutes', 'shuffled', 'ns2', 'Pod', 'obj-2', 'Warning'),
             ('2026-05-03 00:00', '2026-05-09 00:00', '1 day', 'reversed', 'ns1', 'Node', 'obj-22', NULL),
             ('2026-05-04 05:00', '2026-05-06 07:00', '4 hours', 'in_order', NULL, 'Pod', 'obj-7', NULL),
             ('2026-05-04 00:00', '2026-05-08 00:00', '1 hour', 'in_order', 'ns0', 'Pod', 'no-such-object', NULL))
     AS args(f, t, bucket, cl, ns, kd, nm, ty),
     generate_series(1, 2) AS call
ORDER BY 1, 2, 3, 4, 5, 6, 7;

-- Retention: drop_partitions takes the dropped rows out of resource_summary (objects left
-- with no row go), and keeps their hours in event_counts.
SELECT count(*) AS hours_before FROM (SELECT DISTINCT hour FROM k8s_events.event_counts) AS h;
-- Rows deleted by hand leave a summary that says more than the rows (verify_summaries shows
-- it); retention must not get stuck on such an object when its last rows go.
DELETE FROM k8s_events.events WHERE cluster = 'in_order' AND name = 'obj-3' AND event_time >= '2026-05-05';
SELECT count(*) AS drifted FROM k8s_events.verify_summaries() WHERE key ->> 'name' = 'obj-3';
SELECT k8s_events.drop_partitions(now() - timestamptz '2026-05-05 00:00');
SELECT count(*) AS obj_3_left FROM k8s_events.resource_summary WHERE cluster = 'in_order' AND name = 'obj-3';
-- What is left to mend is the hand-made drift of the hourly counts.
SELECT summary, count(*) AS differences FROM k8s_events.verify_summaries() GROUP BY 1;
SELECT count(*) FROM k8s_events.rebuild_summaries();
SELECT count(*) AS differences FROM k8s_events.verify_summaries();
SELECT count(*) AS hours_after FROM (SELECT DISTINCT hour FROM k8s_events.event_counts) AS h;
SELECT min(first_event_time), min(last_event_time) FROM k8s_events.resource_summary;
SELECT count(*) AS short_lived FROM k8s_events.resource_summary WHERE cluster = 'short_lived';
SELECT name, nodes FROM k8s_events.resource_summary
WHERE cluster = 'in_order' AND name IN ('obj-1', 'obj-2') ORDER BY name;
SELECT k8s_events.drop_partitions(now() - timestamptz '2026-05-06 00:00');
SELECT count(*) AS differences FROM k8s_events.verify_summaries();
-- The dropped day's observations are taken out of each object's nodes.
SELECT name, nodes FROM k8s_events.resource_summary
WHERE cluster = 'in_order' AND name IN ('obj-1', 'obj-2') ORDER BY name;
SELECT count(*) AS objects FROM k8s_events.resource_summary;
-- k8s_events.summary_retention bounds the hourly counts; drop_partitions() applies it to the
-- hours whose rows are gone, never to one that still has them (those stay exact).
SET k8s_events.summary_retention = '1 day';
SELECT count(*) FROM k8s_events.drop_partitions();
SELECT count(*) FILTER (WHERE hour < k8s_events.raw_rows_since()) AS expired_hours_left,
       count(*) FILTER (WHERE hour >= k8s_events.raw_rows_since()) > 0 AS hours_with_rows_kept
FROM k8s_events.event_counts;
SELECT count(*) AS differences FROM k8s_events.verify_summaries();
RESET k8s_events.summary_retention;

-- When an object was first seen outlives the rows that said so: drop_partitions keeps
-- first_event_time (reading none of the object's rows beyond the dropped day, which an exact
-- recomputation would read them all for), verify_summaries() accepts it as long as it is
-- before the oldest row kept and no later than the rows left say, and rebuild_summaries()
-- keeps it. web-9 is seen on 05-10 and, by another Event first seen then, on 05-12 (3 times);
-- db-9 on 05-10 only.
SELECT count(*) > 0 FROM k8s_events.create_partitions('2026-05-10', '2026-05-13');
SELECT k8s_events.drop_partitions(now() - timestamptz '2026-05-10 00:00') IS NOT NULL AS dropped_older;
SELECT k8s_events.ingest(jsonb_build_array(
  jsonb_build_object('kind', 'Event', 'metadata', jsonb_build_object('uid', 'a0000000-0000-4000-8000-000000000001', 'resourceVersion', '1', 'namespace', 'ns'),
    'involvedObject', jsonb_build_object('kind', 'Pod', 'namespace', 'ns', 'name', 'web-9'), 'reason', 'BackOff', 'type', 'Warning',
    'firstTimestamp', '2026-05-10T08:00:00Z', 'lastTimestamp', '2026-05-10T08:00:00Z', 'count', 1),
  jsonb_build_object('kind', 'Event', 'metadata', jsonb_build_object('uid', 'a0000000-0000-4000-8000-000000000003', 'resourceVersion', '2', 'namespace', 'ns'),
    'involvedObject', jsonb_build_object('kind', 'Pod', 'namespace', 'ns', 'name', 'web-9'), 'reason', 'BackOff', 'type', 'Warning',
    'firstTimestamp', '2026-05-12T07:00:00Z', 'lastTimestamp', '2026-05-12T08:00:00Z', 'count', 3),
  jsonb_build_object('kind', 'Event', 'metadata', jsonb_build_object('uid', 'a0000000-0000-4000-8000-000000000002', 'resourceVersion', '3', 'namespace', 'ns'),
    'involvedObject', jsonb_build_object('kind', 'Pod', 'namespace', 'ns', 'name', 'db-9'), 'reason', 'Pulled', 'type', 'Normal',
    'firstTimestamp', '2026-05-10T09:00:00Z', 'lastTimestamp', '2026-05-10T09:00:00Z', 'count', 1)), 'history');
SELECT k8s_events.drop_partitions(now() - timestamptz '2026-05-11 00:00');
SELECT name, first_event_time, last_event_time, warning, observations, reasons
FROM k8s_events.resource_summary WHERE cluster = 'history' ORDER BY name;
SELECT count(*) AS differences FROM k8s_events.verify_summaries();
SELECT summary, rows FROM k8s_events.rebuild_summaries() WHERE summary = 'resource_summary';
SELECT first_event_time FROM k8s_events.resource_summary WHERE cluster = 'history';
-- A first time the rows contradict is still reported: later than the rows say, or within
-- the rows kept and earlier than they say.
BEGIN;
UPDATE k8s_events.resource_summary SET first_event_time = '2026-05-12 09:00' WHERE cluster = 'history';
SELECT key ->> 'name' AS name, stored ->> 'first_event_time' AS stored, recomputed ->> 'first_event_time' AS recomputed
FROM k8s_events.verify_summaries() WHERE summary = 'resource_summary';
UPDATE k8s_events.resource_summary SET first_event_time = '2026-05-11 01:00' WHERE cluster = 'history';
SELECT key ->> 'name' AS name, stored ->> 'first_event_time' AS stored, recomputed ->> 'first_event_time' AS recomputed
FROM k8s_events.verify_summaries() WHERE summary = 'resource_summary';
ROLLBACK;

-- The general way of retention, which reads the dropped partition's rows: taken when a
-- DEFAULT partition exists (rows of any time may be there, so the summaries cannot tell
-- which objects are older). The objects' nodes lose what the partition held, too.
CREATE TABLE k8s_events_partitions.events_default PARTITION OF k8s_events.events DEFAULT;
SELECT stored FROM k8s_events.ingest_report((SELECT jsonb_agg(event ORDER BY i) FROM obs), 'general');
SELECT name, nodes, observations FROM k8s_events.resource_summary
WHERE cluster = 'general' AND name IN ('obj-1', 'obj-2') ORDER BY name;
SELECT count(*) AS dropped FROM k8s_events.drop_partitions(now() - timestamptz '2026-05-05 00:00');
-- (Only this cluster's: rows older than the other clusters' dropped days exist again, so
-- the hours those days left in event_counts are within the raw rows' range once more.)
SELECT count(*) AS differences FROM k8s_events.verify_summaries() WHERE key ->> 'cluster' = 'general';
SELECT name, nodes, observations FROM k8s_events.resource_summary
WHERE cluster = 'general' AND name IN ('obj-1', 'obj-2') ORDER BY name;
DROP TABLE k8s_events_partitions.events_default;

-- add_counts(): key by key, positive totals only.
SELECT k8s_events.add_counts('{"a": 2, "b": 1}', '{"b": 3, "c": 1}'),
       k8s_events.add_counts('{"a": 2, "b": 1}', '{"a": -2}'),
       k8s_events.add_counts('{}', '{}');
SELECT k8s_events.add_counts('[1]', '{}');
SELECT k8s_events.add_counts('{"a": "x"}', '{}');

-- What a BI tool lists in schema k8s_events (pgjdbc's getTables for tables, partitioned
-- tables, views and foreign tables): what users query; partitions and the watchers' own
-- tables are elsewhere.
SELECT c.relname, c.relkind FROM pg_class AS c
WHERE c.relnamespace = 'k8s_events'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY 1;
SELECT n.nspname, count(*) FILTER (WHERE c.relkind = 'r') AS tables
FROM pg_namespace AS n LEFT JOIN pg_class AS c ON c.relnamespace = n.oid
WHERE n.nspname LIKE 'k8s_events%' GROUP BY 1 ORDER BY 1;
