/* The agent configuration routes (docs/agents.md, "API"): stacks, the org's
 * Secrets and ConfigMaps (key names only), grants, capability requirements
 * and permission review. Each route has two forms: /api/agents/... (the org
 * from ?org= or the token's) and /api/orgs/{org}/agents/...
 *
 * Writes go through the generic write path (admission, RBAC, sealing,
 * audit); reads need any role that sees the org. */
#include "api/api_internal.h"
#include "api/records.h"
#include "agents/review.h"
#include "agents/snapshot.h"
#include "core/util.h"
#include "core/yaml.h"
#include "model/admission.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define REVIEW_FIELD_MAX 1024
#define PATCH_ATTEMPTS 8

static const char *obj_str(json_t *obj, const char *sect, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, sect), key));
}

/* The org a route is about: {org}, else ?org=, else the token's. 0, or e says
 * why (ORG_REQUIRED, ORG_NOT_FOUND). */
static int route_org(struct api *a, struct http_req *r, const struct route_match *m, const struct principal *p,
		     const char **org, struct kerr *e)
{
	const char *o = m->org;

	if (!o || !*o)
		o = http_req_query(r, "org");
	if (!o || !*o)
		o = p->org;
	*org = o;
	if (!o)
		return kerr_set(e, KE_UNPROCESSABLE, "ORG_REQUIRED",
				"give ?org=<org> or use /api/orgs/{org}/agents/...");
	return api_org_check(a, p, o, e);
}

static int need_admin(const struct principal *p, const char *kind, struct kerr *e)
{
	const struct kind_def *kd = kinds_lookup(kind);

	if (p->role < (int)kd->write_role)
		return kerr_set(e, KE_FORBIDDEN, NULL, "role %s may not write %s objects (needs %s)",
				kinds_role_name(p->role), kd->kind, kinds_role_name(kd->write_role));
	return 0;
}

/* The one object of a request body (new ref), or e (400). */
static int body_object(struct http_req *r, json_t **out, struct kerr *e)
{
	size_t len;
	const char *body = http_req_body(r, &len);
	json_t *docs = NULL;
	int rc;

	*out = NULL;
	if (!body || !len)
		return kerr_set(e, KE_INVALID, "INVALID_JSON", "the body must be one JSON object");
	rc = yaml_or_json_parse(body, len, &docs, e);
	if (rc)
		return rc;
	if (json_array_size(docs) != 1 || !json_is_object(json_array_get(docs, 0))) {
		json_decref(docs);
		return kerr_set(e, KE_INVALID, "INVALID_JSON", "the body must be one object");
	}
	*out = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return 0;
}

/* Every object of kind in org's namespace, as an array (new ref). */
static int list_kind(struct api *a, const char *org, const char *kind, json_t **out, struct kerr *e)
{
	struct store_list_query q = { 0 };
	struct store_list_result res = { 0 };
	char ns[96];
	size_t i;
	int rc;

	*out = NULL;
	admission_org_namespace(org, ns, sizeof(ns));
	q.kind = kind;
	q.ns = ns;
	rc = store_list(a->store, &q, &res, e);
	if (rc)
		return rc;
	*out = json_array();
	for (i = 0; *out && i < res.n; i++) {
		json_t *o = json_loadb(res.items[i], res.lens[i], 0, NULL);

		if (o)
			json_array_append_new(*out, o);
	}
	store_list_result_free(&res);
	return *out ? 0 : kerr_set(e, KE_NOMEM, NULL, "out of memory");
}

/* Calls a generic resource handler for kind/name in org. */
static int generic(struct api *a, struct http_req *r, const char *org, const char *kind, const char *name,
		   struct principal *p, api_handler_fn fn)
{
	struct route_match gm = { 0 };

	gm.org = org;
	gm.seg[0] = kind;
	gm.seg[1] = name;
	gm.nseg = 2;
	return fn(a, r, &gm, p);
}

/* Answers e (a read, or a refusal already audited). */
static int respond_error(struct http_req *r, struct kerr *e)
{
	api_fail(r, e);
	kerr_clear(e);
	return HTTP_DONE;
}

