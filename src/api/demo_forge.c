/* The demo's forge content: commits in the demo repositories, an open pull
 * request with a diff, a review and checks, and an issue with a comment, so a
 * newcomer sees the forge working at once. Made once per data directory. */
#include "api/pulls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEEDED_KEY "demo.forge.seeded"
#define ZERO_SHA "0000000000000000000000000000000000000000"

static const char readme_v1[] =
	"# Krate\n"
	"\n"
	"A self-hosted, Kubernetes-native software forge with an agent layer.\n"
	"\n"
	"## Layout\n"
	"\n"
	"- `src/` the server\n"
	"- `docs/` guides\n";

static const char readme_v2[] =
	"# Krate\n"
	"\n"
	"A self-hosted, Kubernetes-native software forge with an agent layer.\n"
	"\n"
	"## Quickstart\n"
	"\n"
	"```sh\n"
	"krate serve --demo\n"
	"git clone http://127.0.0.1:8080/demo/krate.git\n"
	"```\n"
	"\n"
	"## Layout\n"
	"\n"
	"- `src/` the server\n"
	"- `docs/` guides\n";

static const char main_c[] =
	"#include <stdio.h>\n"
	"\n"
	"int main(void)\n"
	"{\n"
	"\tputs(\"krate\");\n"
	"\treturn 0;\n"
	"}\n";

static const char guide_md[] =
	"# Guide\n"
	"\n"
	"Pull requests are reviewed, checked and merged on the server.\n";

static const char quickstart_md[] =
	"# Quickstart\n"
	"\n"
	"1. Start the server with demo data.\n"
	"2. Clone a repository and push a branch.\n"
	"3. Open a pull request and merge it once it is approved and green.\n";

static const char web_readme[] =
	"# web\n"
	"\n"
	"The marketing site. *Public*: anyone may clone it.\n";

/* Waits for the forge to create the bare repository (it reconciles on its
 * own thread and reports phase Ready once the repository is complete). */
static int wait_for_repo(struct api *a, const struct repo_ctx *c)
{
	int i;

	for (i = 0; i < 400; i++) {
		struct kerr e = KERR_INIT;
		char *json = NULL;
		size_t len;
		json_t *obj = NULL;
		int ready = 0;

		if (!store_get(a->store, "Repository", c->ns, c->repo, &json, &len, &e))
			obj = json_loadb(json, len, 0, NULL);
		ready = obj && !strcmp(pulls_str(obj, "status", "phase") ?: "", "Ready");
		json_decref(obj);
		free(json);
		kerr_clear(&e);
		if (ready)
			return 0;
		usleep(25000);
	}
	return -1;
}

static int commit(const struct repo_ctx *c, const char *parent, const struct git_file *files, size_t n,
		  const char *who, const char *msg, long long when, char sha[GIT_SHA_HEX + 1], struct kerr *e)
{
	char email[96];
	struct git_ident id;

	snprintf(email, sizeof(email), "%s@demo.example", who);
	id.name = who;
	id.email = email;
	return git_commit_files(&c->git, parent, files, n, &id, msg, when, sha, e);
}

