/* Refs and history: validating names, resolving them, merge bases and
 * ancestry, and moving a ref with a compare-and-swap. */
#include "git/git_internal.h"
#include "core/util.h"

#include <string.h>

#define GIT_REF_MAX 1024

int git_ref_valid(const char *ref)
{
	const char *comp;
	size_t n, i, len;

	if (!ref || strncmp(ref, "refs/", 5))
		return 0;
	n = strlen(ref);
	if (n > GIT_REF_MAX || !util_utf8_valid(ref, n) || ref[n - 1] == '/' || ref[n - 1] == '.' ||
	    strstr(ref, "..") || strstr(ref, "//") || strstr(ref, "@{"))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ref[i];

		if (c < 0x20 || c == 0x7f || strchr(" ~^:?*[\\", c))
			return 0;
	}
	for (comp = ref;; comp += len + 1) {
		len = strcspn(comp, "/");
		if (comp[0] == '.' || (len >= 5 && !memcmp(comp + len - 5, ".lock", 5)))
			return 0;
		if (!comp[len])
			return 1;
	}
}

int git_sha_valid(const char *s)
{
	char sha[GIT_SHA_HEX + 1];

	return s && strlen(s) == GIT_SHA_HEX && git_parse_sha(s, GIT_SHA_HEX, sha);
}

int git_rev_valid(const char *s)
{
	return git_sha_valid(s) || git_ref_valid(s);
}

int git_resolve(const struct git_repo *r, const char *ref, char sha[GIT_SHA_HEX + 1], struct kerr *e)
{
	struct buf spec = BUF_INIT(GIT_REF_MAX + 16), out = BUF_INIT(256), err = BUF_INIT(GIT_ERR_MAX);
	struct git_io io = { .out = &out, .err = &err };
	int rc;

	if (!git_rev_valid(ref))
		return kerr_set(e, KE_INVALID, NULL, "invalid ref or commit");
	if (buf_printf(&spec, "%s^{commit}", ref))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	rc = git_run(r, (const char *const[]){ "rev-parse", "--verify", "--quiet", spec.data, NULL }, &io, e);
	if (rc)
		goto out;
	if (io.status == 1)
		rc = kerr_set(e, KE_NOTFOUND, NULL, "%s is not a commit in this repository", ref);
	else if (io.status || io.truncated || !git_parse_sha(out.data, out.len, sha))
		rc = git_fail(e, KE_IO, "rev-parse", &io);
out:
	buf_free(&spec);
	buf_free(&out);
	buf_free(&err);
	return rc;
}

int git_merge_base(const struct git_repo *r, const char *a, const char *b, char sha[GIT_SHA_HEX + 1],
		   struct kerr *e)
{
	char sa[GIT_SHA_HEX + 1], sb[GIT_SHA_HEX + 1];
	struct buf out = BUF_INIT(256), err = BUF_INIT(GIT_ERR_MAX);
	struct git_io io = { .out = &out, .err = &err };
	int rc;

	if ((rc = git_resolve(r, a, sa, e)) || (rc = git_resolve(r, b, sb, e)))
		return rc;
	rc = git_run(r, (const char *const[]){ "merge-base", sa, sb, NULL }, &io, e);
	if (rc)
		goto out;
	if (io.status == 1)
		rc = kerr_set(e, KE_NOTFOUND, NULL, "the commits share no history");
	else if (io.status || io.truncated || !git_parse_sha(out.data, out.len, sha))
		rc = git_fail(e, KE_IO, "merge-base", &io);
out:
	buf_free(&out);
	buf_free(&err);
	return rc;
}

int git_is_ancestor(const struct git_repo *r, const char *ancestor, const char *descendant, struct kerr *e)
{
	char sa[GIT_SHA_HEX + 1], sd[GIT_SHA_HEX + 1];
	struct buf err = BUF_INIT(GIT_ERR_MAX);
	struct git_io io = { .err = &err };
	int rc;

	if ((rc = git_resolve(r, ancestor, sa, e)) || (rc = git_resolve(r, descendant, sd, e)))
		return rc;
	rc = git_run(r, (const char *const[]){ "merge-base", "--is-ancestor", sa, sd, NULL }, &io, e);
	if (!rc)
		rc = io.status == 0 ? 1 : io.status == 1 ? 0 : git_fail(e, KE_IO, "merge-base --is-ancestor", &io);
	buf_free(&err);
	return rc;
}

/* Whether ref still holds old_sha (all zeros: does not exist). */
static int ref_holds(const struct git_repo *r, const char *ref, const char *old_sha)
{
	static const char zero[GIT_SHA_HEX + 1] = "0000000000000000000000000000000000000000";
	char cur[GIT_SHA_HEX + 1];
	struct kerr e = KERR_INIT;
	int rc = git_resolve(r, ref, cur, &e);

	kerr_clear(&e);
	if (rc == KE_NOTFOUND)
		return !strcmp(old_sha, zero);
	return !rc && !strcmp(cur, old_sha);
}

int git_update_ref(const struct git_repo *r, const char *ref, const char *new_sha, const char *old_sha,
		   struct kerr *e)
{
	struct buf err = BUF_INIT(GIT_ERR_MAX);
	struct git_io io = { .err = &err };
	int rc;

	if (!git_ref_valid(ref) || !git_sha_valid(new_sha) || !git_sha_valid(old_sha))
		return kerr_set(e, KE_INVALID, NULL, "invalid ref or commit");
	rc = git_run(r, (const char *const[]){ "update-ref", ref, new_sha, old_sha, NULL }, &io, e);
	if (rc || io.status == 0)
		goto out;
	/* git says "is at X but expected Y" or, while another update holds the
	 * lock, "Unable to create '....lock': File exists": both mean someone
	 * else moved or is moving the ref. */
	if (!ref_holds(r, ref, old_sha) || (err.data && strstr(err.data, ".lock': File exists")))
		rc = kerr_set(e, KE_CONFLICT, NULL, "%s was updated concurrently", ref);
	else
		rc = git_fail(e, KE_IO, "update-ref", &io);
out:
	buf_free(&err);
	return rc;
}
