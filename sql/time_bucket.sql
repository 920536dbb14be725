SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS k8s_events;
RESET client_min_messages;

-- Results are printed in UTC; one block further down runs under another
-- session TimeZone to show that it changes nothing.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';

--
-- Declarations: all IMMUTABLE, STRICT and PARALLEL SAFE.
--
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns,
       p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p
WHERE p.proname = 'time_bucket' AND p.pronamespace = 'k8s_events'::regnamespace
ORDER BY 1::text;

--
-- Common widths on timestamptz (bucketed in UTC, default origin).
--
SELECT w, k8s_events.time_bucket(w::interval, timestamptz '2026-08-19 13:47:12.345678+00')
FROM (VALUES ('1 microsecond'), ('1 second'), ('5 minutes'), ('15 minutes'), ('1 hour'),
             ('6 hours'), ('1 day'), ('1 week'), ('1 month'), ('3 months'), ('1 year'),
             ('10 years')) AS t(w);

-- The default origin is Monday 2000-01-03: weekly buckets start on Mondays,
-- like date_trunc('week'), and '7 days' is the same width as '1 week'.
SELECT d::date AS day, to_char(d, 'Dy') AS dow,
       k8s_events.time_bucket('1 week', d) AS week,
       k8s_events.time_bucket('1 week', d) = date_trunc('week', d) AS same_as_trunc
FROM generate_series(timestamptz '2026-08-16', '2026-08-25', '1 day') AS d;
SELECT count(*) AS checked,
       count(*) FILTER (WHERE k8s_events.time_bucket('1 week', d) <> date_trunc('week', d)) AS mismatches,
       count(*) FILTER (WHERE k8s_events.time_bucket('7 days', d)
                              <> k8s_events.time_bucket('1 week', d)) AS week_vs_7_days
FROM generate_series(timestamptz '1990-01-01', '2040-01-01', '1 day 7 hours 13 minutes') AS d;
-- Multi-day widths count from 2000-01-03, not from the first of the month.
SELECT k8s_events.time_bucket('10 days', timestamptz '2000-01-12 12:00+00') AS from_jan_3,
       k8s_events.time_bucket('2 days', timestamptz '2000-01-03 00:00+00') AS at_origin,
       k8s_events.time_bucket('2 days', timestamptz '2000-01-02 23:59:59.999999+00') AS just_before;
-- Month widths count from 2000-01-01: quarters and half years are calendar ones.
SELECT ts::date AS day,
       k8s_events.time_bucket('1 month', ts)::date AS month,
       k8s_events.time_bucket('3 months', ts)::date AS quarter,
       k8s_events.time_bucket('6 months', ts)::date AS half,
       k8s_events.time_bucket('1 year', ts)::date AS year,
       k8s_events.time_bucket('5 months', ts)::date AS five_months
FROM unnest(ARRAY[timestamptz '2026-01-01 00:00+00', '2026-03-31 23:59:59.999999+00',
                  '2026-04-01 00:00+00', '2026-12-31 23:59:59.999999+00',
                  '2000-01-01 00:00+00', '1999-12-31 23:59:59.999999+00']) AS ts;
-- Widths may be spelt in any unit; only the total length counts.
SELECT k8s_events.time_bucket('1 day -1 hour', timestamptz '2000-01-04 00:30+00') AS "23h",
       k8s_events.time_bucket('90 minutes', timestamptz '2026-08-19 13:47+00') AS "90min",
       k8s_events.time_bucket('1 year -1 month', timestamptz '2001-01-15+00') AS "11mon",
       k8s_events.time_bucket('1 year 6 months', timestamptz '2001-07-15+00') AS "18mon";

--
-- Microsecond edges: the end of a bucket stays in it, the next microsecond
-- starts the next one.
--
SELECT ts, k8s_events.time_bucket('5 minutes', ts) AS five_min,
       k8s_events.time_bucket('1 second', ts) AS sec,
       k8s_events.time_bucket('1 month', ts) AS month
FROM unnest(ARRAY[timestamptz '2026-08-19 12:04:59.999999+00', '2026-08-19 12:05:00+00',
                  '2026-08-19 12:05:00.000001+00', '2026-08-31 23:59:59.999999+00',
                  '2026-09-01 00:00:00+00']) AS ts;

