/* Agent stacks in the console: the list (adapter, phase, failing
 * conditions) and one stack (spec summary, readiness conditions,
 * capabilities, and the permission review panel whose missing grants can be
 * created from their YAML previews). */
#include "page_agents.h"
#include "core/util.h"
#include "core/yaml.h"

#include <stdlib.h>
#include <string.h>

static int is_true(json_t *cond)
{
	const char *st = json_string_value(json_object_get(cond, "status"));

	return st && !strcmp(st, "True");
}

/* A badge showing value, which is also its data-attr (the stylesheet colours by it). */
static void badge(struct html *h, const char *attr, const char *value)
{
	html_fmt(h, "<span class=\"badge\" data-%s=\"", attr);
	html_text(h, value);
	html_raw(h, "\">");
	html_text(h, value);
	html_raw(h, "</span>");
}

/* The start of a table row that data-status marks with st. */
static void status_row(struct html *h, const char *st)
{
	html_raw(h, "<tr data-status=\"");
	html_text(h, st);
	html_raw(h, "\"><td>");
}

/* The last cell of a status_row: st as a badge; the row ends. */
static void status_row_end(struct html *h, const char *st)
{
	html_raw(h, "</td><td>");
	badge(h, "state", st);
	html_raw(h, "</td></tr>");
}

/* ---- the list ---- */

static void stack_row(struct page *pg, struct html *h, json_t *st)
{
	const char *name = rec_str(st, "metadata", "name");
	json_t *conds = json_object_get(json_object_get(st, "status"), "conditions"), *c;
	size_t i, failing = 0;

	if (!name)
		return;
	html_raw(h, "<tr data-name=\"");
	html_text(h, name);
	html_raw(h, "\"><td class=\"name\"><a href=\"");
	ag_href(h, pg, "stacks", name);
	html_raw(h, "\">");
	html_text(h, name);
	html_raw(h, "</a></td><td class=\"adapter\"><code>");
	html_text(h, rec_str(st, "spec", "adapter"));
	html_raw(h, "</code></td><td class=\"phase\">");
	ag_phase(h, rec_str(st, "status", "phase"));
	html_raw(h, "</td><td class=\"failing\">");
	json_array_foreach(conds, i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));

		/* Ready only sums up the others */
		if (is_true(c) || (type && !strcmp(type, "Ready")))
			continue;
		html_raw(h, failing++ ? "<li" : "<ul class=\"chips failing\"><li");
		html_raw(h, " data-type=\"");
		html_text(h, type);
		html_raw(h, "\" title=\"");
		html_text(h, json_string_value(json_object_get(c, "reason")));
		html_raw(h, ": ");
		html_text(h, json_string_value(json_object_get(c, "message")));
		html_raw(h, "\">");
		html_text(h, type);
		html_raw(h, "</li>");
	}
	html_raw(h, failing ? "</ul>" : "<span class=\"muted\">none</span>");
	html_raw(h, "</td></tr>\n");
}

int page_agent_stacks(struct page *pg)
{
	json_t *items = NULL, *st;
	struct html h;
	size_t i;
	int rc = ag_list(pg, "AgentStack", &items);

	if (rc)
		return rc;
	html_init(&h);
	ag_begin(pg, &h, "Agent stacks", "stacks", "Stacks", "stacks", NULL);
	html_raw(&h, "<div class=\"page-head\"><h1>Agent stacks</h1><p class=\"lead\">How agents are assembled, and "
		     "whether each one can run now.</p><div class=\"actions\">");
	if (pg->p.role >= ROLE_DEVELOPER) {
		html_raw(&h, "<a id=\"dispatch-agent\" class=\"button primary\" href=\"");
		ag_href(&h, pg, "runs", "new");
		html_raw(&h, "\">Dispatch an agent</a>");
	}
	html_raw(&h, "<a class=\"button\" href=\"/orgs/");
	html_url(&h, pg->org);
	html_raw(&h, "/new?kind=AgentStack\">New AgentStack</a></div></div>\n");
	if (!json_array_size(items)) {
		html_raw(&h, "<p class=\"empty-state\">No agent stacks yet.</p>\n");
	} else {
		html_raw(&h, "<div class=\"table-wrap\"><table id=\"stack-list\" class=\"data\"><thead><tr>"
			     "<th scope=\"col\">Name</th><th scope=\"col\">Adapter</th><th scope=\"col\">Phase</th>"
			     "<th scope=\"col\">Failing conditions</th></tr></thead><tbody>\n");
		json_array_foreach(items, i, st)
			stack_row(pg, &h, st);
		html_raw(&h, "</tbody></table></div>\n");
	}
	layout_end(&h);
	json_decref(items);
	return page_send(pg, &h, 200);
}

