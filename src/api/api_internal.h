/* Shared between the API's handler files; not part of the public API. */
#ifndef KRATE_API_INTERNAL_H
#define KRATE_API_INTERNAL_H

#include <pthread.h>
#include <jansson.h>
#include "api/api.h"
#include "api/hub.h"
#include "api/redact.h"
#include "core/buf.h"
#include "model/kinds.h"
#include "store/store.h"

#define API_MAX_SEGMENTS 10
/* Request paths are split into at most this many segments; only a route ending
 * in "{*}" (the rest of the path) can match more than API_MAX_SEGMENTS. */
#define API_MAX_PATH_SEGMENTS 64

struct token_cache;
struct session_guard;

struct api {
	struct store *store;
	char *git_path;           /* the git executable the forge runs */
	char *git_root;           /* DATA/git, or NULL when the server has no data directory */
	char *data_dir;           /* DATA (content-addressed blobs in DATA/cas), or NULL */
	/* borrowed, may be NULL; atomic since api_set_runtime may run while requests are served */
	struct agents_runtime *_Atomic runtime;
	struct hub *hub;
	struct token_cache *tokens;
	struct session_guard *sessions;   /* sign-in failure counters (session.c) */
	size_t body_max;
	api_browse_fn browse;     /* repository browsing (set by the forge), or NULL */
	api_browse_raw_fn browse_raw;
	void *browse_arg;
	struct webhook *webhook;  /* borrowed; NULL: no webhook events */
	const struct seal *seal;  /* borrowed; NULL: Secret and ConfigMap data cannot be sealed */
};

/* Who is calling. Strings are owned by the principal (api_principal_free). */
struct principal {
	int authenticated;
	char *user;       /* "anonymous" when not authenticated */
	char *org;        /* NULL: not bound to one org */
	int role;         /* enum role */
};

struct route_match {
	const char *org;                   /* the {org} of /api/orgs/{org}/..., else NULL */
	const char *seg[API_MAX_SEGMENTS]; /* the other captured {} params in order */
	int nseg;
	const char *rest;                  /* a final "{*}": the rest of the path ("a/b/c"), else NULL */
};

typedef int (*api_handler_fn)(struct api *a, struct http_req *r, const struct route_match *m,
			      struct principal *p);

/* ---- auth.c ---- */
struct token_cache *token_cache_create(void);
void token_cache_destroy(struct token_cache *c);
/* Fills p from the Authorization header or, for GET and HEAD without one, from
 * the console's session cookie; 0 or KE_UNAUTHORIZED (p then anonymous). */
int api_authenticate(struct api *a, struct http_req *r, struct principal *p, struct kerr *e);
/* Fills p for an API token secret ("krt_..."); 0 or KE_UNAUTHORIZED (p then anonymous). */
int api_token_principal(struct api *a, const char *secret, struct principal *p, struct kerr *e);
void api_principal_free(struct principal *p);
/* 1 if p may see org slug (not whether it exists). */
int api_org_allowed(const struct principal *p, const char *org);
int h_whoami(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_token_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);

/* ---- session.c, users.c ---- */
struct session_guard *session_guard_create(void);
void session_guard_destroy(struct session_guard *g);
/* NULL if pw is acceptable for a console user, else why not. */
const char *session_password_problem(const char *pw);
int h_user_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);

/* ---- write.c: every mutation ends here, so it is audited and acknowledged after commit ---- */
enum write_reply { REPLY_OBJECT, REPLY_ITEMS, REPLY_DELETED, REPLY_JSON };

struct write_req {
	struct api *a;
	struct http_req *r;
	struct store_batch batch;
	struct store_op *ops;
	size_t nops;
	size_t nreply;            /* leading ops whose results are reported (REPLY_ITEMS/OBJECT) */
	enum write_reply reply;
	json_t *keep;             /* objects the ops point into; released at the end */
	json_t *reply_json;       /* REPLY_JSON body */
	int reply_status;         /* REPLY_JSON status */
	struct kerr deny;         /* set for audit-only batches: the refusal to send */
	char *audit_result;
	char *actor, *org, *verb, *resource;
};

