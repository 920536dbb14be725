/*
 * serve_http.c
 *	  Requests in, answers out (see serve_http.h).
 *
 * Every answer carries the same security headers: a Content-Security-Policy
 * that allows only the page's own scripts and styles (no inline script, no
 * other origin, no framing), nosniff, no referrer.  Names and messages in the
 * answers are the cluster's text, which any pod can write: the API sends them
 * as JSON strings, and the page sets them as text, never as HTML.
 */
#include "serve/serve_http.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zlib.h>

#include "serve/api.h"
#include "serve/params.h"

#define MAX_LOGIN_BODY      8192
#define STREAM_KEEPALIVE_MS 15000

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'";

/* What a request needs between the calls libmicrohttpd makes for it (a POST body). */
typedef struct Request
{
	char   body[MAX_LOGIN_BODY + 1];
	size_t len;
	bool   too_big;
} Request;

/* The state of a request without a body to keep: every one but the login form's. */
static char no_body;

static void
security_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
}

/* -v: one line a request; the path is the client's text, control characters shown as '?'. */
static void
log_request(ServeState *st, const char *method, const char *url, int status)
{
	char clean[256];
	int  i;

	if (!st->verbose)
		return;
	for (i = 0; url[i] != '\0' && i < (int) sizeof(clean) - 1; i++)
		clean[i] = (unsigned char) url[i] < 0x20 || url[i] == 0x7f ? '?' : url[i];
	clean[i] = '\0';
	if (status)
		fprintf(stderr, "k8s-events serve: %s %s %d\n", method, clean, status);
	else
		fprintf(stderr, "k8s-events serve: %s %s stream\n", method, clean);
}

static bool
accepts_gzip(struct MHD_Connection *c)
{
	const char *ae =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);

	return ae != NULL && strstr(ae, "gzip") != NULL;
}

