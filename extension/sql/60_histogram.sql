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
