/* Repository browsing with libgit2 (see browse.h). */
#include "forge/browse.h"
#include "forge/forge_internal.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#include <git2.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_MAX 255
#define PAGE_MAX 10000          /* bounds the commits a request walks past */

int browse_init(void)
{
	return git_libgit2_init() < 0 ? KE_INTERNAL : 0;
}

void browse_shutdown(void)
{
	git_libgit2_shutdown();
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

/* Responds with an error; returns -1 so callers can tell "answered" from 0. */
static int fail(struct http_req *r, int kcode, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct http_req *r, int kcode, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	http_respond_verrorf(r, kcode, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

static int fail_git(struct http_req *r)
{
	const git_error *ge = git_error_last();

	/* libgit2 messages can name files under the data directory: log, don't send */
	if (ge && ge->message)
		log_warn("browse: %s", ge->message);
	return fail(r, KE_INTERNAL, "cannot read the repository");
}

static int respond(struct http_req *r, json_t *v)
{
	if (!v)
		return fail(r, KE_NOMEM, "out of memory");
	http_respond_json(r, 200, v);
	return 0;
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

static int do_branches(git_repository *repo, struct http_req *r)
{
	git_branch_iterator *it = NULL;
	git_reference *ref;
	git_branch_t type;
	json_t *items = json_array();

	if (!items || git_branch_iterator_new(&it, repo, GIT_BRANCH_LOCAL)) {
		json_decref(items);
		return fail_git(r);
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
	return respond(r, json_pack("{s:o, s:o}", "items", items, "default", default_branch(repo)));
}

static int do_tags(git_repository *repo, struct http_req *r)
{
	git_strarray names = { 0 };
	json_t *items = json_array();
	size_t i;

	if (!items || git_tag_list(&names, repo)) {
		json_decref(items);
		return fail_git(r);
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
	return respond(r, json_pack("{s:o, s:o}", "items", items, "default", default_branch(repo)));
}

/* The commit ref names; 0, or -1 after responding (*out NULL). */
static int resolve(git_repository *repo, const char *ref, git_commit **out, struct http_req *r)
{
	git_object *obj = NULL;
	int rc;

	*out = NULL;
	if (!browse_ref_valid(ref))
		return fail(r, KE_INVALID, "invalid ref");
	if (git_revparse_single(&obj, repo, ref)) {
		if (git_repository_head_unborn(repo) == 1)
			return fail(r, KE_NOTFOUND, "repository is empty");
		return fail(r, KE_NOTFOUND, "ref %s not found", ref);
	}
	rc = git_object_peel((git_object **)out, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (rc) {
		*out = NULL;
		return fail(r, KE_NOTFOUND, "ref %s does not name a commit", ref);
	}
	return 0;
}

/* The tree entry at path in commit c (caller frees), or NULL after responding. */
static git_tree_entry *entry_at(git_commit *c, const char *path, struct http_req *r)
{
	git_tree *root = NULL;
	git_tree_entry *ent = NULL;

	if (!browse_path_valid(path)) {
		fail(r, KE_INVALID, "invalid path: components must not be empty, \".\" or \"..\"");
		return NULL;
	}
	if (git_commit_tree(&root, c)) {
		fail_git(r);
		return NULL;
	}
	if (git_tree_entry_bypath(&ent, root, path)) {
		ent = NULL;
		fail(r, KE_NOTFOUND, "path %s not found", path);
	}
	git_tree_free(root);
	return ent;
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

static int do_tree(git_repository *repo, const struct api_browse_req *q, struct http_req *r)
{
	git_commit *c;
	git_tree *tree = NULL;
	json_t *entries;
	int rc = -1;

	if (resolve(repo, q->ref, &c, r))
		return -1;
	if (q->path) {
		git_tree_entry *ent = entry_at(c, q->path, r);

		if (!ent)
			goto out;
		if (git_tree_entry_type(ent) != GIT_OBJECT_TREE)
			fail(r, KE_NOTFOUND, "path %s is not a directory", q->path);
		else if (git_tree_lookup(&tree, repo, git_tree_entry_id(ent)))
			fail_git(r);
		git_tree_entry_free(ent);
		if (!tree)
			goto out;
	} else if (git_commit_tree(&tree, c)) {
		fail_git(r);
		goto out;
	}
	entries = tree_entries(repo, tree, q->path);
	if (!entries) {
		fail_git(r);
		goto out;
	}
	rc = respond(r, json_pack("{s:s, s:o, s:s, s:o}", "ref", q->ref, "sha", joid(git_commit_id(c)),
				  "path", q->path ? q->path : "", "entries", entries));
out:
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

static int do_blob(git_repository *repo, const struct api_browse_req *q, struct http_req *r)
{
	git_commit *c;
	git_tree_entry *ent = NULL;
	git_blob *blob = NULL;
	const char *raw = http_req_query(r, "raw");
	const char *data;
	size_t size;
	int binary;
	json_t *v;

	if (resolve(repo, q->ref, &c, r))
		return -1;
	if (!(ent = entry_at(c, q->path, r)))
		goto out;
	if (git_tree_entry_type(ent) != GIT_OBJECT_BLOB) {
		fail(r, KE_NOTFOUND, "path %s is not a file", q->path);
		goto out;
	}
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(ent))) {
		blob = NULL;
		fail_git(r);
		goto out;
	}
	data = git_blob_rawcontent(blob);
	size = (size_t)git_blob_rawsize(blob);
	binary = git_blob_is_binary(blob) || !util_utf8_valid(data, size);
	if (raw && !strcmp(raw, "1")) {
		http_respond_copy(r, 200, binary ? "application/octet-stream" : "text/plain; charset=utf-8", data, size);
		goto out;
	}
	v = json_pack("{s:s, s:o, s:I, s:b}", "path", q->path, "sha", joid(git_blob_id(blob)), "size",
		      (json_int_t)size, "binary", binary);
	if (v && !binary && size <= BROWSE_TEXT_MAX)
		json_object_set_new(v, "text", jstrn(data, size));
	respond(r, v);
out:
	git_blob_free(blob);
	git_tree_entry_free(ent);
	git_commit_free(c);
	return 0;
}

/* A positive integer query parameter, def when absent; -1 when malformed or out of 1..max. */
static long query_int(struct http_req *r, const char *name, long def, long max)
{
	const char *s = http_req_query(r, name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, &end, 10);
	return (*end || v < 1 || v > max) ? -1 : v;
}

static int do_commits(git_repository *repo, struct http_req *r)
{
	const char *ref = http_req_query(r, "ref");
	long page = query_int(r, "page", 1, PAGE_MAX), per = query_int(r, "per_page", BROWSE_PER_PAGE, BROWSE_PER_PAGE_MAX);
	git_commit *c;
	git_revwalk *walk = NULL;
	git_oid id;
	json_t *items;
	long i, skip;
	int more = 0;

	if (page < 0 || per < 0)
		return fail(r, KE_INVALID, "page (1..10000) and per_page (1..100) must be integers in range");
	if (!ref || !*ref)
		ref = "HEAD";
	if (resolve(repo, ref, &c, r))
		return -1;
	items = json_array();
	if (!items || git_revwalk_new(&walk, repo) ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) || git_revwalk_push(walk, git_commit_id(c))) {
		json_decref(items);
		git_revwalk_free(walk);
		git_commit_free(c);
		return fail_git(r);
	}
	git_commit_free(c);
	skip = (page - 1) * per;
	for (i = 0; i < skip && !git_revwalk_next(&id, walk); i++)
		;
	if (i == skip) {
		for (i = 0; i < per && !git_revwalk_next(&id, walk); i++) {
			git_commit *k;

			if (git_commit_lookup(&k, repo, &id))
				break;
			json_array_append_new(items, commit_full(k));
			git_commit_free(k);
		}
		more = i == per && !git_revwalk_next(&id, walk);
	}
	git_revwalk_free(walk);
	return respond(r, json_pack("{s:o, s:I, s:I, s:b}", "items", items, "page", (json_int_t)page, "perPage",
				    (json_int_t)per, "hasMore", more));
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

static int do_commit(git_repository *repo, const struct api_browse_req *q, struct http_req *r)
{
	git_diff_options dopts = GIT_DIFF_OPTIONS_INIT;
	git_diff_find_options fopts = GIT_DIFF_FIND_OPTIONS_INIT;
	git_commit *c, *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	git_diff *diff = NULL;
	struct buf patch = BUF_INIT(BUF_DEFAULT_MAX);
	json_t *v = NULL, *files = NULL;
	size_t i, n;
	int truncated = 0;

	if (resolve(repo, q->ref, &c, r))
		return -1;
	fopts.flags = GIT_DIFF_FIND_RENAMES;
	if (git_commit_tree(&tree, c) || (git_commit_parentcount(c) > 0 && (git_commit_parent(&parent, c, 0) ||
									       git_commit_tree(&ptree, parent))) ||
	    git_diff_tree_to_tree(&diff, repo, ptree, tree, &dopts) || git_diff_find_similar(diff, &fopts)) {
		fail_git(r);
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
			fail_git(r);
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
		respond(r, v);
	} else {
		json_decref(v);
		fail(r, KE_NOMEM, "out of memory");
	}
out:
	json_decref(files);
	buf_free(&patch);
	git_diff_free(diff);
	git_tree_free(ptree);
	git_tree_free(tree);
	git_commit_free(parent);
	git_commit_free(c);
	return 0;
}

int browse_handle(void *arg, struct http_req *r, const struct api_browse_req *q)
{
	struct forge *f = arg;
	char path[PATH_MAX];
	git_repository *repo = NULL;

	if (forge_repo_path(f->data_dir, q->org, q->repo, path, sizeof(path))) {
		fail(r, KE_NOTFOUND, "repository %s not found", q->repo);
		return HTTP_DONE;
	}
	if (git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE, NULL)) {
		fail(r, KE_NOTFOUND, "repository %s: storage not ready", q->repo);
		return HTTP_DONE;
	}
	switch (q->op) {
	case API_BROWSE_BRANCHES:
		do_branches(repo, r);
		break;
	case API_BROWSE_TAGS:
		do_tags(repo, r);
		break;
	case API_BROWSE_TREE:
		do_tree(repo, q, r);
		break;
	case API_BROWSE_BLOB:
		do_blob(repo, q, r);
		break;
	case API_BROWSE_COMMITS:
		do_commits(repo, r);
		break;
	case API_BROWSE_COMMIT:
		do_commit(repo, q, r);
		break;
	}
	git_repository_free(repo);
	return HTTP_DONE;
}
