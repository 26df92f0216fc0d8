/* Command-line option parsing shared by every client command. */
#include "cli/cli_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define OPT_GLOBAL 0u

enum opt_id { ID_SERVER, ID_TOKEN, ID_ORG, ID_OUTPUT, ID_SELECTOR, ID_LIMIT, ID_FILE,
	      ID_USER, ID_ROLE, ID_RV, ID_ADMIN, ID_PASSWORD_STDIN,
	      ID_VISIBILITY, ID_DEFAULT_BRANCH, ID_REPO, ID_TITLE, ID_BODY, ID_BODY_FILE, ID_SOURCE,
	      ID_TARGET, ID_STATE, ID_APPROVE, ID_REQUEST_CHANGES, ID_COMMENT, ID_LINE_COMMENT,
	      ID_CHECK_NAME, ID_URL, ID_STRATEGY, ID_LABEL, ID_ADD_LABEL, ID_ASSIGNEE };

static const struct {
	const char *lng;
	char shrt;
	unsigned flag;      /* OPT_GLOBAL: accepted by every command */
	enum opt_id id;
	int no_value;       /* a flag: present or not */
} options[] = {
	{ "server", 0, OPT_GLOBAL, ID_SERVER, 0 },
	{ "token", 0, OPT_GLOBAL, ID_TOKEN, 0 },
	{ "org", 0, OPT_ORG, ID_ORG, 0 },
	{ "namespace", 'n', OPT_ORG, ID_ORG, 0 },
	{ "output", 'o', OPT_OUTPUT, ID_OUTPUT, 0 },
	{ "selector", 'l', OPT_SELECTOR, ID_SELECTOR, 0 },
	{ "limit", 0, OPT_LIMIT, ID_LIMIT, 0 },
	{ "filename", 'f', OPT_FILE, ID_FILE, 0 },
	{ "user", 0, OPT_USER, ID_USER, 0 },
	{ "role", 0, OPT_ROLE, ID_ROLE, 0 },
	{ "resource-version", 0, OPT_RV, ID_RV, 0 },
	{ "admin", 0, OPT_ADMIN, ID_ADMIN, 1 },
	{ "password-stdin", 0, OPT_PASSWORD_STDIN, ID_PASSWORD_STDIN, 1 },
	{ "visibility", 0, OPT_VISIBILITY, ID_VISIBILITY, 0 },
	{ "default-branch", 0, OPT_DEFAULT_BRANCH, ID_DEFAULT_BRANCH, 0 },
	{ "repo", 'r', OPT_REPO, ID_REPO, 0 },
	{ "title", 0, OPT_TITLE, ID_TITLE, 0 },
	{ "body", 0, OPT_BODY, ID_BODY, 0 },
	{ "body-file", 0, OPT_BODY, ID_BODY_FILE, 0 },
	{ "source", 0, OPT_REFS, ID_SOURCE, 0 },
	{ "target", 0, OPT_REFS, ID_TARGET, 0 },
	{ "state", 0, OPT_STATE, ID_STATE, 0 },
	{ "approve", 0, OPT_DECISION, ID_APPROVE, 1 },
	{ "request-changes", 0, OPT_DECISION, ID_REQUEST_CHANGES, 1 },
	{ "comment", 0, OPT_DECISION, ID_COMMENT, 1 },
	{ "line-comment", 0, OPT_LINE_COMMENT, ID_LINE_COMMENT, 0 },
	{ "name", 0, OPT_CHECK, ID_CHECK_NAME, 0 },
	{ "url", 0, OPT_CHECK, ID_URL, 0 },
	{ "strategy", 0, OPT_STRATEGY, ID_STRATEGY, 0 },
	{ "label", 0, OPT_LABEL, ID_LABEL, 0 },
	{ "add-label", 0, OPT_ADD_LABEL, ID_ADD_LABEL, 0 },
	{ "assignee", 0, OPT_ASSIGNEE, ID_ASSIGNEE, 0 },
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static int push(const char ***arr, size_t *n, const char *s)
{
	const char **p = realloc(*arr, (*n + 1) * sizeof(**arr));

	if (!p)
		return KE_NOMEM;
	p[(*n)++] = s;
	*arr = p;
	return 0;
}

static int push_value(const char ***arr, size_t *n, const char *s, struct kerr *e)
{
	if (push(arr, n, s))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	return 0;
}

static int set_limit(struct cli_args *a, const char *v, struct kerr *e)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > 1000000000L)
		return kerr_set(e, KE_INVALID, NULL, "--limit needs a positive integer, got \"%s\"", v);
	a->limit = n;
	return 0;
}

