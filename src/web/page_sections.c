#include "web_internal.h"

#include <string.h>

#define SECTION_ROWS 50
#define INSIGHT_EVENTS 200

#define KINDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

const struct section web_sections[] = {
	{ "code", "Code", "Ship", KINDS("Repository", "BranchProtection", "RefPolicy", "RepositoryPermission", "SSHKey"),
	  "Repositories and the rules that guard them." },
	{ "reviews", "Reviews", "Ship", KINDS("PullRequest", "Review", "Issue"), "Pull requests, reviews and issues." },
	{ "runs", "Runs", "Ship", KINDS("Pipeline", "Job"), "Pipelines and the jobs they ran." },
	{ "people", "People", "Manage", KINDS("User", "Team", "Invite", "IdentityMapping", "AuthProvider"),
	  "Who belongs to this org and how they sign in." },
	{ "hooks", "Hooks", "Manage", KINDS("WebhookSubscription", "WebhookDelivery"),
	  "Webhook subscriptions and their deliveries." },
	{ "capacity", "Capacity", "Manage", KINDS("RunnerPool"), "Runner pools that run pipelines and agents." },
	{ "agents", "Agents", "Agents", KINDS("AgentServiceAccount", "AgentSession", "AgentWorkspace", "AgentProject"),
	  "Agent identities, sessions and workspaces." },
	/* The agent pages (page_agents*.c) are where their links go; the
	 * sections stay as the plain lists of their kinds. */
	{ "stacks", "Stacks", "Agents",
	  KINDS("AgentStack", "AgentSubagent", "AgentToolProfile", "AgentMcpServer", "AgentSkill"),
	  "How agents are assembled: stacks, subagents, tools and skills.", "agents/stacks" },
	{ "grants", "Grants", "Agents", KINDS("Secret", "ConfigMap", "AgentSecretGrant", "AgentConfigGrant"),
	  "Secrets, config maps and the grants that hand them to agents.", "agents/grants" },
	{ "dispatch-runs", "Dispatch runs", "Agents", KINDS("AgentDispatchRun", "AgentDispatchAttempt"),
	  "Work handed to agents and each attempt at it.", "agents/runs" },
	{ "trigger-rules", "Trigger rules", "Agents", KINDS("AgentTriggerRule", "AgentTriggerExecution"),
	  "Rules that start agents, and what they decided." },
	{ "approvals", "Approvals", "Agents", KINDS("AgentApproval", "PolicyExceptionRequest"),
	  "Actions and exceptions waiting for a person.", "agents/approvals" },
	{ "insights", "Insights", "Observe", NULL, "What this org holds, by kind and phase." },
	{ "readiness", "Readiness", "Observe", NULL, "Whether the parts of this server are answering." },
};
const size_t web_sections_count = sizeof(web_sections) / sizeof(web_sections[0]);

const char *web_section_of(const char *kind)
{
	size_t i;
	const char *const *k;

	for (i = 0; i < web_sections_count; i++)
		for (k = web_sections[i].kinds; k && *k; k++)
			if (!strcmp(*k, kind))
				return web_sections[i].slug;
	return NULL;
}

static void section_head(struct page *pg, struct html *h, const struct section *s)
{
	struct crumb crumbs[3];
	char home[96];

	snprintf(home, sizeof(home), "/orgs/%s", pg->org);
	crumbs[0] = (struct crumb){ "Organizations", "/orgs" };
	crumbs[1] = (struct crumb){ pg->org, home };
	crumbs[2] = (struct crumb){ s->label, NULL };
	layout_begin(pg, h, s->label, s->slug, crumbs, 3);
	html_raw(h, "<div class=\"page-head\"><h1>");
	html_text(h, s->label);
	html_raw(h, "</h1><p class=\"lead\">");
	html_text(h, s->blurb);
	html_raw(h, "</p></div>\n");
}

static json_int_t count_of(json_t *counts, const char *kind)
{
	return json_integer_value(json_object_get(json_object_get(counts, kind), "count"));
}

