/* The console's agent pages as a plain HTTP client sees them, with real
 * objects created through the API as admin: stacks with their readiness and
 * permission review (and a grant created from its YAML preview), secrets
 * and grants, the dispatch form, a run with its attempts, transcript and
 * actions, and the approvals inbox. Untrusted texts are escaped, no page
 * ever carries a secret or config value, and every form needs the CSRF
 * token. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PASSWORD "console-agents-password"
#define SECRET_VALUE "sk-consoletest-0123456789abcdefVALUE"
#define GH_VALUE "gh-token-value-never-shown-42"
#define CONFIG_VALUE "config-value-never-shown-77"
#define STACKS "/orgs/acme/agents/stacks"
#define RUNS "/orgs/acme/agents/runs"

static struct krate_server srv;
static char work[256];

static int setup(void **state)
{
	(void)state;
	if (harness_git_workdir(work, sizeof(work), "consoleagents") || harness_start(&srv, NULL))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (harness_git_workdir_remove(work))
		return -1;
	return harness_stop(&srv);
}

static json_t *call(const char *method, const char *path, const char *body, long want)
{
	return harness_call_json(&srv, method, path, srv.admin_token, body, want);
}

static void apply(const char *json)
{
	json_decref(call("POST", "/api/orgs/acme/resources", json, 201));
}

struct user {
	char cookie[512];
	char *csrf;
};

static void sign_in(struct user *u, const char *name)
{
	harness_sign_in(&srv, name, PASSWORD, u->cookie, sizeof(u->cookie));
	u->csrf = NULL;
}

/* No page, whatever it is, may carry a value of a Secret or ConfigMap. */
static void no_secrets(const char *what, const char *body)
{
	if (strstr(body, SECRET_VALUE) || strstr(body, GH_VALUE) || strstr(body, CONFIG_VALUE))
		fail_msg("%s shows a secret value", what);
}

static char *page(struct user *u, const char *path, long want)
{
	struct http_resp r;
	char *body;

	harness_page(&srv, u->cookie, path, want, &r);
	if (!u->csrf)
		u->csrf = harness_form_csrf(r.body, NULL);
	body = strdup(r.body ? r.body : "");
	http_resp_free(&r);
	no_secrets(path, body);
	return body;
}

/* POSTs fields (URL-encoded, without csrf) with csrf (NULL: u's token). */
static char *post_as(struct user *u, const char *csrf, const char *path, const char *fields, long want,
		     char **location)
{
	struct http_resp r;
	size_t n = strlen(fields) + 256;
	char *body = malloc(n), *out;

	assert_non_null(body);
	snprintf(body, n, "csrf=%s%s%s", csrf ? csrf : u->csrf, *fields ? "&" : "", fields);
	harness_post_form(&srv, u->cookie, path, body, want, &r);
	if (location)
		*location = http_header(&r, "Location");
	out = strdup(r.body ? r.body : "");
	http_resp_free(&r);
	free(body);
	no_secrets(path, out);
	return out;
}

static char *post(struct user *u, const char *path, const char *fields, long want, char **location)
{
	return post_as(u, NULL, path, fields, want, location);
}

/* s URL-encoded into out. */
static void urlenc(char *out, size_t size, const char *s)
{
	size_t o = 0;

	for (; *s && o + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~", c))
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
	}
	out[o] = '\0';
}

/* HTML entities of the pages' escaping undone (for values read back). */
static char *unescape(const char *s, size_t n)
{
	static const char *const ent[][2] = { { "&amp;", "&" }, { "&lt;", "<" },  { "&gt;", ">" },
					      { "&quot;", "\"" }, { "&#39;", "'" } };
	char *out = malloc(n + 1);
	size_t o = 0, i, k;

	assert_non_null(out);
	for (i = 0; i < n;) {
		for (k = 0; k < 5; k++)
			if (!strncmp(s + i, ent[k][0], strlen(ent[k][0])) && strlen(ent[k][0]) <= n - i)
				break;
		if (k < 5) {
			out[o++] = ent[k][1][0];
			i += strlen(ent[k][0]);
		} else {
			out[o++] = s[i++];
		}
	}
	out[o] = '\0';
	return out;
}

