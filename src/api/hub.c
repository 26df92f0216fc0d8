#include "api/hub.h"
#include "api/redact.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "model/kinds.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A watcher's pending output may grow this large while catching up from the
 * event log; past it the client is told to relist. */
#define WATCH_OUT_MAX (16u * 1024u * 1024u)
/* Stop filling from the ring at this size so one busy watch cannot hog a thread. */
#define WATCH_OUT_CHUNK (256u * 1024u)

struct frame {
	int64_t rv;
	char *kind, *ns, *name;
	char *data;
	size_t len;
};

struct watcher {
	struct hub *hub;
	char *ns, *kind, *name;
	int64_t cursor;
	struct buf out;
	size_t off;
	int ended;
	atomic_int heartbeat;
	unsigned long woken_round; /* notifier round that last woke it (list_lock) */
	struct http_stream *st;
	const struct hub_feed_ops *feed;  /* a feed (hub_feed), else NULL */
	void *feed_arg;
	struct watcher *prev, *next;
};

struct hub {
	struct store *store;
	pthread_rwlock_t ring_lock;
	struct frame *ring;
	size_t cap, start, count;
	int64_t last_rv;

	pthread_mutex_t list_lock;
	struct watcher *watchers;
	size_t nwatch, max_watches;
	atomic_int stopping;

	pthread_t hb_thread;
	int hb_started;

	/* Waking watchers is the notifier thread's job, so the store's writer
	 * (and the clients waiting for its commits) never waits for fan-out. */
	pthread_t nt_thread;
	int nt_started, nt_stop, nt_pending;
	pthread_mutex_t nt_lock;
	pthread_cond_t nt_cond;
	int64_t notified_rv;
	unsigned long round;
	pthread_mutex_t hb_lock;
	pthread_cond_t hb_cond;
	int hb_stop, hb_seconds;
};

int hub_object_path(struct buf *b, const char *kind, const char *ns, const char *name)
{
	const struct kind_def *kd = kinds_lookup(kind);

	return buf_printf(b, "/apis/%s/%s/namespaces/%s/%s/%s", KRATE_GROUP, KRATE_VERSION, ns,
			  kd ? kd->plural : kind, name);
}

static int format_frame(struct buf *b, int64_t rv, const char *type, const char *kind, const char *ns,
			const char *name, const char *json, size_t len)
{
	char *shown = NULL;
	size_t shown_len;
	/* Sealed values never go out, so a frame that cannot be redacted is not sent. */
	int red = api_redact_text(json, len, &shown, &shown_len);
	int rc = red < 0 ? red : buf_printf(b, "event: krate\nid: %lld\ndata: {\"type\":\"%s\",\"path\":\"",
					     (long long)rv, type);

	if (!rc)
		rc = hub_object_path(b, kind, ns, name);
	if (!rc)
		rc = buf_addstr(b, "\",\"object\":");
	if (!rc)
		rc = red ? buf_add(b, shown, shown_len) : buf_add(b, json, len);
	if (!rc)
		rc = buf_addstr(b, "}\n\n");
	free(shown);
	return rc;
}

static int watcher_matches(const struct watcher *w, const char *kind, const char *ns, const char *name)
{
	if (strcmp(w->ns, ns))
		return 0;
	if (w->feed)
		return w->feed->match(w->feed_arg, kind, name);
	if (w->kind && strcmp(w->kind, kind))
		return 0;
	if (w->name && strcmp(w->name, name))
		return 0;
	return 1;
}

static void frame_free(struct frame *f)
{
	free(f->kind);
	free(f->ns);
	free(f->name);
	free(f->data);
	memset(f, 0, sizeof(*f));
}