/* Answers and audits e for a refused write. */
static int fail_write(struct api *a, struct http_req *r, const struct principal *p, const char *verb,
		      const char *org, const char *resource, struct kerr *e)
{
	int rc = write_deny(a, r, p, verb, org, resource, e);

	kerr_clear(e);
	return rc;
}

/* ---- stacks ---- */

int h_agents_stacks_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *org;
	json_t *items = NULL;

	if (route_org(a, r, m, p, &org, &e) || list_kind(a, org, "AgentStack", &items, &e))
		return respond_error(r, &e);
	http_respond_json(r, 200, json_pack("{s:o}", "items", items));
	return HTTP_DONE;
}

/* An AgentStack document from a POST body: the object itself, or {name, spec}. */
static int stack_doc(json_t *body, json_t **doc, struct kerr *e)
{
	const char *k, *kind = json_string_value(json_object_get(body, "kind"));
	json_t *v;

	*doc = NULL;
	if (kind) {
		if (kinds_lookup(kind) != kinds_lookup("AgentStack")) {
			kerr_add_reason(e, "InvalidValue", "kind", "this route writes AgentStack objects");
			return kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "the body is not an AgentStack");
		}
		*doc = json_incref(body);
		return 0;
	}
	json_object_foreach(body, k, v) {
		if (strcmp(k, "name") && strcmp(k, "spec")) {
			kerr_add_reason(e, "Unknown", k, "give an AgentStack object or {name, spec}");
			return kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "unknown member %s", k);
		}
	}
	*doc = json_pack("{s:s, s:s, s:{s:O?}, s:O?}", "apiVersion", KRATE_API_VERSION, "kind", "AgentStack",
			 "metadata", "name", json_object_get(body, "name"), "spec", json_object_get(body, "spec"));
	return *doc ? 0 : kerr_set(e, KE_NOMEM, NULL, "out of memory");
}

/* Applies doc in org through the generic write path (it answers). */
static int apply_one(struct api *a, struct http_req *r, const struct principal *p, const char *org, json_t *doc)
{
	json_t *docs = json_array();
	int rc;

	json_array_append(docs, doc);
	rc = api_apply_docs(a, r, p, org, docs);
	json_decref(docs);
	return rc;
}

int h_agents_stacks_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *org;
	json_t *body = NULL, *doc = NULL;
	int rc;

	if (route_org(a, r, m, p, &org, &e) || need_admin(p, "AgentStack", &e) || body_object(r, &body, &e) ||
	    stack_doc(body, &doc, &e)) {
		json_decref(body);
		return fail_write(a, r, p, "apply", org, NULL, &e);
	}
	rc = apply_one(a, r, p, org, doc);
	json_decref(body);
	json_decref(doc);
	return rc;
}

int h_agents_stack_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *org;

	if (route_org(a, r, m, p, &org, &e))
		return respond_error(r, &e);
	return generic(a, r, org, "AgentStack", m->seg[0], p, h_get);
}

int h_agents_stack_delete(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *org;

	if (route_org(a, r, m, p, &org, &e))
		return fail_write(a, r, p, "delete", org, NULL, &e);
	return generic(a, r, org, "AgentStack", m->seg[0], p, h_delete);
}

/* The stored stack with the members of patch.spec merged into its spec (a
 * null member removes one); metadata.resourceVersion is the patch's when
 * given, else the stored one, so a change in between is a conflict. */
static int patched_stack(struct api *a, const char *org, const char *name, json_t *patch, json_t **doc,
			 struct kerr *e)
{
	json_t *spec = json_object_get(patch, "spec"), *stored, *merged, *v, *rv;
	const char *k;
	char ns[96], *json = NULL;
	size_t len;
	int rc;

