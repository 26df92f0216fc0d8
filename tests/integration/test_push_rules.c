/* Push rules at receive time with the real git client: BranchProtection
 * rejects a developer's direct push, anyone's force-push and deletion of a
 * protected branch; RefPolicy denies ref prefixes; git prints the reason and
 * the server's refs stay as they were. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct krate_server srv;
static char work[256];

/* Command lines run in the work directory, their output in harness_output(). */
#define run(...) harness_run(work, __VA_ARGS__)

static void url(char *out, size_t size, const char *user, const char *token)
{
	snprintf(out, size, "http://%s:%s@127.0.0.1:%d/rules/code.git", user, token, srv.port);
}

/* The first line of the last command's output into sha (64 bytes). */
static char *first_line(char *sha)
{
	snprintf(sha, 64, "%.63s", harness_output());
	sha[strcspn(sha, "\n")] = '\0';
	return sha;
}

/* The server's value of ref ("" when absent). */
static char *remote_ref(const char *ref)
{
	static char sha[64];
	char u[512];

	url(u, sizeof(u), "admin", srv.admin_token);
	assert_int_equal(run("git -c credential.helper= ls-remote '%s' %s | cut -f1", u, ref), 0);
	return first_line(sha);
}

static char *local_head(const char *dir)
{
	static char sha[64];

	assert_int_equal(run("git -C %s rev-parse HEAD", dir), 0);
	return first_line(sha);
}

static void test_push_rules(void **state)
{
	char ua[512], ud[512], path[512], head0[64], ff[64];
	struct stat st;
	char *dev;
	int i;

	(void)state;
	harness_make_org(&srv, "rules");
	harness_make_repo(&srv, "rules", "code", "");
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

	harness_apply(&srv, "rules", "{\"kind\":\"BranchProtection\",\"metadata\":{\"name\":\"main\"},"
		      "\"spec\":{\"refs\":[\"refs/heads/main\"]}}");

	/* a developer's direct push to main is rejected with the reason */
	assert_int_equal(run("git -c credential.helper= clone -q '%s' dev", ud), 0);
	assert_int_equal(run("cd dev && echo more >> README.md && git commit -qam second"), 0);
	assert_int_not_equal(run("cd dev && git -c credential.helper= push origin HEAD:main"), 0);
	harness_expect_output("direct pushes to refs/heads/main are not allowed (BranchProtection main): "
			      "open a pull request");
	assert_string_equal(remote_ref("refs/heads/main"), head0);

	/* ... and a feature branch is fine */
	assert_int_equal(run("cd dev && git -c credential.helper= push -q origin HEAD:refs/heads/feature"), 0);
	assert_string_equal(remote_ref("refs/heads/feature"), local_head("dev"));

	/* an admin cannot force-push main */
	assert_int_equal(run("cd one && echo rewritten > README.md && git commit -q --amend -am rewritten"), 0);
	assert_int_not_equal(run("cd one && git -c credential.helper= push --force origin HEAD:main"), 0);
	harness_expect_output("force-pushing to refs/heads/main is not allowed (BranchProtection main)");
	assert_string_equal(remote_ref("refs/heads/main"), head0);

	/* nor delete it */
	assert_int_not_equal(run("cd one && git -c credential.helper= push origin :main"), 0);
	harness_expect_output("deleting refs/heads/main is not allowed (BranchProtection main)");
	assert_string_equal(remote_ref("refs/heads/main"), head0);

	/* but fast-forwards it directly */
	assert_int_equal(run("cd one && git reset -q --hard %s && echo ff >> README.md && git commit -qam ff"
			     " && git -c credential.helper= push -q origin HEAD:main", head0), 0);
	snprintf(ff, sizeof(ff), "%.63s", local_head("one"));
	assert_string_equal(remote_ref("refs/heads/main"), ff);

	/* RefPolicy: tags are denied here; a policy for another repository does not apply */
	harness_apply(&srv, "rules", "{\"kind\":\"RefPolicy\",\"metadata\":{\"name\":\"no-tags\"},"
		      "\"spec\":{\"deny\":[\"refs/tags/\"]}}");
	harness_apply(&srv, "rules", "{\"kind\":\"RefPolicy\",\"metadata\":{\"name\":\"elsewhere\"},"
		      "\"spec\":{\"repository\":\"other\",\"deny\":[\"refs/heads/scratch/\"]}}");
	assert_int_equal(run("cd one && git tag v1"), 0);
	assert_int_not_equal(run("cd one && git -c credential.helper= push origin v1"), 0);
	harness_expect_output("ref refs/tags/v1 is denied by RefPolicy no-tags");
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
		if (!strcmp(harness_output(), "0\n"))
			break;
		usleep(25000);
	}
	assert_string_equal(harness_output(), "0\n");

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
	harness_expect_output("direct pushes to refs/heads/main are not allowed");
	assert_string_equal(remote_ref("refs/heads/main"), ff);
	free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_rules),
	};

	harness_group(&srv, NULL, work, sizeof(work), "rulework");
	return cmocka_run_group_tests(tests, harness_group_setup, harness_group_teardown);
}
