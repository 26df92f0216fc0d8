#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <cmocka.h>

#include "model/kinds.h"

/* The kinds §3.1 of the reference names (37 config + 22 record) and the
 * agents' Secret and ConfigMap. */
#define EXPECTED_KINDS 61
#define EXPECTED_CONFIG 39
#define EXPECTED_RECORD 22

static const struct field_def *field_of(const struct kind_def *k, const char *path)
{
	const struct field_def *f;

	for (f = k->fields; f && f->path; f++)
		if (!strcmp(f->path, path))
			return f;
	return NULL;
}

static size_t count_list(const char *const *l)
{
	size_t n = 0;

	while (l && l[n])
		n++;
	return n;
}

static int list_has(const char *const *l, const char *s)
{
	for (; l && *l; l++)
		if (!strcmp(*l, s))
			return 1;
	return 0;
}

static void test_counts(void **state)
{
	size_t n, i, config = 0, record = 0, platform = 0;
	const struct kind_def *all = kinds_all(&n);

	(void)state;
	assert_int_equal(n, EXPECTED_KINDS);
	for (i = 0; i < n; i++) {
		if (all[i].storage == STORAGE_CONFIG)
			config++;
		else
			record++;
		if (all[i].scope == SCOPE_PLATFORM) {
			platform++;
			assert_true(!strcmp(all[i].kind, "Organization") ||
				    !strcmp(all[i].kind, "OrgNamespaceBinding"));
		}
	}
	assert_int_equal(config, EXPECTED_CONFIG);
	assert_int_equal(record, EXPECTED_RECORD);
	assert_int_equal(platform, 2);
	assert_int_equal(n - platform, EXPECTED_KINDS - 2);
}

static void test_every_kind_well_formed(void **state)
{
	static const char *const categories[] = { "identity", "repositories", "policy", "ci",
						  "forge", "agent-config", "agent-execution", NULL };
	size_t n, i;
	const struct kind_def *all = kinds_all(&n);

	(void)state;
	for (i = 0; i < n; i++) {
		const struct kind_def *k = &all[i];
		const struct field_def *f;
		const char *p;

		assert_non_null(k->kind);
		assert_true(isupper((unsigned char)k->kind[0]));
		assert_non_null(k->plural);
		for (p = k->plural; *p; p++)
			assert_true(islower((unsigned char)*p));
		assert_int_equal(k->plural[strlen(k->plural) - 1], 's');
		assert_true(count_list(k->short_names) >= 1);
		assert_true(list_has(categories, k->category));
		assert_true(k->write_role == ROLE_DEVELOPER || k->write_role == ROLE_ADMIN);
		assert_non_null(k->fields);
		for (f = k->fields; f->path; f++) {
			assert_true(strlen(f->path) > 0);
			/* Enums constrain strings only; a non-empty list each time. */
			if (f->enums) {
				assert_int_equal(f->type, FT_STRING);
				assert_true(count_list(f->enums) >= 1);
			}
		}
	}
}

static void test_plurals_are_english(void **state)
{
	(void)state;
	assert_string_equal(kinds_lookup("Repository")->plural, "repositories");
	assert_string_equal(kinds_lookup("RefPolicy")->plural, "refpolicies");
	assert_string_equal(kinds_lookup("AgentWorkspacePolicy")->plural, "agentworkspacepolicies");
	assert_string_equal(kinds_lookup("WebhookDelivery")->plural, "webhookdeliveries");
	assert_string_equal(kinds_lookup("SSHKey")->plural, "sshkeys");
	assert_string_equal(kinds_lookup("Issue")->plural, "issues");
}

static void test_names_unique(void **state)
{
	size_t n, i, j, total = 0;
	const struct kind_def *all = kinds_all(&n);
	const char *names[EXPECTED_KINDS * 4];
	const char *const *sn;

	(void)state;
	for (i = 0; i < n; i++) {
		names[total++] = all[i].kind;
		names[total++] = all[i].plural;
		for (sn = all[i].short_names; sn && *sn; sn++) {
			assert_true(total < sizeof(names) / sizeof(names[0]));
			names[total++] = *sn;
		}
	}
	for (i = 0; i < total; i++)
		for (j = i + 1; j < total; j++)
			if (!strcasecmp(names[i], names[j]))
				fail_msg("name %s is used twice", names[i]);
}