/* One list per kind under one org-wide watch (one connection per page). */
static int section_lists(struct page *pg, const struct section *s)
{
	struct store_list_result res[8];
	const struct kind_def *kd[8];
	struct kerr e = KERR_INIT;
	json_t *counts = NULL;
	json_int_t total = 0;
	int64_t rv = 0;
	size_t n = 0, i;
	struct html h;
	int rc;

	memset(res, 0, sizeof(res));
	rc = store_counts(pg->w->api->store, pg->ns, &counts, &e);
	for (i = 0; !rc && s->kinds[i] && n < 8; i++) {
		struct store_list_query q = { NULL, pg->ns, NULL, SECTION_ROWS, NULL };

		kd[n] = kinds_lookup(s->kinds[i]);
		if (!kd[n])
			continue;
		q.kind = kd[n]->kind;
		rc = store_list(pg->w->api->store, &q, &res[n], &e);
		/* The oldest list decides where the watch resumes; replays are harmless. */
		if (!rc && (!rv || res[n].rv < rv))
			rv = res[n].rv;
		total += count_of(counts, kd[n]->kind);
		n++;
	}
	kerr_clear(&e);
	if (rc)
		goto out;
	html_init(&h);
	section_head(pg, &h, s);
	if (!total) {
		html_raw(&h, "<div class=\"empty-state large\"><p>Nothing here yet.</p><p class=\"actions\">");
		for (i = 0; i < n; i++) {
			html_raw(&h, "<a class=\"button\" href=\"/orgs/");
			html_url(&h, pg->org);
			html_raw(&h, "/new?kind=");
			html_url(&h, kd[i]->kind);
			html_raw(&h, "\">New ");
			html_text(&h, kd[i]->kind);
			html_raw(&h, "</a>");
		}
		html_raw(&h, "</p></div>\n");
	} else {
		html_raw(&h, "<div class=\"section-lists\" data-watch=\"/api/watch/orgs/");
		html_url(&h, pg->org);
		html_fmt(&h, "\" data-rv=\"%lld\">\n", (long long)rv);
		for (i = 0; i < n; i++) {
			json_int_t c = count_of(counts, kd[i]->kind);

			html_raw(&h, "<section class=\"panel\"><div class=\"panel-head\"><h2><a href=\"/orgs/");
			html_url(&h, pg->org);
			html_raw(&h, "/resources/");
			html_raw(&h, kd[i]->plural);
			html_raw(&h, "\">");
			html_text(&h, kd[i]->kind);
			html_fmt(&h, "</a> <span class=\"count\">%lld</span></h2><a class=\"button small\" href=\"/orgs/",
				 (long long)c);
			html_url(&h, pg->org);
			html_raw(&h, "/new?kind=");
			html_url(&h, kd[i]->kind);
			html_raw(&h, "\">New</a>");
			if (!strcmp(kd[i]->kind, "Repository")) {
				html_raw(&h, "<a class=\"button small\" id=\"browse-repos\" href=\"/orgs/");
				html_url(&h, pg->org);
				html_raw(&h, "/repos\">Browse code</a>");
			}
			html_raw(&h, "</div>\n");
			render_list_block(pg, &h, kd[i], NULL, res[i].items, res[i].lens, res[i].n, res[i].rv, 0);
			if (c > (json_int_t)res[i].n) {
				html_raw(&h, "<p class=\"more\"><a href=\"/orgs/");
				html_url(&h, pg->org);
				html_raw(&h, "/resources/");
				html_raw(&h, kd[i]->plural);
				html_fmt(&h, "\">All %lld</a></p>", (long long)c);
			}
			html_raw(&h, "</section>\n");
		}
		html_raw(&h, "</div>\n");
	}
	layout_end(&h);
	rc = page_send(pg, &h, 200);
out:
	for (i = 0; i < n; i++)
		store_list_result_free(&res[i]);
	json_decref(counts);
	return rc;
}

static void stat(struct html *h, long long value, const char *label)
{
	html_fmt(h, "<li><span class=\"stat-value\">%lld</span><span class=\"stat-label\">", value);
	html_text(h, label);
	html_raw(h, "</span></li>");
}

static int readiness_page(struct page *pg, const struct section *s)
{
	struct api_component c[API_COMPONENTS];
	struct kerr e = KERR_INIT;
	json_t *st = NULL;
	struct html h;
	int i;

	api_readiness(pg->w->api, c);
	store_stats(pg->w->api->store, &st, &e);
	kerr_clear(&e);
	html_init(&h);
	section_head(pg, &h, s);
	html_raw(&h, "<section class=\"panel\"><h2>Components</h2>\n<div class=\"table-wrap\"><table id=\"components\" class=\"data\"><thead><tr>"
		     "<th scope=\"col\">Component</th><th scope=\"col\">State</th><th scope=\"col\">Detail</th></tr>"
		     "</thead><tbody>\n");
	for (i = 0; i < API_COMPONENTS; i++) {
		const char *state = !c[i].configured ? "not configured" : c[i].ready ? "ready" : "degraded";

		html_raw(&h, "<tr><td>");
		html_text(&h, c[i].name);
		html_raw(&h, "</td><td><span class=\"badge\" data-state=\"");
		html_text(&h, state);
		html_raw(&h, "\">");
		html_text(&h, state);
		html_raw(&h, "</span></td><td>");
		html_text(&h, c[i].detail);
		html_raw(&h, "</td></tr>\n");
	}
	html_raw(&h, "</tbody></table></div>\n<p class=\"hint\">The same checks answer <a href=\"/readyz\">/readyz</a>. "
		     "Components that are not configured do not make the server degraded.</p></section>\n");
	if (st) {
		html_raw(&h, "<section class=\"panel\"><h2>Server</h2><ul class=\"stats\">");
		stat(&h, json_integer_value(json_object_get(st, "objects")), "objects (all orgs)");
		stat(&h, json_integer_value(json_object_get(st, "events")), "events kept for watches");
		stat(&h, json_integer_value(json_object_get(st, "auditEntries")), "audit entries");
		stat(&h, json_integer_value(json_object_get(st, "resourceVersion")), "resourceVersion");
		stat(&h, (long long)hub_open_watches(pg->w->api->hub), "open watches");
		html_raw(&h, "</ul></section>\n");
	}
	layout_end(&h);
	json_decref(st);
	return page_send(pg, &h, 200);
}

