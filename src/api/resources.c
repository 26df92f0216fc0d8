#include "api/api_internal.h"
#include "api/records.h"
#include "core/util.h"
#include "core/yaml.h"
#include "model/admission.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define APPLY_MAX_DOCS 1000
#define LIST_MAX_LIMIT 10000

/* Where one object lives, resolved from the route and query. */
struct target {
	const struct kind_def *kd;
	const char *org;          /* org slug (org-scoped kinds), or NULL */
	char ns[96];
	const char *name;
};

static const char *obj_str(json_t *obj, const char *sect, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, sect), key));
}

/* Parses a decimal resourceVersion; 0 when absent. -1 when malformed. */
static int64_t parse_rv(const char *s)
{
	char *end;
	long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	return v;
}

static int64_t object_rv(json_t *obj)
{
	json_t *rv = json_object_get(json_object_get(obj, "metadata"), "resourceVersion");

	if (!rv || json_is_null(rv))
		return 0;
	if (json_is_integer(rv))
		return json_integer_value(rv) >= 0 ? json_integer_value(rv) : -1;
	return json_is_string(rv) ? parse_rv(json_string_value(rv)) : -1;
}

/* Resolves kind, org and namespace for the single-object routes. route_org is
 * the {org} of /api/orgs/{org}/..., else NULL (then ?namespace= or the
 * token's org decides). */
/* Org visibility without a store read; the org's existence is checked by the caller. */
static int org_visible(const struct principal *p, const char *org, struct kerr *e)
{
	if (!org || !util_dns_label(org) || !api_org_allowed(p, org))
		return kerr_set(e, KE_NOTFOUND, "ORG_NOT_FOUND", "organization not found");
	return 0;
}

/* verify_org = 0 skips the read of the Organization: a GET that finds its
 * object proves the org exists, and checks it only when the object is missing. */
static int resolve_target(struct api *a, struct http_req *r, const struct principal *p, const char *route_org,
			  const char *kind, const char *name, int verify_org, struct target *t, struct kerr *e)
{
	const char *org = route_org;

	memset(t, 0, sizeof(*t));
	t->kd = kinds_lookup(kind);
	t->name = name;
	if (!t->kd)
		return kerr_set(e, KE_NOTFOUND, "UNKNOWN_KIND", "unknown resource kind '%s'", kind);
	if (route_org && (verify_org ? api_org_check(a, p, route_org, e) : org_visible(p, route_org, e)))
		return e->kcode;
	if (t->kd->scope == SCOPE_PLATFORM) {
		/* Platform objects are per-org records named after the org. */
		if ((route_org && strcmp(name, route_org)) || (p->org && strcmp(name, p->org)))
			return kerr_set(e, KE_NOTFOUND, NULL, "%s '%s' not found", t->kd->kind, name);
		strcpy(t->ns, KRATE_PLATFORM_NS);
		return 0;
	}
	if (!org)
		org = api_namespace_org(http_req_query(r, "namespace"));
	if (!org)
		org = p->org;
	if (!org)
		return kerr_set(e, KE_UNPROCESSABLE, "ORG_REQUIRED",
				"%s is org-scoped: give ?namespace=krate-org-<org> or use /api/orgs/{org}/...",
				t->kd->kind);
	if (!route_org && (verify_org ? api_org_check(a, p, org, e) : org_visible(p, org, e)))
		return e->kcode;
	if (admission_org_namespace(org, t->ns, sizeof(t->ns)))
		return kerr_set(e, KE_NOTFOUND, "ORG_NOT_FOUND", "organization not found");
	t->org = org;
	return 0;
}

