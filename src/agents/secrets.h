/* Org Secret and ConfigMap values: sealed on write, opened only to inject into
 * a run or to redact.
 *
 * A Secret or ConfigMap is written with spec.data {key: "value"} and stored
 * as spec.keys (sorted key names) and spec.sealed {key: "<base64 nonce +
 * ciphertext>"} (core/seal.h, the server's key DATA/secret.key). spec.data is
 * never stored, returned, logged or put in a context bundle; reads show the
 * keys only (secrets_redact).
 *
 * Ownership: inputs are borrowed. Opened values are secret: release them with
 * secrets_free(), which wipes every string before freeing. */
#ifndef KRATE_AGENTS_SECRETS_H
#define KRATE_AGENTS_SECRETS_H

#include <jansson.h>
#include "core/err.h"
#include "core/seal.h"
#include "store/store.h"

#define SECRETS_VALUE_MAX SEAL_MAX_PLAIN  /* bytes of one value */
#define SECRETS_KEYS_MAX 256              /* keys of one object */
#define SECRETS_KEY_MAX 253               /* bytes of one key name */

/* 1 for the kinds whose values are sealed: "Secret" and "ConfigMap". */
int secrets_kind(const char *kind);
/* 1 if key is an environment-safe name: [A-Za-z_][A-Za-z0-9_.-]*, at most SECRETS_KEY_MAX. */
int secrets_key_ok(const char *key);

/* Seals obj (a Secret or ConfigMap, modified in place): spec.data, when
 * present, replaces every key (values: strings without NUL of at most
 * SECRETS_VALUE_MAX bytes; keys: secrets_key_ok; at most SECRETS_KEYS_MAX);
 * without spec.data the keys and sealed values of stored (the object as
 * stored, or NULL) are kept. Either way spec.keys and spec.sealed are the
 * server's: whatever the writer put there is replaced. KE_UNPROCESSABLE with
 * a reason per bad field; reasons name keys, never values. */
int secrets_seal_spec(const struct seal *s, json_t *obj, json_t *stored, struct kerr *e);
/* Removes the values (spec.sealed, spec.data) from obj when it is a Secret or
 * ConfigMap; other objects are left alone. Returns 1 when obj changed. */
int secrets_redact(json_t *obj);
/* The opened values of obj (a stored Secret or ConfigMap): *kv {key: value}. */
int secrets_open(const struct seal *s, json_t *obj, json_t **kv, struct kerr *e);
/* The opened values of the kind ("Secret" or "ConfigMap") named name in ns:
 * *kv {key: value}; KE_NOTFOUND when there is no such object. */
int secrets_get(struct store *st, const struct seal *s, const char *kind, const char *ns, const char *name,
		json_t **kv, struct kerr *e);
/* Every value of every Secret in ns, as an array of strings (for redaction). */
int secrets_values(struct store *st, const struct seal *s, const char *ns, json_t **values, struct kerr *e);
/* Wipes every string of v (values of arrays and objects, recursively) and
 * releases the reference. NULL is fine. */
void secrets_free(json_t *v);

#endif
