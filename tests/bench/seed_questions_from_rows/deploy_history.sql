-- (a) Deploy history: when each image was last rolled out, per namespace, newest first.
-- A ReplicaSet's SuccessfulCreate names the pod it made; that pod's Pulling (or, for a
-- cached image, Pulled) event names the image.
WITH created AS (
    SELECT cluster, namespace, name AS replicaset,
           k8s_events.pod_from_message(message) AS pod, event_time
    FROM k8s_events.events
    WHERE kind = 'ReplicaSet' AND reason = 'SuccessfulCreate'
), pulled AS (
    SELECT DISTINCT cluster, namespace, name AS pod, k8s_events.image_from_message(message) AS image
    FROM k8s_events.events
    WHERE kind = 'Pod' AND reason IN ('Pulling', 'Pulled')
)
SELECT c.cluster, c.namespace, p.image,
       max(c.event_time) AS last_deployed,
       count(DISTINCT c.pod) AS pods,
       (array_agg(c.replicaset ORDER BY c.event_time DESC))[1] AS replicaset
FROM created AS c
JOIN pulled AS p USING (cluster, namespace, pod)
WHERE p.image IS NOT NULL
GROUP BY c.cluster, c.namespace, p.image
ORDER BY last_deployed DESC, c.namespace, p.image;
