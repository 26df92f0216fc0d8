/* Pull requests in the console: the list with state tabs, the new pull
 * request form, and one pull request (conversation with reviews and
 * comments, commits, files changed, checks, the merge box, and the review,
 * comment, merge and close forms). Everything goes through the API's calls
 * (api_pull_*, api_record_*), so the console is checked, audited and refused
 * exactly as the HTTP routes are. */
#include "page_records.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rendered diff of a pull request is at most this large. */
#define DIFF_HTML_MAX (6u * 1024u * 1024u)

/* What a failed POST leaves for the page that shows it again. */
struct pull_post {
	const struct kerr *err;
	const char *form;        /* "comment", "review", ...: whose text to keep */
	const char *text;
};

static void mergeable_badge(struct html *h, json_t *st)
{
	json_t *m = json_object_get(st, "mergeable");

	if (json_is_true(m))
		html_raw(h, "<span class=\"badge\" data-mergeable=\"true\">Mergeable</span>");
	else if (json_array_size(json_object_get(st, "conflicts")))
		html_raw(h, "<span class=\"badge\" data-mergeable=\"conflicts\">Conflicts</span>");
	else if (json_is_false(m))
		html_raw(h, "<span class=\"badge\" data-mergeable=\"false\">Blocked</span>");
}

static int phase_is(json_t *pr, const char *phase)
{
	const char *p = rec_str(pr, "status", "phase");

	return p && !strcmp(p, phase);
}

static int is_open(json_t *pr)
{
	return !rec_str(pr, "status", "phase") || phase_is(pr, "Open");
}

static void branches(struct html *h, json_t *pr)
{
	html_raw(h, "<code class=\"branch\">");
	html_text(h, rec_branch(rec_str(pr, "spec", "sourceRef")));
	html_raw(h, "</code> \xE2\x86\x92 <code class=\"branch\">");
	html_text(h, rec_branch(rec_str(pr, "spec", "targetRef")));
	html_raw(h, "</code>");
}

/* ---- the list ---- */

static void pull_row(struct html *h, const struct repo_view *v, json_t *pr)
{
	long long n = rec_number(pr);

	html_fmt(h, "<tr data-number=\"%lld\"><td class=\"number\">#%lld</td><td class=\"title\"><a href=\"", n, n);
	rec_href(h, v, "pulls", n, NULL);
	html_raw(h, "\">");
	html_text(h, rec_str(pr, "spec", "title"));
	html_raw(h, "</a></td><td class=\"author\">");
	html_text(h, rec_str(pr, "spec", "author"));
	html_raw(h, "</td><td class=\"branches\">");
	branches(h, pr);
	html_raw(h, "</td><td class=\"mergeable\">");
	if (is_open(pr))
		mergeable_badge(h, json_object_get(pr, "status"));
	html_raw(h, "</td><td class=\"state\">");
	rec_state_badge(h, rec_str(pr, "status", "phase"));
	html_raw(h, "</td></tr>\n");
}

static int page_pull_list(struct repo_view *v)
{
	struct page *pg = v->pg;
	const char *state = http_req_query(pg->r, "state");
	struct kerr e = KERR_INIT;
	json_t *items = NULL, *pr;
	struct html h;
	size_t i;
	int rc;

	if (!state || !*state)
		state = "open";
	/* "all" is the API's; the page has a tab for each state. */
	if (!strcmp(state, "all"))
		return KE_NOTFOUND;
	rc = api_records_list(pg->w->api, &pg->p, pg->org, v->name, "PullRequest", state, &items, &e);
	kerr_clear(&e);
	if (rc)
		return rc == KE_INVALID ? KE_NOTFOUND : rc;
	html_init(&h);
	repo_begin(v, &h, "Pull requests", "pulls", "Pull requests");
	html_raw(&h, "<div class=\"page-head\"><h2>Pull requests</h2>");
	if (pg->p.role >= ROLE_DEVELOPER) {
		html_raw(&h, "<div class=\"actions\"><a id=\"new-pull\" class=\"button primary\" href=\"");
		rec_href(&h, v, "pulls", 0, "new");
		html_raw(&h, "\">New pull request</a></div>");
	}
	html_raw(&h, "</div>\n");
	rec_state_tabs(&h, v, "pulls", state, 1);
	if (!json_array_size(items)) {
		html_fmt(&h, "<p class=\"empty-state\">No %s pull requests.</p>\n", state);
	} else {
		html_raw(&h, "<div class=\"table-wrap\"><table id=\"pull-list\" class=\"data\"><thead><tr>"
			     "<th scope=\"col\">#</th><th scope=\"col\">Title</th><th scope=\"col\">Author</th>"
			     "<th scope=\"col\">Branches</th><th scope=\"col\">Mergeable</th><th scope=\"col\">State</th>"
			     "</tr></thead><tbody>\n");
		json_array_foreach(items, i, pr)
			pull_row(&h, v, pr);
		html_raw(&h, "</tbody></table></div>\n");
	}
	layout_end(&h);
	json_decref(items);
	return page_send(pg, &h, 200);
}

