/* The dispatch API against the real server: an admin sets up identities,
 * grants, a Secret and stacks through the generic API; a developer
 * dispatches runs (objects, frozen context, stable bundle digest), is denied
 * with the review's reasons (nothing stored, refusal audited), waits for an
 * approval, cancels, retries, forks and continues runs (stale generations
 * refused), follows a run's event stream with resume, and no secret value
 * ever shows in an answer, the data directory (store, CAS) or the log.
 *
 * The API stacks use the agent-mux adapter with no gateway configured, so
 * their attempts stay queued whatever the runtime does; the end-to-end test
 * runs tests/agents/test-agent.sh through the process adapter. */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "zq-dispatch-secret-7f3a9c41"

static struct krate_server srv;
static char work[256];
static char *dev, *viewer;   /* tokens of org acme */
static char main_sha[64];

/* ---- requests ---- */

static json_t *call(const char *method, const char *path, const char *token, const char *body, long want)
{
	json_t *j = harness_call_json(&srv, method, path, token, body, want);
	char *text = json_dumps(j, JSON_COMPACT);

	/* no answer may carry a secret value */
	if (text && strstr(text, SECRET))
		fail_msg("%s %s answered with the secret: %s", method, path, text);
	free(text);
	return j;
}

static const char *str(json_t *o, const char *part, const char *key)
{
	return json_string_value(json_object_get(json_object_get(o, part), key));
}

static long long gen(json_t *o)
{
	return json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation"));
}

static const char *label(json_t *o, const char *key)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(o, "metadata"), "labels"), key));
}

static int has_code(json_t *arr, const char *code)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_string_value(json_object_get(v, "code")) &&
		    !strcmp(json_string_value(json_object_get(v, "code")), code))
			return 1;
	return 0;
}

static size_t count(const char *path)
{
	json_t *j = call("GET", path, dev, NULL, 200);
	size_t n = json_array_size(json_object_get(j, "items"));

	json_decref(j);
	return n;
}

/* Dispatches stack on app with prompt; the 201 answer {run, attempt, links}. */
static json_t *dispatch(const char *stack, const char *prompt, long want)
{
	char body[1024];

	snprintf(body, sizeof(body),
		 "{\"repository\":\"app\",\"ref\":\"main\",\"agentStack\":\"%s\",\"taskKind\":\"manual-repair\","
		 "\"prompt\":\"%s\",\"sourceRefs\":[{\"kind\":\"file\",\"path\":\"README.md\"}]}",
		 stack, prompt);
	return call("POST", "/api/agents/runs", dev, body, want);
}

static json_t *get_run(const char *run)
{
	char path[160];

	snprintf(path, sizeof(path), "/api/agents/runs/%s", run);
	return call("GET", path, dev, NULL, 200);
}

static json_t *action(const char *run, const char *what, const char *body, long want)
{
	char path[160];

	snprintf(path, sizeof(path), "/api/agents/runs/%s/%s", run, what);
	return call("POST", path, dev, body ? body : "{}", want);
}

static json_t *get_obj(const char *kind, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "/api/orgs/acme/resources/%s/%s", kind, name);
	return call("GET", path, srv.admin_token, NULL, 200);
}

/* The CAS blob of digest ("sha256:<hex>"), read from the data directory. */
static char *cas_text(const char *digest)
{
	assert_non_null(digest);
	assert_int_equal(strncmp(digest, "sha256:", 7), 0);
	return harness_sh_out(srv.dir, "cat \"$(find cas -type f -name '*%s' | head -1)\"", digest + 7 + 2);
}

/* ---- server-sent events over a plain socket ---- */

static void sse_close(struct harness_sse *s)
{
	if (s->data && strstr(s->data, SECRET))
		fail_msg("an event stream carried the secret");
	harness_sse_close(s);
}

/* ---- set-up ---- */

