-- k8s_events: time_bucket(), TimescaleDB-compatible bucketing of timestamps.
--
-- All variants are IMMUTABLE: timestamptz values are bucketed in UTC, never in
-- the session TimeZone.  The variants with an explicit zone name read the time
-- zone database, as PostgreSQL's own timezone(text, timestamptz) (AT TIME ZONE)
-- does, which PostgreSQL declares IMMUTABLE too; TimescaleDB declares its
-- time_bucket(interval, timestamptz, text, ...) IMMUTABLE for the same reason.
-- Unlike TimescaleDB's, which has NULL-defaulted trailing arguments, every
-- variant here is a separate overload, so all of them can be STRICT.

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts timestamptz)
  RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'time_bucket_timestamp' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, timestamptz) IS
  'Start of the bucket of the given width holding ts, computed in UTC; buckets are aligned on 2000-01-03 00:00 UTC (months on 2000-01-01)';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts timestamptz, origin timestamptz)
  RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'time_bucket_timestamp' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, timestamptz, timestamptz) IS
  'Start of the bucket of the given width holding ts, computed in UTC, buckets aligned on origin (only its year and month for month widths)';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts timestamptz, timezone text)
  RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'time_bucket_timestamptz_zone' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, timestamptz, text) IS
  'Start of the bucket holding ts, computed on wall-clock time in the named zone; buckets aligned on local 2000-01-03 00:00 (months on 2000-01-01)';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts timestamptz, timezone text,
                                       origin timestamptz)
  RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'time_bucket_timestamptz_zone' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, timestamptz, text, timestamptz) IS
  'Start of the bucket holding ts, computed on wall-clock time in the named zone, buckets aligned on origin read in that zone';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts timestamp)
  RETURNS timestamp
  AS 'MODULE_PATHNAME', 'time_bucket_timestamp' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, timestamp) IS
  'Start of the bucket of the given width holding ts; buckets aligned on 2000-01-03 00:00 (months on 2000-01-01)';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts timestamp, origin timestamp)
  RETURNS timestamp
  AS 'MODULE_PATHNAME', 'time_bucket_timestamp' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, timestamp, timestamp) IS
  'Start of the bucket of the given width holding ts, buckets aligned on origin (only its year and month for month widths)';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts date)
  RETURNS date
  AS 'MODULE_PATHNAME', 'time_bucket_date' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, date) IS
  'First day of the bucket (whole days, or months) holding ts; buckets aligned on 2000-01-03 (months on 2000-01-01)';

CREATE FUNCTION k8s_events.time_bucket(bucket_width interval, ts date, origin date)
  RETURNS date
  AS 'MODULE_PATHNAME', 'time_bucket_date' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.time_bucket(interval, date, date) IS
  'First day of the bucket (whole days, or months) holding ts, buckets aligned on origin (only its year and month for month widths)';
