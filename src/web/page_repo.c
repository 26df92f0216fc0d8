/* Repository pages: routing under /orgs/{org}/repos, the repository header
 * and tabs, shared helpers, and the list of repositories. */
#include "page_repo.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define LIST_PAGE 500
/* A ref with more '/'-separated parts than this is not tried (repo_browse_at). */
#define REF_PARTS_MAX 8

int repo_view_load(struct page *pg, const char *name, struct repo_view *v)
{
	struct kerr e = KERR_INIT;
	char *json = NULL;
	size_t len;
	int rc;

	memset(v, 0, sizeof(*v));
	v->pg = pg;
	v->name = name;
	buf_init(&v->base, 1024);
	buf_init(&v->api, 1024);
	rc = store_get(pg->w->api->store, "Repository", pg->ns, name, &json, &len, &e);
	kerr_clear(&e);
	if (rc)
		return rc;
	v->obj = json_loadb(json, len, 0, NULL);
	free(json);
	if (!v->obj || buf_printf(&v->base, "/orgs/%s/repos/%s", pg->org, name) ||
	    buf_printf(&v->api, "/api/orgs/%s/repositories/%s", pg->org, name))
		return KE_NOMEM;
	return 0;
}

void repo_view_free(struct repo_view *v)
{
	json_decref(v->obj);
	v->obj = NULL;
	buf_free(&v->base);
	buf_free(&v->api);
}

const char *repo_spec(const struct repo_view *v, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(json_object_get(v->obj, "spec"), key));

	return s ? s : dflt;
}

int repo_browse(struct repo_view *v, enum api_browse_op op, const char *ref, const char *path, long page,
		json_t **out)
{
	struct api_browse_req q = { op, v->pg->org, v->name, ref, path, page, 0 };
	struct kerr e = KERR_INIT;
	int rc = api_browse(v->pg->w->api, &v->pg->p, &q, out, &e);

	kerr_clear(&e);
	return rc == KE_INVALID ? KE_NOTFOUND : rc;
}

/* segs[from..to) joined with '/' into b (reset first). */
static int join(struct buf *b, const char *const *segs, int from, int to)
{
	int i, rc = 0;

	buf_reset(b);
	for (i = from; !rc && i < to; i++)
		rc = buf_printf(b, "%s%s", i > from ? "/" : "", segs[i]);
	return rc;
}

int repo_browse_at(struct repo_view *v, enum api_browse_op op, const char *const *segs, int n, struct buf *ref,
		   struct buf *path, json_t **out)
{
	int k, last = op == API_BROWSE_TREE ? n : n - 1, rc = KE_NOTFOUND;

	*out = NULL;
	for (k = 1; k <= last && k <= REF_PARTS_MAX; k++) {
		if ((rc = join(ref, segs, 0, k)) || (rc = join(path, segs, k, n)))
			return rc == KE_TOOBIG ? KE_NOTFOUND : rc;
		rc = repo_browse(v, op, ref->data, k < n ? path->data : NULL, 0, out);
		if (rc != KE_NOTFOUND)
			break;
	}
	return rc;
}

void repo_href(struct html *h, const struct repo_view *v, const char *what, const char *ref, const char *path)
{
	struct buf b = BUF_INIT(16384);

	if (buf_add(&b, v->base.data, v->base.len) || (what && buf_printf(&b, "/%s", what)) ||
	    (ref && (buf_addch(&b, '/') || path_encode(&b, ref))) ||
	    (path && *path && (buf_addch(&b, '/') || path_encode(&b, path))))
		h->err = h->err ? h->err : KE_TOOBIG;
	else
		html_raw(h, b.data);
	buf_free(&b);
}

void repo_time(struct html *h, json_int_t t)
{
	char iso[32], age[16];

	util_time_rfc3339(iso, (int64_t)t);
	web_age(age, util_now_seconds() - (int64_t)t);
	html_fmt(h, "<time datetime=\"%s\" title=\"%s\">%s ago</time>", iso, iso, age);
}

void repo_sha_link(struct html *h, const struct repo_view *v, const char *sha)
{
	if (!sha)
		return;
	html_raw(h, "<a class=\"sha\" href=\"");
	repo_href(h, v, "commit", sha, NULL);
	html_raw(h, "\"><code>");
	html_textn(h, sha, strlen(sha) < 7 ? strlen(sha) : 7);
	html_raw(h, "</code></a>");
}

