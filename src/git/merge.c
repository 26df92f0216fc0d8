/* Merging: mergeability with `merge-tree --write-tree` and the commit a
 * merge produces with `commit-tree`. Refs are resolved once up front so that
 * every step works on the same commits even if a push moves them meanwhile. */
#include "git/git_internal.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define IDENT_MAX 256
#define PATHS_IN_MESSAGE 20

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sorted, unique paths of a list of NUL-terminated names. Only complete
 * names count, so a list cut at the output cap loses its last one. */
static json_t *conflict_paths(const char *s, size_t n)
{
	const char **v = NULL, *p, *z, *end = s + n;
	json_t *a = json_array(), *j;
	size_t cnt = 0, i;

	for (p = s; p < end && (z = memchr(p, '\0', (size_t)(end - p))); p = z + 1)
		cnt++;
	if (!a || (cnt && !(v = malloc(cnt * sizeof(*v)))))
		goto fail;
	for (p = s, i = 0; i < cnt; p += strlen(p) + 1)
		v[i++] = p;
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	for (i = 0; i < cnt; i++) {
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		j = git_json_text(v[i], strlen(v[i]));
		if (!j || json_array_append_new(a, j))
			goto fail;
	}
	free(v);
	return a;
fail:
	free(v);
	json_decref(a);
	return NULL;
}

/* merge-tree on two commit SHAs. With -z and --no-messages git prints
 * "<tree>\0" and exits 0 when clean; on conflicts it exits 1 and prints
 * "<tree>\0" followed by "<path>\0" for each conflicted path. Exit 1 with
 * no tree (a bad revision) or any other status is a failure. */
static int merge_tree(const struct git_repo *r, const char *base, const char *head, struct git_merge_result *m,
		      struct kerr *e)
{
	struct buf out = BUF_INIT(GIT_OUT_MAX), err = BUF_INIT(GIT_ERR_MAX);
	struct git_io io = { .out = &out, .err = &err };
	char tree[GIT_SHA_HEX + 1];
	int rc;

	rc = git_run(r,
		     (const char *const[]){ "merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", base,
					    head, NULL },
		     &io, e);
	if (rc)
		goto out;
	if (!io.truncated && io.status != 0 && io.status != 1) {
		if (err.data && strstr(err.data, "unrelated histories"))
			rc = kerr_set(e, KE_UNPROCESSABLE, NULL, "the branches share no history");
		else
			rc = git_fail(e, KE_IO, "merge-tree", &io);
		goto out;
	}
	if (out.len <= GIT_SHA_HEX || out.data[GIT_SHA_HEX] != '\0' || !git_parse_sha(out.data, out.len, tree)) {
		rc = git_fail(e, KE_IO, "merge-tree", &io);
		goto out;
	}
	m->clean = io.status == 0 && !io.truncated && out.len == GIT_SHA_HEX + 1;
	if (m->clean)
		memcpy(m->tree, tree, sizeof(tree));
	m->conflicts = m->clean ? json_array() : conflict_paths(out.data + GIT_SHA_HEX + 1, out.len - GIT_SHA_HEX - 1);
	if (!m->conflicts)
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
out:
	buf_free(&out);
	buf_free(&err);
	return rc;
}

int git_merge_check(const struct git_repo *r, const char *base, const char *head, struct git_merge_result *out,
		    struct kerr *e)
{
	char b[GIT_SHA_HEX + 1], h[GIT_SHA_HEX + 1];
	int rc;

	if (!out)
		return kerr_set(e, KE_INVALID, NULL, "no result given");
	memset(out, 0, sizeof(*out));
	if ((rc = git_resolve(r, base, b, e)) || (rc = git_resolve(r, head, h, e)))
		return rc;
	return merge_tree(r, b, h, out, e);
}

/* git drops these "crud" bytes around a name and refuses a name of nothing
 * else; '<' and '>' would end the ident early, control bytes break the
 * commit header. */
static int ident_text_valid(const char *s, int is_name)
{
	size_t n = s ? strlen(s) : 0, i;
	int content = 0;

	if (!n || n > IDENT_MAX || !util_utf8_valid(s, n))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '<' || c == '>')
			return 0;
		if (c > 0x20 && !strchr(".,:;\"\\'", c))
			content = 1;
	}
	return content || !is_name;
}