static void test_setup(void **state)
{
	char url[512], *sha, here[PATH_MAX], cmd[PATH_MAX + 64], agent[PATH_MAX], stack[PATH_MAX + 512];

	(void)state;
	harness_make_org(&srv, "acme");
	harness_make_repo(&srv, "acme", "app", "");
	dev = harness_token(&srv, "dana", "acme", "developer");
	viewer = harness_token(&srv, "vic", "acme", "viewer");
	assert_non_null(dev);
	assert_non_null(viewer);
	snprintf(url, sizeof(url), "http://admin:%s@127.0.0.1:%d/acme/app.git", srv.admin_token, srv.port);
	harness_sh_ok(work, "git -c credential.helper= clone -q '%s' w && cd w && mkdir src &&"
			    " printf '# App\\nDeploy with token=%s\\n' > README.md &&"
			    " printf 'int main(void) { return 1; }\\n' > src/main.c && git add . &&"
			    " git commit -qm base && git push -q origin HEAD:main",
		      url, SECRET);
	sha = harness_sh_out(work, "cd w && git rev-parse HEAD");
	snprintf(main_sha, sizeof(main_sha), "%s", sha);
	free(sha);

	/* identities, grants, a Secret and stacks, as an admin writes them */
	harness_apply(&srv, "acme", "{\"kind\":\"AgentServiceAccount\",\"metadata\":{\"name\":\"agent-fixer\"},"
				    "\"spec\":{\"namespace\":\"krate-org-acme\",\"serviceAccountName\":\"agent-fixer\"}}");
	harness_apply(&srv, "acme", "{\"kind\":\"AgentServiceAccount\",\"metadata\":{\"name\":\"agent-gated\"},"
				    "\"spec\":{\"namespace\":\"krate-org-acme\",\"serviceAccountName\":\"agent-gated\"}}");
	harness_apply(&srv, "acme", "{\"kind\":\"AgentRoleBinding\",\"metadata\":{\"name\":\"fixer-edit\"},"
				    "\"spec\":{\"subject\":\"agent-fixer\",\"roleRef\":\"edit\",\"scope\":\"repository\"}}");
	harness_apply(&srv, "acme", "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"provider-key\"},"
				    "\"spec\":{\"data\":{\"token\":\"" SECRET "\"}}}");
	harness_apply(&srv, "acme", "{\"kind\":\"AgentSecretGrant\",\"metadata\":{\"name\":\"fixer-provider\"},"
				    "\"spec\":{\"subject\":\"agent-fixer\",\"secretRef\":\"provider-key\","
				    "\"purpose\":\"model-provider\",\"requiredApproval\":\"never\",\"mountPolicy\":\"env\","
				    "\"env\":\"LEAK_TOKEN\"}}");
	harness_apply(&srv, "acme", "{\"kind\":\"AgentSecretGrant\",\"metadata\":{\"name\":\"gated-provider\"},"
				    "\"spec\":{\"subject\":\"agent-gated\",\"secretRef\":\"provider-key\","
				    "\"purpose\":\"model-provider\",\"requiredApproval\":\"always\"}}");
	harness_apply(&srv, "acme", "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"muxer\"},\"spec\":{"
				    "\"baseAgent\":\"claude-code\",\"adapter\":\"agent-mux\",\"runtimeIdentity\":\"agent-fixer\","
				    "\"prompt\":{\"system\":\"You repair builds.\",\"developer\":\"Keep changes small.\","
				    "\"task\":\"Fix what fails.\"}}}");
	harness_apply(&srv, "acme", "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"gated\"},\"spec\":{"
				    "\"baseAgent\":\"claude-code\",\"adapter\":\"agent-mux\",\"runtimeIdentity\":\"agent-gated\"}}");
	harness_apply(&srv, "acme", "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"orphan\"},\"spec\":{"
				    "\"baseAgent\":\"claude-code\",\"adapter\":\"agent-mux\",\"runtimeIdentity\":\"agent-missing\"}}");

	/* the runtime's test agent (tests/agents/test-agent.sh) through the process adapter */
	snprintf(here, sizeof(here), "%s", __FILE__);
	*strrchr(here, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "%s/../agents/test-agent.sh", here);
	assert_non_null(realpath(cmd, agent));
	snprintf(stack, sizeof(stack),
		 "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"fixer\"},\"spec\":{\"baseAgent\":\"test\","
		 "\"adapter\":\"process\",\"runtimeIdentity\":\"agent-fixer\",\"command\":[\"%s\"],"
		 "\"timeoutSeconds\":60,\"prompt\":{\"system\":\"You repair builds.\"}}}",
		 agent);
	harness_apply(&srv, "acme", stack);
}

