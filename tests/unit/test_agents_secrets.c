/* Secret and ConfigMap values: data is sealed into spec.sealed with sorted
 * spec.keys and leaves the object; a write without data keeps the stored
 * values; bad keys and values are refused without echoing a value; reads
 * lose the sealed values; the runtime's openers give the values back. */
#include "store_fixture.h"

#include <jansson.h>

#include "agents/secrets.h"
#include "core/seal.h"

#define VALUE "hunter2-very-secret-Xq9"

struct fx {
	struct store_fx *s;
	struct seal *seal;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct kerr e = KERR_INIT;
	void *st = NULL;

	if (!f || store_fx_setup(&st, "secrets", NULL))
		return -1;
	f->s = st;
	if (seal_load(f->s->dir, &f->seal, &e)) {
		kerr_clear(&e);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[160];
	void *st = f->s;

	seal_free(f->seal);
	snprintf(path, sizeof(path), "%s/%s", f->s->dir, SEAL_KEY_FILE);
	unlink(path);
	store_fx_teardown(&st);
	free(f);
	return 0;
}

static json_t *secret_doc(const char *kind, const char *data_json)
{
	json_t *doc = json_pack("{s:s, s:{s:s, s:s}, s:{s:s}}", "kind", kind, "metadata", "name", "gh", "namespace",
				"krate-org-acme", "spec", "description", "GitHub");

	if (data_json)
		json_object_set_new(json_object_get(doc, "spec"), "data", json_loads(data_json, 0, NULL));
	return doc;
}

static void test_key_names(void **state)
{
	(void)state;
	assert_true(secrets_key_ok("TOKEN"));
	assert_true(secrets_key_ok("_a.b-c9"));
	assert_false(secrets_key_ok(""));
	assert_false(secrets_key_ok("9LIVES"));
	assert_false(secrets_key_ok("A B"));
	assert_false(secrets_key_ok("a=b"));
	assert_false(secrets_key_ok(NULL));
	assert_true(secrets_kind("Secret") && secrets_kind("ConfigMap"));
	assert_false(secrets_kind("Repository"));
}

static void test_seal_and_open(void **state)
{
	struct fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *doc = secret_doc("Secret", "{\"TOKEN\":\"" VALUE "\",\"API_URL\":\"https://x\"}"), *kv = NULL;
	json_t *spec = json_object_get(doc, "spec");
	char *text;

	assert_int_equal(secrets_seal_spec(f->seal, doc, NULL, &e), 0);
	assert_null(json_object_get(spec, "data"));
	assert_int_equal(json_array_size(json_object_get(spec, "keys")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "keys"), 0)), "API_URL");
	assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "keys"), 1)), "TOKEN");
	text = json_dumps(doc, JSON_COMPACT);
	assert_null(strstr(text, VALUE));
	free(text);

	assert_int_equal(secrets_open(f->seal, doc, &kv, &e), 0);
	assert_string_equal(json_string_value(json_object_get(kv, "TOKEN")), VALUE);
	secrets_free(kv);

	/* reads keep metadata, keys and description only */
	assert_int_equal(secrets_redact(doc), 1);
	assert_null(json_object_get(spec, "sealed"));
	assert_non_null(json_object_get(spec, "keys"));
	assert_string_equal(json_string_value(json_object_get(spec, "description")), "GitHub");
	assert_int_equal(secrets_redact(doc), 0);
	json_decref(doc);
}

static void test_without_data_keeps_stored(void **state)
{
	struct fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *stored = secret_doc("ConfigMap", "{\"LEVEL\":\"debug\"}"), *doc, *kv = NULL;

	assert_int_equal(secrets_seal_spec(f->seal, stored, NULL, &e), 0);
	/* an update without data, with a forged sealed value: the stored ones win */
	doc = secret_doc("ConfigMap", NULL);
	json_object_set_new(json_object_get(doc, "spec"), "sealed", json_pack("{s:s}", "EVIL", "AAAA"));
	assert_int_equal(secrets_seal_spec(f->seal, doc, stored, &e), 0);
	assert_int_equal(secrets_open(f->seal, doc, &kv, &e), 0);
	assert_int_equal(json_object_size(kv), 1);
	assert_string_equal(json_string_value(json_object_get(kv, "LEVEL")), "debug");
	secrets_free(kv);
	json_decref(doc);

	/* new data replaces every key */
	doc = secret_doc("ConfigMap", "{\"OTHER\":\"x\"}");
	assert_int_equal(secrets_seal_spec(f->seal, doc, stored, &e), 0);
	assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "spec"), "keys")), 1);
	assert_null(json_object_get(json_object_get(json_object_get(doc, "spec"), "sealed"), "LEVEL"));
	json_decref(doc);

	/* a create without data has no keys */
	doc = secret_doc("Secret", NULL);
	assert_int_equal(secrets_seal_spec(f->seal, doc, NULL, &e), 0);
	assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "spec"), "keys")), 0);
	json_decref(doc);
	json_decref(stored);
}

