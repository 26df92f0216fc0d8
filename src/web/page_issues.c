/* Issues in the console: the list with state tabs, the new issue form, and
 * one issue (body, comments, labels, assignees, and the comment, edit and
 * close forms), all through the API's calls (api_issue_open, api_record_*). */
#include "page_records.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

/* ---- the list ---- */

static void chips(struct html *h, json_t *names, const char *id)
{
	json_t *v;
	size_t i;

	if (!json_array_size(names)) {
		if (id)
			html_fmt(h, "<p class=\"muted\" id=\"%s\">None yet</p>", id);
		return;
	}
	if (id)
		html_fmt(h, "<ul class=\"chips\" id=\"%s\">", id);
	else
		html_raw(h, "<ul class=\"chips\">");
	json_array_foreach(names, i, v) {
		html_raw(h, "<li>");
		html_text(h, json_string_value(v));
		html_raw(h, "</li>");
	}
	html_raw(h, "</ul>");
}

static void issue_row(struct html *h, const struct repo_view *v, json_t *issue)
{
	long long n = rec_number(issue);

	html_fmt(h, "<tr data-number=\"%lld\"><td class=\"number\">#%lld</td><td class=\"title\"><a href=\"", n, n);
	rec_href(h, v, "issues", n, NULL);
	html_raw(h, "\">");
	html_text(h, rec_str(issue, "spec", "title"));
	html_raw(h, "</a>");
	chips(h, json_object_get(json_object_get(issue, "spec"), "labels"), NULL);
	html_raw(h, "</td><td class=\"author\">");
	html_text(h, rec_str(issue, "spec", "author"));
	html_raw(h, "</td><td class=\"state\">");
	rec_state_badge(h, rec_str(issue, "status", "phase"));
	html_raw(h, "</td></tr>\n");
}

static int page_issue_list(struct repo_view *v)
{
	struct page *pg = v->pg;
	const char *state = http_req_query(pg->r, "state");
	struct kerr e = KERR_INIT;
	json_t *items = NULL, *issue;
	struct html h;
	size_t i;
	int rc;

	if (!state || !*state)
		state = "open";
	if (strcmp(state, "open") && strcmp(state, "closed"))
		return KE_NOTFOUND;
	rc = api_records_list(pg->w->api, &pg->p, pg->org, v->name, "Issue", state, &items, &e);
	kerr_clear(&e);
	if (rc)
		return rc;
	html_init(&h);
	repo_begin(v, &h, "Issues", "issues", "Issues");
	html_raw(&h, "<div class=\"page-head\"><h2>Issues</h2>");
	if (pg->p.role >= ROLE_DEVELOPER) {
		html_raw(&h, "<div class=\"actions\"><a id=\"new-issue\" class=\"button primary\" href=\"");
		rec_href(&h, v, "issues", 0, "new");
		html_raw(&h, "\">New issue</a></div>");
	}
	html_raw(&h, "</div>\n");
	rec_state_tabs(&h, v, "issues", state, 0);
	if (!json_array_size(items)) {
		html_fmt(&h, "<p class=\"empty-state\">No %s issues.</p>\n", state);
	} else {
		html_raw(&h, "<div class=\"table-wrap\"><table id=\"issue-list\" class=\"data\"><thead><tr>"
			     "<th scope=\"col\">#</th><th scope=\"col\">Title</th><th scope=\"col\">Author</th>"
			     "<th scope=\"col\">State</th></tr></thead><tbody>\n");
		json_array_foreach(items, i, issue)
			issue_row(&h, v, issue);
		html_raw(&h, "</tbody></table></div>\n");
	}
	layout_end(&h);
	json_decref(items);
	return page_send(pg, &h, 200);
}

/* ---- new issue ---- */

struct issue_form {
	const char *title, *body, *labels, *assignees;
	const struct kerr *err;
};

