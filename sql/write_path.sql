-- The write path in C (occurrences.c, row_writer.c): probes across partitions, partitions
-- whose columns are laid out differently, partitions without the key index, defaults,
-- and tables with triggers, which go through an INSERT statement instead.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS k8s_events CASCADE;
CREATE EXTENSION k8s_events;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET k8s_events.retention = '0';

CREATE FUNCTION pg_temp.ev(uid text, rv text, cnt int, last_ts text, first_ts text)
RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object(
    'apiVersion', 'v1', 'kind', 'Event',
    'metadata', jsonb_build_object('name', 'web-1.1800a1b2c3d4e5f6', 'namespace', 'shop',
                                   'uid', uid, 'resourceVersion', rv, 'creationTimestamp', first_ts),
    'involvedObject', jsonb_build_object('kind', 'Pod', 'namespace', 'shop', 'name', 'web-1'),
    'reason', 'BackOff', 'message', 'Back-off restarting failed container web',
    'source', jsonb_build_object('component', 'kubelet', 'host', 'node-1'),
    'firstTimestamp', first_ts, 'lastTimestamp', last_ts, 'count', cnt, 'type', 'Warning')
$$;
CREATE FUNCTION pg_temp.rows(c text)
RETURNS TABLE (rv text, event_time timestamptz, count int, occurrences int, part regclass)
LANGUAGE sql AS $$
  SELECT resource_version, event_time, count, occurrences, tableoid::regclass
  FROM k8s_events.events WHERE cluster = c ORDER BY event_time, resource_version
$$;

-- An Event seen on three days: each day's observation is credited with the increase over
-- the highest count stored in the days before (back to a day before its first time).
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000001', '1', 5, '2026-05-01T23:00:00Z', '2026-05-01T08:00:00Z'), 'days');
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000001', '2', 9, '2026-05-02T01:00:00Z', '2026-05-01T08:00:00Z'), 'days');
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000001', '3', 10, '2026-05-03T01:00:00Z', '2026-05-01T08:00:00Z'), 'days');
-- Late: an observation older than what is stored adds nothing; sent again, it is a duplicate.
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000001', '0', 3, '2026-05-01T20:00:00Z', '2026-05-01T08:00:00Z'), 'days');
SELECT stored, duplicates FROM k8s_events.ingest_report(pg_temp.ev('a0000000-0000-4000-8000-000000000001', '0', 3, '2026-05-01T20:00:00Z', '2026-05-01T08:00:00Z'), 'days');
SELECT * FROM pg_temp.rows('days');
-- The same uid in another cluster is another Event.
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000001', '3', 10, '2026-05-03T01:00:00Z', '2026-05-01T08:00:00Z'), 'other');
SELECT count, occurrences FROM k8s_events.events WHERE cluster = 'other';

-- A stored row from before the Event's first time (less a day of clock skew) is another
-- life of the uid, and not searched: the count starts again.
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000002', '1', 50, '2026-05-01T10:00:00Z', '2026-05-01T09:00:00Z'), 'lives');
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000002', '9', 2, '2026-05-04T10:00:00Z', '2026-05-04T09:00:00Z'), 'lives');
SELECT * FROM pg_temp.rows('lives');

-- In one batch, the rows of an Event are credited in order of count, whatever order they
-- came in, and a key twice in the batch is stored once.
SELECT stored, duplicates FROM k8s_events.ingest_report(jsonb_build_array(
  pg_temp.ev('a0000000-0000-4000-8000-000000000003', '3', 7, '2026-05-02T03:00:00Z', '2026-05-02T01:00:00Z'),
  pg_temp.ev('a0000000-0000-4000-8000-000000000003', '1', 2, '2026-05-02T01:00:00Z', '2026-05-02T01:00:00Z'),
  pg_temp.ev('a0000000-0000-4000-8000-000000000003', '2', 4, '2026-05-02T02:00:00Z', '2026-05-02T01:00:00Z'),
  pg_temp.ev('a0000000-0000-4000-8000-000000000003', '1', 2, '2026-05-02T01:00:00Z', '2026-05-02T01:00:00Z')), 'batch');
SELECT * FROM pg_temp.rows('batch');

