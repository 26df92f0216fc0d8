/* Permission review: every decision path, the grant previews an admin can
 * apply, and a digest that depends on the inputs but not on their order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/review.h"
#include "agents/snapshot.h"
#include "core/yaml.h"

/* A stack that may run: its service account, a role binding, a grant for
 * each secret need (model provider, the MCP server's token) and the MCP
 * server's config, and the runner pool it asks for. */
static const char base_json[] =
	"{\"AgentStack\":[{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"fixer\",\"namespace\":\"krate-org-acme\"},"
	"  \"spec\":{\"baseAgent\":\"claude\",\"adapter\":\"process\",\"command\":[\"/bin/agent\"],"
	"    \"runtimeIdentity\":{\"serviceAccountRef\":\"agent-fixer\"},\"mcpServerRefs\":[\"github\"],"
	"    \"runnerPool\":\"linux\"}}],"
	" \"AgentServiceAccount\":[{\"metadata\":{\"name\":\"agent-fixer\"},"
	"  \"spec\":{\"namespace\":\"krate-org-acme\",\"serviceAccountName\":\"agent-fixer\"}}],"
	" \"AgentRoleBinding\":[{\"metadata\":{\"name\":\"fixer-dev\"},"
	"  \"spec\":{\"subject\":\"agent-fixer\",\"roleRef\":\"developer\",\"scope\":\"org\"}}],"
	" \"AgentSecretGrant\":["
	"  {\"metadata\":{\"name\":\"fixer-model\"},"
	"   \"spec\":{\"subject\":\"agent-fixer\",\"secretRef\":\"anthropic\",\"purpose\":\"model-provider\"}},"
	"  {\"metadata\":{\"name\":\"fixer-github\"},"
	"   \"spec\":{\"subject\":{\"name\":\"fixer\"},\"secretRef\":\"github-token\",\"purpose\":\"mcp-server:github\"}}],"
	" \"AgentConfigGrant\":[{\"metadata\":{\"name\":\"fixer-github-cfg\"},"
	"  \"spec\":{\"subject\":\"agent-fixer\",\"configMapRef\":\"github-cfg\",\"purpose\":\"mcp-server:github\"}}],"
	" \"AgentMcpServer\":[{\"metadata\":{\"name\":\"github\"},"
	"  \"spec\":{\"transport\":\"stdio\",\"scope\":\"org\",\"secretRefs\":[\"github-token\"],"
	"    \"configRefs\":[\"github-cfg\"]}}],"
	" \"RunnerPool\":[{\"metadata\":{\"name\":\"linux\"},"
	"  \"spec\":{\"warmReplicas\":1,\"maxReplicas\":2,\"serviceAccountRef\":\"runner-linux\"}}],"
	" \"RefPolicy\":[]}";

static json_t *base(void)
{
	json_t *s = json_loads(base_json, 0, NULL);

	assert_non_null(s);
	return s;
}

static json_t *spec(json_t *snap, const char *kind, const char *name)
{
	json_t *o = snapshot_find(snap, kind, name);

	assert_non_null(o);
	return json_object_get(o, "spec");
}

/* Sets spec member key of an object to the JSON text value. */
static void set(json_t *snap, const char *kind, const char *name, const char *key, const char *value)
{
	json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);

	assert_non_null(v);
	assert_int_equal(json_object_set_new(spec(snap, kind, name), key, v), 0);
}

static void drop(json_t *snap, const char *kind, const char *name)
{
	json_t *arr = json_object_get(snap, kind), *o;
	size_t i;

	json_array_foreach(arr, i, o) {
		if (!strcmp(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")), name)) {
			json_array_remove(arr, i);
			return;
		}
	}
	fail_msg("no %s %s to drop", kind, name);
}

static void add(json_t *snap, const char *kind, const char *obj)
{
	json_t *o = json_loads(obj, 0, NULL), *arr = json_object_get(snap, kind);

	assert_non_null(o);
	if (!arr) {
		arr = json_array();
		json_object_set_new(snap, kind, arr);
	}
	assert_int_equal(json_array_append_new(arr, o), 0);
}

static json_t *review(json_t *snap, const char *ref, const char *trigger, const char *pool)
{
	struct review_req q = { "krate", ref ? ref : "refs/heads/main", "ana", "fixer", trigger, NULL, pool };
	struct kerr e = KERR_INIT;
	json_t *out = NULL;

	assert_int_equal(review_run(&q, snap, &out, &e), 0);
	assert_non_null(out);
	kerr_clear(&e);
	return out;
}

static const char *decision(json_t *out)
{
	return json_string_value(json_object_get(out, "decision"));
}

/* The reason with code, or NULL. */
static json_t *reason(json_t *out, const char *code)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(out, "reasons"), i, r)
		if (!strcmp(json_string_value(json_object_get(r, "code")), code))
			return r;
	return NULL;
}

