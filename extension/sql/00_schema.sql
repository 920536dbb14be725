-- k8s_events: schema and storage.
\echo Use "CREATE EXTENSION k8s_events" to load this file. \quit

-- Created here rather than by the control file so that it belongs to the extension
-- and DROP EXTENSION removes it.
CREATE SCHEMA k8s_events;
COMMENT ON SCHEMA k8s_events IS 'Kubernetes events: tables, views and functions of the k8s_events extension';

-- Every observation of every Event, partitioned by the time it reports.
-- The table is created without partitions: the first ingest or
-- k8s_events.create_partitions() makes them, so they are not extension members
-- and pg_dump saves them, with their rows, like any table.
CREATE TABLE k8s_events.events (
    cluster              text        NOT NULL,
    uid                  uuid        NOT NULL,
    resource_version     text        NOT NULL,
    event_time           timestamptz NOT NULL,
    first_time           timestamptz NOT NULL,
    namespace            text,
    kind                 text,
    name                 text,
    type                 text,
    reason               text,
    message              text,
    count                integer     NOT NULL,
    occurrences          integer     NOT NULL,
    source_component     text,
    source_host          text,
    reporting_controller text,
    reporting_instance   text,
    action               text,
    event                jsonb       NOT NULL,
    ingested_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT events_count_positive CHECK (count > 0),
    CONSTRAINT events_occurrences_not_negative CHECK (occurrences >= 0)
) PARTITION BY RANGE (event_time);

COMMENT ON TABLE k8s_events.events IS
    'Every observation of every Kubernetes Event, one row per (cluster, uid, resourceVersion), partitioned by event_time.';
COMMENT ON COLUMN k8s_events.events.event_time IS
    'When the observation says the event last happened: k8s_events.event_time(event).';
COMMENT ON COLUMN k8s_events.events.first_time IS
    'When the event first happened: firstTimestamp, deprecatedFirstTimestamp, eventTime or metadata.creationTimestamp.';
COMMENT ON COLUMN k8s_events.events.namespace IS
    'Namespace of the involved object; for cluster-scoped objects (Nodes) the Event''s own namespace.';
COMMENT ON COLUMN k8s_events.events.count IS
    'How many times the event had happened at this observation: series.count, count or deprecatedCount, else 1.';
COMMENT ON COLUMN k8s_events.events.occurrences IS
    'How many times it happened since the previous stored observation of the same event; sum this, never count.';
COMMENT ON COLUMN k8s_events.events.event IS
    'The Event object as received.';

-- Indexes live on each partition, made by k8s_events.create_partitions() (see
-- extension/partitions.c), not on this parent: pg_dump cannot restore partitioned
-- indexes of a table that belongs to an extension.  Each partition gets
--   UNIQUE (cluster, uid, resource_version, event_time)  the observation key: an
--       observation is (cluster, uid, resource_version); event_time is a function
--       of it and picks the partition, so the key is unique across the table;
--   (namespace, kind, name, event_time)  drill-down: one object over a time range;
--   (reason, event_time)                 the seed's questions pick events by reason.

-- Dead letters: what a client sent that could not be stored, and why.
CREATE TABLE k8s_events.rejected (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    cluster     text        NOT NULL,
    source      text        NOT NULL,
    error       text        NOT NULL,
    payload     text        NOT NULL
);
CREATE INDEX rejected_received_at_idx ON k8s_events.rejected (received_at);

COMMENT ON TABLE k8s_events.rejected IS
    'Items that could not be stored, with the reason; nothing a client sends is dropped silently.';

-- Extension tables are left out of pg_dump unless marked; these hold user data.
SELECT pg_catalog.pg_extension_config_dump('k8s_events.rejected', '');
SELECT pg_catalog.pg_extension_config_dump('k8s_events.rejected_id_seq', '');