/* ---- dispatch ---- */

static void test_dispatch(void **state)
{
	json_t *r1, *r2, *run, *att, *d, *b, *perm;
	const char *name, *digest;
	char path[200], *text;

	(void)state;
	r1 = dispatch("muxer", "The build fails. token " SECRET " may help.", 201);
	run = json_object_get(r1, "run");
	att = json_object_get(r1, "attempt");
	name = str(run, "metadata", "name");
	assert_int_equal(strncmp(name, "run-", 4), 0);
	assert_int_equal(strlen(name), 16);
	assert_string_equal(str(run, "status", "phase"), "Queued");
	assert_string_equal(str(run, "spec", "sha"), main_sha);
	assert_string_equal(str(run, "spec", "ref"), "refs/heads/main");
	assert_string_equal(str(run, "spec", "actor"), "dana");
	/* the prompt is stored redacted */
	assert_non_null(strstr(str(run, "spec", "prompt"), "[REDACTED:org-secret]"));
	snprintf(path, sizeof(path), "%s-1", name);
	assert_string_equal(str(att, "metadata", "name"), path);
	assert_string_equal(str(att, "spec", "attemptReason"), "initial");
	assert_string_equal(label(att, "krate.a5c.ai/state"), "queued");
	assert_string_equal(label(att, "krate.a5c.ai/run"), name);
	assert_string_equal(label(att, "krate.a5c.ai/adapter"), "agent-mux");
	assert_string_equal(str(att, "status", "phase"), "Queued");
	perm = json_object_get(json_object_get(att, "spec"), "permissionSnapshot");
	assert_true(json_is_true(json_object_get(perm, "frozen")));
	assert_string_equal(json_string_value(json_object_get(perm, "decision")), "allowed");
	assert_string_equal(str(att, "spec", "contextBundleDigest"), str(run, "status", "contextBundleDigest"));
	assert_string_equal(str(json_object_get(att, "spec"), "agentStackSnapshot", "adapter"), "agent-mux");
	snprintf(path, sizeof(path), "/orgs/acme/agents/runs/%s", name);
	assert_string_equal(str(r1, "links", "detail"), path);
	snprintf(path, sizeof(path), "/api/agents/runs/%s/events", name);
	assert_string_equal(str(r1, "links", "events"), path);

	/* the rendered prompt and the layers are in CAS, redacted */
	text = cas_text(str(att, "spec", "promptDigest"));
	assert_non_null(strstr(text, "You repair builds."));
	assert_non_null(strstr(text, "The build fails."));
	free(text);

	/* the detail: attempts, the bundle (README.md as a source), its digest */
	d = get_run(name);
	assert_int_equal(json_array_size(json_object_get(d, "attempts")), 1);
	digest = json_string_value(json_object_get(d, "contextBundleDigest"));
	assert_non_null(digest);
	b = json_object_get(d, "bundle");
	assert_string_equal(str(b, "spec", "digest"), digest);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(json_object_get(b, "spec"), "sources"), 0), "kind")),
			    "file");
	snprintf(path, sizeof(path), "/api/agents/bundles/%s", str(b, "metadata", "name"));
	json_decref(call("GET", path, dev, NULL, 200));
	snprintf(path, sizeof(path), "/api/agents/runs/%s/attempts", name);
	assert_int_equal(count(path), 1);

	/* the same inputs give the same bundle digest */
	r2 = dispatch("muxer", "The build fails. token " SECRET " may help.", 201);
	assert_string_equal(str(json_object_get(r2, "run"), "status", "contextBundleDigest"), digest);
	assert_string_not_equal(str(json_object_get(r2, "run"), "metadata", "name"), name);
	json_decref(r2);

	/* lists and filters; the org-addressed route is the same */
	assert_int_equal(count("/api/agents/runs"), 2);
	assert_int_equal(count("/api/agents/runs?phase=Queued&stack=muxer"), 2);
	assert_int_equal(count("/api/agents/runs?phase=Succeeded"), 0);
	assert_int_equal(count("/api/orgs/acme/agents/runs?stack=gated"), 0);
	json_decref(d);
	json_decref(r1);

	/* queued agent-mux runs and no gateway: agents degraded, the server still serves */
	d = harness_call_json(&srv, "GET", "/readyz", NULL, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(d, "status")), "degraded");
	b = json_object_get(json_object_get(d, "components"), "agentGateway");
	assert_true(json_is_true(json_object_get(b, "configured")));
	assert_string_equal(json_string_value(json_object_get(b, "status")), "degraded");
	assert_null(strstr(json_string_value(json_object_get(b, "detail")), "acme"));
	json_decref(d);
}

