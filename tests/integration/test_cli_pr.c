/* `krate pr` and `krate issue` against the real server and the real git
 * client: open a pull request, list, view and diff it, a merge refused with
 * its reasons, self-approval refused, a second developer's review with an
 * inline comment, a check, the merge itself; the title policy's refusal and
 * warning, close and reopen, errors and usage errors; issues created, listed,
 * commented on (also from stdin), edited, viewed and closed. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Runs `krate ARGS...` (NULL-terminated) as token, feeding in (may be NULL);
 * asserts the exit code and returns stdout+stderr (caller frees). */
static char *krate_in(int want, const char *token, const char *in, ...)
{
	const char *args[32];
	size_t n = 0;
	char *out = NULL;
	va_list ap;
	int rc;

	va_start(ap, in);
	for (const char *s = va_arg(ap, const char *); s && n < 31; s = va_arg(ap, const char *))
		args[n++] = s;
	va_end(ap);
	args[n] = NULL;
	rc = harness_cli_argv(&srv, token, args, in, &out);
	if (rc != want)
		fail_msg("krate %s %s: exit %d, expected %d: %s", args[0], n > 1 ? args[1] : "", rc, want,
			 out ? out : "");
	return out;
}

#define krate(want, token, ...) krate_in(want, token, NULL, __VA_ARGS__, NULL)

#define expect(out, needle) harness_expect_in(out, needle)

static void expect_free(char *out, const char *needle)
{
	expect(out, needle);
	free(out);
}

/* method path as token with body; asserts the status; the JSON answer (new ref). */
#define call(...) harness_call_json(&srv, __VA_ARGS__)
/* Command lines run in the work directory: sh's must succeed; sh_out gives the stdout (malloc'd). */
#define sh(...) harness_sh_ok(work, __VA_ARGS__)
#define sh_out(cmd) harness_sh_out(work, "%s", cmd)

static const char *str(json_t *o, const char *part, const char *key)
{
	return json_string_value(json_object_get(json_object_get(o, part), key));
}

/* The N of "... #N opened: ..." in a command's output. */
static long long opened_number(const char *out)
{
	const char *p = strstr(out, " #");
	long long n = 0;

	if (!p || sscanf(p + 2, "%lld", &n) != 1 || !strstr(p, " opened: "))
		fail_msg("no \"#N opened\" in: %s", out);
	return n;
}

