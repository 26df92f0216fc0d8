/* Pull requests and issues against the real server and the real git client:
 * open, review (inline comments, no self-approval), checks, branch
 * protection gating, conflicts with their paths, the three merge strategies
 * verified in a fresh clone, a push that synchronizes a PR, comments, issue
 * edits, the title policy in enforce and audit mode, numbers never reused. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct krate_server srv;
static char work[256];
static char *dana, *rob;   /* developer tokens: the author and a reviewer */
static char url_admin[512];

static int teardown(void **state)
{
	free(dana);
	free(rob);
	return harness_group_teardown(state);
}

/* method path as token with body; asserts the status; the JSON answer (new ref). */
#define call(...) harness_call_json(&srv, __VA_ARGS__)
/* Command lines run in the work directory: sh's must succeed; out gives the stdout (malloc'd). */
#define sh(...) harness_sh_ok(work, __VA_ARGS__)
#define out(cmd) harness_sh_out(work, "%s", cmd)

static const char *str(json_t *o, const char *part, const char *key)
{
	return json_string_value(json_object_get(json_object_get(o, part), key));
}

static long long num(json_t *o, const char *part, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(o, part), key));
}

/* 1 if the array of {code} objects (or reasons) under o has code. */
static int has_code(json_t *arr, const char *code)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_string_value(json_object_get(v, "code")) &&
		    !strcmp(json_string_value(json_object_get(v, "code")), code))
			return 1;
	return 0;
}

static json_t *open_pr(const char *token, const char *title, const char *source, long want)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"title\":\"%s\",\"body\":\"Adds *things*\",\"sourceRef\":\"%s\"}", title,
		 source);
	return call("POST", "/api/orgs/acme/repositories/app/pulls", token, body, want);
}

static void set_check(long long n, const char *state)
{
	char path[128], body[256];

	snprintf(path, sizeof(path), "/api/orgs/acme/repositories/app/pulls/%lld/checks", n);
	snprintf(body, sizeof(body), "{\"name\":\"ci/test\",\"state\":\"%s\",\"detailsUrl\":\"https://ci.example/1\"}",
		 state);
	json_decref(call("POST", path, dana, body, 200));
}

static void approve(long long n)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/orgs/acme/repositories/app/pulls/%lld/reviews", n);
	json_decref(call("POST", path, rob, "{\"decision\":\"approved\",\"body\":\"LGTM\"}", 201));
}

static json_t *get_pr(long long n)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/orgs/acme/repositories/app/pulls/%lld", n);
	return call("GET", path, dana, NULL, 200);
}

static json_t *merge(long long n, const char *strategy, long want)
{
	char path[128], body[128];

	snprintf(path, sizeof(path), "/api/orgs/acme/repositories/app/pulls/%lld/merge", n);
	snprintf(body, sizeof(body), "{\"strategy\":\"%s\"}", strategy);
	return call("POST", path, dana, body, want);
}

/* The server's main in a fresh clone: `git log` of it is what the test reads. */
static char *fresh_main(const char *what)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf fresh && git -c credential.helper= clone -q '%s' fresh && cd fresh && %s",
		 url_admin, what);
	return out(cmd);
}

