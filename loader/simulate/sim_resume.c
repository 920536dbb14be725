/*
 * sim_resume.c
 *	  The --state-file of `k8s-events simulate` (see sim_resume.h): one
 *	  "name value" line per field, after a header line.
 */
#include "sim_resume.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER "k8s-events simulate state 1"

/* The fields of the key, with the option each comes from, for the messages. */
typedef struct key_field
{
	const char *name;
	const char *option;
	int64_t     value;
} key_field;

static int
key_fields(const sim_resume_key *k, key_field *f)
{
	int n = 0;

	f[n++] = (key_field){"seed", "--seed", (int64_t) k->seed};
	f[n++] = (key_field){"start_us", "--start", k->start_us};
	f[n++] = (key_field){"nodes", "--nodes", k->nodes};
	f[n++] = (key_field){"namespaces", "--namespaces", k->namespaces};
	f[n++] = (key_field){"mixed", "--cluster-version", k->mixed};
	f[n++] = (key_field){"initial_events", "--initial-events", k->initial_events};
	f[n++] = (key_field){"big_event_bytes", "--big-event-bytes", k->big_event_bytes};
	f[n++] = (key_field){"unicode_every", "--unicode-every", k->unicode_every};
	f[n++] = (key_field){"ttl_us", "--event-ttl", k->ttl_us};
	return n;
}

bool
sim_resume_read(const char *path, const sim_resume_key *key, bool *found, sim_resume_point *at,
                char *err, size_t errlen)
{
	key_field fields[16];
	int       nf = key_fields(key, fields);
	bool      seen[16] = {false};
	bool      have_time = false;
	bool      have_rv = false;
	char      line[256];
	FILE     *f = fopen(path, "r");

	*found = false;
	memset(at, 0, sizeof(*at));
	if (f == NULL)
	{
		if (errno == ENOENT)
			return true;
		snprintf(err, errlen, "cannot read --state-file \"%s\": %s", path, strerror(errno));
		return false;
	}
	if (fgets(line, sizeof(line), f) == NULL || strncmp(line, HEADER "\n", sizeof(HEADER)) != 0)
	{
		fclose(f);
		snprintf(err, errlen, "--state-file \"%s\" is not a state file of k8s-events simulate",
		         path);
		return false;
	}
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char    name[32];
		int64_t v;
		int     i;

		if (sscanf(line, "%31s %" SCNd64, name, &v) != 2)
			continue;
		if (strcmp(name, "time_us") == 0)
			at->time_us = v, have_time = true;
		else if (strcmp(name, "resource_version") == 0)
			at->rv = (uint64_t) v, have_rv = true;
		else if (strcmp(name, "injected") == 0)
			at->injected = (uint64_t) v;
		for (i = 0; i < nf; i++)
			if (strcmp(name, fields[i].name) == 0)
			{
				if (fields[i].value != v)
				{
					fclose(f);
					snprintf(err, errlen,
					         "--state-file \"%s\" was written by a simulator with another %s "
					         "(%s %" PRId64 ", not %" PRId64 "): its history is not this one's",
					         path, fields[i].option, name, v, fields[i].value);
					return false;
				}
				seen[i] = true;
			}
	}
	fclose(f);
	for (int i = 0; i < nf; i++)
		if (!seen[i])
			have_time = false;
	if (!have_time || !have_rv)
	{
		snprintf(err, errlen, "--state-file \"%s\" is incomplete", path);
		return false;
	}
	*found = true;
	return true;
}

bool
sim_resume_write(const char *path, const sim_resume_key *key, const sim_resume_point *at, char *err,
                 size_t errlen)
{
	key_field fields[16];
	int       nf = key_fields(key, fields);
	char      tmp[4096];
	FILE     *f;
	int       ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
	{
		snprintf(err, errlen, "cannot write --state-file \"%s\": %s", tmp, strerror(errno));
		return false;
	}
	fprintf(f, HEADER "\n");
	for (int i = 0; i < nf; i++)
		fprintf(f, "%s %" PRId64 "\n", fields[i].name, fields[i].value);
	fprintf(f, "time_us %" PRId64 "\nresource_version %" PRIu64 "\ninjected %" PRIu64 "\n",
	        at->time_us, at->rv, at->injected);
	ok = fclose(f) == 0;
	/* renamed into place, so that a simulator killed while writing leaves the last one whole */
	if (!ok || rename(tmp, path) != 0)
	{
		snprintf(err, errlen, "cannot write --state-file \"%s\": %s", path, strerror(errno));
		return false;
	}
	return true;
}
