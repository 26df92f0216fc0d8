/* Shared by the webhook layer's files; not part of its public API. */
#ifndef KRATE_WEBHOOK_INTERNAL_H
#define KRATE_WEBHOOK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "core/seal.h"
#include "webhook/webhook.h"

#define WH_LABEL_SUBSCRIPTION "krate.a5c.ai/subscription"
#define WH_LABEL_EVENT "krate.a5c.ai/event"
/* pending | delivered | failed: lets the worker find Pending deliveries with a selector */
#define WH_LABEL_STATE "krate.a5c.ai/state"
/* spec.signature of a delivery whose subscription has no secret (the field is required) */
#define WH_UNSIGNED "unsigned"
#define WH_SNIPPET_MAX 1024
#define WH_SECRET_MAX 1024

struct webhook {
	struct store *store;          /* borrowed */
	const struct seal *seal;      /* borrowed */
	int max_attempts;
	int64_t backoff_ms;
	long timeout_ms;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t cond;          /* CLOCK_MONOTONIC */
	int kicked;                   /* under lock: a Pending delivery was written */
	atomic_int stopping;          /* also read by a transfer in progress */
};

/* send.c: the outcome of one POST. */
struct wh_result {
	long status;                  /* HTTP status, 0 when no response arrived */
	char snippet[WH_SNIPPET_MAX + 1]; /* the response body's start: valid UTF-8, no NUL */
	char error[256];              /* why the attempt failed ("" on a 2xx) */
	int interrupted;              /* stopped by shutdown: not an attempt */
};

struct wh_request {
	const char *url;
	const char *body;
	size_t len;
	const char *event, *delivery_id;
	const char *signature;        /* "sha256=<hex>" or NULL */
};

/* POSTs q->body to q->url (http or https only, no redirects). */
void wh_post(struct webhook *w, const struct wh_request *q, struct wh_result *out);
/* 1 if s may go into a request header: 1..256 visible ASCII characters. */
int wh_header_safe(const char *s);

/* deliveries.c: the body text sent for a delivery's spec.payload (malloc'd). */
char *wh_body(json_t *payload);

/* Milliseconds since the epoch; RFC 3339 with milliseconds in out (size >= 32). */
int64_t wh_now_ms(void);
void wh_time_ms(char out[32], int64_t ms);
/* Parses RFC 3339 UTC ("...Z", optional fraction) to ms; -1 if malformed. */
int64_t wh_parse_time_ms(const char *s);

/* worker.c */
void *wh_worker(void *arg);

#endif
