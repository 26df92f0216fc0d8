/* Workspaces: a detached `git worktree` of the bare repository per attempt,
 * the patch of what the agent changed, and removal.
 *
 * The agent can write the workspace, including its .git file, so nothing git
 * runs here after the agent trusts the workspace's git metadata: the patch is
 * read with GIT_DIR the bare repository (--work-tree the workspace), a fresh
 * index and a private object directory under DATA/runs/<attempt>, and a
 * workspace whose .git no longer points back is removed by hand. */
#include "agents/runtime_internal.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "git/git_internal.h"

#define PATCH_MAX (32u * 1024u * 1024u)
#define FILES_OUT_MAX (4u * 1024u * 1024u)
#define RMTREE_ROUNDS 8

static int path_fmt(char *out, struct kerr *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int path_fmt(char *out, struct kerr *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, RT_PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= RT_PATH_MAX)
		return kerr_set(e, KE_INVALID, NULL, "path too long");
	return 0;
}

int ws_repo_dir(struct agents_runtime *rt, const char *org, const char *repo, char *dir, struct kerr *e)
{
	struct stat st;
	int rc;

	if (!org || !repo || !util_dns_label(org) || !rt_name_ok(repo))
		return kerr_set(e, KE_INVALID, NULL, "the run names no usable repository");
	rc = path_fmt(dir, e, "%s/git/%s/%s.git", rt->data_dir, org, repo);
	if (rc)
		return rc;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return kerr_set(e, KE_NOTFOUND, NULL, "repository %s/%s has no git data", org, repo);
	return 0;
}

int ws_path(struct agents_runtime *rt, const char *sub, const char *name, char *path, struct kerr *e)
{
	if (!rt_name_ok(name))
		return kerr_set(e, KE_INVALID, NULL, "an attempt name that cannot name a directory");
	return path_fmt(path, e, "%s/%s/%s", rt->data_dir, sub, name);
}

static int make_dir(const char *path, struct kerr *e)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return kerr_set(e, KE_IO, NULL, "cannot create a runtime directory: %s", strerror(errno));
	return 0;
}

/* Runs git in repo_dir; 0 when it ran and exited 0, else KE_IO (git's stderr goes to the log). */
static int git_ok(struct agents_runtime *rt, const char *repo_dir, const char *const args[], const char *const *env,
		  struct buf *out, const char *what, struct kerr *e)
{
	struct git_repo r = { rt->git_path, repo_dir };
	struct buf err = BUF_INIT(GIT_ERR_MAX);
	struct git_io io = { 0 };
	int rc;

	io.env = env;
	io.out = out;
	io.err = &err;
	rc = git_run(&r, args, &io, e);
	if (rc == 0 && io.truncated)
		rc = kerr_set(e, KE_TOOBIG, NULL, "the output of git %s is over its limit", what);
	else if (rc == 0 && io.status != 0)
		rc = git_fail(e, KE_IO, what, &io);
	buf_free(&err);
	return rc;
}

static void prune(struct agents_runtime *rt, const char *repo_dir)
{
	static const char *const args[] = { "worktree", "prune", NULL };
	struct kerr e = KERR_INIT;

	if (git_ok(rt, repo_dir, args, NULL, NULL, "worktree prune", &e))
		log_warn("agents: cannot prune the worktrees of %s: %s", repo_dir, e.message ? e.message : "");
	kerr_clear(&e);
}

int ws_create(struct agents_runtime *rt, const char *repo_dir, const char *attempt, const char *sha, struct kerr *e)
{
	char dir[RT_PATH_MAX], path[RT_PATH_MAX];
	struct stat st;
	int rc;

	if (!git_sha_valid(sha))
		return kerr_set(e, KE_INVALID, NULL, "the run has no commit to check out");
	if ((rc = path_fmt(dir, e, "%s/workspaces", rt->data_dir)) || (rc = make_dir(dir, e)) ||
	    (rc = ws_path(rt, "workspaces", attempt, path, e)))
		return rc;
	if (lstat(path, &st) == 0) {
		ws_remove(rt, repo_dir, attempt);
		if (lstat(path, &st) == 0)
			return kerr_set(e, KE_IO, NULL, "a leftover workspace cannot be removed");
	}
	prune(rt, repo_dir);
	{
		/* No hooks: a checkout runs none of the repository's. */
		const char *const args[] = { "-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach", "--quiet",
					     path, sha, NULL };

		rc = git_ok(rt, repo_dir, args, NULL, NULL, "worktree add", e);
	}
	return rc;
}

static int files_of(const char *z, size_t n, json_t *files)
{
	size_t i = 0;

	while (i < n) {
		size_t len = strnlen(z + i, n - i);

		if (len && json_array_append_new(files, git_json_text(z + i, len)))
			return KE_NOMEM;
		i += len + 1;
	}
	return 0;
}

