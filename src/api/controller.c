#include "api/api_internal.h"
#include "model/admission.h"

#include <string.h>

/* GET /api/controller[?org=]: the console's model of one org. Counts and
 * phase histograms come from one grouped query, not from listing objects. */
int h_controller(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *want = http_req_query(r, "org"), *org = NULL;
	json_t *orgs = NULL, *counts = NULL, *events = NULL, *agents = NULL, *resources, *model, *org_obj = json_null();
	const struct kind_def *kinds;
	size_t nk, i, total = 0;
	char ns[96];

	(void)m;
	orgs = api_visible_orgs(a, p, &e);
	if (!orgs)
		goto fail;
	if (want && *want) {
		for (i = 0; i < json_array_size(orgs); i++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(orgs, i), "name")), want))
				org_obj = json_incref(json_array_get(orgs, i));
		if (json_is_null(org_obj)) {
			kerr_set(&e, KE_NOTFOUND, "ORG_NOT_FOUND", "organization '%s' not found",
				 api_org_allowed(p, want) ? want : "(requested)");
			goto fail;
		}
	} else if (json_array_size(orgs)) {
		org_obj = json_incref(json_array_get(orgs, 0));
	}
	org = json_string_value(json_object_get(org_obj, "name"));
	if (org)
		admission_org_namespace(org, ns, sizeof(ns));
	if (org && (store_counts(a->store, ns, &counts, &e) || store_recent_events(a->store, ns, 20, &events, &e)))
		goto fail;
	agents = api_agents_view(a, org, &e);
	if (!agents)
		goto fail;
	resources = json_array();
	kinds = kinds_all(&nk);
	for (i = 0; i < nk; i++) {
		json_t *c = counts ? json_object_get(counts, kinds[i].kind) : NULL;
		json_int_t n = json_integer_value(json_object_get(c, "count"));

		if (kinds[i].scope == SCOPE_PLATFORM)
			continue;
		total += (size_t)n;
		json_array_append_new(resources,
				      json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "kind", kinds[i].kind, "plural",
						kinds[i].plural, "category", kinds[i].category, "storage",
						kinds_storage_name(kinds[i].storage), "count", n, "phases",
						json_object_get(c, "phases") ? json_incref(json_object_get(c, "phases"))
									     : json_object()));
	}
	model = json_pack("{s:s, s:s, s:o, s:O, s:s, s:s, s:o, s:o, s:{s:I}, s:{s:o}}",
			  "product", "Krate", "status", "ready", "org", org_obj, "orgs", orgs, "namespace",
			  org ? ns : "", "correlationId", http_req_correlation_id(r), "resources", resources, "events",
			  events ? events : json_array(), "metrics", "resources", (json_int_t)total, "views", "agents",
			  agents);
	json_decref(orgs);
	json_decref(counts);
	http_respond_json(r, 200, model);
	return HTTP_DONE;
fail:
	json_decref(orgs);
	json_decref(org_obj);
	json_decref(counts);
	json_decref(events);
	json_decref(agents);
	api_fail(r, &e);
	kerr_clear(&e);
	return HTTP_DONE;
}
