/*
 * http_stream.c
 *	  libcurl's multi interface, one request at a time, waited for by the host.
 *
 * curl tells us which sockets it wants watched (CURLMOPT_SOCKETFUNCTION) and
 * when it wants to be called back (CURLMOPT_TIMERFUNCTION); each pump hands
 * exactly those to the host's wait function, so the host's own wake-ups
 * (signals, its latch) end a wait however silent the server is.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core_memory.h"
#include "http_stream.h"
#include "monotonic.h"

#define Min(a, b) ((a) < (b) ? (a) : (b))

/*
 * The last HttpPollFd.id handed out, in this process.  Ids only need to
 * differ between sockets; 64 bits never wrap.
 */
static uint64_t last_socket_id;

static int
socket_changed(CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
	HttpStream *s = arg;
	int         i;

	(void) easy;
	(void) socketp;
	for (i = 0; i < s->nsockets && s->sockets[i] != fd; i++)
		;
	if (what == CURL_POLL_REMOVE)
	{
		if (i < s->nsockets)
		{
			s->sockets[i] = s->sockets[s->nsockets - 1];
			s->socket_what[i] = s->socket_what[s->nsockets - 1];
			s->socket_id[i] = s->socket_id[s->nsockets - 1];
			s->nsockets--;
		}
		return 0;
	}
	if (i == s->nsockets)
	{
		if (s->nsockets == HTTP_MAX_SOCKETS)
			return -1; /* one request never needs this many */
		s->socket_id[i] = ++last_socket_id;
		s->nsockets++;
	}
	s->sockets[i] = fd;
	s->socket_what[i] = what;
	return 0;
}

/*
 * Kept as a deadline: the host's wake-ups between pumps must not push it
 * back.  timeout_ms 0 means "call me as soon as possible"; -1 removes it.
 */
static int
timer_changed(CURLM *multi, long timeout_ms, void *arg)
{
	(void) multi;
	((HttpStream *) arg)->timer_at = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
	return 0;
}

/* A host name as kubeconfig's tls-server-name may give it: DNS labels, nothing else. */
static bool
is_host_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 253 || name[0] == '.' || name[0] == '-')
		return false;
	for (const char *c = name; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '.'))
			return false;
	return true;
}

/*
 * kubeconfig's tls-server-name: the name the server's certificate is checked
 * against (and sent as SNI) in place of the URL's host.  curl takes both from
 * the URL's host, so the URL asked for names the server by tls_server_name
 * and CURLOPT_CONNECT_TO ("name::host:port") sends its connection to the
 * URL's real address.  The rewritten URL goes in *url_out (curl_free it).
 * False with err set when the URL cannot be taken apart, or the name is no
 * host name.
 */
