-- event_time(), parse_timestamp_iso8601(), unix_millis()
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS k8s_events CASCADE;
CREATE EXTENSION k8s_events;
RESET client_min_messages;
SET timezone = 'UTC';

-- Precedence: the first present of series.lastObservedTime, lastTimestamp, eventTime,
-- deprecatedLastTimestamp, firstTimestamp, deprecatedFirstTimestamp, metadata.creationTimestamp.
WITH fields(step, event) AS (VALUES
  (1, '{"series":{"count":3,"lastObservedTime":"2026-01-01T00:00:07.000007Z"},"lastTimestamp":"2026-01-01T00:00:06Z","eventTime":"2026-01-01T00:00:05.000005Z","deprecatedLastTimestamp":"2026-01-01T00:00:04Z","firstTimestamp":"2026-01-01T00:00:03Z","deprecatedFirstTimestamp":"2026-01-01T00:00:02Z","metadata":{"creationTimestamp":"2026-01-01T00:00:01Z"}}'::jsonb),
  (2, '{"lastTimestamp":"2026-01-01T00:00:06Z","eventTime":"2026-01-01T00:00:05.000005Z","deprecatedLastTimestamp":"2026-01-01T00:00:04Z","firstTimestamp":"2026-01-01T00:00:03Z","deprecatedFirstTimestamp":"2026-01-01T00:00:02Z","metadata":{"creationTimestamp":"2026-01-01T00:00:01Z"}}'),
  (3, '{"lastTimestamp":null,"eventTime":"2026-01-01T00:00:05.000005Z","deprecatedLastTimestamp":"2026-01-01T00:00:04Z","firstTimestamp":"2026-01-01T00:00:03Z","metadata":{"creationTimestamp":"2026-01-01T00:00:01Z"}}'),
  (4, '{"eventTime":null,"deprecatedLastTimestamp":"2026-01-01T00:00:04Z","firstTimestamp":"2026-01-01T00:00:03Z","metadata":{"creationTimestamp":"2026-01-01T00:00:01Z"}}'),
  (5, '{"firstTimestamp":"2026-01-01T00:00:03Z","deprecatedFirstTimestamp":"2026-01-01T00:00:02Z","metadata":{"creationTimestamp":"2026-01-01T00:00:01Z"}}'),
  (6, '{"deprecatedFirstTimestamp":"2026-01-01T00:00:02Z","metadata":{"creationTimestamp":"2026-01-01T00:00:01Z"}}'),
  (7, '{"metadata":{"creationTimestamp":"2026-01-01T00:00:01Z"}}'),
  (8, '{"metadata":{}}'),
  (9, '{}'),
  -- a series without lastObservedTime falls through to the next field
  (10, '{"series":{"count":2},"lastTimestamp":"2026-01-01T00:00:06Z"}'),
  -- "" and Go's zero time mean unset, as in Kubernetes
  (11, '{"lastTimestamp":"","eventTime":"0001-01-01T00:00:00Z","firstTimestamp":"2026-01-01T00:00:03Z"}'),
  (12, '{"series":null,"lastTimestamp":null,"eventTime":null,"firstTimestamp":null,"metadata":{"creationTimestamp":null}}')
)
SELECT step, k8s_events.event_time(event) FROM fields ORDER BY step;

-- Both Event APIs, as the API server writes them.
SELECT k8s_events.event_time('{"apiVersion":"v1","kind":"Event","metadata":{"name":"web.1","namespace":"shop","uid":"6f1c2a8e-4b1d-4c5e-9f3a-2b7d8e9c0a11","resourceVersion":"42","creationTimestamp":"2026-03-01T10:00:00Z"},"involvedObject":{"kind":"Pod","namespace":"shop","name":"web"},"reason":"BackOff","message":"Back-off restarting failed container","source":{"component":"kubelet","host":"node-1"},"firstTimestamp":"2026-03-01T10:00:00Z","lastTimestamp":"2026-03-01T10:05:00Z","count":7,"type":"Warning","eventTime":null,"reportingComponent":"","reportingInstance":""}') AS core_v1;
SELECT k8s_events.event_time('{"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"web.2","namespace":"shop","uid":"6f1c2a8e-4b1d-4c5e-9f3a-2b7d8e9c0a12","resourceVersion":"43","creationTimestamp":"2026-03-01T10:00:00Z"},"eventTime":"2026-03-01T10:00:00.123456Z","series":{"count":4,"lastObservedTime":"2026-03-01T10:09:30.654321Z"},"reportingController":"kubelet","reportingInstance":"kubelet-node-1","action":"Restarting","reason":"BackOff","regarding":{"kind":"Pod","namespace":"shop","name":"web"},"note":"Back-off restarting failed container","type":"Warning"}') AS events_k8s_io_v1;