	*doc = NULL;
	json_object_foreach(patch, k, v) {
		if (strcmp(k, "spec") && strcmp(k, "metadata")) {
			kerr_add_reason(e, "Unknown", k, "a stack PATCH takes {spec, metadata.resourceVersion}");
			return kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "unknown member %s", k);
		}
	}
	if (!json_is_object(spec)) {
		kerr_add_reason(e, "Required", "spec", "spec must be an object of the members to change");
		return kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "the patch needs a spec object");
	}
	if (!util_dns_label(name))
		return kerr_set(e, KE_NOTFOUND, NULL, "AgentStack '%s' not found", name);
	admission_org_namespace(org, ns, sizeof(ns));
	rc = store_get(a->store, "AgentStack", ns, name, &json, &len, e);
	if (rc)
		return rc;
	stored = json_loadb(json, len, 0, NULL);
	free(json);
	if (!stored)
		return kerr_set(e, KE_INTERNAL, NULL, "cannot read AgentStack %s", name);
	merged = json_object_get(stored, "spec");
	if (!json_is_object(merged)) {
		merged = json_object();
		json_object_set_new(stored, "spec", merged);
	}
	json_object_foreach(spec, k, v) {
		if (json_is_null(v))
			json_object_del(merged, k);
		else
			json_object_set(merged, k, v);
	}
	rv = json_object_get(json_object_get(patch, "metadata"), "resourceVersion");
	if (rv)
		json_object_set(json_object_get(stored, "metadata"), "resourceVersion", rv);
	/* The controller owns status. */
	json_object_del(stored, "status");
	*doc = stored;
	return 0;
}

int h_agents_stack_patch(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	struct buf res = BUF_INIT(512);
	const char *org;
	json_t *body = NULL, *doc = NULL, *results = NULL;
	char ns[96];
	int rc, attempt, pinned;

	if (route_org(a, r, m, p, &org, &e))
		goto deny;
	admission_org_namespace(org, ns, sizeof(ns));
	api_resource_id(&res, "AgentStack", ns, m->seg[0]);
	if (need_admin(p, "AgentStack", &e) || body_object(r, &body, &e))
		goto deny;
	pinned = json_object_get(json_object_get(body, "metadata"), "resourceVersion") != NULL;
	/* Without a version from the client the merge is redone when the stack
	 * changed in between (the controller writes its status at any time). */
	for (attempt = 1;; attempt++) {
		json_t *docs;

		if (patched_stack(a, org, m->seg[0], body, &doc, &e))
			goto deny;
		docs = json_pack("[o]", doc);
		rc = docs ? api_apply_sync(a, p, org, docs, http_req_correlation_id(r), &results, &e)
			  : kerr_set(&e, KE_NOMEM, NULL, "out of memory");
		json_decref(docs);
		if (rc != KE_CONFLICT || pinned || attempt == PATCH_ATTEMPTS)
			break;
		kerr_clear(&e);
	}
	json_decref(body);
	buf_free(&res);
	if (rc) {
		/* api_apply_sync audited it */
		return respond_error(r, &e);
	}
	http_respond_json(r, 200, json_incref(json_object_get(json_array_get(results, 0), "object")));
	json_decref(results);
	return HTTP_DONE;
deny:
	rc = fail_write(a, r, p, "apply", org, res.data, &e);
	json_decref(body);
	buf_free(&res);
	return rc;
}

/* ---- Secrets and ConfigMaps: key names only ---- */

static int values_list(struct api *a, struct http_req *r, const struct route_match *m, const struct principal *p,
		       const char *kind)
{
	struct kerr e = KERR_INIT;
	const char *org;
	json_t *objs = NULL, *items, *o;
	size_t i;

	if (route_org(a, r, m, p, &org, &e) || list_kind(a, org, kind, &objs, &e))
		return respond_error(r, &e);
	items = json_array();
	json_array_foreach(objs, i, o) {
		json_t *md = json_object_get(o, "metadata"), *keys = json_object_get(json_object_get(o, "spec"), "keys");

		json_array_append_new(items, json_pack("{s:s, s:O?, s:s, s:O?, s:o, s:O?, s:O?, s:O?}", "kind", kind,
						       "name", json_object_get(md, "name"), "org", org, "namespace",
						       json_object_get(md, "namespace"), "keys",
						       json_is_array(keys) ? json_incref(keys) : json_array(), "description",
						       json_object_get(json_object_get(o, "spec"), "description"),
						       "creationTimestamp", json_object_get(md, "creationTimestamp"),
						       "resourceVersion", json_object_get(md, "resourceVersion")));
	}
	json_decref(objs);
	http_respond_json(r, 200, json_pack("{s:o}", "items", items));
	return HTTP_DONE;
}

