/* Shared between the console's files; not part of the public API.
 *
 * Pages write HTML into a struct html, a struct buf with a sticky error, so a
 * page is a straight run of appends checked once at the end. Every value
 * from the store or the request goes through html_text() (or html_url() for
 * URL parts); html_raw() and html_fmt() take trusted markup and numbers only. */
#ifndef KRATE_WEB_INTERNAL_H
#define KRATE_WEB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "api/api_internal.h"
#include "api/session.h"
#include "core/buf.h"
#include "core/err.h"
#include "http/server.h"
#include "web/web.h"

/* A page of HTML is at most this large (a detail page with a big object). */
#define WEB_PAGE_MAX (8u * 1024u * 1024u)
#define WEB_LOGIN_CSRF_COOKIE "krate_login_csrf"

struct web {
	struct api *api;
};

/* ---- html.c: pure helpers (unit-tested) ---- */

/* Appends s[0..n) escaped for HTML text and attribute values: & < > " ' become
 * entities; invalid UTF-8 and control characters other than tab, newline and
 * carriage return become U+FFFD. 0 or KE_NOMEM / KE_TOOBIG. */
int html_escape(struct buf *b, const char *s, size_t n);
/* Appends s[0..n) percent-encoded for a URL path segment or query value:
 * everything but A-Z a-z 0-9 - . _ ~ is encoded, so the result is also safe
 * inside an HTML attribute. */
int url_encode(struct buf *b, const char *s, size_t n);
/* As url_encode but keeps '/': a decoded path made fit for a Location header. */
int path_encode(struct buf *b, const char *s);

/* One wanted field of an application/x-www-form-urlencoded body. value is
 * malloc'd (NULL when the field was absent); the first occurrence wins. */
struct form_field {
	const char *name;
	size_t max;          /* longest accepted decoded value in bytes */
	char *value;
	size_t len;
};

/* Form bodies with more pairs than this are refused. */
#define FORM_MAX_PAIRS 64

/* Decodes body into the wanted fields ('+' is a space, %XX a byte; a '%' not
 * followed by two hex digits stays literal, as browsers do). Unknown fields
 * are ignored. KE_TOOBIG when a wanted value exceeds its max, KE_INVALID for
 * a NUL byte in a value or more than FORM_MAX_PAIRS pairs; values are then
 * all freed. */
int form_parse(const char *body, size_t len, struct form_field *f, size_t nf, struct kerr *e);
void form_free(struct form_field *f, size_t nf);
/* The value of field name ("" when absent). */
const char *form_value(const struct form_field *f, size_t nf, const char *name);

/* 1 if next is a safe place to go after sign-in: a local path starting with
 * one "/" (not "//" or "/\"), without control characters, at most 2048 bytes. */
int web_next_ok(const char *next);
/* Seconds since the epoch of an RFC 3339 UTC time ("2026-11-25T08:00:00Z",
 * optional fraction); -1 if s is not one. */
int64_t web_parse_time(const char *s);
/* A short age for a duration in seconds: "42s", "5m", "3h", "12d", "2y". */
void web_age(char out[16], int64_t seconds);
/* 1 if list (comma-separated "Kind/ns/name" items, spaces allowed around
 * commas) names exactly id. */
int web_resource_listed(const char *list, const char *id);

/* ---- html.c: the page builder ---- */
struct html {
	struct buf b;
	int err;             /* first error of any append; later appends do nothing */
};

