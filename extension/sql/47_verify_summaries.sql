-- k8s_events: checking and rebuilding every summary. (The 1.0 to 1.1 update script
-- includes this file as it is.)

-- Every difference between the summaries and a recomputation from the raw rows; empty when
-- they agree, as they always should.
CREATE FUNCTION k8s_events.verify_summaries()
RETURNS TABLE (summary text, key jsonb, stored jsonb, recomputed jsonb)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH since AS (
        SELECT k8s_events.raw_rows_since() AS t
    ), s AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'namespace', x.namespace, 'kind', x.kind,
                                  'name', x.name) AS key,
               to_jsonb(x) - '{cluster,namespace,kind,name}'::text[] AS v
        FROM k8s_events.resource_summary AS x
    ), r_rows AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'namespace', x.namespace, 'kind', x.kind,
                                  'name', x.name) AS key,
               to_jsonb(x) - '{cluster,namespace,kind,name}'::text[] AS v
        FROM k8s_events.resource_summary_recomputed() AS x
    ), r AS (
        -- When an object was first seen outlives the rows that said so (retention keeps it):
        -- a stored first_event_time before the oldest row kept is right if it is no later
        -- than the rows left say.
        SELECT r_rows.key,
               r_rows.v || CASE WHEN (s.v ->> 'first_event_time')::timestamptz < since.t
                                 AND (s.v ->> 'first_event_time')::timestamptz
                                     <= (r_rows.v ->> 'first_event_time')::timestamptz
                                THEN jsonb_build_object('first_event_time', s.v -> 'first_event_time')
                                ELSE '{}'::jsonb END AS v
        FROM r_rows CROSS JOIN since LEFT JOIN s ON s.key = r_rows.key
    ), cs AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'hour', x.hour, 'namespace', x.namespace,
                                  'kind', x.kind, 'type', x.type, 'reason', x.reason) AS key,
               jsonb_build_object('occurrences', x.occurrences, 'observations', x.observations) AS v
        FROM k8s_events.event_counts AS x, since
        WHERE x.hour >= since.t
    ), cr AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'hour', x.hour, 'namespace', x.namespace,
                                  'kind', x.kind, 'type', x.type, 'reason', x.reason) AS key,
               jsonb_build_object('occurrences', x.occurrences, 'observations', x.observations) AS v
        FROM since, k8s_events.event_counts_recomputed(since.t) AS x
    ), os AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'namespace', x.namespace, 'pod', x.pod,
                                  'owner_kind', x.owner_kind) AS key,
               to_jsonb(x) - '{cluster,namespace,pod,owner_kind}'::text[] AS v
        FROM k8s_events.pod_owners AS x, since
        WHERE x.first_time >= since.t
    ), orr AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'namespace', x.namespace, 'pod', x.pod,
                                  'owner_kind', x.owner_kind) AS key,
               to_jsonb(x) - '{cluster,namespace,pod,owner_kind}'::text[] AS v
        FROM since, k8s_events.pod_owners_recomputed(since.t) AS x
        -- An owner whose first creation is older than the raw rows is not compared.
        WHERE NOT EXISTS (SELECT FROM k8s_events.pod_owners AS o
                          WHERE o.cluster = x.cluster AND o.namespace = x.namespace
                            AND o.pod = x.pod AND o.owner_kind = x.owner_kind
                            AND o.first_time < since.t)
    ), ims AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'namespace', x.namespace, 'pod', x.pod,
                                  'image', x.image) AS key,
               to_jsonb(x) - '{cluster,namespace,pod,image}'::text[] AS v
        FROM k8s_events.pod_images AS x, since
        WHERE x.first_time >= since.t
    ), imr AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'namespace', x.namespace, 'pod', x.pod,
                                  'image', x.image) AS key,
               to_jsonb(x) - '{cluster,namespace,pod,image}'::text[] AS v
        FROM since, k8s_events.pod_images_recomputed(since.t) AS x
        WHERE NOT EXISTS (SELECT FROM k8s_events.pod_images AS i
                          WHERE i.cluster = x.cluster AND i.namespace = x.namespace
                            AND i.pod = x.pod AND i.image = x.image AND i.first_time < since.t)
    ), rs AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'namespace', x.namespace,
                                  'owner_kind', x.owner_kind, 'image', x.image) AS key,
               to_jsonb(x) - '{cluster,namespace,owner_kind,image}'::text[] AS v
        FROM k8s_events.rollouts AS x
    ), rr AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'namespace', x.namespace,
                                  'owner_kind', x.owner_kind, 'image', x.image) AS key,
               to_jsonb(x) - '{cluster,namespace,owner_kind,image}'::text[] AS v
        FROM k8s_events.rollouts_recomputed() AS x
    ), hs AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'hour', x.hour, 'kind', x.kind,
                                  'type', x.type, 'reason', x.reason) AS key,
               jsonb_build_object('occurrences', x.occurrences, 'observations', x.observations) AS v
        FROM k8s_events_internal.counts_by_hour AS x
    ), hr AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'hour', x.hour, 'kind', x.kind,
                                  'type', x.type, 'reason', x.reason) AS key,
               jsonb_build_object('occurrences', sum(x.occurrences), 'observations', sum(x.observations)) AS v
        FROM k8s_events.event_counts AS x
        GROUP BY x.cluster, x.hour, x.kind, x.type, x.reason
    ), ds AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'day', x.day, 'kind', x.kind,
                                  'type', x.type, 'reason', x.reason) AS key,
               jsonb_build_object('occurrences', x.occurrences, 'observations', x.observations) AS v
        FROM k8s_events_internal.counts_by_day AS x
    ), dr AS (
        SELECT jsonb_build_object('cluster', x.cluster, 'day', x.day, 'kind', x.kind,
                                  'type', x.type, 'reason', x.reason) AS key,
               jsonb_build_object('occurrences', sum(x.occurrences), 'observations', sum(x.observations)) AS v
        FROM (SELECT c.*, date_bin('1 day', c.hour, '1970-01-01 00:00:00+00') AS day
              FROM k8s_events.event_counts AS c) AS x
        GROUP BY x.cluster, x.day, x.kind, x.type, x.reason
    )
    SELECT 'resource_summary', coalesce(s.key, r.key), s.v, r.v
    FROM s FULL JOIN r ON r.key = s.key
    WHERE s.v IS DISTINCT FROM r.v
    UNION ALL
    SELECT 'event_counts', coalesce(cs.key, cr.key), cs.v, cr.v
    FROM cs FULL JOIN cr ON cr.key = cs.key
    WHERE cs.v IS DISTINCT FROM cr.v
    UNION ALL
    -- The rollups against event_counts itself, every hour of it, raw rows or not.
    SELECT 'counts_by_hour', coalesce(hs.key, hr.key), hs.v, hr.v
    FROM hs FULL JOIN hr ON hr.key = hs.key
    WHERE hs.v IS DISTINCT FROM hr.v
    UNION ALL
    SELECT 'counts_by_day', coalesce(ds.key, dr.key), ds.v, dr.v
    FROM ds FULL JOIN dr ON dr.key = ds.key
    WHERE ds.v IS DISTINCT FROM dr.v
    UNION ALL
    SELECT 'pod_owners', coalesce(os.key, orr.key), os.v, orr.v
    FROM os FULL JOIN orr ON orr.key = os.key
    WHERE os.v IS DISTINCT FROM orr.v
    UNION ALL
    SELECT 'pod_images', coalesce(ims.key, imr.key), ims.v, imr.v
    FROM ims FULL JOIN imr ON imr.key = ims.key
    WHERE ims.v IS DISTINCT FROM imr.v
    UNION ALL
    -- rollouts against the join of the two, all of it.
    SELECT 'rollouts', coalesce(rs.key, rr.key), rs.v, rr.v
    FROM rs FULL JOIN rr ON rr.key = rs.key
    WHERE rs.v IS DISTINCT FROM rr.v
    ORDER BY 1, 2