/* ---- one stack ---- */

static void dl_row(struct html *h, const char *label, json_t *v)
{
	html_raw(h, "<dt>");
	html_text(h, label);
	html_raw(h, "</dt><dd>");
	if (json_is_integer(v))
		html_fmt(h, "%lld", (long long)json_integer_value(v));
	else
		ag_ref(h, v);
	html_raw(h, "</dd>");
}

static void dl_list(struct html *h, const char *label, json_t *arr)
{
	json_t *v;
	size_t i;

	html_raw(h, "<dt>");
	html_text(h, label);
	html_raw(h, "</dt><dd>");
	if (!json_array_size(arr))
		html_raw(h, "<span class=\"muted\">(none)</span>");
	else
		html_raw(h, "<ul class=\"chips\">");
	json_array_foreach(arr, i, v) {
		html_raw(h, "<li>");
		ag_ref(h, v);
		html_raw(h, "</li>");
	}
	if (json_array_size(arr))
		html_raw(h, "</ul>");
	html_raw(h, "</dd>");
}

static void render_spec(struct html *h, json_t *stack)
{
	json_t *spec = json_object_get(stack, "spec"), *cmd = json_object_get(spec, "command"), *arg;
	json_t *prompt = json_object_get(spec, "prompt");
	static const char *const layers[] = { "system", "developer", "task" };
	size_t i;

	html_raw(h, "<section id=\"stack-spec\" class=\"panel\"><h2>Spec</h2><dl class=\"meta\">");
	dl_row(h, "Base agent", json_object_get(spec, "baseAgent"));
	dl_row(h, "Adapter", json_object_get(spec, "adapter"));
	dl_row(h, "Runtime identity", json_object_get(spec, "runtimeIdentity"));
	dl_row(h, "Model", json_object_get(spec, "model"));
	dl_row(h, "Provider", json_object_get(spec, "provider"));
	dl_row(h, "Runner pool", json_object_get(spec, "runnerPool"));
	dl_row(h, "Tool profile", json_object_get(spec, "toolProfileRef"));
	dl_row(h, "Approval mode", json_object_get(spec, "approvalMode"));
	dl_row(h, "Time limit (s)", json_object_get(spec, "timeoutSeconds"));
	dl_row(h, "Concurrent runs", json_object_get(spec, "maxConcurrentRuns"));
	html_raw(h, "<dt>Command</dt><dd>");
	if (!json_array_size(cmd))
		html_raw(h, "<span class=\"muted\">\xE2\x80\x94</span>");
	else
		html_raw(h, "<code id=\"stack-command\">");
	json_array_foreach(cmd, i, arg) {
		if (i)
			html_raw(h, " ");
		html_text(h, json_string_value(arg));
	}
	if (json_array_size(cmd))
		html_raw(h, "</code>");
	html_raw(h, "</dd>");
	dl_list(h, "MCP servers", json_object_get(spec, "mcpServerRefs"));
	dl_list(h, "Skills", json_object_get(spec, "skillRefs"));
	dl_list(h, "Subagents", json_object_get(spec, "subagentRefs"));
	dl_list(h, "Context labels", json_object_get(spec, "contextLabelRefs"));
	html_raw(h, "</dl>");
	for (i = 0; i < 3; i++) {
		const char *text = json_string_value(json_object_get(prompt, layers[i]));

		if (!text || !*text)
			continue;
		html_fmt(h, "<details class=\"prompt-layer\" data-layer=\"%s\"><summary>%s prompt</summary>"
			    "<pre class=\"value\">", layers[i], layers[i]);
		html_text(h, text);
		html_raw(h, "</pre></details>");
	}
	html_raw(h, "</section>\n");
}

