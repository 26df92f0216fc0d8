/* The console's repository pages against a repository pushed with the real
 * git client: home (README rendered, clone URL), trees, blobs, the log with
 * paging, a commit's diff, branches, tags, 404s, escaping of untrusted
 * names and content, and org isolation. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct krate_server srv;
static char work[256];
static char cookie[512];        /* "Cookie: krate_session=..." of the demo user */

#define GIT "git -c user.name=Tess -c user.email=tess@example.com -c credential.helper= "
#define REPO "/orgs/web/repos/proj"
#define COMMITS 34              /* more than one page of 30 */

/* GET path as the demo user, expecting status; the response stays in *r. */
static void page(const char *path, long status, struct http_resp *r)
{
	harness_page(&srv, cookie, path, status, r);
}

static void has(const struct http_resp *r, const char *s)
{
	harness_expect_in(r->body, s);
}

static void lacks(const struct http_resp *r, const char *s)
{
	harness_expect_not_in(r->body, s);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static const char readme[] =
	"# Hello Krate\n\nSome *emphasis* and a [guide](docs/guide.md).\n\n"
	"<script>alert(\"readme\")</script>\n\n"
	"[bad](javascript:alert(1))\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";

static void push_history(void)
{
	char url[512];
	FILE *f;

	snprintf(url, sizeof(url), "http://admin:%s@127.0.0.1:%d/web/proj.git", srv.admin_token, srv.port);
	assert_int_equal(harness_sh(work, GIT "clone -q '%s' clone", url), 0);
	snprintf(url, sizeof(url), "%s/clone/README.md", work);
	f = fopen(url, "w");
	assert_non_null(f);
	fputs(readme, f);
	fclose(f);
	assert_int_equal(harness_sh(work, "cd clone && mkdir -p src/nested docs && printf 'int a;\\nif (a < b) {}\\nend\\n'"
				    " > src/nested/deep.c && printf 'guide\\n' > docs/guide.md"
				    " && printf '\\000\\001\\002' > bin.dat && printf 'odd\\n' > 'x\"<y>.txt'"
				    " && " GIT "add . && " GIT "commit -qm 'first commit' -m 'with a <b>body</b>'"), 0);
	assert_int_equal(harness_sh(work, "cd clone && printf 'int a;\\nif (a > b) {}\\nend\\nmore\\n' > src/nested/deep.c"
				    " && " GIT "commit -qam 'change deep.c'"), 0);
	assert_int_equal(harness_sh(work, "cd clone && " GIT "tag v1 && " GIT "branch feature"), 0);
	assert_int_equal(harness_sh(work, "cd clone && for i in $(seq 3 %d); do echo $i >> log.txt && " GIT "add log.txt"
				    " && " GIT "commit -qm \"change $i\" || exit 1; done", COMMITS), 0);
	assert_int_equal(harness_sh(work, "cd clone && " GIT "push -q origin main feature v1"), 0);
}

static void check_home(void)
{
	struct http_resp r;
	char clone[160];

	page(REPO, 200, &r);
	/* the README, rendered and safe */
	has(&r, "<h1>Hello Krate</h1>");
	has(&r, "<em>emphasis</em>");
	has(&r, "<table>");
	has(&r, "href=\"/orgs/web/repos/proj/blob/main/docs/guide.md\"");
	has(&r, "&lt;script&gt;alert(&quot;readme&quot;)&lt;/script&gt;");
	lacks(&r, "<script>alert");
	lacks(&r, "javascript:");
	/* description escaped, clone URL from the Host header, the root tree */
	has(&r, "&lt;b&gt;careful&lt;/b&gt;");
	snprintf(clone, sizeof(clone), "value=\"http://127.0.0.1:%d/web/proj.git\"", srv.port);
	has(&r, clone);
	has(&r, "<tr data-name=\"src\" data-type=\"tree\">");
	has(&r, "<tr data-name=\"README.md\" data-type=\"blob\">");
	has(&r, "x&quot;&lt;y&gt;.txt");
	lacks(&r, "x\"<y>");
	has(&r, "id=\"ref-picker\"");
	has(&r, "href=\"/orgs/web/repos/proj/tree/feature\"");
	has(&r, "id=\"last-commit\"");
	has(&r, "data-nav=\"code\" href=\"/orgs/web/code\" aria-current=\"page\"");
	http_resp_free(&r);

	page("/orgs/web/repos/empty", 200, &r);
	has(&r, "id=\"push-existing\"");
	snprintf(clone, sizeof(clone), "git remote add origin http://127.0.0.1:%d/web/empty.git", srv.port);
	has(&r, clone);
	has(&r, "git push -u origin main");
	http_resp_free(&r);

	page("/orgs/web/repos", 200, &r);
	has(&r, "id=\"repo-list\"");
	has(&r, "href=\"/orgs/web/repos/proj\"");
	has(&r, "href=\"/orgs/web/repos/empty\"");
	http_resp_free(&r);

	/* linked from the resource browser */
	page("/orgs/web/resources/repositories/proj", 200, &r);
	has(&r, "id=\"browse-code\" class=\"button primary\" href=\"/orgs/web/repos/proj\"");
	http_resp_free(&r);
}

static void check_tree_blob(void)
{
	struct http_resp r;
	char *loc, *sha, path[256];

	page(REPO "/tree/main/src", 200, &r);
	has(&r, "<tr data-name=\"nested\" data-type=\"tree\">");
	has(&r, "href=\"/orgs/web/repos/proj/tree/main/src/nested\"");
	has(&r, "class=\"path-crumbs\"");
	has(&r, "<li aria-current=\"page\">src</li>");
	has(&r, "aria-label=\"Parent directory\"");
	http_resp_free(&r);

	page(REPO "/tree/v1/src/nested", 200, &r);
	has(&r, "href=\"/orgs/web/repos/proj/blob/v1/src/nested/deep.c\"");
	has(&r, "href=\"/orgs/web/repos/proj/tree/v1/src\"");
	http_resp_free(&r);

	/* text: numbered, anchored, escaped; a Raw link to the API */
	page(REPO "/blob/main/src/nested/deep.c", 200, &r);
	has(&r, "<tr id=\"L1\"><td class=\"ln\"><a href=\"#L1\">1</a></td><td class=\"code\">int a;</td></tr>");
	has(&r, "<tr id=\"L4\">");
	has(&r, "if (a &gt; b) {}");
	has(&r, "href=\"/api/orgs/web/repositories/proj/blob/main/src/nested/deep.c?raw=1\"");
	http_resp_free(&r);
	/* the first commit's version, by SHA */
	sha = harness_sh_out(work, "cd clone && git rev-list --max-parents=0 main");
	assert_non_null(sha);
	snprintf(path, sizeof(path), REPO "/blob/%s/src/nested/deep.c", sha);
	free(sha);
	page(path, 200, &r);
	has(&r, "if (a &lt; b) {}");
	lacks(&r, "id=\"L4\"");
	http_resp_free(&r);

	/* Markdown: rendered by default, its source with ?plain=1 */
	page(REPO "/blob/main/README.md", 200, &r);
	has(&r, "id=\"md-toggle\"");
	has(&r, "<h1>Hello Krate</h1>");
	lacks(&r, "<script>alert");
	http_resp_free(&r);
	page(REPO "/blob/main/README.md?plain=1", 200, &r);
	has(&r, "<td class=\"code\"># Hello Krate</td>");
	has(&r, "&lt;script&gt;");
	lacks(&r, "<h1>Hello Krate</h1>");
	http_resp_free(&r);

	page(REPO "/blob/main/bin.dat", 200, &r);
	has(&r, "id=\"binary\"");
	http_resp_free(&r);
	page(REPO "/blob/main/x%22%3Cy%3E.txt", 200, &r);
	has(&r, "<li aria-current=\"page\">x&quot;&lt;y&gt;.txt</li>");
	http_resp_free(&r);

	/* a directory under /blob/ goes to its tree */
	page(REPO "/blob/main/docs", 303, &r);
	loc = http_header(&r, "Location");
	assert_non_null(loc);
	assert_string_equal(loc, REPO "/tree/main/docs");
	free(loc);
	http_resp_free(&r);
}

static void check_log(void)
{
	struct http_resp r;
	char *sha, path[256];

	page(REPO "/commits/main", 200, &r);
	assert_int_equal(count(r.body, "<tr data-sha="), 30);
	has(&r, "rel=\"next\" href=\"/orgs/web/repos/proj/commits/main?page=2\"");
	lacks(&r, "rel=\"prev\"");
	has(&r, "change 34");
	has(&r, "<td class=\"author\">Tess</td>");
	has(&r, " ago</time>");
	http_resp_free(&r);

	page(REPO "/commits/main?page=2", 200, &r);
	assert_int_equal(count(r.body, "<tr data-sha="), COMMITS - 30);
	has(&r, "rel=\"prev\"");
	lacks(&r, "rel=\"next\"");
	has(&r, "first commit");
	http_resp_free(&r);

	/* the tab without a ref shows HEAD's branch */
	page(REPO "/commits", 200, &r);
	assert_int_equal(count(r.body, "<tr data-sha="), 30);
	http_resp_free(&r);

	/* one commit: subject, body, parents, files and the diff */
	sha = harness_sh_out(work, "cd clone && git rev-parse v1");
	assert_non_null(sha);
	snprintf(path, sizeof(path), REPO "/commit/%s", sha);
	page(path, 200, &r);
	has(&r, "<h2 class=\"commit-subject\">change deep.c</h2>");
	has(&r, sha);
	has(&r, "id=\"parents\"");
	has(&r, "1 file changed");
	has(&r, "<tr data-path=\"src/nested/deep.c\">");
	has(&r, "<div class=\"diff-file\" id=\"diff-0\">");
	has(&r, "<td class=\"code\">-if (a &lt; b) {}</td>");
	has(&r, "<td class=\"code\">+if (a &gt; b) {}</td>");
	has(&r, "<td class=\"code\">+more</td>");
	has(&r, "<tr class=\"diff-del\" id=\"diff-0-L2\">");
	has(&r, "<tr class=\"diff-add\" id=\"diff-0-L3\">");
	http_resp_free(&r);
	free(sha);

	/* the root commit: its body is escaped, every file is added */
	sha = harness_sh_out(work, "cd clone && git rev-list --max-parents=0 main");
	snprintf(path, sizeof(path), REPO "/commit/%s", sha);
	page(path, 200, &r);
	has(&r, "with a &lt;b&gt;body&lt;/b&gt;");
	has(&r, "none (the first commit)");
	has(&r, "data-status=\"added\"");
	has(&r, "Binary file not shown");
	http_resp_free(&r);
	free(sha);
}

static void check_refs(void)
{
	struct http_resp r;

	page(REPO "/branches", 200, &r);
	has(&r, "id=\"branch-list\"");
	has(&r, "<tr data-name=\"feature\">");
	has(&r, "<tr data-name=\"main\"><td class=\"name\"><a href=\"/orgs/web/repos/proj/tree/main\">main</a> "
		"<span class=\"badge\" data-default=\"true\">default</span>");
	has(&r, "change 34");
	http_resp_free(&r);

	page(REPO "/tags", 200, &r);
	has(&r, "id=\"tag-list\"");
	has(&r, "<tr data-name=\"v1\">");
	has(&r, "change deep.c");
	http_resp_free(&r);
}

static void check_not_found(void)
{
	static const char *const paths[] = {
		REPO "/tree/nope",
		REPO "/tree/main/nope",
		REPO "/tree/main/README.md",
		REPO "/blob/main/nope.txt",
		REPO "/commit/0123456789abcdef0123456789abcdef01234567",
		REPO "/commit/main~1",
		REPO "/commits/nope",
		REPO "/commits/main?page=99",
		REPO "/commits/main?page=x",
		REPO "/tree/main/src/%2E%2E",
		REPO "/nothing",
		"/orgs/web/repos/missing",
		"/orgs/web/repos/Bad_Name",
		"/orgs/nosuch/repos/proj",
	};
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		page(paths[i], 404, &r);
		has(&r, "Page not found");
		http_resp_free(&r);
	}
}

