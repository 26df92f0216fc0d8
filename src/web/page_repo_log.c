/* /orgs/{org}/repos/{repo}/commits[/{ref...}]?page=N (the log, newest first,
 * paged) and /commit/{sha} (message, people, parents, files and the diff). */
#include "page_repo.h"

#include <stdlib.h>
#include <string.h>

/* The diff and the file table share a page of WEB_PAGE_MAX. */
#define DIFF_HTML_MAX (5u * 1024u * 1024u)
#define FILE_ROWS_MAX 2000

/* ?page=: 1 when absent, -1 when not an integer in 1..API_BROWSE_PAGE_MAX. */
static long page_param(struct page *pg)
{
	const char *s = http_req_query(pg->r, "page");
	char *end;
	long v;

	if (!s || !*s)
		return 1;
	v = strtol(s, &end, 10);
	return *end || v < 1 || v > API_BROWSE_PAGE_MAX ? -1 : v;
}

static const char *first_line(const char *msg, size_t *n)
{
	const char *nl;

	if (!msg)
		msg = "";
	nl = strchr(msg, '\n');
	*n = nl ? (size_t)(nl - msg) : strlen(msg);
	return msg;
}

static void commit_row(struct repo_view *v, struct html *h, json_t *c)
{
	const char *sha = json_string_value(json_object_get(c, "sha"));
	json_t *author = json_object_get(c, "author");
	size_t n;
	const char *subject = first_line(json_string_value(json_object_get(c, "message")), &n);

	if (!sha)
		return;
	html_raw(h, "<tr data-sha=\"");
	html_text(h, sha);
	html_raw(h, "\"><td class=\"message\"><a href=\"");
	repo_href(h, v, "commit", sha, NULL);
	html_raw(h, "\">");
	if (n)
		html_textn(h, subject, n);
	else
		html_raw(h, "<span class=\"muted\">(no message)</span>");
	html_raw(h, "</a></td><td class=\"author\">");
	html_text(h, json_string_value(json_object_get(author, "name")));
	html_raw(h, "</td><td class=\"age\">");
	repo_time(h, json_integer_value(json_object_get(author, "time")));
	html_raw(h, "</td><td class=\"sha\">");
	repo_sha_link(h, v, sha);
	html_raw(h, "</td></tr>\n");
}

static void pager(struct repo_view *v, struct html *h, const char *ref, long page, int more)
{
	if (page == 1 && !more)
		return;
	html_raw(h, "<nav class=\"pager\" id=\"pager\" aria-label=\"Pages\">");
	if (page > 1) {
		html_raw(h, "<a class=\"button\" rel=\"prev\" href=\"");
		repo_href(h, v, "commits", ref, NULL);
		html_fmt(h, "?page=%ld\">Newer</a>", page - 1);
	}
	html_fmt(h, "<span class=\"muted\">Page %ld</span>", page);
	if (more) {
		html_raw(h, "<a class=\"button\" rel=\"next\" href=\"");
		repo_href(h, v, "commits", ref, NULL);
		html_fmt(h, "?page=%ld\">Older</a>", page + 1);
	}
	html_raw(h, "</nav>\n");
}

/* The ref /commits shows without one: HEAD's branch (NULL if empty). */
static char *default_ref(struct repo_view *v)
{
	json_t *branches = NULL;
	const char *def;
	char *ref = NULL;

	if (repo_browse(v, API_BROWSE_BRANCHES, NULL, NULL, 0, &branches))
		return NULL;
	def = json_string_value(json_object_get(branches, "default"));
	if (!def || !json_array_size(json_object_get(branches, "items")))
		def = json_string_value(json_object_get(json_array_get(json_object_get(branches, "items"), 0), "name"));
	if (def)
		ref = strdup(def);
	json_decref(branches);
	return ref;
}

static int no_commits(struct repo_view *v)
{
	struct html h;

	html_init(&h);
	repo_begin(v, &h, "Commits", "commits", "Commits");
	html_raw(&h, "<p class=\"empty-state\" id=\"no-commits\">No commits yet.</p>\n");
	layout_end(&h);
	return page_send(v->pg, &h, 200);
}

