/*
 * auth.c
 *	  Token and sessions (see auth.h).
 */
#include "serve/auth.h"

#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SESSIONS 256
/* Sign-in failures allowed a minute, from everyone: guessing is slow however many connect. */
#define LOGIN_FAILURES 20
#define SESSION_ID_LEN 64

typedef struct Session
{
	char   id[SESSION_ID_LEN + 1];
	time_t expires;
} Session;

struct Auth
{
	char           *token;
	size_t          token_len;
	pthread_mutex_t lock;
	Session         sessions[MAX_SESSIONS];   /* the oldest is replaced when full */
	time_t          failures[LOGIN_FAILURES]; /* when the last failed sign-ins were, a ring */
	int             next_failure;
};

Auth *
auth_load(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char        buf[4098];
	ssize_t     n;
	size_t      len;
	int         fd = open(path, O_RDONLY | O_CLOEXEC);
	Auth       *auth;

	if (fd < 0 || fstat(fd, &st) != 0)
	{
		snprintf(err, errlen, "cannot read %s: %m", path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0)
	{
		snprintf(err, errlen, "%s must be a file only its owner can read or write (chmod 600 %s)",
		         path, path);
		close(fd);
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
	{
		snprintf(err, errlen, "cannot read %s: %m", path);
		return NULL;
	}
	len = (size_t) n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	if (len < 16 || len > 4096)
	{
		snprintf(err, errlen, "the token in %s must be 16 to 4096 characters (it has %zu)", path,
		         len);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		if (buf[i] < 0x21 || buf[i] > 0x7e)
		{
			snprintf(err, errlen,
			         "the token in %s must be one line of printable ASCII without spaces", path);
			return NULL;
		}
	auth = calloc(1, sizeof(Auth));
	if (auth == NULL || (auth->token = strdup(buf)) == NULL)
	{
		free(auth);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	explicit_bzero(buf, sizeof(buf));
	auth->token_len = len;
	pthread_mutex_init(&auth->lock, NULL);
	return auth;
}

void
auth_free(Auth *auth)
{
	if (auth == NULL)
		return;
	explicit_bzero(auth->token, auth->token_len);
	free(auth->token);
	pthread_mutex_destroy(&auth->lock);
	free(auth);
}

/* Equal in time that depends on the lengths only, not on where they differ. */
static bool
same_secret(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char diff = alen != blen;

	for (size_t i = 0; i < blen; i++)
		diff |= (unsigned char) (a[i % (alen ? alen : 1)] ^ b[i]);
	return diff == 0 && alen == blen;
}

bool
auth_token_ok(Auth *auth, const char *token, size_t len)
{
	return token != NULL && len > 0 && same_secret(token, len, auth->token, auth->token_len);
}

bool
auth_bearer_ok(Auth *auth, const char *authorization)
{
	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
		return false;
	authorization += 7;
	while (*authorization == ' ')
		authorization++;
	return auth_token_ok(auth, authorization, strlen(authorization));
}

bool
auth_cookie_ok(Auth *auth, const char *cookie)
{
	const char *p = cookie;
	size_t      name_len = strlen(AUTH_SESSION_COOKIE);
	time_t      now = time(NULL);
	bool        ok = false;

	/* Cookie: a=b; k8s_events_session=<id>; c=d */
	while (p != NULL && *p)
	{
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, AUTH_SESSION_COOKIE, name_len) == 0 && p[name_len] == '=')
		{
			const char *v = p + name_len + 1;
			size_t      vlen = strcspn(v, ";");

			/* Another site's cookie of the same name may come first: look at each. */
			if (vlen == SESSION_ID_LEN)
			{
				pthread_mutex_lock(&auth->lock);
				for (int i = 0; i < MAX_SESSIONS; i++)
					if (auth->sessions[i].expires > now &&
					    same_secret(auth->sessions[i].id, SESSION_ID_LEN, v, vlen))
						ok = true;
				pthread_mutex_unlock(&auth->lock);
				if (ok)
					return true;
			}
		}
		p = strchr(p, ';');
	}
	return false;
}

bool
auth_new_session(Auth *auth, char *id)
{
	unsigned char raw[SESSION_ID_LEN / 2];
	int           oldest = 0;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t) sizeof(raw))
		return false;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	pthread_mutex_lock(&auth->lock);
	for (int i = 1; i < MAX_SESSIONS; i++)
		if (auth->sessions[i].expires < auth->sessions[oldest].expires)
			oldest = i;
	memcpy(auth->sessions[oldest].id, id, SESSION_ID_LEN + 1);
	auth->sessions[oldest].expires = time(NULL) + AUTH_SESSION_HOURS * 3600;
	pthread_mutex_unlock(&auth->lock);
	return true;
}

bool
auth_login_allowed(Auth *auth)
{
	time_t now = time(NULL);
	bool   allowed;

	pthread_mutex_lock(&auth->lock);
	/* The oldest of the last LOGIN_FAILURES failures is more than a minute ago. */
	allowed = now - auth->failures[auth->next_failure] > 60;
	pthread_mutex_unlock(&auth->lock);
	return allowed;
}

void
auth_login_failed(Auth *auth)
{
	pthread_mutex_lock(&auth->lock);
	auth->failures[auth->next_failure] = time(NULL);
	auth->next_failure = (auth->next_failure + 1) % LOGIN_FAILURES;
	pthread_mutex_unlock(&auth->lock);
}
