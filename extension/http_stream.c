/*
 * http_stream.c
 *	  libcurl's multi interface under a background worker's latch.
 *
 * curl tells us which sockets it wants watched (CURLMOPT_SOCKETFUNCTION) and
 * when it wants to be called back (CURLMOPT_TIMERFUNCTION); each pump waits on
 * exactly those plus the process latch and postmaster death, so SIGTERM and
 * SIGHUP are noticed within one wait however silent the API server is.
 * curl allocates with malloc; a worker that errors out exits, which frees it.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/timestamp.h"
#include "storage/latch.h"
#include "utils/wait_event.h"

#include "http_stream.h"
#include "settings.h"

static int
socket_changed(CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
	HttpStream *s = arg;
	int         i;

	for (i = 0; i < s->nsockets && s->sockets[i] != fd; i++)
		;
	if (what == CURL_POLL_REMOVE)
	{
		if (i < s->nsockets)
		{
			s->sockets[i] = s->sockets[s->nsockets - 1];
			s->socket_what[i] = s->socket_what[s->nsockets - 1];
			s->nsockets--;
		}
		return 0;
	}
	if (i == s->nsockets)
	{
		if (s->nsockets == lengthof(s->sockets))
			return -1; /* one request never needs this many */
		s->nsockets++;
	}
	s->sockets[i] = fd;
	s->socket_what[i] = what;
	return 0;
}

/* Kept as a deadline: latch wake-ups between pumps must not push it back. */
static int
timer_changed(CURLM *multi, long timeout_ms, void *arg)
{
	((HttpStream *) arg)->timer_at =
	    timeout_ms < 0 ? 0 : TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	return 0;
}

/* Hand curl PEM bytes; it copies them. */
static void
set_blob(CURL *easy, CURLoption option, const unsigned char *data, size_t len)
{
	struct curl_blob blob = {(void *) data, len, CURL_BLOB_COPY};

	curl_easy_setopt(easy, option, &blob);
}

/*
 * "name::host:port" for CURLOPT_CONNECT_TO, so a request to https://name:port/
 * goes to the server's real address (kubeconfig's tls-server-name).
 */
static struct curl_slist *
connect_to_for(const char *api_server, const char *tls_server_name)
{
	CURLU             *url = curl_url();
	char              *host = NULL, *port = NULL;
	struct curl_slist *list = NULL;

	if (curl_url_set(url, CURLUPART_URL, api_server, 0) == CURLUE_OK &&
	    curl_url_get(url, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
	{
		char *entry = psprintf("%s::%s:%s", tls_server_name, host, port);

		list = curl_slist_append(NULL, entry);
		pfree(entry);
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(url);
	return list;
}

static size_t
body_received(char *data, size_t size, size_t nmemb, void *arg)
{
	HttpStream *s = arg;

	size_t len = size * nmemb;

	if (s->status == 0)
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
	/* An error's Status object is not a watch frame or a list page. */
	if (s->status != 200)
	{
		size_t room = sizeof(s->error_body) - 1 - s->error_len;

		memcpy(s->error_body + s->error_len, data, Min(len, room));
		s->error_len += Min(len, room);
		s->error_body[s->error_len] = '\0';
		return len;
	}
	if (!s->on_data(s->arg, data, len))
		return 0; /* makes curl abort the transfer */
	return len;
}

bool
http_stream_start(HttpStream *s, const HttpEndpoint *endpoint, const char *path,
                  HttpDataCallback on_data, void *arg, char *err, size_t errlen)
{
	char *url = psprintf("%s%s", endpoint->api_server, path);

	memset(s, 0, sizeof(*s));
	s->on_data = on_data;
	s->arg = arg;
	s->timer_at = 0;
	s->retry_after = -1;
	s->multi = curl_multi_init();
	s->easy = curl_easy_init();
	if (s->multi == NULL || s->easy == NULL)
	{
		snprintf(err, errlen, "could not initialise libcurl");
		http_stream_cleanup(s);
		return false;
	}
	s->headers = curl_slist_append(NULL, "Accept: application/json");
	if (endpoint->token != NULL)
	{
		char *header = psprintf("Authorization: Bearer %s", endpoint->token);

		s->headers = curl_slist_append(s->headers, header);
		/* The token must not linger in memory longer than curl needs it. */
		explicit_bzero(header, strlen(header));
		pfree(header);
	}
	curl_easy_setopt(s->easy, CURLOPT_URL, url);
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, body_received);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->curl_error);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->easy, CURLOPT_ACCEPT_ENCODING, ""); /* gzip when offered */
	curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "k8s_events/1.0");
	/*
	 * A stalled connection is noticed: nothing for watch_stall_timeout.  API
	 * servers send a bookmark about every minute, so a healthy watch is never
	 * that quiet.
	 */
	curl_easy_setopt(s->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(s->easy, CURLOPT_LOW_SPEED_TIME, (long) k8s_events_watch_stall_timeout_s);
	if (endpoint->ca_file != NULL)
		curl_easy_setopt(s->easy, CURLOPT_CAINFO, endpoint->ca_file);
	else if (endpoint->ca_data != NULL)
		set_blob(s->easy, CURLOPT_CAINFO_BLOB, endpoint->ca_data, endpoint->ca_len);
	if (endpoint->client_cert_file != NULL)
		curl_easy_setopt(s->easy, CURLOPT_SSLCERT, endpoint->client_cert_file);
	else if (endpoint->client_cert_data != NULL)
		set_blob(s->easy, CURLOPT_SSLCERT_BLOB, endpoint->client_cert_data,
		         endpoint->client_cert_len);
	if (endpoint->client_key_file != NULL)
		curl_easy_setopt(s->easy, CURLOPT_SSLKEY, endpoint->client_key_file);
	else if (endpoint->client_key_data != NULL)
		set_blob(s->easy, CURLOPT_SSLKEY_BLOB, endpoint->client_key_data, endpoint->client_key_len);
	if (endpoint->proxy_url != NULL)
		curl_easy_setopt(s->easy, CURLOPT_PROXY, endpoint->proxy_url);
	if (endpoint->tls_server_name != NULL)
	{
		/*
		 * curl has no SNI override; connect to the URL's address but present
		 * and verify the given name by resolving it there.
		 */
		s->resolve = connect_to_for(endpoint->api_server, endpoint->tls_server_name);
		if (s->resolve != NULL)
			curl_easy_setopt(s->easy, CURLOPT_CONNECT_TO, s->resolve);
	}
	if (endpoint->insecure_skip_tls_verify)
	{
		curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, socket_changed);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, timer_changed);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	curl_multi_add_handle(s->multi, s->easy);
	pfree(url);
	return true;
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
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
		curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &s->retry_after);
		if (msg->data.result != CURLE_OK && s->curl_error[0] == '\0')
			strlcpy(s->curl_error, curl_easy_strerror(msg->data.result), sizeof(s->curl_error));
		if (msg->data.result != CURLE_OK && msg->data.result != CURLE_WRITE_ERROR)
			s->status = 0; /* the transfer failed; what status we saw does not count */
	}
}

