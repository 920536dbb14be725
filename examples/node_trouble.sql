-- (c) Trouble around a node going NotReady: within 10 minutes of a NodeNotReady, the
-- warnings that node reported: the crash-loop back-offs, OOM kills and failed probes of
-- the pods that ran on it and the kernel's OOM kills on the node itself.
-- Where a pod ran is the node whose kubelet reported the event (source_host): right also
-- for a StatefulSet's pod, whose name comes back on another node, which the scheduler's
-- last "Successfully assigned" would put on its newest node. Back-offs are the Warning
-- ones (a crash loop); the kubelet's image-pull back-off is a Normal event.
-- Driven by the NodeNotReady events (the reason index finds them); for each, the
-- partitions' warning index (cluster, source_host, event_time) reads just the node's
-- warnings of those 20 minutes.
SELECT n.cluster, n.name AS node, n.event_time AS node_not_ready_at,
       t.kind, t.namespace, t.name, t.reason, sum(t.occurrences) AS occurrences,
       min(t.event_time) - n.event_time AS first_seen_relative
FROM k8s_events.events AS n
CROSS JOIN LATERAL (
    SELECT e.kind,
           CASE WHEN e.kind = 'Pod' THEN e.namespace END AS namespace,
           CASE WHEN e.kind = 'Pod' THEN e.name
                ELSE 'process ' || k8s_events.regexp_extract(e.message, 'Killed process \d+ \(([^)]*)\)', 1)
           END AS name,
           e.reason, e.event_time, e.occurrences
    FROM k8s_events.events AS e
    WHERE e.cluster = n.cluster
      AND e.source_host = n.name
      AND e.type = 'Warning'
      AND e.event_time BETWEEN n.event_time - interval '10 minutes' AND n.event_time + interval '10 minutes'
      AND ((e.kind = 'Pod'
            AND (e.reason IN ('BackOff', 'OOMKilled')
                 OR (e.reason = 'Unhealthy' AND e.message ~ '^(Liveness|Readiness|Startup) probe failed')))
           OR (e.kind = 'Node' AND e.name = n.name AND e.reason = 'OOMKilling'))
    OFFSET 0 -- planned as it reads: once per NodeNotReady, not as a join over every warning
) AS t
WHERE n.kind = 'Node' AND n.reason = 'NodeNotReady'
GROUP BY n.cluster, n.name, n.event_time, t.kind, t.namespace, t.name, t.reason
ORDER BY n.event_time, n.name, t.kind DESC, t.namespace, t.name, t.reason;
