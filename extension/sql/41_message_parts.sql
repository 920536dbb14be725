-- More pieces of event messages, new in 1.1 (the 1.0 to 1.1 update script includes this
-- file as it is): what the dashboard's resource page reads a pod's node and a Deployment's
-- replica sets from, with the same C parsers as pod_from_message() (core/messages.c).

CREATE FUNCTION k8s_events.node_from_message(message text)
  RETURNS text
  AS 'MODULE_PATHNAME', 'node_from_message'
  LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.node_from_message(text) IS
  'The node a scheduler event message says a pod was assigned to ("Successfully assigned ns/X to node-7"), or NULL';

CREATE FUNCTION k8s_events.replica_set_from_message(message text)
  RETURNS text
  AS 'MODULE_PATHNAME', 'replica_set_from_message'
  LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.replica_set_from_message(text) IS
  'The replica set a Deployment scaling event message names ("Scaled up replica set web-5d4f8 to 3", "Scaled down replica set web-5d4f8 to 1 from 3"), or NULL';