static void names_input(struct html *h, const char *id, const char *name, const char *label, const char *value,
			const struct kerr *err)
{
	html_fmt(h, "<label for=\"%s\">%s <span class=\"hint\">comma-separated</span></label><input id=\"%s\" "
		    "type=\"text\" name=\"%s\" value=\"", id, label, id, name);
	html_text(h, value);
	html_raw(h, "\"");
	rec_invalid(h, err, name);
	html_raw(h, ">");
}

static int render_new_issue(struct repo_view *v, const struct issue_form *f, int status)
{
	struct page *pg = v->pg;
	struct html h;

	html_init(&h);
	repo_begin(v, &h, "New issue", "issues", "New issue");
	html_raw(&h, "<div class=\"page-head\"><h2>Open an issue</h2></div>\n");
	rec_errors(&h, f->err);
	html_raw(&h, "<form id=\"issue-form\" class=\"record-form\" method=\"post\" action=\"");
	rec_href(&h, v, "issues", 0, "new");
	html_raw(&h, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(&h, pg->s.csrf);
	html_raw(&h, "\"><label for=\"issue-title\">Title</label><input id=\"issue-title\" type=\"text\" name=\"title\" "
		     "required maxlength=\"256\" value=\"");
	html_text(&h, f->title);
	html_raw(&h, "\"");
	rec_invalid(&h, f->err, "title");
	html_raw(&h, "><label for=\"issue-body\">Description <span class=\"hint\">Markdown</span></label>"
		     "<textarea id=\"issue-body\" name=\"body\" rows=\"10\">");
	html_text(&h, f->body);
	html_raw(&h, "</textarea>");
	names_input(&h, "issue-labels-input", "labels", "Labels", f->labels, f->err);
	names_input(&h, "issue-assignees-input", "assignees", "Assignees", f->assignees, f->err);
	html_raw(&h, "<div class=\"form-actions\"><button type=\"submit\" class=\"primary\">Open issue</button>"
		     "<a class=\"button\" href=\"");
	rec_href(&h, v, "issues", 0, NULL);
	html_raw(&h, "\">Cancel</a></div></form>\n");
	layout_end(&h);
	return page_send(pg, &h, status);
}

static int post_new_issue(struct repo_view *v)
{
	struct form_field f[] = { { "csrf", 128, NULL, 0 }, { "title", REC_FIELD_MAX, NULL, 0 },
				  { "body", REC_TEXT_MAX, NULL, 0 }, { "labels", REC_FIELD_MAX, NULL, 0 },
				  { "assignees", REC_FIELD_MAX, NULL, 0 } };
	struct page *pg = v->pg;
	struct issue_form fm = { 0 };
	struct kerr e = KERR_INIT;
	json_t *req = NULL, *issue = NULL;
	char num[32];
	int rc;

	if (rec_form(pg, f, 5))
		return 0;
	fm.title = form_value(f, 5, "title");
	fm.body = form_value(f, 5, "body");
	fm.labels = form_value(f, 5, "labels");
	fm.assignees = form_value(f, 5, "assignees");
	rc = rec_form_utf8(f, 5, &e);
	if (!rc && !(req = json_pack("{s:s, s:s, s:o*, s:o*}", "title", fm.title, "body", fm.body, "labels",
				     rec_json_names(fm.labels), "assignees", rec_json_names(fm.assignees))))
		rc = kerr_set(&e, KE_NOMEM, NULL, "out of memory");
	if (!rc)
		rc = api_issue_open(pg->w->api, &pg->p, pg->org, v->name, req, http_req_correlation_id(pg->r), &issue, &e);
	if (rc) {
		fm.err = &e;
		rc = render_new_issue(v, &fm, kerr_http_status(e.kcode));
	} else {
		snprintf(num, sizeof(num), "%lld", rec_number(issue));
		rc = rec_redirect(v, "issues", num, NULL);
	}
	json_decref(req);
	json_decref(issue);
	kerr_clear(&e);
	form_free(f, 5);
	return rc;
}

/* ---- one issue ---- */

/* What a failed POST leaves for the page that shows it again. */
struct issue_post {
	const struct kerr *err;
	const char *text;        /* the comment being written */
};

/* names as "a, b" for the edit form. */
static void names_value(struct buf *b, json_t *names)
{
	json_t *v;
	size_t i;

	json_array_foreach(names, i, v)
		if (json_is_string(v))
			buf_printf(b, "%s%s", i ? ", " : "", json_string_value(v));
}

static void render_sidebar(struct page *pg, struct html *h, const struct repo_view *v, json_t *issue)
{
	json_t *spec = json_object_get(issue, "spec");
	struct buf labels = BUF_INIT(16384), assignees = BUF_INIT(16384);

	html_raw(h, "<aside class=\"record-side\"><section id=\"issue-meta\" class=\"panel\"><h3>Labels</h3>");
	chips(h, json_object_get(spec, "labels"), "issue-labels");
	html_raw(h, "<h3>Assignees</h3>");
	chips(h, json_object_get(spec, "assignees"), "issue-assignees");
	if (pg->p.role >= ROLE_DEVELOPER) {
		names_value(&labels, json_object_get(spec, "labels"));
		names_value(&assignees, json_object_get(spec, "assignees"));
		html_raw(h, "<form id=\"labels-form\" class=\"record-form\" method=\"post\" action=\"");
		rec_href(h, v, "issues", rec_number(issue), "edit");
		html_raw(h, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
		html_text(h, pg->s.csrf);
		html_raw(h, "\">");
		names_input(h, "issue-labels-input", "labels", "Labels", labels.data ? labels.data : "", NULL);
		names_input(h, "issue-assignees-input", "assignees", "Assignees", assignees.data ? assignees.data : "",
			    NULL);
		html_raw(h, "<div class=\"form-actions\"><button type=\"submit\">Save</button></div></form>");
	}
	html_raw(h, "</section></aside>\n");
	buf_free(&labels);
	buf_free(&assignees);
}

static int page_issue(struct repo_view *v, const char *num, const struct issue_post *post, int status)
{
	struct page *pg = v->pg;
	struct kerr e = KERR_INIT;
	json_t *issue = NULL, *comments = NULL, *c;
	const char *phase;
	char title[400], crumb[32];
	struct html h;
	size_t i;
	int rc = api_record_get(pg->w->api, &pg->p, pg->org, v->name, "Issue", num, &issue, &e);

	if (rc) {
		kerr_clear(&e);
		return rc;
	}
	phase = rec_str(issue, "status", "phase");
	snprintf(title, sizeof(title), "%s #%lld", rec_str(issue, "spec", "title") ?: "", rec_number(issue));
	snprintf(crumb, sizeof(crumb), "#%lld", rec_number(issue));
	html_init(&h);
	repo_begin(v, &h, title, "issues", crumb);
	html_raw(&h, "<div class=\"page-head record-head\" id=\"issue-header\"><h2><span id=\"issue-title\">");
	html_text(&h, rec_str(issue, "spec", "title"));
	html_fmt(&h, "</span> <span class=\"muted\">#%lld</span></h2><p class=\"record-meta\"><span id=\"issue-state\">",
		 rec_number(issue));
	rec_state_badge(&h, phase);
	html_raw(&h, "</span> <strong id=\"issue-author\">");
	html_text(&h, rec_str(issue, "spec", "author"));
	html_raw(&h, "</strong> opened this issue</p></div>\n");
	rec_errors(&h, post ? post->err : NULL);
	html_raw(&h, "<div class=\"record-layout\"><div class=\"record-main\">");
	rec_post(&h, issue, "issue-body");
	/* A thread that cannot be read leaves the rest of the page useful. */
	if (api_record_children(pg->w->api, &pg->p, pg->org, v->name, "Issue", num, "Comment", &comments, &e))
		html_raw(&h, "<p class=\"flash error\">The comments cannot be shown right now.</p>");
	kerr_clear(&e);
	html_raw(&h, "<div id=\"timeline\">\n");
	json_array_foreach(comments, i, c)
		rec_comment(&h, c);
	html_raw(&h, "</div>\n");
	if (pg->p.role >= ROLE_DEVELOPER) {
		rec_comment_form(pg, &h, v, "issues", rec_number(issue), post ? post->text : "");
		if (phase && !strcmp(phase, "Closed"))
			rec_state_form(pg, &h, v, "issues", rec_number(issue), 1, "Reopen issue");
		else
			rec_state_form(pg, &h, v, "issues", rec_number(issue), 0, "Close issue");
	}
	html_raw(&h, "</div>\n");
	render_sidebar(pg, &h, v, issue);
	html_raw(&h, "</div>\n");
	layout_end(&h);
	json_decref(comments);
	json_decref(issue);
	return page_send(pg, &h, status);
}

/* POST .../issues/{n}/{comment|state|edit}. */
static int post_issue(struct repo_view *v, const char *num, const char *action)
{
	struct form_field f[] = { { "csrf", 128, NULL, 0 },          { "body", REC_TEXT_MAX, NULL, 0 },
				  { "state", 64, NULL, 0 },           { "labels", REC_FIELD_MAX, NULL, 0 },
				  { "assignees", REC_FIELD_MAX, NULL, 0 } };
	struct page *pg = v->pg;
	const char *cid = http_req_correlation_id(pg->r);
	struct issue_post post = { 0 };
	struct kerr e = KERR_INIT;
	json_t *req = NULL, *out = NULL;
	int rc;

	if (rec_form(pg, f, 5))
		return 0;
	rc = rec_form_utf8(f, 5, &e);
	if (!rc) {
		req = !strcmp(action, "comment") ? json_pack("{s:s}", "body", form_value(f, 5, "body"))
		      : !strcmp(action, "state") ? json_pack("{s:s}", "state", form_value(f, 5, "state"))
						 : json_pack("{s:o*, s:o*}", "labels", rec_json_names(form_value(f, 5, "labels")),
							     "assignees", rec_json_names(form_value(f, 5, "assignees")));
		if (!req)
			rc = kerr_set(&e, KE_NOMEM, NULL, "out of memory");
		else if (!strcmp(action, "comment"))
			rc = api_record_comment(pg->w->api, &pg->p, pg->org, v->name, "Issue", num, req, cid, &out, &e);
		else
			rc = api_record_update(pg->w->api, &pg->p, pg->org, v->name, "Issue", num, req, cid, &out, NULL,
					       &e);
	}
	if (rc) {
		post.err = &e;
		post.text = !strcmp(action, "comment") ? form_value(f, 5, "body") : "";
		rc = page_issue(v, num, &post, kerr_http_status(e.kcode));
	} else {
		rc = rec_redirect(v, "issues", num, !strcmp(action, "comment") ? "timeline" : "issue-header");
	}
	json_decref(req);
	json_decref(out);
	kerr_clear(&e);
	form_free(f, 5);
	return rc;
}

int page_issues_route(struct page *pg, const char *const *seg, int n, int post)
{
	const char *what = n > 6 ? seg[6] : NULL;
	struct repo_view v;
	int rc;

	if (!util_dns_label(seg[3]) || n > 7 || (n >= 6 && strcmp(seg[5], "new") && !rec_number_ok(seg[5])))
		return KE_NOTFOUND;
	if (what && strcmp(what, "comment") && strcmp(what, "state") && strcmp(what, "edit"))
		return KE_NOTFOUND;
	rc = repo_view_load(pg, seg[3], &v);
	if (rc)
		goto out;
	if (n == 5)
		rc = post ? rec_method_not_allowed(pg, "GET, HEAD") : page_issue_list(&v);
	else if (!strcmp(seg[5], "new"))
		rc = n != 6 ? KE_NOTFOUND : post ? post_new_issue(&v) : render_new_issue(&v, &(struct issue_form){ 0 }, 200);
	else if (!what)
		rc = post ? rec_method_not_allowed(pg, "GET, HEAD") : page_issue(&v, seg[5], NULL, 200);
	else
		rc = post ? post_issue(&v, seg[5], what) : rec_method_not_allowed(pg, "POST");
out:
	repo_view_free(&v);
	return rc;
}