int h_agents_secrets_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return values_list(a, r, m, p, "Secret");
}

int h_agents_configmaps_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return values_list(a, r, m, p, "ConfigMap");
}

/* ---- grants ---- */

/* The name a ref (string, or object with name) gives, or NULL. */
static const char *ref_name(json_t *ref)
{
	return json_is_string(ref) ? json_string_value(ref) : json_string_value(json_object_get(ref, "name"));
}

/* "<subject>-<ref>" as a DNS-1123 label into b: the default grant name. */
static void default_grant_name(struct buf *b, const char *subject, const char *ref)
{
	char name[64];
	size_t n = 0, i;
	const char *parts[2] = { subject, ref };
	int k;

	for (k = 0; k < 2; k++) {
		const char *s = parts[k];

		if (k && n && n < sizeof(name) - 1)
			name[n++] = '-';
		for (; s && *s && n < sizeof(name) - 1; s++)
			name[n++] = isalnum((unsigned char)*s) ? (char)tolower((unsigned char)*s) : '-';
	}
	while (n && name[n - 1] == '-')
		n--;
	for (i = 0; i < n && name[i] == '-'; i++)
		;
	buf_add(b, name + i, n - i);
}

/* A grant document of kind from a POST body: the object itself (a YAML
 * preview), or {name?, subject, <ref member>, purpose, ...} as its spec. */
static int grant_doc(const char *kind, json_t *body, json_t **doc, struct kerr *e)
{
	const char *bkind = json_string_value(json_object_get(body, "kind"));
	const char *refm = strcmp(kind, "AgentSecretGrant") ? "configMapRef" : "secretRef";
	json_t *spec;
	struct buf name = BUF_INIT(128);

	*doc = NULL;
	if (bkind) {
		if (kinds_lookup(bkind) != kinds_lookup(kind)) {
			kerr_add_reason(e, "InvalidValue", "kind", "this route writes %s objects", kind);
			return kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "the body is not an %s", kind);
		}
		*doc = json_incref(body);
		return 0;
	}
	spec = json_deep_copy(body);
	if (!spec)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	json_object_del(spec, "name");
	if (json_is_string(json_object_get(body, "name")))
		buf_addstr(&name, json_string_value(json_object_get(body, "name")));
	else
		default_grant_name(&name, ref_name(json_object_get(body, "subject")),
				   ref_name(json_object_get(body, refm)));
	*doc = json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion", KRATE_API_VERSION, "kind", kind, "metadata",
			 "name", name.data ? name.data : "", "spec", spec);
	buf_free(&name);
	return *doc ? 0 : kerr_set(e, KE_NOMEM, NULL, "out of memory");
}

/* The Secret or ConfigMap a grant doc names must exist in org. */
static int grant_target_exists(struct api *a, const char *org, json_t *doc, struct kerr *e)
{
	int secret = !strcmp(json_string_value(json_object_get(doc, "kind")), "AgentSecretGrant");
	const char *refm = secret ? "secretRef" : "configMapRef", *kind = secret ? "Secret" : "ConfigMap";
	const char *name = ref_name(json_object_get(json_object_get(doc, "spec"), refm));
	char ns[96], field[32], *json = NULL;
	size_t len;
	int rc;

	snprintf(field, sizeof(field), "spec.%s", refm);
	if (!name || !util_dns_label(name)) {
		kerr_add_reason(e, name ? "InvalidValue" : "Required", field, "%s must name a %s of the org", field,
				kind);
		return kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "%s is invalid: %s",
				json_string_value(json_object_get(doc, "kind")), field);
	}
	admission_org_namespace(org, ns, sizeof(ns));
	rc = store_get(a->store, kind, ns, name, &json, &len, e);
	free(json);
	if (rc == KE_NOTFOUND) {
		kerr_clear(e);
		kerr_add_reason(e, "NotFound", field, "%s '%s' does not exist in org %s", kind, name, org);
		return kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "%s '%s' does not exist", kind, name);
	}
	return rc;
}

