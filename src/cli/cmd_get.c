/* `krate get KIND [NAME]`: one object or a whole (paged) list. */
#include "cli/cli_internal.h"
#include "core/util.h"
#include "model/kinds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int list_path(const struct cli_ctx *ctx, const char *kind, const char *cont, struct buf *p)
{
	const struct cli_args *a = &ctx->args;
	char limit[24];
	int rc;

	buf_reset(p);
	if (a->org)
		rc = buf_addstr(p, "/api/orgs") || cli_path_add(p, a->org) ||
		     buf_addstr(p, "/resources");
	else
		rc = buf_addstr(p, "/api/controller/resources");
	rc = rc || cli_query_add(p, "kind", kind);
	if (!rc && a->selector)
		rc = cli_query_add(p, "labelSelector", a->selector);
	if (!rc && a->limit > 0) {
		snprintf(limit, sizeof(limit), "%ld", a->limit);
		rc = cli_query_add(p, "limit", limit);
	}
	if (!rc && cont)
		rc = cli_query_add(p, "continue", cont);
	return rc;
}

static const char *page_continue(const json_t *page)
{
	const char *c = json_string_value(json_object_get(json_object_get(page, "metadata"), "continue"));

	return c && *c ? c : NULL;
}

/* Fetches the list, following continue tokens unless --limit asked for one
 * page. On success *out is the first page with every page's items. */
static int fetch_list(const struct cli_ctx *ctx, const char *kind, json_t **out)
{
	struct buf path = BUF_INIT(0);
	json_t *all = NULL, *page = NULL;
	char *cont = NULL, *next = NULL;
	int rc = 1;

	for (;;) {
		if (list_path(ctx, kind, cont, &path))
			goto oom;
		if (cli_call(ctx, "GET", path.data, NULL, NULL, 0, &page, NULL))
			goto out;
		if (!json_is_array(json_object_get(page, "items"))) {
			fprintf(stderr, "error: the server's list has no items\n");
			goto out;
		}
		if (page_continue(page) && !(next = strdup(page_continue(page))))
			goto oom;
		if (!all)
			all = page;
		else if (json_array_extend(json_object_get(all, "items"), json_object_get(page, "items")))
			goto oom;
		else
			json_decref(page);
		page = NULL;
		if (ctx->args.limit > 0 || !next)
			break;
		/* A token that does not move would page forever. */
		if (cont && !strcmp(cont, next)) {
			fprintf(stderr, "error: the server repeated a continue token\n");
			goto out;
		}
		free(cont);
		cont = next;
		next = NULL;
	}
	if (ctx->args.limit <= 0)
		json_object_del(json_object_get(all, "metadata"), "continue");
	*out = all;
	all = NULL;
	rc = 0;
	goto out;
oom:
	fprintf(stderr, "error: out of memory\n");
out:
	json_decref(page);
	json_decref(all);
	free(cont);
	free(next);
	buf_free(&path);
	return rc;
}

static int add_row(struct cli_table *t, const json_t *obj, int with_ns, int64_t now)
{
	const json_t *md = json_object_get(obj, "metadata");
	const char *row[4];
	char age[24];
	size_t n = 0;

	cli_age_since(json_string_value(json_object_get(md, "creationTimestamp")), now, age);
	if (with_ns)
		row[n++] = json_string_value(json_object_get(md, "namespace"));
	row[n++] = json_string_value(json_object_get(md, "name"));
	row[n++] = json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
	row[n++] = age;
	return table_add(t, row);
}

/* items: the objects to show (a list's items, or an array of the one object). */
static int print_table(const struct cli_ctx *ctx, const json_t *items)
{
	static const char *const with_ns[] = { "NAMESPACE", "NAME", "PHASE", "AGE" };
	int ns = ctx->args.org == NULL;
	int64_t now = util_now_seconds();
	struct cli_table t;
	const json_t *obj;
	size_t i;
	int rc = 1;

	if (json_array_size(items) == 0) {
		fprintf(stderr, "No resources found\n");
		return 0;
	}
	if (table_init(&t, ns ? 4 : 3, ns ? with_ns : with_ns + 1))
		goto oom;
	json_array_foreach(items, i, obj)
		if (add_row(&t, obj, ns, now))
			goto oom;
	rc = cli_print_table(&t);
	goto out;
oom:
	fprintf(stderr, "error: out of memory\n");
out:
	table_free(&t);
	return rc;
}

/* A list as YAML: a kubectl-style List object. */
static int print_list_yaml(const json_t *list)
{
	const char *api = json_string_value(json_object_get(list, "apiVersion"));
	json_t *y = json_pack("{s:s, s:s, s:O}", "apiVersion", api ? api : KRATE_API_VERSION,
			      "kind", "List", "items", json_object_get(list, "items"));
	int rc;

	if (!y) {
		fprintf(stderr, "error: out of memory\n");
		return 1;
	}
	rc = cli_print_yaml(y);
	json_decref(y);
	return rc;
}

static int get_one(struct cli_ctx *ctx, const char *kind, const char *name)
{
	const char *out = ctx->args.output;
	struct buf path = BUF_INIT(0);
	json_t *obj = NULL, *one = NULL;
	int rc = 1;

	if (cli_object_path(ctx, ctx->args.org, kind, name, &path)) {
		fprintf(stderr, "error: out of memory\n");
		goto out;
	}
	if (cli_call(ctx, "GET", path.data, NULL, NULL, 0, &obj, NULL))
		goto out;
	if (!json_is_object(obj)) {
		fprintf(stderr, "error: the server's answer is not an object\n");
		goto out;
	}
	if (out && !strcmp(out, "json")) {
		rc = cli_print_json(obj);
	} else if (out && !strcmp(out, "yaml")) {
		rc = cli_print_yaml(obj);
	} else {
		one = json_pack("[O]", obj);
		if (!one)
			fprintf(stderr, "error: out of memory\n");
		else
			rc = print_table(ctx, one);
	}
out:
	json_decref(one);
	json_decref(obj);
	buf_free(&path);
	return rc;
}

int cmd_get(struct cli_ctx *ctx)
{
	const struct cli_args *a = &ctx->args;
	json_t *list = NULL;
	int rc;

	if (a->npos < 1 || a->npos > 2)
		return cli_usage_error(ctx, a->npos ? "too many arguments" : "get needs a KIND");
	if (!cli_output_ok(a->output, 1))
		return cli_usage_error(ctx, "unknown output format %s", a->output);
	if (a->npos == 2) {
		if (a->selector || a->limit > 0)
			return cli_usage_error(ctx, "-l and --limit apply to lists, not to one NAME");
		return get_one(ctx, a->pos[0], a->pos[1]);
	}
	if (fetch_list(ctx, a->pos[0], &list))
		return 1;
	if (a->output && !strcmp(a->output, "json"))
		rc = cli_print_json(list);
	else if (a->output && !strcmp(a->output, "yaml"))
		rc = print_list_yaml(list);
	else
		rc = print_table(ctx, json_object_get(list, "items"));
	json_decref(list);
	return rc;
}