static void test_lookup_every_form(void **state)
{
	size_t n, i;
	const struct kind_def *all = kinds_all(&n);
	const char *const *sn;

	(void)state;
	for (i = 0; i < n; i++) {
		char upper[128];
		size_t j;

		assert_ptr_equal(kinds_lookup(all[i].kind), &all[i]);
		assert_ptr_equal(kinds_lookup(all[i].plural), &all[i]);
		for (sn = all[i].short_names; sn && *sn; sn++)
			assert_ptr_equal(kinds_lookup(*sn), &all[i]);
		for (j = 0; all[i].plural[j] && j + 1 < sizeof(upper); j++)
			upper[j] = (char)toupper((unsigned char)all[i].plural[j]);
		upper[j] = '\0';
		assert_ptr_equal(kinds_lookup(upper), &all[i]);
	}
	assert_string_equal(kinds_lookup("rEpO")->kind, "Repository");
	assert_string_equal(kinds_lookup("PR")->kind, "PullRequest");
	assert_string_equal(kinds_lookup("agentstack")->kind, "AgentStack");
	assert_string_equal(kinds_lookup("As")->kind, "AgentStack");
	assert_string_equal(kinds_lookup("AMCP")->kind, "AgentMcpServer");
	assert_null(kinds_lookup("Widget"));
	assert_null(kinds_lookup(""));
	assert_null(kinds_lookup(NULL));
	assert_null(kinds_lookup("repository "));
}

static void test_required_fields(void **state)
{
	const struct kind_def *k;
	const struct field_def *f;

	(void)state;
	k = kinds_lookup("Repository");
	f = field_of(k, "visibility");
	assert_non_null(f);
	assert_true(f->required);
	assert_true(list_has(f->enums, "private") && list_has(f->enums, "internal") &&
		    list_has(f->enums, "public"));
	assert_int_equal(count_list(f->enums), 3);
	f = field_of(k, "defaultBranch");
	assert_non_null(f);
	assert_false(f->required);
	assert_int_equal(f->type, FT_STRING);
	assert_int_equal(k->storage, STORAGE_CONFIG);
	assert_int_equal(k->write_role, ROLE_DEVELOPER);

	k = kinds_lookup("PullRequest");
	assert_true(field_of(k, "repository")->required);
	assert_true(field_of(k, "title")->required);
	assert_false(field_of(k, "sourceRef")->required);
	assert_int_equal(k->storage, STORAGE_RECORD);

	k = kinds_lookup("RunnerPool");
	assert_int_equal(field_of(k, "warmReplicas")->type, FT_INT);
	assert_true(field_of(k, "maxReplicas")->required);
	assert_int_equal(k->write_role, ROLE_ADMIN);

	k = kinds_lookup("AgentStack");
	assert_int_equal(field_of(k, "runtimeIdentity")->type, FT_STRING_OR_OBJECT);
	assert_true(field_of(k, "runtimeIdentity")->required);
	assert_true(list_has(field_of(k, "approvalMode")->enums, "yolo"));
	assert_false(field_of(k, "approvalMode")->required);

	k = kinds_lookup("AgentTriggerRule");
	assert_false(field_of(k, "lifecycleState")->required);
	assert_int_equal(count_list(field_of(k, "lifecycleState")->enums), 5);

	k = kinds_lookup("WebhookSubscription");
	assert_int_equal(field_of(k, "events")->type, FT_ARRAY);
	assert_true(field_of(k, "url")->required);

	k = kinds_lookup("Invite");
	assert_true(list_has(field_of(k, "role")->enums, "member"));
	assert_false(list_has(field_of(k, "role")->enums, "owner"));

	k = kinds_lookup("Organization");
	assert_true(field_of(k, "displayName")->required);
	assert_true(field_of(k, "namespaceName")->required);
	assert_null(field_of(k, "organizationRef"));
}

static void test_organization_ref_is_implicit(void **state)
{
	size_t n, i;
	const struct kind_def *all = kinds_all(&n);

	(void)state;
	for (i = 0; i < n; i++) {
		const struct field_def *f = field_of(&all[i], "organizationRef");

		if (!strcmp(all[i].kind, "PolicyTemplate")) {
			assert_non_null(f);
			assert_false(f->required);
		} else if (!strcmp(all[i].kind, "OrgNamespaceBinding")) {
			assert_non_null(f);
			assert_true(f->required);
		} else {
			assert_null(f);
		}
	}
}

