/* `krate apply -f FILE|-`: sends each file as-is and reports every object. */
#include "cli/cli_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints "<kind>/<name> created|configured" for an applied object. */
static int report_object(const json_t *obj, long status)
{
	char *kind = cli_clean_text(json_string_value(json_object_get(obj, "kind")));
	char *name = cli_clean_text(json_string_value(
		json_object_get(json_object_get(obj, "metadata"), "name")));
	int rc = 1;

	if (kind && name) {
		printf("%s/%s %s\n", kind, name, status == 201 ? "created" : "configured");
		rc = 0;
	} else {
		fprintf(stderr, "error: out of memory\n");
	}
	free(kind);
	free(name);
	return rc;
}

/* The answer to a multi-object apply: {"items":[{status, object|error}]}. */
static int report_items(const json_t *items)
{
	const json_t *it;
	size_t i;
	int failed = 0;

	json_array_foreach(items, i, it) {
		json_int_t st = json_integer_value(json_object_get(it, "status"));
		const json_t *obj = json_object_get(it, "object");

		if (st >= 200 && st < 300 && json_is_object(obj)) {
			failed |= report_object(obj, (long)st);
		} else {
			const char *res = json_string_value(
				json_object_get(json_object_get(it, "error"), "resource"));
			char prefix[48];

			if (!res) {
				snprintf(prefix, sizeof(prefix), "object %zu", i + 1);
				res = prefix;
			}
			cli_report_error(it, (long)st, res);
			failed = 1;
		}
	}
	return failed;
}

static int apply_one(struct cli_ctx *ctx, const char *file, const char *path)
{
	struct buf body = BUF_INIT(CLI_BODY_MAX);
	json_t *resp = NULL, *items;
	long status = 0;
	int rc = 1;

	if (cli_read_input(file, &body))
		goto out;
	if (cli_call(ctx, "POST", path, cli_sniff_type(body.data, body.len),
		     body.data ? body.data : "", body.len, &resp, &status))
		goto out;
	items = json_object_get(resp, "items");
	if (json_is_array(items) && !json_object_get(resp, "kind"))
		rc = report_items(items);
	else if (json_is_object(resp))
		rc = report_object(resp, status);
	else
		fprintf(stderr, "error: unexpected answer from the server (HTTP %ld)\n", status);
out:
	json_decref(resp);
	buf_free(&body);
	return rc;
}

int cmd_apply(struct cli_ctx *ctx)
{
	struct buf path = BUF_INIT(0);
	int failed = 0, rc;

	if (ctx->args.npos)
		return cli_usage_error(ctx, "unexpected argument %s", ctx->args.pos[0]);
	if (!ctx->args.nfiles)
		return cli_usage_error(ctx, "apply needs -f FILE (or -f - for stdin)");
	if (ctx->args.org)
		rc = buf_addstr(&path, "/api/orgs") || cli_path_add(&path, ctx->args.org) ||
		     buf_addstr(&path, "/resources");
	else
		rc = buf_addstr(&path, "/api/controller/resources");
	if (rc) {
		fprintf(stderr, "error: out of memory\n");
		buf_free(&path);
		return 1;
	}
	/* Each file is its own request; a failure does not stop the others. */
	for (size_t i = 0; i < ctx->args.nfiles; i++)
		failed |= apply_one(ctx, ctx->args.files[i], path.data);
	buf_free(&path);
	fflush(stdout);
	return failed ? 1 : 0;
}
