-- create_partitions(), drop_partitions(), the partitions view.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS k8s_events CASCADE;
CREATE EXTENSION k8s_events;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- Daily partitions aligned on UTC midnight; existing ones are not made again.
SELECT * FROM k8s_events.create_partitions('2026-01-01', '2026-01-04');
SELECT * FROM k8s_events.create_partitions('2026-01-01', '2026-01-04');
SELECT * FROM k8s_events.create_partitions('2026-01-03 12:00', '2026-01-05 00:00:00.000001');
-- The session time zone does not move the boundaries.
SET timezone = 'Asia/Kolkata';
SELECT * FROM k8s_events.create_partitions('2026-01-07 03:00', '2026-01-07 04:00');
SET timezone = 'UTC';
SELECT partition, range_from, range_to, rows_estimate FROM k8s_events.partitions;

-- A wider partition_width applies to new partitions only, clipped to the gaps,
-- aligned on Mondays for weeks.
SET k8s_events.partition_width = '7 days';
SELECT * FROM k8s_events.create_partitions('2025-12-20', '2026-01-20');
SET k8s_events.partition_width = '6 hours';
SELECT * FROM k8s_events.create_partitions('2026-01-26 05:00', '2026-01-26 13:00');
RESET k8s_events.partition_width;
SELECT partition, range_from, range_to FROM k8s_events.partitions;
-- No two partitions overlap, and there are no gaps between 2025-12-15 and 2026-01-26.
SELECT count(*) AS overlaps FROM k8s_events.partitions a JOIN k8s_events.partitions b
  ON a.partition < b.partition AND a.range_from < b.range_to AND b.range_from < a.range_to;
SELECT count(*) AS gaps FROM (
  SELECT range_to, lead(range_from) OVER (ORDER BY range_from) AS next_from
  FROM k8s_events.partitions WHERE range_to <= '2026-01-26') AS p
WHERE next_from IS NOT NULL AND next_from <> range_to;

-- Bad ranges.
SELECT * FROM k8s_events.create_partitions('2026-01-02', '2026-01-01');
SELECT * FROM k8s_events.create_partitions('2026-01-02', '2026-01-02');
SELECT * FROM k8s_events.create_partitions('-infinity', '2026-01-02');
SET k8s_events.partition_width = '1 hour';
SELECT * FROM k8s_events.create_partitions('2030-01-01', '2031-01-01');
RESET k8s_events.partition_width;

-- Rows land in the right partition; a partition the user made by hand is respected.
CREATE TABLE k8s_events.events_manual PARTITION OF k8s_events.events
  FOR VALUES FROM ('2026-02-01 00:00+00') TO ('2026-02-01 00:30+00');
SET k8s_events.retention = '0';
SELECT k8s_events.ingest(jsonb_build_array(
  '{"metadata":{"uid":"d0000000-0000-4000-8000-000000000001","resourceVersion":"1"},"lastTimestamp":"2026-02-01T00:10:00Z"}'::jsonb,
  '{"metadata":{"uid":"d0000000-0000-4000-8000-000000000002","resourceVersion":"2"},"lastTimestamp":"2026-02-01T00:40:00Z"}'::jsonb,
  '{"metadata":{"uid":"d0000000-0000-4000-8000-000000000003","resourceVersion":"3"},"lastTimestamp":"2026-01-02T08:00:00Z"}'::jsonb), 'p');
SELECT tableoid::regclass AS partition, uid, event_time FROM k8s_events.events ORDER BY event_time;
SELECT partition, range_from, range_to FROM k8s_events.partitions WHERE range_from >= '2026-02-01';

-- A DEFAULT partition (made by hand) is listed without bounds and never dropped;
-- new partitions are still made beside it.
CREATE TABLE k8s_events.events_default PARTITION OF k8s_events.events DEFAULT;
SELECT partition, range_from, range_to FROM k8s_events.partition_bounds() WHERE range_from IS NULL;
SELECT * FROM k8s_events.create_partitions('2026-02-03', '2026-02-04');
SELECT k8s_events.ingest('{"metadata":{"uid":"d0000000-0000-4000-8000-000000000005","resourceVersion":"5"},"lastTimestamp":"2026-02-05T00:10:00Z"}', 'p');
SELECT tableoid::regclass AS partition FROM k8s_events.events WHERE resource_version = '5';