static void test_refusals(void **state)
{
	json_t *j, *audit;
	size_t before = count("/api/agents/runs"), i;
	int seen = 0;

	(void)state;
	/* the review denies: 403 with its reasons, nothing stored, audited */
	j = dispatch("orphan", "anything", 403);
	assert_string_equal(str(j, "error", "code"), "PERMISSION_DENIED");
	assert_true(has_code(json_object_get(json_object_get(j, "error"), "reasons"), "SERVICE_ACCOUNT_MISSING"));
	json_decref(j);
	assert_int_equal(count("/api/agents/runs"), before);
	audit = call("GET", "/api/audit?org=acme&limit=1000", srv.admin_token, NULL, 200);
	json_array_foreach(json_object_get(audit, "items"), i, j) {
		const char *verb = json_string_value(json_object_get(j, "verb"));
		const char *res = json_string_value(json_object_get(j, "result"));

		seen |= verb && res && !strcmp(verb, "dispatch") && !strcmp(res, "denied:PERMISSION_DENIED");
	}
	assert_true(seen);
	json_decref(audit);

	/* a viewer may not dispatch; bad requests are 422 with the field */
	json_decref(harness_call_json(&srv, "POST", "/api/agents/runs", viewer,
				      "{\"repository\":\"app\",\"agentStack\":\"muxer\"}", 403));
	j = call("POST", "/api/agents/runs", dev, "{\"repository\":\"nope\",\"agentStack\":\"muxer\"}", 422);
	assert_true(has_code(json_object_get(json_object_get(j, "error"), "reasons"), "InvalidValue"));
	json_decref(j);
	json_decref(call("POST", "/api/agents/runs", dev, "{\"repository\":\"app\",\"ref\":\"nope\",\"agentStack\":\"muxer\"}",
			 422));
	json_decref(call("POST", "/api/agents/runs", dev, "{\"repository\":\"app\",\"agentStack\":\"ghost\"}", 422));
	json_decref(call("POST", "/api/agents/runs", dev,
			 "{\"repository\":\"app\",\"agentStack\":\"muxer\",\"sourceRefs\":[{\"path\":\"missing.txt\"}]}", 422));
	json_decref(call("POST", "/api/agents/runs", dev,
			 "{\"repository\":\"app\",\"agentStack\":\"muxer\",\"sourceRefs\":[{\"path\":\"../etc/passwd\"}]}",
			 422));
	json_decref(call("POST", "/api/agents/runs", dev, "[1]", 400));
	json_decref(call("POST", "/api/agents/runs", srv.admin_token, "{\"repository\":\"app\",\"agentStack\":\"muxer\"}",
			 422));   /* an admin bound to no org names one */
	json_decref(call("GET", "/api/agents/runs/run-000000000000", dev, NULL, 404));
	assert_int_equal(count("/api/agents/runs"), before);
}

