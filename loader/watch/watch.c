/*
 * watch.c
 *	  `k8s-events watch`: follow one cluster's Events and store them in
 *	  PostgreSQL, with the same list/watch engine as the background worker
 *	  (core/list_watch.c), here hosted by a program.
 *
 * The engine is the worker's, compiled in: LIST, WATCH, batching, 410s,
 * backoff and the stall timeout behave the same.  This file gives it what a
 * program has instead of a backend: storage through libpq (watch_db.c), where
 * each batch commits with its checkpoint in one statement; waits in ppoll()
 * with SIGINT and SIGTERM let in only there, so a signal ends any wait at
 * once and never interrupts a store; status in k8s_events.watch_status.
 */
#define _GNU_SOURCE /* ppoll */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "commands.h"
#include "core/cluster_name.h"
#include "core/list_watch.h"
#include "core/monotonic.h"
#include "parse_args.h"
#include "splitmix64.h"
#include "watch_db.h"

#define ERR_LEN 2048

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

typedef struct Options
{
	const char *cluster;
	const char *kubeconfig;
	const char *context;
	const char *api_server;
	const char *token_file;
	const char *ca_file;
	const char *client_cert;
	const char *client_key;
	const char *namespace;
	const char *conninfo;
	bool        insecure;
	long        batch_size;
	long        flush_interval_ms;
	long        stall_timeout_s;
} Options;

typedef struct Watch
{
	Options          opt;
	ListWatchCluster cluster;
	WatchDb          db;
	sigset_t         wait_mask; /* the signal mask inside waits: SIGINT and SIGTERM let in */
	char             client[320];
	uint64_t         rng;

	/* The checkpoint the first watch_begin returned, handed to the engine once. */
	char *first_checkpoint;
	bool  first_checkpoint_pending;

	/* Status as the engine reported it, written again after a reconnection. */
	ListWatchState state;
	char           last_error[ERR_LEN];
	bool           error_unwritten;
	int64_t        relists;
	int64_t        reconnects;
	int64_t        stored;
	int64_t        duplicates;
	int64_t        rejected;
	bool           reached_api; /* the API server answered 200 (or 429/503) once */

	int  exit_code; /* -1 while running */
	char fatal[ERR_LEN];
} Watch;

static void
usage(FILE *out)
{
	fprintf(out,
	        "Usage: k8s-events watch --cluster NAME [options]\n"
	        "\n"
	        "Lists and watches one cluster's Events with the same engine as the background\n"
	        "worker and stores them in PostgreSQL through the k8s_events extension: each batch\n"
	        "commits with the resourceVersion it reaches, so a restart resumes where the stored\n"
	        "rows end, with nothing lost or stored twice.  Needs a role with k8s_events_writer;\n"
	        "the library need not be preloaded.  One watcher per cluster: a cluster that\n"
	        "another `watch` or the background worker follows is refused.  Status shows in\n"
	        "k8s_events.watch_status (watcher = 'external').\n"
	        "\n"
	        "The cluster (with neither --api-server nor --kubeconfig: the pod's service account):\n"
	        "  --cluster NAME              the name its events are stored under (required)\n"
	        "  --kubeconfig F              a kubeconfig file\n"
	        "  --context C                 its context (default: its current-context)\n"
	        "  --api-server URL            http(s)://host:port; overrides the kubeconfig's\n"
	        "  --token-file F              bearer token, read again at every connection\n"
	        "  --ca-file F                 PEM CA bundle to verify the server with\n"
	        "  --client-cert F             client certificate (PEM)\n"
	        "  --client-key F              its key (PEM)\n"
	        "  --insecure-skip-tls-verify  do not verify the server's certificate\n"
	        "  --namespace NS              only this namespace's Events (default: all)\n"
	        "The database:\n"
	        "  -d, --dbname CONNINFO       database name or connection string (default: libpq's\n"
	        "                              PG* environment variables)\n"
	        "Batches:\n"
	        "  --batch-size N              frames per transaction, 1..100000 (default 1000)\n"
	        "  --flush-interval MS         the longest received frames wait to be stored,\n"
	        "                              0..3600000 ms (default 250)\n"
	        "  --stall-timeout S           a request with nothing whole this long is dropped\n"
	        "                              and resumed, 1..86400 s (default 300)\n"
	        "  -h, --help                  show this help\n"
	        "\n"
	        "SIGINT or SIGTERM stops it within a second, after storing what was received; it\n"
	        "exits 0 then.  Exit status 2: a usage error, or the first connection (to\n"
	        "PostgreSQL or the API server) failed; 1: another fatal error (the cluster is\n"
	        "taken, privileges).  Later failures, and a 429 or 503 at the first request\n"
	        "(the server asks to be asked again), are retried with backoff.\n");
}

