/* Outbound webhooks: the WebhookDelivery records are the durable outbox.
 *
 * A change that causes an event asks webhook_deliveries() for the
 * WebhookDelivery objects to create and writes them in the same store batch
 * as the change itself, so an event is recorded exactly when its change is.
 * A worker thread then sends each Pending delivery (libcurl, POST of the
 * payload as JSON, signed with HMAC-SHA256 over the body:
 * `X-Krate-Signature-256: sha256=<hex>`, plus `X-Krate-Event` and
 * `X-Krate-Delivery`), records status code, a response snippet and the
 * attempt count, and retries failures with exponential backoff until the
 * attempt limit, after which the delivery is Failed. Pending deliveries are
 * found again after a restart. Delivery is at least once: an outcome that
 * cannot be recorded leaves the delivery Pending, to be sent again.
 *
 * The signature is made when the delivery is created, over the body the
 * worker will send (spec.payload as compact JSON with sorted keys), and kept
 * in spec.signature ("unsigned" when the subscription has no secret: then no
 * signature header is sent). The worker never opens a secret. Deliveries
 * carry the label krate.a5c.ai/state (pending|delivered|failed) so the worker
 * finds Pending ones with a selector.
 *
 * Subscription secrets are sealed (core/seal.h) into spec.signing.sealedSecret
 * when a WebhookSubscription is written and opened only to sign.
 *
 * Ownership: struct webhook borrows the store and the seal, which must outlive it; JSON
 * returned through out-parameters belongs to the caller. */
#ifndef KRATE_WEBHOOK_H
#define KRATE_WEBHOOK_H

#include <stdint.h>
#include <jansson.h>
#include "core/err.h"
#include "store/store.h"

struct webhook;
struct seal;

struct webhook_options {
	struct store *store;        /* borrowed */
	const struct seal *seal;    /* borrowed (the server's, core/seal.h); must outlive the webhook layer */
	int max_attempts;           /* default 8 */
	int64_t backoff_ms;         /* first retry delay, doubled each attempt (default 1000) */
	long timeout_ms;            /* per request (default 10000) */
};

int webhook_create(const struct webhook_options *o, struct webhook **out, struct kerr *e);
/* Starts the delivery worker, which first tries every Pending delivery at
 * once (whatever its nextAttemptAt), then those that fall due. */
int webhook_start(struct webhook *w, struct kerr *e);
/* store_event_fn: wakes the worker when a Pending delivery is written. */
void webhook_on_event(const struct store_event *ev, void *w);
/* Stops the worker (before store_close) and frees w. */
void webhook_destroy(struct webhook *w);

/* The WebhookDelivery objects to create for event (see docs/forge.md) in
 * org: a JSON array (new ref, possibly empty) with one Pending delivery per
 * WebhookSubscription of the org that lists event or "*". payload (borrowed,
 * an object or NULL) is sent with "event", "org" and "createdAt" (RFC 3339)
 * added. The objects are complete but not yet admitted. */
int webhook_deliveries(struct webhook *w, const char *org, const char *event, json_t *payload, json_t **out,
		       struct kerr *e);
/* A new Pending delivery that repeats the stored delivery `original`
 * (borrowed) with spec.replayOf set to its name, signed with the
 * subscription's current secret. */
int webhook_redelivery(struct webhook *w, json_t *original, json_t **out, struct kerr *e);
/* Replaces spec.secret (a string) of a WebhookSubscription object (borrowed,
 * modified in place) by spec.signing {algorithm: "hmac-sha256", sealedSecret}.
 * Objects without spec.secret are left alone; KE_UNPROCESSABLE (a reason on
 * spec.secret) unless it is a string of 1 to 1024 bytes. */
int webhook_seal_subscription(struct webhook *w, json_t *obj, struct kerr *e);

#endif