int page_repo_commits(struct repo_view *v, const char *const *segs, int n)
{
	struct buf ref = BUF_INIT(4096);
	long page = page_param(v->pg);
	json_t *log = NULL, *items, *c;
	char *def = NULL;
	struct html h;
	size_t i;
	int rc = KE_NOTFOUND;

	for (i = 0; i < (size_t)n; i++)
		if (buf_printf(&ref, "%s%s", i ? "/" : "", segs[i]))
			goto out;
	if (!n && !(def = default_ref(v))) {
		rc = no_commits(v);
		goto out;
	}
	if (def && buf_addstr(&ref, def))
		goto out;
	if (page < 0 || (rc = repo_browse(v, API_BROWSE_COMMITS, ref.data, NULL, page, &log)))
		goto out;
	items = json_object_get(log, "items");
	if (page > 1 && !json_array_size(items)) {
		rc = KE_NOTFOUND;
		goto out;
	}
	html_init(&h);
	repo_begin(v, &h, "Commits", "commits", "Commits");
	html_raw(&h, "<div class=\"repo-toolbar\">");
	repo_ref_picker(v, &h, "commits", ref.data, NULL);
	html_raw(&h, "<span class=\"muted\">History of <code>");
	html_text(&h, ref.data);
	html_raw(&h, "</code></span></div>\n<div class=\"table-wrap\"><table id=\"commit-list\" class=\"data commits\">"
		     "<thead><tr><th scope=\"col\">Message</th><th scope=\"col\">Author</th><th scope=\"col\">When</th>"
		     "<th scope=\"col\">Commit</th></tr></thead><tbody>\n");
	json_array_foreach(items, i, c)
		commit_row(v, &h, c);
	html_raw(&h, "</tbody></table></div>\n");
	pager(v, &h, ref.data, page, json_is_true(json_object_get(log, "hasMore")));
	layout_end(&h);
	rc = page_send(v->pg, &h, 200);
out:
	free(def);
	json_decref(log);
	buf_free(&ref);
	return rc;
}

static void person(struct html *h, const char *role, json_t *p)
{
	html_raw(h, "<dt>");
	html_raw(h, role);
	html_raw(h, "</dt><dd><span class=\"person\">");
	html_text(h, json_string_value(json_object_get(p, "name")));
	html_raw(h, "</span> <span class=\"muted\">&lt;");
	html_text(h, json_string_value(json_object_get(p, "email")));
	html_raw(h, "&gt;</span> ");
	repo_time(h, json_integer_value(json_object_get(p, "time")));
	html_raw(h, "</dd>");
}

static int same_person(json_t *a, json_t *b)
{
	return json_equal(json_object_get(a, "name"), json_object_get(b, "name")) &&
	       json_equal(json_object_get(a, "email"), json_object_get(b, "email"));
}

static void file_table(struct repo_view *v, struct html *h, json_t *commit)
{
	json_t *files = json_object_get(commit, "files"), *f;
	const char *sha = json_string_value(json_object_get(commit, "sha"));
	json_int_t adds = 0, dels = 0;
	size_t i;

	json_array_foreach(files, i, f) {
		adds += json_integer_value(json_object_get(f, "additions"));
		dels += json_integer_value(json_object_get(f, "deletions"));
	}
	html_fmt(h, "<section class=\"panel\"><h2 id=\"files-summary\">%zu file%s changed, "
		    "<span class=\"add\">+%lld</span> <span class=\"del\">\xE2\x88\x92%lld</span></h2>\n",
		 json_array_size(files), json_array_size(files) == 1 ? "" : "s", (long long)adds, (long long)dels);
	html_raw(h, "<div class=\"table-wrap\"><table id=\"files\" class=\"data compact\"><thead><tr>"
		    "<th scope=\"col\">Status</th><th scope=\"col\">File</th><th scope=\"col\" class=\"num\">Added</th>"
		    "<th scope=\"col\" class=\"num\">Removed</th></tr></thead><tbody>\n");
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		const char *old = json_string_value(json_object_get(f, "oldPath"));
		const char *status = json_string_value(json_object_get(f, "status"));

		if (i == FILE_ROWS_MAX) {
			html_fmt(h, "<tr class=\"empty\"><td colspan=\"4\">%zu more files are not listed.</td></tr>\n",
				 json_array_size(files) - i);
			break;
		}
		html_raw(h, "<tr data-path=\"");
		html_text(h, path);
		html_raw(h, "\"><td><span class=\"badge diff-status\" data-status=\"");
		html_text(h, status);
		html_raw(h, "\">");
		html_text(h, status);
		html_fmt(h, "</span></td><td class=\"name\"><a href=\"#diff-%zu\">", i);
		html_text(h, path);
		html_raw(h, "</a>");
		if (old) {
			html_raw(h, " <span class=\"muted\">from ");
			html_text(h, old);
			html_raw(h, "</span>");
		}
		if (status && strcmp(status, "deleted") && path) {
			html_raw(h, " <a class=\"muted view-file\" href=\"");
			repo_href(h, v, "blob", sha, path);
			html_raw(h, "\">view</a>");
		}
		html_fmt(h, "</td><td class=\"num add\">+%lld</td><td class=\"num del\">\xE2\x88\x92%lld</td></tr>\n",
			 (long long)json_integer_value(json_object_get(f, "additions")),
			 (long long)json_integer_value(json_object_get(f, "deletions")));
	}
	html_raw(h, "</tbody></table></div>\n</section>\n");
}

