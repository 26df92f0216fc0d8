/* The agent configuration API end to end: Secret values are sealed and never
 * seen again (answers, lists, watch events, console pages, the server log,
 * the database file); stacks through the typed routes in both org forms; the
 * stack controller driving readiness to Ready and back to Blocked; permission
 * review over HTTP with a stable digest, fixed by applying its YAML preview;
 * capability requirements; RBAC; views.agents of the UI model. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VALUE "tok-Zk3p9-never-shown-Q7"
#define VALUE2 "cfg-Yw2m8-also-hidden-R4"
#define CONSOLE_PASS "console-password-9931"

static struct krate_server srv;
static char *dev_token, *acme_admin;

static long call(const char *method, const char *path, const char *token, const char *body, struct http_resp *r)
{
	assert_int_equal(http_call(&srv, method, path, token, body, NULL, r), 0);
	return r->status;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *err_code(struct http_resp *r)
{
	return str(json_object_get(r->json, "error"), "code");
}

static int has_reason(struct http_resp *r, const char *field)
{
	json_t *reasons = json_object_get(json_object_get(r->json, "error"), "reasons");
	size_t i;

	for (i = 0; i < json_array_size(reasons); i++)
		if (str(json_array_get(reasons, i), "field") && !strcmp(str(json_array_get(reasons, i), "field"), field))
			return 1;
	return 0;
}

/* No answer may carry a value or a sealed value. */
static void assert_clean(const struct http_resp *r)
{
	assert_null(strstr(r->body, VALUE));
	assert_null(strstr(r->body, VALUE2));
	assert_null(strstr(r->body, "\"sealed\""));
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* 1 if the file contains needle. */
static int file_has(const char *name, const char *needle)
{
	char path[512];
	FILE *f;
	char *data;
	long n;
	int found = 0;

	snprintf(path, sizeof(path), "%s/%s", srv.dir, name);
	f = fopen(path, "rb");
	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	if (fread(data, 1, (size_t)n, f) == (size_t)n)
		found = memmem(data, (size_t)n, needle, strlen(needle)) != NULL;
	free(data);
	fclose(f);
	return found;
}

/* ---- a raw SSE reader ---- */

/* ---- fixtures ---- */

static int setup(void **state)
{
	struct http_resp r;

	(void)state;
	if (harness_start(&srv, NULL))
		return -1;
	harness_make_org(&srv, "acme");
	harness_make_org(&srv, "other");
	dev_token = harness_token(&srv, "dana", "acme", "developer");
	acme_admin = harness_token(&srv, "ada", "acme", "admin");
	if (http_call(&srv, "POST", "/api/users", srv.admin_token,
		      "{\"name\":\"ops\",\"role\":\"admin\",\"password\":\"" CONSOLE_PASS "\"}", NULL, &r) ||
	    r.status != 201)
		return -1;
	http_resp_free(&r);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(dev_token);
	free(acme_admin);
	return harness_stop(&srv);
}

/* Polls stack name in acme until its status.phase is want (10 s); returns its JSON (new ref). */
static json_t *wait_phase(const char *name, const char *want)
{
	char path[256];
	int i;

	snprintf(path, sizeof(path), "/api/orgs/acme/agents/stacks/%s", name);
	for (i = 0; i < 400; i++) {
		json_t *st = harness_call_json(&srv, "GET", path, srv.admin_token, NULL, 200);
		const char *phase = str(json_object_get(st, "status"), "phase");

		if (phase && !strcmp(phase, want))
			return st;
		json_decref(st);
		sleep_ms(25);
	}
	fail_msg("stack %s never reached phase %s", name, want);
	return NULL;
}

static json_t *condition(json_t *stack, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(stack, "status"), "conditions"), i, c)
		if (!strcmp(str(c, "type"), type))
			return c;
	fail_msg("stack has no condition %s", type);
	return NULL;
}

/* ---- secrets ---- */

