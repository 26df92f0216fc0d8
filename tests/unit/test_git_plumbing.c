/* Git plumbing on a real bare repository built with /usr/bin/git in a
 * temporary directory: ref checks, resolving, merge bases, mergeability,
 * merge commits for each strategy, compare-and-swap ref updates and the pull
 * request view (files, patch, commits, truncation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <cmocka.h>

#include "git/git.h"

#define ZERO "0000000000000000000000000000000000000000"

static char tmp[64];
static char repo_dir[128];
static struct git_repo repo = { "/usr/bin/git", repo_dir };
static char c1[GIT_SHA_HEX + 1], main_sha[GIT_SHA_HEX + 1], feature_sha[GIT_SHA_HEX + 1];

/* The repository: init on main; feature (3 commits: modify a.txt, add
 * new.txt and latin1.txt, delete del.txt and rename ren.txt); main moves on
 * without touching feature's files; clash1 and clash2 change the same lines
 * as main in one and two files; lonely shares no history; big adds 12 files
 * of 10000 lines each; long adds 260 commits to main (with fast-import). */
static const char script[] =
	"set -e\n"
	"git init -q --bare -b main repo.git\n"
	"git init -q -b main w\n"
	"cd w\n"
	"seq 1 10 | sed 's/^/line /' > a.txt\n"
	"echo b > b.txt\n"
	"seq 1 20 | sed 's/^/gone /' > del.txt\n"
	"seq 1 20 | sed 's/^/moving /' > ren.txt\n"
	"seq 1 10 | sed 's/^/c /' > conflict.txt\n"
	"seq 1 10 | sed 's/^/o /' > a-other.txt\n"
	"git add -A && git commit -qm init\n"
	"git checkout -qb feature\n"
	"sed -i 's/^line 2$/changed line 2/' a.txt && git commit -qam first\n"
	"printf 'n1\\nn2\\nn3\\n' > new.txt && printf 'caf\\351\\n' > latin1.txt && git add -A && git commit -qm second\n"
	"git rm -q del.txt && git mv ren.txt renamed.txt && git commit -qm third\n"
	"git checkout -q main\n"
	"echo b2 >> b.txt && sed -i 's/^c 5$/main 5/' conflict.txt && sed -i 's/^o 1$/main 1/' a-other.txt\n"
	"git commit -qam main2\n"
	"git checkout -qb clash1 main~1\n"
	"sed -i 's/^c 5$/clash 5/' conflict.txt && git commit -qam clash1\n"
	"git checkout -qb clash2 main~1\n"
	"sed -i 's/^c 5$/clash 5/' conflict.txt && sed -i 's/^o 1$/clash 1/' a-other.txt && git commit -qam clash2\n"
	"git checkout -qb big main~1\n"
	"for i in $(seq 1 12); do seq 1 10000 | sed \"s/^/big file $i line /\" > big$i.txt; done\n"
	"git add -A && git commit -qm big\n"
	"git checkout -q --orphan lonely && git rm -rqf . && echo x > x.txt && git add x.txt && git commit -qm lonely\n"
	"git push -q ../repo.git main feature clash1 clash2 big lonely\n"
	"cd ..\n"
	"m=$(git -C repo.git rev-parse main)\n"
	"for i in $(seq 1 260); do\n"
	"  printf 'commit refs/heads/long\\ncommitter A <a@b> %d +0000\\ndata <<EOF\\nc%d\\nEOF\\n' $((1600000000 + i)) $i\n"
	"  if [ $i = 1 ]; then printf 'from %s\\n' $m; fi\n"
	"  printf 'M 644 inline f.txt\\ndata <<EOF\\n%d\\nEOF\\n\\n' $i\n"
	"done | git -C repo.git fast-import --quiet\n";

/* Runs a shell command in tmp; its stdout, trailing newlines cut (caller
 * frees), or NULL when it failed. */
static char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sh_out(const char *fmt, ...)
{
	char *cmd = NULL, *full = NULL, *out = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[8192];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	if (!cmd || asprintf(&full, "cd '%s' && %s", tmp, cmd) < 0)
		full = NULL;
	free(cmd);
	if (!full || !(f = popen(full, "r"))) {
		free(full);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		memcpy(out + len, chunk, n);
		len += n;
	}
	free(full);
	if (pclose(f) != 0) {
		free(out);
		return NULL;
	}
	if (!out)
		out = calloc(1, 1);
	assert_non_null(out);
	while (len && out[len - 1] == '\n')
		len--;
	out[len] = '\0';
	return out;
}