static int do_get(struct api *a, struct http_req *r, const struct principal *p, const char *route_org,
		  const char *kind, const char *name)
{
	struct kerr e = KERR_INIT;
	struct target t;
	char *json = NULL, *shown;
	size_t len, shown_len;
	int rc = resolve_target(a, r, p, route_org, kind, name, 0, &t, &e);

	if (!rc) {
		rc = store_get(a->store, t.kd->kind, t.ns, name, &json, &len, &e);
		if (rc == KE_NOTFOUND && t.org && api_org_check(a, p, t.org, &e) == 0 && !e.resource)
			kerr_set_resource(&e, t.kd->kind, t.ns, name);
	}
	if (rc) {
		api_fail(r, &e);
		kerr_clear(&e);
		return HTTP_DONE;
	}
	rc = api_redact_text(json, len, &shown, &shown_len);
	if (rc < 0) {
		free(json);
		return api_failf(r, rc, NULL, "cannot read %s %s", t.kd->kind, name);
	}
	if (rc) {
		free(json);
		json = shown;
		len = shown_len;
	}
	http_respond_owned(r, 200, "application/json", json, len);
	return HTTP_DONE;
}

int h_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return do_get(a, r, p, m->org, m->seg[0], m->seg[1]);
}

/* ---- lists ---- */

static int do_list(struct api *a, struct http_req *r, const struct principal *p, const char *route_org)
{
	const char *kind = http_req_query(r, "kind"), *limit_s = http_req_query(r, "limit");
	const char *sel = http_req_query(r, "labelSelector"), *ns_q = http_req_query(r, "namespace");
	const struct kind_def *kd = NULL;
	struct store_list_query q = { 0 };
	struct store_list_result res = { 0 };
	struct buf out = BUF_INIT(BUF_DEFAULT_MAX), selb = BUF_INIT(4096);
	struct kerr e = KERR_INIT;
	const char *org = route_org;
	char ns[96];
	size_t i;
	int rc = 0;

	if (kind && *kind && !(kd = kinds_lookup(kind))) {
		rc = kerr_set(&e, KE_NOTFOUND, "UNKNOWN_KIND", "unknown resource kind '%s'", kind);
		goto fail;
	}
	if (limit_s) {
		int64_t lim = parse_rv(limit_s);

		if (lim <= 0 || lim > LIST_MAX_LIMIT) {
			rc = kerr_set(&e, KE_INVALID, NULL, "limit must be between 1 and %d", LIST_MAX_LIMIT);
			goto fail;
		}
		q.limit = (size_t)lim;
	}
	if (!org && ns_q && *ns_q)
		org = api_namespace_org(ns_q);
	if (!org && p->org)
		org = p->org;
	if (org && api_org_check(a, p, org, &e)) {
		rc = e.kcode;
		goto fail;
	}
	if (sel && *sel)
		buf_addstr(&selb, sel);
	if (kd && kd->scope == SCOPE_PLATFORM) {
		q.ns = KRATE_PLATFORM_NS;
		if (org)
			buf_printf(&selb, "%s%s=%s", selb.len ? "," : "", KRATE_LABEL_ORG, org);
	} else if (org) {
		admission_org_namespace(org, ns, sizeof(ns));
		q.ns = ns;
	} else if (ns_q && !strcmp(ns_q, KRATE_PLATFORM_NS)) {
		q.ns = KRATE_PLATFORM_NS;
	}
	q.kind = kd ? kd->kind : NULL;
	q.selector = selb.len ? selb.data : NULL;
	q.cont = http_req_query(r, "continue");
	rc = store_list(a->store, &q, &res, &e);
	if (rc)
		goto fail;
	rc = buf_printf(&out, "{\"apiVersion\":\"%s\",\"kind\":\"%s%s\",\"metadata\":{\"resourceVersion\":\"%lld\"",
			KRATE_API_VERSION, kd ? kd->kind : "", "List", (long long)res.rv);
	if (!rc && res.cont) {
		rc = buf_addstr(&out, ",\"continue\":");
		if (!rc)
			rc = buf_add_json_string(&out, res.cont);
	}
	if (!rc)
		rc = buf_addstr(&out, "},\"items\":[");
	for (i = 0; !rc && i < res.n; i++) {
		char *shown = NULL;
		size_t shown_len;
		int red = api_redact_text(res.items[i], res.lens[i], &shown, &shown_len);

		if (i)
			rc = buf_addch(&out, ',');
		if (!rc && red < 0)
			rc = red;
		if (!rc)
			rc = red ? buf_add(&out, shown, shown_len) : buf_add(&out, res.items[i], res.lens[i]);
		free(shown);
	}
	if (!rc)
		rc = buf_addstr(&out, "]}");
	store_list_result_free(&res);
	buf_free(&selb);
	if (rc) {
		buf_free(&out);
		return api_failf(r, rc, NULL, "%s", rc == KE_TOOBIG ? "the list is too large; use limit and continue"
								: "cannot read the list");
	}
	{
		size_t len;
		char *body = buf_detach(&out, &len);

		http_respond_owned(r, 200, "application/json", body, len);
	}
	return HTTP_DONE;
fail:
	buf_free(&out);
	buf_free(&selb);
	api_fail(r, &e);
	kerr_clear(&e);
	return HTTP_DONE;
}

