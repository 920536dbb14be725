-- k8s_events: roles and privileges (least privilege; nothing for PUBLIC).

-- Roles are cluster-wide: a second database with the extension reuses them,
-- and DROP EXTENSION leaves them (other databases may still use them).  Two
-- databases creating the extension at once can both find a role missing: the
-- second CREATE ROLE then waits for the first and fails on the unique name,
-- which means the role is there, as wanted.
DO $roles$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['k8s_events_reader', 'k8s_events_writer'] LOOP
        CONTINUE WHEN EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) role_name);
        BEGIN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', role_name);
        EXCEPTION WHEN unique_violation OR duplicate_object THEN
            NULL;
        END;
    END LOOP;
END
$roles$;

-- Functions are executable by PUBLIC by default; the schema is not usable by
-- PUBLIC, and the functions that write or drop are revoked explicitly too.
REVOKE ALL ON SCHEMA k8s_events FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION k8s_events.ingest(jsonb, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION k8s_events.ingest_report(jsonb, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION k8s_events.ingest_copied(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION k8s_events.create_load_table() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION k8s_events.create_partitions(timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION k8s_events.drop_partitions(interval) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION k8s_events.drop_partitions() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION k8s_events.watch_begin(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION k8s_events.watch_store(text, text, text, bytea[], text[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION k8s_events.watch_set_state(text, text, text, bigint, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION k8s_events.rebuild_summaries() FROM PUBLIC;

-- Readers: every table and view, every read-only function.
GRANT USAGE ON SCHEMA k8s_events TO k8s_events_reader, k8s_events_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA k8s_events TO k8s_events_reader, k8s_events_writer;
-- Cluster connection settings (file paths) are for the owner; watch_status shows the state.
REVOKE ALL ON k8s_events.clusters FROM k8s_events_reader, k8s_events_writer;
-- The lock keys are the extension's own; nobody else reads, writes or locks them.
-- The partitions and the workers' own tables (checkpoints, lock keys, external watchers'
-- status) are read through k8s_events.events and the views, never directly.
REVOKE ALL ON SCHEMA k8s_events_partitions, k8s_events_internal FROM PUBLIC;
-- Except the rollups histogram() reads (as its caller): the same numbers as event_counts.
GRANT USAGE ON SCHEMA k8s_events_internal TO k8s_events_reader, k8s_events_writer;
GRANT SELECT ON k8s_events_internal.counts_by_hour, k8s_events_internal.counts_by_day
    TO k8s_events_reader, k8s_events_writer;

-- Writers: readers' rights plus storing events through ingest (which, like
-- create_partitions, runs as the owner). No INSERT, UPDATE or DELETE on the
-- tables: a row that did not come through ingest could break the key,
-- occurrences or event_time.
GRANT EXECUTE ON FUNCTION k8s_events.ingest(jsonb, text) TO k8s_events_writer;
GRANT EXECUTE ON FUNCTION k8s_events.ingest_report(jsonb, text) TO k8s_events_writer;
GRANT EXECUTE ON FUNCTION k8s_events.create_load_table() TO k8s_events_writer;
GRANT EXECUTE ON FUNCTION k8s_events.ingest_copied(text, text) TO k8s_events_writer;
GRANT EXECUTE ON FUNCTION k8s_events.create_partitions(timestamptz, timestamptz) TO k8s_events_writer;
-- External watchers (k8s-events watch) store through these, which, like ingest, run as the
-- owner; each takes or needs the cluster's watch lock, so one cluster has one writer.
GRANT EXECUTE ON FUNCTION k8s_events.watch_begin(text, text) TO k8s_events_writer;
GRANT EXECUTE ON FUNCTION k8s_events.watch_store(text, text, text, bytea[], text[]) TO k8s_events_writer;
GRANT EXECUTE ON FUNCTION k8s_events.watch_set_state(text, text, text, bigint, bigint) TO k8s_events_writer;
