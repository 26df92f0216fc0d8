/* Repository browsing: the API authenticates, checks that the org and the
 * Repository object are visible to the caller, and hands the git work to the
 * forge's browse handlers. Any role may read. The HTTP routes and the
 * console (api_browse) share the checks. */
#include "api/api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 0 if p may browse q's repository and the forge can answer; else e is set. */
static int browse_check(struct api *a, const struct principal *p, const struct api_browse_req *q, struct kerr *e)
{
	char ns[128], *json = NULL;
	size_t len;
	int rc;

	if ((rc = api_org_check(a, p, q->org, e)))
		return rc;
	snprintf(ns, sizeof(ns), "krate-org-%s", q->org);
	rc = store_get(a->store, "Repository", ns, q->repo, &json, &len, e);
	free(json);
	if (rc == KE_NOTFOUND) {
		kerr_clear(e);
		return kerr_set(e, KE_NOTFOUND, "NOT_FOUND", "repository %s not found in org %s", q->repo, q->org);
	}
	if (rc)
		return rc;
	if (!a->browse)
		return kerr_set(e, KE_NOTFOUND, "NOT_FOUND", "repository storage not ready");
	return 0;
}

int api_browse(struct api *a, const struct principal *p, const struct api_browse_req *q, json_t **out,
	       struct kerr *e)
{
	int rc = browse_check(a, p, q, e);

	*out = NULL;
	return rc ? rc : a->browse(a->browse_arg, q, out, e);
}

/* A positive integer query parameter, def when absent; -1 when malformed or out of 1..max. */
static long query_int(struct http_req *r, const char *name, long def, long max)
{
	const char *s = http_req_query(r, name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, &end, 10);
	return (*end || v < 1 || v > max) ? -1 : v;
}

/* ?raw=1 on a blob: the bytes themselves. They are the repository's, not
 * ours, so the browser must neither sniff them nor run them as a page. */
static int respond_raw(struct api *a, struct http_req *r, const struct api_browse_req *q, struct kerr *e)
{
	struct api_blob b = { 0 };
	int rc = a->browse_raw(a->browse_arg, q, &b, e);

	if (rc)
		return rc;
	http_add_header(r, "X-Content-Type-Options", "nosniff");
	http_add_header(r, "Content-Security-Policy", "default-src 'none'; sandbox");
	http_respond_owned(r, 200, b.binary ? "application/octet-stream" : "text/plain; charset=utf-8", b.data, b.len);
	return 0;
}

static int browse(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p,
		  enum api_browse_op op)
{
	struct kerr e = KERR_INIT;
	struct api_browse_req q = { op, m->org, m->seg[0], m->nseg > 1 ? m->seg[1] : NULL, m->rest, 0, 0 };
	const char *raw = http_req_query(r, "raw");
	json_t *out = NULL;
	int rc = browse_check(a, p, &q, &e);

	if (!rc && op == API_BROWSE_COMMITS) {
		q.ref = http_req_query(r, "ref");
		q.page = query_int(r, "page", 1, API_BROWSE_PAGE_MAX);
		q.per_page = query_int(r, "per_page", API_BROWSE_PER_PAGE, API_BROWSE_PER_PAGE_MAX);
		if (q.page < 0 || q.per_page < 0)
			rc = kerr_set(&e, KE_INVALID, NULL,
				      "page (1..10000) and per_page (1..100) must be integers in range");
	}
	if (!rc && op == API_BROWSE_BLOB && raw && !strcmp(raw, "1") && a->browse_raw)
		rc = respond_raw(a, r, &q, &e);
	else if (!rc && !(rc = a->browse(a->browse_arg, &q, &out, &e)))
		http_respond_json(r, 200, out);
	if (rc)
		api_fail(r, &e);
	kerr_clear(&e);
	return HTTP_DONE;
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
