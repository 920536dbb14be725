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
-- k8s_events: the clusters the background watcher follows, and where each one stands.

-- The one rule for a cluster's name (core/cluster_name.h), which ingest and the watch
-- functions apply too: given, and at most 253 bytes (a DNS subdomain, as Kubernetes names).
CREATE FUNCTION k8s_events.check_cluster_name(name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'k8s_check_cluster_name'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.check_cluster_name(text) IS
    'True for a valid cluster name; otherwise the error that ingest and the watch functions give: a name must not be empty and is at most 253 bytes.';

-- One row per cluster. File paths are read by the server's background worker, with the
-- server's rights, so only the extension owner or a superuser may change this table.
CREATE TABLE k8s_events.clusters (
    name                     text        PRIMARY KEY,
    api_server               text,
    token_file               text,
    ca_file                  text,
    client_cert_file         text,
    client_key_file          text,
    kubeconfig               text,
    context                  text,
    namespace                text,
    insecure_skip_tls_verify boolean     NOT NULL DEFAULT false,
    enabled                  boolean     NOT NULL DEFAULT true,
    created_at               timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT clusters_name_valid CHECK (k8s_events.check_cluster_name(name)),
    CONSTRAINT clusters_api_server_url CHECK (api_server ~ '^https?://'),
    CONSTRAINT clusters_context_needs_kubeconfig CHECK (context IS NULL OR kubeconfig IS NOT NULL)
);
COMMENT ON TABLE k8s_events.clusters IS
    'Kubernetes clusters the background worker lists and watches; change it with add_cluster, remove_cluster, set_cluster_enabled or UPDATE (a changed row restarts its watcher at commit).';

-- The resourceVersion each watcher resumes from, committed with the rows it covers. Keyed by
-- the cluster's name, whoever watches it: the background worker, or `k8s-events watch` for a
-- cluster that is not in k8s_events.clusters (see 70_watch_client.sql).
CREATE TABLE k8s_events.watch_checkpoints (
    cluster          text        PRIMARY KEY,
    resource_version text        NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE k8s_events.watch_checkpoints IS
    'Where each cluster''s watch resumes: the resourceVersion of the newest event stored or bookmark seen.';

-- The key of each cluster's ingest and watch locks (extension/cluster_locks.h): made by the
-- extension the first time a cluster is written or watched, one per name, never by a user.
-- Locks on these keys are of a type no SQL function takes, so no role can hold them to stall
-- a writer or a watcher. Not dumped: a restored database makes the same keys again.
CREATE TABLE k8s_events.cluster_lock_keys (
    cluster text   PRIMARY KEY,
    key     bigint NOT NULL UNIQUE CHECK (key BETWEEN 0 AND 4294967295)
);
COMMENT ON TABLE k8s_events.cluster_lock_keys IS
    'Internal: the lock key of each cluster name written or watched (pg_locks shows locktype userlock, objid = key).';

SELECT pg_catalog.pg_extension_config_dump('k8s_events.clusters', '');
SELECT pg_catalog.pg_extension_config_dump('k8s_events.watch_checkpoints', '');

-- Wakes the launcher when the transaction that changed k8s_events.clusters commits.
CREATE FUNCTION k8s_events.wake_launcher_at_commit() RETURNS void
    AS 'MODULE_PATHNAME', 'k8s_wake_launcher_at_commit'
    LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION k8s_events.add_cluster(
    name                     text,
    api_server               text    DEFAULT NULL,
    token_file               text    DEFAULT NULL,
    ca_file                  text    DEFAULT NULL,
    client_cert_file         text    DEFAULT NULL,
    client_key_file          text    DEFAULT NULL,
    kubeconfig               text    DEFAULT NULL,
    context                  text    DEFAULT NULL,
    namespace                text    DEFAULT NULL,
    insecure_skip_tls_verify boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO k8s_events.clusters AS c (name, api_server, token_file, ca_file, client_cert_file,
        client_key_file, kubeconfig, context, namespace, insecure_skip_tls_verify)
    VALUES (add_cluster.name, add_cluster.api_server, add_cluster.token_file, add_cluster.ca_file,
        add_cluster.client_cert_file, add_cluster.client_key_file, add_cluster.kubeconfig,
        add_cluster.context, add_cluster.namespace, add_cluster.insecure_skip_tls_verify);
    PERFORM k8s_events.wake_launcher_at_commit();
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'cluster "%" already exists', add_cluster.name
        USING ERRCODE = 'duplicate_object',
              HINT = 'Remove it first with k8s_events.remove_cluster(), or pick another name.';
END
$$;
COMMENT ON FUNCTION k8s_events.add_cluster(text, text, text, text, text, text, text, text, text, boolean) IS
    'Follow a cluster: by api_server and files, by kubeconfig (and context), or, with neither, in-cluster. Takes effect at commit.';

CREATE FUNCTION k8s_events.remove_cluster(name text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM k8s_events.clusters AS c WHERE c.name = remove_cluster.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'cluster "%" does not exist', remove_cluster.name USING ERRCODE = 'undefined_object';
    END IF;
    DELETE FROM k8s_events.watch_checkpoints AS cp WHERE cp.cluster = remove_cluster.name;
    PERFORM k8s_events.wake_launcher_at_commit();
END
$$;
COMMENT ON FUNCTION k8s_events.remove_cluster(text) IS
    'Stop following a cluster (its events stay). Takes effect at commit.';

CREATE FUNCTION k8s_events.set_cluster_enabled(name text, enabled boolean) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE k8s_events.clusters AS c SET enabled = set_cluster_enabled.enabled
    WHERE c.name = set_cluster_enabled.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'cluster "%" does not exist', set_cluster_enabled.name USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM k8s_events.wake_launcher_at_commit();
END
$$;
COMMENT ON FUNCTION k8s_events.set_cluster_enabled(text, boolean) IS
    'Pause or resume following a cluster. Takes effect at commit.';

-- A change made with a plain UPDATE (or INSERT, DELETE) takes effect like one made through the
-- functions above: the launcher is woken at commit and restarts the watcher of a row whose
-- connection settings changed. A resourceVersion only means something to the API server that
-- issued it, and a checkpoint covers only the scope that was listed: when the row points at
-- another server or scope, the checkpoint goes in the same transaction and the next watcher
-- lists afresh. New credentials or CA for the same server keep it.
CREATE FUNCTION k8s_events.clusters_forget_checkpoint() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM k8s_events.watch_checkpoints AS cp WHERE cp.cluster = OLD.name;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION k8s_events.clusters_forget_checkpoint() IS
    'Trigger: drops the checkpoint of a cluster that is deleted, or whose API server or scope (api_server, kubeconfig, context, namespace) changed.';

CREATE TRIGGER clusters_scope_changed
    AFTER UPDATE OF api_server, kubeconfig, context, namespace ON k8s_events.clusters
    FOR EACH ROW
    WHEN (OLD.api_server IS DISTINCT FROM NEW.api_server
          OR OLD.kubeconfig IS DISTINCT FROM NEW.kubeconfig
          OR OLD.context IS DISTINCT FROM NEW.context
          OR OLD.namespace IS DISTINCT FROM NEW.namespace)
    EXECUTE FUNCTION k8s_events.clusters_forget_checkpoint();

-- A row deleted by hand goes with its checkpoint too, as through remove_cluster: the same
-- name added later may point at another server.
CREATE TRIGGER clusters_deleted
    AFTER DELETE ON k8s_events.clusters
    FOR EACH ROW
    EXECUTE FUNCTION k8s_events.clusters_forget_checkpoint();

CREATE FUNCTION k8s_events.clusters_wake_launcher() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM k8s_events.wake_launcher_at_commit();
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION k8s_events.clusters_wake_launcher() IS
    'Trigger: wakes the launcher when the transaction that changed k8s_events.clusters commits.';

CREATE TRIGGER clusters_changed
    AFTER INSERT OR UPDATE OR DELETE ON k8s_events.clusters
    FOR EACH STATEMENT
    EXECUTE FUNCTION k8s_events.clusters_wake_launcher();

REVOKE ALL ON FUNCTION k8s_events.wake_launcher_at_commit() FROM PUBLIC;
REVOKE ALL ON FUNCTION k8s_events.clusters_forget_checkpoint() FROM PUBLIC;
REVOKE ALL ON FUNCTION k8s_events.clusters_wake_launcher() FROM PUBLIC;
REVOKE ALL ON FUNCTION k8s_events.add_cluster(text, text, text, text, text, text, text, text, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION k8s_events.remove_cluster(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION k8s_events.set_cluster_enabled(text, boolean) FROM PUBLIC;

CREATE FUNCTION k8s_events.watch_status_shared(
    OUT cluster text, OUT state text, OUT resource_version text, OUT events_stored bigint,
    OUT duplicates bigint, OUT rejected bigint, OUT deleted_seen bigint, OUT relists bigint,
    OUT reconnects bigint, OUT last_event_at timestamptz, OUT last_error text,
    OUT last_error_at timestamptz, OUT since timestamptz, OUT pid integer,
    OUT restarts bigint, OUT restart_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'k8s_watch_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
-- k8s_events: time_bucket(), TimescaleDB-compatible bucketing of timestamps.
--
-- All variants are IMMUTABLE: timestamptz values are bucketed in UTC, never in
-- the session TimeZone.  The variants with an explicit zone name read the time
-- zone database, as PostgreSQL's own timezone(text, timestamptz) (AT TIME ZONE)
-- does, which PostgreSQL declares IMMUTABLE too; TimescaleDB declares its
-- time_bucket(interval, timestamptz, text, ...) IMMUTABLE for the same reason.
-- Unlike TimescaleDB's, which has NULL-defaulted trailing arguments, every
-- variant here is a separate overload, so all of them can be STRICT.

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts timestamptz)
  RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'time_bucket_timestamp' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, timestamptz) IS
  'Start of the bucket of the given width holding ts, computed in UTC; buckets are aligned on 2000-01-03 00:00 UTC (months on 2000-01-01)';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts timestamptz, origin timestamptz)
  RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'time_bucket_timestamp' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, timestamptz, timestamptz) IS
  'Start of the bucket of the given width holding ts, computed in UTC, buckets aligned on origin (only its year and month for month widths)';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts timestamptz, timezone text)
  RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'time_bucket_timestamptz_zone' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, timestamptz, text) IS
  'Start of the bucket holding ts, computed on wall-clock time in the named zone; buckets aligned on local 2000-01-03 00:00 (months on 2000-01-01)';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts timestamptz, timezone text,
                                       origin timestamptz)
  RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'time_bucket_timestamptz_zone' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, timestamptz, text, timestamptz) IS
  'Start of the bucket holding ts, computed on wall-clock time in the named zone, buckets aligned on origin read in that zone';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts timestamp)
  RETURNS timestamp
  AS 'MODULE_PATHNAME', 'time_bucket_timestamp' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, timestamp) IS
  'Start of the bucket of the given width holding ts; buckets aligned on 2000-01-03 00:00 (months on 2000-01-01)';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts timestamp, origin timestamp)
  RETURNS timestamp
  AS 'MODULE_PATHNAME', 'time_bucket_timestamp' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, timestamp, timestamp) IS
  'Start of the bucket of the given width holding ts, buckets aligned on origin (only its year and month for month widths)';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts date)
  RETURNS date
  AS 'MODULE_PATHNAME', 'time_bucket_date' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, date) IS
  'First day of the bucket (whole days, or months) holding ts; buckets aligned on 2000-01-03 (months on 2000-01-01)';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts date, origin date)
  RETURNS date
  AS 'MODULE_PATHNAME', 'time_bucket_date' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, date, date) IS
  'First day of the bucket (whole days, or months) holding ts, buckets aligned on origin (only its year and month for month widths)';

