/* The delivery worker: finds due Pending deliveries, sends each, records the
 * outcome. Deliveries are sent at least once: an outcome that cannot be
 * recorded (a concurrent edit) leaves the delivery Pending to be sent again. */
#include "webhook/webhook_internal.h"
#include "core/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE 128
#define POLL_MS 1000
#define MAX_BACKOFF_MS (24LL * 3600 * 1000)

static const char *spec_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "spec"), key));
}

static int64_t backoff(const struct webhook *w, json_int_t attempts)
{
	int64_t d = w->backoff_ms;

	while (--attempts > 0 && d < MAX_BACKOFF_MS)
		d *= 2;
	return d < MAX_BACKOFF_MS ? d : MAX_BACKOFF_MS;
}

/* Writes the delivery's new status. A change of phase also moves the state
 * label, so the whole object is updated in one op (one event); a retry only
 * replaces the status. */
static void record(struct webhook *w, json_t *d, json_t *status, const char *state)
{
	json_t *md = json_object_get(d, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *rvs = json_string_value(json_object_get(md, "resourceVersion"));
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	char res[256];

	snprintf(res, sizeof(res), "WebhookDelivery/%s/%s", ns, name);
	op.kind = "WebhookDelivery";
	op.ns = ns;
	op.name = name;
	op.expect_rv = rvs ? strtoll(rvs, NULL, 10) : 0;
	if (strcmp(state, "pending")) {
		json_t *labels = json_object_get(md, "labels");

		op.type = STORE_OP_UPDATE;
		op.obj = d;
		if (!json_is_object(labels) && json_object_set_new(md, "labels", labels = json_object()))
			return;
		if (json_object_set_new(labels, WH_LABEL_STATE, json_string(state)) ||
		    json_object_set(d, "status", status))
			return;
	} else {
		op.type = STORE_OP_STATUS;
		op.obj = status;
	}
	b.ops = &op;
	b.n = 1;
	b.audit.actor = "system:webhooks";
	b.audit.org = ns && !strncmp(ns, "krate-org-", 10) ? ns + 10 : NULL;
	b.audit.verb = "status";
	b.audit.resource = res;
	b.audit.result = "allowed";
	b.audit.correlation_id = "";
	/* NOTFOUND: deleted meanwhile; CONFLICT: edited meanwhile, seen again on the next scan. */
	if (store_write(w->store, &b) && b.rc != KE_NOTFOUND && b.rc != KE_CONFLICT)
		log_warn("webhook: cannot record the outcome of %s: %s", res, b.err.message ? b.err.message : "");
	json_decref(op.result);
	kerr_clear(&b.err);
}

/* One attempt at delivery d (a stored object, modified). */
static void deliver(struct webhook *w, json_t *d)
{
	json_t *st = json_object_get(d, "status"), *status;
	json_int_t attempts = json_integer_value(json_object_get(st, "attempts")) + 1;
	const char *sig = spec_str(d, "signature");
	struct wh_request q = { spec_str(d, "url"), NULL, 0, spec_str(d, "eventType"), spec_str(d, "deliveryId"),
				NULL };
	struct wh_result *res = calloc(1, sizeof(*res));
	const char *state = "pending";
	char *body = NULL, when[32];
	int64_t now;
	int give_up = 0;

	if (!res)
		return;
	if (sig && !strncmp(sig, "sha256=", 7))
		q.signature = sig;
	body = json_is_object(json_object_get(json_object_get(d, "spec"), "payload"))
		       ? wh_body(json_object_get(json_object_get(d, "spec"), "payload"))
		       : NULL;
	if (!body || !q.url || !wh_header_safe(q.event) || !wh_header_safe(q.delivery_id) ||
	    (q.signature && !wh_header_safe(q.signature))) {
		/* Only an edited record gets here; sending it could never succeed. */
		snprintf(res->error, sizeof(res->error), "the delivery's spec is not sendable");
		give_up = 1;
	} else {
		q.body = body;
		q.len = strlen(body);
		wh_post(w, &q, res);
		if (res->interrupted)
			goto out;
	}
	now = wh_now_ms();
	status = json_pack("{s:s, s:I}", "phase", "Pending", "attempts", attempts);
	if (!status)
		goto out;
	if (res->status)
		json_object_set_new(status, "responseStatus", json_integer(res->status));
	if (res->status && *res->snippet)
		json_object_set_new(status, "responseSnippet", json_string(res->snippet));
	wh_time_ms(when, now);
	json_object_set_new(status, "lastAttemptAt", json_string(when));
	if (!*res->error) {
		state = "delivered";
		json_object_set_new(status, "phase", json_string("Delivered"));
		json_object_set_new(status, "deliveredAt", json_string(when));
	} else {
		json_object_set_new(status, "lastError", json_string(res->error));
		if (give_up || attempts >= w->max_attempts) {
			state = "failed";
			json_object_set_new(status, "phase", json_string("Failed"));
		} else {
			wh_time_ms(when, now + backoff(w, attempts));
			json_object_set_new(status, "nextAttemptAt", json_string(when));
		}
	}
	record(w, d, status, state);
	json_decref(status);
out:
	free(body);
	free(res);
}

/* Sends every due Pending delivery (with all, every Pending one); returns
 * the ms until the next one is due (at most POLL_MS). */
static int64_t run_due(struct webhook *w, int all)
{
	struct store_list_query q = { .kind = "WebhookDelivery", .selector = WH_LABEL_STATE "=pending", .limit = PAGE };
	struct store_list_result res = { 0 };
	struct kerr e = KERR_INIT;
	int64_t wait = POLL_MS;
	char *cont = NULL;
	size_t i;

	do {
		q.cont = cont;
		if (store_list(w->store, &q, &res, &e)) {
			log_warn("webhook: cannot list pending deliveries: %s", e.message ? e.message : "");
			kerr_clear(&e);
			break;
		}
		for (i = 0; i < res.n && !atomic_load(&w->stopping); i++) {
			json_t *d = json_loadb(res.items[i], res.lens[i], 0, NULL);
			const char *next = json_string_value(json_object_get(json_object_get(d, "status"), "nextAttemptAt"));
			int64_t due = next ? wh_parse_time_ms(next) : 0, now = wh_now_ms();

			if (d && due > now && !all) {
				if (due - now < wait)
					wait = due - now;
			} else if (d) {
				deliver(w, d);
			}
			json_decref(d);
		}
		free(cont);
		cont = res.cont;
		res.cont = NULL;
		store_list_result_free(&res);
	} while (cont && !atomic_load(&w->stopping));
	free(cont);
	return wait;
}

void *wh_worker(void *arg)
{
	struct webhook *w = arg;
	struct timespec ts;
	int64_t wait;
	int first = 1;

	pthread_mutex_lock(&w->lock);
	while (!atomic_load(&w->stopping)) {
		w->kicked = 0;
		pthread_mutex_unlock(&w->lock);
		/* After a start every Pending delivery is tried once at once: the
		 * receiver may have come back while the server was down. */
		wait = run_due(w, first);
		first = 0;
		pthread_mutex_lock(&w->lock);
		if (w->kicked || atomic_load(&w->stopping))
			continue;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += wait / 1000;
		ts.tv_nsec += (long)(wait % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}