int h_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return do_list(a, r, p, m->org);
}

/* ---- apply (POST) ---- */

/* 1 if an Organization named org is among docs[0..upto). */
static int org_in_docs(json_t *docs, size_t upto, const char *org)
{
	size_t i;

	for (i = 0; i < upto; i++) {
		json_t *d = json_array_get(docs, i);

		if (!strcmp(json_string_value(json_object_get(d, "kind")), "Organization") &&
		    !strcmp(obj_str(d, "metadata", "name"), org))
			return 1;
	}
	return 0;
}

/* Admission, visibility and RBAC for one document. */
static int admit_doc(struct api *a, const struct principal *p, const char *route_org, json_t *docs, size_t idx,
		     const struct kind_def **kdp, struct kerr *e)
{
	json_t *doc = json_array_get(docs, idx);
	struct admission_ctx ctx = { route_org };
	const struct kind_def *kd;
	const char *org;
	int rc = admission_check(doc, &ctx, &kd, e);

	if (rc)
		return rc;
	*kdp = kd;
	if (kd->scope == SCOPE_PLATFORM) {
		if (p->org)
			return kerr_set(e, KE_FORBIDDEN, NULL, "an org-bound token may not write %s objects", kd->kind);
		if (p->role < ROLE_ADMIN)
			return kerr_set(e, KE_FORBIDDEN, NULL, "role %s may not write %s objects",
					kinds_role_name(p->role), kd->kind);
		org = obj_str(doc, "spec", "organizationRef");
		if (strcmp(kd->kind, "Organization") && org && !org_in_docs(docs, idx, org))
			return api_org_check(a, p, org, e);
		return 0;
	}
	org = obj_str(doc, "spec", "organizationRef");
	if (!org) {
		/* org-optional kinds (PolicyTemplate) without an org are platform-wide */
		if (p->org || p->role < ROLE_ADMIN)
			return kerr_set(e, KE_FORBIDDEN, NULL, "only platform admins may write platform-wide %s objects",
					kd->kind);
		return 0;
	}
	if (!api_org_allowed(p, org) || (!org_in_docs(docs, idx, org) && api_org_check(a, p, org, e)))
		return kerr_set(e, KE_NOTFOUND, "ORG_NOT_FOUND", "organization '%s' not found",
				api_org_allowed(p, org) ? org : "(not visible)");
	if (p->role < (int)kd->write_role)
		return kerr_set(e, KE_FORBIDDEN, NULL, "role %s may not write %s objects (needs %s)",
				kinds_role_name(p->role), kd->kind, kinds_role_name(kd->write_role));
	return api_policy_check(a, org, doc, e);
}

static void set_op_target(struct store_op *op, json_t *doc)
{
	op->kind = json_string_value(json_object_get(doc, "kind"));
	op->ns = obj_str(doc, "metadata", "namespace");
	op->name = obj_str(doc, "metadata", "name");
	op->obj = doc;
}