#define usage_error(...) command_usage_error("watch", __VA_ARGS__)

/* ---------------------------------------------------------------- options */

typedef struct OptionDef
{
	const char *name;
	bool        flag;
} OptionDef;

static const OptionDef option_defs[] = {
    {"--cluster", false},       {"--kubeconfig", false},
    {"--context", false},       {"--api-server", false},
    {"--token-file", false},    {"--ca-file", false},
    {"--client-cert", false},   {"--client-key", false},
    {"--namespace", false},     {"--dbname", false},
    {"--batch-size", false},    {"--flush-interval", false},
    {"--stall-timeout", false}, {"--insecure-skip-tls-verify", true},
};

#define NOPTIONS ((int) (sizeof(option_defs) / sizeof(option_defs[0])))

static int
set_option(Options *o, const char *name, const char *val)
{
	static const struct
	{
		const char *name;
		size_t      offset;
	} strings[] = {
	    {"--cluster", offsetof(Options, cluster)},
	    {"--kubeconfig", offsetof(Options, kubeconfig)},
	    {"--context", offsetof(Options, context)},
	    {"--api-server", offsetof(Options, api_server)},
	    {"--token-file", offsetof(Options, token_file)},
	    {"--ca-file", offsetof(Options, ca_file)},
	    {"--client-cert", offsetof(Options, client_cert)},
	    {"--client-key", offsetof(Options, client_key)},
	    {"--namespace", offsetof(Options, namespace)},
	    {"--dbname", offsetof(Options, conninfo)},
	};

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (strcmp(name, strings[i].name) == 0)
		{
			if (val[0] == '\0')
				return usage_error("%s must not be empty", name);
			*(const char **) ((char *) o + strings[i].offset) = val;
			return 0;
		}
	if (strcmp(name, "--batch-size") == 0)
	{
		if (!parse_long(val, 1, 100000, &o->batch_size))
			return usage_error("--batch-size must be an integer from 1 to 100000, not \"%s\"", val);
		return 0;
	}
	if (strcmp(name, "--flush-interval") == 0)
	{
		if (!parse_long(val, 0, 3600000, &o->flush_interval_ms))
			return usage_error(
			    "--flush-interval must be an integer from 0 to 3600000 (ms), not \"%s\"", val);
		return 0;
	}
	if (strcmp(name, "--stall-timeout") == 0)
	{
		if (!parse_long(val, 1, 86400, &o->stall_timeout_s))
			return usage_error("--stall-timeout must be an integer from 1 to 86400 (s), not \"%s\"",
			                   val);
		return 0;
	}
	return usage_error("unknown option \"%s\"", name);
}

