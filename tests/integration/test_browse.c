/* The browsing API against a repository pushed with the real git client:
 * every answer is compared with what `git` says about the pushed clone. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct krate_server srv;
static char work[256];

#define GIT "git -c user.name=Tess -c user.email=tess@example.com -c credential.helper= "
#define API "/api/orgs/browse/repositories/"

/* GET path (admin token) expecting status; the response stays in *r. */
static void get(const char *path, long status, struct http_resp *r)
{
	harness_call(&srv, "GET", path, srv.admin_token, NULL, status, r);
}

static void get_status(const char *path, const char *token, long status)
{
	struct http_resp r;

	assert_int_equal(http_call(&srv, "GET", path, token, NULL, NULL, &r), 0);
	if (r.status != status)
		fail_msg("GET %s: %ld (want %ld) %s", path, r.status, status, r.body);
	/* filesystem paths never leak, not even in errors */
	assert_null(strstr(r.body, srv.dir));
	http_resp_free(&r);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	assert_non_null(s);
	return s;
}

static void git_equal(const char *got, const char *cmd)
{
	char *want = harness_sh_out(work, "cd clone && %s", cmd);

	assert_non_null(want);
	assert_string_equal(got, want);
	free(want);
}

static void push_history(void)
{
	char url[512];

	snprintf(url, sizeof(url), "http://admin:%s@127.0.0.1:%d/browse/proj.git", srv.admin_token, srv.port);
	assert_int_equal(harness_sh(work, GIT "clone -q '%s' clone", url), 0);
	assert_int_equal(harness_sh(work, "cd clone && printf 'hello\\n' > README.md && printf 'gone\\n' > del.txt"
				    " && " GIT "add . && " GIT "commit -qm 'first commit' -m 'with a body'"), 0);
	assert_int_equal(harness_sh(work, "cd clone && mkdir -p src/a && printf 'int b;\\n' > src/a/b.c"
				    " && printf 'hello\\nworld\\n' > README.md && " GIT "add . && " GIT "commit -qm second"), 0);
	assert_int_equal(harness_sh(work, "cd clone && " GIT "tag -a v1 -m 'release one'"), 0);
	assert_int_equal(harness_sh(work, "cd clone && " GIT "rm -q del.txt && printf '\\000\\001\\002' > bin.dat"
				    " && mkdir -p deep/1/2/3/4 && printf 'deep\\n' > deep/1/2/3/4/f.txt"
				    " && " GIT "add . && " GIT "commit -qm third"), 0);
	assert_int_equal(harness_sh(work, "cd clone && " GIT "branch feature HEAD~1 && " GIT "push -q origin main feature v1"), 0);
}