static void render_capabilities(struct html *h, json_t *status)
{
	json_t *caps = json_object_get(status, "capabilities"), *c;
	json_t *perm = json_object_get(status, "permission");
	size_t i;

	html_raw(h, "<section id=\"capabilities\" class=\"panel\"><h2>Capabilities</h2>");
	if (!json_array_size(caps)) {
		html_raw(h, status ? "<p class=\"empty-state\">The stack references no tool profile, MCP server, skill, "
				     "subagent, context label or workspace policy.</p>"
				   : "<p class=\"empty-state\">Not evaluated yet.</p>");
	} else {
		html_raw(h, "<div class=\"table-wrap\"><table class=\"data compact\"><thead><tr><th scope=\"col\">Kind</th>"
			    "<th scope=\"col\">Name</th><th scope=\"col\">Status</th></tr></thead><tbody>");
		json_array_foreach(caps, i, c) {
			const char *st = json_string_value(json_object_get(c, "status"));

			status_row(h, st);
			html_text(h, json_string_value(json_object_get(c, "kind")));
			html_raw(h, "</td><td>");
			html_text(h, json_string_value(json_object_get(c, "name")));
			status_row_end(h, st);
		}
		html_raw(h, "</tbody></table></div>");
	}
	if (perm) {
		html_raw(h, "<p id=\"stack-permission\">Last permission review: ");
		badge(h, "decision", json_string_value(json_object_get(perm, "decision")));
		html_raw(h, " ");
		ag_digest(h, json_string_value(json_object_get(perm, "digest")));
		html_raw(h, "</p>");
	}
	html_raw(h, "</section>\n");
}

/* ---- permission review ---- */

/* What the review form asked (all from the query, untrusted). */
struct review_q {
	const char *repository, *ref, *actor;
};

static void repo_options(struct page *pg, struct html *h, const char *selected)
{
	json_t *repos = NULL, *r;
	size_t i;

	if (ag_list(pg, "Repository", &repos))
		repos = NULL;
	json_array_foreach(repos, i, r) {
		const char *name = rec_str(r, "metadata", "name");

		if (!name)
			continue;
		html_raw(h, "<option value=\"");
		html_text(h, name);
		html_raw(h, selected && !strcmp(selected, name) ? "\" selected>" : "\">");
		html_text(h, name);
		html_raw(h, "</option>");
	}
	json_decref(repos);
}

static void review_form(struct page *pg, struct html *h, const char *stack, const struct review_q *q)
{
	html_raw(h, "<form id=\"review-form\" class=\"record-form\" method=\"get\" action=\"");
	ag_href(h, pg, "stacks", stack);
	html_raw(h, "#permission-review\"><div class=\"form-row\"><label for=\"review-repository\">Repository</label>"
		    "<select id=\"review-repository\" name=\"repository\" required>");
	repo_options(pg, h, q->repository);
	html_raw(h, "</select></div><div class=\"form-row\"><label for=\"review-ref\">Ref</label>"
		    "<input id=\"review-ref\" type=\"text\" name=\"ref\" placeholder=\"refs/heads/main\" value=\"");
	html_text(h, q->ref && *q->ref ? q->ref : "refs/heads/main");
	html_raw(h, "\"></div><div class=\"form-row\"><label for=\"review-actor\">Actor</label>"
		    "<input id=\"review-actor\" type=\"text\" name=\"actor\" value=\"");
	html_text(h, q->actor && *q->actor ? q->actor : pg->p.user);
	html_raw(h, "\"></div><div class=\"form-actions\"><button type=\"submit\" class=\"primary\">Review permissions"
		    "</button></div></form>\n");
}