static void assert_reason(json_t *out, const char *code, const char *severity, const char *in_message)
{
	json_t *r = reason(out, code);

	if (!r)
		fail_msg("no reason %s in %s", code, json_dumps(out, JSON_INDENT(1)));
	assert_string_equal(json_string_value(json_object_get(r, "severity")), severity);
	if (in_message && !strstr(json_string_value(json_object_get(r, "message")), in_message))
		fail_msg("reason %s says \"%s\", not \"%s\"", code, json_string_value(json_object_get(r, "message")),
			 in_message);
}

static size_t errors(json_t *out)
{
	json_t *r;
	size_t i, n = 0;

	json_array_foreach(json_object_get(out, "reasons"), i, r)
		n += !strcmp(json_string_value(json_object_get(r, "severity")), "error");
	return n;
}

/* The entry of requiredSecrets (or requiredConfigs) for purpose. */
static json_t *need(json_t *out, const char *list, const char *purpose)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(out, list), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "purpose")), purpose))
			return v;
	fail_msg("no %s entry for %s", list, purpose);
	return NULL;
}

static const char *status_of(json_t *out, const char *list, const char *purpose)
{
	return json_string_value(json_object_get(need(out, list, purpose), "status"));
}

static void test_allowed(void **state)
{
	json_t *snap = base(), *out;
	const char *digest;

	(void)state;
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	assert_int_equal(errors(out), 0);
	assert_null(reason(out, "ROLE_BINDING_MISSING"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "runtimeIdentity"),
							      "serviceAccountRef")), "agent-fixer");
	assert_true(json_is_true(json_object_get(json_object_get(out, "runtimeIdentity"), "ready")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "runnerIdentity"), "runnerPool")),
			    "linux");
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "runnerIdentity"),
							      "serviceAccountRef")), "runner-linux");
	assert_true(json_is_true(json_object_get(json_object_get(out, "runnerIdentity"), "ready")));
	assert_int_equal(json_array_size(json_object_get(out, "requiredRoles")), 1);
	/* Needs are sorted by purpose. */
	assert_int_equal(json_array_size(json_object_get(out, "requiredSecrets")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(out, "requiredSecrets"), 0),
							      "purpose")), "mcp-server:github");
	assert_string_equal(status_of(out, "requiredSecrets", "model-provider"), "granted");
	assert_string_equal(json_string_value(json_object_get(need(out, "requiredSecrets", "model-provider"), "grant")),
			    "fixer-model");
	assert_string_equal(json_string_value(json_object_get(need(out, "requiredSecrets", "mcp-server:github"),
							      "secretRef")), "github-token");
	assert_string_equal(status_of(out, "requiredConfigs", "mcp-server:github"), "granted");
	assert_int_equal(json_array_size(json_object_get(out, "missingGrants")), 0);
	assert_int_equal(json_array_size(json_object_get(out, "yamlPreview")), 0);
	assert_int_equal(json_array_size(json_object_get(out, "approvalRequirements")), 0);
	assert_false(json_is_true(json_object_get(out, "untrustedRef")));
	assert_string_equal(json_string_value(json_object_get(out, "triggerSource")), "manual");
	assert_string_equal(json_string_value(json_object_get(out, "taskKind")), "general");
	digest = json_string_value(json_object_get(out, "digest"));
	assert_non_null(digest);
	assert_int_equal(strlen(digest), 71);
	assert_memory_equal(digest, "sha256:", 7);
	json_decref(out);
	json_decref(snap);
}

