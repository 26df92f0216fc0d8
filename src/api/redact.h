/* What the API sends of objects that hold sealed values: a Secret or
 * ConfigMap goes out with its metadata, spec.keys and spec.description but
 * never spec.sealed (src/agents/secrets.h). Every path that sends stored
 * objects (GET, lists, write answers, watch events, the console) goes through
 * these. */
#ifndef KRATE_API_REDACT_H
#define KRATE_API_REDACT_H

#include <stddef.h>
#include <jansson.h>

/* Removes the sealed values from obj in place (other kinds untouched). */
void api_redact_object(json_t *obj);
/* obj fit to send: a new reference to obj itself, or to a redacted copy. */
json_t *api_redacted(json_t *obj);
/* Stored JSON text fit to send: 0 when json may go out as it is (*out NULL),
 * 1 with *out (malloc'd) and *out_len the redacted text, or KE_NOMEM /
 * KE_INTERNAL, after which nothing of json may be sent. A substring test
 * decides first, so other objects are not parsed. */
int api_redact_text(const char *json, size_t len, char **out, size_t *out_len);

#endif