--
-- Custom origins.
--
SELECT k8s_events.time_bucket('1 hour', timestamptz '2026-08-19 13:47+00',
                              timestamptz '2000-01-01 00:30+00') AS half_past,
       k8s_events.time_bucket('1 hour', timestamptz '2026-08-19 13:17+00',
                              timestamptz '2000-01-01 00:30+00') AS half_past_prev,
       k8s_events.time_bucket('1 week', timestamptz '2026-08-19 13:47+00',
                              timestamptz '2000-01-02+00') AS sunday_weeks,
       k8s_events.time_bucket('15 minutes', timestamptz '2026-08-19 13:47+00',
                              timestamptz '2030-01-01 00:05+00') AS origin_in_future,
       k8s_events.time_bucket('1 day', timestamptz '2026-08-19 05:00+00',
                              timestamptz '2026-08-19 06:00+00') AS day_from_6am;
-- For month widths only the year and month of the origin matter.
SELECT k8s_events.time_bucket('3 months', timestamptz '2026-08-19+00',
                              timestamptz '2000-02-01+00') AS feb_quarters,
       k8s_events.time_bucket('3 months', timestamptz '2026-08-19+00',
                              timestamptz '2000-02-15 13:00+00') AS origin_day_ignored,
       k8s_events.time_bucket('1 year', timestamptz '2026-03-19+00',
                              timestamptz '2020-04-01+00') AS fiscal_year,
       k8s_events.time_bucket('1 year', timestamptz '2026-04-01+00',
                              timestamptz '2020-04-01+00') AS fiscal_year_start;
-- The origin itself starts a bucket; equal origins a whole number of widths
-- apart give the same buckets.
SELECT k8s_events.time_bucket('45 minutes', o, o) = o AS origin_starts_bucket,
       k8s_events.time_bucket('45 minutes', timestamptz '2026-08-19 13:47+00', o)
       = k8s_events.time_bucket('45 minutes', timestamptz '2026-08-19 13:47+00',
                                o + interval '450 minutes') AS shifted_origin_same
FROM (SELECT timestamptz '2013-05-05 05:05:05.5+00' AS o) AS s;

--
-- Times before the origin floor down, never towards the origin.
--
SELECT ts, k8s_events.time_bucket('1 day', ts) AS day,
       k8s_events.time_bucket('1 week', ts) AS week,
       k8s_events.time_bucket('3 hours', ts) AS three_hours,
       k8s_events.time_bucket('1 microsecond', ts) = ts AS usec_identity
FROM unnest(ARRAY[timestamptz '1999-12-31 23:59:59.999999+00', '2000-01-02 00:00+00',
                  '1970-01-01 00:00+00', '1969-12-31 23:59:59.999999+00',
                  '1900-02-28 01:02:03+00', '0001-01-01 00:00+00']) AS ts;
SELECT ts, k8s_events.time_bucket('1 month', ts) AS month,
       k8s_events.time_bucket('3 months', ts) AS quarter,
       k8s_events.time_bucket('1 year', ts) AS year,
       k8s_events.time_bucket('5 years', ts) AS five_years
FROM unnest(ARRAY[timestamp '1999-12-15 10:00', '1969-07-20 20:17', '0001-06-01 00:00',
                  '0001-06-01 00:00 BC', '0003-06-01 00:00 BC', '4000-03-01 00:00 BC']) AS ts;
-- The same floor against an independent computation, over 30 000 values on
-- both sides of a few origins (remainders computed in numeric).
SELECT count(*) AS checked,
       count(*) FILTER (WHERE k8s_events.time_bucket(w, ts, o)
                              <> ts - ((d % wu + wu) % wu) * interval '1 microsecond') AS mismatches
FROM (SELECT ts, w, o,
             extract(epoch FROM ts - o) * 1000000 AS d,
             extract(epoch FROM w) * 1000000 AS wu
      FROM generate_series(timestamp '1950-01-01', '2050-01-01', '29 hours 17 minutes 3.000007 seconds') AS ts,
           unnest(ARRAY[interval '1 microsecond', '7 seconds', '5 minutes', '1 hour',
                        '1 day', '1 week', '90 minutes 0.5 seconds']) AS w,
           unnest(ARRAY[timestamp '2000-01-03', '1999-12-31 23:59:59.999999',
                        '2024-06-15 12:34:56.789']) AS o) AS s;