static int check_write_role(const struct principal *p, const struct kind_def *kd, struct kerr *e)
{
	if (kd->scope == SCOPE_PLATFORM && (p->org || p->role < ROLE_ADMIN))
		return kerr_set(e, KE_FORBIDDEN, NULL, "this token may not write %s objects", kd->kind);
	if (p->role < (int)kd->write_role)
		return kerr_set(e, KE_FORBIDDEN, NULL, "role %s may not write %s objects (needs %s)",
				kinds_role_name(p->role), kd->kind, kinds_role_name(kd->write_role));
	return 0;
}

/* Admission, visibility and RBAC for every doc (changed in place), with the
 * audit description of what is applied in res. *extra counts the additional
 * ops the docs bring (an Organization's OrgNamespaceBinding). */
static int admit_docs(struct api *a, const struct principal *p, const char *route_org, json_t *docs,
		      const char **audit_org, size_t *extra, struct buf *res, struct kerr *e)
{
	size_t n = json_array_size(docs), i;
	int rc;

	*extra = 0;
	if (n == 0 || n > APPLY_MAX_DOCS)
		return kerr_set(e, KE_INVALID, NULL, "a request applies between 1 and %d objects", APPLY_MAX_DOCS);
	for (i = 0; i < n; i++) {
		const struct kind_def *kd = NULL;
		json_t *doc = json_array_get(docs, i);

		rc = admit_doc(a, p, route_org, docs, i, &kd, e);
		/* Secrets are sealed once the object may be written, and before it is. */
		if (!rc)
			rc = api_seal_doc(a, doc, e);
		if (rc) {
			/* never echo a namespace the caller may not see */
			if (!e->resource && json_is_object(doc) && e->kcode != KE_NOTFOUND)
				kerr_set_resource(e, json_string_value(json_object_get(doc, "kind")),
						  obj_str(doc, "metadata", "namespace"), obj_str(doc, "metadata", "name"));
			if (n > 1 && e->message) {
				struct buf msg = BUF_INIT(8192);

				buf_printf(&msg, "object %zu: %s", i + 1, e->message);
				free(e->message);
				e->message = buf_detach(&msg, NULL);
			}
			return rc;
		}
		if (object_rv(doc) < 0)
			return kerr_set(e, KE_INVALID, NULL, "metadata.resourceVersion must be a decimal number");
		if (!strcmp(kd->kind, "Organization"))
			(*extra)++;
		if (!*audit_org)
			*audit_org = obj_str(doc, "spec", "organizationRef");
		if (i < 20) {
			if (i)
				buf_addch(res, ',');
			api_resource_id(res, kd->kind, obj_str(doc, "metadata", "namespace"),
					obj_str(doc, "metadata", "name"));
		}
	}
	if (n > 20)
		buf_printf(res, ",... (%zu objects)", n);
	return 0;
}

/* One APPLY op per admitted doc, then the docs' extra ops; the docs must stay
 * alive (in keep) until the write is done. Returns the op count. */
static size_t fill_apply_ops(json_t *docs, struct store_op *ops, json_t *keep)
{
	size_t n = json_array_size(docs), i, nops = n;

	for (i = 0; i < n; i++) {
		json_t *doc = json_array_get(docs, i);

		ops[i].type = STORE_OP_APPLY;
		set_op_target(&ops[i], doc);
		ops[i].expect_rv = object_rv(doc);
	}
	for (i = 0; i < n; i++) {
		json_t *doc = json_array_get(docs, i);

		if (!strcmp(json_string_value(json_object_get(doc, "kind")), "Organization"))
			nops += api_org_extra_ops(doc, 0, ops + nops, keep);
	}
	return nops;
}

