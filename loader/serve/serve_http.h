/*
 * serve_http.h
 *	  The HTTP side of `k8s-events serve`: libmicrohttpd, one thread per
 *	  connection; routing, access, headers, the page's files and the live stream.
 */
#ifndef K8S_EVENTS_SERVE_HTTP_H
#define K8S_EVENTS_SERVE_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include "serve/serve.h"

struct MHD_Daemon;

/* Listen on addr; NULL with the reason in err.  cert/key: PEM text for TLS, or NULL. */
extern struct MHD_Daemon *serve_http_start(ServeState *st, const struct sockaddr *addr,
                                           const char *cert_pem, const char *key_pem, int *port,
                                           char *err, size_t errlen);
extern void               serve_http_stop(struct MHD_Daemon *d);

#endif