--
-- Leap days.
--
SELECT k8s_events.time_bucket('1 day', timestamptz '2024-02-29 12:00+00') AS day,
       k8s_events.time_bucket('1 week', timestamptz '2024-02-29 12:00+00') AS week,
       k8s_events.time_bucket('1 month', timestamptz '2024-02-29 23:59:59.999999+00') AS month,
       k8s_events.time_bucket('1 month', timestamptz '2024-03-01 00:00+00') AS next_month,
       k8s_events.time_bucket('1 year', timestamptz '2024-02-29 12:00+00') AS year,
       k8s_events.time_bucket('4 years', timestamptz '2027-12-31+00') AS four_years;
SELECT k8s_events.time_bucket('1 month', timestamp '2024-03-15', timestamp '2024-02-29') AS leap_origin,
       k8s_events.time_bucket('1 day', timestamp '2024-03-01 00:00', timestamp '2024-02-29 06:00') AS day_from_6am,
       k8s_events.time_bucket('366 days', timestamp '2025-02-28', timestamp '2024-02-29') AS leap_year_long,
       k8s_events.time_bucket('1 month', date '2024-02-29') AS date_month,
       k8s_events.time_bucket('1 week', date '2024-02-29') AS date_week;

--
-- timestamp without time zone: same arithmetic, no zone involved.
--
SELECT w, k8s_events.time_bucket(w::interval, timestamp '2026-08-19 13:47:12.345678') AS bucket
FROM (VALUES ('5 minutes'), ('1 hour'), ('1 day'), ('1 week'), ('1 month'), ('3 months'),
             ('1 year')) AS t(w);
SELECT k8s_events.time_bucket('1 hour', timestamp '2026-08-19 13:17', timestamp '2000-01-01 00:30') AS with_origin,
       k8s_events.time_bucket('1 day', timestamp '1999-12-31 23:59:59.999999') AS before_origin,
       pg_typeof(k8s_events.time_bucket('1 day', timestamp '2026-08-19')) AS type;
-- With the session in UTC, the timestamptz variant agrees with it exactly.
SELECT count(*) AS checked,
       count(*) FILTER (WHERE k8s_events.time_bucket(w, ts)::timestamp
                              <> k8s_events.time_bucket(w, ts::timestamp)) AS mismatches
FROM generate_series(timestamptz '1990-01-01', '2040-01-01', '3 days 7 hours 1 minute 0.25 seconds') AS ts,
     unnest(ARRAY[interval '15 minutes', '1 day', '1 week', '1 month', '3 months', '1 year']) AS w;

--
-- date: whole-day or month widths.
--
SELECT k8s_events.time_bucket('1 day', date '2026-08-19') AS day,
       k8s_events.time_bucket('1 week', date '2026-08-19') AS week,
       k8s_events.time_bucket('14 days', date '2026-08-19', date '2026-08-01') AS fortnight,
       k8s_events.time_bucket('3 months', date '2026-08-19') AS quarter,
       k8s_events.time_bucket('1 year', date '2026-08-19', date '2020-04-01') AS fiscal,
       k8s_events.time_bucket('1 week', date '1999-12-31') AS before_origin,
       k8s_events.time_bucket('1 day 24 hours', date '2000-01-06') AS two_days;
-- Dates past the end of timestamp are fine.
SELECT k8s_events.time_bucket('1 week', date '5874897-12-31') AS last_week,
       k8s_events.time_bucket('1 year', date '5874897-12-31') AS last_year;

--
-- Infinity passes through unchanged.
--
SELECT k8s_events.time_bucket('1 hour', timestamptz 'infinity') AS tz_inf,
       k8s_events.time_bucket('1 month', timestamptz '-infinity') AS tz_ninf,
       k8s_events.time_bucket('1 day', timestamptz 'infinity', timestamptz '2000-01-01+00') AS tz_origin,
       k8s_events.time_bucket('1 day', timestamptz '-infinity', 'Europe/Berlin') AS zone,
       k8s_events.time_bucket('1 day', timestamptz 'infinity', 'Europe/Berlin',
                              timestamptz '2000-01-01+00') AS zone_origin;