static void test_approval(void **state)
{
	json_t *r, *j, *d;
	const char *run, *ap;
	char path[200];

	(void)state;
	r = dispatch("gated", "needs a human", 201);
	run = str(json_object_get(r, "run"), "metadata", "name");
	assert_string_equal(str(json_object_get(r, "run"), "status", "phase"), "WaitingForApproval");
	assert_string_equal(label(json_object_get(r, "attempt"), "krate.a5c.ai/state"), "waiting");
	ap = str(json_object_get(r, "run"), "status", "approval");
	assert_non_null(ap);
	j = get_obj("AgentApproval", ap);
	assert_string_equal(str(j, "status", "phase"), "Pending");
	assert_string_equal(str(j, "spec", "dispatchRun"), run);
	assert_string_equal(str(j, "spec", "action"), "secret-access");
	json_decref(j);
	assert_int_equal(count("/api/agents/approvals?phase=Pending"), 1);

	/* a developer may not decide; an admin approves once */
	snprintf(path, sizeof(path), "/api/orgs/acme/agents/approvals/%s/decision", ap);
	json_decref(call("POST", path, dev, "{\"decision\":\"approved\"}", 403));
	json_decref(call("POST", path, srv.admin_token, "{\"decision\":\"maybe\"}", 422));
	j = call("POST", path, srv.admin_token, "{\"decision\":\"approved\",\"comment\":\"go\"}", 200);
	assert_string_equal(json_string_value(json_object_get(j, "phase")), "Approved");
	json_decref(j);
	d = get_run(run);
	assert_string_equal(str(json_object_get(d, "run"), "status", "phase"), "Queued");
	assert_string_equal(label(json_array_get(json_object_get(d, "attempts"), 0), "krate.a5c.ai/state"), "queued");
	json_decref(d);
	j = call("POST", path, srv.admin_token, "{\"decision\":\"denied\"}", 409);
	assert_string_equal(str(j, "error", "code"), "INVALID_TRANSITION");
	json_decref(j);
	json_decref(r);

	/* denied: the run fails with ApprovalDenied */
	r = dispatch("gated", "needs a human again", 201);
	run = str(json_object_get(r, "run"), "metadata", "name");
	snprintf(path, sizeof(path), "/api/agents/approvals/%s/decision", str(json_object_get(r, "run"), "status", "approval"));
	json_decref(call("POST", path, srv.admin_token, "{\"decision\":\"denied\",\"comment\":\"not now\"}", 200));
	d = get_run(run);
	assert_string_equal(str(json_object_get(d, "run"), "status", "phase"), "Failed");
	assert_string_equal(str(json_object_get(d, "run"), "status", "reason"), "ApprovalDenied");
	assert_string_equal(str(json_array_get(json_object_get(d, "attempts"), 0), "status", "reason"), "ApprovalDenied");
	json_decref(d);

	/* a retry reuses the frozen context, and so needs a new approval */
	j = action(run, "retry", NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "phase")), "WaitingForApproval");
	json_decref(j);
	d = get_run(run);
	snprintf(path, sizeof(path), "approval-%s-2", run);
	assert_string_equal(str(json_object_get(d, "run"), "status", "approval"), path);
	assert_string_equal(label(json_array_get(json_object_get(d, "attempts"), 1), "krate.a5c.ai/state"), "waiting");
	json_decref(d);
	j = get_obj("AgentApproval", path);
	assert_string_equal(str(j, "status", "phase"), "Pending");
	assert_string_equal(str(j, "spec", "attempt"), path + strlen("approval-"));
	json_decref(j);
	json_decref(r);
}

