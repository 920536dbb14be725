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