static void test_stack_missing(void **state)
{
	json_t *snap = base(), *out;
	struct review_req q = { "krate", "refs/heads/main", "ana", "nope", NULL, NULL, NULL };
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(review_run(&q, snap, &out, &e), 0);
	assert_string_equal(decision(out), "denied");
	assert_reason(out, "STACK_NOT_FOUND", "error", "nope");
	assert_false(json_is_true(json_object_get(json_object_get(out, "runtimeIdentity"), "ready")));
	assert_non_null(json_object_get(out, "digest"));
	json_decref(out);
	json_decref(snap);
}

static void test_service_account_missing(void **state)
{
	json_t *snap = base(), *out;

	(void)state;
	drop(snap, "AgentServiceAccount", "agent-fixer");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "denied");
	assert_reason(out, "SERVICE_ACCOUNT_MISSING", "error", "agent-fixer");
	assert_false(json_is_true(json_object_get(json_object_get(out, "runtimeIdentity"), "ready")));
	json_decref(out);

	/* A runtime identity written as a plain string names the account too. */
	json_object_set_new(spec(snap, "AgentStack", "fixer"), "runtimeIdentity", json_string("other"));
	out = review(snap, NULL, NULL, NULL);
	assert_reason(out, "SERVICE_ACCOUNT_MISSING", "error", "other");
	json_decref(out);
	json_decref(snap);
}

static void test_service_account_restrictions(void **state)
{
	json_t *snap = base(), *out;

	(void)state;
	set(snap, "AgentServiceAccount", "agent-fixer", "allowedRepositories", "[\"web\"]");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "denied");
	assert_reason(out, "SERVICE_ACCOUNT_NOT_ALLOWED", "error", "repository krate");
	json_decref(out);
	set(snap, "AgentServiceAccount", "agent-fixer", "allowedRepositories", "[\"web\", \"krate\"]");
	set(snap, "AgentServiceAccount", "agent-fixer", "allowedRunnerPools", "[\"gpu\"]");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "denied");
	assert_reason(out, "SERVICE_ACCOUNT_NOT_ALLOWED", "error", "runner pool linux");
	json_decref(out);
	set(snap, "AgentServiceAccount", "agent-fixer", "allowedRunnerPools", "[\"linux\"]");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	json_decref(out);
	json_decref(snap);
}

static void test_role_binding_missing_is_a_warning(void **state)
{
	json_t *snap = base(), *out;

	(void)state;
	drop(snap, "AgentRoleBinding", "fixer-dev");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	assert_reason(out, "ROLE_BINDING_MISSING", "warning", "agent-fixer");
	assert_int_equal(json_array_size(json_object_get(out, "requiredRoles")), 0);
	json_decref(out);

	/* A binding to the stack itself counts, with an object subject too. */
	add(snap, "AgentRoleBinding", "{\"metadata\":{\"name\":\"stack-dev\"},\"spec\":{\"subject\":{\"name\":\"fixer\"},"
				      "\"roleRef\":\"developer\",\"scope\":\"org\"}}");
	out = review(snap, NULL, NULL, NULL);
	assert_null(reason(out, "ROLE_BINDING_MISSING"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(out, "requiredRoles"), 0),
							      "roleBinding")), "stack-dev");
	json_decref(out);
	json_decref(snap);
}

/* The preview parses as one grant of kind, and with it added the need is met. */
static json_t *preview_doc(json_t *out, size_t i, const char *kind)
{
	const char *yaml = json_string_value(json_array_get(json_object_get(out, "yamlPreview"), i));
	struct kerr e = KERR_INIT;
	json_t *docs = NULL, *doc;

	assert_non_null(yaml);
	assert_int_equal(yaml_parse_documents(yaml, strlen(yaml), &docs, &e), 0);
	assert_int_equal(json_array_size(docs), 1);
	doc = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	assert_string_equal(json_string_value(json_object_get(doc, "apiVersion")), "krate.a5c.ai/v1alpha1");
	assert_string_equal(json_string_value(json_object_get(doc, "kind")), kind);
	return doc;
}

