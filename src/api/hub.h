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

/* A feed: a stream whose frames its owner writes, e.g. one agent run's
 * transcript. The hub wakes it like a watch (when a matching event is
 * published, on heartbeats and at shutdown) and sends what fill() appends. */
struct hub_feed_ops {
	/* 1 when an event for kind/name in the feed's namespace concerns it.
	 * Runs on the hub's notifier thread under its locks: compare, nothing more. */
	int (*match)(void *arg, const char *kind, const char *name);
	/* Appends what is new to out (capped by the hub); returns 1 when the
	 * stream should end once that is sent. Runs on a server thread; may read
	 * the store, must not wait for anything else. */
	int (*fill)(void *arg, struct buf *out);
	void (*release)(void *arg);
};

/* Opens a feed on request r in namespace ns and starts the SSE response.
 * Returns HTTP_STREAM (arg then belongs to the feed: release() frees it), or
 * a negative KE_* with e set (arg stays the caller's). */
int hub_feed(struct hub *h, struct http_req *r, const char *ns, const struct hub_feed_ops *ops, void *arg,
	     struct kerr *e);

/* The Kubernetes-style path of an object. */
int hub_object_path(struct buf *b, const char *kind, const char *ns, const char *name);

#endif
