/* Webhook deliveries as records: sealing a subscription's secret, one
 * delivery per matching subscription signed over the body that will be sent,
 * names that stay DNS labels, redelivery, and the time format of the worker. */
#include "store_fixture.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/seal.h"
#include "core/util.h"
#include "webhook/webhook.h"
#include "webhook/webhook_internal.h"

#define NS "krate-org-acme"

struct fx {
	struct store_fx *s;
	struct seal *seal;
	struct webhook *w;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct webhook_options o = { 0 };
	struct kerr e = KERR_INIT;
	void *st = NULL;

	if (!f || store_fx_setup(&st, "webhook", NULL))
		return -1;
	f->s = st;
	o.store = f->s->s;
	if (seal_load(f->s->dir, &f->seal, &e)) {
		fprintf(stderr, "seal_load: %s\n", e.message);
		kerr_clear(&e);
		return -1;
	}
	o.seal = f->seal;
	if (webhook_create(&o, &f->w, &e)) {
		fprintf(stderr, "webhook_create: %s\n", e.message);
		kerr_clear(&e);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[160];
	void *st = f->s;

	webhook_destroy(f->w);
	seal_free(f->seal);
	snprintf(path, sizeof(path), "%s/%s", f->s->dir, SEAL_KEY_FILE);
	unlink(path);
	store_fx_teardown(&st);
	free(f);
	return 0;
}

/* Stores a subscription (sealing secret when given). */
static void subscribe(struct fx *f, const char *ns, const char *name, const char *events, const char *secret)
{
	struct kerr e = KERR_INIT;
	json_t *obj;
	char *text;

	obj = json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:o}}", "kind", "WebhookSubscription", "metadata", "name", name,
			"namespace", ns, "spec", "url", "http://127.0.0.1:9/hook", "events",
			json_loads(events, 0, NULL));
	assert_non_null(obj);
	if (secret)
		json_object_set_new(json_object_get(obj, "spec"), "secret", json_string(secret));
	assert_int_equal(webhook_seal_subscription(f->w, obj, &e), 0);
	text = json_dumps(obj, 0);
	must_write(f->s->s, STORE_OP_CREATE, "WebhookSubscription", ns, name, text, NULL);
	free(text);
	json_decref(obj);
}

static const char *str_at(json_t *obj, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(obj, a), b));
}

static void hmac_hex(const char *secret, const char *body, char out[80])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, strlen(body), mac,
			     &n));
	strcpy(out, "sha256=");
	util_hex(out + 7, mac, n);
}

/* The delivery in arr for subscription sub, or NULL. */
static json_t *for_sub(json_t *arr, const char *sub)
{
	json_t *d;
	size_t i;

	json_array_foreach(arr, i, d) {
		if (!strcmp(str_at(d, "spec", "subscription"), sub))
			return d;
	}
	return NULL;
}

static void test_seal_subscription(void **state)
{
	struct fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *obj = json_pack("{s:{s:s, s:s}}", "spec", "url", "http://x/", "secret", "hush-hush");
	char *text;

	assert_int_equal(webhook_seal_subscription(f->w, obj, &e), 0);
	assert_null(json_object_get(json_object_get(obj, "spec"), "secret"));
	assert_string_equal(str_at(json_object_get(obj, "spec"), "signing", "algorithm"), "hmac-sha256");
	assert_non_null(str_at(json_object_get(obj, "spec"), "signing", "sealedSecret"));
	text = json_dumps(obj, 0);
	assert_null(strstr(text, "hush-hush"));
	free(text);
	json_decref(obj);

	/* without a secret nothing changes */
	obj = json_pack("{s:{s:s}}", "spec", "url", "http://x/");
	assert_int_equal(webhook_seal_subscription(f->w, obj, &e), 0);
	assert_null(json_object_get(json_object_get(obj, "spec"), "signing"));
	json_decref(obj);

	/* not a string, or empty: refused with a reason */
	obj = json_pack("{s:{s:s, s:i}}", "spec", "url", "http://x/", "secret", 42);
	assert_int_equal(webhook_seal_subscription(f->w, obj, &e), KE_UNPROCESSABLE);
	assert_string_equal(json_string_value(json_object_get(json_array_get(e.reasons, 0), "field")), "spec.secret");
	kerr_clear(&e);
	json_decref(obj);
	obj = json_pack("{s:{s:s, s:s}}", "spec", "url", "http://x/", "secret", "");
	assert_int_equal(webhook_seal_subscription(f->w, obj, &e), KE_UNPROCESSABLE);
	kerr_clear(&e);
	json_decref(obj);
}

