/* What happens to an open pull request: reviews, checks, comments, the merge
 * itself, and new pushes to its branches. */
#include "api/pulls.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REVIEW_COMMENTS_MAX 200
#define CHECK_NAME_MAX 100
#define URL_MAX 2048
#define CHECK_ATTEMPTS 5         /* writes of a check raced by pushes and other checks */

static int invalid(struct kerr *e, const char *field, const char *msg)
{
	kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "%s %s", field, msg);
	kerr_add_reason(e, "InvalidValue", field, "%s %s", field, msg);
	return KE_UNPROCESSABLE;
}

static int need_open(json_t *pr, struct kerr *e)
{
	const char *phase = pulls_str(pr, "status", "phase");

	if (!phase || !strcmp(phase, "Open"))
		return 0;
	return kerr_set(e, KE_CONFLICT, "NOT_OPEN", "the pull request is %s", !strcmp(phase, "Merged") ? "merged"
												       : "closed");
}

static long long rv_num(json_t *obj)
{
	const char *s = pulls_str(obj, "metadata", "resourceVersion");

	return s ? strtoll(s, NULL, 10) : 0;
}

/* Inline comments {path, line, body}: copies the valid ones into out (new ref). */
static int review_comments(json_t *v, json_t **out, struct kerr *e)
{
	size_t i;
	json_t *c;

	*out = json_array();
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > REVIEW_COMMENTS_MAX)
		return invalid(e, "comments", "must be an array of at most 200 {path, line, body}");
	json_array_foreach(v, i, c) {
		const char *path = json_string_value(json_object_get(c, "path"));
		json_t *line = json_object_get(c, "line");

		if (!json_is_object(c) || !path || !*path || strlen(path) > 4096 || path[0] == '/' ||
		    strstr(path, "..") || !json_is_integer(line) || json_integer_value(line) < 1 ||
		    record_check_text(json_object_get(c, "body"), "comments.body", RECORD_TEXT_MAX, 1, e))
			return e->kcode ? e->kcode
					: invalid(e, "comments", "entries need a relative path, a line >= 1 and a body");
		json_array_append_new(*out, json_pack("{s:s, s:O, s:O}", "path", path, "line", line, "body",
						      json_object_get(c, "body")));
	}
	return 0;
}

