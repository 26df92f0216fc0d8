#include "web_internal.h"

#include <stdlib.h>
#include <string.h>

#define SEARCH_MAX_RESULTS 200
#define SEARCH_PAGE 1000
#define SEARCH_QUERY_MAX 256

struct hit {
	const struct kind_def *kd;
	json_t *obj;
};

/* Scans the org's objects page by page, keeping those whose name contains q
 * (case-insensitive), at most SEARCH_MAX_RESULTS. *more is set when there
 * were more matches than that. */
static int find(struct page *pg, const char *q, struct hit *hits, size_t *n, int *more)
{
	struct store_list_query lq = { NULL, pg->ns, NULL, SEARCH_PAGE, NULL };
	struct kerr e = KERR_INIT;
	char *cont = NULL;
	int rc = 0;

	*n = 0;
	*more = 0;
	do {
		struct store_list_result res = { 0 };
		size_t i;

		lq.cont = cont;
		rc = store_list(pg->w->api->store, &lq, &res, &e);
		free(cont);
		cont = NULL;
		if (rc)
			break;
		for (i = 0; i < res.n && !*more; i++) {
			json_t *obj = json_loadb(res.items[i], res.lens[i], 0, NULL);
			const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
			const struct kind_def *kd = kinds_lookup(json_string_value(json_object_get(obj, "kind")));

			if (name && kd && kd->scope == SCOPE_ORG && strcasestr(name, q)) {
				if (*n == SEARCH_MAX_RESULTS) {
					*more = 1;
				} else {
					hits[*n].kd = kd;
					hits[(*n)++].obj = json_incref(obj);
				}
			}
			json_decref(obj);
		}
		if (!*more) {
			cont = res.cont;
			res.cont = NULL;
		}
		store_list_result_free(&res);
	} while (cont);
	free(cont);
	kerr_clear(&e);
	return rc;
}

int page_search(struct page *pg)
{
	const char *q = http_req_query(pg->r, "q");
	struct hit *hits = NULL;
	struct crumb crumbs[3];
	struct html h;
	char home[96];
	size_t n = 0, i;
	int more = 0, rc = 0;

	if (!q || strlen(q) > SEARCH_QUERY_MAX)
		q = "";
	if (*q) {
		hits = calloc(SEARCH_MAX_RESULTS, sizeof(*hits));
		if (!hits)
			return KE_NOMEM;
		rc = find(pg, q, hits, &n, &more);
		if (rc)
			goto out;
	}
	snprintf(home, sizeof(home), "/orgs/%s", pg->org);
	crumbs[0] = (struct crumb){ "Organizations", "/orgs" };
	crumbs[1] = (struct crumb){ pg->org, home };
	crumbs[2] = (struct crumb){ "Search", NULL };
	html_init(&h);
	layout_begin(pg, &h, "Search", NULL, crumbs, 3);
	html_raw(&h, "<div class=\"page-head\"><h1>Search</h1>");
	if (*q) {
		html_fmt(&h, "<p class=\"lead\" id=\"search-summary\">%zu%s result%s for \xE2\x80\x9C", n, more ? "+" : "",
			 n == 1 && !more ? "" : "s");
		html_text(&h, q);
		html_raw(&h, "\xE2\x80\x9D</p>");
	} else {
		html_raw(&h, "<p class=\"lead\">Find resources in this org by name.</p>");
	}
	html_raw(&h, "</div>\n<form class=\"inline-form\" method=\"get\" action=\"/orgs/");
	html_url(&h, pg->org);
	html_raw(&h, "/search\"><label for=\"search-page-q\" class=\"visually-hidden\">Name contains</label>"
		     "<input id=\"search-page-q\" type=\"search\" name=\"q\" value=\"");
	html_text(&h, q);
	html_raw(&h, "\" placeholder=\"Name contains\xE2\x80\xA6\"><button type=\"submit\">Search</button></form>\n");
	if (*q && !n)
		html_raw(&h, "<p class=\"empty-state\">No resource names match.</p>\n");
	if (n) {
		html_raw(&h, "<div class=\"table-wrap\"><table id=\"search-results\" class=\"data\"><thead><tr><th scope=\"col\">Name</th>"
			     "<th scope=\"col\">Kind</th><th scope=\"col\">Phase</th><th scope=\"col\">Age</th></tr>"
			     "</thead><tbody>\n");
		for (i = 0; i < n; i++) {
			json_t *md = json_object_get(hits[i].obj, "metadata");
			const char *name = json_string_value(json_object_get(md, "name"));
			struct buf href = BUF_INIT(2048);

			web_object_href(&href, pg->org, hits[i].kd, name);
			html_raw(&h, "<tr data-name=\"");
			html_text(&h, name);
			html_raw(&h, "\" data-kind=\"");
			html_text(&h, hits[i].kd->kind);
			html_raw(&h, "\"><td class=\"name\"><a href=\"");
			html_raw(&h, href.data ? href.data : "#");
			html_raw(&h, "\">");
			html_text(&h, name);
			html_raw(&h, "</a></td><td class=\"kind\">");
			html_text(&h, hits[i].kd->kind);
			html_raw(&h, "</td><td class=\"phase\">");
			render_phase(&h, json_string_value(json_object_get(json_object_get(hits[i].obj, "status"),
									   "phase")));
			html_raw(&h, "</td><td class=\"age\">");
			render_age(&h, json_string_value(json_object_get(md, "creationTimestamp")));
			html_raw(&h, "</td></tr>\n");
			buf_free(&href);
		}
		html_raw(&h, "</tbody></table></div>\n");
		if (more)
			html_fmt(&h, "<p class=\"hint\">Showing the first %d matches; narrow the search to see others.</p>\n",
				 SEARCH_MAX_RESULTS);
	}
	layout_end(&h);
	rc = page_send(pg, &h, 200);
out:
	for (i = 0; i < n; i++)
		json_decref(hits[i].obj);
	free(hits);
	return rc;
}