static void identity(struct html *h, const char *label, json_t *id)
{
	json_t *ready = json_object_get(id, "ready");

	html_raw(h, "<dt>");
	html_text(h, label);
	html_raw(h, "</dt><dd>");
	ag_ref(h, json_object_get(id, "serviceAccountRef"));
	if (json_string_value(json_object_get(id, "runnerPool"))) {
		html_raw(h, " <span class=\"muted\">(pool ");
		html_text(h, json_string_value(json_object_get(id, "runnerPool")));
		html_raw(h, ")</span>");
	}
	if (ready)
		html_fmt(h, " <span class=\"badge\" data-ready=\"%s\">%s</span>", json_is_true(ready) ? "true" : "false",
			 json_is_true(ready) ? "ready" : "not ready");
	html_raw(h, "</dd>");
}

static void requirements(struct html *h, const char *id, const char *title, json_t *items, const char *ref_key)
{
	json_t *it;
	size_t i;

	html_fmt(h, "<h4>%s</h4>", title);
	if (!json_array_size(items)) {
		html_fmt(h, "<p class=\"muted\" id=\"%s\">None required.</p>", id);
		return;
	}
	html_fmt(h, "<div class=\"table-wrap\"><table id=\"%s\" class=\"data compact\"><thead><tr>"
		    "<th scope=\"col\">Purpose</th><th scope=\"col\">Reference</th><th scope=\"col\">Grant</th>"
		    "<th scope=\"col\">Status</th></tr></thead><tbody>", id);
	json_array_foreach(items, i, it) {
		const char *st = json_string_value(json_object_get(it, "status"));

		status_row(h, st);
		html_text(h, json_string_value(json_object_get(it, "purpose")));
		html_raw(h, "</td><td><code>");
		ag_ref(h, json_object_get(it, ref_key));
		html_raw(h, "</code></td><td>");
		ag_ref(h, json_object_get(it, "grant"));
		status_row_end(h, st);
	}
	html_raw(h, "</tbody></table></div>");
}

/* One YAML preview with its Create grant form, which posts the YAML and the
 * review's inputs so the server can check it is still what review proposes. */
static void preview(struct page *pg, struct html *h, const char *stack, const struct review_q *q, size_t i,
		    const char *yaml)
{
	html_fmt(h, "<li class=\"grant-preview\" data-index=\"%zu\"><pre class=\"code\">", i);
	html_text(h, yaml);
	html_raw(h, "</pre>");
	if (pg->p.role >= ROLE_ADMIN) {
		html_raw(h, "<form class=\"inline-form create-grant\" method=\"post\" action=\"");
		ag_href(h, pg, "stacks", stack);
		html_raw(h, "/grant\">");
		ag_csrf(pg, h);
		html_raw(h, "<input type=\"hidden\" name=\"repository\" value=\"");
		html_text(h, q->repository);
		html_raw(h, "\"><input type=\"hidden\" name=\"ref\" value=\"");
		html_text(h, q->ref);
		html_raw(h, "\"><input type=\"hidden\" name=\"actor\" value=\"");
		html_text(h, q->actor);
		html_raw(h, "\"><input type=\"hidden\" name=\"yaml\" value=\"");
		html_text(h, yaml);
		html_raw(h, "\"><button type=\"submit\" class=\"primary\">Create grant</button></form>");
	}
	html_raw(h, "</li>");
}

