/*
 * sim_inject.c
 *	  Synthetic Events, written alongside those of the cluster model.
 *
 * A test sometimes needs a particular Event now (a message of an exact size,
 * a burst in one namespace) rather than whatever the model writes next; these
 * go through the store like any other write, so lists and watches see them.
 */
#include "sim_http_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void
make_uid(uint64_t *rng, char *out)
{
	uint64_t a = splitmix64(rng);
	uint64_t b = splitmix64(rng);

	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012" PRIx64, (unsigned) (a >> 32),
	         (unsigned) (a >> 16) & 0xffff, (unsigned) a & 0xfff,
	         (unsigned) (0x8000 | ((b >> 48) & 0x3fff)), b & UINT64_C(0xffffffffffff));
}

/* Exactly n bytes of text, mostly multi-byte UTF-8, never cut inside a character. */
static void
fill_message(ej_buf *b, long n)
{
	static const char *const units[] = {"é", "日", "本", "🚀", " ", "ü", "語", "a", "✓", "—"};
	static const char        head[] = "Simulated large message: ";
	long                     left = n;
	int                      i = 0;

	if (n >= (long) sizeof(head))
	{
		ej_puts(b, head);
		left -= (long) sizeof(head) - 1;
	}
	while (left > 0)
	{
		const char *u = units[i++ % 10];
		long        ul = (long) strlen(u);

		if (ul > left)
			u = "x", ul = 1;
		ej_append(b, u, (size_t) ul);
		left -= ul;
	}
}

ss_version *
sim_inject(sim_state *st, const char *ns, long bytes)
{
	int64_t     now = sim_now_us(st) / 1000000 * 1000000;
	char        uid[40];
	char        inv_uid[40];
	char        inv_name[64];
	char        name[128];
	ej_buf      msg = {0};
	cm_obs      o;
	ss_version *v;

	memset(&o, 0, sizeof(o));
	st->injected_events++;
	make_uid(&st->rng, uid);
	make_uid(&st->rng, inv_uid);
	snprintf(inv_name, sizeof(inv_name), "simulated-%" PRIu64, st->injected_events);
	/* like client-go: the involved object's name and the time in nanoseconds, in hex */
	snprintf(name, sizeof(name), "%s.%" PRIx64, inv_name,
	         (uint64_t) now * 1000 + st->injected_events);
	if (bytes > 0)
		fill_message(&msg, bytes);
	else
		ej_puts(&msg, "Simulated event injected through /simulator/inject — ✓ ünïcödé 日本語 🚀");
	o.shape = CM_SHAPE_CORE;
	o.name = name;
	o.namespace = ns;
	o.uid = uid;
	o.creation_us = now;
	o.involved.kind = "ConfigMap";
	o.involved.namespace = ns;
	o.involved.name = inv_name;
	o.involved.uid = inv_uid;
	o.involved.api_version = "v1";
	o.reason = bytes > 0 ? "LargeMessage" : "Simulated";
	o.message = msg.data;
	o.type = "Normal";
	o.source_component = "k8s-events-simulate";
	o.first_us = o.last_us = now;
	o.count = 1;
	o.reporting_component = "k8s-events-simulate";
	o.reporting_instance = "";
	v = ss_write(st->store, &o, now + st->ttl_us, sim_mono_us());
	ej_free(&msg);
	pthread_cond_broadcast(&st->changed);
	/* a new alive Event and a new change: the thread's next expiry or trim may be sooner */
	sim_wake_clock(st);
	return v;
}
