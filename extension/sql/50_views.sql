-- k8s_events: views for people and BI tools.

-- The newest observation of each event.
CREATE VIEW k8s_events.latest AS
SELECT DISTINCT ON (e.cluster, e.uid) e.*
FROM k8s_events.events AS e
ORDER BY e.cluster, e.uid, e.event_time DESC, e.count DESC, e.ingested_at DESC;
COMMENT ON VIEW k8s_events.latest IS
    'The newest stored observation of each event (cluster, uid).';

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
