/* Dispatching agent runs and reading them: POST/GET /api/agents/runs, a run
 * with its attempts, bundles and artifacts (with the artifact's CAS content),
 * and the helpers the action and event files share (agents_api.h). */
#include "api/agents_api.h"
#include "agents/bundle.h"
#include "agents/secrets.h"
#include "core/util.h"
#include "model/admission.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_MAX 100

/* ---- helpers ---- */

const char *agents_route_org(struct api *a, struct http_req *r, const struct route_match *m,
			     const struct principal *p, struct kerr *e)
{
	const char *org = m->org;

	if (!org)
		org = http_req_query(r, "org");
	if (org && !*org)
		org = NULL;
	if (!org)
		org = p->org;
	if (org && api_org_check(a, p, org, e))
		return NULL;
	return org;
}

int agents_find(struct api *a, const struct principal *p, const char *org, const char *kind, const char *name,
		char *org_out, json_t **obj, struct kerr *e)
{
	json_t *orgs = NULL, *o;
	char ns[96], *json = NULL;
	size_t len, i;
	int rc = 0, found = 0;

	*obj = NULL;
	if (org) {
		if ((rc = api_org_check(a, p, org, e)))
			return rc;
		orgs = json_pack("[{s:s}]", "name", org);
	} else {
		orgs = api_visible_orgs(a, p, e);
	}
	if (!orgs)
		return e->kcode ? e->kcode : kerr_set(e, KE_NOMEM, NULL, "out of memory");
	json_array_foreach(orgs, i, o) {
		const char *slug = json_string_value(json_object_get(o, "name"));

		if (!slug || admission_org_namespace(slug, ns, sizeof(ns)) || strlen(slug) >= AGENTS_NAME_MAX)
			continue;
		rc = store_get(a->store, kind, ns, name, &json, &len, e);
		if (rc == KE_NOTFOUND) {
			kerr_clear(e);
			rc = 0;
			continue;
		}
		if (rc)
			break;
		if (found++) {
			/* The same name in two orgs: only the caller can say which. */
			rc = kerr_set(e, KE_CONFLICT, "AMBIGUOUS", "%s %s exists in more than one org; give ?org=", kind,
				      name);
			free(json);
			break;
		}
		*obj = json_loadb(json, len, 0, NULL);
		free(json);
		if (!*obj) {
			rc = kerr_set(e, KE_INTERNAL, NULL, "cannot read %s %s", kind, name);
			break;
		}
		snprintf(org_out, AGENTS_NAME_MAX, "%s", slug);
	}
	json_decref(orgs);
	if (!rc && !found)
		rc = kerr_set(e, KE_NOTFOUND, "NOT_FOUND", "%s %s not found", kind, name);
	if (rc) {
		json_decref(*obj);
		*obj = NULL;
	}
	return rc;
}

json_t *agents_body(struct http_req *r)
{
	size_t len;

	http_req_body(r, &len);
	if (len == 0)
		return json_object();
	return pulls_body(r);
}

int agents_need_role(const struct principal *p, int role, const char *what, struct kerr *e)
{
	if (p->role >= role)
		return 0;
	return kerr_set(e, KE_FORBIDDEN, "FORBIDDEN", "%s needs the %s role", what, kinds_role_name(role));
}

int agents_invalid(struct kerr *e, const char *field, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "%s %s", field, msg);
	kerr_add_reason(e, "InvalidValue", field, "%s %s", field, msg);
	return KE_UNPROCESSABLE;
}

const char *agents_str(json_t *obj, const char *part, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, part), key));
}

long long agents_int(json_t *obj, const char *part, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(obj, part), key));
}

long long agents_rv(json_t *obj)
{
	const char *s = agents_str(obj, "metadata", "resourceVersion");

	return s ? strtoll(s, NULL, 10) : 0;
}

int agents_terminal(const char *phase)
{
	return phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed") || !strcmp(phase, "Cancelled"));
}

void agents_now(char *out, size_t size)
{
	record_now(out, size);
}

void agents_history_add(json_t *status, const char *phase, const char *reason, const char *message, const char *at)
{
	json_t *h = json_object_get(status, "history");

	if (!json_is_array(h)) {
		h = json_array();
		json_object_set_new(status, "history", h);
	}
	json_array_append_new(h, json_pack("{s:s, s:s, s:s?, s:s?}", "phase", phase, "at", at, "reason", reason,
					   "message", message));
	while (json_array_size(h) > HISTORY_MAX)
		json_array_remove(h, 0);
}

