#include "agents/secrets.h"
#include "core/buf.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define SECRETS_LIST_PAGE 500

int secrets_kind(const char *kind)
{
	return kind && (!strcmp(kind, "Secret") || !strcmp(kind, "ConfigMap"));
}

int secrets_key_ok(const char *key)
{
	size_t i, n = key ? strlen(key) : 0;

	if (n == 0 || n > SECRETS_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];
		int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';

		if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '.' || c == '-')))
			return 0;
	}
	return 1;
}

/* jansson owns the bytes of a string value; overwriting them in place before
 * the value is freed is the only way to wipe what it copied. */
static void wipe_string(json_t *v)
{
	size_t n = json_string_length(v);

	if (n)
		sodium_memzero((char *)json_string_value(v), n);
}

static void wipe(json_t *v)
{
	const char *k;
	json_t *c;
	size_t i;

	if (json_is_string(v))
		wipe_string(v);
	else if (json_is_array(v))
		json_array_foreach(v, i, c)
			wipe(c);
	else if (json_is_object(v))
		json_object_foreach(v, k, c)
			wipe(c);
}

void secrets_free(json_t *v)
{
	if (!v)
		return;
	wipe(v);
	json_decref(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* spec.keys: the sorted keys of sealed (new ref, or NULL without memory). */
static json_t *sorted_keys(json_t *sealed)
{
	size_t n = json_object_size(sealed), i = 0;
	const char **names = calloc(n ? n : 1, sizeof(*names));
	json_t *keys = json_array(), *v;
	const char *k;

	if (!names || !keys) {
		free(names);
		json_decref(keys);
		return NULL;
	}
	json_object_foreach(sealed, k, v)
		names[i++] = k;
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++)
		if (json_array_append_new(keys, json_string(names[i]))) {
			json_decref(keys);
			keys = NULL;
			break;
		}
	free(names);
	return keys;
}

/* Checks data and seals each value into *out (new ref). */
static int seal_data(const struct seal *s, json_t *data, json_t **out, struct kerr *e)
{
	json_t *sealed = json_object(), *v;
	const char *k;
	int bad = 0, rc = 0;

	*out = NULL;
	if (!sealed)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	if (json_object_size(data) > SECRETS_KEYS_MAX) {
		kerr_add_reason(e, "TooMany", "spec.data", "spec.data holds at most %d keys", SECRETS_KEYS_MAX);
		bad++;
	}
	json_object_foreach(data, k, v) {
		size_t n = json_string_length(v);
		char *box = NULL;

		if (bad)
			break;
		if (!secrets_key_ok(k)) {
			/* The offending name is not echoed: a value pasted as a key must not come back. */
			kerr_add_reason(e, "InvalidValue", "spec.data",
					"spec.data keys must match [A-Za-z_][A-Za-z0-9_.-]* (at most %d characters)",
					SECRETS_KEY_MAX);
			bad++;
			break;
		}
		if (!json_is_string(v) || n > SECRETS_VALUE_MAX || strlen(json_string_value(v)) != n) {
			struct buf f = BUF_INIT(SECRETS_KEY_MAX + 16);

			buf_printf(&f, "spec.data.%s", k);
			kerr_add_reason(e, "InvalidValue", f.data ? f.data : "spec.data",
					"%s must be a string of at most %u bytes without NUL", f.data ? f.data : "spec.data",
					SECRETS_VALUE_MAX);
			buf_free(&f);
			bad++;
			break;
		}
		rc = seal_seal(s, json_string_value(v), n, &box, e);
		if (!rc && json_object_set_new(sealed, k, json_string(box)))
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		free(box);
		if (rc)
			break;
	}
	if (bad)
		rc = kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "spec.data is invalid");
	if (rc) {
		json_decref(sealed);
		return rc;
	}
	*out = sealed;
	return 0;
}