/* 0 to go on, -1 after --help, else the exit status of a usage error. */
static int
parse_options(int argc, char **argv, Options *o)
{
	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char *eq = strchr(a, '=');
		const char *val = eq != NULL ? eq + 1 : NULL;
		size_t      nl = eq != NULL ? (size_t) (eq - a) : strlen(a);
		char        name[40];
		int         k;
		int         rc;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
		{
			usage(stdout);
			return -1;
		}
		if (strcmp(a, "-d") == 0)
		{
			if (i + 1 >= argc)
				return usage_error("option -d needs a value");
			if ((rc = set_option(o, "--dbname", argv[++i])) != 0)
				return rc;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			return usage_error("unexpected argument \"%s\"", a);
		snprintf(name, sizeof(name), "%.*s", (int) (nl < 39 ? nl : 39), a);
		for (k = 0; k < NOPTIONS; k++)
			if (strcmp(option_defs[k].name, name) == 0)
				break;
		if (k == NOPTIONS)
			return usage_error("unknown option \"%s\"", a);
		if (option_defs[k].flag)
		{
			if (val != NULL)
				return usage_error("option %s takes no value", name);
			o->insecure = true;
			continue;
		}
		if (val == NULL)
		{
			if (i + 1 >= argc)
				return usage_error("option %s needs a value", name);
			val = argv[++i];
		}
		if ((rc = set_option(o, name, val)) != 0)
			return rc;
	}
	if (o->cluster == NULL)
		return usage_error("--cluster is required: the name the cluster's events are stored under");
	if (cluster_name_check(o->cluster) != CLUSTER_NAME_VALID)
		return usage_error("--cluster: the cluster name %s",
		                   cluster_name_problem(cluster_name_check(o->cluster)));
	if (o->context != NULL && o->kubeconfig == NULL)
		return usage_error("--context needs --kubeconfig");
	if (o->api_server != NULL && strncmp(o->api_server, "http://", 7) != 0 &&
	    strncmp(o->api_server, "https://", 8) != 0)
		return usage_error("--api-server must start with http:// or https://, not \"%s\"",
		                   o->api_server);
	return 0;
}

/* ---------------------------------------------------------------- the engine's host */

static void fail(Watch *w, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Give up: the engine stops at its next wait. */
static void
fail(Watch *w, int code, const char *fmt, ...)
{
	va_list ap;

	if (w->exit_code >= 0)
		return;
	w->exit_code = code;
	va_start(ap, fmt);
	vsnprintf(w->fatal, sizeof(w->fatal), fmt, ap);
	va_end(ap);
}

static bool
running(const Watch *w)
{
	return stop_signal == 0 && w->exit_code < 0;
}

/* Status to the database; on a lost connection it is written again after the next begin. */
static void
report_status(Watch *w)
{
	char err[ERR_LEN];

	if (watch_db_set_state(&w->db, list_watch_state_name(w->state),
	                       w->error_unwritten ? w->last_error : NULL, w->relists, w->reconnects,
	                       err, sizeof(err)) == WATCH_DB_OK)
		w->error_unwritten = false;
}

static bool
host_store(void *arg, const ListWatchBatch *batch, char *err, size_t errlen)
{
	Watch        *w = arg;
	WatchDbCounts counts;
	WatchDbResult result = watch_db_store(&w->db, batch, &counts, err, errlen);

	if (result == WATCH_DB_OK)
	{
		w->stored += counts.stored;
		w->duplicates += counts.duplicates;
		w->rejected += counts.rejected;
		return true;
	}
	if (result == WATCH_DB_FATAL)
		fail(w, 1, "%s", err);
	return false;
}

/* The first checkpoint came with the first begin; later ones need a new begin. */
static bool
host_checkpoint(void *arg, char **rv, char *err, size_t errlen)
{
	Watch        *w = arg;
	WatchDbResult result;

	if (w->first_checkpoint_pending)
	{
		w->first_checkpoint_pending = false;
		*rv = w->first_checkpoint;
		w->first_checkpoint = NULL;
		return true;
	}
	result = watch_db_begin(&w->db, rv, err, errlen);
	if (result == WATCH_DB_OK)
	{
		fprintf(stderr, "k8s-events watch: cluster \"%s\": connected to PostgreSQL again\n",
		        w->cluster.name);
		report_status(w);
		return true;
	}
	if (result == WATCH_DB_FATAL)
		fail(w, 1, "%s", err);
	return false;
}

static void
host_set_state(void *arg, ListWatchState state, const char *error)
{
	Watch *w = arg;

	w->state = state;
	if (error != NULL)
	{
		snprintf(w->last_error, sizeof(w->last_error), "%s", error);
		w->error_unwritten = true;
		/* Wrong URL, CA or credentials show at the first try: say so and stop. */
		if (!w->reached_api && state == LIST_WATCH_BACKOFF)
			fail(w, 2, "cluster \"%s\": %s", w->cluster.name, error);
	}
	report_status(w);
}

static void
host_count(void *arg, ListWatchCounter counter)
{
	Watch *w = arg;

	if (counter == LIST_WATCH_RELISTS)
		w->relists++;
	else
		w->reconnects++;
	report_status(w);
}

static void
host_connected(void *arg)
{
	((Watch *) arg)->reached_api = true;
}

static struct timespec
timespec_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	return ts;
}

