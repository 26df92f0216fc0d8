/* Repository browsing with libgit2 (see browse.h). */
#include "forge/browse.h"
#include "forge/browse_walks.h"
#include "forge/forge_internal.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#include <git2.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_MAX 255

int browse_init(void)
{
	return git_libgit2_init() < 0 ? KE_INTERNAL : 0;
}

void browse_shutdown(void)
{
	/* libgit2 counts its users; the memo goes with the last of them */
	if (git_libgit2_shutdown() == 0)
		browse_walks_clear();
}

int browse_path_valid(const char *path)
{
	const char *p = path;

	if (!path || !*path)
		return 0;
	for (;;) {
		const char *s = p;
		size_t n;

		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (!*p)
			return 1;
		p++;
	}
}

int browse_ref_valid(const char *ref)
{
	size_t i, n;

	if (!ref || !*ref || ref[0] == '-' || ref[0] == '.' || ref[0] == '/')
		return 0;
	n = strlen(ref);
	if (n > REF_MAX || ref[n - 1] == '/' || ref[n - 1] == '.' || strstr(ref, "..") || strstr(ref, "//"))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ref[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '/'))
			return 0;
	}
	return 1;
}

const char *browse_first_line(const char *msg, size_t *len)
{
	const char *nl;

	if (!msg)
		msg = "";
	nl = strchr(msg, '\n');
	*len = nl ? (size_t)(nl - msg) : strlen(msg);
	return msg;
}

/* A JSON string of n bytes; bytes that are not UTF-8 (old commits, odd file
 * names) become '?' rather than failing the response. */
static json_t *jstrn(const char *s, size_t n)
{
	json_t *v = json_stringn(s ? s : "", s ? n : 0);
	char *c;
	size_t i;

	if (v)
		return v;
	c = malloc(n + 1);
	if (!c)
		return NULL;
	for (i = 0; i < n; i++)
		c[i] = ((unsigned char)s[i] & 0x80) ? '?' : s[i];
	c[n] = '\0';
	v = json_stringn(c, n);
	free(c);
	return v;
}

static json_t *jstr(const char *s)
{
	return jstrn(s, s ? strlen(s) : 0);
}

static json_t *joid(const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), id);
	return json_string(hex);
}

static int fail_git(struct kerr *e)
{
	const git_error *ge = git_error_last();

	/* libgit2 messages can name files under the data directory: log, don't send */
	if (ge && ge->message)
		log_warn("browse: %s", ge->message);
	return kerr_set(e, KE_INTERNAL, NULL, "cannot read the repository");
}

/* Hands v to the caller, or KE_NOMEM when building it failed. */
static int answer(json_t *v, json_t **out, struct kerr *e)
{
	*out = v;
	return v ? 0 : kerr_set(e, KE_NOMEM, NULL, "out of memory");
}

static json_t *sig_json(const git_signature *s)
{
	return json_pack("{s:o, s:o, s:I}", "name", jstr(s ? s->name : ""), "email", jstr(s ? s->email : ""),
			 "time", (json_int_t)(s ? s->when.time : 0));
}

/* {sha, message (first line), author (name), time} for branch and tag lists. */
static json_t *commit_brief(const git_commit *c)
{
	const git_signature *a = git_commit_author(c);
	size_t n;
	const char *msg = browse_first_line(git_commit_message(c), &n);

	return json_pack("{s:o, s:o, s:o, s:I}", "sha", joid(git_commit_id(c)), "message", jstrn(msg, n),
			 "author", jstr(a ? a->name : ""), "time", (json_int_t)(a ? a->when.time : 0));
}

static json_t *commit_full(const git_commit *c)
{
	json_t *parents = json_array();
	unsigned i;

	for (i = 0; parents && i < git_commit_parentcount(c); i++)
		json_array_append_new(parents, joid(git_commit_parent_id(c, i)));
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "sha", joid(git_commit_id(c)), "parents", parents,
			 "author", sig_json(git_commit_author(c)), "committer", sig_json(git_commit_committer(c)),
			 "message", jstr(git_commit_message(c)));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
		      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* Sorts an array of objects by their "name" in place. */
static void sort_by_name(json_t *arr)
{
	size_t i, n = json_array_size(arr);
	json_t **v;

	if (n < 2 || !(v = malloc(n * sizeof(*v))))
		return;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), by_name);
	json_array_clear(arr);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