int api_apply_docs(struct api *a, struct http_req *r, const struct principal *p, const char *route_org,
		   json_t *docs)
{
	size_t n = json_array_size(docs), extra;
	struct kerr e = KERR_INIT;
	struct buf res = BUF_INIT(4096);
	struct write_req *w = NULL;
	const char *audit_org = route_org ? route_org : p->org;
	int rc;

	if (admit_docs(a, p, route_org, docs, &audit_org, &extra, &res, &e))
		goto deny;
	w = write_req_new(a, r, p, n + extra, "apply", audit_org, res.data);
	if (!w) {
		kerr_set(&e, KE_NOMEM, NULL, "out of memory");
		goto deny;
	}
	json_array_extend(w->keep, docs);
	w->nops = fill_apply_ops(w->keep, w->ops, w->keep);
	w->nreply = n;
	w->reply = n == 1 ? REPLY_OBJECT : REPLY_ITEMS;
	buf_free(&res);
	return write_submit(w);
deny:
	rc = write_deny(a, r, p, "apply", audit_org, res.len ? res.data : e.resource, &e);
	buf_free(&res);
	kerr_clear(&e);
	return rc;
}

/* Commits ops with their audit entry and waits; a refusal (n == 0) is
 * recorded as "denied:<CODE>". Copies a failure into e. */
static int write_and_wait(struct api *a, const struct principal *p, const char *verb, const char *org,
			  const char *resource, struct store_op *ops, size_t n, const char *cid,
			  const struct kerr *denied, struct kerr *e)
{
	struct store_batch b = { 0 };
	struct buf result = BUF_INIT(256);
	int rc;

	if (denied)
		buf_printf(&result, "denied:%s", denied->code ? denied->code : kerr_default_code(denied->kcode));
	b.ops = n ? ops : NULL;
	b.n = n;
	b.audit.actor = p->user ? p->user : "anonymous";
	b.audit.org = org;
	b.audit.verb = verb;
	b.audit.resource = resource ? resource : "";
	b.audit.result = denied ? result.data : "allowed";
	b.audit.correlation_id = cid;
	rc = store_write(a->store, &b);
	if (rc && !denied) {
		kerr_set(e, rc, b.err.code, "%s", b.err.message ? b.err.message : "the write failed");
		if (b.err.resource)
			e->resource = strdup(b.err.resource);
	}
	kerr_clear(&b.err);
	buf_free(&result);
	return denied ? denied->kcode : rc;
}

int api_apply_sync(struct api *a, const struct principal *p, const char *route_org, json_t *docs,
		   const char *cid, json_t **results, struct kerr *e)
{
	size_t n = json_array_size(docs), extra = 0, nops = 0, i;
	struct buf res = BUF_INIT(4096);
	const char *audit_org = route_org ? route_org : p->org;
	struct store_op *ops = NULL;
	json_t *keep = json_array();
	int rc;

	*results = NULL;
	if ((route_org && api_org_check(a, p, route_org, e)) ||
	    admit_docs(a, p, route_org, docs, &audit_org, &extra, &res, e)) {
		rc = write_and_wait(a, p, "apply", audit_org, res.len ? res.data : e->resource, NULL, 0, cid, e, e);
		goto out;
	}
	ops = calloc(n + extra, sizeof(*ops));
	if (!ops) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	json_array_extend(keep, docs);
	nops = fill_apply_ops(keep, ops, keep);
	rc = write_and_wait(a, p, "apply", audit_org, res.data, ops, nops, cid, NULL, e);
	if (!rc) {
		*results = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(*results, json_pack("{s:i, s:o}", "status", ops[i].created ? 201 : 200,
								  "object", api_redacted(ops[i].result)));
	}
out:
	for (i = 0; i < nops; i++)
		json_decref(ops[i].result);
	free(ops);
	json_decref(keep);
	buf_free(&res);
	return rc;
}

