-- k8s_events: watchers outside the server (`k8s-events watch`), and watch_status for all.

-- One row per cluster an external watcher has watched: its last reported status. Written
-- only through watch_begin, watch_store and watch_set_state, by the session that holds the
-- cluster's watch lock; whether that session still runs is read from the lock itself.
CREATE TABLE k8s_events_internal.external_watchers (
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
COMMENT ON TABLE k8s_events_internal.external_watchers IS
    'The last status reported by each external watcher (k8s-events watch); read it through k8s_events.watch_status.';
COMMENT ON COLUMN k8s_events_internal.external_watchers.client IS
    'Who watches, e.g. ''k8s-events watch pid 4242 on host-1''.';
COMMENT ON COLUMN k8s_events_internal.external_watchers.backend_pid IS
    'The server process of its session, which holds the cluster''s watch lock while it runs.';
-- What watched a cluster, and how far it got, is worth keeping across a dump and restore.
SELECT pg_catalog.pg_extension_config_dump('k8s_events_internal.external_watchers', '');

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
LEFT JOIN k8s_events_internal.watch_checkpoints AS cp ON cp.cluster = c.name
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
FROM k8s_events_internal.external_watchers AS x
CROSS JOIN LATERAL (SELECT k8s_events.watch_lock_pid(x.cluster) AS pid) AS h
LEFT JOIN k8s_events_internal.watch_checkpoints AS cp ON cp.cluster = x.cluster;
COMMENT ON VIEW k8s_events.watch_status IS
    'One row per configured cluster (watcher = worker) and per external watcher (watcher = external, client = who): state (starting, listing, watching, backoff, failed, disabled, stopped), checkpoint, counters and last error; for a worker, how often the launcher restarted it after a failure and when the next start is due.';
