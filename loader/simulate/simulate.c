/*
 * simulate.c
 *	  `k8s-events simulate`: a Kubernetes API server for events, playing the
 *	  simulated cluster of model/cluster.h in real time.
 *
 * The main thread is the cluster: it advances the model to "now" (wall-clock
 * time since start, times --speed) -- or, with --rate, as far as it takes for
 * the model to have written N Events per real second -- expires Events past
 * their TTL, trims the watch window and wakes the watches.  It does so when
 * something falls due (the model's next action, an Event's expiry, the end of
 * a change's or a snapshot's time), at most every 10 ms, and when a request
 * changed what is due (sim_wake_clock); between, it sleeps: frozen (--speed
 * 0), it wakes only for requests.  libmicrohttpd serves requests in its own
 * threads (sim_http.c and the sim_*.c it calls); one mutex guards the store
 * they share.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/eventfd.h>

#include "parse_args.h"
#include "model/cluster.h"
#include "commands.h"
#include "json_out.h"
#include "core/rfc3339.h"
#include "sim_http.h"
#include "sim_resume.h"
#include "sim_store.h"

#define TICK_US        10000 /* the least time between two runs of the simulation */
#define MAX_END_US     (INT64_C(7258118400) * 1000000) /* 2200-01-01T00:00:00Z */
#define MAX_INITIAL    1000000
#define UNICODE_SUFFIX " — ✓ ünïcödé 日本語 🚀"

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

typedef struct options
{
	cm_config   cfg;
	const char *start_text;
	double      speed;
	bool        speed_set;
	double      rate;
	long        request_log;
	int         port;
	const char *port_file;
	const char *tls_cert;
	const char *tls_key;
	const char *token_file;
	const char *state_file;
	long        initial_events;
	long        big_event_bytes;
	long        unicode_every;
	bool        unicode_set;
	double      ttl_s;
	double      history_s;
	long        history_max;
	long        observation_log;
	double      continue_ttl_s;
	bool        verbose;
	sim_faults  f;
} options;

static void
sim_usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: k8s-events simulate [options]\n"
	    "\n"
	    "Serves the Events of a simulated Kubernetes cluster (the one `k8s-events generate`\n"
	    "writes) on 127.0.0.1 as kube-apiserver does: GET /api/v1/events and\n"
	    "/api/v1/namespaces/NS/events, list (limit, continue) and watch (resourceVersion,\n"
	    "allowWatchBookmarks, timeoutSeconds), in real time.  Prints\n"
	    "\"listening on http://127.0.0.1:PORT\" when ready; SIGINT or SIGTERM stops it.\n"
	    "\n"
	    "The cluster:\n"
	    "  --seed N               PRNG seed (default 1)\n"
	    "  --nodes N              worker nodes, 1..%d (default 10)\n"
	    "  --namespaces N         application namespaces, 1..%d (default 4)\n"
	    "  --cluster-version V    core (default) or mixed: also Events written through\n"
	    "                         events.k8s.io (eventTime, series and action, served through\n"
	    "                         both APIs)\n"
	    "  --start TIME           simulated start: RFC 3339, \"now\" or now-N{d,h,m,s} (default "
	    "now)\n"
	    "  --speed X              simulated seconds per real second, >= 0 (default 1)\n"
	    "  --rate N               instead of --speed: pace the cluster by its Events, not its\n"
	    "                         clock -- simulated time runs exactly as fast as it takes the\n"
	    "                         model to write about N Events per real second (ADDED and\n"
	    "                         MODIFIED writes, as /simulator/stats counts observations;\n"
	    "                         the model writes some in bursts, so it is an average over\n"
	    "                         a second or more).  0 < N <= %d\n"
	    "  --event-ttl S          seconds an Event lives after its last write (default 3600)\n"
	    "  --initial-events N     start with N alive Events (a warm-up of the same cluster)\n"
	    "  --big-event-bytes N    start with one more Event whose message is N bytes of UTF-8\n"
	    "  --unicode-every N      every Nth Event's message ends in non-ASCII text (default 0;\n"
	    "                         5 with --max-frame-split)\n"
	    "The server:\n"
	    "  --port N               TCP port on 127.0.0.1; 0 picks a free one (default 0)\n"
	    "  --port-file F          also write the port to F\n"
	    "  --tls-cert F --tls-key F   serve HTTPS with this PEM certificate and key\n"
	    "  --token-file F         require \"Authorization: Bearer <content of F>\" (re-read on\n"
	    "                         every request)\n"
	    "  --history-seconds S    real seconds a change stays watchable (default 300)\n"
	    "  --history-max N        and at most N changes (default 100000)\n"
	    "  --continue-ttl S       real seconds a continue token stays valid (default 300)\n"
	    "  --observation-log N    writes kept for /simulator/observations (default 1000000)\n"
	    "  --request-log N        API requests kept for /simulator/requests (default 100000)\n"
	    "  --state-file F         keep where the simulated clock stands in F (every second\n"
	    "                         and at exit); started again with the same F and the same\n"
	    "                         cluster options (an RFC 3339 --start), it first replays the\n"
	    "                         cluster up to there, so that it goes on with the same\n"
	    "                         history and resourceVersions, as an API server restarted\n"
	    "                         over its etcd does\n"
	    "  --verbose              log each request on standard error\n"
	    "Faults (also settable at runtime: POST /simulator/faults?name=value):\n"
	    "  --page-size N          at most N items per list page (limit is capped)\n"
	    "  --gone-after N         a watch sends ERROR 410 Expired after N frames, then ends\n"
	    "  --drop-after N         a watch closes the connection in the middle of frame N+1\n"
	    "  --stall-after N        a watch stops sending after N frames, connection left open\n"
	    "  --malformed-every N    a line of broken JSON before every Nth frame\n"
	    "  --expire-continue      every continue token gets 410 Expired\n"
	    "  --bookmark-interval S  seconds between BOOKMARK frames, 0 for none (default 60)\n"
	    "  --fail-status CODE --fail-count N   the next N API requests get that status\n"
	    "  --rate-limit R         API requests per second; beyond it 429 with Retry-After\n"
	    "  --retry-after S        seconds in the Retry-After (and retryAfterSeconds) of those\n"
	    "                         429s and of --fail-status 429, 503 or 504; 0: none (default 1)\n"
	    "  --max-frame-split[=N]  write watch frames in chunks of 1..N bytes (default N 7)\n"
	    "  -h, --help             show this help\n"
	    "Also served: the same Events through events.k8s.io/v1 (/apis/events.k8s.io/v1/events and\n"
	    "/apis/events.k8s.io/v1/namespaces/NS/events), with the same resourceVersions.\n"
	    "Admin API: GET /simulator/stats, /simulator/observations?since_rv=RV,\n"
	    "/simulator/requests?since=SEQ, /simulator/faults; POST /simulator/faults?name=value\n"
	    "(also speed=X and rate=N), /simulator/advance?seconds=S,\n"
	    "/simulator/inject?namespace=NS&count=N&bytes=B, /simulator/close_watches.\n",
	    CM_MAX_NODES, CM_MAX_NAMESPACES, SIM_MAX_RATE);
}