static void test_secrets_are_sealed(void **state)
{
	struct http_resp r;
	struct harness_sse w;
	char cookie[512];
	json_t *keys;

	(void)state;
	harness_sse_open(&srv, &w, "/api/watch/orgs/acme/secrets", srv.admin_token, NULL);
	assert_true(harness_sse_wait(&w, ": watching", 5000));

	assert_int_equal(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			      "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"gh\"},\"spec\":{\"description\":\"GitHub\","
			      "\"data\":{\"TOKEN\":\"" VALUE "\",\"API_URL\":\"https://api.example\"}}}", &r), 201);
	assert_clean(&r);
	keys = json_object_get(json_object_get(r.json, "spec"), "keys");
	assert_int_equal(json_array_size(keys), 2);
	assert_string_equal(json_string_value(json_array_get(keys, 0)), "API_URL");
	assert_string_equal(json_string_value(json_array_get(keys, 1)), "TOKEN");
	assert_null(json_object_get(json_object_get(r.json, "spec"), "data"));
	http_resp_free(&r);
	harness_apply(&srv, "acme", "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"settings\"},"
		      "\"spec\":{\"data\":{\"LEVEL\":\"" VALUE2 "\"}}}");

	/* the watch event carries the keys, not the values */
	assert_true(harness_sse_wait(&w, "\"name\":\"gh\"", 5000));
	assert_non_null(strstr(w.data, "\"keys\":[\"API_URL\",\"TOKEN\"]"));
	assert_null(strstr(w.data, VALUE));
	assert_null(strstr(w.data, "\"sealed\""));
	harness_sse_close(&w);
	/* and so does a watch that starts from the current state */
	harness_sse_open(&srv, &w, "/api/watch/orgs/acme", srv.admin_token, NULL);
	assert_true(harness_sse_wait(&w, "\"name\":\"settings\"", 5000));
	assert_true(harness_sse_wait(&w, "\"name\":\"gh\"", 5000));
	assert_null(strstr(w.data, VALUE));
	assert_null(strstr(w.data, VALUE2));
	assert_null(strstr(w.data, "\"sealed\""));
	harness_sse_close(&w);

	/* GET, the lists (one kind and every kind), both typed lists */
	assert_int_equal(call("GET", "/api/orgs/acme/resources/secrets/gh", srv.admin_token, NULL, &r), 200);
	assert_clean(&r);
	assert_string_equal(str(json_object_get(r.json, "spec"), "description"), "GitHub");
	assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "spec"), "keys")), 2);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/controller/resources/cm/settings?namespace=acme", srv.admin_token, NULL, &r),
			 200);
	assert_clean(&r);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs/acme/resources?kind=Secret", srv.admin_token, NULL, &r), 200);
	assert_clean(&r);
	assert_non_null(strstr(r.body, "\"TOKEN\""));
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs/acme/resources", srv.admin_token, NULL, &r), 200);
	assert_clean(&r);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/agents/secrets?org=acme", dev_token, NULL, &r), 200);
	assert_clean(&r);
	assert_string_equal(str(json_array_get(json_object_get(r.json, "items"), 0), "name"), "gh");
	assert_string_equal(str(json_array_get(json_object_get(r.json, "items"), 0), "description"), "GitHub");
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs/acme/agents/configmaps", dev_token, NULL, &r), 200);
	assert_clean(&r);
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(
				    json_object_get(r.json, "items"), 0), "keys"), 0)), "LEVEL");
	http_resp_free(&r);

	/* an update without data keeps the values; the answer still shows none */
	assert_int_equal(call("PUT", "/api/orgs/acme/resources/secrets/gh", srv.admin_token,
			      "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"gh\"},\"spec\":{\"description\":\"GitHub bot\"}}",
			      &r), 200);
	assert_clean(&r);
	assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "spec"), "keys")), 2);
	http_resp_free(&r);

	/* bad keys and values: 422 without the value; developers may not write Secrets */
	assert_int_equal(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			      "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"bad\"},\"spec\":{\"data\":{\"1" VALUE "\":\"x\"}}}",
			      &r), 422);
	assert_clean(&r);
	assert_true(has_reason(&r, "spec.data"));
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			      "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"bad\"},\"spec\":{\"data\":{\"N\":7}}}", &r), 422);
	assert_true(has_reason(&r, "spec.data.N"));
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/orgs/acme/resources", dev_token,
			      "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"bad\"},\"spec\":{\"data\":{\"T\":\"" VALUE "\"}}}",
			      &r), 403);
	assert_clean(&r);
	http_resp_free(&r);

	/* the console's detail and edit pages */
	harness_sign_in(&srv, "ops", CONSOLE_PASS, cookie, sizeof(cookie));
	harness_page(&srv, cookie, "/orgs/acme/resources/secrets/gh", 200, &r);
	assert_clean(&r);
	assert_non_null(strstr(r.body, "TOKEN"));
	http_resp_free(&r);
	harness_page(&srv, cookie, "/orgs/acme/resources/secrets/gh/edit", 200, &r);
	assert_clean(&r);
	http_resp_free(&r);
	harness_page(&srv, cookie, "/orgs/acme/resources/configmaps/settings", 200, &r);
	assert_clean(&r);
	http_resp_free(&r);

	/* deleting answers the object without its values */
	harness_apply(&srv, "acme", "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"gone\"},"
		      "\"spec\":{\"data\":{\"T\":\"" VALUE "\"}}}");
	assert_int_equal(call("DELETE", "/api/orgs/acme/resources/secrets/gone", srv.admin_token, NULL, &r), 200);
	assert_clean(&r);
	http_resp_free(&r);

	/* nothing on disk or in the log holds a value in clear */
	assert_false(file_has("server.log", VALUE));
	assert_false(file_has("server.log", VALUE2));
	assert_false(file_has("krate.db", VALUE));
	assert_false(file_has("krate.db-wal", VALUE));
	assert_false(file_has("krate.db", VALUE2));
	assert_false(file_has("krate.db-wal", VALUE2));
	/* but the keys are there: the file was read */
	assert_true(file_has("krate.db", "API_URL") || file_has("krate.db-wal", "API_URL"));
}

