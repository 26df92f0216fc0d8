/* The pull request view of base...head: the changed files with their line
 * counts, the patch (cut at a file boundary past GIT_PATCH_MAX) and the
 * commits, all against the merge base so that changes on base since the
 * branch point do not show up. */
#include "git/git_internal.h"

#include <stdlib.h>
#include <string.h>

#define FILES_OUT_MAX (16 * 1024 * 1024) /* raw + numstat text; ~100k files */
#define LOG_OUT_MAX (2 * 1024 * 1024)

/* The next NUL-terminated field at *p (its length in *len), or NULL when no
 * complete field is left (the output ended or was cut at its cap). */
static const char *next_field(const char **p, const char *end, size_t *len)
{
	const char *f = *p, *z;

	if (f >= end || !(z = memchr(f, '\0', (size_t)(end - f))))
		return NULL;
	*len = (size_t)(z - f);
	*p = z + 1;
	return f;
}

static const char *status_name(char c)
{
	switch (c) {
	case 'A':
		return "added";
	case 'D':
		return "deleted";
	case 'R':
		return "renamed";
	default:
		return "modified"; /* M, and T: a file that became a symlink or back */
	}
}

static int add_file(json_t *files, char status, const char *path, size_t plen, const char *old, size_t olen)
{
	json_t *f = json_pack("{s:o, s:o, s:s, s:i, s:i}", "path", git_json_text(path, plen), "oldPath",
			      old ? git_json_text(old, olen) : json_null(), "status", status_name(status),
			      "additions", 0, "deletions", 0);

	return f && !json_array_append_new(files, f) ? 0 : KE_NOMEM;
}

/* "12\t3\t<rest>", or "-\t-\t<rest>" for a binary file (counted as 0 and 0). */
static int parse_counts(const char *f, long long *add, long long *del, const char **rest)
{
	char *endp;

	*add = *del = 0;
	if (!strncmp(f, "-\t-\t", 4)) {
		*rest = f + 4;
		return 0;
	}
	*add = strtoll(f, &endp, 10);
	if (endp == f || *endp != '\t')
		return KE_IO;
	f = endp + 1;
	*del = strtoll(f, &endp, 10);
	if (endp == f || *endp != '\t')
		return KE_IO;
	*rest = endp + 1;
	return 0;
}

/* `diff --raw --numstat -z -M` prints every file twice in the same order:
 * first raw records ":<modes> <shas> <status>\0<path>\0", with old and new
 * path for renames, then numstat records "<add>\t<del>\t<path>\0", or
 * "<add>\t<del>\t\0<old>\0<new>\0" for renames. */
static int parse_files(const struct buf *out, json_t *files, int truncated)
{
	const char *p = out->data ? out->data : "", *end = p + out->len, *f, *st, *path, *old, *rest;
	size_t len, plen, olen = 0, n = 0;
	long long add, del;
	json_t *file;
	int rc;

	while (p < end && *p == ':') {
		f = next_field(&p, end, &len);
		st = f ? memrchr(f, ' ', len) : NULL;
		if (!st || st + 1 == f + len)
			return truncated ? 0 : KE_IO;
		old = NULL;
		if ((st[1] == 'R' || st[1] == 'C') && !(old = next_field(&p, end, &olen)))
			return truncated ? 0 : KE_IO;
		if (!(path = next_field(&p, end, &plen)))
			return truncated ? 0 : KE_IO;
		rc = add_file(files, st[1], path, plen, old, olen);
		if (rc)
			return rc;
	}
	while (n < json_array_size(files) && (f = next_field(&p, end, &len))) {
		if (parse_counts(f, &add, &del, &rest))
			return KE_IO;
		if (!*rest && (!next_field(&p, end, &olen) || !next_field(&p, end, &plen)))
			break;
		file = json_array_get(files, n++);
		if (json_object_set_new(file, "additions", json_integer(add)) ||
		    json_object_set_new(file, "deletions", json_integer(del)))
			return KE_NOMEM;
	}
	/* Files past the cap keep zero counts; the flag says the view is partial. */
	if (n < json_array_size(files) && !truncated)
		return KE_IO;
	return 0;
}

static int list_files(const struct git_repo *r, const char *mb, const char *h, json_t *files, int *truncated,
		      struct kerr *e)
{
	struct buf out = BUF_INIT(FILES_OUT_MAX), err = BUF_INIT(GIT_ERR_MAX);
	struct git_io io = { .out = &out, .err = &err };
	int rc;

	rc = git_run(r,
		     (const char *const[]){ "diff", "--raw", "--numstat", "-z", "-M", "--no-ext-diff", "--no-textconv",
					    mb, h, NULL },
		     &io, e);
	if (rc)
		goto out;
	if (io.truncated)
		*truncated = 1;
	else if (io.status) {
		rc = git_fail(e, KE_IO, "diff --numstat", &io);
		goto out;
	}
	rc = parse_files(&out, files, io.truncated);
	if (rc == KE_IO)
		rc = git_fail(e, KE_IO, "diff --numstat (unexpected output)", &io);
	else if (rc)
		rc = kerr_set(e, rc, NULL, "out of memory");
out:
	buf_free(&out);
	buf_free(&err);
	return rc;
}

