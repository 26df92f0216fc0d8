#include "web_internal.h"

#include <string.h>

static void head(struct html *h, const char *title, const char *org)
{
	html_raw(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<meta name=\"color-scheme\" content=\"light dark\">\n<title>");
	html_text(h, title);
	if (org) {
		html_raw(h, " \xC2\xB7 ");
		html_text(h, org);
	}
	html_raw(h, " \xC2\xB7 Krate</title>\n<link rel=\"stylesheet\" href=\"/static/krate.css\">\n"
		    "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n"
		    "<script src=\"/static/krate.js\" defer></script>\n</head>\n<body>\n"
		    "<a class=\"skip-link\" href=\"#main\">Skip to content</a>\n");
}

static void brand(struct html *h)
{
	html_raw(h, "<a class=\"brand\" href=\"/orgs\"><span class=\"brand-mark\" aria-hidden=\"true\">K</span>"
		    "<span class=\"brand-name\">Krate</span></a>\n");
}

/* The org switcher lists the orgs the session may see; it works as a plain
 * GET form (/orgs?org=x redirects) and krate.js submits it on change. */
static void org_switch(struct page *pg, struct html *h, json_t *orgs)
{
	size_t i;

	html_raw(h, "<form id=\"org-switch\" method=\"get\" action=\"/orgs\">"
		    "<label class=\"visually-hidden\" for=\"org-select\">Organization</label>"
		    "<select id=\"org-select\" name=\"org\">");
	if (!pg->org)
		html_raw(h, "<option value=\"\" selected>Choose an organization</option>");
	for (i = 0; i < json_array_size(orgs); i++) {
		json_t *o = json_array_get(orgs, i);
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *display = json_string_value(json_object_get(o, "displayName"));

		if (!name)
			continue;
		html_raw(h, "<option value=\"");
		html_text(h, name);
		html_raw(h, pg->org && !strcmp(pg->org, name) ? "\" selected>" : "\">");
		html_text(h, display && *display ? display : name);
		html_raw(h, "</option>");
	}
	html_raw(h, "</select><button type=\"submit\" class=\"js-hide\">Switch</button></form>\n");
}

