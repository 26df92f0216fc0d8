/* Dispatch runs in the console: the list, one run (phase, conditions,
 * timeline, attempts, the transcript of each attempt, artifacts, approvals,
 * digests, and the action and continue forms), and an artifact's content.
 *
 * A run is read as GET /api/agents/runs/{run} reads it (api_agents_run_get:
 * the run with its attempts, artifacts and approvals); the transcript of
 * attempt <run>-<n> is transcript-<run>-<n> (docs/agents.md). The
 * transcript markup is what krate.js appends to as the run's events arrive
 * (GET /api/agents/runs/{run}/events). */
#include "page_agents.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AG_RUNS_SHOWN 500
/* An artifact larger than this is only linked raw; its rendered diff is at most AG_DIFF_HTML_MAX. */
#define AG_CONTENT_SHOWN (1024u * 1024u)
#define AG_DIFF_HTML_MAX (6u * 1024u * 1024u)

static int phase_active(const char *phase)
{
	return !phase || !strcmp(phase, "Pending") || !strcmp(phase, "Queued") || !strcmp(phase, "Running") ||
	       !strcmp(phase, "WaitingForApproval");
}

/* status.attempts as a count (a number, or an array of attempts). */
static long long attempt_count(json_t *run)
{
	json_t *a = json_object_get(json_object_get(run, "status"), "attempts");

	return json_is_integer(a) ? (long long)json_integer_value(a) : (long long)json_array_size(a);
}

/* A link to the stack's page; nothing without a stack. */
static void stack_link(struct page *pg, struct html *h, const char *stack)
{
	if (!stack)
		return;
	html_raw(h, "<a href=\"");
	ag_href(h, pg, "stacks", stack);
	html_raw(h, "\">");
	html_text(h, stack);
	html_raw(h, "</a>");
}

/* A link to the repository's page, when repo can be a repository's name (0 when it cannot). */
static int repo_link(struct page *pg, struct html *h, const char *repo)
{
	if (!repo || !util_dns_label(repo))
		return 0;
	html_raw(h, "<a href=\"/orgs/");
	html_url(h, pg->org);
	html_raw(h, "/repos/");
	html_url(h, repo);
	html_raw(h, "\">");
	html_text(h, repo);
	html_raw(h, "</a>");
	return 1;
}

/* ---- the list ---- */

static void run_row(struct page *pg, struct html *h, json_t *run)
{
	const char *name = rec_str(run, "metadata", "name"), *stack = rec_str(run, "spec", "agentStack");
	const char *repo = rec_str(run, "spec", "repository"), *phase = rec_str(run, "status", "phase");

	if (!name)
		return;
	html_raw(h, "<tr data-name=\"");
	html_text(h, name);
	html_raw(h, "\" data-phase=\"");
	html_text(h, phase);
	html_raw(h, "\"><td class=\"name\"><a href=\"");
	ag_href(h, pg, "runs", name);
	html_raw(h, "\"><code>");
	html_text(h, name);
	html_raw(h, "</code></a></td><td class=\"stack\">");
	stack_link(pg, h, stack);
	html_raw(h, "</td><td class=\"repository\">");
	if (!repo_link(pg, h, repo))
		html_text(h, repo);
	html_raw(h, "</td><td class=\"phase\">");
	ag_phase(h, phase);
	html_fmt(h, "</td><td class=\"attempts num\">%lld</td><td class=\"age\">", attempt_count(run));
	render_age(h, rec_str(run, "metadata", "creationTimestamp"));
	html_raw(h, "</td></tr>\n");
}