int api_pull_review(struct api *a, const struct principal *p, const char *org, const char *repo, const char *number,
		    json_t *req, const char *correlation_id, json_t **out, struct kerr *e)
{
	struct repo_ctx c;
	json_t *pr = NULL, *review = NULL, *comments = NULL, *docs = NULL, *payload;
	struct store_op ops[16] = { { 0 } };
	const char *decision, *author, *phase;
	char name[128], hex[16], res[256];
	size_t n = 0;
	int rc;

	*out = NULL;
	if (repo_ctx_load(a, p, org, repo, &c, e) || pulls_need_writer(p, "reviewing", e) || pulls_need_body(req, e) ||
	    record_load(a, &c, "PullRequest", number, &pr, e) || need_open(pr, e))
		goto deny;
	decision = json_string_value(json_object_get(req, "decision"));
	if (!decision || (strcmp(decision, "approved") && strcmp(decision, "changes-requested") &&
			  strcmp(decision, "commented"))) {
		invalid(e, "decision", "must be approved, changes-requested or commented");
		goto deny;
	}
	author = pulls_str(pr, "spec", "author");
	if (author && !strcmp(author, p->user) && strcmp(decision, "commented")) {
		invalid(e, "decision", "cannot be given by the author of the pull request");
		goto deny;
	}
	if (record_check_text(json_object_get(req, "body"), "body", RECORD_TEXT_MAX, 0, e) ||
	    review_comments(json_object_get(req, "comments"), &comments, e))
		goto deny;
	record_random_hex(hex, sizeof(hex));
	snprintf(name, sizeof(name), "%s-review-%s", pulls_str(pr, "metadata", "name"), hex);
	phase = !strcmp(decision, "approved") ? "Approved" : !strcmp(decision, "changes-requested") ? "ChangesRequested"
												      : "Commented";
	review = json_pack("{s:s, s:{s:s}, s:{s:s, s:s, s:s, s:O, s:s, s:s, s:s, s:s?, s:O}, s:{s:s}}", "kind",
			   "Review", "metadata", "name", name, "spec", "organizationRef", c.org, "repository", c.repo,
			   "pullRequest", pulls_str(pr, "metadata", "name"), "number",
			   json_object_get(json_object_get(pr, "spec"), "number"), "reviewer", p->user, "decision",
			   decision, "body", json_string_value(json_object_get(req, "body")) ?: "", "commitSha",
			   pulls_str(pr, "status", "headSha"), "comments", comments, "status", "phase", phase);
	if (!review || record_admit(&c, review, json_integer_value(json_object_get(json_object_get(pr, "spec"),
											 "number")),
				    e))
		goto deny;
	ops[n].type = STORE_OP_CREATE;
	ops[n].kind = "Review";
	ops[n].ns = c.ns;
	ops[n].name = name;
	ops[n].obj = review;
	n++;
	payload = pulls_payload(&c, pr, p->user);
	json_object_set_new(payload, "action", json_string("reviewed"));
	json_object_set_new(payload, "review", json_pack("{s:s, s:s, s:s}", "name", name, "reviewer", p->user,
							 "decision", decision));
	docs = record_event_ops(a, c.org, "pull_request.reviewed", payload, ops,
				      sizeof(ops) / sizeof(ops[0]), &n);
	snprintf(res, sizeof(res), "Review/%s/%s", c.ns, name);
	if (record_write(a, p, c.org, "create", res, correlation_id, ops, n, e))
		goto deny;
	/* The review counts from now on; a stale status is refreshed on the next read. */
	if (pulls_refresh(a, &c, &pr, e)) {
		log_warn("pulls: cannot refresh %s after a review: %s", pulls_str(pr, "metadata", "name"),
			 e->message ? e->message : "");
		kerr_clear(e);
	}
	*out = json_incref(ops[0].result);
	rc = 0;
	goto out;
deny:
	rc = record_deny(a, p, "create", org, correlation_id, e);
out:
	record_ops_clear(ops, &n);
	json_decref(review);
	repo_ctx_free(&c);
	json_decref(pr);
	json_decref(comments);
	json_decref(docs);
	return rc;
}

static int by_rv(const void *x, const void *y)
{
	long long a = rv_num(*(json_t *const *)x), b = rv_num(*(json_t *const *)y);

	return a < b ? -1 : a > b;
}

/* 1 if o targets target (a Comment's spec.target), or always when target is NULL. */
static int targets(json_t *o, const char *target)
{
	const char *t = pulls_str(o, "spec", "target");

	return !target || (t && !strcmp(t, target));
}

int api_record_children(struct api *a, const struct principal *p, const char *org, const char *repo,
			const char *parent_kind, const char *number, const char *kind, json_t **items, struct kerr *e)
{
	const char *target = strcmp(kind, "Comment") ? NULL : parent_kind;
	struct repo_ctx c;
	json_t *parent = NULL, *all = NULL;
	int rc;

	*items = NULL;
	rc = repo_ctx_load(a, p, org, repo, &c, e);
	if (!rc)
		rc = record_load(a, &c, parent_kind, number, &parent, e);
	if (!rc)
		rc = record_list(a, &c, kind,
				 json_integer_value(json_object_get(json_object_get(parent, "spec"), "number")), &all, e);
	json_decref(parent);
	repo_ctx_free(&c);
	return rc ? rc : pulls_select(all, targets, target, by_rv, items, e);
}

int api_record_comment(struct api *a, const struct principal *p, const char *org, const char *repo,
		       const char *target, const char *number, json_t *req, const char *correlation_id, json_t **out,
		       struct kerr *e)
{
	int pull = !strcmp(target, "PullRequest");
	struct repo_ctx c;
	json_t *parent = NULL, *cm = NULL, *docs = NULL, *payload;
	struct store_op ops[16] = { { 0 } };
	char name[128], hex[16], res[256];
	size_t n = 0;
	json_t *num;
	int rc = 0;