SELECT k8s_events.time_bucket('1 hour', timestamp 'infinity') AS ts_inf,
       k8s_events.time_bucket('1 year', timestamp '-infinity', timestamp '2000-01-01') AS ts_ninf,
       k8s_events.time_bucket('1 day', date 'infinity') AS date_inf,
       k8s_events.time_bucket('1 month', date '-infinity', date '2000-01-01') AS date_ninf;

-- NULL in, NULL out.
SELECT k8s_events.time_bucket(NULL, timestamptz '2026-08-19+00') IS NULL AS null_width,
       k8s_events.time_bucket('1 day', NULL::timestamptz) IS NULL AS null_ts,
       k8s_events.time_bucket('1 day', timestamptz '2026-08-19+00', NULL::timestamptz) IS NULL AS null_origin,
       k8s_events.time_bucket('1 day', timestamptz '2026-08-19+00', NULL::text) IS NULL AS null_zone;

--
-- The session TimeZone does not matter to the timestamptz variants: they
-- bucket in UTC.  Under New York time the UTC day boundary shows as 20:00 or
-- 19:00 the evening before.
--
SET timezone = 'America/New_York';
SELECT ts, k8s_events.time_bucket('1 day', ts) AS day,
       k8s_events.time_bucket('1 month', ts) AS month,
       k8s_events.time_bucket('1 day', ts) AT TIME ZONE 'UTC' AS day_utc
FROM unnest(ARRAY[timestamptz '2026-08-19 21:30-04', '2026-03-01 03:00+00',
                  '2026-01-15 22:00-05']) AS ts;
-- The same rows as under UTC.
SELECT count(*) AS checked,
       count(*) FILTER (WHERE k8s_events.time_bucket(w, ts)
                              <> k8s_events.time_bucket(w, ts, 'UTC')) AS mismatches
FROM generate_series(timestamptz '2025-12-25+00', '2027-01-05+00', '97 minutes') AS ts,
     unnest(ARRAY[interval '1 hour', '1 day', '1 week', '1 month', '1 year']) AS w;
SET timezone = 'UTC';

--
-- With a time zone: buckets follow the local wall clock.
--
-- Europe/Berlin, spring forward on 2026-03-29 (02:00 CET -> 03:00 CEST, at
-- 01:00 UTC): the day is 23 hours long and still starts at local midnight;
-- the local hour 02:00 does not exist, so a bucket that should start there
-- starts at 03:00 CEST instead.
SELECT ts, ts AT TIME ZONE 'Europe/Berlin' AS berlin,
       k8s_events.time_bucket('1 hour', ts, 'Europe/Berlin') AS hour,
       k8s_events.time_bucket('2 hours', ts, 'Europe/Berlin') AS two_hours,
       k8s_events.time_bucket('1 day', ts, 'Europe/Berlin') AS day,
       k8s_events.time_bucket('1 day', ts, 'Europe/Berlin') AT TIME ZONE 'Europe/Berlin' AS day_local
FROM generate_series(timestamptz '2026-03-28 22:30+00', '2026-03-29 02:30+00', '30 minutes') AS ts;
SELECT k8s_events.time_bucket('1 day', timestamptz '2026-03-29 22:30+00', 'Europe/Berlin') AS next_day,
       k8s_events.time_bucket('1 day', timestamptz '2026-03-29 22:30+00', 'Europe/Berlin')
       - k8s_events.time_bucket('1 day', timestamptz '2026-03-29 12:00+00', 'Europe/Berlin') AS day_length;
-- Europe/Berlin, fall back on 2026-10-25 (03:00 CEST -> 02:00 CET, at 01:00
-- UTC): the day is 25 hours long; the two local 02:00 hours get one bucket
-- each, and no bucket starts after its value.
SELECT ts, ts AT TIME ZONE 'Europe/Berlin' AS berlin,
       k8s_events.time_bucket('30 minutes', ts, 'Europe/Berlin') AS half_hour,
       k8s_events.time_bucket('1 hour', ts, 'Europe/Berlin') AS hour,
       k8s_events.time_bucket('2 hours', ts, 'Europe/Berlin') AS two_hours,
       k8s_events.time_bucket('1 day', ts, 'Europe/Berlin') AS day
