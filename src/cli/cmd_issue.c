/* `krate issue ...`: issues over the typed routes of docs/forge.md
 * (/api/orgs/ORG/repositories/REPO/issues). */
#include "cli/cli_internal.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISSUE_COLS 7

#define U_CREATE "krate issue create -r [ORG/]REPO --title T [--body B | --body-file F] [--label L]... " \
		 "[--assignee U]..."
#define U_LIST "krate issue list -r [ORG/]REPO [--state open|closed|all] [-o table|json]"
#define U_VIEW "krate issue view N -r [ORG/]REPO [-o table|json]"
#define U_COMMENT "krate issue comment N -r [ORG/]REPO --body B | --body-file F"
#define U_EDIT "krate issue edit N -r [ORG/]REPO [--title T] [--body B | --body-file F] [--add-label L]... " \
	       "[--assignee U]..."
#define U_CLOSE "krate issue close N -r [ORG/]REPO"
#define U_REOPEN "krate issue reopen N -r [ORG/]REPO"

const char cmd_issue_usage[] = U_CREATE "\n  " U_LIST "\n  " U_VIEW "\n  " U_COMMENT "\n  " U_EDIT "\n  " U_CLOSE
			       "\n  " U_REOPEN;

/* ---- rendering ---- */

int cli_issue_table(const json_t *items, int64_t now, struct cli_table *t)
{
	static const char *const header[ISSUE_COLS] = { "NUMBER", "TITLE", "AUTHOR", "STATE", "LABELS", "ASSIGNEES",
							"AGE" };
	const json_t *issue;
	size_t i;
	int rc = table_init(t, ISSUE_COLS, header);

	json_array_foreach(items, i, issue) {
		const json_t *spec = json_object_get(issue, "spec");
		char *labels = NULL, *assignees = NULL;
		const char *row[ISSUE_COLS];
		char num[32], age[24];

		if (rc)
			break;
		labels = cli_join_strings(json_object_get(spec, "labels"));
		assignees = cli_join_strings(json_object_get(spec, "assignees"));
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(json_object_get(spec, "number")));
		cli_age_since(cli_str_at(issue, "metadata", "creationTimestamp"), now, age);
		row[0] = num;
		row[1] = cli_str_at(issue, "spec", "title");
		row[2] = cli_str_at(issue, "spec", "author");
		row[3] = cli_str_at(issue, "status", "phase");
		row[4] = labels;
		row[5] = assignees;
		row[6] = age;
		rc = labels && assignees ? table_add(t, row) : KE_NOMEM;
		free(labels);
		free(assignees);
	}
	return rc;
}

/* "AUTHOR (AGE ago):" and the indented text of each comment. */
static int add_comments(struct buf *out, const json_t *comments, int64_t now)
{
	const json_t *c;
	size_t i;
	char count[32];
	int rc;

	snprintf(count, sizeof(count), "%zu", json_array_size(comments));
	rc = buf_addch(out, '\n');
	if (!rc)
		rc = cli_add_field(out, "comments:", count);

	json_array_foreach(comments, i, c) {
		char *author = cli_clean_text(cli_str_at(c, "spec", "author"));
		char age[24];

		cli_age_since(cli_str_at(c, "metadata", "creationTimestamp"), now, age);
		if (!rc)
			rc = author ? buf_printf(out, "\n%s (%s ago):\n", author, age) : KE_NOMEM;
		if (!rc)
			rc = cli_add_block(out, "  ", cli_str_at(c, "spec", "body"));
		free(author);
	}
	return rc;
}

int cli_issue_view_text(const json_t *issue, const json_t *comments, int64_t now, struct buf *out)
{
	const json_t *spec = json_object_get(issue, "spec");
	const char *phase = cli_str_at(issue, "status", "phase");
	char *title = cli_clean_text(cli_str_at(issue, "spec", "title"));
	char *labels = cli_join_strings(json_object_get(spec, "labels"));
	char *assignees = cli_join_strings(json_object_get(spec, "assignees"));
	char age[24], opened[40];
	int rc = KE_NOMEM;

	if (!title || !labels || !assignees)
		goto out;
	cli_age_since(cli_str_at(issue, "metadata", "creationTimestamp"), now, age);
	snprintf(opened, sizeof(opened), "%s ago", age);
	rc = buf_printf(out, "#%lld %s\n", (long long)json_integer_value(json_object_get(spec, "number")), title);
	if (!rc)
		rc = cli_add_field(out, "state:", phase);
	if (!rc)
		rc = cli_add_field(out, "author:", cli_str_at(issue, "spec", "author"));
	if (!rc)
		rc = cli_add_field(out, "labels:", labels);
	if (!rc)
		rc = cli_add_field(out, "assignees:", assignees);
	if (!rc)
		rc = cli_add_field(out, "opened:", opened);
	if (!rc && phase && !strcmp(phase, "Closed"))
		rc = cli_add_field(out, "closed:", cli_str_at(issue, "status", "closedAt"));
	if (!rc && json_string_length(json_object_get(spec, "body")) > 0) {
		rc = buf_addch(out, '\n');
		if (!rc)
			rc = cli_add_block(out, "  ", json_string_value(json_object_get(spec, "body")));
	}
	if (!rc)
		rc = add_comments(out, comments, now);
out:
	free(title);
	free(labels);
	free(assignees);
	return rc;
}

/* ---- subcommands ---- */

/* obj[key] = the strings of v[0..n) as an array; KE_INVALID when one is not UTF-8. */
static int set_names(json_t *obj, const char *key, const char *const *v, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	if (!arr)
		return KE_NOMEM;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, json_string(v[i]))) {
			json_decref(arr);
			return KE_INVALID;
		}
	return json_object_set_new(obj, key, arr) ? KE_NOMEM : 0;
}