/* body gzip'd into a malloc'd buffer, or NULL. */
static char *
gzip_body(const char *body, size_t len, size_t *out_len)
{
	z_stream zs = {0};
	uLong    bound;
	char    *out;

	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	bound = deflateBound(&zs, (uLong) len);
	out = malloc(bound);
	if (out == NULL)
	{
		deflateEnd(&zs);
		return NULL;
	}
	zs.next_in = (Bytef *) body;
	zs.avail_in = (uInt) len;
	zs.next_out = (Bytef *) out;
	zs.avail_out = (uInt) bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
	{
		deflateEnd(&zs);
		free(out);
		return NULL;
	}
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static enum MHD_Result
send_reply(ServeState *st, struct MHD_Connection *c, const char *method, const char *url, Reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result      ret;
	char                *gz = NULL;
	size_t               gz_len = 0;

	if (r->len > 1024 && accepts_gzip(c))
		gz = gzip_body(r->body, r->len, &gz_len);
	if (gz)
	{
		free(r->body);
		resp = MHD_create_response_from_buffer(gz_len, gz, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	}
	else
		resp = MHD_create_response_from_buffer(r->len, r->body ? r->body : "",
		                                       r->body ? MHD_RESPMEM_MUST_FREE
		                                               : MHD_RESPMEM_PERSISTENT);
	r->body = NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	if (r->disposition)
		MHD_add_response_header(resp, "Content-Disposition", r->disposition);
	if (r->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Bearer realm=\"k8s-events\"");
	if (r->status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	security_headers(resp);
	ret = MHD_queue_response(c, (unsigned int) r->status, resp);
	MHD_destroy_response(resp);
	log_request(st, method, url, r->status);
	return ret;
}

static enum MHD_Result
send_error(ServeState *st, struct MHD_Connection *c, const char *method, const char *url,
           int status, const char *error, const char *parameter, const char *detail)
{
	Reply r = {0};

	reply_error(&r, status, error, parameter, detail);
	return send_reply(st, c, method, url, &r);
}

/* ---------------------------------------------------------------- files */

static enum MHD_Result
send_file(ServeState *st, struct MHD_Connection *c, const char *method, const char *url)
{
	const StaticFile    *f = static_files_find(st->files, url);
	struct MHD_Response *resp;
	enum MHD_Result      ret;
	bool                 gz;

	if (f == NULL)
		return send_error(st, c, method, url, 404, "not found", NULL, NULL);
	gz = f->gzip != NULL && accepts_gzip(c);
	resp = MHD_create_response_from_buffer(gz ? f->gzip_len : f->len, gz ? f->gzip : f->data,
	                                       MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, f->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	if (gz)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	security_headers(resp);
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	log_request(st, method, url, 200);
	return ret;
}

/* ---------------------------------------------------------------- login */

static const char login_page[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>k8s-events: sign in</title></head><body>"
    "<h1>k8s-events</h1>%s"
    "<form method=\"post\" action=\"/login\">"
    "<label for=\"token\">Access token</label> "
    "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" "
    "required autofocus> "
    "<button type=\"submit\">Sign in</button></form>"
    "<p>The token is the one in the file given to <code>k8s-events serve "
    "--auth-token-file</code>.</p>"
    "</body></html>\n";

static enum MHD_Result
send_login(ServeState *st, struct MHD_Connection *c, const char *method, int status, bool failed)
{
	Reply r = {0};
	char *page = malloc(sizeof(login_page) + 128);

	snprintf(page, sizeof(login_page) + 128, login_page,
	         failed ? "<p role=\"alert\">That token is not the right one.</p>" : "");
	r.status = status;
	r.body = page;
	r.len = strlen(page);
	r.content_type = "text/html; charset=utf-8";
	return send_reply(st, c, method, "/login", &r);
}

/* The token field of an x-www-form-urlencoded body, unescaped in place. */
static char *
form_token(char *body)
{
	char *save = NULL;

	/* strtok_r: each connection has its own thread. */
	for (char *p = strtok_r(body, "&", &save); p != NULL; p = strtok_r(NULL, "&", &save))
		if (strncmp(p, "token=", 6) == 0)
		{
			char *v = p + 6;

			for (char *q = v; *q; q++)
				if (*q == '+')
					*q = ' ';
			MHD_http_unescape(v);
			return v;
		}
	return NULL;
}

static enum MHD_Result
do_login(ServeState *st, struct MHD_Connection *c, const char *method, Request *req)
{
	char                 id[80];
	char                 cookie[256];
	char                *token;
	struct MHD_Response *resp;
	enum MHD_Result      ret;

	if (req->too_big)
		return send_error(st, c, method, "/login", 413, "the form is too large", NULL, NULL);
	if (!auth_login_allowed(st->auth))
	{
		explicit_bzero(req->body, sizeof(req->body));
		return send_error(st, c, method, "/login", 429, "too many failed sign-ins", NULL,
		                  "try again in a minute");
	}
	req->body[req->len] = '\0';
	token = form_token(req->body);
	if (token == NULL || !auth_token_ok(st->auth, token, strlen(token)))
	{
		explicit_bzero(req->body, sizeof(req->body));
		auth_login_failed(st->auth);
		return send_login(st, c, method, 401, true);
	}
	explicit_bzero(req->body, sizeof(req->body));
	if (!auth_new_session(st->auth, id))
		return send_error(st, c, method, "/login", 500, "no randomness for a session", NULL, NULL);
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s",
	         AUTH_SESSION_COOKIE, id, AUTH_SESSION_HOURS * 3600, st->tls ? "; Secure" : "");
	resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, "/");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	security_headers(resp);
	ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * Without a token, only a request for a loopback name is answered: a web page
 * elsewhere cannot rebind its own name to 127.0.0.1 and read the dashboard
 * (DNS rebinding), since the browser then sends that name as Host.
 */
static bool
loopback_host(const char *host)
{
	char   name[256];
	size_t len;

	if (host == NULL)
		return false;
	if (host[0] == '[')
	{
		const char *end = strchr(host, ']');

		return end != NULL && (size_t) (end - host) == 4 && strncmp(host, "[::1]", 5) == 0 &&
		       (end[1] == '\0' || end[1] == ':');
	}
	len = strcspn(host, ":");
	if (len == 0 || len >= sizeof(name))
		return false;
	memcpy(name, host, len);
	name[len] = '\0';
	if (strcasecmp(name, "localhost") == 0)
		return true;
	{
		struct in_addr a;

		return inet_pton(AF_INET, name, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
	}
}

static bool
authorized(ServeState *st, struct MHD_Connection *c)
{
	if (st->auth == NULL)
		return true;
	return auth_bearer_ok(st->auth, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                                            MHD_HTTP_HEADER_AUTHORIZATION)) ||
	       auth_cookie_ok(st->auth,
	                      MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE));
}

/* ---------------------------------------------------------------- parameters */

typedef struct ArgWalk
{
	Params    *p;
	unsigned   allowed;
	size_t     bytes;
	bool       failed;
	ParamError err;
} ArgWalk;

static enum MHD_Result
each_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
         size_t value_size)
{
	ArgWalk *w = cls;

	(void) kind;
	if (w->failed)
		return MHD_NO;
	if (strlen(key) != key_size)
	{
		w->failed = true;
		w->err.parameter = NULL;
		snprintf(w->err.detail, sizeof(w->err.detail), "a parameter name holds a NUL byte");
		return MHD_NO;
	}
	if (!params_add(w->p, w->allowed, key, value, value ? value_size : 0, &w->bytes, &w->err))
	{
		w->failed = true;
		return MHD_NO;
	}
	return MHD_YES;
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---------------------------------------------------------------- live stream */

typedef struct Stream
{
	ServeState *st;
	uint64_t    last;
	char       *pending;
	size_t      len, pos;
	bool        started;
	bool        missed_before; /* Last-Event-ID older than what is kept */
} Stream;

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	Stream *s = cls;

	(void) pos; /* the stream is read in order */
	while (s->pending == NULL || s->pos == s->len)
	{
		char    *frames;
		bool     missed;
		uint64_t last;

		free(s->pending);
		s->pending = NULL;
		s->pos = s->len = 0;
		if (!s->started)
		{
			/* Reconnect after 2 s; a page told to reset reloads its views. */
			s->started = true;
			s->pending = strdup(s->missed_before ? "retry: 2000\nevent: reset\ndata: {}\n\n"
			                                     : "retry: 2000\n: connected\n\n");
		}
		else if (!live_wait(s->st->live, s->last, STREAM_KEEPALIVE_MS, &frames, &last, &missed))
			return MHD_CONTENT_READER_END_OF_STREAM;
		else if (frames == NULL)
			s->pending = strdup(": keepalive\n\n");
		else
		{
			s->last = last;
			if (missed)
			{
				size_t n = strlen(frames);

				s->pending = malloc(n + 32);
				if (s->pending)
					snprintf(s->pending, n + 32, "event: reset\ndata: {}\n\n%s", frames);
				free(frames);
			}
			else
				s->pending = frames;
		}
		if (s->pending == NULL)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		s->len = strlen(s->pending);
	}
	if (max > s->len - s->pos)
		max = s->len - s->pos;
	memcpy(buf, s->pending + s->pos, max);
	s->pos += max;
	return (ssize_t) max;
}

static void
stream_free(void *cls)
{
	Stream *s = cls;

	live_unsubscribe(s->st->live);
	__atomic_sub_fetch(&s->st->streams, 1, __ATOMIC_SEQ_CST);
	free(s->pending);
	free(s);
}

static enum MHD_Result
open_stream(ServeState *st, struct MHD_Connection *c, const char *method, const char *url)
{
	const char          *last_id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	Stream              *s;
	struct MHD_Response *resp;
	enum MHD_Result      ret;
	uint64_t             newest = live_newest(st->live);

	if (MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0)
		return send_error(st, c, method, url, 400, "bad parameter", NULL,
		                  "the stream takes no parameters (the page filters what it shows)");
	if (__atomic_add_fetch(&st->streams, 1, __ATOMIC_SEQ_CST) > SERVE_MAX_STREAMS)
	{
		__atomic_sub_fetch(&st->streams, 1, __ATOMIC_SEQ_CST);
		return send_error(st, c, method, url, 503, "too many live streams", NULL,
		                  "64 pages are open already");
	}
	s = calloc(1, sizeof(Stream));
	if (s == NULL)
	{
		__atomic_sub_fetch(&st->streams, 1, __ATOMIC_SEQ_CST);
		return MHD_NO;
	}
	s->st = st;
	s->last = newest;
	if (last_id != NULL)
	{
		unsigned int       run;
		unsigned long long n;
		int                used = 0;

		/* "RUN-N" of this run, no later than the newest: what it missed comes next. */
		if (sscanf(last_id, "%8x-%llu%n", &run, &n, &used) == 2 && last_id[used] == '\0' &&
		    run == live_run(st->live) && n <= newest)
		{
			s->last = n;
			s->missed_before = newest > LIVE_RING && n + LIVE_RING < newest;
		}
		else
			s->missed_before = true; /* an id of another run of the server, or none of ours */
	}
	live_subscribe(st->live);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no"); /* nginx: pass each event on */
	security_headers(resp);
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	log_request(st, method, url, 0);
	return ret;
}

/* ---------------------------------------------------------------- routing */

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	ServeState *st = cls;
	bool        get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool        post = strcmp(method, "POST") == 0;

	(void) version;

	/*
	 * The first call only announces a request: answering then would leave a
	 * body unread, and libmicrohttpd would close the connection rather than
	 * keep it for the page's next request.  The login form keeps its body.
	 */
	if (*con_cls == NULL)
	{
		if (post && strcmp(url, "/login") == 0 && st->auth != NULL)
		{
			*con_cls = calloc(1, sizeof(Request));
			return *con_cls != NULL ? MHD_YES : MHD_NO;
		}
		*con_cls = &no_body;
		return MHD_YES;
	}
	if (*con_cls != &no_body)
	{
		Request *req = *con_cls;

		if (*upload_size > 0)
		{
			if (req->len + *upload_size > MAX_LOGIN_BODY)
				req->too_big = true;
			else
			{
				memcpy(req->body + req->len, upload_data, *upload_size);
				req->len += *upload_size;
			}
			*upload_size = 0;
			return MHD_YES;
		}
		return do_login(st, c, method, req);
	}
	if (*upload_size > 0)
	{
		*upload_size = 0; /* a body nothing here reads */
		return MHD_YES;
	}
	if (strlen(url) > 1024)
		return send_error(st, c, method, "(long)", 414, "the path is too long", NULL, NULL);
	if (st->auth == NULL &&
	    !loopback_host(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST)))
		return send_error(
		    st, c, method, url, 421, "not a loopback host name", NULL,
		    "without a token the dashboard answers only to 127.0.0.1, localhost and [::1]");
	if (!get)
	{
		Reply r = {0};

		reply_error(&r, 405, "method not allowed", NULL, "the dashboard only reads: GET");
		return send_reply(st, c, method, url, &r);
	}
	if (strcmp(url, "/login") == 0)
	{
		if (st->auth == NULL)
			return send_error(st, c, method, url, 404, "not found", NULL, "no token is asked for");
		return send_login(st, c, method, 200, false);
	}
	if (!authorized(st, c))
	{
		struct MHD_Response *resp;
		enum MHD_Result      ret;

		if (strncmp(url, "/api/", 5) == 0)
			return send_error(st, c, method, url, 401, "unauthorized", NULL,
			                  "send Authorization: Bearer <token>, or sign in at /login");
		resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, "/login");
		security_headers(resp);
		ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (strcmp(url, "/api/stream") == 0)
		return open_stream(st, c, method, url);
	if (strncmp(url, "/api/", 5) == 0)
	{
		const ApiEndpoint *ep = api_find(url);
		Params             p;
		ArgWalk            w = {0};
		Reply              r = {0};

		if (ep == NULL)
			return send_error(st, c, method, url, 404, "no such endpoint", NULL, NULL);
		params_init(&p);
		w.p = &p;
		w.allowed = api_allowed(ep);
		MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, each_arg, &w);
		if (w.failed || !params_finish(&p, now_us(), api_bounded(ep), &w.err))
			return send_error(st, c, method, url, 400, "bad parameter", w.err.parameter,
			                  w.err.detail);
		api_run(ep, st, &p, &r);
		return send_reply(st, c, method, url, &r);
	}
	if (MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0 &&
	    strcmp(url, "/") != 0 && strcmp(url, "/resource") != 0)
		return send_error(st, c, method, url, 400, "bad parameter", NULL,
		                  "files take no parameters");
	return send_file(st, c, method, url);
}

