/* `krate pr ...`: pull requests over the typed routes of docs/forge.md
 * (/api/orgs/ORG/repositories/REPO/pulls). */
#include "cli/cli_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PR_COLS 6

#define U_CREATE "krate pr create -r [ORG/]REPO --title T --source BRANCH [--target BRANCH] [--body B | --body-file F]"
#define U_LIST "krate pr list -r [ORG/]REPO [--state open|closed|merged|all] [-o table|json]"
#define U_VIEW "krate pr view N -r [ORG/]REPO [-o table|json]"
#define U_DIFF "krate pr diff N -r [ORG/]REPO"
#define U_REVIEW "krate pr review N -r [ORG/]REPO --approve|--request-changes|--comment [--body B | --body-file F] " \
		 "[--line-comment PATH:LINE:TEXT]..."
#define U_CHECK "krate pr check N -r [ORG/]REPO --name NAME --state pending|success|failure [--url URL]"
#define U_MERGE "krate pr merge N -r [ORG/]REPO [--strategy merge|squash|fast-forward]"
#define U_COMMENT "krate pr comment N -r [ORG/]REPO --body B | --body-file F"
#define U_CLOSE "krate pr close N -r [ORG/]REPO"
#define U_REOPEN "krate pr reopen N -r [ORG/]REPO"

const char cmd_pr_usage[] = U_CREATE "\n  " U_LIST "\n  " U_VIEW "\n  " U_DIFF "\n  " U_REVIEW "\n  " U_CHECK
			    "\n  " U_MERGE "\n  " U_COMMENT "\n  " U_CLOSE "\n  " U_REOPEN;

/* ---- rendering ---- */

int cli_pr_table(const json_t *items, struct cli_table *t)
{
	static const char *const header[PR_COLS] = { "NUMBER", "TITLE", "AUTHOR", "SOURCE → TARGET", "STATE",
						     "MERGEABLE" };
	struct buf refs = BUF_INIT(0);
	const json_t *pr;
	size_t i;
	int rc = table_init(t, PR_COLS, header);

	json_array_foreach(items, i, pr) {
		const char *phase = cli_str_at(pr, "status", "phase");
		const char *row[PR_COLS];
		char num[32];

		if (rc)
			break;
		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(json_object_get(json_object_get(pr, "spec"), "number")));
		buf_reset(&refs);
		rc = buf_printf(&refs, "%s → %s", cli_short_ref(cli_str_at(pr, "spec", "sourceRef")) ?: "-",
				cli_short_ref(cli_str_at(pr, "spec", "targetRef")) ?: "-");
		row[0] = num;
		row[1] = cli_str_at(pr, "spec", "title");
		row[2] = cli_str_at(pr, "spec", "author");
		row[3] = refs.data;
		row[4] = phase;
		/* Only an open pull request can be merged; the stored flag of the others means nothing. */
		row[5] = phase && strcmp(phase, "Open") ? "-"
			 : json_is_true(json_object_get(json_object_get(pr, "status"), "mergeable")) ? "yes" : "no";
		if (!rc)
			rc = table_add(t, row);
	}
	buf_free(&refs);
	return rc;
}

/* "  - text" lines under a field, one per element (strings, or objects' key). */
static int add_list(struct buf *out, const json_t *arr, const char *key)
{
	const json_t *v;
	size_t i;
	int rc = 0;

	json_array_foreach(arr, i, v) {
		char *s = cli_clean_text(key ? json_string_value(json_object_get(v, key)) : json_string_value(v));

		rc = s ? buf_printf(out, "  - %s\n", s) : KE_NOMEM;
		free(s);
		if (rc)
			break;
	}
	return rc;
}

/* "label: N" (or "none") and the list of arr below it. */
static int add_counted(struct buf *out, const char *label, const json_t *arr)
{
	char count[32];

	snprintf(count, sizeof(count), "%zu", json_array_size(arr));
	return cli_add_field(out, label, json_array_size(arr) ? count : "none");
}

static int add_checks(struct buf *out, const json_t *checks)
{
	const json_t *ck;
	size_t i;
	int rc = add_counted(out, "checks:", checks);

	json_array_foreach(checks, i, ck) {
		char *name = cli_clean_text(json_string_value(json_object_get(ck, "name")));
		char *state = cli_clean_text(json_string_value(json_object_get(ck, "state")));
		char *url = cli_clean_text(json_string_value(json_object_get(ck, "detailsUrl")));

		if (!rc)
			rc = name && state && url ? buf_printf(out, "  - %s: %s%s%s\n", name, state,
							      strcmp(url, "-") ? "  " : "", strcmp(url, "-") ? url : "")
						  : KE_NOMEM;
		free(name);
		free(state);
		free(url);
	}
	return rc;
}