void hub_publish(const struct store_event *ev, void *arg)
{
	struct hub *h = arg;
	struct buf b = BUF_INIT(WATCH_OUT_MAX);
	struct frame f = { 0 };

	if (format_frame(&b, ev->rv, ev->type, ev->kind, ev->ns, ev->name, ev->json, ev->len))
		goto fail;
	f.rv = ev->rv;
	f.kind = strdup(ev->kind);
	f.ns = strdup(ev->ns);
	f.name = strdup(ev->name);
	if (!f.kind || !f.ns || !f.name)
		goto fail;
	f.data = buf_detach(&b, &f.len);

	pthread_rwlock_wrlock(&h->ring_lock);
	if (h->count == h->cap) {
		frame_free(&h->ring[h->start]);
		h->start = (h->start + 1) % h->cap;
		h->count--;
	}
	h->ring[(h->start + h->count) % h->cap] = f;
	h->count++;
	h->last_rv = ev->rv;
	pthread_rwlock_unlock(&h->ring_lock);

	pthread_mutex_lock(&h->nt_lock);
	h->nt_pending = 1;
	pthread_cond_signal(&h->nt_cond);
	pthread_mutex_unlock(&h->nt_lock);
	return;
fail:
	/* Watches that miss this frame replay it from the event log. */
	log_warn("watch hub: could not buffer event %lld", (long long)ev->rv);
	buf_free(&b);
	frame_free(&f);
}

/* Index (0..count) of the first ring frame with rv > cursor. Caller holds ring_lock. */
static size_t ring_seek(const struct hub *h, int64_t cursor)
{
	size_t lo = 0, hi = h->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->ring[(h->start + mid) % h->cap].rv <= cursor)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void watcher_error(struct watcher *w, const char *code, const char *message)
{
	buf_printf(&w->out, "event: error\ndata: {\"error\":{\"code\":\"%s\",\"message\":", code);
	buf_add_json_string(&w->out, message);
	buf_addstr(&w->out, "}}\n\n");
	w->ended = 1;
}

struct replay_ctx {
	struct watcher *w;
	int64_t until;     /* stop once the ring covers the rest */
	int full;
};

static int replay_one(const struct store_event *ev, void *arg)
{
	struct replay_ctx *c = arg;
	struct watcher *w = c->w;

	if (ev->rv > c->until)
		return 1;
	if (watcher_matches(w, ev->kind, ev->ns, ev->name) &&
	    format_frame(&w->out, ev->rv, ev->type, ev->kind, ev->ns, ev->name, ev->json, ev->len)) {
		c->full = 1;
		return 1;
	}
	w->cursor = ev->rv;
	return 0;
}

/* Moves frames after the cursor into the watcher's output: from the ring when
 * it still holds them, else from the store's event log. */
static void watcher_catch_up(struct watcher *w)
{
	struct hub *h = w->hub;
	struct kerr e = KERR_INIT;

	for (;;) {
		int64_t first;
		size_t i;

		pthread_rwlock_rdlock(&h->ring_lock);
		first = h->count ? h->ring[h->start].rv : h->last_rv + 1;
		if (w->cursor >= first - 1) {
			for (i = ring_seek(h, w->cursor); i < h->count && w->out.len < WATCH_OUT_CHUNK; i++) {
				const struct frame *f = &h->ring[(h->start + i) % h->cap];

				if (watcher_matches(w, f->kind, f->ns, f->name) && buf_add(&w->out, f->data, f->len))
					break;
				w->cursor = f->rv;
			}
			pthread_rwlock_unlock(&h->ring_lock);
			return;
		}
		pthread_rwlock_unlock(&h->ring_lock);

		{
			struct replay_ctx c = { w, first - 1, 0 };
			int64_t before = w->cursor;
			int rc = store_events_since(h->store, w->cursor, replay_one, &c, &e);

			if (rc == KE_GONE) {
				watcher_error(w, "EXPIRED", e.message ? e.message : "resourceVersion too old");
				break;
			}
			if (rc || c.full) {
				watcher_error(w, c.full ? "EXPIRED" : "INTERNAL",
					      c.full ? "too many changes to replay; list again and watch from the list's resourceVersion"
						     : "cannot read the event log");
				break;
			}
			if (w->cursor == before) {
				/* the log holds nothing newer: continue from the ring's start */
				w->cursor = first - 1;
			}
		}
	}
	kerr_clear(&e);
}

