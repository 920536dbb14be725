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
CREATE TABLE k8s_events_internal.watch_checkpoints (
    cluster          text        PRIMARY KEY,
    resource_version text        NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE k8s_events_internal.watch_checkpoints IS
    'Where each cluster''s watch resumes: the resourceVersion of the newest event stored or bookmark seen.';

-- The key of each cluster's ingest and watch locks (extension/cluster_locks.h): made by the
-- extension the first time a cluster is written or watched, one per name, never by a user.
-- Locks on these keys are of a type no SQL function takes, so no role can hold them to stall
-- a writer or a watcher. Not dumped: a restored database makes the same keys again.
CREATE TABLE k8s_events_internal.cluster_lock_keys (
    cluster text   PRIMARY KEY,
    key     bigint NOT NULL UNIQUE CHECK (key BETWEEN 0 AND 4294967295)
);
COMMENT ON TABLE k8s_events_internal.cluster_lock_keys IS
    'Internal: the lock key of each cluster name written or watched (pg_locks shows locktype userlock, objid = key).';

SELECT pg_catalog.pg_extension_config_dump('k8s_events.clusters', '');
SELECT pg_catalog.pg_extension_config_dump('k8s_events_internal.watch_checkpoints', '');

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
-- functions above (clusters_forget_checkpoint, in 18_checkpoint_functions.sql).
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