long agents_attempt_number(const char *run, const char *attempt)
{
	size_t n = run ? strlen(run) : 0;
	const char *s;
	char *end;
	long v;

	if (!run || !attempt || strncmp(attempt, run, n) || attempt[n] != '-')
		return 0;
	s = attempt + n + 1;
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 6)
		return 0;
	v = strtol(s, &end, 10);
	return v > 0 ? v : 0;
}

static int by_number(const void *x, const void *y)
{
	long long a = agents_int(*(json_t *const *)x, "spec", "number");
	long long b = agents_int(*(json_t *const *)y, "spec", "number");

	return a < b ? -1 : a > b;
}

/* The objects of kind in ns with selector (may be NULL), as an array (new ref). */
static int list_objects(struct api *a, const char *kind, const char *ns, const char *selector, json_t **out,
			struct kerr *e)
{
	struct store_list_query q = { kind, ns, selector, 0, NULL };
	struct store_list_result res = { 0 };
	size_t i;
	int rc = store_list(a->store, &q, &res, e);

	*out = NULL;
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

/* Sorts an array of objects in place with cmp. */
static int sort_array(json_t *arr, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(arr), i;
	json_t **v = calloc(n + 1, sizeof(*v));

	if (!v)
		return KE_NOMEM;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), cmp);
	json_array_clear(arr);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
	return 0;
}

int agents_attempts(struct api *a, const char *ns, const char *run, json_t **items, struct kerr *e)
{
	char sel[128];
	int rc;

	snprintf(sel, sizeof(sel), AGENTS_LABEL_RUN "=%s", run);
	rc = list_objects(a, "AgentDispatchAttempt", ns, sel, items, e);
	if (!rc && sort_array(*items, by_number)) {
		json_decref(*items);
		*items = NULL;
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	return rc;
}

int agents_secrets(struct api *a, const char *ns, json_t **values, struct kerr *e)
{
	int rc = api_secret_values(a, ns, values);

	if (rc)
		return kerr_set(e, rc, NULL, "cannot read the org's secrets for redaction");
	return 0;
}

int agents_redact(struct api *a, const char *ns, const char *text, char **out, struct kerr *e)
{
	struct buf b = BUF_INIT(AGENTS_PROMPT_MAX * 2 + 1024);
	json_t *values = NULL, *by_kind = json_object();
	int rc;

	*out = NULL;
	if (!text)
		goto done;
	if (!by_kind) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto fail;
	}
	if ((rc = agents_secrets(a, ns, &values, e)) ||
	    (rc = redact_text(text, strlen(text), values, &b, by_kind, e)))
		goto fail;
	*out = buf_detach(&b, NULL);
done:
	secrets_free(values);
	json_decref(by_kind);
	return 0;
fail:
	buf_free(&b);
	secrets_free(values);
	json_decref(by_kind);
	return rc;
}

void agents_batch_init(struct agents_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->keep = json_array();
}

int agents_batch_add(struct agents_batch *b, const char *org, enum store_op_type type, json_t *obj,
		     long long expect_rv, struct kerr *e)
{
	struct admission_ctx ctx = { org };
	const struct kind_def *kd;
	struct store_op *op;
	json_t *meta;

	if (!obj || !b->keep || json_array_append_new(b->keep, obj))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	if (b->n == AGENTS_BATCH_MAX)
		return kerr_set(e, KE_INTERNAL, NULL, "too many writes in one batch");
	/* Created objects go through admission like any other write; updates
	 * start from the stored object, which already passed it. */
	if (type == STORE_OP_CREATE) {
		json_object_set_new(obj, "apiVersion", json_string(KRATE_API_VERSION));
		if (admission_check(obj, &ctx, &kd, e))
			return e->kcode;
	}
	meta = json_object_get(obj, "metadata");
	op = &b->ops[b->n];
	op->type = type;
	op->kind = json_string_value(json_object_get(obj, "kind"));
	op->ns = json_string_value(json_object_get(meta, "namespace"));
	op->name = json_string_value(json_object_get(meta, "name"));
	op->obj = obj;
	op->expect_rv = expect_rv;
	if (!op->kind || !op->ns || !op->name)
		return kerr_set(e, KE_INTERNAL, NULL, "an object to write has no kind, namespace or name");
	b->n++;
	return 0;
}