static int store(struct cli_args *a, enum opt_id id, const char *v, struct kerr *e)
{
	switch (id) {
	case ID_SERVER: a->server = v; break;
	case ID_TOKEN: a->token = v; break;
	case ID_ORG: a->org = v; break;
	case ID_OUTPUT: a->output = v; break;
	case ID_SELECTOR: a->selector = v; break;
	case ID_LIMIT: return set_limit(a, v, e);
	case ID_FILE: return push_value(&a->files, &a->nfiles, v, e);
	case ID_USER: a->user = v; break;
	case ID_ROLE: a->role = v; break;
	case ID_RV: a->resource_version = v; break;
	case ID_ADMIN: a->admin = 1; break;
	case ID_PASSWORD_STDIN: a->password_stdin = 1; break;
	case ID_VISIBILITY: a->visibility = v; break;
	case ID_DEFAULT_BRANCH: a->default_branch = v; break;
	case ID_REPO: a->repo = v; break;
	case ID_TITLE: a->title = v; break;
	case ID_BODY: a->body = v; break;
	case ID_BODY_FILE: a->body_file = v; break;
	case ID_SOURCE: a->source = v; break;
	case ID_TARGET: a->target = v; break;
	case ID_STATE: a->state = v; break;
	case ID_APPROVE: a->approve = 1; break;
	case ID_REQUEST_CHANGES: a->request_changes = 1; break;
	case ID_COMMENT: a->comment = 1; break;
	case ID_LINE_COMMENT: return push_value(&a->line_comments, &a->nline_comments, v, e);
	case ID_CHECK_NAME: a->check_name = v; break;
	case ID_URL: a->url = v; break;
	case ID_STRATEGY: a->strategy = v; break;
	case ID_LABEL: return push_value(&a->labels, &a->nlabels, v, e);
	case ID_ADD_LABEL: return push_value(&a->add_labels, &a->nadd_labels, v, e);
	case ID_ASSIGNEE: return push_value(&a->assignees, &a->nassignees, v, e);
	}
	return 0;
}

/* Finds the option named by arg ("--name[=v]" or "-x[v]"); *inline_v gets the
 * value written in the same argument, if any. */
static int find_option(const char *arg, unsigned allowed, size_t *idx, const char **inline_v,
		       struct kerr *e)
{
	size_t i;

	*inline_v = NULL;
	if (arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);

		for (i = 0; i < NOPTIONS; i++) {
			if (strlen(options[i].lng) == len && !strncmp(options[i].lng, name, len))
				break;
		}
		if (eq)
			*inline_v = eq + 1;
	} else {
		for (i = 0; i < NOPTIONS; i++) {
			if (options[i].shrt && options[i].shrt == arg[1])
				break;
		}
		if (i < NOPTIONS && arg[2])
			*inline_v = arg + 2;
	}
	if (i == NOPTIONS || (options[i].flag != OPT_GLOBAL && !(options[i].flag & allowed)))
		return kerr_set(e, KE_INVALID, NULL, "unknown option %s", arg);
	*idx = i;
	return 0;
}

int cli_args_parse(int argc, char **argv, unsigned allowed, struct cli_args *a, struct kerr *e)
{
	int i, only_pos = 0, rc;

	memset(a, 0, sizeof(*a));
	a->limit = -1;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;
		size_t idx = 0;

		if (only_pos || arg[0] != '-' || arg[1] == '\0') {
			if (push(&a->pos, &a->npos, arg)) {
				rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
				goto fail;
			}
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_pos = 1;
			continue;
		}
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			a->help = 1;
			continue;
		}
		rc = find_option(arg, allowed, &idx, &v, e);
		if (rc)
			goto fail;
		if (options[idx].no_value) {
			if (v) {
				rc = kerr_set(e, KE_INVALID, NULL, "option --%s takes no value", options[idx].lng);
				goto fail;
			}
		} else if (!v) {
			if (i + 1 >= argc) {
				rc = kerr_set(e, KE_INVALID, NULL, "option %s needs a value", arg);
				goto fail;
			}
			v = argv[++i];
		}
		rc = store(a, options[idx].id, v, e);
		if (rc)
			goto fail;
	}
	return 0;
fail:
	cli_args_free(a);
	return rc;
}

void cli_args_free(struct cli_args *a)
{
	free(a->files);
	free(a->pos);
	free(a->line_comments);
	free(a->labels);
	free(a->add_labels);
	free(a->assignees);
	a->files = NULL;
	a->pos = NULL;
	a->line_comments = a->labels = a->add_labels = a->assignees = NULL;
	a->nfiles = a->npos = a->nline_comments = a->nlabels = a->nadd_labels = a->nassignees = 0;
}
