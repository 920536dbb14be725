
-- What 90_privileges.sql grants on a new install.
GRANT SELECT ON k8s_events.resource_summary, k8s_events.event_counts, k8s_events.resources
    TO k8s_events_reader, k8s_events_writer;
REVOKE EXECUTE ON FUNCTION k8s_events.rebuild_summaries() FROM PUBLIC;
REVOKE ALL ON SCHEMA k8s_events_partitions, k8s_events_internal FROM PUBLIC;

-- The summaries of the rows stored so far. Writers wait until the update commits.
SELECT * FROM k8s_events.rebuild_summaries();
