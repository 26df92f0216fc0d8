/* The browsing API's input checks: paths and refs that reach libgit2. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "forge/browse.h"

static void test_paths(void **state)
{
	(void)state;
	assert_true(browse_path_valid("README.md"));
	assert_true(browse_path_valid("src/a/b.c"));
	assert_true(browse_path_valid(".github/x"));
	assert_true(browse_path_valid("a/..b/c..."));
	assert_false(browse_path_valid(NULL));
	assert_false(browse_path_valid(""));
	assert_false(browse_path_valid(".."));
	assert_false(browse_path_valid("."));
	assert_false(browse_path_valid("src/../etc"));
	assert_false(browse_path_valid("src/./a"));
	assert_false(browse_path_valid("src/.."));
	assert_false(browse_path_valid("/etc"));
	assert_false(browse_path_valid("src/"));
	assert_false(browse_path_valid("src//a"));
}

static void test_refs(void **state)
{
	(void)state;
	assert_true(browse_ref_valid("main"));
	assert_true(browse_ref_valid("feature/x"));
	assert_true(browse_ref_valid("v1.0.2"));
	assert_true(browse_ref_valid("HEAD"));
	assert_true(browse_ref_valid("0123abc"));
	assert_false(browse_ref_valid(NULL));
	assert_false(browse_ref_valid(""));
	assert_false(browse_ref_valid("main~1"));
	assert_false(browse_ref_valid("main^"));
	assert_false(browse_ref_valid("main@{1}"));
	assert_false(browse_ref_valid(":/fix"));
	assert_false(browse_ref_valid("a..b"));
	assert_false(browse_ref_valid("-n"));
	assert_false(browse_ref_valid(".hidden"));
	assert_false(browse_ref_valid("main/"));
	assert_false(browse_ref_valid("a b"));
}

static void test_first_line(void **state)
{
	size_t n;
	const char *s;

	(void)state;
	s = browse_first_line("subject\n\nbody\n", &n);
	assert_int_equal(n, 7);
	assert_memory_equal(s, "subject", 7);
	s = browse_first_line("only", &n);
	assert_int_equal(n, 4);
	s = browse_first_line(NULL, &n);
	assert_int_equal(n, 0);
	assert_non_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_first_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
