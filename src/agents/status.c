/* The runtime's store writes: attempt and run status transitions (one
 * audited batch each, retried when another writer got there first) and the
 * records it creates (transcripts, artifacts). */
#include "agents/runtime_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define NS_PREFIX "krate-org-"
#define CHANGE_TRIES 8

void rt_outcome_set(struct rt_outcome *o, const char *phase, const char *reason, const char *fmt, ...)
{
	va_list ap;

	snprintf(o->phase, sizeof(o->phase), "%s", phase);
	snprintf(o->reason, sizeof(o->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
}

int rt_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n == 0 || n > RT_NAME_MAX || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')) ||
	    strstr(s, ".."))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

int rt_get(struct agents_runtime *rt, const char *kind, const char *ns, const char *name, json_t **out,
	   struct kerr *e)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = store_get(rt->store, kind, ns, name, &text, &len, e);
	if (rc)
		return rc;
	*out = json_loadb(text, len, 0, NULL);
	free(text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return kerr_set(e, KE_INTERNAL, NULL, "%s/%s/%s is not a stored object", kind, ns, name);
	}
	return 0;
}

const char *rt_str(json_t *obj, const char *part, const char *key)
{
	return json_string_value(json_object_get(part ? json_object_get(obj, part) : obj, key));
}

json_t *rt_condition(const char *type, int ok, const char *reason, const char *message)
{
	char now[32];

	util_time_rfc3339(now, util_now_seconds());
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", type, "status", ok ? "True" : "False", "reason",
			 reason, "message", message ? message : "", "lastTransitionTime", now);
}

static json_t *find_condition(json_t *conditions, const char *type)
{
	size_t i;
	json_t *c;

	json_array_foreach(conditions, i, c)
		if (json_is_object(c) && rt_str(c, NULL, "type") && !strcmp(rt_str(c, NULL, "type"), type))
			return c;
	return NULL;
}

int rt_condition_is(json_t *obj, const char *type, int ok, const char *reason)
{
	json_t *c = find_condition(json_object_get(json_object_get(obj, "status"), "conditions"), type);
	const char *st = rt_str(c, NULL, "status"), *rs = rt_str(c, NULL, "reason");

	return st && rs && !strcmp(st, ok ? "True" : "False") && !strcmp(rs, reason);
}

/* status.conditions of obj with cond set by type (a status that did not
 * change keeps its lastTransitionTime). New reference. */
static json_t *merged_conditions(json_t *obj, json_t *cond)
{
	json_t *old = json_object_get(json_object_get(obj, "status"), "conditions");
	json_t *out = json_is_array(old) ? json_deep_copy(old) : json_array(), *c = json_deep_copy(cond), *prev;
	const char *type = rt_str(cond, NULL, "type"), *was;
	size_t i, at = (size_t)-1;

	if (!out || !c)
		goto fail;
	json_array_foreach(out, i, prev) {
		if (json_is_object(prev) && rt_str(prev, NULL, "type") && !strcmp(rt_str(prev, NULL, "type"), type)) {
			at = i;
			break;
		}
	}
	was = at != (size_t)-1 ? rt_str(json_array_get(out, at), NULL, "status") : NULL;
	if (was && !strcmp(was, rt_str(cond, NULL, "status")) &&
	    json_is_string(json_object_get(json_array_get(out, at), "lastTransitionTime")) &&
	    json_object_set(c, "lastTransitionTime", json_object_get(json_array_get(out, at), "lastTransitionTime")))
		goto fail;
	if (at != (size_t)-1 ? json_array_set_new(out, at, c) : json_array_append_new(out, c)) {
		c = NULL;
		goto fail;
	}
	return out;
fail:
	json_decref(c);
	json_decref(out);
	return NULL;
}