static void test_cli_pull_requests(void **state)
{
	char *out, *head, *viewer, num[32];
	json_t *j, *c;
	long long n1, n2;

	(void)state;
	harness_make_org(&srv, "acme");
	expect_free(krate(0, srv.admin_token, "repo", "create", "app", "-n", "acme", "--visibility", "private"),
		    "repository app created");
	harness_wait_repo_ready(&srv, "acme", "app");
	dana = harness_token(&srv, "dana", "acme", "developer");
	rob = harness_token(&srv, "rob", "acme", "developer");
	viewer = harness_token(&srv, "val", "acme", "viewer");
	assert_non_null(dana);
	assert_non_null(rob);
	assert_non_null(viewer);
	snprintf(url_admin, sizeof(url_admin), "http://admin:%s@127.0.0.1:%d/acme/app.git", srv.admin_token, srv.port);
	sh("git -c credential.helper= clone -q '%s' w && cd w && printf 'one\\ntwo\\n' > a.txt && git add . &&"
	   " git commit -qm base && git push -q origin HEAD:main", url_admin);
	sh("cd w && git checkout -qb feature && printf 'feature\\ntwo\\n' > a.txt && git commit -qam feature &&"
	   " git push -q origin feature");
	sh("cd w && git checkout -q main && git checkout -qb topic && echo b > b.txt && git add b.txt &&"
	   " git commit -qm topic && git push -q origin topic");
	json_decref(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			 "{\"kind\":\"BranchProtection\",\"metadata\":{\"name\":\"main\"},\"spec\":{\"refs\":[\"main\"],"
			 "\"requiredApprovals\":1,\"requiredChecks\":[\"ci/test\"]}}",
			 201));

	/* create: the title may hold spaces; -r ORG/REPO names the org */
	out = krate(0, dana, "pr", "create", "-r", "acme/app", "--title", "Add the feature line", "--source", "feature",
		    "--body", "Adds *things*\nand more");
	expect(out, "pull request #1 opened: Add the feature line");
	n1 = opened_number(out);
	free(out);
	snprintf(num, sizeof(num), "%lld", n1);

	/* list: a table by default, JSON on request, filtered by state; -n ORG works too */
	out = krate(0, dana, "pr", "list", "-r", "app", "-n", "acme");
	expect(out, "NUMBER   TITLE");
	expect(out, "SOURCE → TARGET");
	expect(out, "MERGEABLE");
	expect(out, "Add the feature line");
	expect(out, "feature → main");
	expect(out, "Open");
	free(out);
	out = krate(0, dana, "pr", "list", "-r", "acme/app", "-o", "json");
	j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	free(out);
	expect_free(krate(0, dana, "pr", "list", "-r", "acme/app", "--state", "merged"), "No pull requests found");

	/* view: refs, head, blockers, approvals, checks, body */
	head = sh_out("cd w && git rev-parse feature");
	out = krate(0, dana, "pr", "view", num, "-r", "acme/app");
	expect(out, "#1 Add the feature line\n");
	expect(out, "state:      Open\n");
	expect(out, "author:     dana\n");
	expect(out, "refs:       feature → main\n");
	expect(out, head);
	expect(out, "mergeable:  no\n");
	expect(out, "  - 1 approving review(s) required, 0 given\n");
	expect(out, "  - required check ci/test has not reported\n");
	expect(out, "conflicts:  none\n");
	expect(out, "approvals:  0 of 1 required\n");
	expect(out, "checks:     none\n");
	expect(out, "  Adds *things*\n  and more\n");
	free(out);
	free(head);

	/* diff: the patch as is */
	out = krate(0, dana, "pr", "diff", num, "-r", "acme/app");
	expect(out, "--- a/a.txt\n+++ b/a.txt\n");
	expect(out, "-one\n+feature\n");
	free(out);

	/* the merge is refused with every reason */
	out = krate(1, dana, "pr", "merge", num, "-r", "acme/app");
	expect(out, "error: pull request #1 cannot be merged (NOT_MERGEABLE)\n");
	expect(out, "  1 approving review(s) required, 0 given\n");
	expect(out, "  required check ci/test has not reported\n");
	free(out);

	/* the author cannot approve; a second developer reviews, inline comment included */
	expect_free(krate(1, dana, "pr", "review", num, "-r", "acme/app", "--approve"),
		    "cannot be given by the author");
	expect_free(krate(0, rob, "pr", "review", num, "-r", "acme/app", "--request-changes", "--body", "one nit",
			  "--line-comment", "a.txt:1:Say why, please: it matters"),
		    "reviewed pull request #1: changes-requested");
	j = call("GET", "/api/orgs/acme/repositories/app/pulls/1/reviews", dana, NULL, 200);
	c = json_array_get(json_object_get(json_object_get(json_array_get(json_object_get(j, "items"), 0), "spec"),
					   "comments"),
			   0);
	assert_string_equal(json_string_value(json_object_get(c, "path")), "a.txt");
	assert_int_equal(json_integer_value(json_object_get(c, "line")), 1);
	assert_string_equal(json_string_value(json_object_get(c, "body")), "Say why, please: it matters");
	json_decref(j);
	expect_free(krate(0, dana, "pr", "view", num, "-r", "acme/app"),
		    "approvals:  0 of 1 required, 1 requested changes");
	expect_free(krate(0, rob, "pr", "review", num, "-r", "acme/app", "--approve", "--body", "LGTM"),
		    "reviewed pull request #1: approved");

	/* a check; then the view shows it mergeable */
	expect_free(krate(0, dana, "pr", "check", num, "-r", "acme/app", "--name", "ci/test", "--state", "success",
			  "--url", "https://ci.example/1"),
		    "check ci/test on pull request #1: success");
	out = krate(0, dana, "pr", "view", num, "-r", "acme/app");
	expect(out, "mergeable:  yes\n");
	expect(out, "approvals:  1 of 1 required\n");
	expect(out, "checks:     1\n  - ci/test: success  https://ci.example/1\n");
	free(out);

	/* a comment, then the merge */
	expect_free(krate(0, rob, "pr", "comment", num, "-r", "acme/app", "--body", "Nice work"),
		    "commented on pull request #1");
	j = call("GET", "/api/orgs/acme/repositories/app/pulls/1/comments", dana, NULL, 200);
	assert_string_equal(str(json_array_get(json_object_get(j, "items"), 0), "spec", "body"), "Nice work");
	json_decref(j);
	out = krate(0, dana, "pr", "merge", num, "-r", "acme/app", "--strategy", "squash");
	expect(out, "pull request #1 merged (squash): ");
	head = sh_out("cd w && git fetch -q origin && git rev-parse origin/main");
	expect(out, head);
	free(head);
	free(out);
	out = krate(0, dana, "pr", "view", num, "-r", "acme/app", "-o", "json");
	j = json_loads(out, 0, NULL);
	assert_string_equal(str(j, "status", "phase"), "Merged");
	json_decref(j);
	free(out);
	expect_free(krate(0, dana, "pr", "list", "-r", "acme/app", "--state", "merged"), "Merged");
	expect_free(krate(1, dana, "pr", "merge", num, "-r", "acme/app"), "is not open");

	/* the title policy: enforced by default, a warning in audit mode */
	expect_free(krate(1, dana, "pr", "create", "-r", "acme/app", "--title", "tiny", "--source", "topic"),
		    "(POLICY_VIOLATION)");
	json_decref(call("POST", "/api/orgs/acme/resources", srv.admin_token,
			 "{\"kind\":\"PolicyBinding\",\"metadata\":{\"name\":\"pr-title-required\"},"
			 "\"spec\":{\"templateRef\":\"pr-title-required\",\"mode\":\"audit\"}}",
			 201));
	out = krate(0, dana, "pr", "create", "-r", "acme/app", "--title", "tiny", "--source", "topic");
	expect(out, "warning: PullRequest spec.title must be descriptive\n");
	n2 = opened_number(out);
	expect(out, "opened: tiny\n");
	free(out);
	snprintf(num, sizeof(num), "%lld", n2);

	/* close and reopen */
	expect_free(krate(0, dana, "pr", "close", num, "-r", "acme/app"), "closed");
	expect_free(krate(0, dana, "pr", "view", num, "-r", "acme/app"), "state:      Closed\n");
	expect_free(krate(0, dana, "pr", "list", "-r", "acme/app", "--state", "closed"), "tiny");
	expect_free(krate(0, dana, "pr", "reopen", num, "-r", "acme/app"), "reopened");
	expect_free(krate(0, dana, "pr", "view", num, "-r", "acme/app"), "state:      Open\n");

	/* errors print the envelope and exit 1; usage errors exit 2 before any request */
	expect_free(krate(1, viewer, "pr", "create", "-r", "acme/app", "--title", "Viewers cannot", "--source",
			  "topic"),
		    "(FORBIDDEN)");
	expect_free(krate(1, dana, "pr", "view", "99", "-r", "acme/app"), "(NOT_FOUND)");
	expect_free(krate(1, dana, "pr", "create", "-r", "acme/app", "--title", "Unknown branch here", "--source",
			  "nope"),
		    "  sourceRef: no such branch\n");
	expect_free(krate(1, dana, "pr", "list", "-r", "nope/app"), "(ORG_NOT_FOUND)");
	out = krate(2, dana, "pr", "merge", num, "-r", "acme/app", "--strategy", "rebase");
	expect(out, "error: --strategy must be merge, squash or fast-forward\n");
	expect(out, "usage: krate pr merge N");
	free(out);
	free(viewer);
}

