/* /orgs/{org}/agents/runs/new: dispatch an agent stack on a repository's
 * branch with a prompt. POST dispatches through the API's call behind
 * POST /api/agents/runs and goes to the new run; a refusal (a denied
 * permission review with its reasons, a field the API rejects) shows the
 * form again with what was typed. The branch list is the chosen
 * repository's; krate.js fetches the list of another repository when it is
 * picked, and without it a branch the repository lacks comes back as the
 * API's refusal with the right list. */
#include "page_agents.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

struct dispatch_form {
	const char *stack, *repository, *ref, *task, *prompt, *labels;
	const struct kerr *err;
};

static int stack_ready(json_t *st)
{
	const char *phase = rec_str(st, "status", "phase");

	return phase && !strcmp(phase, "Ready");
}

/* Ready stacks first, so the likely choice is on top; the others say why not. */
static void stack_select(struct html *h, json_t *stacks, const char *selected, const struct kerr *err)
{
	json_t *st;
	size_t i;
	int ready, any;

	html_raw(h, "<select id=\"dispatch-stack\" name=\"stack\" required");
	rec_invalid(h, err, "agentStack");
	html_raw(h, ">");
	for (ready = 1; ready >= 0; ready--) {
		any = 0;
		json_array_foreach(stacks, i, st) {
			const char *name = rec_str(st, "metadata", "name"), *phase = rec_str(st, "status", "phase");

			if (!name || stack_ready(st) != ready)
				continue;
			if (!any++)
				html_raw(h, ready ? "<optgroup label=\"Ready\">" : "<optgroup label=\"Not ready\">");
			html_raw(h, "<option value=\"");
			html_text(h, name);
			html_raw(h, selected && !strcmp(selected, name) ? "\" selected>" : "\">");
			html_text(h, name);
			if (!ready) {
				html_raw(h, " (");
				html_text(h, phase ? phase : "Unknown");
				html_raw(h, ")");
			}
			html_raw(h, "</option>");
		}
		if (any)
			html_raw(h, "</optgroup>");
	}
	html_raw(h, "</select>");
}

/* One option showing value, chosen when it is selected. */
static void option(struct html *h, const char *value, const char *selected)
{
	html_raw(h, "<option value=\"");
	html_text(h, value);
	html_raw(h, selected && !strcmp(selected, value) ? "\" selected>" : "\">");
	html_text(h, value);
	html_raw(h, "</option>");
}

static void name_options(struct html *h, json_t *items, const char *selected)
{
	json_t *r;
	size_t i;

	json_array_foreach(items, i, r) {
		const char *name = rec_str(r, "metadata", "name");

		if (!name)
			continue;
		option(h, name, selected);
	}
}

/* The branches of repo as options, the selected (or else the default) one chosen. */
static void branch_options(struct page *pg, struct html *h, const char *repo, const char *selected)
{
	struct api_browse_req q = { API_BROWSE_BRANCHES, pg->org, repo, NULL, NULL, 0, 0 };
	struct kerr e = KERR_INIT;
	json_t *list = NULL, *b;
	const char *def;
	size_t i;

	/* an empty repository, or git not there, offers no branch; the API then says why */
	if (!repo || !util_dns_label(repo) || api_browse(pg->w->api, &pg->p, &q, &list, &e))
		list = NULL;
	kerr_clear(&e);
	def = json_string_value(json_object_get(list, "default"));
	if (!selected || !*selected)
		selected = def;
	json_array_foreach(json_object_get(list, "items"), i, b) {
		const char *bn = json_string_value(json_object_get(b, "name"));

		if (!bn)
			continue;
		option(h, bn, selected);
	}
	json_decref(list);
}