int page_agent_runs(struct page *pg)
{
	const char *phase = http_req_query(pg->r, "phase"), *stack = http_req_query(pg->r, "stack");
	struct kerr e = KERR_INIT;
	json_t *items = NULL, *run;
	struct html h;
	size_t i;
	int rc = api_agents_runs_list(pg->w->api, &pg->p, pg->org, phase, stack, &items, &e);

	kerr_clear(&e);
	/* a filter that cannot match anything is a bad link */
	if (rc)
		return rc == KE_INVALID ? KE_NOTFOUND : rc;
	html_init(&h);
	ag_begin(pg, &h, "Dispatch runs", "dispatch-runs", "Runs", "runs", NULL);
	html_raw(&h, "<div class=\"page-head\"><h1>Dispatch runs</h1><p class=\"lead\">Work handed to agents, newest "
		     "first");
	if (stack && *stack) {
		html_raw(&h, ", of the stack <code>");
		html_text(&h, stack);
		html_raw(&h, "</code>");
	}
	if (phase && *phase) {
		html_raw(&h, ", in phase ");
		ag_phase(&h, phase);
	}
	html_raw(&h, ".</p><div class=\"actions\">");
	if (pg->p.role >= ROLE_DEVELOPER) {
		html_raw(&h, "<a id=\"dispatch-agent\" class=\"button primary\" href=\"");
		ag_href(&h, pg, "runs", "new");
		html_raw(&h, "\">Dispatch an agent</a>");
	}
	html_raw(&h, "</div></div>\n");
	if (!json_array_size(items)) {
		html_raw(&h, "<p class=\"empty-state\">No dispatch runs.</p>\n");
	} else {
		html_raw(&h, "<div class=\"table-wrap\"><table id=\"run-list\" class=\"data\"><thead><tr>"
			     "<th scope=\"col\">Run</th><th scope=\"col\">Stack</th><th scope=\"col\">Repository</th>"
			     "<th scope=\"col\">Phase</th><th scope=\"col\" class=\"num\">Attempts</th>"
			     "<th scope=\"col\">Age</th></tr></thead><tbody>\n");
		json_array_foreach(items, i, run) {
			if (i == AG_RUNS_SHOWN)
				break;
			run_row(pg, &h, run);
		}
		html_raw(&h, "</tbody></table></div>\n");
	}
	layout_end(&h);
	json_decref(items);
	return page_send(pg, &h, 200);
}

/* ---- one run ---- */

/* Opens the panel id headed title; one with no rows says empty and is
 * closed again (0), so that the caller renders only panels with rows (1). */
static int panel_open(struct html *h, const char *id, const char *title, size_t rows, const char *empty)
{
	html_fmt(h, "<section class=\"panel\" id=\"%s\"><h2>%s</h2>", id, title);
	if (rows)
		return 1;
	html_fmt(h, "<p class=\"empty-state\">%s</p></section>\n", empty);
	return 0;
}

static void render_timeline(struct html *h, json_t *run)
{
	json_t *hist = json_object_get(json_object_get(run, "status"), "history"), *e;
	size_t i;

	if (!panel_open(h, "timeline-panel", "Timeline", json_array_size(hist), "Nothing has happened yet."))
		return;
	html_raw(h, "<ol id=\"run-timeline\" class=\"timeline\">");
	json_array_foreach(hist, i, e) {
		const char *at = json_string_value(json_object_get(e, "at"));
		const char *reason = json_string_value(json_object_get(e, "reason"));
		const char *msg = json_string_value(json_object_get(e, "message"));

		html_raw(h, "<li data-phase=\"");
		html_text(h, json_string_value(json_object_get(e, "phase")));
		html_raw(h, "\">");
		ag_phase(h, json_string_value(json_object_get(e, "phase")));
		if (at) {
			html_raw(h, " ");
			render_age(h, at);
			html_raw(h, " ago");
		}
		if (reason) {
			html_raw(h, " <span class=\"reason-code\">");
			html_text(h, reason);
			html_raw(h, "</span>");
		}
		if (msg && *msg) {
			html_raw(h, " <span class=\"message\">");
			html_text(h, msg);
			html_raw(h, "</span>");
		}
		html_raw(h, "</li>");
	}
	html_raw(h, "</ol></section>\n");
}

static void when(struct html *h, const char *ts)
{
	if (ts)
		render_age(h, ts);
	else
		html_raw(h, "<span class=\"muted\">\xE2\x80\x94</span>");
}

static void usage_text(struct html *h, json_t *u)
{
	json_t *cost = json_object_get(u, "costUsd");

	if (!json_is_object(u)) {
		html_raw(h, "<span class=\"muted\">\xE2\x80\x94</span>");
		return;
	}
	html_fmt(h, "%lld in / %lld out", (long long)json_integer_value(json_object_get(u, "inputTokens")),
		 (long long)json_integer_value(json_object_get(u, "outputTokens")));
	if (json_is_number(cost))
		html_fmt(h, ", $%.4f", json_number_value(cost));
}