static void test_refusals_never_echo_values(void **state)
{
	struct fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *doc, *env;
	char *big, *text;

	doc = secret_doc("Secret", "{\"" VALUE " \":\"x\"}");
	assert_int_equal(secrets_seal_spec(f->seal, doc, NULL, &e), KE_UNPROCESSABLE);
	env = kerr_envelope(&e, "c");
	text = json_dumps(env, 0);
	assert_null(strstr(text, VALUE));
	assert_non_null(strstr(text, "spec.data"));
	free(text);
	json_decref(env);
	kerr_clear(&e);
	json_decref(doc);

	doc = secret_doc("Secret", "{\"TOKEN\":42}");
	assert_int_equal(secrets_seal_spec(f->seal, doc, NULL, &e), KE_UNPROCESSABLE);
	assert_string_equal(json_string_value(json_object_get(json_array_get(e.reasons, 0), "field")), "spec.data.TOKEN");
	kerr_clear(&e);
	json_decref(doc);

	big = malloc(SECRETS_VALUE_MAX + 2);
	memset(big, 'a', SECRETS_VALUE_MAX + 1);
	big[SECRETS_VALUE_MAX + 1] = '\0';
	doc = secret_doc("Secret", NULL);
	json_object_set_new(json_object_get(doc, "spec"), "data", json_pack("{s:s}", "BIG", big));
	assert_int_equal(secrets_seal_spec(f->seal, doc, NULL, &e), KE_UNPROCESSABLE);
	kerr_clear(&e);
	json_decref(doc);
	/* exactly the limit is fine */
	big[SECRETS_VALUE_MAX] = '\0';
	doc = secret_doc("Secret", NULL);
	json_object_set_new(json_object_get(doc, "spec"), "data", json_pack("{s:s}", "BIG", big));
	assert_int_equal(secrets_seal_spec(f->seal, doc, NULL, &e), 0);
	json_decref(doc);
	free(big);

	/* a server without a key refuses data rather than storing it */
	doc = secret_doc("Secret", "{\"TOKEN\":\"x\"}");
	assert_int_equal(secrets_seal_spec(NULL, doc, NULL, &e), KE_UNPROCESSABLE);
	kerr_clear(&e);
	json_decref(doc);
}

static void put(struct fx *f, const char *name, const char *data_json)
{
	struct kerr e = KERR_INIT;
	json_t *doc = secret_doc("Secret", data_json);
	char *text;

	json_object_set_new(json_object_get(doc, "metadata"), "name", json_string(name));
	assert_int_equal(secrets_seal_spec(f->seal, doc, NULL, &e), 0);
	text = json_dumps(doc, JSON_COMPACT);
	assert_int_equal(write_op(f->s->s, STORE_OP_APPLY, "Secret", "krate-org-acme", name, text, 0, NULL, NULL, NULL),
			 0);
	free(text);
	json_decref(doc);
}

static void test_values_and_env(void **state)
{
	struct fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *values = NULL, *kv = NULL;

	put(f, "a", "{\"TOKEN\":\"" VALUE "\"}");
	put(f, "b", "{\"X\":\"one\",\"Y\":\"two\"}");
	assert_int_equal(secrets_values(f->s->s, f->seal, "krate-org-acme", &values, &e), 0);
	assert_int_equal(json_array_size(values), 3);
	assert_string_equal(json_string_value(json_array_get(values, 0)), VALUE);
	secrets_free(values);
	assert_int_equal(secrets_values(f->s->s, f->seal, "krate-org-other", &values, &e), 0);
	assert_int_equal(json_array_size(values), 0);
	secrets_free(values);

	assert_int_equal(secrets_get(f->s->s, f->seal, "Secret", "krate-org-acme", "b", &kv, &e), 0);
	assert_string_equal(json_string_value(json_object_get(kv, "Y")), "two");
	secrets_free(kv);
	assert_int_equal(secrets_get(f->s->s, f->seal, "Secret", "krate-org-acme", "zzz", &kv, &e), KE_NOTFOUND);
	kerr_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_names),
		cmocka_unit_test_setup_teardown(test_seal_and_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_data_keeps_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_never_echo_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values_and_env, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
