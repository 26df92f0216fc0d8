/* The forge: bare git repositories for Repository objects, kept under
 * DATA/git/<org>/<repo>.git, and git smart HTTP at /<org>/<repo>.git/...
 *
 * A reconciler thread creates a bare repository when a Repository is added
 * (and at start for any that lack one) and removes it when the object is
 * deleted, reporting status.phase Ready or Failed. Git requests run
 * `git http-backend` as a CGI in a worker thread; request bodies are spooled
 * to an unlinked temporary file and responses are streamed.
 *
 * Ownership: struct forge borrows the api and store, which must outlive it. */
#ifndef KRATE_FORGE_H
#define KRATE_FORGE_H

#include "api/api.h"
#include "core/err.h"
#include "http/server.h"
#include "store/store.h"

struct forge;

struct forge_options {
	struct api *api;          /* borrowed: authentication and the git executable */
	struct store *store;      /* borrowed */
	const char *data_dir;     /* copied; repositories live in DATA/git, spools in DATA/tmp */
};

/* Creates DATA/git and DATA/tmp and starts the reconciler, which first creates
 * any missing repository for the stored Repository objects. */
int forge_create(const struct forge_options *o, struct forge **out, struct kerr *e);
/* store_event_fn: queues Repository ADDED and DELETED events (never blocks). */
void forge_on_event(const struct store_event *ev, void *forge);
/* 1 for /<org>/<repo>.git and everything under it. */
int forge_owns_path(const char *path);
/* http_handler_fn for paths forge_owns_path() accepts. */
int forge_handle(struct http_req *r, struct forge *f);
/* http_sink_fn: git POSTs are spooled to an unlinked temporary file. */
int forge_upload_sink(struct http_req *r, struct forge *f, struct http_sink *out);
/* Stops the reconciler (after http_server_stop, before store_close). */
void forge_destroy(struct forge *f);

/* DATA/git/<org>/<repo>.git into out; KE_INVALID unless org and repo are
 * DNS-1123 labels (so the path stays inside the data directory). */
int forge_repo_path(const char *data_dir, const char *org, const char *repo, char *out, size_t size);

#endif
