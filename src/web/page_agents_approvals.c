/* /orgs/{org}/agents/approvals: the inbox of AgentApproval objects, pending
 * ones first (oldest first, as they wait), then the decided ones newest
 * first; pending ones carry approve and deny forms, which decide through
 * the API's call behind POST /api/agents/approvals/{approval}/decision. */
#include "page_agents.h"
#include "core/util.h"

#include <string.h>

#define AG_APPROVALS_SHOWN 500
#define AG_COMMENT_MAX 4096u

static int pending(json_t *a)
{
	const char *phase = rec_str(a, "status", "phase");

	return !phase || !strcmp(phase, "Pending");
}

/* One form: a comment and a button per decision (only the pressed one is sent). */
static void decision_form(struct page *pg, struct html *h, const char *name)
{
	html_raw(h, "<form class=\"inline-form approval-decision\" method=\"post\" action=\"");
	ag_href(h, pg, "approvals", name);
	html_raw(h, "/decision\">");
	ag_csrf(pg, h);
	html_raw(h, "<label class=\"visually-hidden\" for=\"comment-");
	html_text(h, name);
	html_raw(h, "\">Comment</label><input type=\"text\" id=\"comment-");
	html_text(h, name);
	html_fmt(h, "\" name=\"comment\" placeholder=\"Comment (optional)\" maxlength=\"%u\">"
		    "<button type=\"submit\" name=\"decision\" value=\"approved\" class=\"primary\">Approve</button>"
		    "<button type=\"submit\" name=\"decision\" value=\"denied\" class=\"danger\">Deny</button></form>",
		 AG_COMMENT_MAX);
}

static void approval_row(struct page *pg, struct html *h, json_t *a)
{
	const char *name = rec_str(a, "metadata", "name"), *run = rec_str(a, "spec", "dispatchRun");
	const char *phase = rec_str(a, "status", "phase");

	if (!name)
		return;
	html_raw(h, "<tr data-name=\"");
	html_text(h, name);
	html_raw(h, "\" data-phase=\"");
	html_text(h, phase ? phase : "Pending");
	html_raw(h, "\"><td class=\"action\"><code>");
	html_text(h, rec_str(a, "spec", "action"));
	html_raw(h, "</code><div class=\"description\">");
	html_text(h, rec_str(a, "spec", "description"));
	html_raw(h, "</div></td><td class=\"run\">");
	if (run && util_dns_label(run)) {
		html_raw(h, "<a href=\"");
		ag_href(h, pg, "runs", run);
		html_raw(h, "\"><code>");
		html_text(h, run);
		html_raw(h, "</code></a>");
	}
	html_raw(h, "</td><td class=\"requested-by\">");
	html_text(h, rec_str(a, "spec", "requestedBy"));
	html_raw(h, " ");
	render_age(h, rec_str(a, "metadata", "creationTimestamp"));
	html_raw(h, " ago</td><td class=\"phase\">");
	ag_phase(h, phase ? phase : "Pending");
	if (!pending(a)) {
		html_raw(h, "<div class=\"muted decided\">by ");
		html_text(h, rec_str(a, "status", "decidedBy"));
		if (rec_str(a, "status", "reason")) {
			html_raw(h, ": ");
			html_text(h, rec_str(a, "status", "reason"));
		}
		html_raw(h, "</div>");
	}
	html_raw(h, "</td><td class=\"decide\">");
	/* deciding is the API's admin-only action; others see the inbox */
	if (pending(a) && pg->p.role >= ROLE_ADMIN)
		decision_form(pg, h, name);
	html_raw(h, "</td></tr>\n");
}