int ws_patch(struct agents_runtime *rt, const char *repo_dir, const char *attempt, const char *base, char **patch,
	     size_t *len, json_t **files, struct kerr *e)
{
	char ws[RT_PATH_MAX], run[RT_PATH_MAX], objects[RT_PATH_MAX], work_tree[RT_PATH_MAX + 16];
	char env_index[RT_PATH_MAX + 32], env_objects[RT_PATH_MAX + 32], env_alt[RT_PATH_MAX + 64];
	const char *env[4] = { env_index, env_objects, env_alt, NULL };
	struct buf diff = BUF_INIT(PATCH_MAX), names = BUF_INIT(FILES_OUT_MAX);
	int rc;

	*patch = NULL;
	*len = 0;
	*files = NULL;
	if (!git_sha_valid(base))
		return kerr_set(e, KE_INVALID, NULL, "no base commit");
	if ((rc = ws_path(rt, "workspaces", attempt, ws, e)) || (rc = ws_path(rt, "runs", attempt, run, e)) ||
	    (rc = path_fmt(objects, e, "%s/objects", run)) || (rc = make_dir(objects, e)) ||
	    (rc = path_fmt(work_tree, e, "--work-tree=%s", ws)) ||
	    (rc = path_fmt(env_index, e, "GIT_INDEX_FILE=%s/index", run)) ||
	    (rc = path_fmt(env_objects, e, "GIT_OBJECT_DIRECTORY=%s", objects)) ||
	    (rc = path_fmt(env_alt, e, "GIT_ALTERNATE_OBJECT_DIRECTORIES=%s/objects", repo_dir)))
		return rc;
	{
		const char *const read_tree[] = { work_tree, "read-tree", base, NULL };
		const char *const add[] = { work_tree, "add", "-A", NULL };
		const char *const show[] = { work_tree, "diff", "--cached", "--binary", "--no-ext-diff", "--no-textconv",
					     "--no-color", base, NULL };
		const char *const list[] = { work_tree, "diff", "--cached", "--name-only", "-z", "--no-ext-diff", base,
					     NULL };

		if ((rc = git_ok(rt, repo_dir, read_tree, env, NULL, "read-tree", e)) ||
		    (rc = git_ok(rt, repo_dir, add, env, NULL, "add", e)) ||
		    (rc = git_ok(rt, repo_dir, show, env, &diff, "diff", e)) ||
		    (rc = git_ok(rt, repo_dir, list, env, &names, "diff --name-only", e)))
			goto cleanup;
	}
	*files = json_array();
	if (!*files || files_of(names.data ? names.data : "", names.len, *files)) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto cleanup;
	}
	*patch = buf_detach(&diff, len);
	if (!*patch)
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
cleanup:
	if (rc) {
		json_decref(*files);
		*files = NULL;
	}
	buf_free(&diff);
	buf_free(&names);
	return rc;
}

/* nftw callbacks: one pass opens every directory to its owner (an agent may
 * have left one it cannot list), the next removes bottom-up. */
static int open_up(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)f;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(path, (st->st_mode & 07777) | 0700);
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP || flag == FTW_DNR)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

int ws_rmtree(const char *path)
{
	struct stat st;
	int i;

	for (i = 0; i < RMTREE_ROUNDS; i++) {
		if (lstat(path, &st))
			return errno == ENOENT ? 0 : -1;
		if (!S_ISDIR(st.st_mode))
			return unlink(path);
		nftw(path, open_up, 16, FTW_PHYS | FTW_MOUNT);
		nftw(path, remove_one, 16, FTW_PHYS | FTW_MOUNT | FTW_DEPTH);
	}
	return lstat(path, &st) == 0 ? -1 : 0;
}

void ws_remove(struct agents_runtime *rt, const char *repo_dir, const char *attempt)
{
	char path[RT_PATH_MAX];
	struct kerr e = KERR_INIT;
	struct stat st;

	if (ws_path(rt, "workspaces", attempt, path, &e)) {
		kerr_clear(&e);
		return;
	}
	if (repo_dir && lstat(path, &st) == 0) {
		const char *const args[] = { "worktree", "remove", "--force", path, NULL };

		/* Refused when the agent rewrote the workspace's .git; removed by hand below then. */
		if (git_ok(rt, repo_dir, args, NULL, NULL, "worktree remove", &e))
			log_info("agents: workspace %s removed by hand", attempt);
		kerr_clear(&e);
	}
	if (ws_rmtree(path))
		log_warn("agents: cannot remove the workspace of %s", attempt);
	if (repo_dir)
		prune(rt, repo_dir);
}
