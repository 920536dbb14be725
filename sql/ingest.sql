-- ingest() and ingest_report(): keys, occurrences, envelopes, rejects, retention.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS k8s_events CASCADE;
CREATE EXTENSION k8s_events;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET k8s_events.retention = '0';

-- A core/v1 Event, as the API server serves it.
CREATE FUNCTION pg_temp.ev(uid text, rv text, cnt int, last_ts text,
                           reason text DEFAULT 'BackOff', obj text DEFAULT 'web-1',
                           first_ts text DEFAULT '2026-03-01T10:00:00Z')
RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object(
    'apiVersion', 'v1', 'kind', 'Event',
    'metadata', jsonb_build_object('name', obj || '.1800a1b2c3d4e5f6', 'namespace', 'shop',
                                   'uid', uid, 'resourceVersion', rv,
                                   'creationTimestamp', first_ts),
    'involvedObject', jsonb_build_object('kind', 'Pod', 'namespace', 'shop', 'name', obj,
                                         'fieldPath', 'spec.containers{web}'),
    'reason', reason, 'message', 'Back-off restarting failed container web',
    'source', jsonb_build_object('component', 'kubelet', 'host', 'node-1'),
    'firstTimestamp', first_ts, 'lastTimestamp', last_ts, 'count', cnt,
    'type', 'Warning', 'eventTime', NULL, 'reportingComponent', '', 'reportingInstance', '')
$$;

-- One Event: stored once, however often it is sent.
SELECT k8s_events.ingest(pg_temp.ev('11111111-1111-4111-8111-111111111111', '100', 1, '2026-03-01T10:00:00Z'), 'prod');
SELECT k8s_events.ingest(pg_temp.ev('11111111-1111-4111-8111-111111111111', '100', 1, '2026-03-01T10:00:00Z'), 'prod');
SELECT cluster, uid, resource_version, event_time, first_time, namespace, kind, name, type, reason,
       message, count, occurrences, source_component, source_host, reporting_controller,
       reporting_instance, action
FROM k8s_events.events;
-- The event column is the Event exactly as sent; event_time is event_time(event).
SELECT event = pg_temp.ev('11111111-1111-4111-8111-111111111111', '100', 1, '2026-03-01T10:00:00Z') AS same_event,
       event_time = k8s_events.event_time(event) AS same_time
FROM k8s_events.events;

-- Every field is kept as sent: nested objects and arrays, unicode, escapes, numbers.
CREATE TEMP TABLE fidelity AS SELECT '{"kind":"Event","apiVersion":"v1",
  "metadata":{"uid":"12121212-1212-4121-8121-121212121212","resourceVersion":"1",
              "labels":{"app.kubernetes.io/name":"web"},"annotations":{},
              "managedFields":[{"manager":"kubelet","fieldsV1":{"f:count":{},"f:lastTimestamp":{}}}]},
  "lastTimestamp":"2026-03-05T10:00:00Z","count":3,"related":null,
  "message":"naïve ☃ \"quoted\" back\\slash\nnew line\ttab \u0001 𝄞",
  "numbers":[0,-1,2.5,-0.1,1e-7,12345678901234567,9223372036854775807,-9223372036854775808],
  "flags":[true,false,null,[],{},[[1]]]}'::jsonb AS e;
SELECT k8s_events.ingest(e, 'fidelity') FROM fidelity;
SELECT ev.event = f.e AS kept_exactly, ev.message = f.e->>'message' AS message_column
FROM k8s_events.events AS ev, fidelity AS f WHERE ev.cluster = 'fidelity';
SELECT k8s_events.event_time(e) FROM fidelity;

-- Occurrences: counts 1..5 observed one by one add up to 5, not 15.
SELECT k8s_events.ingest(pg_temp.ev('11111111-1111-4111-8111-111111111111', (100 + c)::text, c + 1,
                                    format('2026-03-01T10:%s:00Z', lpad((c * 5)::text, 2, '0'))), 'prod')
FROM generate_series(1, 4) AS c;
SELECT resource_version, count, occurrences, event_time FROM k8s_events.events ORDER BY event_time;
SELECT sum(occurrences) AS total FROM k8s_events.events;

-- The same five observations in one array, in another cluster: the same answer.
SELECT k8s_events.ingest(jsonb_agg(pg_temp.ev('11111111-1111-4111-8111-111111111111', (100 + c)::text, c + 1,
                                              format('2026-03-01T10:%s:00Z', lpad((c * 5)::text, 2, '0')))), 'staging')
