/* The demo data a newcomer meets (`krate serve --demo`): a repository with
 * commits, an open pull request with a diff, a review and checks, an issue
 * with a comment, and a Ready agent stack that runs the shipped example
 * agent to a patch artifact. A restart seeds nothing twice. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct krate_server srv;

static int setup(void **state)
{
	(void)state;
	return harness_start(&srv, "--demo");
}

static int teardown(void **state)
{
	(void)state;
	return harness_stop(&srv);
}

static const char *str(json_t *o, const char *part, const char *key)
{
	return json_string_value(json_object_get(json_object_get(o, part), key));
}

static void test_forge_content(void **state)
{
	json_t *j, *pr;

	(void)state;
	j = harness_call_json(&srv, "GET", "/api/orgs/demo/repositories/krate/commits?ref=main", srv.admin_token, NULL,
			      200);
	assert_true(json_array_size(json_object_get(j, "items")) >= 3);
	json_decref(j);

	j = harness_call_json(&srv, "GET", "/api/orgs/demo/repositories/krate/pulls", srv.admin_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	pr = json_array_get(json_object_get(j, "items"), 0);
	assert_string_equal(str(pr, "status", "phase"), "Open");
	assert_true(json_is_true(json_object_get(json_object_get(pr, "status"), "mergeable")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(pr, "status"), "approvals")), 1);
	assert_int_equal(json_array_size(json_object_get(json_object_get(pr, "status"), "checks")), 2);
	json_decref(j);

	j = harness_call_json(&srv, "GET", "/api/orgs/demo/repositories/krate/pulls/1/files", srv.admin_token, NULL,
			      200);
	assert_int_equal(json_array_size(json_object_get(j, "files")), 2);
	assert_non_null(strstr(json_string_value(json_object_get(j, "patch")), "+## Quickstart"));
	json_decref(j);

	j = harness_call_json(&srv, "GET", "/api/orgs/demo/repositories/krate/issues/2/comments", srv.admin_token, NULL,
			      200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
}

static void test_agent_stack_runs(void **state)
{
	json_t *j, *run = NULL;
	char path[256];
	const char *phase = "", *name;
	int i, ready = 0;

	(void)state;
	for (i = 0; i < 200 && !ready; i++) {
		j = harness_call_json(&srv, "GET", "/api/agents/stacks/example-fixer?org=demo", srv.admin_token, NULL,
				      200);
		ready = str(j, "status", "phase") && !strcmp(str(j, "status", "phase"), "Ready");
		json_decref(j);
		if (!ready)
			usleep(50000);
	}
	assert_true(ready);

	j = harness_call_json(&srv, "POST", "/api/agents/runs?org=demo", srv.admin_token,
			      "{\"repository\":\"krate\",\"ref\":\"main\",\"agentStack\":\"example-fixer\","
			      "\"taskKind\":\"docs\",\"prompt\":\"Look at the README.\"}",
			      201);
	name = json_string_value(json_object_get(json_object_get(json_object_get(j, "run"), "metadata"), "name"));
	assert_non_null(name);
	snprintf(path, sizeof(path), "/api/agents/runs/%s?org=demo", name);
	json_decref(j);
	for (i = 0; i < 300; i++) {
		run = harness_call_json(&srv, "GET", path, srv.admin_token, NULL, 200);
		phase = str(json_object_get(run, "run") ? json_object_get(run, "run") : run, "status", "phase");
		if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")))
			break;   /* run, which phase points into, is kept */
		json_decref(run);
		run = NULL;
		usleep(50000);
	}
	assert_non_null(run);
	assert_string_equal(phase, "Succeeded");
	{
		json_t *arts = json_object_get(run, "artifacts"), *a;
		size_t k;
		int patch = 0;

		json_array_foreach(arts, k, a)
			if (str(a, "spec", "kind") && !strcmp(str(a, "spec", "kind"), "patch"))
				patch = 1;
		assert_true(patch);
	}
	json_decref(run);
}

static void test_restart_does_not_reseed(void **state)
{
	json_t *j;

	(void)state;
	harness_kill(&srv, SIGTERM);
	assert_int_equal(harness_restart(&srv, "--demo"), 0);
	j = harness_call_json(&srv, "GET", "/api/orgs/demo/repositories/krate/pulls?state=all", srv.admin_token, NULL,
			      200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	j = harness_call_json(&srv, "GET", "/api/orgs/demo/repositories/krate/issues?state=all", srv.admin_token, NULL,
			      200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forge_content),
		cmocka_unit_test(test_agent_stack_runs),
		cmocka_unit_test(test_restart_does_not_reseed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