/* The branch HEAD points at ("main" for a new repository). */
static json_t *default_branch(git_repository *repo)
{
	git_reference *head = NULL;
	const char *t;
	json_t *v;

	if (git_reference_lookup(&head, repo, "HEAD"))
		return json_null();
	t = git_reference_symbolic_target(head);
	if (t && !strncmp(t, "refs/heads/", 11))
		v = jstr(t + 11);
	else
		v = json_null();
	git_reference_free(head);
	return v;
}

/* An item {name, commit} for ref, or NULL when it is not a commit. */
static json_t *ref_item(git_reference *ref, const char *name)
{
	git_object *obj = NULL;
	json_t *v = NULL;

	if (!git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT)) {
		v = json_pack("{s:o, s:o}", "name", jstr(name), "commit", commit_brief((git_commit *)obj));
		git_object_free(obj);
	}
	return v;
}

static int do_branches(git_repository *repo, json_t **out, struct kerr *e)
{
	git_branch_iterator *it = NULL;
	git_reference *ref;
	git_branch_t type;
	json_t *items = json_array();

	if (!items || git_branch_iterator_new(&it, repo, GIT_BRANCH_LOCAL)) {
		json_decref(items);
		return fail_git(e);
	}
	while (!git_branch_next(&ref, &type, it)) {
		const char *name = NULL;
		json_t *v;

		if (!git_branch_name(&name, ref) && (v = ref_item(ref, name)))
			json_array_append_new(items, v);
		git_reference_free(ref);
	}
	git_branch_iterator_free(it);
	sort_by_name(items);
	return answer(json_pack("{s:o, s:o}", "items", items, "default", default_branch(repo)), out, e);
}

static int do_tags(git_repository *repo, json_t **out, struct kerr *e)
{
	git_strarray names = { 0 };
	json_t *items = json_array();
	size_t i;

	if (!items || git_tag_list(&names, repo)) {
		json_decref(items);
		return fail_git(e);
	}
	for (i = 0; i < names.count; i++) {
		char full[REF_MAX + 16];
		git_reference *ref = NULL;
		json_t *v;

		if (strlen(names.strings[i]) > REF_MAX)
			continue;
		snprintf(full, sizeof(full), "refs/tags/%s", names.strings[i]);
		if (git_reference_lookup(&ref, repo, full))
			continue;
		if ((v = ref_item(ref, names.strings[i])))
			json_array_append_new(items, v);
		git_reference_free(ref);
	}
	git_strarray_dispose(&names);
	sort_by_name(items);
	return answer(json_pack("{s:o, s:o}", "items", items, "default", default_branch(repo)), out, e);
}

