/* Building WebhookDelivery records (the outbox) and sealing subscription secrets. */
#include "webhook/webhook_internal.h"
#include "core/log.h"
#include "core/util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PREFIX "krate-org-"
/* A delivery is named <subscription>-<12 hex>; names are DNS labels (63). */
#define NAME_PREFIX_MAX 50

static const char *spec_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "spec"), key));
}

static const char *meta_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

char *wh_body(json_t *payload)
{
	/* Sorted keys: the same payload gives the same bytes after a store round trip,
	 * so the signature made now matches the body the worker sends later. */
	return json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
}

static int subscribed(json_t *sub, const char *event)
{
	json_t *events = json_object_get(json_object_get(sub, "spec"), "events"), *v;
	size_t i;

	json_array_foreach(events, i, v) {
		const char *s = json_string_value(v);

		if (s && (!strcmp(s, event) || !strcmp(s, "*")))
			return 1;
	}
	return 0;
}

/* "sha256=<hex HMAC-SHA256(secret, body)>" into out, with the secret opened
 * from sealed only for this. 0, or -1 when it cannot be opened. */
static int sign(struct webhook *w, const char *sealed, const char *body, char out[8 + 64 + 1])
{
	unsigned char *secret = NULL, mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	struct kerr e = KERR_INIT;
	size_t n;
	int rc;

	rc = seal_open(w->seal, sealed, &secret, &n, &e);
	kerr_clear(&e);
	if (rc)
		return -1;
	rc = HMAC(EVP_sha256(), secret, (int)n, (const unsigned char *)body, strlen(body), mac, &maclen) &&
	     maclen == 32 ? 0 : -1;
	sodium_memzero(secret, n);
	free(secret);
	if (rc)
		return -1;
	memcpy(out, "sha256=", 7);
	util_hex(out + 7, mac, maclen);
	return 0;
}

/* "<subscription>-<12 hex>", the subscription's name cut to keep a DNS label. */
static int delivery_name(const char *sub, char *out, size_t size)
{
	unsigned char rnd[6];
	char hex[13];
	int len = (int)strnlen(sub, NAME_PREFIX_MAX);

	while (len > 0 && sub[len - 1] == '-')
		len--;
	if (util_random_bytes(rnd, sizeof(rnd)))
		return -1;
	util_hex(hex, rnd, sizeof(rnd));
	return snprintf(out, size, "%.*s-%s", len, sub, hex) >= (int)size ? -1 : 0;
}

/* One Pending delivery of body_obj (whose text is body) for subscription sub
 * (borrowed). A sealed secret that cannot be opened makes it Failed at once
 * rather than sent unsigned. NULL when out of memory. */
static json_t *build(struct webhook *w, json_t *sub, const char *ns, const char *event, json_t *body_obj,
		     const char *body, const char *replay_of)
{
	json_t *signing = json_object_get(json_object_get(sub, "spec"), "signing");
	const char *sealed = json_string_value(json_object_get(signing, "sealedSecret"));
	const char *sub_name = meta_str(sub, "name"), *url = spec_str(sub, "url");
	char name[64], sig[8 + 64 + 1], uuid[37];
	json_t *d, *spec;
	int failed = 0;

	if (!sub_name || delivery_name(sub_name, name, sizeof(name)) || util_uuid(uuid))
		return NULL;
	snprintf(sig, sizeof(sig), "%s", WH_UNSIGNED);
	if (sealed && sign(w, sealed, body, sig)) {
		log_warn("webhook: the secret of subscription %s/%s cannot be opened", ns, sub_name);
		failed = 1;
	}
	spec = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:s}", "organizationRef", ns + strlen(NS_PREFIX),
			 "subscription", sub_name, "eventType", event, "url", url ? url : "", "payload", body_obj,
			 "signature", sig, "deliveryId", uuid);
	if (spec && replay_of && json_object_set_new(spec, "replayOf", json_string(replay_of))) {
		json_decref(spec);
		return NULL;
	}
	d = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s, s:s}}, s:o, s:{s:s, s:i}}", "apiVersion",
		      "krate.a5c.ai/v1alpha1", "kind", "WebhookDelivery", "metadata", "name", name, "namespace", ns,
		      "labels", WH_LABEL_SUBSCRIPTION, sub_name, WH_LABEL_EVENT, event, WH_LABEL_STATE,
		      failed ? "failed" : "pending", "spec", spec, "status", "phase", failed ? "Failed" : "Pending",
		      "attempts", 0);
	if (d && failed &&
	    json_object_set_new(json_object_get(d, "status"), "lastError",
				json_string("the subscription's sealed secret cannot be opened with this server's key"))) {
		json_decref(d);
		return NULL;
	}
	return d;
}

