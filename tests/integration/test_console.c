/* The console as a plain HTTP client sees it: sign-in with the login CSRF
 * cookie, the session cookie's attributes, and the degraded banner when a
 * configured component (here git, pointed at a missing binary) is down. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct krate_server srv;

static int setup(void **state)
{
	(void)state;
	return harness_start(&srv, "--demo --git /nonexistent/git");
}

static int teardown(void **state)
{
	(void)state;
	return harness_stop(&srv);
}

/* "name=value" of a Set-Cookie header (up to ';'), malloc'd. */
static char *cookie_pair(const struct http_resp *r, const char *name)
{
	const char *p = r->headers;
	size_t n = strlen(name);

	while ((p = strcasestr(p, "Set-Cookie:"))) {
		p += 11;
		while (*p == ' ')
			p++;
		if (!strncmp(p, name, n) && p[n] == '=')
			return strndup(p, strcspn(p, ";\r\n"));
	}
	return NULL;
}

/* The value of the hidden csrf input in an HTML form. */
static char *form_csrf(const char *html)
{
	const char *p = strstr(html, "name=\"csrf\" value=\"");

	if (!p)
		return NULL;
	p += strlen("name=\"csrf\" value=\"");
	return strndup(p, strcspn(p, "\""));
}

static char *sign_in(void)
{
	struct http_resp r;
	char path[300], creds[160], user[64], pass[96], body[512], cookie_hdr[512];
	const char *hdrs[2] = { cookie_hdr, NULL };
	char *csrf_cookie, *csrf, *session, *set_cookie;
	FILE *f;

	snprintf(path, sizeof(path), "%s/demo-credentials", srv.dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(creds, sizeof(creds), f));
	fclose(f);
	assert_int_equal(sscanf(creds, "%63s %95s", user, pass), 2);

	assert_int_equal(http_call(&srv, "GET", "/login", NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	csrf_cookie = cookie_pair(&r, "krate_login_csrf");
	csrf = form_csrf(r.body);
	assert_non_null(csrf_cookie);
	assert_non_null(csrf);
	http_resp_free(&r);

	snprintf(cookie_hdr, sizeof(cookie_hdr), "Cookie: %s", csrf_cookie);
	snprintf(body, sizeof(body), "username=%s&password=%s&csrf=%s", user, pass, csrf);
	assert_int_equal(http_call_hdr(&srv, "POST", "/login", NULL, hdrs, body,
				       "application/x-www-form-urlencoded", &r), 0);
	assert_int_equal(r.status, 303);
	session = cookie_pair(&r, "krate_session");
	assert_non_null(session);
	set_cookie = http_header(&r, "Set-Cookie");
	assert_non_null(set_cookie);
	http_resp_free(&r);
	free(set_cookie);
	free(csrf_cookie);
	free(csrf);
	return session;
}

static void test_readyz_reports_missing_git(void **state)
{
	struct http_resp r;
	json_t *git;

	(void)state;
	assert_int_equal(http_call(&srv, "GET", "/readyz", NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "status")), "degraded");
	git = json_object_get(json_object_get(r.json, "components"), "git");
	assert_string_equal(json_string_value(json_object_get(git, "status")), "degraded");
	assert_true(json_is_true(json_object_get(git, "configured")));
	http_resp_free(&r);
}

static void test_banner_and_session_cookie(void **state)
{
	struct http_resp r;
	char cookie_hdr[512];
	const char *hdrs[2] = { cookie_hdr, NULL };
	char *session = sign_in(), *attrs;

	(void)state;
	snprintf(cookie_hdr, sizeof(cookie_hdr), "Cookie: %s", session);
	assert_int_equal(http_call_hdr(&srv, "GET", "/orgs/demo", NULL, hdrs, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "id=\"degraded-banner\""));
	assert_non_null(strstr(r.body, "git executable not found"));
	/* the agent gateway is not configured here and must not be named as degraded */
	assert_null(strstr(strstr(r.body, "id=\"degraded-banner\""), "Agent gateway:"));
	http_resp_free(&r);

	/* the top bar's search finds resources by name within the org */
	assert_int_equal(http_call_hdr(&srv, "GET", "/orgs/demo/search?q=KRA", NULL, hdrs, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "/orgs/demo/resources/repositories/krate\""));
	assert_null(strstr(r.body, "/orgs/demo/resources/repositories/web\""));
	http_resp_free(&r);

	/* the session cookie works for the API's reads, not for its writes */
	assert_int_equal(http_call_hdr(&srv, "GET", "/api/whoami", NULL, hdrs, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "user")), "demo");
	http_resp_free(&r);
	assert_int_equal(http_call_hdr(&srv, "POST", "/api/orgs", NULL, hdrs, "{\"name\":\"viacookie\"}", NULL, &r), 0);
	assert_int_equal(r.status, 401);
	http_resp_free(&r);

	/* without the cookie the page sends the browser to sign in */
	assert_int_equal(http_call(&srv, "GET", "/orgs/demo", NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 303);
	attrs = http_header(&r, "Location");
	assert_non_null(attrs);
	assert_non_null(strstr(attrs, "/login?next="));
	free(attrs);
	http_resp_free(&r);
	free(session);
}

static void test_cookie_attributes(void **state)
{
	struct http_resp r;
	char path[300], creds[160], user[64], pass[96], body[512], cookie_hdr[512];
	const char *hdrs[3] = { cookie_hdr, "X-Forwarded-Proto: https", NULL };
	char *csrf_cookie, *csrf, *line;
	const char *p;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/demo-credentials", srv.dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(creds, sizeof(creds), f));
	fclose(f);
	assert_int_equal(sscanf(creds, "%63s %95s", user, pass), 2);
	assert_int_equal(http_call(&srv, "GET", "/login", NULL, NULL, NULL, &r), 0);
	csrf_cookie = cookie_pair(&r, "krate_login_csrf");
	csrf = form_csrf(r.body);
	http_resp_free(&r);
	snprintf(cookie_hdr, sizeof(cookie_hdr), "Cookie: %s", csrf_cookie);
	snprintf(body, sizeof(body), "username=%s&password=%s&csrf=%s", user, pass, csrf);
	assert_int_equal(http_call_hdr(&srv, "POST", "/login", NULL, hdrs, body,
				       "application/x-www-form-urlencoded", &r), 0);
	assert_int_equal(r.status, 303);
	p = strcasestr(r.headers, "Set-Cookie: krate_session=");
	assert_non_null(p);
	line = strndup(p, strcspn(p, "\r\n"));
	assert_non_null(strstr(line, "HttpOnly"));
	assert_non_null(strstr(line, "SameSite=Lax"));
	assert_non_null(strstr(line, "Secure"));
	assert_non_null(strstr(line, "Max-Age="));
	free(line);
	http_resp_free(&r);
	free(csrf_cookie);
	free(csrf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readyz_reports_missing_git),
		cmocka_unit_test(test_banner_and_session_cookie),
		cmocka_unit_test(test_cookie_attributes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