static void check_branches_tags(void)
{
	struct http_resp r;
	json_t *items;

	get(API "proj/branches", 200, &r);
	items = json_object_get(r.json, "items");
	assert_int_equal(json_array_size(items), 2);
	assert_string_equal(str(json_array_get(items, 0), "name"), "feature");
	assert_string_equal(str(json_array_get(items, 1), "name"), "main");
	assert_string_equal(str(r.json, "default"), "main");
	git_equal(str(json_object_get(json_array_get(items, 1), "commit"), "sha"), "git rev-parse main");
	git_equal(str(json_object_get(json_array_get(items, 0), "commit"), "sha"), "git rev-parse feature");
	assert_string_equal(str(json_object_get(json_array_get(items, 1), "commit"), "message"), "third");
	assert_string_equal(str(json_object_get(json_array_get(items, 1), "commit"), "author"), "Tess");
	http_resp_free(&r);

	/* the annotated tag is peeled to its commit */
	get(API "proj/tags", 200, &r);
	items = json_object_get(r.json, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(str(json_array_get(items, 0), "name"), "v1");
	git_equal(str(json_object_get(json_array_get(items, 0), "commit"), "sha"), "git rev-parse 'v1^{commit}'");
	http_resp_free(&r);
}

static void check_tree_blob(void)
{
	struct http_resp r;
	json_t *e;
	char *hdr, path[256], *sha;

	get(API "proj/tree/main", 200, &r);
	git_equal(str(r.json, "sha"), "git rev-parse main");
	assert_string_equal(str(r.json, "path"), "");
	e = json_object_get(r.json, "entries");
	/* directories first, then files, by name */
	assert_int_equal(json_array_size(e), 4);
	assert_string_equal(str(json_array_get(e, 0), "name"), "deep");
	assert_string_equal(str(json_array_get(e, 1), "name"), "src");
	assert_string_equal(str(json_array_get(e, 1), "type"), "tree");
	assert_string_equal(str(json_array_get(e, 2), "name"), "README.md");
	assert_string_equal(str(json_array_get(e, 2), "type"), "blob");
	assert_string_equal(str(json_array_get(e, 2), "mode"), "100644");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(e, 2), "size")), 12);
	assert_string_equal(str(json_array_get(e, 3), "name"), "bin.dat");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(e, 3), "size")), 3);
	http_resp_free(&r);

	get(API "proj/tree/v1/src/a", 200, &r);
	git_equal(str(r.json, "sha"), "git rev-parse 'v1^{commit}'");
	e = json_object_get(r.json, "entries");
	assert_int_equal(json_array_size(e), 1);
	assert_string_equal(str(json_array_get(e, 0), "path"), "src/a/b.c");
	http_resp_free(&r);

	/* an abbreviated SHA, and a path deeper than the router's ten segments */
	sha = harness_sh_out(work, "cd clone && git rev-parse --short=8 main");
	snprintf(path, sizeof(path), API "proj/tree/%s/deep/1/2/3/4", sha);
	free(sha);
	get(path, 200, &r);
	assert_string_equal(str(json_array_get(json_object_get(r.json, "entries"), 0), "path"), "deep/1/2/3/4/f.txt");
	http_resp_free(&r);
	get(API "proj/blob/main/deep/1/2/3/4/f.txt", 200, &r);
	assert_string_equal(str(r.json, "text"), "deep\n");
	http_resp_free(&r);

	get(API "proj/blob/main/README.md", 200, &r);
	assert_string_equal(str(r.json, "text"), "hello\nworld\n");
	assert_false(json_is_true(json_object_get(r.json, "binary")));
	assert_int_equal(json_integer_value(json_object_get(r.json, "size")), 12);
	git_equal(str(r.json, "sha"), "git rev-parse main:README.md");
	http_resp_free(&r);
	get(API "proj/blob/main/README.md?raw=1", 200, &r);
	assert_int_equal(r.len, 12);
	assert_memory_equal(r.body, "hello\nworld\n", 12);
	hdr = http_header(&r, "Content-Type");
	assert_non_null(hdr);
	assert_non_null(strstr(hdr, "text/plain"));
	free(hdr);
	http_resp_free(&r);

	get(API "proj/blob/main/bin.dat", 200, &r);
	assert_true(json_is_true(json_object_get(r.json, "binary")));
	assert_null(json_object_get(r.json, "text"));
	http_resp_free(&r);
	get(API "proj/blob/main/bin.dat?raw=1", 200, &r);
	assert_int_equal(r.len, 3);
	assert_memory_equal(r.body, "\0\1\2", 3);
	hdr = http_header(&r, "Content-Type");
	assert_non_null(hdr);
	assert_string_equal(hdr, "application/octet-stream");
	free(hdr);
	http_resp_free(&r);
}

static void check_commits(void)
{
	struct http_resp r, r2;
	json_t *items, *c, *files;
	char shas[256] = "", path[256], *sha, *t;
	size_t i;

	get(API "proj/commits?ref=main", 200, &r);
	items = json_object_get(r.json, "items");
	assert_int_equal(json_array_size(items), 3);
	for (i = 0; i < 3; i++) {
		if (i)
			strcat(shas, "\n");
		strcat(shas, str(json_array_get(items, i), "sha"));
	}
	git_equal(shas, "git log --format=%H main");
	c = json_array_get(items, 0);
	git_equal(json_string_value(json_array_get(json_object_get(c, "parents"), 0)), "git rev-parse main~1");
	assert_string_equal(str(json_object_get(c, "committer"), "name"), "Tess");
	assert_string_equal(str(c, "message"), "third\n");
	http_resp_free(&r);

	/* paging: 2, then 1 */
	get(API "proj/commits?ref=main&per_page=2", 200, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
	assert_true(json_is_true(json_object_get(r.json, "hasMore")));
	get(API "proj/commits?ref=main&per_page=2&page=2", 200, &r2);
	items = json_object_get(r2.json, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_false(json_is_true(json_object_get(r2.json, "hasMore")));
	git_equal(str(json_array_get(items, 0), "sha"), "git rev-list --max-parents=0 main");
	assert_int_equal(json_array_size(json_object_get(json_array_get(items, 0), "parents")), 0);
	http_resp_free(&r);
	http_resp_free(&r2);

	get(API "proj/commits?per_page=101", 400, &r);
	http_resp_free(&r);

	/* the second commit: a modification and an addition, against its parent */
	sha = harness_sh_out(work, "cd clone && git rev-parse main~1");
	snprintf(path, sizeof(path), API "proj/commits/%s", sha);
	get(path, 200, &r);
	assert_string_equal(str(r.json, "sha"), sha);
	assert_string_equal(str(r.json, "message"), "second\n");
	assert_string_equal(str(json_object_get(r.json, "author"), "name"), "Tess");
	assert_string_equal(str(json_object_get(r.json, "author"), "email"), "tess@example.com");
	t = harness_sh_out(work, "cd clone && git log -1 --format=%%at main~1");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "author"), "time")), atol(t));
	free(t);
	git_equal(json_string_value(json_array_get(json_object_get(r.json, "parents"), 0)), "git rev-parse main~2");
	files = json_object_get(r.json, "files");
	assert_int_equal(json_array_size(files), 2);
	for (i = 0; i < 2; i++) {
		json_t *f = json_array_get(files, i);
		char line[256];

		snprintf(line, sizeof(line), "%lld\t%lld\t%s",
			 (long long)json_integer_value(json_object_get(f, "additions")),
			 (long long)json_integer_value(json_object_get(f, "deletions")), str(f, "path"));
		t = harness_sh_out(work, "cd clone && git show --numstat --format= %s -- '%s'", sha, str(f, "path"));
		assert_string_equal(line, t);
		free(t);
	}
	assert_string_equal(str(json_array_get(files, 0), "path"), "README.md");
	assert_string_equal(str(json_array_get(files, 0), "status"), "modified");
	assert_string_equal(str(json_array_get(files, 1), "path"), "src/a/b.c");
	assert_string_equal(str(json_array_get(files, 1), "status"), "added");
	assert_non_null(strstr(str(r.json, "patch"), "+world\n"));
	assert_non_null(strstr(str(r.json, "patch"), "+int b;\n"));
	assert_false(json_is_true(json_object_get(r.json, "truncated")));
	free(sha);
	http_resp_free(&r);

	/* the third: a deletion; and the root commit against the empty tree */
	get(API "proj/commits/main", 200, &r);
	files = json_object_get(r.json, "files");
	for (i = 0; i < json_array_size(files); i++)
		if (!strcmp(str(json_array_get(files, i), "path"), "del.txt"))
			break;
	assert_true(i < json_array_size(files));
	assert_string_equal(str(json_array_get(files, i), "status"), "deleted");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(files, i), "deletions")), 1);
	assert_non_null(strstr(str(r.json, "patch"), "-gone\n"));
	http_resp_free(&r);
	sha = harness_sh_out(work, "cd clone && git rev-list --max-parents=0 main");
	snprintf(path, sizeof(path), API "proj/commits/%s", sha);
	free(sha);
	get(path, 200, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "files")), 2);
	assert_non_null(strstr(str(r.json, "patch"), "+hello\n"));
	http_resp_free(&r);
}

