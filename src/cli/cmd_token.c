/* `krate token create`: mints an API token; the secret goes to stdout only. */
#include "cli/cli_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int role_known(const char *r)
{
	return !strcmp(r, "viewer") || !strcmp(r, "developer") || !strcmp(r, "admin");
}

int cmd_token(struct cli_ctx *ctx)
{
	const struct cli_args *a = &ctx->args;
	json_t *body = NULL, *resp = NULL;
	const char *secret;
	char *id = NULL, *role = NULL, *user = NULL;
	int rc = 1;

	if (a->npos != 1 || strcmp(a->pos[0], "create"))
		return cli_usage_error(ctx, "the token command is `token create`");
	if (!a->user)
		return cli_usage_error(ctx, "token create needs --user");
	if (!a->role || !role_known(a->role))
		return cli_usage_error(ctx, "token create needs --role viewer, developer or admin");
	body = json_pack("{s:s, s:s}", "user", a->user, "role", a->role);
	if (body && a->org && json_object_set_new(body, "org", json_string(a->org))) {
		json_decref(body);
		body = NULL;
	}
	if (!body) {
		fprintf(stderr, "error: --user and --org must be UTF-8 text\n");
		return 1;
	}
	if (cli_call_json(ctx, "POST", "/api/tokens", body, &resp, NULL))
		goto out;
	secret = json_string_value(json_object_get(resp, "token"));
	if (!secret || !*secret) {
		fprintf(stderr, "error: the server's answer holds no token\n");
		goto out;
	}
	id = cli_clean_text(json_string_value(json_object_get(resp, "id")));
	user = cli_clean_text(json_string_value(json_object_get(resp, "user")));
	role = cli_clean_text(json_string_value(json_object_get(resp, "role")));
	if (!id || !user || !role) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	/* stdout carries nothing but the secret, so `$(krate token create ...)` works. */
	printf("%s\n", secret);
	if (fflush(stdout))
		goto out;
	fprintf(stderr, "created token %s for %s (role %s)\n", id, user, role);
	rc = 0;
out:
	free(id);
	free(user);
	free(role);
	json_decref(resp);
	json_decref(body);
	return rc;
}