/* ---- new pull request ---- */

struct pull_form {
	const char *source, *target, *title, *body;
	const struct kerr *err;
};

static void branch_select(struct html *h, json_t *items, const char *id, const char *name, const char *selected,
			  const struct kerr *err, const char *field)
{
	json_t *b;
	size_t i;

	html_fmt(h, "<select id=\"%s\" name=\"%s\"", id, name);
	rec_invalid(h, err, field);
	html_raw(h, ">");
	json_array_foreach(items, i, b) {
		const char *bn = json_string_value(json_object_get(b, "name"));

		if (!bn)
			continue;
		html_raw(h, "<option value=\"");
		html_text(h, bn);
		html_raw(h, selected && !strcmp(selected, bn) ? "\" selected>" : "\">");
		html_text(h, bn);
		html_raw(h, "</option>");
	}
	html_raw(h, "</select>");
}

static int render_new_pull(struct repo_view *v, const struct pull_form *f, int status)
{
	struct page *pg = v->pg;
	json_t *list = NULL, *items;
	const char *dflt, *source = f->source, *target = f->target;
	struct html h;
	size_t i;

	/* No branches to offer (an empty repository, or git unavailable) is a page, not a failure. */
	if (repo_browse(v, API_BROWSE_BRANCHES, NULL, NULL, 0, &list))
		list = NULL;
	items = json_object_get(list, "items");
	dflt = json_string_value(json_object_get(list, "default"));
	if (!dflt)
		dflt = repo_spec(v, "defaultBranch", "main");
	if (!target || !*target)
		target = dflt;
	for (i = 0; (!source || !*source) && i < json_array_size(items); i++) {
		const char *bn = json_string_value(json_object_get(json_array_get(items, i), "name"));

		if (bn && strcmp(bn, target))
			source = bn;
	}
	html_init(&h);
	repo_begin(v, &h, "New pull request", "pulls", "New pull request");
	html_raw(&h, "<div class=\"page-head\"><h2>Open a pull request</h2><p class=\"lead\">Propose merging the "
		     "commits of one branch into another.</p></div>\n");
	rec_errors(&h, f->err);
	if (json_array_size(items) < 2) {
		html_raw(&h, "<p class=\"empty-state\">A pull request needs two branches; push another branch to this "
			     "repository first.</p>\n");
		layout_end(&h);
		json_decref(list);
		return page_send(pg, &h, status);
	}
	html_raw(&h, "<form id=\"pull-form\" class=\"record-form\" method=\"post\" action=\"");
	rec_href(&h, v, "pulls", 0, "new");
	html_raw(&h, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(&h, pg->s.csrf);
	html_raw(&h, "\"><div class=\"branch-pick\"><label for=\"pull-target\">Into</label>");
	branch_select(&h, items, "pull-target", "target", target, f->err, "targetRef");
	html_raw(&h, "<span aria-hidden=\"true\">\xE2\x86\x90</span><label for=\"pull-source\">From</label>");
	branch_select(&h, items, "pull-source", "source", source, f->err, "sourceRef");
	html_raw(&h, "</div><label for=\"pull-title\">Title</label><input id=\"pull-title\" type=\"text\" name=\"title\" "
		     "required maxlength=\"256\" value=\"");
	html_text(&h, f->title);
	html_raw(&h, "\"");
	rec_invalid(&h, f->err, "title");
	html_raw(&h, "><label for=\"pull-body\">Description <span class=\"hint\">Markdown</span></label>"
		     "<textarea id=\"pull-body\" name=\"body\" rows=\"10\"");
	rec_invalid(&h, f->err, "body");
	html_raw(&h, ">");
	html_text(&h, f->body);
	html_raw(&h, "</textarea><div class=\"form-actions\"><button type=\"submit\" class=\"primary\">Open pull request"
		     "</button><a class=\"button\" href=\"");
	rec_href(&h, v, "pulls", 0, NULL);
	html_raw(&h, "\">Cancel</a></div></form>\n");
	layout_end(&h);
	json_decref(list);
	return page_send(pg, &h, status);
}

static int post_new_pull(struct repo_view *v)
{
	struct form_field f[] = { { "csrf", 128, NULL, 0 },         { "source", REC_FIELD_MAX, NULL, 0 },
				  { "target", REC_FIELD_MAX, NULL, 0 },     { "title", REC_FIELD_MAX, NULL, 0 },
				  { "body", REC_TEXT_MAX, NULL, 0 } };
	struct page *pg = v->pg;
	struct pull_form pf = { 0 };
	struct kerr e = KERR_INIT;
	json_t *req = NULL, *pr = NULL;
	char num[32];
	int rc;

	if (rec_form(pg, f, 5))
		return 0;
	pf.source = form_value(f, 5, "source");
	pf.target = form_value(f, 5, "target");
	pf.title = form_value(f, 5, "title");
	pf.body = form_value(f, 5, "body");
	/* An empty target is the default branch, as in the API. */
	if ((rc = rec_form_utf8(f, 5, &e)) == 0 &&
	    !(req = json_pack("{s:s, s:s, s:s, s:s?}", "title", pf.title, "body", pf.body, "sourceRef", pf.source,
			      "targetRef", *pf.target ? pf.target : NULL)))
		rc = kerr_set(&e, KE_NOMEM, NULL, "out of memory");
	if (!rc)
		rc = api_pull_open(pg->w->api, &pg->p, pg->org, v->name, req, http_req_correlation_id(pg->r), &pr, NULL,
				   &e);
	if (rc) {
		pf.err = &e;
		rc = render_new_pull(v, &pf, kerr_http_status(e.kcode));
	} else {
		snprintf(num, sizeof(num), "%lld", rec_number(pr));
		rc = rec_redirect(v, "pulls", num, NULL);
	}
	json_decref(req);
	json_decref(pr);
	kerr_clear(&e);
	form_free(f, 5);
	return rc;
}

/* ---- one pull request ---- */

static void pull_head(struct html *h, const struct repo_view *v, json_t *pr, const char *tab)
{
	json_t *st = json_object_get(pr, "status");
	long long n = rec_number(pr);
	const char *phase = rec_str(pr, "status", "phase");

	html_raw(h, "<div class=\"page-head record-head\" id=\"pull-header\"><h2><span id=\"pull-title\">");
	html_text(h, rec_str(pr, "spec", "title"));
	html_fmt(h, "</span> <span class=\"muted\">#%lld</span></h2><p class=\"record-meta\"><span id=\"pull-state\">", n);
	rec_state_badge(h, phase);
	html_raw(h, "</span> <strong id=\"pull-author\">");
	html_text(h, rec_str(pr, "spec", "author"));
	html_raw(h, is_open(pr) ? "</strong> wants to merge <code id=\"pull-source\">"
				: "</strong> proposed merging <code id=\"pull-source\">");
	html_text(h, rec_branch(rec_str(pr, "spec", "sourceRef")));
	html_raw(h, "</code> into <code id=\"pull-target\">");
	html_text(h, rec_branch(rec_str(pr, "spec", "targetRef")));
	html_raw(h, "</code></p></div>\n<nav class=\"tabs record-tabs\" aria-label=\"Pull request\">");
	html_raw(h, "<a data-tab=\"conversation\" href=\"");
	rec_href(h, v, "pulls", n, NULL);
	html_raw(h, strcmp(tab, "conversation") ? "\">Conversation</a>" : "\" aria-current=\"page\">Conversation</a>");
	html_raw(h, "<a data-tab=\"commits\" href=\"");
	rec_href(h, v, "pulls", n, "commits");
	html_fmt(h, "\"%s>Commits <span class=\"count\">%lld</span></a>",
		 strcmp(tab, "commits") ? "" : " aria-current=\"page\"",
		 (long long)json_integer_value(json_object_get(st, "commits")));
	html_raw(h, "<a data-tab=\"files\" href=\"");
	rec_href(h, v, "pulls", n, "files");
	html_fmt(h, "\"%s>Files changed <span class=\"count\">%lld</span></a></nav>\n",
		 strcmp(tab, "files") ? "" : " aria-current=\"page\"",
		 (long long)json_integer_value(json_object_get(st, "changedFiles")));
}

static void render_review(struct html *h, const struct repo_view *v, json_t *rv)
{
	const char *d = rec_str(rv, "spec", "decision");
	const char *verb = !d ? "reviewed" : !strcmp(d, "approved") ? "approved these changes"
					   : !strcmp(d, "changes-requested") ? "requested changes" : "reviewed";
	json_t *c, *comments = json_object_get(json_object_get(rv, "spec"), "comments");
	const char *body = rec_str(rv, "spec", "body");
	size_t i;

	html_raw(h, "<article class=\"comment review\" id=\"review-");
	html_text(h, rec_str(rv, "metadata", "name"));
	html_raw(h, "\" data-decision=\"");
	html_text(h, d);
	html_raw(h, "\"><header class=\"comment-head\"><strong class=\"author\">");
	html_text(h, rec_str(rv, "spec", "reviewer"));
	html_raw(h, "</strong> <span class=\"badge\" data-decision=\"");
	html_text(h, d);
	html_raw(h, "\">");
	html_raw(h, verb);
	html_raw(h, "</span> ");
	render_age(h, rec_str(rv, "metadata", "creationTimestamp"));
	html_raw(h, " ago</header>");
	if (body && *body)
		rec_markdown(h, body);
	if (json_array_size(comments)) {
		html_raw(h, "<ul class=\"review-comments\">");
		json_array_foreach(comments, i, c) {
			html_raw(h, "<li><a class=\"where\" href=\"");
			rec_href(h, v, "pulls", rec_number(rv), "files");
			html_raw(h, "\"><code>");
			html_text(h, json_string_value(json_object_get(c, "path")));
			html_fmt(h, ":%lld</code></a>", (long long)json_integer_value(json_object_get(c, "line")));
			rec_markdown(h, json_string_value(json_object_get(c, "body")));
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul>");
	}
	html_raw(h, "</article>\n");
}

static long long rv_of(json_t *o)
{
	const char *s = rec_str(o, "metadata", "resourceVersion");

	return s ? strtoll(s, NULL, 10) : 0;
}

/* Comments and reviews interleaved in the order they were written. */
static void render_timeline(struct html *h, const struct repo_view *v, json_t *comments, json_t *reviews)
{
	size_t i = 0, j = 0;

	html_raw(h, "<div id=\"timeline\">\n");
	while (i < json_array_size(comments) || j < json_array_size(reviews)) {
		json_t *c = json_array_get(comments, i), *r = json_array_get(reviews, j);

		if (c && (!r || rv_of(c) < rv_of(r))) {
			rec_comment(h, c);
			i++;
		} else {
			render_review(h, v, r);
			j++;
		}
	}
	html_raw(h, "</div>\n");
}

static int http_url(const char *s)
{
	return s && (!strncmp(s, "https://", 8) || !strncmp(s, "http://", 7));
}

static void render_checks(struct html *h, json_t *st)
{
	json_t *checks = json_object_get(st, "checks"), *c, *req = json_object_get(st, "requiredChecks"), *name;
	size_t i, j, shown = 0;

	html_raw(h, "<section id=\"checks\" class=\"panel\"><h3>Checks</h3><ul class=\"checks\">");
	json_array_foreach(checks, i, c) {
		const char *state = json_string_value(json_object_get(c, "state"));
		const char *url = json_string_value(json_object_get(c, "detailsUrl"));

		html_raw(h, "<li class=\"check\" data-check=\"");
		html_text(h, json_string_value(json_object_get(c, "name")));
		html_raw(h, "\" data-state=\"");
		html_text(h, state);
		html_raw(h, "\"><span class=\"badge\" data-state=\"");
		html_text(h, state);
		html_raw(h, "\">");
		html_text(h, state);
		html_raw(h, "</span> <span class=\"check-name\">");
		html_text(h, json_string_value(json_object_get(c, "name")));
		html_raw(h, "</span>");
		if (http_url(url)) {
			html_raw(h, " <a class=\"details\" rel=\"nofollow noopener noreferrer\" href=\"");
			html_text(h, url);
			html_raw(h, "\">Details</a>");
		}
		html_raw(h, "</li>");
		shown++;
	}
	/* Required checks that have not reported yet still gate the merge. */
	json_array_foreach(req, i, name) {
		int seen = 0;

		json_array_foreach(checks, j, c)
			if (json_equal(json_object_get(c, "name"), name))
				seen = 1;
		if (seen || !json_is_string(name))
			continue;
		html_raw(h, "<li class=\"check\" data-check=\"");
		html_text(h, json_string_value(name));
		html_raw(h, "\" data-state=\"expected\"><span class=\"badge\" data-state=\"expected\">expected</span> "
			    "<span class=\"check-name\">");
		html_text(h, json_string_value(name));
		html_raw(h, "</span> <span class=\"muted\">required, not reported yet</span></li>");
		shown++;
	}
	html_raw(h, "</ul>");
	if (!shown)
		html_raw(h, "<p class=\"empty-state\">No checks have reported.</p>");
	html_raw(h, "</section>\n");
}

static void render_merge_box(struct page *pg, struct html *h, const struct repo_view *v, json_t *pr)
{
	json_t *st = json_object_get(pr, "status"), *b, *path;
	const char *phase = rec_str(pr, "status", "phase");
	size_t i;

	if (phase && !strcmp(phase, "Merged")) {
		html_raw(h, "<section id=\"merge-box\" class=\"panel merge-box\" data-state=\"merged\"><p id=\"merged-by\">");
		rec_state_badge(h, phase);
		html_raw(h, " Merged by <strong class=\"merged-by\">");
		html_text(h, rec_str(pr, "status", "mergedBy"));
		html_raw(h, "</strong> ");
		render_age(h, rec_str(pr, "status", "mergedAt"));
		html_raw(h, " ago with commit ");
		repo_sha_link(h, v, rec_str(pr, "status", "mergeCommit"));
		html_raw(h, " <span class=\"muted\">(");
		html_text(h, rec_str(pr, "status", "mergeStrategy"));
		html_raw(h, ")</span></p></section>\n");
		return;
	}
	if (!is_open(pr)) {
		html_raw(h, "<section id=\"merge-box\" class=\"panel merge-box\" data-state=\"closed\"><p>This pull "
			    "request was closed without merging.</p></section>\n");
		return;
	}
	html_fmt(h, "<section id=\"merge-box\" class=\"panel merge-box\" data-state=\"%s\">",
		 json_is_true(json_object_get(st, "mergeable")) ? "mergeable" : "blocked");
	html_fmt(h, "<p class=\"approvals\">%lld of %lld required approving review(s)</p>",
		 (long long)json_integer_value(json_object_get(st, "approvals")),
		 (long long)json_integer_value(json_object_get(st, "requiredApprovals")));
	if (!json_is_true(json_object_get(st, "mergeable"))) {
		html_raw(h, "<h3>Merging is blocked</h3><ul id=\"merge-blockers\">");
		json_array_foreach(json_object_get(st, "blockers"), i, b) {
			html_raw(h, "<li data-code=\"");
			html_text(h, json_string_value(json_object_get(b, "code")));
			html_raw(h, "\">");
			html_text(h, json_string_value(json_object_get(b, "message")));
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul>");
		if (json_array_size(json_object_get(st, "conflicts"))) {
			html_raw(h, "<p>These files conflict:</p><ul id=\"conflicts\">");
			json_array_foreach(json_object_get(st, "conflicts"), i, path) {
				html_raw(h, "<li><code>");
				html_text(h, json_string_value(path));
				html_raw(h, "</code></li>");
			}
			html_raw(h, "</ul>");
		}
		html_raw(h, "</section>\n");
		return;
	}
	html_raw(h, "<h3>This branch can be merged</h3>");
	if (pg->p.role >= ROLE_DEVELOPER) {
		html_raw(h, "<form id=\"merge-form\" class=\"inline-form\" method=\"post\" action=\"");
		rec_href(h, v, "pulls", rec_number(pr), "merge");
		html_raw(h, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
		html_text(h, pg->s.csrf);
		html_raw(h, "\"><label for=\"merge-strategy\">Strategy</label><select id=\"merge-strategy\" "
			    "name=\"strategy\"><option value=\"merge\">Create a merge commit</option>"
			    "<option value=\"squash\">Squash and merge</option>"
			    "<option value=\"fast-forward\">Fast-forward</option></select>"
			    "<button type=\"submit\" class=\"primary\">Merge pull request</button></form>");
	}
	html_raw(h, "</section>\n");
}

static void render_review_form(struct page *pg, struct html *h, const struct repo_view *v, json_t *pr,
			       const char *text)
{
	const char *author = rec_str(pr, "spec", "author");
	int own = author && pg->p.user && !strcmp(author, pg->p.user);

	html_raw(h, "<form id=\"review-form\" class=\"record-form panel\" method=\"post\" action=\"");
	rec_href(h, v, "pulls", rec_number(pr), "review");
	html_raw(h, "\"><h3>Review</h3><input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(h, pg->s.csrf);
	html_raw(h, "\"><label for=\"review-body\">Summary <span class=\"hint\">Markdown</span></label>"
		    "<textarea id=\"review-body\" name=\"body\" rows=\"4\">");
	html_text(h, text);
	html_raw(h, "</textarea><fieldset class=\"decisions\"><legend>Decision</legend>"
		    "<label><input type=\"radio\" name=\"decision\" value=\"commented\" checked> Comment</label>");
	if (own)
		html_raw(h, "<p class=\"hint\">You opened this pull request, so you cannot approve it or request "
			    "changes.</p>");
	else
		html_raw(h, "<label><input type=\"radio\" name=\"decision\" value=\"approved\"> Approve</label>"
			    "<label><input type=\"radio\" name=\"decision\" value=\"changes-requested\"> Request "
			    "changes</label>");
	html_raw(h, "</fieldset><div class=\"form-actions\"><button type=\"submit\" class=\"primary\">Submit review"
		    "</button></div></form>\n");
}

static void render_conversation(struct page *pg, struct html *h, const struct repo_view *v, json_t *pr,
				const struct pull_post *post)
{
	struct kerr e = KERR_INIT;
	json_t *comments = NULL, *reviews = NULL;
	char num[32];
	int writer = pg->p.role >= ROLE_DEVELOPER;

	snprintf(num, sizeof(num), "%lld", rec_number(pr));
	/* A thread that cannot be read leaves the rest of the page useful. */
	if (api_record_children(pg->w->api, &pg->p, pg->org, v->name, "PullRequest", num, "Comment", &comments, &e) ||
	    api_record_children(pg->w->api, &pg->p, pg->org, v->name, "PullRequest", num, "Review", &reviews, &e))
		html_raw(h, "<p class=\"flash error\">The comments and reviews cannot be shown right now.</p>");
	kerr_clear(&e);
	rec_post(h, pr, "pull-body");
	render_timeline(h, v, comments, reviews);
	render_checks(h, json_object_get(pr, "status"));
	render_merge_box(pg, h, v, pr);
	if (writer && is_open(pr))
		render_review_form(pg, h, v, pr, post && !strcmp(post->form, "review") ? post->text : "");
	if (writer)
		rec_comment_form(pg, h, v, "pulls", rec_number(pr), post && !strcmp(post->form, "comment") ? post->text : "");
	if (writer && is_open(pr))
		rec_state_form(pg, h, v, "pulls", rec_number(pr), 0, "Close pull request");
	else if (writer && phase_is(pr, "Closed"))
		rec_state_form(pg, h, v, "pulls", rec_number(pr), 1, "Reopen pull request");
	json_decref(comments);
	json_decref(reviews);
}

static void render_commits(struct html *h, const struct repo_view *v, json_t *cmp)
{
	json_t *c, *commits = json_object_get(cmp, "commits");
	size_t i;

	if (!json_array_size(commits)) {
		html_raw(h, "<p class=\"empty-state\">No commits.</p>\n");
		return;
	}
	html_raw(h, "<div class=\"table-wrap\"><table id=\"pull-commits\" class=\"data\"><thead><tr>"
		    "<th scope=\"col\">Commit</th><th scope=\"col\">Message</th><th scope=\"col\">Author</th>"
		    "<th scope=\"col\">When</th></tr></thead><tbody>\n");
	json_array_foreach(commits, i, c) {
		html_raw(h, "<tr data-sha=\"");
		html_text(h, json_string_value(json_object_get(c, "sha")));
		html_raw(h, "\"><td>");
		repo_sha_link(h, v, json_string_value(json_object_get(c, "sha")));
		html_raw(h, "</td><td>");
		html_text(h, json_string_value(json_object_get(c, "message")));
		html_raw(h, "</td><td>");
		html_text(h, json_string_value(json_object_get(c, "author")));
		html_raw(h, "</td><td>");
		repo_time(h, json_integer_value(json_object_get(c, "time")));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

static void render_files(struct html *h, json_t *cmp)
{
	json_t *f, *files = json_object_get(cmp, "files");
	const char *patch = json_string_value(json_object_get(cmp, "patch"));
	struct buf diff = BUF_INIT(DIFF_HTML_MAX);
	size_t i;

	if (!json_array_size(files)) {
		html_raw(h, "<p class=\"empty-state\">No files changed.</p>\n");
		return;
	}
	html_raw(h, "<div class=\"table-wrap\"><table id=\"pull-files\" class=\"data compact\"><thead><tr>"
		    "<th scope=\"col\">File</th><th scope=\"col\">Change</th><th scope=\"col\" class=\"num\">Lines</th>"
		    "</tr></thead><tbody>\n");
	json_array_foreach(files, i, f) {
		const char *old = json_string_value(json_object_get(f, "oldPath"));

		html_raw(h, "<tr data-path=\"");
		html_text(h, json_string_value(json_object_get(f, "path")));
		html_fmt(h, "\"><td><a href=\"#diff-%zu\"><code>", i);
		if (old) {
			html_text(h, old);
			html_raw(h, "</code> \xE2\x86\x92 <code>");
		}
		html_text(h, json_string_value(json_object_get(f, "path")));
		html_raw(h, "</code></a></td><td><span class=\"badge diff-status\" data-status=\"");
		html_text(h, json_string_value(json_object_get(f, "status")));
		html_raw(h, "\">");
		html_text(h, json_string_value(json_object_get(f, "status")));
		html_fmt(h, "</span></td><td class=\"num\"><span class=\"add\">+%lld</span> "
			    "<span class=\"del\">\xE2\x88\x92%lld</span></td></tr>\n",
			 (long long)json_integer_value(json_object_get(f, "additions")),
			 (long long)json_integer_value(json_object_get(f, "deletions")));
	}
	html_raw(h, "</tbody></table></div>\n");
	if (json_is_true(json_object_get(cmp, "truncated")))
		html_raw(h, "<p class=\"hint\" id=\"diff-truncated\">The diff is too large to show in full; later files "
			    "are left out.</p>\n");
	html_raw(h, "<div id=\"diff\" class=\"diff-view\">");
	if (patch && !web_render_diff(&diff, patch, strlen(patch)))
		html_raw(h, diff.data ? diff.data : "");
	else
		html_raw(h, "<p class=\"empty-state\">The diff cannot be shown.</p>");
	html_raw(h, "</div>\n");
	buf_free(&diff);
}

static int page_pull(struct repo_view *v, const char *num, const char *tab, const struct pull_post *post,
		     int status)
{
	struct page *pg = v->pg;
	struct kerr e = KERR_INIT;
	json_t *pr = NULL, *cmp = NULL;
	char title[400], crumb[32];
	struct html h;
	int rc = api_record_get(pg->w->api, &pg->p, pg->org, v->name, "PullRequest", num, &pr, &e);

	if (rc) {
		kerr_clear(&e);
		return rc;
	}
	snprintf(title, sizeof(title), "%s #%lld", rec_str(pr, "spec", "title") ?: "", rec_number(pr));
	snprintf(crumb, sizeof(crumb), "#%lld", rec_number(pr));
	html_init(&h);
	repo_begin(v, &h, title, "pulls", crumb);
	pull_head(&h, v, pr, tab);
	rec_errors(&h, post ? post->err : NULL);
	html_fmt(&h, "<section class=\"record-body\" data-tab=\"%s\">\n", tab);
	if (!strcmp(tab, "conversation")) {
		render_conversation(pg, &h, v, pr, post);
	} else if (api_pull_files(pg->w->api, &pg->p, pg->org, v->name, num, &cmp, &e)) {
		html_raw(&h, "<p class=\"empty-state\">");
		html_text(&h, e.message ? e.message : "The changes cannot be shown.");
		html_raw(&h, "</p>\n");
	} else if (!strcmp(tab, "commits")) {
		render_commits(&h, v, cmp);
	} else {
		render_files(&h, cmp);
	}
	html_raw(&h, "</section>\n");
	layout_end(&h);
	kerr_clear(&e);
	json_decref(cmp);
	json_decref(pr);
	return page_send(pg, &h, status);
}

/* The API call behind a form of the pull request page. */
static int pull_action(struct repo_view *v, const char *num, const char *action, json_t *req, json_t **out,
		       struct kerr *e)
{
	struct page *pg = v->pg;
	struct api *a = pg->w->api;
	const char *cid = http_req_correlation_id(pg->r);

	if (!strcmp(action, "comment"))
		return api_record_comment(a, &pg->p, pg->org, v->name, "PullRequest", num, req, cid, out, e);
	if (!strcmp(action, "review"))
		return api_pull_review(a, &pg->p, pg->org, v->name, num, req, cid, out, e);
	if (!strcmp(action, "merge"))
		return api_pull_merge(a, &pg->p, pg->org, v->name, num, req, cid, out, e);
	return api_record_update(a, &pg->p, pg->org, v->name, "PullRequest", num, req, cid, out, NULL, e);
}

/* POST .../pulls/{n}/{comment|review|merge|state}. */
static int post_pull(struct repo_view *v, const char *num, const char *action)
{
	struct form_field f[] = { { "csrf", 128, NULL, 0 },    { "body", REC_TEXT_MAX, NULL, 0 },
				  { "decision", 64, NULL, 0 }, { "strategy", 64, NULL, 0 },
				  { "state", 64, NULL, 0 } };
	struct page *pg = v->pg;
	const char *anchor = NULL;
	struct pull_post post = { 0 };
	struct kerr e = KERR_INIT;
	json_t *req = NULL, *out = NULL;
	int rc;

	if (rec_form(pg, f, 5))
		return 0;
	post.form = action;
	post.text = form_value(f, 5, "body");
	rc = rec_form_utf8(f, 5, &e);
	if (!rc) {
		req = !strcmp(action, "comment") ? json_pack("{s:s}", "body", post.text)
		      : !strcmp(action, "review")
			  ? json_pack("{s:s, s:s}", "body", post.text, "decision", form_value(f, 5, "decision"))
		      : !strcmp(action, "merge") ? json_pack("{s:s}", "strategy", form_value(f, 5, "strategy"))
						 : json_pack("{s:s}", "state", form_value(f, 5, "state"));
		rc = req ? pull_action(v, num, action, req, &out, &e) : kerr_set(&e, KE_NOMEM, NULL, "out of memory");
	}
	if (rc) {
		post.err = &e;
		rc = page_pull(v, num, "conversation", &post, kerr_http_status(e.kcode));
	} else {
		if (!strcmp(action, "merge"))
			anchor = "merge-box";
		else if (!strcmp(action, "state"))
			anchor = "pull-header";
		rc = rec_redirect(v, "pulls", num, anchor);
	}
	json_decref(req);
	json_decref(out);
	kerr_clear(&e);
	form_free(f, 5);
	return rc;
}

int page_pulls_route(struct page *pg, const char *const *seg, int n, int post)
{
	const char *what = n > 6 ? seg[6] : NULL;
	struct repo_view v;
	int rc;

	if (!util_dns_label(seg[3]) || n > 7 || (n >= 6 && strcmp(seg[5], "new") && !rec_number_ok(seg[5])))
		return KE_NOTFOUND;
	if (what && strcmp(what, "commits") && strcmp(what, "files") && strcmp(what, "comment") &&
	    strcmp(what, "review") && strcmp(what, "merge") && strcmp(what, "state"))
		return KE_NOTFOUND;
	rc = repo_view_load(pg, seg[3], &v);
	if (rc)
		goto out;
	if (n == 5)
		rc = post ? rec_method_not_allowed(pg, "GET, HEAD") : page_pull_list(&v);
	else if (!strcmp(seg[5], "new"))
		rc = n != 6 ? KE_NOTFOUND : post ? post_new_pull(&v) : render_new_pull(&v, &(struct pull_form){ 0 }, 200);
	else if (!what)
		rc = post ? rec_method_not_allowed(pg, "GET, HEAD") : page_pull(&v, seg[5], "conversation", NULL, 200);
	else if (!strcmp(what, "commits") || !strcmp(what, "files"))
		rc = post ? rec_method_not_allowed(pg, "GET, HEAD") : page_pull(&v, seg[5], what, NULL, 200);
	else
		rc = post ? post_pull(&v, seg[5], what) : rec_method_not_allowed(pg, "POST");
out:
	repo_view_free(&v);
	return rc;
}
