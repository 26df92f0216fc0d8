/* `krate user create`: a console user. A generated password goes to stdout
 * (and nothing else does), so `pw=$(krate user create ana)` works. */
#include "cli/cli_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longer than the server accepts, so an over-long password gets its message. */
#define STDIN_PASSWORD_MAX 4096

static int role_known(const char *r)
{
	return !strcmp(r, "viewer") || !strcmp(r, "developer") || !strcmp(r, "admin");
}

/* First line of stdin without its line ending into b. */
static int read_password(struct buf *b)
{
	int c;

	while ((c = getchar()) != EOF && c != '\n') {
		if (buf_addch(b, (char)c)) {
			fprintf(stderr, "error: the password on stdin is too long\n");
			return 1;
		}
	}
	if (b->len && b->data[b->len - 1] == '\r')
		b->data[--b->len] = '\0';
	if (!b->len) {
		fprintf(stderr, "error: --password-stdin read no password\n");
		return 1;
	}
	return 0;
}

static void wipe(struct buf *b)
{
	if (b->data)
		memset(b->data, 0, b->len);
	buf_free(b);
}

int cmd_user(struct cli_ctx *ctx)
{
	const struct cli_args *a = &ctx->args;
	struct buf pw = BUF_INIT(STDIN_PASSWORD_MAX);
	json_t *body = NULL, *resp = NULL;
	const char *role, *generated;
	char *name = NULL, *role_out = NULL, *org = NULL;
	int rc = 1;

	if (a->npos != 2 || strcmp(a->pos[0], "create"))
		return cli_usage_error(ctx, "the user command is `user create NAME`");
	if (a->admin && a->role && strcmp(a->role, "admin"))
		return cli_usage_error(ctx, "--admin and --role %s contradict each other", a->role);
	role = a->admin ? "admin" : a->role ? a->role : "viewer";
	if (!role_known(role))
		return cli_usage_error(ctx, "--role must be viewer, developer or admin");
	if (a->password_stdin && read_password(&pw))
		goto out;
	body = json_pack("{s:s, s:s}", "name", a->pos[1], "role", role);
	if (body && a->org && json_object_set_new(body, "org", json_string(a->org))) {
		json_decref(body);
		body = NULL;
	}
	if (body && pw.data && json_object_set_new(body, "password", json_string(pw.data))) {
		json_decref(body);
		body = NULL;
	}
	if (!body) {
		fprintf(stderr, "error: the name, --org and the password must be UTF-8 text\n");
		goto out;
	}
	if (cli_call_json(ctx, "POST", "/api/users", body, &resp, NULL))
		goto out;
	name = cli_clean_text(json_string_value(json_object_get(resp, "name")));
	role_out = cli_clean_text(json_string_value(json_object_get(resp, "role")));
	org = cli_clean_text(json_string_value(json_object_get(resp, "org")));
	if (!name || !role_out || !org) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	generated = json_string_value(json_object_get(resp, "password"));
	if (generated) {
		printf("%s\n", generated);
		if (fflush(stdout))
			goto out;
	}
	fprintf(stderr, "created console user %s (role %s%s%s)%s\n", name, role_out,
		strcmp(org, "-") ? ", org " : "", strcmp(org, "-") ? org : "",
		generated ? "; its password is above and is not shown again" : "");
	rc = 0;
out:
	free(name);
	free(role_out);
	free(org);
	json_decref(resp);
	json_decref(body);
	wipe(&pw);
	return rc;
}
