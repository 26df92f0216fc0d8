/* Stack readiness: a complete stack is Ready with every condition True; each
 * missing or invalid piece turns its own condition False with its reason,
 * and the phase says whether the stack is blocked or wrong in itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/readiness.h"
#include "agents/snapshot.h"

static const char snapshot_json[] =
	"{\"AgentStack\":[],"
	" \"AgentServiceAccount\":[{\"metadata\":{\"name\":\"agent-fixer\"},"
	"  \"spec\":{\"namespace\":\"krate-org-acme\",\"serviceAccountName\":\"agent-fixer\"}}],"
	" \"AgentRoleBinding\":[{\"metadata\":{\"name\":\"fixer-dev\"},"
	"  \"spec\":{\"subject\":\"agent-fixer\",\"roleRef\":\"developer\",\"scope\":\"org\"}}],"
	" \"AgentSecretGrant\":["
	"  {\"metadata\":{\"name\":\"fixer-model\"},\"spec\":{\"subject\":\"agent-fixer\",\"secretRef\":\"anthropic\","
	"   \"purpose\":\"model-provider\",\"allowedRepositories\":[\"krate\"]}},"
	"  {\"metadata\":{\"name\":\"fixer-github\"},"
	"   \"spec\":{\"subject\":\"fixer\",\"secretRef\":\"github-token\",\"purpose\":\"mcp-server:github\"}}],"
	" \"AgentConfigGrant\":[{\"metadata\":{\"name\":\"fixer-github-cfg\"},"
	"  \"spec\":{\"subject\":\"agent-fixer\",\"configMapRef\":\"github-cfg\",\"purpose\":\"mcp-server:github\"}}],"
	" \"AgentToolProfile\":[{\"metadata\":{\"name\":\"safe\"},"
	"  \"spec\":{\"filesystemPolicy\":\"workspace\",\"approvalPolicyByTool\":{}}}],"
	" \"AgentMcpServer\":[{\"metadata\":{\"name\":\"github\"},"
	"  \"spec\":{\"transport\":\"stdio\",\"scope\":\"org\",\"secretRefs\":[\"github-token\"],"
	"    \"configRefs\":[\"github-cfg\"]}}],"
	" \"AgentSkill\":[{\"metadata\":{\"name\":\"triage\"},\"spec\":{\"format\":\"markdown\",\"sourceRef\":\"x\"}}],"
	" \"AgentSubagent\":[{\"metadata\":{\"name\":\"tester\"},"
	"  \"spec\":{\"rolePrompt\":\"Run tests.\",\"taskKinds\":[\"ci-repair\"]}}],"
	" \"AgentContextLabel\":[{\"metadata\":{\"name\":\"style\"},"
	"  \"spec\":{\"promptFragment\":\"Be brief.\",\"allowedSources\":[\"manual\"]}}],"
	" \"AgentAdapter\":[{\"metadata\":{\"name\":\"custom\"},"
	"  \"spec\":{\"adapterType\":\"subprocess\",\"transport\":\"stdio\",\"command\":[\"/bin/custom\"]}}],"
	" \"AgentGatewayConfig\":[],"
	" \"RunnerPool\":[{\"metadata\":{\"name\":\"linux\"},\"spec\":{\"warmReplicas\":1,\"maxReplicas\":2}}]}";

static const char stack_json[] =
	"{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"fixer\",\"namespace\":\"krate-org-acme\","
	"  \"labels\":{\"krate.a5c.ai/repository\":\"krate\"}},"
	" \"spec\":{\"baseAgent\":\"claude\",\"adapter\":\"process\",\"command\":[\"/bin/agent\",\"--json\"],"
	"  \"runtimeIdentity\":\"agent-fixer\",\"toolProfileRef\":\"safe\",\"mcpServerRefs\":[\"github\"],"
	"  \"skillRefs\":[\"triage\"],\"subagentRefs\":[\"tester\"],\"contextLabelRefs\":[\"style\"],"
	"  \"runnerPool\":\"linux\"}}";

static const char *const order[] = {
	"CapabilitiesResolved", "ToolsAdmitted", "McpHealthy", "SkillsValidated", "SubagentsValid",
	"ContextLabelsValid", "RuntimeIdentityReady", "RolesAdmitted", "SecretsGranted", "ConfigsGranted",
	"AdapterReady", "Ready",
};

struct fixture {
	json_t *snap, *stack;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	f->snap = json_loads(snapshot_json, 0, NULL);
	f->stack = json_loads(stack_json, 0, NULL);
	*state = f;
	return f->snap && f->stack ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	json_decref(f->snap);
	json_decref(f->stack);
	free(f);
	return 0;
}

static json_t *eval(struct fixture *f)
{
	struct kerr e = KERR_INIT;
	json_t *out = NULL;

	if (readiness_eval(f->stack, f->snap, &out, &e))
		fail_msg("readiness_eval: %s", e.message);
	assert_int_equal(json_array_size(json_object_get(out, "conditions")), sizeof order / sizeof order[0]);
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(out, "conditions"), i),
								      "type")), order[i]);
	return out;
}

static json_t *cond(json_t *out, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(out, "conditions"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "type")), type))
			return c;
	fail_msg("no condition %s", type);
	return NULL;
}

/* Checks one condition's status and reason, and the phase. */
static void expect(json_t *out, const char *type, const char *status, const char *reason, const char *phase)
{
	json_t *c = cond(out, type);

	if (strcmp(json_string_value(json_object_get(c, "status")), status) ||
	    strcmp(json_string_value(json_object_get(c, "reason")), reason))
		fail_msg("%s is %s/%s (%s), not %s/%s", type, json_string_value(json_object_get(c, "status")),
			 json_string_value(json_object_get(c, "reason")), json_string_value(json_object_get(c, "message")),
			 status, reason);
	assert_string_equal(json_string_value(json_object_get(out, "phase")), phase);
}