static void test_actions(void **state)
{
	json_t *r, *j, *d, *a1, *a2, *a3;
	const char *run;
	char body[200], *text;
	long long g;

	(void)state;
	r = dispatch("muxer", "act on me", 201);
	run = str(json_object_get(r, "run"), "metadata", "name");
	g = gen(json_object_get(r, "run"));

	/* nothing to retry or continue yet; a stale generation is refused */
	j = action(run, "retry", NULL, 409);
	assert_string_equal(str(j, "error", "code"), "INVALID_TRANSITION");
	json_decref(j);
	json_decref(action(run, "continue", "{\"message\":\"more\"}", 409));
	snprintf(body, sizeof(body), "{\"reason\":\"stop\",\"expectedGeneration\":%lld}", g + 5);
	j = action(run, "cancel", body, 409);
	assert_string_equal(str(j, "error", "code"), "STALE_GENERATION");
	json_decref(j);
	json_decref(harness_call_json(&srv, "POST", "/api/agents/runs/nope-1/cancel", viewer, "{}", 404));

	/* cancel a queued run: the attempt is closed, generation moves */
	snprintf(body, sizeof(body), "{\"reason\":\"stop\",\"expectedGeneration\":%lld}", g);
	j = action(run, "cancel", body, 200);
	assert_true(json_is_true(json_object_get(j, "accepted")));
	assert_string_equal(json_string_value(json_object_get(j, "phase")), "Cancelled");
	json_decref(j);
	d = get_run(run);
	assert_string_equal(str(json_object_get(d, "run"), "status", "phase"), "Cancelled");
	assert_true(gen(json_object_get(d, "run")) > g);
	assert_string_equal(str(json_object_get(json_object_get(d, "run"), "spec"), "lastAction", "type"), "cancel");
	a1 = json_incref(json_array_get(json_object_get(d, "attempts"), 0));
	assert_string_equal(str(a1, "status", "phase"), "Cancelled");
	assert_string_equal(label(a1, "krate.a5c.ai/state"), "done");
	json_decref(d);
	json_decref(action(run, "cancel", NULL, 409));
	json_decref(call("POST", "/api/agents/runs/x/cancel", viewer, "{}", 404));

	/* retry: attempt 2 with the same frozen context */
	j = action(run, "retry", "{\"reason\":\"flaky\"}", 200);
	assert_string_equal(json_string_value(json_object_get(j, "phase")), "Queued");
	json_decref(j);
	d = get_run(run);
	assert_int_equal(json_array_size(json_object_get(d, "attempts")), 2);
	a2 = json_incref(json_array_get(json_object_get(d, "attempts"), 1));
	assert_string_equal(str(a2, "spec", "attemptReason"), "retry");
	assert_string_equal(str(a2, "spec", "contextBundleDigest"), str(a1, "spec", "contextBundleDigest"));
	assert_string_equal(str(a2, "spec", "promptDigest"), str(a1, "spec", "promptDigest"));
	assert_true(json_equal(json_object_get(json_object_get(a2, "spec"), "permissionSnapshot"),
			       json_object_get(json_object_get(a1, "spec"), "permissionSnapshot")));
	assert_string_equal(str(json_object_get(d, "run"), "status", "currentAttempt"), str(a2, "metadata", "name"));
	json_decref(d);

	/* retry with refresh after another cancel: a new review and bundle */
	json_decref(action(run, "cancel", NULL, 200));
	json_decref(action(run, "resume", "{\"refresh\":true}", 200));
	json_decref(action(run, "cancel", NULL, 200));

	/* continue: attempt 4 whose prompt is the previous one plus the follow-up */
	json_decref(action(run, "continue", "{}", 422));
	j = action(run, "continue", "{\"message\":\"Only fix src/main.c, use " SECRET "\"}", 200);
	assert_string_equal(json_string_value(json_object_get(j, "phase")), "Queued");
	json_decref(j);
	d = get_run(run);
	assert_int_equal(json_array_size(json_object_get(d, "attempts")), 4);
	a3 = json_incref(json_array_get(json_object_get(d, "attempts"), 3));
	assert_string_equal(str(a3, "spec", "attemptReason"), "continuation");
	assert_string_not_equal(str(a3, "spec", "promptDigest"), str(a1, "spec", "promptDigest"));
	assert_string_equal(str(a3, "spec", "contextBundleDigest"), str(a1, "spec", "contextBundleDigest"));
	text = cas_text(str(a3, "spec", "promptDigest"));
	assert_non_null(strstr(text, "## Follow-up\nOnly fix src/main.c"));
	assert_null(strstr(text, SECRET));
	free(text);
	json_decref(d);

	/* fork: a new run from the same spec, its source refs naming the original */
	j = action(run, "fork", "{\"reason\":\"try another way\"}", 201);
	assert_string_not_equal(json_string_value(json_object_get(j, "run")), run);
	assert_string_equal(json_string_value(json_object_get(j, "forkedFrom")), run);
	d = get_run(json_string_value(json_object_get(j, "run")));
	assert_string_equal(str(json_object_get(d, "run"), "status", "phase"), "Queued");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(json_object_get(json_object_get(d, "run"), "spec"),
								   "sourceRefs"),
						   1),
				    "kind")),
			    "fork");
	json_decref(d);
	json_decref(j);
	d = get_run(run);
	assert_string_equal(str(json_object_get(json_object_get(d, "run"), "spec"), "lastAction", "type"), "fork");
	json_decref(d);
	json_decref(a1);
	json_decref(a2);
	json_decref(a3);
	json_decref(r);
}