-- A day's partition DETACHed to archive it keeps its name (and its indexes' names): the
-- next event of that day gets a new partition under the next free name, beside it, and is
-- stored; the archived table is left as it was.
SELECT * FROM k8s_events.create_partitions('2026-02-10', '2026-02-11');
SELECT k8s_events.ingest('{"metadata":{"uid":"d0000000-0000-4000-8000-000000000006","resourceVersion":"6"},"lastTimestamp":"2026-02-10T08:00:00Z"}', 'p');
ALTER TABLE k8s_events.events DETACH PARTITION k8s_events_partitions.events_20260210;
SELECT k8s_events.ingest('[{"metadata":{"uid":"d0000000-0000-4000-8000-000000000007","resourceVersion":"7"},"lastTimestamp":"2026-02-10T09:00:00Z"},
                          {"metadata":{"uid":"d0000000-0000-4000-8000-000000000008","resourceVersion":"8"},"lastTimestamp":"2026-02-10T10:00:00Z"}]', 'p');
SELECT tableoid::regclass AS partition, resource_version FROM k8s_events.events
WHERE event_time >= '2026-02-10' AND event_time < '2026-02-11' ORDER BY resource_version;
SELECT partition, range_from, range_to FROM k8s_events.partitions WHERE range_from = '2026-02-10';
SELECT resource_version AS archived FROM k8s_events_partitions.events_20260210;
-- Archived again, and again: each time the next name.
ALTER TABLE k8s_events.events DETACH PARTITION k8s_events_partitions.events_20260210_2;
SELECT * FROM k8s_events.create_partitions('2026-02-10', '2026-02-11');
DROP TABLE k8s_events_partitions.events_20260210, k8s_events_partitions.events_20260210_2;

-- drop_partitions: whole partitions before now() - older_than, oldest first, never one
-- that straddles the cutoff. (Names depend on today's date, so properties are shown.)
SELECT count(*) > 0 AS made FROM k8s_events.create_partitions(now() - interval '10 days', now() + interval '1 day');
SELECT k8s_events.ingest(jsonb_build_object('metadata', jsonb_build_object('uid', 'd0000000-0000-4000-8000-000000000004', 'resourceVersion', '4'),
                                            'lastTimestamp', to_char(now() - interval '2 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), 'p');
CREATE TEMP TABLE dropped AS SELECT row_number() OVER () AS n, d AS partition FROM k8s_events.drop_partitions('5 days') AS d;
SELECT count(*) > 0 AS dropped_some,
       -- dated names sort like their ranges; the hand-made one is checked below
       array_agg(partition ORDER BY n) FILTER (WHERE partition <> 'k8s_events.events_manual')
         = array_agg(partition ORDER BY partition) FILTER (WHERE partition <> 'k8s_events.events_manual') AS oldest_first,
       bool_and(partition ~ '^k8s_events(_partitions)?\.events_') AS qualified_names
FROM dropped;
SELECT count(*) FILTER (WHERE range_to <= now() - interval '5 days') AS left_before_cutoff,
       count(*) FILTER (WHERE range_from < now() - interval '5 days' AND range_to > now() - interval '5 days') AS straddling_kept,
       count(*) FILTER (WHERE range_from >= now() - interval '5 days') > 0 AS newer_kept
FROM k8s_events.partitions;
SELECT 'k8s_events.events_manual' IN (SELECT partition FROM dropped) AS manual_dropped_too;
SELECT count(*) AS rows_left, min(event_time) > now() - interval '6 days' AS only_recent FROM k8s_events.events;
SELECT count(*) AS dropped_again FROM k8s_events.drop_partitions('5 days');

-- drop_partitions() applies k8s_events.retention; '0' keeps everything.
SET k8s_events.retention = '0';
SELECT count(*) AS dropped_with_retention_0 FROM k8s_events.drop_partitions();
SET k8s_events.retention = '3 days';
SELECT count(*) > 0 AS dropped_with_retention_3_days FROM k8s_events.drop_partitions();
SELECT count(*) AS left_before_cutoff FROM k8s_events.partitions WHERE range_to <= now() - interval '3 days';
RESET k8s_events.retention;

SELECT partition FROM k8s_events.partitions WHERE range_from IS NULL;
DROP TABLE k8s_events.events_default;

SELECT * FROM k8s_events.drop_partitions('-1 day');
SELECT * FROM k8s_events.drop_partitions(NULL);