static json_t *appended_history(json_t *run, const struct rt_change *c)
{
	json_t *old = json_object_get(json_object_get(run, "status"), "history");
	json_t *out = json_is_array(old) ? json_deep_copy(old) : json_array();
	char now[32];

	util_time_rfc3339(now, util_now_seconds());
	if (!out || json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}", "phase", c->history_phase, "at", now,
							 "reason", c->history_reason ? c->history_reason : "",
							 "message", c->history_message ? c->history_message : ""))) {
		json_decref(out);
		return NULL;
	}
	while (json_array_size(out) > RT_HISTORY_MAX)
		json_array_remove(out, 0);
	return out;
}

static long long rv_of(json_t *obj)
{
	const char *s = rt_str(obj, "metadata", "resourceVersion");

	return s ? strtoll(s, NULL, 10) : 0;
}

static const char *org_of(const char *ns)
{
	return ns && !strncmp(ns, NS_PREFIX, strlen(NS_PREFIX)) ? ns + strlen(NS_PREFIX) : NULL;
}

static int write_batch(struct agents_runtime *rt, const char *ns, struct store_op *ops, size_t n, const char *verb,
		       const char *resource, struct kerr *e)
{
	struct store_batch b = { 0 };
	size_t i;
	int rc;

	b.ops = ops;
	b.n = n;
	b.audit.actor = RT_ACTOR;
	b.audit.org = org_of(ns);
	b.audit.verb = verb;
	b.audit.resource = resource;
	b.audit.result = "allowed";
	b.audit.correlation_id = "";
	rc = store_write(rt->store, &b);
	if (rc)
		kerr_set(e, rc, b.err.code, "%s", b.err.message ? b.err.message : "the store refused the write");
	kerr_clear(&b.err);
	for (i = 0; i < n; i++) {
		json_decref(ops[i].result);
		ops[i].result = NULL;
	}
	return rc;
}

