#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "model/admission.h"

/* Runs admission on a JSON literal; the parsed object is left in *out. */
static int run(const char *text, const char *org, json_t **out, struct kerr *e)
{
	struct admission_ctx ctx = { org };
	const struct kind_def *kd = (const struct kind_def *)1;
	json_error_t jerr;
	json_t *obj = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	int rc;

	if (!obj)
		fail_msg("bad test JSON: %s", jerr.text);
	rc = admission_check(obj, &ctx, &kd, e);
	if (rc)
		assert_null(kd);
	else
		assert_non_null(kd);
	if (out)
		*out = obj;
	else
		json_decref(obj);
	return rc;
}

static const char *sget(json_t *o, const char *path)
{
	char buf[256];
	char *tok, *save = NULL;
	json_t *cur = o;

	snprintf(buf, sizeof(buf), "%s", path);
	/* Paths use '>' so label keys, which hold '.' and '/', stay whole. */
	for (tok = strtok_r(buf, ">", &save); tok && cur; tok = strtok_r(NULL, ">", &save))
		cur = json_object_get(cur, tok);
	return json_string_value(cur);
}

static json_t *reason(const struct kerr *e, const char *code, const char *field)
{
	size_t i;
	json_t *r;

	json_array_foreach(e->reasons, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "code")), code) &&
		    !strcmp(json_string_value(json_object_get(r, "field")), field))
			return r;
	return NULL;
}

static void expect_reason(const char *text, const char *org, int kcode, const char *envelope,
			  const char *code, const char *field)
{
	struct kerr e = KERR_INIT;
	int rc = run(text, org, NULL, &e);

	assert_int_equal(rc, kcode);
	assert_int_equal(e.kcode, kcode);
	assert_string_equal(e.code, envelope);
	if (code && !reason(&e, code, field))
		fail_msg("no reason %s/%s for %s: %s", code, field, text,
			 json_dumps(e.reasons, JSON_COMPACT));
	kerr_clear(&e);
}

#define REPO_SPEC "\"spec\":{\"visibility\":\"private\"}"

static void test_valid_repository_defaults(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *o;

	(void)state;
	assert_int_equal(run("{\"kind\":\"repo\",\"metadata\":{\"name\":\"web\"}," REPO_SPEC "}",
			     "demo", &o, &e), 0);
	assert_int_equal(e.kcode, 0);
	assert_null(e.reasons);
	assert_string_equal(sget(o, "kind"), "Repository");
	assert_string_equal(sget(o, "apiVersion"), KRATE_API_VERSION);
	assert_string_equal(sget(o, "metadata>namespace"), "krate-org-demo");
	assert_string_equal(sget(o, "metadata>labels>" KRATE_LABEL_ORG), "demo");
	assert_string_equal(sget(o, "metadata>labels>" KRATE_LABEL_NS), "krate-org-demo");
	assert_string_equal(sget(o, "spec>organizationRef"), "demo");
	assert_string_equal(sget(o, "spec>visibility"), "private");
	json_decref(o);
}

static void test_org_from_each_source(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *o;

	(void)state;
	assert_int_equal(run("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\"},"
			     "\"spec\":{\"visibility\":\"public\",\"organizationRef\":\"acme\"}}",
			     NULL, &o, &e), 0);
	assert_string_equal(sget(o, "metadata>namespace"), "krate-org-acme");
	json_decref(o);
	assert_int_equal(run("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\",\"labels\":"
			     "{\"krate.a5c.ai/org\":\"acme\"}}," REPO_SPEC "}", NULL, &o, &e), 0);
	assert_string_equal(sget(o, "spec>organizationRef"), "acme");
	json_decref(o);
	assert_int_equal(run("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\","
			     "\"namespace\":\"krate-org-acme\"}," REPO_SPEC "}", NULL, &o, &e), 0);
	assert_string_equal(sget(o, "spec>organizationRef"), "acme");
	assert_string_equal(sget(o, "metadata>labels>" KRATE_LABEL_ORG), "acme");
	json_decref(o);
	assert_int_equal(e.kcode, 0);
}

