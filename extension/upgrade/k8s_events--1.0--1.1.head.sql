-- k8s_events 1.0 → 1.1: the summaries (resource_summary, event_counts and its rollups,
-- pod_owners, pod_images, rollouts), built from the rows already stored, and histogram()
-- and the resources view reading them; the partitions and the workers' own tables out of
-- schema k8s_events; the warning index on every partition.
--
-- The update script is this file, then these parts of the install script as it has them:
-- 01_internal_schemas.sql, the moves, 18_checkpoint_functions.sql, 41_message_parts.sql,
-- 45_summaries.sql, 46_rollouts.sql, 47_verify_summaries.sql, 60_histogram.sql,
-- 61_object_events.sql, then
-- k8s_events--1.0--1.1.tail.sql (see the Makefile): each definition is written once.
\echo Use "ALTER EXTENSION k8s_events UPDATE TO '1.1'" to load this file. \quit

-- Everything the update changes, locked first, in the order writers and watchers take these
-- tables (lock keys, then events, then the cluster's row and checkpoint): a running watcher
-- waits for the update, or the update for it, and neither can deadlock the other half-way.
LOCK TABLE k8s_events.cluster_lock_keys, k8s_events.events, k8s_events.rejected,
    k8s_events.clusters, k8s_events.watch_checkpoints, k8s_events.external_watchers
    IN ACCESS EXCLUSIVE MODE;

-- The cluster-name rule is one C function now; a 1.0 installed before it had the rule
-- spelt out in the CHECK.
CREATE OR REPLACE FUNCTION k8s_events.check_cluster_name(name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'k8s_check_cluster_name'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
ALTER TABLE k8s_events.clusters DROP CONSTRAINT clusters_name_valid;
ALTER TABLE k8s_events.clusters
    ADD CONSTRAINT clusters_name_valid CHECK (k8s_events.check_cluster_name(name));

-- Read from resource_summary from now on (it gains columns, so it is made again).
DROP VIEW k8s_events.resources;
