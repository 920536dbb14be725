/*
 * auth.h
 *	  The dashboard's access token (--auth-token-file) and the login sessions
 *	  made from it.
 *
 * A request is let in by "Authorization: Bearer <token>" (scripts, a reverse
 * proxy) or by the session cookie the login form sets (a browser): an HttpOnly,
 * SameSite=Strict cookie holding a random session id, never the token.
 */
#ifndef K8S_EVENTS_AUTH_H
#define K8S_EVENTS_AUTH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct Auth Auth;

#define AUTH_SESSION_COOKIE "k8s_events_session"
#define AUTH_SESSION_HOURS  12

/*
 * The token from a file that only its owner may read (as ssh wants of a key):
 * one line of 16 to 4096 printable characters.  NULL with the reason in err.
 */
extern Auth *auth_load(const char *path, char *err, size_t errlen);
extern void  auth_free(Auth *auth);

/* Whether an Authorization header value carries the token (compared in constant time). */
extern bool auth_bearer_ok(Auth *auth, const char *authorization);

/* Whether a Cookie header value carries a live session. */
extern bool auth_cookie_ok(Auth *auth, const char *cookie);

/* Whether a submitted token is the token (the login form). */
extern bool auth_token_ok(Auth *auth, const char *token, size_t len);

/* Whether a sign-in may be tried now: no more than 20 failures a minute, from anyone. */
extern bool auth_login_allowed(Auth *auth);
extern void auth_login_failed(Auth *auth);

/* A new session id (64 hex digits) into id[65]; false if no randomness. */
extern bool auth_new_session(Auth *auth, char *id);

#endif
