-- (b) NodeNotReady per node, by hour.
SELECT k8s_events.time_bucket('1 hour', event_time) AS hour,
       cluster,
       name AS node,
       sum(occurrences) AS not_ready
FROM k8s_events.events
WHERE kind = 'Node' AND reason = 'NodeNotReady'
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;
