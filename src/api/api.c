#include "api/agents_api.h"
#include "api/api_internal.h"
#include "api/records.h"
#include "core/log.h"
#include "http/metrics.h"
#include "model/admission.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { AUTH_NONE = 0, AUTH_REQUIRED = 1 };

struct route {
	const char *method;
	const char *pattern;       /* "/api/orgs/{org}/resources/{}/{}" */
	const char *name;          /* metrics labels: "METHOD /route/{param}" */
	int auth;
	api_handler_fn fn;
};

static const struct route routes[] = {
	{ "GET", "/healthz", "GET /healthz", AUTH_NONE, h_healthz },
	{ "GET", "/readyz", "GET /readyz", AUTH_NONE, h_readyz },
	{ "GET", "/metrics", "GET /metrics", AUTH_NONE, h_metrics },
	{ "GET", "/api/kinds", "GET /api/kinds", AUTH_REQUIRED, h_kinds },
	{ "GET", "/api/whoami", "GET /api/whoami", AUTH_REQUIRED, h_whoami },
	{ "POST", "/api/tokens", "POST /api/tokens", AUTH_REQUIRED, h_token_create },
	{ "POST", "/api/users", "POST /api/users", AUTH_REQUIRED, h_user_create },
	{ "GET", "/api/audit", "GET /api/audit", AUTH_REQUIRED, h_audit_list },
	{ "GET", "/api/audit/verify", "GET /api/audit/verify", AUTH_REQUIRED, h_audit_verify },
	{ "GET", "/api/controller", "GET /api/controller", AUTH_REQUIRED, h_controller },
	{ "GET", "/api/controller/resources", "GET /api/controller/resources", AUTH_REQUIRED, h_list },
	{ "POST", "/api/controller/resources", "POST /api/controller/resources", AUTH_REQUIRED, h_apply },
	{ "GET", "/api/controller/resources/{}/{}", "GET /api/controller/resources/{kind}/{name}", AUTH_REQUIRED, h_get },
	{ "PUT", "/api/controller/resources/{}/{}", "PUT /api/controller/resources/{kind}/{name}", AUTH_REQUIRED, h_put },
	{ "DELETE", "/api/controller/resources/{}/{}", "DELETE /api/controller/resources/{kind}/{name}", AUTH_REQUIRED, h_delete },
	{ "PUT", "/api/controller/resources/{}/{}/status", "PUT /api/controller/resources/{kind}/{name}/status", AUTH_REQUIRED, h_put_status },
	{ "GET", "/api/orgs", "GET /api/orgs", AUTH_REQUIRED, h_orgs_list },
	{ "POST", "/api/orgs", "POST /api/orgs", AUTH_REQUIRED, h_orgs_create },
	{ "GET", "/api/orgs/{org}", "GET /api/orgs/{org}", AUTH_REQUIRED, h_orgs_get },
	{ "GET", "/api/orgs/{org}/resources", "GET /api/orgs/{org}/resources", AUTH_REQUIRED, h_list },
	{ "POST", "/api/orgs/{org}/resources", "POST /api/orgs/{org}/resources", AUTH_REQUIRED, h_apply },
	{ "GET", "/api/orgs/{org}/resources/{}/{}", "GET /api/orgs/{org}/resources/{kind}/{name}", AUTH_REQUIRED, h_get },
	{ "PUT", "/api/orgs/{org}/resources/{}/{}", "PUT /api/orgs/{org}/resources/{kind}/{name}", AUTH_REQUIRED, h_put },
	{ "DELETE", "/api/orgs/{org}/resources/{}/{}", "DELETE /api/orgs/{org}/resources/{kind}/{name}", AUTH_REQUIRED, h_delete },
	{ "PUT", "/api/orgs/{org}/resources/{}/{}/status", "PUT /api/orgs/{org}/resources/{kind}/{name}/status", AUTH_REQUIRED, h_put_status },
	/* Typed repository routes; the browse routes below have more segments, so they never collide. */
	{ "GET", "/api/orgs/{org}/repositories", "GET /api/orgs/{org}/repositories", AUTH_REQUIRED, h_repos_list },
	{ "POST", "/api/orgs/{org}/repositories", "POST /api/orgs/{org}/repositories", AUTH_REQUIRED, h_repos_create },
	{ "GET", "/api/orgs/{org}/repositories/{}", "GET /api/orgs/{org}/repositories/{repo}", AUTH_REQUIRED, h_repos_get },
	{ "DELETE", "/api/orgs/{org}/repositories/{}", "DELETE /api/orgs/{org}/repositories/{repo}", AUTH_REQUIRED, h_repos_delete },
	{ "GET", "/api/orgs/{org}/repositories/{}/branches", "GET /api/orgs/{org}/repositories/{repo}/branches", AUTH_REQUIRED, h_browse_branches },
	{ "GET", "/api/orgs/{org}/repositories/{}/tags", "GET /api/orgs/{org}/repositories/{repo}/tags", AUTH_REQUIRED, h_browse_tags },
	{ "GET", "/api/orgs/{org}/repositories/{}/tree/{}", "GET /api/orgs/{org}/repositories/{repo}/tree/{ref}", AUTH_REQUIRED, h_browse_tree },
	{ "GET", "/api/orgs/{org}/repositories/{}/tree/{}/{*}", "GET /api/orgs/{org}/repositories/{repo}/tree/{ref}/{path}", AUTH_REQUIRED, h_browse_tree },
	{ "GET", "/api/orgs/{org}/repositories/{}/blob/{}/{*}", "GET /api/orgs/{org}/repositories/{repo}/blob/{ref}/{path}", AUTH_REQUIRED, h_browse_blob },
	{ "GET", "/api/orgs/{org}/repositories/{}/commits", "GET /api/orgs/{org}/repositories/{repo}/commits", AUTH_REQUIRED, h_browse_commits },
	{ "GET", "/api/orgs/{org}/repositories/{}/commits/{}", "GET /api/orgs/{org}/repositories/{repo}/commits/{sha}", AUTH_REQUIRED, h_browse_commit },
	{ "POST", "/api/orgs/{org}/repositories/{}/pulls", "POST /api/orgs/{org}/repositories/{repo}/pulls", AUTH_REQUIRED, h_pulls_create },
	{ "GET", "/api/orgs/{org}/repositories/{}/pulls", "GET /api/orgs/{org}/repositories/{repo}/pulls", AUTH_REQUIRED, h_pulls_list },
	{ "GET", "/api/orgs/{org}/repositories/{}/pulls/{}", "GET /api/orgs/{org}/repositories/{repo}/pulls/{n}", AUTH_REQUIRED, h_pulls_get },
	{ "PATCH", "/api/orgs/{org}/repositories/{}/pulls/{}", "PATCH /api/orgs/{org}/repositories/{repo}/pulls/{n}", AUTH_REQUIRED, h_pulls_patch },
	{ "GET", "/api/orgs/{org}/repositories/{}/pulls/{}/files", "GET /api/orgs/{org}/repositories/{repo}/pulls/{n}/files", AUTH_REQUIRED, h_pulls_files },
	{ "POST", "/api/orgs/{org}/repositories/{}/pulls/{}/reviews", "POST /api/orgs/{org}/repositories/{repo}/pulls/{n}/reviews", AUTH_REQUIRED, h_pulls_review },
	{ "GET", "/api/orgs/{org}/repositories/{}/pulls/{}/reviews", "GET /api/orgs/{org}/repositories/{repo}/pulls/{n}/reviews", AUTH_REQUIRED, h_pulls_reviews },
	{ "POST", "/api/orgs/{org}/repositories/{}/pulls/{}/checks", "POST /api/orgs/{org}/repositories/{repo}/pulls/{n}/checks", AUTH_REQUIRED, h_pulls_check },
	{ "POST", "/api/orgs/{org}/repositories/{}/pulls/{}/merge", "POST /api/orgs/{org}/repositories/{repo}/pulls/{n}/merge", AUTH_REQUIRED, h_pulls_merge },
	{ "POST", "/api/orgs/{org}/repositories/{}/pulls/{}/comments", "POST /api/orgs/{org}/repositories/{repo}/pulls/{n}/comments", AUTH_REQUIRED, h_pull_comment_create },
	{ "GET", "/api/orgs/{org}/repositories/{}/pulls/{}/comments", "GET /api/orgs/{org}/repositories/{repo}/pulls/{n}/comments", AUTH_REQUIRED, h_pull_comments },
	{ "POST", "/api/orgs/{org}/repositories/{}/issues", "POST /api/orgs/{org}/repositories/{repo}/issues", AUTH_REQUIRED, h_issues_create },
	{ "GET", "/api/orgs/{org}/repositories/{}/issues", "GET /api/orgs/{org}/repositories/{repo}/issues", AUTH_REQUIRED, h_issues_list },
	{ "GET", "/api/orgs/{org}/repositories/{}/issues/{}", "GET /api/orgs/{org}/repositories/{repo}/issues/{n}", AUTH_REQUIRED, h_issues_get },
	{ "PATCH", "/api/orgs/{org}/repositories/{}/issues/{}", "PATCH /api/orgs/{org}/repositories/{repo}/issues/{n}", AUTH_REQUIRED, h_issues_patch },
	{ "POST", "/api/orgs/{org}/repositories/{}/issues/{}/comments", "POST /api/orgs/{org}/repositories/{repo}/issues/{n}/comments", AUTH_REQUIRED, h_issue_comment_create },
	{ "GET", "/api/orgs/{org}/repositories/{}/issues/{}/comments", "GET /api/orgs/{org}/repositories/{repo}/issues/{n}/comments", AUTH_REQUIRED, h_issue_comments },
	{ "POST", "/api/orgs/{org}/webhookdeliveries/{}/redeliver", "POST /api/orgs/{org}/webhookdeliveries/{name}/redeliver", AUTH_REQUIRED, h_webhook_redeliver },
	/* Agent configuration (agents_config.c): the org from ?org= or the token, or the {org} form. */
	{ "GET", "/api/agents/stacks", "GET /api/agents/stacks", AUTH_REQUIRED, h_agents_stacks_list },
	{ "POST", "/api/agents/stacks", "POST /api/agents/stacks", AUTH_REQUIRED, h_agents_stacks_create },
	{ "GET", "/api/agents/stacks/{}", "GET /api/agents/stacks/{name}", AUTH_REQUIRED, h_agents_stack_get },
	{ "PATCH", "/api/agents/stacks/{}", "PATCH /api/agents/stacks/{name}", AUTH_REQUIRED, h_agents_stack_patch },
	{ "DELETE", "/api/agents/stacks/{}", "DELETE /api/agents/stacks/{name}", AUTH_REQUIRED, h_agents_stack_delete },
	{ "GET", "/api/agents/secrets", "GET /api/agents/secrets", AUTH_REQUIRED, h_agents_secrets_list },
	{ "GET", "/api/agents/configmaps", "GET /api/agents/configmaps", AUTH_REQUIRED, h_agents_configmaps_list },
	{ "POST", "/api/agents/secrets/grants", "POST /api/agents/secrets/grants", AUTH_REQUIRED, h_agents_secret_grants },
	{ "POST", "/api/agents/config/grants", "POST /api/agents/config/grants", AUTH_REQUIRED, h_agents_config_grants },
	{ "GET", "/api/agents/capability-requirements", "GET /api/agents/capability-requirements", AUTH_REQUIRED, h_agents_capabilities },
	{ "POST", "/api/agents/permissions/review", "POST /api/agents/permissions/review", AUTH_REQUIRED, h_agents_review },
	{ "GET", "/api/orgs/{org}/agents/stacks", "GET /api/orgs/{org}/agents/stacks", AUTH_REQUIRED, h_agents_stacks_list },
	{ "POST", "/api/orgs/{org}/agents/stacks", "POST /api/orgs/{org}/agents/stacks", AUTH_REQUIRED, h_agents_stacks_create },
	{ "GET", "/api/orgs/{org}/agents/stacks/{}", "GET /api/orgs/{org}/agents/stacks/{name}", AUTH_REQUIRED, h_agents_stack_get },
	{ "PATCH", "/api/orgs/{org}/agents/stacks/{}", "PATCH /api/orgs/{org}/agents/stacks/{name}", AUTH_REQUIRED, h_agents_stack_patch },
	{ "DELETE", "/api/orgs/{org}/agents/stacks/{}", "DELETE /api/orgs/{org}/agents/stacks/{name}", AUTH_REQUIRED, h_agents_stack_delete },
	{ "GET", "/api/orgs/{org}/agents/secrets", "GET /api/orgs/{org}/agents/secrets", AUTH_REQUIRED, h_agents_secrets_list },
	{ "GET", "/api/orgs/{org}/agents/configmaps", "GET /api/orgs/{org}/agents/configmaps", AUTH_REQUIRED, h_agents_configmaps_list },
	{ "POST", "/api/orgs/{org}/agents/secrets/grants", "POST /api/orgs/{org}/agents/secrets/grants", AUTH_REQUIRED, h_agents_secret_grants },
	{ "POST", "/api/orgs/{org}/agents/config/grants", "POST /api/orgs/{org}/agents/config/grants", AUTH_REQUIRED, h_agents_config_grants },
	{ "GET", "/api/orgs/{org}/agents/capability-requirements", "GET /api/orgs/{org}/agents/capability-requirements", AUTH_REQUIRED, h_agents_capabilities },
	{ "POST", "/api/orgs/{org}/agents/permissions/review", "POST /api/orgs/{org}/agents/permissions/review", AUTH_REQUIRED, h_agents_review },
	/* Agent dispatch (agents_runs.c, agents_actions.c, agents_events.c): the org from {org}, ?org=,
	 * the token, or (for one run, artifact, bundle or approval) the one visible org that has it. */
	{ "POST", "/api/agents/runs", "POST /api/agents/runs", AUTH_REQUIRED, h_agents_runs_create },
	{ "GET", "/api/agents/runs", "GET /api/agents/runs", AUTH_REQUIRED, h_agents_runs_list },
	{ "GET", "/api/agents/runs/{}", "GET /api/agents/runs/{run}", AUTH_REQUIRED, h_agents_run_get },
	{ "GET", "/api/agents/runs/{}/attempts", "GET /api/agents/runs/{run}/attempts", AUTH_REQUIRED, h_agents_run_attempts },
	{ "GET", "/api/agents/runs/{}/events", "GET /api/agents/runs/{run}/events", AUTH_REQUIRED, h_agents_run_events },
	{ "POST", "/api/agents/runs/{}/cancel", "POST /api/agents/runs/{run}/cancel", AUTH_REQUIRED, h_agents_run_cancel },
	{ "POST", "/api/agents/runs/{}/retry", "POST /api/agents/runs/{run}/retry", AUTH_REQUIRED, h_agents_run_retry },
	{ "POST", "/api/agents/runs/{}/resume", "POST /api/agents/runs/{run}/resume", AUTH_REQUIRED, h_agents_run_resume },
	{ "POST", "/api/agents/runs/{}/fork", "POST /api/agents/runs/{run}/fork", AUTH_REQUIRED, h_agents_run_fork },
	{ "POST", "/api/agents/runs/{}/continue", "POST /api/agents/runs/{run}/continue", AUTH_REQUIRED, h_agents_run_continue },
	{ "GET", "/api/agents/artifacts/{}", "GET /api/agents/artifacts/{name}", AUTH_REQUIRED, h_agents_artifact_get },
	{ "GET", "/api/agents/artifacts/{}/content", "GET /api/agents/artifacts/{name}/content", AUTH_REQUIRED, h_agents_artifact_content },
	{ "GET", "/api/agents/bundles/{}", "GET /api/agents/bundles/{name}", AUTH_REQUIRED, h_agents_bundle_get },
	{ "GET", "/api/agents/approvals", "GET /api/agents/approvals", AUTH_REQUIRED, h_agents_approvals_list },
	{ "POST", "/api/agents/approvals/{}/decision", "POST /api/agents/approvals/{approval}/decision", AUTH_REQUIRED, h_agents_approval_decide },
	{ "POST", "/api/orgs/{org}/agents/runs", "POST /api/orgs/{org}/agents/runs", AUTH_REQUIRED, h_agents_runs_create },
	{ "GET", "/api/orgs/{org}/agents/runs", "GET /api/orgs/{org}/agents/runs", AUTH_REQUIRED, h_agents_runs_list },
	{ "GET", "/api/orgs/{org}/agents/runs/{}", "GET /api/orgs/{org}/agents/runs/{run}", AUTH_REQUIRED, h_agents_run_get },
	{ "GET", "/api/orgs/{org}/agents/runs/{}/attempts", "GET /api/orgs/{org}/agents/runs/{run}/attempts", AUTH_REQUIRED, h_agents_run_attempts },
	{ "GET", "/api/orgs/{org}/agents/runs/{}/events", "GET /api/orgs/{org}/agents/runs/{run}/events", AUTH_REQUIRED, h_agents_run_events },
	{ "POST", "/api/orgs/{org}/agents/runs/{}/cancel", "POST /api/orgs/{org}/agents/runs/{run}/cancel", AUTH_REQUIRED, h_agents_run_cancel },
	{ "POST", "/api/orgs/{org}/agents/runs/{}/retry", "POST /api/orgs/{org}/agents/runs/{run}/retry", AUTH_REQUIRED, h_agents_run_retry },
	{ "POST", "/api/orgs/{org}/agents/runs/{}/resume", "POST /api/orgs/{org}/agents/runs/{run}/resume", AUTH_REQUIRED, h_agents_run_resume },
	{ "POST", "/api/orgs/{org}/agents/runs/{}/fork", "POST /api/orgs/{org}/agents/runs/{run}/fork", AUTH_REQUIRED, h_agents_run_fork },
	{ "POST", "/api/orgs/{org}/agents/runs/{}/continue", "POST /api/orgs/{org}/agents/runs/{run}/continue", AUTH_REQUIRED, h_agents_run_continue },
	{ "GET", "/api/orgs/{org}/agents/artifacts/{}", "GET /api/orgs/{org}/agents/artifacts/{name}", AUTH_REQUIRED, h_agents_artifact_get },
	{ "GET", "/api/orgs/{org}/agents/artifacts/{}/content", "GET /api/orgs/{org}/agents/artifacts/{name}/content", AUTH_REQUIRED, h_agents_artifact_content },
	{ "GET", "/api/orgs/{org}/agents/bundles/{}", "GET /api/orgs/{org}/agents/bundles/{name}", AUTH_REQUIRED, h_agents_bundle_get },
	{ "GET", "/api/orgs/{org}/agents/approvals", "GET /api/orgs/{org}/agents/approvals", AUTH_REQUIRED, h_agents_approvals_list },
	{ "POST", "/api/orgs/{org}/agents/approvals/{}/decision", "POST /api/orgs/{org}/agents/approvals/{approval}/decision", AUTH_REQUIRED, h_agents_approval_decide },
	{ "GET", "/api/watch/orgs/{org}", "GET /api/watch/orgs/{org}", AUTH_REQUIRED, h_watch },
	{ "GET", "/api/watch/orgs/{org}/{}", "GET /api/watch/orgs/{org}/{resource}", AUTH_REQUIRED, h_watch },
	{ "GET", "/api/watch/orgs/{org}/{}/{}", "GET /api/watch/orgs/{org}/{resource}/{name}", AUTH_REQUIRED, h_watch },
};
#define N_ROUTES ((int)(sizeof(routes) / sizeof(routes[0])))

