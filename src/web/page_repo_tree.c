/* /orgs/{org}/repos/{repo}/tree/{ref}[/{path...}]: a directory at a ref,
 * with the branch picker, path breadcrumbs and the directory's README; and
 * the pieces of it the home page reuses. */
#include "page_repo.h"
#include "core/markdown.h"

#include <string.h>
#include <strings.h>

#define MARKDOWN_OUT_MAX (4u * 1024u * 1024u)
/* Rows of a tree listing; more would not fit a page (WEB_PAGE_MAX). */
#define TREE_ROWS_MAX 5000

static const char *const readme_names[] = {
	"README.md", "readme.md", "Readme.md", "README.markdown", "README", "readme", "README.txt", NULL,
};

void repo_render_entries(struct repo_view *v, struct html *h, const char *ref, const char *path, json_t *entries,
			 int parent)
{
	json_t *e;
	size_t i;

	html_raw(h, "<div class=\"table-wrap\"><table id=\"tree\" class=\"data compact tree-entries\"><thead><tr>"
		    "<th scope=\"col\">Name</th><th scope=\"col\" class=\"num\">Size</th></tr></thead><tbody>\n");
	if (parent && path && *path) {
		const char *slash = strrchr(path, '/');
		struct buf up = BUF_INIT(16384);

		if (slash)
			buf_add(&up, path, (size_t)(slash - path));
		html_raw(h, "<tr class=\"parent\"><td class=\"name\"><a class=\"entry\" data-type=\"tree\" href=\"");
		repo_href(h, v, "tree", ref, up.data);
		html_raw(h, "\" aria-label=\"Parent directory\">..</a></td><td></td></tr>\n");
		buf_free(&up);
	}
	json_array_foreach(entries, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *epath = json_string_value(json_object_get(e, "path"));
		const char *type = json_string_value(json_object_get(e, "type"));
		json_t *size = json_object_get(e, "size");

		if (i == TREE_ROWS_MAX) {
			html_fmt(h, "<tr class=\"empty\"><td colspan=\"2\">%zu more entries are not shown.</td></tr>\n",
				 json_array_size(entries) - i);
			break;
		}
		if (!name || !epath || !type)
			continue;
		html_raw(h, "<tr data-name=\"");
		html_text(h, name);
		html_raw(h, "\" data-type=\"");
		html_text(h, type);
		html_raw(h, "\"><td class=\"name\">");
		if (!strcmp(type, "tree") || !strcmp(type, "blob")) {
			html_raw(h, "<a class=\"entry\" data-type=\"");
			html_raw(h, type[0] == 't' ? "tree" : "blob");
			html_raw(h, "\" href=\"");
			repo_href(h, v, type, ref, epath);
			html_raw(h, "\">");
			html_text(h, name);
			html_raw(h, "</a>");
		} else {
			/* a submodule: a commit of another repository */
			html_raw(h, "<span class=\"entry\" data-type=\"commit\">");
			html_text(h, name);
			html_raw(h, "</span> <span class=\"muted\">submodule</span>");
		}
		html_raw(h, "</td><td class=\"num muted\">");
		if (json_is_integer(size))
			repo_size(h, json_integer_value(size));
		html_raw(h, "</td></tr>\n");
	}
	if (!json_array_size(entries))
		html_raw(h, "<tr class=\"empty\"><td colspan=\"2\">This directory is empty.</td></tr>\n");
	html_raw(h, "</tbody></table></div>\n");
}

/* "<prefix>/blob/<ref>/<dir>/" into b. */
static int base_for(struct buf *b, const struct buf *prefix, const char *ref, const char *dir)
{
	return buf_add(b, prefix->data, prefix->len) || buf_addstr(b, "/blob/") || path_encode(b, ref) ||
	       buf_addch(b, '/') || (dir && *dir && (path_encode(b, dir) || buf_addch(b, '/')));
}

int repo_markdown(struct repo_view *v, struct html *h, const char *ref, const char *dir, const char *text,
		  size_t len)
{
	struct buf links = BUF_INIT(16384), images = BUF_INIT(16384), out = BUF_INIT(MARKDOWN_OUT_MAX);
	struct markdown_links ml;
	struct kerr e = KERR_INIT;
	int rc = KE_NOMEM;

	if (base_for(&links, &v->base, ref, dir) || base_for(&images, &v->api, ref, dir))
		goto out;
	ml = (struct markdown_links){ links.data, images.data, "?raw=1" };
	rc = markdown_to_html_links(text, len, &ml, &out, &e);
	if (!rc) {
		html_raw(h, "<div class=\"markdown-body\">");
		html_raw(h, out.data ? out.data : "");
		html_raw(h, "</div>");
	}
out:
	kerr_clear(&e);
	buf_free(&links);
	buf_free(&images);
	buf_free(&out);
	return rc;
}

static int is_markdown(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && (!strcasecmp(dot, ".md") || !strcasecmp(dot, ".markdown"));
}

