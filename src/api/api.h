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
