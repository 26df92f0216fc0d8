/* Permission review (see review.h): a pure function of the request and a
 * snapshot, built member by member into one JSON result whose arrays are
 * put in a fixed order before the digest is taken. */
#include "agents/review.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/snapshot.h"
#include "core/buf.h"
#include "core/util.h"
#include "core/yaml.h"
#include "model/kinds.h"

#define MSG_MAX (256u * 1024u)

enum fit { FIT_OK, FIT_OTHER, FIT_REPOSITORY, FIT_REF, FIT_TRIGGER, FIT_UNTRUSTED };

struct review {
	const struct review_req *q;
	json_t *snap;
	json_t *stack, *spec;          /* borrowed from snap */
	const char *stack_name, *sa;   /* sa: the runtime identity's name, may be NULL */
	const char *trigger, *task;
	json_t *untrusted;             /* owned: the prefixes that make the ref untrusted */
	int untrusted_blocked;         /* a secret was withheld only because the ref is untrusted */
	json_t *out;                   /* owned until handed over */
	json_t *roles, *secrets, *configs, *missing, *approvals, *previews, *reasons; /* borrowed from out */
	struct kerr *e;
};

static const char *str(json_t *v)
{
	return json_string_value(v);
}

static json_t *spec_of(json_t *obj)
{
	return json_object_get(obj, "spec");
}

static const char *name_of(json_t *obj)
{
	return str(json_object_get(json_object_get(obj, "metadata"), "name"));
}

/* A reference written as "name" or {name: "name"}. */
static const char *ref_name(json_t *v)
{
	return json_is_object(v) ? str(json_object_get(v, "name")) : str(v);
}

static int eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static int has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* An absent or empty list allows everything; anything else restricts
 * (a malformed value too: fail closed). */
static int restricts(json_t *list)
{
	return list && !(json_is_array(list) && json_array_size(list) == 0);
}

static int list_has(json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (eq(str(v), s))
			return 1;
	return 0;
}

/* An allowedRefs entry: the full ref, or a prefix ending in '*'. */
static int ref_matches(const char *pattern, const char *ref)
{
	size_t n = strlen(pattern);

	if (n && pattern[n - 1] == '*')
		return !strncmp(pattern, ref, n - 1);
	return !strcmp(pattern, ref);
}

static int refs_match(json_t *list, const char *ref)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (str(v) && ref_matches(str(v), ref))
			return 1;
	return 0;
}

/* An entry covers an untrusted ref explicitly when it matches the ref and
 * lies inside the untrusted namespace itself (refs/pull/ followed by '*', or
 * the ref), so a bare '*' or refs/ followed by '*' never reaches it. */
static int refs_cover_untrusted(struct review *r, json_t *list)
{
	size_t i, j;
	json_t *v, *p;

	json_array_foreach(list, i, v) {
		const char *pat = str(v);

		if (!pat || !ref_matches(pat, r->q->ref))
			continue;
		json_array_foreach(r->untrusted, j, p)
			if (has_prefix(pat, str(p)) && strcspn(pat, "*") >= strlen(str(p)))
				return 1;
	}
	return 0;
}

static int nomem(struct review *r)
{
	return kerr_set(r->e, KE_NOMEM, NULL, "out of memory during permission review");
}

static int push(struct review *r, json_t *arr, json_t *v)
{
	return json_array_append_new(arr, v) ? nomem(r) : 0;
}