static int render_dispatch(struct page *pg, const struct dispatch_form *f, int status)
{
	json_t *stacks = NULL, *repos = NULL, *labels = NULL, *l;
	const char *repo = f->repository;
	struct html h;
	size_t i;
	int rc;

	if ((rc = ag_list(pg, "AgentStack", &stacks)) || (rc = ag_list(pg, "Repository", &repos)))
		goto out;
	if (ag_list(pg, "AgentContextLabel", &labels))
		labels = NULL;
	if ((!repo || !*repo) && json_array_size(repos))
		repo = rec_str(json_array_get(repos, 0), "metadata", "name");
	html_init(&h);
	ag_begin(pg, &h, "Dispatch an agent", "dispatch-runs", "Runs", "runs", "New");
	html_raw(&h, "<div class=\"page-head\"><h1>Dispatch an agent</h1><p class=\"lead\">Run an agent stack on a "
		     "branch. Its permissions are reviewed first; the run's page shows the transcript as it "
		     "works.</p></div>\n");
	rec_errors(&h, f->err);
	if (!json_array_size(stacks) || !json_array_size(repos)) {
		html_raw(&h, "<p class=\"empty-state\">A dispatch needs an agent stack and a repository; this org has ");
		html_raw(&h, !json_array_size(stacks) ? "no agent stack yet.</p>\n" : "no repository yet.</p>\n");
		layout_end(&h);
		rc = page_send(pg, &h, status);
		goto out;
	}
	html_raw(&h, "<form id=\"dispatch-form\" class=\"record-form\" method=\"post\" action=\"");
	ag_href(&h, pg, "runs", "new");
	html_raw(&h, "\">");
	ag_csrf(pg, &h);
	html_raw(&h, "<label for=\"dispatch-stack\">Agent stack</label>");
	stack_select(&h, stacks, f->stack, f->err);
	html_raw(&h, "<div class=\"branch-pick\"><label for=\"dispatch-repository\">Repository</label>"
		     "<select id=\"dispatch-repository\" name=\"repository\" required data-branches=\"dispatch-ref\"");
	rec_invalid(&h, f->err, "repository");
	html_raw(&h, ">");
	name_options(&h, repos, repo);
	html_raw(&h, "</select><label for=\"dispatch-ref\">Branch</label><select id=\"dispatch-ref\" name=\"ref\" "
		     "data-api=\"/api/orgs/");
	html_url(&h, pg->org);
	html_raw(&h, "/repositories/\"");
	rec_invalid(&h, f->err, "ref");
	html_raw(&h, ">");
	branch_options(pg, &h, repo, rec_branch(f->ref));
	html_raw(&h, "</select></div><label for=\"dispatch-task\">Task kind</label><input id=\"dispatch-task\" "
		     "type=\"text\" name=\"taskKind\" list=\"task-kinds\" value=\"");
	html_text(&h, f->task && *f->task ? f->task : "general");
	html_raw(&h, "\"");
	rec_invalid(&h, f->err, "taskKind");
	html_raw(&h, "><datalist id=\"task-kinds\"><option value=\"general\"><option value=\"diagnosis\">"
		     "<option value=\"ci-repair\"><option value=\"code-change\"><option value=\"review\"></datalist>"
		     "<label for=\"dispatch-prompt\">Prompt</label><textarea id=\"dispatch-prompt\" name=\"prompt\" "
		     "rows=\"8\"");
	rec_invalid(&h, f->err, "prompt");
	html_raw(&h, ">");
	html_text(&h, f->prompt);
	html_raw(&h, "</textarea><label for=\"dispatch-labels\">Context labels <span class=\"hint\">comma-separated"
		     "</span></label><input id=\"dispatch-labels\" type=\"text\" name=\"contextLabels\" value=\"");
	html_text(&h, f->labels);
	html_raw(&h, "\"");
	rec_invalid(&h, f->err, "contextLabels");
	html_raw(&h, ">");
	if (json_array_size(labels)) {
		html_raw(&h, "<p class=\"hint\" id=\"known-labels\">Known labels: ");
		json_array_foreach(labels, i, l) {
			html_raw(&h, i ? ", <code>" : "<code>");
			html_text(&h, rec_str(l, "metadata", "name"));
			html_raw(&h, "</code>");
		}
		html_raw(&h, "</p>");
	}
	html_raw(&h, "<div class=\"form-actions\"><button type=\"submit\" class=\"primary\">Dispatch</button>"
		     "<a class=\"button\" href=\"");
	ag_href(&h, pg, "runs", NULL);
	html_raw(&h, "\">Cancel</a></div></form>\n");
	layout_end(&h);
	rc = page_send(pg, &h, status);
out:
	json_decref(stacks);
	json_decref(repos);
	json_decref(labels);
	return rc;
}

