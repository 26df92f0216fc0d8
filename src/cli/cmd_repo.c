/* `krate repo create NAME` and `krate repo list`: the typed repository routes
 * (/api/orgs/ORG/repositories). The org is -n ORG or the one saved by login. */
#include "cli/cli_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPO_COLS 5

static int repos_path(const char *org, struct buf *p)
{
	return buf_addstr(p, "/api/orgs") || cli_path_add(p, org) || buf_addstr(p, "/repositories");
}

static int repo_create(struct cli_ctx *ctx, const char *org)
{
	const struct cli_args *a = &ctx->args;
	struct buf path = BUF_INIT(0);
	json_t *body, *resp = NULL;
	long status = 0;
	char *name = NULL;
	int rc = 1;

	body = json_pack("{s:s}", "name", a->pos[1]);
	if (body && a->visibility && json_object_set_new(body, "visibility", json_string(a->visibility)))
		goto text;
	if (body && a->default_branch && json_object_set_new(body, "defaultBranch", json_string(a->default_branch)))
		goto text;
	if (!body)
		goto text;
	if (repos_path(org, &path)) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	if (cli_call_json(ctx, "POST", path.data, body, &resp, &status))
		goto out;
	name = cli_clean_text(json_string_value(json_object_get(json_object_get(resp, "metadata"), "name")));
	if (!name) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	printf("repository %s %s\n", name, status == 201 ? "created" : "updated");
	rc = fflush(stdout) ? 1 : 0;
	goto out;
text:
	fprintf(stderr, "error: the name, --visibility and --default-branch must be UTF-8 text\n");
out:
	free(name);
	json_decref(resp);
	json_decref(body);
	buf_free(&path);
	return rc;
}

static int print_repos(const json_t *items)
{
	static const char *const header[REPO_COLS] = { "NAME", "VISIBILITY", "DEFAULT BRANCH", "PHASE", "CLONE URL" };
	static const char *const keys[REPO_COLS] = { "name", "visibility", "defaultBranch", "phase", "cloneUrl" };
	struct cli_table t;
	const json_t *it;
	char *cells[REPO_COLS] = { NULL };
	size_t i, c;
	int rc = 1;

	if (json_array_size(items) == 0) {
		fprintf(stderr, "No repositories found\n");
		return 0;
	}
	if (table_init(&t, REPO_COLS, header))
		goto oom;
	json_array_foreach(items, i, it) {
		for (c = 0; c < REPO_COLS; c++) {
			cells[c] = cli_scalar_text(json_object_get(it, keys[c]));
			if (!cells[c])
				goto oom;
		}
		if (table_add(&t, (const char *const *)cells))
			goto oom;
		for (c = 0; c < REPO_COLS; c++) {
			free(cells[c]);
			cells[c] = NULL;
		}
	}
	rc = cli_print_table(&t);
	goto out;
oom:
	fprintf(stderr, "error: out of memory\n");
out:
	for (c = 0; c < REPO_COLS; c++)
		free(cells[c]);
	table_free(&t);
	return rc;
}

static int repo_list(struct cli_ctx *ctx, const char *org)
{
	struct buf path = BUF_INIT(0);
	json_t *resp = NULL;
	int rc = 1;

	if (repos_path(org, &path)) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	if (cli_call(ctx, "GET", path.data, NULL, NULL, 0, &resp, NULL))
		goto out;
	if (!json_is_array(json_object_get(resp, "items"))) {
		fprintf(stderr, "error: the server's list has no items\n");
		goto out;
	}
	if (ctx->args.output && !strcmp(ctx->args.output, "json"))
		rc = cli_print_json(resp);
	else
		rc = print_repos(json_object_get(resp, "items"));
out:
	json_decref(resp);
	buf_free(&path);
	return rc;
}

int cmd_repo(struct cli_ctx *ctx)
{
	const struct cli_args *a = &ctx->args;
	const char *org = a->org ? a->org : ctx->cfg.org;
	int create = a->npos == 2 && !strcmp(a->pos[0], "create");
	int list = a->npos == 1 && !strcmp(a->pos[0], "list");

	if (!create && !list)
		return cli_usage_error(ctx, "the repo command is `repo create NAME` or `repo list`");
	if (!org)
		return cli_usage_error(ctx, "give the org with -n ORG (or save one with `krate login --org`)");
	if (create && a->output)
		return cli_usage_error(ctx, "-o applies to `repo list` only");
	if (list && (a->visibility || a->default_branch))
		return cli_usage_error(ctx, "--visibility and --default-branch apply to `repo create` only");
	if (list && !cli_output_ok(a->output, 0))
		return cli_usage_error(ctx, "-o must be table or json");
	return create ? repo_create(ctx, org) : repo_list(ctx, org);
}
