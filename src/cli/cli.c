/* Client command dispatch: option parsing, config and server/token
 * resolution, and the request helpers every command uses. */
#include "cli/cli.h"
#include "cli/cli_internal.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cli_command {
	const char *name;
	unsigned opts;
	int (*run)(struct cli_ctx *ctx);
	const char *usage;
	const char *summary;
};

static const struct cli_command commands[] = {
	{ "login", OPT_ORG, cmd_login, "krate login --server URL --token TOKEN [--org ORG]",
	  "check a token and save server, token and org for later commands" },
	{ "whoami", OPT_OUTPUT, cmd_whoami, "krate whoami [-o table|json|yaml]",
	  "show the user, org and role of the token" },
	{ "kinds", OPT_OUTPUT, cmd_kinds, "krate kinds [-o table|json|yaml]",
	  "list the resource kinds the server knows" },
	{ "apply", OPT_FILE | OPT_ORG, cmd_apply, "krate apply -f FILE|- [-f FILE...] [-n ORG]",
	  "create or update the objects in YAML or JSON files (- reads stdin)" },
	{ "get", OPT_ORG | OPT_OUTPUT | OPT_SELECTOR | OPT_LIMIT, cmd_get,
	  "krate get KIND [NAME] [-n ORG] [-o table|json|yaml] [-l SELECTOR] [--limit N]",
	  "list objects of a kind, or show one" },
	{ "delete", OPT_ORG, cmd_delete, "krate delete KIND NAME [-n ORG]", "delete one object" },
	{ "watch", OPT_ORG | OPT_OUTPUT | OPT_RV, cmd_watch,
	  "krate watch KIND [NAME] [-n ORG] [-o table|json] [--resource-version RV]",
	  "print changes to objects of a kind in an org until interrupted" },
	{ "token", OPT_ORG | OPT_USER | OPT_ROLE, cmd_token,
	  "krate token create --user USER [--org ORG] --role viewer|developer|admin",
	  "create an API token (the secret is printed once, on stdout)" },
	{ "user", OPT_ORG | OPT_ROLE | OPT_ADMIN | OPT_PASSWORD_STDIN, cmd_user,
	  "krate user create NAME [--admin | --role viewer|developer|admin] [--org ORG] [--password-stdin]",
	  "create a console user (a generated password is printed once, on stdout)" },
	{ "repo", OPT_ORG | OPT_OUTPUT | OPT_VISIBILITY | OPT_DEFAULT_BRANCH, cmd_repo,
	  "krate repo create NAME [-n ORG] [--visibility public|internal|private] [--default-branch B] | "
	  "krate repo list [-n ORG] [-o table|json]",
	  "create or update a repository, or list an org's repositories" },
	{ "pr", OPT_ORG | OPT_OUTPUT | OPT_REPO | OPT_TITLE | OPT_BODY | OPT_REFS | OPT_STATE | OPT_DECISION |
		OPT_LINE_COMMENT | OPT_CHECK | OPT_STRATEGY, cmd_pr, cmd_pr_usage,
	  "open, list, show, review, check, merge, comment on and close pull requests\n"
	  "      (without ORG/ in -r, the org is -n ORG or the one saved by `krate login --org`)" },
	{ "issue", OPT_ORG | OPT_OUTPUT | OPT_REPO | OPT_TITLE | OPT_BODY | OPT_STATE | OPT_LABEL | OPT_ADD_LABEL |
		OPT_ASSIGNEE, cmd_issue, cmd_issue_usage,
	  "open, list, show, comment on, edit and close issues (the org as for `krate pr`)" },
	{ "audit", OPT_ORG | OPT_LIMIT | OPT_OUTPUT, cmd_audit,
	  "krate audit verify | krate audit list [--org ORG] [--limit N] [-o table|json]",
	  "check the audit hash chain, or list audit entries" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; name && i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int cli_is_command(const char *name)
{
	return find_command(name) != NULL;
}

void cli_usage(void)
{
	printf("Client commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %s\n      %s\n", commands[i].usage, commands[i].summary);
	printf("Every client command accepts --server URL and --token TOKEN. Without them the\n"
	       "server and token come from KRATE_SERVER / KRATE_TOKEN, then from the file\n"
	       "written by `krate login` ($KRATE_CONFIG, default ~/.config/krate/config);\n"
	       "the server defaults to " CLI_DEFAULT_SERVER ".\n");
}

int cli_usage_verror(const char *usage, const char *fmt, va_list ap)
{
	fprintf(stderr, "error: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nusage: %s\n", usage);
	return 2;
}

int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cli_usage_verror(ctx->cmd->usage, fmt, ap);
	va_end(ap);
	return rc;
}

void cli_report_error(const json_t *envelope, long status, const char *prefix)
{
	struct buf text = BUF_INIT(0);

	if (cli_error_text(envelope, status, prefix, &text) || !text.data) {
		fprintf(stderr, "error: request failed (HTTP %ld)\n", status);
		goto out;
	}
	/* Server text goes to a terminal: keep its line breaks, nothing else. */
	for (unsigned char *p = (unsigned char *)text.data; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			*p = '?';
	fputs(text.data, stderr);
out:
	buf_free(&text);
}

/* One "warning: <text>" line per Warning header of the answer. */
static void print_warnings(const struct buf *w)
{
	struct buf text = BUF_INIT(0);
	char *all = w->len ? strndup(w->data, w->len) : NULL, *line, *save = NULL;

	for (line = all ? strtok_r(all, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		buf_reset(&text);
		if (cli_warning_text(line, &text) == 0 && text.data)
			fprintf(stderr, "warning: %s\n", text.data);
	}
	free(all);
	buf_free(&text);
}

int cli_call(const struct cli_ctx *ctx, const char *method, const char *path,
	     const char *ctype, const char *body, size_t len, json_t **out, long *status)
{
	struct cli_resp r;
	struct kerr e = KERR_INIT;
	int rc = 1;

	if (out)
		*out = NULL;
	cli_resp_init(&r);
	if (!ctx->http.token) {
		fprintf(stderr, "error: no token: pass --token, set KRATE_TOKEN or run `krate login`\n");
		goto out;
	}
	if (client_request(&ctx->http, method, path, ctype, body, len, &r, &e)) {
		fprintf(stderr, "error: %s\n", e.message ? e.message : "request failed");
		goto out;
	}
	print_warnings(&r.warnings);
	if (r.status < 200 || r.status >= 300) {
		cli_report_error(r.json, r.status, NULL);
		goto out;
	}
	if (out && !r.json && r.body.len) {
		fprintf(stderr, "error: the server's answer (HTTP %ld) is not JSON\n", r.status);
		goto out;
	}
	if (status)
		*status = r.status;
	if (out) {
		*out = r.json;
		r.json = NULL;
	}
	rc = 0;
out:
	cli_resp_free(&r);
	kerr_clear(&e);
	return rc;
}

int cli_call_json(const struct cli_ctx *ctx, const char *method, const char *path,
		  const json_t *body, json_t **out, long *status)
{
	char *text = json_dumps(body, JSON_COMPACT);
	int rc;

	if (!text) {
		fprintf(stderr, "error: out of memory\n");
		return 1;
	}
	rc = cli_call(ctx, method, path, "application/json", text, strlen(text), out, status);
	free(text);
	return rc;
}

/* Loads the config file, if one can be located; without HOME and
 * KRATE_CONFIG there is simply none (login reports that itself). */
static int load_config(struct cli_ctx *ctx)
{
	struct buf path = BUF_INIT(0);
	struct kerr e = KERR_INIT;
	int rc = 0;

	if (cli_config_path(&path, &e) != 0)
		goto out;
	ctx->config_path = buf_detach(&path, NULL);
	if (!ctx->config_path) {
		fprintf(stderr, "error: out of memory\n");
		rc = 1;
		goto out;
	}
	if (cli_config_load(ctx->config_path, &ctx->cfg, &e) != 0) {
		fprintf(stderr, "error: %s\n", e.message ? e.message : "cannot read the config file");
		rc = 1;
	}
out:
	buf_free(&path);
	kerr_clear(&e);
	return rc;
}

int cli_main(int argc, char **argv)
{
	struct cli_ctx ctx;
	struct kerr e = KERR_INIT;
	struct cli_target t;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cmd = argc > 0 ? find_command(argv[0]) : NULL;
	ctx.argc = argc;
	ctx.argv = argv;
	if (!ctx.cmd) {
		fprintf(stderr, "error: unknown command %s\n", argc > 0 ? argv[0] : "(none)");
		return 2;
	}
	if (cli_args_parse(argc, argv, ctx.cmd->opts, &ctx.args, &e) != 0) {
		if (e.kcode == KE_NOMEM) {
			fprintf(stderr, "error: out of memory\n");
			rc = 1;
		} else {
			rc = cli_usage_error(&ctx, "%s", e.message ? e.message : "bad arguments");
		}
		goto out;
	}
	if (ctx.args.help) {
		printf("usage: %s\n  %s\n", ctx.cmd->usage, ctx.cmd->summary);
		rc = 0;
		goto out;
	}
	rc = load_config(&ctx);
	if (rc)
		goto out;
	cli_resolve(&ctx.args, &ctx.cfg, &t);
	ctx.http.server = t.server;
	ctx.http.token = t.token;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "error: cannot initialise libcurl\n");
		rc = 1;
		goto out;
	}
	rc = ctx.cmd->run(&ctx);
	curl_global_cleanup();
out:
	cli_args_free(&ctx.args);
	cli_config_free(&ctx.cfg);
	free(ctx.config_path);
	kerr_clear(&e);
	return rc;
}