/* ---- stacks ---- */

static void test_stacks_crud(void **state)
{
	struct http_resp r;
	json_t *items;

	(void)state;
	assert_int_equal(call("POST", "/api/agents/stacks?org=acme", srv.admin_token,
			      "{\"name\":\"triage\",\"spec\":{\"baseAgent\":\"claude-code\",\"adapter\":\"process\","
			      "\"command\":[\"/bin/true\"],\"runtimeIdentity\":\"triage-sa\"}}", &r), 201);
	assert_string_equal(str(r.json, "kind"), "AgentStack");
	assert_string_equal(str(json_object_get(r.json, "metadata"), "namespace"), "krate-org-acme");
	http_resp_free(&r);
	/* an org-bound token needs no ?org=; the object form works too */
	assert_int_equal(call("POST", "/api/agents/stacks", acme_admin,
			      "{\"apiVersion\":\"krate.a5c.ai/v1alpha1\",\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"docs\"},"
			      "\"spec\":{\"baseAgent\":\"codex\",\"adapter\":\"agent-mux\",\"runtimeIdentity\":\"docs-sa\"}}",
			      &r), 201);
	http_resp_free(&r);

	assert_int_equal(call("GET", "/api/orgs/acme/agents/stacks/triage", dev_token, NULL, &r), 200);
	assert_string_equal(str(json_object_get(r.json, "spec"), "adapter"), "process");
	http_resp_free(&r);
	assert_int_equal(call("PATCH", "/api/orgs/acme/agents/stacks/triage", srv.admin_token,
			      "{\"spec\":{\"model\":\"opus\",\"timeoutSeconds\":120}}", &r), 200);
	assert_string_equal(str(json_object_get(r.json, "spec"), "model"), "opus");
	assert_string_equal(str(json_object_get(r.json, "spec"), "baseAgent"), "claude-code");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "spec"), "timeoutSeconds")), 120);
	http_resp_free(&r);
	assert_int_equal(call("PATCH", "/api/agents/stacks/triage?org=acme", srv.admin_token,
			      "{\"spec\":{\"model\":null}}", &r), 200);
	assert_null(json_object_get(json_object_get(r.json, "spec"), "model"));
	http_resp_free(&r);
	assert_int_equal(call("PATCH", "/api/orgs/acme/agents/stacks/triage", srv.admin_token,
			      "{\"spec\":{\"timeoutSeconds\":\"soon\"}}", &r), 422);
	assert_true(has_reason(&r, "spec.timeoutSeconds"));
	http_resp_free(&r);
	assert_int_equal(call("PATCH", "/api/orgs/acme/agents/stacks/nope", srv.admin_token, "{\"spec\":{}}", &r), 404);
	http_resp_free(&r);

	assert_int_equal(call("GET", "/api/agents/stacks?org=acme", dev_token, NULL, &r), 200);
	items = json_object_get(r.json, "items");
	assert_int_equal(json_array_size(items), 2);
	http_resp_free(&r);

	/* RBAC and org resolution */
	assert_int_equal(call("POST", "/api/orgs/acme/agents/stacks", dev_token,
			      "{\"name\":\"x\",\"spec\":{\"baseAgent\":\"a\",\"adapter\":\"process\",\"runtimeIdentity\":\"s\"}}",
			      &r), 403);
	http_resp_free(&r);
	assert_int_equal(call("PATCH", "/api/orgs/acme/agents/stacks/triage", dev_token, "{\"spec\":{}}", &r), 403);
	http_resp_free(&r);
	assert_int_equal(call("DELETE", "/api/orgs/acme/agents/stacks/triage", dev_token, NULL, &r), 403);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/agents/stacks", srv.admin_token, NULL, &r), 422);
	assert_string_equal(err_code(&r), "ORG_REQUIRED");
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/agents/stacks?org=other", acme_admin, NULL, &r), 404);
	assert_string_equal(err_code(&r), "ORG_NOT_FOUND");
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs/nosuch/agents/stacks", srv.admin_token, NULL, &r), 404);
	http_resp_free(&r);

	assert_int_equal(call("DELETE", "/api/agents/stacks/docs?org=acme", srv.admin_token, NULL, &r), 200);
	http_resp_free(&r);
	assert_int_equal(call("GET", "/api/orgs/acme/agents/stacks/docs", srv.admin_token, NULL, &r), 404);
	http_resp_free(&r);
	/* refusals are audited */
	assert_int_equal(call("GET", "/api/audit?org=acme&limit=1000", srv.admin_token, NULL, &r), 200);
	assert_non_null(strstr(r.body, "denied:FORBIDDEN"));
	http_resp_free(&r);
}

