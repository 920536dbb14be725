SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS k8s_events;
RESET client_min_messages;
\pset null '(null)'

-- The whole match (default group 0) and numbered groups.
SELECT k8s_events.regexp_extract('pod web-0 on node-a', 'web-[0-9]+');
SELECT k8s_events.regexp_extract('pod web-0 on node-a', '(\w+)-(\d+) on (\S+)', 0) AS g0,
       k8s_events.regexp_extract('pod web-0 on node-a', '(\w+)-(\d+) on (\S+)', 1) AS g1,
       k8s_events.regexp_extract('pod web-0 on node-a', '(\w+)-(\d+) on (\S+)', 2) AS g2,
       k8s_events.regexp_extract('pod web-0 on node-a', '(\w+)-(\d+) on (\S+)', 3) AS g3;
-- Only the FIRST match counts.
SELECT k8s_events.regexp_extract('a1 b22 c333', '[a-z](\d+)', 1);
-- Non-capturing groups do not count.
SELECT k8s_events.regexp_extract('v1.2.3', '(?:v)(\d+)\.(\d+)', 2);
-- No match: NULL.
SELECT k8s_events.regexp_extract('Started container nginx', 'image "([^"]+)"', 1) IS NULL AS no_match;
-- A group that exists but did not take part in the match: NULL; an empty group: ''.
SELECT k8s_events.regexp_extract('abc', 'a(x)?bc', 1) IS NULL AS not_participating,
       k8s_events.regexp_extract('abc', 'a(x|y)|abc', 1) IS NULL AS other_branch,
       k8s_events.regexp_extract('abc', 'a(x*)bc', 1) = '' AS empty_group;
-- ARE features: flags, classes, back references, anchors.
SELECT k8s_events.regexp_extract('Back-off PULLING image', '(?i)pulling (\w+)', 1);
SELECT k8s_events.regexp_extract('key=value; other=x', '^([[:alpha:]]+)=', 1);
SELECT k8s_events.regexp_extract('xx abab yy', '(ab)\1', 0);
-- Character (not byte) offsets with multibyte text.
SELECT k8s_events.regexp_extract('événement: pod «café-1» créé', '«([^»]+)»', 1);
SELECT k8s_events.regexp_extract('日本語テキスト', 'テ(.)', 1);
SELECT k8s_events.regexp_extract('ü', '', 0) = '' AS empty_match_at_start;
-- STRICT: NULL in, NULL out.
SELECT k8s_events.regexp_extract(NULL, 'a') IS NULL AS n1,
       k8s_events.regexp_extract('a', NULL) IS NULL AS n2,
       k8s_events.regexp_extract('a', 'a', NULL) IS NULL AS n3;
-- Character classes follow the collation: "C" knows only ASCII letters.
SELECT k8s_events.regexp_extract('xÀB' COLLATE "C", '[[:upper:]]+') AS c_collation,
       k8s_events.regexp_extract('xÀB', '[[:upper:]]+') AS database_collation,
       current_setting('lc_ctype') AS lc_ctype;

-- A row without the literal a pattern starts with is answered without running
-- the pattern, and a row with it is searched from there: the same groups as
-- regexp_match() for every pair, the pattern changing from row to row.
CREATE TEMP TABLE subjects (s text);
INSERT INTO subjects VALUES ('pod/abc'), ('x pod/ pod/abc'), ('é pod/xyz'), ('POD/abc'),
  ('abbbc'), ('ac'), ('abd'), ('cd'), ('café latte'), ('a bc'), (''), ('xy'), ('pod/'),
  ('ünïcödé pod/q pod/r'), ('ab ab abc'), ('-->z');
CREATE TEMP TABLE patterns (p text);
INSERT INTO patterns VALUES ('pod/([a-z]+)'), ('ab*(c)'), ('abc{0}(d)?'), ('ab|c(d)'),
  ('x(y)|ab(c)'), ('é (.)'), ('café (\w+)'), ('od/(?<=pod/)([a-z]+)'), ('ab+(c)'),
  ('ab?(c)'), ('a b(c)'), ('(?i)POD/([a-z]+)'), ('^pod/(.)'), ('-->(\w)'), ('ab (abc)$'),
  ('ab(?#opt)?(c)'), ('ab(?#x){0}(c)');
-- Without statistics the planner guesses thousands of rows each, and JIT-compiles the join.
ANALYZE subjects, patterns;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE k8s_events.regexp_extract(s, p, 1)
                              IS DISTINCT FROM (regexp_match(s, p))[1]) AS group_differs,
       count(*) FILTER (WHERE k8s_events.regexp_extract(s, p, 1) IS NOT NULL) AS matched
  FROM (SELECT s, p FROM subjects, patterns ORDER BY s, p) AS pairs;