/* SIGINT and SIGTERM are blocked except here: ppoll lets them in and returns at once. */
static bool
host_wait(void *arg, HttpPollFd *fds, int nfds, long timeout_ms)
{
	Watch          *w = arg;
	struct pollfd   pfds[HTTP_MAX_SOCKETS];
	struct timespec ts = timespec_ms(timeout_ms);
	int             n;

	for (int i = 0; i < nfds; i++)
	{
		pfds[i].fd = fds[i].fd;
		pfds[i].events =
		    (short) ((fds[i].want_read ? POLLIN : 0) | (fds[i].want_write ? POLLOUT : 0));
		pfds[i].revents = 0;
	}
	if (!running(w))
		return false;
	n = ppoll(pfds, (nfds_t) nfds, &ts, &w->wait_mask);
	if (n < 0 && errno != EINTR)
	{
		fail(w, 1, "ppoll: %s", strerror(errno));
		return false;
	}
	for (int i = 0; n > 0 && i < nfds; i++)
	{
		/* An error or hang-up is for curl to read. */
		fds[i].readable = (pfds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
		fds[i].writable = (pfds[i].revents & (POLLOUT | POLLERR)) != 0;
	}
	return running(w);
}

static bool
host_sleep(void *arg, long ms)
{
	Watch  *w = arg;
	int64_t until = monotonic_ms() + ms;

	while (running(w))
	{
		int64_t         left = until - monotonic_ms();
		struct timespec ts;

		if (left <= 0)
			return true;
		ts = timespec_ms((long) left);
		(void) ppoll(NULL, 0, &ts, &w->wait_mask);
	}
	return false;
}

static void
host_settings(void *arg, ListWatchSettings *out)
{
	const Options *o = &((Watch *) arg)->opt;

	out->batch_size = (int) o->batch_size;
	out->flush_interval_ms = o->flush_interval_ms;
	out->stall_timeout_ms = o->stall_timeout_s * 1000;
}

static void
host_log(void *arg, const char *message)
{
	Watch *w = arg;

	/* A failure that ends the program is told once, at the end, not as a retry. */
	if (running(w))
		fprintf(stderr, "k8s-events watch: cluster \"%s\": %s\n", w->cluster.name, message);
}

/* Jitter needs spread, not secrecy. */
static uint64_t
host_random(void *arg, uint64_t bound)
{
	Watch *w = arg;

	return splitmix64(&w->rng) % bound;
}

/* ---------------------------------------------------------------- main */

static void
set_up_signals(Watch *w)
{
	struct sigaction sa;
	sigset_t         block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &w->wait_mask);
	sigdelset(&w->wait_mask, SIGINT);
	sigdelset(&w->wait_mask, SIGTERM);
}