static const char *route_names[N_ROUTES];

/* Splits path into at most max segments without copying: starts[i]/lens[i].
 * Returns the count, or -1 when there are too many or a segment is empty (a
 * "//" or trailing "/" matches no route). */
static int split_path(const char *path, const char **starts, size_t *lens, int max)
{
	int n = 0;
	const char *p = path;

	if (*p != '/')
		return -1;
	if (!strcmp(p, "/"))
		return 0;
	while (*p == '/') {
		const char *s = ++p;

		while (*p && *p != '/')
			p++;
		if (p == s || n == max)
			return -1;
		starts[n] = s;
		lens[n] = (size_t)(p - s);
		n++;
	}
	return *p ? -1 : n;
}

/* Route patterns split once at start-up. */
static struct {
	const char *seg[API_MAX_SEGMENTS];
	size_t len[API_MAX_SEGMENTS];
	int n;
} split_routes[N_ROUTES];

/* Copies len bytes of s NUL-terminated into cap_buf at *used; NULL when full. */
static const char *capture(char *cap_buf, size_t cap_size, size_t *used, const char *s, size_t len)
{
	char *c = cap_buf + *used;

	if (*used + len + 1 > cap_size)
		return NULL;
	memcpy(c, s, len);
	c[len] = '\0';
	*used += len + 1;
	return c;
}