int api_delete_sync(struct api *a, const struct principal *p, const char *org, const char *kind,
		    const char *name, const char *cid, struct kerr *e)
{
	const struct kind_def *kd = kinds_lookup(kind);
	struct store_op ops[2] = { { 0 } };
	struct buf res = BUF_INIT(1024);
	json_t *keep = json_array(), *tgt;
	char ns[96];
	size_t nops = 1, i;
	int rc;

	if (!kd) {
		kerr_set(e, KE_NOTFOUND, "UNKNOWN_KIND", "unknown resource kind '%s'", kind);
	} else if (!api_org_check(a, p, org, e) && !check_write_role(p, kd, e)) {
		if (kd->scope == SCOPE_PLATFORM)
			snprintf(ns, sizeof(ns), "%s", KRATE_PLATFORM_NS);
		else
			admission_org_namespace(org, ns, sizeof(ns));
		api_resource_id(&res, kd->kind, ns, name);
		tgt = json_pack("{s:s, s:{s:s, s:s}}", "kind", kd->kind, "metadata", "name", name, "namespace", ns);
		json_array_append_new(keep, tgt);
		ops[0].type = STORE_OP_DELETE;
		set_op_target(&ops[0], tgt);
		ops[0].obj = NULL;
		if (!strcmp(kd->kind, "Organization"))
			nops += api_org_extra_ops(tgt, 1, ops + 1, keep);
		rc = write_and_wait(a, p, "delete", org, res.data, ops, nops, cid, NULL, e);
		goto out;
	}
	rc = write_and_wait(a, p, "delete", org, res.len ? res.data : NULL, NULL, 0, cid, e, e);
	nops = 0;
out:
	for (i = 0; i < nops; i++)
		json_decref(ops[i].result);
	json_decref(keep);
	buf_free(&res);
	return rc;
}

static int do_apply(struct api *a, struct http_req *r, const struct principal *p, const char *route_org)
{
	size_t len;
	const char *body = http_req_body(r, &len);
	json_t *docs = NULL;
	struct kerr e = KERR_INIT;
	int rc;

	if (route_org && api_org_check(a, p, route_org, &e))
		goto deny;
	if (yaml_or_json_parse(body, len, &docs, &e))
		goto deny;
	rc = api_apply_docs(a, r, p, route_org, docs);
	json_decref(docs);
	return rc;
deny:
	rc = write_deny(a, r, p, "apply", route_org ? route_org : p->org, NULL, &e);
	kerr_clear(&e);
	return rc;
}

int h_apply(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return do_apply(a, r, p, m->org);
}

/* ---- PUT (update) and PUT .../status ---- */


static int do_put(struct api *a, struct http_req *r, const struct principal *p, const char *route_org,
		  const char *kind, const char *name, int status_only)
{
	size_t len;
	const char *body = http_req_body(r, &len);
	json_t *docs = NULL, *doc;
	struct kerr e = KERR_INIT;
	struct target t;
	struct buf res = BUF_INIT(1024);
	struct write_req *w;
	const char *verb = status_only ? "status" : "update";
	struct admission_ctx ctx;
	const struct kind_def *kd;
	int rc;

	if (resolve_target(a, r, p, route_org, kind, name, 1, &t, &e))
		goto deny;
	api_resource_id(&res, t.kd->kind, t.ns, name);
	if (check_write_role(p, t.kd, &e))
		goto deny;
	if (yaml_or_json_parse(body, len, &docs, &e))
		goto deny;
	if (json_array_size(docs) != 1) {
		kerr_set(&e, KE_INVALID, NULL, "PUT takes exactly one object");
		goto deny;
	}
	doc = json_array_get(docs, 0);
	if (object_rv(doc) < 0) {
		kerr_set(&e, KE_INVALID, NULL, "metadata.resourceVersion must be a decimal number");
		goto deny;
	}
	if (status_only) {
		json_t *st = json_object_get(doc, "status");

		if (!json_is_object(st)) {
			kerr_set(&e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "the body needs a status object");
			kerr_add_reason(&e, "InvalidType", "status", "status must be an object");
			goto deny;
		}
	} else {
		ctx.org = t.org;
		if (admission_check(doc, &ctx, &kd, &e) || api_policy_check(a, t.org, doc, &e))
			goto deny;
		if (kd != t.kd || strcmp(obj_str(doc, "metadata", "name"), name) ||
		    strcmp(obj_str(doc, "metadata", "namespace"), t.ns)) {
			kerr_set(&e, KE_INVALID, NULL, "the body's kind, namespace and name must match the URL");
			goto deny;
		}
		if (api_seal_doc(a, doc, &e))
			goto deny;
	}
	w = write_req_new(a, r, p, 1, verb, t.org, res.data);
	if (!w) {
		kerr_set(&e, KE_NOMEM, NULL, "out of memory");
		goto deny;
	}
	json_array_append(w->keep, doc);
	w->ops[0].type = status_only ? STORE_OP_STATUS : STORE_OP_UPDATE;
	if (status_only) {
		/* t and the URL captures end with this call: point the op into kept JSON */
		json_t *tgt = json_pack("{s:s, s:{s:s, s:s}}", "kind", t.kd->kind, "metadata", "name", name,
					"namespace", t.ns);

		json_array_append_new(w->keep, tgt);
		set_op_target(&w->ops[0], tgt);
		w->ops[0].obj = json_object_get(doc, "status");
	} else {
		set_op_target(&w->ops[0], doc);
	}
	w->ops[0].expect_rv = object_rv(doc);
	w->nops = 1;
	w->nreply = 1;
	w->reply = REPLY_OBJECT;
	json_decref(docs);
	buf_free(&res);
	return write_submit(w);
deny:
	rc = write_deny(a, r, p, verb, t.org ? t.org : route_org, res.len ? res.data : NULL, &e);
	json_decref(docs);
	buf_free(&res);
	kerr_clear(&e);
	return rc;
}

