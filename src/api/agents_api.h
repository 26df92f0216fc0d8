/* The agent dispatch API (docs/agents.md, "Dispatch API"), shared by
 * agents_runs.c (dispatch and reads), agents_actions.c (run actions and
 * approval decisions) and agents_events.c (a run's event stream). Internal to
 * the API.
 *
 * Runs, attempts, bundles and approvals are written by the server only, in
 * one audited store batch per request; texts a user gives (prompt, reasons,
 * messages, comments) are redacted with the org's secret values before they
 * are stored or passed on, so no response can carry a secret.
 *
 * Ownership: as in records.h; structs below own what their comments say. */
#ifndef KRATE_API_AGENTS_API_H
#define KRATE_API_AGENTS_API_H

#include "agents/cas.h"
#include "api/pulls.h"

#define AGENTS_LABEL_RUN "krate.a5c.ai/run"
#define AGENTS_LABEL_STATE "krate.a5c.ai/state"       /* attempts: waiting|queued|running|done */
#define AGENTS_LABEL_ADAPTER "krate.a5c.ai/adapter"   /* attempts: process|agent-mux */
#define AGENTS_LABEL_STACK "krate.a5c.ai/agent-stack"
#define AGENTS_PROMPT_MAX (64 * 1024)      /* a prompt or a follow-up message */
#define AGENTS_REASON_MAX 1024             /* an action's reason, a decision's comment */
#define AGENTS_WRITE_ATTEMPTS 8            /* writes raced by the runtime's status writes */
#define AGENTS_NAME_MAX 64

/* The org a route under /api/agents is about: {org}, else ?org=, else the
 * token's org, else NULL (then the caller looks in every org it may see). An
 * org that is named but not visible → NULL with e set (404 ORG_NOT_FOUND). */
const char *agents_route_org(struct api *a, struct http_req *r, const struct route_match *m,
			     const struct principal *p, struct kerr *e);
/* Finds kind/name in org, or (org NULL) in the one org p may see that has
 * it (ambiguous → 409). *obj is a new ref; org_out (size >= AGENTS_NAME_MAX)
 * gets the org. KE_NOTFOUND names only the object. */
int agents_find(struct api *a, const struct principal *p, const char *org, const char *kind, const char *name,
		char *org_out, json_t **obj, struct kerr *e);
