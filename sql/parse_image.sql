SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS k8s_events;
RESET client_min_messages;
\pset null '(null)'

-- Good references: Docker Hub defaults, library/, registries, ports, tags and digests.
SELECT ref, (k8s_events.parse_image(ref)).*
  FROM (VALUES
    ('busybox'),
    ('busybox:1.28'),
    ('library/busybox'),
    ('rancher/klipper-helm:v0.9.3-build20241008'),
    ('docker.io/nginx'),
    ('docker.io/library/busybox'),
    ('docker.io/bitnami/redis:7.2'),
    ('index.docker.io/ubuntu:22.04'),
    ('gcr.io/heptio-images/kube-conformance:v1.8.0'),
    ('us-central1-docker.pkg.dev/genuine-flight-317411/devel/memory-eater:1.0'),
    ('quay.io/calico/node:v2.6.2'),
    ('registry.example.com:5000/team/app'),
    ('localhost/app'),
    ('localhost:5000/app:dev'),
    ('localhost:5000'),  -- no '/': Docker reads a name and a tag, not a registry
    ('10.0.0.12:5000/app:1.0'),
    ('192.168.1.1/a/b/c'),
    ('[::1]:5000/app'),
    ('[2001:db8::1]/app:x'),
    ('myregistry:5000/app'),
    ('Registry/app'),
    ('a/b/c/d/e:f'),
    ('my_org/my__app.v2---x:T_1.0-rc'),
    ('busybox@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa'),
    ('busybox:latest@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa')
  ) AS t(ref);
-- Other digest algorithms, and the longest tag.
SELECT registry, repository, tag, left(digest, 12) AS digest_start, length(digest) AS digest_length
  FROM (VALUES ('ghcr.io/org/app:1.0@sha384:' || repeat('ab', 48)),
               ('ghcr.io/org/app@sha512:' || repeat('0f', 64))) AS t(ref),
       k8s_events.parse_image(ref);
SELECT length(tag) FROM k8s_events.parse_image('x:' || repeat('t', 128));
-- Longest allowed repository: 255 characters including the implied "library/".
SELECT length(repository), tag FROM k8s_events.parse_image(repeat('a', 247));
SELECT length(repository) FROM k8s_events.parse_image('quay.io/' || repeat('a', 255));
-- Use with image_from_message: which repositories did the kubelet pull, and from where?
SELECT (k8s_events.parse_image(k8s_events.image_from_message(m))).*
  FROM (VALUES ('Successfully pulled image "busybox:latest" in 334ms (334ms including waiting). Image size: 2224358 bytes.'),
               ('Container image "gcr.io/google_containers/etcd-amd64:3.1.10" already present on machine')) AS t(m);
SELECT k8s_events.parse_image(NULL) IS NULL AS null_in_null_out;
SELECT provolatile, proparallel, proisstrict FROM pg_proc
  WHERE oid = 'k8s_events.parse_image(text)'::regprocedure;

-- Bad references: one per rule, with the rule in the detail.
-- SQLSTATE of a statement's error (psql's verbose mode would also print source lines).
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
SELECT pg_temp.sqlstate_of($$SELECT k8s_events.parse_image('Busybox')$$) AS bad,
       pg_temp.sqlstate_of($$SELECT k8s_events.parse_image('busybox')$$) AS good;
SELECT * FROM k8s_events.parse_image('');
SELECT * FROM k8s_events.parse_image('7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa');
SELECT * FROM k8s_events.parse_image(':1.0');
SELECT * FROM k8s_events.parse_image('@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa');
-- repository
SELECT * FROM k8s_events.parse_image('Busybox');
SELECT * FROM k8s_events.parse_image('docker.io/Library/busybox');
SELECT * FROM k8s_events.parse_image('quay.io/org/My-App:1');
SELECT * FROM k8s_events.parse_image('foo//bar');
SELECT * FROM k8s_events.parse_image('quay.io/');
SELECT * FROM k8s_events.parse_image('foo/bar/');
SELECT * FROM k8s_events.parse_image('-foo');
SELECT * FROM k8s_events.parse_image('foo.');
SELECT * FROM k8s_events.parse_image('foo..bar');
SELECT * FROM k8s_events.parse_image('foo___bar');
SELECT * FROM k8s_events.parse_image('foo bar');
SELECT * FROM k8s_events.parse_image('café');
SELECT * FROM k8s_events.parse_image(repeat('a', 248));
SELECT * FROM k8s_events.parse_image('quay.io/' || repeat('a', 256));
-- registry
SELECT * FROM k8s_events.parse_image('-bad.example.com/app');
SELECT * FROM k8s_events.parse_image('bad-.example.com/app');
SELECT * FROM k8s_events.parse_image('bad..example.com/app');
SELECT * FROM k8s_events.parse_image('exa_mple.com/app');
SELECT * FROM k8s_events.parse_image('example.com:/app');
SELECT * FROM k8s_events.parse_image('example.com:http/app');
SELECT * FROM k8s_events.parse_image('[::1/app');
SELECT * FROM k8s_events.parse_image('[]/app');
SELECT * FROM k8s_events.parse_image('[fe80::1%eth0]:5000/app');
-- tag
SELECT * FROM k8s_events.parse_image('busybox:');
SELECT * FROM k8s_events.parse_image('busybox:.hidden');
SELECT * FROM k8s_events.parse_image('busybox:-rc');
SELECT * FROM k8s_events.parse_image('busybox:1.0+build');
SELECT * FROM k8s_events.parse_image('busybox:a:b');
SELECT * FROM k8s_events.parse_image('x:' || repeat('t', 129));
-- digest
SELECT * FROM k8s_events.parse_image('busybox@');
SELECT * FROM k8s_events.parse_image('busybox@7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa');
SELECT * FROM k8s_events.parse_image('busybox@:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa');
SELECT * FROM k8s_events.parse_image('busybox@sha256+:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa');
SELECT * FROM k8s_events.parse_image('busybox@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5ag');
SELECT * FROM k8s_events.parse_image('busybox@sha256:7cc4b5aefd1d0cad');
SELECT * FROM k8s_events.parse_image('busybox@md5:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa');
SELECT * FROM k8s_events.parse_image('busybox@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5');
SELECT * FROM k8s_events.parse_image('busybox@sha256:7CC4B5AEFD1D0CADF8D97D4350462BA51C694EBCA145B08D7D41B41ACC8DB5AA');
SELECT * FROM k8s_events.parse_image('busybox@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa');
-- A long bad reference is cut short in the message.
SELECT * FROM k8s_events.parse_image(repeat('é', 300));
