/* The push-rule decision: ref matching and globs, RefPolicy deny prefixes,
 * BranchProtection on deletion, force-push, direct push and creation, with the
 * ancestry check injected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "forge/hooks.h"

#define ZERO "0000000000000000000000000000000000000000"
#define A "1111111111111111111111111111111111111111"
#define B "2222222222222222222222222222222222222222"

static int calls;

/* B descends from A; nothing else is known. */
static int ancestor(const char *old_sha, const char *new_sha, void *arg)
{
	(void)arg;
	calls++;
	if (!strcmp(old_sha, A) && !strcmp(new_sha, B))
		return 1;
	if (!strcmp(old_sha, B) && !strcmp(new_sha, A))
		return 0;
	return -1;
}

static json_t *policy(void)
{
	json_t *p = json_loads("{\"RefPolicy\":[{\"metadata\":{\"name\":\"no-tags\"},\"spec\":{\"deny\":[\"refs/tags/\"]}}],"
			       "\"BranchProtection\":["
			       "{\"metadata\":{\"name\":\"main\"},\"spec\":{\"refs\":[\"refs/heads/main\"]}},"
			       "{\"metadata\":{\"name\":\"rel\"},\"spec\":{\"refs\":[\"refs/heads/release/*\"],"
			       "\"requirePullRequest\":false}}]}", 0, NULL);

	assert_non_null(p);
	return p;
}

static void test_matching(void **state)
{
	(void)state;
	assert_true(forge_ref_matches("refs/heads/main", "refs/heads/main"));
	assert_false(forge_ref_matches("refs/heads/main", "refs/heads/main2"));
	assert_false(forge_ref_matches("refs/heads/main", "refs/heads/mai"));
	assert_true(forge_ref_matches("refs/heads/release/*", "refs/heads/release/1.0"));
	assert_true(forge_ref_matches("refs/heads/release/*", "refs/heads/release/a/b"));
	assert_false(forge_ref_matches("refs/heads/release/*", "refs/heads/release"));
	assert_false(forge_ref_matches("refs/heads/release/*", "refs/heads/releases/x"));
	assert_false(forge_ref_matches("", "refs/heads/main"));
	assert_false(forge_ref_matches(NULL, "refs/heads/main"));
	assert_true(forge_sha_zero(ZERO));
	assert_false(forge_sha_zero(A));
	assert_false(forge_sha_zero(""));
}

static void test_decisions(void **state)
{
	json_t *p = policy();
	char msg[512];

	(void)state;
	/* unprotected refs: anything goes */
	assert_int_equal(forge_rules_check(p, B, A, "refs/heads/feature", 0, ancestor, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(forge_rules_check(p, A, ZERO, "refs/heads/feature", 0, ancestor, NULL, msg, sizeof(msg)), 0);
	/* RefPolicy deny prefix, even for an admin */
	assert_int_equal(forge_rules_check(p, ZERO, A, "refs/tags/v1", 1, ancestor, NULL, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "ref refs/tags/v1 is denied by RefPolicy no-tags");
	/* a developer's direct push and creation of a protected ref */
	assert_int_equal(forge_rules_check(p, A, B, "refs/heads/main", 0, ancestor, NULL, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "direct pushes to refs/heads/main are not allowed (BranchProtection main): "
				 "open a pull request");
	assert_int_equal(forge_rules_check(p, ZERO, B, "refs/heads/main", 0, ancestor, NULL, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "open a pull request"));
	/* an admin fast-forwards and creates, but never force-pushes or deletes */
	assert_int_equal(forge_rules_check(p, A, B, "refs/heads/main", 1, ancestor, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(forge_rules_check(p, ZERO, B, "refs/heads/main", 1, ancestor, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(forge_rules_check(p, B, A, "refs/heads/main", 1, ancestor, NULL, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "force-pushing to refs/heads/main is not allowed (BranchProtection main)");
	assert_int_equal(forge_rules_check(p, A, ZERO, "refs/heads/main", 1, ancestor, NULL, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "deleting refs/heads/main is not allowed (BranchProtection main)");
	/* glob with requirePullRequest false: developers fast-forward, not force */
	assert_int_equal(forge_rules_check(p, A, B, "refs/heads/release/1", 0, ancestor, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(forge_rules_check(p, B, A, "refs/heads/release/1", 0, ancestor, NULL, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "force-pushing"));
	/* an undecidable history fails closed; deletion needs no history */
	calls = 0;
	assert_int_equal(forge_rules_check(p, A, A, "refs/heads/main", 1, ancestor, NULL, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "cannot check"));
	assert_int_equal(forge_rules_check(p, A, B, "refs/heads/main", 1, NULL, NULL, msg, sizeof(msg)), 1);
	assert_int_equal(forge_rules_check(p, B, ZERO, "refs/heads/release/x", 1, ancestor, NULL, msg, sizeof(msg)), 1);
	assert_int_equal(calls, 1);
	json_decref(p);
}

static void test_empty_policy(void **state)
{
	json_t *p = json_object();
	char msg[64];

	(void)state;
	assert_int_equal(forge_rules_check(p, A, ZERO, "refs/heads/main", 0, NULL, NULL, msg, sizeof(msg)), 0);
	/* a long reason is cut, never overflowed */
	json_decref(p);
	p = policy();
	assert_int_equal(forge_rules_check(p, A, B, "refs/heads/main", 0, ancestor, NULL, msg, sizeof(msg)), 1);
	assert_int_equal(strlen(msg), sizeof(msg) - 1);
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_empty_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