/* ---- readiness ---- */

static void test_readiness_follows_grants(void **state)
{
	struct http_resp r;
	json_t *st, *c;
	const char *since;
	char *since_copy;

	(void)state;
	harness_apply(&srv, "acme", "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"ci\"},\"spec\":{"
		      "\"baseAgent\":\"claude-code\",\"adapter\":\"process\",\"command\":[\"/bin/true\"],"
		      "\"runtimeIdentity\":\"ci-sa\"}}");
	st = wait_phase("ci", "Blocked");
	assert_string_equal(str(condition(st, "RuntimeIdentityReady"), "status"), "False");
	assert_string_equal(str(condition(st, "RuntimeIdentityReady"), "reason"), "MissingServiceAccount");
	assert_string_equal(str(condition(st, "SecretsGranted"), "status"), "False");
	assert_string_equal(str(condition(st, "AdapterReady"), "status"), "True");
	/* the adapter's condition did not change while the stack stays blocked */
	since_copy = strdup(str(condition(st, "AdapterReady"), "lastTransitionTime"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "status"), "observedGeneration")),
			 json_integer_value(json_object_get(json_object_get(st, "metadata"), "generation")));
	json_decref(st);

	harness_apply(&srv, "acme", "{\"kind\":\"AgentServiceAccount\",\"metadata\":{\"name\":\"ci-sa\"},\"spec\":{"
		      "\"namespace\":\"krate-org-acme\",\"serviceAccountName\":\"ci-sa\"}}");
	harness_apply(&srv, "acme", "{\"kind\":\"AgentRoleBinding\",\"metadata\":{\"name\":\"ci-reader\"},\"spec\":{"
		      "\"subject\":\"ci-sa\",\"roleRef\":\"repo-reader\",\"scope\":\"org\"}}");
	harness_apply(&srv, "acme", "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"anthropic\"},"
		      "\"spec\":{\"data\":{\"ANTHROPIC_API_KEY\":\"" VALUE "\"}}}");
	/* a grant for a Secret that does not exist is refused */
	assert_int_equal(call("POST", "/api/agents/secrets/grants?org=acme", srv.admin_token,
			      "{\"subject\":\"ci-sa\",\"secretRef\":\"nope\",\"purpose\":\"model-provider\"}", &r), 422);
	assert_true(has_reason(&r, "spec.secretRef"));
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/agents/secrets/grants?org=acme", dev_token,
			      "{\"subject\":\"ci-sa\",\"secretRef\":\"anthropic\",\"purpose\":\"model-provider\"}", &r), 403);
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/agents/secrets/grants?org=acme", srv.admin_token,
			      "{\"subject\":\"ci-sa\",\"secretRef\":\"anthropic\",\"purpose\":\"model-provider\","
			      "\"env\":\"ANTHROPIC_API_KEY\"}", &r), 201);
	assert_string_equal(str(r.json, "kind"), "AgentSecretGrant");
	assert_string_equal(str(json_object_get(r.json, "metadata"), "name"), "ci-sa-anthropic");
	http_resp_free(&r);

	st = wait_phase("ci", "Ready");
	c = condition(st, "Ready");
	assert_string_equal(str(c, "status"), "True");
	assert_non_null(str(c, "lastTransitionTime"));
	assert_int_equal(json_integer_value(json_object_get(c, "observedGeneration")), 1);
	since = str(condition(st, "AdapterReady"), "lastTransitionTime");
	assert_string_equal(since, since_copy);
	assert_string_equal(str(json_object_get(json_object_get(st, "status"), "permission"), "decision"), "allowed");
	json_decref(st);
	free(since_copy);

	/* the controller answers to a deleted grant */
	assert_int_equal(call("DELETE", "/api/orgs/acme/resources/agentsecretgrants/ci-sa-anthropic", srv.admin_token,
			      NULL, &r), 200);
	http_resp_free(&r);
	st = wait_phase("ci", "Blocked");
	assert_string_equal(str(condition(st, "SecretsGranted"), "status"), "False");
	assert_string_equal(str(condition(st, "SecretsGranted"), "reason"), "MissingSecretGrants");
	assert_string_equal(str(condition(st, "RuntimeIdentityReady"), "status"), "True");
	json_decref(st);

	/* status writes are the controller's, audited as such */
	assert_int_equal(call("GET", "/api/audit?org=acme&limit=1000", srv.admin_token, NULL, &r), 200);
	assert_non_null(strstr(r.body, "\"actor\":\"system:agents\""));
	http_resp_free(&r);
}

