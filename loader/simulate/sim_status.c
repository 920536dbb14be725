/*
 * sim_status.c
 *	  Answers and errors as kube-apiserver sends them.
 *
 * Clients act on what a failure says: the reason and code of its
 * metav1.Status, retryAfterSeconds and Retry-After.  A fake that got these
 * wrong would test a client against errors no real server sends.
 */
#include "sim_http_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *
reason_for(int code)
{
	switch (code)
	{
		case 400:
			return "BadRequest";
		case 401:
			return "Unauthorized";
		case 403:
			return "Forbidden";
		case 404:
			return "NotFound";
		case 405:
			return "MethodNotAllowed";
		case 409:
			return "Conflict";
		case 410:
			return "Expired";
		case 422:
			return "Invalid";
		case 429:
			return "TooManyRequests";
		case 500:
			return "InternalError";
		case 503:
			return "ServiceUnavailable";
		case 504:
			return "Timeout";
		default:
			return "";
	}
}

static const char *
message_for(int code)
{
	switch (code)
	{
		case 401:
			return "Unauthorized";
		case 403:
			return "events is forbidden: User \"system:serviceaccount:k8s-events:watcher\" cannot "
			       "list resource \"events\" in API group \"\" at the cluster scope";
		case 404:
			return "the server could not find the requested resource";
		case 405:
			return "the server does not allow this method on the requested resource";
		case 410:
			return "The resourceVersion for the provided list is too old.";
		case 429:
			return "Too many requests, please try again later.";
		case 500:
			return "Internal error occurred: simulated failure";
		case 503:
			return "the server is currently unable to handle the request";
		case 504:
			return "Timeout: request did not complete within requested timeout - context deadline "
			       "exceeded";
		default:
			return "simulated failure";
	}
}

static bool
retries(int code)
{
	return code == 429 || code == 503 || code == 504;
}

/*
 * A metav1.Status; details_json is the inside of "details" or NULL, when a
 * retryAfterSeconds of retry_after (if > 0) makes the details.
 */
void
sim_status_json(ej_buf *b, int code, const char *reason, const char *message,
                const char *details_json, long retry_after)
{
	ej_puts(b, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
	           "\"message\":");
	ej_string(b, message);
	if (reason[0])
	{
		ej_puts(b, ",\"reason\":");
		ej_string(b, reason);
	}
	if (details_json)
	{
		ej_puts(b, ",\"details\":{");
		ej_puts(b, details_json);
		ej_puts(b, "}");
	}
	else if (retry_after > 0)
	{
		ej_puts(b, ",\"details\":{\"retryAfterSeconds\":");
		ej_u64(b, (uint64_t) retry_after);
		ej_puts(b, "}");
	}
	ej_puts(b, ",\"code\":");
	ej_u64(b, (uint64_t) code);
	ej_puts(b, "}");
}

/* Sends b as the answer; a Retry-After header when retry_after > 0. */
static enum MHD_Result
send_buf_retry(struct MHD_Connection *c, unsigned code, ej_buf *b, const char *ctype,
               long retry_after)
{
	struct MHD_Response *r;
	enum MHD_Result      ret;
	char                 secs[24];

	if (b->data == NULL)
		ej_reserve(b, 1);
	r = MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_MUST_FREE);
	b->data = NULL;
	b->len = b->cap = 0;
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, private");
	if (retry_after > 0)
	{
		snprintf(secs, sizeof(secs), "%ld", retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	sim_note_status((int) code);
	return ret;
}

enum MHD_Result
sim_send_buf(struct MHD_Connection *c, unsigned code, ej_buf *b, const char *ctype)
{
	return send_buf_retry(c, code, b, ctype, retries((int) code) ? 1 : 0);
}

enum MHD_Result
sim_send_status(struct MHD_Connection *c, int code, const char *reason, const char *message,
                const char *details_json)
{
	ej_buf b = {0};

	sim_status_json(&b, code, reason, message, details_json, retries(code) ? 1 : 0);
	return sim_send_buf(c, (unsigned) code, &b, "application/json");
}

enum MHD_Result
sim_send_code(struct MHD_Connection *c, int code)
{
	return sim_send_status(c, code, reason_for(code), message_for(code), NULL);
}

/*
 * An injected failure: a 429, 503 or 504 tells the client to retry after
 * retry_after seconds.  A 403 names the API group of the URL, as RBAC does.
 */
enum MHD_Result
sim_send_fault(struct MHD_Connection *c, const char *url, int code, long retry_after)
{
	ej_buf      b = {0};
	const char *message = message_for(code);

	if (!retries(code))
		retry_after = 0;
	if (code == 403 && strncmp(url, "/apis/events.k8s.io/", 20) == 0)
		message = "events.events.k8s.io is forbidden: User "
		          "\"system:serviceaccount:k8s-events:watcher\" cannot list resource \"events\" in "
		          "API group \"events.k8s.io\" at the cluster scope";
	sim_status_json(&b, code, reason_for(code), message, NULL, retry_after);
	return send_buf_retry(c, (unsigned) code, &b, "application/json", retry_after);
}

enum MHD_Result
sim_bad_request(struct MHD_Connection *c, const char *fmt, ...)
{
	char    msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sim_send_status(c, 400, "BadRequest", msg, NULL);
}