static void topbar(struct page *pg, struct html *h)
{
	struct kerr e = KERR_INIT;
	json_t *orgs = api_visible_orgs(pg->w->api, &pg->p, &e);
	const char *search_org = pg->org;

	kerr_clear(&e);
	if (!search_org && json_array_size(orgs))
		search_org = json_string_value(json_object_get(json_array_get(orgs, 0), "name"));
	html_raw(h, "<header class=\"topbar\">\n");
	brand(h);
	org_switch(pg, h, orgs);
	if (search_org) {
		html_raw(h, "<form id=\"search\" role=\"search\" method=\"get\" action=\"/orgs/");
		html_url(h, search_org);
		html_raw(h, "/search\"><label class=\"visually-hidden\" for=\"search-q\">Search resources</label>"
			    "<input id=\"search-q\" type=\"search\" name=\"q\" placeholder=\"Search ");
		html_text(h, search_org);
		html_raw(h, "\" value=\"");
		if (pg->org)
			html_text(h, http_req_query(pg->r, "q"));
		html_raw(h, "\" autocomplete=\"off\"></form>\n");
	}
	if (pg->org) {
		html_raw(h, "<a class=\"button primary new-resource\" href=\"/orgs/");
		html_url(h, pg->org);
		html_raw(h, "/new\">New</a>\n");
	}
	html_raw(h, "<div class=\"user\"><span class=\"avatar\" aria-hidden=\"true\">");
	html_textn(h, pg->s.user && *pg->s.user ? pg->s.user : "?", 1);
	html_raw(h, "</span><span id=\"whoami\" title=\"Signed in as ");
	html_text(h, pg->s.user);
	html_fmt(h, " (%s)\">", kinds_role_name(pg->s.role));
	html_text(h, pg->s.user);
	html_raw(h, "</span><form id=\"logout\" method=\"post\" action=\"/logout\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(h, pg->s.csrf);
	html_raw(h, "\"><button type=\"submit\" class=\"link\">Sign out</button></form></div>\n</header>\n");
	json_decref(orgs);
}

static void sidebar(struct page *pg, struct html *h, const char *nav)
{
	const char *group = NULL;
	size_t i;

	html_raw(h, "<nav class=\"sidebar\" aria-label=\"Sections\">\n<ul>\n<li><a data-nav=\"home\" href=\"/orgs/");
	html_url(h, pg->org);
	html_raw(h, nav && !strcmp(nav, "home") ? "\" aria-current=\"page\">Home</a></li>\n" : "\">Home</a></li>\n");
	for (i = 0; i < web_sections_count; i++) {
		const struct section *s = &web_sections[i];

		if (!group || strcmp(group, s->group)) {
			group = s->group;
			html_raw(h, "</ul>\n<p class=\"nav-group\">");
			html_text(h, group);
			html_raw(h, "</p>\n<ul>\n");
		}
		html_raw(h, "<li><a data-nav=\"");
		html_text(h, s->slug);
		html_raw(h, "\" href=\"/orgs/");
		html_url(h, pg->org);
		html_raw(h, "/");
		if (s->href)
			html_raw(h, s->href);
		else
			html_url(h, s->slug);
		html_raw(h, nav && !strcmp(nav, s->slug) ? "\" aria-current=\"page\">" : "\">");
		html_text(h, s->label);
		html_raw(h, "</a></li>\n");
	}
	html_raw(h, "</ul>\n</nav>\n");
}

/* Shown only for components this server has and that are not ready. */
static void degraded_banner(struct page *pg, struct html *h)
{
	struct api_component c[API_COMPONENTS];
	int i, any = 0;

	api_readiness(pg->w->api, c);
	for (i = 0; i < API_COMPONENTS; i++) {
		if (!c[i].configured || c[i].ready)
			continue;
		if (!any++)
			html_raw(h, "<div id=\"degraded-banner\" class=\"banner warning\" role=\"status\">"
				    "<strong>Degraded.</strong> ");
		else
			html_raw(h, "; ");
		html_text(h, c[i].name);
		html_raw(h, ": ");
		html_text(h, c[i].detail);
	}
	if (any) {
		if (pg->org) {
			html_raw(h, ". <a href=\"/orgs/");
			html_url(h, pg->org);
			html_raw(h, "/readiness\">Readiness</a>");
		}
		html_raw(h, "</div>\n");
	}
}

static void breadcrumbs(struct html *h, const struct crumb *c, size_t n)
{
	size_t i;

	if (!n)
		return;
	html_raw(h, "<nav class=\"breadcrumbs\" aria-label=\"Breadcrumb\"><ol>");
	for (i = 0; i < n; i++) {
		if (c[i].href) {
			html_raw(h, "<li><a href=\"");
			html_raw(h, c[i].href);
			html_raw(h, "\">");
			html_text(h, c[i].label);
			html_raw(h, "</a></li>");
		} else {
			html_raw(h, "<li aria-current=\"page\">");
			html_text(h, c[i].label);
			html_raw(h, "</li>");
		}
	}
	html_raw(h, "</ol></nav>\n");
}

void layout_begin(struct page *pg, struct html *h, const char *title, const char *nav,
		  const struct crumb *crumbs, size_t ncrumbs)
{
	head(h, title, pg->org);
	topbar(pg, h);
	html_raw(h, pg->org ? "<div class=\"shell\">\n" : "<div class=\"shell no-sidebar\">\n");
	if (pg->org)
		sidebar(pg, h, nav);
	html_raw(h, "<main id=\"main\">\n");
	degraded_banner(pg, h);
	breadcrumbs(h, crumbs, ncrumbs);
}

void layout_end(struct html *h)
{
	html_raw(h, "</main>\n</div>\n</body>\n</html>\n");
}

void layout_bare_begin(struct html *h, const char *title)
{
	head(h, title, NULL);
	html_raw(h, "<header class=\"topbar bare\">\n");
	brand(h);
	html_raw(h, "</header>\n<main id=\"main\" class=\"bare\">\n");
}

void layout_bare_end(struct html *h, const char *correlation_id)
{
	html_raw(h, "</main>\n");
	if (correlation_id) {
		html_raw(h, "<footer class=\"footer\">Correlation id <code>");
		html_text(h, correlation_id);
		html_raw(h, "</code></footer>\n");
	}
	html_raw(h, "</body>\n</html>\n");
}