int agents_batch_write(struct api *a, const struct principal *p, struct agents_batch *b, const char *org,
		       const char *verb, const char *resource, const char *cid, struct kerr *e)
{
	return record_write(a, p, org, verb, resource, cid, b->ops, b->n, e);
}

json_t *agents_batch_result(struct agents_batch *b, const char *kind, const char *name)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (!strcmp(b->ops[i].kind, kind) && !strcmp(b->ops[i].name, name))
			return b->ops[i].result;
	return NULL;
}

void agents_batch_free(struct agents_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		json_decref(b->ops[i].result);
	json_decref(b->keep);
	memset(b, 0, sizeof(*b));
}

json_t *agents_links(const char *org, const char *run)
{
	char detail[160], events[128];

	snprintf(detail, sizeof(detail), "/orgs/%s/agents/runs/%s", org, run);
	snprintf(events, sizeof(events), "/api/agents/runs/%s/events", run);
	return json_pack("{s:s, s:s}", "detail", detail, "events", events);
}

/* ---- dispatch ---- */

int api_agents_dispatch(struct api *a, const struct principal *p, const char *org, json_t *req, const char *cid,
			json_t **out, struct kerr *e)
{
	struct agents_request q = { 0 };
	struct agents_context c = { 0 };
	char run[32];
	int rc, tries;

	*out = NULL;
	if (!org) {
		kerr_set(e, KE_UNPROCESSABLE, "ORG_REQUIRED", "give the org: /api/orgs/{org}/agents/runs or ?org=");
		goto deny;
	}
	if (api_org_check(a, p, org, e) || agents_need_role(p, ROLE_DEVELOPER, "dispatching an agent run", e) ||
	    pulls_need_body(req, e))
		goto deny;
	q.org = org;
	admission_org_namespace(org, q.ns, sizeof(q.ns));
	q.actor = p->user;
	if (agents_request_parse(a, req, &q, e) || agents_context_build(a, &q, &c, e))
		goto deny;
	agents_run_name(run, sizeof(run));
	/* A conflict here is another dispatch storing the same bundle first. */
	for (tries = 0, rc = KE_CONFLICT; rc == KE_CONFLICT && tries < 3; tries++) {
		kerr_clear(e);
		rc = agents_create_run(a, p, &q, &c, run, NULL, "dispatch", cid, out, e);
	}
	if (rc)
		goto deny;
	agents_context_free(&c);
	agents_request_free(&q);
	return 0;
deny:
	agents_context_free(&c);
	agents_request_free(&q);
	return record_deny(a, p, "dispatch", org, cid, e);
}

int h_agents_runs_create(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *org = agents_route_org(a, r, m, p, &e);
	json_t *req = NULL, *out = NULL;
	int rc;

	if (!org && e.kcode) {
		record_deny(a, p, "dispatch", NULL, http_req_correlation_id(r), &e);
		return pulls_fail(r, &e);
	}
	req = pulls_body(r);
	rc = api_agents_dispatch(a, p, org, req, http_req_correlation_id(r), &out, &e);
	json_decref(req);
	return pulls_answer(r, rc, 201, out, &e);
}

/* ---- reads ---- */

/* The answer {"items": items} to a list that came out as rc (items: a new ref the answer takes). */
static int answer_items(struct http_req *r, int rc, json_t *items, struct kerr *e)
{
	return pulls_answer(r, rc, 200, rc ? NULL : json_pack("{s:o}", "items", items), e);
}

static int newest_first(const void *x, const void *y)
{
	json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	const char *ta = agents_str(a, "metadata", "creationTimestamp") ?: "";
	const char *tb = agents_str(b, "metadata", "creationTimestamp") ?: "";
	int c = strcmp(tb, ta);

	return c ? c : strcmp(agents_str(a, "metadata", "name") ?: "", agents_str(b, "metadata", "name") ?: "");
}

/* Objects of kind in org (or every org p sees), newest first, whose
 * status.phase is phase (NULL: any). */