	*out = NULL;
	if (repo_ctx_load(a, p, org, repo, &c, e) || pulls_need_writer(p, "commenting", e) || pulls_need_body(req, e) ||
	    record_check_text(json_object_get(req, "body"), "body", RECORD_TEXT_MAX, 1, e) ||
	    record_load(a, &c, target, number, &parent, e))
		goto deny;
	num = json_object_get(json_object_get(parent, "spec"), "number");
	record_random_hex(hex, sizeof(hex));
	snprintf(name, sizeof(name), "%s-comment-%s", pulls_str(parent, "metadata", "name"), hex);
	cm = json_pack("{s:s, s:{s:s}, s:{s:s, s:s, s:O, s:s, s:s, s:O}}", "kind", "Comment", "metadata", "name",
		       name, "spec", "organizationRef", c.org, "repository", c.repo, "number", num, "target", target,
		       "author", p->user, "body", json_object_get(req, "body"));
	if (!cm || record_admit(&c, cm, json_integer_value(num), e))
		goto deny;
	ops[n].type = STORE_OP_CREATE;
	ops[n].kind = "Comment";
	ops[n].ns = c.ns;
	ops[n].name = name;
	ops[n].obj = cm;
	n++;
	payload = pull ? pulls_payload(&c, parent, p->user)
		       : json_pack("{s:{s:s, s:s}, s:O, s:{s:O, s:s?}, s:s}", "repository", "org", c.org, "name",
				   c.repo, "number", num, "issue", "number", num, "title",
				   pulls_str(parent, "spec", "title"), "sender", p->user);
	json_object_set_new(payload, "action", json_string("commented"));
	json_object_set_new(payload, "comment", json_pack("{s:s, s:s, s:O}", "name", name, "author", p->user, "body",
							  json_object_get(req, "body")));
	docs = record_event_ops(a, c.org, pull ? "pull_request.commented" : "issue.commented", payload, ops,
				      sizeof(ops) / sizeof(ops[0]), &n);
	snprintf(res, sizeof(res), "Comment/%s/%s", c.ns, name);
	if (record_write(a, p, c.org, "create", res, correlation_id, ops, n, e))
		goto deny;
	*out = json_incref(ops[0].result);
	goto out;
deny:
	rc = record_deny(a, p, "create", org, correlation_id, e);
out:
	record_ops_clear(ops, &n);
	json_decref(cm);
	json_decref(docs);
	json_decref(parent);
	repo_ctx_free(&c);
	return rc;
}

static int check_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n && n <= CHECK_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._/:-") == n;
}

int api_pull_check(struct api *a, const struct principal *p, const char *org, const char *repo, const char *number,
		   json_t *req, const char *correlation_id, json_t **out, struct kerr *e)
{
	struct repo_ctx c;
	json_t *pr = NULL, *checks, *ck, *st = NULL, *docs = NULL, *payload;
	struct store_op ops[16] = { { 0 } };
	const char *name, *state, *url, *head;
	char now[32], res[256];
	size_t n = 0, i;
	int rc = 0, attempts = 0;

	*out = NULL;
	if (repo_ctx_load(a, p, org, repo, &c, e) || pulls_need_writer(p, "reporting a check", e) ||
	    pulls_need_body(req, e))
		goto deny;
	name = json_string_value(json_object_get(req, "name"));
	state = json_string_value(json_object_get(req, "state"));
	url = json_string_value(json_object_get(req, "detailsUrl"));
	if (!check_name_ok(name)) {
		invalid(e, "name", "must be 1-100 letters, digits, spaces or ._/:-");
		goto deny;
	}
	if (!state || (strcmp(state, "pending") && strcmp(state, "success") && strcmp(state, "failure"))) {
		invalid(e, "state", "must be pending, success or failure");
		goto deny;
	}
	if (json_object_get(req, "detailsUrl") && !json_is_null(json_object_get(req, "detailsUrl")) &&
	    (!url || strlen(url) > URL_MAX || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) ||
	     strpbrk(url, " \t\r\n\"<>"))) {
		invalid(e, "detailsUrl", "must be an http or https URL");
		goto deny;
	}