static void test_org_required(void **state)
{
	(void)state;
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\"}," REPO_SPEC "}",
		      NULL, KE_UNPROCESSABLE, "ORG_REQUIRED", "Required", "spec.organizationRef");
	/* A namespace that is not an org namespace names no org. */
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\","
		      "\"namespace\":\"default\"}," REPO_SPEC "}",
		      NULL, KE_UNPROCESSABLE, "ORG_REQUIRED", "Required", "spec.organizationRef");
}

static void test_org_mismatch(void **state)
{
	struct kerr e = KERR_INIT;

	(void)state;
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\"},"
		      "\"spec\":{\"visibility\":\"private\",\"organizationRef\":\"other\"}}",
		      "demo", KE_UNPROCESSABLE, "ORG_NAMESPACE_MISMATCH", "Mismatch",
		      "spec.organizationRef");
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\","
		      "\"namespace\":\"krate-org-other\"}," REPO_SPEC "}",
		      "demo", KE_UNPROCESSABLE, "ORG_NAMESPACE_MISMATCH", "Mismatch",
		      "metadata.namespace");
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\","
		      "\"namespace\":\"default\"}," REPO_SPEC "}",
		      "demo", KE_UNPROCESSABLE, "ORG_NAMESPACE_MISMATCH", "Mismatch",
		      "metadata.namespace");
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\",\"labels\":"
		      "{\"krate.a5c.ai/org\":\"other\"}}," REPO_SPEC "}",
		      "demo", KE_UNPROCESSABLE, "ORG_NAMESPACE_MISMATCH", "Mismatch",
		      "metadata.labels.krate.a5c.ai/org");
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\",\"labels\":"
		      "{\"krate.a5c.ai/namespace\":\"krate-system\"}}," REPO_SPEC "}",
		      "demo", KE_UNPROCESSABLE, "ORG_NAMESPACE_MISMATCH", "Mismatch",
		      "metadata.labels.krate.a5c.ai/namespace");
	/* Without a route org, spec and namespace must still agree. */
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\","
		      "\"namespace\":\"krate-org-b\"},"
		      "\"spec\":{\"visibility\":\"private\",\"organizationRef\":\"a\"}}",
		      NULL, KE_UNPROCESSABLE, "ORG_NAMESPACE_MISMATCH", "Mismatch",
		      "metadata.namespace");

	/* The error names the resource, and says nothing the client did not send. */
	assert_int_equal(run("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\"},"
			     "\"spec\":{\"visibility\":\"private\",\"organizationRef\":\"b\"}}",
			     "a", NULL, &e), KE_UNPROCESSABLE);
	assert_non_null(e.resource);
	assert_non_null(strstr(e.resource, "Repository/"));
	assert_non_null(strstr(e.resource, "/web"));
	assert_int_equal(json_array_size(e.reasons), 1);
	kerr_clear(&e);
}

static void test_invalid_org_slug(void **state)
{
	(void)state;
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\"},"
		      "\"spec\":{\"visibility\":\"private\",\"organizationRef\":\"Acme Corp\"}}",
		      NULL, KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidValue",
		      "spec.organizationRef");
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\"}," REPO_SPEC "}",
		      "../x", KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidValue",
		      "spec.organizationRef");
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"web\"},"
		      "\"spec\":{\"visibility\":\"private\",\"organizationRef\":7}}",
		      "demo", KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidType",
		      "spec.organizationRef");
}

static void test_bad_request(void **state)
{
	(void)state;
	expect_reason("[1,2]", "demo", KE_INVALID, "BAD_REQUEST", NULL, NULL);
	expect_reason("\"Repository\"", "demo", KE_INVALID, "BAD_REQUEST", NULL, NULL);
	expect_reason("{\"apiVersion\":3,\"kind\":\"Repository\",\"metadata\":{\"name\":\"w\"},"
		      REPO_SPEC "}", "demo", KE_INVALID, "BAD_REQUEST", NULL, NULL);
	expect_reason("{\"apiVersion\":\"v1\",\"kind\":\"Repository\",\"metadata\":{\"name\":\"w\"},"
		      REPO_SPEC "}", "demo", KE_UNPROCESSABLE, "INVALID_RESOURCE",
		      "InvalidValue", "apiVersion");
}