FROM generate_series(0, 4) AS c;
SELECT cluster, sum(occurrences), max(count), count(*) FROM k8s_events.events GROUP BY cluster ORDER BY cluster;

-- Across batches: with batch_size 2 the five observations take three INSERTs.
SET k8s_events.batch_size = 2;
SELECT k8s_events.ingest(jsonb_agg(pg_temp.ev('22222222-2222-4222-8222-222222222222', (200 + c)::text, c + 1,
                                              format('2026-03-01T11:%s:00Z', lpad((c * 5)::text, 2, '0')))), 'prod')
FROM generate_series(0, 4) AS c;
RESET k8s_events.batch_size;
SELECT count, occurrences FROM k8s_events.events WHERE uid = '22222222-2222-4222-8222-222222222222' ORDER BY count;

-- Out of order: count 5 arrives before count 3; the total stays 5, never negative.
SELECT k8s_events.ingest(pg_temp.ev('33333333-3333-4333-8333-333333333333', '305', 5, '2026-03-01T12:25:00Z'), 'prod');
SELECT k8s_events.ingest(pg_temp.ev('33333333-3333-4333-8333-333333333333', '303', 3, '2026-03-01T12:15:00Z'), 'prod');
SELECT resource_version, count, occurrences FROM k8s_events.events
WHERE uid = '33333333-3333-4333-8333-333333333333' ORDER BY resource_version;

-- First seen at count 7 (we started watching late): all 7 occurrences count.
SELECT k8s_events.ingest(pg_temp.ev('44444444-4444-4444-8444-444444444444', '400', 7, '2026-03-01T13:00:00Z'), 'prod');
SELECT count, occurrences FROM k8s_events.events WHERE uid = '44444444-4444-4444-8444-444444444444';

-- Skewed clocks: firstTimestamp after lastTimestamp, creationTimestamp after both.
-- first_time never comes after event_time, and earlier observations are still found.
SELECT k8s_events.ingest(jsonb_build_array(
  jsonb_set(pg_temp.ev('45454545-4545-4545-8545-454545454545', '450', 1, '2026-03-01T13:00:00Z',
                       first_ts => '2026-03-01T13:30:00Z'), '{metadata,creationTimestamp}', '"2026-03-02T02:00:00Z"'),
  jsonb_set(pg_temp.ev('45454545-4545-4545-8545-454545454545', '451', 2, '2026-03-01T13:05:00Z',
                       first_ts => '2026-03-01T13:30:00Z'), '{metadata,creationTimestamp}', '"2026-03-02T02:00:00Z"')), 'skew');
SELECT k8s_events.ingest(jsonb_set(pg_temp.ev('45454545-4545-4545-8545-454545454545', '452', 3, '2026-03-01T13:10:00Z',
                       first_ts => '2026-03-02T01:00:00Z'), '{metadata,creationTimestamp}', '"2026-03-02T02:00:00Z"'), 'skew');
SELECT resource_version, count, occurrences, first_time, event_time FROM k8s_events.events
WHERE cluster = 'skew' ORDER BY resource_version;

-- The same observation twice in one payload is stored once.
SELECT * FROM k8s_events.ingest_report(jsonb_build_array(
    pg_temp.ev('55555555-5555-4555-8555-555555555555', '500', 1, '2026-03-01T14:00:00Z'),
    pg_temp.ev('55555555-5555-4555-8555-555555555555', '500', 1, '2026-03-01T14:00:00Z')), 'prod');

-- events.k8s.io/v1: series.count is the count, note the message, regarding the object.
SELECT * FROM k8s_events.ingest_report('{
  "apiVersion": "events.k8s.io/v1", "kind": "Event",
  "metadata": {"name": "web-2.1800", "namespace": "shop", "uid": "66666666-6666-4666-8666-666666666666",
               "resourceVersion": "600", "creationTimestamp": "2026-03-01T15:00:00Z"},
  "eventTime": "2026-03-01T15:00:00.250000Z",
  "series": {"count": 4, "lastObservedTime": "2026-03-01T15:09:30.500000Z"},
  "reportingController": "kubelet", "reportingInstance": "kubelet-node-2", "action": "Restarting",
  "reason": "BackOff", "regarding": {"kind": "Pod", "namespace": "shop", "name": "web-2"},
  "note": "Back-off restarting failed container", "type": "Warning",
  "deprecatedSource": {"component": "kubelet", "host": "node-2"}, "deprecatedCount": 9}', 'prod');