static bool
aim_at_server_name(HttpStream *s, const char *url, const char *tls_server_name, char **url_out,
                   char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char  *host = NULL, *port = NULL;
	bool   ok = false;

	*url_out = NULL;
	if (!is_host_name(tls_server_name))
		snprintf(err, errlen, "tls-server-name \"%.100s\" is not a host name", tls_server_name);
	else if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	         curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	         curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	         curl_url_set(u, CURLUPART_HOST, tls_server_name, 0) == CURLUE_OK &&
	         curl_url_get(u, CURLUPART_URL, url_out, 0) == CURLUE_OK)
	{
		/* An IPv6 host comes back in brackets, as CONNECT_TO wants it. */
		size_t len = strlen(tls_server_name) + strlen(host) + strlen(port) + 4;
		char  *entry = core_alloc(s->allocator, len);

		if (entry != NULL)
		{
			snprintf(entry, len, "%s::%s:%s", tls_server_name, host, port);
			s->connect_to = curl_slist_append(NULL, entry);
			core_free(s->allocator, entry);
		}
		ok = s->connect_to != NULL;
		if (!ok)
			snprintf(err, errlen, "out of memory");
	}
	else
		snprintf(err, errlen, "cannot take the API server URL apart for tls-server-name");
	if (!ok)
	{
		curl_free(*url_out);
		*url_out = NULL;
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

/* Abort the transfer from a callback, saying why in place of curl's message. */
static size_t
abort_transfer(HttpStream *s, const char *why)
{
	snprintf(s->abort_reason, sizeof(s->abort_reason), "%s", why);
	return 0; /* fewer bytes than given: curl ends the transfer with CURLE_WRITE_ERROR */
}

static bool
collect_body(HttpStream *s, const char *data, size_t len)
{
	if (len > s->max_body - s->body_len)
		return false;
	if (s->body_len + len + 1 > s->body_cap)
	{
		size_t cap = s->body_cap == 0 ? 65536 : s->body_cap;
		char  *grown;

		while (cap < s->body_len + len + 1)
			cap *= 2;
		grown = core_realloc(s->allocator, s->body, s->body_cap, cap);
		if (grown == NULL)
			return false;
		s->body = grown;
		s->body_cap = cap;
	}
	memcpy(s->body + s->body_len, data, len);
	s->body_len += len;
	s->body[s->body_len] = '\0';
	return true;
}

/* Does a Content-Type header say JSON ("application/json", "...+json", any parameters)? */
static bool
is_json_type(const char *type)
{
	for (const char *c = type; c[0] != '\0' && c[0] != ';'; c++)
		if (strncasecmp(c, "json", 4) == 0)
			return true;
	return false;
}

/*
 * A 200 that is not JSON is nobody's Events: a proxy's login page, say.  Its
 * lines must not become rejects, nor its bytes a page that "is not JSON":
 * say what came instead.  No Content-Type at all is let through.
 */
static bool
check_content_type(HttpStream *s, const char *data, size_t len)
{
	char  *type = NULL;
	char   start[61];
	char   why[sizeof(s->abort_reason)];
	size_t n = 0;

	if (curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &type) != CURLE_OK || type == NULL ||
	    is_json_type(type))
		return true;
	/* The body's first bytes, as printable ASCII: they often say who answered. */
	for (size_t i = 0; i < len && n < sizeof(start) - 1; i++)
		start[n++] = data[i] >= 0x20 && data[i] < 0x7f ? data[i] : ' ';
	start[n] = '\0';
	snprintf(why, sizeof(why),
	         "HTTP 200 with Content-Type \"%.60s\", not JSON (a proxy's page?): %s", type, start);
	abort_transfer(s, why);
	return false;
}

static size_t
body_received(char *data, size_t size, size_t nmemb, void *arg)
{
	HttpStream *s = arg;
	size_t      len = size * nmemb;

	s->last_data = monotonic_ms();
	if (s->status == 0 &&
	    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status) != CURLE_OK)
		return abort_transfer(s, "cannot read the response's status");
	if (s->status == 200 && !s->type_checked)
	{
		s->type_checked = true;
		if (!check_content_type(s, data, len))
			return 0;
	}
	/* An error's Status object is not a watch frame or a list page. */
	if (s->status != 200)
	{
		size_t room = sizeof(s->error_body) - 1 - s->error_len;

		memcpy(s->error_body + s->error_len, data, Min(len, room));
		s->error_len += Min(len, room);
		s->error_body[s->error_len] = '\0';
		return len;
	}
	if (s->on_data == NULL)
	{
		char why[96];

		if (collect_body(s, data, len))
			return len;
		if (s->body_len + len > s->max_body)
			snprintf(why, sizeof(why), "the response is larger than %zu bytes", s->max_body);
		else
			snprintf(why, sizeof(why), "out of memory for a response of %zu bytes",
			         s->body_len + len);
		return abort_transfer(s, why);
	}
	switch (s->on_data(s->arg, data, len))
	{
		case HTTP_DATA_TAKEN:
			return len;
		case HTTP_DATA_PAUSE:
			s->paused = true;
			return CURL_WRITEFUNC_PAUSE;
		case HTTP_DATA_ABORT:
			break;
	}
	return 0; /* makes curl abort the transfer; the caller knows why */
}

/* Hand curl PEM bytes; it copies them. */
static CURLcode
set_blob(CURL *easy, CURLoption option, const unsigned char *data, size_t len)
{
	struct curl_blob blob = {(void *) data, len, CURL_BLOB_COPY};

	return curl_easy_setopt(easy, option, &blob);
}

