/* Watch fan-out: the store's committed events go into an in-memory ring of
 * pre-formatted SSE frames; every open watch reads the frames after its
 * cursor that match its filter. Watches hold no thread while idle: their
 * connections are suspended and woken on publish or heartbeat. Watches that
 * fall behind the ring are replayed from the store's event log. */
#ifndef KRATE_HUB_H
#define KRATE_HUB_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "http/server.h"
#include "store/store.h"

struct hub;

struct hub_options {
	struct store *store;       /* borrowed */
	size_t ring_size;          /* frames kept in memory (default 4096) */
	int heartbeat_seconds;     /* default 15 */
	size_t max_watches;        /* default 20000 */
};

int hub_create(const struct hub_options *o, struct hub **out, struct kerr *e);
/* store_event_fn: call from the store's writer thread. */
void hub_publish(const struct store_event *ev, void *hub);
/* Ends every watch stream; later watch requests are refused. */
void hub_shutdown(struct hub *h);
void hub_destroy(struct hub *h);
size_t hub_open_watches(struct hub *h);

struct hub_watch_spec {
	const char *ns;            /* required */
	const char *kind;          /* canonical kind or NULL */
	const char *name;          /* or NULL */
	int have_rv;               /* resume after rv (else start with the current objects as ADDED) */
	int64_t rv;
};

/* Opens a watch on request r and starts the SSE response. Returns HTTP_STREAM,
 * or a negative KE_* with e set (429 when too many watches). A resume version
 * that is too old still opens the stream, sends one `event: error` and ends. */
int hub_watch(struct hub *h, struct http_req *r, const struct hub_watch_spec *spec, struct kerr *e);

/* The Kubernetes-style path of an object. */
int hub_object_path(struct buf *b, const char *kind, const char *ns, const char *name);

#endif