/* Matches route i; captures are copied NUL-terminated into cap_buf. A final
 * "{*}" matches one or more segments and captures them with their slashes. */
static int route_match(int i, const char **segs, const size_t *lens, int nseg, struct route_match *m,
		       char *cap_buf, size_t cap_size)
{
	size_t used = 0;
	int k, n = split_routes[i].n;
	int rest = n > 0 && split_routes[i].len[n - 1] == 3 && !memcmp(split_routes[i].seg[n - 1], "{*}", 3);

	if (rest ? nseg < n : n != nseg)
		return 0;
	m->nseg = 0;
	m->org = NULL;
	m->rest = NULL;
	for (k = 0; k < n; k++) {
		size_t pl = split_routes[i].len[k];
		const char *ps = split_routes[i].seg[k];

		if (rest && k == n - 1) {
			/* segments are consecutive in the path: the last one ends the rest */
			const char *end = segs[nseg - 1] + lens[nseg - 1];

			if (!(m->rest = capture(cap_buf, cap_size, &used, segs[k], (size_t)(end - segs[k]))))
				return 0;
		} else if (pl == 5 && !memcmp(ps, "{org}", 5)) {
			if (!(m->org = capture(cap_buf, cap_size, &used, segs[k], lens[k])))
				return 0;
		} else if (pl == 2 && !memcmp(ps, "{}", 2)) {
			if (!(m->seg[m->nseg] = capture(cap_buf, cap_size, &used, segs[k], lens[k])))
				return 0;
			m->nseg++;
		} else if (pl != lens[k] || memcmp(ps, segs[k], lens[k])) {
			return 0;
		}
	}
	return 1;
}