static int fill_repos(struct api *a, struct repo_ctx *krate, struct kerr *e)
{
	struct principal sys = { 1, "system:demo", NULL, ROLE_ADMIN };
	struct repo_ctx web;
	char c1[GIT_SHA_HEX + 1], c2[GIT_SHA_HEX + 1], c3[GIT_SHA_HEX + 1], f1[GIT_SHA_HEX + 1];
	long long t = (long long)time(NULL) - 3 * 86400;
	json_t *updates;
	int rc;

	rc = commit(krate, NULL, (struct git_file[]){ { "README.md", readme_v1 } }, 1, "ana", "Start the project\n", t, c1,
		    e);
	if (!rc)
		rc = commit(krate, c1, (struct git_file[]){ { "src/main.c", main_c } }, 1, "ben", "Add the server entry point\n",
			    t + 3600, c2, e);
	if (!rc)
		rc = commit(krate, c2, (struct git_file[]){ { "docs/guide.md", guide_md } }, 1, "ana", "Write the guide\n",
			    t + 7200, c3, e);
	if (!rc)
		rc = commit(krate, c3,
			    (struct git_file[]){ { "README.md", readme_v2 }, { "docs/quickstart.md", quickstart_md } }, 2,
			    "ana", "Add a quickstart\n\nShows how to start the demo and clone.\n", t + 86400, f1, e);
	if (!rc)
		rc = git_update_ref(&krate->git, "refs/heads/main", c3, ZERO_SHA, e);
	if (!rc)
		rc = git_update_ref(&krate->git, "refs/heads/feature/quickstart", f1, ZERO_SHA, e);
	if (rc)
		return rc;
	updates = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]", "ref", "refs/heads/main", "before", ZERO_SHA,
			    "after", c3, "ref", "refs/heads/feature/quickstart", "before", ZERO_SHA, "after", f1);
	rc = api_record_push(a, "demo", "krate", "ana", updates, "", e);
	json_decref(updates);
	if (rc)
		return rc;
	if (repo_ctx_load(a, &sys, "demo", "web", &web, e) == 0 && !wait_for_repo(a, &web)) {
		rc = commit(&web, NULL, (struct git_file[]){ { "README.md", web_readme } }, 1, "ben", "Hello, web\n", t,
			    c1, e);
		if (!rc)
			rc = git_update_ref(&web.git, "refs/heads/main", c1, ZERO_SHA, e);
	}
	repo_ctx_free(&web);
	return rc;
}