static int add_approvals(struct buf *out, const json_t *st)
{
	json_int_t given = json_integer_value(json_object_get(st, "approvals"));
	json_int_t required = json_integer_value(json_object_get(st, "requiredApprovals"));
	json_int_t changes = json_integer_value(json_object_get(st, "changesRequested"));
	char text[128];
	int n;

	n = required > 0 ? snprintf(text, sizeof(text), "%lld of %lld required", (long long)given, (long long)required)
			 : snprintf(text, sizeof(text), "%lld", (long long)given);
	if (changes > 0 && n > 0 && (size_t)n < sizeof(text))
		snprintf(text + n, sizeof(text) - (size_t)n, ", %lld requested changes", (long long)changes);
	return cli_add_field(out, "approvals:", text);
}

/* merged: by WHO at WHEN as SHA (STRATEGY) */
static int add_merged(struct buf *out, const json_t *st)
{
	struct buf text = BUF_INIT(0);
	int rc;

	rc = buf_printf(&text, "by %s at %s as %s (%s)", json_string_value(json_object_get(st, "mergedBy")) ?: "-",
			json_string_value(json_object_get(st, "mergedAt")) ?: "-",
			json_string_value(json_object_get(st, "mergeCommit")) ?: "-",
			json_string_value(json_object_get(st, "mergeStrategy")) ?: "-");
	if (!rc)
		rc = cli_add_field(out, "merged:", text.data);
	buf_free(&text);
	return rc;
}

int cli_pr_view_text(const json_t *pr, struct buf *out)
{
	const json_t *st = json_object_get(pr, "status"), *spec = json_object_get(pr, "spec");
	const char *phase = cli_str_at(pr, "status", "phase");
	char *title = cli_clean_text(cli_str_at(pr, "spec", "title")), *joined = NULL;
	struct buf line = BUF_INIT(0);
	int rc;

	if (!title)
		return KE_NOMEM;
	rc = buf_printf(out, "#%lld %s\n", (long long)json_integer_value(json_object_get(spec, "number")), title);
	if (!rc)
		rc = cli_add_field(out, "state:", phase);
	if (!rc)
		rc = cli_add_field(out, "author:", cli_str_at(pr, "spec", "author"));
	if (!rc)
		rc = buf_printf(&line, "%s → %s", cli_short_ref(cli_str_at(pr, "spec", "sourceRef")) ?: "-",
				cli_short_ref(cli_str_at(pr, "spec", "targetRef")) ?: "-");
	if (!rc)
		rc = cli_add_field(out, "refs:", line.data);
	if (!rc)
		rc = cli_add_field(out, "head:", cli_str_at(pr, "status", "headSha"));
	if (!rc)
		rc = cli_add_field(out, "base:", cli_str_at(pr, "status", "baseSha"));
	if (!rc && json_is_integer(json_object_get(st, "commits"))) {
		buf_reset(&line);
		rc = buf_printf(&line, "%lld commit(s), %lld file(s) changed",
				(long long)json_integer_value(json_object_get(st, "commits")),
				(long long)json_integer_value(json_object_get(st, "changedFiles")));
		if (!rc)
			rc = cli_add_field(out, "changes:", line.data);
	}
	if (!rc)
		rc = cli_add_field(out, "mergeable:", json_is_true(json_object_get(st, "mergeable")) ? "yes" : "no");
	if (!rc)
		rc = add_list(out, json_object_get(st, "blockers"), "message");
	if (!rc && !(joined = cli_join_strings(json_object_get(st, "conflicts"))))
		rc = KE_NOMEM;
	if (!rc)
		rc = cli_add_field(out, "conflicts:", strcmp(joined, "-") ? joined : "none");
	if (!rc)
		rc = add_approvals(out, st);
	if (!rc)
		rc = add_checks(out, json_object_get(st, "checks"));
	if (!rc && phase && !strcmp(phase, "Merged"))
		rc = add_merged(out, st);
	if (!rc && phase && !strcmp(phase, "Closed"))
		rc = cli_add_field(out, "closed:", json_string_value(json_object_get(st, "closedAt")));
	if (!rc && json_array_size(json_object_get(st, "policyWarnings"))) {
		rc = add_counted(out, "warnings:", json_object_get(st, "policyWarnings"));
		if (!rc)
			rc = add_list(out, json_object_get(st, "policyWarnings"), NULL);
	}
	if (!rc && json_string_length(json_object_get(spec, "body")) > 0) {
		rc = buf_addch(out, '\n');
		if (!rc)
			rc = cli_add_block(out, "  ", json_string_value(json_object_get(spec, "body")));
	}
	free(joined);
	free(title);
	buf_free(&line);
	return rc;
}