FROM generate_series(timestamptz '2026-10-24 23:30+00', '2026-10-25 02:30+00', '30 minutes') AS ts;
SELECT k8s_events.time_bucket('1 day', timestamptz '2026-10-25 23:30+00', 'Europe/Berlin')
       - k8s_events.time_bucket('1 day', timestamptz '2026-10-25 12:00+00', 'Europe/Berlin') AS day_length;
-- America/New_York: 2026-03-08 (02:00 EST -> 03:00 EDT) and 2026-11-01
-- (02:00 EDT -> 01:00 EST).
SELECT ts, ts AT TIME ZONE 'America/New_York' AS new_york,
       k8s_events.time_bucket('1 hour', ts, 'America/New_York') AS hour,
       k8s_events.time_bucket('1 day', ts, 'America/New_York') AS day,
       k8s_events.time_bucket('1 week', ts, 'America/New_York') AS week,
       k8s_events.time_bucket('1 month', ts, 'America/New_York') AS month
FROM unnest(ARRAY[timestamptz '2026-03-08 06:59:59.999999+00', '2026-03-08 07:00+00',
                  '2026-03-08 07:30+00', '2026-03-09 03:59:59+00', '2026-03-09 04:00+00',
                  '2026-11-01 05:30+00', '2026-11-01 06:30+00', '2026-11-02 04:59:59+00',
                  '2026-11-02 05:00+00']) AS ts;
-- Month and year buckets start at local midnight on the first.
SELECT k8s_events.time_bucket('1 month', timestamptz '2026-04-01 00:30+02', 'Europe/Berlin') AS april,
       k8s_events.time_bucket('1 month', timestamptz '2026-03-31 23:30+02', 'Europe/Berlin') AS march,
       k8s_events.time_bucket('1 year', timestamptz '2026-08-19+00', 'America/New_York') AS year,
       k8s_events.time_bucket('3 months', timestamptz '2026-11-15+00', 'Asia/Kolkata') AS quarter;
-- An origin is read in the zone too: days starting at 06:00 local all year.
SELECT k8s_events.time_bucket('1 day', ts, 'Europe/Berlin', timestamptz '2000-01-03 06:00+01') AS bucket,
       k8s_events.time_bucket('1 day', ts, 'Europe/Berlin', timestamptz '2000-01-03 06:00+01')
         AT TIME ZONE 'Europe/Berlin' AS bucket_local
FROM unnest(ARRAY[timestamptz '2026-01-20 05:59+01', '2026-01-20 06:00+01',
                  '2026-07-20 05:59+02', '2026-07-20 06:00+02']) AS ts;
-- Zone names, abbreviations and offsets as accepted by AT TIME ZONE (where
-- '-03:30' is POSIX-style, 3 h 30 min east of UTC).
SELECT k8s_events.time_bucket('1 day', timestamptz '2026-08-19 02:00+00', 'UTC') AS utc,
       k8s_events.time_bucket('1 day', timestamptz '2026-08-19 02:00+00', 'Asia/Tokyo') AS tokyo,
       k8s_events.time_bucket('1 day', timestamptz '2026-08-19 02:00+00', 'Asia/Kathmandu') AS kathmandu,
       k8s_events.time_bucket('1 day', timestamptz '2026-08-19 02:00+00', 'PST') AS pst,
       k8s_events.time_bucket('1 day', timestamptz '2026-08-19 02:00+00', '-03:30') AS posix_minus;
-- Every value lies in its bucket (it starts no later than the value, and the
-- value's local time is less than one width past the bucket's local start)
-- across both DST changes of two zones, for several widths.
SELECT zone, w, count(*) AS checked,
       count(*) FILTER (WHERE b > ts) AS start_after_value,
       count(*) FILTER (WHERE b AT TIME ZONE zone > ts AT TIME ZONE zone) AS local_start_after,
       count(*) FILTER (WHERE ts AT TIME ZONE zone >= (b AT TIME ZONE zone) + w) AS local_end_before
