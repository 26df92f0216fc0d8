/* Sealed values on the API's side: sealing webhook secrets and Secret and
 * ConfigMap data on write, keeping the sealed values out of every answer,
 * and opening them for the agent runtime. */
#include "api/api_internal.h"
#include "agents/secrets.h"
#include "webhook/webhook.h"

#include <stdlib.h>
#include <string.h>

/* The stored object doc would replace (new ref), or NULL when there is none. */
static json_t *stored_object(struct api *a, json_t *doc)
{
	json_t *md = json_object_get(doc, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *name = json_string_value(json_object_get(md, "name"));
	struct kerr e = KERR_INIT;
	char *json = NULL;
	size_t len;
	json_t *obj = NULL;

	if (ns && name &&
	    !store_get(a->store, json_string_value(json_object_get(doc, "kind")), ns, name, &json, &len, &e)) {
		obj = json_loadb(json, len, 0, NULL);
		free(json);
	}
	kerr_clear(&e);
	return obj;
}

int api_seal_doc(struct api *a, json_t *doc, struct kerr *e)
{
	const struct kind_def *kd = kinds_lookup(json_string_value(json_object_get(doc, "kind")));
	json_t *stored = NULL, *data;
	int rc;

	if (!kd)
		return 0;
	if (!strcmp(kd->kind, "WebhookSubscription")) {
		if (!json_object_get(json_object_get(doc, "spec"), "secret"))
			return 0;
		if (!a->webhook) {
			/* Never store it in clear instead. */
			kerr_add_reason(e, "Unsupported", "spec.secret", "this server cannot seal webhook secrets");
			return kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE",
					"WebhookSubscription is invalid: spec.secret");
		}
		return webhook_seal_subscription(a->webhook, doc, e);
	}
	if (!secrets_kind(kd->kind))
		return 0;
	data = json_object_get(json_object_get(doc, "spec"), "data");
	/* Without new data the stored values stay (reads never show them, so a
	 * writer cannot send them back). */
	if (!data || json_is_null(data))
		stored = stored_object(a, doc);
	rc = secrets_seal_spec(a->seal, doc, stored, e);
	json_decref(stored);
	return rc;
}

void api_redact_object(json_t *obj)
{
	secrets_redact(obj);
}

json_t *api_redacted(json_t *obj)
{
	json_t *copy, *spec;

	if (!secrets_kind(json_string_value(json_object_get(obj, "kind"))))
		return json_incref(obj);
	/* A new object and spec; the rest is shared and never changed. */
	copy = json_copy(obj);
	spec = json_copy(json_object_get(obj, "spec"));
	if (!copy || (spec && json_object_set_new(copy, "spec", spec))) {
		json_decref(copy);
		return NULL;
	}
	secrets_redact(copy);
	return copy;
}

int api_redact_text(const char *json, size_t len, char **out, size_t *out_len)
{
	json_t *obj;

	*out = NULL;
	*out_len = 0;
	/* Stored objects are compact JSON: only one with sealed values has this. */
	if (!memmem(json, len, "\"sealed\":", 9))
		return 0;
	obj = json_loadb(json, len, 0, NULL);
	if (!obj)
		return KE_INTERNAL;
	if (!secrets_redact(obj)) {
		json_decref(obj);
		return 0;
	}
	*out = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (!*out)
		return KE_NOMEM;
	*out_len = strlen(*out);
	return 1;
}

int api_secret_values(struct api *a, const char *ns, json_t **values)
{
	struct kerr e = KERR_INIT;
	int rc = secrets_values(a->store, a->seal, ns, values, &e);

	kerr_clear(&e);
	return rc;
}

int api_secret_env(struct api *a, const char *ns, const char *secret, json_t **kv)
{
	struct kerr e = KERR_INIT;
	int rc = secrets_get(a->store, a->seal, "Secret", ns, secret, kv, &e);

	kerr_clear(&e);
	return rc;
}
