/* The webhook layer's lifecycle, its store event hook and time helpers. */
#include "webhook/webhook_internal.h"
#include "core/log.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int webhook_create(const struct webhook_options *o, struct webhook **out, struct kerr *e)
{
	struct webhook *w;
	pthread_condattr_t ca;

	*out = NULL;
	if (!o->store || !o->seal)
		return kerr_set(e, KE_INVALID, NULL, "webhooks need a store and a seal");
	w = calloc(1, sizeof(*w));
	if (!w)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	w->store = o->store;
	w->max_attempts = o->max_attempts > 0 ? o->max_attempts : 8;
	w->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : 1000;
	w->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	w->seal = o->seal;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(w);
		return kerr_set(e, KE_INTERNAL, NULL, "libcurl cannot be initialised");
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&w->stopping, 0);
	*out = w;
	return 0;
}

int webhook_start(struct webhook *w, struct kerr *e)
{
	if (w->started)
		return 0;
	if (pthread_create(&w->thread, NULL, wh_worker, w))
		return kerr_set(e, KE_INTERNAL, NULL, "cannot start the webhook worker");
	w->started = 1;
	return 0;
}

void webhook_on_event(const struct store_event *ev, void *arg)
{
	struct webhook *w = arg;

	/* The writer thread calls this: a substring test, no parsing. Deliveries
	 * are stored compact, so the label reads exactly like this. */
	if (!w || strcmp(ev->kind, "WebhookDelivery") || !strcmp(ev->type, "DELETED") || !ev->json ||
	    !strstr(ev->json, "\"" WH_LABEL_STATE "\":\"pending\""))
		return;
	pthread_mutex_lock(&w->lock);
	w->kicked = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void webhook_destroy(struct webhook *w)
{
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		atomic_store(&w->stopping, 1);
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	curl_global_cleanup();
	free(w);
}

int64_t wh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wh_time_ms(char out[32], int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	if (!gmtime_r(&t, &tm)) {
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

int64_t wh_parse_time_ms(const char *s)
{
	struct tm tm = { 0 };
	int64_t ms = 0, scale = 100;
	const char *p;
	time_t t;

	if (!s)
		return -1;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (strcmp(p, "Z"))
		return -1;
	t = timegm(&tm);
	return t < 0 ? -1 : (int64_t)t * 1000 + ms;
}