/* The fields of `issue create`: title, labels and assignees. */
static int create_fields(const struct cli_rec *rec, const struct cli_args *a, json_t *body)
{
	if (cli_set_text(body, "title", a->title) ||
	    (a->nlabels && set_names(body, "labels", a->labels, a->nlabels)) ||
	    (a->nassignees && set_names(body, "assignees", a->assignees, a->nassignees)))
		return cli_sub_usage_error(rec, "--title, --label and --assignee must be UTF-8 text");
	return 0;
}

/* The table of `issue list`: ages are counted from now. */
static int issue_table(const json_t *items, struct cli_table *t)
{
	return cli_issue_table(items, util_now_seconds(), t);
}

static int issue_view(struct cli_ctx *ctx, const struct cli_rec *rec)
{
	struct buf text = BUF_INIT(0);
	json_t *issue = NULL, *comments = NULL, *both = NULL;
	int rc = cli_rec_call(ctx, rec, "GET", NULL, NULL, &issue);

	if (!rc)
		rc = cli_rec_call(ctx, rec, "GET", "/comments", NULL, &comments);
	if (rc)
		goto out;
	rc = 1;
	if (!json_is_array(json_object_get(comments, "items"))) {
		fprintf(stderr, "error: the server's list of comments has no items\n");
		goto out;
	}
	if (ctx->args.output && !strcmp(ctx->args.output, "json")) {
		both = json_pack("{s:O, s:O}", "issue", issue, "comments", json_object_get(comments, "items"));
		rc = both ? cli_print_json(both) : cli_oom();
	} else if (cli_issue_view_text(issue, json_object_get(comments, "items"), util_now_seconds(), &text)) {
		cli_oom();
	} else {
		rc = cli_print_buf(&text);
	}
out:
	json_decref(both);
	json_decref(comments);
	json_decref(issue);
	buf_free(&text);
	return rc;
}

/* The issue's labels followed by those of --add-label it lacks (new ref). */
static json_t *merged_labels(const json_t *issue, const struct cli_args *a)
{
	json_t *labels = json_array(), *v;
	size_t i, j;

	if (!labels)
		return NULL;
	json_array_foreach(json_object_get(json_object_get(issue, "spec"), "labels"), i, v)
		if (json_array_append(labels, v))
			goto fail;
	for (i = 0; i < a->nadd_labels; i++) {
		int have = 0;

		json_array_foreach(labels, j, v)
			if (json_is_string(v) && !strcmp(json_string_value(v), a->add_labels[i]))
				have = 1;
		if (!have && json_array_append_new(labels, json_string(a->add_labels[i])))
			goto fail;
	}
	return labels;
fail:
	json_decref(labels);
	return NULL;
}

static int issue_edit(struct cli_ctx *ctx, const struct cli_rec *rec)
{
	const struct cli_args *a = &ctx->args;
	json_t *body, *issue = NULL, *resp = NULL, *labels;
	int rc;

	if (!a->title && !a->body && !a->body_file && !a->nadd_labels && !a->nassignees)
		return cli_sub_usage_error(rec, "give at least one of --title, --body, --body-file, --add-label or "
						"--assignee");
	body = json_object();
	if (!body)
		return cli_oom();
	if ((a->title && cli_set_text(body, "title", a->title)) ||
	    (a->nassignees && set_names(body, "assignees", a->assignees, a->nassignees))) {
		rc = cli_sub_usage_error(rec, "--title and --assignee must be UTF-8 text");
		goto out;
	}
	rc = cli_set_body(rec, a, body);
	/* PATCH replaces the labels: send the current ones plus the new. */
	if (!rc && a->nadd_labels && !(rc = cli_rec_call(ctx, rec, "GET", NULL, NULL, &issue))) {
		labels = merged_labels(issue, a);
		if (!labels || json_object_set_new(body, "labels", labels))
			rc = cli_sub_usage_error(rec, "--add-label must be UTF-8 text");
	}
	if (!rc)
		rc = cli_rec_call(ctx, rec, "PATCH", NULL, body, &resp);
	if (!rc)
		rc = cli_say("issue #%lld updated", rec->number);
out:
	json_decref(resp);
	json_decref(issue);
	json_decref(body);
	return rc;
}

static const char *const list_states[] = { "open", "closed", "all", NULL };

static const struct cli_rec_type issues = {
	"issues", "issue", "No issues found", list_states, "open, closed or all", issue_table, create_fields,
};

static const struct cli_sub subs[] = {
	{ "create", OPT_TITLE | OPT_BODY | OPT_LABEL | OPT_ASSIGNEE, 0, cli_rec_create, U_CREATE },
	{ "list", OPT_STATE | OPT_OUTPUT, 0, cli_rec_list, U_LIST },
	{ "view", OPT_OUTPUT, 1, issue_view, U_VIEW },
	{ "comment", OPT_BODY, 1, cli_rec_comment, U_COMMENT },
	{ "edit", OPT_TITLE | OPT_BODY | OPT_ADD_LABEL | OPT_ASSIGNEE, 1, issue_edit, U_EDIT },
	{ "close", 0, 1, cli_rec_close, U_CLOSE },
	{ "reopen", 0, 1, cli_rec_reopen, U_REOPEN },
};

int cmd_issue(struct cli_ctx *ctx)
{
	return cli_run_sub(ctx, &issues, subs, sizeof(subs) / sizeof(subs[0]));
}
