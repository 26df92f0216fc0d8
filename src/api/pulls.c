/* Pull requests (and issues, where they share the code): open, list, read
 * with fresh mergeability, files and diff, edit and close. Reviews, checks,
 * comments and merges are in pulls_actions.c; record_routes.c answers the
 * routes over HTTP. */
#include "api/pulls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPDATE_ATTEMPTS 5   /* edits raced by pushes and checks */

int pulls_fail(struct http_req *r, struct kerr *e)
{
	api_fail(r, e);
	kerr_clear(e);
	return HTTP_DONE;
}

int pulls_answer(struct http_req *r, int rc, int status, json_t *obj, struct kerr *e)
{
	if (rc) {
		json_decref(obj);
		return pulls_fail(r, e);
	}
	http_respond_json(r, status, obj);
	return HTTP_DONE;
}

int pulls_need_writer(const struct principal *p, const char *what, struct kerr *e)
{
	if (p->role >= ROLE_DEVELOPER)
		return 0;
	return kerr_set(e, KE_FORBIDDEN, "FORBIDDEN", "%s needs the developer role", what);
}

const char *pulls_str(json_t *obj, const char *part, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, part), key));
}

json_t *pulls_body(struct http_req *r)
{
	size_t len;
	const char *body = http_req_body(r, &len);
	json_t *v = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, NULL);

	if (!json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

int pulls_need_body(json_t *req, struct kerr *e)
{
	return json_is_object(req) ? 0 : kerr_set(e, KE_INVALID, "INVALID_JSON", "the body must be a JSON object");
}

int pulls_full_ref(json_t *v, const char *field, char *out, size_t size, struct kerr *e)
{
	const char *s = json_string_value(v);

	if (!s || !*s) {
		kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "%s is required", field);
		kerr_add_reason(e, "Required", field, "%s is required", field);
		return KE_UNPROCESSABLE;
	}
	if ((strncmp(s, "refs/", 5) ? snprintf(out, size, "refs/heads/%s", s) : snprintf(out, size, "%s", s)) >=
		    (int)size ||
	    !git_ref_valid(out)) {
		kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "%s is not a valid ref name", field);
		kerr_add_reason(e, "InvalidValue", field, "%s is not a valid ref name", field);
		return KE_UNPROCESSABLE;
	}
	return 0;
}

json_t *pulls_payload(const struct repo_ctx *c, json_t *pr, const char *sender)
{
	json_t *spec = json_object_get(pr, "spec"), *st = json_object_get(pr, "status");

	return json_pack("{s:{s:s, s:s}, s:I, s:{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}, s:s}",
			 "repository", "org", c->org, "name", c->repo, "number",
			 json_integer_value(json_object_get(spec, "number")), "pullRequest", "number",
			 json_integer_value(json_object_get(spec, "number")), "name",
			 pulls_str(pr, "metadata", "name"), "title", json_string_value(json_object_get(spec, "title")),
			 "author", json_string_value(json_object_get(spec, "author")), "sourceRef",
			 json_string_value(json_object_get(spec, "sourceRef")), "targetRef",
			 json_string_value(json_object_get(spec, "targetRef")), "state",
			 json_string_value(json_object_get(st, "phase")), "headSha",
			 json_string_value(json_object_get(st, "headSha")), "mergeCommit",
			 json_string_value(json_object_get(st, "mergeCommit")), "sender", sender);
}

