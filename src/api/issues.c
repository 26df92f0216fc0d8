/* Opening an issue. Reading, listing, editing and commenting are shared with
 * pull requests (pulls.c, pulls_actions.c); record_routes.c answers over HTTP. */
#include "api/pulls.h"

#include <string.h>

struct opened {
	const char *sender;
};

static json_t *opened_docs(struct api *a, const struct repo_ctx *c, json_t *stored, void *arg)
{
	struct opened *o = arg;
	json_t *spec = json_object_get(stored, "spec"), *payload, *docs;

	payload = json_pack("{s:s, s:{s:s, s:s}, s:O, s:{s:O, s:O, s:s?, s:O?, s:O?}, s:s}", "action", "opened",
			    "repository", "org", c->org, "name", c->repo, "number", json_object_get(spec, "number"),
			    "issue", "number", json_object_get(spec, "number"), "title", json_object_get(spec, "title"),
			    "author", json_string_value(json_object_get(spec, "author")), "labels",
			    json_object_get(spec, "labels"), "assignees", json_object_get(spec, "assignees"), "sender",
			    o->sender);
	docs = record_event_docs(a, c->org, "issue.opened", payload);
	json_decref(payload);
	return docs;
}

int api_issue_open(struct api *a, const struct principal *p, const char *org, const char *repo, json_t *req,
		   const char *correlation_id, json_t **out, struct kerr *e)
{
	struct repo_ctx c;
	json_t *issue = NULL, *labels, *assignees;
	struct opened o = { p->user };
	int rc = 0;

	*out = NULL;
	if (repo_ctx_load(a, p, org, repo, &c, e) || pulls_need_writer(p, "opening an issue", e) ||
	    pulls_need_body(req, e) ||
	    record_check_text(json_object_get(req, "title"), "title", RECORD_TITLE_MAX, 1, e) ||
	    record_check_text(json_object_get(req, "body"), "body", RECORD_TEXT_MAX, 0, e) ||
	    record_check_names(json_object_get(req, "labels"), "labels", e) ||
	    record_check_names(json_object_get(req, "assignees"), "assignees", e))
		goto deny;
	labels = json_object_get(req, "labels");
	assignees = json_object_get(req, "assignees");
	issue = json_pack("{s:s, s:{}, s:{s:s, s:s, s:O, s:s, s:s, s:o, s:o}, s:{s:s}}", "kind", "Issue", "metadata",
			  "spec", "organizationRef", c.org, "repository", c.repo, "title", json_object_get(req, "title"),
			  "body", json_string_value(json_object_get(req, "body")) ?: "", "author", p->user, "labels",
			  json_is_array(labels) ? json_incref(labels) : json_array(), "assignees",
			  json_is_array(assignees) ? json_incref(assignees) : json_array(), "status", "phase", "Open");
	if (!issue) {
		kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto deny;
	}
	if (record_create_numbered(a, p, correlation_id, &c, issue, opened_docs, &o, out, e))
		goto deny;
	goto out;
deny:
	rc = record_deny(a, p, "create", org, correlation_id, e);
out:
	json_decref(issue);
	repo_ctx_free(&c);
	return rc;
}
