/* Shared by `krate pr` and `krate issue`: subcommand dispatch, the repository
 * a command works on, record numbers, user text for request bodies, the
 * text layout of a record's view, and the subcommands both have. */
#include "cli/cli_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Body files are sent whole; the server refuses bodies over 1 MiB anyway. */
#define BODY_FILE_MAX (1u << 20)
/* Width of "label:" plus padding in a record's view. */
#define FIELD_WIDTH 12
/* Record numbers beyond this are not numbers a repository will reach. */
#define NUMBER_MAX 1000000000000000LL

int cli_parse_number(const char *s, long long *out)
{
	long long n = 0;

	if (!s || !*s)
		return KE_INVALID;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return KE_INVALID;
		n = n * 10 + (*s - '0');
		if (n > NUMBER_MAX)
			return KE_INVALID;
	}
	if (n < 1)
		return KE_INVALID;
	*out = n;
	return 0;
}

int cli_repo_path(const char *repo, const char *org, const char *cfg_org, struct buf *out, struct kerr *e)
{
	const char *slash = repo ? strchr(repo, '/') : NULL, *name = repo;
	char *own_org = NULL;
	int rc;

	if (!repo || !*repo)
		return kerr_set(e, KE_INVALID, NULL, "give the repository with -r REPO (or -r ORG/REPO)");
	if (slash) {
		own_org = strndup(repo, (size_t)(slash - repo));
		if (!own_org)
			return kerr_set(e, KE_NOMEM, NULL, "out of memory");
		name = slash + 1;
		if (!*own_org || !*name || strchr(name, '/')) {
			rc = kerr_set(e, KE_INVALID, NULL, "-r takes REPO or ORG/REPO, got \"%s\"", repo);
			goto out;
		}
		if (org && strcmp(org, own_org)) {
			rc = kerr_set(e, KE_INVALID, NULL, "-n %s and -r %s name different orgs", org, repo);
			goto out;
		}
		org = own_org;
	}
	if (!org)
		org = cfg_org;
	if (!org || !*org) {
		rc = kerr_set(e, KE_INVALID, NULL,
			      "give the org with -n ORG or -r ORG/REPO (or save one with `krate login --org`)");
		goto out;
	}
	buf_reset(out);
	rc = buf_addstr(out, "/api/orgs") || cli_path_add(out, org) || buf_addstr(out, "/repositories") ||
	     cli_path_add(out, name);
	if (rc)
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
out:
	free(own_org);
	return rc;
}

int cli_rec_path(const struct cli_rec *rec, const char *coll, const char *tail, struct buf *out)
{
	buf_reset(out);
	if (buf_add(out, rec->base.data, rec->base.len) || buf_addch(out, '/') || buf_addstr(out, coll))
		return KE_NOMEM;
	if (rec->number > 0 && buf_printf(out, "/%lld", rec->number))
		return KE_NOMEM;
	if (tail && buf_addstr(out, tail))
		return KE_NOMEM;
	return 0;
}

int cli_line_comment(const char *s, json_t **out, struct kerr *e)
{
	const char *p, *d = NULL;
	long long line = 0;
	json_t *c;

	*out = NULL;
	/* The first ":<digits>:" separates the path from the line and the text. */
	for (p = strchr(s, ':'); p; p = strchr(p + 1, ':')) {
		for (d = p + 1; *d >= '0' && *d <= '9'; d++)
			;
		if (d > p + 1 && *d == ':')
			break;
	}
	if (!p || p == s || !d[1])
		return kerr_set(e, KE_INVALID, NULL, "--line-comment takes PATH:LINE:TEXT, got \"%s\"", s);
	for (const char *q = p + 1; q < d; q++) {
		line = line * 10 + (*q - '0');
		if (line > 0x7fffffff)
			break;
	}
	if (line < 1 || line > 0x7fffffff)
		return kerr_set(e, KE_INVALID, NULL, "--line-comment: the line of \"%s\" must be a number >= 1", s);
	c = json_object();
	if (!c)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	if (json_object_set_new(c, "path", json_stringn(s, (size_t)(p - s))) ||
	    json_object_set_new(c, "line", json_integer(line)) || cli_set_text(c, "body", d + 1)) {
		json_decref(c);
		return kerr_set(e, KE_INVALID, NULL, "--line-comment must be UTF-8 text");
	}
	*out = c;
	return 0;
}

int cli_one_of(const char *s, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (!strcmp(s, *allowed))
			return 1;
	return 0;
}

int cli_set_text(json_t *obj, const char *key, const char *v)
{
	return json_object_set_new(obj, key, json_string(v)) ? KE_INVALID : 0;
}

int cli_set_body(const struct cli_rec *rec, const struct cli_args *a, json_t *obj)
{
	struct buf text = BUF_INIT(BODY_FILE_MAX);
	int rc = 0;

	if (a->body) {
		if (cli_set_text(obj, "body", a->body))
			rc = cli_sub_usage_error(rec, "--body must be UTF-8 text");
	} else if (a->body_file) {
		rc = cli_read_input(a->body_file, &text);
		if (!rc && json_object_set_new(obj, "body", json_stringn(text.data ? text.data : "", text.len))) {
			fprintf(stderr, "error: %s is not UTF-8 text\n", a->body_file);
			rc = 1;
		}
	}
	buf_free(&text);
	return rc;
}

