/* The console's pull request and issue pages as a plain HTTP client sees
 * them: signed in as console users, with a real repository pushed with git.
 * Every page answers with the record's content, every untrusted text is
 * escaped (a title and a comment carrying <script>), Markdown is rendered,
 * forms need the CSRF token, and the API's refusals come back by field. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD "console-pulls-password"
#define BASE "/orgs/acme/repos/app"

static struct krate_server srv;
static char work[256];

/* method path with body as the admin; asserts the status; the JSON answer (new ref). */
static json_t *call(const char *method, const char *path, const char *body, long want)
{
	return harness_call_json(&srv, method, path, srv.admin_token, body, want);
}

/* A signed-in console user: the Cookie header and the session's CSRF token. */
struct user {
	char cookie[512];
	char *csrf;
};

static void sign_in(struct user *u, const char *name)
{
	harness_sign_in(&srv, name, PASSWORD, u->cookie, sizeof(u->cookie));
	u->csrf = NULL;
}

/* GET path as u; asserts the status; the body (malloc'd). */
static char *page(struct user *u, const char *path, long want)
{
	struct http_resp r;
	char *body;

	harness_page(&srv, u->cookie, path, want, &r);
	if (!u->csrf)
		u->csrf = harness_form_csrf(r.body, NULL);
	body = strdup(r.body ? r.body : "");
	http_resp_free(&r);
	return body;
}

/* POSTs the form fields (already URL-encoded, without csrf) with u's token;
 * asserts the status; *location (malloc'd) gets the redirect, and the body is returned. */
static char *post(struct user *u, const char *path, const char *fields, long want, char **location)
{
	struct http_resp r;
	char body[4096];
	char *out;

	assert_non_null(u->csrf);
	snprintf(body, sizeof(body), "csrf=%s%s%s", u->csrf, *fields ? "&" : "", fields);
	harness_post_form(&srv, u->cookie, path, body, want, &r);
	if (location)
		*location = http_header(&r, "Location");
	out = strdup(r.body ? r.body : "");
	http_resp_free(&r);
	return out;
}

#define has(html, needle) harness_expect_in(html, needle)
#define lacks(html, needle) harness_expect_not_in(html, needle)

static void expect_redirect(struct user *u, const char *path, const char *fields, const char *want_loc)
{
	char *loc = NULL;

	free(post(u, path, fields, 303, &loc));
	assert_non_null(loc);
	assert_string_equal(loc, want_loc);
	free(loc);
}

static struct user dana, rob, vic;

static void make_user(const char *name, const char *role)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"role\":\"%s\",\"org\":\"acme\",\"password\":\"%s\"}", name,
		 role, PASSWORD);
	json_decref(call("POST", "/api/users", body, 201));
}

