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

#define SIM_MAX_RATE 1000000 /* Events per second that --rate may ask for */

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
	long   retry_after;     /* Retry-After of the 429s and 503s above; 0: no Retry-After */
	int    max_frame_split; /* 0: whole frames; else chunks of 1..N bytes */
} sim_faults;

/* One API request as the server saw it, for GET /simulator/requests. */
typedef struct sim_request
{
	uint64_t seq;
	int64_t  mono_us; /* monotonic arrival time */
	int64_t  real_us; /* wall-clock arrival time */
	char     method[8];
	char     verb[8]; /* list, watch, get or other */
	ss_api   api;
	int      status; /* 0 until answered */
	char    *path;
	char    *args; /* the query parameters, as a JSON object */
} sim_request;

typedef struct sim_state
{
	pthread_mutex_t mu; /* guards everything below and the store */
	pthread_cond_t  changed;
	int             clock_fd; /* an eventfd: sim_wake_clock() wakes the simulation thread */
	ss_store       *store;
	bool            stopping;
	bool            verbose;
	bool            tls;

	/*
	 * simulated time = sim_origin_us + (monotonic - mono_origin_us) * speed, or,
	 * pacing by rate (> 0), sim_origin_us itself, which the simulation thread
	 * moves as far as the model must run to have written rate Events per real
	 * second since rate_mono_us (rate_writes then).
	 */
	double   speed;
	int64_t  sim_origin_us;
	int64_t  mono_origin_us;
	int64_t  ttl_us;
	double   rate;
	int64_t  rate_mono_us;
	uint64_t rate_writes;
	uint64_t model_writes; /* writes of the cluster model (not injected ones) */
	int64_t  start_mono_us;
	uint64_t watch_epoch; /* bumped by /simulator/close_watches: older watches end */

	/* the request log: a ring of the last request_log_max API requests */
	sim_request *reqs;
	size_t       reqs_cap;
	size_t       reqs_head;
	size_t       reqs_count;
	size_t       request_log_max;
	uint64_t     reqs_next_seq;

	sim_faults  f;
	const char *token_file;
	double      rl_tokens;
	int64_t     rl_mono_us;
	uint64_t    rng;

	uint64_t requests;
	uint64_t list_requests;
	uint64_t watch_requests;
	uint64_t get_requests;
	uint64_t events_api_requests; /* of them, through /apis/events.k8s.io/v1 */
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
/* Pacing by rate from now on (0: by speed again); the caller holds mu. */
extern void sim_set_rate(sim_state *st, double rate);
/* The simulated time now; the caller holds mu. */
extern int64_t sim_now_us(const sim_state *st);
/*
 * Wakes the simulation thread, which sleeps until it has work: for whoever
 * changed what it works out its next wake-up from (the clock, the pace, an
 * Event's expiry, the watch window, a list snapshot).
 */
extern void sim_wake_clock(sim_state *st);

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
/* Frees the request log. */
extern void sim_requests_free(sim_state *st);

#endif