/* Every option must take: a silently ignored CA file would be a silently unverified server. */
#define SET_OPTION(option, value)                                                                  \
	do                                                                                             \
	{                                                                                              \
		CURLcode rc_ = curl_easy_setopt(s->easy, option, value);                                   \
		if (rc_ != CURLE_OK)                                                                       \
		{                                                                                          \
			snprintf(err, errlen, "cannot set curl's " #option ": %s", curl_easy_strerror(rc_));   \
			goto fail;                                                                             \
		}                                                                                          \
	} while (0)

#define SET_BLOB(option, data, len)                                                                \
	do                                                                                             \
	{                                                                                              \
		CURLcode rc_ = set_blob(s->easy, option, data, len);                                       \
		if (rc_ != CURLE_OK)                                                                       \
		{                                                                                          \
			snprintf(err, errlen, "cannot set curl's " #option ": %s", curl_easy_strerror(rc_));   \
			goto fail;                                                                             \
		}                                                                                          \
	} while (0)

#define SET_MULTI(option, value)                                                                   \
	do                                                                                             \
	{                                                                                              \
		CURLMcode rc_ = curl_multi_setopt(s->multi, option, value);                                \
		if (rc_ != CURLM_OK)                                                                       \
		{                                                                                          \
			snprintf(err, errlen, "cannot set curl's " #option ": %s", curl_multi_strerror(rc_));  \
			goto fail;                                                                             \
		}                                                                                          \
	} while (0)

/* Append "Authorization: Bearer <token>"; our copy is wiped whatever happens. */
static bool
add_bearer(HttpStream *s, const char *token)
{
	static const char  prefix[] = "Authorization: Bearer ";
	size_t             len = sizeof(prefix) + strlen(token);
	char              *header = core_alloc(s->allocator, len);
	struct curl_slist *list;

	if (header == NULL)
		return false;
	snprintf(header, len, "%s%s", prefix, token);
	list = curl_slist_append(s->headers, header);
	core_free_secret(s->allocator, header);
	if (list == NULL)
		return false;
	s->headers = list;
	return true;
}

bool
http_stream_start(HttpStream *s, const HttpEndpoint *endpoint, const char *path,
                  HttpDataCallback on_data, void *arg, const CoreAllocator *allocator, char *err,
                  size_t errlen)
{
	size_t    url_len = strlen(endpoint->api_server) + strlen(path) + 1;
	char     *url;
	CURLMcode mrc;

	memset(s, 0, sizeof(*s));
	s->allocator = allocator;
	s->on_data = on_data;
	s->arg = arg;
	s->timer_at = -1;
	s->retry_after = -1;
	s->max_body = HTTP_MAX_BODY;
	s->last_data = monotonic_ms();
	s->multi = curl_multi_init();
	s->easy = curl_easy_init();
	if (s->multi == NULL || s->easy == NULL)
	{
		snprintf(err, errlen, "could not initialise libcurl");
		goto fail;
	}
	s->headers = curl_slist_append(NULL, "Accept: application/json");
	if (s->headers == NULL || (endpoint->token != NULL && !add_bearer(s, endpoint->token)))
	{
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	url = core_alloc(allocator, url_len);
	if (url == NULL)
	{
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	snprintf(url, url_len, "%s%s", endpoint->api_server, path);
	{
		char    *named = NULL;
		CURLcode rc;

		if (endpoint->tls_server_name != NULL &&
		    !aim_at_server_name(s, url, endpoint->tls_server_name, &named, err, errlen))
		{
			core_free(allocator, url);
			goto fail;
		}
		rc = curl_easy_setopt(s->easy, CURLOPT_URL, named != NULL ? named : url); /* copied */
		curl_free(named);
		core_free(allocator, url);
		if (rc != CURLE_OK)
		{
			snprintf(err, errlen, "invalid API server URL \"%.200s\": %s", endpoint->api_server,
			         curl_easy_strerror(rc));
			goto fail;
		}
	}
	SET_OPTION(CURLOPT_HTTPHEADER, s->headers);
	SET_OPTION(CURLOPT_WRITEFUNCTION, body_received);
	SET_OPTION(CURLOPT_WRITEDATA, s);
	SET_OPTION(CURLOPT_ERRORBUFFER, s->curl_error);
	SET_OPTION(CURLOPT_NOSIGNAL, 1L);
	SET_OPTION(CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	SET_OPTION(CURLOPT_PROTOCOLS_STR, "http,https");
	SET_OPTION(CURLOPT_ACCEPT_ENCODING, ""); /* gzip when offered */
	SET_OPTION(CURLOPT_USERAGENT, "k8s_events/1.0");
	if (endpoint->ca_file != NULL)
		SET_OPTION(CURLOPT_CAINFO, endpoint->ca_file);
	else if (endpoint->ca_data != NULL)
		SET_BLOB(CURLOPT_CAINFO_BLOB, endpoint->ca_data, endpoint->ca_len);
	if (endpoint->client_cert_file != NULL)
		SET_OPTION(CURLOPT_SSLCERT, endpoint->client_cert_file);
	else if (endpoint->client_cert_data != NULL)
		SET_BLOB(CURLOPT_SSLCERT_BLOB, endpoint->client_cert_data, endpoint->client_cert_len);
	if (endpoint->client_key_file != NULL)
		SET_OPTION(CURLOPT_SSLKEY, endpoint->client_key_file);
	else if (endpoint->client_key_data != NULL)
		SET_BLOB(CURLOPT_SSLKEY_BLOB, endpoint->client_key_data, endpoint->client_key_len);
	if (endpoint->proxy_url != NULL)
		SET_OPTION(CURLOPT_PROXY, endpoint->proxy_url);
	if (s->connect_to != NULL)
		SET_OPTION(CURLOPT_CONNECT_TO, s->connect_to);
	if (endpoint->insecure_skip_tls_verify)
	{
		SET_OPTION(CURLOPT_SSL_VERIFYPEER, 0L);
		SET_OPTION(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	SET_MULTI(CURLMOPT_SOCKETFUNCTION, socket_changed);
	SET_MULTI(CURLMOPT_SOCKETDATA, s);
	SET_MULTI(CURLMOPT_TIMERFUNCTION, timer_changed);
	SET_MULTI(CURLMOPT_TIMERDATA, s);
	mrc = curl_multi_add_handle(s->multi, s->easy);
	if (mrc != CURLM_OK)
	{
		snprintf(err, errlen, "cannot start the request: %s", curl_multi_strerror(mrc));
		goto fail;
	}
	return true;

fail:
	http_stream_cleanup(s);
	return false;
}

/* The transfer is over without a usable status; say why. */
static void
fail_transfer(HttpStream *s, const char *what, CURLMcode rc)
{
	snprintf(s->curl_error, sizeof(s->curl_error), "%s: %s", what, curl_multi_strerror(rc));
	s->status = 0;
	s->done = true;
}

/* Note a finished transfer. */
static void
collect_done(HttpStream *s)
{
	CURLMsg *msg;
	int      pending;

	while ((msg = curl_multi_info_read(s->multi, &pending)) != NULL)
	{
		if (msg->msg != CURLMSG_DONE)
			continue;
		s->done = true;
		if (curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status) != CURLE_OK)
			s->status = 0;
		if (curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &s->retry_after) != CURLE_OK)
			s->retry_after = -1;
		if (s->abort_reason[0] != '\0')
		{
			/* Our own abort: what arrived is unusable whatever the status said. */
			snprintf(s->curl_error, sizeof(s->curl_error), "%s", s->abort_reason);
			s->status = 0;
			continue;
		}
		if (msg->data.result != CURLE_OK && s->curl_error[0] == '\0')
			snprintf(s->curl_error, sizeof(s->curl_error), "%s",
			         curl_easy_strerror(msg->data.result));
		/*
		 * curl takes an answer without an HTTP/1 status line for HTTP/0.9 and
		 * refuses it.  A server that speaks only HTTP/2 in clear text (h2c
		 * with prior knowledge) answers our HTTP/1.1 request that way, as does
		 * a port that is not HTTP at all: say so, rather than "HTTP/0.9".
		 */
		if (msg->data.result == CURLE_UNSUPPORTED_PROTOCOL && strstr(s->curl_error, "HTTP/0.9"))
			snprintf(s->curl_error, sizeof(s->curl_error),
			         "the answer is not HTTP/1.x: a server that speaks only HTTP/2 without TLS "
			         "(h2c), or no HTTP at all? HTTP/2 is used over https:// when the server "
			         "offers it");
		/* A write error is the data callback stopping us: the status still stands. */
		if (msg->data.result != CURLE_OK && msg->data.result != CURLE_WRITE_ERROR)
			s->status = 0;
	}
}

HttpProgress
http_stream_pump(HttpStream *s, long max_wait_ms, HttpWaitFn wait, void *arg)
{
	HttpPollFd fds[HTTP_MAX_SOCKETS];
	int        nfds = 0;
	long       timeout = max_wait_ms < 0 ? 0 : max_wait_ms;
	int        running;
	CURLMcode  rc;

	if (s->done)
		return HTTP_DONE;
	if (s->timer_at >= 0)
	{
		int64_t left = s->timer_at - monotonic_ms();

		timeout = Min(timeout, left < 0 ? 0 : (long) left);
	}
	for (int i = 0; i < s->nsockets; i++)
	{
		if ((s->socket_what[i] & (CURL_POLL_IN | CURL_POLL_OUT)) == 0)
			continue;
		memset(&fds[nfds], 0, sizeof(fds[nfds]));
		fds[nfds].fd = (int) s->sockets[i];
		fds[nfds].id = s->socket_id[i];
		fds[nfds].want_read = (s->socket_what[i] & CURL_POLL_IN) != 0;
		fds[nfds].want_write = (s->socket_what[i] & CURL_POLL_OUT) != 0;
		nfds++;
	}
	if (!wait(arg, fds, nfds, timeout))
		return HTTP_STOPPED;

	for (int i = 0; i < nfds && !s->done; i++)
	{
		int mask =
		    (fds[i].readable ? CURL_CSELECT_IN : 0) | (fds[i].writable ? CURL_CSELECT_OUT : 0);

		if (mask == 0)
			continue;
		rc = curl_multi_socket_action(s->multi, fds[i].fd, mask, &running);
		if (rc != CURLM_OK)
			fail_transfer(s, "curl_multi_socket_action", rc);
	}
	/*
	 * curl's timer may have expired while we served sockets or were woken.
	 * It is one-shot: clear it before telling curl, which sets a new one from
	 * inside the call if it still wants one.  Kept after firing, an expired
	 * deadline made every later wait a zero one: a busy loop for the life of
	 * a silent watch.
	 */
	if (!s->done && s->timer_at >= 0 && s->timer_at <= monotonic_ms())
	{
		s->timer_at = -1;
		rc = curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		if (rc != CURLM_OK)
			fail_transfer(s, "curl_multi_socket_action", rc);
	}
	/* Known as soon as the headers are in: a silent watch is still a working one. */
	if (!s->done && s->status == 0)
	{
		long code = 0;

		if (curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
			s->status = code;
	}
	collect_done(s);
	return s->done ? HTTP_DONE : HTTP_RUNNING;
}

void
http_stream_resume(HttpStream *s)
{
	CURLcode rc;

	if (!s->paused || s->done)
		return;
	s->paused = false;
	/* Held by us, not silent: the stall clock starts again. */
	s->last_data = monotonic_ms();
	rc = curl_easy_pause(s->easy, CURLPAUSE_CONT);
	/*
	 * The transfer is over: on_data ended it (an ERROR frame, which its caller
	 * knows of), or curl failed.  The status stays the response's.
	 */
	if (rc != CURLE_OK)
	{
		snprintf(s->curl_error, sizeof(s->curl_error), "curl_easy_pause: %s",
		         curl_easy_strerror(rc));
		s->done = true;
	}
}

void
http_stream_cleanup(HttpStream *s)
{
	/* Failures while tearing down leave nothing to do: the handles are gone either way. */
	if (s->multi != NULL && s->easy != NULL)
		(void) curl_multi_remove_handle(s->multi, s->easy);
	if (s->easy != NULL)
		curl_easy_cleanup(s->easy);
	if (s->multi != NULL)
		(void) curl_multi_cleanup(s->multi);
	/* curl is done with the list now; its copy of the Authorization header goes too. */
	for (struct curl_slist *h = s->headers; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(s->headers);
	curl_slist_free_all(s->connect_to);
	core_free(s->allocator, s->body);
	s->body = NULL;
	s->body_len = s->body_cap = 0;
	s->connect_to = NULL;
	s->headers = NULL;
	s->easy = NULL;
	s->multi = NULL;
}