static json_t *spec(struct fixture *f)
{
	return json_object_get(f->stack, "spec");
}

static void drop(struct fixture *f, const char *kind)
{
	json_array_clear(json_object_get(f->snap, kind));
}

static void test_ready(void **state)
{
	struct fixture *f = *state;
	json_t *out = eval(f), *c, *perm;
	size_t i;

	assert_string_equal(json_string_value(json_object_get(out, "phase")), "Ready");
	json_array_foreach(json_object_get(out, "conditions"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "status")), "True"))
			fail_msg("%s is False: %s", json_string_value(json_object_get(c, "type")),
				 json_string_value(json_object_get(c, "message")));
	expect(out, "Ready", "True", "StackReady", "Ready");
	expect(out, "ToolsAdmitted", "True", "ToolPolicyResolved", "Ready");
	expect(out, "RolesAdmitted", "True", "RoleBindingsResolved", "Ready");
	perm = json_object_get(out, "permission");
	assert_string_equal(json_string_value(json_object_get(perm, "decision")), "allowed");
	assert_memory_equal(json_string_value(json_object_get(perm, "digest")), "sha256:", 7);
	/* Every reference is listed as a resolved capability. */
	assert_int_equal(json_array_size(json_object_get(out, "capabilities")), 5);
	json_array_foreach(json_object_get(out, "capabilities"), i, c)
		assert_string_equal(json_string_value(json_object_get(c, "status")), "resolved");
	json_decref(out);

	/* The stack need not be in the snapshot, and a stored older copy is not used. */
	json_array_append_new(json_object_get(f->snap, "AgentStack"),
			      json_pack("{s:{s:s}, s:{s:s}}", "metadata", "name", "fixer", "spec", "adapter", "nope"));
	out = eval(f);
	assert_string_equal(json_string_value(json_object_get(out, "phase")), "Ready");
	json_decref(out);
}

static void test_missing_references(void **state)
{
	struct fixture *f = *state;
	json_t *out, *c;
	size_t i, missing = 0;

	drop(f, "AgentToolProfile");
	drop(f, "AgentSkill");
	drop(f, "AgentSubagent");
	drop(f, "AgentContextLabel");
	out = eval(f);
	expect(out, "CapabilitiesResolved", "False", "MissingRefs", "Blocked");
	assert_non_null(strstr(json_string_value(json_object_get(cond(out, "CapabilitiesResolved"), "message")),
			       "AgentSkill/triage"));
	expect(out, "ToolsAdmitted", "False", "ToolPolicyMissing", "Blocked");
	expect(out, "SkillsValidated", "False", "MissingSkills", "Blocked");
	expect(out, "SubagentsValid", "False", "MissingSubagents", "Blocked");
	expect(out, "ContextLabelsValid", "False", "MissingContextLabels", "Blocked");
	expect(out, "McpHealthy", "True", "AllMcpServersExist", "Blocked");
	expect(out, "Ready", "False", "StackNotReady", "Blocked");
	assert_non_null(strstr(json_string_value(json_object_get(cond(out, "Ready"), "message")), "ToolsAdmitted"));
	json_array_foreach(json_object_get(out, "capabilities"), i, c)
		missing += !strcmp(json_string_value(json_object_get(c, "status")), "missing");
	assert_int_equal(missing, 4);
	json_decref(out);

	json_object_del(spec(f), "toolProfileRef");
	out = eval(f);
	expect(out, "ToolsAdmitted", "True", "NoToolPolicyRef", "Blocked");
	json_decref(out);
}

static void test_missing_mcp_server(void **state)
{
	struct fixture *f = *state;
	json_t *out;

	drop(f, "AgentMcpServer");
	out = eval(f);
	expect(out, "McpHealthy", "False", "MissingMcpServers", "Blocked");
	expect(out, "CapabilitiesResolved", "False", "MissingRefs", "Blocked");
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "permission"), "decision")), "denied");
	json_decref(out);
}

