/* The Krate HTTP API: routing, authentication, resource handlers, watches.
 * One struct api per server; it borrows the store and owns the watch hub. */
#ifndef KRATE_API_H
#define KRATE_API_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "http/server.h"
#include "store/store.h"

struct api;
struct webhook;
struct agents_runtime;
struct seal;

struct api_options {
	struct store *store;       /* borrowed; must outlive the api */
	int heartbeat_seconds;     /* idle watch heartbeat interval (default 15) */
	size_t max_watches;        /* open watch streams before 429 (default 20000) */
	size_t body_max;           /* for messages only; the server enforces it */
	size_t ring_size;          /* watch events kept in memory (default 4096) */
	const char *git_path;      /* git executable (default "/usr/bin/git"); copied */
	const char *data_dir;      /* repositories are DATA/git/<org>/<repo>.git; copied (NULL: no git) */
	struct webhook *webhook;   /* borrowed, may be NULL: no webhook events, and secrets cannot be sealed */
	const struct seal *seal;   /* borrowed, may be NULL: Secret and ConfigMap data cannot be written */
};

int api_create(const struct api_options *o, struct api **out, struct kerr *e);

/* Repository browsing, answered by the forge after the API has authenticated
 * the caller and checked that the Repository exists and is visible. */
enum api_browse_op {
	API_BROWSE_BRANCHES, API_BROWSE_TAGS, API_BROWSE_TREE, API_BROWSE_BLOB,
	API_BROWSE_COMMITS, API_BROWSE_COMMIT
};
#define API_BROWSE_PAGE_MAX 10000      /* bounds the commits a request walks past */
#define API_BROWSE_PER_PAGE 30
#define API_BROWSE_PER_PAGE_MAX 100
struct api_browse_req {
	enum api_browse_op op;
	const char *org, *repo;   /* DNS-1123 labels */
	const char *ref;          /* tree, blob: the ref; commit: the sha; commits: the ref or NULL (HEAD) */
	const char *path;         /* tree, blob: the path below the ref, or NULL */
	long page, per_page;      /* commits: 1..API_BROWSE_PAGE_MAX, 1..API_BROWSE_PER_PAGE_MAX; 0 = default */
};
/* A blob's bytes (?raw=1). data is malloc'd and belongs to the caller. */
struct api_blob {
	char *data;
	size_t len;
	int binary;               /* git thinks so, or not valid UTF-8 */
};
/* Answers q with the documented JSON (GET R/branches, R/tree/... in
 * docs/api.md): *out is a new reference for the caller. Errors are KE_INVALID
 * (bad ref or path), KE_NOTFOUND (unknown ref or path, empty or missing
 * repository) or KE_INTERNAL, with messages that never contain paths. */
typedef int (*api_browse_fn)(void *arg, const struct api_browse_req *q, json_t **out, struct kerr *e);
/* The bytes of the blob q (op API_BROWSE_BLOB) names; errors as above. */
typedef int (*api_browse_raw_fn)(void *arg, const struct api_browse_req *q, struct api_blob *out,
				 struct kerr *e);
/* Installs (or with fn NULL removes) the browsing handlers; before serving. */
void api_set_browse(struct api *a, api_browse_fn fn, api_browse_raw_fn raw, void *arg);
/* Installs (or with NULL removes) the agent runtime (borrowed; must outlive
 * the api or be removed first) that dispatch actions cancel and continue
 * through, and that readiness asks about gateways. Without one, queued
 * attempts simply wait and cancel marks them Cancelled itself. */
void api_set_runtime(struct api *a, struct agents_runtime *rt);
struct principal;
/* Browsing for the console: the same org and Repository checks as the HTTP
 * routes (KE_NOTFOUND when p may not see them), then the forge's answer. */
int api_browse(struct api *a, const struct principal *p, const struct api_browse_req *q, json_t **out,
	       struct kerr *e);
/* http_handler_fn and http_observe_fn for http_server_start (app = the api). */
int api_handle(struct http_req *r, void *api);
void api_observe(int route_id, int status, uint64_t nanos, void *api);
/* Ends every watch stream (before http_server_stop). */
void api_shutdown(struct api *a);
void api_destroy(struct api *a);

/* Push bookkeeping (push.c), after git accepted a push to org/repo: one
 * GitPush per updated ref and a `push` webhook event each, in one store batch
 * audited as verb "push" by pusher; then the open pull requests follow the
 * moved refs. updates (borrowed) is [{ref, before, after}]. */
int api_record_push(struct api *a, const char *org, const char *repo, const char *pusher, json_t *updates,
		    const char *correlation_id, struct kerr *e);

/* Opened Secret values for the agent runtime (never for answers or logs).
 * The results are secret: release them with secrets_free()
 * (src/agents/secrets.h), which wipes every string before freeing.
 * api_secret_values: every value of every Secret of namespace ns, as an array
 * of strings (to redact). api_secret_env: the Secret named secret in ns as
 * {key: value}; KE_NOTFOUND when it does not exist. 0 or a KE_* code. */
int api_secret_values(struct api *a, const char *ns, json_t **values);
int api_secret_env(struct api *a, const char *ns, const char *secret, json_t **kv);

/* Creates a token directly in the store (no HTTP). The secret is written to
 * secret_out (malloc'd, caller frees); only its hash is stored. */
int api_token_create(struct store *s, const char *user, const char *org, int role,
		     const char *actor, char **secret_out, json_t **info_out, struct kerr *e);

/* Seeds the demo org and resources once per data directory, and the console
 * user "demo" (admin of everything, generated password) when it does not
 * exist yet. When this call created the user, *demo_password_out gets its
 * password (malloc'd, caller frees); otherwise NULL. */
int api_demo_seed(struct store *s, char **demo_password_out, struct kerr *e);
/* Fills the demo repositories once per data directory: commits, an open pull
 * request with a review and checks, an issue. Call after the forge started
 * (it waits up to 10 s for the bare repositories). */
int api_demo_forge(struct api *a, struct kerr *e);
/* Seeds, once, a ready AgentStack in the demo org that runs self_exe's
 * `example-agent` on demo/krate, with its identity, grant and secret. */
int api_demo_agents(struct api *a, const char *self_exe, struct kerr *e);

#endif
