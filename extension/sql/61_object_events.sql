-- k8s_events: one object's stored rows, newest first, read from only the partitions that
-- hold them. (CREATE OR REPLACE: the 1.0 to 1.1 update script includes this file as it is.)
--
-- The plain query (WHERE cluster/namespace/kind/name ORDER BY event_time DESC LIMIT 100)
-- is right but plans every daily partition: at 120 partitions planning alone takes some
-- 15 ms, whatever the object. Here the object's summary row bounds the search: no stored
-- row of it is newer than last_event_time, none older than first_event_time (the decoder
-- never stores a first_time after its event_time), and it has exactly `observations` rows.
-- The search walks back from the newest row over windows of 1, 2, 4, ... days, counting
-- the object's rows in each (each count planned with its own bounds, so over the few
-- partitions of its window), until it has enough rows, has all the object's rows, or
-- reaches first_event_time; then it reads that span once, in order. Should the count
-- disagree with the summary (rows deleted by hand, before rebuild_summaries()), it reads
-- the whole range as the plain query does.
CREATE OR REPLACE FUNCTION k8s_events_internal.object_events(
    f_cluster text, f_namespace text, f_kind text, f_name text,
    from_time timestamptz, to_time timestamptz, max_rows integer, skip_rows integer)
RETURNS SETOF k8s_events.events
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    s record;
    wanted bigint := max_rows::bigint + skip_rows;
    hi timestamptz;        -- the search's upper bound (exclusive)
    lo timestamptz;        -- its lower bound so far (inclusive)
    upper_bound timestamptz;
    floor_time timestamptz;
    span interval := interval '1 day';
    found_rows bigint := 0;
BEGIN
    IF max_rows IS NULL OR max_rows < 0 OR skip_rows IS NULL OR skip_rows < 0 THEN
        RAISE EXCEPTION 'max_rows and skip_rows must be zero or more'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('max_rows was %s, skip_rows %s.', max_rows, skip_rows);
    END IF;
    -- A NULL bound is no bound, as in histogram().
    from_time := coalesce(from_time, '-infinity');
    to_time := coalesce(to_time, 'infinity');
    IF f_cluster IS NULL OR max_rows = 0 OR from_time >= to_time THEN
        RETURN;
    END IF;
    SELECT r.first_event_time, r.last_event_time, r.observations INTO s
    FROM k8s_events.resource_summary AS r
    WHERE r.cluster = f_cluster
      AND (r.namespace = f_namespace OR (f_namespace IS NULL AND r.namespace IS NULL))
      AND (r.kind = f_kind OR (f_kind IS NULL AND r.kind IS NULL))
      AND (r.name = f_name OR (f_name IS NULL AND r.name IS NULL));
    IF NOT FOUND OR NOT pg_catalog.isfinite(s.first_event_time) THEN
        -- No summary row (rows of a 1.0 schema before its update, or added by hand), or
        -- one with no bound to walk to: the plain query over [from_time, to_time).
        lo := from_time;
        hi := to_time;
    ELSE
        hi := least(to_time, s.last_event_time + interval '1 microsecond');
        floor_time := greatest(from_time, s.first_event_time);
        lo := hi;
        WHILE lo > floor_time AND found_rows < wanted AND found_rows < s.observations LOOP
            upper_bound := lo;
            lo := greatest(lo - span, floor_time);
            SELECT found_rows + pg_catalog.count(*) INTO found_rows
            FROM k8s_events.events AS e
            WHERE e.cluster = f_cluster
              AND (e.namespace = f_namespace OR (f_namespace IS NULL AND e.namespace IS NULL))
              AND (e.kind = f_kind OR (f_kind IS NULL AND e.kind IS NULL))
              AND (e.name = f_name OR (f_name IS NULL AND e.name IS NULL))
              AND e.event_time >= lo AND e.event_time < upper_bound;
            span := span * 2;
        END LOOP;
        -- The whole of the object's time searched (no range narrower than it asked) and
        -- fewer rows than the summary counts: it is out of date; search everything.
        IF found_rows < wanted AND found_rows <> s.observations
           AND from_time <= s.first_event_time AND to_time > s.last_event_time THEN
            lo := from_time;
            hi := to_time;
        END IF;
    END IF;
    RETURN QUERY
    SELECT e.*
    FROM k8s_events.events AS e
    WHERE e.cluster = f_cluster
      AND (e.namespace = f_namespace OR (f_namespace IS NULL AND e.namespace IS NULL))
      AND (e.kind = f_kind OR (f_kind IS NULL AND e.kind IS NULL))
      AND (e.name = f_name OR (f_name IS NULL AND e.name IS NULL))
      AND e.event_time >= lo AND e.event_time < hi
    ORDER BY e.event_time DESC, e.uid DESC, e.resource_version COLLATE "C" DESC
    LIMIT max_rows OFFSET skip_rows;
END
$$;
COMMENT ON FUNCTION k8s_events_internal.object_events(text, text, text, text, timestamptz, timestamptz, integer, integer) IS
    'What k8s_events.object_events() returns; call that.';

-- The rows of one object (cluster, namespace, kind, name: NULL matches NULL; a cluster-scoped
-- object such as a Node is stored under its Events' namespace, default) in
-- [from_time, to_time) (a NULL bound is none), newest first (ties by
-- uid and resource_version), max_rows of them after skipping skip_rows: what a resource
-- page's event table shows, page by page.
CREATE OR REPLACE FUNCTION k8s_events.object_events(
    cluster   text,
    namespace text,
    kind      text,
    name      text,
    from_time timestamptz DEFAULT '-infinity',
    to_time   timestamptz DEFAULT 'infinity',
    max_rows  integer DEFAULT 100,
    skip_rows integer DEFAULT 0)
RETURNS SETOF k8s_events.events
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT * FROM k8s_events_internal.object_events($1, $2, $3, $4, $5, $6, $7, $8)
$$;
COMMENT ON FUNCTION k8s_events.object_events(text, text, text, text, timestamptz, timestamptz, integer, integer) IS
    'The stored rows of one object in [from_time, to_time), newest first, max_rows of them after skip_rows; reads only the partitions its rows are in (bounded by resource_summary), so it answers in about a millisecond however many partitions there are.';