int pulls_refresh(struct api *a, const struct repo_ctx *c, json_t **pr, struct kerr *e)
{
	struct principal sys = { 1, "system:forge", NULL, ROLE_ADMIN };
	json_t *st = NULL, *old = json_object_get(*pr, "status"), *v;
	struct store_op op = { 0 };
	const char *k, *phase = pulls_str(*pr, "status", "phase");
	int changed = 0, rc;
	char res[256];

	if (phase && strcmp(phase, "Open"))
		return 0;
	rc = pull_state(a, c, *pr, &st, e);
	if (rc)
		return rc;
	json_object_foreach(st, k, v)
		if (!json_equal(v, json_object_get(old, k)))
			changed = 1;
	if (!changed) {
		json_decref(st);
		return 0;
	}
	op.type = STORE_OP_STATUS_MERGE;
	op.kind = "PullRequest";
	op.ns = c->ns;
	op.name = pulls_str(*pr, "metadata", "name");
	op.obj = st;
	op.expect_rv = strtoll(pulls_str(*pr, "metadata", "resourceVersion") ?: "0", NULL, 10);
	snprintf(res, sizeof(res), "PullRequest/%s/%s", c->ns, op.name);
	rc = record_write(a, &sys, c->org, "status", res, NULL, &op, 1, e);
	if (!rc) {
		json_decref(*pr);
		*pr = op.result;
	} else if (rc == KE_CONFLICT) {
		/* Someone else wrote it meanwhile; answer with what was computed. */
		kerr_clear(e);
		json_object_update(json_object_get(*pr, "status"), st);
		rc = 0;
	}
	json_decref(st);
	return rc;
}

struct opened {
	const char *sender;
};

static json_t *opened_docs(struct api *a, const struct repo_ctx *c, json_t *stored, void *arg)
{
	struct opened *o = arg;
	json_t *payload = pulls_payload(c, stored, o->sender), *docs;

	json_object_set_new(payload, "action", json_string("opened"));
	docs = record_event_docs(a, c->org, "pull_request.opened", payload);
	json_decref(payload);
	return docs;
}

int api_pull_open(struct api *a, const struct principal *p, const char *org, const char *repo, json_t *req,
		  const char *correlation_id, json_t **out, const char **warning, struct kerr *e)
{
	struct repo_ctx c;
	json_t *pr = NULL, *st = NULL;
	char source[256], target[256], sha[GIT_SHA_HEX + 1];
	const char *warn = NULL;
	struct opened o = { p->user };

	*out = NULL;
	if (warning)
		*warning = NULL;
	if (repo_ctx_load(a, p, org, repo, &c, e) || pulls_need_writer(p, "opening a pull request", e) ||
	    pulls_need_body(req, e) ||
	    record_check_text(json_object_get(req, "title"), "title", RECORD_TITLE_MAX, 1, e) ||
	    record_check_text(json_object_get(req, "body"), "body", RECORD_TEXT_MAX, 0, e) ||
	    pulls_full_ref(json_object_get(req, "sourceRef"), "sourceRef", source, sizeof(source), e))
		goto deny;
	if (json_object_get(req, "targetRef") && !json_is_null(json_object_get(req, "targetRef"))) {
		if (pulls_full_ref(json_object_get(req, "targetRef"), "targetRef", target, sizeof(target), e))
			goto deny;
	} else {
		repo_default_ref(&c, target, sizeof(target));
	}
	if (!strcmp(source, target)) {
		kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "sourceRef and targetRef are the same ref");
		kerr_add_reason(e, "InvalidValue", "sourceRef", "must differ from targetRef");
		goto deny;
	}
	if (!c.git.git) {
		kerr_set(e, KE_UNAVAILABLE, NULL, "repository storage is not available");
		goto deny;
	}
	if (git_resolve(&c.git, source, sha, e) || git_resolve(&c.git, target, sha, e)) {
		const char *which = git_resolve(&c.git, source, sha, e) ? "sourceRef" : "targetRef";

		kerr_clear(e);
		kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "%s %s does not exist in %s/%s", which,
			 strcmp(which, "sourceRef") ? target : source, c.org, c.repo);
		kerr_add_reason(e, "NotFound", which, "no such branch");
		goto deny;
	}
	if (pull_title_policy(a, c.org, json_string_value(json_object_get(req, "title")), &warn, e))
		goto deny;
	pr = json_pack("{s:s, s:{}, s:{s:s, s:s, s:O, s:s, s:s, s:s, s:s, s:[], s:[]}}", "kind", "PullRequest",
		       "metadata", "spec", "organizationRef", c.org, "repository", c.repo, "title",
		       json_object_get(req, "title"), "body",
		       json_string_value(json_object_get(req, "body")) ?: "", "sourceRef", source, "targetRef",
		       target, "author", p->user, "labels", "assignees");
	if (!pr) {
		kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto deny;
	}
	if (pull_state(a, &c, pr, &st, e))
		goto deny;
	json_object_set_new(st, "phase", json_string("Open"));
	if (warn)
		json_object_set_new(st, "policyWarnings", json_pack("[s]", warn));
	json_object_set_new(pr, "status", st);
	if (record_create_numbered(a, p, correlation_id, &c, pr, opened_docs, &o, out, e))
		goto deny;
	if (warning)
		*warning = warn;
	json_decref(pr);
	repo_ctx_free(&c);
	return 0;