void repo_size(struct html *h, json_int_t bytes)
{
	if (bytes < 1024)
		html_fmt(h, "%lld B", (long long)bytes);
	else if (bytes < 1024 * 1024)
		html_fmt(h, "%.1f KiB", (double)bytes / 1024);
	else
		html_fmt(h, "%.1f MiB", (double)bytes / (1024 * 1024));
}

static void visibility_badge(struct html *h, const char *visibility)
{
	html_raw(h, "<span class=\"badge\" data-visibility=\"");
	html_text(h, visibility);
	html_raw(h, "\">");
	html_text(h, visibility);
	html_raw(h, "</span>");
}

static void tab(struct repo_view *v, struct html *h, const char *id, const char *what, const char *label,
		const char *current)
{
	html_raw(h, "<a data-tab=\"");
	html_raw(h, id);
	html_raw(h, "\" href=\"");
	repo_href(h, v, what, NULL, NULL);
	html_raw(h, !strcmp(id, current) ? "\" aria-current=\"page\">" : "\">");
	html_raw(h, label);
	html_raw(h, "</a>");
}

void repo_begin(struct repo_view *v, struct html *h, const char *title, const char *tab_id, const char *crumb)
{
	struct buf org = BUF_INIT(256), list = BUF_INIT(256);
	struct crumb c[5];
	const char *desc = repo_spec(v, "description", NULL);

	buf_printf(&org, "/orgs/%s", v->pg->org);
	buf_printf(&list, "/orgs/%s/repos", v->pg->org);
	c[0] = (struct crumb){ "Organizations", "/orgs" };
	c[1] = (struct crumb){ v->pg->org, org.data };
	c[2] = (struct crumb){ "Repositories", list.data };
	c[3] = (struct crumb){ v->name, crumb ? v->base.data : NULL };
	c[4] = (struct crumb){ crumb, NULL };
	layout_begin(v->pg, h, title, "code", c, crumb ? 5 : 4);
	html_raw(h, "<div class=\"page-head repo-head\"><p class=\"eyebrow\">Repository</p><h1><a href=\"");
	html_raw(h, v->base.data);
	html_raw(h, "\">");
	html_text(h, v->name);
	html_raw(h, "</a> ");
	visibility_badge(h, repo_spec(v, "visibility", "internal"));
	html_raw(h, "</h1>");
	if (desc && *desc) {
		html_raw(h, "<p class=\"lead\" id=\"repo-description\">");
		html_text(h, desc);
		html_raw(h, "</p>");
	}
	html_raw(h, "<div class=\"actions\">");
	if (v->pg->p.role >= ROLE_DEVELOPER) {
		html_raw(h, "<a id=\"dispatch-agent\" class=\"button\" href=\"/orgs/");
		html_url(h, v->pg->org);
		html_raw(h, "/agents/runs/new?repository=");
		html_url(h, v->name);
		html_raw(h, "\">Dispatch an agent</a>");
	}
	html_raw(h, "<a id=\"repo-settings\" class=\"button\" href=\"/orgs/");
	html_url(h, v->pg->org);
	html_raw(h, "/resources/repositories/");
	html_url(h, v->name);
	html_raw(h, "\">Settings</a></div></div>\n<nav class=\"tabs\" aria-label=\"Repository\">");
	tab(v, h, "code", NULL, "Code", tab_id);
	tab(v, h, "commits", "commits", "Commits", tab_id);
	tab(v, h, "branches", "branches", "Branches", tab_id);
	tab(v, h, "tags", "tags", "Tags", tab_id);
	tab(v, h, "pulls", "pulls", "Pull requests", tab_id);
	tab(v, h, "issues", "issues", "Issues", tab_id);
	html_raw(h, "</nav>\n");
	buf_free(&org);
	buf_free(&list);
}

/* ---- /orgs/{org}/repos ---- */

static const char *obj_str(json_t *obj, const char *sect, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, sect), key));
}