/* ---- subcommands ---- */

/* The fields of `pr create`: title, source and target. */
static int create_fields(const struct cli_rec *rec, const struct cli_args *a, json_t *body)
{
	if (!a->source)
		return cli_sub_usage_error(rec, "give the branch to merge with --source BRANCH");
	if (cli_set_text(body, "title", a->title) || cli_set_text(body, "sourceRef", a->source) ||
	    (a->target && cli_set_text(body, "targetRef", a->target)))
		return cli_sub_usage_error(rec, "--title, --source and --target must be UTF-8 text");
	return 0;
}

static int pr_view(struct cli_ctx *ctx, const struct cli_rec *rec)
{
	struct buf text = BUF_INIT(0);
	json_t *pr = NULL;
	int rc = cli_rec_call(ctx, rec, "GET", NULL, NULL, &pr);

	if (!rc && ctx->args.output && !strcmp(ctx->args.output, "json"))
		rc = cli_print_json(pr);
	else if (!rc)
		rc = cli_pr_view_text(pr, &text) ? cli_oom() : cli_print_buf(&text);
	json_decref(pr);
	buf_free(&text);
	return rc;
}

/* Writes the patch; on a terminal, control characters other than newline and
 * tab become '?' so file contents cannot drive it. Piped, it stays exact for
 * `git apply`. */
static int write_patch(const char *p, size_t n)
{
	struct buf clean = BUF_INIT(0);
	int rc = 0;

	if (isatty(STDOUT_FILENO)) {
		if (cli_add_block(&clean, "", p)) {
			buf_free(&clean);
			return cli_oom();
		}
		p = clean.data ? clean.data : "";
		n = clean.len;
	}
	if ((n && fwrite(p, 1, n, stdout) != n) || fflush(stdout)) {
		fprintf(stderr, "error: cannot write output\n");
		rc = 1;
	}
	buf_free(&clean);
	return rc;
}

static int pr_diff(struct cli_ctx *ctx, const struct cli_rec *rec)
{
	json_t *resp = NULL, *patch;
	int rc = cli_rec_call(ctx, rec, "GET", "/files", NULL, &resp);

	if (rc)
		goto out;
	patch = json_object_get(resp, "patch");
	if (!json_is_string(patch)) {
		fprintf(stderr, "error: the server's answer has no patch\n");
		rc = 1;
		goto out;
	}
	rc = write_patch(json_string_value(patch), json_string_length(patch));
	if (json_is_true(json_object_get(resp, "truncated")))
		fprintf(stderr, "warning: the patch is cut short; the server sends at most 1 MiB of it\n");
out:
	json_decref(resp);
	return rc;
}

static int pr_review(struct cli_ctx *ctx, const struct cli_rec *rec)
{
	const struct cli_args *a = &ctx->args;
	const char *decision = a->approve ? "approved" : a->request_changes ? "changes-requested" : "commented";
	struct kerr e = KERR_INIT;
	json_t *body = NULL, *comments = NULL, *c, *resp = NULL;
	size_t i;
	int rc;

	if (a->approve + a->request_changes + a->comment != 1)
		return cli_sub_usage_error(rec, "give one of --approve, --request-changes or --comment");
	body = json_pack("{s:s}", "decision", decision);
	comments = json_array();
	if (!body || !comments) {
		rc = cli_oom();
		goto out;
	}
	for (i = 0; i < a->nline_comments; i++) {
		if (cli_line_comment(a->line_comments[i], &c, &e)) {
			rc = e.kcode == KE_NOMEM ? cli_oom() : cli_sub_usage_error(rec, "%s", e.message);
			goto out;
		}
		if (json_array_append_new(comments, c)) {
			rc = cli_oom();
			goto out;
		}
	}
	if (a->nline_comments && json_object_set(body, "comments", comments)) {
		rc = cli_oom();
		goto out;
	}
	rc = cli_set_body(rec, a, body);
	if (!rc)
		rc = cli_rec_call(ctx, rec, "POST", "/reviews", body, &resp);
	if (!rc)
		rc = cli_say("reviewed pull request #%lld: %s", rec->number, decision);
out:
	kerr_clear(&e);
	json_decref(resp);
	json_decref(comments);
	json_decref(body);
	return rc;
}

