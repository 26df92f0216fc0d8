#include "web_internal.h"
#include "assets.h"
#include "core/util.h"
#include "http/metrics.h"
#include "model/admission.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Repository pages take paths of any depth (tree/{ref}/{path...}). */
#define PATH_SEGMENTS 64
#define PATH_MAX_LEN 4096

int web_create(struct api *api, struct web **out, struct kerr *e)
{
	struct web *w = calloc(1, sizeof(*w));

	if (!w)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	w->api = api;
	*out = w;
	return 0;
}

void web_destroy(struct web *w)
{
	free(w);
}

int web_owns_path(const char *path)
{
	if (!path)
		return 0;
	if (!strncmp(path, "/api", 4) && (path[4] == '\0' || path[4] == '/'))
		return 0;
	return strcmp(path, "/healthz") && strcmp(path, "/readyz") && strcmp(path, "/metrics");
}

/* ---- responses ---- */

/* Pages load only their own stylesheet and script, and never render in a frame. */
static void security_headers(struct http_req *r)
{
	http_add_header(r, "Content-Security-Policy",
			"default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; "
			"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
			"frame-ancestors 'none'");
	http_add_header(r, "X-Content-Type-Options", "nosniff");
	http_add_header(r, "X-Frame-Options", "DENY");
	http_add_header(r, "Referrer-Policy", "same-origin");
}

static int send_html(struct http_req *r, struct html *h, int status)
{
	size_t len;
	char *body = buf_detach(&h->b, &len);

	if (!body)
		return http_respond_copy(r, 500, "text/plain; charset=utf-8", "Something went wrong\n", 21);
	return http_respond_owned(r, status, "text/html; charset=utf-8", body, len);
}

static const char *status_title(int status)
{
	switch (status) {
	case 403: return "Forbidden";
	case 404: return "Page not found";
	case 405: return "Method not allowed";
	}
	return "Something went wrong";
}

static const char *status_message(int status)
{
	switch (status) {
	case 403: return "You do not have access to this page.";
	case 404: return "There is nothing at this address, or you cannot see it.";
	case 405: return "This page does not accept that kind of request.";
	case 503: return "Krate is not ready to answer right now. Try again in a moment.";
	}
	return "The request could not be completed. Try again; if it keeps failing, "
	       "give the correlation id below to an administrator.";
}

int web_error_page(struct http_req *r, int status, const char *message)
{
	struct html h;
	const char *title = status_title(status);

	html_init(&h);
	layout_bare_begin(&h, title);
	html_raw(&h, "<section class=\"error-page\"><h1>");
	html_text(&h, title);
	html_raw(&h, "</h1><p class=\"lead\">");
	html_text(&h, message ? message : status_message(status));
	html_raw(&h, "</p><p><a class=\"button\" href=\"/orgs\">Back to organizations</a></p></section>");
	layout_bare_end(&h, http_req_correlation_id(r));
	if (h.err) {
		html_free(&h);
		return http_respond_copy(r, 500, "text/plain; charset=utf-8", "Something went wrong\n", 21);
	}
	send_html(r, &h, status);
	return 0;
}

int page_send(struct page *pg, struct html *h, int status)
{
	if (h->err) {
		html_free(h);
		return web_error_page(pg->r, 500, NULL);
	}
	send_html(pg->r, h, status);
	return 0;
}

int web_redirect(struct http_req *r, const char *location)
{
	http_add_header(r, "Location", location);
	http_respond_copy(r, 303, "text/plain; charset=utf-8", "", 0);
	return 0;
}

int web_request_secure(struct http_req *r)
{
	const char *p = http_req_header(r, "X-Forwarded-Proto");

	return p && !strncasecmp(p, "https", 5) && (p[5] == '\0' || p[5] == ',' || p[5] == ' ');
}

int web_random_token(char *out, size_t n)
{
	unsigned char raw[32];

	if (n > sizeof(raw) || util_random_bytes(raw, n))
		return KE_INTERNAL;
	util_hex(out, raw, n);
	return 0;
}

int web_check_csrf(struct page *pg, const struct form_field *f, size_t nf)
{
	const char *token = form_value(f, nf, "csrf");

	if (*token && session_csrf_ok(&pg->s, token))
		return 0;
	web_error_page(pg->r, 403, "CSRF token missing or invalid");
	return 1;
}

/* ---- static files ---- */