SELECT event_time, first_time, namespace, kind, name, message, count, occurrences, source_component,
       source_host, reporting_controller, reporting_instance, action
FROM k8s_events.events WHERE uid = '66666666-6666-4666-8666-666666666666';

-- A scheduler Event in the minikube shape: eventTime set, firstTimestamp null, no count.
SELECT k8s_events.ingest('{"kind":"Event","apiVersion":"v1",
  "metadata":{"name":"web-3.1770b9","namespace":"shop","uid":"77777777-7777-4777-8777-777777777777","resourceVersion":"700","creationTimestamp":"2026-03-01T16:00:00Z"},
  "involvedObject":{"kind":"Pod","namespace":"shop","name":"web-3"},"reason":"Scheduled",
  "message":"Successfully assigned shop/web-3 to node-3","source":{},"firstTimestamp":null,"lastTimestamp":null,
  "type":"Normal","eventTime":"2026-03-01T16:00:00.764227Z","action":"Binding",
  "reportingComponent":"default-scheduler","reportingInstance":"default-scheduler-minikube"}', 'prod');
SELECT event_time, first_time, count, occurrences, source_component, source_host, reporting_controller, action
FROM k8s_events.events WHERE uid = '77777777-7777-4777-8777-777777777777';

-- A Node event: cluster-scoped object, so the Event's own namespace is used.
SELECT k8s_events.ingest('{"kind":"Event","metadata":{"name":"node-1.17","namespace":"default","uid":"88888888-8888-4888-8888-888888888888","resourceVersion":"800"},
  "involvedObject":{"kind":"Node","name":"node-1","uid":"node-1"},"reason":"NodeNotReady","message":"Node node-1 status is now: NodeNotReady",
  "source":{"component":"node-controller"},"firstTimestamp":"2026-03-01T17:00:00Z","lastTimestamp":"2026-03-01T17:00:00Z","count":1,"type":"Normal"}', 'prod');
SELECT namespace, kind, name, reason FROM k8s_events.events WHERE uid = '88888888-8888-4888-8888-888888888888';

-- Envelopes: EventList, List with "items": null, JSON array, watch frames, eventrouter lines.
SELECT * FROM k8s_events.ingest_report(jsonb_build_object('kind', 'EventList', 'apiVersion', 'v1',
    'metadata', jsonb_build_object('resourceVersion', '999'),
    'items', jsonb_build_array(pg_temp.ev('99999999-9999-4999-8999-000000000001', '901', 1, '2026-03-02T10:00:00Z'),
                               pg_temp.ev('99999999-9999-4999-8999-000000000002', '902', 1, '2026-03-02T10:00:01Z'))), 'env');
SELECT * FROM k8s_events.ingest_report('{"kind":"EventList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":null}', 'env');
SELECT * FROM k8s_events.ingest_report('{"kind":"List","apiVersion":"v1","items":[]}', 'env');
SELECT * FROM k8s_events.ingest_report('[]', 'env');
SELECT * FROM k8s_events.ingest_report(jsonb_build_array(
    jsonb_build_object('type', 'ADDED', 'object', pg_temp.ev('99999999-9999-4999-8999-000000000003', '903', 1, '2026-03-02T10:00:02Z')),
    jsonb_build_object('type', 'MODIFIED', 'object', pg_temp.ev('99999999-9999-4999-8999-000000000003', '904', 2, '2026-03-02T10:00:03Z')),
    jsonb_build_object('type', 'DELETED', 'object', pg_temp.ev('99999999-9999-4999-8999-000000000003', '905', 2, '2026-03-02T10:00:03Z')),
    '{"type":"BOOKMARK","object":{"kind":"Event","apiVersion":"v1","metadata":{"resourceVersion":"906"}}}'::jsonb,
    '{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (906)","reason":"Expired","code":410}}'::jsonb), 'env');
SELECT * FROM k8s_events.ingest_report(jsonb_build_object('type', 'ADDED',
    'object', pg_temp.ev('99999999-9999-4999-8999-000000000004', '907', 1, '2026-03-02T10:00:04Z')), 'env');
