-- (c) Trouble around a node going NotReady: within 10 minutes of a NodeNotReady, the
-- kernel's OOM kills on that node (OOMKilling, reported on the Node) and the crash-loop
-- back-offs and failed probes of the pods that ran on it.
-- Where a pod ran: the scheduler's "Successfully assigned ns/pod to node", else the
-- kubelet's source_host.
WITH placement AS (
    SELECT DISTINCT ON (cluster, namespace, pod) cluster, namespace, pod, node
    FROM (SELECT cluster, namespace, k8s_events.pod_from_message(message) AS pod,
                 k8s_events.regexp_extract(message, ' to (\S+)$', 1) AS node, event_time
          FROM k8s_events.events
          WHERE kind = 'Pod' AND reason = 'Scheduled') AS s
    ORDER BY cluster, namespace, pod, event_time DESC
), trouble AS (
    SELECT e.cluster, coalesce(p.node, e.source_host) AS node, e.kind, e.namespace, e.name,
           e.reason, e.event_time, e.occurrences
    FROM k8s_events.events AS e
    LEFT JOIN placement AS p ON p.cluster = e.cluster AND p.namespace = e.namespace AND p.pod = e.name
    WHERE e.kind = 'Pod'
      AND (e.reason IN ('BackOff', 'OOMKilled')
           OR (e.reason = 'Unhealthy' AND e.message ~ '^(Liveness|Readiness|Startup) probe failed'))
    UNION ALL
    SELECT e.cluster, e.name, e.kind, NULL,
           'process ' || k8s_events.regexp_extract(e.message, 'Killed process \d+ \(([^)]*)\)', 1),
           e.reason, e.event_time, e.occurrences
    FROM k8s_events.events AS e
    WHERE e.kind = 'Node' AND e.reason = 'OOMKilling'
), not_ready AS (
    SELECT cluster, name AS node, event_time
    FROM k8s_events.events
    WHERE kind = 'Node' AND reason = 'NodeNotReady'
)
SELECT n.cluster, n.node, n.event_time AS node_not_ready_at, t.kind, t.namespace, t.name,
       t.reason, sum(t.occurrences) AS occurrences,
       min(t.event_time) - n.event_time AS first_seen_relative
FROM not_ready AS n
JOIN trouble AS t ON t.cluster = n.cluster AND t.node = n.node
                 AND t.event_time BETWEEN n.event_time - interval '10 minutes'
                                      AND n.event_time + interval '10 minutes'
GROUP BY n.cluster, n.node, n.event_time, t.kind, t.namespace, t.name, t.reason
ORDER BY n.event_time, n.node, t.kind DESC, t.namespace, t.name, t.reason;