-- Rows of forty days interleaved in one batch (more than the writer keeps apart at once):
-- each goes to its own partition.
SELECT stored FROM k8s_events.ingest_report((SELECT jsonb_agg(pg_temp.ev(
    format('a1000000-0000-4000-8000-%s', lpad(n::text, 12, '0')), '1', 1,
    to_char(timestamptz '2026-03-01 12:00+00' + (n % 40) * interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    to_char(timestamptz '2026-03-01 12:00+00' + (n % 40) * interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
  FROM generate_series(1, 2500) AS n), 'interleaved');
SELECT count(DISTINCT tableoid) AS partitions, count(*) AS rows,
       bool_and(event_time::date = substr(tableoid::regclass::text, 19, 8)::date) AS each_in_its_own
FROM k8s_events.events WHERE cluster = 'interleaved';

-- A stored generated column you add is computed, in new partitions too (and, dropped, skipped).
ALTER TABLE k8s_events.events ADD COLUMN reason_lower text GENERATED ALWAYS AS (lower(reason)) STORED;
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000009', '1', 1, '2026-05-05T10:00:00Z', '2026-05-05T10:00:00Z'), 'generated');
SELECT reason_lower FROM k8s_events.events WHERE cluster = 'generated';
ALTER TABLE k8s_events.events DROP COLUMN reason_lower;
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000009', '2', 2, '2026-05-05T11:00:00Z', '2026-05-05T10:00:00Z'), 'generated');
SELECT rv, count, occurrences FROM pg_temp.rows('generated');

-- Nothing is written in a read-only transaction.
BEGIN READ ONLY;
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000010', '1', 1, '2026-05-05T10:00:00Z', '2026-05-05T10:00:00Z'), 'readonly');
ROLLBACK;

-- A partition made by hand whose columns lie elsewhere than the parent's (a dropped column
-- first), with its own key index: rows are routed into it and found in it.
CREATE TABLE k8s_events.events_shifted (dropped int, LIKE k8s_events.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE k8s_events.events_shifted DROP COLUMN dropped;
CREATE UNIQUE INDEX ON k8s_events.events_shifted (cluster, uid, resource_version, event_time);
ALTER TABLE k8s_events.events ATTACH PARTITION k8s_events.events_shifted
  FOR VALUES FROM ('2026-06-01') TO ('2026-06-02');
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000004', '1', 1, '2026-06-01T10:00:00Z', '2026-06-01T10:00:00Z'), 'shifted');
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000004', '2', 4, '2026-06-01T11:00:00Z', '2026-06-01T10:00:00Z'), 'shifted');
SELECT stored, duplicates FROM k8s_events.ingest_report(pg_temp.ev('a0000000-0000-4000-8000-000000000004', '2', 4, '2026-06-01T11:00:00Z', '2026-06-01T10:00:00Z'), 'shifted');
SELECT * FROM pg_temp.rows('shifted');
-- ingested_at takes its DEFAULT.
BEGIN;
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000004', '3', 5, '2026-06-01T12:00:00Z', '2026-06-01T10:00:00Z'), 'shifted');
SELECT ingested_at = now() AS ingested_now FROM k8s_events.events WHERE cluster = 'shifted' AND resource_version = '3';
COMMIT;

-- A partition made by hand without the key index is read through, and still deduplicates.
CREATE TABLE k8s_events.events_bare (LIKE k8s_events.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE k8s_events.events ATTACH PARTITION k8s_events.events_bare
  FOR VALUES FROM ('2026-06-02') TO ('2026-06-03');
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000005', '1', 2, '2026-06-02T10:00:00Z', '2026-06-02T10:00:00Z'), 'bare');
SELECT stored, duplicates FROM k8s_events.ingest_report(jsonb_build_array(
  pg_temp.ev('a0000000-0000-4000-8000-000000000005', '1', 2, '2026-06-02T10:00:00Z', '2026-06-02T10:00:00Z'),
  pg_temp.ev('a0000000-0000-4000-8000-000000000005', '2', 5, '2026-06-02T11:00:00Z', '2026-06-02T10:00:00Z')), 'bare');
SELECT * FROM pg_temp.rows('bare');

-- A trigger on the table: rows go through an INSERT statement, which fires it, with the
-- same keys and occurrences.
CREATE TABLE public.seen (uid uuid, occurrences int);
CREATE FUNCTION public.note_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.seen VALUES (NEW.uid, NEW.occurrences);
  RETURN NULL;
END $$;
CREATE TRIGGER note_row AFTER INSERT ON k8s_events.events FOR EACH ROW EXECUTE FUNCTION public.note_row();
SELECT stored, duplicates FROM k8s_events.ingest_report(jsonb_build_array(
  pg_temp.ev('a0000000-0000-4000-8000-000000000006', '2', 4, '2026-05-02T02:00:00Z', '2026-05-02T01:00:00Z'),
  pg_temp.ev('a0000000-0000-4000-8000-000000000006', '1', 2, '2026-05-02T01:00:00Z', '2026-05-02T01:00:00Z'),
  pg_temp.ev('a0000000-0000-4000-8000-000000000006', '1', 2, '2026-05-02T01:00:00Z', '2026-05-02T01:00:00Z')), 'trigger');
SELECT * FROM public.seen ORDER BY occurrences;
SELECT * FROM pg_temp.rows('trigger');
DROP TRIGGER note_row ON k8s_events.events;
-- A trigger on one partition only is honoured too.
CREATE TRIGGER note_row AFTER INSERT ON k8s_events.events_shifted FOR EACH ROW EXECUTE FUNCTION public.note_row();
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000007', '1', 3, '2026-06-01T12:00:00Z', '2026-06-01T12:00:00Z'), 'trigger');
SELECT * FROM public.seen WHERE uid = 'a0000000-0000-4000-8000-000000000007';
DROP TRIGGER note_row ON k8s_events.events_shifted;
-- A BEFORE trigger that skips rows: what it skipped is not counted as stored.
CREATE FUNCTION public.skip_odd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RETURN CASE WHEN NEW.resource_version::int % 2 = 1 THEN NULL ELSE NEW END;
END $$;
CREATE TRIGGER skip_odd BEFORE INSERT ON k8s_events.events FOR EACH ROW EXECUTE FUNCTION public.skip_odd();
SELECT received, stored, duplicates FROM k8s_events.ingest_report(jsonb_build_array(
  pg_temp.ev('a0000000-0000-4000-8000-000000000012', '1', 1, '2026-05-06T01:00:00Z', '2026-05-06T01:00:00Z'),
  pg_temp.ev('a0000000-0000-4000-8000-000000000012', '2', 2, '2026-05-06T02:00:00Z', '2026-05-06T01:00:00Z'),
  pg_temp.ev('a0000000-0000-4000-8000-000000000012', '3', 3, '2026-05-06T03:00:00Z', '2026-05-06T01:00:00Z')), 'skipping');
SELECT rv, count, occurrences FROM pg_temp.rows('skipping');
DROP TRIGGER skip_odd ON k8s_events.events;
DROP FUNCTION public.skip_odd();
-- A rule on the table is applied too.
CREATE TABLE public.ruled (uid uuid);
CREATE RULE note_uid AS ON INSERT TO k8s_events.events DO ALSO INSERT INTO public.ruled VALUES (NEW.uid);
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000013', '1', 1, '2026-05-06T01:00:00Z', '2026-05-06T01:00:00Z'), 'ruled');
SELECT * FROM public.ruled;
DROP RULE note_uid ON k8s_events.events;
DROP TABLE public.ruled;
DROP TABLE public.seen;
DROP FUNCTION public.note_row();

-- A partition partitioned in turn has no key index nor heap of its own: it is searched
-- with a query, and rows reach it through an INSERT statement.
CREATE TABLE k8s_events.events_nested PARTITION OF k8s_events.events
  FOR VALUES FROM ('2026-07-01') TO ('2026-07-03') PARTITION BY RANGE (event_time);
CREATE TABLE k8s_events.events_nested_1 PARTITION OF k8s_events.events_nested
  FOR VALUES FROM ('2026-07-01') TO ('2026-07-03');
SELECT k8s_events.ingest(pg_temp.ev('a0000000-0000-4000-8000-000000000011', '1', 2, '2026-07-01T10:00:00Z', '2026-07-01T10:00:00Z'), 'nested');
SELECT stored, duplicates FROM k8s_events.ingest_report(jsonb_build_array(
  pg_temp.ev('a0000000-0000-4000-8000-000000000011', '1', 2, '2026-07-01T10:00:00Z', '2026-07-01T10:00:00Z'),
  pg_temp.ev('a0000000-0000-4000-8000-000000000011', '2', 6, '2026-07-02T10:00:00Z', '2026-07-01T10:00:00Z')), 'nested');
SELECT * FROM pg_temp.rows('nested');
DROP TABLE k8s_events.events_nested;

-- A row that a partition's own constraint refuses fails the whole call, which stores
-- nothing (and the dropped triggers no longer send rows through an INSERT statement).
DROP TABLE k8s_events.events_bare;
CREATE TABLE k8s_events.events_tight (LIKE k8s_events.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE k8s_events.events_tight ADD CONSTRAINT tight_reason CHECK (reason <> 'BackOff');
ALTER TABLE k8s_events.events ATTACH PARTITION k8s_events.events_tight
  FOR VALUES FROM ('2026-06-02') TO ('2026-06-03');
\set VERBOSITY terse
SELECT k8s_events.ingest(jsonb_build_array(
  pg_temp.ev('a0000000-0000-4000-8000-000000000008', '1', 1, '2026-06-01T13:00:00Z', '2026-06-01T13:00:00Z'),
  pg_temp.ev('a0000000-0000-4000-8000-000000000008', '2', 2, '2026-06-02T13:00:00Z', '2026-06-01T13:00:00Z')), 'tight');
\set VERBOSITY default
SELECT count(*) FROM k8s_events.events WHERE cluster = 'tight';
