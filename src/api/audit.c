#include "api/api_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int64_t query_int(struct http_req *r, const char *name, int64_t def, int64_t max)
{
	const char *s = http_req_query(r, name);
	char *end;
	long long v;

	if (!s)
		return def;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return -1;
	return v;
}

int h_audit_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *org = http_req_query(r, "org");
	int64_t after = query_int(r, "after", 0, INT64_MAX), limit = query_int(r, "limit", 100, 1000);
	json_t *items = NULL;

	(void)m;
	if (p->role < ROLE_ADMIN)
		return api_failf(r, KE_FORBIDDEN, NULL, "only admins may read the audit log");
	if (after < 0 || limit < 0)
		return api_failf(r, KE_INVALID, NULL, "after must be a sequence number and limit 0..1000");
	if (p->org) {
		if (org && strcmp(org, p->org))
			return api_failf(r, KE_NOTFOUND, "ORG_NOT_FOUND", "organization not found");
		org = p->org;
	}
	if (store_audit_list(a->store, org, after, (size_t)limit, &items, &e)) {
		api_fail(r, &e);
		kerr_clear(&e);
		return HTTP_DONE;
	}
	http_respond_json(r, 200, json_pack("{s:o}", "items", items));
	return HTTP_DONE;
}

int h_audit_verify(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	json_t *report = NULL;

	(void)m;
	if (p->role < ROLE_ADMIN || p->org)
		return api_failf(r, KE_FORBIDDEN, NULL, "only platform admins may verify the audit chain");
	if (store_audit_verify(a->store, &report, &e)) {
		api_fail(r, &e);
		kerr_clear(&e);
		return HTTP_DONE;
	}
	http_respond_json(r, 200, report);
	return HTTP_DONE;
}
