-- k8s_events: gap-filled histograms for charts. (CREATE OR REPLACE: the 1.0 to 1.1 update
-- script includes this file as it is.)

-- Every bucket of [from_time, to_time) appears, empty ones with type and
-- reason NULL and occurrences 0, so a chart or BI tool needs no client logic.
-- Buckets are k8s_events.time_bucket() buckets (UTC).  A plain SQL function
-- so the planner inlines it and prunes partitions with the caller's values.
-- When no single object is asked for, the bucket is whole hours and the range
-- starts and ends on the hour, the hourly k8s_events.event_counts answer
-- (the same numbers, without reading the rows); otherwise the rows do.
-- Whether event_counts can answer exactly: no single object, whole-hour buckets (hours,
-- days, weeks and months all are, in UTC), a range from and to the hour.
CREATE OR REPLACE FUNCTION k8s_events.histogram_from_counts(from_time timestamptz, to_time timestamptz,
                                                 bucket interval, name text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN $4 IS NULL AND pg_catalog.isfinite($1) AND pg_catalog.isfinite($2)
                THEN EXTRACT(epoch FROM $3) OPERATOR(pg_catalog.%) 3600 OPERATOR(pg_catalog.=) 0
                 AND $1 OPERATOR(pg_catalog.=) pg_catalog.date_bin('1 hour', $1, '1970-01-01 00:00:00+00')
                 AND $2 OPERATOR(pg_catalog.=) pg_catalog.date_bin('1 hour', $2, '1970-01-01 00:00:00+00')
                ELSE false END
$$;
COMMENT ON FUNCTION k8s_events.histogram_from_counts(timestamptz, timestamptz, interval, text) IS
    'True when histogram() answers from the hourly event_counts: no name, a whole-hour bucket, a range on the hour.';

CREATE OR REPLACE FUNCTION k8s_events.histogram(
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
        SELECT k8s_events.time_bucket($3, c.hour) AS bucket_start,
               c.type,
               c.reason,
               sum(c.occurrences)::bigint AS occurrences
        FROM k8s_events.event_counts AS c
        WHERE k8s_events.histogram_from_counts($1, $2, $3, $7)
          AND c.hour >= $1 AND c.hour < $2
          AND ($4 IS NULL OR c.cluster = $4)
          AND ($5 IS NULL OR c.namespace = $5)
          AND ($6 IS NULL OR c.kind = $6)
          AND ($8 IS NULL OR c.type = $8)
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT k8s_events.time_bucket($3, e.event_time) AS bucket_start,
               e.type,
               e.reason,
               sum(e.occurrences)::bigint AS occurrences
        FROM k8s_events.events AS e
        WHERE NOT k8s_events.histogram_from_counts($1, $2, $3, $7)
          AND e.event_time >= $1 AND e.event_time < $2
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
