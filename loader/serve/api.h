/*
 * api.h
 *	  The JSON API the page reads: one endpoint, one parameterised query.
 *
 *	  /api/clusters    the clusters stored
 *	  /api/filters     a cluster's namespaces, kinds and reasons in a range
 *	  /api/histogram   occurrences per bucket, type and reason (histogram())
 *	  /api/resources   one row per object, newest or most warned first
 *	  /api/resource    one object's summary and the objects related to it
 *	  /api/events      one object's events, newest first (object_events())
 *	  /api/events.csv  the same as CSV
 *	  /api/overlays    rollouts, and a pod's node trouble, over a range
 *
 * Every answer comes from the summaries or from one object's rows through its
 * index; none reads every row.
 */
#ifndef K8S_EVENTS_API_H
#define K8S_EVENTS_API_H

#include <stdbool.h>
#include <stddef.h>

#include "serve/params.h"
#include "serve/serve.h"

typedef struct Reply
{
	int         status;
	char       *body; /* malloc'd */
	size_t      len;
	const char *content_type;
	const char *disposition; /* Content-Disposition, or NULL */
} Reply;

typedef struct ApiEndpoint ApiEndpoint;

/* The endpoint at url, or NULL. */
extern const ApiEndpoint *api_find(const char *url);
extern unsigned           api_allowed(const ApiEndpoint *ep);
extern bool               api_bounded(const ApiEndpoint *ep);

/* Check what the endpoint requires, run its query, fill the reply. */
extern void api_run(const ApiEndpoint *ep, ServeState *st, Params *p, Reply *r);

/* {"error": ..., "parameter": ..., "detail": ...} with the status. */
extern void reply_error(Reply *r, int status, const char *error, const char *parameter,
                        const char *detail);

#endif