/* The commit ref names (*out NULL on error). */
static int resolve(git_repository *repo, const char *ref, git_commit **out, struct kerr *e)
{
	git_object *obj = NULL;
	int rc;

	*out = NULL;
	if (!browse_ref_valid(ref))
		return kerr_set(e, KE_INVALID, NULL, "invalid ref");
	if (git_revparse_single(&obj, repo, ref)) {
		if (git_repository_head_unborn(repo) == 1)
			return kerr_set(e, KE_NOTFOUND, NULL, "repository is empty");
		return kerr_set(e, KE_NOTFOUND, NULL, "ref %s not found", ref);
	}
	rc = git_object_peel((git_object **)out, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (rc) {
		*out = NULL;
		return kerr_set(e, KE_NOTFOUND, NULL, "ref %s does not name a commit", ref);
	}
	return 0;
}

/* The tree entry at path in commit c (caller frees; *out NULL on error). */
static int entry_at(git_commit *c, const char *path, git_tree_entry **out, struct kerr *e)
{
	git_tree *root = NULL;
	int rc = 0;

	*out = NULL;
	if (!browse_path_valid(path))
		return kerr_set(e, KE_INVALID, NULL, "invalid path: components must not be empty, \".\" or \"..\"");
	if (git_commit_tree(&root, c))
		return fail_git(e);
	if (git_tree_entry_bypath(out, root, path)) {
		*out = NULL;
		rc = kerr_set(e, KE_NOTFOUND, NULL, "path %s not found", path);
	}
	git_tree_free(root);
	return rc;
}

static int entry_order(const void *a, const void *b)
{
	const git_tree_entry *x = *(const git_tree_entry *const *)a, *y = *(const git_tree_entry *const *)b;
	int dx = git_tree_entry_type(x) == GIT_OBJECT_TREE, dy = git_tree_entry_type(y) == GIT_OBJECT_TREE;

	if (dx != dy)
		return dy - dx;
	return strcmp(git_tree_entry_name(x), git_tree_entry_name(y));
}

static json_t *tree_entries(git_repository *repo, git_tree *tree, const char *prefix)
{
	size_t i, n = git_tree_entrycount(tree);
	const git_tree_entry **v = malloc((n ? n : 1) * sizeof(*v));
	json_t *arr = json_array();
	git_odb *odb = NULL;

	if (!v || !arr || git_repository_odb(&odb, repo)) {
		free(v);
		json_decref(arr);
		return NULL;
	}
	for (i = 0; i < n; i++)
		v[i] = git_tree_entry_byindex(tree, i);
	qsort(v, n, sizeof(*v), entry_order);
	for (i = 0; i < n; i++) {
		git_object_t type = git_tree_entry_type(v[i]);
		const char *name = git_tree_entry_name(v[i]);
		char mode[16];
		struct buf path = BUF_INIT(BUF_DEFAULT_MAX);
		json_t *e;

		snprintf(mode, sizeof(mode), "%06o", (unsigned)git_tree_entry_filemode(v[i]));
		if (prefix)
			buf_printf(&path, "%s/", prefix);
		buf_addstr(&path, name);
		e = json_pack("{s:o, s:o, s:s, s:s}", "name", jstr(name), "path", jstr(path.data ? path.data : name),
			      "type", git_object_type2string(type), "mode", mode);
		buf_free(&path);
		if (e && type == GIT_OBJECT_BLOB) {
			size_t len = 0;
			git_object_t t;

			if (!git_odb_read_header(&len, &t, odb, git_tree_entry_id(v[i])))
				json_object_set_new(e, "size", json_integer((json_int_t)len));
		}
		if (e)
			json_array_append_new(arr, e);
	}
	git_odb_free(odb);
	free(v);
	return arr;
}

static int do_tree(git_repository *repo, const struct api_browse_req *q, json_t **out, struct kerr *e)
{
	git_commit *c;
	git_tree *tree = NULL;
	json_t *entries;
	int rc;

	if ((rc = resolve(repo, q->ref, &c, e)))
		return rc;
	if (q->path) {
		git_tree_entry *ent;

		if ((rc = entry_at(c, q->path, &ent, e)))
			goto out;
		if (git_tree_entry_type(ent) != GIT_OBJECT_TREE)
			rc = kerr_set(e, KE_NOTFOUND, NULL, "path %s is not a directory", q->path);
		else if (git_tree_lookup(&tree, repo, git_tree_entry_id(ent)))
			rc = fail_git(e);
		git_tree_entry_free(ent);
		if (rc)
			goto out;
	} else if (git_commit_tree(&tree, c)) {
		rc = fail_git(e);
		goto out;
	}
	entries = tree_entries(repo, tree, q->path);
	if (!entries) {
		rc = fail_git(e);
		goto out;
	}
	rc = answer(json_pack("{s:s, s:o, s:s, s:o}", "ref", q->ref, "sha", joid(git_commit_id(c)),
			      "path", q->path ? q->path : "", "entries", entries), out, e);
out:
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

/* The blob at q's ref and path (caller frees). */
static int blob_at(git_repository *repo, const struct api_browse_req *q, git_blob **out, struct kerr *e)
{
	git_commit *c;
	git_tree_entry *ent = NULL;
	int rc;

	*out = NULL;
	if ((rc = resolve(repo, q->ref, &c, e)))
		return rc;
	if ((rc = entry_at(c, q->path, &ent, e)))
		goto out;
	if (git_tree_entry_type(ent) != GIT_OBJECT_BLOB)
		rc = kerr_set(e, KE_NOTFOUND, NULL, "path %s is not a file", q->path);
	else if (git_blob_lookup(out, repo, git_tree_entry_id(ent)))
		rc = fail_git(e);
out:
	if (rc)
		*out = NULL;
	git_tree_entry_free(ent);
	git_commit_free(c);
	return rc;
}

static int blob_binary(const git_blob *blob)
{
	return git_blob_is_binary(blob) ||
	       !util_utf8_valid(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
}

static int do_blob(git_repository *repo, const struct api_browse_req *q, json_t **out, struct kerr *e)
{
	git_blob *blob;
	size_t size;
	int binary, rc;
	json_t *v;

	if ((rc = blob_at(repo, q, &blob, e)))
		return rc;
	size = (size_t)git_blob_rawsize(blob);
	binary = blob_binary(blob);
	v = json_pack("{s:s, s:o, s:I, s:b}", "path", q->path, "sha", joid(git_blob_id(blob)), "size",
		      (json_int_t)size, "binary", binary);
	if (v && !binary && size <= BROWSE_TEXT_MAX)
		json_object_set_new(v, "text", jstrn(git_blob_rawcontent(blob), size));
	git_blob_free(blob);
	return answer(v, out, e);
}

/* Ids [skip, skip + n) of the topological+time order from tip into out
 * (*got of them) and whether more follow. The memo answers when it can; a
 * walk fills it in, keeping the first BROWSE_WALK_MAX ids. */
static int walk_page(git_repository *repo, const git_oid *tip, size_t skip, size_t n, git_oid *out, size_t *got,
		     int *more, struct kerr *e)
{
	const char *key = git_repository_path(repo);
	long cached = browse_walks_get(key, tip, skip, n, out, more);
	git_oid *memo = malloc(BROWSE_WALK_MAX * sizeof(*memo)), id;
	git_revwalk *walk = NULL;
	size_t i = 0;
	int ended = 0;

	if (cached >= 0) {
		free(memo);
		*got = (size_t)cached;
		return 0;
	}
	if (git_revwalk_new(&walk, repo) || git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) ||
	    git_revwalk_push(walk, tip)) {
		free(memo);
		git_revwalk_free(walk);
		return fail_git(e);
	}
	/* the first next() reads the whole history; the rest only pop a list */
	for (;;) {
		/* one past the page tells whether more follow */
		if (i > skip + n && (i >= BROWSE_WALK_MAX || !memo))
			break;
		if (git_revwalk_next(&id, walk)) {
			ended = 1;
			break;
		}
		if (memo && i < BROWSE_WALK_MAX)
			memo[i] = id;
		if (i >= skip && i < skip + n)
			out[i - skip] = id;
		i++;
	}
	git_revwalk_free(walk);
	*got = i > skip ? (i < skip + n ? i - skip : n) : 0;
	*more = !ended || i > skip + n;
	if (memo)
		browse_walks_put(key, tip, memo, i < BROWSE_WALK_MAX ? i : BROWSE_WALK_MAX, ended && i <= BROWSE_WALK_MAX);
	return 0;
}

static int do_commits(git_repository *repo, const struct api_browse_req *q, json_t **out, struct kerr *e)
{
	const char *ref = q->ref && *q->ref ? q->ref : "HEAD";
	long page = q->page ? q->page : 1, per = q->per_page ? q->per_page : API_BROWSE_PER_PAGE;
	git_oid ids[API_BROWSE_PER_PAGE_MAX];
	git_commit *c;
	json_t *items;
	size_t i, got = 0;
	int more = 0, rc;

	if (page < 1 || page > API_BROWSE_PAGE_MAX || per < 1 || per > API_BROWSE_PER_PAGE_MAX)
		return kerr_set(e, KE_INVALID, NULL, "page (1..10000) and per_page (1..100) must be integers in range");
	if ((rc = resolve(repo, ref, &c, e)))
		return rc;
	rc = walk_page(repo, git_commit_id(c), (size_t)(page - 1) * (size_t)per, (size_t)per, ids, &got, &more, e);
	git_commit_free(c);
	if (rc)
		return rc;
	items = json_array();
	for (i = 0; items && i < got; i++) {
		git_commit *k;

		if (git_commit_lookup(&k, repo, &ids[i]))
			break;
		json_array_append_new(items, commit_full(k));
		git_commit_free(k);
	}
	return answer(json_pack("{s:o, s:I, s:I, s:b}", "items", items, "page", (json_int_t)page, "perPage",
				(json_int_t)per, "hasMore", more), out, e);
}

static const char *delta_status(git_delta_t s)
{
	switch (s) {
	case GIT_DELTA_ADDED:
	case GIT_DELTA_COPIED:
		return "added";
	case GIT_DELTA_DELETED:
		return "deleted";
	case GIT_DELTA_RENAMED:
		return "renamed";
	default:
		return "modified";
	}
}

static int do_commit(git_repository *repo, const struct api_browse_req *q, json_t **out, struct kerr *e)
{
	git_diff_options dopts = GIT_DIFF_OPTIONS_INIT;
	git_diff_find_options fopts = GIT_DIFF_FIND_OPTIONS_INIT;
	git_commit *c, *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	git_diff *diff = NULL;
	struct buf patch = BUF_INIT(BUF_DEFAULT_MAX);
	json_t *v = NULL, *files = NULL;
	size_t i, n;
	int truncated = 0, rc;

	if ((rc = resolve(repo, q->ref, &c, e)))
		return rc;
	fopts.flags = GIT_DIFF_FIND_RENAMES;
	if (git_commit_tree(&tree, c) || (git_commit_parentcount(c) > 0 && (git_commit_parent(&parent, c, 0) ||
									       git_commit_tree(&ptree, parent))) ||
	    git_diff_tree_to_tree(&diff, repo, ptree, tree, &dopts) || git_diff_find_similar(diff, &fopts)) {
		rc = fail_git(e);
		goto out;
	}
	files = json_array();
	n = git_diff_num_deltas(diff);
	for (i = 0; files && i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		git_patch *p = NULL;
		size_t adds = 0, dels = 0;
		git_buf text = { 0 };

		if (git_patch_from_diff(&p, diff, i)) {
			rc = fail_git(e);
			goto out;
		}
		git_patch_line_stats(NULL, &adds, &dels, p);
		json_array_append_new(files, json_pack("{s:o, s:o, s:s, s:I, s:I}",
			"path", jstr(d->status == GIT_DELTA_DELETED ? d->old_file.path : d->new_file.path),
			"oldPath", d->status == GIT_DELTA_RENAMED ? jstr(d->old_file.path) : json_null(),
			"status", delta_status(d->status), "additions", (json_int_t)adds, "deletions", (json_int_t)dels));
		if (!truncated && !git_patch_to_buf(&text, p)) {
			if (patch.len + text.size > BROWSE_TEXT_MAX)
				truncated = 1;
			else
				buf_add(&patch, text.ptr, text.size);
		}
		git_buf_dispose(&text);
		git_patch_free(p);
	}
	v = commit_full(c);
	if (v && files) {
		json_object_set_new(v, "files", files);
		files = NULL;
		json_object_set_new(v, "patch", jstrn(patch.data ? patch.data : "", patch.len));
		json_object_set_new(v, "truncated", json_boolean(truncated));
	} else {
		json_decref(v);
		v = NULL;
	}
	rc = answer(v, out, e);
out:
	json_decref(files);
	buf_free(&patch);
	git_diff_free(diff);
	git_tree_free(ptree);
	git_tree_free(tree);
	git_commit_free(parent);
	git_commit_free(c);
	return rc;
}

/* Opens q's bare repository (caller frees). */
static int open_repo(struct forge *f, const struct api_browse_req *q, git_repository **out, struct kerr *e)
{
	char path[PATH_MAX];

	*out = NULL;
	if (forge_repo_path(f->data_dir, q->org, q->repo, path, sizeof(path)))
		return kerr_set(e, KE_NOTFOUND, NULL, "repository %s not found", q->repo);
	if (git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE, NULL)) {
		*out = NULL;
		return kerr_set(e, KE_NOTFOUND, NULL, "repository %s: storage not ready", q->repo);
	}
	return 0;
}

int browse_json(void *forge, const struct api_browse_req *q, json_t **out, struct kerr *e)
{
	git_repository *repo;
	int rc;

	*out = NULL;
	if ((rc = open_repo(forge, q, &repo, e)))
		return rc;
	switch (q->op) {
	case API_BROWSE_BRANCHES:
		rc = do_branches(repo, out, e);
		break;
	case API_BROWSE_TAGS:
		rc = do_tags(repo, out, e);
		break;
	case API_BROWSE_TREE:
		rc = do_tree(repo, q, out, e);
		break;
	case API_BROWSE_BLOB:
		rc = do_blob(repo, q, out, e);
		break;
	case API_BROWSE_COMMITS:
		rc = do_commits(repo, q, out, e);
		break;
	case API_BROWSE_COMMIT:
		rc = do_commit(repo, q, out, e);
		break;
	default:
		rc = kerr_set(e, KE_INVALID, NULL, "unknown browse operation");
	}
	git_repository_free(repo);
	return rc;
}

int browse_raw(void *forge, const struct api_browse_req *q, struct api_blob *out, struct kerr *e)
{
	git_repository *repo;
	git_blob *blob = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (q->op != API_BROWSE_BLOB)
		return kerr_set(e, KE_INVALID, NULL, "only blobs have raw bytes");
	if ((rc = open_repo(forge, q, &repo, e)))
		return rc;
	if (!(rc = blob_at(repo, q, &blob, e))) {
		out->len = (size_t)git_blob_rawsize(blob);
		out->binary = blob_binary(blob);
		out->data = malloc(out->len ? out->len : 1);
		if (out->data)
			memcpy(out->data, git_blob_rawcontent(blob), out->len);
		else
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	git_blob_free(blob);
	git_repository_free(repo);
	return rc;
}