void repo_render_readme(struct repo_view *v, struct html *h, const char *ref, json_t *entries)
{
	const char *const *want;
	const char *path = NULL, *name = NULL, *dir;
	json_t *e, *blob = NULL;
	const char *text;
	size_t i;

	for (want = readme_names; *want && !path; want++)
		json_array_foreach(entries, i, e) {
			const char *n = json_string_value(json_object_get(e, "name"));
			const char *t = json_string_value(json_object_get(e, "type"));

			if (n && t && !strcmp(n, *want) && !strcmp(t, "blob")) {
				path = json_string_value(json_object_get(e, "path"));
				name = n;
				break;
			}
		}
	if (!path || repo_browse(v, API_BROWSE_BLOB, ref, path, 0, &blob))
		return;
	text = json_string_value(json_object_get(blob, "text"));
	if (text) {
		struct buf d = BUF_INIT(16384);

		dir = NULL;
		if (strlen(path) > strlen(name) && !buf_add(&d, path, strlen(path) - strlen(name) - 1))
			dir = d.data;
		html_raw(h, "<section id=\"readme\" class=\"panel readme\"><h2>");
		html_text(h, name);
		html_raw(h, "</h2>\n");
		if (!is_markdown(name) ||
		    repo_markdown(v, h, ref, dir, text, json_string_length(json_object_get(blob, "text")))) {
			html_raw(h, "<pre class=\"code plain\">");
			html_text(h, text);
			html_raw(h, "</pre>");
		}
		html_raw(h, "</section>\n");
		buf_free(&d);
	}
	json_decref(blob);
}

void repo_ref_picker(struct repo_view *v, struct html *h, const char *what, const char *ref, const char *path)
{
	json_t *branches = NULL, *items, *b;
	int is_branch = 0;
	size_t i;

	if (repo_browse(v, API_BROWSE_BRANCHES, NULL, NULL, 0, &branches))
		return;
	items = json_object_get(branches, "items");
	json_array_foreach(items, i, b) {
		const char *name = json_string_value(json_object_get(b, "name"));

		if (name && !strcmp(name, ref))
			is_branch = 1;
	}
	html_raw(h, "<details id=\"ref-picker\" class=\"ref-picker\"><summary><span class=\"muted\">");
	html_raw(h, is_branch ? "Branch" : "Ref");
	html_raw(h, "</span> <strong>");
	html_text(h, ref);
	html_raw(h, "</strong></summary><ul>");
	json_array_foreach(items, i, b) {
		const char *name = json_string_value(json_object_get(b, "name"));

		if (!name)
			continue;
		html_raw(h, "<li><a href=\"");
		repo_href(h, v, what, name, path);
		html_raw(h, !strcmp(name, ref) ? "\" aria-current=\"true\">" : "\">");
		html_text(h, name);
		html_raw(h, "</a></li>");
	}
	html_raw(h, "</ul></details>\n");
	json_decref(branches);
}

void repo_path_crumbs(struct repo_view *v, struct html *h, const char *ref, const char *path)
{
	struct buf prefix = BUF_INIT(16384);
	const char *p = path;

	html_raw(h, "<nav class=\"path-crumbs\" aria-label=\"Path\"><ol><li>");
	if (path && *path) {
		html_raw(h, "<a href=\"");
		repo_href(h, v, "tree", ref, NULL);
		html_raw(h, "\">");
		html_text(h, v->name);
		html_raw(h, "</a>");
	} else {
		html_text(h, v->name);
	}
	html_raw(h, "</li>");
	while (p && *p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		buf_reset(&prefix);
		buf_add(&prefix, path, (size_t)(p - path) + n);
		if (slash) {
			html_raw(h, "<li><a href=\"");
			repo_href(h, v, "tree", ref, prefix.data);
			html_raw(h, "\">");
			html_textn(h, p, n);
			html_raw(h, "</a></li>");
		} else {
			html_raw(h, "<li aria-current=\"page\">");
			html_textn(h, p, n);
			html_raw(h, "</li>");
		}
		p = slash ? slash + 1 : NULL;
	}
	html_raw(h, "</ol></nav>\n");
	buf_free(&prefix);
}

int page_repo_tree(struct repo_view *v, const char *const *segs, int n)
{
	struct buf ref = BUF_INIT(4096), path = BUF_INIT(16384);
	json_t *tree = NULL;
	struct html h;
	const char *p;
	int rc = repo_browse_at(v, API_BROWSE_TREE, segs, n, &ref, &path, &tree);

	if (rc)
		goto out;
	p = path.len ? path.data : NULL;
	html_init(&h);
	repo_begin(v, &h, p ? p : v->name, "code", p ? p : ref.data);
	html_raw(&h, "<div class=\"repo-toolbar\">");
	repo_ref_picker(v, &h, "tree", ref.data, p);
	repo_path_crumbs(v, &h, ref.data, p);
	html_raw(&h, "<span class=\"toolbar-end\"><span class=\"muted\">at</span> ");
	repo_sha_link(&h, v, json_string_value(json_object_get(tree, "sha")));
	html_raw(&h, " <a class=\"button small\" id=\"history\" href=\"");
	repo_href(&h, v, "commits", ref.data, NULL);
	html_raw(&h, "\">History</a></span></div>\n");
	repo_render_entries(v, &h, ref.data, p, json_object_get(tree, "entries"), 1);
	repo_render_readme(v, &h, ref.data, json_object_get(tree, "entries"));
	layout_end(&h);
	rc = page_send(v->pg, &h, 200);
out:
	json_decref(tree);
	buf_free(&ref);
	buf_free(&path);
	return rc;
}