-- Text functions: regular-expression extraction and the pieces of event messages.

CREATE FUNCTION k8s_events.regexp_extract(subject text, pattern text, grp integer DEFAULT 0)
  RETURNS text
  AS 'MODULE_PATHNAME', 'regexp_extract'
  LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.regexp_extract(text, text, integer) IS
  'Capture group grp (0 = the whole match) of the first match of the PostgreSQL (ARE) regular expression pattern in subject; NULL when there is no match or the group did not take part in it';

CREATE FUNCTION k8s_events.pod_from_message(message text)
  RETURNS text
  AS 'MODULE_PATHNAME', 'pod_from_message'
  LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.pod_from_message(text) IS
  'The pod named in a controller or scheduler event message ("Created pod: X", "create Pod X in StatefulSet S successful", "Successfully assigned ns/X to node" ...), or NULL';

CREATE FUNCTION k8s_events.image_from_message(message text)
  RETURNS text
  AS 'MODULE_PATHNAME', 'image_from_message'
  LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.image_from_message(text) IS
  'The image quoted in a kubelet image event message ("Pulling image \"X\"", "Successfully pulled image \"X\" in ...", "Failed to pull image \"X\": ..." ...), or NULL';

CREATE FUNCTION k8s_events.parse_image(ref text,
    OUT registry text, OUT repository text, OUT tag text, OUT digest text)
  RETURNS record
  AS 'MODULE_PATHNAME', 'parse_image'
  LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.parse_image(text) IS
  'Split a container image reference as Docker does: registry (default docker.io), repository (library/ added for official images), tag (latest when there is neither tag nor digest) and digest';
