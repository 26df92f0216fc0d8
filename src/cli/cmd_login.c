/* `krate login` and `krate whoami`. */
#include "cli/cli_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_field(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && *s ? s : NULL;
}

int cmd_login(struct cli_ctx *ctx)
{
	struct cli_config cfg = { NULL, NULL, NULL };
	struct kerr e = KERR_INIT;
	json_t *who = NULL;
	const char *org;
	char *user = NULL, *role = NULL;
	int rc = 1;

	if (ctx->args.npos)
		return cli_usage_error(ctx, "unexpected argument %s", ctx->args.pos[0]);
	if (!ctx->config_path) {
		fprintf(stderr, "error: set KRATE_CONFIG or HOME so the login can be saved\n");
		return 1;
	}
	if (cli_call(ctx, "GET", "/api/whoami", NULL, NULL, 0, &who, NULL))
		return 1;
	if (!str_field(who, "user")) {
		fprintf(stderr, "error: the server's whoami answer names no user\n");
		goto out;
	}
	/* An org-bound token already implies the org to default to. */
	org = ctx->args.org ? ctx->args.org : str_field(who, "org");
	cfg.server = strdup(ctx->http.server);
	cfg.token = strdup(ctx->http.token);
	cfg.org = org ? strdup(org) : NULL;
	user = cli_clean_text(str_field(who, "user"));
	role = cli_clean_text(str_field(who, "role"));
	if (!cfg.server || !cfg.token || (org && !cfg.org) || !user || !role) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	if (cli_config_save(ctx->config_path, &cfg, &e)) {
		fprintf(stderr, "error: %s\n", e.message ? e.message : "cannot save the config");
		goto out;
	}
	printf("Logged in to %s as %s (role %s)\n", cfg.server, user, role);
	rc = 0;
out:
	free(user);
	free(role);
	cli_config_free(&cfg);
	kerr_clear(&e);
	json_decref(who);
	return rc;
}

int cmd_whoami(struct cli_ctx *ctx)
{
	const char *out = ctx->args.output;
	json_t *who = NULL;
	char *user = NULL, *role = NULL, *org = NULL;
	int rc = 1;

	if (ctx->args.npos)
		return cli_usage_error(ctx, "unexpected argument %s", ctx->args.pos[0]);
	if (!cli_output_ok(out, 1))
		return cli_usage_error(ctx, "unknown output format %s", out);
	if (cli_call(ctx, "GET", "/api/whoami", NULL, NULL, 0, &who, NULL))
		return 1;
	if (out && !strcmp(out, "json")) {
		rc = cli_print_json(who);
		goto out;
	}
	if (out && !strcmp(out, "yaml")) {
		rc = cli_print_yaml(who);
		goto out;
	}
	user = cli_clean_text(str_field(who, "user"));
	role = cli_clean_text(str_field(who, "role"));
	org = str_field(who, "org") ? cli_clean_text(str_field(who, "org")) : NULL;
	if (!user || !role || (str_field(who, "org") && !org)) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	if (org)
		printf("%s (role %s, org %s)\n", user, role, org);
	else
		printf("%s (role %s)\n", user, role);
	rc = fflush(stdout) ? 1 : 0;
out:
	free(user);
	free(role);
	free(org);
	json_decref(who);
	return rc;
}