static void diff(struct html *h, json_t *commit)
{
	json_t *patch = json_object_get(commit, "patch");
	struct buf out = BUF_INIT(DIFF_HTML_MAX);

	html_raw(h, "<section class=\"panel diff-panel\" id=\"diff\"><h2>Diff</h2>\n");
	if (json_is_true(json_object_get(commit, "truncated")))
		html_raw(h, "<p class=\"flash\" id=\"diff-truncated\" role=\"status\">The diff is cut short at 1 MiB; "
			    "the files after the cut are listed above only.</p>\n");
	if (!json_string_length(patch))
		html_raw(h, "<p class=\"empty-state\">No changes.</p>\n");
	else if (web_render_diff(&out, json_string_value(patch), json_string_length(patch)))
		html_raw(h, "<p class=\"empty-state\" id=\"diff-too-large\">The diff is too large to show here.</p>\n");
	else
		html_raw(h, out.data ? out.data : "");
	html_raw(h, "</section>\n");
	buf_free(&out);
}

int page_repo_commit(struct repo_view *v, const char *sha)
{
	json_t *c = NULL, *parents, *p;
	const char *msg, *full, *body;
	struct html h;
	size_t n, i;
	int rc = repo_browse(v, API_BROWSE_COMMIT, sha, NULL, 0, &c);

	if (rc)
		return rc;
	full = json_string_value(json_object_get(c, "sha"));
	msg = first_line(json_string_value(json_object_get(c, "message")), &n);
	html_init(&h);
	repo_begin(v, &h, "Commit", "commits", full ? full : sha);
	html_raw(&h, "<section class=\"panel commit\" id=\"commit\"><h2 class=\"commit-subject\">");
	html_textn(&h, msg, n);
	html_raw(&h, "</h2>\n");
	body = msg + n;
	while (*body == '\n')
		body++;
	if (*body) {
		html_raw(&h, "<pre class=\"commit-body\">");
		html_text(&h, body);
		html_raw(&h, "</pre>\n");
	}
	html_raw(&h, "<dl class=\"meta\">");
	person(&h, "Author", json_object_get(c, "author"));
	if (!same_person(json_object_get(c, "author"), json_object_get(c, "committer")))
		person(&h, "Committer", json_object_get(c, "committer"));
	html_raw(&h, "<dt>Commit</dt><dd><code id=\"commit-sha\">");
	html_text(&h, full);
	html_raw(&h, "</code></dd><dt>Parents</dt><dd id=\"parents\">");
	parents = json_object_get(c, "parents");
	json_array_foreach(parents, i, p) {
		if (i)
			html_raw(&h, ", ");
		repo_sha_link(&h, v, json_string_value(p));
	}
	if (!json_array_size(parents))
		html_raw(&h, "<span class=\"muted\">none (the first commit)</span>");
	html_raw(&h, "</dd></dl>\n<p class=\"actions\"><a class=\"button small\" id=\"browse-files\" href=\"");
	repo_href(&h, v, "tree", full, NULL);
	html_raw(&h, "\">Browse files</a></p></section>\n");
	file_table(v, &h, c);
	diff(&h, c);
	layout_end(&h);
	json_decref(c);
	return page_send(v->pg, &h, 200);
}
