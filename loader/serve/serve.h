/*
 * serve.h
 *	  `k8s-events serve`: the dashboard's server.  What its parts share.
 *
 * One process: libmicrohttpd answers each connection in its own thread
 * (serve_http.c); API requests borrow a reader connection from the pool
 * (db_pool.c) and run one parameterised query each (api_*.c); one more
 * connection LISTENs for the write path's NOTIFY k8s_events and feeds the live
 * stream (live.c).  Nothing here is global but the ServeState that main() in
 * serve.c builds and passes to each part.
 */
#ifndef K8S_EVENTS_SERVE_H
#define K8S_EVENTS_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serve/auth.h"
#include "serve/db_pool.h"
#include "serve/live.h"
#include "serve/static_files.h"

typedef struct ServeState
{
	DbPool      *pool;
	Live        *live;
	StaticFiles *files;
	Auth        *auth; /* NULL: no token asked (loopback only) */
	bool         tls;
	bool         verbose;
	int          streams; /* open live streams (atomic), at most SERVE_MAX_STREAMS */
} ServeState;

#define SERVE_MAX_STREAMS 64

#endif
