-- (a) Deploy history: when each image was last rolled out, per namespace, newest first.
-- A ReplicaSet's SuccessfulCreate names the pod it made ("Created pod: X"); that pod's
-- Pulling (or, for a cached image, Pulled) event names the image. The write path keeps
-- the two joined in k8s_events.rollouts (k8s_events.pod_owners and k8s_events.pod_images
-- hold the pods), so this reads one row per namespace and image.
SELECT cluster, namespace, image,
       last_deployed,
       pods,
       last_owner AS replicaset
FROM k8s_events.rollouts
WHERE owner_kind = 'ReplicaSet'
ORDER BY last_deployed DESC, namespace, image;