int secrets_seal_spec(const struct seal *s, json_t *obj, json_t *stored, struct kerr *e)
{
	json_t *spec = json_object_get(obj, "spec"), *data, *sealed = NULL, *keys;
	int rc;

	if (!secrets_kind(json_string_value(json_object_get(obj, "kind"))))
		return 0;
	if (!json_is_object(spec)) {
		spec = json_object();
		if (json_object_set_new(obj, "spec", spec))
			return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	data = json_object_get(spec, "data");
	if (data && !json_is_null(data)) {
		if (!json_is_object(data)) {
			kerr_add_reason(e, "InvalidType", "spec.data", "spec.data must be an object of strings");
			return kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "spec.data is invalid");
		}
		if (!s) {
			kerr_add_reason(e, "Unsupported", "spec.data", "this server cannot seal values");
			return kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "spec.data is invalid");
		}
		rc = seal_data(s, data, &sealed, e);
		if (rc)
			return rc;
	} else {
		json_t *old = json_object_get(json_object_get(stored, "spec"), "sealed");

		sealed = json_is_object(old) ? json_deep_copy(old) : json_object();
		if (!sealed)
			return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	keys = sorted_keys(sealed);
	if (!keys) {
		json_decref(sealed);
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	/* The clear values leave the object (wiped) before it goes anywhere. */
	if (data) {
		json_incref(data);
		json_object_del(spec, "data");
		secrets_free(data);
	}
	if (json_object_set_new(spec, "sealed", sealed) || json_object_set_new(spec, "keys", keys))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	return 0;
}

int secrets_redact(json_t *obj)
{
	json_t *spec = json_object_get(obj, "spec");
	int changed = 0;

	if (!secrets_kind(json_string_value(json_object_get(obj, "kind"))) || !json_is_object(spec))
		return 0;
	if (json_object_get(spec, "sealed")) {
		json_object_del(spec, "sealed");
		changed = 1;
	}
	if (json_object_get(spec, "data")) {
		json_t *data = json_incref(json_object_get(spec, "data"));

		json_object_del(spec, "data");
		secrets_free(data);
		changed = 1;
	}
	return changed;
}

int secrets_open(const struct seal *s, json_t *obj, json_t **kv, struct kerr *e)
{
	json_t *sealed = json_object_get(json_object_get(obj, "spec"), "sealed"), *v, *out;
	const char *k;

	*kv = NULL;
	if (!s)
		return kerr_set(e, KE_UNAVAILABLE, NULL, "this server cannot open sealed values");
	out = json_object();
	if (!out)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	json_object_foreach(sealed, k, v) {
		unsigned char *pt = NULL;
		size_t n = 0;
		json_t *str;
		int rc = seal_open(s, json_string_value(v), &pt, &n, e);

		if (rc) {
			secrets_free(out);
			return rc;
		}
		str = json_stringn(pt ? (const char *)pt : "", n);
		sodium_memzero(pt, n);
		free(pt);
		if (!str || json_object_set_new(out, k, str)) {
			secrets_free(out);
			return kerr_set(e, KE_INTERNAL, NULL, "a sealed value of key %s is not text", k);
		}
	}
	*kv = out;
	return 0;
}

int secrets_get(struct store *st, const struct seal *s, const char *kind, const char *ns, const char *name,
		json_t **kv, struct kerr *e)
{
	char *json = NULL;
	size_t len;
	json_t *obj;
	int rc;

	*kv = NULL;
	if (!secrets_kind(kind))
		return kerr_set(e, KE_INVALID, NULL, "%s objects hold no sealed values", kind ? kind : "(null)");
	rc = store_get(st, kind, ns, name, &json, &len, e);
	if (rc)
		return rc;
	obj = json_loadb(json, len, 0, NULL);
	free(json);
	if (!obj)
		return kerr_set(e, KE_INTERNAL, NULL, "cannot read %s %s", kind, name);
	rc = secrets_open(s, obj, kv, e);
	json_decref(obj);
	return rc;
}

/* Opens the values of one stored Secret (text) onto values. */
static int append_values(const struct seal *s, const char *text, size_t len, json_t *values, struct kerr *e)
{
	json_t *obj = json_loadb(text, len, 0, NULL), *kv = NULL, *v;
	const char *k;
	int rc;

	if (!obj)
		return kerr_set(e, KE_INTERNAL, NULL, "cannot read a stored Secret");
	rc = secrets_open(s, obj, &kv, e);
	json_decref(obj);
	if (rc)
		return rc;
	json_object_foreach(kv, k, v)
		if (json_array_append(values, v)) {
			secrets_free(kv);
			return kerr_set(e, KE_NOMEM, NULL, "out of memory");
		}
	/* values holds its own references now (wiped when it is freed). */
	json_decref(kv);
	return 0;
}

int secrets_values(struct store *st, const struct seal *s, const char *ns, json_t **values, struct kerr *e)
{
	struct store_list_query q = { "Secret", ns, NULL, SECRETS_LIST_PAGE, NULL };
	json_t *out = json_array();
	char *cont = NULL;
	int rc = 0;

	*values = NULL;
	if (!out)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	do {
		struct store_list_result res = { 0 };
		size_t i;

		q.cont = cont;
		rc = store_list(st, &q, &res, e);
		free(cont);
		cont = NULL;
		for (i = 0; !rc && i < res.n; i++)
			rc = append_values(s, res.items[i], res.lens[i], out, e);
		if (!rc) {
			cont = res.cont;
			res.cont = NULL;
		}
		store_list_result_free(&res);
	} while (!rc && cont);
	free(cont);
	if (rc) {
		secrets_free(out);
		return rc;
	}
	*values = out;
	return 0;
}