static long watcher_read(void *arg, char *out, size_t max)
{
	struct watcher *w = arg;
	size_t n;

	if (atomic_load(&w->hub->stopping))
		return -1;
	if (w->off >= w->out.len) {
		buf_reset(&w->out);
		w->off = 0;
		if (w->ended)
			return -1;
		if (!w->feed)
			watcher_catch_up(w);
		else if (w->feed->fill(w->feed_arg, &w->out))
			w->ended = 1;
		if (w->out.len == 0 && w->ended)
			return -1;
		if (w->out.len == 0 && atomic_exchange(&w->heartbeat, 0))
			buf_addstr(&w->out, ": ping\n\n");
		if (w->out.len == 0)
			return 0;
	}
	n = w->out.len - w->off;
	if (n > max)
		n = max;
	memcpy(out, w->out.data + w->off, n);
	w->off += n;
	return (long)n;
}

static void watcher_free(struct watcher *w)
{
	if (w->feed)
		w->feed->release(w->feed_arg);
	buf_free(&w->out);
	free(w->ns);
	free(w->kind);
	free(w->name);
	free(w);
}

static void watcher_release(void *arg)
{
	struct watcher *w = arg;
	struct hub *h = w->hub;

	pthread_mutex_lock(&h->list_lock);
	if (w->prev)
		w->prev->next = w->next;
	else if (h->watchers == w)
		h->watchers = w->next;
	if (w->next)
		w->next->prev = w->prev;
	h->nwatch--;
	pthread_mutex_unlock(&h->list_lock);
	watcher_free(w);
}

static const struct http_stream_ops watcher_ops = { watcher_read, watcher_release };

static int snapshot(struct hub *h, struct watcher *w, struct kerr *e)
{
	struct store_list_query q = { w->kind, w->ns, NULL, 0, NULL };
	struct store_list_result res = { 0 };
	size_t i;
	int rc = store_list(h->store, &q, &res, e);

	if (rc)
		return rc;
	for (i = 0; i < res.n && !rc; i++) {
		json_t *obj = json_loadb(res.items[i], res.lens[i], 0, NULL);
		const char *kind = json_string_value(json_object_get(obj, "kind"));
		json_t *md = json_object_get(obj, "metadata");
		const char *name = json_string_value(json_object_get(md, "name"));
		const char *rvs = json_string_value(json_object_get(md, "resourceVersion"));

		if (kind && name && (!w->name || !strcmp(w->name, name)))
			rc = format_frame(&w->out, rvs ? strtoll(rvs, NULL, 10) : res.rv, "ADDED", kind, w->ns,
					  name, res.items[i], res.lens[i]);
		json_decref(obj);
	}
	if (rc)
		kerr_set(e, rc, "EXPIRED", "too many objects to send; list with paging and watch from the list's resourceVersion");
	w->cursor = res.rv;
	store_list_result_free(&res);
	return rc;
}

/* 0 when one more stream may open, else KE_UNAVAILABLE or KE_RATELIMIT. */
static int watcher_admit(struct hub *h, struct kerr *e)
{
	int full;

	if (atomic_load(&h->stopping))
		return kerr_set(e, KE_UNAVAILABLE, NULL, "server is shutting down");
	pthread_mutex_lock(&h->list_lock);
	full = h->nwatch >= h->max_watches;
	pthread_mutex_unlock(&h->list_lock);
	if (full)
		return kerr_set(e, KE_RATELIMIT, NULL, "too many open watches (limit %zu)", h->max_watches);
	return 0;
}

/* Starts w's response and links it; HTTP_STREAM, or a KE_* code (w still the caller's). */
static int watcher_start(struct hub *h, struct http_req *r, struct watcher *w)
{
	int rc = http_stream_start(r, "text/event-stream", &watcher_ops, w, &w->st);

	if (rc != HTTP_STREAM)
		return rc;
	pthread_mutex_lock(&h->list_lock);
	w->next = h->watchers;
	if (h->watchers)
		h->watchers->prev = w;
	h->watchers = w;
	h->nwatch++;
	pthread_mutex_unlock(&h->list_lock);
	return HTTP_STREAM;
}