static void repo_row(struct page *pg, struct html *h, json_t *obj)
{
	const char *name = obj_str(obj, "metadata", "name"), *desc = obj_str(obj, "spec", "description");
	const char *vis = obj_str(obj, "spec", "visibility");

	if (!name)
		return;
	html_raw(h, "<tr data-name=\"");
	html_text(h, name);
	html_raw(h, "\"><td class=\"name\"><a href=\"/orgs/");
	html_url(h, pg->org);
	html_raw(h, "/repos/");
	html_url(h, name);
	html_raw(h, "\">");
	html_text(h, name);
	html_raw(h, "</a>");
	if (desc && *desc) {
		html_raw(h, "<div class=\"muted\">");
		html_text(h, desc);
		html_raw(h, "</div>");
	}
	html_raw(h, "</td><td>");
	visibility_badge(h, vis ? vis : "internal");
	html_raw(h, "</td><td><code>");
	html_text(h, obj_str(obj, "spec", "defaultBranch") ? obj_str(obj, "spec", "defaultBranch") : "main");
	html_raw(h, "</code></td><td class=\"phase\">");
	render_phase(h, obj_str(obj, "status", "phase"));
	html_raw(h, "</td></tr>\n");
}

int page_repos(struct page *pg)
{
	struct store_list_query q = { "Repository", pg->ns, NULL, LIST_PAGE, NULL };
	struct store_list_result res = { 0 };
	struct kerr e = KERR_INIT;
	struct buf org = BUF_INIT(256);
	struct crumb c[3];
	struct html h;
	size_t i;
	int rc;

	q.cont = http_req_query(pg->r, "continue");
	rc = store_list(pg->w->api->store, &q, &res, &e);
	kerr_clear(&e);
	if (rc)
		return rc == KE_INVALID ? KE_NOTFOUND : rc;
	buf_printf(&org, "/orgs/%s", pg->org);
	c[0] = (struct crumb){ "Organizations", "/orgs" };
	c[1] = (struct crumb){ pg->org, org.data };
	c[2] = (struct crumb){ "Repositories", NULL };
	html_init(&h);
	layout_begin(pg, &h, "Repositories", "code", c, 3);
	html_raw(&h, "<div class=\"page-head\"><h1>Repositories</h1><p class=\"lead\">Browse the code, history, "
		     "branches and tags of this org's repositories.</p><div class=\"actions\">"
		     "<a class=\"button primary\" href=\"/orgs/");
	html_url(&h, pg->org);
	html_raw(&h, "/new?kind=Repository\">New Repository</a></div></div>\n");
	if (!res.n) {
		html_raw(&h, "<p class=\"empty-state\">No Repositories yet.</p>\n");
	} else {
		html_raw(&h, "<div class=\"table-wrap\"><table id=\"repo-list\" class=\"data\"><thead><tr>"
			     "<th scope=\"col\">Name</th><th scope=\"col\">Visibility</th><th scope=\"col\">Default branch</th>"
			     "<th scope=\"col\">Phase</th></tr></thead><tbody>\n");
		for (i = 0; i < res.n; i++) {
			json_t *obj = json_loadb(res.items[i], res.lens[i], 0, NULL);

			if (obj)
				repo_row(pg, &h, obj);
			json_decref(obj);
		}
		html_raw(&h, "</tbody></table></div>\n");
	}
	if (res.cont) {
		html_raw(&h, "<p class=\"pager\"><a class=\"button\" href=\"?continue=");
		html_url(&h, res.cont);
		html_fmt(&h, "\">Next %d</a></p>\n", LIST_PAGE);
	}
	layout_end(&h);
	store_list_result_free(&res);
	buf_free(&org);
	return page_send(pg, &h, 200);
}

/* ---- routing ---- */

static int dispatch(struct repo_view *v, const char *const *seg, int n)
{
	const char *what = n > 4 ? seg[4] : NULL;

	if (n == 4)
		return page_repo_home(v);
	if (!strcmp(what, "tree") && n >= 6)
		return page_repo_tree(v, seg + 5, n - 5);
	if (!strcmp(what, "blob") && n >= 7)
		return page_repo_blob(v, seg + 5, n - 5);
	if (!strcmp(what, "commits"))
		return page_repo_commits(v, seg + 5, n - 5);
	if (!strcmp(what, "commit") && n == 6)
		return page_repo_commit(v, seg[5]);
	if ((!strcmp(what, "branches") || !strcmp(what, "tags")) && n == 5)
		return page_repo_refs(v, what[0] == 't');
	return KE_NOTFOUND;
}

int page_repo_route(struct page *pg, const char *const *seg, int n)
{
	struct repo_view v;
	int rc;

	if (n == 3)
		return page_repos(pg);
	if (!util_dns_label(seg[3]))
		return KE_NOTFOUND;
	rc = repo_view_load(pg, seg[3], &v);
	if (!rc)
		rc = dispatch(&v, seg, n);
	repo_view_free(&v);
	return rc;
}
