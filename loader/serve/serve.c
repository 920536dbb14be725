/*
 * serve.c
 *	  `k8s-events serve`: the dashboard's server.  Options, the checks made
 *	  before listening, and the run until SIGINT or SIGTERM.
 *
 *	  k8s-events serve [--listen 127.0.0.1:8080] [-d CONNINFO]
 *	                   [--auth-token-file FILE] [--tls-cert FILE --tls-key FILE]
 *	                   [--dashboard DIR] [--pool N] [-v]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "parse_args.h"
#include "serve/serve.h"
#include "serve/serve_http.h"

#define usage_error(...) command_usage_error("serve", __VA_ARGS__)

#ifndef K8S_EVENTS_DASHBOARD_DIR
#define K8S_EVENTS_DASHBOARD_DIR "/usr/local/share/k8s-events/dashboard"
#endif

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: k8s-events serve [options]\n"
	    "\n"
	    "Serve the dashboard: the page, a JSON API over the summaries, and live events.\n"
	    "\n"
	    "Options:\n"
	    "  --listen ADDR:PORT       where to listen (default 127.0.0.1:8080; port 0 picks one);\n"
	    "                           an address other than loopback needs --auth-token-file\n"
	    "  -d, --dbname CONNINFO    database to read, as a role holding only k8s_events_reader\n"
	    "                           (default: libpq's environment, PGHOST, PGDATABASE, ...)\n"
	    "  --auth-token-file FILE   ask for the token in FILE (mode 600): Authorization: Bearer,\n"
	    "                           or the sign-in form, which sets an HttpOnly cookie\n"
	    "  --tls-cert FILE          serve HTTPS with this certificate (PEM) ...\n"
	    "  --tls-key FILE           ... and its key (PEM)\n"
	    "  --dashboard DIR          the built page (default: the installed one, %s)\n"
	    "  --pool N                 database connections for requests (default 4, 1-32)\n"
	    "  -v, --verbose            log each request to stderr\n"
	    "  -h, --help               show this help\n",
	    K8S_EVENTS_DASHBOARD_DIR);
}

/* ADDR:PORT, [ADDR6]:PORT or localhost:PORT into addr; false if malformed. */
static bool
parse_listen(const char *text, struct sockaddr_storage *addr, bool *loopback)
{
	char        host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(text, ':');
	long        port;
	size_t      hlen;

	if (colon == NULL || !parse_long(colon + 1, 0, 65535, &port))
		return false;
	hlen = (size_t) (colon - text);
	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	memset(addr, 0, sizeof(*addr));
	if (host[0] == '[' && host[hlen - 1] == ']')
	{
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *) addr;

		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return false;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t) port);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
		return true;
	}
	{
		struct sockaddr_in *a4 = (struct sockaddr_in *) addr;

		if (strcmp(host, "localhost") == 0)
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return false;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t) port);
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
		return true;
	}
}

static char *
read_pem(const char *path, const char *what)
{
	FILE  *fp = fopen(path, "rb");
	char  *buf;
	size_t n;

	if (fp == NULL)
	{
		fprintf(stderr, "k8s-events serve: cannot read the TLS %s %s: %s\n", what, path,
		        strerror(errno));
		return NULL;
	}
	buf = calloc(1, 1024 * 1024 + 1);
	n = buf ? fread(buf, 1, 1024 * 1024, fp) : 0;
	fclose(fp);
	if (buf == NULL || n == 0)
	{
		fprintf(stderr, "k8s-events serve: the TLS %s %s is empty\n", what, path);
		free(buf);
		return NULL;
	}
	return buf;
}

