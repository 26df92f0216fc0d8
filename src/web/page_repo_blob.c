/* /orgs/{org}/repos/{repo}/blob/{ref}/{path...}: one file at a ref. Text
 * with line numbers and #L<n> anchors; Markdown rendered, with ?plain=1 for
 * its source; binary files named as such (images shown); a Raw link to the
 * API's ?raw=1. A path that is a directory redirects to its tree page. */
#include "page_repo.h"

#include <string.h>
#include <strings.h>

/* Beyond these a file is only offered raw: line markup would outgrow the page. */
#define BLOB_SHOWN_MAX (512u * 1024u)
#define BLOB_LINES_MAX 20000

static int has_ext(const char *name, const char *const *exts)
{
	const char *dot = strrchr(name, '.');

	for (; dot && *exts; exts++)
		if (!strcasecmp(dot + 1, *exts))
			return 1;
	return 0;
}

static const char *const markdown_exts[] = { "md", "markdown", NULL };
static const char *const image_exts[] = { "png", "jpg", "jpeg", "gif", "webp", "bmp", "ico", NULL };

static void raw_href(struct html *h, const struct repo_view *v, const char *ref, const char *path)
{
	struct buf b = BUF_INIT(16384);

	if (buf_add(&b, v->api.data, v->api.len) || buf_addstr(&b, "/blob/") || path_encode(&b, ref) ||
	    buf_addch(&b, '/') || path_encode(&b, path) || buf_addstr(&b, "?raw=1"))
		h->err = h->err ? h->err : KE_TOOBIG;
	else
		html_raw(h, b.data);
	buf_free(&b);
}

static size_t count_lines(const char *text, size_t len)
{
	size_t n = 0, i;

	for (i = 0; i < len; i++)
		n += text[i] == '\n';
	return n + (len && text[len - 1] != '\n');
}

static void lines(struct html *h, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	long no = 1;

	html_raw(h, "<div class=\"table-wrap blob-wrap\"><table id=\"blob\" class=\"blob-lines\"><tbody>\n");
	while (p < end && !h->err) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		html_fmt(h, "<tr id=\"L%ld\"><td class=\"ln\"><a href=\"#L%ld\">%ld</a></td><td class=\"code\">", no, no, no);
		html_textn(h, p, n);
		html_raw(h, "</td></tr>\n");
		no++;
		p += n + (nl != NULL);
	}
	html_raw(h, "</tbody></table></div>\n");
}

static void view_toggle(struct html *h, const struct repo_view *v, const char *ref, const char *path, int plain)
{
	html_raw(h, "<nav class=\"view-toggle\" id=\"md-toggle\" aria-label=\"View\"><a href=\"");
	repo_href(h, v, "blob", ref, path);
	html_raw(h, plain ? "\">Preview</a>" : "\" aria-current=\"page\">Preview</a>");
	html_raw(h, "<a href=\"");
	repo_href(h, v, "blob", ref, path);
	html_raw(h, plain ? "?plain=1\" aria-current=\"page\">Code</a></nav>" : "?plain=1\">Code</a></nav>");
}

/* A directory's URL under /blob/ goes to its tree page, as links from
 * READMEs to "docs/" expect. */
static int redirect_to_tree(struct repo_view *v, const char *const *segs, int n)
{
	struct buf ref = BUF_INIT(4096), path = BUF_INIT(16384);
	struct html h;
	json_t *tree = NULL;
	int rc = repo_browse_at(v, API_BROWSE_TREE, segs, n, &ref, &path, &tree);

	if (!rc) {
		html_init(&h);
		repo_href(&h, v, "tree", ref.data, path.len ? path.data : NULL);
		rc = h.err ? h.err : web_redirect(v->pg->r, h.b.data);
		html_free(&h);
	}
	json_decref(tree);
	buf_free(&ref);
	buf_free(&path);
	return rc;
}