/* Creates (or updates) the grant doc in org, waiting for the commit; the
 * refusals before the write are audited here, the rest by api_apply_sync. */
static int grant_create(struct api *a, const struct principal *p, const char *org, json_t *doc, const char *cid,
			json_t **created, int *status, struct kerr *e)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	json_t *docs = NULL, *results = NULL;
	int rc;

	*created = NULL;
	if (!kind || (strcmp(kind, "AgentSecretGrant") && strcmp(kind, "AgentConfigGrant"))) {
		kerr_add_reason(e, "InvalidValue", "kind", "kind must be AgentSecretGrant or AgentConfigGrant");
		rc = kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "not a grant");
	} else if (!(rc = api_org_check(a, p, org, e)) && !(rc = need_admin(p, kind, e))) {
		rc = grant_target_exists(a, org, doc, e);
	}
	if (rc)
		return record_deny(a, p, "apply", org, cid, e);
	docs = json_pack("[O]", doc);
	if (!docs)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	rc = api_apply_sync(a, p, org, docs, cid, &results, e);
	if (!rc) {
		json_t *first = json_array_get(results, 0);

		*created = json_incref(json_object_get(first, "object"));
		*status = (int)json_integer_value(json_object_get(first, "status"));
	}
	json_decref(docs);
	json_decref(results);
	return rc;
}

int api_agents_grant_create(struct api *a, const struct principal *p, const char *org, json_t *doc,
			    const char *correlation_id, json_t **created, struct kerr *e)
{
	int status;

	return grant_create(a, p, org, doc, correlation_id, created, &status, e);
}

static int grants_post(struct api *a, struct http_req *r, const struct route_match *m, const struct principal *p,
		       const char *kind)
{
	struct kerr e = KERR_INIT;
	const char *org;
	json_t *body = NULL, *doc = NULL, *created = NULL;
	int status = 200;

	if (route_org(a, r, m, p, &org, &e) || need_admin(p, kind, &e) || body_object(r, &body, &e) ||
	    grant_doc(kind, body, &doc, &e)) {
		json_decref(body);
		return fail_write(a, r, p, "apply", org, NULL, &e);
	}
	if (grant_create(a, p, org, doc, http_req_correlation_id(r), &created, &status, &e)) {
		json_decref(body);
		json_decref(doc);
		return respond_error(r, &e);
	}
	http_respond_json(r, status, created);
	json_decref(body);
	json_decref(doc);
	return HTTP_DONE;
}

int h_agents_secret_grants(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return grants_post(a, r, m, p, "AgentSecretGrant");
}

int h_agents_config_grants(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return grants_post(a, r, m, p, "AgentConfigGrant");
}

/* ---- permission review ---- */

/* A string member of the review request: absent is NULL, anything but a
 * string of 1..REVIEW_FIELD_MAX bytes is a reason. */
static const char *review_field(json_t *req, const char *key, int required, int *bad, struct kerr *e)
{
	json_t *v = json_object_get(req, key);
	const char *s = json_string_value(v);

	if (!v || json_is_null(v)) {
		if (required) {
			kerr_add_reason(e, "Required", key, "%s is required", key);
			(*bad)++;
		}
		return NULL;
	}
	if (!s || !*s || json_string_length(v) > REVIEW_FIELD_MAX || strlen(s) != json_string_length(v)) {
		kerr_add_reason(e, "InvalidValue", key, "%s must be a string of 1 to %d bytes", key, REVIEW_FIELD_MAX);
		(*bad)++;
		return NULL;
	}
	return s;
}

int api_agents_review(struct api *a, const struct principal *p, const char *org, json_t *req, json_t **out,
		      struct kerr *e)
{
	struct review_req q = { 0 };
	json_t *snap = NULL;
	char ns[96];
	int bad = 0, rc;

