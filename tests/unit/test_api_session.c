/* Console sign-in without HTTP: password and token logins, one message for
 * every wrong guess, rate limits, session lookup, expiry, logout, CSRF checks,
 * console users, and what the audit log records (never a password). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "api/session.h"
#include "core/err.h"
#include "core/util.h"
#include "model/kinds.h"
#include "store/store.h"
#include "store_fixture.h"

#define PW_ANA "ana's long password"
#define PW_BEN "ben-has-a-longer-password"

struct fx {
	struct store_fx st;
	struct api *a;
};

static int setup(void **state)
{
	struct api_options ao = { 0 };
	struct kerr e = KERR_INIT;
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || store_fx_init(&f->st, "api-session"))
		return -1;
	if (store_fx_open(&f->st, NULL, &e))
		goto fail;
	ao.store = f->st.s;
	if (api_create(&ao, &f->a, &e))
		goto fail;
	if (session_user_create(f->st.s, "ana", PW_ANA, ROLE_DEVELOPER, NULL, "system", &e) ||
	    session_user_create(f->st.s, "ben", PW_BEN, ROLE_VIEWER, "acme", "system", &e))
		goto fail;
	*state = f;
	return 0;
fail:
	fprintf(stderr, "setup: %s\n", e.message ? e.message : "?");
	kerr_clear(&e);
	return -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	api_shutdown(f->a);
	api_destroy(f->a);
	store_fx_remove(&f->st);
	free(f);
	return 0;
}

/* Logs in with a password; returns the result, with the message in msg (if given). */
static int login(struct fx *f, const char *user, const char *pw, const char *addr, char **cookie,
		 struct web_session *s, char *msg, size_t msgsize)
{
	struct kerr e = KERR_INIT;
	int rc = session_login_password(f->a, user, pw, addr, cookie, s, &e);

	if (msg)
		snprintf(msg, msgsize, "%s", e.message ? e.message : "");
	kerr_clear(&e);
	return rc;
}

static void test_password_login_and_lookup(void **state)
{
	struct fx *f = *state;
	struct web_session s, s2;
	struct kerr e = KERR_INIT;
	struct principal p;
	char *cookie = NULL;
	int64_t now = util_now_seconds();

	assert_int_equal(login(f, "ana", PW_ANA, "127.0.0.1", &cookie, &s, NULL, 0), 0);
	assert_non_null(cookie);
	assert_memory_equal(cookie, "kss_", 4);
	assert_int_equal(strlen(cookie), 4 + 43);
	assert_string_equal(s.user, "ana");
	assert_null(s.org);
	assert_int_equal(s.role, ROLE_DEVELOPER);
	assert_true(s.csrf && strlen(s.csrf) >= 40);
	assert_true(s.expires >= now + SESSION_TTL_SECONDS && s.expires <= now + SESSION_TTL_SECONDS + 5);

	assert_int_equal(session_lookup(f->a, cookie, &s2, &e), 0);
	assert_string_equal(s2.user, "ana");
	assert_null(s2.org);
	assert_int_equal(s2.role, ROLE_DEVELOPER);
	assert_string_equal(s2.csrf, s.csrf);
	assert_int_equal(s2.expires, s.expires);

	/* the principal carries the user's role and org binding */
	assert_int_equal(session_principal(&s2, &p), 0);
	assert_int_equal(p.authenticated, 1);
	assert_string_equal(p.user, "ana");
	assert_null(p.org);
	assert_int_equal(p.role, ROLE_DEVELOPER);
	api_principal_free(&p);
	web_session_free(&s2);
	web_session_free(&s);
	free(cookie);

	/* an org-bound user's session is bound to that org; every login is a new session */
	assert_int_equal(login(f, "ben", PW_BEN, "127.0.0.1", &cookie, &s, NULL, 0), 0);
	assert_string_equal(s.org, "acme");
	assert_int_equal(s.role, ROLE_VIEWER);
	assert_int_equal(session_principal(&s, &p), 0);
	assert_string_equal(p.org, "acme");
	api_principal_free(&p);
	web_session_free(&s);
	{
		char *again = NULL;

		assert_int_equal(login(f, "ben", PW_BEN, "127.0.0.1", &again, &s, NULL, 0), 0);
		assert_string_not_equal(again, cookie);
		web_session_free(&s);
		free(again);
	}
	free(cookie);
}