FROM (SELECT zone, w, ts, k8s_events.time_bucket(w, ts, zone) AS b
      FROM unnest(ARRAY['Europe/Berlin', 'America/New_York']) AS zone,
           unnest(ARRAY[interval '10 minutes', '1 hour', '2 hours', '1 day']) AS w,
           (SELECT generate_series(timestamptz '2026-03-07 12:00+00', '2026-03-30 12:00+00', '7 minutes')
            UNION ALL
            SELECT generate_series(timestamptz '2026-10-24 12:00+00', '2026-11-02 12:00+00', '7 minutes')) AS g(ts)) AS s
GROUP BY zone, w ORDER BY zone, w;

--
-- Errors.
--
-- Months cannot be mixed with days or time.
SELECT k8s_events.time_bucket('1 month 1 day', timestamptz '2026-08-19+00');
SELECT k8s_events.time_bucket('1 year 1 second', timestamp '2026-08-19');
SELECT k8s_events.time_bucket('1 month -1 hour', date '2026-08-19');
SELECT k8s_events.time_bucket('1 month 1 hour', timestamptz '2026-08-19+00', 'Europe/Berlin');
-- The width must be positive.
SELECT k8s_events.time_bucket('0', timestamptz '2026-08-19+00');
SELECT k8s_events.time_bucket('0 months', timestamp '2026-08-19');
SELECT k8s_events.time_bucket('-1 hour', timestamptz '2026-08-19+00');
SELECT k8s_events.time_bucket('-3 months', timestamp '2026-08-19');
SELECT k8s_events.time_bucket('1 day -25 hours', date '2026-08-19');
SELECT k8s_events.time_bucket('-1 day', timestamptz '2026-08-19+00', 'Europe/Berlin');
-- A bad width is reported even when the value is infinite.
SELECT k8s_events.time_bucket('-1 day', timestamptz 'infinity');
-- A width beyond the microsecond range.
SELECT k8s_events.time_bucket('200000000 days', timestamptz '2026-08-19+00');
-- date needs whole days.
SELECT k8s_events.time_bucket('1 hour', date '2026-08-19');
SELECT k8s_events.time_bucket('36 hours', date '2026-08-19');
SELECT k8s_events.time_bucket('1 day 1 microsecond', date '2026-08-19', date '2026-01-01');
-- The origin must be finite.
SELECT k8s_events.time_bucket('1 day', timestamptz '2026-08-19+00', timestamptz 'infinity');
SELECT k8s_events.time_bucket('1 month', timestamp '2026-08-19', timestamp '-infinity');
SELECT k8s_events.time_bucket('1 day', timestamptz '2026-08-19+00', 'Europe/Berlin', timestamptz '-infinity');
SELECT k8s_events.time_bucket('1 day', date '2026-08-19', date 'infinity');
-- Unknown time zone.
SELECT k8s_events.time_bucket('1 day', timestamptz '2026-08-19+00', 'Mars/Olympus_Mons');
SELECT k8s_events.time_bucket('1 day', timestamptz '2026-08-19+00', 'Mars/Olympus_Mons', timestamptz '2000-01-01+00');
-- A bucket starting before the earliest timestamp (4714-11-24 00:00 BC) or
-- date is reported, not wrapped.
SELECT k8s_events.time_bucket('1 week', timestamp '4714-11-24 00:00 BC') AS monday_fits;
SELECT k8s_events.time_bucket('1 week', timestamp '4714-11-24 00:00 BC', timestamp '2000-01-04');
SELECT k8s_events.time_bucket('1 year', timestamp '4714-12-01 00:00 BC');
SELECT k8s_events.time_bucket('1 day', timestamptz '4714-11-24 00:00+00 BC', timestamptz '2000-01-01 12:00+00');
SELECT k8s_events.time_bucket('1 month', timestamptz '4714-11-30 00:00+00 BC');
SELECT k8s_events.time_bucket('1 year', date '4714-12-01 BC');
SELECT k8s_events.time_bucket('1 week', date '4714-11-24 BC', date '2000-01-05');
-- A huge month width: after the origin the bucket is the origin's month,
-- before it the bucket would start hundreds of millions of years ago.
SELECT k8s_events.time_bucket('1000000000 months', timestamp '2026-08-19') AS after_origin;
SELECT k8s_events.time_bucket('1000000000 months', timestamp '1999-12-31');