static void test_browse(void **state)
{
	struct http_resp r;
	char *other, *viewer;

	(void)state;
	harness_make_org(&srv, "browse");
	harness_make_org(&srv, "other");
	harness_make_repo(&srv, "browse", "proj", "");
	harness_make_repo(&srv, "browse", "empty", "");

	/* an empty repository */
	get(API "empty/branches", 200, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
	assert_string_equal(str(r.json, "default"), "main");
	http_resp_free(&r);
	get(API "empty/tree/main", 404, &r);
	assert_non_null(strstr(r.body, "repository is empty"));
	http_resp_free(&r);
	get(API "empty/commits", 404, &r);
	assert_non_null(strstr(r.body, "repository is empty"));
	http_resp_free(&r);

	push_history();
	check_branches_tags();
	check_tree_blob();
	check_commits();

	/* any role of the org may read; another org's token sees nothing */
	viewer = harness_token(&srv, "vic", "browse", "viewer");
	other = harness_token(&srv, "oscar", "other", "admin");
	assert_non_null(viewer);
	assert_non_null(other);
	get_status(API "proj/tree/main/src", viewer, 200);
	get_status(API "proj/branches", other, 404);
	get_status(API "proj/blob/main/README.md", other, 404);
	get_status(API "proj/branches", NULL, 401);
	free(viewer);
	free(other);

	get_status(API "proj/tree/nope", srv.admin_token, 404);
	get_status(API "proj/tree/main/nope", srv.admin_token, 404);
	get_status(API "proj/blob/main/nope.txt", srv.admin_token, 404);
	get_status(API "proj/blob/main/src", srv.admin_token, 404);
	get_status(API "proj/commits/0123456789abcdef0123456789abcdef01234567", srv.admin_token, 404);
	get_status(API "missing/branches", srv.admin_token, 404);
	get_status("/api/orgs/nosuch/repositories/proj/branches", srv.admin_token, 404);
	get_status(API "proj/tree/main/src/%2E%2E", srv.admin_token, 400);
	get_status(API "proj/blob/main/src/%2E%2E/README.md", srv.admin_token, 400);
	get_status(API "proj/tree/main~1", srv.admin_token, 400);

	/* a Repository whose bare repository is gone */
	assert_int_equal(harness_sh(work, "rm -rf '%s/git/browse/empty.git'", srv.dir), 0);
	get(API "empty/branches", 404, &r);
	assert_non_null(strstr(r.body, "storage not ready"));
	assert_null(strstr(r.body, srv.dir));
	http_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_browse),
	};

	harness_group(&srv, NULL, work, sizeof(work), "browse");
	return cmocka_run_group_tests(tests, harness_group_setup, harness_group_teardown);
}