static void test_secret_grant_missing(void **state)
{
	json_t *snap = base(), *out, *doc, *m;

	(void)state;
	drop(snap, "AgentSecretGrant", "fixer-model");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "denied");
	assert_reason(out, "SECRET_GRANT_MISSING", "error", "model-provider");
	assert_string_equal(status_of(out, "requiredSecrets", "model-provider"), "missing");
	assert_true(json_is_null(json_object_get(need(out, "requiredSecrets", "model-provider"), "grant")));
	assert_string_equal(status_of(out, "requiredSecrets", "mcp-server:github"), "granted");
	assert_int_equal(json_array_size(json_object_get(out, "missingGrants")), 1);
	m = json_array_get(json_object_get(out, "missingGrants"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "kind")), "AgentSecretGrant");
	assert_string_equal(json_string_value(json_object_get(m, "purpose")), "model-provider");
	assert_string_equal(json_string_value(json_object_get(m, "subject")), "agent-fixer");
	assert_int_equal(json_array_size(json_object_get(out, "yamlPreview")), 1);

	doc = preview_doc(out, 0, "AgentSecretGrant");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "metadata"), "name")),
			    "fixer-model-provider");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "metadata"), "namespace")),
			    "krate-org-acme");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "spec"), "subject")), "agent-fixer");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "spec"), "purpose")),
			    "model-provider");
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(doc, "spec"),
									     "allowedRepositories"), 0)), "krate");
	assert_non_null(json_string_value(json_object_get(json_object_get(doc, "spec"), "secretRef")));
	json_decref(out);

	/* Applying the preview is enough. */
	json_array_append_new(json_object_get(snap, "AgentSecretGrant"), doc);
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	json_decref(out);
	json_decref(snap);
}

static void test_secret_policy_refs(void **state)
{
	json_t *snap = base(), *out, *doc;

	(void)state;
	set(snap, "AgentStack", "fixer", "secretPolicy", "{\"allowedSecretRefs\":[\"deploy-key\"]}");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "denied");
	assert_reason(out, "SECRET_GRANT_MISSING", "error", "secret:deploy-key");
	doc = preview_doc(out, 0, "AgentSecretGrant");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "spec"), "secretRef")), "deploy-key");
	json_decref(out);
	json_array_append_new(json_object_get(snap, "AgentSecretGrant"), doc);
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	assert_string_equal(status_of(out, "requiredSecrets", "secret:deploy-key"), "granted");
	json_decref(out);
	json_decref(snap);
}

static void test_grant_restricted_by_repository(void **state)
{
	json_t *snap = base(), *out;

	(void)state;
	set(snap, "AgentSecretGrant", "fixer-model", "allowedRepositories", "[\"web\"]");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "denied");
	assert_reason(out, "SECRET_GRANT_MISSING", "error", "fixer-model does not allow repository krate");
	json_decref(out);
	set(snap, "AgentSecretGrant", "fixer-model", "allowedRepositories", "[\"web\", \"krate\"]");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	json_decref(out);
	json_decref(snap);
}

