/* Building request paths: percent-encoded segments and query parameters. */
#include "cli/cli_internal.h"
#include "model/admission.h"
#include "model/kinds.h"

#include <string.h>

static int add_escaped(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			rc = buf_addch(b, (char)*p);
		} else {
			char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			rc = buf_add(b, esc, 3);
		}
	}
	return rc;
}

int cli_path_add(struct buf *b, const char *s)
{
	int rc = buf_addch(b, '/');

	return rc ? rc : add_escaped(b, s);
}

int cli_query_add(struct buf *b, const char *key, const char *value)
{
	int has_query = b->data && strchr(b->data, '?');
	int rc = buf_addch(b, has_query ? '&' : '?');

	if (!rc)
		rc = add_escaped(b, key);
	if (!rc)
		rc = buf_addch(b, '=');
	if (!rc)
		rc = add_escaped(b, value);
	return rc;
}

int cli_object_path(const struct cli_ctx *ctx, const char *org, const char *kind,
		    const char *name, struct buf *out)
{
	const struct kind_def *kd = kinds_lookup(kind);
	char ns[80];
	int rc;

	buf_reset(out);
	if (org) {
		rc = buf_addstr(out, "/api/orgs");
		if (!rc)
			rc = cli_path_add(out, org);
		if (!rc)
			rc = buf_addstr(out, "/resources");
	} else {
		rc = buf_addstr(out, "/api/controller/resources");
	}
	if (!rc)
		rc = cli_path_add(out, kind);
	if (!rc)
		rc = cli_path_add(out, name);
	/* Without -n the config's org picks the namespace; a platform-scoped kind
	 * has none, and an org that is not a valid slug is left to the server. */
	if (!rc && !org && ctx->cfg.org && !(kd && kd->scope == SCOPE_PLATFORM) &&
	    admission_org_namespace(ctx->cfg.org, ns, sizeof(ns)) == 0)
		rc = cli_query_add(out, "namespace", ns);
	return rc;
}