void html_init(struct html *h);
void html_free(struct html *h);
void html_raw(struct html *h, const char *markup);
/* Trusted format strings and numbers only; never an untrusted %s. */
void html_fmt(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void html_text(struct html *h, const char *s);
void html_textn(struct html *h, const char *s, size_t n);
void html_url(struct html *h, const char *s);

/* ---- web.c: request context and responses ---- */

/* One signed-in console request. */
struct page {
	struct web *w;
	struct http_req *r;
	struct web_session s;
	struct principal p;
	const char *org;      /* the {org} of /orgs/{org}/..., checked visible; else NULL */
	char ns[96];          /* the org's namespace */
};

/* Sends h (or a 500 page if building it failed) and frees it. Returns 0. */
int page_send(struct page *pg, struct html *h, int status);
/* 303 See Other to location (a local path built by the caller). Returns 0. */
int web_redirect(struct http_req *r, const char *location);
/* An error page for status (404, 403, 405, 500...) with an optional message. Returns 0. */
int web_error_page(struct http_req *r, int status, const char *message);
/* "; Secure" is added to cookies when the request came over TLS. */
int web_request_secure(struct http_req *r);
/* Random hex token of 2*n characters into out (size >= 2n+1). */
int web_random_token(char *out, size_t n);

/* ---- layout.c ---- */
struct crumb {
	const char *label;   /* plain text */
	const char *href;    /* already URL-safe, or NULL for the current page */
};

/* The document head, top bar, sidebar (when pg->org is set), breadcrumbs and
 * degraded banner, up to the opening of <main>. nav is the data-nav of the
 * current section or NULL. */
void layout_begin(struct page *pg, struct html *h, const char *title, const char *nav,
		  const struct crumb *crumbs, size_t ncrumbs);
void layout_end(struct html *h);
/* A minimal page for sign-in and errors (brand only, no navigation). */
void layout_bare_begin(struct html *h, const char *title);
void layout_bare_end(struct html *h, const char *correlation_id);

/* Readiness as /readyz computes it. configured = 0 for components that are
 * not part of this server (they never raise the degraded banner). */


/* ---- shared rendering (page_resources.c) ---- */
/* A table of objects (JSON texts) with live updates; id may be NULL (then
 * class only). watch is the watch URL or NULL when a parent element watches. */
void render_object_rows(struct page *pg, struct html *h, const struct kind_def *kd, char **items,
			const size_t *lens, size_t n);
void render_list_block(struct page *pg, struct html *h, const struct kind_def *kd, const char *id,
		       char **items, const size_t *lens, size_t n, int64_t rv, int watch);
/* "/orgs/{org}/resources/{plural}[/{name}]" into b (URL-encoded). */
void web_object_href(struct buf *b, const char *org, const struct kind_def *kd, const char *name);
/* Phase badge markup for a status.phase (nothing when NULL). */
void render_phase(struct html *h, const char *phase);
/* <time> with an age for an RFC 3339 timestamp. */
void render_age(struct html *h, const char *ts);

/* ---- page_sections.c: the navigation's sections ---- */
struct section {
	const char *slug;            /* data-nav value and URL segment */
	const char *label;
	const char *group;           /* "Ship", "Manage", "Agents", "Observe" */
	const char *const *kinds;    /* NULL-terminated kinds listed, or NULL (a special page) */
	const char *blurb;           /* one line under the heading */
	const char *href;            /* where the navigation links under /orgs/{org}/; NULL: the slug */
};
extern const struct section web_sections[];
extern const size_t web_sections_count;
/* The slug of the section that lists kind, or NULL. */
const char *web_section_of(const char *kind);

/* ---- pages (each returns 0 after responding, or a negative KE_* without
 * having responded; the dispatcher then answers the matching error page) ---- */
int page_login_get(struct web *w, struct http_req *r);
int page_login_post(struct web *w, struct http_req *r);
int page_logout(struct web *w, struct http_req *r);
int page_orgs(struct page *pg);
int page_org_home(struct page *pg);
int page_kinds(struct page *pg);
int page_list(struct page *pg, const char *kind);
int page_detail(struct page *pg, const char *kind, const char *name);
int page_edit(struct page *pg, const char *kind, const char *name, int post);
int page_delete(struct page *pg, const char *kind, const char *name, int post);
/* page_webhooks.c: POST .../webhookdeliveries/{name}/redeliver, then to the new delivery. */
int page_redeliver(struct page *pg, const char *kind, const char *name);
/* The Redeliver form for a delivery's detail page (href: the delivery's page). */
void render_redeliver_button(struct page *pg, struct html *h, const char *href);
int page_new(struct page *pg, int post);
int page_search(struct page *pg);
/* KE_NOTFOUND if section is not a navigation section. */
int page_section(struct page *pg, const char *section);

/* /orgs/{org}/repos[/{repo}[/...]] (GET): seg and n as the router split the
 * path, seg[2] being "repos" (page_repo.c). */
int page_repo_route(struct page *pg, const char *const *seg, int n);
/* /orgs/{org}/repos/{repo}/pulls[/...] and .../issues[/...]: GET pages and
 * POST forms (post 1); seg and n as for page_repo_route (page_pulls.c,
 * page_issues.c). */
int page_pulls_route(struct page *pg, const char *const *seg, int n, int post);
int page_issues_route(struct page *pg, const char *const *seg, int n, int post);
/* /orgs/{org}/agents/{stacks|grants|runs|approvals}[/...]: GET pages and
 * POST forms (post 1); seg and n as the router split the path, seg[2] being
 * "agents" and n >= 4 (page_agents*.c). */
int page_agents_route(struct page *pg, const char *const *seg, int n, int post);

/* ---- diff_html.c ---- */
/* Renders a unified diff (git's patch text, as GET .../commits/{sha} gives it
 * in "patch") as HTML into out. Per file, in patch order from 0: a
 * div.diff-file#diff-<i> with a header (path, old path for renames, status,
 * +/- counts) and a table.diff whose rows are tr.diff-hunk (the "@@" line),
 * tr.diff-add, tr.diff-del, tr.diff-ctx and tr.diff-meta ("\ No newline...").
 * Every row after the file's first hunk header has id "diff-<i>-L<n>" and a
 * link to it, n counting from 1 as GitHub's review "position" does (later
 * hunk headers take a number too). Old and new line numbers are shown. All
 * text is escaped; bytes that are not UTF-8 become U+FFFD. 0, or KE_NOMEM /
 * KE_TOOBIG from out. */
int web_render_diff(struct buf *out, const char *patch, size_t len);

/* Verifies the csrf field of a posted form against the session: 0 when it
 * matches; otherwise answers the 403 page and returns 1. */
int web_check_csrf(struct page *pg, const struct form_field *f, size_t nf);

#endif