/* A user of another org sees neither the org nor its repositories. */
static void check_isolation(void)
{
	struct http_resp r;
	char other[512], *out = NULL;

	assert_int_equal(harness_cli(&srv, srv.admin_token, "user create olga --role admin --org other --password-stdin",
				     "olga's long password\n", &out), 0);
	free(out);
	harness_sign_in(&srv, "olga", "olga%27s+long+password", other, sizeof(other));
	harness_page(&srv, other, "/orgs/other", 200, &r);
	http_resp_free(&r);
	harness_page(&srv, other, REPO, 404, &r);
	lacks(&r, "Hello Krate");
	http_resp_free(&r);
	harness_page(&srv, other, REPO "/blob/main/README.md", 404, &r);
	http_resp_free(&r);
	harness_page(&srv, other, "/orgs/web/repos", 404, &r);
	http_resp_free(&r);
	harness_page(&srv, other, "/orgs/other/repos/proj", 404, &r);
	http_resp_free(&r);
}

static void test_console_repo(void **state)
{
	char user[64], pass[96];

	(void)state;
	harness_demo_credentials(&srv, user, sizeof(user), pass, sizeof(pass));
	harness_sign_in(&srv, user, pass, cookie, sizeof(cookie));

	harness_make_org(&srv, "web");
	harness_make_org(&srv, "other");
	harness_make_repo(&srv, "web", "proj", ",\"description\":\"A <b>careful</b> repo\"");
	harness_make_repo(&srv, "web", "empty", "");
	push_history();

	check_home();
	check_tree_blob();
	check_log();
	check_refs();
	check_not_found();
	check_isolation();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_console_repo),
	};

	harness_group(&srv, "--demo", work, sizeof(work), "console-repo");
	return cmocka_run_group_tests(tests, harness_group_setup, harness_group_teardown);
}