/* ---- permission review ---- */

static void test_permission_review(void **state)
{
	struct http_resp r;
	json_t *first, *second, *preview;
	char *yaml;
	const char *req = "{\"repository\":\"web\",\"ref\":\"refs/heads/main\",\"actor\":\"tmusk\","
			  "\"agentStack\":\"fixer\",\"taskKind\":\"ci-repair\"}";

	(void)state;
	harness_apply(&srv, "acme", "{\"kind\":\"AgentServiceAccount\",\"metadata\":{\"name\":\"fixer-sa\"},\"spec\":{"
		      "\"namespace\":\"krate-org-acme\",\"serviceAccountName\":\"fixer-sa\"}}");
	harness_apply(&srv, "acme", "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"fixer\"},\"spec\":{"
		      "\"baseAgent\":\"claude-code\",\"adapter\":\"process\",\"command\":[\"/bin/true\"],"
		      "\"runtimeIdentity\":\"fixer-sa\"}}");

	first = harness_call_json(&srv, "POST", "/api/agents/permissions/review?org=acme", dev_token, req, 200);
	second = harness_call_json(&srv, "POST", "/api/orgs/acme/agents/permissions/review", srv.admin_token, req, 200);
	assert_string_equal(str(first, "decision"), "denied");
	assert_true(!strncmp(str(first, "digest"), "sha256:", 7));
	assert_string_equal(str(first, "digest"), str(second, "digest"));
	assert_true(json_array_size(json_object_get(first, "missingGrants")) >= 1);
	preview = json_array_get(json_object_get(first, "yamlPreview"), 0);
	assert_non_null(json_string_value(preview));
	yaml = strdup(json_string_value(preview));
	json_decref(second);

	/* capability requirements name what is missing */
	second = harness_call_json(&srv, "GET", "/api/agents/capability-requirements?org=acme&stack=fixer", dev_token,
				   NULL, 200);
	assert_int_equal(json_array_size(json_object_get(second, "items")), 1);
	assert_string_equal(str(json_array_get(json_object_get(second, "items"), 0), "stack"), "fixer");
	assert_string_equal(str(json_array_get(json_object_get(json_array_get(json_object_get(second, "items"), 0),
								"requiredSecrets"), 0), "purpose"), "model-provider");
	assert_true(json_array_size(json_object_get(json_array_get(json_object_get(second, "items"), 0),
						    "missingGrants")) >= 1);
	json_decref(second);
	second = harness_call_json(&srv, "GET", "/api/orgs/acme/agents/capability-requirements", dev_token, NULL, 200);
	assert_true(json_array_size(json_object_get(second, "items")) >= 2);
	json_decref(second);
	assert_int_equal(call("GET", "/api/agents/capability-requirements?org=acme&stack=nope", dev_token, NULL, &r), 404);
	http_resp_free(&r);

	/* the preview names a Secret to create: without it the grant is refused */
	assert_int_equal(http_call(&srv, "POST", "/api/agents/secrets/grants?org=acme", srv.admin_token, yaml,
				   "application/yaml", &r), 0);
	assert_int_equal(r.status, 422);
	http_resp_free(&r);
	harness_apply(&srv, "acme", "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"fixer-model-provider\"},"
		      "\"spec\":{\"data\":{\"KEY\":\"" VALUE2 "\"}}}");
	assert_int_equal(http_call(&srv, "POST", "/api/agents/secrets/grants?org=acme", srv.admin_token, yaml,
				   "application/yaml", &r), 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(str(r.json, "kind"), "AgentSecretGrant");
	http_resp_free(&r);
	free(yaml);

	second = harness_call_json(&srv, "POST", "/api/agents/permissions/review?org=acme", dev_token, req, 200);
	assert_string_equal(str(second, "decision"), "allowed");
	assert_true(strcmp(str(first, "digest"), str(second, "digest")));
	json_decref(second);
	json_decref(first);

	/* a config grant needs its ConfigMap */
	assert_int_equal(call("POST", "/api/orgs/acme/agents/config/grants", srv.admin_token,
			      "{\"name\":\"fixer-settings\",\"subject\":\"fixer-sa\",\"configMapRef\":\"settings\","
			      "\"purpose\":\"tuning\"}", &r), 201);
	assert_string_equal(str(r.json, "kind"), "AgentConfigGrant");
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/orgs/acme/agents/config/grants", srv.admin_token,
			      "{\"subject\":\"fixer-sa\",\"configMapRef\":\"nope\",\"purpose\":\"tuning\"}", &r), 422);
	http_resp_free(&r);

	/* bad requests and unknown orgs */
	assert_int_equal(call("POST", "/api/agents/permissions/review?org=acme", dev_token, "[1,2]", &r), 400);
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/agents/permissions/review?org=acme", dev_token,
			      "{\"repository\":\"web\",\"ref\":7}", &r), 400);
	assert_true(has_reason(&r, "ref"));
	assert_true(has_reason(&r, "agentStack"));
	http_resp_free(&r);
	assert_int_equal(call("POST", "/api/orgs/nosuch/agents/permissions/review", srv.admin_token, req, &r), 404);
	http_resp_free(&r);
	/* an unknown stack is a denied decision, not an error */
	second = harness_call_json(&srv, "POST", "/api/agents/permissions/review?org=acme", dev_token,
				   "{\"repository\":\"web\",\"ref\":\"refs/heads/main\",\"agentStack\":\"ghost\"}", 200);
	assert_string_equal(str(second, "decision"), "denied");
	json_decref(second);
}