/* The pull request, its review and checks, and an issue. */
static int fill_records(struct api *a, struct repo_ctx *c, struct kerr *e)
{
	struct principal ana = { 1, "ana", NULL, ROLE_ADMIN }, ben = { 1, "ben", NULL, ROLE_DEVELOPER };
	json_t *pr = NULL, *st = NULL, *stored = NULL, *issue = NULL, *review = NULL, *comment = NULL, *patch = NULL;
	struct store_op ops[2] = { { 0 } };
	char now[32], res[256];
	int rc;

	pr = json_pack("{s:s, s:{}, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:[]}}", "kind", "PullRequest", "metadata",
		       "spec", "organizationRef", "demo", "repository", "krate", "title", "Add a quickstart to the README",
		       "body", "Adds a **Quickstart** section and `docs/quickstart.md`.\n\nCloses the onboarding gap.",
		       "sourceRef", "refs/heads/feature/quickstart", "targetRef", "refs/heads/main", "author", "ana",
		       "labels", "assignees");
	rc = pr ? pull_state(a, c, pr, &st, e) : kerr_set(e, KE_NOMEM, NULL, "out of memory");
	if (rc)
		goto out;
	json_object_set_new(st, "phase", json_string("Open"));
	json_object_set_new(pr, "status", st);
	rc = record_create_numbered(a, &ana, NULL, c, pr, NULL, NULL, &stored, e);
	if (rc)
		goto out;
	review = json_pack("{s:s, s:{s:s}, s:{s:s, s:s, s:s, s:O, s:s, s:s, s:s, s:s?, s:[{s:s, s:i, s:s}]}, "
			   "s:{s:s}}",
			   "kind", "Review", "metadata", "name", "krate-1-review-demo", "spec", "organizationRef", "demo",
			   "repository", "krate", "pullRequest", "krate-1", "number",
			   json_object_get(json_object_get(stored, "spec"), "number"), "reviewer", "ben", "decision",
			   "approved", "body", "Reads well. Ship it.", "commitSha",
			   json_string_value(json_object_get(json_object_get(stored, "status"), "headSha")), "comments",
			   "path", "README.md", "line", 5, "body", "Nice: `--demo` is the fastest way in.", "status",
			   "phase", "Approved");
	if (!review || (rc = record_admit(c, review, 1, e)))
		goto out;
	ops[0].type = STORE_OP_CREATE;
	ops[0].kind = "Review";
	ops[0].ns = c->ns;
	ops[0].name = "krate-1-review-demo";
	ops[0].obj = review;
	snprintf(res, sizeof(res), "Review/%s/krate-1-review-demo", c->ns);
	rc = record_write(a, &ben, "demo", "create", res, NULL, ops, 1, e);
	json_decref(ops[0].result);
	if (rc)
		goto out;
	record_now(now, sizeof(now));
	patch = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}]}", "checks", "name", "build", "state",
			  "success", "sha", json_string_value(json_object_get(json_object_get(stored, "status"), "headSha")),
			  "updatedAt", now, "detailsUrl", "https://ci.demo.example/krate/1/build", "name", "test", "state",
			  "success", "sha",
			  json_string_value(json_object_get(json_object_get(stored, "status"), "headSha")), "updatedAt", now);
	memset(ops, 0, sizeof(ops));
	ops[0].type = STORE_OP_STATUS_MERGE;
	ops[0].kind = "PullRequest";
	ops[0].ns = c->ns;
	ops[0].name = "krate-1";
	ops[0].obj = patch;
	snprintf(res, sizeof(res), "PullRequest/%s/krate-1", c->ns);
	rc = record_write(a, &ben, "demo", "status", res, NULL, ops, 1, e);
	json_decref(stored);
	stored = ops[0].result;
	if (rc || (rc = pulls_refresh(a, c, &stored, e)))
		goto out;
	issue = json_pack("{s:s, s:{}, s:{s:s, s:s, s:s, s:s, s:s, s:[s], s:[s]}, s:{s:s}}", "kind", "Issue", "metadata",
			  "spec", "organizationRef", "demo", "repository", "krate", "title",
			  "Document the webhook signature header", "body",
			  "Receivers need to know how to verify `X-Krate-Signature-256`.", "author", "ben", "labels", "docs",
			  "assignees", "ana", "status", "phase", "Open");
	json_decref(stored);
	stored = NULL;
	if (!issue || (rc = record_create_numbered(a, &ben, NULL, c, issue, NULL, NULL, &stored, e)))
		goto out;
	comment = json_pack("{s:s, s:{s:s}, s:{s:s, s:s, s:O, s:s, s:s, s:s}}", "kind", "Comment", "metadata", "name",
			    "krate-2-comment-demo", "spec", "organizationRef", "demo", "repository", "krate", "number",
			    json_object_get(json_object_get(stored, "spec"), "number"), "target", "Issue", "author", "ana",
			    "body", "Good catch. It is HMAC-SHA256 over the body, as `sha256=<hex>`.");
	if (!comment ||
	    (rc = record_admit(c, comment, json_integer_value(json_object_get(json_object_get(stored, "spec"), "number")),
			       e)))
		goto out;
	memset(ops, 0, sizeof(ops));
	ops[0].type = STORE_OP_CREATE;
	ops[0].kind = "Comment";
	ops[0].ns = c->ns;
	ops[0].name = "krate-2-comment-demo";
	ops[0].obj = comment;
	snprintf(res, sizeof(res), "Comment/%s/krate-2-comment-demo", c->ns);
	rc = record_write(a, &ana, "demo", "create", res, NULL, ops, 1, e);
	json_decref(ops[0].result);
out:
	json_decref(pr);
	json_decref(stored);
	json_decref(review);
	json_decref(patch);
	json_decref(issue);
	json_decref(comment);
	return rc;
}

int api_demo_forge(struct api *a, struct kerr *e)
{
	struct principal sys = { 1, "system:demo", NULL, ROLE_ADMIN };
	struct repo_ctx c;
	char *seeded = NULL;
	int rc;

	if (!store_meta_get(a->store, SEEDED_KEY, &seeded, e) && seeded) {
		free(seeded);
		return 0;
	}
	kerr_clear(e);
	rc = repo_ctx_load(a, &sys, "demo", "krate", &c, e);
	if (rc)
		return rc;
	if (!c.git.git || wait_for_repo(a, &c)) {
		repo_ctx_free(&c);
		return kerr_set(e, KE_UNAVAILABLE, NULL, "the demo repository was not created in time");
	}
	rc = fill_repos(a, &c, e);
	if (!rc)
		rc = fill_records(a, &c, e);
	if (!rc)
		rc = store_meta_set(a->store, SEEDED_KEY, "1", e);
	repo_ctx_free(&c);
	return rc;
}
