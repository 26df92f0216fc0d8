/* /orgs/{org}/repos/{repo}/branches and /tags: each ref with the commit it
 * points at. */
#include "page_repo.h"

#include <string.h>

static void ref_row(struct repo_view *v, struct html *h, json_t *item, const char *def, int tags)
{
	const char *name = json_string_value(json_object_get(item, "name"));
	json_t *c = json_object_get(item, "commit");
	const char *sha = json_string_value(json_object_get(c, "sha"));

	if (!name)
		return;
	html_raw(h, "<tr data-name=\"");
	html_text(h, name);
	html_raw(h, "\"><td class=\"name\"><a href=\"");
	repo_href(h, v, "tree", name, NULL);
	html_raw(h, "\">");
	html_text(h, name);
	html_raw(h, "</a>");
	if (!tags && def && !strcmp(def, name))
		html_raw(h, " <span class=\"badge\" data-default=\"true\">default</span>");
	html_raw(h, "</td><td class=\"message\"><a href=\"");
	repo_href(h, v, "commit", sha, NULL);
	html_raw(h, "\">");
	html_text(h, json_string_value(json_object_get(c, "message")));
	html_raw(h, "</a></td><td class=\"author\">");
	html_text(h, json_string_value(json_object_get(c, "author")));
	html_raw(h, "</td><td class=\"age\">");
	repo_time(h, json_integer_value(json_object_get(c, "time")));
	html_raw(h, "</td><td class=\"sha\">");
	repo_sha_link(h, v, sha);
	html_raw(h, "</td></tr>\n");
}

int page_repo_refs(struct repo_view *v, int tags)
{
	const char *title = tags ? "Tags" : "Branches";
	json_t *refs = NULL, *items, *item;
	struct html h;
	size_t i;
	int rc = repo_browse(v, tags ? API_BROWSE_TAGS : API_BROWSE_BRANCHES, NULL, NULL, 0, &refs);

	if (rc)
		return rc;
	items = json_object_get(refs, "items");
	html_init(&h);
	repo_begin(v, &h, title, tags ? "tags" : "branches", title);
	if (!json_array_size(items)) {
		html_raw(&h, tags ? "<p class=\"empty-state\">No tags yet.</p>\n" : "<p class=\"empty-state\">No branches "
									      "yet.</p>\n");
	} else {
		html_raw(&h, tags ? "<div class=\"table-wrap\"><table id=\"tag-list\" class=\"data\">"
				  : "<div class=\"table-wrap\"><table id=\"branch-list\" class=\"data\">");
		html_raw(&h, "<thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Last commit</th>"
			     "<th scope=\"col\">Author</th><th scope=\"col\">When</th><th scope=\"col\">Commit</th></tr>"
			     "</thead><tbody>\n");
		json_array_foreach(items, i, item)
			ref_row(v, &h, item, json_string_value(json_object_get(refs, "default")), tags);
		html_raw(&h, "</tbody></table></div>\n");
	}
	layout_end(&h);
	json_decref(refs);
	return page_send(v->pg, &h, 200);
}