int api_fail(struct http_req *r, const struct kerr *e)
{
	http_respond_error(r, e);
	return HTTP_DONE;
}

int api_failf(struct http_req *r, int kcode, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	http_respond_verrorf(r, kcode, code, fmt, ap);
	va_end(ap);
	return HTTP_DONE;
}

void api_resource_id(struct buf *b, const char *kind, const char *ns, const char *name)
{
	buf_printf(b, "%s/%s/%s", kind ? kind : "", ns ? ns : "", name ? name : "");
}

const char *api_namespace_org(const char *ns_or_org)
{
	const char *slug;

	if (!ns_or_org || !strcmp(ns_or_org, KRATE_PLATFORM_NS))
		return NULL;
	slug = admission_namespace_org(ns_or_org);
	return slug ? slug : ns_or_org;
}

static int is_mutation(const char *method)
{
	return strcmp(method, "GET") && strcmp(method, "HEAD");
}

int api_handle(struct http_req *r, void *arg)
{
	struct api *a = arg;
	const char *segs[API_MAX_PATH_SEGMENTS];
	size_t lens[API_MAX_PATH_SEGMENTS];
	const char *method = http_req_method(r), *path = http_req_path(r);
	int nseg = split_path(path, segs, lens, API_MAX_PATH_SEGMENTS), i, path_matched = 0, rc;
	struct route_match m;
	struct principal p = { 0 };
	struct kerr e = KERR_INIT;
	char *caps;
	size_t caps_size = strlen(path) + API_MAX_PATH_SEGMENTS + 1;

	caps = malloc(caps_size);
	if (!caps)
		return api_failf(r, KE_NOMEM, NULL, "out of memory");
	for (i = 0; nseg >= 0 && i < N_ROUTES; i++) {
		if (!route_match(i, segs, lens, nseg, &m, caps, caps_size))
			continue;
		path_matched = 1;
		if (!strcmp(routes[i].method, method) ||
		    (!strcmp(method, "HEAD") && !strcmp(routes[i].method, "GET")))
			break;
	}
	if (i == N_ROUTES || nseg < 0) {
		free(caps);
		if (path_matched)
			return api_failf(r, KE_METHOD, NULL, "method %s is not allowed here", method);
		return api_failf(r, KE_NOTFOUND, "UNKNOWN_ROUTE", "no route for %s %s", method, path);
	}
	http_req_set_route(r, i);
	if (routes[i].auth == AUTH_REQUIRED && api_authenticate(a, r, &p, &e)) {
		if (is_mutation(method))
			rc = write_deny(a, r, &p, method, NULL, routes[i].name, &e);
		else
			rc = api_fail(r, &e);
		goto out;
	}
	rc = routes[i].fn(a, r, &m, &p);
out:
	/* Handlers that defer copy what they need: captures and principal end here. */
	kerr_clear(&e);
	api_principal_free(&p);
	free(caps);
	return rc;
}

