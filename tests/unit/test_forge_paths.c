/* Repository paths stay inside the data directory, and only git URLs go to the forge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "forge/forge.h"

static void test_repo_path(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(forge_repo_path("/d", "acme", "web-site", out, sizeof(out)), 0);
	assert_string_equal(out, "/d/git/acme/web-site.git");
	assert_int_equal(forge_repo_path("/d", "..", "x", out, sizeof(out)), KE_INVALID);
	assert_int_equal(forge_repo_path("/d", "acme", "../../etc", out, sizeof(out)), KE_INVALID);
	assert_int_equal(forge_repo_path("/d", "acme", "a/b", out, sizeof(out)), KE_INVALID);
	assert_int_equal(forge_repo_path("/d", "Acme", "x", out, sizeof(out)), KE_INVALID);
	assert_int_equal(forge_repo_path("/d", "acme", "", out, sizeof(out)), KE_INVALID);
	assert_int_equal(forge_repo_path("/d", "acme", "-x", out, sizeof(out)), KE_INVALID);
	assert_int_equal(forge_repo_path("/d", "acme", "x", out, 8), KE_INVALID);
}

static void test_owns_path(void **state)
{
	(void)state;
	assert_true(forge_owns_path("/acme/web.git"));
	assert_true(forge_owns_path("/acme/web.git/info/refs"));
	assert_true(forge_owns_path("/acme/web.git/git-receive-pack"));
	assert_false(forge_owns_path("/"));
	assert_false(forge_owns_path("/api/orgs"));
	assert_false(forge_owns_path("/orgs/acme/repositories/web"));
	assert_false(forge_owns_path("/acme/.git"));
	assert_false(forge_owns_path("/acme/web.gitx/info/refs"));
	assert_false(forge_owns_path("/static/app.js"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repo_path),
		cmocka_unit_test(test_owns_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
