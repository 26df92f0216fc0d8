/* YAML <-> JSON (jansson) conversion.
 *
 * Parsing follows the YAML 1.2 core schema for plain scalars (null, true/false,
 * integers incl. 64-bit, floats; everything else and every quoted scalar is a
 * string). Anchors and aliases are rejected (no "billion laughs"), as are
 * non-string mapping keys, duplicate keys and invalid UTF-8. */
#ifndef KRATE_YAML_H
#define KRATE_YAML_H

#include <stddef.h>
#include <jansson.h>
#include "core/buf.h"
#include "core/err.h"

/* Parses every document in text into a new JSON array (caller owns *out).
 * Empty documents are skipped. Returns 0 or KE_INVALID with a message that
 * names the line and column. */
int yaml_parse_documents(const char *text, size_t len, json_t **out, struct kerr *e);

/* Parses a request body that is either JSON (starts with '{' or '[') or YAML.
 * A JSON array or a multi-document YAML yields an array; a single object
 * yields an array of one. */
int yaml_or_json_parse(const char *text, size_t len, json_t **out, struct kerr *e);

/* Emits v as block-style YAML (2-space indent, strings quoted when they would
 * otherwise read back as another type). Returns 0 or a KE_* code. */
int yaml_emit(const json_t *v, struct buf *out);

#endif