static void phase_histogram(struct html *h, const char *kind, json_t *c)
{
	json_int_t total = json_integer_value(json_object_get(c, "count"));
	json_t *phases = json_object_get(c, "phases"), *v;
	const char *phase;

	html_raw(h, "<div class=\"histogram\" data-kind=\"");
	html_text(h, kind);
	html_raw(h, "\"><h3>");
	html_text(h, kind);
	html_fmt(h, " <span class=\"count\">%lld</span></h3><dl>", (long long)total);
	json_object_foreach(phases, phase, v) {
		json_int_t n = json_integer_value(v);

		html_raw(h, "<dt>");
		html_text(h, phase);
		html_fmt(h, "</dt><dd><meter min=\"0\" max=\"%lld\" value=\"%lld\"></meter> <b>%lld</b></dd>",
			 (long long)total, (long long)n, (long long)n);
	}
	html_raw(h, "</dl></div>\n");
}

static int insights_page(struct page *pg, const struct section *s)
{
	struct kerr e = KERR_INIT;
	json_t *counts = NULL, *events = NULL, *c, *ev;
	const struct kind_def *kinds;
	json_int_t total = 0, records = 0, used = 0, added = 0, modified = 0, deleted = 0;
	size_t nk, i;
	struct html h;
	int rc;

	rc = store_counts(pg->w->api->store, pg->ns, &counts, &e);
	if (!rc)
		rc = store_recent_events(pg->w->api->store, pg->ns, INSIGHT_EVENTS, &events, &e);
	kerr_clear(&e);
	if (rc)
		goto out;
	kinds = kinds_all(&nk);
	for (i = 0; i < nk; i++) {
		json_int_t n = count_of(counts, kinds[i].kind);

		if (kinds[i].scope == SCOPE_PLATFORM || !n)
			continue;
		total += n;
		used++;
		if (kinds[i].storage == STORAGE_RECORD)
			records += n;
	}
	json_array_foreach(events, i, ev) {
		const char *type = json_string_value(json_object_get(ev, "type"));

		added += type && !strcmp(type, "ADDED");
		modified += type && !strcmp(type, "MODIFIED");
		deleted += type && !strcmp(type, "DELETED");
	}
	html_init(&h);
	section_head(pg, &h, s);
	html_raw(&h, "<ul class=\"stats\">");
	stat(&h, total, "objects");
	stat(&h, used, "kinds in use");
	stat(&h, total - records, "configuration objects");
	stat(&h, records, "records");
	html_raw(&h, "</ul>\n<section class=\"panel\"><h2>Recent changes</h2>");
	if (json_array_size(events))
		html_fmt(&h, "<p>Of the last %zu changes: <b>%lld</b> added, <b>%lld</b> modified, <b>%lld</b> "
			     "deleted.</p>",
			 json_array_size(events), (long long)added, (long long)modified, (long long)deleted);
	else
		html_raw(&h, "<p class=\"empty-state\">No changes yet.</p>");
	html_raw(&h, "</section>\n<section class=\"panel\"><h2>Phases by kind</h2>\n");
	if (!used)
		html_raw(&h, "<p class=\"empty-state\">No objects yet.</p>\n");
	html_raw(&h, "<div class=\"histograms\">\n");
	for (i = 0; i < nk; i++) {
		c = json_object_get(counts, kinds[i].kind);
		if (kinds[i].scope == SCOPE_ORG && count_of(counts, kinds[i].kind))
			phase_histogram(&h, kinds[i].kind, c);
	}
	html_raw(&h, "</div>\n</section>\n");
	layout_end(&h);
	rc = page_send(pg, &h, 200);
out:
	json_decref(counts);
	json_decref(events);
	return rc;
}

int page_section(struct page *pg, const char *slug)
{
	size_t i;

	for (i = 0; i < web_sections_count; i++) {
		const struct section *s = &web_sections[i];

		if (strcmp(s->slug, slug))
			continue;
		if (s->kinds)
			return section_lists(pg, s);
		return !strcmp(slug, "readiness") ? readiness_page(pg, s) : insights_page(pg, s);
	}
	return KE_NOTFOUND;
}
