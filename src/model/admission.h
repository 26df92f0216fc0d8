/* Admission: checks and defaults every object before it is written.
 *
 * admission_check() validates the object in place and fills defaults; it never
 * touches the store. Problems are reported through struct kerr with one reason
 * per offending field ({code, field, message}); the first failing class wins:
 *   KE_INVALID       (400) not an object, apiVersion wrong type
 *   KE_UNPROCESSABLE (422) unknown kind, bad metadata.name, missing/mistyped/
 *                          out-of-enum spec fields, org/namespace mismatch
 * Org scoping (org-scoped kinds):
 *   org = ctx->org (route) | spec.organizationRef | label krate.a5c.ai/org |
 *         metadata.namespace "krate-org-<slug>"; none -> 422 ORG_REQUIRED.
 *   All given sources must agree, else 422 ORG_NAMESPACE_MISMATCH.
 *   Defaults: metadata.namespace = krate-org-<org>, both org labels,
 *   spec.organizationRef = <org>, apiVersion.
 * Platform-scoped kinds (Organization, OrgNamespaceBinding...) live in
 * namespace krate-system; Organization gets spec.slug (= name) and
 * spec.namespaceName (default krate-org-<name>, must match if given). */
#ifndef KRATE_ADMISSION_H
#define KRATE_ADMISSION_H

#include <jansson.h>
#include "core/err.h"
#include "model/kinds.h"

struct admission_ctx {
	const char *org;   /* org slug from the route, or NULL */
};

/* On success returns 0 and sets *kd to the object's kind definition. */
int admission_check(json_t *obj, const struct admission_ctx *ctx,
		    const struct kind_def **kd, struct kerr *e);

/* Namespace of an org: "krate-org-<slug>" written into out (size >= 80).
 * Returns 0 or KE_UNPROCESSABLE when slug is not a DNS-1123 label. */
int admission_org_namespace(const char *slug, char *out, size_t outsz);

/* The org slug of a namespace "krate-org-<slug>", or NULL if it is not one.
 * Returns a pointer into ns (no allocation). */
const char *admission_namespace_org(const char *ns);

#endif