again:
	if (record_load(a, &c, "PullRequest", number, &pr, e) || need_open(pr, e) || pulls_refresh(a, &c, &pr, e))
		goto deny;
	head = pulls_str(pr, "status", "headSha");
	if (!head) {
		kerr_set(e, KE_CONFLICT, "SOURCE_MISSING", "the source branch of this pull request is gone");
		goto deny;
	}
	record_now(now, sizeof(now));
	checks = json_array();
	json_array_foreach(json_object_get(json_object_get(pr, "status"), "checks"), i, ck) {
		const char *cn = json_string_value(json_object_get(ck, "name"));

		if (cn && strcmp(cn, name))
			json_array_append(checks, ck);
	}
	json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "name", name, "state", state, "sha", head,
						"updatedAt", now, "detailsUrl", url));
	json_object_set_new(json_object_get(pr, "status"), "checks", checks);
	if (pull_state(a, &c, pr, &st, e))
		goto deny;
	json_object_set(st, "checks", checks);
	ops[n].type = STORE_OP_STATUS_MERGE;
	ops[n].kind = "PullRequest";
	ops[n].ns = c.ns;
	ops[n].name = pulls_str(pr, "metadata", "name");
	ops[n].obj = st;
	ops[n].expect_rv = rv_num(pr);
	n++;
	payload = pulls_payload(&c, pr, p->user);
	json_object_set_new(payload, "action", json_string("check_updated"));
	json_object_set_new(payload, "check", json_pack("{s:s, s:s, s:s, s:s?}", "name", name, "state", state, "sha",
							head, "detailsUrl", url));
	docs = record_event_ops(a, c.org, "check.updated", payload, ops,
				      sizeof(ops) / sizeof(ops[0]), &n);
	snprintf(res, sizeof(res), "PullRequest/%s/%s", c.ns, ops[0].name);
	rc = record_write(a, p, c.org, "status", res, correlation_id, ops, n, e);
	if (rc == KE_CONFLICT && ++attempts < CHECK_ATTEMPTS) {
		/* A push or another check moved the pull request: redo it on the new state. */
		kerr_clear(e);
		record_ops_clear(ops, &n);
		json_decref(st);
		json_decref(docs);
		json_decref(pr);
		st = docs = pr = NULL;
		rc = 0;
		goto again;
	}
	if (rc)
		goto deny;
	*out = json_incref(ops[0].result);
	goto out;
deny:
	rc = record_deny(a, p, "status", org, correlation_id, e);
out:
	record_ops_clear(ops, &n);
	json_decref(st);
	json_decref(docs);
	json_decref(pr);
	repo_ctx_free(&c);
	return rc;
}

/* Refusal with the blockers as reasons: 409 NOT_MERGEABLE. */
static int not_mergeable(json_t *pr, struct kerr *e)
{
	size_t i;
	json_t *b;

	kerr_set(e, KE_CONFLICT, "NOT_MERGEABLE", "pull request #%lld cannot be merged",
		 (long long)json_integer_value(json_object_get(json_object_get(pr, "spec"), "number")));
	json_array_foreach(json_object_get(json_object_get(pr, "status"), "blockers"), i, b)
		kerr_add_reason(e, json_string_value(json_object_get(b, "code")) ?: "Blocked", "",
				"%s", json_string_value(json_object_get(b, "message")) ?: "");
	return KE_CONFLICT;
}

static const char *short_ref(const char *ref)
{
	return !strncmp(ref, "refs/heads/", 11) ? ref + 11 : ref;
}

