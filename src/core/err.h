/* Error codes and the error report carried back to API clients.
 *
 * Functions return 0 on success or one of the negative KE_* codes, and fill a
 * caller-provided struct kerr with a message. The struct kerr owns its strings
 * and its `reasons` array; kerr_clear() releases them. Each KE_* code maps to
 * one HTTP status and a default envelope code (see kerr_http_status). */
#ifndef KRATE_ERR_H
#define KRATE_ERR_H

#include <jansson.h>

enum {
	KE_OK = 0,
	KE_NOMEM = -1,        /* 500 */
	KE_INVALID = -2,      /* 400 bad request / malformed body */
	KE_UNAUTHORIZED = -3, /* 401 */
	KE_FORBIDDEN = -4,    /* 403 */
	KE_NOTFOUND = -5,     /* 404 */
	KE_CONFLICT = -6,     /* 409 */
	KE_TOOBIG = -7,       /* 413 */
	KE_UNPROCESSABLE = -8,/* 422 valid JSON, invalid resource */
	KE_RATELIMIT = -9,    /* 429 */
	KE_UNAVAILABLE = -10, /* 503 */
	KE_GONE = -11,        /* 410 resourceVersion too old for a watch */
	KE_IO = -12,          /* 500 */
	KE_INTERNAL = -13,    /* 500 */
	KE_METHOD = -14,      /* 405 */
};

struct kerr {
	int kcode;        /* one of KE_* (0 when no error was set) */
	char *code;       /* envelope code, e.g. "INVALID_SPEC"; owned */
	char *message;    /* human-readable; owned */
	char *resource;   /* "Kind/namespace/name" or NULL; owned */
	json_t *reasons;  /* array of {code, field, message} or NULL; owned ref */
};

#define KERR_INIT { 0, NULL, NULL, NULL, NULL }

/* Sets kcode, code (NULL = default for kcode) and a formatted message,
 * replacing any earlier ones. Returns kcode so callers can `return kerr_set(...)`. */
int kerr_set(struct kerr *e, int kcode, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Appends a reason {code, field, message}. */
void kerr_add_reason(struct kerr *e, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void kerr_set_resource(struct kerr *e, const char *kind, const char *ns, const char *name);
void kerr_clear(struct kerr *e);

int kerr_http_status(int kcode);
const char *kerr_default_code(int kcode);
/* Builds {"error":{code,message,correlationId,resource?,reasons}}; new reference. */
json_t *kerr_envelope(const struct kerr *e, const char *correlation_id);

#endif