static void rev(const char *name, char sha[GIT_SHA_HEX + 1])
{
	char *s = sh_out("git -C repo.git rev-parse %s", name);

	assert_non_null(s);
	assert_int_equal(strlen(s), GIT_SHA_HEX);
	memcpy(sha, s, GIT_SHA_HEX + 1);
	free(s);
}

static int setup(void **state)
{
	char *out;

	(void)state;
	strcpy(tmp, "/tmp/krate-git-test-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(repo_dir, sizeof(repo_dir), "%s/repo.git", tmp);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	setenv("GIT_AUTHOR_NAME", "Ada Test", 1);
	setenv("GIT_AUTHOR_EMAIL", "ada@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Ada Test", 1);
	setenv("GIT_COMMITTER_EMAIL", "ada@example.com", 1);
	out = sh_out("%s", script);
	if (!out)
		return -1;
	free(out);
	rev("main~1", c1);
	rev("main", main_sha);
	rev("feature", feature_sha);
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_ref_valid(void **state)
{
	(void)state;
	assert_true(git_ref_valid("refs/heads/main"));
	assert_true(git_ref_valid("refs/heads/feature/x"));
	assert_true(git_ref_valid("refs/tags/v1.0"));
	assert_true(git_ref_valid("refs/heads/a.b-c_d"));
	assert_false(git_ref_valid(NULL));
	assert_false(git_ref_valid(""));
	assert_false(git_ref_valid("-x"));
	assert_false(git_ref_valid("main"));
	assert_false(git_ref_valid("refs/"));
	assert_false(git_ref_valid("refs/heads/a..b"));
	assert_false(git_ref_valid("refs/heads/x.lock"));
	assert_false(git_ref_valid("refs/heads/x.lock/y"));
	assert_false(git_ref_valid("refs/heads/a b"));
	assert_false(git_ref_valid("refs/heads/a\tb"));
	assert_false(git_ref_valid("refs/heads/a\x7f"));
	assert_false(git_ref_valid("refs/heads/a@{1}"));
	assert_false(git_ref_valid("refs/heads/a~1"));
	assert_false(git_ref_valid("refs/heads/a^"));
	assert_false(git_ref_valid("refs/heads/a:b"));
	assert_false(git_ref_valid("refs/heads/a*"));
	assert_false(git_ref_valid("refs/heads/a?"));
	assert_false(git_ref_valid("refs/heads/a[b"));
	assert_false(git_ref_valid("refs/heads/a\\b"));
	assert_false(git_ref_valid("refs/heads/.hidden"));
	assert_false(git_ref_valid("refs/heads/x/"));
	assert_false(git_ref_valid("refs/heads//x"));
	assert_false(git_ref_valid("refs/heads/x."));
	assert_false(git_ref_valid("refs/heads/\xff"));
}

static void test_sha_valid(void **state)
{
	(void)state;
	assert_true(git_sha_valid("0123456789abcdef0123456789abcdef01234567"));
	assert_true(git_sha_valid(ZERO));
	assert_false(git_sha_valid(NULL));
	assert_false(git_sha_valid(""));
	assert_false(git_sha_valid("0123456789ABCDEF0123456789abcdef01234567"));
	assert_false(git_sha_valid("0123456789abcdef0123456789abcdef0123456"));
	assert_false(git_sha_valid("0123456789abcdef0123456789abcdef012345678"));
	assert_false(git_sha_valid("0123456789abcdef0123456789abcdef0123456g"));
}

static void test_resolve(void **state)
{
	char sha[GIT_SHA_HEX + 1], *blob;
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(git_resolve(&repo, "refs/heads/main", sha, &e), 0);
	assert_string_equal(sha, main_sha);
	assert_int_equal(git_resolve(&repo, c1, sha, &e), 0);
	assert_string_equal(sha, c1);
	assert_int_equal(git_resolve(&repo, "refs/heads/nope", sha, &e), KE_NOTFOUND);
	assert_int_equal(git_resolve(&repo, ZERO, sha, &e), KE_NOTFOUND);
	assert_int_equal(git_resolve(&repo, "main", sha, &e), KE_INVALID);
	assert_int_equal(git_resolve(&repo, "--all", sha, &e), KE_INVALID);
	blob = sh_out("git -C repo.git rev-parse main:b.txt");
	assert_non_null(blob);
	assert_int_equal(git_resolve(&repo, blob, sha, &e), KE_NOTFOUND);
	free(blob);
	/* Not a repository (git must not search the parents), no git at all. */
	assert_int_equal(git_resolve(&(struct git_repo){ "/usr/bin/git", tmp }, "refs/heads/main", sha, &e), KE_IO);
	assert_int_equal(git_resolve(&(struct git_repo){ "/nonexistent/git", repo_dir }, "refs/heads/main", sha, &e),
			 KE_IO);
	kerr_clear(&e);
}

static void test_merge_base(void **state)
{
	char sha[GIT_SHA_HEX + 1];
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(git_merge_base(&repo, "refs/heads/main", "refs/heads/feature", sha, &e), 0);
	assert_string_equal(sha, c1);
	assert_int_equal(git_merge_base(&repo, main_sha, "refs/heads/lonely", sha, &e), KE_NOTFOUND);
	assert_int_equal(git_merge_base(&repo, main_sha, "refs/heads/nope", sha, &e), KE_NOTFOUND);
	kerr_clear(&e);
}

static void test_is_ancestor(void **state)
{
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(git_is_ancestor(&repo, c1, "refs/heads/main", &e), 1);
	assert_int_equal(git_is_ancestor(&repo, "refs/heads/main", "refs/heads/main", &e), 1);
	assert_int_equal(git_is_ancestor(&repo, "refs/heads/main", "refs/heads/feature", &e), 0);
	assert_int_equal(git_is_ancestor(&repo, "refs/heads/lonely", "refs/heads/main", &e), 0);
	assert_int_equal(git_is_ancestor(&repo, "refs/heads/nope", "refs/heads/main", &e), KE_NOTFOUND);
	kerr_clear(&e);
}

static void test_merge_check_clean(void **state)
{
	struct git_merge_result m;
	struct kerr e = KERR_INIT;
	char *type;

	(void)state;
	assert_int_equal(git_merge_check(&repo, "refs/heads/main", "refs/heads/feature", &m, &e), 0);
	assert_int_equal(m.clean, 1);
	assert_true(git_sha_valid(m.tree));
	assert_true(json_is_array(m.conflicts));
	assert_int_equal(json_array_size(m.conflicts), 0);
	type = sh_out("git -C repo.git cat-file -t %s", m.tree);
	assert_string_equal(type, "tree");
	free(type);
	json_decref(m.conflicts);
}

static void test_merge_check_conflicts(void **state)
{
	struct git_merge_result m;
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(git_merge_check(&repo, "refs/heads/main", "refs/heads/clash1", &m, &e), 0);
	assert_int_equal(m.clean, 0);
	assert_int_equal(json_array_size(m.conflicts), 1);
	assert_string_equal(json_string_value(json_array_get(m.conflicts, 0)), "conflict.txt");
	json_decref(m.conflicts);

	assert_int_equal(git_merge_check(&repo, "refs/heads/main", "refs/heads/clash2", &m, &e), 0);
	assert_int_equal(m.clean, 0);
	assert_int_equal(json_array_size(m.conflicts), 2);
	assert_string_equal(json_string_value(json_array_get(m.conflicts, 0)), "a-other.txt");
	assert_string_equal(json_string_value(json_array_get(m.conflicts, 1)), "conflict.txt");
	json_decref(m.conflicts);

	assert_int_equal(git_merge_check(&repo, "refs/heads/main", "refs/heads/lonely", &m, &e), KE_UNPROCESSABLE);
	assert_null(m.conflicts);
	assert_int_equal(git_merge_check(&repo, "refs/heads/main", "refs/heads/nope", &m, &e), KE_NOTFOUND);
	kerr_clear(&e);
}

static void check_parents(const char *sha, const char *want_parents)
{
	char *got = sh_out("git -C repo.git rev-list --parents -n1 %s", sha);
	char want[3 * (GIT_SHA_HEX + 1)];

	snprintf(want, sizeof(want), "%s %s", sha, want_parents);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void check_show(const char *sha, const char *file, const char *want)
{
	char *got = sh_out("git -C repo.git show %s:%s 2>/dev/null", sha, file);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_non_null(strstr(got, want));
	free(got);
}

static void test_merge_commit(void **state)
{
	const struct git_ident who = { "Merge Bot", "bot@users.krate.local" };
	char sha[GIT_SHA_HEX + 1], squash[GIT_SHA_HEX + 1], parents[2 * GIT_SHA_HEX + 2];
	char *s, *t;
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(git_merge_commit(&repo, GIT_MERGE_COMMIT, "refs/heads/main", "refs/heads/feature", &who,
					  "Merge feature\n\nBody line", sha, &e), 0);
	snprintf(parents, sizeof(parents), "%s %s", main_sha, feature_sha);
	check_parents(sha, parents);
	check_show(sha, "b.txt", "b\nb2");
	check_show(sha, "a.txt", "changed line 2");
	check_show(sha, "new.txt", "n3");
	check_show(sha, "renamed.txt", "moving 20");
	check_show(sha, "del.txt", NULL);
	s = sh_out("git -C repo.git log -1 --format='%%an <%%ae>|%%cn <%%ce>|%%B' %s", sha);
	assert_string_equal(s, "Merge Bot <bot@users.krate.local>|Merge Bot <bot@users.krate.local>|"
			       "Merge feature\n\nBody line");
	free(s);

	assert_int_equal(git_merge_commit(&repo, GIT_MERGE_SQUASH, "refs/heads/main", feature_sha, &who, "Squash",
					  squash, &e), 0);
	check_parents(squash, main_sha);
	check_show(squash, "a.txt", "changed line 2");
	s = sh_out("git -C repo.git rev-parse %s^{tree}", sha);
	t = sh_out("git -C repo.git rev-parse %s^{tree}", squash);
	assert_string_equal(s, t);
	free(s);
	free(t);

	assert_int_equal(git_merge_commit(&repo, GIT_MERGE_FAST_FORWARD, c1, "refs/heads/feature", &who, "", sha, &e),
			 0);
	assert_string_equal(sha, feature_sha);
	assert_int_equal(git_merge_commit(&repo, GIT_MERGE_FAST_FORWARD, "refs/heads/main", "refs/heads/feature", &who,
					  "", sha, &e), KE_CONFLICT);

	assert_int_equal(git_merge_commit(&repo, GIT_MERGE_COMMIT, "refs/heads/main", "refs/heads/clash2", &who, "m",
					  sha, &e), KE_CONFLICT);
	assert_non_null(strstr(e.message, "a-other.txt, conflict.txt"));
	assert_int_equal(git_merge_commit(&repo, GIT_MERGE_SQUASH, "refs/heads/main", "refs/heads/clash1", &who, "m",
					  sha, &e), KE_CONFLICT);

	assert_int_equal(git_merge_commit(&repo, GIT_MERGE_COMMIT, "refs/heads/main", "refs/heads/feature",
					  &(struct git_ident){ "<evil>", "e@x" }, "m", sha, &e), KE_INVALID);
	assert_int_equal(git_merge_commit(&repo, GIT_MERGE_COMMIT, "refs/heads/main", "refs/heads/feature",
					  &(struct git_ident){ "..", "e@x" }, "m", sha, &e), KE_INVALID);
	assert_int_equal(git_merge_commit(&repo, GIT_MERGE_COMMIT, "refs/heads/main", "refs/heads/feature",
					  &(struct git_ident){ "A", "e@x\nx" }, "m", sha, &e), KE_INVALID);
	kerr_clear(&e);
}

static void test_update_ref(void **state)
{
	char sha[GIT_SHA_HEX + 1];
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(git_update_ref(&repo, "refs/heads/target", c1, ZERO, &e), 0);
	assert_int_equal(git_resolve(&repo, "refs/heads/target", sha, &e), 0);
	assert_string_equal(sha, c1);
	assert_int_equal(git_update_ref(&repo, "refs/heads/target", c1, ZERO, &e), KE_CONFLICT);

	assert_int_equal(git_update_ref(&repo, "refs/heads/target", main_sha, c1, &e), 0);
	assert_int_equal(git_resolve(&repo, "refs/heads/target", sha, &e), 0);
	assert_string_equal(sha, main_sha);

	assert_int_equal(git_update_ref(&repo, "refs/heads/target", feature_sha, c1, &e), KE_CONFLICT);
	assert_int_equal(git_resolve(&repo, "refs/heads/target", sha, &e), 0);
	assert_string_equal(sha, main_sha);

	assert_int_equal(git_update_ref(&repo, "refs/heads/a..b", main_sha, c1, &e), KE_INVALID);
	assert_int_equal(git_update_ref(&repo, "refs/heads/target", "refs/heads/main", main_sha, &e), KE_INVALID);
	kerr_clear(&e);
}

static json_t *file_at(json_t *files, const char *path)
{
	size_t i;
	json_t *f;

	json_array_foreach(files, i, f)
		if (!strcmp(json_string_value(json_object_get(f, "path")), path))
			return f;
	fail_msg("no file %s", path);
	return NULL;
}

static void check_file(json_t *files, const char *path, const char *old, const char *status, int add, int del)
{
	json_t *f = file_at(files, path);

	if (old)
		assert_string_equal(json_string_value(json_object_get(f, "oldPath")), old);
	else
		assert_true(json_is_null(json_object_get(f, "oldPath")));
	assert_string_equal(json_string_value(json_object_get(f, "status")), status);
	assert_int_equal(json_integer_value(json_object_get(f, "additions")), add);
	assert_int_equal(json_integer_value(json_object_get(f, "deletions")), del);
}

static void test_compare(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *o, *files, *commits, *c;
	const char *patch;
	const char *msgs[] = { "first", "second", "third" };
	size_t i;

	(void)state;
	assert_int_equal(git_compare(&repo, "refs/heads/main", "refs/heads/feature", &o, &e), 0);
	assert_string_equal(json_string_value(json_object_get(o, "mergeBase")), c1);
	assert_string_equal(json_string_value(json_object_get(o, "baseSha")), main_sha);
	assert_string_equal(json_string_value(json_object_get(o, "headSha")), feature_sha);
	assert_true(json_is_false(json_object_get(o, "truncated")));

	files = json_object_get(o, "files");
	assert_int_equal(json_array_size(files), 5);
	check_file(files, "a.txt", NULL, "modified", 1, 1);
	check_file(files, "new.txt", NULL, "added", 3, 0);
	check_file(files, "latin1.txt", NULL, "added", 1, 0);
	check_file(files, "del.txt", NULL, "deleted", 0, 20);
	check_file(files, "renamed.txt", "ren.txt", "renamed", 0, 0);

	patch = json_string_value(json_object_get(o, "patch"));
	assert_non_null(patch);
	assert_non_null(strstr(patch, "diff --git a/a.txt b/a.txt"));
	assert_non_null(strstr(patch, "\n-line 2\n+changed line 2\n"));
	assert_non_null(strstr(patch, "rename from ren.txt"));
	assert_non_null(strstr(patch, "+caf?\n")); /* Latin-1 byte made JSON-safe */
	assert_null(strstr(patch, "b2")); /* main's own change is not part of the view */

	commits = json_object_get(o, "commits");
	assert_int_equal(json_array_size(commits), 3);
	json_array_foreach(commits, i, c) {
		assert_string_equal(json_string_value(json_object_get(c, "message")), msgs[i]);
		assert_string_equal(json_string_value(json_object_get(c, "author")), "Ada Test");
		assert_true(git_sha_valid(json_string_value(json_object_get(c, "sha"))));
		assert_true(json_integer_value(json_object_get(c, "time")) > 1600000000);
	}
	assert_string_equal(json_string_value(json_object_get(json_array_get(commits, 2), "sha")), feature_sha);
	json_decref(o);

	assert_int_equal(git_compare(&repo, "refs/heads/main", main_sha, &o, &e), 0);
	assert_int_equal(json_array_size(json_object_get(o, "files")), 0);
	assert_int_equal(json_array_size(json_object_get(o, "commits")), 0);
	assert_string_equal(json_string_value(json_object_get(o, "patch")), "");
	json_decref(o);

	assert_int_equal(git_compare(&repo, "refs/heads/main", "refs/heads/lonely", &o, &e), KE_UNPROCESSABLE);
	assert_null(o);
	assert_int_equal(git_compare(&repo, "refs/heads/main", "refs/heads/nope", &o, &e), KE_NOTFOUND);
	kerr_clear(&e);
}

static void test_compare_truncated(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *o, *files;
	const char *patch, *p;
	char *full;
	size_t len, headers = 0;

	(void)state;
	assert_int_equal(git_compare(&repo, "refs/heads/main", "refs/heads/big", &o, &e), 0);
	assert_true(json_is_true(json_object_get(o, "truncated")));
	files = json_object_get(o, "files");
	assert_int_equal(json_array_size(files), 12);
	check_file(files, "big7.txt", NULL, "added", 10000, 0);

	patch = json_string_value(json_object_get(o, "patch"));
	len = strlen(patch);
	assert_true(len > 0 && len <= GIT_PATCH_MAX);
	for (p = patch; (p = strstr(p, "diff --git ")); p++)
		headers++;
	assert_true(headers >= 1 && headers < 12);
	/* Whole files only: the patch is a prefix of the full diff that ends
	 * where the next file's header starts. */
	full = sh_out("git -C repo.git diff -M %s refs/heads/big", c1);
	assert_non_null(full);
	assert_true(strlen(full) > len);
	assert_memory_equal(full, patch, len);
	assert_memory_equal(full + len, "diff --git ", 11);
	free(full);
	json_decref(o);
	kerr_clear(&e);
}

static void test_compare_many_commits(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *o, *commits;

	(void)state;
	assert_int_equal(git_compare(&repo, "refs/heads/main", "refs/heads/long", &o, &e), 0);
	commits = json_object_get(o, "commits");
	assert_int_equal(json_array_size(commits), GIT_COMMITS_MAX);
	assert_string_equal(json_string_value(json_object_get(json_array_get(commits, 0), "message")), "c1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(commits, GIT_COMMITS_MAX - 1), "message")),
			    "c250");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(commits, 0), "time")), 1600000001);
	json_decref(o);
	kerr_clear(&e);
}