static void test_unknown_kind(void **state)
{
	(void)state;
	expect_reason("{\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"}}", "demo",
		      KE_UNPROCESSABLE, "UNKNOWN_KIND", "UnknownKind", "kind");
	expect_reason("{\"metadata\":{\"name\":\"w\"}}", "demo",
		      KE_UNPROCESSABLE, "UNKNOWN_KIND", "Required", "kind");
	expect_reason("{\"kind\":[\"Repository\"],\"metadata\":{\"name\":\"w\"}}", "demo",
		      KE_UNPROCESSABLE, "UNKNOWN_KIND", "UnknownKind", "kind");
}

static void test_bad_names(void **state)
{
	static const char *const bad[] = {
		"\"..\"", "\"a/b\"", "\"Web\"", "\"\"", "\"-web\"", "\"web-\"", "\"a.b\"",
		"\"a\\u0000b\"", "123", "null", "{}",
		"\"0123456789012345678901234567890123456789012345678901234567890123\"", NULL,
	};
	char text[512];
	size_t i;
	struct kerr e = KERR_INIT;
	json_t *o;

	(void)state;
	for (i = 0; bad[i]; i++) {
		snprintf(text, sizeof(text),
			 "{\"kind\":\"Repository\",\"metadata\":{\"name\":%s}," REPO_SPEC "}", bad[i]);
		expect_reason(text, "demo", KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidName",
			      "metadata.name");
	}
	expect_reason("{\"kind\":\"Repository\"," REPO_SPEC "}", "demo", KE_UNPROCESSABLE,
		      "INVALID_RESOURCE", "InvalidName", "metadata.name");
	/* 63 characters is the longest legal name. */
	assert_int_equal(run("{\"kind\":\"Repository\",\"metadata\":{\"name\":"
			     "\"012345678901234567890123456789012345678901234567890123456789012\"},"
			     REPO_SPEC "}", "demo", &o, &e), 0);
	json_decref(o);
}

static void test_metadata_shapes(void **state)
{
	(void)state;
	expect_reason("{\"kind\":\"Repository\",\"metadata\":[]," REPO_SPEC "}", "demo",
		      KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidType", "metadata");
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"w\",\"labels\":[\"a\"]},"
		      REPO_SPEC "}", "demo", KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidType",
		      "metadata.labels");
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"w\",\"labels\":"
		      "{\"team\":5}}," REPO_SPEC "}", "demo", KE_UNPROCESSABLE, "INVALID_RESOURCE",
		      "InvalidType", "metadata.labels.team");
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"w\",\"annotations\":"
		      "{\"note\":true}}," REPO_SPEC "}", "demo", KE_UNPROCESSABLE,
		      "INVALID_RESOURCE", "InvalidType", "metadata.annotations.note");
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"w\",\"namespace\":1},"
		      REPO_SPEC "}", "demo", KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidType",
		      "metadata.namespace");
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"w\"},\"spec\":\"x\"}",
		      "demo", KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidType", "spec");
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"w\"}," REPO_SPEC
		      ",\"status\":[]}", "demo", KE_UNPROCESSABLE, "INVALID_RESOURCE",
		      "InvalidType", "status");
}

static void test_missing_spec_and_many_reasons(void **state)
{
	struct kerr e = KERR_INIT;

	(void)state;
	expect_reason("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"w\"}}", "demo",
		      KE_UNPROCESSABLE, "INVALID_RESOURCE", "Required", "spec.visibility");
	assert_int_equal(run("{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"s\"},"
			     "\"spec\":{\"adapter\":\"\",\"runtimeIdentity\":null}}",
			     "demo", NULL, &e), KE_UNPROCESSABLE);
	assert_int_equal(json_array_size(e.reasons), 3);
	assert_non_null(reason(&e, "Required", "spec.baseAgent"));
	assert_non_null(reason(&e, "Required", "spec.adapter"));
	assert_non_null(reason(&e, "Required", "spec.runtimeIdentity"));
	assert_non_null(e.resource);
	assert_string_equal(e.resource, "AgentStack/krate-org-demo/s");
	kerr_clear(&e);

	/* A bad name and a bad field are reported together. */
	assert_int_equal(run("{\"kind\":\"RunnerPool\",\"metadata\":{\"name\":\"A\"},"
			     "\"spec\":{\"warmReplicas\":1}}", "demo", NULL, &e), KE_UNPROCESSABLE);
	assert_int_equal(json_array_size(e.reasons), 2);
	assert_non_null(reason(&e, "InvalidName", "metadata.name"));
	assert_non_null(reason(&e, "Required", "spec.maxReplicas"));
	kerr_clear(&e);
}

