
-- The workers' tables move to k8s_events_internal (views and triggers follow them, being
-- bound to the tables; the functions that name them are replaced just below).
ALTER TABLE k8s_events.watch_checkpoints SET SCHEMA k8s_events_internal;
ALTER TABLE k8s_events.cluster_lock_keys SET SCHEMA k8s_events_internal;
ALTER TABLE k8s_events.external_watchers SET SCHEMA k8s_events_internal;
-- Readers could read the external watchers' table at 1.0; they read watch_status.
REVOKE ALL ON k8s_events_internal.external_watchers FROM k8s_events_reader, k8s_events_writer;

-- The partitions move to k8s_events_partitions, with their indexes. A partition a user made
-- in another schema stays where it is.
DO $move$
DECLARE
    p regclass;
BEGIN
    FOR p IN
        SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits AS i
        JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'k8s_events.events'::regclass
          AND c.relnamespace = 'k8s_events'::regnamespace
        ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s SET SCHEMA k8s_events_partitions', p);
    END LOOP;
END
$move$;

-- 1.1 indexes the warnings of each partition by the node that reported them (partitions.c
-- makes it on every new partition): add it to the partitions there are.
DO $warnings$
DECLARE
    p record;
BEGIN
    FOR p IN
        SELECT c.oid::regclass AS partition, c.relname
        FROM pg_catalog.pg_inherits AS i
        JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'k8s_events.events'::regclass
        ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format(
            'CREATE INDEX IF NOT EXISTS %I ON %s (cluster, source_host, event_time) WHERE type OPERATOR(pg_catalog.=) %L',
            p.relname || '_warning_idx', p.partition, 'Warning');
    END LOOP;
END
$warnings$;