/* Server-side commits from contents: a root commit, then a child that
 * replaces one file and adds a nested one; bad paths are refused. */
static void test_commit_files(void **state)
{
	struct git_ident who = { "Demo", "demo@example.test" };
	struct git_file root[] = { { "README.md", "# hi\n" }, { "a.txt", "one\n" } };
	struct git_file next[] = { { "a.txt", "two\n" }, { "src/deep/b.c", "int b;\n" } };
	struct git_file bad[] = { { "../x", "no" } };
	char r1[GIT_SHA_HEX + 1], r2[GIT_SHA_HEX + 1], r3[GIT_SHA_HEX + 1];
	struct kerr e = KERR_INIT;
	char *msg;

	(void)state;
	assert_int_equal(git_commit_files(&repo, NULL, root, 2, &who, "root\n", 1700000000, r1, &e), 0);
	msg = sh_out("git -C repo.git rev-list --parents -n1 %s", r1);
	assert_non_null(msg);
	assert_string_equal(msg, r1);   /* a root commit */
	free(msg);
	assert_int_equal(git_commit_files(&repo, r1, next, 2, &who, "next\n", 1700000100, r2, &e), 0);
	check_parents(r2, r1);
	check_show(r2, "README.md", "# hi");
	check_show(r2, "a.txt", "two");
	check_show(r2, "src/deep/b.c", "int b;");
	check_show(r1, "src/deep/b.c", NULL);
	msg = sh_out("git -C repo.git log -1 --format='%%an <%%ae> %%at %%s' %s", r2);
	assert_non_null(msg);
	assert_string_equal(msg, "Demo <demo@example.test> 1700000100 next");
	free(msg);
	assert_int_equal(git_commit_files(&repo, r1, bad, 1, &who, "bad\n", 1700000200, r3, &e), KE_INVALID);
	kerr_clear(&e);
	/* no index file is left behind */
	msg = sh_out("ls repo.git | grep -c krate-index || true");
	assert_non_null(msg);
	assert_string_equal(msg, "0");
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_valid),
		cmocka_unit_test(test_sha_valid),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_merge_base),
		cmocka_unit_test(test_is_ancestor),
		cmocka_unit_test(test_merge_check_clean),
		cmocka_unit_test(test_merge_check_conflicts),
		cmocka_unit_test(test_merge_commit),
		cmocka_unit_test(test_update_ref),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_compare_truncated),
		cmocka_unit_test(test_compare_many_commits),
		cmocka_unit_test(test_commit_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