-- k8s_events: views for people and BI tools.

-- The newest observation of each event.
CREATE VIEW k8s_events.latest AS
SELECT DISTINCT ON (e.cluster, e.uid) e.*
FROM k8s_events.events AS e
ORDER BY e.cluster, e.uid, e.event_time DESC, e.count DESC, e.ingested_at DESC;
COMMENT ON VIEW k8s_events.latest IS
    'The newest stored observation of each event (cluster, uid).';

-- One row per involved object: what happened to it, and how often.
CREATE VIEW k8s_events.resources AS
SELECT e.cluster,
       e.namespace,
       e.kind,
       e.name,
       coalesce(sum(e.occurrences) FILTER (WHERE e.type = 'Normal'), 0)::bigint AS normal,
       coalesce(sum(e.occurrences) FILTER (WHERE e.type = 'Warning'), 0)::bigint AS warning,
       min(e.first_time) AS first_event_time,
       max(e.event_time) AS last_event_time,
       (array_agg(e.type ORDER BY e.event_time DESC, e.count DESC, e.ingested_at DESC))[1] AS last_type,
       (array_agg(e.reason ORDER BY e.event_time DESC, e.count DESC, e.ingested_at DESC))[1] AS last_reason,
       (array_agg(e.message ORDER BY e.event_time DESC, e.count DESC, e.ingested_at DESC))[1] AS last_message