static void file_body(struct repo_view *v, struct html *h, json_t *blob, const char *ref, const char *path,
		      const char *name, int plain)
{
	json_t *tv = json_object_get(blob, "text");
	const char *text = json_string_value(tv);
	size_t len = json_string_length(tv);
	json_int_t size = json_integer_value(json_object_get(blob, "size"));
	const char *slash = strrchr(path, '/');
	struct buf dir = BUF_INIT(16384);

	if (json_is_true(json_object_get(blob, "binary"))) {
		if (has_ext(name, image_exts)) {
			html_raw(h, "<div class=\"blob-image\"><img id=\"blob-image\" src=\"");
			raw_href(h, v, ref, path);
			html_raw(h, "\" alt=\"");
			html_text(h, name);
			html_raw(h, "\"></div>\n");
		} else {
			html_raw(h, "<p class=\"empty-state\" id=\"binary\">Binary file (");
			repo_size(h, size);
			html_raw(h, "), not shown. <a href=\"");
			raw_href(h, v, ref, path);
			html_raw(h, "\">Download it</a>.</p>\n");
		}
	} else if (!text || len > BLOB_SHOWN_MAX || count_lines(text, len) > BLOB_LINES_MAX) {
		html_raw(h, "<p class=\"empty-state\" id=\"too-large\">This file is too large to show here (");
		repo_size(h, size);
		html_raw(h, "). <a href=\"");
		raw_href(h, v, ref, path);
		html_raw(h, "\">View it raw</a>.</p>\n");
	} else if (!len) {
		html_raw(h, "<p class=\"empty-state\" id=\"empty-file\">This file is empty.</p>\n");
	} else if (plain || !has_ext(name, markdown_exts) ||
		   (slash && buf_add(&dir, path, (size_t)(slash - path))) ||
		   repo_markdown(v, h, ref, dir.data, text, len)) {
		/* Markdown that cannot be rendered is shown as its source */
		lines(h, text, len);
	}
	buf_free(&dir);
}

int page_repo_blob(struct repo_view *v, const char *const *segs, int n)
{
	struct buf ref = BUF_INIT(4096), path = BUF_INIT(16384);
	const char *plain_q = http_req_query(v->pg->r, "plain"), *name, *text;
	int plain = plain_q && !strcmp(plain_q, "1"), markdown;
	json_t *blob = NULL;
	struct html h;
	int rc = repo_browse_at(v, API_BROWSE_BLOB, segs, n, &ref, &path, &blob);

	if (rc == KE_NOTFOUND)
		rc = redirect_to_tree(v, segs, n) ? KE_NOTFOUND : 0;
	if (rc || !blob)
		goto out;
	name = strrchr(path.data, '/') ? strrchr(path.data, '/') + 1 : path.data;
	text = json_string_value(json_object_get(blob, "text"));
	markdown = text && has_ext(name, markdown_exts);
	html_init(&h);
	repo_begin(v, &h, path.data, "code", name);
	html_raw(&h, "<div class=\"repo-toolbar\">");
	repo_ref_picker(v, &h, "blob", ref.data, path.data);
	repo_path_crumbs(v, &h, ref.data, path.data);
	html_raw(&h, "</div>\n<section class=\"panel file\" id=\"file\"><div class=\"file-head\"><span class=\"muted\">");
	if (text)
		html_fmt(&h, "%zu lines \xC2\xB7 ", count_lines(text, json_string_length(json_object_get(blob, "text"))));
	repo_size(&h, json_integer_value(json_object_get(blob, "size")));
	html_raw(&h, "</span><div class=\"actions\">");
	if (markdown)
		view_toggle(&h, v, ref.data, path.data, plain);
	html_raw(&h, "<a class=\"button small\" id=\"raw\" href=\"");
	raw_href(&h, v, ref.data, path.data);
	html_raw(&h, "\">Raw</a><a class=\"button small\" id=\"history\" href=\"");
	repo_href(&h, v, "commits", ref.data, NULL);
	html_raw(&h, "\">History</a></div></div>\n");
	file_body(v, &h, blob, ref.data, path.data, name, plain);
	html_raw(&h, "</section>\n");
	layout_end(&h);
	rc = page_send(v->pg, &h, 200);
out:
	json_decref(blob);
	buf_free(&ref);
	buf_free(&path);
	return rc;
}
