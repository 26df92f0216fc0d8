/* Offline tests of `krate pr` and `krate issue`: their options, record
 * numbers, the repository path, --line-comment, Warning header text, the
 * tables and views, and the usage errors reported before any request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_internal.h"

#define PR_OPTS (OPT_ORG | OPT_OUTPUT | OPT_REPO | OPT_TITLE | OPT_BODY | OPT_REFS | OPT_STATE | OPT_DECISION | \
		 OPT_LINE_COMMENT | OPT_CHECK | OPT_STRATEGY)

static int parse(unsigned allowed, struct cli_args *a, struct kerr *e, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	va_start(ap, e);
	for (char *s = va_arg(ap, char *); s && argc < 32; s = va_arg(ap, char *))
		argv[argc++] = s;
	va_end(ap);
	return cli_args_parse(argc, argv, allowed, a, e);
}

static void test_args_pr_options(void **state)
{
	struct cli_args a;
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(parse(PR_OPTS, &a, &e, "pr", "review", "-racme/app", "3", "--approve", "--line-comment",
			       "a.c:1:fix", "--line-comment=b.c:2:again", "--body", "LGTM", "--body-file", "-",
			       "--title=T", "--source", "feat", "--target", "main", "--state", "open", "--name", "ci/test",
			       "--url", "https://ci/1", "--strategy", "squash", "--request-changes", "--comment", NULL),
			 0);
	assert_int_equal(a.npos, 2);
	assert_string_equal(a.pos[0], "review");
	assert_string_equal(a.pos[1], "3");
	assert_string_equal(a.repo, "acme/app");
	assert_int_equal(a.approve, 1);
	assert_int_equal(a.request_changes, 1);
	assert_int_equal(a.comment, 1);
	assert_int_equal(a.nline_comments, 2);
	assert_string_equal(a.line_comments[0], "a.c:1:fix");
	assert_string_equal(a.line_comments[1], "b.c:2:again");
	assert_string_equal(a.body, "LGTM");
	assert_string_equal(a.body_file, "-");
	assert_string_equal(a.title, "T");
	assert_string_equal(a.source, "feat");
	assert_string_equal(a.target, "main");
	assert_string_equal(a.state, "open");
	assert_string_equal(a.check_name, "ci/test");
	assert_string_equal(a.url, "https://ci/1");
	assert_string_equal(a.strategy, "squash");
	cli_args_free(&a);

	/* Repeatable lists keep every value in order. */
	assert_int_equal(parse(OPT_REPO | OPT_LABEL | OPT_ADD_LABEL | OPT_ASSIGNEE, &a, &e, "issue", "create", "-r",
			       "app", "--label", "bug", "--label", "p1", "--assignee", "rob", "--add-label", "x",
			       "--assignee=ana", NULL),
			 0);
	assert_int_equal(a.nlabels, 2);
	assert_string_equal(a.labels[1], "p1");
	assert_int_equal(a.nassignees, 2);
	assert_string_equal(a.assignees[0], "rob");
	assert_string_equal(a.assignees[1], "ana");
	assert_int_equal(a.nadd_labels, 1);
	cli_args_free(&a);

	/* The decision flags take no value; options of issues are unknown to pr. */
	assert_int_equal(parse(PR_OPTS, &a, &e, "pr", "--approve=yes", NULL), KE_INVALID);
	assert_non_null(strstr(e.message, "takes no value"));
	assert_int_equal(parse(PR_OPTS, &a, &e, "pr", "--label", "x", NULL), KE_INVALID);
	assert_non_null(strstr(e.message, "--label"));
	assert_int_equal(parse(OPT_REPO, &a, &e, "pr", "-r", NULL), KE_INVALID);
	assert_non_null(strstr(e.message, "needs a value"));
	kerr_clear(&e);
}