static void test_wrong_password_and_unknown_user_look_alike(void **state)
{
	struct fx *f = *state;
	struct web_session s;
	char *cookie = (char *)"x";
	char m1[128], m2[128], m3[128];

	assert_int_equal(login(f, "ana", "not the password", "127.0.0.1", &cookie, &s, m1, sizeof(m1)),
			 KE_UNAUTHORIZED);
	assert_null(cookie);
	assert_null(s.user);
	assert_int_equal(login(f, "nobody", "not the password", "127.0.0.2", &cookie, &s, m2, sizeof(m2)),
			 KE_UNAUTHORIZED);
	assert_int_equal(login(f, "Not A Name!", "", "127.0.0.3", &cookie, &s, m3, sizeof(m3)), KE_UNAUTHORIZED);
	assert_string_equal(m1, "invalid username or password");
	assert_string_equal(m2, m1);
	assert_string_equal(m3, m1);
	/* a user's password does not open another account */
	assert_int_equal(login(f, "ben", PW_ANA, "127.0.0.4", &cookie, &s, NULL, 0), KE_UNAUTHORIZED);
	assert_int_equal(login(f, NULL, NULL, NULL, &cookie, &s, NULL, 0), KE_UNAUTHORIZED);
}

static void test_rate_limit_per_user(void **state)
{
	struct fx *f = *state;
	struct web_session s;
	char *cookie = NULL, msg[128];
	int i;

	for (i = 0; i < SESSION_MAX_FAILURES; i++)
		assert_int_equal(login(f, "ana", "wrong password", "10.0.0.1", &cookie, &s, NULL, 0), KE_UNAUTHORIZED);
	/* now even the right password, from another address, is refused */
	assert_int_equal(login(f, "ana", PW_ANA, "10.0.0.9", &cookie, &s, msg, sizeof(msg)), KE_RATELIMIT);
	assert_string_equal(msg, "too many failed sign-ins; try again in a few minutes");
	assert_null(cookie);
	/* other users are not affected */
	assert_int_equal(login(f, "ben", PW_BEN, "10.0.0.9", &cookie, &s, NULL, 0), 0);
	web_session_free(&s);
	free(cookie);
}

static void test_rate_limit_per_address(void **state)
{
	struct fx *f = *state;
	struct web_session s;
	char *cookie = NULL, name[32];
	int i;

	/* guesses spread over many names still count against the address */
	for (i = 0; i < SESSION_MAX_FAILURES; i++) {
		snprintf(name, sizeof(name), "guess-%d", i);
		assert_int_equal(login(f, name, "whatever", "10.0.0.2", &cookie, &s, NULL, 0), KE_UNAUTHORIZED);
	}
	assert_int_equal(login(f, "ana", PW_ANA, "10.0.0.2", &cookie, &s, NULL, 0), KE_RATELIMIT);
	assert_int_equal(login(f, "ana", PW_ANA, "10.0.0.3", &cookie, &s, NULL, 0), 0);
	web_session_free(&s);
	free(cookie);
}

/* Successful sign-ins are not failures: many of them from one address pass. */
static void test_successes_do_not_count(void **state)
{
	struct fx *f = *state;
	struct web_session s;
	char *cookie = NULL;
	int i;

	for (i = 0; i < SESSION_MAX_FAILURES + 2; i++) {
		assert_int_equal(login(f, "ana", PW_ANA, "10.0.0.4", &cookie, &s, NULL, 0), 0);
		web_session_free(&s);
		free(cookie);
	}
}

