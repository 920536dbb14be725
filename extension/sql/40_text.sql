
-- Text functions: regular-expression extraction and the pieces of event messages.

CREATE FUNCTION k8s_events.regexp_extract(subject text, pattern text, grp integer DEFAULT 0)
  RETURNS text
  AS 'MODULE_PATHNAME', 'regexp_extract'
  LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.regexp_extract(text, text, integer) IS
  'Capture group grp (0 = the whole match) of the first match of the PostgreSQL (ARE) regular expression pattern in subject; NULL when there is no match or the group did not take part in it';

CREATE FUNCTION k8s_events.pod_from_message(message text)
  RETURNS text
  AS 'MODULE_PATHNAME', 'pod_from_message'
  LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.pod_from_message(text) IS
  'The pod named in a controller or scheduler event message ("Created pod: X", "create Pod X in StatefulSet S successful", "Successfully assigned ns/X to node" ...), or NULL';

CREATE FUNCTION k8s_events.image_from_message(message text)
  RETURNS text
  AS 'MODULE_PATHNAME', 'image_from_message'
  LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.image_from_message(text) IS
  'The image quoted in a kubelet image event message ("Pulling image \"X\"", "Successfully pulled image \"X\" in ...", "Failed to pull image \"X\": ..." ...), or NULL';

CREATE FUNCTION k8s_events.parse_image(ref text,
    OUT registry text, OUT repository text, OUT tag text, OUT digest text)
  RETURNS record
  AS 'MODULE_PATHNAME', 'parse_image'
  LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION k8s_events.parse_image(text) IS
  'Split a container image reference as Docker does: registry (default docker.io), repository (library/ added for official images), tag (latest when there is neither tag nor digest) and digest';