/* The request body as an object (new ref); an empty body is {}; else NULL. */
json_t *agents_body(struct http_req *r);
/* 0 when p has at least role, else KE_FORBIDDEN naming what. */
int agents_need_role(const struct principal *p, int role, const char *what, struct kerr *e);
/* A 422 with one reason for field; returns KE_UNPROCESSABLE. */
int agents_invalid(struct kerr *e, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* obj[part][key] as a string / integer. */
const char *agents_str(json_t *obj, const char *part, const char *key);
long long agents_int(json_t *obj, const char *part, const char *key);
/* metadata.resourceVersion as a number (0 when absent). */
long long agents_rv(json_t *obj);
/* 1 for Succeeded, Failed and Cancelled. */
int agents_terminal(const char *phase);
/* RFC 3339 now (size >= 32). */
void agents_now(char *out, size_t size);
/* Appends {phase, at, reason, message} to status.history (kept to the last 100). */
void agents_history_add(json_t *status, const char *phase, const char *reason, const char *message, const char *at);
/* The number n of an attempt named "<run>-<n>", or 0. */
long agents_attempt_number(const char *run, const char *attempt);
/* The attempts of run in ns, by number (new ref). */
int agents_attempts(struct api *a, const char *ns, const char *run, json_t **items, struct kerr *e);

/* {detail, events}: the console's page of a run and its event stream (new ref). */
json_t *agents_links(const char *org, const char *run);
/* The org's secret values (array of strings, new ref) for redaction only. */
int agents_secrets(struct api *a, const char *ns, json_t **values, struct kerr *e);
/* text redacted with the org's secret values (malloc'd, caller frees); NULL text gives NULL. */
int agents_redact(struct api *a, const char *ns, const char *text, char **out, struct kerr *e);

/* What a dispatch asks for, validated. Strings borrowed unless noted. */
struct agents_request {
	const char *org;
	char ns[96];
	const char *actor;
	const char *repository, *stack, *task_kind, *runner_pool;
	char *prompt;                 /* redacted (what the run stores); owned */
	const char *raw_prompt;       /* as given, for the bundle to redact and count; NULL: prompt */
	char ref[1100];               /* full ref, or the commit itself */
	char sha[GIT_SHA_HEX + 1];
	json_t *context_labels;       /* array (owned) */
	json_t *source_refs;          /* array of {kind: file, path} | {kind: fork, run} (owned) */
};
void agents_request_free(struct agents_request *q);

/* A fresh frozen context: the review and the bundle, their texts and the
 * rendered prompt stored in CAS. Owns its JSON. */
struct agents_context {
	json_t *stack;                /* the AgentStack's spec */
	json_t *review;               /* review_run's result */
	json_t *bundle;               /* the AgentContextBundle's spec */
	const char *decision;         /* in review: allowed | requires-approval */
	const char *adapter;          /* process | agent-mux | NULL (unknown: the runtime reports it) */
	char bundle_digest[CAS_DIGEST_SIZE], prompt_digest[CAS_DIGEST_SIZE];
	char bundle_name[32];
};
/* Review (denied → KE_FORBIDDEN PERMISSION_DENIED with the review's reasons)
 * and bundle for q at q->sha. */
int agents_context_build(struct api *a, struct agents_request *q, struct agents_context *c, struct kerr *e);
void agents_context_free(struct agents_context *c);

/* A batch of writes whose objects it owns. */
#define AGENTS_BATCH_MAX 8
struct agents_batch {
	struct store_op ops[AGENTS_BATCH_MAX];
	size_t n;
	json_t *keep;
};
void agents_batch_init(struct agents_batch *b);
/* Admits obj (stolen) in org unless it is an update of a stored object, and adds an op. */
int agents_batch_add(struct agents_batch *b, const char *org, enum store_op_type type, json_t *obj,
		     long long expect_rv, struct kerr *e);
/* Writes the batch audited as verb on resource and waits for the commit. */
int agents_batch_write(struct api *a, const struct principal *p, struct agents_batch *b, const char *org,
		       const char *verb, const char *resource, const char *cid, struct kerr *e);
/* The stored object of kind/name after a write (borrowed), or NULL. */
json_t *agents_batch_result(struct agents_batch *b, const char *kind, const char *name);
void agents_batch_free(struct agents_batch *b);

/* A new attempt of run: number n, reason, the frozen context (copied), and
 * waiting (needs an approval first) or queued. message may be NULL. */
json_t *agents_attempt_doc(const char *run, long n, const char *reason, json_t *stack_spec, const char *bundle_digest,
			   const char *bundle_name, const char *prompt_digest, json_t *permission, const char *adapter,
			   int waiting, const char *message);
/* The approval for attempt n of run (approval-<run>, later approval-<run>-<n>). */
json_t *agents_approval_doc(const char *run, long n, const char *actor, json_t *review);
/* A new run name "run-<12 hex>" (size >= 17). */
void agents_run_name(char *out, size_t size);
/* The review frozen for an attempt: a copy with "frozen": true (new ref). */
json_t *agents_permission_snapshot(json_t *review);
/* Adds the creation of c's AgentContextBundle (first made for run) unless
 * it is stored already; bundles are content-addressed, so runs share them. */
int agents_batch_add_bundle(struct api *a, struct agents_batch *b, const struct agents_request *q,
			    const struct agents_context *c, const char *run, struct kerr *e);
/* Creates run (agents_run_name) for q with its first attempt (and its
 * approval when the review asks for one, and the bundle unless stored) plus
 * extra (an array of stored objects to update, guarded by their
 * resourceVersion; stolen, may be NULL), all in one batch audited as verb.
 * *out = {run, attempt, links}. KE_CONFLICT when the batch lost a race. */
int agents_create_run(struct api *a, const struct principal *p, struct agents_request *q, struct agents_context *c,
		      const char *run, json_t *extra, const char *verb, const char *cid, json_t **out,
		      struct kerr *e);
/* Validates a dispatch request body into q (q->org, q->ns and q->actor set by the caller). */
int agents_request_parse(struct api *a, json_t *req, struct agents_request *q, struct kerr *e);
/* The request a stored run was made from (its pinned commit, which must
 * still exist), for a fork or a refreshed retry. q borrows from run. */
int agents_request_from_run(struct api *a, json_t *run, struct agents_request *q, struct kerr *e);

/* Route handlers. */
int h_agents_runs_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_runs_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_run_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_run_attempts(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_artifact_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_artifact_content(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_bundle_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_run_cancel(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_run_retry(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_run_resume(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_run_fork(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_run_continue(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_approvals_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_approval_decide(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_run_events(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);

#endif
