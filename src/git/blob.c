/* Reading one file of a commit without a working tree (`git cat-file blob`),
 * e.g. the source files an agent run puts in its context. */
#include "git/git_internal.h"
#include "core/util.h"

#include <string.h>

#define GIT_PATH_MAX 4096

/* A repository-relative path with no empty, "." or ".." component and no
 * control bytes, so "<sha>:<path>" can only name a file below the commit's
 * root tree. */
static int path_valid(const char *path)
{
	const char *comp;
	size_t n, i, len;

	if (!path || !*path)
		return 0;
	n = strlen(path);
	if (n > GIT_PATH_MAX || !util_utf8_valid(path, n))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return 0;
	for (comp = path;; comp += len + 1) {
		len = strcspn(comp, "/");
		if (len == 0 || (len == 1 && comp[0] == '.') || (len == 2 && !memcmp(comp, "..", 2)))
			return 0;
		if (!comp[len])
			return 1;
	}
}

int git_read_file(const struct git_repo *r, const char *commit, const char *path, size_t max, struct buf *out,
		  int *truncated, struct kerr *e)
{
	struct buf spec = BUF_INIT(GIT_PATH_MAX + GIT_SHA_HEX + 2), err = BUF_INIT(GIT_ERR_MAX);
	struct git_io io = { .err = &err };
	int rc;

	*truncated = 0;
	buf_init(out, max);
	if (!git_sha_valid(commit))
		return kerr_set(e, KE_INVALID, NULL, "invalid commit");
	if (!path_valid(path))
		return kerr_set(e, KE_INVALID, NULL, "invalid file path");
	if (buf_printf(&spec, "%s:%s", commit, path))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	io.out = out;
	rc = git_run(r, (const char *const[]){ "cat-file", "blob", spec.data, NULL }, &io, e);
	if (rc)
		goto out;
	if (io.truncated) {
		/* the caller gets the first max bytes and decides */
		*truncated = 1;
	} else if (io.status == 128) {
		/* git's answer for a missing path, or one that is a tree or a submodule */
		rc = kerr_set(e, KE_NOTFOUND, NULL, "%s is not a file at commit %.12s", path, commit);
	} else if (io.status) {
		rc = git_fail(e, KE_IO, "cat-file", &io);
	}
out:
	if (rc)
		buf_free(out);
	buf_free(&spec);
	buf_free(&err);
	return rc;
}