static void test_grant_restricted_by_ref(void **state)
{
	json_t *snap = base(), *out;

	(void)state;
	set(snap, "AgentSecretGrant", "fixer-model", "allowedRefs", "[\"refs/heads/release/*\", \"refs/heads/dev\"]");
	out = review(snap, "refs/heads/main", NULL, NULL);
	assert_string_equal(decision(out), "denied");
	assert_reason(out, "SECRET_GRANT_MISSING", "error", "does not allow ref refs/heads/main");
	json_decref(out);
	out = review(snap, "refs/heads/release/1.2", NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	json_decref(out);
	out = review(snap, "refs/heads/dev", NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	json_decref(out);
	/* Without a '*', an entry is the whole ref, not a prefix. */
	out = review(snap, "refs/heads/devel", NULL, NULL);
	assert_string_equal(decision(out), "denied");
	json_decref(out);
	json_decref(snap);
}

static void test_grant_restricted_by_trigger_source(void **state)
{
	json_t *snap = base(), *out;

	(void)state;
	set(snap, "AgentSecretGrant", "fixer-github", "allowedTriggerSources", "[\"manual\"]");
	out = review(snap, NULL, "pull-request-comment", NULL);
	assert_string_equal(decision(out), "denied");
	assert_reason(out, "SECRET_GRANT_MISSING", "error", "does not allow trigger source pull-request-comment");
	assert_string_equal(status_of(out, "requiredSecrets", "mcp-server:github"), "missing");
	json_decref(out);
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	json_decref(out);
	json_decref(snap);
}

static void test_untrusted_ref(void **state)
{
	json_t *snap = base(), *out, *doc;

	(void)state;
	/* No grant names the pull request ref: nothing is granted. */
	out = review(snap, "refs/pull/42/head", NULL, NULL);
	assert_string_equal(decision(out), "denied");
	assert_true(json_is_true(json_object_get(out, "untrustedRef")));
	assert_reason(out, "UNTRUSTED_REF", "error", "refs/pull/42/head");
	assert_reason(out, "SECRET_GRANT_MISSING", "error", "untrusted ref");
	assert_int_equal(json_array_size(json_object_get(out, "missingGrants")), 2);
	/* The preview for an untrusted ref names it and asks for approval. */
	doc = preview_doc(out, 0, "AgentSecretGrant");
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(doc, "spec"),
									     "allowedRefs"), 0)), "refs/pull/42/head");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "spec"), "requiredApproval")),
			    "on-untrusted-ref");
	json_decref(doc);
	json_decref(out);

	/* Broad patterns do not count as naming it. */
	set(snap, "AgentSecretGrant", "fixer-model", "allowedRefs", "[\"*\"]");
	set(snap, "AgentSecretGrant", "fixer-github", "allowedRefs", "[\"refs/*\"]");
	out = review(snap, "refs/pull/42/head", NULL, NULL);
	assert_string_equal(decision(out), "denied");
	json_decref(out);

	/* An explicit grant does; configs are not secrets and need no such grant. */
	set(snap, "AgentSecretGrant", "fixer-model", "allowedRefs", "[\"refs/pull/*\"]");
	set(snap, "AgentSecretGrant", "fixer-github", "allowedRefs", "[\"refs/heads/main\", \"refs/pull/42/head\"]");
	out = review(snap, "refs/pull/42/head", NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	assert_reason(out, "UNTRUSTED_REF", "info", NULL);
	json_decref(out);

	/* A RefPolicy marks more refs untrusted, per repository. */
	set(snap, "AgentSecretGrant", "fixer-model", "allowedRefs", "[]");
	set(snap, "AgentSecretGrant", "fixer-github", "allowedRefs", "[]");
	add(snap, "RefPolicy", "{\"metadata\":{\"name\":\"forks\"},\"spec\":{\"repository\":\"krate\","
			       "\"untrusted\":[\"refs/heads/contrib/*\"]}}");
	out = review(snap, "refs/heads/contrib/x", NULL, NULL);
	assert_string_equal(decision(out), "denied");
	assert_true(json_is_true(json_object_get(out, "untrustedRef")));
	json_decref(out);
	out = review(snap, "refs/heads/main", NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	json_decref(out);
	set(snap, "RefPolicy", "forks", "repository", "\"web\"");
	out = review(snap, "refs/heads/contrib/x", NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	assert_false(json_is_true(json_object_get(out, "untrustedRef")));
	json_decref(out);
	json_decref(snap);
}

static void test_required_approval(void **state)
{
	json_t *snap = base(), *out, *a;

	(void)state;
	set(snap, "AgentSecretGrant", "fixer-model", "requiredApproval", "\"always\"");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "requires-approval");
	assert_string_equal(status_of(out, "requiredSecrets", "model-provider"), "requires-approval");
	assert_reason(out, "APPROVAL_REQUIRED", "info", "fixer-model");
	assert_int_equal(json_array_size(json_object_get(out, "approvalRequirements")), 1);
	a = json_array_get(json_object_get(out, "approvalRequirements"), 0);
	assert_string_equal(json_string_value(json_object_get(a, "action")), "secret-access");
	assert_string_equal(json_string_value(json_object_get(a, "grant")), "fixer-model");
	json_decref(out);

	/* on-untrusted-ref: no approval on a trusted ref, approval on an untrusted one. */
	set(snap, "AgentSecretGrant", "fixer-model", "requiredApproval", "\"on-untrusted-ref\"");
	set(snap, "AgentSecretGrant", "fixer-model", "allowedRefs", "[\"refs/heads/main\", \"refs/pull/*\"]");
	set(snap, "AgentSecretGrant", "fixer-github", "allowedRefs", "[\"refs/heads/main\", \"refs/pull/*\"]");
	out = review(snap, "refs/heads/main", NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	json_decref(out);
	out = review(snap, "refs/pull/7/head", NULL, NULL);
	assert_string_equal(decision(out), "requires-approval");
	assert_string_equal(status_of(out, "requiredSecrets", "model-provider"), "requires-approval");
	assert_string_equal(status_of(out, "requiredSecrets", "mcp-server:github"), "granted");
	json_decref(out);

	/* A grant without approval wins over one with it, whatever the order. */
	add(snap, "AgentSecretGrant", "{\"metadata\":{\"name\":\"a-model\"},\"spec\":{\"subject\":\"agent-fixer\","
				      "\"secretRef\":\"anthropic\",\"purpose\":\"model-provider\","
				      "\"allowedRefs\":[\"refs/pull/*\"]}}");
	out = review(snap, "refs/pull/7/head", NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	assert_string_equal(json_string_value(json_object_get(need(out, "requiredSecrets", "model-provider"), "grant")),
			    "a-model");
	json_decref(out);
	json_decref(snap);
}

static void test_config_grant_missing(void **state)
{
	json_t *snap = base(), *out, *doc, *m;

	(void)state;
	drop(snap, "AgentConfigGrant", "fixer-github-cfg");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "denied");
	assert_reason(out, "CONFIG_GRANT_MISSING", "error", "mcp-server:github");
	assert_string_equal(status_of(out, "requiredConfigs", "mcp-server:github"), "missing");
	m = json_array_get(json_object_get(out, "missingGrants"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "kind")), "AgentConfigGrant");
	doc = preview_doc(out, 0, "AgentConfigGrant");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "spec"), "configMapRef")),
			    "github-cfg");
	json_decref(out);
	json_array_append_new(json_object_get(snap, "AgentConfigGrant"), doc);
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	json_decref(out);
	json_decref(snap);
}

