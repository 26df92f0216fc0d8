/* `krate watch KIND [NAME]`: follows an org's event stream (SSE). */
#include "cli/cli_internal.h"
#include "model/kinds.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Positive codes, distinct from KE_*, for why the stream was left. */
enum { WATCH_FAILED = 1, WATCH_INTERRUPTED = 2 };

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int stop_requested(void)
{
	return interrupted ? WATCH_INTERRUPTED : 0;
}

struct watch {
	int json_out;
	struct sse_parser sse;
};

static int print_summary(const json_t *ev, const char *id)
{
	const json_t *obj = json_object_get(ev, "object");
	const json_t *md = json_object_get(obj, "metadata");
	const char *rv = id && *id ? id : json_string_value(json_object_get(md, "resourceVersion"));
	char *type = cli_clean_text(json_string_value(json_object_get(ev, "type")));
	char *kind = cli_clean_text(json_string_value(json_object_get(obj, "kind")));
	char *name = cli_clean_text(json_string_value(json_object_get(md, "name")));
	char *crv = cli_clean_text(rv);
	int rc = 0;

	if (type && kind && name && crv)
		printf("%s %s/%s rv=%s\n", type, kind, name, crv);
	else
		rc = KE_NOMEM;
	free(type);
	free(kind);
	free(name);
	free(crv);
	return rc;
}

static int on_event(void *ud, const char *event, const char *id, const char *data)
{
	struct watch *w = ud;
	json_t *ev;
	int rc = 0;

	ev = json_loads(data, JSON_DECODE_ANY, NULL);
	if (!strcmp(event, "error")) {
		if (json_is_object(json_object_get(ev, "error")))
			cli_report_error(ev, 0, NULL);
		else
			fprintf(stderr, "error: the server ended the watch with an error event\n");
		json_decref(ev);
		return WATCH_FAILED;
	}
	if (strcmp(event, "krate") && strcmp(event, "message"))
		goto out;
	if (!json_is_object(ev)) {
		fprintf(stderr, "warning: skipped an event whose data is not a JSON object\n");
		goto out;
	}
	if (w->json_out) {
		char *s = json_dumps(ev, JSON_COMPACT);

		if (s)
			printf("%s\n", s);
		else
			rc = KE_NOMEM;
		free(s);
	} else {
		rc = print_summary(ev, id);
	}
	if (!rc && fflush(stdout))
		rc = KE_IO;
out:
	json_decref(ev);
	return rc;
}

static int on_chunk(void *ud, const char *p, size_t n)
{
	struct watch *w = ud;

	return sse_feed(&w->sse, p, n);
}

static int watch_path(const struct cli_ctx *ctx, const char *org, struct buf *p)
{
	const struct cli_args *a = &ctx->args;
	const struct kind_def *kd = kinds_lookup(a->pos[0]);
	int rc;

	/* The watch route names kinds by plural; unknown names go as typed for
	 * the server to judge. */
	rc = buf_addstr(p, "/api/watch/orgs") || cli_path_add(p, org) ||
	     cli_path_add(p, kd ? kd->plural : a->pos[0]);
	if (!rc && a->npos == 2)
		rc = cli_path_add(p, a->pos[1]);
	if (!rc && a->resource_version)
		rc = cli_query_add(p, "resourceVersion", a->resource_version);
	return rc;
}

int cmd_watch(struct cli_ctx *ctx)
{
	const struct cli_args *a = &ctx->args;
	const char *org = a->org ? a->org : ctx->cfg.org;
	struct sigaction sa, old_sa;
	struct buf path = BUF_INIT(0);
	struct kerr e = KERR_INIT;
	struct cli_resp r;
	struct watch w;
	int rc;

	if (a->npos < 1 || a->npos > 2)
		return cli_usage_error(ctx, a->npos ? "too many arguments" : "watch needs a KIND");
	if (!cli_output_ok(a->output, 0))
		return cli_usage_error(ctx, "unknown output format %s", a->output);
	if (!org)
		return cli_usage_error(ctx, "watch needs an org: pass -n ORG or log in with --org");
	if (!ctx->http.token) {
		fprintf(stderr, "error: no token: pass --token, set KRATE_TOKEN or run `krate login`\n");
		return 1;
	}
	if (watch_path(ctx, org, &path)) {
		fprintf(stderr, "error: out of memory\n");
		buf_free(&path);
		return 1;
	}
	w.json_out = a->output && !strcmp(a->output, "json");
	sse_init(&w.sse, CLI_SSE_MAX, on_event, &w);
	cli_resp_init(&r);

	/* No SA_RESTART: Ctrl-C should end the transfer, which the progress
	 * callback notices, instead of killing the process mid-line. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, &old_sa);
	rc = client_stream(&ctx->http, path.data, on_chunk, &w, stop_requested, &r, &e);
	sigaction(SIGINT, &old_sa, NULL);

	if (rc == WATCH_INTERRUPTED) {
		rc = 0;
	} else if (rc == WATCH_FAILED) {
		rc = 1;
	} else if (rc) {
		fprintf(stderr, "error: %s\n", e.message ? e.message : "watch failed");
		rc = 1;
	} else if (r.status < 200 || r.status >= 300) {
		cli_report_error(r.json, r.status, NULL);
		rc = 1;
	}
	cli_resp_free(&r);
	sse_free(&w.sse);
	kerr_clear(&e);
	buf_free(&path);
	return rc;
}