deny:
	json_decref(pr);
	repo_ctx_free(&c);
	return record_deny(a, p, "create", org, correlation_id, e);
}

static int by_number_desc(const void *x, const void *y)
{
	json_int_t a = json_integer_value(json_object_get(json_object_get(*(json_t *const *)x, "spec"), "number"));
	json_int_t b = json_integer_value(json_object_get(json_object_get(*(json_t *const *)y, "spec"), "number"));

	return a < b ? 1 : a > b ? -1 : 0;
}

int pulls_select(json_t *all, int (*keep)(json_t *o, const char *arg), const char *arg,
		 int (*cmp)(const void *, const void *), json_t **items, struct kerr *e)
{
	json_t *o, **v = calloc(json_array_size(all) + 1, sizeof(*v));
	size_t i, n = 0;

	*items = json_array();
	if (!v || !*items) {
		free(v);
		json_decref(*items);
		*items = NULL;
		json_decref(all);
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	json_array_foreach(all, i, o)
		if (keep(o, arg))
			v[n++] = o;
	qsort(v, n, sizeof(*v), cmp);
	for (i = 0; i < n; i++)
		json_array_append(*items, v[i]);
	free(v);
	json_decref(all);
	return 0;
}

/* 1 if the numbered record o is in state (open, closed, merged or all). */
static int in_state(json_t *o, const char *state)
{
	const char *phase = pulls_str(o, "status", "phase");
	int merged = phase && !strcmp(phase, "Merged"), closed = phase && !strcmp(phase, "Closed");

	if (!json_is_integer(json_object_get(json_object_get(o, "spec"), "number")))
		return 0;
	return !strcmp(state, "all") || (!strcmp(state, "open") && !merged && !closed) ||
	       (!strcmp(state, "merged") && merged) || (!strcmp(state, "closed") && (closed || merged));
}

int api_records_list(struct api *a, const struct principal *p, const char *org, const char *repo, const char *kind,
		     const char *state, json_t **items, struct kerr *e)
{
	struct repo_ctx c;
	json_t *all = NULL;
	int rc;

	*items = NULL;
	if (!state || !*state)
		state = "open";
	if (strcmp(state, "open") && strcmp(state, "closed") && strcmp(state, "merged") && strcmp(state, "all"))
		return kerr_set(e, KE_INVALID, "INVALID_QUERY", "state must be open, closed, merged or all");
	rc = repo_ctx_load(a, p, org, repo, &c, e);
	if (!rc)
		rc = record_list(a, &c, kind, 0, &all, e);
	repo_ctx_free(&c);
	return rc ? rc : pulls_select(all, in_state, state, by_number_desc, items, e);
}

int api_record_get(struct api *a, const struct principal *p, const char *org, const char *repo, const char *kind,
		   const char *number, json_t **out, struct kerr *e)
{
	struct repo_ctx c;
	int rc = repo_ctx_load(a, p, org, repo, &c, e);

	*out = NULL;
	if (!rc)
		rc = record_load(a, &c, kind, number, out, e);
	if (!rc && !strcmp(kind, "PullRequest"))
		rc = pulls_refresh(a, &c, out, e);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	repo_ctx_free(&c);
	return rc;
}

int api_pull_files(struct api *a, const struct principal *p, const char *org, const char *repo, const char *number,
		   json_t **out, struct kerr *e)
{
	struct repo_ctx c;
	json_t *pr = NULL;
	const char *phase, *head, *base;
	char hs[GIT_SHA_HEX + 1], bs[GIT_SHA_HEX + 1];
	int rc;

	*out = NULL;
	if ((rc = repo_ctx_load(a, p, org, repo, &c, e)) || (rc = record_load(a, &c, "PullRequest", number, &pr, e)))
		goto out;
	if (!c.git.git) {
		rc = kerr_set(e, KE_UNAVAILABLE, NULL, "repository storage is not available");
		goto out;
	}
	phase = pulls_str(pr, "status", "phase");
	if (phase && strcmp(phase, "Open")) {
		/* Once merged or closed the refs may move on: show what was proposed. */
		head = pulls_str(pr, "status", "headSha");
		base = pulls_str(pr, "status", "mergeBase");
		if (!head || !base) {
			rc = kerr_set(e, KE_NOTFOUND, "NOT_FOUND", "the commits of this pull request are not recorded");
			goto out;
		}
	} else {
		if ((rc = git_resolve(&c.git, pulls_str(pr, "spec", "sourceRef"), hs, e)) ||
		    (rc = git_resolve(&c.git, pulls_str(pr, "spec", "targetRef"), bs, e)))
			goto out;
		head = hs;
		base = bs;
	}
	if ((rc = git_compare(&c.git, base, head, out, e)))
		goto out;
	json_object_set_new(*out, "headSha", json_string(head));
	json_object_set_new(*out, "baseSha", json_string(base));
out:
	json_decref(pr);
	repo_ctx_free(&c);
	return rc;
}

int api_record_update(struct api *a, const struct principal *p, const char *org, const char *repo, const char *kind,
		      const char *number, json_t *req, const char *correlation_id, json_t **out, const char **warning,
		      struct kerr *e)
{
	int pull = !strcmp(kind, "PullRequest");
	struct repo_ctx c;
	json_t *obj = NULL, *spec, *v, *stpatch = NULL, *docs = NULL, *payload;
	struct store_op ops[16] = { { 0 } };
	const char *phase, *state, *event = NULL, *warn = NULL, *key;
	static const char *const fields[] = { "title", "body", "labels", "assignees", NULL };
	char res[256], now[32];
	size_t n = 0, i;
	int rc, attempts = 0;

	*out = NULL;
	if (warning)
		*warning = NULL;
	if (repo_ctx_load(a, p, org, repo, &c, e) ||
	    pulls_need_writer(p, pull ? "editing a pull request" : "editing an issue", e) ||
	    pulls_need_body(req, e))
		goto deny;
again:
	if (record_load(a, &c, kind, number, &obj, e))
		goto deny;
	json_object_foreach(req, key, v) {
		for (i = 0; fields[i] && strcmp(fields[i], key); i++)
			;
		if (!fields[i] && strcmp(key, "state")) {
			kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "%s cannot be changed here", key);
			kerr_add_reason(e, "Forbidden", key, "only title, body, state, labels and assignees");
			goto deny;
		}
	}
	if ((json_object_get(req, "title") &&
	     record_check_text(json_object_get(req, "title"), "title", RECORD_TITLE_MAX, 1, e)) ||
	    record_check_text(json_object_get(req, "body"), "body", RECORD_TEXT_MAX, 0, e) ||
	    record_check_names(json_object_get(req, "labels"), "labels", e) ||
	    record_check_names(json_object_get(req, "assignees"), "assignees", e))
		goto deny;
	if (pull && json_is_string(json_object_get(req, "title")) &&
	    pull_title_policy(a, c.org, json_string_value(json_object_get(req, "title")), &warn, e))
		goto deny;
	spec = json_object_get(obj, "spec");
	for (i = 0; fields[i]; i++)
		if ((v = json_object_get(req, fields[i])) && !json_is_null(v))
			json_object_set(spec, fields[i], v);
	phase = pulls_str(obj, "status", "phase");
	state = json_string_value(json_object_get(req, "state"));
	if (json_object_get(req, "state") && (!state || (strcmp(state, "open") && strcmp(state, "closed")))) {
		kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "state must be open or closed");
		kerr_add_reason(e, "InvalidValue", "state", "must be open or closed");
		goto deny;
	}
	record_now(now, sizeof(now));
	if (state && phase && !strcmp(phase, "Merged")) {
		kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "a merged pull request cannot be reopened or closed");
		kerr_add_reason(e, "InvalidValue", "state", "the pull request is merged");
		goto deny;
	}
	if (state && !strcmp(state, "closed") && (!phase || strcmp(phase, "Closed"))) {
		stpatch = json_pack("{s:s, s:s, s:b}", "phase", "Closed", "closedAt", now, "mergeable", 0);
		event = pull ? "pull_request.closed" : "issue.closed";
	} else if (state && !strcmp(state, "open") && phase && !strcmp(phase, "Closed")) {
		stpatch = json_pack("{s:s, s:n}", "phase", "Open", "closedAt");
		event = pull ? "pull_request.reopened" : "issue.reopened";
	}
	json_object_del(obj, "status");
	snprintf(res, sizeof(res), "%s/%s/%s", kind, c.ns, pulls_str(obj, "metadata", "name"));
	ops[n].type = STORE_OP_UPDATE;
	ops[n].kind = kind;
	ops[n].ns = c.ns;
	ops[n].name = pulls_str(obj, "metadata", "name");
	ops[n].obj = obj;
	ops[n].expect_rv = strtoll(pulls_str(obj, "metadata", "resourceVersion") ?: "0", NULL, 10);
	n++;
	if (stpatch) {
		ops[n] = ops[0];
		ops[n].type = STORE_OP_STATUS_MERGE;
		ops[n].obj = stpatch;
		ops[n].expect_rv = 0;
		n++;
		payload = pull ? pulls_payload(&c, obj, p->user)
			       : json_pack("{s:{s:s, s:s}, s:O?, s:s}", "repository", "org", c.org, "name", c.repo,
					   "number", json_object_get(spec, "number"), "sender", p->user);
		json_object_set_new(payload, "action", json_string(strrchr(event, '.') + 1));
		json_object_set_new(payload, "state", json_string(strcmp(state, "closed") ? "open" : "closed"));
		docs = record_event_ops(a, c.org, event, payload, ops,
				      sizeof(ops) / sizeof(ops[0]), &n);
	}
	rc = record_write(a, p, c.org, "update", res, correlation_id, ops, n, e);
	if (rc == KE_CONFLICT && ++attempts < UPDATE_ATTEMPTS) {
		/* A push or a check changed the record meanwhile: apply the edit to the new state. */
		kerr_clear(e);
		record_ops_clear(ops, &n);
		json_decref(stpatch);
		json_decref(docs);
		json_decref(obj);
		stpatch = docs = obj = NULL;
		event = NULL;
		goto again;
	}
	if (rc)
		goto deny;
	*out = json_incref(ops[n > 1 ? 1 : 0].result);
	if (warning)
		*warning = warn;
	rc = 0;
	goto out;
deny:
	rc = record_deny(a, p, "update", org, correlation_id, e);
out:
	record_ops_clear(ops, &n);
	json_decref(stpatch);
	json_decref(docs);
	json_decref(obj);
	repo_ctx_free(&c);
	return rc;
}
