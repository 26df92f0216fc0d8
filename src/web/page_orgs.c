#include "web_internal.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define RECENT_EVENTS 15

/* /orgs: the picker. /orgs?org=x is the org switcher's no-JS submit. */
int page_orgs(struct page *pg)
{
	const char *want = http_req_query(pg->r, "org");
	struct kerr e = KERR_INIT;
	struct html h;
	json_t *orgs;
	size_t i;
	const struct crumb crumbs[] = { { "Organizations", NULL } };

	if (want && util_dns_label(want)) {
		struct buf loc = BUF_INIT(256);

		buf_addstr(&loc, "/orgs/");
		url_encode(&loc, want, strlen(want));
		web_redirect(pg->r, loc.data ? loc.data : "/orgs");
		buf_free(&loc);
		return 0;
	}
	orgs = api_visible_orgs(pg->w->api, &pg->p, &e);
	if (!orgs) {
		int rc = e.kcode ? e.kcode : KE_INTERNAL;

		kerr_clear(&e);
		return rc;
	}
	html_init(&h);
	layout_begin(pg, &h, "Organizations", NULL, crumbs, 1);
	html_raw(&h, "<div class=\"page-head\"><h1>Organizations</h1>"
		     "<p class=\"lead\">Choose where to work.</p></div>\n");
	if (!json_array_size(orgs))
		html_raw(&h, "<p class=\"empty-state\">You cannot see any organization yet. An administrator "
			     "can create one with <code>krate apply</code> or <code>POST /api/orgs</code>.</p>\n");
	else
		html_raw(&h, "<ul class=\"cards\" id=\"org-list\">\n");
	for (i = 0; i < json_array_size(orgs); i++) {
		json_t *o = json_array_get(orgs, i);
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *display = json_string_value(json_object_get(o, "displayName"));
		const char *ns = json_string_value(json_object_get(o, "namespace"));
		const char *phase = json_string_value(json_object_get(o, "phase"));

		if (!name)
			continue;
		html_raw(&h, "<li class=\"card\" data-org=\"");
		html_text(&h, name);
		html_raw(&h, "\"><a class=\"card-link\" href=\"/orgs/");
		html_url(&h, name);
		html_raw(&h, "\"><span class=\"card-title\">");
		html_text(&h, display && *display ? display : name);
		html_raw(&h, "</span><span class=\"card-meta\">");
		html_text(&h, name);
		if (ns && *ns) {
			html_raw(&h, " \xC2\xB7 ");
			html_text(&h, ns);
		}
		html_raw(&h, "</span></a>");
		render_phase(&h, phase);
		html_raw(&h, "</li>\n");
	}
	if (json_array_size(orgs))
		html_raw(&h, "</ul>\n");
	layout_end(&h);
	json_decref(orgs);
	return page_send(pg, &h, 200);
}

/* Count rows: kinds with objects first (table order), then the rest, so the
 * table answers "what is here" at a glance and still names every kind. */
static void kind_counts(struct page *pg, struct html *h, json_t *counts)
{
	const struct kind_def *kinds;
	size_t nk, i;
	int pass;

	kinds = kinds_all(&nk);
	html_raw(h, "<div class=\"scroll-panel\"><table id=\"kind-counts\" class=\"data compact\">\n<thead><tr><th scope=\"col\">Kind</th>"
		    "<th scope=\"col\" class=\"num\">Count</th><th scope=\"col\">Phases</th></tr></thead>\n<tbody>\n");
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < nk; i++) {
			const struct kind_def *k = &kinds[i];
			json_t *c = json_object_get(counts, k->kind), *phases = json_object_get(c, "phases");
			json_int_t n = json_integer_value(json_object_get(c, "count"));
			struct buf href = BUF_INIT(512);
			const char *phase;
			json_t *v;

			if (k->scope == SCOPE_PLATFORM || (pass == 0) != (n > 0))
				continue;
			web_object_href(&href, pg->org, k, NULL);
			html_raw(h, n ? "<tr data-kind=\"" : "<tr class=\"zero\" data-kind=\"");
			html_text(h, k->kind);
			html_raw(h, "\"><td class=\"kind\"><a href=\"");
			html_raw(h, href.data ? href.data : "#");
			html_raw(h, "\">");
			html_text(h, k->kind);
			html_fmt(h, "</a></td><td class=\"count num\">%lld</td><td class=\"phases\">", (long long)n);
			json_object_foreach(phases, phase, v) {
				html_raw(h, "<span class=\"badge\" data-phase=\"");
				html_text(h, phase);
				html_raw(h, "\">");
				html_text(h, phase);
				html_fmt(h, " <b>%lld</b></span> ", (long long)json_integer_value(v));
			}
			html_raw(h, "</td></tr>\n");
			buf_free(&href);
		}
	}
	html_raw(h, "</tbody>\n</table></div>\n");
}