FROM k8s_events.events AS e
GROUP BY e.cluster, e.namespace, e.kind, e.name;
COMMENT ON VIEW k8s_events.resources IS
    'One row per involved object: Normal and Warning occurrences, first and last event time, and the last event''s type, reason and message.';

-- The partitions, for DBAs: range, size and estimated rows.
CREATE VIEW k8s_events.partitions AS
SELECT b.partition,
       b.range_from,
       b.range_to,
       greatest(c.reltuples, 0)::bigint AS rows_estimate,
       pg_catalog.pg_total_relation_size(b.partition) AS total_bytes
FROM k8s_events.partition_bounds() AS b
JOIN pg_catalog.pg_class AS c ON c.oid = b.partition;
COMMENT ON VIEW k8s_events.partitions IS
    'Partitions of k8s_events.events, oldest first, with their time range, estimated rows and size on disk.';
-- k8s_events: gap-filled histograms for charts.

-- Every bucket of [from_time, to_time) appears, empty ones with type and
-- reason NULL and occurrences 0, so a chart or BI tool needs no client logic.
-- Buckets are k8s_events.time_bucket() buckets (UTC).  A plain SQL function
-- so the planner inlines it and prunes partitions with the caller's values.
CREATE FUNCTION k8s_events.histogram(
    from_time timestamptz,
    to_time   timestamptz,
    bucket    interval,
    cluster   text DEFAULT NULL,
    namespace text DEFAULT NULL,
    kind      text DEFAULT NULL,
    name      text DEFAULT NULL,
    type      text DEFAULT NULL)
