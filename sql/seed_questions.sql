-- The seed's three questions, answered by examples/*.sql on a small cluster story.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS k8s_events CASCADE;
CREATE EXTENSION k8s_events;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';
SET k8s_events.retention = '0';

CREATE FUNCTION pg_temp.ev(n int, kind text, ns text, name text, reason text, message text,
                           last_ts text, cnt int DEFAULT 1, host text DEFAULT NULL,
                           typ text DEFAULT 'Normal', uid_n int DEFAULT NULL)
RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object(
    'apiVersion', 'v1', 'kind', 'Event',
    'metadata', jsonb_build_object('name', name || '.' || n, 'namespace', coalesce(ns, 'default'),
                                   'uid', format('5eed0000-0000-4000-8000-%s', lpad(coalesce(uid_n, n)::text, 12, '0')),
                                   'resourceVersion', (1000 + n)::text),
    'involvedObject', jsonb_build_object('kind', kind, 'namespace', ns, 'name', name),
    'reason', reason, 'message', message, 'type', typ,
    'source', jsonb_build_object('component', CASE WHEN host IS NULL THEN 'controller' ELSE 'kubelet' END, 'host', host),
    'firstTimestamp', last_ts, 'lastTimestamp', last_ts, 'count', cnt)
$$;

SELECT k8s_events.ingest(jsonb_build_array(
  -- 1 June: shop/web rolls out 1.4.2 on two pods (one pulls, one has it cached).
  pg_temp.ev(1, 'ReplicaSet', 'shop', 'web-6b9f8', 'SuccessfulCreate', 'Created pod: web-6b9f8-aaaaa', '2026-06-01T09:00:00Z'),
  pg_temp.ev(2, 'Pod', 'shop', 'web-6b9f8-aaaaa', 'Scheduled', 'Successfully assigned shop/web-6b9f8-aaaaa to node-1', '2026-06-01T09:00:01Z'),
  pg_temp.ev(3, 'Pod', 'shop', 'web-6b9f8-aaaaa', 'Pulling', 'Pulling image "registry.example.com/shop/web:1.4.2"', '2026-06-01T09:00:05Z', host => 'node-1'),
  pg_temp.ev(4, 'ReplicaSet', 'shop', 'web-6b9f8', 'SuccessfulCreate', 'Created pod: web-6b9f8-bbbbb', '2026-06-01T09:00:01Z'),
  pg_temp.ev(5, 'Pod', 'shop', 'web-6b9f8-bbbbb', 'Scheduled', 'Successfully assigned shop/web-6b9f8-bbbbb to node-2', '2026-06-01T09:00:02Z'),
  pg_temp.ev(6, 'Pod', 'shop', 'web-6b9f8-bbbbb', 'Pulled', 'Container image "registry.example.com/shop/web:1.4.2" already present on machine', '2026-06-01T09:00:06Z', host => 'node-2'),
  pg_temp.ev(7, 'Pod', 'shop', 'web-6b9f8-bbbbb', 'BackOff', 'Back-off restarting failed container web in pod web-6b9f8-bbbbb_shop(1)', '2026-06-01T09:30:00Z', host => 'node-2', typ => 'Warning'),
  -- 2 June: payments/api deploys by digest on node-1; shop/web rolls out 1.5.0 on node-2.
  pg_temp.ev(10, 'ReplicaSet', 'payments', 'api-5f5f5', 'SuccessfulCreate', 'Created pod: api-5f5f5-ddddd', '2026-06-02T10:00:00Z'),
  pg_temp.ev(11, 'Pod', 'payments', 'api-5f5f5-ddddd', 'Scheduled', 'Successfully assigned payments/api-5f5f5-ddddd to node-1', '2026-06-02T10:00:01Z'),
  pg_temp.ev(12, 'Pod', 'payments', 'api-5f5f5-ddddd', 'Pulling', 'Pulling image "ghcr.io/acme/api@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa"', '2026-06-02T10:00:03Z', host => 'node-1'),
  pg_temp.ev(20, 'ReplicaSet', 'shop', 'web-7c4d2', 'SuccessfulCreate', 'Created pod: web-7c4d2-ccccc', '2026-06-02T14:00:00Z'),
  pg_temp.ev(21, 'Pod', 'shop', 'web-7c4d2-ccccc', 'Scheduled', 'Successfully assigned shop/web-7c4d2-ccccc to node-2', '2026-06-02T14:00:01Z'),
  pg_temp.ev(22, 'Pod', 'shop', 'web-7c4d2-ccccc', 'Pulling', 'Pulling image "registry.example.com/shop/web:1.5.0"', '2026-06-02T14:00:04Z', host => 'node-2'),
  pg_temp.ev(23, 'Pod', 'shop', 'web-7c4d2-ccccc', 'Pulled', 'Successfully pulled image "registry.example.com/shop/web:1.5.0" in 1.204s (1.204s including waiting)', '2026-06-02T14:00:05Z', host => 'node-2'),
  -- node-1 flaps twice around 10:30; its pods suffer.
  pg_temp.ev(30, 'Node', NULL, 'node-1', 'NodeNotReady', 'Node node-1 status is now: NodeNotReady', '2026-06-02T10:30:00Z', host => 'node-1'),
  pg_temp.ev(31, 'Node', NULL, 'node-1', 'NodeReady', 'Node node-1 status is now: NodeReady', '2026-06-02T10:45:00Z', host => 'node-1'),
  pg_temp.ev(32, 'Node', NULL, 'node-1', 'NodeNotReady', 'Node node-1 status is now: NodeNotReady', '2026-06-02T10:50:00Z', host => 'node-1'),
  pg_temp.ev(33, 'Pod', 'payments', 'api-5f5f5-ddddd', 'BackOff', 'Back-off restarting failed container api in pod api-5f5f5-ddddd_payments(2)', '2026-06-02T10:27:00Z', 1, 'node-1', 'Warning'),
  pg_temp.ev(34, 'Pod', 'payments', 'api-5f5f5-ddddd', 'BackOff', 'Back-off restarting failed container api in pod api-5f5f5-ddddd_payments(2)', '2026-06-02T10:33:00Z', 3, 'node-1', 'Warning', 33),
  pg_temp.ev(35, 'Pod', 'payments', 'api-5f5f5-ddddd', 'Unhealthy', 'Liveness probe failed: Get "http://10.0.0.5:8080/healthz": dial tcp 10.0.0.5:8080: connect: connection refused', '2026-06-02T10:29:00Z', host => 'node-1', typ => 'Warning'),
  pg_temp.ev(36, 'Node', NULL, 'node-1', 'OOMKilling', 'Memory cgroup out of memory: Killed process 4242 (web) total-vm:4403686kB, anon-rss:484176kB, file-rss:48173kB, shmem-rss:0kB, UID:1000 pgtables:2159kB oom_score_adj:934', '2026-06-02T10:52:00Z', host => 'node-1', typ => 'Warning'),
  pg_temp.ev(37, 'Pod', 'shop', 'web-6b9f8-aaaaa', 'BackOff', 'Back-off restarting failed container web in pod web-6b9f8-aaaaa_shop(4)', '2026-06-02T10:53:00Z', host => 'node-1', typ => 'Warning'),
  -- node-2 goes NotReady at 15:20: a readiness failure just before, and a pod that was
  -- never seen scheduled, placed by its kubelet's source host.
  pg_temp.ev(40, 'Node', NULL, 'node-2', 'NodeNotReady', 'Node node-2 status is now: NodeNotReady', '2026-06-02T15:20:00Z', host => 'node-2'),
  pg_temp.ev(41, 'Pod', 'shop', 'web-7c4d2-ccccc', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', '2026-06-02T15:15:00Z', host => 'node-2', typ => 'Warning'),
  pg_temp.ev(42, 'Pod', 'batch', 'report-28001-xyz12', 'BackOff', 'Back-off restarting failed container report in pod report-28001-xyz12_batch(3)', '2026-06-02T15:25:00Z', host => 'node-2', typ => 'Warning'),
  -- Far from any NodeNotReady: not reported.
  pg_temp.ev(43, 'Pod', 'shop', 'web-7c4d2-ccccc', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', '2026-06-02T18:00:00Z', host => 'node-2', typ => 'Warning'),
  -- A StatefulSet's pod crash-loops on node-1 during its first NotReady, and its name is
  -- scheduled again on node-2 the next day: its trouble stays node-1's.
  pg_temp.ev(50, 'Pod', 'payments', 'db-0', 'Scheduled', 'Successfully assigned payments/db-0 to node-1', '2026-06-02T09:00:00Z'),
  pg_temp.ev(51, 'Pod', 'payments', 'db-0', 'BackOff', 'Back-off restarting failed container db in pod db-0_payments(5)', '2026-06-02T10:31:00Z', host => 'node-1', typ => 'Warning'),
  pg_temp.ev(52, 'Pod', 'payments', 'db-0', 'Scheduled', 'Successfully assigned payments/db-0 to node-2', '2026-06-03T09:00:00Z'),
  -- An image-pull back-off (a Normal event, not a crash loop) near node-1's NotReady.
  pg_temp.ev(53, 'Pod', 'payments', 'api-5f5f5-ddddd', 'BackOff', 'Back-off pulling image "ghcr.io/acme/api:2"', '2026-06-02T10:34:00Z', host => 'node-1')
), 'prod');

-- (a) When was each image last deployed, per namespace?
\i examples/deploy_history.sql
-- (b) NodeNotReady per node, bucketed by hour.
\i examples/node_not_ready.sql
-- (c) OOM kills on a node and back-offs / probe failures of its pods, near its NodeNotReady.
\i examples/node_trouble.sql
