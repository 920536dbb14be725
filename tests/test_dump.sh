#!/usr/bin/env bash
# pg_dump keeps every event: partitions and rejects survive a dump and restore.
set -uo pipefail
src=k8s_events_dump_src
dst=k8s_events_dump_dst
. "$(dirname "$0")/lib.sh"

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $src" \
	-c "DROP DATABASE IF EXISTS $dst" -c "CREATE DATABASE $src" -c "CREATE DATABASE $dst" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$src" >/dev/null <<'SQL'
CREATE EXTENSION k8s_events;
SET k8s_events.retention = '0';
SELECT k8s_events.ingest(jsonb_build_array(
  '{"kind":"Event","metadata":{"uid":"0b0b0b0b-0000-4000-8000-000000000001","resourceVersion":"1"},"reason":"A","lastTimestamp":"2026-01-01T10:00:00Z","count":1}'::jsonb,
  '{"kind":"Event","metadata":{"uid":"0b0b0b0b-0000-4000-8000-000000000001","resourceVersion":"2"},"reason":"A","lastTimestamp":"2026-01-02T10:00:00Z","count":4}'::jsonb,
  '{"kind":"Event","metadata":{"uid":"0b0b0b0b-0000-4000-8000-000000000002","resourceVersion":"3"},"reason":"B","lastTimestamp":"2026-01-03T10:00:00Z"}'::jsonb,
  '{"kind":"Event","metadata":{"uid":"0b0b0b0b-0000-4000-8000-000000000003","resourceVersion":"4","namespace":"shop"},"involvedObject":{"kind":"ReplicaSet","namespace":"shop","name":"web-1"},"reason":"SuccessfulCreate","message":"Created pod: web-1-abcde","lastTimestamp":"2026-01-03T11:00:00Z"}'::jsonb,
  '{"kind":"Event","metadata":{"uid":"0b0b0b0b-0000-4000-8000-000000000004","resourceVersion":"5","namespace":"shop"},"involvedObject":{"kind":"Pod","namespace":"shop","name":"web-1-abcde"},"reason":"Pulling","message":"Pulling image \"web:1\"","lastTimestamp":"2026-01-03T11:00:02Z"}'::jsonb,
  '"not an event"'::jsonb), 'prod');
SQL
summary="SELECT (SELECT count(*) FROM k8s_events.events), (SELECT sum(occurrences) FROM k8s_events.events),
                (SELECT count(*) FROM k8s_events.partitions), (SELECT count(*) FROM k8s_events.rejected)"
before=$(psql -X -At -d "$src" -c "$summary")
out=$(pg_dump -d "$src" | psql -X -q -v ON_ERROR_STOP=1 -d "$dst" 2>&1)
rc=$?
after=$(psql -X -At -d "$dst" -c "$summary" 2>&1)
test "$rc" = 0 && test "$before" = "5|7|3|1" && test "$after" = "$before"
check "pg_dump | psql restores events, partitions and rejects ($before)" $? "$out
before: $before
after: $after"
# The summaries are extension configuration tables: pg_dump keeps them with the rows, the
# rollups histogram() reads and the rollouts too.
summaries="SELECT (SELECT count(*) || '/' || sum(normal + warning) FROM k8s_events.resource_summary),
                  (SELECT count(*) FROM k8s_events.event_counts),
                  (SELECT count(*) FROM k8s_events_internal.counts_by_hour),
                  (SELECT count(*) FROM k8s_events_internal.counts_by_day),
                  (SELECT count(*) FROM k8s_events.pod_owners), (SELECT count(*) FROM k8s_events.pod_images),
                  (SELECT string_agg(image || ':' || pods, ',') FROM k8s_events.rollouts)"
s_before=$(psql -X -At -d "$src" -c "$summaries")
s_after=$(psql -X -At -d "$dst" -c "$summaries" 2>&1)
test "$s_after" = "$s_before" && test "$s_before" = "3/0|5|5|5|1|1|web:1:1"
check "pg_dump | psql keeps the summaries ($s_before)" $? "before $s_before after $s_after"
check_summaries "$dst" "a dump and restore"

# The restored store keeps working: a re-sent event is still a duplicate, a new one lands.
out=$(psql -X -q -At -d "$dst" -c "SET k8s_events.retention = '0'" -c "SELECT k8s_events.ingest('{\"kind\":\"Event\",\"metadata\":{\"uid\":\"0b0b0b0b-0000-4000-8000-000000000001\",\"resourceVersion\":\"2\"},\"lastTimestamp\":\"2026-01-02T10:00:00Z\",\"count\":4}', 'prod')" \
	-c "SELECT k8s_events.ingest('{\"kind\":\"Event\",\"metadata\":{\"uid\":\"0b0b0b0b-0000-4000-8000-000000000001\",\"resourceVersion\":\"5\"},\"lastTimestamp\":\"2026-01-04T10:00:00Z\",\"count\":6}', 'prod')" \
	-c "SELECT sum(occurrences) FROM k8s_events.events WHERE uid = '0b0b0b0b-0000-4000-8000-000000000001'" 2>&1)
test "$out" = "$(printf '0\n1\n6')"
check "after restore, keys and occurrences carry on" $? "$out"
check_summaries "$dst" "storing into a restored database"

psql -X -q -d postgres -c "DROP DATABASE $src" -c "DROP DATABASE $dst" >/dev/null
