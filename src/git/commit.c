/* Commits made on the server from file contents, without a working tree:
 * a private index file, hash-object, update-index, write-tree, commit-tree. */
#include "git/git_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Runs args with the private index; stdout (trimmed to a SHA) into sha when given. */
static int run_index(const struct git_repo *r, const char *index_env, const char *const args[], const char *in,
		     size_t in_len, char sha[GIT_SHA_HEX + 1], struct kerr *e)
{
	const char *env[] = { index_env, NULL };
	struct buf out = BUF_INIT(4096), err = BUF_INIT(GIT_ERR_MAX);
	struct git_io io = { .env = env, .in = in, .in_len = in_len, .out = &out, .err = &err };
	int rc = git_run(r, args, &io, e);

	if (!rc && io.status)
		rc = git_fail(e, KE_IO, args[0], &io);
	if (!rc && sha && !git_parse_sha(out.data ? out.data : "", out.len, sha))
		rc = kerr_set(e, KE_IO, NULL, "git %s gave no object id", args[0]);
	buf_free(&out);
	buf_free(&err);
	return rc;
}

int git_commit_files(const struct git_repo *r, const char *parent, const struct git_file *files, size_t n,
		     const struct git_ident *who, const char *message, long long when, char sha[GIT_SHA_HEX + 1],
		     struct kerr *e)
{
	char index_env[4200], blob[GIT_SHA_HEX + 1], tree[GIT_SHA_HEX + 1], info[GIT_SHA_HEX + 4200];
	char an[300], ae[300], ad[64], cn[300], ce[300], cd[64];
	const char *env[] = { an, ae, ad, cn, ce, cd, NULL };
	unsigned char raw[8];
	size_t i;
	int rc;

	if (parent && !git_sha_valid(parent))
		return kerr_set(e, KE_INVALID, NULL, "invalid parent commit");
	randombytes_buf(raw, sizeof(raw));
	if (snprintf(index_env, sizeof(index_env), "GIT_INDEX_FILE=%s/krate-index-%02x%02x%02x%02x%02x%02x%02x%02x",
		     r->dir, raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7]) >= (int)sizeof(index_env))
		return kerr_set(e, KE_INVALID, NULL, "repository path too long");
	rc = run_index(r, index_env,
		       parent ? (const char *const[]){ "read-tree", parent, NULL }
			      : (const char *const[]){ "read-tree", "--empty", NULL },
		       NULL, 0, NULL, e);
	for (i = 0; !rc && i < n; i++) {
		const char *path = files[i].path;

		if (!path || !*path || path[0] == '/' || strstr(path, "..") || strchr(path, ',') ||
		    strlen(path) > 4000) {
			rc = kerr_set(e, KE_INVALID, NULL, "invalid file path");
			break;
		}
		rc = run_index(r, index_env, (const char *const[]){ "hash-object", "-w", "--stdin", NULL },
			       files[i].content, strlen(files[i].content), blob, e);
		if (!rc) {
			snprintf(info, sizeof(info), "100644,%s,%s", blob, path);
			rc = run_index(r, index_env,
				       (const char *const[]){ "update-index", "--add", "--cacheinfo", info, NULL }, NULL,
				       0, NULL, e);
		}
	}
	if (!rc)
		rc = run_index(r, index_env, (const char *const[]){ "write-tree", NULL }, NULL, 0, tree, e);
	unlink(index_env + strlen("GIT_INDEX_FILE="));
	if (rc)
		return rc;
	snprintf(an, sizeof(an), "GIT_AUTHOR_NAME=%s", who->name);
	snprintf(ae, sizeof(ae), "GIT_AUTHOR_EMAIL=%s", who->email);
	snprintf(ad, sizeof(ad), "GIT_AUTHOR_DATE=%lld +0000", when);
	snprintf(cn, sizeof(cn), "GIT_COMMITTER_NAME=%s", who->name);
	snprintf(ce, sizeof(ce), "GIT_COMMITTER_EMAIL=%s", who->email);
	snprintf(cd, sizeof(cd), "GIT_COMMITTER_DATE=%lld +0000", when);
	{
		struct buf out = BUF_INIT(4096), err = BUF_INIT(GIT_ERR_MAX);
		struct git_io io = { .env = env, .in = message, .in_len = strlen(message), .out = &out, .err = &err };

		rc = git_run(r,
			     parent ? (const char *const[]){ "commit-tree", tree, "-p", parent, "-F", "-", NULL }
				    : (const char *const[]){ "commit-tree", tree, "-F", "-", NULL },
			     &io, e);
		if (!rc && io.status)
			rc = git_fail(e, KE_IO, "commit-tree", &io);
		if (!rc && !git_parse_sha(out.data ? out.data : "", out.len, sha))
			rc = kerr_set(e, KE_IO, NULL, "git commit-tree gave no object id");
		buf_free(&out);
		buf_free(&err);
	}
	return rc;
}