static void test_pull_request_flow(void **state)
{
	json_t *pr, *j, *v;
	char *s, *head;
	long long n1, n_issue, n_clash, n_topic, n_ff;
	size_t i;
	int found;

	(void)state;
	harness_make_org(&srv, "acme");
	json_decref(call("POST", "/api/orgs/acme/repositories", srv.admin_token,
			 "{\"name\":\"app\",\"visibility\":\"private\"}", 201));
	harness_wait_repo_ready(&srv, "acme", "app");
	dana = harness_token(&srv, "dana", "acme", "developer");
	rob = harness_token(&srv, "rob", "acme", "developer");
	assert_non_null(dana);
	assert_non_null(rob);
	snprintf(url_admin, sizeof(url_admin), "http://admin:%s@127.0.0.1:%d/acme/app.git", srv.admin_token, srv.port);

	/* main with a.txt; feature and clash both change its first line; topic adds b.txt */
	sh("git -c credential.helper= clone -q '%s' w && cd w && printf 'one\\ntwo\\n' > a.txt && git add . &&"
	   " git commit -qm base && git push -q origin HEAD:main", url_admin);
	sh("cd w && git checkout -qb feature && printf 'feature\\ntwo\\n' > a.txt && git commit -qam feature &&"
	   " git push -q origin feature");
	sh("cd w && git checkout -q main && git checkout -qb clash && printf 'clash\\ntwo\\n' > a.txt &&"
	   " git commit -qam clash && git push -q origin clash");
	sh("cd w && git checkout -q main && git checkout -qb topic && echo b > b.txt && git add b.txt &&"
	   " git commit -qm topic && git push -q origin topic");

	/* open: numbered, open, mergeable with no rules yet, head is the branch tip */
	pr = open_pr(dana, "Add the feature line", "feature", 201);
	n1 = num(pr, "spec", "number");
	assert_int_equal(n1, 1);
	assert_string_equal(str(pr, "status", "phase"), "Open");
	assert_string_equal(str(pr, "spec", "targetRef"), "refs/heads/main");
	assert_string_equal(str(pr, "spec", "author"), "dana");
	assert_true(json_is_true(json_object_get(json_object_get(pr, "status"), "mergeable")));
	head = out("cd w && git rev-parse feature");
	assert_string_equal(str(pr, "status", "headSha"), head);
	free(head);
	json_decref(pr);

	/* issues share the sequence */
	j = call("POST", "/api/orgs/acme/repositories/app/issues", dana,
		 "{\"title\":\"Login is slow\",\"body\":\"It takes **ages**\",\"labels\":[\"bug\"]}", 201);
	n_issue = num(j, "spec", "number");
	assert_int_equal(n_issue, n1 + 1);
	assert_string_equal(str(j, "status", "phase"), "Open");
	json_decref(j);

	/* bad input changes nothing */
	json_decref(open_pr(dana, "Unknown branch here", "nope", 422));
	json_decref(call("POST", "/api/orgs/acme/repositories/app/pulls", dana, "[1]", 400));
	json_decref(open_pr(dana, "Same branch both sides", "main", 422));
	j = open_pr(dana, "tiny", "topic", 422);
	assert_string_equal(str(j, "error", "code"), "POLICY_VIOLATION");
	json_decref(j);

	/* files: the diff against the merge base */
	j = call("GET", "/api/orgs/acme/repositories/app/pulls/1/files", dana, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "files")), 1);
	v = json_array_get(json_object_get(j, "files"), 0);
	assert_string_equal(json_string_value(json_object_get(v, "path")), "a.txt");
	assert_string_equal(json_string_value(json_object_get(v, "status")), "modified");
	assert_non_null(strstr(json_string_value(json_object_get(j, "patch")), "+feature"));
	assert_int_equal(json_array_size(json_object_get(j, "commits")), 1);
	json_decref(j);

	/* branch protection: one approval and the ci/test check */
	json_decref(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			 "{\"kind\":\"BranchProtection\",\"metadata\":{\"name\":\"main\"},\"spec\":{\"refs\":[\"main\"],"
			 "\"requiredApprovals\":1,\"requiredChecks\":[\"ci/test\"]}}",
			 201));
	pr = get_pr(n1);
	assert_false(json_is_true(json_object_get(json_object_get(pr, "status"), "mergeable")));
	assert_true(has_code(json_object_get(json_object_get(pr, "status"), "blockers"), "APPROVALS_REQUIRED"));
	assert_true(has_code(json_object_get(json_object_get(pr, "status"), "blockers"), "CHECK_REQUIRED"));
	json_decref(pr);
	j = merge(n1, "merge", 409);
	assert_string_equal(str(j, "error", "code"), "NOT_MERGEABLE");
	assert_true(has_code(json_object_get(json_object_get(j, "error"), "reasons"), "APPROVALS_REQUIRED"));
	json_decref(j);

	/* the author cannot approve; a reviewer approves with an inline comment */
	json_decref(call("POST", "/api/orgs/acme/repositories/app/pulls/1/reviews", dana,
			 "{\"decision\":\"approved\"}", 422));
	j = call("POST", "/api/orgs/acme/repositories/app/pulls/1/reviews", rob,
		 "{\"decision\":\"changes-requested\",\"body\":\"one nit\",\"comments\":[{\"path\":\"a.txt\",\"line\":1,"
		 "\"body\":\"Say *why*\"}]}",
		 201);
	assert_string_equal(str(j, "spec", "reviewer"), "rob");
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "spec"), "comments")), 1);
	json_decref(j);
	pr = get_pr(n1);
	assert_true(has_code(json_object_get(json_object_get(pr, "status"), "blockers"), "CHANGES_REQUESTED"));
	json_decref(pr);
	approve(n1);   /* the latest review of each reviewer counts */
	pr = get_pr(n1);
	assert_int_equal(num(pr, "status", "approvals"), 1);
	assert_false(has_code(json_object_get(json_object_get(pr, "status"), "blockers"), "CHANGES_REQUESTED"));
	json_decref(pr);
	j = call("GET", "/api/orgs/acme/repositories/app/pulls/1/reviews", dana, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	json_decref(j);

	/* checks: pending and failure block, success clears */
	set_check(n1, "pending");
	pr = get_pr(n1);
	assert_true(has_code(json_object_get(json_object_get(pr, "status"), "blockers"), "CHECK_REQUIRED"));
	json_decref(pr);
	set_check(n1, "failure");
	pr = get_pr(n1);
	assert_true(has_code(json_object_get(json_object_get(pr, "status"), "blockers"), "CHECK_FAILED"));
	json_decref(pr);
	set_check(n1, "success");
	pr = get_pr(n1);
	assert_true(json_is_true(json_object_get(json_object_get(pr, "status"), "mergeable")));
	json_decref(pr);

	/* the clash PR merges cleanly before feature lands */
	pr = open_pr(dana, "Change the first line too", "clash", 201);
	n_clash = num(pr, "spec", "number");
	assert_int_equal(json_array_size(json_object_get(json_object_get(pr, "status"), "conflicts")), 0);
	json_decref(pr);

	/* merge commit */
	pr = merge(n1, "merge", 200);
	assert_string_equal(str(pr, "status", "phase"), "Merged");
	assert_string_equal(str(pr, "status", "mergedBy"), "dana");
	s = fresh_main("git log -1 --format=%P main | wc -w && git log -1 --format=%s main && cat a.txt");
	if (strncmp(s, "2\nMerge pull request #", strlen("2\nMerge pull request #")))   /* two parents */
		fail_msg("unexpected main after the merge:\n%s", s);
	assert_non_null(strstr(s, "\nfeature\ntwo"));
	free(s);
	s = fresh_main("git rev-parse main");
	assert_string_equal(str(pr, "status", "mergeCommit"), s);
	free(s);
	json_decref(pr);
	json_decref(merge(n1, "merge", 409));   /* not open any more */

	/* now clash conflicts, with the path */
	pr = get_pr(n_clash);
	assert_false(json_is_true(json_object_get(json_object_get(pr, "status"), "mergeable")));
	assert_true(has_code(json_object_get(json_object_get(pr, "status"), "blockers"), "CONFLICTS"));
	assert_int_equal(json_array_size(json_object_get(json_object_get(pr, "status"), "conflicts")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(pr, "status"), "conflicts"),
							      0)),
			    "a.txt");
	json_decref(pr);
	approve(n_clash);
	set_check(n_clash, "success");
	j = merge(n_clash, "merge", 409);
	assert_true(has_code(json_object_get(json_object_get(j, "error"), "reasons"), "CONFLICTS"));
	json_decref(j);

	/* a push to the source branch synchronizes: new head, checks reset */
	pr = open_pr(dana, "Add b.txt for topic", "topic", 201);
	n_topic = num(pr, "spec", "number");
	json_decref(pr);
	set_check(n_topic, "success");
	approve(n_topic);
	sh("cd w && git checkout -q topic && echo more >> b.txt && git commit -qam 'topic 2' && git push -q origin "
	   "topic");
	head = out("cd w && git rev-parse topic");
	found = 0;
	for (i = 0; i < 200 && !found; i++) {
		pr = get_pr(n_topic);
		found = str(pr, "status", "headSha") && !strcmp(str(pr, "status", "headSha"), head);
		if (found) {
			assert_int_equal(json_array_size(json_object_get(json_object_get(pr, "status"), "checks")), 0);
			assert_true(has_code(json_object_get(json_object_get(pr, "status"), "blockers"), "CHECK_REQUIRED"));
		}
		json_decref(pr);
		if (!found)
			usleep(25000);
	}
	assert_true(found);
	free(head);

	/* squash: one new commit on main with one parent, titled after the PR */
	set_check(n_topic, "success");
	pr = merge(n_topic, "squash", 200);
	json_decref(pr);
	s = fresh_main("git log -1 --format=%P main | wc -w && git log -1 --format=%s main && git show main:b.txt");
	if (strncmp(s, "1\nAdd b.txt for topic (#", strlen("1\nAdd b.txt for topic (#")))
		fail_msg("unexpected main after the squash:\n%s", s);
	assert_non_null(strstr(s, "b\nmore"));
	free(s);

	/* fast-forward: main moves to the branch's own commit */
	sh("cd w && git fetch -q origin && git checkout -q -b ff origin/main && echo c > c.txt && git add c.txt &&"
	   " git commit -qm ff && git push -q origin ff");
	pr = open_pr(dana, "Fast forward with c.txt", "ff", 201);
	n_ff = num(pr, "spec", "number");
	json_decref(pr);
	approve(n_ff);
	set_check(n_ff, "success");
	json_decref(merge(n_ff, "fast-forward", 200));
	head = out("cd w && git rev-parse ff");
	s = fresh_main("git rev-parse main");
	assert_string_equal(s, head);
	free(s);
	free(head);

	/* lists by state */
	j = call("GET", "/api/orgs/acme/repositories/app/pulls?state=merged", dana, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
	json_decref(j);
	j = call("GET", "/api/orgs/acme/repositories/app/pulls", dana, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	assert_int_equal(num(json_array_get(json_object_get(j, "items"), 0), "spec", "number"), n_clash);
	json_decref(j);
	json_decref(call("GET", "/api/orgs/acme/repositories/app/pulls?state=bogus", dana, NULL, 400));
	json_decref(call("GET", "/api/orgs/acme/repositories/app/pulls/999", dana, NULL, 404));
}

static void test_comments_issues_and_policy(void **state)
{
	json_t *j, *pr;
	char path[160];
	long long n, n2;

	(void)state;
	/* every event below is queued for a subscriber of "*" in the same write */
	json_decref(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			 "{\"kind\":\"WebhookSubscription\",\"metadata\":{\"name\":\"all\"},"
			 "\"spec\":{\"url\":\"http://127.0.0.1:9/hook\",\"events\":[\"*\"]}}",
			 201));
	/* comments on a PR and an issue, oldest first */
	json_decref(call("POST", "/api/orgs/acme/repositories/app/pulls/1/comments", rob, "{\"body\":\"Nice\"}", 201));
	json_decref(call("POST", "/api/orgs/acme/repositories/app/pulls/1/comments", dana, "{\"body\":\"Thanks\"}", 201));
	j = call("GET", "/api/orgs/acme/repositories/app/pulls/1/comments", dana, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	assert_string_equal(str(json_array_get(json_object_get(j, "items"), 0), "spec", "body"), "Nice");
	json_decref(j);
	json_decref(call("POST", "/api/orgs/acme/repositories/app/issues/2/comments", dana, "{\"body\":\"\"}", 422));
	json_decref(call("POST", "/api/orgs/acme/repositories/app/issues/2/comments", rob, "{\"body\":\"Seen it\"}", 201));
	/* an issue number is not a pull request */
	json_decref(call("POST", "/api/orgs/acme/repositories/app/pulls/2/comments", rob, "{\"body\":\"x\"}", 404));

	/* issue edits: labels, assignees, close */
	j = call("PATCH", "/api/orgs/acme/repositories/app/issues/2", dana,
		 "{\"labels\":[\"bug\",\"p1\"],\"assignees\":[\"rob\"],\"state\":\"closed\"}", 200);
	assert_string_equal(str(j, "status", "phase"), "Closed");
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "spec"), "labels")), 2);
	json_decref(j);
	json_decref(call("PATCH", "/api/orgs/acme/repositories/app/issues/2", dana, "{\"number\":9}", 422));
	j = call("GET", "/api/orgs/acme/repositories/app/issues?state=closed", dana, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);

	/* a viewer reads but cannot write */
	{
		char *viewer = harness_token(&srv, "val", "acme", "viewer");

		json_decref(call("GET", "/api/orgs/acme/repositories/app/issues/2", viewer, NULL, 200));
		json_decref(call("POST", "/api/orgs/acme/repositories/app/issues", viewer, "{\"title\":\"nope nope\"}",
				 403));
		free(viewer);
	}

	/* the title policy in audit mode lets a short title through, with a warning */
	json_decref(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			 "{\"kind\":\"PolicyBinding\",\"metadata\":{\"name\":\"pr-title-required\"},"
			 "\"spec\":{\"templateRef\":\"pr-title-required\",\"mode\":\"audit\"}}",
			 201));
	pr = open_pr(dana, "tiny", "clash", 201);
	n = num(pr, "spec", "number");
	assert_int_equal(json_array_size(json_object_get(json_object_get(pr, "status"), "policyWarnings")), 1);
	json_decref(pr);
	/* closing, and numbers are never reused after a delete */
	snprintf(path, sizeof(path), "/api/orgs/acme/repositories/app/pulls/%lld", n);
	j = call("PATCH", path, dana, "{\"state\":\"closed\",\"title\":\"A longer title now\"}", 200);
	assert_string_equal(str(j, "status", "phase"), "Closed");
	snprintf(path, sizeof(path), "/api/orgs/acme/resources/PullRequest/%s", str(j, "metadata", "name"));
	json_decref(j);
	json_decref(call("DELETE", path, srv.admin_token, NULL, 200));
	j = call("POST", "/api/orgs/acme/repositories/app/issues", dana, "{\"title\":\"After the delete\"}", 201);
	n2 = num(j, "spec", "number");
	assert_int_equal(n2, n + 1);
	json_decref(j);

	{
		static const char *const events[] = { "pull_request.commented", "issue.commented", "issue.closed",
						      "pull_request.opened", "pull_request.closed", "issue.opened" };
		size_t k;

		for (k = 0; k < sizeof(events) / sizeof(events[0]); k++) {
			snprintf(path, sizeof(path),
				 "/api/orgs/acme/resources?kind=WebhookDelivery&labelSelector=krate.a5c.ai/event=%s",
				 events[k]);
			j = call("GET", path, srv.admin_token, NULL, 200);
			if (json_array_size(json_object_get(j, "items")) < 1)
				fail_msg("no delivery queued for %s", events[k]);
			json_decref(j);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pull_request_flow),
		cmocka_unit_test(test_comments_issues_and_policy),
	};

	harness_group(&srv, NULL, work, sizeof(work), "pullwork");
	return cmocka_run_group_tests(tests, harness_group_setup, teardown);
}
