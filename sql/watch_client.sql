-- The SQL side of `k8s-events watch`: watch_begin, watch_store, watch_set_state, and the
-- external rows of watch_status.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS k8s_events;
DROP ROLE IF EXISTS k8s_wc_writer;
DROP ROLE IF EXISTS k8s_wc_reader;
RESET client_min_messages;
SET timezone = 'UTC';
SET k8s_events.retention = '0';  -- the events below are of a fixed date

CREATE ROLE k8s_wc_writer IN ROLE k8s_events_writer;
CREATE ROLE k8s_wc_reader IN ROLE k8s_events_reader;

\set ev1 '{"kind":"Event","metadata":{"uid":"c0000000-0000-4000-8000-000000000001","resourceVersion":"5"},"involvedObject":{"kind":"Pod","namespace":"shop","name":"web-1"},"reason":"Started","type":"Normal","count":1,"lastTimestamp":"2026-01-01T10:00:00Z"}'
\set ev2 '{"kind":"Event","metadata":{"uid":"c0000000-0000-4000-8000-000000000002","resourceVersion":"8"},"involvedObject":{"kind":"Pod","namespace":"shop","name":"web-2"},"reason":"BackOff","type":"Warning","count":3,"lastTimestamp":"2026-01-01T10:05:00Z"}'

-- Nothing is stored or reported before the session takes the cluster.
SELECT * FROM k8s_events.watch_store('wc', '[]', '5');
SELECT k8s_events.watch_set_state('wc', 'watching');

-- Taking it: no checkpoint yet; taking it again in the same session is harmless.
SELECT k8s_events.watch_begin('wc', 'test client') IS NULL AS no_checkpoint;
SELECT k8s_events.watch_begin('wc', 'test client') IS NULL AS no_checkpoint;
SELECT k8s_events.watch_lock_pid('wc') = pg_backend_pid() AS locked_by_me,
       k8s_events.watch_lock_pid('nobody') IS NULL AS nobody_locked;
SELECT cluster, state, resource_version, events_stored, watcher, client, pid = pg_backend_pid() AS my_session
FROM k8s_events.watch_status WHERE cluster = 'wc';

-- A list page and the list's resourceVersion, together.
SELECT * FROM k8s_events.watch_store('wc',
  '{"kind":"EventList","metadata":{"resourceVersion":"7"},"items":[' || :'ev1' || ']}', '7');
SELECT resource_version FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'wc';

-- A batch of frames (one new Event, one already stored, one DELETED), a raw reject whose
-- bytes are not UTF-8 and one with a NUL byte inside (both kept whole, as hex), and the
-- resourceVersion it reaches.
SELECT * FROM k8s_events.watch_store('wc',
  '[{"type":"ADDED","object":' || :'ev2' || '},{"type":"MODIFIED","object":' || :'ev1' || '},'
  '{"type":"DELETED","object":' || :'ev1' || '}]', '9',
  ARRAY['\x7b6e6f74ff'::bytea, '\x7b2261006263227d'::bytea],
  ARRAY['malformed watch frame: invalid token', 'malformed watch frame: a NUL byte']);
SELECT source, error, payload FROM k8s_events.rejected WHERE cluster = 'wc' ORDER BY id;
SELECT uid, resource_version, reason, count, occurrences FROM k8s_events.events WHERE cluster = 'wc' ORDER BY uid;

-- Only the checkpoint (a bookmark); then text that is not JSON is a rejected row.
SELECT stored, rejected FROM k8s_events.watch_store('wc', NULL, '12');
SELECT stored, rejected FROM k8s_events.watch_store('wc', '[{"type":', NULL);
SELECT error FROM k8s_events.rejected WHERE cluster = 'wc' ORDER BY id DESC LIMIT 1;
SELECT resource_version FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'wc';

-- Rows and checkpoint commit together, or neither does.
BEGIN;
SELECT stored FROM k8s_events.watch_store('wc',
  '[{"type":"MODIFIED","object":' || replace(replace(:'ev2', '"8"', '"13"'), '"count":3', '"count":4') || '}]', '13');
ROLLBACK;
SELECT resource_version, (SELECT count(*) FROM k8s_events.events WHERE cluster = 'wc') AS rows
FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'wc';

-- Bad arguments.
SELECT * FROM k8s_events.watch_store('wc', NULL, '');
SELECT * FROM k8s_events.watch_store('wc', NULL, NULL, ARRAY['\x00'::bytea], ARRAY[]::text[]);
SELECT * FROM k8s_events.watch_store('wc', NULL, NULL, ARRAY[NULL::bytea], ARRAY['x']);
SELECT * FROM k8s_events.watch_store('wc', NULL, NULL, ARRAY[['\x00'::bytea]], ARRAY[['x']]);
SELECT * FROM k8s_events.watch_store(NULL, '[]');