HttpProgress
http_stream_pump(HttpStream *s, long max_wait_ms)
{
	WaitEventSet *set;
	WaitEvent     events[lengthof(s->sockets) + 2];
	long          timeout = max_wait_ms;
	int           n, running;

	if (s->done)
		return HTTP_DONE;
	if (s->timer_at != 0)
	{
		long        secs;
		int         usecs;
		TimestampTz now = GetCurrentTimestamp();

		TimestampDifference(now, s->timer_at, &secs, &usecs);
		timeout = Min(timeout, s->timer_at <= now ? 0 : secs * 1000 + (usecs + 999) / 1000);
	}

	set = CreateWaitEventSet(CurrentMemoryContext, lengthof(s->sockets) + 2);
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < s->nsockets; i++)
	{
		uint32 what = 0;

		if (s->socket_what[i] & CURL_POLL_IN)
			what |= WL_SOCKET_READABLE;
		if (s->socket_what[i] & CURL_POLL_OUT)
			what |= WL_SOCKET_WRITEABLE;
		if (what != 0)
			AddWaitEventToSet(set, what, s->sockets[i], NULL, NULL);
	}
	n = WaitEventSetWait(set, timeout, events, lengthof(events), PG_WAIT_EXTENSION);
	FreeWaitEventSet(set);

	for (int i = 0; i < n; i++)
	{
		int mask = 0;

		if (events[i].events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			continue;
		}
		if (events[i].events & WL_SOCKET_READABLE)
			mask |= CURL_CSELECT_IN;
		if (events[i].events & WL_SOCKET_WRITEABLE)
			mask |= CURL_CSELECT_OUT;
		curl_multi_socket_action(s->multi, events[i].fd, mask, &running);
	}
	/* curl's timer may have expired while we served sockets or were woken. */
	if (s->timer_at != 0 && s->timer_at <= GetCurrentTimestamp())
		curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect_done(s);
	return s->done ? HTTP_DONE : HTTP_RUNNING;
}

void
http_stream_cleanup(HttpStream *s)
{
	if (s->multi != NULL && s->easy != NULL)
		curl_multi_remove_handle(s->multi, s->easy);
	if (s->easy != NULL)
		curl_easy_cleanup(s->easy);
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	if (s->headers != NULL)
		curl_slist_free_all(s->headers);
	if (s->resolve != NULL)
		curl_slist_free_all(s->resolve);
	s->resolve = NULL;
	s->easy = NULL;
	s->multi = NULL;
	s->headers = NULL;
}