static int list_in_orgs(struct api *a, const struct principal *p, const char *org, const char *kind,
			const char *selector, const char *phase, json_t **items, struct kerr *e)
{
	json_t *orgs, *o, *part = NULL, *x;
	size_t i, k;
	char ns[96];
	int rc = 0;

	*items = json_array();
	orgs = org ? json_pack("[{s:s}]", "name", org) : api_visible_orgs(a, p, e);
	if (!orgs || !*items) {
		rc = e->kcode ? e->kcode : kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	json_array_foreach(orgs, i, o) {
		if (admission_org_namespace(json_string_value(json_object_get(o, "name")), ns, sizeof(ns)))
			continue;
		if ((rc = list_objects(a, kind, ns, selector, &part, e)))
			goto out;
		json_array_foreach(part, k, x) {
			const char *ph = agents_str(x, "status", "phase");

			if (!phase || (ph && !strcmp(ph, phase)))
				json_array_append(*items, x);
		}
		json_decref(part);
		part = NULL;
	}
	if (sort_array(*items, newest_first))
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
out:
	json_decref(orgs);
	if (rc) {
		json_decref(*items);
		*items = NULL;
	}
	return rc;
}

int api_agents_runs_list(struct api *a, const struct principal *p, const char *org, const char *phase,
			 const char *stack, json_t **items, struct kerr *e)
{
	char sel[128];

	*items = NULL;
	if (stack && *stack && !util_dns_label(stack))
		return kerr_set(e, KE_INVALID, "INVALID_QUERY", "stack must be an AgentStack name");
	if (stack && *stack)
		snprintf(sel, sizeof(sel), AGENTS_LABEL_STACK "=%s", stack);
	if (org && api_org_check(a, p, org, e))
		return e->kcode;
	return list_in_orgs(a, p, org, "AgentDispatchRun", stack && *stack ? sel : NULL,
			    phase && *phase ? phase : NULL, items, e);
}

int api_agents_approvals_list(struct api *a, const struct principal *p, const char *org, const char *phase,
			      json_t **items, struct kerr *e)
{
	*items = NULL;
	if (org && api_org_check(a, p, org, e))
		return e->kcode;
	return list_in_orgs(a, p, org, "AgentApproval", NULL, phase && *phase ? phase : NULL, items, e);
}

/* GET of the runs (runs) or the approvals, filtered by the query's phase
 * (and, for runs, stack). */
static int list_answer(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p, int runs)
{
	struct kerr e = KERR_INIT;
	const char *org = agents_route_org(a, r, m, p, &e);
	const char *phase = http_req_query(r, "phase");
	json_t *items = NULL;
	int rc;

	if (!org && e.kcode)
		return pulls_fail(r, &e);
	rc = runs ? api_agents_runs_list(a, p, org, phase, http_req_query(r, "stack"), &items, &e)
		  : api_agents_approvals_list(a, p, org, phase, &items, &e);
	return answer_items(r, rc, items, &e);
}

int h_agents_runs_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return list_answer(a, r, m, p, 1);
}

int h_agents_approvals_list(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return list_answer(a, r, m, p, 0);
}

/* The objects of kind in ns whose spec.dispatchRun is run (new ref). */
static int run_children(struct api *a, const char *ns, const char *kind, const char *run, json_t **out,
			struct kerr *e)
{
	json_t *all = NULL, *x;
	size_t i;
	int rc = list_objects(a, kind, ns, NULL, &all, e);

	*out = NULL;
	if (rc)
		return rc;
	*out = json_array();
	json_array_foreach(all, i, x) {
		const char *dr = agents_str(x, "spec", "dispatchRun");

		if (dr && !strcmp(dr, run))
			json_array_append(*out, x);
	}
	json_decref(all);
	return *out ? 0 : kerr_set(e, KE_NOMEM, NULL, "out of memory");
}