/* The run's part of a change: NULL when the run is gone or has moved on to another attempt. */
static json_t *run_members(json_t *run, const char *attempt, const struct rt_change *c, int *nomem)
{
	const char *current = rt_str(run, "status", "currentAttempt");
	json_t *m;

	const char *phase = rt_str(run, "status", "phase");

	if (!run || (current && strcmp(current, attempt)) || (!c->run_status && !c->condition && !c->history_phase))
		return NULL;
	/* Already ended so by someone else (the API records a cancel itself). */
	if (phase && c->history_phase && !strcmp(phase, c->history_phase) &&
	    (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed") || !strcmp(phase, "Cancelled")))
		return NULL;
	m = c->run_status ? json_deep_copy(c->run_status) : json_object();
	if (m && c->condition && json_object_set_new(m, "conditions", merged_conditions(run, c->condition)))
		goto fail;
	if (m && c->history_phase && json_object_set_new(m, "history", appended_history(run, c)))
		goto fail;
	if (!m)
		*nomem = 1;
	return m;
fail:
	json_decref(m);
	*nomem = 1;
	return NULL;
}

int rt_change(struct agents_runtime *rt, const char *ns, const char *attempt, const struct rt_change *c,
	      struct kerr *e)
{
	char resource[RT_NS_MAX + RT_NAME_MAX + 64];
	int tries, rc = 0;

	snprintf(resource, sizeof(resource), "AgentDispatchAttempt/%s/%s", ns, attempt);
	for (tries = 0; tries < CHANGE_TRIES; tries++) {
		struct store_op ops[3] = { { 0 } };
		json_t *a = NULL, *run = NULL, *upd = NULL, *ast = NULL, *rst = NULL, *labels;
		const char *state, *run_name;
		size_t n = 0;
		int nomem = 0;

		kerr_clear(e);
		rc = rt_get(rt, "AgentDispatchAttempt", ns, attempt, &a, e);
		if (rc)
			return rc;
		state = rt_str(json_object_get(a, "metadata"), "labels", RT_LABEL_STATE);
		if (c->expect_state && (!state || strcmp(state, c->expect_state))) {
			json_decref(a);
			return kerr_set(e, KE_CONFLICT, NULL, "attempt %s is no longer %s", attempt, c->expect_state);
		}
		if (c->state) {
			upd = json_deep_copy(a);
			labels = upd ? json_object_get(json_object_get(upd, "metadata"), "labels") : NULL;
			if (upd && !json_is_object(labels) &&
			    json_object_set_new(json_object_get(upd, "metadata"), "labels", labels = json_object()))
				nomem = 1;
			/* An update without status keeps the stored status. */
			if (upd && !nomem)
				json_object_del(upd, "status");
			if (!upd || nomem || json_object_set_new(labels, RT_LABEL_STATE, json_string(c->state)))
				nomem = 1;
			ops[n++] = (struct store_op){ .type = STORE_OP_UPDATE, .kind = "AgentDispatchAttempt", .ns = ns,
						      .name = attempt, .obj = upd, .expect_rv = rv_of(a) };
		}
		if (c->attempt_status || c->condition) {
			ast = c->attempt_status ? json_deep_copy(c->attempt_status) : json_object();
			if (!ast || (c->condition &&
				     json_object_set_new(ast, "conditions", merged_conditions(a, c->condition))))
				nomem = 1;
			ops[n++] = (struct store_op){ .type = STORE_OP_STATUS_MERGE, .kind = "AgentDispatchAttempt",
						      .ns = ns, .name = attempt, .obj = ast,
						      .expect_rv = c->state ? 0 : rv_of(a) };
		}
		run_name = rt_str(a, "spec", "agentDispatchRun");
		if (run_name && rt_get(rt, "AgentDispatchRun", ns, run_name, &run, e) == 0) {
			rst = run_members(run, attempt, c, &nomem);
			if (rst)
				ops[n++] = (struct store_op){ .type = STORE_OP_STATUS_MERGE, .kind = "AgentDispatchRun",
							      .ns = ns, .name = run_name, .obj = rst,
							      .expect_rv = rv_of(run) };
		}
		kerr_clear(e);
		if (nomem)
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		else if (n)
			rc = write_batch(rt, ns, ops, n, "status", resource, e);
		json_decref(a);
		json_decref(run);
		json_decref(upd);
		json_decref(ast);
		json_decref(rst);
		if (rc != KE_CONFLICT)
			return rc;
	}
	return rc;
}

int rt_put(struct agents_runtime *rt, const char *ns, json_t *obj, struct kerr *e)
{
	const char *org = org_of(ns), *kind = rt_str(obj, NULL, "kind"), *name = rt_str(obj, "metadata", "name");
	json_t *md = json_object_get(obj, "metadata"), *spec = json_object_get(obj, "spec"), *labels;
	char resource[RT_NS_MAX + RT_NAME_MAX + 64];
	struct store_op op = { 0 };

	if (!org || !kind || !name || !json_is_object(md) || !json_is_object(spec))
		return kerr_set(e, KE_INVALID, NULL, "an incomplete record");
	labels = json_object_get(md, "labels");
	if (!json_is_object(labels) && json_object_set_new(md, "labels", labels = json_object()))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	/* What admission would add for an object the API writes. */
	if (json_object_set_new(obj, "apiVersion", json_string("krate.a5c.ai/v1alpha1")) ||
	    json_object_set_new(md, "namespace", json_string(ns)) ||
	    json_object_set_new(labels, "krate.a5c.ai/org", json_string(org)) ||
	    json_object_set_new(labels, "krate.a5c.ai/namespace", json_string(ns)) ||
	    json_object_set_new(spec, "organizationRef", json_string(org)))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	snprintf(resource, sizeof(resource), "%s/%s/%s", kind, ns, name);
	op.type = STORE_OP_APPLY;
	op.kind = kind;
	op.ns = ns;
	op.name = name;
	op.obj = obj;
	return write_batch(rt, ns, &op, 1, "apply", resource, e);
}