int hub_watch(struct hub *h, struct http_req *r, const struct hub_watch_spec *spec, struct kerr *e)
{
	struct watcher *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	w->hub = h;
	buf_init(&w->out, WATCH_OUT_MAX);
	w->ns = strdup(spec->ns);
	w->kind = spec->kind ? strdup(spec->kind) : NULL;
	w->name = spec->name ? strdup(spec->name) : NULL;
	if (!w->ns || (spec->kind && !w->kind) || (spec->name && !w->name)) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto fail;
	}
	if ((rc = watcher_admit(h, e)))
		goto fail;
	/* An opening comment makes the client see the stream as open at once. */
	buf_addstr(&w->out, ": watching\n\n");
	if (spec->have_rv) {
		w->cursor = spec->rv;
	} else if ((rc = snapshot(h, w, e))) {
		goto fail;
	}
	if ((rc = watcher_start(h, r, w)) == HTTP_STREAM)
		return rc;
fail:
	if (rc == KE_NOMEM && !e->kcode)
		kerr_set(e, rc, NULL, "out of memory");
	watcher_free(w);
	return rc;
}

int hub_feed(struct hub *h, struct http_req *r, const char *ns, const struct hub_feed_ops *ops, void *arg,
	     struct kerr *e)
{
	struct watcher *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	w->hub = h;
	buf_init(&w->out, WATCH_OUT_MAX);
	w->ns = strdup(ns);
	if (!w->ns) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto fail;
	}
	if ((rc = watcher_admit(h, e)))
		goto fail;
	buf_addstr(&w->out, ": watching\n\n");
	/* Set before the stream starts, since read() may run at once; if it
	 * cannot start, arg goes back to the caller. */
	w->feed = ops;
	w->feed_arg = arg;
	if ((rc = watcher_start(h, r, w)) == HTTP_STREAM)
		return rc;
	w->feed = NULL;
	if (rc == KE_NOMEM && !e->kcode)
		kerr_set(e, rc, NULL, "out of memory");
fail:
	watcher_free(w);
	return rc;
}

/* Wakes each watcher matching a frame published since the last round, once. */
static void notify_round(struct hub *h)
{
	struct watcher *w;
	size_t i;
	int64_t first;

	h->round++;
	pthread_mutex_lock(&h->list_lock);
	pthread_rwlock_rdlock(&h->ring_lock);
	first = h->count ? h->ring[h->start].rv : h->last_rv + 1;
	if (h->notified_rv < first - 1) {
		/* frames were evicted before we saw them: wake everyone */
		for (w = h->watchers; w; w = w->next)
			http_stream_wake(w->st);
	} else {
		for (i = ring_seek(h, h->notified_rv); i < h->count; i++) {
			const struct frame *f = &h->ring[(h->start + i) % h->cap];

			for (w = h->watchers; w; w = w->next) {
				if (w->woken_round != h->round && watcher_matches(w, f->kind, f->ns, f->name)) {
					w->woken_round = h->round;
					http_stream_wake(w->st);
				}
			}
		}
	}
	h->notified_rv = h->last_rv;
	pthread_rwlock_unlock(&h->ring_lock);
	pthread_mutex_unlock(&h->list_lock);
}

static void *notifier_main(void *arg)
{
	struct hub *h = arg;

	pthread_mutex_lock(&h->nt_lock);
	while (!h->nt_stop) {
		if (!h->nt_pending) {
			pthread_cond_wait(&h->nt_cond, &h->nt_lock);
			continue;
		}
		h->nt_pending = 0;
		pthread_mutex_unlock(&h->nt_lock);
		notify_round(h);
		pthread_mutex_lock(&h->nt_lock);
	}
	pthread_mutex_unlock(&h->nt_lock);
	return NULL;
}