/* Label values (the selector's alphabet): letters, digits, '.', '_', '-'. */
static int event_ok(const char *event)
{
	size_t n = event ? strlen(event) : 0;

	return n && n <= 63 && strspn(event, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int webhook_deliveries(struct webhook *w, const char *org, const char *event, json_t *payload, json_t **out,
		       struct kerr *e)
{
	struct store_list_query q = { .kind = "WebhookSubscription" };
	struct store_list_result res = { 0 };
	json_t *arr = NULL, *body_obj = NULL;
	char ns[96], now[32], *body = NULL;
	size_t i;
	int rc;

	*out = NULL;
	if (!util_dns_label(org) || !event_ok(event))
		return kerr_set(e, KE_INVALID, NULL, "webhook events need an org and an event name");
	if (payload && !json_is_object(payload))
		return kerr_set(e, KE_INVALID, NULL, "a webhook payload must be an object");
	snprintf(ns, sizeof(ns), NS_PREFIX "%s", org);
	q.ns = ns;
	rc = store_list(w->store, &q, &res, e);
	if (rc)
		return rc;
	util_time_rfc3339(now, util_now_seconds());
	arr = json_array();
	body_obj = payload ? json_deep_copy(payload) : json_object();
	if (!arr || !body_obj || json_object_set_new(body_obj, "event", json_string(event)) ||
	    json_object_set_new(body_obj, "org", json_string(org)) ||
	    json_object_set_new(body_obj, "createdAt", json_string(now)) || !(body = wh_body(body_obj))) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < res.n; i++) {
		json_t *sub = json_loadb(res.items[i], res.lens[i], 0, NULL), *d;

		if (!sub || !subscribed(sub, event)) {
			json_decref(sub);
			continue;
		}
		d = build(w, sub, ns, event, body_obj, body, NULL);
		json_decref(sub);
		if (!d || json_array_append_new(arr, d)) {
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
			goto out;
		}
	}
	*out = arr;
	arr = NULL;
out:
	store_list_result_free(&res);
	json_decref(arr);
	json_decref(body_obj);
	free(body);
	return rc;
}

int webhook_redelivery(struct webhook *w, json_t *original, json_t **out, struct kerr *e)
{
	const char *ns = meta_str(original, "namespace"), *name = meta_str(original, "name");
	const char *sub_name = spec_str(original, "subscription"), *event = spec_str(original, "eventType");
	json_t *payload = json_object_get(json_object_get(original, "spec"), "payload"), *sub = NULL;
	char *json = NULL, *body = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if (!ns || strncmp(ns, NS_PREFIX, strlen(NS_PREFIX)) || !name || !sub_name || !event_ok(event) ||
	    !json_is_object(payload))
		return kerr_set(e, KE_UNPROCESSABLE, NULL, "the delivery lacks what a redelivery repeats");
	rc = store_get(w->store, "WebhookSubscription", ns, sub_name, &json, &len, e);
	if (rc == KE_NOTFOUND) {
		kerr_clear(e);
		return kerr_set(e, KE_UNPROCESSABLE, NULL, "subscription '%s' no longer exists", sub_name);
	}
	if (rc)
		return rc;
	sub = json_loadb(json, len, 0, NULL);
	body = wh_body(payload);
	if (!sub || !body || !(*out = build(w, sub, ns, event, payload, body, name)))
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
	json_decref(sub);
	free(json);
	free(body);
	return rc;
}

int webhook_seal_subscription(struct webhook *w, json_t *obj, struct kerr *e)
{
	json_t *spec = json_object_get(obj, "spec"), *secret = json_object_get(spec, "secret"), *signing;
	const char *s = json_string_value(secret);
	size_t n = json_string_length(secret);
	char *sealed = NULL;
	int rc;

	if (!secret)
		return 0;
	if (!s || !n || n > WH_SECRET_MAX || strlen(s) != n) {
		kerr_add_reason(e, "InvalidValue", "spec.secret", "spec.secret must be a string of 1 to %d bytes",
				WH_SECRET_MAX);
		return kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "WebhookSubscription is invalid: spec.secret");
	}
	rc = seal_seal(w->seal, s, n, &sealed, e);
	if (rc)
		return rc;
	signing = json_pack("{s:s, s:s}", "algorithm", "hmac-sha256", "sealedSecret", sealed);
	free(sealed);
	if (!signing || json_object_set_new(spec, "signing", signing))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	json_object_del(spec, "secret");
	return 0;
}