static void test_types_and_enums(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *r, *o;

	(void)state;
	expect_reason("{\"kind\":\"RunnerPool\",\"metadata\":{\"name\":\"p\"},"
		      "\"spec\":{\"warmReplicas\":\"2\",\"maxReplicas\":4}}", "demo",
		      KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidType", "spec.warmReplicas");
	expect_reason("{\"kind\":\"RunnerPool\",\"metadata\":{\"name\":\"p\"},"
		      "\"spec\":{\"warmReplicas\":2,\"maxReplicas\":4.5}}", "demo",
		      KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidType", "spec.maxReplicas");
	expect_reason("{\"kind\":\"SSHKey\",\"metadata\":{\"name\":\"k\"},"
		      "\"spec\":{\"scope\":\"user\",\"key\":\"ssh-ed25519 AAAA\",\"readOnly\":\"yes\"}}",
		      "demo", KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidType", "spec.readOnly");
	expect_reason("{\"kind\":\"WebhookSubscription\",\"metadata\":{\"name\":\"h\"},"
		      "\"spec\":{\"url\":\"https://x\",\"events\":\"push\"}}", "demo",
		      KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidType", "spec.events");
	expect_reason("{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"s\"},\"spec\":"
		      "{\"baseAgent\":\"c\",\"adapter\":\"a\",\"runtimeIdentity\":5}}", "demo",
		      KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidType", "spec.runtimeIdentity");
	expect_reason("{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"s\"},\"spec\":"
		      "{\"baseAgent\":\"c\",\"adapter\":\"a\",\"runtimeIdentity\":\"sa\","
		      "\"approvalMode\":\"always\"}}", "demo",
		      KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidValue", "spec.approvalMode");
	expect_reason("{\"kind\":\"atr\",\"metadata\":{\"name\":\"t\"},\"spec\":{\"sources\":[],"
		      "\"agentStack\":\"s\",\"taskKind\":\"k\",\"lifecycleState\":\"live\"}}", "demo",
		      KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidValue", "spec.lifecycleState");
	expect_reason("{\"kind\":\"atr\",\"metadata\":{\"name\":\"t\"},\"spec\":{\"sources\":[],"
		      "\"agentStack\":\"s\",\"taskKind\":\"k\",\"contextBundleTemplate\":"
		      "{\"maxBytes\":\"big\"}}}", "demo", KE_UNPROCESSABLE, "INVALID_RESOURCE",
		      "InvalidType", "spec.contextBundleTemplate.maxBytes");

	assert_int_equal(run("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"w\"},"
			     "\"spec\":{\"visibility\":\"secret\",\"defaultBranch\":7}}",
			     "demo", NULL, &e), KE_UNPROCESSABLE);
	assert_int_equal(json_array_size(e.reasons), 2);
	r = reason(&e, "InvalidValue", "spec.visibility");
	assert_non_null(r);
	assert_non_null(strstr(json_string_value(json_object_get(r, "message")), "internal"));
	assert_non_null(reason(&e, "InvalidType", "spec.defaultBranch"));
	kerr_clear(&e);

	/* Accepted shapes: object identity, nested ints, optional enum absent. */
	assert_int_equal(run("{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"s\"},\"spec\":"
			     "{\"baseAgent\":\"c\",\"adapter\":\"a\",\"runtimeIdentity\":"
			     "{\"serviceAccountRef\":\"sa\"},\"approvalMode\":\"policy\"}}",
			     "demo", &o, &e), 0);
	json_decref(o);
	assert_int_equal(run("{\"kind\":\"AgentTriggerRule\",\"metadata\":{\"name\":\"t\"},"
			     "\"spec\":{\"sources\":[\"ci\"],\"agentStack\":\"s\",\"taskKind\":\"k\","
			     "\"contextBundleTemplate\":{\"maxBytes\":750000}}}", "demo", &o, &e), 0);
	json_decref(o);
	assert_int_equal(run("{\"kind\":\"RunnerPool\",\"metadata\":{\"name\":\"p\"},"
			     "\"spec\":{\"warmReplicas\":0,\"maxReplicas\":4}}", "demo", &o, &e), 0);
	json_decref(o);
}

static void test_organization_defaults(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *o;

	(void)state;
	assert_int_equal(run("{\"kind\":\"Organization\",\"metadata\":{\"name\":\"acme\"}}",
			     NULL, &o, &e), 0);
	assert_string_equal(sget(o, "spec>slug"), "acme");
	assert_string_equal(sget(o, "spec>displayName"), "acme");
	assert_string_equal(sget(o, "spec>namespaceName"), "krate-org-acme");
	assert_string_equal(sget(o, "metadata>namespace"), KRATE_PLATFORM_NS);
	assert_string_equal(sget(o, "metadata>labels>" KRATE_LABEL_ORG), "acme");
	assert_null(sget(o, "spec>organizationRef"));
	json_decref(o);

	assert_int_equal(run("{\"kind\":\"org\",\"spec\":{\"slug\":\"beta\",\"displayName\":\"Beta\"}}",
			     NULL, &o, &e), 0);
	assert_string_equal(sget(o, "metadata>name"), "beta");
	assert_string_equal(sget(o, "spec>displayName"), "Beta");
	json_decref(o);

	expect_reason("{\"kind\":\"Organization\",\"metadata\":{\"name\":\"acme\"},"
		      "\"spec\":{\"namespaceName\":\"krate-org-other\"}}", NULL, KE_UNPROCESSABLE,
		      "ORG_NAMESPACE_MISMATCH", "Mismatch", "spec.namespaceName");
	expect_reason("{\"kind\":\"Organization\",\"metadata\":{\"name\":\"acme\"},"
		      "\"spec\":{\"slug\":\"other\"}}", NULL, KE_UNPROCESSABLE,
		      "INVALID_RESOURCE", "InvalidValue", "spec.slug");
	expect_reason("{\"kind\":\"Organization\",\"metadata\":{\"name\":\"acme\","
		      "\"namespace\":\"krate-org-acme\"}}", NULL, KE_UNPROCESSABLE,
		      "ORG_NAMESPACE_MISMATCH", "Mismatch", "metadata.namespace");
	expect_reason("{\"kind\":\"Organization\",\"metadata\":{\"name\":\"acme\"}}", "beta",
		      KE_UNPROCESSABLE, "ORG_NAMESPACE_MISMATCH", "Mismatch", "metadata.name");
	expect_reason("{\"kind\":\"Organization\",\"metadata\":{\"name\":\"acme\"},"
		      "\"spec\":{\"displayName\":\"\"}}", NULL, KE_UNPROCESSABLE,
		      "INVALID_RESOURCE", "Required", "spec.displayName");
	expect_reason("{\"kind\":\"Organization\",\"metadata\":{\"name\":\"Acme\"}}", NULL,
		      KE_UNPROCESSABLE, "INVALID_RESOURCE", "InvalidName", "metadata.name");
}

static void test_binding_defaults(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *o;

	(void)state;
	assert_int_equal(run("{\"kind\":\"OrgNamespaceBinding\"}", "acme", &o, &e), 0);
	assert_string_equal(sget(o, "metadata>name"), "acme");
	assert_string_equal(sget(o, "metadata>namespace"), KRATE_PLATFORM_NS);
	assert_string_equal(sget(o, "metadata>labels>" KRATE_LABEL_ORG), "acme");
	assert_string_equal(sget(o, "spec>organizationRef"), "acme");
	assert_string_equal(sget(o, "spec>namespace"), "krate-org-acme");
	assert_true(json_is_true(json_object_get(json_object_get(o, "spec"), "createNamespace")));
	json_decref(o);

	expect_reason("{\"kind\":\"OrgNamespaceBinding\",\"metadata\":{\"name\":\"x\"},"
		      "\"spec\":{\"organizationRef\":\"acme\",\"namespace\":\"default\"}}", NULL,
		      KE_UNPROCESSABLE, "ORG_NAMESPACE_MISMATCH", "Mismatch", "spec.namespace");
	expect_reason("{\"kind\":\"OrgNamespaceBinding\",\"metadata\":{\"name\":\"x\"},"
		      "\"spec\":{\"organizationRef\":\"other\"}}", "acme",
		      KE_UNPROCESSABLE, "ORG_NAMESPACE_MISMATCH", "Mismatch", "spec.organizationRef");
}

static void test_policy_template_may_be_global(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *o;
	const char *pt = "{\"kind\":\"PolicyTemplate\",\"metadata\":{\"name\":\"no-latest\"},"
			 "\"spec\":{\"displayName\":\"No latest\",\"targetKinds\":[\"Pod\"],"
			 "\"kyverno\":{\"validate\":{}}}}";

	(void)state;
	assert_int_equal(run(pt, NULL, &o, &e), 0);
	assert_string_equal(sget(o, "metadata>namespace"), KRATE_PLATFORM_NS);
	assert_null(sget(o, "spec>organizationRef"));
	assert_null(sget(o, "metadata>labels>" KRATE_LABEL_ORG));
	json_decref(o);
	assert_int_equal(run(pt, "acme", &o, &e), 0);
	assert_string_equal(sget(o, "metadata>namespace"), "krate-org-acme");
	assert_string_equal(sget(o, "spec>organizationRef"), "acme");
	json_decref(o);
	/* Other org kinds never fall back to the platform namespace. */
	expect_reason("{\"kind\":\"PolicyProfile\",\"metadata\":{\"name\":\"p\",\"namespace\":"
		      "\"krate-system\"},\"spec\":{\"displayName\":\"P\",\"mode\":\"audit\"}}", NULL,
		      KE_UNPROCESSABLE, "ORG_REQUIRED", "Required", "spec.organizationRef");
}

static void test_null_members_default(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *o;

	(void)state;
	assert_int_equal(run("{\"apiVersion\":null,\"kind\":\"Issue\",\"metadata\":{\"name\":\"i\","
			     "\"namespace\":null,\"labels\":null},\"spec\":{\"title\":\"t\"},"
			     "\"status\":null}", "demo", &o, &e), 0);
	assert_string_equal(sget(o, "apiVersion"), KRATE_API_VERSION);
	assert_string_equal(sget(o, "metadata>namespace"), "krate-org-demo");
	assert_null(json_object_get(o, "status"));
	json_decref(o);
}

static void test_namespace_helpers(void **state)
{
	char out[80];

	(void)state;
	assert_int_equal(admission_org_namespace("demo", out, sizeof(out)), 0);
	assert_string_equal(out, "krate-org-demo");
	assert_string_equal(admission_namespace_org(out), "demo");
	assert_int_equal(admission_org_namespace("De mo", out, sizeof(out)), KE_UNPROCESSABLE);
	assert_int_equal(admission_org_namespace("", out, sizeof(out)), KE_UNPROCESSABLE);
	assert_int_equal(admission_org_namespace(NULL, out, sizeof(out)), KE_UNPROCESSABLE);
	assert_null(admission_namespace_org("krate-system"));
	assert_null(admission_namespace_org("krate-org-"));
	assert_null(admission_namespace_org("krate-org-../x"));
	assert_null(admission_namespace_org(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_repository_defaults),
		cmocka_unit_test(test_org_from_each_source),
		cmocka_unit_test(test_org_required),
		cmocka_unit_test(test_org_mismatch),
		cmocka_unit_test(test_invalid_org_slug),
		cmocka_unit_test(test_bad_request),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_metadata_shapes),
		cmocka_unit_test(test_missing_spec_and_many_reasons),
		cmocka_unit_test(test_types_and_enums),
		cmocka_unit_test(test_organization_defaults),
		cmocka_unit_test(test_binding_defaults),
		cmocka_unit_test(test_policy_template_may_be_global),
		cmocka_unit_test(test_null_members_default),
		cmocka_unit_test(test_namespace_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