static struct user ada, dana, vic;

static void make_user(const char *name, const char *role)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"role\":\"%s\",\"org\":\"acme\",\"password\":\"%s\"}", name,
		 role, PASSWORD);
	json_decref(call("POST", "/api/users", body, 201));
}

/* Waits until the stack controller gave name a status.phase; returns it (static copy). */
static const char *stack_phase(const char *name, const char *want)
{
	static char phase[32];
	char path[256];
	int i;

	snprintf(path, sizeof(path), "/api/orgs/acme/resources/agentstacks/%s", name);
	for (i = 0; i < 400; i++) {
		json_t *s = call("GET", path, NULL, 200);
		const char *p = json_string_value(json_object_get(json_object_get(s, "status"), "phase"));

		snprintf(phase, sizeof(phase), "%s", p ? p : "");
		json_decref(s);
		if (*phase && (!want || !strcmp(phase, want)))
			return phase;
		usleep(25000);
	}
	fail_msg("stack %s never reached phase %s (last: %s)", name, want ? want : "(any)", phase);
	return NULL;
}

static void wait_repo_ready(void)
{
	int i;

	for (i = 0; i < 400; i++) {
		json_t *r = call("GET", "/api/orgs/acme/repositories/app", NULL, 200);
		int ready = !strcmp(json_string_value(json_object_get(r, "phase")) ?: "", "Ready");

		json_decref(r);
		if (ready)
			return;
		usleep(25000);
	}
	fail_msg("repository never became Ready");
}

static void setup_objects(void)
{
	char url[512], body[2048];

	json_decref(call("POST", "/api/orgs", "{\"name\":\"acme\"}", 201));
	json_decref(call("POST", "/api/orgs/acme/repositories", "{\"name\":\"app\",\"visibility\":\"private\"}", 201));
	wait_repo_ready();
	snprintf(url, sizeof(url), "http://admin:%s@127.0.0.1:%d/acme/app.git", srv.admin_token, srv.port);
	if (harness_sh(work, "git -c credential.helper= clone -q '%s' w && cd w && printf 'one\\ntwo\\n' > a.txt &&"
			     " git add . && git commit -qm base && git push -q origin HEAD:main && git checkout -qb dev"
			     " && git push -q origin dev", url))
		fail_msg("git push failed (see %s/cmd.log)", work);
	make_user("ada", "admin");
	make_user("dana", "developer");
	make_user("vic", "viewer");

	apply("{\"kind\":\"AgentServiceAccount\",\"metadata\":{\"name\":\"agent-sa\"},"
	      "\"spec\":{\"namespace\":\"krate-org-acme\",\"serviceAccountName\":\"agent-sa\"}}");
	apply("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"model-key\"},\"spec\":{\"description\":"
	      "\"Model <b>key</b> for agents\",\"data\":{\"API_KEY\":\"" SECRET_VALUE "\"}}}");
	apply("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"gh-token\"},\"spec\":{\"data\":{\"TOKEN\":\"" GH_VALUE
	      "\"}}}");
	apply("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"settings\"},\"spec\":{\"description\":\"Plain "
	      "settings\",\"data\":{\"LEVEL\":\"" CONFIG_VALUE "\"}}}");
	apply("{\"kind\":\"AgentSecretGrant\",\"metadata\":{\"name\":\"model-grant\"},\"spec\":{\"subject\":\"agent-sa\","
	      "\"secretRef\":\"model-key\",\"purpose\":\"model-provider\"}}");
	/* ready: everything it needs is granted; its model text tries markup */
	snprintf(body, sizeof(body),
		 "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"ready-one\"},\"spec\":{\"baseAgent\":\"example\","
		 "\"adapter\":\"process\",\"runtimeIdentity\":\"agent-sa\",\"model\":\"<script>alert(1)</script>\","
		 "\"command\":[\"%s\",\"example-agent\"],\"prompt\":{\"system\":\"Be <careful>.\"}}}",
		 harness_bin());
	apply(body);
	/* blocked: its secret policy wants gh-token, which nothing grants yet */
	snprintf(body, sizeof(body),
		 "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"fixer\",\"labels\":{\"krate.a5c.ai/repository\":"
		 "\"app\"}},\"spec\":{\"baseAgent\":\"example\","
		 "\"adapter\":\"process\",\"runtimeIdentity\":\"agent-sa\",\"command\":[\"%s\",\"example-agent\"],"
		 "\"secretPolicy\":{\"allowedSecretRefs\":[{\"name\":\"gh-token\"}]}}}",
		 harness_bin());
	apply(body);
	sign_in(&ada, "ada");
	sign_in(&dana, "dana");
	sign_in(&vic, "vic");
}

