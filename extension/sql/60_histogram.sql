-- k8s_events: gap-filled histograms for charts. (CREATE OR REPLACE: the 1.0 to 1.1 update
-- script includes this file as it is.)

-- Where histogram() reads its numbers from: the smallest summary that answers exactly.
--   counts_by_day   no namespace or name asked, buckets of whole UTC days (days, weeks,
--                   months), a range from and to midnight UTC;
--   counts_by_hour  no namespace or name, whole-hour buckets, a range on the hour;
--   event_counts    a namespace but no name, whole-hour buckets, a range on the hour;
--   events          otherwise (one object, buckets shorter than an hour, a range off the
--                   hour, an unbounded range): the raw rows.
-- time_bucket() starts every bucket of a whole number of hours on the hour, and every
-- bucket of a whole number of days (or months) at midnight UTC, so each bucket is a union
-- of the summary's hours or days.
CREATE OR REPLACE FUNCTION k8s_events.histogram_source(from_time timestamptz, to_time timestamptz,
                                                      bucket interval, namespace text DEFAULT NULL,
                                                      name text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN $5 IS NOT NULL OR NOT pg_catalog.isfinite($1) OR NOT pg_catalog.isfinite($2)
             OR EXTRACT(epoch FROM $3) OPERATOR(pg_catalog.%) 3600 OPERATOR(pg_catalog.<>) 0
             OR $1 OPERATOR(pg_catalog.<>) pg_catalog.date_bin('1 hour', $1, '1970-01-01 00:00:00+00')
             OR $2 OPERATOR(pg_catalog.<>) pg_catalog.date_bin('1 hour', $2, '1970-01-01 00:00:00+00')
            THEN 'events'
        WHEN $4 IS NOT NULL THEN 'event_counts'
        WHEN EXTRACT(epoch FROM $3) OPERATOR(pg_catalog.%) 86400 OPERATOR(pg_catalog.=) 0
             AND $1 OPERATOR(pg_catalog.=) pg_catalog.date_bin('1 day', $1, '1970-01-01 00:00:00+00')
             AND $2 OPERATOR(pg_catalog.=) pg_catalog.date_bin('1 day', $2, '1970-01-01 00:00:00+00')
            THEN 'counts_by_day'
        ELSE 'counts_by_hour'
    END
$$;
COMMENT ON FUNCTION k8s_events.histogram_source(timestamptz, timestamptz, interval, text, text) IS
    'Which table histogram() reads for these arguments: counts_by_day, counts_by_hour, event_counts or events (the raw rows); the numbers are the same either way.';

-- The histogram's query, planned with the caller's values whether they are constants or a
-- driver's parameters: PL/pgSQL plans it when it runs (a custom plan every call, never the
-- generic plan of unknown values), so the arms of the other sources are planned away and
-- the raw rows' arm prunes partitions to the range. Without JIT:
-- compiling the plan (some 100 ms for the expressions of a few dozen partitions) costs
-- more than any of these queries takes to run. (Its own parameter names: PL/pgSQL does not
-- let a parameter share a result column's name, as histogram()'s type does.)
--
-- One cluster from a summary in buckets of its grain (an hour, or a day of counts_by_day),
-- the common case (a dashboard's chart): bucket by bucket, in the order they are returned.
-- Each bucket is one key of the summary's index, whose rows come in (type, reason) order:
-- summed over kinds as they come, and the sort after it only checks each bucket's rows.
-- Aggregating every row of the range and then sorting the result, as the general form
-- does, took twice as long for a 10M store's 30 days hourly (24,000 rows: 72 ms against
-- 32 ms, by hand; 32 ms in `make bench SCALE=10M`).
-- One object (its namespace, kind and name all given) over a finite range: what a resource
-- page's chart asks. Its rows only, through the object index of each partition of the range:
-- one query whose plan is made once per session and kept (a generic plan, its partitions
-- pruned when it runs). Planning it anew each call, as histogram()'s general form is
-- planned, cost more than running it: over the 30 partitions of a 30-day range of a 10M
-- store, 42-60 ms a call against 19-23 ms with the kept plan, by hand, on a busy machine.
CREATE OR REPLACE FUNCTION k8s_events_internal.object_histogram(
    from_time timestamptz, to_time timestamptz, width interval,
    f_cluster text, f_namespace text, f_kind text, f_name text, f_type text)