/* The conflict error: the first few paths, so the message stays short. */
static int conflict_error(struct kerr *e, json_t *paths)
{
	struct buf b = BUF_INIT(16384);
	size_t i, n = json_array_size(paths);
	int rc = 0;

	for (i = 0; i < n && i < PATHS_IN_MESSAGE && !rc; i++)
		rc = buf_printf(&b, "%s%s", i ? ", " : "", json_string_value(json_array_get(paths, i)));
	if (!rc && n > PATHS_IN_MESSAGE)
		rc = buf_printf(&b, " and %zu more", n - PATHS_IN_MESSAGE);
	if (rc)
		rc = kerr_set(e, KE_CONFLICT, NULL, "the merge has conflicts");
	else
		rc = kerr_set(e, KE_CONFLICT, NULL, "the merge has conflicts in %s", b.data ? b.data : "");
	buf_free(&b);
	return rc;
}

/* commit-tree with parents p1 and p2 (NULL: none); the message goes through
 * stdin, ended with a newline as `git commit` would. */
static int commit_tree(const struct git_repo *r, const char *tree, const char *p1, const char *p2,
		       const struct git_ident *who, const char *message, char sha[GIT_SHA_HEX + 1],
		       struct kerr *e)
{
	size_t mlen = strlen(message);
	struct buf envb = BUF_INIT(4 * IDENT_MAX + 512), in = BUF_INIT(mlen + 2), out = BUF_INIT(256),
		   err = BUF_INIT(GIT_ERR_MAX);
	struct git_io io = { .out = &out, .err = &err };
	const char *env[7], *p;
	long long now = (long long)util_now_seconds();
	int rc, i;

	if (buf_printf(&envb,
		       "GIT_AUTHOR_NAME=%s%cGIT_AUTHOR_EMAIL=%s%cGIT_AUTHOR_DATE=%lld +0000%c"
		       "GIT_COMMITTER_NAME=%s%cGIT_COMMITTER_EMAIL=%s%cGIT_COMMITTER_DATE=%lld +0000",
		       who->name, 0, who->email, 0, now, 0, who->name, 0, who->email, 0, now) ||
	    buf_add(&in, message, mlen) || ((!mlen || message[mlen - 1] != '\n') && buf_addch(&in, '\n'))) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	for (i = 0, p = envb.data; i < 6; i++, p += strlen(p) + 1)
		env[i] = p;
	env[6] = NULL;
	io.env = env;
	io.in = in.data;
	io.in_len = in.len;
	rc = git_run(r,
		     p2 ? (const char *const[]){ "commit-tree", tree, "-p", p1, "-p", p2, "-F", "-", NULL }
			: (const char *const[]){ "commit-tree", tree, "-p", p1, "-F", "-", NULL },
		     &io, e);
	if (!rc && (io.status || io.truncated || !git_parse_sha(out.data, out.len, sha)))
		rc = git_fail(e, KE_IO, "commit-tree", &io);
out:
	buf_free(&envb);
	buf_free(&in);
	buf_free(&out);
	buf_free(&err);
	return rc;
}

int git_merge_commit(const struct git_repo *r, enum git_merge_strategy s, const char *base, const char *head,
		     const struct git_ident *author, const char *message, char sha[GIT_SHA_HEX + 1],
		     struct kerr *e)
{
	char b[GIT_SHA_HEX + 1], h[GIT_SHA_HEX + 1];
	struct git_merge_result m = { 0 };
	int rc;

	if (s != GIT_MERGE_COMMIT && s != GIT_MERGE_SQUASH && s != GIT_MERGE_FAST_FORWARD)
		return kerr_set(e, KE_INVALID, NULL, "unknown merge strategy");
	if (!author || !ident_text_valid(author->name, 1) || !ident_text_valid(author->email, 0) || !message)
		return kerr_set(e, KE_INVALID, NULL, "invalid author or message for the merge commit");
	if ((rc = git_resolve(r, base, b, e)) || (rc = git_resolve(r, head, h, e)))
		return rc;
	if (s == GIT_MERGE_FAST_FORWARD) {
		rc = git_is_ancestor(r, b, h, e);
		if (rc < 0)
			return rc;
		if (!rc)
			return kerr_set(e, KE_CONFLICT, NULL, "cannot fast-forward: the target has commits the source lacks");
		memcpy(sha, h, sizeof(h));
		return 0;
	}
	rc = merge_tree(r, b, h, &m, e);
	if (!rc && !m.clean)
		rc = conflict_error(e, m.conflicts);
	if (!rc)
		rc = commit_tree(r, m.tree, b, s == GIT_MERGE_COMMIT ? h : NULL, author, message, sha, e);
	json_decref(m.conflicts);
	return rc;
}
