/* Web sign-in: console users with Argon2id password hashes, and sessions.
 *
 * Users and sessions live in the store. A session is identified by a random
 * cookie value that is stored only as its SHA-256; it carries the user's
 * role and org binding (the same authorisation as API tokens) and a random
 * per-session CSRF token that every state-changing form must echo.
 * Strings in struct web_session are owned by it (web_session_free). */
#ifndef KRATE_SESSION_H
#define KRATE_SESSION_H

#include <stdint.h>
#include "api/api.h"
#include "core/err.h"
#include "store/store.h"

#define SESSION_COOKIE "krate_session"
#define SESSION_TTL_SECONDS (12 * 3600)
/* Failed sign-ins allowed per username and per client address in the window. */
#define SESSION_MAX_FAILURES 5
#define SESSION_FAILURE_WINDOW 300

struct principal;

struct web_session {
	char *user;
	char *org;          /* NULL: not bound to one org */
	int role;           /* enum role */
	char *csrf;         /* compare with session_csrf_ok() */
	int64_t expires;    /* unix seconds */
};

/* Checks a username and password (or, for session_login_token, an API token)
 * and creates a session. *cookie_value (malloc'd) is the secret for the
 * Set-Cookie header. Every failure is KE_UNAUTHORIZED with the same message,
 * "invalid username or password" (or "invalid token"), whatever was wrong;
 * KE_RATELIMIT after SESSION_MAX_FAILURES failures for the same username or
 * client address within SESSION_FAILURE_WINDOW seconds. Successes and
 * failures are audited (verb "session.create"). */
int session_login_password(struct api *a, const char *user, const char *password, const char *client_addr,
			   char **cookie_value, struct web_session *s, struct kerr *e);
int session_login_token(struct api *a, const char *token, const char *client_addr, char **cookie_value,
			struct web_session *s, struct kerr *e);
/* KE_UNAUTHORIZED when the cookie value is missing, unknown or expired. */
int session_lookup(struct api *a, const char *cookie_value, struct web_session *s, struct kerr *e);
/* Ends the session (verb "session.delete" in the audit log). */
int session_logout(struct api *a, const char *cookie_value, struct kerr *e);
void web_session_free(struct web_session *s);
/* 1 if token equals the session's CSRF token (constant time). */
int session_csrf_ok(const struct web_session *s, const char *token);
/* Fills p (strings copied) from s. */
int session_principal(const struct web_session *s, struct principal *p);

/* Creates a console user; the password is hashed with Argon2id (libsodium).
 * KE_CONFLICT if the name is taken. actor is recorded in the audit log. */
int session_user_create(struct store *st, const char *name, const char *password, int role, const char *org,
			const char *actor, struct kerr *e);

#endif