int h_put(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return do_put(a, r, p, m->org, m->seg[0], m->seg[1], 0);
}

int h_put_status(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return do_put(a, r, p, m->org, m->seg[0], m->seg[1], 1);
}

/* ---- DELETE ---- */

static int do_delete(struct api *a, struct http_req *r, const struct principal *p, const char *route_org,
		     const char *kind, const char *name)
{
	struct kerr e = KERR_INIT;
	struct target t;
	struct buf res = BUF_INIT(1024);
	struct write_req *w;
	int64_t rv = parse_rv(http_req_query(r, "resourceVersion"));
	json_t *tgt;
	int rc;

	if (resolve_target(a, r, p, route_org, kind, name, 1, &t, &e))
		goto deny;
	api_resource_id(&res, t.kd->kind, t.ns, name);
	if (check_write_role(p, t.kd, &e))
		goto deny;
	if (rv < 0) {
		kerr_set(&e, KE_INVALID, NULL, "resourceVersion must be a decimal number");
		goto deny;
	}
	w = write_req_new(a, r, p, 3, "delete", t.org ? t.org : (t.kd->scope == SCOPE_PLATFORM ? name : NULL),
			  res.data);
	if (!w) {
		kerr_set(&e, KE_NOMEM, NULL, "out of memory");
		goto deny;
	}
	tgt = json_pack("{s:s, s:{s:s, s:s}}", "kind", t.kd->kind, "metadata", "name", name, "namespace", t.ns);
	json_array_append_new(w->keep, tgt);
	w->ops[0].type = STORE_OP_DELETE;
	set_op_target(&w->ops[0], tgt);
	w->ops[0].obj = NULL;
	w->ops[0].expect_rv = rv;
	w->nops = 1;
	if (!strcmp(t.kd->kind, "Organization"))
		w->nops += api_org_extra_ops(tgt, 1, w->ops + 1, w->keep);
	w->nreply = 1;
	w->reply = REPLY_DELETED;
	buf_free(&res);
	return write_submit(w);
deny:
	rc = write_deny(a, r, p, "delete", t.org ? t.org : route_org, res.len ? res.data : NULL, &e);
	buf_free(&res);
	kerr_clear(&e);
	return rc;
}

int h_delete(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return do_delete(a, r, p, m->org, m->seg[0], m->seg[1]);
}