static int reason(struct review *r, const char *code, const char *severity, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int reason(struct review *r, const char *code, const char *severity, const char *fmt, ...)
{
	struct buf b = BUF_INIT(MSG_MAX);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = push(r, r->reasons, json_pack("{s:s, s:s, s:s}", "code", code, "severity", severity,
						   "message", b.data));
	else
		rc = nomem(r);
	buf_free(&b);
	return rc;
}

static int find_untrusted(struct review *r)
{
	json_t *pol, *v;
	size_t i, j;

	if (has_prefix(r->q->ref, "refs/pull/") && json_array_append_new(r->untrusted, json_string("refs/pull/")))
		return nomem(r);
	json_array_foreach(json_object_get(r->snap, "RefPolicy"), i, pol) {
		json_t *spec = spec_of(pol);
		const char *repo = str(json_object_get(spec, "repository"));

		if (repo && strcmp(repo, r->q->repository))
			continue;
		json_array_foreach(json_object_get(spec, "untrusted"), j, v) {
			const char *p = str(v);
			size_t n = p ? strcspn(p, "*") : 0;

			if (p && !strncmp(r->q->ref, p, n) &&
			    json_array_append_new(r->untrusted, json_stringn(p, n)))
				return nomem(r);
		}
	}
	return 0;
}

static int runtime_identity(struct review *r)
{
	json_t *ri = json_object_get(r->spec, "runtimeIdentity"), *sa_obj = NULL, *repos;
	int rc;

	r->sa = json_is_object(ri) ? ref_name(json_object_get(ri, "serviceAccountRef")) : str(ri);
	if (r->sa)
		sa_obj = snapshot_find(r->snap, "AgentServiceAccount", r->sa);
	if (json_object_set_new(r->out, "runtimeIdentity", json_pack("{s:s?, s:b}", "serviceAccountRef", r->sa,
								      "ready", sa_obj != NULL)))
		return nomem(r);
	if (!r->sa)
		return reason(r, "SERVICE_ACCOUNT_MISSING", "error", "AgentStack %s names no runtime identity",
			      r->stack_name);
	if (!sa_obj)
		return reason(r, "SERVICE_ACCOUNT_MISSING", "error", "AgentServiceAccount %s does not exist", r->sa);
	repos = json_object_get(spec_of(sa_obj), "allowedRepositories");
	if (restricts(repos) && !list_has(repos, r->q->repository)) {
		rc = reason(r, "SERVICE_ACCOUNT_NOT_ALLOWED", "error",
			    "AgentServiceAccount %s may not act on repository %s", r->sa, r->q->repository);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int runner_identity(struct review *r)
{
	const char *pool = r->q->runner_pool ? r->q->runner_pool : str(json_object_get(r->spec, "runnerPool"));
	json_t *pool_obj = pool ? snapshot_find(r->snap, "RunnerPool", pool) : NULL;
	json_t *sa_obj = snapshot_find(r->snap, "AgentServiceAccount", r->sa);
	json_t *pools = json_object_get(spec_of(sa_obj), "allowedRunnerPools");
	const char *runner_sa = ref_name(json_object_get(spec_of(pool_obj), "serviceAccountRef"));
	int rc;

	if (json_object_set_new(r->out, "runnerIdentity",
				json_pack("{s:s?, s:s?, s:b}", "runnerPool", pool, "serviceAccountRef", runner_sa,
					  "ready", !pool || pool_obj)))
		return nomem(r);
	if (pool && !pool_obj)
		return reason(r, "RUNNER_POOL_MISSING", "error", "RunnerPool %s does not exist", pool);
	if (pool && sa_obj && restricts(pools) && !list_has(pools, pool)) {
		rc = reason(r, "SERVICE_ACCOUNT_NOT_ALLOWED", "error",
			    "AgentServiceAccount %s may not run on runner pool %s", r->sa, pool);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int role_bindings(struct review *r)
{
	json_t *rb;
	size_t i;
	int rc;

	json_array_foreach(json_object_get(r->snap, "AgentRoleBinding"), i, rb) {
		json_t *spec = spec_of(rb);
		const char *subject = ref_name(json_object_get(spec, "subject"));

		if (!name_of(rb) || !(eq(subject, r->sa) || eq(subject, r->stack_name)))
			continue;
		rc = push(r, r->roles, json_pack("{s:s, s:s, s:O?, s:O?, s:s}", "roleBinding", name_of(rb),
						 "subject", subject, "roleRef", json_object_get(spec, "roleRef"),
						 "scope", json_object_get(spec, "scope"), "status", "bound"));
		if (rc < 0)
			return rc;
	}
	if (json_array_size(r->roles) == 0)
		return reason(r, "ROLE_BINDING_MISSING", "warning", "no AgentRoleBinding has subject %s or %s",
			      r->sa ? r->sa : "(no service account)", r->stack_name);
	return 0;
}

/* ---- needs: what the stack will ask for, one entry per purpose ---- */

/* A need for purpose "<prefix><name>". */
static int add_need(struct review *r, json_t *needs, json_t *ref, const char *prefix, const char *name,
		    const char *description)
{
	struct buf b = BUF_INIT(MSG_MAX);
	int rc = buf_printf(&b, "%s%s", prefix, name ? name : "");

	rc = rc ? nomem(r) : push(r, needs, json_pack("{s:s, s:s, s:O?}", "purpose", b.data,
						       "description", description, "ref", ref));
	buf_free(&b);
	return rc;
}

/* Each referenced AgentMcpServer whose list (secretRefs or configRefs) is not
 * empty needs "mcp-server:<name>"; a missing server cannot be reviewed. */
static int mcp_needs(struct review *r, json_t *needs, const char *list, int report_missing)
{
	json_t *v;
	size_t i;
	int rc;

	json_array_foreach(json_object_get(r->spec, "mcpServerRefs"), i, v) {
		const char *name = ref_name(v);
		json_t *mcp = snapshot_find(r->snap, "AgentMcpServer", name), *refs;

		if (!name)
			continue;
		if (!mcp) {
			rc = report_missing ? reason(r, "MCP_SERVER_MISSING", "error",
						     "AgentMcpServer %s does not exist", name) : 0;
			if (rc < 0)
				return rc;
			continue;
		}
		refs = json_object_get(spec_of(mcp), list);
		if (!json_is_array(refs) || json_array_size(refs) == 0)
			continue;
		rc = add_need(r, needs, json_array_get(refs, 0), "mcp-server:", name,
			      strcmp(list, "secretRefs") ? "the MCP server's configuration" : "the MCP server's credentials");
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The last tie-break of every sort: the canonical JSON of the entries, so
 * equal keys with different content still sort the same way every time. */
static int canonical_cmp(json_t *a, json_t *b)
{
	char *x = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	char *y = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	int d = x && y ? strcmp(x, y) : 0;

	free(x);
	free(y);
	return d;
}

static int by_key(const void *pa, const void *pb, const char *key)
{
	json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
	int d = strcmp(str(json_object_get(a, key)), str(json_object_get(b, key)));

	return d ? d : canonical_cmp(a, b);
}

static int by_purpose(const void *a, const void *b)
{
	return by_key(a, b, "purpose");
}

static int severity_rank(const char *s)
{
	return eq(s, "error") ? 0 : eq(s, "warning") ? 1 : 2;
}

static int by_reason(const void *pa, const void *pb)
{
	json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
	int d = severity_rank(str(json_object_get(a, "severity"))) - severity_rank(str(json_object_get(b, "severity")));

	if (!d)
		d = strcmp(str(json_object_get(a, "code")), str(json_object_get(b, "code")));
	return d ? d : strcmp(str(json_object_get(a, "message")), str(json_object_get(b, "message")));
}

static int by_role_binding(const void *a, const void *b)
{
	return by_key(a, b, "roleBinding");
}

/* Sorts arr in place; with unique, drops entries equal to their predecessor. */
static int sort_array(struct review *r, json_t *arr, int (*cmp)(const void *, const void *), int unique)
{
	size_t n = json_array_size(arr), i;
	json_t **v;
	int rc = 0;

	if (n < 2)
		return 0;
	v = malloc(n * sizeof *v);
	if (!v)
		return nomem(r);
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof *v, cmp);
	json_array_clear(arr);
	for (i = 0; i < n; i++) {
		if (rc == 0 && !(unique && i > 0 && cmp(&v[i - 1], &v[i]) == 0))
			rc = json_array_append(arr, v[i]) ? nomem(r) : 0;
	}
	for (i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
	return rc;
}

/* ---- grants ---- */

static enum fit grant_fit(struct review *r, json_t *grant, const char *purpose, int secret)
{
	json_t *spec = spec_of(grant), *refs = json_object_get(spec, "allowedRefs");
	json_t *repos = json_object_get(spec, "allowedRepositories");
	json_t *triggers = json_object_get(spec, "allowedTriggerSources");
	const char *subject = ref_name(json_object_get(spec, "subject"));

	if (!name_of(grant) || !(eq(subject, r->sa) || eq(subject, r->stack_name)) ||
	    !eq(str(json_object_get(spec, "purpose")), purpose))
		return FIT_OTHER;
	if (restricts(repos) && !list_has(repos, r->q->repository))
		return FIT_REPOSITORY;
	if (!secret)
		return FIT_OK;
	if (restricts(refs) && !refs_match(refs, r->q->ref))
		return FIT_REF;
	if (restricts(triggers) && !list_has(triggers, r->trigger))
		return FIT_TRIGGER;
	if (json_array_size(r->untrusted) && !refs_cover_untrusted(r, refs))
		return FIT_UNTRUSTED;
	return FIT_OK;
}

/* Unknown values of requiredApproval count as "always": fail closed. */
static int needs_approval(struct review *r, json_t *grant)
{
	const char *a = str(json_object_get(spec_of(grant), "requiredApproval"));

	if (!a || eq(a, "never"))
		return 0;
	if (eq(a, "on-untrusted-ref"))
		return json_array_size(r->untrusted) > 0;
	return 1;
}

/* Of several fitting grants: the one without approval, then the service
 * account's over the stack's, then by name, so the choice never depends on
 * the order of the snapshot. */
static int better_grant(struct review *r, json_t *a, json_t *b)
{
	int d = needs_approval(r, a) - needs_approval(r, b);

	if (!d)
		d = !eq(ref_name(json_object_get(spec_of(a), "subject")), r->sa) -
		    !eq(ref_name(json_object_get(spec_of(b), "subject")), r->sa);
	return d ? d < 0 : strcmp(name_of(a), name_of(b)) < 0;
}

/* One complete grant document an admin could apply to supply a missing
 * need; without a known ref it names the Secret or ConfigMap after the grant
 * and says so in a comment. */
static int add_preview(struct review *r, const char *kind, const char *purpose, json_t *ref, int secret)
{
	struct buf name = BUF_INIT(MSG_MAX), yaml = BUF_INIT(MSG_MAX);
	const char *ns = str(json_object_get(json_object_get(r->stack, "metadata"), "namespace"));
	const char *field = secret ? "secretRef" : "configMapRef";
	char *slug = NULL;
	json_t *doc = NULL, *meta = NULL, *spec = NULL;
	int rc;

	if (buf_printf(&name, "%s-%s", r->stack_name, purpose) < 0 || !(slug = util_slugify(name.data)))
		goto nomem;
	spec = json_pack("{s:s, s:o, s:s, s:[s]}", "subject", r->sa ? r->sa : r->stack_name,
			 field, ref ? json_incref(ref) : json_string(slug), "purpose", purpose,
			 "allowedRepositories", r->q->repository);
	if (!spec)
		goto nomem;
	/* A grant for an untrusted ref names it and keeps a human in the loop. */
	if (secret && json_array_size(r->untrusted) &&
	    (json_object_set_new(spec, "allowedRefs", json_pack("[s]", r->q->ref)) ||
	     json_object_set_new(spec, "requiredApproval", json_string("on-untrusted-ref"))))
		goto nomem;
	meta = json_pack("{s:s}", "name", slug[0] ? slug : "agent-grant");
	if (!meta || (ns && json_object_set_new(meta, "namespace", json_string(ns))))
		goto nomem;
	doc = json_pack("{s:s, s:s, s:O, s:O}", "apiVersion", KRATE_API_VERSION, "kind", kind, "metadata", meta,
			"spec", spec);
	if (!doc)
		goto nomem;
	if (!ref && buf_printf(&yaml, "# %s names the %s to create (or an existing one) for %s.\n", field,
			       secret ? "Secret" : "ConfigMap", purpose) < 0)
		goto nomem;
	rc = yaml_emit(doc, &yaml);
	if (rc < 0) {
		kerr_set(r->e, rc, NULL, "cannot render a grant preview");
		goto cleanup;
	}
	rc = push(r, r->previews, json_string(yaml.data));
	goto cleanup;
nomem:
	rc = nomem(r);
cleanup:
	json_decref(doc);
	json_decref(meta);
	json_decref(spec);
	free(slug);
	buf_free(&name);
	buf_free(&yaml);
	return rc;
}

static int review_need(struct review *r, json_t *need, int secret)
{
	const char *kind = secret ? "AgentSecretGrant" : "AgentConfigGrant";
	const char *field = secret ? "secretRef" : "configMapRef";
	const char *purpose = str(json_object_get(need, "purpose"));
	const char *description = str(json_object_get(need, "description"));
	const char *subject = r->sa ? r->sa : r->stack_name;
	json_t *ref = json_object_get(need, "ref"), *grant, *best = NULL, *near = NULL;
	json_t *list = secret ? r->secrets : r->configs;
	struct buf why = BUF_INIT(MSG_MAX);
	enum fit near_fit = FIT_OTHER;
	int rc, approval, untrusted_only = 0;
	size_t i;

	if (json_is_null(ref))
		ref = NULL;
	json_array_foreach(json_object_get(r->snap, kind), i, grant) {
		enum fit f = grant_fit(r, grant, purpose, secret);

		if (f == FIT_OK && (!best || better_grant(r, grant, best)))
			best = grant;
		if (f == FIT_OK || f == FIT_OTHER)
			continue;
		untrusted_only |= f == FIT_UNTRUSTED;
		if (!near || strcmp(name_of(grant), name_of(near)) < 0) {
			near = grant;
			near_fit = f;
		}
	}
	if (best) {
		approval = secret && needs_approval(r, best);
		rc = push(r, list, json_pack("{s:s, s:O?, s:s, s:s}", "purpose", purpose, field,
					     json_object_get(spec_of(best), field), "grant", name_of(best),
					     "status", approval ? "requires-approval" : "granted"));
		if (rc == 0 && approval)
			rc = push(r, r->approvals, json_pack("{s:s, s:s, s:s, s:s}", "action", "secret-access",
							     "purpose", purpose, "grant", name_of(best),
							     "reason", eq(str(json_object_get(spec_of(best), "requiredApproval")),
									  "on-untrusted-ref") ? "untrusted ref" : "always"));
		if (rc == 0 && approval)
			rc = reason(r, "APPROVAL_REQUIRED", "info",
				    "AgentSecretGrant %s needs a human approval before %s is used", name_of(best), purpose);
		goto cleanup;
	}
	r->untrusted_blocked |= untrusted_only;
	rc = 0;
	if (near_fit == FIT_REPOSITORY)
		rc = buf_printf(&why, "; %s %s does not allow repository %s", kind, name_of(near), r->q->repository);
	else if (near_fit == FIT_REF)
		rc = buf_printf(&why, "; %s %s does not allow ref %s", kind, name_of(near), r->q->ref);
	else if (near_fit == FIT_TRIGGER)
		rc = buf_printf(&why, "; %s %s does not allow trigger source %s", kind, name_of(near), r->trigger);
	else if (near_fit == FIT_UNTRUSTED)
		rc = buf_printf(&why, "; %s %s does not name the untrusted ref %s in allowedRefs", kind, name_of(near),
				r->q->ref);
	if (rc < 0) {
		rc = nomem(r);
		goto cleanup;
	}
	rc = push(r, list, json_pack("{s:s, s:O?, s:n, s:s}", "purpose", purpose, field, ref, "grant", "status",
				     "missing"));
	if (rc == 0)
		rc = push(r, r->missing, json_pack("{s:s, s:s, s:s, s:s}", "kind", kind, "subject", subject,
						   "purpose", purpose, "description", description));
	if (rc == 0)
		rc = reason(r, secret ? "SECRET_GRANT_MISSING" : "CONFIG_GRANT_MISSING", "error",
			    "no %s gives %s %s (purpose %s)%s", kind, subject, description, purpose,
			    why.data ? why.data : "");
	if (rc == 0)
		rc = add_preview(r, kind, purpose, ref, secret);
cleanup:
	buf_free(&why);
	return rc;
}

static int review_needs(struct review *r, json_t *needs, int secret)
{
	json_t *need;
	size_t i;
	int rc = sort_array(r, needs, by_purpose, 1);

	json_array_foreach(needs, i, need) {
		if (rc < 0)
			break;
		rc = review_need(r, need, secret);
	}
	return rc;
}

static int review_stack(struct review *r)
{
	json_t *needs = json_array(), *v;
	const char *adapter = str(json_object_get(r->spec, "adapter"));
	size_t i;
	int rc;

	if (!needs)
		return nomem(r);
	rc = runtime_identity(r);
	if (rc == 0)
		rc = runner_identity(r);
	if (rc == 0)
		rc = role_bindings(r);
	if (rc == 0 && adapter)
		rc = add_need(r, needs, NULL, "model-provider", NULL, "the model provider's credentials");
	if (rc == 0)
		rc = mcp_needs(r, needs, "secretRefs", 1);
	json_array_foreach(json_object_get(json_object_get(r->spec, "secretPolicy"), "allowedSecretRefs"), i, v) {
		if (rc < 0)
			break;
		if (ref_name(v))
			rc = add_need(r, needs, v, "secret:", ref_name(v), "a Secret the stack's secretPolicy allows");
	}
	if (rc == 0)
		rc = review_needs(r, needs, 1);
	json_array_clear(needs);
	if (rc == 0)
		rc = mcp_needs(r, needs, "configRefs", 0);
	if (rc == 0)
		rc = review_needs(r, needs, 0);
	json_decref(needs);
	return rc;
}

static int args_valid(const struct review_req *q)
{
	const char *s[] = { q->repository, q->ref, q->actor, q->agent_stack, q->trigger_source, q->task_kind,
			    q->runner_pool };

	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		if ((i < 4 && !s[i]) || (s[i] && !util_utf8_valid(s[i], strlen(s[i]))))
			return 0;
	return 1;
}

static json_t *new_member(json_t *out, const char *key)
{
	json_t *a = json_array();

	return json_object_set_new(out, key, a) ? NULL : a;
}

int review_run(const struct review_req *q, json_t *snapshot, json_t **out, struct kerr *e)
{
	struct review r = { 0 };
	char digest[72];
	json_t *v;
	size_t i, errors = 0;
	int rc;

	if (!q || !json_is_object(snapshot) || !out || !args_valid(q))
		return kerr_set(e, KE_INVALID, NULL, "permission review needs repository, ref, actor and agentStack");
	*out = NULL;
	r.q = q;
	r.snap = snapshot;
	r.e = e;
	r.trigger = q->trigger_source ? q->trigger_source : "manual";
	r.task = q->task_kind ? q->task_kind : "general";
	r.untrusted = json_array();
	/* "denied" until everything was looked at: fail closed. */
	r.out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:n}", "decision", "denied",
			  "repository", q->repository, "ref", q->ref, "actor", q->actor, "agentStack", q->agent_stack,
			  "taskKind", r.task, "triggerSource", r.trigger, "runtimeIdentity", "runnerIdentity");
	if (!r.untrusted || !r.out || !(r.roles = new_member(r.out, "requiredRoles")) ||
	    !(r.secrets = new_member(r.out, "requiredSecrets")) || !(r.configs = new_member(r.out, "requiredConfigs")) ||
	    !(r.missing = new_member(r.out, "missingGrants")) ||
	    !(r.approvals = new_member(r.out, "approvalRequirements")) ||
	    !(r.previews = new_member(r.out, "yamlPreview")) || !(r.reasons = new_member(r.out, "reasons"))) {
		rc = nomem(&r);
		goto cleanup;
	}
	rc = find_untrusted(&r);
	if (rc < 0)
		goto cleanup;
	r.stack = snapshot_find(snapshot, "AgentStack", q->agent_stack);
	if (r.stack) {
		r.spec = spec_of(r.stack);
		r.stack_name = q->agent_stack;
		rc = review_stack(&r);
	} else if (json_object_set_new(r.out, "runtimeIdentity",
				       json_pack("{s:n, s:b}", "serviceAccountRef", "ready", 0)) ||
		   json_object_set_new(r.out, "runnerIdentity",
				       json_pack("{s:s?, s:n, s:b}", "runnerPool", q->runner_pool,
						 "serviceAccountRef", "ready", 0))) {
		rc = nomem(&r);
	} else {
		rc = reason(&r, "STACK_NOT_FOUND", "error", "AgentStack %s does not exist", q->agent_stack);
	}
	if (rc == 0 && json_array_size(r.untrusted))
		rc = reason(&r, "UNTRUSTED_REF", r.untrusted_blocked ? "error" : "info",
			    "%s is an untrusted ref: a secret needs a grant whose allowedRefs name it", q->ref);
	if (rc == 0)
		rc = sort_array(&r, r.reasons, by_reason, 1);
	if (rc == 0)
		rc = sort_array(&r, r.roles, by_role_binding, 0);
	if (rc < 0)
		goto cleanup;
	json_array_foreach(r.reasons, i, v)
		errors += eq(str(json_object_get(v, "severity")), "error");
	if (json_object_set_new(r.out, "decision", json_string(errors ? "denied"
								: json_array_size(r.approvals) ? "requires-approval"
								: "allowed")) ||
	    json_object_set_new(r.out, "untrustedRef", json_boolean(json_array_size(r.untrusted) > 0))) {
		rc = nomem(&r);
		goto cleanup;
	}
	rc = review_digest(r.out, digest, sizeof digest);
	if (rc < 0 || json_object_set_new(r.out, "digest", json_string(digest))) {
		rc = nomem(&r);
		goto cleanup;
	}
	*out = r.out;
	r.out = NULL;
cleanup:
	json_decref(r.out);
	json_decref(r.untrusted);
	return rc;
}

int review_digest(json_t *v, char *out, size_t size)
{
	json_t *c = NULL;
	char *text;
	char hex[65];

	if (!v || !out || size < 72)
		return KE_INVALID;
	/* The digest member is what is being computed, so it is left out. */
	if (json_is_object(v) && json_object_get(v, "digest")) {
		c = json_copy(v);
		if (!c || json_object_del(c, "digest")) {
			json_decref(c);
			return KE_NOMEM;
		}
		v = c;
	}
	text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(c);
	if (!text)
		return KE_NOMEM;
	util_sha256_hex(hex, text, strlen(text));
	free(text);
	if (!hex[0])
		return KE_INTERNAL;
	snprintf(out, size, "sha256:%s", hex);
	return 0;
}
