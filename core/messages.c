/*
 * messages.c
 *	  Pull the pod name, the image, the node a pod was assigned to or the replica
 *	  set a Deployment scaled out of the free-text message of a Kubernetes
 *	  event (plain C: the extension's SQL functions and write path use it, and the
 *	  fuzzer runs it on its own).
 *
 * The message parsers are hand-written prefix matches rather than regular
 * expressions: they run once per row over millions of events, and the message
 * forms are fixed strings in the Kubernetes sources:
 *
 *	controller_utils.go (ReplicaSet, Job, DaemonSet ...)  "Created pod: X", "Deleted pod: X"
 *	stateful_pod_control.go     "create Pod X in StatefulSet S successful" (also update, delete,
 *								"... failed error: ...", and the PVC forms "create Claim C Pod X
 *								in StatefulSet S success", "... Claim C for Pod X in ...")
 *	scheduler                   "Successfully assigned ns/X to node" (before 1.13 without ns/),
 *								"skip schedule deleting pod: ns/X"
 *	deployment controller       "Scaled up replica set X to N", "Scaled down replica set X to N
 *								from M" (since 1.27 "Scaled up replica set X from M to N")
 *	kubelet image_manager.go    "Pulling image \"X\"" (before 1.12 "pulling ..."),
 *								"Successfully pulled image \"X\" in ...", "Container image \"X\"
 *								already present on machine" / "is not present with pull policy
 *								of Never", "Failed to pull image \"X\": ...", "Back-off pulling
 *								image \"X\"", "Failed to inspect image \"X\": ...", "Failed to
 *								apply default image tag \"X\": ..."
 *
 * and client-go's event aggregator may put "(combined from similar events): " in
 * front of any of them.
 */
#include "core/messages.h"

#include <string.h>

#define COMBINED_PREFIX "(combined from similar events): "

typedef struct Cursor
{
	const char *p;
	const char *end;
} Cursor;

/* Consume lit if the cursor starts with it. */
static bool
skip_literal(Cursor *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t) (c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

static Cursor
message_cursor(const char *message, size_t len)
{
	Cursor c;

	c.p = message;
	c.end = message + len;
	skip_literal(&c, COMBINED_PREFIX);
	return c;
}

static bool
is_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
}

/*
 * A DNS-1123 subdomain (what object names are): the longest run of lower-case
 * letters, digits, '-' and '.', less trailing '-' and '.' (a name ends with an
 * alphanumeric, so those are sentence punctuation).  Consumes it; false when the
 * run does not start with an alphanumeric.
 */
static bool
scan_name(Cursor *c, const char **start, size_t *len)
{
	const char *s = c->p;
	const char *e = s;

	while (e < c->end && is_name_char(*e))
		e++;
	c->p = e;
	while (e > s && (e[-1] == '-' || e[-1] == '.'))
		e--;
	if (e == s || s[0] == '-' || s[0] == '.')
		return false;
	*start = s;
	*len = (size_t) (e - s);
	return true;
}

/* "ns/name" or (older messages) just "name": the name. */
static bool
scan_namespaced_name(Cursor *c, const char **start, size_t *len)
{
	if (!scan_name(c, start, len))
		return false;
	if (c->p < c->end && *c->p == '/' && c->p == *start + *len)
	{
		c->p++;
		return scan_name(c, start, len);
	}
	return true;
}

static bool
find_pod(Cursor c, const char **start, size_t *len)
{
	Cursor save;

	if (skip_literal(&c, "Created pod: ") || skip_literal(&c, "Deleted pod: "))
		return scan_name(&c, start, len);
	if (skip_literal(&c, "Successfully assigned ") ||
	    skip_literal(&c, "skip schedule deleting pod: "))
		return scan_namespaced_name(&c, start, len);

	/* StatefulSet: "<verb> Pod X in StatefulSet" or "<verb> Claim C [for ]Pod X in StatefulSet". */
	if (!(skip_literal(&c, "create ") || skip_literal(&c, "update ") ||
	      skip_literal(&c, "delete ")))
		return false;
	if (skip_literal(&c, "Claim "))
	{
		const char *claim;
		size_t      claim_len;

		if (!scan_name(&c, &claim, &claim_len) || !skip_literal(&c, " "))
			return false;
		skip_literal(&c, "for ");
	}
	if (!skip_literal(&c, "Pod ") || !scan_name(&c, start, len))
		return false;
	/* Only the whole name may stand before " in StatefulSet ". */
	save = c;
	save.p = *start + *len;
	return skip_literal(&save, " in StatefulSet ");
}

static const char *const image_prefixes[] = {
    "Pulling image \"",
    "pulling image \"",
    "Successfully pulled image \"",
    "Container image \"",
    "Failed to pull image \"",
    "Back-off pulling image \"",
    "Failed to inspect image \"",
    "Failed to apply default image tag \"",
    "Image \"",
};

/*
 * The text between the quotes after one of image_prefixes.  The kubelet quotes
 * with Go's %q, which escapes an inner '"' as \", so a quote after a backslash
 * does not close.
 */
static bool
find_image(Cursor c, const char **start, size_t *len)
{
	size_t      i;
	const char *q;

	for (i = 0; i < (sizeof(image_prefixes) / sizeof(image_prefixes[0])); i++)
		if (skip_literal(&c, image_prefixes[i]))
			break;
	if (i == (sizeof(image_prefixes) / sizeof(image_prefixes[0])))
		return false;
	for (q = c.p; q < c.end && *q != '"'; q++)
		if (*q == '\\' && q + 1 < c.end)
			q++;
	if (q >= c.end || q == c.p)
		return false;
	*start = c.p;
	*len = (size_t) (q - c.p);
	return true;
}

/*
 * Longer than these, what a message names is no pod (a DNS subdomain, at most
 * 253 bytes) and no image reference (a name of at most 255 bytes, a tag of 128,
 * a digest of at most 135): the summaries index both, and a btree entry holds at
 * most 2,704 bytes, so such a message names nothing.
 */
#define POD_MAX_BYTES   253
#define IMAGE_MAX_BYTES 1024

bool
message_pod(const char *message, size_t len, const char **pod, size_t *pod_len)
{
	return find_pod(message_cursor(message, len), pod, pod_len) && *pod_len <= POD_MAX_BYTES;
}

bool
message_image(const char *message, size_t len, const char **image, size_t *image_len)
{
	return find_image(message_cursor(message, len), image, image_len) &&
	       *image_len <= IMAGE_MAX_BYTES;
}

/* "Successfully assigned ns/X to NODE": the node. */
static bool
find_node(Cursor c, const char **start, size_t *len)
{
	const char *pod;
	size_t      pod_len;

	return skip_literal(&c, "Successfully assigned ") && scan_namespaced_name(&c, &pod, &pod_len) &&
	       skip_literal(&c, " to ") && scan_name(&c, start, len);
}

/* "Scaled up replica set X to N" and its other forms: X. */
static bool
find_replica_set(Cursor c, const char **start, size_t *len)
{
	if (!skip_literal(&c, "Scaled up replica set ") &&
	    !skip_literal(&c, "Scaled down replica set "))
		return false;
	/* The whole name, then the count's " to " or " from ". */
	return scan_name(&c, start, len) && c.p == *start + *len && skip_literal(&c, " ");
}

bool
message_node(const char *message, size_t len, const char **node, size_t *node_len)
{
	return find_node(message_cursor(message, len), node, node_len);
}

bool
message_replica_set(const char *message, size_t len, const char **replica_set,
                    size_t *replica_set_len)
{
	return find_replica_set(message_cursor(message, len), replica_set, replica_set_len);
}
