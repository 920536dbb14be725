-- k8s_events: who created which pod, which images pods pulled, and so when each image was
-- rolled out, kept by the write path (extension/rollouts.c) from the messages the
-- controllers and the kubelet write (the parsers of pod_from_message() and
-- image_from_message()). (The 1.0 to 1.1 update script includes this file as it is.)
--
-- A pod's creation and its image pulls are different events, about different objects,
-- that arrive in any order: each is kept in its own table, and the write path joins what a
-- batch adds to what is stored, so that rollouts always equals the join of the two.
-- Like event_counts they outlive the raw rows, for k8s_events.summary_retention: a deploy
-- history of two years after 120 days of events.

-- The controller that created each pod: "Created pod: X" of a ReplicaSet, Job, DaemonSet
-- or ReplicationController, "create Pod X in StatefulSet S successful" of a StatefulSet.
CREATE TABLE k8s_events.pod_owners (
    cluster      text        NOT NULL,
    namespace    text        NOT NULL,
    pod          text        NOT NULL,
    owner_kind   text        NOT NULL,
    owner        text        NOT NULL,
    created_time timestamptz NOT NULL,
    first_time   timestamptz NOT NULL,
    observations bigint      NOT NULL,
    CONSTRAINT pod_owners_key UNIQUE (cluster, namespace, pod, owner_kind)
);
COMMENT ON TABLE k8s_events.pod_owners IS
    'The controller that created each pod, from its SuccessfulCreate events (one row per pod and owner kind; the newest creation when a name was reused).';
COMMENT ON COLUMN k8s_events.pod_owners.created_time IS
    'event_time of the newest SuccessfulCreate naming the pod; owner is the controller of that one.';

-- The images each pod pulled or found present: Pulling and Pulled events.
CREATE TABLE k8s_events.pod_images (
    cluster      text        NOT NULL,
    namespace    text        NOT NULL,
    pod          text        NOT NULL,
    image        text        NOT NULL,
    first_time   timestamptz NOT NULL,
    last_time    timestamptz NOT NULL,
    observations bigint      NOT NULL,
    CONSTRAINT pod_images_key UNIQUE (cluster, namespace, pod, image)
);
COMMENT ON TABLE k8s_events.pod_images IS
    'The images each pod pulled or found present on its node (Pulling and Pulled events), as the kubelet wrote them.';

-- pod_owners joined with pod_images, per namespace, owner kind and image.
CREATE TABLE k8s_events.rollouts (
    cluster       text        NOT NULL,
    namespace     text        NOT NULL,
    owner_kind    text        NOT NULL,
    image         text        NOT NULL,
    pods          bigint      NOT NULL,
    last_deployed timestamptz NOT NULL,
    last_owner    text        NOT NULL,
    CONSTRAINT rollouts_key UNIQUE (cluster, namespace, owner_kind, image)
);
CREATE INDEX rollouts_last_idx ON k8s_events.rollouts (cluster, last_deployed);
COMMENT ON TABLE k8s_events.rollouts IS
    'Each image rolled out per namespace and kind of controller: how many pods it created that ran the image, when the last was created, and by which controller.';
COMMENT ON COLUMN k8s_events.rollouts.last_owner IS
    'The controller (a ReplicaSet, for a Deployment) that created the newest of those pods.';

SELECT pg_catalog.pg_extension_config_dump('k8s_events.pod_owners', '');
SELECT pg_catalog.pg_extension_config_dump('k8s_events.pod_images', '');
SELECT pg_catalog.pg_extension_config_dump('k8s_events.rollouts', '');

-- The three recomputed: the first two from the raw rows (from since on), rollouts from the
-- first two. The newest creation is picked as the write path picks it: by time, then by
-- the owner's name, byte-wise.
CREATE FUNCTION k8s_events.pod_owners_recomputed(since timestamptz DEFAULT '-infinity')
RETURNS SETOF k8s_events.pod_owners
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT x.cluster, x.namespace, x.pod, x.kind,
           (array_agg(x.name ORDER BY x.event_time DESC, x.name COLLATE "C" DESC))[1],
           max(x.event_time), min(x.event_time), count(*)
    FROM (SELECT e.cluster, e.namespace, k8s_events.pod_from_message(e.message) AS pod, e.kind,
                 e.name, e.event_time
          FROM k8s_events.events AS e
          WHERE e.reason = 'SuccessfulCreate'
            AND e.kind IN ('ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController')
            AND e.event_time >= since AND e.namespace IS NOT NULL AND e.name IS NOT NULL) AS x
    WHERE x.pod IS NOT NULL
    GROUP BY x.cluster, x.namespace, x.pod, x.kind
$$;

CREATE FUNCTION k8s_events.pod_images_recomputed(since timestamptz DEFAULT '-infinity')
RETURNS SETOF k8s_events.pod_images
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT x.cluster, x.namespace, x.name, x.image, min(x.event_time), max(x.event_time), count(*)
    FROM (SELECT e.cluster, e.namespace, e.name, k8s_events.image_from_message(e.message) AS image,
                 e.event_time
          FROM k8s_events.events AS e
          WHERE e.reason IN ('Pulling', 'Pulled') AND e.kind = 'Pod'
            AND e.event_time >= since AND e.namespace IS NOT NULL AND e.name IS NOT NULL) AS x
    WHERE x.image IS NOT NULL
    GROUP BY x.cluster, x.namespace, x.name, x.image
$$;

CREATE FUNCTION k8s_events.rollouts_recomputed()
RETURNS SETOF k8s_events.rollouts
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT o.cluster, o.namespace, o.owner_kind, i.image, count(*), max(o.created_time),
           (array_agg(o.owner ORDER BY o.created_time DESC, o.owner COLLATE "C" DESC))[1]
    FROM k8s_events.pod_owners AS o
    JOIN k8s_events.pod_images AS i
      ON i.cluster = o.cluster AND i.namespace = o.namespace AND i.pod = o.pod
    GROUP BY o.cluster, o.namespace, o.owner_kind, i.image
$$;
COMMENT ON FUNCTION k8s_events.pod_owners_recomputed(timestamptz) IS
    'pod_owners as recomputed from k8s_events.events, from the rows of since on.';
COMMENT ON FUNCTION k8s_events.pod_images_recomputed(timestamptz) IS
    'pod_images as recomputed from k8s_events.events, from the rows of since on.';
COMMENT ON FUNCTION k8s_events.rollouts_recomputed() IS
    'rollouts as recomputed from pod_owners and pod_images.';