static void recent_events(struct page *pg, struct html *h, json_t *events)
{
	size_t i;

	html_raw(h, "<section id=\"recent-events\" class=\"panel\">\n<h2>Recent events</h2>\n");
	if (!json_array_size(events)) {
		html_raw(h, "<p class=\"empty-state\">No changes yet.</p>\n</section>\n");
		return;
	}
	html_raw(h, "<ol class=\"events\">\n");
	for (i = 0; i < json_array_size(events); i++) {
		json_t *ev = json_array_get(events, i);
		const char *type = json_string_value(json_object_get(ev, "type"));
		const char *kind = json_string_value(json_object_get(ev, "kind"));
		const char *name = json_string_value(json_object_get(ev, "name"));
		const struct kind_def *kd = kinds_lookup(kind);
		json_t *rv = json_object_get(ev, "resourceVersion");

		html_raw(h, "<li><span class=\"event-type\" data-type=\"");
		html_text(h, type);
		html_raw(h, "\">");
		html_text(h, type);
		html_raw(h, "</span><span class=\"event-what\"><span class=\"event-kind\">");
		html_text(h, kind);
		html_raw(h, "</span> ");
		if (kd && kd->scope == SCOPE_ORG && name && type && strcmp(type, "DELETED")) {
			struct buf href = BUF_INIT(1024);

			web_object_href(&href, pg->org, kd, name);
			html_raw(h, "<a href=\"");
			html_raw(h, href.data ? href.data : "#");
			html_raw(h, "\">");
			html_text(h, name);
			html_raw(h, "</a>");
			buf_free(&href);
		} else {
			html_raw(h, "<span class=\"event-name\">");
			html_text(h, name);
			html_raw(h, "</span>");
		}
		html_raw(h, "</span><span class=\"event-meta\">rv ");
		if (json_is_integer(rv))
			html_fmt(h, "%lld", (long long)json_integer_value(rv));
		else
			html_text(h, json_string_value(rv));
		html_raw(h, " \xC2\xB7 ");
		render_age(h, json_string_value(json_object_get(ev, "time")));
		html_raw(h, "</span></li>\n");
	}
	html_raw(h, "</ol>\n</section>\n");
}

static void readiness(struct page *pg, struct html *h)
{
	struct api_component c[API_COMPONENTS];
	int i;

	api_readiness(pg->w->api, c);
	html_raw(h, "<section id=\"readiness\" class=\"panel\">\n<h2>Readiness</h2>\n<ul class=\"components\">\n");
	for (i = 0; i < API_COMPONENTS; i++) {
		const char *state = !c[i].configured ? "not-configured" : c[i].ready ? "ready" : "degraded";

		html_fmt(h, "<li data-component-state=\"%s\"><span class=\"dot\" aria-hidden=\"true\"></span>", state);
		html_raw(h, "<span class=\"component-name\">");
		html_text(h, c[i].name);
		html_raw(h, "</span> <span class=\"component-detail\">");
		html_text(h, c[i].configured ? (c[i].ready ? "ready" : "degraded") : "not configured");
		if (c[i].configured) {
			html_raw(h, " \xE2\x80\x94 ");
			html_text(h, c[i].detail);
		}
		html_raw(h, "</span></li>\n");
	}
	html_raw(h, "</ul>\n</section>\n");
}

/* Display name and description from the Organization object. */
static json_t *org_object(struct page *pg)
{
	struct kerr e = KERR_INIT;
	char *json = NULL;
	size_t len;
	json_t *obj = NULL;

	if (!store_get(pg->w->api->store, "Organization", KRATE_PLATFORM_NS, pg->org, &json, &len, &e))
		obj = json_loadb(json, len, 0, NULL);
	free(json);
	kerr_clear(&e);
	return obj;
}

int page_org_home(struct page *pg)
{
	struct kerr e = KERR_INIT;
	json_t *counts = NULL, *events = NULL, *org = NULL, *v;
	const char *display, *desc, *kind;
	json_int_t total = 0, kinds_used = 0;
	struct html h;
	int rc;
	const struct crumb crumbs[] = { { "Organizations", "/orgs" }, { pg->org, NULL } };

	rc = store_counts(pg->w->api->store, pg->ns, &counts, &e);
	if (!rc)
		rc = store_recent_events(pg->w->api->store, pg->ns, RECENT_EVENTS, &events, &e);
	kerr_clear(&e);
	if (rc)
		goto out;
	org = org_object(pg);
	display = json_string_value(json_object_get(json_object_get(org, "spec"), "displayName"));
	desc = json_string_value(json_object_get(json_object_get(org, "spec"), "description"));
	json_object_foreach(counts, kind, v) {
		const struct kind_def *kd = kinds_lookup(kind);

		if (!kd || kd->scope == SCOPE_PLATFORM)
			continue;
		total += json_integer_value(json_object_get(v, "count"));
		kinds_used++;
	}
	html_init(&h);
	layout_begin(pg, &h, "Home", "home", crumbs, 2);
	html_raw(&h, "<div class=\"page-head\"><h1>");
	html_text(&h, display && *display ? display : pg->org);
	html_raw(&h, "</h1>");
	if (desc && *desc) {
		html_raw(&h, "<p class=\"lead\">");
		html_text(&h, desc);
		html_raw(&h, "</p>");
	}
	html_raw(&h, "<div class=\"actions\"><a class=\"button\" href=\"/orgs/");
	html_url(&h, pg->org);
	html_raw(&h, "/resources\">Browse all kinds</a><a class=\"button primary\" href=\"/orgs/");
	html_url(&h, pg->org);
	html_raw(&h, "/new\">New resource</a></div></div>\n");
	html_fmt(&h, "<ul class=\"stats\"><li><span class=\"stat-value\">%lld</span><span class=\"stat-label\">"
		     "objects</span></li><li><span class=\"stat-value\">%lld</span><span class=\"stat-label\">kinds "
		     "in use</span></li><li><span class=\"stat-value text\">",
		 (long long)total, (long long)kinds_used);
	html_text(&h, pg->ns);
	html_raw(&h, "</span><span class=\"stat-label\">namespace</span></li></ul>\n");
	html_raw(&h, "<div class=\"grid-2\">\n<section class=\"panel\"><h2>Resources</h2>\n");
	kind_counts(pg, &h, counts);
	html_raw(&h, "</section>\n<div class=\"stack\">\n");
	recent_events(pg, &h, events);
	readiness(pg, &h);
	html_raw(&h, "</div>\n</div>\n");
	layout_end(&h);
	rc = page_send(pg, &h, 200);
out:
	json_decref(counts);
	json_decref(events);
	json_decref(org);
	return rc;
}