static void test_events(void **state)
{
	struct harness_sse s;
	json_t *r;
	const char *run;
	char path[200], body[1024];

	(void)state;
	r = dispatch("muxer", "stream me", 201);
	run = str(json_object_get(r, "run"), "metadata", "name");
	snprintf(path, sizeof(path), "/api/agents/runs/%s/events", run);
	harness_sse_open(&srv, &s, path, dev, NULL);
	assert_true(harness_sse_wait(&s, "\"phase\":\"Queued\"", 5000));

	/* the runtime's transcript, as it writes it, becomes transcript events */
	snprintf(body, sizeof(body),
		 "{\"kind\":\"AgentSessionTranscript\",\"metadata\":{\"name\":\"transcript-%s-1\"},\"spec\":{"
		 "\"sessionRef\":\"%s-1\",\"dispatchRun\":\"%s\",\"messages\":[{\"seq\":1,\"type\":\"message\","
		 "\"role\":\"assistant\",\"content\":\"looking\"}]}}",
		 run, run, run);
	harness_apply(&srv, "acme", body);
	assert_true(harness_sse_wait(&s, "id: 1:1\n", 5000));
	assert_true(harness_sse_wait(&s, "\"content\":\"looking\"", 100));
	snprintf(body, sizeof(body),
		 "{\"kind\":\"AgentSessionTranscript\",\"metadata\":{\"name\":\"transcript-%s-1\"},\"spec\":{"
		 "\"sessionRef\":\"%s-1\",\"dispatchRun\":\"%s\",\"messages\":[{\"seq\":1,\"type\":\"message\","
		 "\"role\":\"assistant\",\"content\":\"looking\"},{\"seq\":2,\"type\":\"tool_call\",\"name\":\"grep\","
		 "\"content\":\"found it\"}]}}",
		 run, run, run);
	harness_apply(&srv, "acme", body);
	assert_true(harness_sse_wait(&s, "id: 1:2\n", 5000));

	/* cancelled: the phase, then the end, then the stream closes */
	json_decref(action(run, "cancel", NULL, 200));
	assert_true(harness_sse_wait(&s, "event: end\n", 5000));
	assert_true(harness_sse_wait(&s, "\"phase\":\"Cancelled\"", 100));
	sse_close(&s);

	/* resume after 1:1: only the second message, then the end at once */
	harness_sse_open(&srv, &s, path, dev, "1:1");
	assert_true(harness_sse_wait(&s, "event: end\n", 5000));
	assert_null(strstr(s.data, "id: 1:1\n"));
	assert_non_null(strstr(s.data, "id: 1:2\n"));
	sse_close(&s);
	json_decref(call("GET", "/api/agents/runs/run-ffffffffffff/events", dev, NULL, 404));
	json_decref(r);
}

