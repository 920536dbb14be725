/*
 * sim_http_internal.h
 *	  What the pieces of the simulated API server's HTTP side share: how they
 *	  answer, read parameters, and reach one another's handlers.  For
 *	  sim_http.c, sim_api.c, sim_status.c, sim_list.c, sim_watch.c, sim_inject.c
 *	  and sim_admin.c only; simulate.c uses sim_http.h.
 *
 * All of them work on the one sim_state (sim_http.h), under its mutex: the
 * store, the faults and the counters are what a request reads and changes.
 */
#ifndef K8S_EVENTS_SIM_HTTP_INTERNAL_H
#define K8S_EVENTS_SIM_HTTP_INTERNAL_H

#include "sim_http.h"
#include "splitmix64.h"

#include <stdbool.h>
#include <stdint.h>

#include <microhttpd.h>

/* sim_http.c: the server, the request log. */
extern void sim_log_request(sim_state *st, struct MHD_Connection *c, const char *method,
                            const char *url, const char *verb, ss_api api);
/* Notes the status of this thread's request in the log, once it is answered. */
extern void sim_note_status(int code);

/* sim_status.c: answers (each notes its status in the request log). */
extern void            sim_status_json(ej_buf *b, int code, const char *reason, const char *message,
                                       const char *details_json, long retry_after);
extern enum MHD_Result sim_send_buf(struct MHD_Connection *c, unsigned code, ej_buf *b,
                                    const char *ctype);
extern enum MHD_Result sim_send_status(struct MHD_Connection *c, int code, const char *reason,
                                       const char *message, const char *details_json);
extern enum MHD_Result sim_send_code(struct MHD_Connection *c, int code);
extern enum MHD_Result sim_send_fault(struct MHD_Connection *c, const char *url, int code,
                                      long retry_after);
extern enum MHD_Result sim_bad_request(struct MHD_Connection *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* sim_api.c: parameters, and the Kubernetes API paths. */
/* The query parameter name, or NULL. */
extern const char     *sim_arg(struct MHD_Connection *c, const char *name);
extern bool            sim_parse_bool(const char *s, bool *out);
extern const char     *sim_api_version(ss_api api);
extern enum MHD_Result sim_do_api(sim_state *st, struct MHD_Connection *c, const char *url,
                                  const char *method);

/* sim_list.c, sim_watch.c: the verbs on Events (list and watch: ns NULL for all namespaces). */
extern enum MHD_Result sim_do_list(sim_state *st, struct MHD_Connection *c, const char *ns,
                                   ss_api api);
extern enum MHD_Result sim_do_get(sim_state *st, struct MHD_Connection *c, const char *ns,
                                  const char *name, ss_api api);
extern enum MHD_Result sim_do_watch(sim_state *st, struct MHD_Connection *c, const char *ns,
                                    ss_api api);

/* sim_admin.c: /simulator/<what>. */
extern enum MHD_Result sim_do_admin(sim_state *st, struct MHD_Connection *c, const char *what,
                                    const char *method);

#endif