RETURNS TABLE (bucket_start timestamptz, type text, reason text, occurrences bigint)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    WITH buckets AS (
        -- generate_series over UTC wall-clock time, so month buckets stay on the 1st.
        SELECT pg_catalog.timezone('UTC', b) AS bucket_start
        FROM pg_catalog.generate_series(
                 pg_catalog.timezone('UTC', k8s_events.time_bucket($3, $1)),
                 pg_catalog.timezone('UTC', k8s_events.time_bucket($3, $2 - interval '1 microsecond')),
                 $3) AS b
        WHERE $1 < $2
    ), counts AS (
        SELECT k8s_events.time_bucket($3, e.event_time) AS bucket_start,
               e.type,
               e.reason,
               sum(e.occurrences)::bigint AS occurrences
        FROM k8s_events.events AS e
        WHERE e.event_time >= $1 AND e.event_time < $2
          AND ($4 IS NULL OR e.cluster = $4)
          AND ($5 IS NULL OR e.namespace = $5)
          AND ($6 IS NULL OR e.kind = $6)
          AND ($7 IS NULL OR e.name = $7)
          AND ($8 IS NULL OR e.type = $8)
        GROUP BY 1, 2, 3
    )
    SELECT b.bucket_start, c.type, c.reason, coalesce(c.occurrences, 0)
    FROM buckets AS b
    LEFT JOIN counts AS c ON c.bucket_start = b.bucket_start
    ORDER BY b.bucket_start, c.type, c.reason
$$;
COMMENT ON FUNCTION k8s_events.histogram(timestamptz, timestamptz, interval, text, text, text, text, text) IS
    'Occurrences per time bucket, type and reason over [from_time, to_time), every bucket present (gap-filled); NULL filters mean any.';
-- k8s_events: watchers outside the server (`k8s-events watch`), and watch_status for all.

