-- k8s_events: summaries kept by the write path, so that the questions a dashboard or a BI
-- tool asks all day are answered without reading every stored row.
--
-- Both tables are written by the one C write path (extension/summaries.c) in the
-- transaction that stores the rows, one upsert per distinct key per batch, keys in a fixed
-- order. Both always equal a recomputation from k8s_events.events, which
-- k8s_events.verify_summaries() checks and k8s_events.rebuild_summaries() restores.

-- Adds the numbers of b to those of a, key by key; keys whose total is not positive are
-- dropped (retention subtracts what it drops).
CREATE FUNCTION k8s_events.add_counts(a jsonb, b jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'k8s_add_counts'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.add_counts(jsonb, jsonb) IS
    'The sum of two {"key": number} objects, key by key, keeping only positive totals (for resource_summary.reasons).';

-- One row per involved object.
CREATE TABLE k8s_events.resource_summary (
    cluster               text        NOT NULL,
    namespace             text,
    kind                  text,
    name                  text,
    normal                bigint      NOT NULL,
    warning               bigint      NOT NULL,
    observations          bigint      NOT NULL,
    first_event_time      timestamptz NOT NULL,
    last_event_time       timestamptz NOT NULL,
    last_count            integer     NOT NULL,
    last_uid              uuid        NOT NULL,
    last_resource_version text        NOT NULL,
    last_type             text,
    last_reason           text,
    last_message          text,
    reasons               jsonb       NOT NULL,
    nodes                 jsonb       NOT NULL,
    CONSTRAINT resource_summary_key UNIQUE NULLS NOT DISTINCT (cluster, namespace, kind, name)
);
-- The overview pages: a cluster's resources by last event, a namespace's by warnings.
CREATE INDEX resource_summary_last_idx ON k8s_events.resource_summary (cluster, last_event_time);
CREATE INDEX resource_summary_warning_idx ON k8s_events.resource_summary (cluster, namespace, warning);
-- Retention: the objects that started before a dropped day ends, of which those with later
-- events keep a row (drop_partitions reads their rows in the day through the object index,
-- and no row of the others).
CREATE INDEX resource_summary_first_idx ON k8s_events.resource_summary (cluster, first_event_time);
-- The node filter (the dashboard's, and "what ran on node-7?"): the objects a node reported
-- events of, nodes ? 'node-7', and the Node itself.  Without them the filter read every
-- summary row: 352 ms at 10M events against 2.3 ms at 1M.
CREATE INDEX resource_summary_nodes_idx ON k8s_events.resource_summary
    USING gin (nodes pg_catalog.jsonb_ops);
CREATE INDEX resource_summary_node_idx ON k8s_events.resource_summary (cluster, name)
    WHERE kind OPERATOR(pg_catalog.=) 'Node';
COMMENT ON TABLE k8s_events.resource_summary IS
    'One row per involved object (cluster, namespace, kind, name), kept by the write path: occurrences by type, first and last event time, the last observation, occurrences per reason.';
COMMENT ON COLUMN k8s_events.resource_summary.normal IS 'Occurrences of type Normal (the sum of occurrences, not a count of rows).';
COMMENT ON COLUMN k8s_events.resource_summary.warning IS 'Occurrences of type Warning.';
COMMENT ON COLUMN k8s_events.resource_summary.observations IS 'Stored rows (observations) of the object.';
COMMENT ON COLUMN k8s_events.resource_summary.first_event_time IS
    'When the object was first seen: the earliest first_time of its rows, kept when retention drops those rows.';
COMMENT ON COLUMN k8s_events.resource_summary.last_event_time IS
    'event_time of the last observation: the newest by (event_time, count, uid, resource_version), whatever the order rows arrived in.';
COMMENT ON COLUMN k8s_events.resource_summary.reasons IS 'Occurrences per reason, {"BackOff": 12, ...}; reasons with none are left out.';
COMMENT ON COLUMN k8s_events.resource_summary.nodes IS
    'Observations per node that reported them (source_host: the kubelet of the node a pod runs on), {"node-7": 31}; {} when no event names a host. The dashboard''s node filter: nodes ? ''node-7''.';

-- Occurrences per hour.
CREATE TABLE k8s_events.event_counts (
    cluster      text        NOT NULL,
    hour         timestamptz NOT NULL,
    namespace    text,
    kind         text,
    type         text,
    reason       text,
    occurrences  bigint      NOT NULL,
    observations bigint      NOT NULL,
    CONSTRAINT event_counts_key UNIQUE NULLS NOT DISTINCT (cluster, hour, namespace, kind, type, reason)
);
-- Histograms of every cluster at once, and expiry (summary_retention), go by hour alone.
CREATE INDEX event_counts_hour_idx ON k8s_events.event_counts (hour);
-- Derived, but not cheap to derive, and event_counts outlives the raw rows: pg_dump keeps them.
SELECT pg_catalog.pg_extension_config_dump('k8s_events.resource_summary', '');
SELECT pg_catalog.pg_extension_config_dump('k8s_events.event_counts', '');
COMMENT ON TABLE k8s_events.event_counts IS
    'Occurrences and observations per (cluster, hour, namespace, kind, type, reason), kept by the write path; kept for k8s_events.summary_retention after the raw rows are dropped.';

-- The same counts rolled up over namespaces, per hour and per UTC day: what histogram()
-- reads for a cluster- or kind-wide chart, which would otherwise add up every namespace's
-- rows (at 10M events, some 2,000 event_counts rows an hour). Internal, as TimescaleDB keeps
-- a continuous aggregate's materialisation: users query event_counts or histogram(). Both
-- always equal a rollup of event_counts (verify_summaries() compares), and expire with it,
-- a whole UTC day at a time. Keyed with type and reason before kind: histogram() reads one
-- cluster's hour or day from the key index already in the order it returns.
CREATE TABLE k8s_events_internal.counts_by_hour (
    cluster      text        NOT NULL,
    hour         timestamptz NOT NULL,
    kind         text,
    type         text,
    reason       text,
    occurrences  bigint      NOT NULL,
    observations bigint      NOT NULL,
    CONSTRAINT counts_by_hour_key UNIQUE NULLS NOT DISTINCT (cluster, hour, type, reason, kind)
);
CREATE TABLE k8s_events_internal.counts_by_day (
    cluster      text        NOT NULL,
    day          timestamptz NOT NULL,
    kind         text,
    type         text,
    reason       text,
    occurrences  bigint      NOT NULL,
    observations bigint      NOT NULL,
    CONSTRAINT counts_by_day_key UNIQUE NULLS NOT DISTINCT (cluster, day, type, reason, kind)
);
SELECT pg_catalog.pg_extension_config_dump('k8s_events_internal.counts_by_hour', '');
SELECT pg_catalog.pg_extension_config_dump('k8s_events_internal.counts_by_day', '');
COMMENT ON TABLE k8s_events_internal.counts_by_hour IS
    'k8s_events.event_counts summed over namespaces, per (cluster, hour, kind, type, reason): what histogram() reads when no namespace is asked for.';
COMMENT ON TABLE k8s_events_internal.counts_by_day IS
    'k8s_events.event_counts summed over namespaces and the hours of each UTC day, per (cluster, day, kind, type, reason): histogram() with day, week or month buckets.';
-- Namespace-wide histograms read event_counts by namespace and time.
CREATE INDEX event_counts_namespace_idx ON k8s_events.event_counts (cluster, namespace, hour);

-- One row per involved object: what happened to it, and how often (read from the summary
-- the write path keeps, not from every row).
CREATE VIEW k8s_events.resources AS
SELECT s.cluster,
       s.namespace,
       s.kind,
       s.name,
       s.normal,
       s.warning,
       s.first_event_time,
       s.last_event_time,
       s.last_type,
       s.last_reason,
       s.last_message,
       s.reasons,
       s.observations,
       s.last_uid,
       s.nodes
FROM k8s_events.resource_summary AS s;
COMMENT ON VIEW k8s_events.resources IS
    'One row per involved object: Normal and Warning occurrences, first and last event time, the last event''s type, reason and message, occurrences per reason, the nodes that reported its events (from resource_summary).';

-- Both summaries recomputed from the stored rows: what verify_summaries compares with and
-- rebuild_summaries writes. The last observation is ordered as the write path orders it.
CREATE FUNCTION k8s_events.resource_summary_recomputed() RETURNS SETOF k8s_events.resource_summary
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- One sort (to find each object's last observation) and two aggregations: linear in
    -- the rows, with no join for a misestimate to turn into a nested loop.
    -- per_group has two kinds of rows (GROUPING SETS): per reason, which give everything
    -- but the nodes, and per source_host, which give the nodes.
    WITH ranked AS (
        SELECT e.cluster, e.namespace, e.kind, e.name, e.type, e.reason, e.message, e.occurrences,
               e.first_time, e.event_time, e.count, e.uid, e.resource_version, e.source_host,
               row_number() OVER (PARTITION BY e.cluster, e.namespace, e.kind, e.name
                                  ORDER BY e.event_time DESC, e.count DESC, e.uid DESC,
                                           e.resource_version COLLATE "C" DESC) = 1 AS is_last
        FROM k8s_events.events AS e
    ), per_group AS (
        SELECT r.cluster, r.namespace, r.kind, r.name, r.reason, r.source_host,
               GROUPING(r.reason) = 0 AS by_reason,
               coalesce(sum(r.occurrences) FILTER (WHERE r.type = 'Normal'), 0) AS normal,
               coalesce(sum(r.occurrences) FILTER (WHERE r.type = 'Warning'), 0) AS warning,
               sum(r.occurrences) AS occurrences,
               count(*) AS observations,
               min(r.first_time) AS first_time,
               bool_or(r.is_last) AS has_last,
               (array_agg(r.event_time) FILTER (WHERE r.is_last))[1] AS last_event_time,
               (array_agg(r.count) FILTER (WHERE r.is_last))[1] AS last_count,
               (array_agg(r.uid) FILTER (WHERE r.is_last))[1] AS last_uid,
               (array_agg(r.resource_version) FILTER (WHERE r.is_last))[1] AS last_resource_version,
               (array_agg(r.type) FILTER (WHERE r.is_last))[1] AS last_type,
               (array_agg(r.message) FILTER (WHERE r.is_last))[1] AS last_message
        FROM ranked AS r
        GROUP BY GROUPING SETS ((r.cluster, r.namespace, r.kind, r.name, r.reason),
                                (r.cluster, r.namespace, r.kind, r.name, r.source_host))
    )
    SELECT p.cluster, p.namespace, p.kind, p.name,
           sum(p.normal) FILTER (WHERE p.by_reason)::bigint,
           sum(p.warning) FILTER (WHERE p.by_reason)::bigint,
           sum(p.observations) FILTER (WHERE p.by_reason)::bigint,
           min(p.first_time),
           (array_agg(p.last_event_time) FILTER (WHERE p.has_last AND p.by_reason))[1],
           (array_agg(p.last_count) FILTER (WHERE p.has_last AND p.by_reason))[1],
           (array_agg(p.last_uid) FILTER (WHERE p.has_last AND p.by_reason))[1],
           (array_agg(p.last_resource_version) FILTER (WHERE p.has_last AND p.by_reason))[1],
           (array_agg(p.last_type) FILTER (WHERE p.has_last AND p.by_reason))[1],
           (array_agg(p.reason) FILTER (WHERE p.has_last AND p.by_reason))[1],
           (array_agg(p.last_message) FILTER (WHERE p.has_last AND p.by_reason))[1],
           coalesce(jsonb_object_agg(p.reason, p.occurrences)
                        FILTER (WHERE p.by_reason AND p.reason IS NOT NULL AND p.occurrences > 0), '{}'),
           coalesce(jsonb_object_agg(p.source_host, p.observations)
                        FILTER (WHERE NOT p.by_reason AND p.source_host IS NOT NULL), '{}')
    FROM per_group AS p
    GROUP BY p.cluster, p.namespace, p.kind, p.name
$$;
COMMENT ON FUNCTION k8s_events.resource_summary_recomputed() IS
    'resource_summary as recomputed from k8s_events.events.';

-- The hours that still have their raw rows: from the start of the oldest partition on.
CREATE FUNCTION k8s_events.event_counts_recomputed(since timestamptz DEFAULT '-infinity')
RETURNS SETOF k8s_events.event_counts
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.cluster, date_bin('1 hour', e.event_time, '1970-01-01 00:00:00+00') AS hour,
           e.namespace, e.kind, e.type, e.reason,
           sum(e.occurrences)::bigint, count(*)
    FROM k8s_events.events AS e
    WHERE e.event_time >= since
    GROUP BY 1, 2, 3, 4, 5, 6
$$;
COMMENT ON FUNCTION k8s_events.event_counts_recomputed(timestamptz) IS
    'event_counts as recomputed from k8s_events.events, for the hours from since on.';

-- The first whole hour of the oldest partition's range: hours before it have no raw rows
-- any more (or not all of them), and their counts are kept (summary_retention), not compared
-- or rebuilt.
CREATE FUNCTION k8s_events.raw_rows_since() RETURNS timestamptz
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN x.since IS NULL THEN 'infinity'
                WHEN NOT isfinite(x.since) THEN x.since
                ELSE date_bin('1 hour', x.since + interval '1 hour' - interval '1 microsecond',
                              '1970-01-01 00:00:00+00') END
    FROM (SELECT min(b.range_from) AS since FROM k8s_events.partition_bounds() AS b) AS x
$$;