RETURNS TABLE (bucket_start timestamptz, type text, reason text, occurrences bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH counts AS (
        SELECT k8s_events.time_bucket(width, e.event_time) AS bucket_start, e.type, e.reason,
               sum(e.occurrences)::bigint AS occurrences
        FROM k8s_events.events AS e
        WHERE e.namespace = f_namespace AND e.kind = f_kind AND e.name = f_name
          AND e.event_time >= from_time AND e.event_time < to_time
          AND (f_cluster IS NULL OR e.cluster = f_cluster)
          AND (f_type IS NULL OR e.type = f_type)
        GROUP BY 1, 2, 3
    )
    SELECT b.bucket_start, c.type, c.reason, coalesce(c.occurrences, 0)
    FROM (SELECT timezone('UTC', g) AS bucket_start
          FROM generate_series(timezone('UTC', k8s_events.time_bucket(width, from_time)),
                               timezone('UTC', k8s_events.time_bucket(width, to_time - interval '1 microsecond')),
                               width) AS g) AS b
    LEFT JOIN counts AS c ON c.bucket_start = b.bucket_start
    ORDER BY b.bucket_start, c.type, c.reason;
END
$$;
COMMENT ON FUNCTION k8s_events_internal.object_histogram(timestamptz, timestamptz, interval, text, text, text, text, text) IS
    'What k8s_events.histogram() returns for one object over a finite range; call that.';

CREATE OR REPLACE FUNCTION k8s_events_internal.histogram(
    from_time timestamptz, to_time timestamptz, width interval,
    f_cluster text, f_namespace text, f_kind text, f_name text, f_type text)
RETURNS TABLE (bucket_start timestamptz, type text, reason text, occurrences bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
AS $$
#variable_conflict use_column
DECLARE
    source text := k8s_events.histogram_source(from_time, to_time, width, f_namespace, f_name);
    -- Buckets of whole days over a range on the hour but not at midnight (120 days back from
    -- now): the whole UTC days inside it, [day_from, day_to), come from counts_by_day, and
    -- only the hours at either end from counts_by_hour (a 10M store's 120 days: 4,700 day
    -- rows and a few hundred hour rows, where all hours were 100,000).
    day_from timestamptz;
    day_to timestamptz;
    split boolean := false;
BEGIN
    IF from_time >= to_time THEN
        RETURN;
    END IF;
    IF f_namespace IS NOT NULL AND f_kind IS NOT NULL AND f_name IS NOT NULL
       AND isfinite(from_time) AND isfinite(to_time) THEN
        RETURN QUERY SELECT * FROM k8s_events_internal.object_histogram(
            from_time, to_time, width, f_cluster, f_namespace, f_kind, f_name, f_type);
        RETURN;
    END IF;
    IF source = 'counts_by_hour' AND EXTRACT(epoch FROM width) % 86400 = 0 THEN
        day_from := date_bin('1 day', from_time + interval '1 day' - interval '1 microsecond',
                             timestamptz '1970-01-01 00:00:00+00');
        day_to := date_bin('1 day', to_time, timestamptz '1970-01-01 00:00:00+00');
        split := day_from < day_to;
    END IF;
    -- Bucket by bucket when a bucket is one key of the summary (an hour of counts_by_hour or
    -- event_counts, a day of counts_by_day): wider buckets sum many keys each, which the
    -- general form does in one pass (a 10M store's 120 days daily from counts_by_hour, a
    -- range off midnight: 65 ms bucket by bucket, 39 ms in one pass).
    IF f_cluster IS NOT NULL
       AND ((source IN ('counts_by_hour', 'event_counts') AND width = interval '1 hour')
            OR (source = 'counts_by_day' AND width = interval '1 day')) THEN
        RETURN QUERY
        SELECT b.bucket_start, c.type, c.reason, coalesce(c.occurrences, 0)
        FROM (-- generate_series over UTC wall-clock time: a day stays midnight to midnight UTC.
              SELECT timezone('UTC', g) AS bucket_start
              FROM generate_series(timezone('UTC', from_time),
                                   timezone('UTC', to_time - interval '1 microsecond'), width) AS g
              ORDER BY 1) AS b
        LEFT JOIN LATERAL (
            -- The bucket's time as an equality: the planner then reads the one key in order
            -- (as a range it expects hundreds of rows and hashes them).
            SELECT d.type, d.reason, sum(d.occurrences)::bigint AS occurrences
            FROM k8s_events_internal.counts_by_day AS d
            WHERE source = 'counts_by_day' AND d.cluster = f_cluster AND d.day = b.bucket_start
              AND (f_kind IS NULL OR d.kind = f_kind)
              AND (f_type IS NULL OR d.type = f_type)
            GROUP BY 1, 2
            UNION ALL
            SELECT h.type, h.reason, sum(h.occurrences)::bigint
            FROM k8s_events_internal.counts_by_hour AS h
            WHERE source = 'counts_by_hour' AND h.cluster = f_cluster AND h.hour = b.bucket_start
              AND (f_kind IS NULL OR h.kind = f_kind)
              AND (f_type IS NULL OR h.type = f_type)
            GROUP BY 1, 2
            UNION ALL
            SELECT n.type, n.reason, sum(n.occurrences)::bigint
            FROM k8s_events.event_counts AS n
            WHERE source = 'event_counts' AND n.cluster = f_cluster AND n.namespace = f_namespace
              AND n.hour = b.bucket_start
              AND (f_kind IS NULL OR n.kind = f_kind)
              AND (f_type IS NULL OR n.type = f_type)
            GROUP BY 1, 2
        ) AS c ON true
        ORDER BY b.bucket_start, c.type, c.reason;
        RETURN;
    END IF;
    RETURN QUERY
    WITH buckets AS (
        SELECT timezone('UTC', b) AS bucket_start
        FROM generate_series(timezone('UTC', k8s_events.time_bucket(width, from_time)),
                             timezone('UTC', k8s_events.time_bucket(width, to_time - interval '1 microsecond')),
                             width) AS b
    ), counts AS (
        SELECT k8s_events.time_bucket(width, d.day) AS bucket_start, d.type, d.reason,
               sum(d.occurrences)::bigint AS occurrences
        FROM k8s_events_internal.counts_by_day AS d
        WHERE ((source = 'counts_by_day' AND d.day >= from_time AND d.day < to_time)
               OR (split AND d.day >= day_from AND d.day < day_to))
          AND (f_cluster IS NULL OR d.cluster = f_cluster)
          AND (f_kind IS NULL OR d.kind = f_kind)
          AND (f_type IS NULL OR d.type = f_type)
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT k8s_events.time_bucket(width, h.hour), h.type, h.reason, sum(h.occurrences)::bigint
        FROM k8s_events_internal.counts_by_hour AS h
        WHERE source = 'counts_by_hour'
          AND h.hour >= from_time AND h.hour < to_time
          AND (NOT split OR h.hour < day_from OR h.hour >= day_to)
          AND (f_cluster IS NULL OR h.cluster = f_cluster)
          AND (f_kind IS NULL OR h.kind = f_kind)
          AND (f_type IS NULL OR h.type = f_type)
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT k8s_events.time_bucket(width, c.hour), c.type, c.reason, sum(c.occurrences)::bigint
        FROM k8s_events.event_counts AS c
        WHERE source = 'event_counts'
          AND c.hour >= from_time AND c.hour < to_time
          AND (f_cluster IS NULL OR c.cluster = f_cluster)
          AND c.namespace = f_namespace
          AND (f_kind IS NULL OR c.kind = f_kind)
          AND (f_type IS NULL OR c.type = f_type)
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT k8s_events.time_bucket(width, e.event_time), e.type, e.reason, sum(e.occurrences)::bigint
        FROM k8s_events.events AS e
        WHERE source = 'events'
          AND e.event_time >= from_time AND e.event_time < to_time
          AND (f_cluster IS NULL OR e.cluster = f_cluster)
          AND (f_namespace IS NULL OR e.namespace = f_namespace)
          AND (f_kind IS NULL OR e.kind = f_kind)
          AND (f_name IS NULL OR e.name = f_name)
          AND (f_type IS NULL OR e.type = f_type)
        GROUP BY 1, 2, 3
    )
    SELECT b.bucket_start, c.type, c.reason, coalesce(c.occurrences, 0)
    FROM buckets AS b
    LEFT JOIN counts AS c ON c.bucket_start = b.bucket_start
    ORDER BY b.bucket_start, c.type, c.reason;
END
$$;
COMMENT ON FUNCTION k8s_events_internal.histogram(timestamptz, timestamptz, interval, text, text, text, text, text) IS
    'What k8s_events.histogram() returns; call that.';

-- Every bucket of [from_time, to_time) appears, empty ones with type and reason NULL and
-- occurrences 0, so a chart or BI tool needs no client logic. Buckets are
-- k8s_events.time_bucket() buckets (UTC).
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
    SELECT * FROM k8s_events_internal.histogram($1, $2, $3, $4, $5, $6, $7, $8)
$$;
COMMENT ON FUNCTION k8s_events.histogram(timestamptz, timestamptz, interval, text, text, text, text, text) IS
    'Occurrences per time bucket, type and reason over [from_time, to_time), every bucket present (gap-filled); NULL filters mean any. Reads the smallest summary that answers exactly (histogram_source()).';
