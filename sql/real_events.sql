-- Real Event files from ../shared/data/real-events (see its README.txt): EventLists,
-- bare JSON arrays, "items": null, both API shapes, 2017 to 2025 clusters.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS k8s_events CASCADE;
CREATE EXTENSION k8s_events;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET k8s_events.retention = '0';  -- these events are years old

\set f `cat ../shared/data/real-events/troubleshoot/pkg-analyze-files-events/message-container-creating-failed-mount.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'minikube');
\set f `cat ../shared/data/real-events/troubleshoot/pkg-analyze-files-events/message-image-pull-fail.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'minikube');
\set f `cat ../shared/data/real-events/troubleshoot/pkg-analyze-files-events/message-pod-init-crashloop-backoff.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'minikube');
\set f `cat ../shared/data/real-events/troubleshoot/baseline-supportbundle/cluster-resources/events/kube-system.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'k3s');
\set f `cat ../shared/data/real-events/troubleshoot/baseline-supportbundle/cluster-resources/events/default.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'k3s');
\set f `cat ../shared/data/real-events/troubleshoot/baseline-supportbundle/cluster-resources/events/kube-public.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'k3s');
\set f `cat ../shared/data/real-events/troubleshoot/baseline-supportbundle/cluster-resources/events/kube-node-lease.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'k3s');
\set f `cat ../shared/data/real-events/troubleshoot/baseline-supportbundle/run-example/run-example-events.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'k3s');
\set f `cat ../shared/data/real-events/troubleshoot/baseline-supportbundle/run-pod-example/run-pod-example-events.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'k3s');
\set f `cat ../shared/data/real-events/troubleshoot/testdata-support-bundle/cluster-resources/events/default.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'bundle-2022');
\set f `cat ../shared/data/real-events/troubleshoot/testdata-support-bundle/cluster-resources/events/kube-system.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'bundle-2022');
\set f `cat ../shared/data/real-events/sonobuoy/results-0.10/kube-system-Events.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'aws-2017');
\set f `cat ../shared/data/real-events/sonobuoy/results-0.10/default-Events.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'aws-2017');
\set f `cat ../shared/data/real-events/sonobuoy/results-0.10/heptio-sonobuoy-Events.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'aws-2017');
\set f `cat ../shared/data/real-events/sonobuoy/results-0.9/heptio-sonobuoy-Events.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'aws-2017-b');

-- What was stored, per cluster.
SELECT cluster, count(*) AS rows, count(DISTINCT uid) AS events, sum(occurrences) AS occurrences,
       min(event_time) AS first, max(event_time) AS last
FROM k8s_events.events GROUP BY cluster ORDER BY cluster;

-- Invariants on real data: event_time is event_time(event); first_time <= event_time;
-- an event observed once has occurrences = count; nothing rejected.
SELECT count(*) FILTER (WHERE event_time IS DISTINCT FROM k8s_events.event_time(event)) AS time_mismatch,
       count(*) FILTER (WHERE first_time > event_time) AS first_after_last,
       count(*) FILTER (WHERE occurrences <> count) AS occurrences_not_count,
       count(*) FILTER (WHERE kind IS NULL OR name IS NULL OR reason IS NULL) AS missing_object
FROM k8s_events.events;
SELECT count(*) AS rejected FROM k8s_events.rejected;
-- Two minikube files caught the same events at two moments: the later observation
-- adds only the increase of count.
SELECT uid, resource_version, count, occurrences, event_time FROM k8s_events.events
WHERE uid IN (SELECT uid FROM k8s_events.events GROUP BY uid HAVING count(*) > 1)
ORDER BY uid, count;

-- Loading everything again stores nothing new.
\set f `cat ../shared/data/real-events/troubleshoot/pkg-analyze-files-events/message-image-pull-fail.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'minikube');
\set f `cat ../shared/data/real-events/sonobuoy/results-0.10/kube-system-Events.json`
SELECT * FROM k8s_events.ingest_report(:'f', 'aws-2017');

-- The minikube scheduler events: eventTime with microseconds, firstTimestamp null.
SELECT name, reason, event_time, first_time, count, reporting_controller, action, event->>'firstTimestamp' AS first_timestamp
FROM k8s_events.events WHERE cluster = 'minikube' AND reason = 'Scheduled' ORDER BY event_time LIMIT 3;
-- The event with a series.
SELECT name, reason, count, occurrences, event_time, event->'series' AS series
FROM k8s_events.events WHERE event ? 'series' AND event->'series' <> 'null';
-- Highest kubelet counts: count and lastTimestamp.
SELECT cluster, kind, name, reason, count, first_time, event_time
FROM k8s_events.events ORDER BY count DESC, event_time LIMIT 5;
-- k3s Node events live in the Event's namespace; Addon and HelmChart kinds are kept as they are.
SELECT kind, namespace, count(*) FROM k8s_events.events WHERE cluster = 'k3s' GROUP BY 1, 2 ORDER BY 1, 2;
-- 2017 events: no eventTime, reportingComponent or series at all; selfLink is kept in the event.
SELECT count(*) AS rows, count(*) FILTER (WHERE event ? 'eventTime') AS with_event_time,
       count(*) FILTER (WHERE event->'metadata' ? 'selfLink') AS with_self_link,
       count(reporting_controller) AS with_reporting_controller, count(source_component) AS with_source
FROM k8s_events.events WHERE cluster LIKE 'aws-2017%';

-- The API's round-trip fixtures set every field of both shapes. Their uid is a
-- placeholder, which is rejected; with a real uid every column is filled.
\set core `cat ../shared/data/real-events/kubernetes-api/testdata-HEAD/core.v1.Event.json`
\set v1 `cat ../shared/data/real-events/kubernetes-api/testdata-HEAD/events.k8s.io.v1.Event.json`
SELECT k8s_events.event_time(:'core') AS core_event_time, k8s_events.event_time(:'v1') AS v1_event_time;
SELECT * FROM k8s_events.ingest_report(:'core', 'fixtures');
SELECT error FROM k8s_events.rejected WHERE cluster = 'fixtures';
SELECT k8s_events.ingest(jsonb_build_array(
    jsonb_set(:'core'::jsonb, '{metadata,uid}', '"0f0f0f0f-0000-4000-8000-000000000001"'),
    jsonb_set(:'v1'::jsonb, '{metadata,uid}', '"0f0f0f0f-0000-4000-8000-000000000002"')), 'fixtures');
SELECT event->>'apiVersion' AS api, resource_version, event_time, first_time, namespace, kind, name, type,
       reason, message, count, occurrences, source_component, source_host, reporting_controller,
       reporting_instance, action
FROM k8s_events.events WHERE cluster = 'fixtures' ORDER BY api;