static void *heartbeat_main(void *arg)
{
	struct hub *h = arg;
	struct timespec ts;
	struct watcher *w;

	pthread_mutex_lock(&h->hb_lock);
	while (!h->hb_stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += h->hb_seconds;
		if (pthread_cond_timedwait(&h->hb_cond, &h->hb_lock, &ts) != ETIMEDOUT)
			continue;
		/* Waking idle streams also lets the server notice clients that left. */
		pthread_mutex_lock(&h->list_lock);
		for (w = h->watchers; w; w = w->next) {
			atomic_store(&w->heartbeat, 1);
			http_stream_wake(w->st);
		}
		pthread_mutex_unlock(&h->list_lock);
	}
	pthread_mutex_unlock(&h->hb_lock);
	return NULL;
}

int hub_create(const struct hub_options *o, struct hub **out, struct kerr *e)
{
	struct hub *h = calloc(1, sizeof(*h));

	if (!h)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	h->store = o->store;
	h->cap = o->ring_size ? o->ring_size : 4096;
	h->hb_seconds = o->heartbeat_seconds > 0 ? o->heartbeat_seconds : 15;
	h->max_watches = o->max_watches ? o->max_watches : 20000;
	h->ring = calloc(h->cap, sizeof(*h->ring));
	if (!h->ring) {
		free(h);
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	h->last_rv = store_current_rv(o->store);
	h->notified_rv = h->last_rv;
	pthread_rwlock_init(&h->ring_lock, NULL);
	pthread_mutex_init(&h->list_lock, NULL);
	pthread_mutex_init(&h->hb_lock, NULL);
	pthread_cond_init(&h->hb_cond, NULL);
	pthread_mutex_init(&h->nt_lock, NULL);
	pthread_cond_init(&h->nt_cond, NULL);
	if (pthread_create(&h->nt_thread, NULL, notifier_main, h)) {
		hub_destroy(h);
		return kerr_set(e, KE_INTERNAL, NULL, "cannot start the watch notifier thread");
	}
	h->nt_started = 1;
	if (pthread_create(&h->hb_thread, NULL, heartbeat_main, h)) {
		hub_destroy(h);
		return kerr_set(e, KE_INTERNAL, NULL, "cannot start the heartbeat thread");
	}
	h->hb_started = 1;
	*out = h;
	return 0;
}

void hub_shutdown(struct hub *h)
{
	struct watcher *w;

	atomic_store(&h->stopping, 1);
	pthread_mutex_lock(&h->list_lock);
	for (w = h->watchers; w; w = w->next)
		http_stream_wake(w->st);
	pthread_mutex_unlock(&h->list_lock);
}

size_t hub_open_watches(struct hub *h)
{
	size_t n;

	pthread_mutex_lock(&h->list_lock);
	n = h->nwatch;
	pthread_mutex_unlock(&h->list_lock);
	return n;
}

void hub_destroy(struct hub *h)
{
	size_t i;

	if (!h)
		return;
	if (h->hb_started) {
		pthread_mutex_lock(&h->hb_lock);
		h->hb_stop = 1;
		pthread_cond_signal(&h->hb_cond);
		pthread_mutex_unlock(&h->hb_lock);
		pthread_join(h->hb_thread, NULL);
	}
	if (h->nt_started) {
		pthread_mutex_lock(&h->nt_lock);
		h->nt_stop = 1;
		pthread_cond_signal(&h->nt_cond);
		pthread_mutex_unlock(&h->nt_lock);
		pthread_join(h->nt_thread, NULL);
	}
	for (i = 0; i < h->count; i++)
		frame_free(&h->ring[(h->start + i) % h->cap]);
	free(h->ring);
	pthread_rwlock_destroy(&h->ring_lock);
	pthread_mutex_destroy(&h->list_lock);
	pthread_mutex_destroy(&h->hb_lock);
	pthread_cond_destroy(&h->hb_cond);
	pthread_mutex_destroy(&h->nt_lock);
	pthread_cond_destroy(&h->nt_cond);
	free(h);
}