int api_pull_merge(struct api *a, const struct principal *p, const char *org, const char *repo, const char *number,
		   json_t *req, const char *correlation_id, json_t **out, struct kerr *e)
{
	struct repo_ctx c;
	json_t *pr = NULL, *st = NULL, *docs = NULL, *payload, *updates = NULL;
	struct store_op ops[16] = { { 0 } };
	const char *strategy, *head, *base, *target, *title, *body, *msg_in;
	enum git_merge_strategy s;
	char sha[GIT_SHA_HEX + 1], now[32], res[256], email[160];
	struct buf msg = BUF_INIT(RECORD_TEXT_MAX + 1024);
	struct git_ident who;
	size_t n = 0;
	long long num;
	int rc = 0;

	*out = NULL;
	if (repo_ctx_load(a, p, org, repo, &c, e) || pulls_need_writer(p, "merging", e) || pulls_need_body(req, e))
		goto deny;
	strategy = json_string_value(json_object_get(req, "strategy"));
	if (!json_object_get(req, "strategy") || json_is_null(json_object_get(req, "strategy")))
		strategy = "merge";
	if (!strategy || (strcmp(strategy, "merge") && strcmp(strategy, "squash") && strcmp(strategy, "fast-forward"))) {
		invalid(e, "strategy", "must be merge, squash or fast-forward");
		goto deny;
	}
	if (record_check_text(json_object_get(req, "message"), "message", RECORD_TEXT_MAX, 0, e) ||
	    record_load(a, &c, "PullRequest", number, &pr, e))
		goto deny;
	if (need_open(pr, e)) {
		kerr_clear(e);
		json_object_set_new(json_object_get(pr, "status"), "blockers",
				    json_pack("[{s:s, s:s}]", "code", "NOT_OPEN", "message", "the pull request is not open"));
		not_mergeable(pr, e);
		goto deny;
	}
	if (pulls_refresh(a, &c, &pr, e))
		goto deny;
	if (!json_is_true(json_object_get(json_object_get(pr, "status"), "mergeable"))) {
		not_mergeable(pr, e);
		goto deny;
	}
	head = pulls_str(pr, "status", "headSha");
	base = pulls_str(pr, "status", "baseSha");
	target = pulls_str(pr, "spec", "targetRef");
	title = pulls_str(pr, "spec", "title");
	body = pulls_str(pr, "spec", "body");
	num = json_integer_value(json_object_get(json_object_get(pr, "spec"), "number"));
	msg_in = json_string_value(json_object_get(req, "message"));
	s = !strcmp(strategy, "squash") ? GIT_MERGE_SQUASH
	    : !strcmp(strategy, "fast-forward") ? GIT_MERGE_FAST_FORWARD : GIT_MERGE_COMMIT;
	if (msg_in && *msg_in)
		buf_add(&msg, msg_in, strlen(msg_in));
	else if (s == GIT_MERGE_SQUASH)
		buf_printf(&msg, "%s (#%lld)\n%s%s", title ?: "", num, body && *body ? "\n" : "", body ?: "");
	else
		buf_printf(&msg, "Merge pull request #%lld from %s\n\n%s\n", num,
			   short_ref(pulls_str(pr, "spec", "sourceRef")), title ?: "");
	snprintf(email, sizeof(email), "%s@users.krate.local", p->user);
	who.name = p->user;
	who.email = email;
	if (!msg.data || git_merge_commit(&c.git, s, base, head, &who, msg.data, sha, e))
		goto deny;
	if (git_update_ref(&c.git, target, sha, base, e)) {
		if (e->kcode == KE_CONFLICT) {
			kerr_clear(e);
			kerr_set(e, KE_CONFLICT, "CONFLICT", "%s moved while merging; try again", short_ref(target));
		}
		goto deny;
	}
	record_now(now, sizeof(now));
	st = json_pack("{s:s, s:b, s:[], s:s, s:s, s:s, s:s}", "phase", "Merged", "mergeable", 0, "blockers",
		       "mergedBy", p->user, "mergedAt", now, "mergeCommit", sha, "mergeStrategy", strategy);
	ops[n].type = STORE_OP_STATUS_MERGE;
	ops[n].kind = "PullRequest";
	ops[n].ns = c.ns;
	ops[n].name = pulls_str(pr, "metadata", "name");
	ops[n].obj = st;
	n++;
	json_object_update(json_object_get(pr, "status"), st);
	payload = pulls_payload(&c, pr, p->user);
	json_object_set_new(payload, "action", json_string("merged"));
	json_object_set_new(payload, "mergeStrategy", json_string(strategy));
	docs = record_event_ops(a, c.org, "pull_request.merged", payload, ops,
				      sizeof(ops) / sizeof(ops[0]), &n);
	snprintf(res, sizeof(res), "PullRequest/%s/%s", c.ns, ops[0].name);
	/* The ref has moved: record it even if the store refuses, so the log says so. */
	if (record_write(a, p, c.org, "merge", res, correlation_id, ops, n, e)) {
		log_error("pulls: %s merged as %s but its status was not stored: %s", res, sha,
			  e->message ? e->message : "");
		goto deny;
	}
	/* The target ref moved as a push would have moved it. */
	updates = json_pack("[{s:s, s:s, s:s}]", "ref", target, "before", base, "after", sha);
	{
		struct kerr pe = KERR_INIT;

		if (api_record_push(a, c.org, c.repo, p->user, updates, correlation_id, &pe))
			log_warn("pulls: cannot record the push of merge %s: %s", sha, pe.message ? pe.message : "");
		kerr_clear(&pe);
	}
	*out = json_incref(ops[0].result);
	goto out;
deny:
	rc = record_deny(a, p, "merge", org, correlation_id, e);
out:
	record_ops_clear(ops, &n);
	buf_free(&msg);
	json_decref(updates);
	json_decref(st);
	json_decref(docs);
	json_decref(pr);
	repo_ctx_free(&c);
	return rc;
}

