-- (c) Pod trouble near a node going NotReady: OOM kills, crash-loop back-offs and failed
-- probes on pods of a node within 10 minutes of that node's NodeNotReady.
-- The scheduler's "Successfully assigned ns/pod to node" says where a pod ran;
-- kubelet events also carry the node as source_host.
WITH placement AS (
    SELECT DISTINCT ON (cluster, namespace, pod) cluster, namespace, pod, node
    FROM (SELECT cluster, namespace, k8s_events.pod_from_message(message) AS pod,
                 k8s_events.regexp_extract(message, ' to (\S+)$', 1) AS node, event_time
          FROM k8s_events.events
          WHERE kind = 'Pod' AND reason = 'Scheduled') AS s
    ORDER BY cluster, namespace, pod, event_time DESC
), trouble AS (
    SELECT e.cluster, e.namespace, e.name AS pod, e.reason, e.event_time, e.occurrences,
           coalesce(p.node, e.source_host) AS node
    FROM k8s_events.events AS e
    LEFT JOIN placement AS p ON p.cluster = e.cluster AND p.namespace = e.namespace AND p.pod = e.name
    WHERE e.kind = 'Pod'
      AND (e.reason IN ('OOMKilled', 'OOMKilling', 'BackOff')
           OR (e.reason = 'Unhealthy' AND e.message ~ '^(Liveness|Readiness|Startup) probe failed'))
), not_ready AS (
    SELECT cluster, name AS node, event_time
    FROM k8s_events.events
    WHERE kind = 'Node' AND reason = 'NodeNotReady'
)
SELECT n.cluster, n.node, n.event_time AS node_not_ready_at, t.namespace, t.pod, t.reason,
       sum(t.occurrences) AS occurrences,
       min(t.event_time) - n.event_time AS first_seen_relative
FROM not_ready AS n
JOIN trouble AS t ON t.cluster = n.cluster AND t.node = n.node
                 AND t.event_time BETWEEN n.event_time - interval '10 minutes'
                                      AND n.event_time + interval '10 minutes'
GROUP BY n.cluster, n.node, n.event_time, t.namespace, t.pod, t.reason
ORDER BY n.event_time, n.node, t.namespace, t.pod, t.reason;