static void render_attempts(struct html *h, json_t *attempts)
{
	json_t *a;
	size_t i;

	if (!panel_open(h, "attempts-panel", "Attempts", json_array_size(attempts), "No attempts yet."))
		return;
	html_raw(h, "<div class=\"table-wrap\"><table id=\"attempts\" class=\"data\"><thead><tr><th scope=\"col\">#</th>"
		    "<th scope=\"col\">Reason</th><th scope=\"col\">Phase</th><th scope=\"col\">Started</th>"
		    "<th scope=\"col\">Finished</th><th scope=\"col\" class=\"num\">Exit</th><th scope=\"col\">Usage</th>"
		    "<th scope=\"col\">Message</th></tr></thead><tbody>\n");
	json_array_foreach(attempts, i, a) {
		json_t *st = json_object_get(a, "status"), *exit_code = json_object_get(st, "exitCode");

		html_raw(h, "<tr data-name=\"");
		html_text(h, rec_str(a, "metadata", "name"));
		html_raw(h, "\" data-phase=\"");
		html_text(h, rec_str(a, "status", "phase"));
		html_fmt(h, "\"><td>%zu</td><td>", i + 1);
		html_text(h, rec_str(a, "spec", "attemptReason"));
		html_raw(h, "</td><td class=\"phase\">");
		ag_phase(h, rec_str(a, "status", "phase"));
		html_raw(h, "</td><td>");
		when(h, rec_str(a, "status", "startedAt"));
		html_raw(h, "</td><td>");
		when(h, rec_str(a, "status", "finishedAt"));
		html_raw(h, "</td><td class=\"num\">");
		if (json_is_integer(exit_code))
			html_fmt(h, "%lld", (long long)json_integer_value(exit_code));
		html_raw(h, "</td><td class=\"usage\">");
		usage_text(h, json_object_get(st, "usage"));
		html_raw(h, "</td><td>");
		html_text(h, rec_str(a, "status", "reason"));
		if (rec_str(a, "status", "message")) {
			html_raw(h, " ");
			html_text(h, rec_str(a, "status", "message"));
		}
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div></section>\n");
}

/* One transcript entry; krate.js builds the same markup (transcriptItem). */
static void render_message(struct html *h, json_t *m)
{
	const char *type = json_string_value(json_object_get(m, "type"));
	const char *role = json_string_value(json_object_get(m, "role"));
	const char *name = json_string_value(json_object_get(m, "name"));
	const char *content = json_string_value(json_object_get(m, "content"));
	json_t *input = json_object_get(m, "input"), *seq = json_object_get(m, "seq");
	char *text;

	if (!type)
		type = "message";
	html_raw(h, "<li class=\"msg\" data-type=\"");
	html_text(h, type);
	html_raw(h, "\"");
	if (json_is_integer(seq))
		html_fmt(h, " data-seq=\"%lld\"", (long long)json_integer_value(seq));
	html_raw(h, "><div class=\"msg-head\"><span class=\"msg-role\">");
	html_text(h, role ? role : type);
	html_raw(h, "</span>");
	if (strcmp(type, "message")) {
		html_raw(h, " <span class=\"msg-type\">");
		html_text(h, type);
		html_raw(h, "</span>");
	}
	if (name) {
		html_raw(h, " <code class=\"msg-name\">");
		html_text(h, name);
		html_raw(h, "</code>");
	}
	html_raw(h, "</div>");
	/* usage figures come as members, or as the content's JSON text */
	if (!strcmp(type, "usage") && (json_object_get(m, "inputTokens") || json_object_get(m, "outputTokens"))) {
		html_raw(h, "<p class=\"msg-usage\">");
		usage_text(h, m);
		html_raw(h, "</p>");
	}
	if (content && *content) {
		html_raw(h, "<pre class=\"msg-content\">");
		html_text(h, content);
		html_raw(h, "</pre>");
	}
	if (input && !json_is_null(input)) {
		text = json_dumps(input, JSON_INDENT(2) | JSON_ENCODE_ANY);
		html_raw(h, "<pre class=\"msg-input\">");
		html_text(h, text ? text : "");
		html_raw(h, "</pre>");
		free(text);
	}
	html_raw(h, "</li>\n");
}

/* The number of the attempt named name among attempts (spec.number, else its place), or 0. */
static long long attempt_number(json_t *attempts, const char *name)
{
	json_t *a, *n;
	size_t i;

	json_array_foreach(attempts, i, a) {
		const char *an = rec_str(a, "metadata", "name");

		if (!name || !an || strcmp(an, name))
			continue;
		n = json_object_get(json_object_get(a, "spec"), "number");
		return json_is_integer(n) ? (long long)json_integer_value(n) : (long long)i + 1;
	}
	return 0;
}

/* The stored transcript of each attempt. While the run is active the section
 * names its event stream, resuming after the last message shown (the
 * stream's ids are "<attempt number>:<seq>"), and krate.js appends what
 * comes; without JavaScript the page shows what is stored. */
static void render_transcripts(struct page *pg, struct html *h, const char *run, json_t *attempts, int live)
{
	struct html body;
	json_t *a, *tr, *m;
	size_t i, j, shown = 0;
	long long number = 0, last_seq = 0;

	html_init(&body);
	json_array_foreach(attempts, i, a) {
		const char *an = rec_str(a, "metadata", "name");
		char tname[200];
		json_t *spec;

		if (!an)
			continue;
		number = attempt_number(attempts, an);
		last_seq = 0;
		snprintf(tname, sizeof(tname), "transcript-%s", an);
		if (ag_load(pg, "AgentSessionTranscript", tname, &tr))
			tr = NULL;
		spec = json_object_get(tr, "spec");
		html_raw(&body, "<section class=\"transcript-attempt\" data-attempt=\"");
		html_text(&body, an);
		html_fmt(&body, "\" data-number=\"%lld\"><h3>Attempt %lld</h3><ol class=\"messages\">\n", number, number);
		json_array_foreach(json_object_get(spec, "messages"), j, m) {
			json_t *seq = json_object_get(m, "seq");

			render_message(&body, m);
			shown++;
			last_seq = json_is_integer(seq) ? (long long)json_integer_value(seq) : (long long)j + 1;
		}
		html_raw(&body, "</ol>");
		if (json_object_get(spec, "cost")) {
			html_raw(&body, "<p class=\"transcript-cost\">Usage: ");
			usage_text(&body, json_object_get(spec, "cost"));
			html_raw(&body, "</p>");
		}
		html_raw(&body, "</section>\n");
		json_decref(tr);
	}
	html_raw(h, "<section class=\"panel\" id=\"transcript\" data-run=\"");
	html_text(h, run);
	html_raw(h, "\"");
	if (live) {
		html_raw(h, " data-events=\"/api/agents/runs/");
		html_url(h, run);
		html_raw(h, "/events?org=");
		html_url(h, pg->org);
		if (number)
			html_fmt(h, "&amp;lastEventId=%lld:%lld", number, last_seq);
		html_raw(h, "\"");
	}
	html_raw(h, "><h2>Transcript</h2>");
	if (body.err)
		h->err = h->err ? h->err : body.err;
	else
		html_raw(h, body.b.data ? body.b.data : "");
	html_fmt(h, "<p class=\"empty-state transcript-empty\"%s>No transcript yet.</p></section>\n",
		 shown ? " hidden" : "");
	html_free(&body);
}

static void render_artifacts(struct page *pg, struct html *h, const char *run, json_t *attempts, json_t *artifacts)
{
	json_t *art;
	size_t i;

	if (!panel_open(h, "artifacts-panel", "Artifacts", json_array_size(artifacts), "No artifacts yet."))
		return;
	html_raw(h, "<div class=\"table-wrap\"><table id=\"artifacts\" class=\"data\"><thead><tr>"
		    "<th scope=\"col\">Kind</th><th scope=\"col\" class=\"num\">Attempt</th><th scope=\"col\">Digest</th>"
		    "<th scope=\"col\">Content</th></tr></thead><tbody>\n");
	json_array_foreach(artifacts, i, art) {
		const char *name = rec_str(art, "metadata", "name");
		long long n = attempt_number(attempts, rec_str(art, "spec", "attempt"));

		if (!name)
			continue;
		html_raw(h, "<tr data-name=\"");
		html_text(h, name);
		html_raw(h, "\" data-kind=\"");
		html_text(h, rec_str(art, "spec", "kind"));
		html_raw(h, "\"><td class=\"kind\">");
		html_text(h, rec_str(art, "spec", "kind"));
		html_raw(h, "</td><td class=\"num\">");
		if (n)
			html_fmt(h, "%lld", n);
		html_raw(h, "</td><td>");
		ag_digest(h, rec_str(art, "spec", "digest"));
		html_raw(h, "</td><td><a class=\"artifact-link\" href=\"");
		ag_href(h, pg, "runs", run);
		html_raw(h, "/artifacts/");
		html_url(h, name);
		html_raw(h, "\">View</a></td></tr>\n");
	}
	html_raw(h, "</tbody></table></div></section>\n");
}

/* The run's approvals, each with its phase; the inbox is where they are decided. */
static void render_approvals(struct page *pg, struct html *h, json_t *approvals)
{
	json_t *ap;
	size_t i;

	if (!json_array_size(approvals))
		return;
	html_raw(h, "<section class=\"panel\" id=\"run-approvals\"><div class=\"panel-head\"><h2>Approvals</h2>"
		    "<a class=\"button small\" href=\"");
	ag_href(h, pg, "approvals", NULL);
	html_raw(h, "\">Inbox</a></div><ul class=\"events\">");
	json_array_foreach(approvals, i, ap) {
		const char *phase = rec_str(ap, "status", "phase");

		html_raw(h, "<li data-name=\"");
		html_text(h, rec_str(ap, "metadata", "name"));
		html_raw(h, "\">");
		ag_phase(h, phase ? phase : "Pending");
		html_raw(h, " <span class=\"event-what\"><code>");
		html_text(h, rec_str(ap, "spec", "action"));
		html_raw(h, "</code> ");
		html_text(h, rec_str(ap, "spec", "description"));
		html_raw(h, "</span>");
		if (rec_str(ap, "status", "decidedBy")) {
			html_raw(h, "<span class=\"event-meta\">by ");
			html_text(h, rec_str(ap, "status", "decidedBy"));
			html_raw(h, "</span>");
		}
		html_raw(h, "</li>");
	}
	html_raw(h, "</ul></section>\n");
}

/* One action button as its own form: the page's generation goes with it, so
 * acting on a run that changed meanwhile is refused (409). */
static void action_form(struct page *pg, struct html *h, const char *run, long long gen, const char *action,
			const char *label, const char *cls)
{
	html_fmt(h, "<form class=\"inline-form run-action\" data-action=\"%s\" method=\"post\" action=\"", action);
	ag_href(h, pg, "runs", run);
	html_fmt(h, "/%s\">", action);
	ag_csrf(pg, h);
	html_fmt(h, "<input type=\"hidden\" name=\"expectedGeneration\" value=\"%lld\">"
		    "<button type=\"submit\"%s>%s</button></form>", gen, cls, label);
}

/* The actions the run's phase allows (the API has the last word): cancel
 * while it is not finished, retry and resume after a failure or a cancel,
 * fork always, continue once an attempt has started. */
static void render_actions(struct page *pg, struct html *h, json_t *run, const char *message)
{
	const char *name = rec_str(run, "metadata", "name"), *phase = rec_str(run, "status", "phase");
	long long gen = (long long)json_integer_value(json_object_get(json_object_get(run, "metadata"), "generation"));
	int failed = phase && (!strcmp(phase, "Failed") || !strcmp(phase, "Cancelled"));
	int started = phase && strcmp(phase, "Pending") && strcmp(phase, "Queued") && strcmp(phase, "WaitingForApproval");

	if (pg->p.role < ROLE_DEVELOPER)
		return;
	html_raw(h, "<section class=\"panel\" id=\"run-actions\"><h2>Actions</h2><div class=\"actions\">");
	if (phase_active(phase))
		action_form(pg, h, name, gen, "cancel", "Cancel", " class=\"danger\"");
	if (failed) {
		action_form(pg, h, name, gen, "retry", "Retry", "");
		action_form(pg, h, name, gen, "resume", "Resume", "");
	}
	action_form(pg, h, name, gen, "fork", "Fork", "");
	html_raw(h, "</div>");
	if (started) {
		html_raw(h, "<form id=\"continue-form\" class=\"record-form\" method=\"post\" action=\"");
		ag_href(h, pg, "runs", name);
		html_raw(h, "/continue\">");
		ag_csrf(pg, h);
		html_fmt(h, "<input type=\"hidden\" name=\"expectedGeneration\" value=\"%lld\">"
			    "<label for=\"continue-message\">Continue with</label>"
			    "<textarea id=\"continue-message\" name=\"message\" rows=\"3\" required>", gen);
		html_text(h, message);
		html_raw(h, "</textarea><div class=\"form-actions\"><button type=\"submit\" class=\"primary\">Continue"
			    "</button></div></form>");
	}
	html_raw(h, "</section>\n");
}

static void fact(struct html *h, const char *id, const char *label)
{
	html_fmt(h, "<dt>%s</dt><dd id=\"%s\">", label, id);
}

static void render_facts(struct page *pg, struct html *h, json_t *run)
{
	const char *stack = rec_str(run, "spec", "agentStack"), *repo = rec_str(run, "spec", "repository");
	const char *prompt = rec_str(run, "spec", "prompt");
	json_t *labels = json_object_get(json_object_get(run, "spec"), "contextLabels"), *l;
	size_t i;

	html_raw(h, "<section class=\"panel\" id=\"run-facts\"><h2>Run</h2><dl class=\"meta\">");
	fact(h, "run-stack", "Stack");
	stack_link(pg, h, stack);
	html_raw(h, "</dd>");
	fact(h, "run-repository", "Repository");
	repo_link(pg, h, repo);
	html_raw(h, "</dd>");
	fact(h, "run-ref", "Ref");
	html_raw(h, "<code>");
	html_text(h, rec_str(run, "spec", "ref"));
	html_raw(h, "</code> ");
	ag_digest(h, rec_str(run, "spec", "sha"));
	html_raw(h, "</dd>");
	fact(h, "run-task", "Task");
	html_text(h, rec_str(run, "spec", "taskKind"));
	html_raw(h, "</dd>");
	fact(h, "run-actor", "Actor");
	html_text(h, rec_str(run, "spec", "actor"));
	html_raw(h, "</dd>");
	fact(h, "run-labels", "Context labels");
	json_array_foreach(labels, i, l) {
		html_raw(h, i ? ", " : "");
		html_text(h, json_string_value(l));
	}
	html_raw(h, "</dd>");
	fact(h, "bundle-digest", "Context bundle");
	ag_digest(h, rec_str(run, "status", "contextBundleDigest"));
	html_raw(h, "</dd>");
	fact(h, "permission-digest", "Permission snapshot");
	ag_digest(h, rec_str(run, "status", "permissionDigest"));
	html_raw(h, "</dd></dl>");
	if (prompt && *prompt) {
		html_raw(h, "<h3>Prompt</h3><pre class=\"value\" id=\"run-prompt\">");
		html_text(h, prompt);
		html_raw(h, "</pre>");
	}
	html_raw(h, "</section>\n");
}

/* What a refused action leaves for the page that shows it again. */
struct run_post {
	const struct kerr *err;
	const char *message;     /* the continue form's text */
};

static int render_run(struct page *pg, const char *name, const struct run_post *post, int status)
{
	struct kerr e = KERR_INIT;
	json_t *view = NULL, *run, *attempts;
	const char *phase, *reason, *message, *done;
	struct html h;
	int rc = api_agents_run_get(pg->w->api, &pg->p, pg->org, name, &view, &e);

	kerr_clear(&e);
	if (rc)
		return rc;
	run = json_object_get(view, "run");
	attempts = json_object_get(view, "attempts");
	phase = rec_str(run, "status", "phase");
	reason = rec_str(run, "status", "reason");
	message = rec_str(run, "status", "message");
	done = http_req_query(pg->r, "done");
	html_init(&h);
	ag_begin(pg, &h, name, "dispatch-runs", "Runs", "runs", name);
	html_raw(&h, "<div class=\"page-head\" id=\"run-header\"><p class=\"eyebrow\">Dispatch run</p><h1><code>");
	html_text(&h, name);
	html_raw(&h, "</code> <span id=\"run-phase\">");
	ag_phase(&h, phase);
	html_raw(&h, "</span></h1><p class=\"lead\" id=\"run-reason\"><span class=\"reason-code\">");
	html_text(&h, reason);
	html_raw(&h, "</span> <span class=\"message\">");
	html_text(&h, message);
	html_raw(&h, "</span></p></div>\n");
	if (done && ag_run_action(done))
		html_fmt(&h, "<p class=\"flash success\" id=\"action-done\" role=\"status\">The %s was accepted.</p>\n",
			 done);
	/* a stale generation, or an action the run has moved past: either way the page is out of date */
	if (post && post->err && post->err->kcode == KE_CONFLICT)
		html_raw(&h, "<div class=\"flash error\" role=\"alert\" id=\"run-changed\">The run changed since this "
			     "page was shown; reload it and try again.</div>\n");
	rec_errors(&h, post ? post->err : NULL);
	if (phase && !strcmp(phase, "WaitingForApproval")) {
		html_raw(&h, "<p class=\"flash\" id=\"waiting\" role=\"status\">This run waits for an approval in the <a "
			     "href=\"");
		ag_href(&h, pg, "approvals", NULL);
		html_raw(&h, "\">approvals inbox</a>.</p>\n");
	}
	html_raw(&h, "<div class=\"grid-2\"><div class=\"stack\">");
	render_facts(pg, &h, run);
	html_raw(&h, "</div><div class=\"stack\"><section class=\"panel\"><h2>Conditions</h2>");
	ag_conditions(&h, json_object_get(run, "status"), "run-conditions");
	html_raw(&h, "</section>");
	render_timeline(&h, run);
	html_raw(&h, "</div></div>\n");
	render_actions(pg, &h, run, post ? post->message : "");
	render_approvals(pg, &h, json_object_get(view, "approvals"));
	render_attempts(&h, attempts);
	render_transcripts(pg, &h, name, attempts, phase_active(phase));
	render_artifacts(pg, &h, name, attempts, json_object_get(view, "artifacts"));
	layout_end(&h);
	json_decref(view);
	return page_send(pg, &h, status);
}

int page_agent_run(struct page *pg, const char *name)
{
	return render_run(pg, name, NULL, 200);
}

int page_agent_run_action(struct page *pg, const char *name, const char *action)
{
	struct form_field f[] = { { "csrf", 128, NULL, 0 },
				  { "expectedGeneration", 32, NULL, 0 },
				  { "message", AG_PROMPT_MAX, NULL, 0 },
				  { "reason", AG_FIELD_MAX, NULL, 0 } };
	struct run_post post = { NULL, NULL };
	struct kerr e = KERR_INIT;
	struct buf loc = BUF_INIT(2048);
	json_t *req = NULL, *out = NULL, *run = NULL;
	const char *gen, *target;
	char *end = NULL;
	long long g;
	int rc;

	if (rec_form(pg, f, 4))
		return 0;
	rc = ag_load(pg, "AgentDispatchRun", name, &run);
	if (rc)
		goto out;
	post.message = form_value(f, 4, "message");
	gen = form_value(f, 4, "expectedGeneration");
	g = strtoll(gen, &end, 10);
	if ((rc = rec_form_utf8(f, 4, &e)) == 0 && (!*gen || *end || g < 1))
		rc = kerr_set(&e, KE_INVALID, NULL, "the form has no valid expectedGeneration; reload the page");
	if (!rc && !(req = json_pack("{s:I, s:s}", "expectedGeneration", (json_int_t)g, "reason",
				     *form_value(f, 4, "reason") ? form_value(f, 4, "reason") : "user-requested")))
		rc = kerr_set(&e, KE_NOMEM, NULL, "out of memory");
	if (!rc && !strcmp(action, "continue"))
		json_object_set_new(req, "message", json_string(post.message));
	if (!rc)
		rc = api_agents_run_action(pg->w->api, &pg->p, pg->org, name, action, req,
					   http_req_correlation_id(pg->r), &out, &e);
	if (rc) {
		post.err = &e;
		rc = render_run(pg, name, &post, kerr_http_status(e.kcode));
		goto out;
	}
	/* a fork is a new run: go there */
	target = json_string_value(json_object_get(out, "run"));
	if (!target || !util_dns_label(target))
		target = name;
	ag_href_buf(&loc, pg, "runs", target);
	buf_printf(&loc, "?done=%s", action);
	rc = web_redirect(pg->r, loc.data ? loc.data : "/orgs");
out:
	json_decref(run);
	json_decref(req);
	json_decref(out);
	buf_free(&loc);
	kerr_clear(&e);
	form_free(f, 4);
	return rc;
}

/* ---- an artifact's content ---- */

int page_agent_artifact(struct page *pg, const char *run, const char *name)
{
	struct buf diff = BUF_INIT(AG_DIFF_HTML_MAX);
	struct kerr e = KERR_INIT;
	json_t *art = NULL, *files, *f;
	const char *kind, *digest, *owner;
	char *data = NULL, title[200];
	size_t len = 0, i;
	struct html h;
	int rc = ag_load(pg, "AgentArtifact", name, &art);

	if (rc)
		return rc;
	owner = rec_str(art, "spec", "dispatchRun");
	if (!owner || strcmp(owner, run)) {
		json_decref(art);
		return KE_NOTFOUND;
	}
	kind = rec_str(art, "spec", "kind");
	digest = rec_str(art, "spec", "digest");
	/* A missing blob (or a server without a data directory) still shows the record. */
	if (api_agents_artifact_content(pg->w->api, &pg->p, pg->org, name, &data, &len, &e))
		data = NULL;
	kerr_clear(&e);
	snprintf(title, sizeof(title), "%s of %s", kind ? kind : "artifact", run);
	html_init(&h);
	ag_begin(pg, &h, title, "dispatch-runs", "Runs", "runs", run);
	html_raw(&h, "<div class=\"page-head\"><p class=\"eyebrow\">Artifact</p><h1>");
	html_text(&h, kind);
	html_raw(&h, " <span class=\"muted\">of <a href=\"");
	ag_href(&h, pg, "runs", run);
	html_raw(&h, "\"><code>");
	html_text(&h, run);
	html_raw(&h, "</code></a></span></h1></div>\n<section class=\"panel\" id=\"artifact\" data-kind=\"");
	html_text(&h, kind);
	html_raw(&h, "\"><dl class=\"meta\"><dt>Digest</dt><dd><code id=\"artifact-digest\">");
	html_text(&h, digest);
	html_raw(&h, "</code></dd><dt>Producer</dt><dd>");
	html_text(&h, rec_str(art, "spec", "producer"));
	html_raw(&h, "</dd><dt>Attempt</dt><dd>");
	html_text(&h, rec_str(art, "spec", "attempt"));
	html_raw(&h, "</dd><dt>Context bundle</dt><dd>");
	ag_digest(&h, rec_str(art, "spec", "sourceContextDigest"));
	html_raw(&h, "</dd><dt>Permission snapshot</dt><dd>");
	ag_digest(&h, rec_str(art, "spec", "permissionSnapshotDigest"));
	html_raw(&h, "</dd>");
	files = json_object_get(json_object_get(json_object_get(art, "spec"), "patch"), "files");
	if (json_array_size(files)) {
		html_raw(&h, "<dt>Files</dt><dd><ul class=\"chips\" id=\"artifact-files\">");
		json_array_foreach(files, i, f) {
			html_raw(&h, "<li><code>");
			ag_ref(&h, f);
			html_raw(&h, "</code></li>");
		}
		html_raw(&h, "</ul></dd>");
	}
	html_raw(&h, "</dl><p><a id=\"artifact-raw\" class=\"button small\" href=\"/api/orgs/");
	html_url(&h, pg->org);
	html_raw(&h, "/agents/artifacts/");
	html_url(&h, name);
	html_raw(&h, "/content\">Raw</a></p>");
	if (!data) {
		html_raw(&h, "<p class=\"empty-state\" id=\"artifact-missing\">The content is not available.</p>");
	} else if (len > AG_CONTENT_SHOWN) {
		html_raw(&h, "<p class=\"empty-state\" id=\"too-large\">The content is too large to show here; "
			     "see it raw.</p>");
	} else if (kind && !strcmp(kind, "patch") && !web_render_diff(&diff, data, len)) {
		html_raw(&h, "<div id=\"diff\" class=\"diff-view\">");
		html_raw(&h, diff.data ? diff.data : "");
		html_raw(&h, "</div>");
	} else {
		html_raw(&h, "<pre class=\"code\" id=\"artifact-content\">");
		html_textn(&h, data, len);
		html_raw(&h, "</pre>");
	}
	html_raw(&h, "</section>\n");
	layout_end(&h);
	free(data);
	buf_free(&diff);
	json_decref(art);
	return page_send(pg, &h, 200);
}