static void test_stacks_and_grants(void **state)
{
	char *html, *loc = NULL, *p, *q, *yaml, fields[8192], enc[6144];

	(void)state;
	setup_objects();
	assert_string_equal(stack_phase("ready-one", "Ready"), "Ready");
	assert_string_equal(stack_phase("fixer", "Blocked"), "Blocked");

	/* the sidebar leads to the agent pages */
	html = page(&dana, STACKS, 200);
	harness_expect_in(html, "data-nav=\"stacks\" href=\"/orgs/acme/agents/stacks\" aria-current=\"page\"");
	harness_expect_in(html, "data-nav=\"grants\" href=\"/orgs/acme/agents/grants\"");
	harness_expect_in(html, "data-nav=\"dispatch-runs\" href=\"/orgs/acme/agents/runs\"");
	harness_expect_in(html, "data-nav=\"approvals\" href=\"/orgs/acme/agents/approvals\"");
	harness_expect_in(html, "id=\"stack-list\"");
	harness_expect_in(html, "<tr data-name=\"ready-one\">");
	harness_expect_in(html, "<tr data-name=\"fixer\">");
	harness_expect_in(html, "data-type=\"SecretsGranted\"");
	harness_expect_in(html, "<span class=\"badge\" data-phase=\"Blocked\">Blocked</span>");
	free(html);

	/* one stack: spec escaped, readiness conditions, capabilities */
	html = page(&dana, STACKS "/ready-one", 200);
	harness_expect_in(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
	harness_expect_not_in(html, "<script>alert");
	harness_expect_in(html, "Be &lt;careful&gt;.");
	harness_expect_in(html, "id=\"readiness-conditions\"");
	harness_expect_in(html, "<tr data-type=\"Ready\" data-status=\"True\">");
	harness_expect_in(html, "id=\"review-form\"");
	/* the actor defaults to the user */
	harness_expect_in(html, "name=\"actor\" value=\"dana\"");
	free(html);

	/* the review of a blocked stack: denied, what is missing and how to fix it */
	html = page(&dana, STACKS "/fixer?repository=app&ref=main", 200);
	harness_expect_in(html, "<tr data-type=\"SecretsGranted\" data-status=\"False\">");
	harness_expect_in(html, "id=\"review-result\" data-decision=\"denied\"");
	harness_expect_in(html, "data-code=\"SECRET_GRANT_MISSING\"");
	harness_expect_in(html, "<li data-kind=\"AgentSecretGrant\">");
	harness_expect_in(html, "id=\"grant-previews\"");
	/* a developer sees the previews but may not apply them */
	harness_expect_not_in(html, "class=\"inline-form create-grant\"");
	free(html);

	html = page(&ada, STACKS "/fixer?repository=app&ref=main", 200);
	harness_expect_in(html, "class=\"inline-form create-grant\"");
	p = strstr(html, "name=\"yaml\" value=\"");
	assert_non_null(p);
	p += strlen("name=\"yaml\" value=\"");
	q = strchr(p, '"');
	assert_non_null(q);
	yaml = unescape(p, (size_t)(q - p));
	harness_expect_in(yaml, "kind: AgentSecretGrant");
	harness_expect_in(yaml, "gh-token");
	free(html);
	urlenc(enc, sizeof(enc), yaml);
	snprintf(fields, sizeof(fields), "repository=app&ref=refs%%2Fheads%%2Fmain&actor=ada&yaml=%s", enc);

	/* without the session's token nothing is created; a developer is refused by the API */
	free(post_as(&ada, "wrong", STACKS "/fixer/grant", fields, 403, NULL));
	html = post(&dana, STACKS "/fixer/grant", fields, 403, NULL);
	harness_expect_in(html, "class=\"flash error\"");
	free(html);
	/* a preview the review does not propose is not applied */
	html = post(&ada, STACKS "/fixer/grant", "repository=app&ref=refs%2Fheads%2Fmain&actor=ada&yaml=kind%3A+x", 409,
		    NULL);
	harness_expect_in(html, "the review changed");
	free(html);
	free(post(&ada, STACKS "/fixer/grant", fields, 303, &loc));
	assert_non_null(loc);
	harness_expect_in(loc, STACKS "/fixer?repository=app&ref=refs%2Fheads%2Fmain&actor=ada&granted=AgentSecretGrant%2F");
	free(yaml);
	p = strstr(loc, "/orgs/");
	html = page(&ada, p, 200);
	harness_expect_in(html, "id=\"grant-created\"");
	harness_expect_not_in(html, "data-code=\"SECRET_GRANT_MISSING\"");
	harness_expect_in(html, "id=\"review-result\" data-decision=\"allowed\"");
	free(html);
	free(loc);
	assert_string_equal(stack_phase("fixer", "Ready"), "Ready");

	/* secrets and grants: names, keys and descriptions, never values */
	html = page(&vic, "/orgs/acme/agents/grants", 200);
	harness_expect_in(html, "id=\"secret-list\"");
	harness_expect_in(html, "<tr data-name=\"model-key\">");
	harness_expect_in(html, "<code>API_KEY</code>");
	harness_expect_in(html, "Model &lt;b&gt;key&lt;/b&gt; for agents");
	harness_expect_in(html, "<tr data-name=\"settings\">");
	harness_expect_in(html, "<code>LEVEL</code>");
	harness_expect_in(html, "id=\"secret-grant-list\"");
	harness_expect_in(html, "<tr data-name=\"model-grant\">");
	free(html);
	/* nor do the generic resource pages */
	free(page(&ada, "/orgs/acme/resources/secrets/model-key", 200));
	free(page(&ada, "/orgs/acme/resources/secrets/model-key/edit", 200));
	free(page(&ada, "/orgs/acme/resources/configmaps/settings", 200));
	free(page(&ada, "/orgs/acme/grants", 200));

	/* bad links and methods */
	free(page(&dana, STACKS "/nope", 404));
	free(page(&dana, STACKS "/Bad_Name", 404));
	free(page(&dana, "/orgs/acme/agents/nothing", 404));
	free(page(&dana, STACKS "/fixer/grant", 405));
	free(post(&dana, STACKS, "", 405, NULL));
}

/* The run named in a Location header ("/orgs/acme/agents/runs/<run>"), malloc'd. */
static char *run_of(const char *loc)
{
	const char *p = strstr(loc, RUNS "/");

	assert_non_null(p);
	p += strlen(RUNS "/");
	return strndup(p, strcspn(p, "?#"));
}

/* Waits until run reaches phase (the runtime runs the example agent). */
static void wait_run(const char *run, const char *phase)
{
	char path[256];
	const char *p = NULL;
	int i;

	snprintf(path, sizeof(path), "/api/orgs/acme/resources/agentdispatchruns/%s", run);
	for (i = 0; i < 1200; i++) {
		json_t *obj = call("GET", path, NULL, 200);
		int done;

		p = json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
		done = p && !strcmp(p, phase);
		json_decref(obj);
		if (done)
			return;
		usleep(50000);
	}
	fail_msg("run %s never reached %s", run, phase);
}

static void test_dispatch_and_runs(void **state)
{
	char *html, *loc = NULL, *run, *p, path[512], fields[1024];
	json_t *obj;
	long long gen;

	(void)state;
	/* the repository page offers a dispatch; the form lists stacks (Ready first) and the repository's branches */
	html = page(&dana, "/orgs/acme/repos/app", 200);
	harness_expect_in(html, "id=\"dispatch-agent\"");
	harness_expect_in(html, "href=\"/orgs/acme/agents/runs/new?repository=app\"");
	free(html);
	html = page(&vic, "/orgs/acme/repos/app", 200);
	harness_expect_not_in(html, "id=\"dispatch-agent\"");
	free(html);
	html = page(&dana, RUNS "/new?repository=app", 200);
	harness_expect_in(html, "id=\"dispatch-form\"");
	harness_expect_in(html, "<optgroup label=\"Ready\">");
	harness_expect_in(html, "<option value=\"ready-one\"");
	harness_expect_in(html, "<option value=\"app\" selected>");
	harness_expect_in(html, "<option value=\"main\" selected>");
	harness_expect_in(html, "<option value=\"dev\">");
	free(html);

	/* refusals come back on the form with what was typed */
	html = post(&dana, RUNS "/new", "stack=nope&repository=app&ref=main&taskKind=general&prompt=Keep+%3Cthis%3E", 422,
		    NULL);
	harness_expect_in(html, "class=\"flash error\"");
	harness_expect_in(html, "Keep &lt;this&gt;");
	free(html);
	free(post_as(&dana, "wrong", RUNS "/new", "stack=ready-one&repository=app&ref=main&prompt=x", 403, NULL));
	html = post(&vic, RUNS "/new", "stack=ready-one&repository=app&ref=main&prompt=x", 403, NULL);
	harness_expect_in(html, "class=\"flash error\"");
	free(html);

	/* a dispatch goes to the new run's page */
	free(post(&dana, RUNS "/new",
		  "stack=ready-one&repository=app&ref=main&taskKind=general&prompt=Fix+%3Cb%3Eit%3C%2Fb%3E&contextLabels=",
		  303, &loc));
	assert_non_null(loc);
	run = run_of(loc);
	free(loc);
	snprintf(path, sizeof(path), RUNS "/%s", run);
	html = page(&dana, path, 200);
	harness_expect_in(html, "id=\"run-phase\"");
	harness_expect_in(html, "id=\"run-timeline\"");
	harness_expect_in(html, "id=\"attempts\"");
	harness_expect_in(html, "id=\"transcript\"");
	harness_expect_in(html, "id=\"bundle-digest\"");
	harness_expect_in(html, "id=\"permission-digest\"");
	harness_expect_in(html, "Fix &lt;b&gt;it&lt;/b&gt;");
	harness_expect_not_in(html, "<b>it</b>");
	harness_expect_in(html, "href=\"/orgs/acme/agents/stacks/ready-one\"");
	free(html);

	/* the list has it */
	html = page(&vic, RUNS, 200);
	harness_expect_in(html, "id=\"run-list\"");
	snprintf(fields, sizeof(fields), "<tr data-name=\"%s\"", run);
	harness_expect_in(html, fields);
	harness_expect_not_in(html, "id=\"dispatch-agent\"");
	free(html);

	/* the example agent finishes: the stored transcript, the attempt and the patch show */
	wait_run(run, "Succeeded");
	snprintf(path, sizeof(path), RUNS "/%s", run);
	html = page(&dana, path, 200);
	harness_expect_in(html, "<span class=\"badge\" data-phase=\"Succeeded\">Succeeded</span>");
	harness_expect_not_in(html, "data-events=");
	harness_expect_in(html, "<li class=\"msg\" data-type=\"final\"");
	harness_expect_in(html, "data-phase=\"Succeeded\"><td>1</td>");
	harness_expect_in(html, "data-kind=\"patch\"");
	harness_expect_in(html, "id=\"continue-form\"");
	harness_expect_not_in(html, "data-action=\"retry\"");
	p = strstr(html, "class=\"artifact-link\" href=\"");
	assert_non_null(p);
	p += strlen("class=\"artifact-link\" href=\"");
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(p, "\""), p);
	free(html);
	html = page(&dana, path, 200);
	harness_expect_in(html, "id=\"artifact\"");
	harness_expect_in(html, "id=\"artifact-raw\"");
	free(html);

	/* actions carry the page's generation: a stale one is a conflict, shown as such */
	snprintf(path, sizeof(path), "/api/orgs/acme/resources/agentdispatchruns/%s", run);
	obj = call("GET", path, NULL, 200);
	gen = (long long)json_integer_value(json_object_get(json_object_get(obj, "metadata"), "generation"));
	json_decref(obj);
	snprintf(path, sizeof(path), RUNS "/%s/cancel", run);
	snprintf(fields, sizeof(fields), "expectedGeneration=%lld", gen + 100);
	html = post(&dana, path, fields, 409, NULL);
	harness_expect_in(html, "id=\"run-changed\"");
	free(html);
	free(post_as(&dana, "wrong", path, fields, 403, NULL));
	snprintf(fields, sizeof(fields), "expectedGeneration=%lld", gen);
	free(post(&vic, path, fields, 403, NULL));
	free(run);

	free(page(&dana, RUNS "/run-000000000000", 404));
	free(page(&dana, RUNS "/run-000000000000/cancel", 405));
	free(page(&dana, RUNS "/run-000000000000/artifacts/x", 404));
}