SELECT * FROM k8s_events.ingest_report(jsonb_build_object('verb', 'UPDATED',
    'event', pg_temp.ev('99999999-9999-4999-8999-000000000005', '909', 2, '2026-03-02T10:00:06Z'),
    'old_event', pg_temp.ev('99999999-9999-4999-8999-000000000005', '908', 1, '2026-03-02T10:00:05Z')), 'env');
SELECT * FROM k8s_events.ingest_report(jsonb_build_object('verb', 'ADDED',
    'event', pg_temp.ev('99999999-9999-4999-8999-000000000006', '910', 1, '2026-03-02T10:00:07Z')), 'env');
-- eventrouter's stdout sink with a namespace key wraps each line in an object of that key.
SELECT * FROM k8s_events.ingest_report(jsonb_build_object('eventrouter', jsonb_build_object('verb', 'ADDED',
    'event', pg_temp.ev('99999999-9999-4999-8999-000000000007', '911', 1, '2026-03-02T10:00:08Z'))), 'env');
-- Inside a watch frame the stored event is the object, not the frame.
SELECT resource_version, count, occurrences, event ? 'involvedObject' AS is_event, event->>'type' AS event_type,
       event->>'kind' AS kind
FROM k8s_events.events WHERE cluster = 'env' ORDER BY resource_version;

-- Bad items go to rejected with the reason; every good item around them is stored.
SELECT * FROM k8s_events.ingest_report(jsonb_build_array(
    pg_temp.ev('aaaaaaaa-aaaa-4aaa-8aaa-000000000001', '1001', 1, '2026-03-03T10:00:00Z'),
    '42'::jsonb,
    '"just a string"'::jsonb,
    '{"kind":"Event","reason":"NoMetadata","lastTimestamp":"2026-03-03T10:00:00Z"}'::jsonb,
    '{"kind":"Event","metadata":{"name":"x"},"lastTimestamp":"2026-03-03T10:00:00Z"}'::jsonb,
    '{"kind":"Event","metadata":{"uid":"not-a-uuid"},"lastTimestamp":"2026-03-03T10:00:00Z"}'::jsonb,
    '{"kind":"Event","metadata":{"uid":42},"lastTimestamp":"2026-03-03T10:00:00Z"}'::jsonb,
    jsonb_set(pg_temp.ev('aaaaaaaa-aaaa-4aaa-8aaa-000000000002', '1002', 1, '2026-03-03T10:00:00Z'), '{lastTimestamp}', '"03/03/2026 10:00"'),
    '{"kind":"Event","metadata":{"uid":"aaaaaaaa-aaaa-4aaa-8aaa-000000000003"}}'::jsonb,
    jsonb_set(pg_temp.ev('aaaaaaaa-aaaa-4aaa-8aaa-000000000004', '1004', 1, '2026-03-03T10:00:00Z'), '{count}', '"three"'),
    jsonb_set(pg_temp.ev('aaaaaaaa-aaaa-4aaa-8aaa-000000000005', '1005', 1, '2026-03-03T10:00:00Z'), '{count}', '-1'),
    jsonb_set(pg_temp.ev('aaaaaaaa-aaaa-4aaa-8aaa-000000000006', '1006', 1, '2026-03-03T10:00:00Z'), '{count}', '3000000000'),
    jsonb_set(pg_temp.ev('aaaaaaaa-aaaa-4aaa-8aaa-000000000007', '1007', 1, '2026-03-03T10:00:00Z'), '{reason}', '["BackOff"]'),
    jsonb_set(pg_temp.ev('aaaaaaaa-aaaa-4aaa-8aaa-000000000008', '1008', 1, '2026-03-03T10:00:00Z'), '{involvedObject}', '"web-1"'),
    '{"kind":"Pod","metadata":{"uid":"aaaaaaaa-aaaa-4aaa-8aaa-000000000009"},"lastTimestamp":"2026-03-03T10:00:00Z"}'::jsonb,
    '{"kind":"EventList","items":[]}'::jsonb,
    '[1, 2]'::jsonb,
    '{"type":"RESYNC","object":{}}'::jsonb,
    '{"type":"ADDED","object":[]}'::jsonb,
    '{"verb":"PATCHED","event":{}}'::jsonb,
    pg_temp.ev('aaaaaaaa-aaaa-4aaa-8aaa-000000000010', '1010', 1, '2026-03-03T10:00:01Z')), 'bad');