static void
request_done(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	(void) cls, (void) c, (void) toe;
	if (*con_cls && *con_cls != &no_body)
	{
		explicit_bzero(*con_cls, sizeof(Request));
		free(*con_cls);
		*con_cls = NULL;
	}
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	ServeState *st = cls;

	if (!st->verbose)
		return;
	fprintf(stderr, "k8s-events serve: libmicrohttpd: ");
	vfprintf(stderr, fmt, ap);
}

struct MHD_Daemon *
serve_http_start(ServeState *st, const struct sockaddr *addr, const char *cert_pem,
                 const char *key_pem, int *port, char *err, size_t errlen)
{
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	                     MHD_USE_ERROR_LOG | (addr->sa_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	struct MHD_Daemon          *d;
	const union MHD_DaemonInfo *info;

	if (cert_pem != NULL && !MHD_is_feature_supported(MHD_FEATURE_TLS))
	{
		snprintf(err, errlen, "this libmicrohttpd was built without TLS support");
		return NULL;
	}
	/* A stream sends a keepalive every 15 s, well inside the idle timeout. */
	if (cert_pem)
		d = MHD_start_daemon(
		    flags | MHD_USE_TLS, 0, NULL, NULL, handle, st, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, st,
		    MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 60, MHD_OPTION_CONNECTION_LIMIT,
		    (unsigned int) 256, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) 96,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024, MHD_OPTION_HTTPS_MEM_CERT,
		    cert_pem, MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_END);
	else
		d = MHD_start_daemon(
		    flags, 0, NULL, NULL, handle, st, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, st,
		    MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 60, MHD_OPTION_CONNECTION_LIMIT,
		    (unsigned int) 256, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) 96,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024, MHD_OPTION_END);
	if (d == NULL)
	{
		snprintf(err, errlen,
		         cert_pem
		             ? "cannot listen (address in use, or the certificate and key do not match)"
		             : "cannot listen (address in use?)");
		return NULL;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*port = info ? (int) info->port : 0;
	return d;
}

void
serve_http_stop(struct MHD_Daemon *d)
{
	if (d)
		MHD_stop_daemon(d);
}
