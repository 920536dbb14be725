/*
 * event_json.h
 *	  Serializes cluster_model observations as Kubernetes writes them, in the
 *	  field order the API server produces (Go struct order).
 */
#ifndef K8S_EVENTS_EVENT_JSON_H
#define K8S_EVENTS_EVENT_JSON_H

#include "json_out.h"
#include "model/cluster.h"

/* Appends the Event object of one observation (no trailing newline). */
extern void ej_event(ej_buf *b, const cm_obs *o);

#endif
