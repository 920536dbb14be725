
-- What 90_privileges.sql grants on a new install.
GRANT SELECT ON k8s_events.resource_summary, k8s_events.event_counts, k8s_events.resources,
    k8s_events.pod_owners, k8s_events.pod_images, k8s_events.rollouts
    TO k8s_events_reader, k8s_events_writer;
REVOKE EXECUTE ON FUNCTION k8s_events.rebuild_summaries() FROM PUBLIC;
REVOKE ALL ON SCHEMA k8s_events_partitions, k8s_events_internal FROM PUBLIC;
-- Except the rollups histogram() reads (as its caller): the same numbers as event_counts.
GRANT USAGE ON SCHEMA k8s_events_internal TO k8s_events_reader, k8s_events_writer;
GRANT SELECT ON k8s_events_internal.counts_by_hour, k8s_events_internal.counts_by_day
    TO k8s_events_reader, k8s_events_writer;

-- The summaries of the rows stored so far. Writers wait until the update commits.
SELECT * FROM k8s_events.rebuild_summaries();