static void test_token_login(void **state)
{
	struct fx *f = *state;
	struct web_session s;
	struct kerr e = KERR_INIT;
	char *secret = NULL, *cookie = NULL, *padded;

	assert_int_equal(api_token_create(f->st.s, "carla", "acme", ROLE_ADMIN, "system", &secret, NULL, &e), 0);
	assert_int_equal(session_login_token(f->a, secret, "127.0.0.1", &cookie, &s, &e), 0);
	assert_string_equal(s.user, "carla");
	assert_string_equal(s.org, "acme");
	assert_int_equal(s.role, ROLE_ADMIN);
	web_session_free(&s);
	free(cookie);

	/* pasted with white space around it */
	padded = malloc(strlen(secret) + 4);
	assert_non_null(padded);
	sprintf(padded, " %s\r\n", secret);
	assert_int_equal(session_login_token(f->a, padded, "127.0.0.1", &cookie, &s, &e), 0);
	web_session_free(&s);
	free(cookie);
	free(padded);

	assert_int_equal(session_login_token(f->a, "krt_not-a-token", "127.0.0.1", &cookie, &s, &e), KE_UNAUTHORIZED);
	assert_string_equal(e.message, "invalid token");
	assert_null(cookie);
	assert_int_equal(session_login_token(f->a, PW_ANA, "127.0.0.1", &cookie, &s, &e), KE_UNAUTHORIZED);
	assert_string_equal(e.message, "invalid token");
	assert_int_equal(session_login_token(f->a, "", "127.0.0.1", &cookie, &s, &e), KE_UNAUTHORIZED);
	kerr_clear(&e);
	free(secret);
}

static void test_lookup_rejects_unknown_and_expired(void **state)
{
	struct fx *f = *state;
	struct web_session s;
	struct kerr e = KERR_INIT;
	struct session_info si = { "ana", NULL, "csrf", ROLE_ADMIN, 0 };
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	const char *expired = "kss_expired-session-cookie-value";
	char hash[65];

	assert_int_equal(session_lookup(f->a, NULL, &s, &e), KE_UNAUTHORIZED);
	assert_int_equal(session_lookup(f->a, "", &s, &e), KE_UNAUTHORIZED);
	assert_int_equal(session_lookup(f->a, "kss_", &s, &e), KE_UNAUTHORIZED);
	assert_int_equal(session_lookup(f->a, "krt_something", &s, &e), KE_UNAUTHORIZED);
	assert_int_equal(session_lookup(f->a, "kss_unknown-but-well-formed", &s, &e), KE_UNAUTHORIZED);
	assert_null(s.user);

	/* a session whose time is up no longer signs anyone in */
	util_sha256_hex(hash, expired, strlen(expired));
	si.expires = util_now_seconds() - 1;
	op.type = STORE_OP_SESSION;
	op.session = &si;
	op.session_hash = hash;
	b.ops = &op;
	b.n = 1;
	b.audit.actor = "test";
	b.audit.verb = "session.create";
	b.audit.resource = "Session";
	assert_int_equal(store_write(f->st.s, &b), 0);
	kerr_clear(&b.err);
	assert_int_equal(session_lookup(f->a, expired, &s, &e), KE_UNAUTHORIZED);
	assert_null(s.user);
	kerr_clear(&e);
}

static void test_logout(void **state)
{
	struct fx *f = *state;
	struct web_session s;
	struct kerr e = KERR_INIT;
	char *cookie = NULL;

	assert_int_equal(login(f, "ana", PW_ANA, "127.0.0.1", &cookie, &s, NULL, 0), 0);
	web_session_free(&s);
	assert_int_equal(session_logout(f->a, cookie, &e), 0);
	assert_int_equal(session_lookup(f->a, cookie, &s, &e), KE_UNAUTHORIZED);
	/* ending it again, or something that was never a session, is harmless */
	assert_int_equal(session_logout(f->a, cookie, &e), 0);
	assert_int_equal(session_logout(f->a, "not-a-cookie", &e), KE_UNAUTHORIZED);
	kerr_clear(&e);
	free(cookie);
}

