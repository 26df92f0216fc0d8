/* git_read_file on a real bare repository: a file's bytes at a commit, a
 * file in a subdirectory, the first bytes of a file over the cap, and the
 * refusals (paths that leave the tree, a directory, a missing file, a bad
 * commit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "git/git.h"

static char tmp[64];
static char repo_dir[128];
static struct git_repo repo = { "/usr/bin/git", repo_dir };
static char head[GIT_SHA_HEX + 1];

static int setup(void **state)
{
	char cmd[1024];
	FILE *f;

	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/krate-blob-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(repo_dir, sizeof(repo_dir), "%s/repo.git", tmp);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && export HOME='%s' GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@b "
		 "GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@b && git init -q --bare -b main repo.git && "
		 "git init -q -b main w && cd w && mkdir -p src && printf 'hello\\n' > README.md && "
		 "printf 'int x;\\n' > src/x.c && seq 1 10000 > big.txt && git add -A && git commit -qm one && "
		 "git push -q ../repo.git main && git rev-parse HEAD",
		 tmp, tmp);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (!fgets(head, sizeof(head), f)) {
		pclose(f);
		return -1;
	}
	return pclose(f) == 0 && git_sha_valid(head) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_read(void **state)
{
	struct kerr e = KERR_INIT;
	struct buf b;
	int truncated = 1;

	(void)state;
	assert_int_equal(git_read_file(&repo, head, "README.md", 1024, &b, &truncated, &e), 0);
	assert_int_equal(truncated, 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "hello\n", 6);
	buf_free(&b);
	assert_int_equal(git_read_file(&repo, head, "src/x.c", 1024, &b, &truncated, &e), 0);
	assert_string_equal(b.data, "int x;\n");
	buf_free(&b);
	/* over the cap: the first bytes, and the caller is told */
	assert_int_equal(git_read_file(&repo, head, "big.txt", 100, &b, &truncated, &e), 0);
	assert_int_equal(truncated, 1);
	assert_int_equal(b.len, 100);
	assert_memory_equal(b.data, "1\n2\n3\n", 6);
	buf_free(&b);
}

static void test_refusals(void **state)
{
	static const char *const bad_paths[] = { "../x", "src/../README.md", "/etc/passwd", "./README.md", "src//x.c",
						 "src/", "", "a\nb", NULL };
	struct kerr e = KERR_INIT;
	struct buf b;
	int truncated, i;

	(void)state;
	for (i = 0; bad_paths[i]; i++) {
		assert_int_equal(git_read_file(&repo, head, bad_paths[i], 1024, &b, &truncated, &e), KE_INVALID);
		buf_free(&b);
		kerr_clear(&e);
	}
	assert_int_equal(git_read_file(&repo, head, "missing.txt", 1024, &b, &truncated, &e), KE_NOTFOUND);
	buf_free(&b);
	kerr_clear(&e);
	assert_int_equal(git_read_file(&repo, head, "src", 1024, &b, &truncated, &e), KE_NOTFOUND);
	buf_free(&b);
	kerr_clear(&e);
	assert_int_equal(git_read_file(&repo, "main", "README.md", 1024, &b, &truncated, &e), KE_INVALID);
	buf_free(&b);
	kerr_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