#define usage_error(...) command_usage_error("simulate", __VA_ARGS__)

static char *
read_file(const char *path, char *err, size_t errlen)
{
	FILE  *f = fopen(path, "rb");
	char  *buf = NULL;
	size_t len = 0;
	size_t cap = 0;

	if (f == NULL)
	{
		snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	for (;;)
	{
		size_t n;

		if (cap - len < 4096)
		{
			char *p = realloc(buf, cap + 65536);

			if (p == NULL)
				exit(1);
			buf = p;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* ---------------------------------------------------------------- feeding the store */

typedef struct feed
{
	sim_state *st;
	long       unicode_every;
	ej_buf     msg;

	/* the warm-up that pre-populates --initial-events */
	bool      warm;
	long      want;
	long      have;
	uint64_t *seen; /* hashes of accepted uids, open addressing */
	size_t    seen_cap;
	int64_t   t_first;
	int64_t   t_last;
	int64_t   offset_us;
	int64_t   start_us;
} feed;

static uint64_t
hash_uid(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * UINT64_C(1099511628211);
	h ^= h >> 32;
	return h ? h : 1;
}

/* When the observation says the Event last happened. */
static int64_t
obs_time(const cm_obs *o)
{
	if (o->new_style)
		return o->series_count > 0 ? o->series_last_us : o->event_time_us;
	return o->last_us;
}

/* Adds the uid to the warm-up set; false when it is new and the set is full. */
static bool
warm_accept(feed *fd, const char *uid)
{
	uint64_t h = hash_uid(uid);
	size_t   i;

	for (i = h & (fd->seen_cap - 1); fd->seen[i]; i = (i + 1) & (fd->seen_cap - 1))
		if (fd->seen[i] == h)
			return true;
	if (fd->have >= fd->want)
		return false;
	fd->seen[i] = h;
	fd->have++;
	return true;
}

static cm_obs
served_shape(feed *fd, const cm_obs *o)
{
	cm_obs c = *o;

	/* /api/v1 serves every Event as core/v1, whichever API wrote it */
	c.shape = CM_SHAPE_CORE;
	if (fd->unicode_every > 0 && hash_uid(o->uid) % (uint64_t) fd->unicode_every == 0)
	{
		fd->msg.len = 0;
		ej_puts(&fd->msg, o->message);
		ej_puts(&fd->msg, UNICODE_SUFFIX);
		c.message = fd->msg.data;
	}
	return c;
}

static bool
on_obs(const cm_obs *o, void *arg)
{
	feed      *fd = arg;
	sim_state *st = fd->st;
	cm_obs     c;
	int64_t    t = obs_time(o);
	int64_t    mono = sim_mono_us();

	if (fd->warm)
	{
		int64_t deadline;

		if (!warm_accept(fd, o->uid))
			return false;
		if (fd->offset_us == INT64_MIN)
		{
			/* first pass: only measure the span the warm-up needs */
			if (fd->have == 1 && fd->t_first == INT64_MIN)
				fd->t_first = t;
			fd->t_last = t;
			return true;
		}
		c = served_shape(fd, o);
		c.creation_us += fd->offset_us;
		c.first_us += fd->offset_us;
		c.last_us += fd->offset_us;
		c.event_time_us += fd->offset_us;
		c.series_last_us += fd->offset_us;
		if (fd->t_last - fd->t_first + 1000000 <= st->ttl_us)
			deadline = t + fd->offset_us + st->ttl_us;
		else
			/* longer than a TTL: let them expire evenly over the first TTL, oldest first */
			deadline = fd->start_us + 1000000 +
			           (int64_t) ((double) (st->ttl_us - 1000000) * (double) (t - fd->t_first) /
			                      (double) (fd->t_last - fd->t_first));
		ss_write(st->store, &c, deadline, mono);
		return true;
	}
	c = served_shape(fd, o);
	ss_expire(st->store, t, mono);
	ss_write(st->store, &c, t + st->ttl_us, mono);
	return true;
}

/*
 * Pre-populates the store with want alive Events: a second cluster (same size,
 * derived seed) runs until it has written want distinct Events, twice -- once
 * to learn how long that takes, once shifted so that its last write falls just
 * before the start.
 */
static bool
warm_up(sim_state *st, const options *o, long want, int64_t start_us, char *err, size_t errlen)
{
	cm_config cfg = o->cfg;
	feed      fd = {.st = st,
	                .unicode_every = o->unicode_every,
	                .warm = true,
	                .want = want,
	                .start_us = start_us};

	cfg.seed = o->cfg.seed ^ UINT64_C(0x5eed5eed5eed5eed);
	cfg.start_us = start_us - INT64_C(3650) * 86400 * 1000000;
	if (cfg.start_us < 0)
		cfg.start_us = 0;
	cfg.end_us = start_us;
	fd.seen_cap = 1;
	while (fd.seen_cap < (size_t) want * 2 + 2)
		fd.seen_cap *= 2;
	for (int pass = 0; pass < 2; pass++)
	{
		cm_model *m;

		free(fd.seen);
		fd.seen = calloc(fd.seen_cap, sizeof(uint64_t));
		if (fd.seen == NULL)
			exit(1);
		fd.have = 0;
		if (pass == 0)
		{
			fd.offset_us = INT64_MIN;
			fd.t_first = INT64_MIN;
		}
		else
			fd.offset_us = (start_us - 1000000) - fd.t_last;
		m = cm_create(&cfg, on_obs, &fd, err, errlen);
		if (m == NULL)
			return false;
		cm_step(m, INT64_MAX);
		cm_destroy(m);
		if (fd.have < want)
		{
			snprintf(err, errlen,
			         "the warm-up cluster wrote only %ld distinct Events, fewer than "
			         "--initial-events %ld",
			         fd.have, want);
			return false;
		}
	}
	free(fd.seen);
	ej_free(&fd.msg);
	return true;
}

/* ---------------------------------------------------------------- pacing by rate */

/* Actions one tick may run, so that a rate far beyond the model's reach cannot hold the lock. */
#define RATE_MAX_ACTIONS_PER_TICK 200000
/* Actions run per hold of the lock while catching up with a jump of the clock. */
#define JUMP_SLICE_ACTIONS 2000

/*
 * A SIGINT or SIGTERM waiting: they are let in only while the simulation
 * sleeps, so a long run of the model looks for them now and then and ends
 * early, and the stop does not wait for a whole tick on a loaded machine.
 */
static bool
stop_pending(void)
{
	sigset_t pending;

	return sigpending(&pending) == 0 &&
	       (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1);
}

/*
 * One tick of --rate (the caller holds mu): first where /simulator/advance moved
 * the clock, then action after action until the model has written rate Events
 * per second since the pace was set.  Simulated time stops at the last action
 * until the next tick.  Returns it.
 */
static int64_t
pace_by_rate(sim_state *st, cm_model *m, int64_t mono, int64_t *model_now)
{
	int64_t  target = st->sim_origin_us;
	uint64_t want;

	if (target >= MAX_END_US)
		target = MAX_END_US - 1;
	if (target > *model_now)
	{
		/* a jump (advance, or the clock as it stood when the pace was set): not part of it */
		st->model_writes += (uint64_t) cm_step(m, target);
		*model_now = target;
		st->rate_mono_us = mono;
		st->rate_writes = st->model_writes;
	}
	want = st->rate_writes + (uint64_t) (st->rate * (double) (mono - st->rate_mono_us) / 1e6);
	for (int i = 0; st->model_writes < want && i < RATE_MAX_ACTIONS_PER_TICK; i++)
	{
		int64_t t = cm_next_time(m);

		if (t >= MAX_END_US || ((i & 1023) == 1023 && stop_pending()))
			break;
		st->model_writes += (uint64_t) cm_step(m, t);
		*model_now = t;
	}
	st->sim_origin_us = *model_now;
	st->mono_origin_us = mono;
	return *model_now;
}

/* ---------------------------------------------------------------- --state-file */

static sim_resume_key
resume_key(const options *o, int64_t start)
{
	return (sim_resume_key){.seed = o->cfg.seed,
	                        .start_us = start,
	                        .nodes = o->cfg.nodes,
	                        .namespaces = o->cfg.namespaces,
	                        .mixed = o->cfg.mixed,
	                        .initial_events = o->initial_events,
	                        .big_event_bytes = o->big_event_bytes,
	                        .unicode_every = o->unicode_every,
	                        .ttl_us = (int64_t) llround(o->ttl_s * 1e6)};
}

/*
 * Runs the model, before the server listens, to where the last simulator over
 * the same --state-file stood: the writes are served, logged and watchable as
 * they were then (the watch window keeps the last of them), and must reach the
 * same resourceVersion, or the history is not the same one.
 */
static bool
replay_to(sim_state *st, cm_model *m, const sim_resume_point *at, int64_t *model_now, char *err,
          size_t errlen)
{
	char t[32];

	if (at->injected > 0)
	{
		snprintf(err, errlen,
		         "--state-file: %" PRIu64 " Events were injected into that history "
		         "(POST /simulator/inject), which a replay cannot write again",
		         at->injected);
		return false;
	}
	/*
	 * What the cluster does at the start second runs with the first tick (see
	 * main), so a run stopped in that second saved the start as its time with or
	 * without those writes: its resourceVersion says which.
	 */
	if (at->time_us > *model_now || (at->time_us == *model_now && st->store->rv != at->rv))
	{
		int64_t wrote = cm_step(m, at->time_us);

		if (wrote > 0)
			st->model_writes += (uint64_t) wrote;
		*model_now = at->time_us;
	}
	ss_expire(st->store, *model_now, sim_mono_us());
	if (st->store->rv != at->rv)
	{
		ej_format_time(at->time_us, 1, t);
		snprintf(err, errlen,
		         "--state-file: replaying the cluster to %s reached resourceVersion %" PRIu64
		         ", not %" PRIu64 " as the file says",
		         t, st->store->rv, at->rv);
		return false;
	}
	return true;
}

/* Saves where the simulator stands; says so once if it cannot (the server goes on). */
static void
save_state(const char *path, sim_resume_key key, const sim_resume_point *at,
           sim_resume_point *saved)
{
	static bool warned;
	char        err[512];

	if (sim_resume_write(path, &key, at, err, sizeof(err)))
		*saved = *at;
	else if (!warned)
	{
		fprintf(stderr, "k8s-events simulate: %s\n", err);
		warned = true;
	}
}

/* ---------------------------------------------------------------- sleeping */

/* The monotonic time at which the clock shows simulated time sim_us; INT64_MAX: never. */
static int64_t
mono_at(const sim_state *st, int64_t sim_us)
{
	double wait_us;

	if (sim_us >= MAX_END_US || st->speed <= 0)
		return INT64_MAX;
	wait_us = ceil((double) (sim_us - st->sim_origin_us) / st->speed);
	/* beyond a year of waiting: nothing to wake for (a request changing the pace wakes us) */
	if (wait_us > 365 * 86400 * 1e6)
		return INT64_MAX;
	return st->mono_origin_us + (int64_t) wait_us;
}

/*
 * When the simulation next has work (the caller holds mu, after a run): the
 * model's next action or an Event's expiry, by the clock or, pacing by rate,
 * when the next write is due; a change or a snapshot leaving its window.
 * INT64_MAX: nothing until a request changes it (and wakes us).
 */
static int64_t
next_due(const sim_state *st, cm_model *m, int64_t model_now)
{
	int64_t due = ss_next_trim(st->store);
	int64_t t;

	if (st->rate > 0)
	{
		/* simulated time moves only when the model is run, which also expires Events */
		double wait_us = ceil((double) (st->model_writes - st->rate_writes + 1) * 1e6 / st->rate);

		if (cm_next_time(m) < MAX_END_US && wait_us < 365 * 86400 * 1e6)
		{
			t = st->rate_mono_us + (int64_t) wait_us;
			if (t < due)
				due = t;
		}
	}
	else
	{
		t = cm_next_time(m);
		/* due at model_now itself (the start second's): run once the clock passes it */
		if (t <= model_now)
			t = model_now + 1;
		if (ss_next_expiry(st->store) < t)
			t = ss_next_expiry(st->store);
		t = mono_at(st, t);
		if (t < due)
			due = t;
	}
	return due;
}

/*
 * Sleeps until the monotonic time until_us (INT64_MAX: no limit), a wake-up by
 * sim_wake_clock() or a signal: SIGINT and SIGTERM are blocked except here
 * (mask: the mask to wait with), so that one ends the wait at once.
 */
static void
sleep_until(int clock_fd, int64_t until_us, const sigset_t *mask)
{
	struct pollfd   p = {.fd = clock_fd, .events = POLLIN};
	struct timespec ts;
	uint64_t        count;
	int64_t         left = until_us - sim_mono_us();

	/*
	 * Due already: a poll that does not wait, still with the signals let in, or a
	 * simulation that is always behind (a --rate beyond the model's reach) never
	 * sees SIGTERM.
	 */
	if (until_us != INT64_MAX && left < 0)
		left = 0;
	ts.tv_sec = (time_t) (left / 1000000);
	ts.tv_nsec = (long) (left % 1000000) * 1000;
	if (ppoll(&p, 1, until_us == INT64_MAX ? NULL : &ts, mask) > 0)
	{
		/* reset the counter: however many wake-ups came, one run sees them all */
		ssize_t n = read(clock_fd, &count, sizeof(count));

		(void) n;
	}
}

/* ---------------------------------------------------------------- options */

typedef enum
{
	OPT_VALUE,
	OPT_FLAG,
	OPT_OPTIONAL
} opt_kind;

typedef struct opt_def
{
	const char *name;
	opt_kind    kind;
} opt_def;

static const opt_def opt_defs[] = {
    {"--seed", OPT_VALUE},
    {"--nodes", OPT_VALUE},
    {"--namespaces", OPT_VALUE},
    {"--cluster-version", OPT_VALUE},
    {"--start", OPT_VALUE},
    {"--speed", OPT_VALUE},
    {"--rate", OPT_VALUE},
    {"--request-log", OPT_VALUE},
    {"--retry-after", OPT_VALUE},
    {"--event-ttl", OPT_VALUE},
    {"--initial-events", OPT_VALUE},
    {"--big-event-bytes", OPT_VALUE},
    {"--unicode-every", OPT_VALUE},
    {"--port", OPT_VALUE},
    {"--port-file", OPT_VALUE},
    {"--tls-cert", OPT_VALUE},
    {"--tls-key", OPT_VALUE},
    {"--token-file", OPT_VALUE},
    {"--state-file", OPT_VALUE},
    {"--history-seconds", OPT_VALUE},
    {"--history-max", OPT_VALUE},
    {"--continue-ttl", OPT_VALUE},
    {"--observation-log", OPT_VALUE},
    {"--verbose", OPT_FLAG},
    {"--page-size", OPT_VALUE},
    {"--gone-after", OPT_VALUE},
    {"--drop-after", OPT_VALUE},
    {"--stall-after", OPT_VALUE},
    {"--malformed-every", OPT_VALUE},
    {"--expire-continue", OPT_FLAG},
    {"--bookmark-interval", OPT_VALUE},
    {"--fail-status", OPT_VALUE},
    {"--fail-count", OPT_VALUE},
    {"--rate-limit", OPT_VALUE},
    {"--max-frame-split", OPT_OPTIONAL},
};

#define NOPTS ((int) (sizeof(opt_defs) / sizeof(opt_defs[0])))

static int
set_option(options *o, const char *opt, const char *val)
{
	long n;

#define INT_OPT(NAME, LO, HI, DEST)                                                                \
	if (strcmp(opt, NAME) == 0)                                                                    \
	{                                                                                              \
		if (!parse_long(val, LO, HI, &n))                                                          \
			return usage_error(NAME " must be an integer from %ld to %ld, not \"%s\"",             \
			                   (long) (LO), (long) (HI), val);                                     \
		DEST = n;                                                                                  \
		return 0;                                                                                  \
	}
#define NUM_OPT(NAME, LO, HI, DEST)                                                                \
	if (strcmp(opt, NAME) == 0)                                                                    \
	{                                                                                              \
		if (!parse_double(val, LO, HI, &DEST))                                                     \
			return usage_error(NAME " must be a number from %g to %g, not \"%s\"", (double) (LO),  \
			                   (double) (HI), val);                                                \
		return 0;                                                                                  \
	}
	if (strcmp(opt, "--seed") == 0)
	{
		char              *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(val, &end, 10);
		if (*val < '0' || *val > '9' || errno || *end)
			return usage_error("--seed must be an unsigned 64-bit integer, not \"%s\"", val);
		o->cfg.seed = v;
		return 0;
	}
	INT_OPT("--nodes", 1, CM_MAX_NODES, o->cfg.nodes)
	INT_OPT("--namespaces", 1, CM_MAX_NAMESPACES, o->cfg.namespaces)
	if (strcmp(opt, "--cluster-version") == 0)
	{
		if (strcmp(val, "core") != 0 && strcmp(val, "mixed") != 0)
			return usage_error("--cluster-version must be core or mixed, not \"%s\"", val);
		o->cfg.mixed = strcmp(val, "mixed") == 0;
		return 0;
	}
	if (strcmp(opt, "--start") == 0)
	{
		o->start_text = val;
		return 0;
	}
	if (strcmp(opt, "--speed") == 0)
		o->speed_set = true;
	NUM_OPT("--speed", 0, 1e7, o->speed)
	if (strcmp(opt, "--rate") == 0)
	{
		if (!parse_double(val, 0, SIM_MAX_RATE, &o->rate) || o->rate <= 0)
			return usage_error("--rate must be a number of Events per second above 0 and at "
			                   "most %d, not \"%s\"",
			                   SIM_MAX_RATE, val);
		return 0;
	}
	INT_OPT("--request-log", 0, 100000000L, o->request_log)
	INT_OPT("--retry-after", 0, 86400, o->f.retry_after)
	NUM_OPT("--event-ttl", 1, 86400 * 365, o->ttl_s)
	INT_OPT("--initial-events", 0, MAX_INITIAL, o->initial_events)
	INT_OPT("--big-event-bytes", 0, 64L * 1024 * 1024, o->big_event_bytes)
	if (strcmp(opt, "--unicode-every") == 0)
	{
		if (!parse_long(val, 0, 1000000000L, &o->unicode_every))
			return usage_error("--unicode-every must be an integer from 0 to 1000000000, not "
			                   "\"%s\"",
			                   val);
		o->unicode_set = true;
		return 0;
	}
	INT_OPT("--port", 0, 65535, o->port)
	if (strcmp(opt, "--port-file") == 0)
	{
		o->port_file = val;
		return 0;
	}
	if (strcmp(opt, "--tls-cert") == 0)
	{
		o->tls_cert = val;
		return 0;
	}
	if (strcmp(opt, "--tls-key") == 0)
	{
		o->tls_key = val;
		return 0;
	}
	if (strcmp(opt, "--token-file") == 0)
	{
		o->token_file = val;
		return 0;
	}
	if (strcmp(opt, "--state-file") == 0)
	{
		o->state_file = val;
		return 0;
	}
	NUM_OPT("--history-seconds", 0, 86400 * 30, o->history_s)
	INT_OPT("--history-max", 0, 100000000L, o->history_max)
	NUM_OPT("--continue-ttl", 0, 86400 * 30, o->continue_ttl_s)
	INT_OPT("--observation-log", 0, 100000000L, o->observation_log)
	INT_OPT("--page-size", 0, 1000000000L, o->f.page_size)
	INT_OPT("--gone-after", 0, LONG_MAX, o->f.gone_after)
	INT_OPT("--drop-after", 0, LONG_MAX, o->f.drop_after)
	INT_OPT("--stall-after", 0, LONG_MAX, o->f.stall_after)
	INT_OPT("--malformed-every", 0, LONG_MAX, o->f.malformed_every)
	NUM_OPT("--bookmark-interval", 0, 86400, o->f.bookmark_interval)
	INT_OPT("--fail-status", 400, 599, o->f.fail_status)
	INT_OPT("--fail-count", 0, LONG_MAX, o->f.fail_count)
	NUM_OPT("--rate-limit", 0, 1e9, o->f.rate_limit)
	INT_OPT("--max-frame-split", 1, 65536, o->f.max_frame_split)
#undef INT_OPT
#undef NUM_OPT
	return usage_error("unknown option \"%s\"", opt);
}

static int
parse_options(int argc, char **argv, options *o)
{
	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char *eq = strchr(a, '=');
		const char *val = eq ? eq + 1 : NULL;
		size_t      nl = eq ? (size_t) (eq - a) : strlen(a);
		char        opt[40];
		int         k;
		int         rc;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
		{
			sim_usage(stdout);
			return -1;
		}
		if (strncmp(a, "--", 2) != 0)
			return usage_error("unexpected argument \"%s\"", a);
		snprintf(opt, sizeof(opt), "%.*s", (int) (nl < 39 ? nl : 39), a);
		for (k = 0; k < NOPTS; k++)
			if (strcmp(opt_defs[k].name, opt) == 0)
				break;
		if (k == NOPTS)
			return usage_error("unknown option \"%s\"", a);
		if (opt_defs[k].kind == OPT_FLAG)
		{
			if (val)
				return usage_error("option %s takes no value", opt);
			if (strcmp(opt, "--verbose") == 0)
				o->verbose = true;
			else
				o->f.expire_continue = true;
			continue;
		}
		if (opt_defs[k].kind == OPT_OPTIONAL && val == NULL)
		{
			o->f.max_frame_split = 7;
			continue;
		}
		if (val == NULL)
		{
			if (i + 1 >= argc)
				return usage_error("option %s needs a value", opt);
			val = argv[++i];
		}
		if ((rc = set_option(o, opt, val)) != 0)
			return rc;
	}
	return 0;
}

static bool
write_port_file(const char *path, int port)
{
	char  tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return false;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0)
		return false;
	/* renamed into place so that a reader never sees a half-written port */
	return rename(tmp, path) == 0;
}

int
cmd_simulate(int argc, char **argv)
{
	options o = {
	    .cfg = {.seed = 1, .nodes = 10, .namespaces = 4, .mixed = false},
	    .start_text = "now",
	    .speed = 1.0,
	    .ttl_s = 3600,
	    .history_s = 300,
	    .history_max = 100000,
	    .observation_log = 1000000,
	    .request_log = 100000,
	    .continue_ttl_s = 300,
	    .f = {.bookmark_interval = 60, .retry_after = 1},
	};
	sim_state          st;
	ss_config          scfg;
	int64_t            model_now;
	feed               fd = {0};
	pthread_condattr_t ca;
	struct MHD_Daemon *d;
	struct sigaction   sa;
	sigset_t           block;
	sigset_t           wait_mask;
	cm_model          *m;
	char              *cert = NULL;
	char              *key = NULL;
	char               err[512] = "";
	int64_t            start;
	uint64_t           injected0;
	sim_resume_point   saved = {0};
	sim_resume_point   now_at;
	int64_t            next_save = 0;
	int                port = 0;
	int                rc;

	if ((rc = parse_options(argc, argv, &o)) != 0)
		return rc < 0 ? 0 : rc;
	if ((o.tls_cert == NULL) != (o.tls_key == NULL))
		return usage_error("--tls-cert and --tls-key go together");
	if (o.f.fail_count > 0 && o.f.fail_status == 0)
		return usage_error("--fail-count needs --fail-status");
	if (o.rate > 0 && o.speed_set)
		return usage_error("--rate and --speed exclude each other: --rate sets the pace");
	if (!o.unicode_set && o.f.max_frame_split > 0)
		o.unicode_every = 5;
	if (!parse_relative_time(o.start_text, &start, err, sizeof(err)) &&
	    !rfc3339_parse(o.start_text, strlen(o.start_text), &start, err, sizeof(err)))
		return usage_error("invalid --start \"%s\": %s (expected RFC 3339, \"now\" or "
		                   "now-N{d,h,m,s})",
		                   o.start_text, err);
	if (err[0])
		return usage_error("invalid --start \"%s\": %s", o.start_text, err);
	/* whole seconds, so that no second-resolution timestamp precedes the start */
	if (start > 0 && start % 1000000 != 0)
		start += 1000000 - start % 1000000;
	if (start < 0 || start >= MAX_END_US - INT64_C(86400) * 1000000)
		return usage_error("--start must be between 1970-01-01 and 2199-12-31");
	if (o.tls_cert)
	{
		if ((cert = read_file(o.tls_cert, err, sizeof(err))) == NULL ||
		    (key = read_file(o.tls_key, err, sizeof(err))) == NULL)
		{
			fprintf(stderr, "k8s-events simulate: %s\n", err);
			free(cert);
			return 1;
		}
	}

	memset(&st, 0, sizeof(st));
	st.clock_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (st.clock_fd < 0)
	{
		fprintf(stderr, "k8s-events simulate: eventfd: %s\n", strerror(errno));
		free(cert);
		free(key);
		return 1;
	}
	pthread_mutex_init(&st.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st.changed, &ca);
	pthread_condattr_destroy(&ca);
	st.verbose = o.verbose;
	st.tls = cert != NULL;
	st.speed = o.speed;
	st.ttl_us = (int64_t) llround(o.ttl_s * 1e6);
	st.f = o.f;
	st.rl_tokens = o.f.rate_limit < 1 ? 1 : o.f.rate_limit;
	st.token_file = o.token_file;
	st.request_log_max = (size_t) o.request_log;
	st.rng = o.cfg.seed ^ UINT64_C(0x51a7e5eed);
	scfg.ttl_us = st.ttl_us;
	scfg.history_us = (int64_t) llround(o.history_s * 1e6);
	scfg.history_max = (size_t) o.history_max;
	scfg.observation_log = (size_t) o.observation_log;
	scfg.continue_ttl_us = (int64_t) llround(o.continue_ttl_s * 1e6);
	scfg.max_snapshots = 64;
	st.store = ss_create(&scfg);

	/* an apiserver's resourceVersion is never 0: etcd's revision counts every object */
	st.store->rv = 1000 + o.cfg.seed % 1000;
	/* the state before the server starts: written quietly, logged once as it stands */
	st.sim_origin_us = start;
	st.mono_origin_us = sim_mono_us();
	st.store->quiet = true;
	if (o.initial_events > 0 && !warm_up(&st, &o, o.initial_events, start, err, sizeof(err)))
	{
		fprintf(stderr, "k8s-events simulate: %s\n", err);
		return 1;
	}
	if (o.big_event_bytes > 0)
	{
		st.speed = 0; /* the big Event is stamped exactly at the start */
		sim_inject(&st, "default", o.big_event_bytes);
		st.speed = o.speed;
	}
	st.store->quiet = false;
	ss_log_alive(st.store);
	ss_forget_history(st.store);

	o.cfg.start_us = start;
	o.cfg.end_us = MAX_END_US;
	fd.st = &st;
	fd.unicode_every = o.unicode_every;
	m = cm_create(&o.cfg, on_obs, &fd, err, sizeof(err));
	if (m == NULL)
	{
		fprintf(stderr, "k8s-events simulate: %s\n", err);
		return EXIT_USAGE;
	}

	/*
	 * The model is run when the clock moves past model_now, so what the cluster
	 * does at the start itself (a CronJob due at that second) comes with the
	 * first tick, like everything after it.  Run here, it would be there before
	 * the first request, on top of the --initial-events promised: a frozen
	 * cluster started in a CronJob's second served 2,504 Events for 2,500.
	 */
	model_now = start;
	injected0 = st.injected_events;
	if (o.state_file)
	{
		sim_resume_key   key = resume_key(&o, start);
		sim_resume_point at;
		bool             found;

		if (!sim_resume_read(o.state_file, &key, &found, &at, err, sizeof(err)) ||
		    (found && !replay_to(&st, m, &at, &model_now, err, sizeof(err))))
		{
			fprintf(stderr, "k8s-events simulate: %s\n", err);
			cm_destroy(m);
			ss_destroy(st.store);
			return 1;
		}
		saved = at;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* let in only while the simulation sleeps; the server's threads inherit the block */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);

	d = sim_http_start(&st, o.port, cert, key, &port, err, sizeof(err));
	if (d == NULL)
	{
		fprintf(stderr, "k8s-events simulate: %s\n", err);
		cm_destroy(m);
		ss_destroy(st.store);
		return 1;
	}
	if (o.port_file && !write_port_file(o.port_file, port))
	{
		fprintf(stderr, "k8s-events simulate: cannot write --port-file \"%s\": %s\n", o.port_file,
		        strerror(errno));
		sim_http_stop(d);
		return 1;
	}
	/* simulated time starts now, not when the warm-up began */
	pthread_mutex_lock(&st.mu);
	st.sim_origin_us = model_now; /* start, or where a replay over --state-file ended */
	st.mono_origin_us = st.start_mono_us = sim_mono_us();
	if (o.rate > 0)
		sim_set_rate(&st, o.rate);
	pthread_mutex_unlock(&st.mu);
	printf("listening on %s://127.0.0.1:%d\n", cert ? "https" : "http", port);
	fflush(stdout);

	while (!got_signal)
	{
		uint64_t before;
		int64_t  mono;
		int64_t  target;
		int64_t  due;
		bool     behind = false;

		pthread_mutex_lock(&st.mu);
		before = st.store->rv;
		mono = sim_mono_us();
		if (st.rate > 0)
			target = pace_by_rate(&st, m, mono, &model_now);
		else
		{
			target = sim_now_us(&st);
			if (target >= MAX_END_US)
				target = MAX_END_US - 1;
			/*
			 * A jump (/simulator/advance) is run a slice of actions at a time, the
			 * lock released between slices, so that watches serve what the model
			 * wrote while it writes the rest instead of waiting for all of it.
			 */
			for (int i = 0; target > model_now && i < JUMP_SLICE_ACTIONS; i++)
			{
				int64_t t = cm_next_time(m);
				int64_t wrote;

				if (t > target)
					t = target;
				wrote = cm_step(m, t);
				/* a stopped model (cm_step -1) writes no more: the jump is over */
				model_now = wrote < 0 ? target : t;
				if (wrote > 0)
					st.model_writes += (uint64_t) wrote;
			}
			behind = target > model_now;
			if (behind)
				target = model_now;
		}
		ss_expire(st.store, target, mono);
		ss_trim(st.store, mono);
		if (st.store->rv != before)
			pthread_cond_broadcast(&st.changed);
		due = next_due(&st, m, model_now);
		now_at = (sim_resume_point){target, st.store->rv, st.injected_events - injected0};
		pthread_mutex_unlock(&st.mu);
		if (o.state_file && mono >= next_save && memcmp(&now_at, &saved, sizeof(saved)) != 0)
		{
			save_state(o.state_file, resume_key(&o, start), &now_at, &saved);
			next_save = mono + 1000000;
		}
		if (behind)
			continue; /* the rest of a jump, at once */
		/* however soon it is due, runs are a tick apart: the model catches up in one */
		if (due < mono + TICK_US)
			due = mono + TICK_US;
		sleep_until(st.clock_fd, due, &wait_mask);
	}

	if (o.verbose)
		fprintf(stderr, "k8s-events simulate: stopping on signal %d\n", (int) got_signal);
	pthread_mutex_lock(&st.mu);
	if (o.state_file)
		save_state(o.state_file, resume_key(&o, start),
		           &(sim_resume_point){model_now, st.store->rv, st.injected_events - injected0},
		           &saved);
	st.stopping = true;
	pthread_cond_broadcast(&st.changed);
	pthread_mutex_unlock(&st.mu);
	sim_http_stop(d);
	cm_destroy(m);
	ss_destroy(st.store);
	sim_requests_free(&st);
	ej_free(&fd.msg);
	pthread_cond_destroy(&st.changed);
	pthread_mutex_destroy(&st.mu);
	close(st.clock_fd);
	free(cert);
	free(key);
	return 0;
}