/* 1 if updates has an entry for ref. */
static int ref_updated(json_t *updates, const char *ref)
{
	size_t i;
	json_t *u;

	json_array_foreach(updates, i, u) {
		const char *r = json_string_value(json_object_get(u, "ref"));

		if (ref && r && !strcmp(r, ref))
			return 1;
	}
	return 0;
}

void api_pulls_on_push(struct api *a, const char *org, const char *repo, json_t *updates)
{
	struct principal sys = { 1, "system:forge", NULL, ROLE_ADMIN };
	struct kerr e = KERR_INIT;
	struct repo_ctx c;
	json_t *all = NULL, *pr;
	size_t i;

	if (repo_ctx_load(a, &sys, org, repo, &c, &e) || record_list(a, &c, "PullRequest", 0, &all, &e)) {
		log_warn("pulls: cannot update the pull requests of %s/%s after a push: %s", org, repo,
			 e.message ? e.message : "");
		goto out;
	}
	json_array_foreach(all, i, pr) {
		const char *phase = pulls_str(pr, "status", "phase"), *source = pulls_str(pr, "spec", "sourceRef");
		struct store_op ops[16] = { { 0 } };
		json_t *st = NULL, *docs = NULL, *payload;
		char res[256];
		size_t n = 0;

		if ((phase && strcmp(phase, "Open")) ||
		    !json_is_integer(json_object_get(json_object_get(pr, "spec"), "number")))
			continue;
		if (!ref_updated(updates, source)) {
			if (ref_updated(updates, pulls_str(pr, "spec", "targetRef"))) {
				json_t *cur = json_incref(pr);

				if (pulls_refresh(a, &c, &cur, &e))
					kerr_clear(&e);
				json_decref(cur);
			}
			continue;
		}
		/* New commits on the source: earlier checks no longer speak for the head. */
		json_object_set_new(json_object_get(pr, "status"), "checks", json_array());
		if (pull_state(a, &c, pr, &st, &e)) {
			kerr_clear(&e);
			continue;
		}
		json_object_set_new(st, "checks", json_array());
		ops[n].type = STORE_OP_STATUS_MERGE;
		ops[n].kind = "PullRequest";
		ops[n].ns = c.ns;
		ops[n].name = pulls_str(pr, "metadata", "name");
		ops[n].obj = st;
		n++;
		json_object_update(json_object_get(pr, "status"), st);
		payload = pulls_payload(&c, pr, "system:forge");
		json_object_set_new(payload, "action", json_string("synchronized"));
		docs = record_event_ops(a, c.org, "pull_request.synchronized", payload, ops,
				      sizeof(ops) / sizeof(ops[0]), &n);
		snprintf(res, sizeof(res), "PullRequest/%s/%s", c.ns, ops[0].name);
		if (record_write(a, &sys, c.org, "status", res, NULL, ops, n, &e)) {
			log_warn("pulls: cannot synchronize %s: %s", res, e.message ? e.message : "");
			kerr_clear(&e);
		}
		record_ops_clear(ops, &n);
		json_decref(st);
		json_decref(docs);
	}
out:
	kerr_clear(&e);
	json_decref(all);
	repo_ctx_free(&c);
}