static int serve_static(struct http_req *r, const char *name)
{
	size_t i, n;
	const char *type;

	for (i = 0; i < web_assets_count; i++) {
		if (strcmp(web_assets[i].name, name))
			continue;
		n = strlen(name);
		if (n > 4 && !strcmp(name + n - 4, ".css"))
			type = "text/css; charset=utf-8";
		else if (n > 3 && !strcmp(name + n - 3, ".js"))
			type = "text/javascript; charset=utf-8";
		else if (n > 4 && !strcmp(name + n - 4, ".svg"))
			type = "image/svg+xml";
		else
			type = "application/octet-stream";
		http_respond_copy(r, 200, type, (const char *)web_assets[i].data, web_assets[i].len);
		return 0;
	}
	return web_error_page(r, 404, NULL);
}

/* ---- routing ---- */

/* Splits a copy of path at '/' into segs; -1 for empty segments ("//", a
 * trailing "/") or too many. */
static int split_path(struct buf *copy, const char *path, const char **segs)
{
	char *p;
	int n = 0;

	if (path[0] != '/' || buf_addstr(copy, path))
		return -1;
	if (!strcmp(path, "/"))
		return 0;
	p = copy->data;
	while (*p == '/') {
		*p++ = '\0';
		if (!*p || *p == '/' || n == PATH_SEGMENTS)
			return -1;
		segs[n++] = p;
		while (*p && *p != '/')
			p++;
	}
	return n;
}

static int redirect_to_login(struct http_req *r, const char *path)
{
	struct buf loc = BUF_INIT(PATH_MAX_LEN * 3 + 64);

	buf_addstr(&loc, "/login");
	if (strcmp(path, "/") && web_next_ok(path) && !buf_addstr(&loc, "?next=") &&
	    url_encode(&loc, path, strlen(path))) {
		buf_reset(&loc);
		buf_addstr(&loc, "/login");
	}
	web_redirect(r, loc.data ? loc.data : "/login");
	buf_free(&loc);
	return 0;
}

enum method { M_GET, M_POST, M_OTHER };

static int method_not_allowed(struct http_req *r, const char *allow)
{
	http_add_header(r, "Allow", allow);
	return web_error_page(r, 405, NULL);
}

/* Routes /orgs/{org}/... once the org is known to be visible. */
static int route_org(struct page *pg, const char **seg, int n, enum method m)
{
	const char *what = n > 2 ? seg[2] : NULL;

	if (n == 2)
		return m == M_GET ? page_org_home(pg) : method_not_allowed(pg->r, "GET, HEAD");
	if (!strcmp(what, "repos") && n >= 5 && (!strcmp(seg[4], "pulls") || !strcmp(seg[4], "issues"))) {
		if (m == M_OTHER)
			return method_not_allowed(pg->r, "GET, HEAD, POST");
		return seg[4][0] == 'p' ? page_pulls_route(pg, seg, n, m == M_POST)
					: page_issues_route(pg, seg, n, m == M_POST);
	}
	if (!strcmp(what, "repos"))
		return m == M_GET ? page_repo_route(pg, seg, n) : method_not_allowed(pg->r, "GET, HEAD");
	if (!strcmp(what, "agents") && n >= 4) {
		if (m == M_OTHER)
			return method_not_allowed(pg->r, "GET, HEAD, POST");
		return page_agents_route(pg, seg, n, m == M_POST);
	}
	/* object names are DNS labels (admission), so anything else cannot exist;
	 * checking here also bounds every name the pages format */
	if (n >= 5 && !util_dns_label(seg[4]))
		return KE_NOTFOUND;
	if (!strcmp(what, "resources")) {
		if (n == 6 && (!strcmp(seg[5], "edit") || !strcmp(seg[5], "delete"))) {
			if (m == M_OTHER)
				return method_not_allowed(pg->r, "GET, HEAD, POST");
			return seg[5][0] == 'e' ? page_edit(pg, seg[3], seg[4], m == M_POST)
						: page_delete(pg, seg[3], seg[4], m == M_POST);
		}
		if (n == 6 && !strcmp(seg[5], "redeliver"))
			return m == M_POST ? page_redeliver(pg, seg[3], seg[4]) : method_not_allowed(pg->r, "POST");
		if (n > 5)
			return KE_NOTFOUND;
		if (m != M_GET)
			return method_not_allowed(pg->r, "GET, HEAD");
		if (n == 3)
			return page_kinds(pg);
		return n == 4 ? page_list(pg, seg[3]) : page_detail(pg, seg[3], seg[4]);
	}
	if (n != 3)
		return KE_NOTFOUND;
	if (!strcmp(what, "new"))
		return m == M_OTHER ? method_not_allowed(pg->r, "GET, HEAD, POST") : page_new(pg, m == M_POST);
	if (m != M_GET)
		return method_not_allowed(pg->r, "GET, HEAD");
	if (!strcmp(what, "search"))
		return page_search(pg);
	return page_section(pg, what);
}