/* Allocates a write request with room for n ops; audit fields copied from p/verb/org/resource. */
struct write_req *write_req_new(struct api *a, struct http_req *r, const struct principal *p,
				size_t n, const char *verb, const char *org, const char *resource);
/* Submits; returns HTTP_DEFER, or HTTP_DONE after responding with an error. Takes w. */
int write_submit(struct write_req *w);
/* Answers a refused mutation after writing its audit entry ("denied:<CODE>"). */
int write_deny(struct api *a, struct http_req *r, const struct principal *p, const char *verb,
	       const char *org, const char *resource, const struct kerr *e);

/* ---- resources.c ---- */
int h_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_apply(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_put(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_put_status(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_delete(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
/* Admits, authorises and applies docs (a JSON array of objects; borrowed). */
int api_apply_docs(struct api *a, struct http_req *r, const struct principal *p, const char *route_org,
		   json_t *docs);

/* ---- repos.c: typed repository routes over the generic apply, get and delete ---- */
int h_repos_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_repos_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_repos_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_repos_delete(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);

/* ---- browse.c: read-only repository browsing; the git work is the forge's ---- */
int h_browse_branches(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_browse_tags(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_browse_tree(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_browse_blob(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_browse_commits(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_browse_commit(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);

/* ---- orgs.c ---- */
int h_orgs_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_orgs_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_orgs_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
/* 0 if org exists and p may see it; else KE_NOTFOUND (ORG_NOT_FOUND) with e set. */
int api_org_check(struct api *a, const struct principal *p, const char *org, struct kerr *e);
/* Summaries {name, slug, displayName, namespace, phase} of the orgs p may see; new ref or NULL. */
json_t *api_visible_orgs(struct api *a, const struct principal *p, struct kerr *e);
/* Adds the ops that go with writing an object (an Organization brings its
 * OrgNamespaceBinding; deleting one empties its namespace). */
size_t api_org_extra_ops(json_t *org_obj, int deleting, struct store_op *ops, json_t *keep);

/* ---- readiness (health.c): the same answer for /readyz and the console ---- */
struct api_component {
	const char *key;          /* "store", "git", "agentGateway" */
	const char *name;         /* "Store", "Git", "Agent gateway" */
	int configured;           /* 0: not part of this server; never makes it degraded */
	int ready;
	const char *detail;
};
#define API_COMPONENTS 3
/* Fills out[] and returns 1 when every configured component is ready. */
int api_readiness(struct api *a, struct api_component out[API_COMPONENTS]);

/* ---- controller.c, health.c, audit.c, watch.c ---- */
int h_controller(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_kinds(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_healthz(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_readyz(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_metrics(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_audit_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_audit_verify(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_watch(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);

/* ---- synchronous mutations for the console (resources.c) ----
 * The same admission, visibility, RBAC and audit as the HTTP routes; they wait
 * for the commit. A refusal is audited too. */
/* Applies docs (a JSON array; borrowed). route_org as for /api/orgs/{org}.
 * On success *results (new ref) is an array of {status, object}. */
int api_apply_sync(struct api *a, const struct principal *p, const char *route_org, json_t *docs,
		   const char *correlation_id, json_t **results, struct kerr *e);
/* Deletes one object (kind, plural or short name) in org. */
int api_delete_sync(struct api *a, const struct principal *p, const char *org, const char *kind,
		    const char *name, const char *correlation_id, struct kerr *e);

/* ---- webhooks.c: events and redelivery; sealed.c: sealing ---- */
/* Appends to docs_out (an array of objects to create in the same batch as
 * the change) the admitted WebhookDelivery objects for event in org; a no-op
 * when the server has no webhooks. payload (borrowed) is sent with "event",
 * "org" and "createdAt" added. */
int api_event_docs(struct api *a, const char *org, const char *event, json_t *payload, json_t *docs_out,
		   struct kerr *e);
/* Seals an admitted doc (borrowed, modified) before it is written:
 * spec.secret of a WebhookSubscription, spec.data of a Secret or ConfigMap
 * (without data, the stored values are kept); other docs are left alone.
 * KE_UNPROCESSABLE for a value that is invalid or cannot be sealed here. */
int api_seal_doc(struct api *a, json_t *doc, struct kerr *e);
int h_webhook_redeliver(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
/* The console's redelivery: the same checks and audit, waiting for the
 * commit. *created (new ref) is the new delivery. */
int api_redeliver_sync(struct api *a, const struct principal *p, const char *org, const char *name,
		       const char *correlation_id, json_t **created, struct kerr *e);

/* ---- agents_config.c: the agent configuration routes (docs/agents.md, "API") ---- */
int h_agents_stacks_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_stacks_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_stack_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_stack_patch(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_stack_delete(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_secrets_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_configmaps_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_secret_grants(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_config_grants(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_capabilities(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
int h_agents_review(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p);
/* POST /api/agents/permissions/review without HTTP: req (borrowed) is the
 * seed's request {repository, ref, agentStack, actor?, triggerSource?,
 * taskKind?, runnerPool?}; *out (new ref) is review_run's result for every
 * decision. ORG_NOT_FOUND, or KE_INVALID (400) with a reason per bad field. */
int api_agents_review(struct api *a, const struct principal *p, const char *org, json_t *req, json_t **out,
		      struct kerr *e);
/* Creates or updates the grant doc (an AgentSecretGrant or AgentConfigGrant,
 * borrowed) in org: admin only; the Secret or ConfigMap it names must exist
 * (else 422 with a reason on spec.secretRef / spec.configMapRef). Audited
 * (refusals too) with correlation_id; waits for the commit; *created (new
 * ref) is the stored grant. */
int api_agents_grant_create(struct api *a, const struct principal *p, const char *org, json_t *doc,
			    const char *correlation_id, json_t **created, struct kerr *e);

/* views.agents of GET /api/controller for org (NULL: empty lists): {activeRuns,
 * pendingApprovals, stackReadiness, missingPermissions, repositoryAffordances}
 * (agents_view.c); new ref, or NULL with e set. */
json_t *api_agents_view(struct api *a, const char *org, struct kerr *e);

/* ---- agent dispatch without HTTP (agents_runs.c, agents_actions.c; docs/agents.md, "Dispatch API") ----
 * What the routes under /api/agents/runs and /api/agents/approvals do; the
 * console calls these. org NULL: a write needs one (422 ORG_REQUIRED); a read
 * of one object looks in every org p sees; a list covers them all. req is the
 * JSON body (borrowed; NULL is refused as a body that is not an object).
 * Writes check the role, are audited (refusals too) with correlation_id and
 * wait for the commit; *out / *items are new references. */
/* POST /api/agents/runs: *out = {run, attempt, links: {detail, events}}. */
int api_agents_dispatch(struct api *a, const struct principal *p, const char *org, json_t *req,
			const char *correlation_id, json_t **out, struct kerr *e);
/* action: cancel | retry | resume | fork | continue; *out = {accepted, run, attempt, phase}. */
int api_agents_run_action(struct api *a, const struct principal *p, const char *org, const char *run,
			  const char *action, json_t *req, const char *correlation_id, json_t **out, struct kerr *e);
/* {decision: approved|denied, comment?} (admin); *out = {approval, phase, run, attempt, runPhase}. */
int api_agents_approval_decide(struct api *a, const struct principal *p, const char *org, const char *approval,
			       json_t *req, const char *correlation_id, json_t **out, struct kerr *e);
/* Runs newest first, optionally of one status.phase and one AgentStack (NULL or "": any). */
int api_agents_runs_list(struct api *a, const struct principal *p, const char *org, const char *phase,
			 const char *stack, json_t **items, struct kerr *e);
/* {run, org, attempts, contextBundleDigest, bundle, artifacts, approvals, links}. */
int api_agents_run_get(struct api *a, const struct principal *p, const char *org, const char *run, json_t **out,
		       struct kerr *e);
int api_agents_approvals_list(struct api *a, const struct principal *p, const char *org, const char *phase,
			      json_t **items, struct kerr *e);
/* An artifact's content from CAS (*data malloc'd, NUL-terminated). */
int api_agents_artifact_content(struct api *a, const struct principal *p, const char *org, const char *name,
				char **data, size_t *len, struct kerr *e);

/* ---- pull requests and issues without HTTP (pulls*.c, issues.c) ----
 * What the routes under /api/orgs/{org}/repositories/{repo}/ do (docs/forge.md);
 * the routes answer with these and the console calls them directly. number
 * is the {n} of the route. req is the JSON body (borrowed); NULL stands for a
 * body that is not a JSON object and is refused as the route refuses it.
 * Writes check the org, the repository and the role, are audited (refusals
 * too) with correlation_id and wait for the commit. On success *out is a new
 * reference to the stored object; otherwise e says why (422s with a reason per
 * field). warning (may be NULL) gets the title policy's audit-mode warning
 * (static) or NULL. */
int api_pull_open(struct api *a, const struct principal *p, const char *org, const char *repo, json_t *req,
		  const char *correlation_id, json_t **out, const char **warning, struct kerr *e);
int api_issue_open(struct api *a, const struct principal *p, const char *org, const char *repo, json_t *req,
		   const char *correlation_id, json_t **out, struct kerr *e);
/* PATCH of kind "PullRequest" or "Issue": {title?, body?, state?, labels?, assignees?}. */
int api_record_update(struct api *a, const struct principal *p, const char *org, const char *repo, const char *kind,
		      const char *number, json_t *req, const char *correlation_id, json_t **out, const char **warning,
		      struct kerr *e);
/* A comment on target ("PullRequest" or "Issue") number; *out is the Comment. */
int api_record_comment(struct api *a, const struct principal *p, const char *org, const char *repo,
		       const char *target, const char *number, json_t *req, const char *correlation_id, json_t **out,
		       struct kerr *e);
/* *out is the Review. */
int api_pull_review(struct api *a, const struct principal *p, const char *org, const char *repo, const char *number,
		    json_t *req, const char *correlation_id, json_t **out, struct kerr *e);
/* *out is the PullRequest. */
int api_pull_check(struct api *a, const struct principal *p, const char *org, const char *repo, const char *number,
		   json_t *req, const char *correlation_id, json_t **out, struct kerr *e);
/* *out is the merged PullRequest; not mergeable: 409 NOT_MERGEABLE with the blockers as reasons. */
int api_pull_merge(struct api *a, const struct principal *p, const char *org, const char *repo, const char *number,
		   json_t *req, const char *correlation_id, json_t **out, struct kerr *e);
/* Reads. Records of kind with state open (NULL or ""), closed, merged or all,
 * newest first (*items an array). */
int api_records_list(struct api *a, const struct principal *p, const char *org, const char *repo, const char *kind,
		     const char *state, json_t **items, struct kerr *e);
/* One record; a pull request with fresh mergeability. */
int api_record_get(struct api *a, const struct principal *p, const char *org, const char *repo, const char *kind,
		   const char *number, json_t **out, struct kerr *e);
/* GET .../pulls/{n}/files: {files, patch, truncated, commits, mergeBase, headSha, baseSha}. */
int api_pull_files(struct api *a, const struct principal *p, const char *org, const char *repo, const char *number,
		   json_t **out, struct kerr *e);
/* The Reviews or Comments (kind) of parent_kind number, oldest first (*items an array). */
int api_record_children(struct api *a, const struct principal *p, const char *org, const char *repo,
			const char *parent_kind, const char *number, const char *kind, json_t **items, struct kerr *e);

/* ---- pull requests after a push (pulls*.c), called by api_record_push ---- */
void api_pulls_on_push(struct api *a, const char *org, const char *repo, json_t *updates);

/* ---- helpers (api.c) ---- */
/* Responds with e and returns HTTP_DONE. */
int api_fail(struct http_req *r, const struct kerr *e);
/* Responds with a new error and returns HTTP_DONE. */
int api_failf(struct http_req *r, int kcode, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "Kind/ns/name" into b. */
void api_resource_id(struct buf *b, const char *kind, const char *ns, const char *name);
/* Org slug from a ?namespace= value: "krate-org-x" or "x"; NULL for krate-system. */
const char *api_namespace_org(const char *ns_or_org);

#endif