/* The request of POST /api/agents/runs from the form (new ref), or NULL. */
static json_t *dispatch_request(const struct dispatch_form *f)
{
	json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:o}", "agentStack", f->stack, "repository", f->repository,
				"taskKind", *f->task ? f->task : "general", "prompt", f->prompt, "contextLabels",
				rec_json_names(f->labels));
	char ref[AG_FIELD_MAX + 16];

	/* the form offers branch names; the API takes full refs */
	if (req && *f->ref) {
		snprintf(ref, sizeof(ref), "%s%s", strncmp(f->ref, "refs/", 5) ? "refs/heads/" : "", f->ref);
		json_object_set_new(req, "ref", json_string(ref));
	}
	return req;
}

static int post_dispatch(struct page *pg)
{
	struct form_field f[] = { { "csrf", 128, NULL, 0 },          { "stack", AG_FIELD_MAX, NULL, 0 },
				  { "repository", AG_FIELD_MAX, NULL, 0 }, { "ref", AG_FIELD_MAX, NULL, 0 },
				  { "taskKind", AG_FIELD_MAX, NULL, 0 },   { "prompt", AG_PROMPT_MAX, NULL, 0 },
				  { "contextLabels", AG_FIELD_MAX, NULL, 0 } };
	struct dispatch_form df;
	struct kerr e = KERR_INIT;
	struct buf loc = BUF_INIT(2048);
	json_t *req = NULL, *out = NULL;
	const char *run = NULL;
	int rc;

	if (rec_form(pg, f, 7))
		return 0;
	df = (struct dispatch_form){ form_value(f, 7, "stack"),  form_value(f, 7, "repository"),
				     form_value(f, 7, "ref"),    form_value(f, 7, "taskKind"),
				     form_value(f, 7, "prompt"), form_value(f, 7, "contextLabels"), NULL };
	if ((rc = rec_form_utf8(f, 7, &e)) == 0 && !(req = dispatch_request(&df)))
		rc = kerr_set(&e, KE_NOMEM, NULL, "out of memory");
	if (!rc)
		rc = api_agents_dispatch(pg->w->api, &pg->p, pg->org, req, http_req_correlation_id(pg->r), &out, &e);
	if (!rc) {
		run = json_string_value(json_object_get(json_object_get(json_object_get(out, "run"), "metadata"), "name"));
		if (!run || !util_dns_label(run))
			rc = kerr_set(&e, KE_INTERNAL, NULL, "the dispatch returned no run");
	}
	if (rc) {
		df.err = &e;
		rc = render_dispatch(pg, &df, kerr_http_status(e.kcode));
	} else {
		ag_href_buf(&loc, pg, "runs", run);
		rc = web_redirect(pg->r, loc.data ? loc.data : "/orgs");
	}
	json_decref(req);
	json_decref(out);
	buf_free(&loc);
	kerr_clear(&e);
	form_free(f, 7);
	return rc;
}

int page_agent_dispatch(struct page *pg, int post)
{
	struct dispatch_form df = { http_req_query(pg->r, "stack"), http_req_query(pg->r, "repository"),
				    http_req_query(pg->r, "ref"), NULL, "", "", NULL };

	return post ? post_dispatch(pg) : render_dispatch(pg, &df, 200);
}