int api_agents_run_get(struct api *a, const struct principal *p, const char *org, const char *run, json_t **out,
		       struct kerr *e)
{
	char found[AGENTS_NAME_MAX], ns[96], *json = NULL;
	const char *bname;
	json_t *obj = NULL, *attempts = NULL, *artifacts = NULL, *approvals = NULL, *bundle = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = agents_find(a, p, org, "AgentDispatchRun", run, found, &obj, e)))
		return rc;
	admission_org_namespace(found, ns, sizeof(ns));
	if ((rc = agents_attempts(a, ns, run, &attempts, e)) ||
	    (rc = run_children(a, ns, "AgentArtifact", run, &artifacts, e)) ||
	    (rc = run_children(a, ns, "AgentApproval", run, &approvals, e)))
		goto out;
	bname = agents_str(obj, "spec", "contextBundleRef");
	if (bname && !store_get(a->store, "AgentContextBundle", ns, bname, &json, &len, e)) {
		bundle = json_loadb(json, len, 0, NULL);
		free(json);
	}
	kerr_clear(e);
	*out = json_pack("{s:O, s:s, s:O, s:O?, s:O?, s:O, s:O, s:o}", "run", obj, "org", found, "attempts",
			 attempts, "contextBundleDigest",
			 json_object_get(json_object_get(obj, "status"), "contextBundleDigest"), "bundle", bundle,
			 "artifacts", artifacts, "approvals", approvals, "links", agents_links(found, run));
	if (!*out)
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
out:
	json_decref(obj);
	json_decref(attempts);
	json_decref(artifacts);
	json_decref(approvals);
	json_decref(bundle);
	return rc;
}

int h_agents_run_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *org = agents_route_org(a, r, m, p, &e);
	json_t *out = NULL;
	int rc;

	if (!org && e.kcode)
		return pulls_fail(r, &e);
	rc = api_agents_run_get(a, p, org, m->seg[0], &out, &e);
	return pulls_answer(r, rc, 200, out, &e);
}

int h_agents_run_attempts(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *org = agents_route_org(a, r, m, p, &e);
	char found[AGENTS_NAME_MAX], ns[96];
	json_t *run = NULL, *items = NULL;
	int rc;

	if (!org && e.kcode)
		return pulls_fail(r, &e);
	rc = agents_find(a, p, org, "AgentDispatchRun", m->seg[0], found, &run, &e);
	if (!rc) {
		admission_org_namespace(found, ns, sizeof(ns));
		rc = agents_attempts(a, ns, m->seg[0], &items, &e);
	}
	json_decref(run);
	return answer_items(r, rc, items, &e);
}

/* GET of one object of kind by name (artifacts, bundles). */
static int get_one(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p,
		   const char *kind)
{
	struct kerr e = KERR_INIT;
	const char *org = agents_route_org(a, r, m, p, &e);
	char found[AGENTS_NAME_MAX];
	json_t *obj = NULL;
	int rc;

	if (!org && e.kcode)
		return pulls_fail(r, &e);
	rc = agents_find(a, p, org, kind, m->seg[0], found, &obj, &e);
	return pulls_answer(r, rc, 200, obj, &e);
}

int h_agents_artifact_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return get_one(a, r, m, p, "AgentArtifact");
}

int h_agents_bundle_get(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return get_one(a, r, m, p, "AgentContextBundle");
}

int api_agents_artifact_content(struct api *a, const struct principal *p, const char *org, const char *name,
				char **data, size_t *len, struct kerr *e)
{
	char found[AGENTS_NAME_MAX];
	const char *digest;
	json_t *obj = NULL;
	int rc;

	*data = NULL;
	*len = 0;
	if ((rc = agents_find(a, p, org, "AgentArtifact", name, found, &obj, e)))
		return rc;
	digest = agents_str(obj, "spec", "digest");
	if (!a->data_dir)
		rc = kerr_set(e, KE_UNAVAILABLE, NULL, "artifact content needs the server's data directory");
	else if (!digest)
		rc = kerr_set(e, KE_NOTFOUND, "NOT_FOUND", "artifact %s has no content", name);
	else if ((rc = cas_get(a->data_dir, digest, data, len, e)) == KE_NOTFOUND)
		rc = kerr_set(e, KE_NOTFOUND, "NOT_FOUND", "the content of artifact %s is missing", name);
	json_decref(obj);
	return rc;
}

int h_agents_artifact_content(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *org = agents_route_org(a, r, m, p, &e);
	char *data = NULL;
	size_t len = 0;

	if (!org && e.kcode)
		return pulls_fail(r, &e);
	if (api_agents_artifact_content(a, p, org, m->seg[0], &data, &len, &e))
		return pulls_fail(r, &e);
	/* What an agent wrote: a browser must neither sniff it nor run it. */
	http_add_header(r, "X-Content-Type-Options", "nosniff");
	http_add_header(r, "Content-Security-Policy", "default-src 'none'; sandbox");
	http_respond_owned(r, 200, "text/plain; charset=utf-8", data, len);
	return HTTP_DONE;
}
