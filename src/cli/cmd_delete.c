/* `krate delete KIND NAME`. */
#include "cli/cli_internal.h"
#include "model/kinds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_delete(struct cli_ctx *ctx)
{
	const struct cli_args *a = &ctx->args;
	const struct kind_def *kd;
	struct buf path = BUF_INIT(0);
	json_t *resp = NULL;
	const char *kind, *rname;
	char *ckind = NULL, *cname = NULL;
	int rc = 1;

	if (a->npos != 2)
		return cli_usage_error(ctx, a->npos < 2 ? "delete needs a KIND and a NAME" : "too many arguments");
	if (cli_object_path(ctx, a->org, a->pos[0], a->pos[1], &path)) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	if (cli_call(ctx, "DELETE", path.data, NULL, NULL, 0, &resp, NULL))
		goto out;
	/* Name the kind as the server does when it echoed the object; else as
	 * the table knows it; else as typed. */
	rname = json_string_value(json_object_get(json_object_get(resp, "metadata"), "name"));
	kind = json_string_value(json_object_get(resp, "kind"));
	if (!kind || !rname || strcmp(rname, a->pos[1])) {
		kd = kinds_lookup(a->pos[0]);
		kind = kd ? kd->kind : a->pos[0];
	}
	ckind = cli_clean_text(kind);
	cname = cli_clean_text(a->pos[1]);
	if (!ckind || !cname) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	printf("%s/%s deleted\n", ckind, cname);
	rc = fflush(stdout) ? 1 : 0;
out:
	free(ckind);
	free(cname);
	json_decref(resp);
	buf_free(&path);
	return rc;
}