static void test_deliveries(void **state)
{
	struct fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *arr = NULL, *payload = json_pack("{s:s, s:s}", "ref", "refs/heads/main", "event", "ignored"), *d, *copy;
	char want[80], *body, *body2, *text;
	const char *name;
	size_t i;

	subscribe(f, NS, "signed", "[\"push\"]", "topsecret");
	subscribe(f, NS, "everything", "[\"*\"]", NULL);
	subscribe(f, NS, "issues", "[\"issue.opened\"]", "x");
	subscribe(f, "krate-org-other", "elsewhere", "[\"push\"]", NULL);
	subscribe(f, NS, "a-subscription-name-that-is-long-enough-to-need-cutting-abcdefg", "[\"push\"]", NULL);

	assert_int_equal(webhook_deliveries(f->w, "acme", "push", payload, &arr, &e), 0);
	assert_int_equal(json_array_size(arr), 3);
	json_array_foreach(arr, i, d) {
		name = str_at(d, "metadata", "name");
		assert_true(util_dns_label(name));
		assert_string_equal(str_at(d, "metadata", "namespace"), NS);
		assert_string_equal(json_string_value(json_object_get(d, "kind")), "WebhookDelivery");
		assert_string_equal(str_at(d, "status", "phase"), "Pending");
		assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "status"), "attempts")), 0);
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(json_object_get(d, "metadata"), "labels"), WH_LABEL_STATE)),
				    "pending");
		assert_string_equal(str_at(d, "spec", "eventType"), "push");
		assert_string_equal(str_at(d, "spec", "organizationRef"), "acme");
		assert_int_equal(strlen(str_at(d, "spec", "deliveryId")), 36);
		/* the body names the event and org itself, whatever the payload said */
		assert_string_equal(str_at(json_object_get(d, "spec"), "payload", "event"), "push");
		assert_string_equal(str_at(json_object_get(d, "spec"), "payload", "org"), "acme");
		assert_string_equal(str_at(json_object_get(d, "spec"), "payload", "ref"), "refs/heads/main");
		assert_non_null(str_at(json_object_get(d, "spec"), "payload", "createdAt"));
	}
	d = for_sub(arr, "signed");
	assert_non_null(d);
	assert_memory_equal(str_at(d, "metadata", "name"), "signed-", 7);
	body = wh_body(json_object_get(json_object_get(d, "spec"), "payload"));
	hmac_hex("topsecret", body, want);
	assert_string_equal(str_at(d, "spec", "signature"), want);
	/* the stored text, loaded again, gives the same body: the signature still holds */
	text = json_dumps(d, JSON_COMPACT);
	copy = json_loads(text, 0, NULL);
	body2 = wh_body(json_object_get(json_object_get(copy, "spec"), "payload"));
	assert_string_equal(body, body2);
	free(text);
	free(body);
	free(body2);
	json_decref(copy);
	assert_string_equal(str_at(for_sub(arr, "everything"), "spec", "signature"), WH_UNSIGNED);
	assert_null(for_sub(arr, "issues"));
	assert_non_null(for_sub(arr, "a-subscription-name-that-is-long-enough-to-need-cutting-abcdefg"));
	json_decref(arr);

	/* an org without subscriptions: none; a bad event name: refused */
	assert_int_equal(webhook_deliveries(f->w, "quiet", "push", NULL, &arr, &e), 0);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	assert_int_equal(webhook_deliveries(f->w, "acme", "bad event\r\n", NULL, &arr, &e), KE_INVALID);
	assert_null(arr);
	kerr_clear(&e);
	json_decref(payload);
}

