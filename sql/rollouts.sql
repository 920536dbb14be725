-- pod_owners, pod_images and rollouts: kept by the write path from controllers' and the
-- kubelet's messages, equal to a recomputation (verify_summaries() returns no row) whatever
-- order and batches the events arrive in, and equal to the join the seed's deploy-history
-- query makes over the raw rows.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS k8s_events CASCADE;
CREATE EXTENSION k8s_events;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET k8s_events.retention = '0';

-- 3 namespaces; in each, ReplicaSets web-<v> creating 3 pods each (two images a pod, one
-- of them shared by every version), a StatefulSet db creating db-0 twice (the name reused
-- a day later), a Job, and pods whose pulls arrive without any creation (a bare pod). Some
-- pulls are repeated observations of one event (count 2, 3).
CREATE TEMP TABLE story (i int, kind text, ns text, name text, reason text, message text, t timestamptz, cnt int, uid int);
INSERT INTO story
SELECT row_number() OVER (), * FROM (
    SELECT 'ReplicaSet', 'ns' || n, 'web-' || v, 'SuccessfulCreate', 'Created pod: web-' || v || '-p' || p,
           timestamptz '2026-05-04 08:00' + v * interval '5 hours' + p * interval '1 minute', 1,
           n * 1000 + v * 10 + p
    FROM generate_series(1, 3) AS n, generate_series(1, 4) AS v, generate_series(1, 3) AS p
    UNION ALL
    SELECT 'Pod', 'ns' || n, 'web-' || v || '-p' || p, CASE WHEN p = 1 THEN 'Pulling' ELSE 'Pulled' END,
           CASE WHEN p = 1 THEN 'Pulling image "registry.example.com/web:' || v || '.0"'
                ELSE 'Container image "registry.example.com/web:' || v || '.0" already present on machine' END,
           timestamptz '2026-05-04 08:00' + v * interval '5 hours' + p * interval '1 minute' + interval '5 seconds', c,
           50000 + n * 1000 + v * 10 + p
    FROM generate_series(1, 3) AS n, generate_series(1, 4) AS v, generate_series(1, 3) AS p, generate_series(1, 2) AS c
    UNION ALL
    SELECT 'Pod', 'ns' || n, 'web-' || v || '-p' || p, 'Pulled',
           'Successfully pulled image "docker.io/envoyproxy/envoy:v1.30" in 1.2s (1.2s including waiting)',
           timestamptz '2026-05-04 08:00' + v * interval '5 hours' + p * interval '1 minute' + interval '9 seconds', 1,
           90000 + n * 1000 + v * 10 + p
    FROM generate_series(1, 3) AS n, generate_series(1, 4) AS v, generate_series(1, 3) AS p
    UNION ALL
    SELECT 'StatefulSet', 'ns1', 'db', 'SuccessfulCreate', 'create Pod db-0 in StatefulSet db successful',
           timestamptz '2026-05-04 09:00' + d * interval '1 day', 1, 200000 + d
    FROM generate_series(0, 1) AS d
    UNION ALL
    SELECT 'Pod', 'ns1', 'db-0', 'Pulling', 'Pulling image "postgres:15"',
           timestamptz '2026-05-04 09:00:03' + d * interval '1 day', 1, 210000 + d
    FROM generate_series(0, 1) AS d
    UNION ALL
    SELECT 'Job', 'ns2', 'backup-1', 'SuccessfulCreate', 'Created pod: backup-1-xk2p4',
           timestamptz '2026-05-05 02:00', 1, 300000
    UNION ALL
    SELECT 'Pod', 'ns2', 'backup-1-xk2p4', 'Pulled', 'Container image "registry.example.com/backup:2" already present on machine',
           timestamptz '2026-05-05 02:00:02', 1, 300001
    UNION ALL
    SELECT 'Pod', 'ns3', 'bare', 'Pulling', 'Pulling image "busybox"', timestamptz '2026-05-05 03:00', 1, 300002
    UNION ALL
    -- Messages that name nothing, and events the rollouts ignore.
    SELECT 'ReplicaSet', 'ns1', 'web-9', 'SuccessfulCreate', 'Created pod:', timestamptz '2026-05-05 04:00', 1, 300003
    UNION ALL
    SELECT 'ReplicaSet', 'ns1', 'web-9', 'SuccessfulDelete', 'Deleted pod: web-9-aaaaa', timestamptz '2026-05-05 04:01', 1, 300004
    UNION ALL
    SELECT 'Pod', 'ns1', 'web-9-aaaaa', 'Failed', 'Failed to pull image "nope:1": not found', timestamptz '2026-05-05 04:02', 1, 300005
) AS s(kind, ns, name, reason, message, t, cnt, uid);