static void test_pull_request_pages(void **state)
{
	char url[512], *html, *loc = NULL;
	const char *sha;
	json_t *pr;

	(void)state;
	harness_make_org(&srv, "acme");
	json_decref(call("POST", "/api/orgs/acme/repositories", "{\"name\":\"app\",\"visibility\":\"private\"}", 201));
	harness_wait_repo_ready(&srv, "acme", "app");
	snprintf(url, sizeof(url), "http://admin:%s@127.0.0.1:%d/acme/app.git", srv.admin_token, srv.port);
	/* main with a.txt; feature changes one line of it, clash the same line differently */
	harness_sh_ok(work, "git -c credential.helper= clone -q '%s' w && cd w && printf 'one\\ntwo\\n' > a.txt &&"
		      " git add . && git commit -qm base && git push -q origin HEAD:main", url);
	harness_sh_ok(work, "cd w && git checkout -qb feature && printf 'one\\nfeature line\\n' > a.txt &&"
		      " git commit -qam 'Feature commit' && git push -q origin feature");
	harness_sh_ok(work, "cd w && git checkout -q main && git checkout -qb clash && printf 'one\\nclash line\\n' >"
		      " a.txt && git commit -qam clash && git push -q origin clash");
	make_user("dana", "developer");
	make_user("rob", "developer");
	make_user("vic", "viewer");
	sign_in(&dana, "dana");
	sign_in(&rob, "rob");
	sign_in(&vic, "vic");

	/* the repository links its pull requests; none yet */
	html = page(&dana, BASE, 200);
	has(html, "href=\"" BASE "/pulls\"");
	has(html, "href=\"" BASE "/issues\"");
	free(html);
	html = page(&dana, BASE "/pulls", 200);
	has(html, "No open pull requests");
	has(html, "id=\"new-pull\"");
	free(html);

	/* the form offers the branches; the API's refusals come back by field */
	html = page(&dana, BASE "/pulls/new", 200);
	has(html, "id=\"pull-form\"");
	has(html, "<option value=\"feature\"");
	has(html, "<option value=\"main\" selected>");
	free(html);
	html = post(&dana, BASE "/pulls/new", "source=nope&target=main&title=A+long+enough+title", 422, NULL);
	has(html, "class=\"flash error\"");
	has(html, "<li data-field=\"sourceRef\">");
	free(html);
	html = post(&dana, BASE "/pulls/new", "source=feature&target=main&title=tiny", 422, NULL);
	has(html, "<li data-field=\"spec.title\">");
	has(html, "value=\"tiny\"");
	free(html);
	{
		/* a post without the session's token changes nothing */
		char wrong[] = "wrong", *good = dana.csrf;

		dana.csrf = wrong;
		free(post(&dana, BASE "/pulls/new", "source=feature&target=main&title=A+long+enough+title", 403, NULL));
		dana.csrf = good;
	}

	/* opening one: the title is escaped everywhere, the body rendered as Markdown */
	expect_redirect(&dana, BASE "/pulls/new",
			"source=feature&target=main&title=%3Cscript%3Ealert(1)%3C%2Fscript%3E+feature"
			"&body=Adds+**bold**+text",
			BASE "/pulls/1");
	html = page(&dana, BASE "/pulls", 200);
	has(html, "<tr data-number=\"1\">");
	has(html, "&lt;script&gt;alert(1)&lt;/script&gt; feature");
	lacks(html, "<script>alert");
	has(html, "data-mergeable=\"true\"");
	has(html, "<code class=\"branch\">feature</code>");
	free(html);
	html = page(&dana, BASE "/pulls/1", 200);
	has(html, "<span id=\"pull-title\">&lt;script&gt;alert(1)&lt;/script&gt; feature</span>");
	lacks(html, "<script>alert");
	has(html, "<strong>bold</strong>");
	has(html, "id=\"merge-form\"");
	has(html, "id=\"review-form\"");
	/* the author may only comment on her own pull request */
	lacks(html, "value=\"approved\"");
	free(html);
	html = page(&dana, BASE "/pulls/1/files", 200);
	has(html, "id=\"pull-files\"");
	has(html, "data-path=\"a.txt\"");
	has(html, "class=\"diff-add\"");
	has(html, "feature line");
	free(html);
	html = page(&dana, BASE "/pulls/1/commits", 200);
	has(html, "id=\"pull-commits\"");
	has(html, "Feature commit");
	free(html);

	/* a second user reviews and comments; Markdown renders, raw HTML does not */
	html = page(&rob, BASE "/pulls/1", 200);
	has(html, "value=\"approved\"");
	free(html);
	expect_redirect(&rob, BASE "/pulls/1/review", "decision=approved&body=Looks+*good*", BASE "/pulls/1");
	expect_redirect(&rob, BASE "/pulls/1/comment",
			"body=Use+%60x%60+here+%3Cimg+src%3Dx+onerror%3Dalert(1)%3E+%3Cscript%3Ealert(2)%3C%2Fscript%3E",
			BASE "/pulls/1");
	html = page(&dana, BASE "/pulls/1", 200);
	has(html, "data-decision=\"approved\"");
	has(html, "<em>good</em>");
	has(html, "<code>x</code>");
	has(html, "&lt;img src=x onerror=alert(1)&gt;");
	lacks(html, "<img src=x");
	lacks(html, "<script>alert");
	free(html);
	html = post(&dana, BASE "/pulls/1/review", "decision=approved", 422, NULL);
	has(html, "<li data-field=\"decision\">");
	free(html);

	/* a check reported through the API shows with its details link */
	json_decref(call("POST", "/api/orgs/acme/repositories/app/pulls/1/checks",
			 "{\"name\":\"ci/test\",\"state\":\"success\",\"detailsUrl\":\"https://ci.example/1?a=1&b=2\"}", 200));
	html = page(&dana, BASE "/pulls/1", 200);
	has(html, "data-check=\"ci/test\" data-state=\"success\"");
	has(html, "href=\"https://ci.example/1?a=1&amp;b=2\"");
	free(html);

	/* merging from the merge box */
	expect_redirect(&dana, BASE "/pulls/1/merge", "strategy=merge", BASE "/pulls/1#merge-box");
	pr = call("GET", "/api/orgs/acme/repositories/app/pulls/1", NULL, 200);
	sha = json_string_value(json_object_get(json_object_get(pr, "status"), "mergeCommit"));
	assert_non_null(sha);
	html = page(&dana, BASE "/pulls/1", 200);
	has(html, "id=\"merged-by\"");
	has(html, "Merged by <strong class=\"merged-by\">dana</strong>");
	snprintf(url, sizeof(url), "href=\"" BASE "/commit/%s\"", sha);
	has(html, url);
	has(html, "data-state=\"merged\"");
	lacks(html, "id=\"state-form\"");
	free(html);
	json_decref(pr);
	html = page(&dana, BASE "/pulls?state=merged", 200);
	has(html, "<tr data-number=\"1\">");
	lacks(html, "<tr data-number=\"2\">");
	free(html);

	/* clash changed the line feature changed: now it conflicts, shows its paths and offers no merge */
	expect_redirect(&dana, BASE "/pulls/new", "source=clash&target=main&title=Clashing+change+here", BASE "/pulls/2");
	html = page(&dana, BASE "/pulls/2", 200);
	has(html, "id=\"merge-blockers\"");
	has(html, "data-code=\"CONFLICTS\"");
	has(html, "<ul id=\"conflicts\"><li><code>a.txt</code></li></ul>");
	lacks(html, "id=\"merge-form\"");
	free(html);
	html = post(&dana, BASE "/pulls/2/merge", "strategy=merge", 409, NULL);
	has(html, "data-field=\"\"");
	has(html, "CONFLICTS");
	free(html);

	/* a viewer reads but cannot write: no forms, and a forged post is refused */
	html = page(&vic, BASE "/pulls/2", 200);
	lacks(html, "id=\"comment-form\"");
	lacks(html, "id=\"review-form\"");
	free(html);
	html = post(&vic, BASE "/pulls/2/comment", "body=hello", 403, NULL);
	has(html, "needs the developer role");
	free(html);

	/* close and reopen */
	expect_redirect(&dana, BASE "/pulls/2/state", "state=closed", BASE "/pulls/2#pull-header");
	html = page(&dana, BASE "/pulls/2", 200);
	has(html, "<span class=\"badge state\" data-state=\"closed\">Closed</span>");
	has(html, "Reopen pull request");
	free(html);
	html = page(&dana, BASE "/pulls", 200);
	has(html, "No open pull requests");
	free(html);

	/* bad links and methods */
	free(page(&dana, BASE "/pulls/99", 404));
	free(page(&dana, BASE "/pulls/abc", 404));
	free(page(&dana, BASE "/pulls/1/bogus", 404));
	free(page(&dana, BASE "/pulls?state=everything", 404));
	free(page(&dana, "/orgs/acme/repos/nope/pulls", 404));
	free(page(&dana, BASE "/pulls/1/merge", 405));
	free(post(&dana, BASE "/pulls/1", "", 405, &loc));
	free(loc);
}