static void test_redelivery(void **state)
{
	struct fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *arr = NULL, *orig, *again = NULL;
	char want[80], *body;

	subscribe(f, NS, "signed", "[\"push\"]", "first-secret");
	assert_int_equal(webhook_deliveries(f->w, "acme", "push", NULL, &arr, &e), 0);
	orig = json_array_get(arr, 0);
	assert_non_null(orig);

	/* the secret changes: the redelivery is signed with the current one */
	{
		json_t *obj = json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:[s], s:s}}", "kind", "WebhookSubscription",
					"metadata", "name", "signed", "namespace", NS, "spec", "url", "http://127.0.0.1:9/new",
					"events", "push", "secret", "second-secret");
		char *text;

		assert_int_equal(webhook_seal_subscription(f->w, obj, &e), 0);
		text = json_dumps(obj, 0);
		must_write(f->s->s, STORE_OP_APPLY, "WebhookSubscription", NS, "signed", text, NULL);
		free(text);
		json_decref(obj);
	}
	assert_int_equal(webhook_redelivery(f->w, orig, &again, &e), 0);
	assert_string_equal(str_at(again, "spec", "replayOf"), str_at(orig, "metadata", "name"));
	assert_string_not_equal(str_at(again, "metadata", "name"), str_at(orig, "metadata", "name"));
	assert_string_not_equal(str_at(again, "spec", "deliveryId"), str_at(orig, "spec", "deliveryId"));
	assert_string_equal(str_at(again, "spec", "url"), "http://127.0.0.1:9/new");
	assert_true(json_equal(json_object_get(json_object_get(again, "spec"), "payload"),
			       json_object_get(json_object_get(orig, "spec"), "payload")));
	body = wh_body(json_object_get(json_object_get(again, "spec"), "payload"));
	hmac_hex("second-secret", body, want);
	assert_string_equal(str_at(again, "spec", "signature"), want);
	free(body);
	json_decref(again);

	/* a subscription that is gone cannot be redelivered to */
	assert_int_equal(write_op(f->s->s, STORE_OP_DELETE, "WebhookSubscription", NS, "signed", NULL, 0, NULL, NULL,
				  NULL), 0);
	assert_int_equal(webhook_redelivery(f->w, orig, &again, &e), KE_UNPROCESSABLE);
	assert_null(again);
	kerr_clear(&e);
	json_decref(arr);
}

static void test_foreign_sealed_secret(void **state)
{
	struct fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *arr = NULL, *d;
	const char *obj = "{\"kind\":\"WebhookSubscription\",\"metadata\":{\"name\":\"moved\",\"namespace\":\"" NS "\"},"
			  "\"spec\":{\"url\":\"http://x/\",\"events\":[\"push\"],\"signing\":{\"algorithm\":\"hmac-sha256\","
			  "\"sealedSecret\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}}";

	/* a secret sealed under another key is never sent unsigned: the delivery fails at once */
	must_write(f->s->s, STORE_OP_CREATE, "WebhookSubscription", NS, "moved", obj, NULL);
	assert_int_equal(webhook_deliveries(f->w, "acme", "push", NULL, &arr, &e), 0);
	d = json_array_get(arr, 0);
	assert_string_equal(str_at(d, "status", "phase"), "Failed");
	assert_non_null(str_at(d, "status", "lastError"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(d, "metadata"), "labels"),
							      WH_LABEL_STATE)),
			    "failed");
	json_decref(arr);
}

static void test_times(void **state)
{
	char t[32];

	(void)state;
	wh_time_ms(t, 1764057600123LL);
	assert_string_equal(t, "2025-11-25T08:00:00.123Z");
	assert_int_equal(wh_parse_time_ms(t), 1764057600123LL);
	assert_int_equal(wh_parse_time_ms("2025-11-25T08:00:00Z"), 1764057600000LL);
	assert_int_equal(wh_parse_time_ms("2025-11-25T08:00:00.5Z"), 1764057600500LL);
	assert_int_equal(wh_parse_time_ms("2025-11-25 08:00:00"), -1);
	assert_int_equal(wh_parse_time_ms("soon"), -1);
	assert_int_equal(wh_parse_time_ms(NULL), -1);
	assert_true(wh_header_safe("sha256=abc"));
	assert_false(wh_header_safe("a\r\nX-Evil: 1"));
	assert_false(wh_header_safe(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seal_subscription, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliveries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redelivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_sealed_secret, setup, teardown),
		cmocka_unit_test(test_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