CREATE TEMP TABLE obs AS
SELECT i, jsonb_build_object(
    'apiVersion', 'v1', 'kind', 'Event',
    'metadata', jsonb_build_object('name', name || '.' || uid, 'namespace', ns,
                                   'uid', format('7011a000-0000-4000-8000-%s', lpad(uid::text, 12, '0')),
                                   'resourceVersion', (1000 + i)::text),
    'involvedObject', jsonb_build_object('kind', kind, 'namespace', ns, 'name', name),
    'reason', reason, 'message', message, 'type', 'Normal',
    'firstTimestamp', to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'lastTimestamp', to_char(t + (cnt - 1) * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'count', cnt) AS event
FROM story;

-- The same events into four clusters: in order in batches of 7, newest first in batches of
-- 3 (every pod's pulls before its creation), shuffled one call each, and all at once.
SET k8s_events.batch_size = 7;
SELECT stored FROM k8s_events.ingest_report((SELECT jsonb_agg(event ORDER BY i) FROM obs), 'in_order');
SET k8s_events.batch_size = 3;
SELECT stored FROM k8s_events.ingest_report((SELECT jsonb_agg(event ORDER BY i DESC) FROM obs), 'reversed');
RESET k8s_events.batch_size;
SELECT sum((k8s_events.ingest_report(event, 'shuffled')).stored) FROM (SELECT event FROM obs ORDER BY md5(i::text)) AS o;
SELECT stored FROM k8s_events.ingest_report((SELECT jsonb_agg(event ORDER BY md5(i::text)) FROM obs), 'one_batch');
SELECT count(*) AS differences FROM k8s_events.verify_summaries();

-- The same rollouts whatever the order: the clusters differ in nothing but their name.
SELECT c.cluster, count(*) AS differing_rows
FROM (SELECT DISTINCT cluster FROM k8s_events.rollouts) AS c,
     LATERAL ((SELECT namespace, owner_kind, image, pods, last_deployed, last_owner
               FROM k8s_events.rollouts WHERE cluster = c.cluster
               EXCEPT
               SELECT namespace, owner_kind, image, pods, last_deployed, last_owner
               FROM k8s_events.rollouts WHERE cluster = 'in_order')
              UNION ALL
              (SELECT namespace, owner_kind, image, pods, last_deployed, last_owner
               FROM k8s_events.rollouts WHERE cluster = 'in_order'
               EXCEPT
               SELECT namespace, owner_kind, image, pods, last_deployed, last_owner
               FROM k8s_events.rollouts WHERE cluster = c.cluster)) AS d
GROUP BY 1 ORDER BY 1;

-- What they say: each version's image on its 3 pods, the shared image on all 12 pods of a
-- namespace (last by web-4), db-0 counted once though created twice, the Job's pod; the
-- bare pod and the messages that name nothing are in no rollout.
SELECT namespace, owner_kind, image, pods, last_deployed, last_owner
FROM k8s_events.rollouts WHERE cluster = 'shuffled' AND namespace IN ('ns1', 'ns2')
ORDER BY namespace, owner_kind, image;
SELECT namespace, pod, owner_kind, owner, created_time, first_time, observations
FROM k8s_events.pod_owners WHERE cluster = 'reversed' AND pod IN ('db-0', 'web-1-p1', 'backup-1-xk2p4')
ORDER BY 1, 2;
SELECT namespace, pod, image, first_time, last_time, observations
FROM k8s_events.pod_images WHERE cluster = 'reversed' AND pod IN ('web-1-p2', 'bare')
ORDER BY 1, 2, 3;

-- Equal to the seed's deploy-history query over the raw rows (the join it made itself).
SELECT count(*) AS differences FROM (
    (SELECT cluster, namespace, image, last_deployed, pods, last_owner
     FROM k8s_events.rollouts WHERE owner_kind = 'ReplicaSet'
     EXCEPT
     SELECT c.cluster, c.namespace, p.image, max(c.event_time), count(DISTINCT c.pod),
            (array_agg(c.replicaset ORDER BY c.event_time DESC, c.replicaset COLLATE "C" DESC))[1]
     FROM (SELECT cluster, namespace, name AS replicaset, k8s_events.pod_from_message(message) AS pod, event_time
           FROM k8s_events.events WHERE kind = 'ReplicaSet' AND reason = 'SuccessfulCreate') AS c
     JOIN (SELECT DISTINCT cluster, namespace, name AS pod, k8s_events.image_from_message(message) AS image
           FROM k8s_events.events WHERE kind = 'Pod' AND reason IN ('Pulling', 'Pulled')) AS p
       USING (cluster, namespace, pod)
     WHERE p.image IS NOT NULL
     GROUP BY c.cluster, c.namespace, p.image)
) AS d;

-- A new creation of a pod name by another controller of the same kind: the newest wins,
-- the pod is still counted once.
SELECT k8s_events.ingest(jsonb_build_object(
    'apiVersion', 'v1', 'kind', 'Event',
    'metadata', jsonb_build_object('name', 'x.1', 'namespace', 'ns1', 'uid', '7011a000-0000-4000-8000-999999999999',
                                   'resourceVersion', '5000'),
    'involvedObject', jsonb_build_object('kind', 'ReplicaSet', 'namespace', 'ns1', 'name', 'web-1b'),
    'reason', 'SuccessfulCreate', 'message', 'Created pod: web-1-p1', 'type', 'Normal',
    'lastTimestamp', '2026-05-06T00:00:00Z', 'count', 1), 'in_order');
-- and its pod pulls the image again (a later observation of the pod's image, not a new pair).
SELECT k8s_events.ingest(jsonb_build_object(
    'apiVersion', 'v1', 'kind', 'Event',
    'metadata', jsonb_build_object('name', 'x.2', 'namespace', 'ns1', 'uid', '7011a000-0000-4000-8000-999999999998',
                                   'resourceVersion', '5001'),
    'involvedObject', jsonb_build_object('kind', 'Pod', 'namespace', 'ns1', 'name', 'web-1-p1'),
    'reason', 'Pulled', 'message', 'Container image "registry.example.com/web:1.0" already present on machine',
    'type', 'Normal', 'lastTimestamp', '2026-05-06T00:00:05Z', 'count', 1), 'in_order');
SELECT pods, last_deployed, last_owner FROM k8s_events.rollouts
WHERE cluster = 'in_order' AND namespace = 'ns1' AND image = 'registry.example.com/web:1.0';
SELECT count(*) AS differences FROM k8s_events.verify_summaries();

-- A rolled-back batch leaves nothing.
BEGIN;
SELECT k8s_events.ingest((SELECT jsonb_agg(event) FROM obs), 'rolled_back');
ROLLBACK;
SELECT count(*) FROM k8s_events.rollouts WHERE cluster = 'rolled_back';

-- verify_summaries() sees tampering, rebuild_summaries() mends it.
UPDATE k8s_events.rollouts SET pods = pods + 1 WHERE cluster = 'reversed' AND image = 'postgres:15';
DELETE FROM k8s_events.pod_images WHERE cluster = 'shuffled' AND pod = 'web-2-p3';
SELECT summary, count(*) AS differences FROM k8s_events.verify_summaries() GROUP BY 1 ORDER BY 1;
SELECT summary, rows FROM k8s_events.rebuild_summaries() WHERE summary IN ('pod_owners', 'pod_images', 'rollouts');
SELECT count(*) AS differences FROM k8s_events.verify_summaries();

-- They outlive the raw rows (drop_partitions leaves them), and summary_retention expires
-- them by the day, recomputing the rollouts that lose a pod.
SELECT count(*) > 0 AS dropped FROM k8s_events.drop_partitions(now() - timestamptz '2026-05-06 00:00');
SELECT count(*) AS events_left FROM k8s_events.events;
SELECT count(*) AS rollouts_kept FROM k8s_events.rollouts;
SET k8s_events.summary_retention = '1 day';
SET k8s_events.retention = '0';
-- The cutoff is now - 1 day and the raw rows start 2026-05-06: what was last seen before
-- 2026-05-06 goes (db-0, created again on 05-05, too). Only web-1-p1 of ns1 in cluster
-- in_order was created and pulled again on 05-06: its rollout is recomputed, 3 pods to 1.
SELECT count(*) FROM k8s_events.drop_partitions();
SELECT count(*) AS owners_left, count(*) FILTER (WHERE created_time < '2026-05-06') AS owners_expired_left
FROM k8s_events.pod_owners;
SELECT cluster, namespace, owner_kind, image, pods, last_owner FROM k8s_events.rollouts ORDER BY 1, 2, 3, 4;
SELECT count(*) AS differences FROM k8s_events.verify_summaries();
RESET k8s_events.summary_retention;
