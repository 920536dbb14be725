-- k8s_events: the schemas of what users do not query (extension/schemas.h). The 1.0 to 1.1
-- update script includes this file as it is.

-- What users do not query, out of the schema BI tools list (as TimescaleDB keeps its chunks
-- apart): the partitions of k8s_events.events, and the workers' own tables.
CREATE SCHEMA k8s_events_partitions;
COMMENT ON SCHEMA k8s_events_partitions IS
    'The partitions of k8s_events.events (query k8s_events.events; k8s_events.partitions lists them).';
CREATE SCHEMA k8s_events_internal;
COMMENT ON SCHEMA k8s_events_internal IS
    'Internal tables of k8s_events: the watchers'' checkpoints, lock keys and external watchers'' status, and the rollups histogram() reads.';
