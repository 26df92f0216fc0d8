/* /orgs/{org}/repos/{repo}: description, clone URL, the default branch's
 * root tree and README; push instructions while the repository is empty. */
#include "page_repo.h"

#include <string.h>

#define HOST_MAX 255

/* http://<Host>/<org>/<repo>.git as the API's cloneUrl is built (repos.c);
 * without a usable Host header, the path alone. */
static void clone_url(struct repo_view *v, struct buf *b)
{
	const char *host = http_req_header(v->pg->r, "Host");
	size_t n = host ? strlen(host) : 0;

	if (n && n <= HOST_MAX &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == n)
		buf_printf(b, "http://%s", host);
	buf_printf(b, "/%s/%s.git", v->pg->org, v->name);
}

static void clone_box(struct html *h, const char *url)
{
	html_raw(h, "<section id=\"clone\" class=\"panel clone\"><label for=\"clone-url\">Clone with HTTP</label>"
		    "<div class=\"clone-box\"><input id=\"clone-url\" type=\"text\" readonly value=\"");
	html_text(h, url);
	html_raw(h, "\"><button type=\"button\" class=\"js-only\" data-copy=\"clone-url\">Copy</button></div></section>\n");
}

static void empty_repo(struct repo_view *v, struct html *h, const char *url, const char *branch)
{
	html_raw(h, "<section id=\"empty-repo\" class=\"panel\"><h2>This repository is empty</h2>\n"
		    "<p>Push an existing repository from the command line:</p>\n<pre class=\"code\" id=\"push-existing\">"
		    "git remote add origin ");
	html_text(h, url);
	html_raw(h, "\ngit push -u origin ");
	html_text(h, branch);
	html_raw(h, "</pre>\n<p>Or start a new one:</p>\n<pre class=\"code\" id=\"push-new\">echo &quot;# ");
	html_text(h, v->name);
	html_raw(h, "&quot; &gt; README.md\ngit init -b ");
	html_text(h, branch);
	html_raw(h, "\ngit add README.md\ngit commit -m &quot;First commit&quot;\ngit remote add origin ");
	html_text(h, url);
	html_raw(h, "\ngit push -u origin ");
	html_text(h, branch);
	html_raw(h, "</pre>\n<p class=\"hint\">Use an API token as the password.</p></section>\n");
}

/* The branch to show: HEAD's if it exists, else the first. */
static json_t *pick_branch(json_t *branches)
{
	const char *def = json_string_value(json_object_get(branches, "default"));
	json_t *items = json_object_get(branches, "items"), *b;
	size_t i;

	json_array_foreach(items, i, b) {
		const char *name = json_string_value(json_object_get(b, "name"));

		if (def && name && !strcmp(name, def))
			return b;
	}
	return json_array_get(items, 0);
}

static void last_commit(struct repo_view *v, struct html *h, json_t *commit)
{
	json_t *t = json_object_get(commit, "time");

	html_raw(h, "<div class=\"last-commit\" id=\"last-commit\"><span class=\"author\">");
	html_text(h, json_string_value(json_object_get(commit, "author")));
	html_raw(h, "</span> <a class=\"message\" href=\"");
	repo_href(h, v, "commit", json_string_value(json_object_get(commit, "sha")), NULL);
	html_raw(h, "\">");
	html_text(h, json_string_value(json_object_get(commit, "message")));
	html_raw(h, "</a> ");
	repo_sha_link(h, v, json_string_value(json_object_get(commit, "sha")));
	html_raw(h, " <span class=\"muted\">");
	if (json_is_integer(t))
		repo_time(h, json_integer_value(t));
	html_raw(h, "</span></div>\n");
}

int page_repo_home(struct repo_view *v)
{
	struct buf url = BUF_INIT(1024);
	json_t *branches = NULL, *tree = NULL, *branch;
	const char *ref, *def;
	size_t nbranches;
	struct html h;
	int rc = repo_browse(v, API_BROWSE_BRANCHES, NULL, NULL, 0, &branches);

	/* a Repository whose bare repository is not there yet still has a page */
	if (rc && rc != KE_NOTFOUND)
		goto out;
	branch = pick_branch(branches);
	ref = json_string_value(json_object_get(branch, "name"));
	def = json_string_value(json_object_get(branches, "default"));
	nbranches = json_array_size(json_object_get(branches, "items"));
	if (ref && (rc = repo_browse(v, API_BROWSE_TREE, ref, NULL, 0, &tree)))
		goto out;
	clone_url(v, &url);
	html_init(&h);
	repo_begin(v, &h, v->name, "code", NULL);
	if (!branches) {
		html_raw(&h, "<p class=\"flash\" id=\"not-ready\" role=\"status\">The repository's storage is not ready "
			     "yet. Reload this page in a moment.</p>\n");
	} else if (!ref) {
		clone_box(&h, url.data ? url.data : "");
		empty_repo(v, &h, url.data ? url.data : "", def ? def : repo_spec(v, "defaultBranch", "main"));
	} else {
		clone_box(&h, url.data ? url.data : "");
		html_raw(&h, "<div class=\"repo-toolbar\">");
		repo_ref_picker(v, &h, "tree", ref, NULL);
		html_raw(&h, "<a class=\"muted\" id=\"branch-count\" href=\"");
		repo_href(&h, v, "branches", NULL, NULL);
		html_fmt(&h, "\">%zu branch%s</a>", nbranches, nbranches == 1 ? "" : "es");
		html_raw(&h, "<span class=\"toolbar-end\"><a class=\"button small\" id=\"history\" href=\"");
		repo_href(&h, v, "commits", ref, NULL);
		html_raw(&h, "\">History</a></span></div>\n");
		last_commit(v, &h, json_object_get(branch, "commit"));
		repo_render_entries(v, &h, ref, NULL, json_object_get(tree, "entries"), 0);
		repo_render_readme(v, &h, ref, json_object_get(tree, "entries"));
	}
	layout_end(&h);
	rc = page_send(v->pg, &h, 200);
out:
	json_decref(branches);
	json_decref(tree);
	buf_free(&url);
	return rc;
}
