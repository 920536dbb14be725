/*
 * fuzz_image_ref.c
 *	  libFuzzer target: image references (core/image_ref.c), and the pod,
 *	  image, node and replica set named in an event's message
 *	  (core/messages.c), which feed the rollouts summary and the dashboard.  Every part found must lie inside the input, or be one
 *	  of the defaults; an image a message quotes is parsed as a reference too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/image_ref.h"
#include "core/messages.h"

static void
inside(const char *base, size_t size, const char *p, size_t len)
{
	if (len > 0 && (p < base || p + len > base + size))
		abort();
}

static void
parse_ref(const char *text, size_t size)
{
	ImageRef ref;
	char     err[256];

	if (!image_ref_parse(text, size, &ref, err, sizeof(err)))
	{
		if (err[0] == '\0')
			abort();
		return;
	}
	/* The registry may be the default "docker.io", which is not in the input. */
	if (ref.repository.len == 0)
		abort();
	inside(text, size, ref.repository.ptr, ref.repository.len);
	inside(text, size, ref.digest.ptr, ref.digest.len);
	if (!ref.tag_defaulted)
		inside(text, size, ref.tag.ptr, ref.tag.len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *) data;
	const char *part;
	size_t      len;

	parse_ref(text, size);
	if (message_pod(text, size, &part, &len))
		inside(text, size, part, len);
	if (message_node(text, size, &part, &len))
		inside(text, size, part, len);
	if (message_replica_set(text, size, &part, &len))
		inside(text, size, part, len);
	if (message_image(text, size, &part, &len))
	{
		inside(text, size, part, len);
		parse_ref(part, len);
	}
	return 0;
}
