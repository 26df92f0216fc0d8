/* Pull requests, issues, reviews and comments: the typed routes under
 * /api/orgs/{org}/repositories/{repo}/ (docs/forge.md). Internal to the API.
 *
 * These handlers write synchronously (store_write) because a number must be
 * taken and git must be asked before the answer is known; every write, and
 * every refusal, is audited like the generic routes. */
#ifndef KRATE_API_RECORDS_H
#define KRATE_API_RECORDS_H

#include <limits.h>
#include "api/api_internal.h"
#include "git/git.h"

#define LABEL_REPO "krate.a5c.ai/repository"
#define LABEL_NUMBER "krate.a5c.ai/number"
#define RECORD_TEXT_MAX (256 * 1024)   /* body text of a PR, issue, review or comment */
#define RECORD_TITLE_MAX 256

/* The repository a request is about. */
struct repo_ctx {
	const char *org, *repo;      /* borrowed from the route */
	char ns[96];
	json_t *obj;                 /* the Repository object (owned) */
	char dir[PATH_MAX];          /* its bare repository */
	struct git_repo git;         /* points into a and dir */
};

/* Checks the org and that the Repository exists; fills c. 0, or the error
 * is in e (ORG_NOT_FOUND, NOT_FOUND). Pair with repo_ctx_free. */
int repo_ctx_load(struct api *a, const struct principal *p, const char *org, const char *repo, struct repo_ctx *c,
		  struct kerr *e);
void repo_ctx_free(struct repo_ctx *c);
/* "refs/heads/<default branch>" into out. */
void repo_default_ref(const struct repo_ctx *c, char *out, size_t size);

/* Loads PullRequest or Issue number n (new ref in *out). KE_NOTFOUND if absent. */
int record_load(struct api *a, const struct repo_ctx *c, const char *kind, const char *number, json_t **out,
		struct kerr *e);
/* All objects of kind in the repository (optionally one number), as an array (new ref). */
int record_list(struct api *a, const struct repo_ctx *c, const char *kind, long long number, json_t **out,
		struct kerr *e);

/* Writes ops in one audited batch and waits for the commit. */
int record_write(struct api *a, const struct principal *p, const char *org, const char *verb, const char *resource,
		 const char *correlation_id, struct store_op *ops, size_t n, struct kerr *e);
/* Audits the refusal e of a mutation ("denied:<CODE>") and waits for it;
 * returns e's code. */
int record_deny(struct api *a, const struct principal *p, const char *verb, const char *org,
		const char *correlation_id, struct kerr *e);
/* Creates obj (PullRequest or Issue, without a name yet), taking the next
 * number of the repository in the same batch, plus extra_docs (objects to
 * create alongside, e.g. webhook deliveries; may be NULL). Retries when the
 * Repository changed meanwhile. On success *result is the stored object. */
int record_create_numbered(struct api *a, const struct principal *p, const char *correlation_id, struct repo_ctx *c,
			   json_t *obj, json_t *(*extra_docs)(struct api *a, const struct repo_ctx *c, json_t *stored,
							      void *arg),
			   void *arg, json_t **result, struct kerr *e);
/* Fills namespace, labels (repository, number) and runs admission on obj. */
int record_admit(const struct repo_ctx *c, json_t *obj, long long number, struct kerr *e);
/* RFC 3339 now into out (size >= 32). */
void record_now(char *out, size_t size);
/* 12 random hex digits into out (size >= 13). */
void record_random_hex(char *out, size_t size);
/* Adds CREATE ops for each object of docs to ops (capacity cap); the count added. */
size_t record_create_ops(json_t *docs, struct store_op *ops, size_t cap);
/* Queues the deliveries of event as CREATE ops at ops[*n..cap) and advances
 * *n; payload is consumed. Returns the delivery objects the ops point into
 * (new ref, release after the write). */
json_t *record_event_ops(struct api *a, const char *org, const char *event, json_t *payload, struct store_op *ops,
			 size_t cap, size_t *n);
/* Releases the results of ops[0..*n) and empties the list (for a retry or the end). */
void record_ops_clear(struct store_op *ops, size_t *n);
/* Event deliveries for event (array, new ref; empty without webhooks). */
json_t *record_event_docs(struct api *a, const char *org, const char *event, json_t *payload);

/* Validation of user input shared by PRs and issues; 0 or KE_UNPROCESSABLE with a reason. */
int record_check_text(json_t *v, const char *field, size_t max, int required, struct kerr *e);
int record_check_names(json_t *v, const char *field, struct kerr *e);

/* Route handlers. */
int h_pulls_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_pulls_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_pulls_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_pulls_patch(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_pulls_files(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_pulls_review(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_pulls_reviews(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_pulls_check(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_pulls_merge(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_issues_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_issues_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_issues_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_issues_patch(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_pull_comment_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_pull_comments(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_issue_comment_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_issue_comments(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);

/* Mergeability (pulls_state.c): recomputes the status of an open pull
 * request from git, its reviews, its checks and the BranchProtection rules.
 * *status is the new status (new ref) to store with STORE_OP_STATUS_MERGE. */
int pull_state(struct api *a, const struct repo_ctx *c, json_t *pr, json_t **status, struct kerr *e);
/* The PR title policy (PolicyBinding pr-title-required, audit or enforce;
 * enforced when absent). 0 allowed; KE_UNPROCESSABLE refused; *warning set
 * (static string) when audit mode let a bad title through. */
int pull_title_policy(struct api *a, const char *org, const char *title, const char **warning, struct kerr *e);
/* The admission policies of the generic write path for doc in org (today
 * the PR title policy); 0 or KE_UNPROCESSABLE. */
int api_policy_check(struct api *a, const char *org, json_t *doc, struct kerr *e);

#endif
