#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	int kcode;
	int status;
	const char *code;
} err_table[] = {
	{ KE_NOMEM, 500, "INTERNAL" },
	{ KE_INVALID, 400, "BAD_REQUEST" },
	{ KE_UNAUTHORIZED, 401, "UNAUTHENTICATED" },
	{ KE_FORBIDDEN, 403, "FORBIDDEN" },
	{ KE_NOTFOUND, 404, "NOT_FOUND" },
	{ KE_CONFLICT, 409, "CONFLICT" },
	{ KE_TOOBIG, 413, "PAYLOAD_TOO_LARGE" },
	{ KE_UNPROCESSABLE, 422, "INVALID_RESOURCE" },
	{ KE_RATELIMIT, 429, "RATE_LIMITED" },
	{ KE_UNAVAILABLE, 503, "UNAVAILABLE" },
	{ KE_GONE, 410, "EXPIRED" },
	{ KE_IO, 500, "INTERNAL" },
	{ KE_INTERNAL, 500, "INTERNAL" },
	{ KE_METHOD, 405, "METHOD_NOT_ALLOWED" },
};

int kerr_http_status(int kcode)
{
	size_t i;

	for (i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].kcode == kcode)
			return err_table[i].status;
	return kcode == 0 ? 200 : 500;
}

const char *kerr_default_code(int kcode)
{
	size_t i;

	for (i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].kcode == kcode)
			return err_table[i].code;
	return "INTERNAL";
}

static char *vformat(const char *fmt, va_list ap)
{
	va_list cp;
	char *s;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

int kerr_set(struct kerr *e, int kcode, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return kcode;
	free(e->code);
	free(e->message);
	e->kcode = kcode;
	e->code = strdup(code ? code : kerr_default_code(kcode));
	va_start(ap, fmt);
	e->message = vformat(fmt, ap);
	va_end(ap);
	return kcode;
}

void kerr_add_reason(struct kerr *e, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	json_t *r;

	if (!e)
		return;
	if (!e->reasons)
		e->reasons = json_array();
	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	r = json_pack("{s:s, s:s, s:s}", "code", code ? code : "Invalid",
		      "field", field ? field : "", "message", msg ? msg : "");
	if (r && e->reasons)
		json_array_append_new(e->reasons, r);
	else
		json_decref(r);
	free(msg);
}

void kerr_set_resource(struct kerr *e, const char *kind, const char *ns, const char *name)
{
	size_t n;

	if (!e || !kind)
		return;
	free(e->resource);
	n = strlen(kind) + (ns ? strlen(ns) : 0) + (name ? strlen(name) : 0) + 3;
	e->resource = malloc(n);
	if (!e->resource)
		return;
	if (ns && *ns)
		snprintf(e->resource, n, "%s/%s/%s", kind, ns, name ? name : "");
	else
		snprintf(e->resource, n, "%s/%s", kind, name ? name : "");
}

void kerr_clear(struct kerr *e)
{
	if (!e)
		return;
	free(e->code);
	free(e->message);
	free(e->resource);
	json_decref(e->reasons);
	memset(e, 0, sizeof(*e));
}

json_t *kerr_envelope(const struct kerr *e, const char *correlation_id)
{
	int kcode = e->kcode ? e->kcode : KE_INTERNAL;
	json_t *err = json_pack("{s:s, s:s, s:s}",
				"code", e->code ? e->code : kerr_default_code(kcode),
				"message", e->message ? e->message : "internal error",
				"correlationId", correlation_id ? correlation_id : "");

	if (!err)
		return NULL;
	if (e->resource)
		json_object_set_new(err, "resource", json_string(e->resource));
	if (e->reasons)
		json_object_set(err, "reasons", e->reasons);
	else
		json_object_set_new(err, "reasons", json_array());
	return json_pack("{s:o}", "error", err);
}