static void test_mcp_server_missing(void **state)
{
	json_t *snap = base(), *out;

	(void)state;
	drop(snap, "AgentMcpServer", "github");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "denied");
	assert_reason(out, "MCP_SERVER_MISSING", "error", "github");
	json_decref(out);
	json_decref(snap);
}

static void test_runner_pool(void **state)
{
	json_t *snap = base(), *out, *ri;

	(void)state;
	out = review(snap, NULL, NULL, "gpu");
	assert_string_equal(decision(out), "denied");
	assert_reason(out, "RUNNER_POOL_MISSING", "error", "gpu");
	ri = json_object_get(out, "runnerIdentity");
	assert_string_equal(json_string_value(json_object_get(ri, "runnerPool")), "gpu");
	assert_false(json_is_true(json_object_get(ri, "ready")));
	json_decref(out);

	/* No pool asked for: nothing to check. */
	json_object_del(spec(snap, "AgentStack", "fixer"), "runnerPool");
	out = review(snap, NULL, NULL, NULL);
	assert_string_equal(decision(out), "allowed");
	ri = json_object_get(out, "runnerIdentity");
	assert_true(json_is_null(json_object_get(ri, "runnerPool")));
	assert_true(json_is_true(json_object_get(ri, "ready")));
	json_decref(out);
	json_decref(snap);
}

static void reverse_arrays(json_t *snap)
{
	const char *k;
	json_t *arr;

	json_object_foreach(snap, k, arr) {
		size_t n = json_array_size(arr);
		json_t *rev = json_array();

		for (size_t i = n; i > 0; i--)
			json_array_append(rev, json_array_get(arr, i - 1));
		json_object_set_new(snap, k, rev);
	}
}