/* The installed page, or the one built beside this program (loader/../dashboard/dist). */
static const char *
default_dashboard(char *buf, size_t len)
{
	struct stat st;
	char        exe[PATH_MAX];
	ssize_t     n;

	if (stat(K8S_EVENTS_DASHBOARD_DIR "/index.html", &st) == 0)
		return K8S_EVENTS_DASHBOARD_DIR;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0)
	{
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
		{
			*slash = '\0';
			snprintf(buf, len, "%s/../dashboard/dist", exe);
			if (stat(buf, &st) == 0)
				return buf;
		}
	}
	return K8S_EVENTS_DASHBOARD_DIR;
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option long_opts[] = {{"listen", required_argument, NULL, 'l'},
	                                          {"dbname", required_argument, NULL, 'd'},
	                                          {"auth-token-file", required_argument, NULL, 'a'},
	                                          {"tls-cert", required_argument, NULL, 'c'},
	                                          {"tls-key", required_argument, NULL, 'k'},
	                                          {"dashboard", required_argument, NULL, 'D'},
	                                          {"pool", required_argument, NULL, 'p'},
	                                          {"verbose", no_argument, NULL, 'v'},
	                                          {"help", no_argument, NULL, 'h'},
	                                          {NULL, 0, NULL, 0}};
	const char                *listen_text = "127.0.0.1:8080";
	const char                *conninfo = "";
	const char                *token_file = NULL, *cert_file = NULL, *key_file = NULL;
	const char                *dashboard = NULL;
	char                       dashboard_buf[PATH_MAX + 32];
	long                       pool_size = 4;
	bool                       verbose = false, loopback = false;
	struct sockaddr_storage    addr;
	ServeState                 st = {0};
	char                       err[512];
	char                      *cert_pem = NULL, *key_pem = NULL;
	struct MHD_Daemon         *daemon;
	PGconn                    *check;
	sigset_t                   sigs;
	int                        port, sig, opt, rc = 1;
	char                       shown[INET6_ADDRSTRLEN];

	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:vh", long_opts, NULL)) != -1)
		switch (opt)
		{
			case 'l':
				listen_text = optarg;
				break;
			case 'd':
				conninfo = optarg;
				break;
			case 'a':
				token_file = optarg;
				break;
			case 'c':
				cert_file = optarg;
				break;
			case 'k':
				key_file = optarg;
				break;
			case 'D':
				dashboard = optarg;
				break;
			case 'p':
				if (!parse_long(optarg, 1, 32, &pool_size))
					return usage_error("--pool must be a whole number from 1 to 32");
				break;
			case 'v':
				verbose = true;
				break;
			case 'h':
				usage(stdout);
				return 0;
			default:
				return usage_error("unknown option");
		}
	if (optind < argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	if (!parse_listen(listen_text, &addr, &loopback))
		return usage_error("--listen wants ADDRESS:PORT with an IP address, [IPv6]:PORT or "
		                   "localhost:PORT, not \"%s\"",
		                   listen_text);
	if (!loopback && token_file == NULL)
		return usage_error("listening on %s, beyond this machine, needs --auth-token-file "
		                   "(and --tls-cert/--tls-key, or a TLS proxy in front)",
		                   listen_text);
	if ((cert_file == NULL) != (key_file == NULL))
		return usage_error("--tls-cert and --tls-key go together");

	/* From here every exit goes through done, which frees what was made (a refusal too). */
	st.verbose = verbose;
	if (token_file != NULL && (st.auth = auth_load(token_file, err, sizeof(err))) == NULL)
	{
		fprintf(stderr, "k8s-events serve: %s\n", err);
		goto done;
	}
	if (cert_file != NULL && ((cert_pem = read_pem(cert_file, "certificate")) == NULL ||
	                          (key_pem = read_pem(key_file, "key")) == NULL))
		goto done;
	st.tls = cert_pem != NULL;
	if (dashboard == NULL)
		dashboard = default_dashboard(dashboard_buf, sizeof(dashboard_buf));
	if ((st.files = static_files_load(dashboard, err, sizeof(err))) == NULL)
	{
		fprintf(stderr, "k8s-events serve: %s\n", err);
		goto done;
	}

	/* The role must only read: a dashboard open to a network must not be a way to write. */
	check = db_connect(conninfo, err, sizeof(err));
	if (check == NULL)
	{
		fprintf(stderr, "k8s-events serve: cannot connect to the database: %s\n", err);
		goto done;
	}
	if (!db_check_reader(check, err, sizeof(err)))
	{
		fprintf(stderr,
		        "k8s-events serve: %s\n"
		        "HINT:  serve as a role that only reads, e.g. as the database owner:\n"
		        "         CREATE ROLE k8s_dashboard LOGIN PASSWORD '...';\n"
		        "         GRANT k8s_events_reader TO k8s_dashboard;\n",
		        err);
		PQfinish(check);
		goto done;
	}
	PQfinish(check);
	/*
	 * Signals go to this thread only, which waits for them: blocked before any
	 * other thread starts (they inherit the mask), so none of them takes one.
	 */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if ((st.pool = db_pool_open(conninfo, (int) pool_size, err, sizeof(err))) == NULL ||
	    (st.live = live_start(conninfo, err, sizeof(err))) == NULL)
	{
		fprintf(stderr, "k8s-events serve: %s\n", err);
		goto done;
	}

	daemon = serve_http_start(&st, (struct sockaddr *) &addr, cert_pem, key_pem, &port, err,
	                          sizeof(err));
	if (daemon == NULL)
	{
		fprintf(stderr, "k8s-events serve: %s: %s\n", listen_text, err);
		live_stop(st.live);
		goto done;
	}
	if (addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &addr)->sin6_addr, shown, sizeof(shown));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *) &addr)->sin_addr, shown, sizeof(shown));
	printf("k8s-events serve: dashboard at %s://%s%s%s:%d/\n", st.tls ? "https" : "http",
	       addr.ss_family == AF_INET6 ? "[" : "", shown, addr.ss_family == AF_INET6 ? "]" : "",
	       port);
	fflush(stdout);

	sigwait(&sigs, &sig);
	fprintf(stderr, "k8s-events serve: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	live_stop(st.live); /* ends the streams first: each is a thread the daemon waits for */
	serve_http_stop(daemon);
	rc = 0;
done:
	live_free(st.live);
	db_pool_close(st.pool);
	static_files_free(st.files);
	auth_free(st.auth);
	free(cert_pem);
	free(key_pem);
	return rc;
}