static int render_approvals(struct page *pg, const struct kerr *err, const char *failed, int status)
{
	json_t *items = NULL, *a;
	const char *decided = http_req_query(pg->r, "decided");
	struct kerr e = KERR_INIT;
	struct html h;
	size_t i, shown = 0, waiting = 0;
	int rc = api_agents_approvals_list(pg->w->api, &pg->p, pg->org, NULL, &items, &e);

	kerr_clear(&e);
	if (rc)
		return rc;
	json_array_foreach(items, i, a)
		waiting += pending(a);
	html_init(&h);
	ag_begin(pg, &h, "Approvals", "approvals", "Approvals", "approvals", NULL);
	html_fmt(&h, "<div class=\"page-head\"><h1>Approvals</h1><p class=\"lead\">Agent actions waiting for a person: "
		     "<strong id=\"pending-count\">%zu</strong> pending.</p></div>\n", waiting);
	if (decided && util_dns_label(decided)) {
		html_raw(&h, "<p class=\"flash success\" id=\"decided\" role=\"status\">Recorded the decision on <code>");
		html_text(&h, decided);
		html_raw(&h, "</code>.</p>\n");
	}
	if (err && failed) {
		html_raw(&h, "<p class=\"hint\">On <code>");
		html_text(&h, failed);
		html_raw(&h, "</code>:</p>");
	}
	rec_errors(&h, err);
	if (!json_array_size(items)) {
		html_raw(&h, "<p class=\"empty-state\">No approvals yet.</p>\n");
	} else {
		html_raw(&h, "<div class=\"table-wrap\"><table id=\"approval-list\" class=\"data\"><thead><tr>"
			     "<th scope=\"col\">Action</th><th scope=\"col\">Run</th><th scope=\"col\">Requested</th>"
			     "<th scope=\"col\">Phase</th><th scope=\"col\">Decision</th></tr></thead><tbody>\n");
		/* pending ones oldest first (the list is newest first), then the rest */
		for (i = json_array_size(items); i-- > 0 && shown < AG_APPROVALS_SHOWN;)
			if (pending(json_array_get(items, i)) && ++shown)
				approval_row(pg, &h, json_array_get(items, i));
		for (i = 0; i < json_array_size(items) && shown < AG_APPROVALS_SHOWN; i++)
			if (!pending(json_array_get(items, i)) && ++shown)
				approval_row(pg, &h, json_array_get(items, i));
		html_raw(&h, "</tbody></table></div>\n");
	}
	layout_end(&h);
	json_decref(items);
	return page_send(pg, &h, status);
}

int page_agent_approvals(struct page *pg)
{
	return render_approvals(pg, NULL, NULL, 200);
}

int page_agent_approval_decide(struct page *pg, const char *name)
{
	struct form_field f[] = { { "csrf", 128, NULL, 0 },
				  { "decision", 32, NULL, 0 },
				  { "comment", AG_COMMENT_MAX, NULL, 0 } };
	struct kerr e = KERR_INIT;
	struct buf loc = BUF_INIT(1024);
	json_t *req = NULL, *out = NULL;
	int rc;

	if (rec_form(pg, f, 3))
		return 0;
	if ((rc = rec_form_utf8(f, 3, &e)) == 0 &&
	    !(req = json_pack("{s:s, s:s}", "decision", form_value(f, 3, "decision"), "comment",
			      form_value(f, 3, "comment"))))
		rc = kerr_set(&e, KE_NOMEM, NULL, "out of memory");
	if (!rc)
		rc = api_agents_approval_decide(pg->w->api, &pg->p, pg->org, name, req, http_req_correlation_id(pg->r),
						&out, &e);
	if (rc) {
		rc = render_approvals(pg, &e, name, kerr_http_status(e.kcode));
	} else {
		ag_href_buf(&loc, pg, "approvals", NULL);
		buf_addstr(&loc, "?decided=");
		url_encode(&loc, name, strlen(name));
		rc = web_redirect(pg->r, loc.data ? loc.data : "/orgs");
	}
	json_decref(req);
	json_decref(out);
	buf_free(&loc);
	kerr_clear(&e);
	form_free(f, 3);
	return rc;
}