/* ---- the UI model ---- */

static void test_views_agents(void **state)
{
	struct http_resp r;
	json_t *model, *agents, *it;
	size_t i;
	int seen_ci = 0, seen_missing = 0;

	(void)state;
	harness_apply(&srv, "acme", "{\"kind\":\"AgentDispatchRun\",\"metadata\":{\"name\":\"run-aaaaaaaaaaaa\"},"
		      "\"spec\":{\"repository\":\"web\",\"sourceRefs\":{},\"agentStack\":\"ci\",\"taskKind\":\"general\"}}");
	harness_apply(&srv, "acme", "{\"kind\":\"AgentDispatchRun\",\"metadata\":{\"name\":\"run-bbbbbbbbbbbb\"},"
		      "\"spec\":{\"repository\":\"web\",\"sourceRefs\":{},\"agentStack\":\"ci\",\"taskKind\":\"general\"}}");
	assert_int_equal(call("PUT", "/api/orgs/acme/resources/agentdispatchruns/run-aaaaaaaaaaaa/status", srv.admin_token,
			      "{\"status\":{\"phase\":\"Running\"}}", &r), 200);
	http_resp_free(&r);
	assert_int_equal(call("PUT", "/api/orgs/acme/resources/agentdispatchruns/run-bbbbbbbbbbbb/status", srv.admin_token,
			      "{\"status\":{\"phase\":\"Succeeded\"}}", &r), 200);
	http_resp_free(&r);
	harness_apply(&srv, "acme", "{\"kind\":\"AgentApproval\",\"metadata\":{\"name\":\"approval-run-aaaaaaaaaaaa\"},"
		      "\"spec\":{\"dispatchRun\":\"run-aaaaaaaaaaaa\",\"action\":\"secret-access\",\"requestedBy\":\"dana\"}}");

	model = harness_call_json(&srv, "GET", "/api/controller?org=acme", dev_token, NULL, 200);
	agents = json_object_get(json_object_get(model, "views"), "agents");
	assert_int_equal(json_array_size(json_object_get(agents, "activeRuns")), 1);
	assert_string_equal(str(json_array_get(json_object_get(agents, "activeRuns"), 0), "name"), "run-aaaaaaaaaaaa");
	assert_string_equal(str(json_array_get(json_object_get(agents, "activeRuns"), 0), "phase"), "Running");
	assert_int_equal(json_array_size(json_object_get(agents, "pendingApprovals")), 1);
	assert_string_equal(str(json_array_get(json_object_get(agents, "pendingApprovals"), 0), "dispatchRun"),
			    "run-aaaaaaaaaaaa");
	json_array_foreach(json_object_get(agents, "stackReadiness"), i, it) {
		if (!strcmp(str(it, "name"), "ci")) {
			char *failing = json_dumps(json_object_get(it, "failing"), 0);

			seen_ci = 1;
			assert_string_equal(str(it, "phase"), "Blocked");
			assert_string_equal(str(it, "org"), "acme");
			assert_non_null(strstr(failing, "SecretsGranted"));
			free(failing);
		}
	}
	json_array_foreach(json_object_get(agents, "missingPermissions"), i, it)
		seen_missing |= !strcmp(str(it, "stack"), "ci") && !strcmp(str(it, "type"), "SecretsGranted");
	assert_true(seen_ci);
	assert_true(seen_missing);
	assert_true(json_is_object(json_object_get(agents, "repositoryAffordances")));
	json_decref(model);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secrets_are_sealed),
		cmocka_unit_test(test_stacks_crud),
		cmocka_unit_test(test_readiness_follows_grants),
		cmocka_unit_test(test_permission_review),
		cmocka_unit_test(test_views_agents),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
