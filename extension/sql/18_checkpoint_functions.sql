-- k8s_events: the functions that drop a cluster's checkpoint with it. Kept apart so that the
-- 1.0 to 1.1 update script, which moved the checkpoints to k8s_events_internal, includes them
-- as they are (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION k8s_events.remove_cluster(name text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM k8s_events.clusters AS c WHERE c.name = remove_cluster.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'cluster "%" does not exist', remove_cluster.name USING ERRCODE = 'undefined_object';
    END IF;
    DELETE FROM k8s_events_internal.watch_checkpoints AS cp WHERE cp.cluster = remove_cluster.name;
    PERFORM k8s_events.wake_launcher_at_commit();
END
$$;
COMMENT ON FUNCTION k8s_events.remove_cluster(text) IS
    'Stop following a cluster (its events stay). Takes effect at commit.';

-- A change made with a plain UPDATE (or INSERT, DELETE) takes effect like one made through the
-- functions above: the launcher is woken at commit and restarts the watcher of a row whose
-- connection settings changed. A resourceVersion only means something to the API server that
-- issued it, and a checkpoint covers only the scope that was listed: when the row points at
-- another server or scope, the checkpoint goes in the same transaction and the next watcher
-- lists afresh. New credentials or CA for the same server keep it.
CREATE OR REPLACE FUNCTION k8s_events.clusters_forget_checkpoint() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM k8s_events_internal.watch_checkpoints AS cp WHERE cp.cluster = OLD.name;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION k8s_events.clusters_forget_checkpoint() IS
    'Trigger: drops the checkpoint of a cluster that is deleted, or whose API server or scope (api_server, kubeconfig, context, namespace) changed.';

