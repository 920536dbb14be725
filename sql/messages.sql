SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS k8s_events;
RESET client_min_messages;
\pset null '(null)'

-- Every message form, bare and behind the event aggregator's prefix.
CREATE TEMP TABLE msg (id serial, message text);
INSERT INTO msg (message) VALUES
  -- controller_utils.go (ReplicaSet, Job, DaemonSet)
  ('Created pod: kubernetes-dashboard-796487df76-d6ds7'),
  ('Deleted pod: calico-node-5sgh9'),
  -- stateful_pod_control.go
  ('create Pod web-0 in StatefulSet web successful'),
  ('delete Pod web-2 in StatefulSet web successful'),
  ('update Pod db-1 in StatefulSet db successful'),
  ('create Pod web-1 in StatefulSet web failed error: pods "web-1" is forbidden: exceeded quota'),
  ('create Claim www-web-0 Pod web-0 in StatefulSet web success'),
  ('create Claim www-web-0 for Pod web-0 in StatefulSet web failed error: timeout'),
  -- scheduler
  ('Successfully assigned default/failing-liveness-pod to minikube'),
  ('Successfully assigned sonobuoy-e2e-job-e9a17d7c34ff43e8 to ip-10-0-9-16.us-west-2.compute.internal'),
  ('skip schedule deleting pod: default/pending-pod-resources-5fddcf7688-wzvfz'),
  -- kubelet image_manager.go, current and older forms
  ('Pulling image "busybox"'),
  ('pulling image "gcr.io/heptio-images/kube-conformance:v1.8.0"'),
  ('Successfully pulled image "rancher/klipper-lb:v0.4.9" in 1.843s (1.843s including waiting). Image size: 4990278 bytes.'),
  ('Successfully pulled image "nginx" in 2.633289584s'),
  ('Successfully pulled image "gcr.io/heptio-images/sonobuoy:v0.9.0"'),
  ('Container image "busybox:1.28" already present on machine'),
  ('Container image "registry.local:5000/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" is not present with pull policy of Never'),
  ('Failed to pull image "noimage.com/no-such-image": rpc error: code = Unknown desc = Error response from daemon: Get "https://noimage.com/v2/": x509: certificate is not valid for any names, but wanted to match noimage.com'),
  ('Back-off pulling image "noimage.com/no-such-image"'),
  ('Failed to inspect image "quay.io/org/app:1.0": rpc error: code = Unavailable'),
  ('Failed to apply default image tag "Not/Valid": couldn''t parse image reference "Not/Valid"'),
  ('Image "docker.io/library/redis:7" is being pulled'),
  -- deployment controller: the replica set scaled (its old and 1.27's forms)
  ('Scaled down replica set web-5d4f8 to 1 from 3'),
  ('Scaled up replica set web-7c9d2 from 0 to 2'),
  -- no pod and no image
  ('Started container crashpod'),
  ('Error: ImagePullBackOff'),
  ('Scaled up replica set crashpod-f9b59484 to 1'),
  ('Error creating: pods "calico-node-" is forbidden: service account kube-system/calico-cni-plugin was not found'),
  ('invalid capacity 0 on image filesystem'),
  ('Back-off restarting failed container'),
  ('');
INSERT INTO msg (message)
  SELECT '(combined from similar events): ' || message FROM msg ORDER BY id;

SELECT id, k8s_events.pod_from_message(message) AS pod,
       k8s_events.image_from_message(message) AS image,
       k8s_events.node_from_message(message) AS node,
       k8s_events.replica_set_from_message(message) AS replica_set,
       left(message, 50) AS message
  FROM msg ORDER BY id;
-- The prefix changes nothing.
SELECT count(*) AS rows_differing
  FROM msg a JOIN msg b ON b.message = '(combined from similar events): ' || a.message
  WHERE k8s_events.pod_from_message(a.message) IS DISTINCT FROM k8s_events.pod_from_message(b.message)
     OR k8s_events.image_from_message(a.message) IS DISTINCT FROM k8s_events.image_from_message(b.message)
     OR k8s_events.node_from_message(a.message) IS DISTINCT FROM k8s_events.node_from_message(b.message)
     OR k8s_events.replica_set_from_message(a.message) IS DISTINCT FROM k8s_events.replica_set_from_message(b.message);
DROP TABLE msg;

-- The node: a whole name after " to " of the scheduler's message, nothing else.
SELECT k8s_events.node_from_message('Successfully assigned ns/web-0 to node-1') AS plain,
       k8s_events.node_from_message('Successfully assigned ns/web-0 to node-1.') AS trailing_dot,
       k8s_events.node_from_message('Successfully assigned ns/web-0 to') AS no_node,
       k8s_events.node_from_message('Successfully assigned ns/web-0 onto node-1') AS other_word,
       k8s_events.node_from_message('Successfully assigned ns/web 0 to node-1') AS space_in_pod,
       k8s_events.node_from_message('Assigned ns/web-0 to node-1') AS other_prefix;
-- The replica set: a whole name, followed by its count.
SELECT k8s_events.replica_set_from_message('Scaled up replica set web-1 to 3') AS up,
       k8s_events.replica_set_from_message('Scaled down replica set web-1 to 0 from 1') AS down,
       k8s_events.replica_set_from_message('Scaled up replica set web-1') AS no_count,
       k8s_events.replica_set_from_message('Scaled up replica set Web-1 to 3') AS upper_case,
       k8s_events.replica_set_from_message('Scaled up replica set web_1 to 3') AS underscore,
       k8s_events.replica_set_from_message('Scaled up replica set  to 3') AS empty,
       k8s_events.replica_set_from_message('Scaled sideways replica set web-1 to 3') AS other_verb;

-- Pod names are DNS-1123 subdomains: stop at the first character that cannot be in one,
-- drop trailing sentence punctuation, and give NULL when nothing name-like is left.
SELECT k8s_events.pod_from_message('Created pod: web-0') AS plain,
       k8s_events.pod_from_message('Created pod: web-0.') AS trailing_dot,
       k8s_events.pod_from_message('Deleted pod: a.b-c.d, then more') AS comma,
       k8s_events.pod_from_message('Created pod: web_0') AS underscore,
       k8s_events.pod_from_message('Created pod: café-1') AS accent,
       k8s_events.pod_from_message('Created pod: Web-0') AS upper_case,
       k8s_events.pod_from_message('Created pod: -x') AS leading_dash,
       k8s_events.pod_from_message('Created pod: ') AS empty;
-- Prefixes are matched exactly, at the start (after the optional combined prefix).
SELECT k8s_events.pod_from_message('created pod: web-0') AS lower_verb,
       k8s_events.pod_from_message('Created pod:web-0') AS no_space,
       k8s_events.pod_from_message(' Created pod: web-0') AS leading_space,
       k8s_events.pod_from_message('(combined from similar events): (combined from similar events): Created pod: x') AS twice,
       k8s_events.pod_from_message('(combined from similar events):Created pod: x') AS bad_prefix;
-- StatefulSet forms need " in StatefulSet " right after the whole name.
SELECT k8s_events.pod_from_message('create Pod web_0 in StatefulSet web successful') AS underscore,
       k8s_events.pod_from_message('create Pod web-0 of StatefulSet web successful') AS other_text,
       k8s_events.pod_from_message('create Pod web-0') AS truncated,
       k8s_events.pod_from_message('restart Pod web-0 in StatefulSet web successful') AS other_verb,
       k8s_events.pod_from_message('create Claim Www Pod web-0 in StatefulSet web success') AS bad_claim;
-- Scheduler: namespace/name or the older bare name.
SELECT k8s_events.pod_from_message('Successfully assigned kube-system/coredns-56f6fc8fd7-p4x9z to primary-node') AS ns_form,
       k8s_events.pod_from_message('Successfully assigned default/ to node') AS no_name,
       k8s_events.pod_from_message('Successfully assigned DEFAULT/x to node') AS bad_ns;

-- Images: whatever is inside the quotes, as the kubelet wrote it.
SELECT k8s_events.image_from_message('Pulling image "Not A Valid Ref"') AS kept_verbatim,
       k8s_events.image_from_message('Pulling image "régistry.example/ïmage:ü"') AS unicode,
       k8s_events.image_from_message('Pulling image "a\"b"') AS escaped_quote,
       k8s_events.image_from_message('Pulling image ""') IS NULL AS empty,
       k8s_events.image_from_message('Pulling image "unterminated') IS NULL AS unterminated,
       k8s_events.image_from_message('Pulling image busybox') IS NULL AS unquoted,
       k8s_events.image_from_message('pulling IMAGE "busybox"') IS NULL AS wrong_case;
SELECT k8s_events.image_from_message('Created pod: web-0') IS NULL AS pod_message,
       k8s_events.pod_from_message('Pulling image "web-0"') IS NULL AS image_message;

-- STRICT, IMMUTABLE, PARALLEL SAFE.
SELECT k8s_events.pod_from_message(NULL) IS NULL AS pod_null,
       k8s_events.image_from_message(NULL) IS NULL AS image_null;
SELECT proname, provolatile, proparallel, proisstrict FROM pg_proc
  WHERE pronamespace = 'k8s_events'::regnamespace
    AND proname IN ('pod_from_message', 'image_from_message') ORDER BY proname;
