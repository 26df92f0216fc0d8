#include "web_internal.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define LOGIN_CSRF_BYTES 32

enum { F_USERNAME, F_PASSWORD, F_TOKEN, F_CSRF, F_NEXT, F_COUNT };

static void login_fields(struct form_field f[F_COUNT])
{
	f[F_USERNAME] = (struct form_field){ "username", 256, NULL, 0 };
	f[F_PASSWORD] = (struct form_field){ "password", 1024, NULL, 0 };
	f[F_TOKEN] = (struct form_field){ "token", 512, NULL, 0 };
	f[F_CSRF] = (struct form_field){ "csrf", 128, NULL, 0 };
	f[F_NEXT] = (struct form_field){ "next", 2048, NULL, 0 };
}

static void set_cookie(struct http_req *r, const char *name, const char *value, const char *path,
		       const char *same_site, long max_age)
{
	struct buf c = BUF_INIT(4096);

	if (!buf_printf(&c, "%s=%s; Path=%s; HttpOnly; SameSite=%s; Max-Age=%ld%s", name, value, path, same_site,
			max_age, web_request_secure(r) ? "; Secure" : ""))
		http_add_header(r, "Set-Cookie", c.data);
	buf_free(&c);
}

/* next as a Location, re-encoded since the form carried it decoded. */
static int redirect_next(struct http_req *r, const char *next)
{
	struct buf loc = BUF_INIT(3 * 2048 + 1);
	int rc;

	if (!web_next_ok(next))
		next = "/orgs";
	rc = path_encode(&loc, next);
	web_redirect(r, rc || !loc.data ? "/orgs" : loc.data);
	buf_free(&loc);
	return 0;
}

static int is_token(const char *s)
{
	size_t i;

	for (i = 0; s && i < 2 * LOGIN_CSRF_BYTES; i++)
		if (!strchr("0123456789abcdef", s[i]) || !s[i])
			return 0;
	return s && s[i] == '\0';
}

/* The sign-in form. A double-submit token goes into a cookie that only
 * /login receives and into the form; a cross-site post cannot read either.
 * A token the browser already holds is reused, so two open sign-in tabs
 * both work. */
