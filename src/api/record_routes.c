/* The HTTP side of the pull request and issue routes (docs/forge.md): every
 * handler reads the route and the body, calls the api_* function that does
 * the work (shared with the console) and answers with its result. Internal
 * to the API. */
#include "api/pulls.h"

/* Which api_* function a route calls. */
enum record_op {
	OP_OPEN_PULL,
	OP_OPEN_ISSUE,
	OP_UPDATE,
	OP_COMMENT,
	OP_REVIEW,
	OP_CHECK,
	OP_MERGE,
	OP_GET,
	OP_FILES,
	OP_LIST,        /* ?state= of kind, answered as {"items": [...]} */
	OP_CHILDREN,    /* child objects of a number, answered as {"items": [...]} */
};

struct record_route {
	enum record_op op;
	const char *kind;       /* PullRequest or Issue */
	const char *child;      /* OP_CHILDREN: Review or Comment */
	int status;             /* the answer's status on success */
};

static int serve(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p,
		 const struct record_route *rt)
{
	struct kerr e = KERR_INIT;
	const char *org = m->org, *repo = m->seg[0], *n = m->nseg > 1 ? m->seg[1] : NULL;
	const char *cid = http_req_correlation_id(r), *warning = NULL;
	json_t *req = rt->op <= OP_MERGE ? pulls_body(r) : NULL, *out = NULL;
	int rc = KE_INTERNAL;  /* every case sets it; gcc cannot tell */

	switch (rt->op) {
	case OP_OPEN_PULL:
		rc = api_pull_open(a, p, org, repo, req, cid, &out, &warning, &e);
		break;
	case OP_OPEN_ISSUE:
		rc = api_issue_open(a, p, org, repo, req, cid, &out, &e);
		break;
	case OP_UPDATE:
		rc = api_record_update(a, p, org, repo, rt->kind, n, req, cid, &out, &warning, &e);
		break;
	case OP_COMMENT:
		rc = api_record_comment(a, p, org, repo, rt->kind, n, req, cid, &out, &e);
		break;
	case OP_REVIEW:
		rc = api_pull_review(a, p, org, repo, n, req, cid, &out, &e);
		break;
	case OP_CHECK:
		rc = api_pull_check(a, p, org, repo, n, req, cid, &out, &e);
		break;
	case OP_MERGE:
		rc = api_pull_merge(a, p, org, repo, n, req, cid, &out, &e);
		break;
	case OP_GET:
		rc = api_record_get(a, p, org, repo, rt->kind, n, &out, &e);
		break;
	case OP_FILES:
		rc = api_pull_files(a, p, org, repo, n, &out, &e);
		break;
	case OP_LIST:
		rc = api_records_list(a, p, org, repo, rt->kind, http_req_query(r, "state"), &out, &e);
		break;
	case OP_CHILDREN:
		rc = api_record_children(a, p, org, repo, rt->kind, n, rt->child, &out, &e);
		break;
	}
	json_decref(req);
	if (!rc && (rt->op == OP_LIST || rt->op == OP_CHILDREN))
		out = json_pack("{s:o}", "items", out);
	if (!rc && warning)
		http_add_header(r, "Warning", "299 krate \"PullRequest spec.title must be descriptive\"");
	return pulls_answer(r, rc, rt->status, out, &e);
}

/* The handlers the route table names, one line each. */
#define RECORD_ROUTE(handler, op, kind, child, status)                                                        \
	int handler(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)    \
	{                                                                                                      \
		static const struct record_route rt = { op, kind, child, status };                             \
		return serve(a, r, m, p, &rt);                                                                 \
	}

RECORD_ROUTE(h_pulls_create, OP_OPEN_PULL, "PullRequest", NULL, 201)
RECORD_ROUTE(h_pulls_list, OP_LIST, "PullRequest", NULL, 200)
RECORD_ROUTE(h_pulls_get, OP_GET, "PullRequest", NULL, 200)
RECORD_ROUTE(h_pulls_patch, OP_UPDATE, "PullRequest", NULL, 200)
RECORD_ROUTE(h_pulls_files, OP_FILES, "PullRequest", NULL, 200)
RECORD_ROUTE(h_pulls_review, OP_REVIEW, "PullRequest", NULL, 201)
RECORD_ROUTE(h_pulls_reviews, OP_CHILDREN, "PullRequest", "Review", 200)
RECORD_ROUTE(h_pulls_check, OP_CHECK, "PullRequest", NULL, 200)
RECORD_ROUTE(h_pulls_merge, OP_MERGE, "PullRequest", NULL, 200)
RECORD_ROUTE(h_pull_comment_create, OP_COMMENT, "PullRequest", NULL, 201)
RECORD_ROUTE(h_pull_comments, OP_CHILDREN, "PullRequest", "Comment", 200)
RECORD_ROUTE(h_issues_create, OP_OPEN_ISSUE, "Issue", NULL, 201)
RECORD_ROUTE(h_issues_list, OP_LIST, "Issue", NULL, 200)
RECORD_ROUTE(h_issues_get, OP_GET, "Issue", NULL, 200)
RECORD_ROUTE(h_issues_patch, OP_UPDATE, "Issue", NULL, 200)
RECORD_ROUTE(h_issue_comment_create, OP_COMMENT, "Issue", NULL, 201)
RECORD_ROUTE(h_issue_comments, OP_CHILDREN, "Issue", "Comment", 200)