static void test_issue_pages(void **state)
{
	char *html, *loc = NULL, path[256];

	(void)state;
	html = page(&dana, BASE "/issues", 200);
	has(html, "No open issues");
	free(html);
	html = page(&dana, BASE "/issues/new", 200);
	has(html, "id=\"issue-form\"");
	free(html);
	html = post(&dana, BASE "/issues/new", "title=&body=x", 422, NULL);
	has(html, "<li data-field=\"title\">");
	free(html);

	free(post(&dana, BASE "/issues/new",
		  "title=Crash+on+%3Cb%3Esave%3C%2Fb%3E&body=Steps%3A%0A%0A1.+*open*%0A2.+save&labels=bug%2C+ui"
		  "&assignees=rob",
		  303, &loc));
	assert_non_null(loc);
	/* pull requests and issues share the numbers: this is the third */
	assert_string_equal(loc, BASE "/issues/3");
	free(loc);
	html = page(&dana, BASE "/issues", 200);
	has(html, "<tr data-number=\"3\">");
	has(html, "Crash on &lt;b&gt;save&lt;/b&gt;");
	has(html, "<li>bug</li><li>ui</li>");
	free(html);
	html = page(&dana, BASE "/issues/3", 200);
	has(html, "<span id=\"issue-title\">Crash on &lt;b&gt;save&lt;/b&gt;</span>");
	lacks(html, "<b>save");
	has(html, "<em>open</em>");
	has(html, "<ol>");
	has(html, "<ul class=\"chips\" id=\"issue-labels\"><li>bug</li><li>ui</li></ul>");
	has(html, "<ul class=\"chips\" id=\"issue-assignees\"><li>rob</li></ul>");
	has(html, "value=\"bug, ui\"");
	free(html);

	expect_redirect(&rob, BASE "/issues/3/comment", "body=Reproduced+with+**1.2**+%3Cscript%3Ex()%3C%2Fscript%3E",
			BASE "/issues/3#timeline");
	html = page(&dana, BASE "/issues/3", 200);
	has(html, "<strong>1.2</strong>");
	has(html, "&lt;script&gt;x()&lt;/script&gt;");
	lacks(html, "<script>x()");
	free(html);

	/* labels and assignees are edited in place; bad names are refused by field */
	expect_redirect(&dana, BASE "/issues/3/edit", "labels=docs&assignees=", BASE "/issues/3#issue-header");
	html = page(&dana, BASE "/issues/3", 200);
	has(html, "<ul class=\"chips\" id=\"issue-labels\"><li>docs</li></ul>");
	has(html, "<p class=\"muted\" id=\"issue-assignees\">None yet</p>");
	free(html);
	snprintf(path, sizeof(path), "labels=%0120d&assignees=", 7);
	html = post(&dana, BASE "/issues/3/edit", path, 422, NULL);
	has(html, "<li data-field=\"labels\">");
	free(html);

	/* close, find it among the closed ones, reopen */
	expect_redirect(&dana, BASE "/issues/3/state", "state=closed", BASE "/issues/3#issue-header");
	html = page(&dana, BASE "/issues?state=closed", 200);
	has(html, "<tr data-number=\"3\">");
	free(html);
	html = page(&dana, BASE "/issues/3", 200);
	has(html, "Reopen issue");
	free(html);
	expect_redirect(&dana, BASE "/issues/3/state", "state=open", BASE "/issues/3#issue-header");
	html = page(&dana, BASE "/issues", 200);
	has(html, "<tr data-number=\"3\">");
	free(html);

	free(page(&dana, BASE "/issues/99", 404));
	free(page(&dana, BASE "/issues/3/merge", 404));
	free(page(&dana, BASE "/issues?state=merged", 404));
	free(dana.csrf);
	free(rob.csrf);
	free(vic.csrf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pull_request_pages),
		cmocka_unit_test(test_issue_pages),
	};

	harness_group(&srv, NULL, work, sizeof(work), "consolepulls");
	return cmocka_run_group_tests(tests, harness_group_setup, harness_group_teardown);
}