static int render_form(struct http_req *r, int status, const char *flash, const char *username,
		       const char *next)
{
	const char *held = http_req_cookie(r, WEB_LOGIN_CSRF_COOKIE);
	char token[2 * LOGIN_CSRF_BYTES + 1];
	struct html h;

	if (is_token(held))
		memcpy(token, held, sizeof(token));
	else if (web_random_token(token, LOGIN_CSRF_BYTES))
		return KE_INTERNAL;
	set_cookie(r, WEB_LOGIN_CSRF_COOKIE, token, "/login", "Strict", SESSION_TTL_SECONDS);
	html_init(&h);
	layout_bare_begin(&h, "Sign in");
	html_raw(&h, "<section class=\"login-card\">\n<h1>Sign in to Krate</h1>\n");
	if (flash) {
		html_raw(&h, "<p class=\"flash error\" role=\"alert\">");
		html_text(&h, flash);
		html_raw(&h, "</p>\n");
	}
	html_raw(&h, "<form id=\"login\" method=\"post\" action=\"/login\">\n"
		     "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(&h, token);
	html_raw(&h, "\">\n");
	if (next && web_next_ok(next)) {
		html_raw(&h, "<input type=\"hidden\" name=\"next\" value=\"");
		html_text(&h, next);
		html_raw(&h, "\">\n");
	}
	html_raw(&h, "<label for=\"login-username\">Username</label>\n"
		     "<input id=\"login-username\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" "
		     "spellcheck=\"false\" value=\"");
	html_text(&h, username);
	html_raw(&h, "\" autofocus>\n<label for=\"login-password\">Password</label>\n"
		     "<input id=\"login-password\" name=\"password\" type=\"password\" autocomplete=\"current-password\">\n"
		     "<p class=\"divider\"><span>or use an API token</span></p>\n"
		     "<label for=\"login-token\">API token</label>\n"
		     "<input id=\"login-token\" name=\"token\" type=\"password\" autocomplete=\"off\" "
		     "placeholder=\"krt_...\">\n"
		     "<button type=\"submit\" class=\"primary wide\">Sign in</button>\n</form>\n"
		     "<p class=\"hint\">Accounts are created with <code>krate user create</code>; "
		     "<code>krate serve --demo</code> prints the demo sign-in.</p>\n</section>\n");
	layout_bare_end(&h, NULL);
	if (h.err) {
		html_free(&h);
		return h.err;
	}
	{
		size_t len;
		char *body = buf_detach(&h.b, &len);

		http_respond_owned(r, status, "text/html; charset=utf-8", body, len);
	}
	return 0;
}

int page_login_get(struct web *w, struct http_req *r)
{
	const char *cookie = http_req_cookie(r, SESSION_COOKIE), *next = http_req_query(r, "next");
	struct web_session s = { 0 };
	struct kerr e = KERR_INIT;
	int live = cookie && session_lookup(w->api, cookie, &s, &e) == 0;

	web_session_free(&s);
	kerr_clear(&e);
	/* Already signed in: go on instead of showing the form again. */
	if (live)
		return redirect_next(r, next);
	return render_form(r, 200, NULL, "", next);
}

static int login_csrf_ok(struct http_req *r, const char *field)
{
	const char *cookie = http_req_cookie(r, WEB_LOGIN_CSRF_COOKIE);
	size_t n = strlen(field);

	return cookie && n == 2 * LOGIN_CSRF_BYTES && strlen(cookie) == n && util_ct_equal(cookie, field, n);
}

int page_login_post(struct web *w, struct http_req *r)
{
	struct form_field f[F_COUNT];
	struct web_session s = { 0 };
	struct kerr e = KERR_INIT;
	char *cookie = NULL;
	const char *body, *next, *token;
	size_t len;
	int rc;

	login_fields(f);
	body = http_req_body(r, &len);
	if (form_parse(body, len, f, F_COUNT, &e)) {
		kerr_clear(&e);
		return render_form(r, 400, "The form could not be read; try again.", "", NULL);
	}
	if (!login_csrf_ok(r, form_value(f, F_COUNT, "csrf"))) {
		rc = web_error_page(r, 403, "CSRF token missing or invalid");
		goto out;
	}
	next = form_value(f, F_COUNT, "next");
	token = form_value(f, F_COUNT, "token");
	if (*token)
		rc = session_login_token(w->api, token, http_req_client_addr(r), &cookie, &s, &e);
	else
		rc = session_login_password(w->api, form_value(f, F_COUNT, "username"),
					    form_value(f, F_COUNT, "password"), http_req_client_addr(r), &cookie, &s,
					    &e);
	if (!rc) {
		set_cookie(r, SESSION_COOKIE, cookie, "/", "Lax", SESSION_TTL_SECONDS);
		set_cookie(r, WEB_LOGIN_CSRF_COOKIE, "", "/login", "Strict", 0);
		rc = redirect_next(r, next);
	} else if (rc == KE_RATELIMIT) {
		rc = render_form(r, 429, "Too many failed sign-ins. Wait a few minutes and try again.",
				 form_value(f, F_COUNT, "username"), next);
	} else if (rc == KE_UNAUTHORIZED || rc == KE_INVALID || rc == KE_NOTFOUND || rc == KE_FORBIDDEN) {
		/* Whatever was wrong, the answer is the same. */
		rc = render_form(r, 401, "Invalid username or password", form_value(f, F_COUNT, "username"), next);
	}
	if (cookie) {
		memset(cookie, 0, strlen(cookie));
		free(cookie);
	}
	web_session_free(&s);
out:
	kerr_clear(&e);
	if (f[F_PASSWORD].value)
		memset(f[F_PASSWORD].value, 0, f[F_PASSWORD].len);
	if (f[F_TOKEN].value)
		memset(f[F_TOKEN].value, 0, f[F_TOKEN].len);
	form_free(f, F_COUNT);
	return rc;
}

int page_logout(struct web *w, struct http_req *r)
{
	struct form_field f[] = { { "csrf", 128, NULL, 0 } };
	const char *cookie = http_req_cookie(r, SESSION_COOKIE), *body;
	struct web_session s = { 0 };
	struct kerr e = KERR_INIT;
	size_t len;
	int rc = 0;

	body = http_req_body(r, &len);
	if (!cookie || session_lookup(w->api, cookie, &s, &e)) {
		/* Nothing to end; just leave. */
		set_cookie(r, SESSION_COOKIE, "", "/", "Lax", 0);
		web_redirect(r, "/login");
		goto out;
	}
	if (form_parse(body, len, f, 1, &e) || !f[0].value || !session_csrf_ok(&s, f[0].value)) {
		web_error_page(r, 403, "CSRF token missing or invalid");
		goto out;
	}
	rc = session_logout(w->api, cookie, &e);
	if (rc)
		goto out;
	set_cookie(r, SESSION_COOKIE, "", "/", "Lax", 0);
	web_redirect(r, "/login");
out:
	kerr_clear(&e);
	web_session_free(&s);
	form_free(f, 1);
	return rc;
}