	*out = NULL;
	if ((rc = api_org_check(a, p, org, e)))
		return rc;
	if (!json_is_object(req))
		return kerr_set(e, KE_INVALID, "INVALID_JSON", "the body must be a JSON object");
	q.repository = review_field(req, "repository", 1, &bad, e);
	q.ref = review_field(req, "ref", 1, &bad, e);
	q.agent_stack = review_field(req, "agentStack", 1, &bad, e);
	q.actor = review_field(req, "actor", 0, &bad, e);
	q.trigger_source = review_field(req, "triggerSource", 0, &bad, e);
	q.task_kind = review_field(req, "taskKind", 0, &bad, e);
	q.runner_pool = review_field(req, "runnerPool", 0, &bad, e);
	if (bad)
		return kerr_set(e, KE_INVALID, "BAD_REQUEST", "the review request is invalid");
	if (!q.actor)
		q.actor = p->user;
	admission_org_namespace(org, ns, sizeof(ns));
	rc = agents_snapshot(a->store, ns, &snap, e);
	if (!rc)
		rc = review_run(&q, snap, out, e);
	json_decref(snap);
	return rc;
}

int h_agents_review(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *org;
	json_t *body = NULL, *out = NULL;

	if (route_org(a, r, m, p, &org, &e) || body_object(r, &body, &e) ||
	    api_agents_review(a, p, org, body, &out, &e)) {
		json_decref(body);
		return respond_error(r, &e);
	}
	json_decref(body);
	http_respond_json(r, 200, out);
	return HTTP_DONE;
}

/* ---- capability requirements ---- */

/* What stack needs (review_run for repository and ref) and which grants are missing. */
static json_t *requirements(json_t *stack, json_t *snap, const struct review_req *base, struct kerr *e)
{
	struct review_req q = *base;
	json_t *rv = NULL, *item;

	q.agent_stack = obj_str(stack, "metadata", "name");
	if (review_run(&q, snap, &rv, e))
		return NULL;
	item = json_pack("{s:s?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "stack", q.agent_stack,
			 "phase", json_object_get(json_object_get(stack, "status"), "phase"), "decision",
			 json_object_get(rv, "decision"), "runtimeIdentity", json_object_get(rv, "runtimeIdentity"),
			 "requiredRoles", json_object_get(rv, "requiredRoles"), "requiredSecrets",
			 json_object_get(rv, "requiredSecrets"), "requiredConfigs", json_object_get(rv, "requiredConfigs"),
			 "missingGrants", json_object_get(rv, "missingGrants"), "yamlPreview",
			 json_object_get(rv, "yamlPreview"), "digest", json_object_get(rv, "digest"));
	json_decref(rv);
	return item;
}

int h_agents_capabilities(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	struct review_req q = { 0 };
	const char *org, *want = http_req_query(r, "stack");
	json_t *snap = NULL, *items = NULL, *stack;
	char ns[96];
	size_t i;

	if (route_org(a, r, m, p, &org, &e))
		return respond_error(r, &e);
	q.repository = http_req_query(r, "repository");
	q.ref = http_req_query(r, "ref");
	q.actor = p->user;
	/* Requirements come from the stack; any repository and ref show them. */
	if (!q.repository || !*q.repository)
		q.repository = "";
	if (!q.ref || !*q.ref)
		q.ref = "refs/heads/main";
	admission_org_namespace(org, ns, sizeof(ns));
	if (agents_snapshot(a->store, ns, &snap, &e))
		return respond_error(r, &e);
	if (want && *want && !snapshot_find(snap, "AgentStack", want)) {
		json_decref(snap);
		kerr_set(&e, KE_NOTFOUND, "NOT_FOUND", "AgentStack '%s' not found in org %s", want, org);
		return respond_error(r, &e);
	}
	items = json_array();
	json_array_foreach(json_object_get(snap, "AgentStack"), i, stack) {
		const char *name = obj_str(stack, "metadata", "name");
		json_t *item;

		if (!name || (want && *want && strcmp(want, name)))
			continue;
		item = requirements(stack, snap, &q, &e);
		if (!item) {
			json_decref(items);
			json_decref(snap);
			return respond_error(r, &e);
		}
		json_array_append_new(items, item);
	}
	json_decref(snap);
	http_respond_json(r, 200, json_pack("{s:s, s:o}", "org", org, "items", items));
	return HTTP_DONE;
}