const char *cli_short_ref(const char *ref)
{
	return ref && !strncmp(ref, "refs/heads/", 11) ? ref + 11 : ref;
}

int cli_add_field(struct buf *out, const char *label, const char *value)
{
	char *v = cli_clean_text(value);
	int rc;

	if (!v)
		return KE_NOMEM;
	rc = buf_printf(out, "%-*s%s\n", FIELD_WIDTH, label, v);
	free(v);
	return rc;
}

int cli_add_block(struct buf *out, const char *indent, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	int rc = 0, bol = 1;

	for (; p && *p && !rc; p++) {
		if (bol)
			rc = buf_addstr(out, indent);
		bol = *p == '\n';
		if (!rc)
			rc = buf_addch(out, (*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f ? '?' : (char)*p);
	}
	if (!rc && p && p != (const unsigned char *)text && !bol)
		rc = buf_addch(out, '\n');
	return rc;
}

char *cli_join_strings(const json_t *arr)
{
	struct buf b = BUF_INIT(0);
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			continue;
		if ((b.len && buf_addstr(&b, ", ")) || buf_addstr(&b, json_string_value(v))) {
			buf_free(&b);
			return NULL;
		}
	}
	if (!b.len) {
		buf_free(&b);
		return strdup("-");
	}
	return buf_detach(&b, NULL);
}

int cli_print_buf(const struct buf *out)
{
	if (out->len && fwrite(out->data, 1, out->len, stdout) != out->len) {
		fprintf(stderr, "error: cannot write output\n");
		return 1;
	}
	if (fflush(stdout)) {
		fprintf(stderr, "error: cannot write output\n");
		return 1;
	}
	return 0;
}

int cli_say(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	if (n < 0 || putchar('\n') == EOF || fflush(stdout)) {
		fprintf(stderr, "error: cannot write output\n");
		return 1;
	}
	return 0;
}

int cli_oom(void)
{
	fprintf(stderr, "error: out of memory\n");
	return 1;
}

const char *cli_str_at(const json_t *obj, const char *part, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, part), key));
}

/* ---- the subcommands both commands have ---- */

int cli_rec_call(struct cli_ctx *ctx, const struct cli_rec *rec, const char *method, const char *tail,
		 const json_t *body, json_t **out)
{
	struct buf path = BUF_INIT(0);
	int rc;

	*out = NULL;
	if (cli_rec_path(rec, rec->type->coll, tail, &path))
		rc = cli_oom();
	else if (body)
		rc = cli_call_json(ctx, method, path.data, body, out, NULL) ? 1 : 0;
	else
		rc = cli_call(ctx, method, path.data, NULL, NULL, 0, out, NULL) ? 1 : 0;
	buf_free(&path);
	return rc;
}

int cli_rec_create(struct cli_ctx *ctx, const struct cli_rec *rec)
{
	json_t *body, *resp = NULL;
	char *title = NULL;
	int rc;

	if (!ctx->args.title)
		return cli_sub_usage_error(rec, "give the title with --title T");
	body = json_object();
	if (!body)
		return cli_oom();
	rc = rec->type->create_fields(rec, &ctx->args, body);
	if (!rc)
		rc = cli_set_body(rec, &ctx->args, body);
	if (!rc)
		rc = cli_rec_call(ctx, rec, "POST", NULL, body, &resp);
	if (!rc) {
		title = cli_clean_text(cli_str_at(resp, "spec", "title"));
		rc = title ? cli_say("%s #%lld opened: %s", rec->type->what,
				     (long long)json_integer_value(json_object_get(json_object_get(resp, "spec"),
										  "number")),
				     title)
			   : cli_oom();
	}
	free(title);
	json_decref(resp);
	json_decref(body);
	return rc;
}

int cli_rec_list(struct cli_ctx *ctx, const struct cli_rec *rec)
{
	const struct cli_args *a = &ctx->args;
	struct buf path = BUF_INIT(0);
	struct cli_table t = { 0 };
	json_t *resp = NULL, *items;
	int rc = 1;

	if (a->state && !cli_one_of(a->state, rec->type->states))
		return cli_sub_usage_error(rec, "--state must be %s", rec->type->states_text);
	if (cli_rec_path(rec, rec->type->coll, NULL, &path) || (a->state && cli_query_add(&path, "state", a->state))) {
		cli_oom();
		goto out;
	}
	if (cli_call(ctx, "GET", path.data, NULL, NULL, 0, &resp, NULL))
		goto out;
	items = json_object_get(resp, "items");
	if (!json_is_array(items)) {
		fprintf(stderr, "error: the server's list has no items\n");
		goto out;
	}
	if (a->output && !strcmp(a->output, "json")) {
		rc = cli_print_json(resp);
	} else if (json_array_size(items) == 0) {
		fprintf(stderr, "%s\n", rec->type->none);
		rc = 0;
	} else if (rec->type->table(items, &t)) {
		cli_oom();
	} else {
		rc = cli_print_table(&t);
	}
out:
	table_free(&t);
	json_decref(resp);
	buf_free(&path);
	return rc;
}