static int route(struct page *pg, const char *path, enum method m)
{
	struct buf copy = BUF_INIT(PATH_MAX_LEN);
	const char *seg[PATH_SEGMENTS];
	struct kerr e = KERR_INIT;
	int n = split_path(&copy, path, seg), rc;

	if (n == 0) {
		rc = web_redirect(pg->r, "/orgs");
	} else if (n < 0 && m == M_GET && strlen(path) > 1 && path[strlen(path) - 1] == '/' &&
		   path[strlen(path) - 2] != '/') {
		/* "/orgs/demo/" is "/orgs/demo" */
		buf_reset(&copy);
		if (path_encode(&copy, path) == 0) {
			copy.data[--copy.len] = '\0';
			rc = web_redirect(pg->r, copy.data);
		} else {
			rc = KE_NOTFOUND;
		}
	} else if (n < 0 || strcmp(seg[0], "orgs")) {
		rc = KE_NOTFOUND;
	} else if (n == 1) {
		rc = m == M_GET ? page_orgs(pg) : method_not_allowed(pg->r, "GET, HEAD");
	} else if (api_org_check(pg->w->api, &pg->p, seg[1], &e) ||
		   admission_org_namespace(seg[1], pg->ns, sizeof(pg->ns))) {
		/* Unknown and invisible orgs look the same, as in the API. */
		rc = e.kcode == KE_NOTFOUND || !e.kcode ? KE_NOTFOUND : e.kcode;
	} else {
		pg->org = seg[1];
		rc = route_org(pg, seg, n, m);
	}
	kerr_clear(&e);
	buf_free(&copy);
	return rc;
}

/* The auth gate: every other page needs a live session. */
static int handle_signed_in(struct web *w, struct http_req *r, const char *path, enum method m)
{
	const char *cookie = http_req_cookie(r, SESSION_COOKIE);
	struct kerr e = KERR_INIT;
	struct page pg;
	int rc;

	memset(&pg, 0, sizeof(pg));
	pg.w = w;
	pg.r = r;
	rc = cookie ? session_lookup(w->api, cookie, &pg.s, &e) : KE_UNAUTHORIZED;
	kerr_clear(&e);
	if (rc == KE_UNAUTHORIZED)
		rc = redirect_to_login(r, path);
	else if (!rc && session_principal(&pg.s, &pg.p))
		rc = KE_NOMEM;
	else if (!rc)
		rc = route(&pg, path, m);
	web_session_free(&pg.s);
	api_principal_free(&pg.p);
	return rc;
}

int web_handle(struct http_req *r, void *arg)
{
	struct web *w = arg;
	const char *path = http_req_path(r), *method = http_req_method(r);
	enum method m = M_OTHER;
	int rc;

	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		m = M_GET;
	else if (!strcmp(method, "POST"))
		m = M_POST;
	security_headers(r);
	http_req_set_route(r, METRICS_ROUTE_CONSOLE);
	if (!strncmp(path, "/static/", 8))
		rc = m == M_GET ? serve_static(r, path + 8) : method_not_allowed(r, "GET, HEAD");
	else if (!strcmp(path, "/favicon.ico"))
		/* browsers ask for it unprompted; it must not bounce to the sign-in page */
		rc = m == M_GET ? serve_static(r, "favicon.svg") : method_not_allowed(r, "GET, HEAD");
	else if (!strcmp(path, "/login"))
		rc = m == M_GET ? page_login_get(w, r)
		     : m == M_POST ? page_login_post(w, r) : method_not_allowed(r, "GET, HEAD, POST");
	else if (!strcmp(path, "/logout"))
		rc = m == M_POST ? page_logout(w, r) : method_not_allowed(r, "POST");
	else
		rc = handle_signed_in(w, r, path, m);
	if (rc < 0)
		web_error_page(r, rc == KE_NOTFOUND ? 404 : rc == KE_FORBIDDEN ? 403 : rc == KE_UNAVAILABLE ? 503 : 500,
			       NULL);
	return HTTP_DONE;
}
