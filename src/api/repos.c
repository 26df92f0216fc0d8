/* Typed repository routes: /api/orgs/{org}/repositories[/{repo}]. Writes build
 * a Repository object and go through the generic apply and delete paths, so
 * admission, RBAC and audit are the same as for /resources; reads answer
 * forge summaries of the stored objects. */
#include "api/api_internal.h"
#include "model/admission.h"

#include <stdlib.h>
#include <string.h>

#define HOST_MAX 255

static const char *spec_str(json_t *obj, const char *key, const char *dflt)
{
	const char *v = json_string_value(json_object_get(json_object_get(obj, "spec"), key));

	return v ? v : dflt;
}

/* The Host header when it looks like host[:port] (it goes into URLs), else NULL. */
static const char *usable_host(struct http_req *r)
{
	const char *h = http_req_header(r, "Host");
	size_t n = h ? strlen(h) : 0;

	if (!n || n > HOST_MAX ||
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != n)
		return NULL;
	return h;
}

/* Forge summary of a stored Repository; new ref or NULL. */
static json_t *repo_summary(struct http_req *r, const char *org, json_t *obj)
{
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	const char *ns = json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
	const char *phase = json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
	const char *host = usable_host(r);
	struct buf clone = BUF_INIT(1024), href = BUF_INIT(1024);
	json_t *s = NULL;

	if (!name)
		goto out;
	if (host)
		buf_printf(&clone, "http://%s", host);
	if (buf_printf(&clone, "/%s/%s.git", org, name) ||
	    buf_printf(&href, "/orgs/%s/resources/repositories/%s", org, name))
		goto out;
	s = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s?, s:s, s:s, s:s}", "kind", "Repository", "name", name,
		      "org", org, "namespace", ns, "visibility", spec_str(obj, "visibility", "internal"),
		      "defaultBranch", spec_str(obj, "defaultBranch", "main"), "description",
		      spec_str(obj, "description", NULL), "phase", phase ? phase : "Pending", "cloneUrl", clone.data,
		      "href", href.data);
	if (s && !json_object_get(s, "description"))
		json_object_set_new(s, "description", json_null());
out:
	buf_free(&clone);
	buf_free(&href);
	return s;
}

static int fail_clear(struct http_req *r, struct kerr *e)
{
	api_fail(r, e);
	kerr_clear(e);
	return HTTP_DONE;
}

int h_repos_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	size_t len;
	const char *body = http_req_body(r, &len);
	json_t *req = NULL, *docs = NULL, *meta, *spec, *v;
	struct kerr e = KERR_INIT;
	char ns[96];
	int rc;

	if (api_org_check(a, p, m->org, &e))
		goto deny;
	req = json_loadb(body ? body : "", len, 0, NULL);
	if (!json_is_object(req)) {
		kerr_set(&e, KE_INVALID, "INVALID_JSON",
			 "body must be a JSON object {name, visibility?, defaultBranch?, description?}");
		goto deny;
	}
	admission_org_namespace(m->org, ns, sizeof(ns));
	/* Values are passed on as given: admission checks their types and formats. */
	meta = json_pack("{s:s}", "namespace", ns);
	spec = json_pack("{s:s}", "organizationRef", m->org);
	if (!meta || !spec) {
		json_decref(meta);
		json_decref(spec);
		kerr_set(&e, KE_NOMEM, NULL, "out of memory");
		goto deny;
	}
	if ((v = json_object_get(req, "name")))
		json_object_set(meta, "name", v);
	v = json_object_get(req, "visibility");
	json_object_set_new(spec, "visibility", v ? json_incref(v) : json_string("internal"));
	v = json_object_get(req, "defaultBranch");
	json_object_set_new(spec, "defaultBranch", v ? json_incref(v) : json_string("main"));
	if ((v = json_object_get(req, "description")) && !json_is_null(v))
		json_object_set(spec, "description", v);
	docs = json_pack("[{s:s, s:s, s:o, s:o}]", "apiVersion", KRATE_API_VERSION, "kind", "Repository",
			 "metadata", meta, "spec", spec);
	if (!docs) {
		kerr_set(&e, KE_NOMEM, NULL, "out of memory");
		goto deny;
	}
	rc = api_apply_docs(a, r, p, m->org, docs);
	json_decref(docs);
	json_decref(req);
	return rc;
deny:
	rc = write_deny(a, r, p, "apply", m->org, NULL, &e);
	json_decref(req);
	kerr_clear(&e);
	return rc;
}

int h_repos_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct store_list_query q = { 0 };
	struct store_list_result res = { 0 };
	struct kerr e = KERR_INIT;
	json_t *items;
	char ns[96];
	size_t i;

	if (api_org_check(a, p, m->org, &e))
		return fail_clear(r, &e);
	admission_org_namespace(m->org, ns, sizeof(ns));
	q.kind = "Repository";
	q.ns = ns;
	if (store_list(a->store, &q, &res, &e))
		return fail_clear(r, &e);
	items = json_array();
	for (i = 0; items && i < res.n; i++) {
		json_t *obj = json_loadb(res.items[i], res.lens[i], 0, NULL);
		json_t *s = obj ? repo_summary(r, m->org, obj) : NULL;

		json_decref(obj);
		if (!s || json_array_append_new(items, s)) {
			json_decref(items);
			items = NULL;
		}
	}
	store_list_result_free(&res);
	if (!items)
		return api_failf(r, KE_NOMEM, NULL, "out of memory");
	http_respond_json(r, 200, json_pack("{s:o}", "items", items));
	return HTTP_DONE;
}

int h_repos_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	char ns[96], *json = NULL;
	size_t len;
	json_t *obj, *s;
	int rc;

	if (api_org_check(a, p, m->org, &e))
		return fail_clear(r, &e);
	admission_org_namespace(m->org, ns, sizeof(ns));
	rc = store_get(a->store, "Repository", ns, m->seg[0], &json, &len, &e);
	if (rc == KE_NOTFOUND) {
		kerr_clear(&e);
		return api_failf(r, KE_NOTFOUND, "NOT_FOUND", "repository %s not found in org %s", m->seg[0], m->org);
	}
	if (rc)
		return fail_clear(r, &e);
	obj = json_loadb(json, len, 0, NULL);
	free(json);
	s = obj ? repo_summary(r, m->org, obj) : NULL;
	json_decref(obj);
	if (!s)
		return api_failf(r, KE_INTERNAL, NULL, "cannot read repository %s", m->seg[0]);
	http_respond_json(r, 200, s);
	return HTTP_DONE;
}

int h_repos_delete(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct route_match gm = *m;

	gm.seg[0] = "Repository";
	gm.seg[1] = m->seg[0];
	gm.nseg = 2;
	return h_delete(a, r, &gm, p);
}