static void render_review(struct page *pg, struct html *h, const char *stack, const struct review_q *q,
			  json_t *rv)
{
	const char *decision = json_string_value(json_object_get(rv, "decision"));
	json_t *it, *previews = json_object_get(rv, "yamlPreview");
	size_t i;

	html_raw(h, "<section id=\"review-result\" data-decision=\"");
	html_text(h, decision);
	html_raw(h, "\"><h3>Decision: <span class=\"badge\" id=\"review-decision\" data-decision=\"");
	html_text(h, decision);
	html_raw(h, "\">");
	html_text(h, decision);
	html_raw(h, "</span></h3><dl class=\"meta\">");
	identity(h, "Runtime identity", json_object_get(rv, "runtimeIdentity"));
	identity(h, "Runner identity", json_object_get(rv, "runnerIdentity"));
	html_raw(h, "<dt>Digest</dt><dd>");
	ag_digest(h, json_string_value(json_object_get(rv, "digest")));
	html_raw(h, "</dd></dl>");
	if (json_array_size(json_object_get(rv, "reasons"))) {
		html_raw(h, "<ul id=\"review-reasons\" class=\"reasons\">");
		json_array_foreach(json_object_get(rv, "reasons"), i, it) {
			html_raw(h, "<li data-code=\"");
			html_text(h, json_string_value(json_object_get(it, "code")));
			html_raw(h, "\" data-severity=\"");
			html_text(h, json_string_value(json_object_get(it, "severity")));
			html_raw(h, "\"><span class=\"reason-code\">");
			html_text(h, json_string_value(json_object_get(it, "code")));
			html_raw(h, "</span> ");
			html_text(h, json_string_value(json_object_get(it, "message")));
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul>");
	}
	requirements(h, "required-secrets", "Secrets", json_object_get(rv, "requiredSecrets"), "secretRef");
	requirements(h, "required-configs", "Config maps", json_object_get(rv, "requiredConfigs"), "configMapRef");
	html_raw(h, "<h4>Missing grants</h4>");
	if (!json_array_size(json_object_get(rv, "missingGrants"))) {
		html_raw(h, "<p class=\"muted\" id=\"missing-grants\">None.</p>");
	} else {
		html_raw(h, "<ul id=\"missing-grants\">");
		json_array_foreach(json_object_get(rv, "missingGrants"), i, it) {
			html_raw(h, "<li data-kind=\"");
			html_text(h, json_string_value(json_object_get(it, "kind")));
			html_raw(h, "\"><code>");
			html_text(h, json_string_value(json_object_get(it, "kind")));
			html_raw(h, "</code> for ");
			ag_ref(h, json_object_get(it, "subject"));
			html_raw(h, " (");
			html_text(h, json_string_value(json_object_get(it, "purpose")));
			html_raw(h, "): ");
			html_text(h, json_string_value(json_object_get(it, "description")));
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul>");
	}
	if (json_array_size(previews)) {
		html_raw(h, "<h4>Grants that would fix it</h4><ol id=\"grant-previews\">");
		json_array_foreach(previews, i, it)
			if (json_is_string(it))
				preview(pg, h, stack, q, i, json_string_value(it));
		html_raw(h, "</ol>");
	}
	html_raw(h, "</section>\n");
}

/* The review for q, as POST /api/agents/permissions/review answers it. */
static int review(struct page *pg, const char *stack, const struct review_q *q, json_t **out, struct kerr *e)
{
	json_t *req = json_pack("{s:s, s:s, s:s, s:s}", "agentStack", stack, "repository", q->repository, "ref",
				q->ref, "actor", q->actor);
	int rc;

	if (!req)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	rc = api_agents_review(pg->w->api, &pg->p, pg->org, req, out, e);
	json_decref(req);
	return rc;
}

/* The review query's ref as the review wants it: a branch name becomes refs/heads/<name>. */
static void full_ref(struct buf *b, const char *ref)
{
	if (!ref || !*ref)
		buf_addstr(b, "refs/heads/main");
	else if (!strncmp(ref, "refs/", 5))
		buf_addstr(b, ref);
	else
		buf_printf(b, "refs/heads/%s", ref);
}

static void review_panel(struct page *pg, struct html *h, const char *stack, const struct review_q *q,
			 const struct kerr *err)
{
	struct kerr e = KERR_INIT;
	json_t *rv = NULL;

	html_raw(h, "<section id=\"permission-review\" class=\"panel\"><h2>Permission review</h2>"
		    "<p class=\"hint\">What this stack would get, and what it lacks, if it ran on a repository and ref "
		    "for an actor.</p>");
	review_form(pg, h, stack, q);
	rec_errors(h, err);
	if (q->repository && *q->repository) {
		if (review(pg, stack, q, &rv, &e))
			rec_errors(h, &e);
		else
			render_review(pg, h, stack, q, rv);
	}
	html_raw(h, "</section>\n");
	json_decref(rv);
	kerr_clear(&e);
}

static int render_stack(struct page *pg, const char *name, const struct review_q *q, const struct kerr *err,
			const char *granted, int status)
{
	json_t *stack = NULL, *st;
	struct html h;
	int rc = ag_load(pg, "AgentStack", name, &stack);

	if (rc)
		return rc;
	st = json_object_get(stack, "status");
	html_init(&h);
	ag_begin(pg, &h, name, "stacks", "Stacks", "stacks", name);
	html_raw(&h, "<div class=\"page-head\"><p class=\"eyebrow\">Agent stack</p><h1>");
	html_text(&h, name);
	html_raw(&h, " <span id=\"stack-phase\">");
	ag_phase(&h, rec_str(stack, "status", "phase"));
	html_raw(&h, "</span></h1><div class=\"actions\">");
	if (pg->p.role >= ROLE_DEVELOPER) {
		html_raw(&h, "<a id=\"dispatch-stack\" class=\"button primary\" href=\"");
		ag_href(&h, pg, "runs", "new");
		html_raw(&h, "?stack=");
		html_url(&h, name);
		html_raw(&h, "\">Dispatch</a>");
	}
	html_raw(&h, "<a id=\"stack-resource\" class=\"button\" href=\"/orgs/");
	html_url(&h, pg->org);
	html_raw(&h, "/resources/agentstacks/");
	html_url(&h, name);
	html_raw(&h, "\">YAML and history</a></div></div>\n");
	if (granted) {
		html_raw(&h, "<p class=\"flash success\" id=\"grant-created\" role=\"status\">Created ");
		html_text(&h, granted);
		html_raw(&h, ".</p>\n");
	}
	html_raw(&h, "<div class=\"grid-2\"><div class=\"stack\">");
	render_spec(&h, stack);
	html_raw(&h, "</div><div class=\"stack\">");
	render_capabilities(&h, st);
	html_raw(&h, "</div></div>\n<section id=\"readiness\" class=\"panel\"><h2>Readiness</h2>");
	ag_conditions(&h, st, "readiness-conditions");
	html_raw(&h, "</section>\n");
	review_panel(pg, &h, name, q, err);
	layout_end(&h);
	json_decref(stack);
	return page_send(pg, &h, status);
}

int page_agent_stack(struct page *pg, const char *name)
{
	struct review_q q = { http_req_query(pg->r, "repository"), NULL, http_req_query(pg->r, "actor") };
	struct buf ref = BUF_INIT(AG_FIELD_MAX + 16);
	const char *granted;
	int rc;

	if (q.repository && *q.repository) {
		full_ref(&ref, http_req_query(pg->r, "ref"));
		q.ref = ref.data ? ref.data : "";
		if (!q.actor || !*q.actor)
			q.actor = pg->p.user;
	}
	granted = http_req_query(pg->r, "granted");
	/* the flash names what the grant form created: a grant kind and an object name, nothing else */
	if (granted && !(!strncmp(granted, "AgentSecretGrant/", 17) && util_dns_label(granted + 17)) &&
	    !(!strncmp(granted, "AgentConfigGrant/", 17) && util_dns_label(granted + 17)))
		granted = NULL;
	rc = render_stack(pg, name, &q, NULL, granted, 200);
	buf_free(&ref);
	return rc;
}

/* The YAML of a preview as one object (new ref in *doc). */
static int preview_doc(const char *yaml, json_t **doc, struct kerr *e)
{
	json_t *docs = NULL;
	int rc = yaml_or_json_parse(yaml, strlen(yaml), &docs, e);

	if (!rc && json_array_size(docs) != 1)
		rc = kerr_set(e, KE_INVALID, NULL, "a grant preview is one object");
	if (!rc)
		*doc = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return rc;
}

/* Browsers post every form value with CRLF line ends; the previews have LF. */
static void lf_newlines(char *s)
{
	char *w = s;

	for (; *s; s++)
		if (s[0] != '\r' || s[1] != '\n')
			*w++ = *s;
	*w = '\0';
}

/* 1 if yaml is one of the previews of review rv. */
static int proposed(json_t *rv, const char *yaml)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(rv, "yamlPreview"), i, it)
		if (json_is_string(it) && !strcmp(json_string_value(it), yaml))
			return 1;
	return 0;
}