-- Envelopes: a watch frame and an eventrouter line hold the Event.
SELECT k8s_events.event_time('{"type":"MODIFIED","object":{"kind":"Event","lastTimestamp":"2026-03-01T11:00:00Z"}}') AS watch_frame;
SELECT k8s_events.event_time('{"type":"DELETED","object":{"kind":"Event","lastTimestamp":"2026-03-01T11:00:01Z"}}') AS deleted_frame;
SELECT k8s_events.event_time('{"verb":"UPDATED","event":{"lastTimestamp":"2026-03-01T12:00:00Z"},"old_event":{"lastTimestamp":"2026-03-01T11:59:00Z"}}') AS eventrouter;
SELECT k8s_events.event_time('{"type":"BOOKMARK","object":{"kind":"Event","metadata":{"resourceVersion":"99"}}}') AS bookmark;
-- event_time() converts only the members the rule reads (core's event_time_members): the
-- wrappers are still seen, a one-member object's member whole, and other members only
-- keep their place (a namespace-wrapped eventrouter line, and an Event that merely has an
-- object member shaped like one).
SELECT k8s_events.event_time('{"prod":{"verb":"ADDED","event":{"lastTimestamp":"2026-03-01T12:30:00Z"}}}') AS namespace_wrapped,
       k8s_events.event_time('{"x":{"verb":"ADDED","event":{"lastTimestamp":"2026-03-01T12:30:00Z"}},"firstTimestamp":"2026-03-01T09:00:00Z"}') AS not_wrapped,
       k8s_events.event_time('{"involvedObject":{"lastTimestamp":"2026-03-01T12:30:00Z"},"metadata":{"managedFields":[{"time":"2020-01-01T00:00:00Z"}],"creationTimestamp":"2026-03-01T08:00:00Z"},"count":99999999999999999999999}') AS nested_ignored;
-- Not an object: no Event, no time.
SELECT k8s_events.event_time('[{"lastTimestamp":"2026-03-01T11:00:00Z"}]') AS array_input,
       k8s_events.event_time('"2026-03-01T11:00:00Z"') AS string_input,
       k8s_events.event_time('null') AS json_null,
       k8s_events.event_time(NULL) AS sql_null;

-- Offsets and fractions.
SELECT k8s_events.event_time('{"lastTimestamp":"2026-03-01T12:00:00+02:00"}') AS plus_two,
       k8s_events.event_time('{"lastTimestamp":"2026-03-01T12:00:00-05:30"}') AS minus_five_thirty,
       k8s_events.event_time('{"eventTime":"2026-03-01T12:00:00.123456789Z"}') AS nanoseconds_truncated;

-- A malformed timestamp is an error that names the field.
SELECT k8s_events.event_time('{"lastTimestamp":"yesterday"}');
SELECT k8s_events.event_time('{"series":{"lastObservedTime":"2026-02-30T00:00:00Z"}}');
SELECT k8s_events.event_time('{"metadata":{"creationTimestamp":"2026-03-01 12:00:00"}}');
SELECT k8s_events.event_time('{"eventTime":1772366400}');
SELECT k8s_events.event_time('{"series":"often","lastTimestamp":"2026-03-01T12:00:00Z"}');
-- A later malformed field is not looked at once an earlier one is present.
SELECT k8s_events.event_time('{"lastTimestamp":"2026-03-01T12:00:00Z","firstTimestamp":"garbage"}');

-- parse_timestamp_iso8601: RFC 3339 as Kubernetes writes it.
SELECT ts, k8s_events.parse_timestamp_iso8601(ts)
FROM (VALUES ('2026-11-25T17:56:28Z'),
             ('2026-11-25t17:56:28z'),
             ('2026-11-25 17:56:28Z'),
             ('2026-11-25T17:56:28.5Z'),
             ('2026-11-25T17:56:28.123456Z'),
             ('2026-11-25T17:56:28.123456789Z'),
             ('2026-11-25T17:56:28.999999999+00:00'),
             ('2026-11-25T23:30:00+14:00'),
             ('2026-11-25T00:30:00-12:00'),
             ('2024-02-29T12:00:00Z'),
             ('2000-02-29T00:00:00Z'),
             ('2016-12-31T23:59:60Z'),
             ('1970-01-01T00:00:00Z'),
             ('1969-12-31T23:59:59.999999Z'),
             ('0001-01-01T00:00:00Z'),
             ('9999-12-31T23:59:59.999999Z')) AS t(ts);

SELECT k8s_events.parse_timestamp_iso8601('2023-02-29T00:00:00Z');
SELECT k8s_events.parse_timestamp_iso8601('1900-02-29T00:00:00Z');
SELECT k8s_events.parse_timestamp_iso8601('2026-13-01T00:00:00Z');
SELECT k8s_events.parse_timestamp_iso8601('2026-04-31T00:00:00Z');
SELECT k8s_events.parse_timestamp_iso8601('2026-11-25T24:00:00Z');
SELECT k8s_events.parse_timestamp_iso8601('2026-11-25T17:56:28');
SELECT k8s_events.parse_timestamp_iso8601('2026-11-25T17:56:28+0200');
SELECT k8s_events.parse_timestamp_iso8601('2026-11-25T17:56:28.Z');
SELECT k8s_events.parse_timestamp_iso8601('2026-11-25T17:56:28.1234567890Z');
SELECT k8s_events.parse_timestamp_iso8601('2026-11-25T17:56:28Z ');
SELECT k8s_events.parse_timestamp_iso8601('26-11-25T17:56:28Z');
SELECT k8s_events.parse_timestamp_iso8601('');
SELECT k8s_events.parse_timestamp_iso8601(NULL) IS NULL AS null_in_null_out;

-- unix_millis, and the seed's retention mapping read in SQL.
SELECT k8s_events.unix_millis('1970-01-01 00:00:00+00') AS epoch,
       k8s_events.unix_millis('2026-11-25 17:56:28.123999+00') AS floored,
       k8s_events.unix_millis('1969-12-31 23:59:59.9995+00') AS before_epoch_floored,
       k8s_events.unix_millis(k8s_events.parse_timestamp_iso8601('2026-03-01T10:05:00Z')) AS seed_mapping;
SELECT k8s_events.unix_millis('infinity');

-- Declared properties: usable in indexes and parallel plans.
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'k8s_events' AND p.proname IN ('event_time', 'parse_timestamp_iso8601', 'unix_millis')
ORDER BY 1;