static void test_roles_and_storage_by_category(void **state)
{
	static const char *const server_written[] = { "AgentDispatchRun", "AgentDispatchAttempt", "AgentContextBundle",
						       "AgentArtifact", "AgentApproval", "AgentSessionTranscript", NULL };
	size_t n, i;
	const struct kind_def *all = kinds_all(&n);

	(void)state;
	for (i = 0; i < n; i++) {
		const struct kind_def *k = &all[i];

		if (!strcmp(k->category, "agent-config")) {
			assert_int_equal(k->write_role, ROLE_ADMIN);
			assert_int_equal(k->storage, STORAGE_CONFIG);
			assert_true(list_has(k->phases, "Ready"));
		}
		if (!strcmp(k->category, "agent-execution")) {
			/* what the dispatch API and the runtime write is admin-only elsewhere */
			assert_int_equal(k->write_role, list_has(server_written, k->kind) ? ROLE_ADMIN : ROLE_DEVELOPER);
			assert_int_equal(k->storage, STORAGE_RECORD);
		}
		if (!strcmp(k->category, "identity") || !strcmp(k->category, "policy"))
			assert_int_equal(k->write_role, ROLE_ADMIN);
		if (!strcmp(k->category, "forge")) {
			/* Pushes are recorded by the server only. */
			assert_int_equal(k->write_role, strcmp(k->kind, "GitPush") ? ROLE_DEVELOPER : ROLE_ADMIN);
			assert_int_equal(k->storage, STORAGE_RECORD);
		}
	}
	assert_int_equal(kinds_lookup("BranchProtection")->write_role, ROLE_ADMIN);
	assert_int_equal(kinds_lookup("WebhookDelivery")->write_role, ROLE_DEVELOPER);
	assert_int_equal(kinds_lookup("WebhookSubscription")->write_role, ROLE_ADMIN);
}

static void test_role_names(void **state)
{
	(void)state;
	assert_string_equal(kinds_role_name(ROLE_VIEWER), "viewer");
	assert_string_equal(kinds_role_name(ROLE_ADMIN), "admin");
	assert_int_equal(kinds_role_parse("developer"), ROLE_DEVELOPER);
	assert_int_equal(kinds_role_parse(kinds_role_name(ROLE_ADMIN)), ROLE_ADMIN);
	assert_int_equal(kinds_role_parse("Viewer"), ROLE_VIEWER);
	assert_int_equal(kinds_role_parse("root"), ROLE_NONE);
	assert_int_equal(kinds_role_parse(NULL), ROLE_NONE);
	assert_string_equal(kinds_scope_name(SCOPE_PLATFORM), "platform");
	assert_string_equal(kinds_storage_name(STORAGE_RECORD), "record");
	assert_string_equal(kinds_type_name(FT_INT), "integer");
}

static json_t *json_field(json_t *fields, const char *path)
{
	size_t i;
	json_t *f;

	json_array_foreach(fields, i, f)
		if (!strcmp(json_string_value(json_object_get(f, "path")), path))
			return f;
	return NULL;
}