static void test_csrf(void **state)
{
	struct web_session s = { 0 };
	char *token;

	(void)state;
	s.csrf = strdup("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
	token = strdup(s.csrf);
	assert_int_equal(session_csrf_ok(&s, token), 1);
	token[10] ^= 1;
	assert_int_equal(session_csrf_ok(&s, token), 0);
	assert_int_equal(session_csrf_ok(&s, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF"), 0);
	assert_int_equal(session_csrf_ok(&s, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"), 0);
	assert_int_equal(session_csrf_ok(&s, ""), 0);
	assert_int_equal(session_csrf_ok(&s, NULL), 0);
	assert_int_equal(session_csrf_ok(NULL, token), 0);
	free(token);
	web_session_free(&s);
	assert_int_equal(session_csrf_ok(&s, ""), 0);
}

static void test_user_create_rules(void **state)
{
	struct fx *f = *state;
	struct kerr e = KERR_INIT;

	assert_int_equal(session_user_create(f->st.s, "ana", "another long password", ROLE_ADMIN, NULL, "root", &e),
			 KE_CONFLICT);
	kerr_clear(&e);
	assert_int_equal(session_user_create(f->st.s, "dora", "short", ROLE_ADMIN, NULL, "root", &e), KE_UNPROCESSABLE);
	assert_non_null(strstr(e.message, "12 characters"));
	/* twelve characters, even when they take more bytes */
	assert_int_equal(session_user_create(f->st.s, "dora", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", ROLE_ADMIN,
					     NULL, "root", &e), KE_UNPROCESSABLE);
	assert_int_equal(session_user_create(f->st.s, "Dora", "a long enough password", ROLE_ADMIN, NULL, "root", &e),
			 KE_UNPROCESSABLE);
	assert_int_equal(session_user_create(f->st.s, "dora", "a long enough password", ROLE_NONE, NULL, "root", &e),
			 KE_UNPROCESSABLE);
	assert_int_equal(session_user_create(f->st.s, "dora", NULL, ROLE_ADMIN, NULL, "root", &e), KE_UNPROCESSABLE);
	assert_int_equal(session_user_create(f->st.s, "dora", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
					     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", ROLE_ADMIN, NULL, "root", &e), 0);
	kerr_clear(&e);
	assert_null(session_password_problem("exactly-12ch"));
	assert_non_null(session_password_problem("only-11-chr"));
}

/* Every attempt is in the audit log with its outcome, and no password is. */
static void test_audit(void **state)
{
	struct fx *f = *state;
	struct web_session s;
	struct kerr e = KERR_INIT;
	char *cookie = NULL, *text;
	json_t *all, *row;
	size_t i;
	int allowed = 0, denied = 0, limited = 0, deleted = 0;

	assert_int_equal(login(f, "ana", PW_ANA, "10.1.1.1", &cookie, &s, NULL, 0), 0);
	web_session_free(&s);
	assert_int_equal(session_logout(f->a, cookie, &e), 0);
	free(cookie);
	for (i = 0; i < SESSION_MAX_FAILURES; i++)
		login(f, "ben", "guess-" PW_BEN, "10.1.1.2", &cookie, &s, NULL, 0);
	assert_int_equal(login(f, "ben", PW_BEN, "10.1.1.2", &cookie, &s, NULL, 0), KE_RATELIMIT);
	/* someone typing a password into the name field */
	login(f, PW_BEN, PW_BEN, "10.1.1.3", &cookie, &s, NULL, 0);

	assert_int_equal(store_audit_list(f->st.s, NULL, 0, 0, &all, &e), 0);
	text = json_dumps(all, 0);
	assert_non_null(text);
	assert_null(strstr(text, PW_ANA));
	assert_null(strstr(text, PW_BEN));
	assert_null(strstr(text, "kss_"));
	free(text);
	json_array_foreach(all, i, row) {
		const char *verb = json_string_value(json_object_get(row, "verb"));
		const char *result = json_string_value(json_object_get(row, "result"));
		const char *actor = json_string_value(json_object_get(row, "actor"));
		const char *res = json_string_value(json_object_get(row, "resource"));

		if (!strcmp(verb, "session.create") && !strcmp(result, "allowed")) {
			allowed++;
			assert_string_equal(actor, "ana");
			assert_non_null(strstr(res, "10.1.1.1"));
		} else if (!strcmp(verb, "session.create") && !strcmp(result, "denied:UNAUTHENTICATED")) {
			denied++;
			assert_string_equal(actor, "anonymous");
		} else if (!strcmp(verb, "session.create") && !strcmp(result, "denied:RATE_LIMITED")) {
			limited++;
			assert_non_null(strstr(res, "user ben"));
		} else if (!strcmp(verb, "session.delete")) {
			deleted++;
			assert_string_equal(actor, "ana");
			assert_string_equal(result, "allowed");
		}
	}
	assert_int_equal(allowed, 1);
	assert_int_equal(denied, SESSION_MAX_FAILURES + 1);
	assert_int_equal(limited, 1);
	assert_int_equal(deleted, 1);
	json_decref(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_password_login_and_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password_and_unknown_user_look_alike, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_per_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_per_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_successes_do_not_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_rejects_unknown_and_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_create_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
