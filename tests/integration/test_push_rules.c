/* Push rules at receive time with the real git client: BranchProtection
 * rejects a developer's direct push, anyone's force-push and deletion of a
 * protected branch; RefPolicy denies ref prefixes; git prints the reason and
 * the server's refs stay as they were. */
#include "harness.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct krate_server srv;
static char work[256];
static char last[8192];    /* the output of the last run() */

static int setup(void **state)
{
	(void)state;
	if (harness_git_workdir(work, sizeof(work), "rulework"))
		return -1;
	return harness_start(&srv, NULL);
}

static int teardown(void **state)
{
	(void)state;
	if (harness_git_workdir_remove(work))
		return -1;
	return harness_stop(&srv);
}

/* Runs a shell command line in the work directory; its exit code, with its
 * stdout and stderr in last. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048], full[2600];
	va_list ap;
	FILE *f;
	size_t n;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && (%s) >out.txt 2>&1", work, cmd);
	rc = system(full);
	snprintf(full, sizeof(full), "%s/out.txt", work);
	f = fopen(full, "r");
	assert_non_null(f);
	n = fread(last, 1, sizeof(last) - 1, f);
	last[n] = '\0';
	fclose(f);
	/* The hook is the server's binary: a sanitizer build reports through git. */
	if (strstr(last, "Sanitizer") || strstr(last, "runtime error"))
		fail_msg("a sanitizer report in git's output:\n%s", last);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void expect_out(const char *needle)
{
	if (!strstr(last, needle))
		fail_msg("expected \"%s\" in git's output:\n%s", needle, last);
}

static void url(char *out, size_t size, const char *user, const char *token)
{
	snprintf(out, size, "http://%s:%s@127.0.0.1:%d/rules/code.git", user, token, srv.port);
}

/* The server's value of ref ("" when absent). */
static char *remote_ref(const char *ref)
{
	static char sha[64];
	char u[512];

	url(u, sizeof(u), "admin", srv.admin_token);
	assert_int_equal(run("git -c credential.helper= ls-remote '%s' %s | cut -f1", u, ref), 0);
	snprintf(sha, sizeof(sha), "%.63s", last);
	sha[strcspn(sha, "\n")] = '\0';
	return sha;
}

static char *local_head(const char *dir)
{
	static char sha[64];

	assert_int_equal(run("git -C %s rev-parse HEAD", dir), 0);
	snprintf(sha, sizeof(sha), "%.63s", last);
	sha[strcspn(sha, "\n")] = '\0';
	return sha;
}

static void apply(const char *body)
{
	struct http_resp r;

	assert_int_equal(http_call(&srv, "POST", "/api/orgs/rules/resources", srv.admin_token, body, NULL, &r), 0);
	if (r.status != 201 && r.status != 200)
		fail_msg("apply failed (%ld): %s", r.status, r.body);
	http_resp_free(&r);
}

static void make_repo(void)
{
	struct http_resp r;
	const char *phase = NULL;
	int i;

	apply("{\"kind\":\"Repository\",\"metadata\":{\"name\":\"code\"},"
	      "\"spec\":{\"visibility\":\"private\",\"defaultBranch\":\"main\"}}");
	for (i = 0; i < 200; i++) {
		assert_int_equal(http_call(&srv, "GET", "/api/orgs/rules/resources/Repository/code", srv.admin_token,
					   NULL, NULL, &r), 0);
		phase = json_string_value(json_object_get(json_object_get(r.json, "status"), "phase"));
		if (phase && !strcmp(phase, "Ready")) {
			http_resp_free(&r);
			return;
		}
		http_resp_free(&r);
		usleep(25000);
	}
	fail_msg("repository never became Ready");
}