-- One row per cluster an external watcher has watched: its last reported status. Written
-- only through watch_begin, watch_store and watch_set_state, by the session that holds the
-- cluster's watch lock; whether that session still runs is read from the lock itself.
CREATE TABLE k8s_events.external_watchers (
    cluster       text        PRIMARY KEY,
    client        text        NOT NULL,
    backend_pid   integer     NOT NULL,
    state         text        NOT NULL,
    events_stored bigint      NOT NULL DEFAULT 0,
    duplicates    bigint      NOT NULL DEFAULT 0,
    rejected      bigint      NOT NULL DEFAULT 0,
    deleted_seen  bigint      NOT NULL DEFAULT 0,
    relists       bigint      NOT NULL DEFAULT 0,
    reconnects    bigint      NOT NULL DEFAULT 0,
    last_event_at timestamptz,
    last_error    text,
    last_error_at timestamptz,
    since         timestamptz NOT NULL,
    started_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
COMMENT ON TABLE k8s_events.external_watchers IS
    'The last status reported by each external watcher (k8s-events watch); read it through k8s_events.watch_status.';
COMMENT ON COLUMN k8s_events.external_watchers.client IS
    'Who watches, e.g. ''k8s-events watch pid 4242 on host-1''.';
COMMENT ON COLUMN k8s_events.external_watchers.backend_pid IS
    'The server process of its session, which holds the cluster''s watch lock while it runs.';
-- What watched a cluster, and how far it got, is worth keeping across a dump and restore.
SELECT pg_catalog.pg_extension_config_dump('k8s_events.external_watchers', '');

CREATE FUNCTION k8s_events.watch_begin(cluster text, client text) RETURNS text
    AS 'MODULE_PATHNAME', 'k8s_watch_begin'
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION k8s_events.watch_begin(text, text) IS
    'Take a cluster for an external watcher (one per cluster, not one the background worker has enabled) for the rest of the session; returns its checkpoint, NULL when there is none.';

CREATE FUNCTION k8s_events.watch_store(cluster text, payload text,
    resource_version text DEFAULT NULL, raw_rejects bytea[] DEFAULT NULL,
    raw_reasons text[] DEFAULT NULL,
    OUT received bigint, OUT stored bigint, OUT duplicates bigint, OUT rejected bigint,
    OUT expired bigint, OUT deleted bigint, OUT bookmarks bigint, OUT error_frames bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'k8s_watch_store'
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION k8s_events.watch_store(text, text, text, bytea[], text[]) IS
    'Store one batch of an external watcher (a JSON array of watch frames or a list page, and raw rejects with their reasons) and the checkpoint it reaches, in one transaction, as the background worker does.';

CREATE FUNCTION k8s_events.watch_set_state(cluster text, state text, last_error text DEFAULT NULL,
    relists bigint DEFAULT NULL, reconnects bigint DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'k8s_watch_set_state'
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION k8s_events.watch_set_state(text, text, text, bigint, bigint) IS
    'Report an external watcher''s state (starting, listing, watching, backoff, failed, stopped), last error and relist/reconnect totals; NULL keeps a value.';

CREATE FUNCTION k8s_events.watch_lock_pid(cluster text) RETURNS integer
    AS 'MODULE_PATHNAME', 'k8s_watch_lock_pid'
    LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED
    -- It reads the lock keys, which are the extension's own (cluster_lock_keys).
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION k8s_events.watch_lock_pid(text) IS
    'The server process holding the cluster''s watch lock (a background worker, or an external watcher''s session), or NULL.';

-- Every configured cluster and every external watcher, and how each is doing. Counters are
-- since the watcher started; resource_version falls back to the committed checkpoint.
-- watcher says which kind a row is: 'worker' (the background worker of a configured
-- cluster) or 'external' (client says which program, where).
CREATE VIEW k8s_events.watch_status AS
SELECT c.name AS cluster,
       CASE WHEN NOT c.enabled THEN 'disabled' ELSE coalesce(w.state, 'starting') END AS state,
       coalesce(w.resource_version, cp.resource_version) AS resource_version,
       coalesce(w.events_stored, 0) AS events_stored,
       coalesce(w.duplicates, 0) AS duplicates,
       coalesce(w.rejected, 0) AS rejected,
       coalesce(w.deleted_seen, 0) AS deleted_seen,
       coalesce(w.relists, 0) AS relists,
       coalesce(w.reconnects, 0) AS reconnects,
       w.last_event_at,
       w.last_error,
       w.last_error_at,
       w.since,
       w.pid,
       'worker'::text AS watcher,
       NULL::text AS client,
       coalesce(w.restarts, 0) AS restarts,
       w.restart_at
FROM k8s_events.clusters AS c
LEFT JOIN k8s_events.watch_status_shared() AS w ON w.cluster = c.name
LEFT JOIN k8s_events.watch_checkpoints AS cp ON cp.cluster = c.name
UNION ALL
-- An external watcher that went away without saying so (killed) shows as stopped, since its
-- last sign of life; one that said failed or stopped as it exited, as that.
SELECT x.cluster,
       CASE WHEN h.pid = x.backend_pid OR x.state IN ('failed', 'stopped') THEN x.state
            ELSE 'stopped' END,
       cp.resource_version,
       x.events_stored,
       x.duplicates,
       x.rejected,
       x.deleted_seen,
       x.relists,
       x.reconnects,
       x.last_event_at,
       x.last_error,
       x.last_error_at,
       CASE WHEN h.pid = x.backend_pid OR x.state IN ('failed', 'stopped') THEN x.since
            ELSE x.updated_at END,
       CASE WHEN h.pid = x.backend_pid THEN x.backend_pid END,
       'external'::text,
       x.client,
       0::bigint,
       NULL::timestamptz
FROM k8s_events.external_watchers AS x
CROSS JOIN LATERAL (SELECT k8s_events.watch_lock_pid(x.cluster) AS pid) AS h
LEFT JOIN k8s_events.watch_checkpoints AS cp ON cp.cluster = x.cluster;
COMMENT ON VIEW k8s_events.watch_status IS
    'One row per configured cluster (watcher = worker) and per external watcher (watcher = external, client = who): state (starting, listing, watching, backoff, failed, disabled, stopped), checkpoint, counters and last error; for a worker, how often the launcher restarted it after a failure and when the next start is due.';
-- k8s_events: roles and privileges (least privilege; nothing for PUBLIC).

-- Roles are cluster-wide: a second database with the extension reuses them,
-- and DROP EXTENSION leaves them (other databases may still use them).
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'k8s_events_reader') THEN
        CREATE ROLE k8s_events_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'k8s_events_writer') THEN
        CREATE ROLE k8s_events_writer NOLOGIN;
    END IF;
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

-- Readers: every table and view, every read-only function.
GRANT USAGE ON SCHEMA k8s_events TO k8s_events_reader, k8s_events_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA k8s_events TO k8s_events_reader, k8s_events_writer;
-- Cluster connection settings (file paths) are for the owner; watch_status shows the state.
REVOKE ALL ON k8s_events.clusters, k8s_events.watch_checkpoints FROM k8s_events_reader, k8s_events_writer;
-- The lock keys are the extension's own; nobody else reads, writes or locks them.
REVOKE ALL ON k8s_events.cluster_lock_keys FROM PUBLIC, k8s_events_reader, k8s_events_writer;

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