SELECT error, payload FROM k8s_events.rejected ORDER BY id;
SELECT uid FROM k8s_events.events WHERE cluster = 'bad' ORDER BY uid;

-- A list whose items is not an array, and a payload jansson cannot hold.
SELECT * FROM k8s_events.ingest_report('{"kind":"EventList","items":{"a":1}}', 'bad');
SELECT * FROM k8s_events.ingest_report('{"kind":"Event","count":1e400}', 'bad');
SELECT cluster, source, error FROM k8s_events.rejected WHERE id >= 20 ORDER BY id;

-- Retention: events older than k8s_events.retention are skipped and counted.
SET k8s_events.retention = '30 days';
SELECT received, stored, expired FROM k8s_events.ingest_report(jsonb_build_array(
    pg_temp.ev('bbbbbbbb-bbbb-4bbb-8bbb-000000000001', '1', 1, to_char(now() - interval '40 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               first_ts => to_char(now() - interval '40 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
    pg_temp.ev('bbbbbbbb-bbbb-4bbb-8bbb-000000000002', '2', 1, to_char(now() - interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               first_ts => to_char(now() - interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))), 'retention');
SELECT count(*) FROM k8s_events.events WHERE cluster = 'retention';
SET k8s_events.retention = '-1 day';
SET k8s_events.retention = 'forever';
SET k8s_events.partition_width = '1 month';
SET k8s_events.partition_width = '90 minutes';
SET k8s_events.partition_width = '30 minutes';
SET k8s_events.retention = '0';

-- Times no cluster can produce are rejected, not stored in a partition of year 9999.
SELECT received, stored, rejected FROM k8s_events.ingest_report(jsonb_build_array(
  pg_temp.ev('47474747-4747-4747-8747-000000000001', '1', 1, '9999-12-31T12:00:00Z', first_ts => '9999-12-31T12:00:00Z'),
  pg_temp.ev('47474747-4747-4747-8747-000000000002', '1', 1, '0001-01-01T00:00:00+01:00', first_ts => '0001-01-01T00:00:00+01:00'),
  pg_temp.ev('47474747-4747-4747-8747-000000000003', '1', 1, '1969-12-31T23:59:59Z', first_ts => '1969-12-31T23:59:59Z'),
  pg_temp.ev('47474747-4747-4747-8747-000000000004', '1', 1, '1970-01-01T00:00:00Z', first_ts => '1970-01-01T00:00:00Z')), 'range');
SELECT error FROM k8s_events.rejected WHERE cluster = 'range' ORDER BY id;
SELECT event_time FROM k8s_events.events WHERE cluster = 'range';

-- occurrences needs to see other writers' commits: only READ COMMITTED.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT k8s_events.ingest(pg_temp.ev('48484848-4848-4848-8848-000000000001', '1', 1, '2026-03-04T10:00:00Z'), 'rr');
ROLLBACK;

-- The cluster name is part of the key and must be given.
SELECT k8s_events.ingest(pg_temp.ev('11111111-1111-4111-8111-111111111111', '100', 1, '2026-03-01T10:00:00Z'), repeat('x', 254));
SELECT k8s_events.ingest(pg_temp.ev('11111111-1111-4111-8111-111111111111', '100', 1, '2026-03-01T10:00:00Z'), '');
SELECT k8s_events.ingest(NULL, 'prod') IS NULL AS strict_null;
-- The default cluster is 'default'.
SELECT k8s_events.ingest(pg_temp.ev('cccccccc-cccc-4ccc-8ccc-000000000001', '1', 1, '2026-03-04T10:00:00Z'));
SELECT DISTINCT cluster FROM k8s_events.events WHERE uid = 'cccccccc-cccc-4ccc-8ccc-000000000001';

-- The key cannot be stored twice, even by a plain INSERT.
INSERT INTO k8s_events.events (cluster, uid, resource_version, event_time, first_time, count, occurrences, event)
SELECT cluster, uid, resource_version, event_time, first_time, count, occurrences, event
FROM k8s_events.events WHERE uid = 'cccccccc-cccc-4ccc-8ccc-000000000001';

-- Partitions were made as needed, one per UTC day.
SELECT partition, range_from, range_to FROM k8s_events.partitions WHERE range_from < '2026-04-01';