static void test_cli_issues(void **state)
{
	char *out, num[32];
	json_t *j, *spec;
	long long n;

	(void)state;
	out = krate(0, dana, "issue", "create", "-r", "acme/app", "--title", "Login is slow", "--body", "It takes ages",
		    "--label", "bug", "--assignee", "rob");
	expect(out, "opened: Login is slow");
	n = opened_number(out);
	free(out);
	snprintf(num, sizeof(num), "%lld", n);

	out = krate(0, dana, "issue", "list", "-r", "acme/app");
	expect(out, "NUMBER   TITLE");
	expect(out, "Login is slow");
	expect(out, "bug");
	expect(out, "rob");
	free(out);

	expect_free(krate(0, rob, "issue", "comment", num, "-r", "acme/app", "--body", "Seen it too"),
		    "commented on issue #");
	out = krate_in(0, dana, "from stdin\nline 2\n", "issue", "comment", num, "-r", "acme/app", "--body-file", "-",
		       NULL);
	free(out);
	expect_free(krate(0, dana, "issue", "edit", num, "-r", "acme/app", "--add-label", "p1", "--add-label", "bug",
			  "--assignee", "dana", "--title", "Login is very slow"),
		    "updated");
	j = call("GET", "/api/orgs/acme/repositories/app/issues", dana, NULL, 200);
	spec = json_object_get(json_array_get(json_object_get(j, "items"), 0), "spec");
	assert_string_equal(json_string_value(json_object_get(spec, "title")), "Login is very slow");
	assert_int_equal(json_array_size(json_object_get(spec, "labels")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "labels"), 1)), "p1");
	assert_int_equal(json_array_size(json_object_get(spec, "assignees")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "assignees"), 0)), "dana");
	json_decref(j);

	out = krate(0, dana, "issue", "view", num, "-r", "acme/app");
	expect(out, " Login is very slow\n");
	expect(out, "labels:     bug, p1\n");
	expect(out, "assignees:  dana\n");
	expect(out, "  It takes ages\n");
	expect(out, "comments:   2\n");
	expect(out, "rob (");
	expect(out, "  Seen it too\n");
	expect(out, "  from stdin\n  line 2\n");
	free(out);
	out = krate(0, dana, "issue", "view", num, "-r", "acme/app", "-o", "json");
	j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "comments")), 2);
	assert_string_equal(str(json_object_get(j, "issue"), "status", "phase"), "Open");
	json_decref(j);
	free(out);

	expect_free(krate(0, dana, "issue", "close", num, "-r", "acme/app"), "closed");
	expect_free(krate(0, dana, "issue", "list", "-r", "acme/app"), "No issues found");
	expect_free(krate(0, dana, "issue", "list", "-r", "acme/app", "--state", "closed"), "Closed");
	expect_free(krate(0, dana, "issue", "reopen", num, "-r", "acme/app"), "reopened");
	expect_free(krate(1, dana, "issue", "comment", num, "-r", "acme/app", "--body", ""), "(INVALID_RESOURCE)");
	expect_free(krate(2, dana, "issue", "edit", num, "-r", "acme/app"), "usage: krate issue edit N");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_pull_requests),
		cmocka_unit_test(test_cli_issues),
	};

	harness_group(&srv, NULL, work, sizeof(work), "clipr");
	return cmocka_run_group_tests(tests, harness_group_setup, teardown);
}