void api_observe(int route_id, int status, uint64_t nanos, void *arg)
{
	(void)arg;
	metrics_observe(route_id, status, nanos);
}

int api_create(const struct api_options *o, struct api **out, struct kerr *e)
{
	struct api *a = calloc(1, sizeof(*a));
	struct hub_options ho = { 0 };
	int i, rc;

	if (!a)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	for (i = 0; i < N_ROUTES; i++) {
		route_names[i] = routes[i].name;
		split_routes[i].n = split_path(routes[i].pattern, split_routes[i].seg, split_routes[i].len,
						API_MAX_SEGMENTS);
	}
	/* A route table the metrics cannot hold is a build mistake, not a runtime condition. */
	_Static_assert(N_ROUTES <= METRICS_MAX_ROUTES, "raise METRICS_MAX_ROUTES");
	metrics_init(route_names, N_ROUTES);
	a->store = o->store;
	a->body_max = o->body_max;
	a->webhook = o->webhook;
	a->seal = o->seal;
	a->git_path = strdup(o->git_path ? o->git_path : "/usr/bin/git");
	if (o->data_dir && asprintf(&a->git_root, "%s/git", o->data_dir) < 0)
		a->git_root = NULL;
	a->data_dir = o->data_dir ? strdup(o->data_dir) : NULL;
	if (!a->git_path || (o->data_dir && (!a->git_root || !a->data_dir))) {
		free(a->git_path);
		free(a->git_root);
		free(a->data_dir);
		free(a);
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	a->tokens = token_cache_create();
	a->sessions = session_guard_create();
	if (!a->tokens || !a->sessions) {
		token_cache_destroy(a->tokens);
		session_guard_destroy(a->sessions);
		free(a->git_path);
		free(a->git_root);
		free(a->data_dir);
		free(a);
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	ho.store = o->store;
	ho.heartbeat_seconds = o->heartbeat_seconds;
	ho.max_watches = o->max_watches;
	ho.ring_size = o->ring_size;
	rc = hub_create(&ho, &a->hub, e);
	if (rc) {
		token_cache_destroy(a->tokens);
		session_guard_destroy(a->sessions);
		free(a->git_path);
		free(a->git_root);
		free(a->data_dir);
		free(a);
		return rc;
	}
	store_set_event_hook(o->store, hub_publish, a->hub);
	*out = a;
	return 0;
}

void api_set_browse(struct api *a, api_browse_fn fn, api_browse_raw_fn raw, void *arg)
{
	a->browse = fn;
	a->browse_raw = fn ? raw : NULL;
	a->browse_arg = fn ? arg : NULL;
}

void api_set_runtime(struct api *a, struct agents_runtime *rt)
{
	a->runtime = rt;
}

void api_shutdown(struct api *a)
{
	hub_shutdown(a->hub);
}

void api_destroy(struct api *a)
{
	if (!a)
		return;
	store_set_event_hook(a->store, NULL, NULL);
	hub_destroy(a->hub);
	token_cache_destroy(a->tokens);
	session_guard_destroy(a->sessions);
	free(a->git_path);
	free(a->git_root);
	free(a->data_dir);
	free(a);
}