int
cmd_watch(int argc, char **argv)
{
	Watch         w;
	ListWatchHost host;
	char          err[ERR_LEN];
	char          hostname[256];
	WatchDbResult result;
	int           rc;

	memset(&w, 0, sizeof(w));
	w.opt.batch_size = 1000;
	w.opt.flush_interval_ms = 250;
	w.opt.stall_timeout_s = 300;
	w.exit_code = -1;
	if ((rc = parse_options(argc, argv, &w.opt)) != 0)
		return rc < 0 ? 0 : rc;

	w.cluster.name = w.opt.cluster;
	w.cluster.api_server = w.opt.api_server;
	w.cluster.token_file = w.opt.token_file;
	w.cluster.ca_file = w.opt.ca_file;
	w.cluster.client_cert_file = w.opt.client_cert;
	w.cluster.client_key_file = w.opt.client_key;
	w.cluster.kubeconfig = w.opt.kubeconfig;
	w.cluster.context = w.opt.context;
	w.cluster.namespace = w.opt.namespace;
	w.cluster.insecure_skip_tls_verify = w.opt.insecure;
	if (gethostname(hostname, sizeof(hostname)) != 0)
		snprintf(hostname, sizeof(hostname), "unknown host");
	hostname[sizeof(hostname) - 1] = '\0';
	snprintf(w.client, sizeof(w.client), "k8s-events watch pid %d on %s", (int) getpid(), hostname);
	w.rng = (uint64_t) time(NULL) ^ ((uint64_t) getpid() << 32) ^ (uint64_t) monotonic_ms();

	set_up_signals(&w);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
	{
		fprintf(stderr, "k8s-events watch: could not initialise libcurl\n");
		return 1;
	}
	w.db.conninfo = w.opt.conninfo;
	w.db.cluster = w.opt.cluster;
	w.db.client = w.client;
	w.db.wait_mask = &w.wait_mask;
	w.db.stop = &stop_signal;

	result = watch_db_begin(&w.db, &w.first_checkpoint, err, sizeof(err));
	if (result != WATCH_DB_OK)
	{
		watch_db_close(&w.db);
		curl_global_cleanup();
		if (stop_signal != 0)
			return 0;
		fprintf(stderr, "k8s-events watch: %s\n", err);
		return result == WATCH_DB_UNREACHABLE ? 2 : 1;
	}
	w.first_checkpoint_pending = true;
	if (w.first_checkpoint != NULL)
		fprintf(stderr, "k8s-events watch: cluster \"%s\": resuming from resourceVersion %s\n",
		        w.cluster.name, w.first_checkpoint);
	else
		fprintf(stderr, "k8s-events watch: cluster \"%s\": no checkpoint yet, listing first\n",
		        w.cluster.name);

	memset(&host, 0, sizeof(host));
	host.arg = &w;
	host.allocator = NULL;
	host.store = host_store;
	host.checkpoint = host_checkpoint;
	host.set_state = host_set_state;
	host.count = host_count;
	host.connected = host_connected;
	host.wait = host_wait;
	host.sleep = host_sleep;
	host.settings = host_settings;
	host.log = host_log;
	host.random = host_random;
	list_watch_run(&w.cluster, &host);

	if (w.exit_code < 0)
	{
		(void) watch_db_set_state(&w.db, "stopped", NULL, w.relists, w.reconnects, err,
		                          sizeof(err));
		fprintf(stderr,
		        "k8s-events watch: cluster \"%s\": stopped by %s; %lld events stored, %lld "
		        "duplicates, %lld rejected\n",
		        w.cluster.name, stop_signal == SIGINT ? "SIGINT" : "SIGTERM", (long long) w.stored,
		        (long long) w.duplicates, (long long) w.rejected);
		w.exit_code = 0;
	}
	else
	{
		(void) watch_db_set_state(&w.db, "failed", w.fatal, w.relists, w.reconnects, err,
		                          sizeof(err));
		fprintf(stderr, "k8s-events watch: %s\n", w.fatal);
	}
	free(w.first_checkpoint);
	watch_db_close(&w.db);
	curl_global_cleanup();
	return w.exit_code;
}