int cli_rec_comment(struct cli_ctx *ctx, const struct cli_rec *rec)
{
	json_t *body, *resp = NULL;
	int rc;

	if (!ctx->args.body && !ctx->args.body_file)
		return cli_sub_usage_error(rec, "give the comment with --body B or --body-file F");
	body = json_object();
	if (!body)
		return cli_oom();
	rc = cli_set_body(rec, &ctx->args, body);
	if (!rc)
		rc = cli_rec_call(ctx, rec, "POST", "/comments", body, &resp);
	if (!rc)
		rc = cli_say("commented on %s #%lld", rec->type->what, rec->number);
	json_decref(resp);
	json_decref(body);
	return rc;
}

/* PATCH {"state": state}, then "<what> #N closed" or "<what> #N reopened". */
static int set_state(struct cli_ctx *ctx, const struct cli_rec *rec, const char *state, const char *done)
{
	json_t *body = json_pack("{s:s}", "state", state), *resp = NULL;
	int rc = body ? cli_rec_call(ctx, rec, "PATCH", NULL, body, &resp) : cli_oom();

	if (!rc)
		rc = cli_say("%s #%lld %s", rec->type->what, rec->number, done);
	json_decref(resp);
	json_decref(body);
	return rc;
}

int cli_rec_close(struct cli_ctx *ctx, const struct cli_rec *rec)
{
	return set_state(ctx, rec, "closed", "closed");
}

int cli_rec_reopen(struct cli_ctx *ctx, const struct cli_rec *rec)
{
	return set_state(ctx, rec, "open", "reopened");
}

/* ---- dispatch ---- */

int cli_sub_usage_error(const struct cli_rec *rec, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cli_usage_verror(rec->sub->usage, fmt, ap);
	va_end(ap);
	return rc;
}

/* Checks what every subcommand checks the same way. */
static int check_common(struct cli_ctx *ctx, struct cli_rec *rec)
{
	const struct cli_args *a = &ctx->args;
	const struct cli_sub *sub = rec->sub;
	struct kerr e = KERR_INIT;
	int rc = 0;

	if (a->npos != (sub->number ? 2u : 1u)) {
		if (sub->number && a->npos < 2)
			rc = cli_sub_usage_error(rec, "give the number: %s %s N", ctx->argv[0], sub->name);
		else
			rc = cli_sub_usage_error(rec, "unexpected argument %s", a->pos[sub->number ? 2 : 1]);
		goto out;
	}
	if (sub->number && cli_parse_number(a->pos[1], &rec->number)) {
		rc = cli_sub_usage_error(rec, "N must be a number >= 1, got \"%s\"", a->pos[1]);
		goto out;
	}
	if ((sub->opts & OPT_OUTPUT) && !cli_output_ok(a->output, 0)) {
		rc = cli_sub_usage_error(rec, "-o must be table or json");
		goto out;
	}
	if (a->body && a->body_file) {
		rc = cli_sub_usage_error(rec, "give --body or --body-file, not both");
		goto out;
	}
	if (cli_repo_path(a->repo, a->org, ctx->cfg.org, &rec->base, &e)) {
		if (e.kcode == KE_NOMEM) {
			rc = cli_oom();
		} else {
			rc = cli_sub_usage_error(rec, "%s", e.message);
		}
	}
out:
	kerr_clear(&e);
	return rc;
}

int cli_run_sub(struct cli_ctx *ctx, const struct cli_rec_type *type, const struct cli_sub *subs, size_t nsubs)
{
	struct cli_rec rec = { NULL, BUF_INIT(0), 0, type };
	struct cli_args sa;
	struct kerr e = KERR_INIT;
	size_t i;
	int rc;

	if (ctx->args.npos == 0)
		return cli_usage_error(ctx, "give a %s command", ctx->argv[0]);
	for (i = 0; i < nsubs && strcmp(subs[i].name, ctx->args.pos[0]); i++)
		;
	if (i == nsubs)
		return cli_usage_error(ctx, "unknown %s command %s", ctx->argv[0], ctx->args.pos[0]);
	rec.sub = &subs[i];
	/* Again with this subcommand's options only, so one it ignores is refused. */
	if (cli_args_parse(ctx->argc, ctx->argv, rec.sub->opts | OPT_ORG | OPT_REPO, &sa, &e)) {
		if (e.kcode == KE_NOMEM) {
			rc = cli_oom();
		} else {
			rc = cli_sub_usage_error(&rec, "%s", e.message ? e.message : "bad arguments");
		}
		goto out;
	}
	cli_args_free(&ctx->args);
	ctx->args = sa;
	rc = check_common(ctx, &rec);
	if (!rc)
		rc = rec.sub->run(ctx, &rec);
out:
	buf_free(&rec.base);
	kerr_clear(&e);
	return rc;
}