static void test_approvals(void **state)
{
	char *html, *loc = NULL, *run, *p, name[128], path[256];

	(void)state;
	/* a grant that always wants a person makes the dispatch wait for an approval */
	apply("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"deploy-key\"},\"spec\":{\"data\":{\"KEY\":\"" GH_VALUE
	      "x\"}}}");
	apply("{\"kind\":\"AgentSecretGrant\",\"metadata\":{\"name\":\"deploy-grant\"},\"spec\":{\"subject\":"
	      "\"agent-sa\",\"secretRef\":\"deploy-key\",\"purpose\":\"secret:deploy-key\",\"requiredApproval\":"
	      "\"always\"}}");
	{
		char body[1024];

		snprintf(body, sizeof(body),
			 "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"deployer\"},\"spec\":{\"baseAgent\":"
			 "\"example\",\"adapter\":\"process\",\"runtimeIdentity\":\"agent-sa\",\"command\":[\"%s\","
			 "\"example-agent\"],\"secretPolicy\":{\"allowedSecretRefs\":[{\"name\":\"deploy-key\"}]}}}",
			 harness_bin());
		apply(body);
	}
	stack_phase("deployer", "Ready");
	free(post(&dana, RUNS "/new", "stack=deployer&repository=app&ref=main&prompt=Deploy", 303, &loc));
	run = run_of(loc);
	free(loc);

	html = page(&ada, "/orgs/acme/agents/approvals", 200);
	harness_expect_in(html, "id=\"approval-list\"");
	snprintf(path, sizeof(path), "href=\"/orgs/acme/agents/runs/%s\"", run);
	harness_expect_in(html, path);
	harness_expect_in(html, "data-phase=\"Pending\"");
	harness_expect_in(html, "name=\"decision\" value=\"approved\"");
	p = strstr(html, "<tr data-name=\"");
	assert_non_null(p);
	p += strlen("<tr data-name=\"");
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, "\""), p);
	free(html);
	/* deciding is for admins: others see the inbox without the forms, and a forged post is refused */
	html = page(&dana, "/orgs/acme/agents/approvals", 200);
	harness_expect_not_in(html, "name=\"decision\" value=\"approved\"");
	free(html);
	snprintf(path, sizeof(path), "/orgs/acme/agents/approvals/%s/decision", name);
	html = post(&dana, path, "decision=approved", 403, NULL);
	harness_expect_in(html, "class=\"flash error\"");
	free(html);

	free(post_as(&ada, "wrong", path, "decision=approved", 403, NULL));
	html = post(&ada, path, "decision=maybe", 422, NULL);
	harness_expect_in(html, "<li data-field=\"decision\">");
	free(html);
	free(post(&ada, path, "decision=approved&comment=Go+%3Cahead%3E", 303, &loc));
	assert_non_null(loc);
	harness_expect_in(loc, "/orgs/acme/agents/approvals?decided=");
	html = page(&ada, loc, 200);
	free(loc);
	harness_expect_in(html, "Go &lt;ahead&gt;");
	harness_expect_in(html, "id=\"decided\"");
	harness_expect_in(html, "data-phase=\"Approved\"");
	free(html);
	free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stacks_and_grants),
		cmocka_unit_test(test_dispatch_and_runs),
		cmocka_unit_test(test_approvals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
