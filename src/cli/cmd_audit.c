/* `krate audit verify` and `krate audit list`. */
#include "cli/cli_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int audit_verify(struct cli_ctx *ctx)
{
	json_t *resp = NULL;
	char *seq = NULL, *reason = NULL;
	int rc = 1;

	if (ctx->args.npos != 1)
		return cli_usage_error(ctx, "too many arguments");
	if (cli_call(ctx, "GET", "/api/audit/verify", NULL, NULL, 0, &resp, NULL))
		return 1;
	if (!json_is_boolean(json_object_get(resp, "ok"))) {
		fprintf(stderr, "error: the server's answer has no \"ok\"\n");
		goto out;
	}
	if (json_is_true(json_object_get(resp, "ok"))) {
		printf("audit chain ok: %" JSON_INTEGER_FORMAT " entries\n",
		       json_integer_value(json_object_get(resp, "entries")));
		rc = fflush(stdout) ? 1 : 0;
		goto out;
	}
	seq = cli_scalar_text(json_object_get(resp, "firstBadSeq"));
	reason = cli_clean_text(json_string_value(json_object_get(resp, "reason")));
	if (!seq || !reason) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	printf("audit chain BROKEN at seq %s: %s\n", seq, reason);
	fflush(stdout);
out:
	free(seq);
	free(reason);
	json_decref(resp);
	return rc;
}

static int list_path(const struct cli_ctx *ctx, json_int_t after, struct buf *p)
{
	char num[32];
	int rc;

	buf_reset(p);
	rc = buf_addstr(p, "/api/audit");
	if (!rc && ctx->args.org)
		rc = cli_query_add(p, "org", ctx->args.org);
	if (!rc && after > 0) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, after);
		rc = cli_query_add(p, "after", num);
	}
	if (!rc && ctx->args.limit > 0) {
		snprintf(num, sizeof(num), "%ld", ctx->args.limit);
		rc = cli_query_add(p, "limit", num);
	}
	return rc;
}

/* Collects entries page by page (after = highest seq seen) until a page
 * brings nothing new; with --limit, one page. Only entries with a seq above
 * every earlier one are kept, so a server that ignores `after` cannot loop us. */
static int fetch_entries(const struct cli_ctx *ctx, json_t *all)
{
	struct buf path = BUF_INIT(0);
	json_int_t max_seq = 0;
	json_t *page = NULL, *it;
	size_t i;
	int rc = 1;

	for (;;) {
		json_int_t page_max = max_seq;

		if (list_path(ctx, max_seq, &path))
			goto oom;
		if (cli_call(ctx, "GET", path.data, NULL, NULL, 0, &page, NULL))
			goto out;
		if (!json_is_array(json_object_get(page, "items"))) {
			fprintf(stderr, "error: the server's audit answer has no items\n");
			goto out;
		}
		json_array_foreach(json_object_get(page, "items"), i, it) {
			json_int_t seq = json_integer_value(json_object_get(it, "seq"));

			if (seq <= max_seq)
				continue;
			if (json_array_append(all, it))
				goto oom;
			if (seq > page_max)
				page_max = seq;
		}
		json_decref(page);
		page = NULL;
		if (ctx->args.limit > 0 || page_max == max_seq)
			break;
		max_seq = page_max;
	}
	rc = 0;
	goto out;
oom:
	fprintf(stderr, "error: out of memory\n");
out:
	json_decref(page);
	buf_free(&path);
	return rc;
}

static int print_entries(const json_t *items)
{
	static const char *const header[] = { "SEQ", "TIME", "ACTOR", "VERB", "RESOURCE", "RESULT" };
	static const char *const keys[] = { "seq", "time", "actor", "verb", "resource", "result" };
	struct cli_table t;
	const json_t *it;
	char *cells[6] = { NULL };
	size_t i, c;
	int rc = 1;

	if (json_array_size(items) == 0) {
		fprintf(stderr, "No audit entries found\n");
		return 0;
	}
	if (table_init(&t, 6, header))
		goto oom;
	json_array_foreach(items, i, it) {
		for (c = 0; c < 6; c++) {
			cells[c] = cli_scalar_text(json_object_get(it, keys[c]));
			if (!cells[c])
				goto oom;
		}
		if (table_add(&t, (const char *const *)cells))
			goto oom;
		for (c = 0; c < 6; c++) {
			free(cells[c]);
			cells[c] = NULL;
		}
	}
	rc = cli_print_table(&t);
	goto out;
oom:
	fprintf(stderr, "error: out of memory\n");
out:
	for (c = 0; c < 6; c++)
		free(cells[c]);
	table_free(&t);
	return rc;
}

static int audit_list(struct cli_ctx *ctx)
{
	const char *out = ctx->args.output;
	json_t *all, *wrap = NULL;
	int rc = 1;

	if (ctx->args.npos != 1)
		return cli_usage_error(ctx, "too many arguments");
	all = json_array();
	if (!all) {
		fprintf(stderr, "error: out of memory\n");
		return 1;
	}
	if (fetch_entries(ctx, all))
		goto out;
	if (out && !strcmp(out, "json")) {
		wrap = json_pack("{s:O}", "items", all);
		rc = wrap ? cli_print_json(wrap) : 1;
	} else {
		rc = print_entries(all);
	}
out:
	json_decref(wrap);
	json_decref(all);
	return rc;
}

int cmd_audit(struct cli_ctx *ctx)
{
	const struct cli_args *a = &ctx->args;

	if (!cli_output_ok(a->output, 0))
		return cli_usage_error(ctx, "unknown output format %s", a->output);
	if (a->npos >= 1 && !strcmp(a->pos[0], "verify")) {
		if (a->org || a->limit > 0 || a->output)
			return cli_usage_error(ctx, "audit verify takes no options");
		return audit_verify(ctx);
	}
	if (a->npos >= 1 && !strcmp(a->pos[0], "list"))
		return audit_list(ctx);
	return cli_usage_error(ctx, "audit needs `verify` or `list`");
}
