#include "api/api_internal.h"
#include "core/util.h"
#include "model/admission.h"

#include <stdlib.h>
#include <string.h>

int api_org_check(struct api *a, const struct principal *p, const char *org, struct kerr *e)
{
	char *json = NULL;
	size_t len;
	struct kerr le = KERR_INIT;
	int rc;

	/* Orgs a token may not see answer exactly like orgs that do not exist. */
	if (!org || !util_dns_label(org) || !api_org_allowed(p, org))
		return kerr_set(e, KE_NOTFOUND, "ORG_NOT_FOUND", "organization '%s' not found",
				org && api_org_allowed(p, org) && util_dns_label(org) ? org : "(requested)");
	rc = store_get(a->store, "Organization", KRATE_PLATFORM_NS, org, &json, &len, &le);
	kerr_clear(&le);
	free(json);
	if (rc == KE_NOTFOUND)
		return kerr_set(e, KE_NOTFOUND, "ORG_NOT_FOUND", "organization '%s' not found", org);
	if (rc)
		return kerr_set(e, rc, NULL, "cannot read organization '%s'", org);
	return 0;
}

size_t api_org_extra_ops(json_t *org_obj, int deleting, struct store_op *ops, json_t *keep)
{
	const char *org = json_string_value(json_object_get(json_object_get(org_obj, "metadata"), "name"));
	char ns[96];
	json_t *binding;

	if (!org || admission_org_namespace(org, ns, sizeof(ns)))
		return 0;
	if (deleting) {
		json_t *nsv = json_pack("{s:s, s:s, s:s}", "ns", ns, "kind", "OrgNamespaceBinding", "name", org);

		json_array_append_new(keep, nsv);
		ops[0].type = STORE_OP_DELETE_NAMESPACE;
		ops[0].ns = json_string_value(json_object_get(nsv, "ns"));
		return 1;
	}
	binding = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:s, s:s, s:b}}",
			    "apiVersion", KRATE_API_VERSION, "kind", "OrgNamespaceBinding",
			    "metadata", "name", org, "namespace", KRATE_PLATFORM_NS,
			    "labels", KRATE_LABEL_ORG, org, KRATE_LABEL_NS, KRATE_PLATFORM_NS,
			    "spec", "organizationRef", org, "namespace", ns, "createNamespace", 1);
	if (!binding)
		return 0;
	json_array_append_new(keep, binding);
	ops[0].type = STORE_OP_APPLY;
	ops[0].kind = "OrgNamespaceBinding";
	ops[0].ns = KRATE_PLATFORM_NS;
	ops[0].name = json_string_value(json_object_get(json_object_get(binding, "metadata"), "name"));
	ops[0].obj = binding;
	return 1;
}

static json_t *org_summary(json_t *obj)
{
	json_t *md = json_object_get(obj, "metadata"), *spec = json_object_get(obj, "spec");
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *display = json_string_value(json_object_get(spec, "displayName"));
	const char *ns = json_string_value(json_object_get(spec, "namespaceName"));

	if (!name)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:s?}", "name", name, "slug", name, "displayName",
			 display ? display : name, "namespace", ns ? ns : "", "phase",
			 json_string_value(json_object_get(json_object_get(obj, "status"), "phase")));
}

/* All organizations p may see, as summaries; new reference or NULL. */
json_t *api_visible_orgs(struct api *a, const struct principal *p, struct kerr *e)
{
	struct store_list_query q = { "Organization", KRATE_PLATFORM_NS, NULL, 0, NULL };
	struct store_list_result res = { 0 };
	json_t *orgs;
	size_t i;

	if (store_list(a->store, &q, &res, e))
		return NULL;
	orgs = json_array();
	for (i = 0; i < res.n; i++) {
		json_t *obj = json_loadb(res.items[i], res.lens[i], 0, NULL);
		const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));

		if (name && api_org_allowed(p, name))
			json_array_append_new(orgs, org_summary(obj));
		json_decref(obj);
	}
	store_list_result_free(&res);
	return orgs;
}

int h_orgs_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	json_t *orgs = api_visible_orgs(a, p, &e);

	(void)m;
	if (!orgs) {
		api_fail(r, &e);
		kerr_clear(&e);
		return HTTP_DONE;
	}
	http_respond_json(r, 200, json_pack("{s:o}", "organizations", orgs));
	return HTTP_DONE;
}

int h_orgs_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	char *json = NULL;
	size_t len;

	if (api_org_check(a, p, m->org, &e) ||
	    store_get(a->store, "Organization", KRATE_PLATFORM_NS, m->org, &json, &len, &e)) {
		api_fail(r, &e);
		kerr_clear(&e);
		return HTTP_DONE;
	}
	http_respond_owned(r, 200, "application/json", json, len);
	return HTTP_DONE;
}

/* Accepts an Organization object, or the short form {name|slug, displayName, description}. */
int h_orgs_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	size_t len;
	const char *body = http_req_body(r, &len);
	json_t *req = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL), *docs;
	struct kerr e = KERR_INIT;
	int rc;

	(void)m;
	if (!json_is_object(req)) {
		kerr_set(&e, KE_INVALID, "INVALID_JSON", "body must be a JSON object {name, displayName}");
		rc = write_deny(a, r, p, "apply", NULL, "Organization", &e);
		kerr_clear(&e);
		json_decref(req);
		return rc;
	}
	if (!json_object_get(req, "kind")) {
		const char *name = json_string_value(json_object_get(req, "name"));
		const char *slug = json_string_value(json_object_get(req, "slug"));
		const char *display = json_string_value(json_object_get(req, "displayName"));
		const char *desc = json_string_value(json_object_get(req, "description"));
		json_t *obj = json_pack("{s:s, s:s, s:{s:s?}, s:{s:s?, s:s?}}", "apiVersion", KRATE_API_VERSION,
					"kind", "Organization", "metadata", "name", slug ? slug : name, "spec",
					"displayName", display, "description", desc);

		json_decref(req);
		req = obj;
	}
	docs = json_pack("[O]", req);
	rc = api_apply_docs(a, r, p, NULL, docs);
	json_decref(docs);
	json_decref(req);
	return rc;
}