/* Where to cut a patch that hit the cap: before its last "diff --git" line,
 * so only whole files remain (0 when even the first file is too big). A
 * line starting so is always a file header: content lines start with ' ',
 * '+', '-', '@' or '\'. */
static size_t patch_cut(const char *s, size_t n)
{
	static const char hdr[] = "\ndiff --git ";
	size_t i = n;

	while (i > 0) {
		i--;
		if (s[i] == '\n' && n - i >= sizeof(hdr) - 1 && !memcmp(s + i, hdr, sizeof(hdr) - 1))
			return i + 1;
	}
	return 0;
}

static int add_patch(const struct git_repo *r, const char *mb, const char *h, json_t *o, int *truncated,
		     struct kerr *e)
{
	struct buf out = BUF_INIT(GIT_PATCH_MAX), err = BUF_INIT(GIT_ERR_MAX);
	struct git_io io = { .out = &out, .err = &err };
	size_t len;
	int rc;

	rc = git_run(r,
		     (const char *const[]){ "diff", "-M", "--no-color", "--no-ext-diff", "--no-textconv", mb, h, NULL },
		     &io, e);
	if (rc)
		goto out;
	if (!io.truncated && io.status) {
		rc = git_fail(e, KE_IO, "diff", &io);
		goto out;
	}
	len = io.truncated ? patch_cut(out.data, out.len) : out.len;
	if (io.truncated)
		*truncated = 1;
	if (json_object_set_new(o, "patch", git_json_text(out.data ? out.data : "", len)))
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
out:
	buf_free(&out);
	buf_free(&err);
	return rc;
}

/* `log -z --format=%H%x00%at%x00%an%x00%s`: four NUL-terminated fields per
 * commit. --reverse lists oldest first, and reading stops after
 * GIT_COMMITS_MAX of them. */
static int list_commits(const struct git_repo *r, const char *mb, const char *h, json_t *commits,
			struct kerr *e)
{
	struct buf range = BUF_INIT(2 * GIT_SHA_HEX + 8), out = BUF_INIT(LOG_OUT_MAX), err = BUF_INIT(GIT_ERR_MAX);
	struct git_io io = { .out = &out, .err = &err };
	const char *p, *end, *sha, *at, *an, *s;
	size_t lsha, lat, lan, ls;
	char id[GIT_SHA_HEX + 1];
	json_t *c;
	int rc;

	if (buf_printf(&range, "%s..%s", mb, h)) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	rc = git_run(r,
		     (const char *const[]){ "log", "--reverse", "--no-color", "-z", "--format=%H%x00%at%x00%an%x00%s",
					    range.data, NULL },
		     &io, e);
	if (rc)
		goto out;
	if (!io.truncated && io.status) {
		rc = git_fail(e, KE_IO, "log", &io);
		goto out;
	}
	p = out.data ? out.data : "";
	end = p + out.len;
	while (json_array_size(commits) < GIT_COMMITS_MAX && (sha = next_field(&p, end, &lsha)) &&
	       (at = next_field(&p, end, &lat)) && (an = next_field(&p, end, &lan)) &&
	       (s = next_field(&p, end, &ls))) {
		if (lsha != GIT_SHA_HEX || !git_parse_sha(sha, lsha, id)) {
			rc = git_fail(e, KE_IO, "log (unexpected output)", &io);
			goto out;
		}
		c = json_pack("{s:s, s:o, s:o, s:I}", "sha", id, "message", git_json_text(s, ls), "author",
			      git_json_text(an, lan), "time", (json_int_t)strtoll(at, NULL, 10));
		if (!c || json_array_append_new(commits, c)) {
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
			goto out;
		}
	}
out:
	buf_free(&range);
	buf_free(&out);
	buf_free(&err);
	return rc;
}

int git_compare(const struct git_repo *r, const char *base, const char *head, json_t **out, struct kerr *e)
{
	char b[GIT_SHA_HEX + 1], h[GIT_SHA_HEX + 1], mb[GIT_SHA_HEX + 1];
	json_t *o = NULL, *files = json_array(), *commits = json_array();
	int rc, truncated = 0;

	if (!out) {
		rc = kerr_set(e, KE_INVALID, NULL, "no result given");
		goto out;
	}
	*out = NULL;
	if ((rc = git_resolve(r, base, b, e)) || (rc = git_resolve(r, head, h, e)))
		goto out;
	/* Both exist, so "not found" here means no common history. */
	rc = git_merge_base(r, b, h, mb, e);
	if (rc == KE_NOTFOUND)
		rc = kerr_set(e, KE_UNPROCESSABLE, NULL, "the branches share no history");
	if (rc)
		goto out;
	o = json_pack("{s:s, s:s, s:s, s:O, s:O}", "mergeBase", mb, "baseSha", b, "headSha", h, "files", files,
		      "commits", commits);
	if (!o || !files || !commits) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	if ((rc = list_files(r, mb, h, files, &truncated, e)) || (rc = add_patch(r, mb, h, o, &truncated, e)) ||
	    (rc = list_commits(r, mb, h, commits, e)))
		goto out;
	if (json_object_set_new(o, "truncated", json_boolean(truncated))) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	*out = o;
	o = NULL;
out:
	json_decref(o);
	json_decref(files);
	json_decref(commits);
	return rc;
}