static void test_kind_json_shape(void **state)
{
	json_t *j = kinds_to_json(kinds_lookup("repo"));
	json_t *fields, *f;

	(void)state;
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "Repository");
	assert_string_equal(json_string_value(json_object_get(j, "plural")), "repositories");
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "shortNames"), 0)),
			    "repo");
	assert_string_equal(json_string_value(json_object_get(j, "scope")), "org");
	assert_string_equal(json_string_value(json_object_get(j, "storage")), "config");
	assert_string_equal(json_string_value(json_object_get(j, "category")), "repositories");
	assert_string_equal(json_string_value(json_object_get(j, "writeRole")), "developer");
	assert_string_equal(json_string_value(json_object_get(j, "apiVersion")), KRATE_API_VERSION);
	assert_true(json_is_array(json_object_get(j, "phases")));
	fields = json_object_get(j, "fields");
	f = json_field(fields, "spec.visibility");
	assert_non_null(f);
	assert_true(json_is_true(json_object_get(f, "required")));
	assert_string_equal(json_string_value(json_object_get(f, "type")), "string");
	assert_int_equal(json_array_size(json_object_get(f, "enum")), 3);
	f = json_field(fields, "spec.organizationRef");
	assert_non_null(f);
	assert_true(json_is_true(json_object_get(f, "required")));
	f = json_field(fields, "spec.defaultBranch");
	assert_true(json_is_false(json_object_get(f, "required")));
	assert_null(json_object_get(f, "enum"));
	json_decref(j);

	j = kinds_to_json(kinds_lookup("PolicyTemplate"));
	f = json_field(json_object_get(j, "fields"), "spec.organizationRef");
	assert_true(json_is_false(json_object_get(f, "required")));
	json_decref(j);

	j = kinds_to_json(kinds_lookup("Organization"));
	assert_string_equal(json_string_value(json_object_get(j, "scope")), "platform");
	assert_null(json_field(json_object_get(j, "fields"), "spec.organizationRef"));
	json_decref(j);
	assert_null(kinds_to_json(NULL));
}

static void test_table_json(void **state)
{
	json_t *t = kinds_table_json();
	json_t *kinds, *k;
	size_t n, i;
	const struct kind_def *all = kinds_all(&n);

	(void)state;
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(t, "apiVersion")), KRATE_API_VERSION);
	kinds = json_object_get(t, "kinds");
	assert_int_equal(json_array_size(kinds), n);
	json_array_foreach(kinds, i, k) {
		assert_string_equal(json_string_value(json_object_get(k, "kind")), all[i].kind);
		assert_true(json_is_array(json_object_get(k, "fields")));
		assert_true(json_is_array(json_object_get(k, "shortNames")));
	}
	json_decref(t);
}

/* Secret and ConfigMap values are written as data and never shown as given. */
static void test_sealed_value_kinds(void **state)
{
	const char *const names[] = { "Secret", "sec", "secrets", "ConfigMap", "cm", "configmaps" };
	json_t *j, *f;
	size_t i;
	int seen = 0;

	(void)state;
	for (i = 0; i < 6; i++) {
		const struct kind_def *k = kinds_lookup(names[i]);

		assert_non_null(k);
		assert_int_equal(k->scope, SCOPE_ORG);
		assert_int_equal(k->storage, STORAGE_CONFIG);
		assert_int_equal(k->write_role, ROLE_ADMIN);
		assert_string_equal(k->category, "identity");
		assert_true(field_of(k, "data")->write_only);
		assert_int_equal(field_of(k, "data")->type, FT_OBJECT);
		assert_false(field_of(k, "keys")->write_only);
	}
	j = kinds_to_json(kinds_lookup("Secret"));
	json_array_foreach(json_object_get(j, "fields"), i, f) {
		if (!strcmp(json_string_value(json_object_get(f, "path")), "spec.data")) {
			assert_true(json_is_true(json_object_get(f, "writeOnly")));
			seen = 1;
		} else {
			assert_null(json_object_get(f, "writeOnly"));
		}
	}
	assert_true(seen);
	json_decref(j);
	assert_int_equal(field_of(kinds_lookup("AgentStack"), "command")->type, FT_ARRAY);
	assert_int_equal(field_of(kinds_lookup("AgentStack"), "timeoutSeconds")->type, FT_INT);
	assert_int_equal(field_of(kinds_lookup("AgentStack"), "maxConcurrentRuns")->type, FT_INT);
	assert_int_equal(field_of(kinds_lookup("AgentSecretGrant"), "env")->type, FT_STRING);
	assert_int_equal(field_of(kinds_lookup("AgentAdapter"), "command")->type, FT_ARRAY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_every_kind_well_formed),
		cmocka_unit_test(test_plurals_are_english),
		cmocka_unit_test(test_names_unique),
		cmocka_unit_test(test_lookup_every_form),
		cmocka_unit_test(test_required_fields),
		cmocka_unit_test(test_organization_ref_is_implicit),
		cmocka_unit_test(test_roles_and_storage_by_category),
		cmocka_unit_test(test_role_names),
		cmocka_unit_test(test_kind_json_shape),
		cmocka_unit_test(test_table_json),
		cmocka_unit_test(test_sealed_value_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