-- Status: state, last error and the client's totals; counters from the batches.
SELECT k8s_events.watch_set_state('wc', 'backoff', 'HTTP 503 from the API server: busy', 2, 3);
SELECT state, last_error, last_error_at IS NOT NULL AS error_time, relists, reconnects,
       events_stored, duplicates, rejected, deleted_seen, last_event_at IS NOT NULL AS event_time
FROM k8s_events.watch_status WHERE cluster = 'wc';
SELECT k8s_events.watch_set_state('wc', 'watching');  -- NULLs keep the error and the counters
SELECT state, last_error, relists, reconnects FROM k8s_events.watch_status WHERE cluster = 'wc';
SELECT k8s_events.watch_set_state('wc', 'sleeping');
SELECT k8s_events.watch_set_state('wc', 'watching', NULL, -1);
SELECT k8s_events.watch_set_state('wc', NULL);

-- Names and clients.
SELECT k8s_events.watch_begin('', 'test client');
SELECT k8s_events.watch_begin(repeat('x', 254), 'test client');
SELECT k8s_events.watch_begin('wc2', '');
SELECT k8s_events.watch_begin(NULL, 'test client');

-- A cluster the background worker has enabled is refused; disabled, it can be taken, and the
-- worker's checkpoint is the one it resumes from.
BEGIN;
SELECT k8s_events.add_cluster('wc-worker', api_server => 'http://127.0.0.1:1');
SELECT k8s_events.watch_begin('wc-worker', 'test client');
ROLLBACK;
BEGIN;
SELECT k8s_events.add_cluster('wc-off', api_server => 'http://127.0.0.1:1');
SELECT k8s_events.set_cluster_enabled('wc-off', false);
INSERT INTO k8s_events_internal.watch_checkpoints (cluster, resource_version) VALUES ('wc-off', '42');
COMMIT;
SELECT k8s_events.watch_begin('wc-off', 'test client');
SELECT cluster, watcher, state, resource_version FROM k8s_events.watch_status
WHERE cluster = 'wc-off' ORDER BY watcher DESC;
-- remove_cluster deletes the checkpoint (the external watcher's row stays, as history).
SELECT k8s_events.remove_cluster('wc-off');
SELECT count(*) FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'wc-off';

-- Privileges: a writer may take a cluster, a reader may not; neither reads the checkpoints.
SET ROLE k8s_wc_reader;
SELECT k8s_events.watch_begin('wc3', 'test client');
SELECT count(*) >= 2 AS reader_sees_status FROM k8s_events.watch_status WHERE watcher = 'external';
RESET ROLE;
SET ROLE k8s_wc_writer;
SELECT k8s_events.watch_begin('wc3', 'test client') IS NULL AS no_checkpoint;
SELECT * FROM k8s_events_internal.watch_checkpoints;
INSERT INTO k8s_events_internal.external_watchers (cluster, client, backend_pid, state, since, started_at, updated_at)
VALUES ('x', 'x', 1, 'watching', now(), now(), now());
RESET ROLE;

-- A watch_begin whose transaction rolled back guards nothing: the cluster's lock key was
-- rolled back with it (and may go to another name), so the session lets the lock go at its
-- next use and is not watching the cluster.
BEGIN;
SELECT k8s_events.watch_begin('wc-rolled-back', 'test client') IS NULL AS no_checkpoint;
SELECT count(*) AS keys_in_transaction FROM k8s_events_internal.cluster_lock_keys WHERE cluster = 'wc-rolled-back';
ROLLBACK;
SELECT count(*) AS keys_after_rollback FROM k8s_events_internal.cluster_lock_keys WHERE cluster = 'wc-rolled-back';
SELECT * FROM k8s_events.watch_store('wc-rolled-back', NULL, '5');
SELECT count(*) AS userlocks_left FROM pg_locks
WHERE pid = pg_backend_pid() AND locktype = 'userlock' AND objsubid = 2
  AND objid::int8 = hashtext('wc-rolled-back')::int8 & 4294967295;
-- Taken again, in a transaction that commits, it holds.
SELECT k8s_events.watch_begin('wc-rolled-back', 'test client') IS NULL AS no_checkpoint;
SELECT stored FROM k8s_events.watch_store('wc-rolled-back', NULL, '5');
-- A session that lets go of its user locks itself is no longer watching; taking the cluster
-- again is one lock, not two.
SELECT pg_advisory_unlock_all();
SELECT * FROM k8s_events.watch_store('wc-rolled-back', NULL, '6');
SELECT k8s_events.watch_begin('wc-rolled-back', 'test client') = '5' AS resumes_at_5;
SELECT k8s_events.watch_begin('wc-rolled-back', 'test client') = '5' AS again_harmless;
SELECT count(*) AS watch_locks FROM pg_locks
WHERE pid = pg_backend_pid() AND locktype = 'userlock' AND objsubid = 2;

SET client_min_messages = warning;
DROP ROLE k8s_wc_writer;
DROP ROLE k8s_wc_reader;