static void test_push_rules(void **state)
{
	char ua[512], ud[512], path[512], head0[64], ff[64];
	struct http_resp r;
	struct stat st;
	char *dev;
	int i;

	(void)state;
	assert_int_equal(http_call(&srv, "POST", "/api/orgs", srv.admin_token, "{\"name\":\"rules\"}", NULL, &r), 0);
	assert_true(r.status == 201 || r.status == 200);
	http_resp_free(&r);
	make_repo();
	/* the hook is installed, executable, and names no user input */
	snprintf(path, sizeof(path), "%s/git/rules/code.git/hooks/pre-receive", srv.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);

	url(ua, sizeof(ua), "admin", srv.admin_token);
	dev = harness_token(&srv, "dana", "rules", "developer");
	assert_non_null(dev);
	url(ud, sizeof(ud), "dana", dev);

	/* no rules yet: the admin pushes the first main */
	assert_int_equal(run("git -c credential.helper= clone -q '%s' one", ua), 0);
	assert_int_equal(run("cd one && echo hello > README.md && git add . && git commit -qm first"
			     " && git -c credential.helper= push -q origin HEAD:main"), 0);
	snprintf(head0, sizeof(head0), "%.63s", local_head("one"));
	assert_string_equal(remote_ref("refs/heads/main"), head0);

	apply("{\"kind\":\"BranchProtection\",\"metadata\":{\"name\":\"main\"},"
	      "\"spec\":{\"refs\":[\"refs/heads/main\"]}}");

	/* a developer's direct push to main is rejected with the reason */
	assert_int_equal(run("git -c credential.helper= clone -q '%s' dev", ud), 0);
	assert_int_equal(run("cd dev && echo more >> README.md && git commit -qam second"), 0);
	assert_int_not_equal(run("cd dev && git -c credential.helper= push origin HEAD:main"), 0);
	expect_out("direct pushes to refs/heads/main are not allowed (BranchProtection main): open a pull request");
	assert_string_equal(remote_ref("refs/heads/main"), head0);

	/* ... and a feature branch is fine */
	assert_int_equal(run("cd dev && git -c credential.helper= push -q origin HEAD:refs/heads/feature"), 0);
	assert_string_equal(remote_ref("refs/heads/feature"), local_head("dev"));

	/* an admin cannot force-push main */
	assert_int_equal(run("cd one && echo rewritten > README.md && git commit -q --amend -am rewritten"), 0);
	assert_int_not_equal(run("cd one && git -c credential.helper= push --force origin HEAD:main"), 0);
	expect_out("force-pushing to refs/heads/main is not allowed (BranchProtection main)");
	assert_string_equal(remote_ref("refs/heads/main"), head0);

	/* nor delete it */
	assert_int_not_equal(run("cd one && git -c credential.helper= push origin :main"), 0);
	expect_out("deleting refs/heads/main is not allowed (BranchProtection main)");
	assert_string_equal(remote_ref("refs/heads/main"), head0);

	/* but fast-forwards it directly */
	assert_int_equal(run("cd one && git reset -q --hard %s && echo ff >> README.md && git commit -qam ff"
			     " && git -c credential.helper= push -q origin HEAD:main", head0), 0);
	snprintf(ff, sizeof(ff), "%.63s", local_head("one"));
	assert_string_equal(remote_ref("refs/heads/main"), ff);

	/* RefPolicy: tags are denied here; a policy for another repository does not apply */
	apply("{\"kind\":\"RefPolicy\",\"metadata\":{\"name\":\"no-tags\"},\"spec\":{\"deny\":[\"refs/tags/\"]}}");
	apply("{\"kind\":\"RefPolicy\",\"metadata\":{\"name\":\"elsewhere\"},"
	      "\"spec\":{\"repository\":\"other\",\"deny\":[\"refs/heads/scratch/\"]}}");
	assert_int_equal(run("cd one && git tag v1"), 0);
	assert_int_not_equal(run("cd one && git -c credential.helper= push origin v1"), 0);
	expect_out("ref refs/tags/v1 is denied by RefPolicy no-tags");
	assert_string_equal(remote_ref("refs/tags/v1"), "");
	/* one rejected ref rejects the whole push */
	assert_int_not_equal(run("cd one && git -c credential.helper= push origin HEAD:refs/heads/other v1"), 0);
	assert_string_equal(remote_ref("refs/heads/other"), "");
	assert_int_equal(run("cd dev && git -c credential.helper= push -q origin HEAD:refs/heads/scratch/x"), 0);
	assert_string_equal(remote_ref("refs/heads/scratch/x"), local_head("dev"));
	assert_string_equal(remote_ref("refs/heads/main"), ff);

	/* the refusals are audited */
	{
		struct http_resp a;

		assert_int_equal(http_call(&srv, "GET", "/api/audit?org=rules&limit=1000", srv.admin_token, NULL, NULL,
					   &a), 0);
		assert_non_null(strstr(a.body, "denied:POLICY"));
		http_resp_free(&a);
	}

	/* no policy file is left behind (removed as each push's worker ends) */
	for (i = 0; i < 200; i++) {
		assert_int_equal(run("ls '%s/tmp' | grep -c '^push-' || true", srv.dir), 0);
		if (!strcmp(last, "0\n"))
			break;
		usleep(25000);
	}
	assert_string_equal(last, "0\n");

	/* a start-up puts back a missing hook, and the rules still hold */
	harness_kill(&srv, SIGTERM);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(harness_restart(&srv, NULL), 0);
	for (i = 0; i < 200 && stat(path, &st); i++)
		usleep(25000);
	assert_int_equal(stat(path, &st), 0);
	url(ud, sizeof(ud), "dana", dev);
	assert_int_equal(run("cd one && echo later >> README.md && git commit -qam later"), 0);
	assert_int_not_equal(run("cd one && git -c credential.helper= push '%s' HEAD:main", ud), 0);
	expect_out("direct pushes to refs/heads/main are not allowed");
	assert_string_equal(remote_ref("refs/heads/main"), ff);
	free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_push_rules, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
