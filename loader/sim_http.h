/*
 * sim_http.h
 *	  The HTTP side of `k8s-events simulate`: a kube-apiserver for events
 *	  (list, watch, get), its errors, fault switches and the /simulator/ admin API.
 */
#ifndef K8S_EVENTS_SIM_HTTP_H
#define K8S_EVENTS_SIM_HTTP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim_store.h"

/* Switches a test can flip at start (flags) or mid-run (POST /simulator/faults). */
typedef struct sim_faults
{
	long   page_size;         /* 0: honour limit as asked; else at most this many items a page */
	long   gone_after;        /* a watch sends ERROR 410 after this many frames */
	long   drop_after;        /* ... closes the connection in the middle of the next frame */
	long   stall_after;       /* ... stops sending and keeps the connection open */
	long   malformed_every;   /* a broken JSON line before every Nth frame */
	bool   expire_continue;   /* every continue token is answered with 410 Expired */
	double bookmark_interval; /* seconds between BOOKMARKs; 0: none */
	int    fail_status;       /* the next fail_count API requests get this status */
	long   fail_count;
	double rate_limit;      /* API requests per second (burst of the same size); 0: unlimited */
	int    max_frame_split; /* 0: whole frames; else chunks of 1..N bytes */
} sim_faults;

typedef struct sim_state
{
	pthread_mutex_t mu; /* guards everything below and the store */
	pthread_cond_t  changed;
	ss_store       *store;
	bool            stopping;
	bool            verbose;
	bool            tls;

	/* simulated time = sim_origin_us + (monotonic - mono_origin_us) * speed */
	double  speed;
	int64_t sim_origin_us;
	int64_t mono_origin_us;
	int64_t ttl_us;

	sim_faults  f;
	const char *token_file;
	double      rl_tokens;
	int64_t     rl_mono_us;
	uint64_t    rng;

	uint64_t requests;
	uint64_t list_requests;
	uint64_t watch_requests;
	uint64_t get_requests;
	uint64_t unauthorized;
	uint64_t rate_limited;
	uint64_t injected_failures;
	uint64_t frames_sent;
	uint64_t added_sent;
	uint64_t modified_sent;
	uint64_t deleted_sent;
	uint64_t bookmarks_sent;
	uint64_t errors_sent;
	uint64_t malformed_sent;
	uint64_t continues_expired;
	uint64_t watches_active;
	uint64_t injected_events;
} sim_state;

extern int64_t sim_mono_us(void);
/* The simulated time now; the caller holds mu. */
extern int64_t sim_now_us(const sim_state *st);

/*
 * Writes a synthetic Event now (the caller holds mu): namespace ns, a message of
 * exactly bytes bytes (mixed-width UTF-8 when bytes is large enough), or a short
 * one when bytes is 0.  Returns the stored version.
 */
extern ss_version *sim_inject(sim_state *st, const char *ns, long bytes);

struct MHD_Daemon;

/*
 * Starts listening on 127.0.0.1:port (0: any free port), with TLS when cert_pem
 * and key_pem are given.  Sets *bound_port.  NULL + errbuf on failure.
 */
extern struct MHD_Daemon *sim_http_start(sim_state *st, int port, const char *cert_pem,
                                         const char *key_pem, int *bound_port, char *errbuf,
                                         size_t errlen);
extern void               sim_http_stop(struct MHD_Daemon *d);

#endif