static void test_digest(void **state)
{
	json_t *snap = base(), *a, *b, *c;
	char again[72];

	(void)state;
	/* Enough in play that order could matter: two bindings, two fitting
	 * grants, approvals, warnings and errors. */
	add(snap, "AgentRoleBinding", "{\"metadata\":{\"name\":\"a-reader\"},\"spec\":{\"subject\":\"fixer\","
				      "\"roleRef\":\"viewer\",\"scope\":\"org\"}}");
	add(snap, "AgentSecretGrant", "{\"metadata\":{\"name\":\"z-model\"},\"spec\":{\"subject\":\"fixer\","
				      "\"secretRef\":\"anthropic\",\"purpose\":\"model-provider\"}}");
	set(snap, "AgentSecretGrant", "fixer-github", "requiredApproval", "\"always\"");
	set(snap, "AgentStack", "fixer", "secretPolicy", "{\"allowedSecretRefs\":[\"b-key\", \"a-key\"]}");
	set(snap, "AgentStack", "fixer", "mcpServerRefs", "[\"github\", \"gone\"]");

	a = review(snap, "refs/heads/main", "manual", NULL);
	b = review(snap, "refs/heads/main", "manual", NULL);
	assert_string_equal(json_string_value(json_object_get(a, "digest")),
			    json_string_value(json_object_get(b, "digest")));
	assert_true(json_equal(a, b));
	assert_int_equal(review_digest(a, again, sizeof again), 0);
	assert_string_equal(again, json_string_value(json_object_get(a, "digest")));

	c = review(snap, "refs/heads/dev", "manual", NULL);
	assert_string_not_equal(json_string_value(json_object_get(a, "digest")),
				json_string_value(json_object_get(c, "digest")));
	json_decref(c);
	set(snap, "AgentSecretGrant", "fixer-github", "requiredApproval", "\"never\"");
	c = review(snap, "refs/heads/main", "manual", NULL);
	assert_string_not_equal(json_string_value(json_object_get(a, "digest")),
				json_string_value(json_object_get(c, "digest")));
	json_decref(c);
	set(snap, "AgentSecretGrant", "fixer-github", "requiredApproval", "\"always\"");

	reverse_arrays(snap);
	set(snap, "AgentStack", "fixer", "secretPolicy", "{\"allowedSecretRefs\":[\"a-key\", \"b-key\"]}");
	set(snap, "AgentStack", "fixer", "mcpServerRefs", "[\"gone\", \"github\"]");
	c = review(snap, "refs/heads/main", "manual", NULL);
	assert_true(json_equal(a, c));
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(snap);
}

static void test_bad_arguments(void **state)
{
	json_t *snap = base(), *out = NULL;
	struct review_req q = { "krate", NULL, "ana", "fixer", NULL, NULL, NULL };
	struct review_req bad_utf8 = { "kr\xff", "refs/heads/main", "ana", "fixer", NULL, NULL, NULL };
	struct kerr e = KERR_INIT;
	char small[10];

	(void)state;
	assert_int_equal(review_run(&q, snap, &out, &e), KE_INVALID);
	assert_null(out);
	kerr_clear(&e);
	assert_int_equal(review_run(&bad_utf8, snap, &out, &e), KE_INVALID);
	kerr_clear(&e);
	q.ref = "refs/heads/main";
	assert_int_equal(review_run(&q, NULL, &out, &e), KE_INVALID);
	kerr_clear(&e);
	assert_int_equal(review_digest(snap, small, sizeof small), KE_INVALID);
	json_decref(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_stack_missing),
		cmocka_unit_test(test_service_account_missing),
		cmocka_unit_test(test_service_account_restrictions),
		cmocka_unit_test(test_role_binding_missing_is_a_warning),
		cmocka_unit_test(test_secret_grant_missing),
		cmocka_unit_test(test_secret_policy_refs),
		cmocka_unit_test(test_grant_restricted_by_repository),
		cmocka_unit_test(test_grant_restricted_by_ref),
		cmocka_unit_test(test_grant_restricted_by_trigger_source),
		cmocka_unit_test(test_untrusted_ref),
		cmocka_unit_test(test_required_approval),
		cmocka_unit_test(test_config_grant_missing),
		cmocka_unit_test(test_mcp_server_missing),
		cmocka_unit_test(test_runner_pool),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