static int pr_check(struct cli_ctx *ctx, const struct cli_rec *rec)
{
	static const char *const states[] = { "pending", "success", "failure", NULL };
	const struct cli_args *a = &ctx->args;
	json_t *body, *resp = NULL;
	char *name = NULL;
	int rc;

	if (!a->check_name)
		return cli_sub_usage_error(rec, "give the check's name with --name NAME");
	if (!a->state || !cli_one_of(a->state, states))
		return cli_sub_usage_error(rec, "--state must be pending, success or failure");
	body = json_pack("{s:s}", "state", a->state);
	if (!body)
		return cli_oom();
	if (cli_set_text(body, "name", a->check_name) || (a->url && cli_set_text(body, "detailsUrl", a->url)))
		rc = cli_sub_usage_error(rec, "--name and --url must be UTF-8 text");
	else if (!(name = cli_clean_text(a->check_name)))
		rc = cli_oom();
	else
		rc = cli_rec_call(ctx, rec, "POST", "/checks", body, &resp);
	if (!rc)
		rc = cli_say("check %s on pull request #%lld: %s", name, rec->number, a->state);
	free(name);
	json_decref(resp);
	json_decref(body);
	return rc;
}

static int pr_merge(struct cli_ctx *ctx, const struct cli_rec *rec)
{
	static const char *const strategies[] = { "merge", "squash", "fast-forward", NULL };
	const struct cli_args *a = &ctx->args;
	json_t *body, *resp = NULL;
	char *sha = NULL, *strategy = NULL;
	int rc;

	if (a->strategy && !cli_one_of(a->strategy, strategies))
		return cli_sub_usage_error(rec, "--strategy must be merge, squash or fast-forward");
	body = a->strategy ? json_pack("{s:s}", "strategy", a->strategy) : json_object();
	/* A refusal (409 NOT_MERGEABLE) prints each blocker as a reason. */
	rc = body ? cli_rec_call(ctx, rec, "POST", "/merge", body, &resp) : cli_oom();
	if (!rc) {
		sha = cli_clean_text(cli_str_at(resp, "status", "mergeCommit"));
		strategy = cli_clean_text(cli_str_at(resp, "status", "mergeStrategy"));
		rc = sha && strategy ? cli_say("pull request #%lld merged (%s): %s", rec->number, strategy, sha)
				     : cli_oom();
	}
	free(sha);
	free(strategy);
	json_decref(resp);
	json_decref(body);
	return rc;
}

static const char *const list_states[] = { "open", "closed", "merged", "all", NULL };

static const struct cli_rec_type pulls = {
	"pulls", "pull request", "No pull requests found", list_states, "open, closed, merged or all", cli_pr_table,
	create_fields,
};

static const struct cli_sub subs[] = {
	{ "create", OPT_TITLE | OPT_REFS | OPT_BODY, 0, cli_rec_create, U_CREATE },
	{ "list", OPT_STATE | OPT_OUTPUT, 0, cli_rec_list, U_LIST },
	{ "view", OPT_OUTPUT, 1, pr_view, U_VIEW },
	{ "diff", 0, 1, pr_diff, U_DIFF },
	{ "review", OPT_DECISION | OPT_BODY | OPT_LINE_COMMENT, 1, pr_review, U_REVIEW },
	{ "check", OPT_CHECK | OPT_STATE, 1, pr_check, U_CHECK },
	{ "merge", OPT_STRATEGY, 1, pr_merge, U_MERGE },
	{ "comment", OPT_BODY, 1, cli_rec_comment, U_COMMENT },
	{ "close", 0, 1, cli_rec_close, U_CLOSE },
	{ "reopen", 0, 1, cli_rec_reopen, U_REOPEN },
};

int cmd_pr(struct cli_ctx *ctx)
{
	return cli_run_sub(ctx, &pulls, subs, sizeof(subs) / sizeof(subs[0]));
}
