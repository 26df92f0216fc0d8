/* Repository browsing routes: the API authenticates, checks that the org and
 * the Repository object are visible to the caller, and hands the git work to
 * the forge's browse handler. Any role may read. */
#include "api/api_internal.h"

#include <stdio.h>
#include <stdlib.h>

static int browse(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p,
		  enum api_browse_op op)
{
	struct kerr e = KERR_INIT;
	struct api_browse_req q = { op, m->org, m->seg[0], m->nseg > 1 ? m->seg[1] : NULL, m->rest };
	char ns[128], *json = NULL;
	size_t len;
	int rc;

	if (api_org_check(a, p, m->org, &e)) {
		api_fail(r, &e);
		kerr_clear(&e);
		return HTTP_DONE;
	}
	snprintf(ns, sizeof(ns), "krate-org-%s", m->org);
	rc = store_get(a->store, "Repository", ns, q.repo, &json, &len, &e);
	free(json);
	if (rc == KE_NOTFOUND) {
		kerr_clear(&e);
		return api_failf(r, KE_NOTFOUND, "NOT_FOUND", "repository %s not found in org %s", q.repo, m->org);
	}
	if (rc) {
		api_fail(r, &e);
		kerr_clear(&e);
		return HTTP_DONE;
	}
	if (!a->browse)
		return api_failf(r, KE_NOTFOUND, "NOT_FOUND", "repository storage not ready");
	return a->browse(a->browse_arg, r, &q);
}

int h_browse_branches(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return browse(a, r, m, p, API_BROWSE_BRANCHES);
}

int h_browse_tags(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return browse(a, r, m, p, API_BROWSE_TAGS);
}

int h_browse_tree(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return browse(a, r, m, p, API_BROWSE_TREE);
}

int h_browse_blob(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return browse(a, r, m, p, API_BROWSE_BLOB);
}

int h_browse_commits(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return browse(a, r, m, p, API_BROWSE_COMMITS);
}

int h_browse_commit(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return browse(a, r, m, p, API_BROWSE_COMMIT);
}
