/* views.agents of GET /api/controller: stack readiness and missing
 * permissions from the stacks' status (the stack controller keeps it true),
 * the org's active runs and pending approvals. */
#include "api/api_internal.h"
#include "model/admission.h"

#include <stdlib.h>
#include <string.h>

/* Bounds each list of the view; the console links to the full lists. */
#define VIEW_ITEMS_MAX 100

/* The conditions that are about identities and grants. */
static const char *const permission_conditions[] = { "RuntimeIdentityReady", "RolesAdmitted", "SecretsGranted",
						     "ConfigsGranted", NULL };

static const char *member(json_t *obj, const char *sect, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, sect), key));
}

static int listed(const char *const *list, const char *s)
{
	for (; s && *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

/* Calls fn for each object of kind in ns (parsed), at most VIEW_ITEMS_MAX
 * times with a non-zero answer. */
static int each(struct api *a, const char *ns, const char *kind, int (*fn)(json_t *obj, void *arg), void *arg,
		struct kerr *e)
{
	struct store_list_query q = { kind, ns, NULL, 0, NULL };
	struct store_list_result res = { 0 };
	size_t i, taken = 0;
	int rc = store_list(a->store, &q, &res, e);

	for (i = 0; !rc && i < res.n && taken < VIEW_ITEMS_MAX; i++) {
		json_t *obj = json_loadb(res.items[i], res.lens[i], 0, NULL);

		if (obj)
			taken += fn(obj, arg) != 0;
		json_decref(obj);
	}
	store_list_result_free(&res);
	return rc;
}

struct view {
	const char *org;
	json_t *readiness, *missing, *runs, *approvals;
};

static int add_stack(json_t *stack, void *arg)
{
	struct view *v = arg;
	json_t *status = json_object_get(stack, "status"), *failing = json_array(), *c;
	const char *name = member(stack, "metadata", "name"), *phase = member(stack, "status", "phase");
	size_t i;

	json_array_foreach(json_object_get(status, "conditions"), i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));

		if (!type || !st || !strcmp(st, "True"))
			continue;
		if (strcmp(type, "Ready"))
			json_array_append_new(failing, json_string(type));
		if (listed(permission_conditions, type))
			json_array_append_new(v->missing,
					      json_pack("{s:s?, s:s, s:s, s:O?, s:O?}", "stack", name, "org", v->org,
							"type", type, "reason", json_object_get(c, "reason"),
							"message", json_object_get(c, "message")));
	}
	json_array_append_new(v->readiness, json_pack("{s:s?, s:s, s:s, s:o}", "name", name, "org", v->org, "phase",
						      phase ? phase : "Pending", "failing", failing));
	return 1;
}

static int add_run(json_t *run, void *arg)
{
	static const char *const active[] = { "Queued", "Running", "WaitingForApproval", NULL };
	struct view *v = arg;
	const char *phase = member(run, "status", "phase");

	if (!listed(active, phase))
		return 0;
	json_array_append_new(v->runs, json_pack("{s:O?, s:s, s:s, s:O?, s:O?, s:O?, s:O?, s:O?}", "name",
						 json_object_get(json_object_get(run, "metadata"), "name"), "org",
						 v->org, "phase", phase, "agentStack",
						 json_object_get(json_object_get(run, "spec"), "agentStack"), "repository",
						 json_object_get(json_object_get(run, "spec"), "repository"), "ref",
						 json_object_get(json_object_get(run, "spec"), "ref"), "actor",
						 json_object_get(json_object_get(run, "spec"), "actor"), "createdAt",
						 json_object_get(json_object_get(run, "metadata"), "creationTimestamp")));
	return 1;
}

static int add_approval(json_t *ap, void *arg)
{
	struct view *v = arg;
	const char *phase = member(ap, "status", "phase");
	json_t *spec = json_object_get(ap, "spec");

	/* An approval is Pending until someone decides it. */
	if (phase && strcmp(phase, "Pending"))
		return 0;
	json_array_append_new(v->approvals, json_pack("{s:O?, s:s, s:O?, s:O?, s:O?, s:O?}", "name",
						      json_object_get(json_object_get(ap, "metadata"), "name"), "org",
						      v->org, "dispatchRun", json_object_get(spec, "dispatchRun"),
						      "action", json_object_get(spec, "action"), "requestedBy",
						      json_object_get(spec, "requestedBy"), "description",
						      json_object_get(spec, "description")));
	return 1;
}

json_t *api_agents_view(struct api *a, const char *org, struct kerr *e)
{
	struct view v = { org, json_array(), json_array(), json_array(), json_array() };
	char ns[96];

	if (!v.readiness || !v.missing || !v.runs || !v.approvals) {
		kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto fail;
	}
	if (org) {
		admission_org_namespace(org, ns, sizeof(ns));
		if (each(a, ns, "AgentStack", add_stack, &v, e) || each(a, ns, "AgentDispatchRun", add_run, &v, e) ||
		    each(a, ns, "AgentApproval", add_approval, &v, e))
			goto fail;
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:{}}", "activeRuns", v.runs, "pendingApprovals", v.approvals,
			 "stackReadiness", v.readiness, "missingPermissions", v.missing, "repositoryAffordances");
fail:
	json_decref(v.readiness);
	json_decref(v.missing);
	json_decref(v.runs);
	json_decref(v.approvals);
	return NULL;
}