$$;
COMMENT ON FUNCTION k8s_events.verify_summaries() IS
    'Every difference between resource_summary or event_counts (for the hours that still have raw rows) and a recomputation from k8s_events.events, between the hourly and daily rollups histogram() reads and event_counts, between pod_owners or pod_images (those that began while the raw rows were kept) and the rows, and between rollouts and their join; empty when they agree.';

-- Rebuild both from the raw rows (after an upgrade, or rows deleted by hand). Writers wait
-- meanwhile; counts of hours whose raw rows are gone are kept.
CREATE FUNCTION k8s_events.rebuild_summaries()
RETURNS TABLE (summary text, rows bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    since timestamptz;
    n     bigint;
BEGIN
    LOCK TABLE k8s_events.events IN SHARE MODE;
    LOCK TABLE k8s_events.resource_summary, k8s_events.event_counts,
               k8s_events_internal.counts_by_hour, k8s_events_internal.counts_by_day,
               k8s_events.pod_owners, k8s_events.pod_images, k8s_events.rollouts IN EXCLUSIVE MODE;
    since := k8s_events.raw_rows_since();
    -- When an object was first seen, from before the oldest row kept, stays (as verify allows).
    -- (Keyed by a jsonb array: NULLs among the names match, and the join can hash.)
    CREATE TEMPORARY TABLE k8s_events_first_seen ON COMMIT DROP AS
        SELECT jsonb_build_array(s.cluster, s.namespace, s.kind, s.name) AS key, s.first_event_time
        FROM k8s_events.resource_summary AS s WHERE s.first_event_time < since;
    DELETE FROM k8s_events.resource_summary;
    INSERT INTO k8s_events.resource_summary SELECT * FROM k8s_events.resource_summary_recomputed();
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE k8s_events.resource_summary AS s SET first_event_time = f.first_event_time
    FROM pg_temp.k8s_events_first_seen AS f
    WHERE jsonb_build_array(s.cluster, s.namespace, s.kind, s.name) = f.key
      AND f.first_event_time < s.first_event_time;
    DROP TABLE pg_temp.k8s_events_first_seen;
    summary := 'resource_summary';
    rows := n;
    RETURN NEXT;
    DELETE FROM k8s_events.event_counts AS c WHERE c.hour >= since;
    INSERT INTO k8s_events.event_counts SELECT * FROM k8s_events.event_counts_recomputed(since);
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := 'event_counts';
    rows := n;
    RETURN NEXT;
    -- The rollups from all of event_counts, including the hours whose rows are gone.
    DELETE FROM k8s_events_internal.counts_by_hour;
    INSERT INTO k8s_events_internal.counts_by_hour
    SELECT c.cluster, c.hour, c.kind, c.type, c.reason, sum(c.occurrences), sum(c.observations)
    FROM k8s_events.event_counts AS c
    GROUP BY c.cluster, c.hour, c.kind, c.type, c.reason;
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := 'counts_by_hour';
    rows := n;
    RETURN NEXT;
    DELETE FROM k8s_events_internal.counts_by_day;
    INSERT INTO k8s_events_internal.counts_by_day
    SELECT c.cluster, date_bin('1 day', c.hour, '1970-01-01 00:00:00+00'), c.kind, c.type, c.reason,
           sum(c.occurrences), sum(c.observations)
    FROM k8s_events.event_counts AS c
    GROUP BY 1, 2, 3, 4, 5;
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := 'counts_by_day';
    rows := n;
    RETURN NEXT;
    -- Pods' owners and images that began while the raw rows were kept, from the rows; older
    -- ones are kept as they are (their first rows are gone).
    DELETE FROM k8s_events.pod_owners AS o WHERE o.first_time >= since;
    INSERT INTO k8s_events.pod_owners
    SELECT r.* FROM k8s_events.pod_owners_recomputed(since) AS r
    WHERE NOT EXISTS (SELECT FROM k8s_events.pod_owners AS o
                      WHERE o.cluster = r.cluster AND o.namespace = r.namespace
                        AND o.pod = r.pod AND o.owner_kind = r.owner_kind);
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := 'pod_owners';
    rows := n;
    RETURN NEXT;
    DELETE FROM k8s_events.pod_images AS i WHERE i.first_time >= since;
    INSERT INTO k8s_events.pod_images
    SELECT r.* FROM k8s_events.pod_images_recomputed(since) AS r
    WHERE NOT EXISTS (SELECT FROM k8s_events.pod_images AS i
                      WHERE i.cluster = r.cluster AND i.namespace = r.namespace
                        AND i.pod = r.pod AND i.image = r.image);
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := 'pod_images';
    rows := n;
    RETURN NEXT;
    DELETE FROM k8s_events.rollouts;
    INSERT INTO k8s_events.rollouts SELECT * FROM k8s_events.rollouts_recomputed();
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := 'rollouts';
    rows := n;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION k8s_events.rebuild_summaries() IS
    'Recompute resource_summary, event_counts, pod_owners and pod_images from k8s_events.events (what began before the oldest partition is kept), histogram()''s rollups from event_counts and rollouts from pod_owners and pod_images; writers wait meanwhile.';
