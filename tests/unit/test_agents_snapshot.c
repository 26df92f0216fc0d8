/* The snapshot of an org: its agent objects by kind, nothing from another
 * namespace, and Secret and ConfigMap objects without their values. */
#include "store_fixture.h"

#include "agents/snapshot.h"

#define NS "krate-org-acme"

static int setup(void **state)
{
	return store_fx_setup(state, "agsnap", NULL);
}

static void test_snapshot(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *snap = NULL, *secret, *s;
	char *text;

	must_write(f->s, STORE_OP_CREATE, "AgentStack", NS, "fixer",
		   "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"fixer\",\"namespace\":\"" NS "\"},"
		   "\"spec\":{\"adapter\":\"process\"}}", NULL);
	must_write(f->s, STORE_OP_CREATE, "AgentStack", "krate-org-other", "theirs",
		   "{\"kind\":\"AgentStack\",\"metadata\":{\"name\":\"theirs\",\"namespace\":\"krate-org-other\"},"
		   "\"spec\":{\"adapter\":\"process\"}}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Secret", NS, "github",
		   "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"github\",\"namespace\":\"" NS "\"},"
		   "\"spec\":{\"keys\":[\"token\"],\"sealed\":{\"token\":\"bm9uY2UrY2lwaGVy\"}}}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Repository", NS, "krate",
		   "{\"kind\":\"Repository\",\"metadata\":{\"name\":\"krate\",\"namespace\":\"" NS "\"},"
		   "\"spec\":{\"visibility\":\"private\"}}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Issue", NS, "one",
		   "{\"kind\":\"Issue\",\"metadata\":{\"name\":\"one\",\"namespace\":\"" NS "\"},"
		   "\"spec\":{\"title\":\"x\"}}", NULL);

	assert_int_equal(agents_snapshot(f->s, NS, &snap, &e), 0);
	assert_int_equal(json_array_size(json_object_get(snap, "AgentStack")), 1);
	assert_non_null(snapshot_find(snap, "AgentStack", "fixer"));
	assert_null(snapshot_find(snap, "AgentStack", "theirs"));
	assert_null(snapshot_find(snap, "AgentStack", NULL));
	assert_non_null(snapshot_find(snap, "Repository", "krate"));
	assert_null(json_object_get(snap, "Issue"));
	/* Every kind is there, empty or not. */
	assert_true(json_is_array(json_object_get(snap, "AgentSecretGrant")));
	assert_true(json_is_array(json_object_get(snap, "RefPolicy")));

	secret = snapshot_find(snap, "Secret", "github");
	assert_non_null(secret);
	s = json_object_get(secret, "spec");
	assert_string_equal(json_string_value(json_array_get(json_object_get(s, "keys"), 0)), "token");
	assert_int_equal(json_object_size(s), 1);
	text = json_dumps(snap, 0);
	assert_null(strstr(text, "bm9uY2UrY2lwaGVy"));
	free(text);
	json_decref(snap);
	kerr_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snapshot, setup, store_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