int page_agent_stack_grant(struct page *pg, const char *name)
{
	struct form_field f[] = { { "csrf", 128, NULL, 0 },
				  { "repository", AG_FIELD_MAX, NULL, 0 },
				  { "ref", AG_FIELD_MAX, NULL, 0 },
				  { "actor", AG_FIELD_MAX, NULL, 0 },
				  { "yaml", AG_YAML_MAX, NULL, 0 } };
	struct review_q q;
	struct kerr e = KERR_INIT;
	struct buf loc = BUF_INIT(8192);
	json_t *rv = NULL, *doc = NULL, *created = NULL, *stack = NULL;
	const char *yaml, *gkind, *gname;
	int rc;

	if (rec_form(pg, f, 5))
		return 0;
	q.repository = form_value(f, 5, "repository");
	q.ref = form_value(f, 5, "ref");
	q.actor = form_value(f, 5, "actor");
	if (f[4].value)
		lf_newlines(f[4].value);
	yaml = form_value(f, 5, "yaml");
	rc = ag_load(pg, "AgentStack", name, &stack);
	if (rc)
		goto out;
	/* Only what the review proposes now is applied: a stale page is a conflict, not a surprise grant. */
	if ((rc = rec_form_utf8(f, 5, &e)) == 0 && (rc = review(pg, name, &q, &rv, &e)) == 0 && !proposed(rv, yaml))
		rc = kerr_set(&e, KE_CONFLICT, NULL, "the review changed since the page was shown; reload it");
	if (!rc)
		rc = preview_doc(yaml, &doc, &e);
	if (!rc)
		rc = api_agents_grant_create(pg->w->api, &pg->p, pg->org, doc, http_req_correlation_id(pg->r), &created,
					     &e);
	if (rc) {
		rc = render_stack(pg, name, &q, &e, NULL, kerr_http_status(e.kcode));
		goto out;
	}
	gkind = json_string_value(json_object_get(created, "kind"));
	gname = rec_str(created, "metadata", "name");
	ag_href_buf(&loc, pg, "stacks", name);
	buf_addstr(&loc, "?repository=");
	url_encode(&loc, q.repository, strlen(q.repository));
	buf_addstr(&loc, "&ref=");
	url_encode(&loc, q.ref, strlen(q.ref));
	buf_addstr(&loc, "&actor=");
	url_encode(&loc, q.actor, strlen(q.actor));
	if (gkind && gname) {
		buf_addstr(&loc, "&granted=");
		url_encode(&loc, gkind, strlen(gkind));
		buf_addstr(&loc, "%2F");
		url_encode(&loc, gname, strlen(gname));
	}
	buf_addstr(&loc, "#permission-review");
	rc = web_redirect(pg->r, loc.data ? loc.data : "/orgs");
out:
	json_decref(stack);
	json_decref(rv);
	json_decref(doc);
	json_decref(created);
	buf_free(&loc);
	kerr_clear(&e);
	form_free(f, 5);
	return rc;
}
