-- k8s_events: event time, ingest and partitions.

CREATE FUNCTION k8s_events.event_time(event jsonb) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'k8s_event_time'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.event_time(jsonb) IS
    'When an Event (bare, watch frame or eventrouter line) last happened: the first set of series.lastObservedTime, lastTimestamp, eventTime, deprecatedLastTimestamp, firstTimestamp, deprecatedFirstTimestamp, metadata.creationTimestamp.';

CREATE FUNCTION k8s_events.parse_timestamp_iso8601(ts text) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'k8s_parse_timestamp_iso8601'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.parse_timestamp_iso8601(text) IS
    'Parse an RFC 3339 timestamp (Z or +hh:mm, fractions to nanoseconds, truncated to microseconds).';

CREATE FUNCTION k8s_events.unix_millis(ts timestamptz) RETURNS bigint
    AS 'MODULE_PATHNAME', 'k8s_unix_millis'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.unix_millis(timestamptz) IS
    'Milliseconds since 1970-01-01 00:00 UTC, floored.';

-- Writers store events only through ingest, which keeps the key, occurrences and
-- event_time right; so it runs as the owner and writers get no INSERT on the table.
CREATE FUNCTION k8s_events.ingest(payload jsonb, cluster text DEFAULT 'default') RETURNS bigint
    AS 'MODULE_PATHNAME', 'k8s_ingest'
    LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION k8s_events.ingest(jsonb, text) IS
    'Store an Event, a JSON array, an EventList/List, an eventrouter line or a watch frame; returns the rows newly stored.';

CREATE FUNCTION k8s_events.ingest_report(payload jsonb, cluster text DEFAULT 'default',
    OUT received bigint, OUT stored bigint, OUT duplicates bigint, OUT rejected bigint,
    OUT expired bigint, OUT deleted bigint, OUT bookmarks bigint, OUT error_frames bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'k8s_ingest_report'
    LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION k8s_events.ingest_report(jsonb, text) IS
    'Like ingest(), but says where every item went: stored, duplicate, rejected, expired (older than k8s_events.retention), or a DELETED/BOOKMARK/ERROR watch frame.';

-- Bulk loading (k8s-events load): the client decodes each Event with the same code
-- as ingest(), COPYs the rows into a temporary table of its own session, and hands
-- them to ingest_copied(), which stores them exactly as ingest() would.
CREATE FUNCTION k8s_events.create_load_table() RETURNS void
    LANGUAGE sql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET client_min_messages = warning
    AS $$
    CREATE TEMPORARY TABLE IF NOT EXISTS k8s_events_load (
        uid uuid, resource_version text, event_time timestamptz, first_time timestamptz,
        namespace text, kind text, name text, type text, reason text, message text,
        count integer, source_component text, source_host text, reporting_controller text,
        reporting_instance text, action text, event jsonb,
        earliest timestamptz, error text, payload text, ord bigint
    ) ON COMMIT DELETE ROWS
    $$;
COMMENT ON FUNCTION k8s_events.create_load_table() IS
    'Create pg_temp.k8s_events_load, the table k8s-events load COPYs decoded rows into before ingest_copied() stores them.';

CREATE FUNCTION k8s_events.ingest_copied(cluster text, source text DEFAULT 'k8s-events load',
    OUT received bigint, OUT stored bigint, OUT duplicates bigint, OUT rejected bigint,
    OUT expired bigint, OUT newest timestamptz)
    RETURNS record
    AS 'MODULE_PATHNAME', 'k8s_ingest_copied'
    LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION k8s_events.ingest_copied(text, text) IS
    'Store the rows COPYed into pg_temp.k8s_events_load, in ord order, through the same path as ingest(): same key, occurrences, retention and rejects. Rows with an error go to k8s_events.rejected.';

CREATE FUNCTION k8s_events.partition_bounds(OUT partition regclass, OUT range_from timestamptz,
    OUT range_to timestamptz)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'k8s_partition_bounds'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.partition_bounds() IS
    'The partitions of k8s_events.events with their time ranges, oldest first.';

CREATE FUNCTION k8s_events.create_partitions(from_time timestamptz, to_time timestamptz)
    RETURNS SETOF regclass
    AS 'MODULE_PATHNAME', 'k8s_create_partitions'
    LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
    -- Writers may create partitions, which needs the table owner's rights.
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION k8s_events.create_partitions(timestamptz, timestamptz) IS
    'Create the partitions of k8s_events.events covering [from_time, to_time) that are missing; returns those created.';

CREATE FUNCTION k8s_events.drop_partitions(older_than interval) RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'k8s_drop_partitions'
    LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION k8s_events.drop_partitions(interval) IS
    'Drop, oldest first, the partitions lying entirely before now() - older_than; a partition that cannot be locked within k8s_events.drop_lock_timeout is left for the next run. Returns the partitions dropped.';

CREATE FUNCTION k8s_events.drop_partitions() RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'k8s_drop_expired_partitions'
    LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION k8s_events.drop_partitions() IS
    'Apply k8s_events.retention: drop_partitions(retention), or nothing when retention is ''0''.';