/* The runtime runs a dispatched run: its event stream carries the
 * transcript (the leaked secret redacted) and ends with Succeeded, and the
 * patch artifact holds the agent's edit. */
static void test_end_to_end(void **state)
{
	struct harness_sse s;
	json_t *r, *d, *art, *x;
	struct http_resp resp;
	const char *run, *patch = NULL;
	char path[300];
	size_t i;

	(void)state;
	r = dispatch("fixer", "Please edit and leak.", 201);
	run = str(json_object_get(r, "run"), "metadata", "name");
	harness_sse_open(&srv, &s, str(r, "links", "events"), dev, NULL);
	assert_true(harness_sse_wait(&s, "event: transcript\n", 60000));
	assert_true(harness_sse_wait(&s, "test agent started", 60000));
	if (!harness_sse_wait(&s, "event: end\n", 60000))
		fail_msg("no end event; the stream so far:\n%s", s.data ? s.data : "");
	assert_true(harness_sse_wait(&s, "\"phase\":\"Succeeded\"", 1000));
	assert_non_null(strstr(s.data, "the token is [REDACTED"));
	assert_non_null(strstr(s.data, "\"type\":\"final\""));
	sse_close(&s);

	d = get_run(run);
	assert_string_equal(str(json_object_get(d, "run"), "status", "phase"), "Succeeded");
	json_array_foreach(json_object_get(d, "artifacts"), i, x)
		if (!strcmp(str(x, "spec", "kind") ?: "", "patch"))
			patch = str(x, "metadata", "name");
	assert_non_null(patch);
	snprintf(path, sizeof(path), "/api/agents/artifacts/%s", patch);
	art = call("GET", path, dev, NULL, 200);
	assert_string_equal(str(art, "spec", "dispatchRun"), run);
	json_decref(art);
	snprintf(path, sizeof(path), "/api/agents/artifacts/%s/content", patch);
	harness_call(&srv, "GET", path, dev, NULL, 200, &resp);
	assert_non_null(strstr(resp.body, "EDITED.md"));
	assert_non_null(strstr(resp.body, "+edited by the test agent"));
	assert_null(strstr(resp.body, SECRET));
	assert_non_null(strstr(resp.headers, "text/plain"));
	http_resp_free(&resp);
	json_decref(d);
	json_decref(r);
}

/* No secret value in the store, CAS or the server's log. The repository
 * itself (README.md holds the value, compressed by git) and the agents'
 * checkouts of it are left out. */
static void test_secret_stays_sealed(void **state)
{
	char *found;

	(void)state;
	json_decref(call("GET", "/api/orgs/acme/resources", srv.admin_token, NULL, 200));
	json_decref(call("GET", "/api/agents/approvals", dev, NULL, 200));
	found = harness_sh_out(srv.dir, "grep -rla --exclude-dir=git --exclude-dir=workspaces -- '%s' . || true",
			       SECRET);
	if (*found)
		fail_msg("the secret is in the data directory: %s", found);
	free(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_approval),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_end_to_end),
		cmocka_unit_test(test_secret_stays_sealed),
	};
	int rc;

	harness_group(&srv, NULL, work, sizeof(work), "agentwork");
	rc = cmocka_run_group_tests(tests, harness_group_setup, harness_group_teardown);
	free(dev);
	free(viewer);
	return rc;
}