static void test_numbers(void **state)
{
	long long n = 0;

	(void)state;
	assert_int_equal(cli_parse_number("1", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cli_parse_number("0042", &n), 0);
	assert_int_equal(n, 42);
	assert_int_equal(cli_parse_number("1000000000000000", &n), 0);
	assert_int_equal(cli_parse_number("1000000000000001", &n), KE_INVALID);
	assert_int_equal(cli_parse_number("99999999999999999999999", &n), KE_INVALID);
	assert_int_equal(cli_parse_number("0", &n), KE_INVALID);
	assert_int_equal(cli_parse_number("-1", &n), KE_INVALID);
	assert_int_equal(cli_parse_number("+1", &n), KE_INVALID);
	assert_int_equal(cli_parse_number("1x", &n), KE_INVALID);
	assert_int_equal(cli_parse_number(" 1", &n), KE_INVALID);
	assert_int_equal(cli_parse_number("", &n), KE_INVALID);
	assert_int_equal(cli_parse_number(NULL, &n), KE_INVALID);
}

static void test_repo_path(void **state)
{
	struct buf p = BUF_INIT(0);
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(cli_repo_path("app", "acme", "saved", &p, &e), 0);
	assert_string_equal(p.data, "/api/orgs/acme/repositories/app");
	/* ORG/REPO names the org; it agrees with -n or stands alone. */
	assert_int_equal(cli_repo_path("acme/app", NULL, "saved", &p, &e), 0);
	assert_string_equal(p.data, "/api/orgs/acme/repositories/app");
	assert_int_equal(cli_repo_path("acme/app", "acme", NULL, &p, &e), 0);
	assert_string_equal(p.data, "/api/orgs/acme/repositories/app");
	/* The login's org is the last resort; names are percent-encoded. */
	assert_int_equal(cli_repo_path("we b", NULL, "sa?ved", &p, &e), 0);
	assert_string_equal(p.data, "/api/orgs/sa%3Fved/repositories/we%20b");

	assert_int_equal(cli_repo_path("acme/app", "other", NULL, &p, &e), KE_INVALID);
	assert_non_null(strstr(e.message, "different orgs"));
	assert_int_equal(cli_repo_path("app", NULL, NULL, &p, &e), KE_INVALID);
	assert_non_null(strstr(e.message, "-n ORG"));
	assert_int_equal(cli_repo_path(NULL, "acme", NULL, &p, &e), KE_INVALID);
	assert_non_null(strstr(e.message, "-r REPO"));
	assert_int_equal(cli_repo_path("", "acme", NULL, &p, &e), KE_INVALID);
	assert_int_equal(cli_repo_path("acme/", NULL, NULL, &p, &e), KE_INVALID);
	assert_int_equal(cli_repo_path("/app", "acme", NULL, &p, &e), KE_INVALID);
	assert_int_equal(cli_repo_path("a/b/c", NULL, NULL, &p, &e), KE_INVALID);
	assert_non_null(strstr(e.message, "ORG/REPO"));
	buf_free(&p);
	kerr_clear(&e);
}

static void test_rec_path(void **state)
{
	struct cli_rec rec = { NULL, BUF_INIT(0), 0 };
	struct buf p = BUF_INIT(0);

	(void)state;
	assert_int_equal(buf_addstr(&rec.base, "/api/orgs/o/repositories/r"), 0);
	assert_int_equal(cli_rec_path(&rec, "pulls", NULL, &p), 0);
	assert_string_equal(p.data, "/api/orgs/o/repositories/r/pulls");
	rec.number = 12;
	assert_int_equal(cli_rec_path(&rec, "issues", "/comments", &p), 0);
	assert_string_equal(p.data, "/api/orgs/o/repositories/r/issues/12/comments");
	buf_free(&p);
	buf_free(&rec.base);
}

static void assert_comment(const char *arg, const char *path, long long line, const char *body)
{
	struct kerr e = KERR_INIT;
	json_t *c = NULL;

	assert_int_equal(cli_line_comment(arg, &c, &e), 0);
	assert_string_equal(json_string_value(json_object_get(c, "path")), path);
	assert_int_equal(json_integer_value(json_object_get(c, "line")), line);
	assert_string_equal(json_string_value(json_object_get(c, "body")), body);
	json_decref(c);
}

static void test_line_comment(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *c = NULL;

	(void)state;
	assert_comment("src/a.c:12:fix this", "src/a.c", 12, "fix this");
	/* The text may hold colons, and so may the path when no ":<digits>:" is in it. */
	assert_comment("a.c:3:see: here:4:x", "a.c", 3, "see: here:4:x");
	assert_comment("dir:x/a.c:7:ok", "dir:x/a.c", 7, "ok");
	assert_comment("C:v2:1:t", "C:v2", 1, "t");

	assert_int_equal(cli_line_comment("a.c:12", &c, &e), KE_INVALID);
	assert_non_null(strstr(e.message, "PATH:LINE:TEXT"));
	assert_int_equal(cli_line_comment("a.c:12:", &c, &e), KE_INVALID);
	assert_int_equal(cli_line_comment(":12:text", &c, &e), KE_INVALID);
	assert_int_equal(cli_line_comment("a.c::text", &c, &e), KE_INVALID);
	assert_int_equal(cli_line_comment("a.c:x:text", &c, &e), KE_INVALID);
	assert_int_equal(cli_line_comment("a.c:0:text", &c, &e), KE_INVALID);
	assert_non_null(strstr(e.message, ">= 1"));
	assert_int_equal(cli_line_comment("a.c:99999999999:text", &c, &e), KE_INVALID);
	assert_int_equal(cli_line_comment("a.c:1:\xff", &c, &e), KE_INVALID);
	assert_non_null(strstr(e.message, "UTF-8"));
	assert_null(c);
	kerr_clear(&e);
}

static void test_warning_text(void **state)
{
	struct buf out = BUF_INIT(0);

	(void)state;
	assert_int_equal(cli_warning_text("299 krate \"PullRequest spec.title must be descriptive\"", &out), 0);
	assert_string_equal(out.data, "PullRequest spec.title must be descriptive");
	buf_reset(&out);
	/* Escapes are undone; a date after the text is left out. */
	assert_int_equal(cli_warning_text("299 - \"say \\\"hi\\\"\" \"Sat, 01 Jan 2000 00:00:00 GMT\"", &out), 0);
	assert_string_equal(out.data, "say \"hi\"");
	buf_reset(&out);
	/* Any other shape is shown as it came, control characters made harmless. */
	assert_int_equal(cli_warning_text("deprecated\x1b[2J", &out), 0);
	assert_string_equal(out.data, "deprecated?[2J");
	buf_reset(&out);
	assert_int_equal(cli_warning_text("299 krate \"unterminated", &out), 0);
	assert_string_equal(out.data, "299 krate \"unterminated");
	buf_reset(&out);
	assert_int_equal(cli_warning_text("299 krate \"a\x07\"", &out), 0);
	assert_string_equal(out.data, "a?");
	buf_free(&out);
}

static const char pulls_json[] =
	"[{\"spec\":{\"number\":3,\"title\":\"Change the first line\",\"author\":\"dana\","
	"\"sourceRef\":\"refs/heads/clash\",\"targetRef\":\"refs/heads/main\"},"
	"\"status\":{\"phase\":\"Open\",\"mergeable\":false}},"
	"{\"spec\":{\"number\":1,\"title\":\"Add\\u001b[31m it\",\"author\":\"dana\","
	"\"sourceRef\":\"refs/heads/feature\",\"targetRef\":\"refs/tags/v1\"},"
	"\"status\":{\"phase\":\"Merged\",\"mergeable\":false}},"
	"{\"spec\":{\"number\":2,\"title\":\"Ready one\",\"author\":\"rob\","
	"\"sourceRef\":\"refs/heads/x\",\"targetRef\":\"refs/heads/main\"},"
	"\"status\":{\"phase\":\"Open\",\"mergeable\":true}}]";

static void test_pr_table(void **state)
{
	json_t *items = json_loads(pulls_json, 0, NULL);
	struct cli_table t;
	struct buf out = BUF_INIT(0);

	(void)state;
	assert_non_null(items);
	assert_int_equal(cli_pr_table(items, &t), 0);
	assert_int_equal(table_render(&t, &out), 0);
	assert_string_equal(out.data,
			    "NUMBER   TITLE                   AUTHOR   SOURCE → TARGET          STATE    MERGEABLE\n"
			    "3        Change the first line   dana     clash → main             Open     no\n"
			    "1        Add?[31m it             dana     feature → refs/tags/v1   Merged   -\n"
			    "2        Ready one               rob      x → main                 Open     yes\n");
	table_free(&t);
	buf_free(&out);
	json_decref(items);
}

static void test_pr_view(void **state)
{
	json_t *pr = json_loads(
		"{\"spec\":{\"number\":1,\"title\":\"Add the feature line\",\"author\":\"dana\","
		"\"sourceRef\":\"refs/heads/feature\",\"targetRef\":\"refs/heads/main\",\"body\":\"Adds *things*\\nline 2\"},"
		"\"status\":{\"phase\":\"Open\",\"headSha\":\"aaaa\",\"baseSha\":\"bbbb\",\"commits\":2,\"changedFiles\":1,"
		"\"mergeable\":false,\"conflicts\":[\"a.txt\",\"b.txt\"],\"approvals\":0,\"requiredApprovals\":1,"
		"\"changesRequested\":1,"
		"\"blockers\":[{\"code\":\"APPROVALS_REQUIRED\",\"message\":\"1 approving review(s) required, 0 given\"},"
		"{\"code\":\"CHECK_FAILED\",\"message\":\"required check ci/test failed\"}],"
		"\"checks\":[{\"name\":\"ci/test\",\"state\":\"failure\",\"detailsUrl\":\"https://ci.example/1\"},"
		"{\"name\":\"lint\",\"state\":\"pending\"}]}}",
		0, NULL);
	json_t *merged = json_loads(
		"{\"spec\":{\"number\":4,\"title\":\"T\",\"author\":\"a\",\"sourceRef\":\"refs/heads/s\","
		"\"targetRef\":\"refs/heads/main\",\"body\":\"\"},"
		"\"status\":{\"phase\":\"Merged\",\"mergeable\":false,\"blockers\":[],\"conflicts\":[],\"approvals\":1,"
		"\"mergedBy\":\"dana\",\"mergedAt\":\"2025-01-01T00:00:00Z\",\"mergeCommit\":\"cccc\","
		"\"mergeStrategy\":\"squash\",\"policyWarnings\":[\"title too short\"]}}",
		0, NULL);
	struct buf out = BUF_INIT(0);

	(void)state;
	assert_non_null(pr);
	assert_non_null(merged);
	assert_int_equal(cli_pr_view_text(pr, &out), 0);
	assert_string_equal(out.data,
			    "#1 Add the feature line\n"
			    "state:      Open\n"
			    "author:     dana\n"
			    "refs:       feature → main\n"
			    "head:       aaaa\n"
			    "base:       bbbb\n"
			    "changes:    2 commit(s), 1 file(s) changed\n"
			    "mergeable:  no\n"
			    "  - 1 approving review(s) required, 0 given\n"
			    "  - required check ci/test failed\n"
			    "conflicts:  a.txt, b.txt\n"
			    "approvals:  0 of 1 required, 1 requested changes\n"
			    "checks:     2\n"
			    "  - ci/test: failure  https://ci.example/1\n"
			    "  - lint: pending\n"
			    "\n"
			    "  Adds *things*\n"
			    "  line 2\n");
	buf_reset(&out);
	assert_int_equal(cli_pr_view_text(merged, &out), 0);
	assert_string_equal(out.data,
			    "#4 T\n"
			    "state:      Merged\n"
			    "author:     a\n"
			    "refs:       s → main\n"
			    "head:       -\n"
			    "base:       -\n"
			    "mergeable:  no\n"
			    "conflicts:  none\n"
			    "approvals:  1\n"
			    "checks:     none\n"
			    "merged:     by dana at 2025-01-01T00:00:00Z as cccc (squash)\n"
			    "warnings:   1\n"
			    "  - title too short\n");
	buf_free(&out);
	json_decref(pr);
	json_decref(merged);
}

static void test_issue_table_and_view(void **state)
{
	json_t *items = json_loads(
		"[{\"metadata\":{\"creationTimestamp\":\"2025-01-01T00:00:00Z\"},"
		"\"spec\":{\"number\":2,\"title\":\"Login is slow\",\"author\":\"dana\",\"labels\":[\"bug\",\"p1\"],"
		"\"assignees\":[],\"body\":\"It takes **ages**\\n\\tindented\\u0007\"},"
		"\"status\":{\"phase\":\"Closed\",\"closedAt\":\"2025-01-01T01:00:00Z\"}}]",
		0, NULL);
	json_t *comments = json_loads(
		"[{\"metadata\":{\"creationTimestamp\":\"2025-01-01T00:02:00Z\"},"
		"\"spec\":{\"author\":\"rob\",\"body\":\"Seen it\"}},"
		"{\"metadata\":{},\"spec\":{\"author\":\"dana\",\"body\":\"two\\nlines\\n\"}}]",
		0, NULL);
	int64_t now;
	struct cli_table t;
	struct buf out = BUF_INIT(0);

	(void)state;
	assert_non_null(items);
	assert_non_null(comments);
	assert_int_equal(cli_parse_time("2025-01-01T00:05:00Z", &now), 0);
	assert_int_equal(cli_issue_table(items, now, &t), 0);
	assert_int_equal(table_render(&t, &out), 0);
	assert_string_equal(out.data, "NUMBER   TITLE           AUTHOR   STATE    LABELS    ASSIGNEES   AGE\n"
				      "2        Login is slow   dana     Closed   bug, p1   -           5m\n");
	table_free(&t);
	buf_reset(&out);
	assert_int_equal(cli_issue_view_text(json_array_get(items, 0), comments, now, &out), 0);
	assert_string_equal(out.data,
			    "#2 Login is slow\n"
			    "state:      Closed\n"
			    "author:     dana\n"
			    "labels:     bug, p1\n"
			    "assignees:  -\n"
			    "opened:     5m ago\n"
			    "closed:     2025-01-01T01:00:00Z\n"
			    "\n"
			    "  It takes **ages**\n"
			    "  \tindented?\n"
			    "\n"
			    "comments:   2\n"
			    "\n"
			    "rob (3m ago):\n"
			    "  Seen it\n"
			    "\n"
			    "dana (- ago):\n"
			    "  two\n"
			    "  lines\n");
	buf_free(&out);
	json_decref(items);
	json_decref(comments);
}

/* Runs cli_main with stderr captured into *err (malloc'd); returns its exit code. */
static int run_cli(char **err, ...)
{
	char *argv[32], path[] = "/tmp/krate-cli-records-XXXXXX";
	int argc = 0, fd = mkstemp(path), saved, rc;
	struct buf b = BUF_INIT(0);
	char tmp[1024];
	ssize_t n;
	va_list ap;

	assert_true(fd >= 0);
	va_start(ap, err);
	for (char *s = va_arg(ap, char *); s && argc < 32; s = va_arg(ap, char *))
		argv[argc++] = s;
	va_end(ap);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	rc = cli_main(argc, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(&b, tmp, (size_t)n);
	close(fd);
	unlink(path);
	*err = buf_detach(&b, NULL);
	return rc;
}

static void expect_usage(const char *want_error, const char *want_usage, char *err)
{
	if (!strstr(err, want_error) || !strstr(err, want_usage))
		fail_msg("expected \"%s\" and \"%s\" in: %s", want_error, want_usage, err);
	free(err);
}

/* Every misuse is a usage error (exit 2, the subcommand's usage line), found
 * before any request: the server below does not exist. */
static void test_usage_errors(void **state)
{
	char *err;

	(void)state;
	setenv("KRATE_CONFIG", "/nonexistent/krate-test/config", 1);
	setenv("KRATE_SERVER", "http://127.0.0.1:1", 1);
	setenv("KRATE_TOKEN", "t", 1);
	assert_true(cli_is_command("pr"));
	assert_true(cli_is_command("issue"));

	assert_int_equal(run_cli(&err, "pr", NULL), 2);
	expect_usage("give a pr command", "usage: krate pr create", err);
	assert_int_equal(run_cli(&err, "pr", "rebase", "1", NULL), 2);
	expect_usage("unknown pr command rebase", "krate pr reopen N", err);
	assert_int_equal(run_cli(&err, "pr", "view", "-r", "acme/app", NULL), 2);
	expect_usage("give the number: pr view N", "usage: krate pr view N", err);
	assert_int_equal(run_cli(&err, "pr", "view", "x1", "-r", "acme/app", NULL), 2);
	expect_usage("N must be a number", "usage: krate pr view N", err);
	assert_int_equal(run_cli(&err, "pr", "view", "1", "2", "-r", "acme/app", NULL), 2);
	expect_usage("unexpected argument 2", "usage: krate pr view N", err);
	assert_int_equal(run_cli(&err, "pr", "list", "3", "-r", "acme/app", NULL), 2);
	expect_usage("unexpected argument 3", "usage: krate pr list", err);
	/* An option of another subcommand is unknown to this one. */
	assert_int_equal(run_cli(&err, "pr", "list", "-r", "acme/app", "--title", "x", NULL), 2);
	expect_usage("unknown option --title", "usage: krate pr list", err);
	assert_int_equal(run_cli(&err, "pr", "list", "-r", "acme/app", "-o", "yaml", NULL), 2);
	expect_usage("-o must be table or json", "usage: krate pr list", err);
	assert_int_equal(run_cli(&err, "pr", "list", "-r", "acme/app", "--state", "draft", NULL), 2);
	expect_usage("--state must be open, closed, merged or all", "usage: krate pr list", err);
	assert_int_equal(run_cli(&err, "pr", "list", "-r", "app", NULL), 2);
	expect_usage("give the org with -n ORG", "usage: krate pr list", err);
	assert_int_equal(run_cli(&err, "pr", "list", NULL), 2);
	expect_usage("give the repository with -r REPO", "usage: krate pr list", err);
	assert_int_equal(run_cli(&err, "pr", "create", "-r", "acme/app", "--source", "f", NULL), 2);
	expect_usage("--title T", "usage: krate pr create", err);
	assert_int_equal(run_cli(&err, "pr", "create", "-r", "acme/app", "--title", "Add it", NULL), 2);
	expect_usage("--source BRANCH", "usage: krate pr create", err);
	assert_int_equal(run_cli(&err, "pr", "create", "-r", "acme/app", "--title", "\xc3", "--source", "f", NULL), 2);
	expect_usage("must be UTF-8 text", "usage: krate pr create", err);
	assert_int_equal(run_cli(&err, "pr", "create", "-r", "acme/app", "--title", "Add it", "--source", "f", "--body",
				 "b", "--body-file", "f", NULL),
			 2);
	expect_usage("not both", "usage: krate pr create", err);
	assert_int_equal(run_cli(&err, "pr", "review", "1", "-r", "acme/app", NULL), 2);
	expect_usage("one of --approve, --request-changes or --comment", "usage: krate pr review N", err);
	assert_int_equal(run_cli(&err, "pr", "review", "1", "-r", "acme/app", "--approve", "--comment", NULL), 2);
	expect_usage("one of --approve", "usage: krate pr review N", err);
	assert_int_equal(run_cli(&err, "pr", "review", "1", "-r", "acme/app", "--approve", "--line-comment", "a.c",
				 NULL),
			 2);
	expect_usage("PATH:LINE:TEXT", "usage: krate pr review N", err);
	assert_int_equal(run_cli(&err, "pr", "check", "1", "-r", "acme/app", "--state", "success", NULL), 2);
	expect_usage("--name NAME", "usage: krate pr check N", err);
	assert_int_equal(run_cli(&err, "pr", "check", "1", "-r", "acme/app", "--name", "ci", "--state", "ok", NULL), 2);
	expect_usage("--state must be pending, success or failure", "usage: krate pr check N", err);
	assert_int_equal(run_cli(&err, "pr", "merge", "1", "-r", "acme/app", "--strategy", "rebase", NULL), 2);
	expect_usage("--strategy must be", "usage: krate pr merge N", err);
	assert_int_equal(run_cli(&err, "pr", "comment", "1", "-r", "acme/app", NULL), 2);
	expect_usage("--body B or --body-file F", "usage: krate pr comment N", err);
	assert_int_equal(run_cli(&err, "pr", "close", "1", "-r", "acme/app", "-n", "other", NULL), 2);
	expect_usage("different orgs", "usage: krate pr close N", err);

	assert_int_equal(run_cli(&err, "issue", "create", "-r", "acme/app", NULL), 2);
	expect_usage("--title T", "usage: krate issue create", err);
	assert_int_equal(run_cli(&err, "issue", "list", "-r", "acme/app", "--state", "merged", NULL), 2);
	expect_usage("--state must be open, closed or all", "usage: krate issue list", err);
	assert_int_equal(run_cli(&err, "issue", "edit", "2", "-r", "acme/app", NULL), 2);
	expect_usage("give at least one of", "usage: krate issue edit N", err);
	assert_int_equal(run_cli(&err, "issue", "edit", "2", "-r", "acme/app", "--label", "x", NULL), 2);
	expect_usage("unknown option --label", "usage: krate issue edit N", err);
	assert_int_equal(run_cli(&err, "issue", "comment", "2", "-r", "acme/app", "--approve", NULL), 2);
	expect_usage("unknown option --approve", "usage: krate issue", err);
	assert_int_equal(run_cli(&err, "issue", "reopen", "-r", "acme/app", NULL), 2);
	expect_usage("give the number: issue reopen N", "usage: krate issue reopen N", err);

	/* Well-formed, the command goes on to the (absent) server: exit 1. */
	assert_int_equal(run_cli(&err, "pr", "view", "1", "-r", "acme/app", NULL), 1);
	if (!strstr(err, "cannot reach http://127.0.0.1:1"))
		fail_msg("unexpected: %s", err);
	free(err);
	unsetenv("KRATE_CONFIG");
	unsetenv("KRATE_SERVER");
	unsetenv("KRATE_TOKEN");
}

/* --body-file reads a file or stdin; an unreadable one fails before any request. */
static void test_body_file(void **state)
{
	char path[] = "/tmp/krate-cli-body-XXXXXX", *err;
	int fd = mkstemp(path);
	struct cli_sub sub = { "comment", OPT_BODY, 1, NULL, "krate pr comment N" };
	struct cli_rec rec = { &sub, BUF_INIT(0), 1 };
	struct cli_args a;
	json_t *obj = json_object();

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "line 1\nline \xc3\xa9\n", 15), 15);
	close(fd);
	memset(&a, 0, sizeof(a));
	a.body_file = path;
	assert_int_equal(cli_set_body(&rec, &a, obj), 0);
	assert_string_equal(json_string_value(json_object_get(obj, "body")), "line 1\nline \xc3\xa9\n");
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "\xff", 1), 1);
	close(fd);
	assert_int_equal(cli_set_body(&rec, &a, obj), 1);
	a.body_file = NULL;
	a.body = "plain";
	assert_int_equal(cli_set_body(&rec, &a, obj), 0);
	assert_string_equal(json_string_value(json_object_get(obj, "body")), "plain");
	unlink(path);
	json_decref(obj);

	setenv("KRATE_CONFIG", "/nonexistent/krate-test/config", 1);
	setenv("KRATE_SERVER", "http://127.0.0.1:1", 1);
	assert_int_equal(run_cli(&err, "pr", "comment", "1", "-r", "a/b", "--body-file", "/nonexistent/body", NULL),
			 1);
	if (!strstr(err, "cannot open /nonexistent/body"))
		fail_msg("unexpected: %s", err);
	free(err);
	unsetenv("KRATE_CONFIG");
	unsetenv("KRATE_SERVER");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_pr_options),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_repo_path),
		cmocka_unit_test(test_rec_path),
		cmocka_unit_test(test_line_comment),
		cmocka_unit_test(test_warning_text),
		cmocka_unit_test(test_pr_table),
		cmocka_unit_test(test_pr_view),
		cmocka_unit_test(test_issue_table_and_view),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_body_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
