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

struct api_options {
	struct store *store;       /* borrowed; must outlive the api */
	int heartbeat_seconds;     /* idle watch heartbeat interval (default 15) */
	size_t max_watches;        /* open watch streams before 429 (default 20000) */
	size_t body_max;           /* for messages only; the server enforces it */
	size_t ring_size;          /* watch events kept in memory (default 4096) */
	const char *git_path;      /* git executable (default "/usr/bin/git"); copied */
};

int api_create(const struct api_options *o, struct api **out, struct kerr *e);

/* Repository browsing, answered by the forge after the API has authenticated
 * the caller and checked that the Repository exists and is visible. */
enum api_browse_op {
	API_BROWSE_BRANCHES, API_BROWSE_TAGS, API_BROWSE_TREE, API_BROWSE_BLOB,
	API_BROWSE_COMMITS, API_BROWSE_COMMIT
};
struct api_browse_req {
	enum api_browse_op op;
	const char *org, *repo;   /* DNS-1123 labels */
	const char *ref;          /* tree, blob: the ref; commit: the sha; else NULL */
	const char *path;         /* tree, blob: the path below the ref, or NULL */
};
/* Responds to r and returns HTTP_DONE. */
typedef int (*api_browse_fn)(void *arg, struct http_req *r, const struct api_browse_req *q);
/* Installs (or with fn NULL removes) the browsing handler; before serving. */
void api_set_browse(struct api *a, api_browse_fn fn, void *arg);
/* http_handler_fn and http_observe_fn for http_server_start (app = the api). */
int api_handle(struct http_req *r, void *api);
void api_observe(int route_id, int status, uint64_t nanos, void *api);
/* Ends every watch stream (before http_server_stop). */
void api_shutdown(struct api *a);
void api_destroy(struct api *a);

/* Creates a token directly in the store (no HTTP). The secret is written to
 * secret_out (malloc'd, caller frees); only its hash is stored. */
int api_token_create(struct store *s, const char *user, const char *org, int role,
		     const char *actor, char **secret_out, json_t **info_out, struct kerr *e);

/* Seeds the demo org and resources once per data directory, and the console
 * user "demo" (admin of everything, generated password) when it does not
 * exist yet. When this call created the user, *demo_password_out gets its
 * password (malloc'd, caller frees); otherwise NULL. */
int api_demo_seed(struct store *s, char **demo_password_out, struct kerr *e);

#endif