DROP TABLE subjects, patterns;

-- Bad patterns are PostgreSQL's own errors.
SELECT k8s_events.regexp_extract('abc', '(unclosed');
SELECT k8s_events.regexp_extract('abc', '*a');
SELECT k8s_events.regexp_extract('abc', 'a{3,2}');
-- Bad group numbers: even when the subject would not match.
SELECT k8s_events.regexp_extract('abc', 'a(b)c', 2);
SELECT k8s_events.regexp_extract('abc', 'abc', 1);
SELECT k8s_events.regexp_extract('zzz', '(a)(b)(c)', 4);
SELECT k8s_events.regexp_extract('abc', 'a(b)c', -1);
-- SQLSTATE of a statement's error (psql's verbose mode would also print source lines).
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
SELECT pg_temp.sqlstate_of($$SELECT k8s_events.regexp_extract('abc', 'a(b)c', 5)$$) AS bad_group,
       pg_temp.sqlstate_of($$SELECT k8s_events.regexp_extract('abc', 'a(b)c', -1)$$) AS negative_group,
       pg_temp.sqlstate_of($$SELECT k8s_events.regexp_extract('abc', 'a(b', 1)$$) AS bad_pattern,
       pg_temp.sqlstate_of($$SELECT k8s_events.regexp_extract('abc', 'a(b)c', 1)$$) AS good;

-- On real kubelet and controller messages: "which image did pod X pull?"
CREATE TEMP TABLE ev (pod text, reason text, message text);
INSERT INTO ev VALUES
  ('kube-dns-545bc4bfd4-t4lzx', 'Pulling', 'pulling image "gcr.io/google_containers/k8s-dns-kube-dns-amd64:1.14.5"'),
  ('kube-dns-545bc4bfd4-t4lzx', 'Pulled', 'Successfully pulled image "gcr.io/google_containers/k8s-dns-kube-dns-amd64:1.14.5"'),
  ('traefik-57b79cf995-qn4jm', 'Pulled', 'Successfully pulled image "rancher/mirrored-library-traefik:2.11.10" in 2.991s (2.991s including waiting). Image size: 47012064 bytes.'),
  ('no-image-deployment-849c4c4958-rxqmt', 'Failed', 'Failed to pull image "noimage.com/no-such-image": rpc error: code = Unknown desc = Error response from daemon: Get "https://noimage.com/v2/": x509: certificate is not valid for any names, but wanted to match noimage.com'),
  ('crashpod-f9b59484-fpzht', 'Pulled', 'Container image "busybox:1.28" already present on machine'),
  ('memory-eater', 'Pulled', 'Successfully pulled image "us-central1-docker.pkg.dev/genuine-flight-317411/devel/memory-eater:1.0" in 5.638046961s');
SELECT pod, k8s_events.regexp_extract(message, '^Successfully pulled image "([^"]+)"', 1) AS image
  FROM ev WHERE reason = 'Pulled' ORDER BY pod;
-- An already-present image was not pulled; an alternation covers both forms.
SELECT pod, k8s_events.regexp_extract(message, '^(Successfully pulled|Container) image "([^"]+)"', 2) AS image,
       k8s_events.regexp_extract(message, '^(Successfully pulled|Container) image', 1) AS how
  FROM ev WHERE reason = 'Pulled' AND pod = 'crashpod-f9b59484-fpzht';
SELECT k8s_events.regexp_extract(message, 'pulled image "[^"]+" in ([0-9.]+m?s)', 1) AS pull_time
  FROM ev WHERE pod = 'traefik-57b79cf995-qn4jm';
SELECT k8s_events.regexp_extract(message, 'Image size: (\d+) bytes', 1)::bigint AS bytes
  FROM ev WHERE pod = 'traefik-57b79cf995-qn4jm';
SELECT k8s_events.regexp_extract(message, 'code = (\w+) desc', 1) AS grpc_code,
       k8s_events.regexp_extract(message, '(x509: .*)$', 1) AS cause
  FROM ev WHERE reason = 'Failed';
-- Usable in an index expression (IMMUTABLE).
CREATE INDEX ON ev (k8s_events.regexp_extract(message, 'image "([^"]+)"', 1));
SELECT provolatile, proparallel, proisstrict FROM pg_proc
  WHERE oid = 'k8s_events.regexp_extract(text, text, integer)'::regprocedure;
DROP TABLE ev;
