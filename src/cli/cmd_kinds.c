/* `krate kinds`: the server's kind table. */
#include "cli/cli_internal.h"

#include <stdio.h>
#include <string.h>

/* Short names joined by ",", or "-" when there are none. */
static int short_names(const json_t *arr, struct buf *out)
{
	const json_t *v;
	size_t i;
	int rc = 0;

	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			continue;
		if (out->len)
			rc = buf_addch(out, ',');
		if (!rc)
			rc = buf_addstr(out, json_string_value(v));
		if (rc)
			return rc;
	}
	return out->len ? 0 : buf_addstr(out, "-");
}

int cmd_kinds(struct cli_ctx *ctx)
{
	static const char *const header[] = { "KIND", "PLURAL", "SHORT", "SCOPE", "STORAGE" };
	const char *out = ctx->args.output;
	struct cli_table t;
	struct buf shorts = BUF_INIT(0);
	json_t *resp = NULL, *k;
	size_t i;
	int rc = 1;

	if (ctx->args.npos)
		return cli_usage_error(ctx, "unexpected argument %s", ctx->args.pos[0]);
	if (!cli_output_ok(out, 1))
		return cli_usage_error(ctx, "unknown output format %s", out);
	if (cli_call(ctx, "GET", "/api/kinds", NULL, NULL, 0, &resp, NULL))
		return 1;
	if (out && strcmp(out, "table")) {
		rc = !strcmp(out, "json") ? cli_print_json(resp) : cli_print_yaml(resp);
		json_decref(resp);
		return rc;
	}
	if (table_init(&t, 5, header))
		goto oom;
	json_array_foreach(json_object_get(resp, "kinds"), i, k) {
		const char *row[5];

		buf_reset(&shorts);
		if (short_names(json_object_get(k, "shortNames"), &shorts))
			goto oom;
		row[0] = json_string_value(json_object_get(k, "kind"));
		row[1] = json_string_value(json_object_get(k, "plural"));
		row[2] = shorts.data;
		row[3] = json_string_value(json_object_get(k, "scope"));
		row[4] = json_string_value(json_object_get(k, "storage"));
		if (table_add(&t, row))
			goto oom;
	}
	rc = cli_print_table(&t);
	goto out;
oom:
	fprintf(stderr, "error: out of memory\n");
out:
	table_free(&t);
	buf_free(&shorts);
	json_decref(resp);
	return rc;
}