static void test_invalid_skill_and_subagent(void **state)
{
	struct fixture *f = *state;
	json_t *out;

	json_object_del(json_object_get(json_array_get(json_object_get(f->snap, "AgentSkill"), 0), "spec"), "format");
	json_object_set_new(json_object_get(json_array_get(json_object_get(f->snap, "AgentSubagent"), 0), "spec"),
			    "taskKinds", json_array());
	out = eval(f);
	expect(out, "SkillsValidated", "False", "InvalidSkillFormat", "Blocked");
	expect(out, "SubagentsValid", "False", "InvalidSubagentTaskKinds", "Blocked");
	expect(out, "CapabilitiesResolved", "True", "AllRefsResolved", "Blocked");
	json_decref(out);
}

static void test_identities(void **state)
{
	struct fixture *f = *state;
	json_t *out;

	drop(f, "AgentServiceAccount");
	out = eval(f);
	expect(out, "RuntimeIdentityReady", "False", "MissingServiceAccount", "Blocked");
	json_decref(out);
	teardown(state);
	assert_int_equal(setup(state), 0);
	f = *state;
	drop(f, "RunnerPool");
	out = eval(f);
	expect(out, "RuntimeIdentityReady", "False", "MissingRunnerPool", "Blocked");
	json_decref(out);
}

static void test_roles_are_not_blocking(void **state)
{
	struct fixture *f = *state;
	json_t *out;

	drop(f, "AgentRoleBinding");
	out = eval(f);
	expect(out, "RolesAdmitted", "True", "NoRoleBindings", "Ready");
	json_decref(out);
}

static void test_grants(void **state)
{
	struct fixture *f = *state;
	json_t *out;

	json_array_remove(json_object_get(f->snap, "AgentSecretGrant"), 1);
	drop(f, "AgentConfigGrant");
	out = eval(f);
	expect(out, "SecretsGranted", "False", "MissingSecretGrants", "Blocked");
	assert_non_null(strstr(json_string_value(json_object_get(cond(out, "SecretsGranted"), "message")),
			       "mcp-server:github"));
	expect(out, "ConfigsGranted", "False", "MissingConfigGrants", "Blocked");
	json_decref(out);
}

static void test_repository_label(void **state)
{
	struct fixture *f = *state;
	json_t *out;

	/* The model grant is for repository krate, which the stack's label names;
	 * without the label the review is for "unknown". */
	json_object_del(json_object_get(json_object_get(f->stack, "metadata"), "labels"), "krate.a5c.ai/repository");
	out = eval(f);
	expect(out, "SecretsGranted", "False", "MissingSecretGrants", "Blocked");
	json_decref(out);
}

static void test_approval_still_ready(void **state)
{
	struct fixture *f = *state;
	json_t *out;

	json_object_set_new(json_object_get(json_array_get(json_object_get(f->snap, "AgentSecretGrant"), 0), "spec"),
			    "requiredApproval", json_string("always"));
	out = eval(f);
	expect(out, "SecretsGranted", "True", "SecretGrantsRequireApproval", "Ready");
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "permission"), "decision")),
			    "requires-approval");
	json_decref(out);
}

static void test_adapters(void **state)
{
	struct fixture *f = *state;
	json_t *out;

	/* The stack itself is wrong: phase Error. */
	json_object_del(spec(f), "command");
	out = eval(f);
	expect(out, "AdapterReady", "False", "MissingCommand", "Error");
	json_decref(out);
	json_object_set_new(spec(f), "adapter", json_string("nonesuch"));
	out = eval(f);
	expect(out, "AdapterReady", "False", "UnknownAdapter", "Error");
	json_decref(out);

	/* An AgentAdapter of type subprocess brings its own command. */
	json_object_set_new(spec(f), "adapter", json_string("custom"));
	out = eval(f);
	expect(out, "AdapterReady", "True", "CommandConfigured", "Ready");
	json_decref(out);

	/* agent-mux waits for a gateway: blocked, not wrong. */
	json_object_set_new(spec(f), "adapter", json_string("agent-mux"));
	out = eval(f);
	expect(out, "AdapterReady", "False", "GatewayNotConfigured", "Blocked");
	json_decref(out);
	json_array_append_new(json_object_get(f->snap, "AgentGatewayConfig"),
			      json_pack("{s:{s:s}, s:{s:s}}", "metadata", "name", "gw", "spec", "gatewayUrl",
					"http://127.0.0.1:9"));
	out = eval(f);
	expect(out, "AdapterReady", "True", "GatewayConfigured", "Ready");
	json_decref(out);
}

static void test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct kerr e = KERR_INIT;
	json_t *out = NULL;

	json_object_del(json_object_get(f->stack, "metadata"), "name");
	assert_int_equal(readiness_eval(f->stack, f->snap, &out, &e), KE_INVALID);
	assert_null(out);
	kerr_clear(&e);
	assert_int_equal(readiness_eval(NULL, f->snap, &out, &e), KE_INVALID);
	kerr_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_references, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_mcp_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_skill_and_subagent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roles_are_not_blocking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repository_label, setup, teardown),
		cmocka_unit_test_setup_teardown(test_approval_still_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adapters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
