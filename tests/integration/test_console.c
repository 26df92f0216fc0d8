/* The console as a plain HTTP client sees it: sign-in with the login CSRF
 * cookie, the session cookie's attributes, and the degraded banner when a
 * configured component (here git, pointed at a missing binary) is down. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct krate_server srv;

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
	char user[64], pass[96], cookie_hdr[512];
	const char *hdrs[2] = { cookie_hdr, NULL };
	char *attrs;

	(void)state;
	harness_demo_credentials(&srv, user, sizeof(user), pass, sizeof(pass));
	harness_sign_in(&srv, user, pass, cookie_hdr, sizeof(cookie_hdr));
	harness_page(&srv, cookie_hdr, "/orgs/demo", 200, &r);
	assert_non_null(strstr(r.body, "id=\"degraded-banner\""));
	assert_non_null(strstr(r.body, "git executable not found"));
	/* the agent gateway is not configured here and must not be named as degraded */
	assert_null(strstr(strstr(r.body, "id=\"degraded-banner\""), "Agent gateway:"));
	http_resp_free(&r);

	/* the top bar's search finds resources by name within the org */
	harness_page(&srv, cookie_hdr, "/orgs/demo/search?q=KRA", 200, &r);
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
}

static void test_cookie_attributes(void **state)
{
	struct http_resp r;
	char user[64], pass[96], body[512], cookie_hdr[512];
	const char *hdrs[3] = { cookie_hdr, "X-Forwarded-Proto: https", NULL };
	char *csrf_cookie, *csrf, *line;
	const char *p;

	(void)state;
	harness_demo_credentials(&srv, user, sizeof(user), pass, sizeof(pass));
	assert_int_equal(http_call(&srv, "GET", "/login", NULL, NULL, NULL, &r), 0);
	csrf_cookie = harness_cookie(&r, "krate_login_csrf");
	csrf = harness_form_csrf(r.body, NULL);
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

	harness_group(&srv, "--demo --git /nonexistent/git", NULL, 0, NULL);
	return cmocka_run_group_tests(tests, harness_group_setup, harness_group_teardown);
}
