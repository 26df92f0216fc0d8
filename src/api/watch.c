#include "api/api_internal.h"
#include "model/admission.h"

#include <errno.h>
#include <stdlib.h>

int h_watch(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct hub_watch_spec spec = { 0 };
	struct kerr e = KERR_INIT;
	const struct kind_def *kd = NULL;
	const char *rvs = http_req_query(r, "resourceVersion");
	char ns[96];
	int rc;

	if (!rvs)
		rvs = http_req_header(r, "Last-Event-ID");
	if (api_org_check(a, p, m->org, &e))
		goto fail;
	if (m->nseg > 0 && !(kd = kinds_lookup(m->seg[0]))) {
		kerr_set(&e, KE_NOTFOUND, "UNKNOWN_KIND", "unknown resource kind '%s'", m->seg[0]);
		goto fail;
	}
	if (kd && kd->scope == SCOPE_PLATFORM) {
		kerr_set(&e, KE_INVALID, NULL, "%s is not an org-scoped kind", kd->kind);
		goto fail;
	}
	if (rvs && *rvs) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(rvs, &end, 10);
		if (errno || *end || v < 0) {
			kerr_set(&e, KE_INVALID, NULL, "resourceVersion must be a decimal number");
			goto fail;
		}
		/* "0" means "from the current state", as in Kubernetes */
		spec.have_rv = v > 0;
		spec.rv = v;
	}
	admission_org_namespace(m->org, ns, sizeof(ns));
	spec.ns = ns;
	spec.kind = kd ? kd->kind : NULL;
	spec.name = m->nseg > 1 ? m->seg[1] : NULL;
	http_add_header(r, "X-Accel-Buffering", "no");
	rc = hub_watch(a->hub, r, &spec, &e);
	if (rc == HTTP_STREAM)
		return rc;
fail:
	api_fail(r, &e);
	kerr_clear(&e);
	return HTTP_DONE;
}
