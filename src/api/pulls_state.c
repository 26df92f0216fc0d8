/* Mergeability of an open pull request: git (do the refs exist, does head
 * merge into base without conflicts), its reviews (the latest review of each
 * reviewer counts), its checks, and the BranchProtection rules of its target. */
#include "api/records.h"
#include "model/admission.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *spec_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "spec"), key));
}

static void blocker(json_t *blockers, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void blocker(json_t *blockers, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(blockers, json_pack("{s:s, s:s}", "code", code, "message", msg));
}

/* 1 if a BranchProtection ref pattern covers the full ref: "refs/heads/main",
 * "main", or a prefix ending in '*'. */
static int ref_matches(const char *pattern, const char *ref)
{
	size_t n = strlen(pattern);
	const char *branch = !strncmp(ref, "refs/heads/", 11) ? ref + 11 : NULL;

	if (n && pattern[n - 1] == '*')
		return !strncmp(ref, pattern, n - 1) || (branch && !strncmp(branch, pattern, n - 1));
	return !strcmp(pattern, ref) || (branch && !strcmp(pattern, branch));
}

/* The rules for target in this repository: max required approvals and the
 * union of required checks (array of names, new ref). */
static int protection(struct api *a, const struct repo_ctx *c, const char *target, json_int_t *approvals,
		      json_t **checks, struct kerr *e)
{
	struct store_list_query q = { 0 };
	struct store_list_result res = { 0 };
	size_t i, j, k;
	int rc;

	*approvals = 0;
	*checks = json_array();
	q.kind = "BranchProtection";
	q.ns = c->ns;
	rc = store_list(a->store, &q, &res, e);
	if (rc)
		return rc;
	for (i = 0; i < res.n; i++) {
		json_t *bp = json_loadb(res.items[i], res.lens[i], 0, NULL), *refs, *v;
		const char *repo = spec_str(bp, "repository");
		int hit = 0;

		refs = json_object_get(json_object_get(bp, "spec"), "refs");
		if (!bp || (repo && *repo && strcmp(repo, c->repo))) {
			json_decref(bp);
			continue;
		}
		json_array_foreach(refs, j, v)
			if (json_is_string(v) && ref_matches(json_string_value(v), target))
				hit = 1;
		if (hit) {
			json_int_t n = json_integer_value(json_object_get(json_object_get(bp, "spec"),
									   "requiredApprovals"));

			if (n > *approvals)
				*approvals = n;
			json_array_foreach(json_object_get(json_object_get(bp, "spec"), "requiredChecks"), j, v) {
				int dup = 0;
				json_t *w;

				if (!json_is_string(v))
					continue;
				json_array_foreach(*checks, k, w)
					if (json_equal(v, w))
						dup = 1;
				if (!dup)
					json_array_append(*checks, v);
			}
		}
		json_decref(bp);
	}
	store_list_result_free(&res);
	return 0;
}

static long long rv_of(json_t *obj)
{
	const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));

	return s ? strtoll(s, NULL, 10) : 0;
}

/* Counts approvals and change requests from the latest review of each
 * reviewer other than the author. */
static int tally_reviews(struct api *a, const struct repo_ctx *c, json_t *pr, json_int_t *approved,
			 json_int_t *changes, struct kerr *e)
{
	long long number = json_integer_value(json_object_get(json_object_get(pr, "spec"), "number"));
	const char *author = spec_str(pr, "author");
	json_t *reviews, *latest, *rv, *v;
	const char *who;
	size_t i;
	int rc;

	*approved = *changes = 0;
	if (number < 1)
		return 0;
	rc = record_list(a, c, "Review", number, &reviews, e);
	if (rc)
		return rc;
	latest = json_object();
	json_array_foreach(reviews, i, rv) {
		const char *d = spec_str(rv, "decision");

		who = spec_str(rv, "reviewer");
		/* A comment-only review leaves an earlier decision standing. */
		if (!who || !d || !strcmp(d, "commented") || (author && !strcmp(who, author)))
			continue;
		v = json_object_get(latest, who);
		if (!v || rv_of(v) < rv_of(rv))
			json_object_set(latest, who, rv);
	}
	json_object_foreach(latest, who, v) {
		const char *d = spec_str(v, "decision");

		if (!strcmp(d, "approved"))
			(*approved)++;
		else if (!strcmp(d, "changes-requested"))
			(*changes)++;
	}
	json_decref(latest);
	json_decref(reviews);
	return 0;
}

/* The check named name reported for sha, or NULL. */
static json_t *check_for(json_t *checks, const char *name, const char *sha)
{
	size_t i;
	json_t *c;

	json_array_foreach(checks, i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));
		const char *s = json_string_value(json_object_get(c, "sha"));

		if (n && !strcmp(n, name) && (!sha || (s && !strcmp(s, sha))))
			return c;
	}
	return NULL;
}

/* Commit and file counts of base...head, reusing the stored ones when
 * neither side moved. */
static void counts(const struct repo_ctx *c, json_t *old, const char *base, const char *head, json_t *status)
{
	struct kerr e = KERR_INIT;
	json_t *cmp = NULL;

	if (old && json_is_string(json_object_get(old, "headSha")) &&
	    !strcmp(json_string_value(json_object_get(old, "headSha")), head) &&
	    json_is_string(json_object_get(old, "baseSha")) &&
	    !strcmp(json_string_value(json_object_get(old, "baseSha")), base) &&
	    json_is_integer(json_object_get(old, "commits"))) {
		json_object_set(status, "commits", json_object_get(old, "commits"));
		json_object_set(status, "changedFiles", json_object_get(old, "changedFiles"));
		return;
	}
	if (!git_compare(&c->git, base, head, &cmp, &e)) {
		json_object_set_new(status, "commits", json_integer((json_int_t)json_array_size(
									json_object_get(cmp, "commits"))));
		json_object_set_new(status, "changedFiles", json_integer((json_int_t)json_array_size(
									     json_object_get(cmp, "files"))));
	}
	json_decref(cmp);
	kerr_clear(&e);
}

int pull_state(struct api *a, const struct repo_ctx *c, json_t *pr, json_t **status, struct kerr *e)
{
	const char *source = spec_str(pr, "sourceRef"), *target = spec_str(pr, "targetRef");
	json_t *old = json_object_get(pr, "status");
	json_t *st, *blockers, *conflicts, *checks = NULL, *v;
	struct git_merge_result mr = { 0 };
	char head[GIT_SHA_HEX + 1] = "", base[GIT_SHA_HEX + 1] = "", mb[GIT_SHA_HEX + 1] = "";
	json_int_t approved, changes, required;
	int rc, have_head, have_base;
	size_t i;

	*status = NULL;
	if (!c->git.git)
		return kerr_set(e, KE_UNAVAILABLE, NULL, "repository storage is not available");
	if (!source || !target)
		return kerr_set(e, KE_UNPROCESSABLE, NULL, "the pull request has no source or target ref");
	st = json_object();
	blockers = json_array();
	conflicts = json_array();
	if (!st || !blockers || !conflicts) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto fail;
	}
	have_head = !git_resolve(&c->git, source, head, e);
	kerr_clear(e);
	have_base = !git_resolve(&c->git, target, base, e);
	kerr_clear(e);
	if (!have_head)
		blocker(blockers, "SOURCE_MISSING", "source ref %s does not exist", source);
	if (!have_base)
		blocker(blockers, "TARGET_MISSING", "target ref %s does not exist", target);
	json_object_set_new(st, "headSha", have_head ? json_string(head) : json_null());
	json_object_set_new(st, "baseSha", have_base ? json_string(base) : json_null());
	if (have_head && have_base) {
		if (git_merge_base(&c->git, base, head, mb, e)) {
			kerr_clear(e);
			blocker(blockers, "NO_COMMON_HISTORY", "%s and %s share no history", source, target);
		} else {
			json_object_set_new(st, "mergeBase", json_string(mb));
			if (!strcmp(mb, head)) {
				blocker(blockers, "UP_TO_DATE", "%s has nothing that %s lacks", source, target);
			} else {
				rc = git_merge_check(&c->git, base, head, &mr, e);
				if (rc)
					goto fail;
				if (!mr.clean) {
					json_array_extend(conflicts, mr.conflicts);
					blocker(blockers, "CONFLICTS", "merging %s into %s conflicts in %zu file(s)",
						source, target, json_array_size(mr.conflicts));
				}
				counts(c, old, base, head, st);
			}
		}
	}
	rc = tally_reviews(a, c, pr, &approved, &changes, e);
	if (!rc)
		rc = protection(a, c, target, &required, &checks, e);
	if (rc)
		goto fail;
	v = json_object_get(json_object_get(pr, "spec"), "requiredApprovals");
	if (json_integer_value(v) > required)
		required = json_integer_value(v);
	if (approved < required)
		blocker(blockers, "APPROVALS_REQUIRED", "%lld approving review(s) required, %lld given",
			(long long)required, (long long)approved);
	if (changes > 0)
		blocker(blockers, "CHANGES_REQUESTED", "%lld reviewer(s) requested changes", (long long)changes);
	json_array_foreach(checks, i, v) {
		const char *name = json_string_value(v);
		json_t *ck = check_for(json_object_get(old, "checks"), name, have_head ? head : NULL);
		const char *state = ck ? json_string_value(json_object_get(ck, "state")) : NULL;

		if (!state)
			blocker(blockers, "CHECK_REQUIRED", "required check %s has not reported", name);
		else if (!strcmp(state, "pending"))
			blocker(blockers, "CHECK_REQUIRED", "required check %s is pending", name);
		else if (strcmp(state, "success"))
			blocker(blockers, "CHECK_FAILED", "required check %s failed", name);
	}
	/* Checks speak for the commit they ran on: a new head drops them. */
	{
		json_t *kept = json_array(), *ck;

		json_array_foreach(json_object_get(old, "checks"), i, ck) {
			const char *sha = json_string_value(json_object_get(ck, "sha"));

			if (have_head && sha && !strcmp(sha, head))
				json_array_append(kept, ck);
		}
		json_object_set_new(st, "checks", kept);
	}
	json_object_set_new(st, "approvals", json_integer(approved));
	json_object_set_new(st, "changesRequested", json_integer(changes));
	json_object_set_new(st, "requiredApprovals", json_integer(required));
	json_object_set_new(st, "requiredChecks", checks);
	checks = NULL;
	json_object_set_new(st, "mergeable", json_boolean(json_array_size(blockers) == 0));
	json_object_set_new(st, "conflicts", conflicts);
	json_object_set_new(st, "blockers", blockers);
	json_decref(mr.conflicts);
	*status = st;
	return 0;
fail:
	json_decref(mr.conflicts);
	json_decref(checks);
	json_decref(st);
	json_decref(blockers);
	json_decref(conflicts);
	return rc;
}

/* Counts characters, not bytes, so a title in any script is measured alike. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int pull_title_policy(struct api *a, const char *org, const char *title, const char **warning, struct kerr *e)
{
	char ns[96], *json = NULL;
	const char *mode = "enforce";
	json_t *pb = NULL, *spec;
	json_int_t min = 8;
	size_t len;

	*warning = NULL;
	admission_org_namespace(org, ns, sizeof(ns));
	if (!store_get(a->store, "PolicyBinding", ns, "pr-title-required", &json, &len, e))
		pb = json_loadb(json, len, 0, NULL);
	kerr_clear(e);
	free(json);
	spec = json_object_get(pb, "spec");
	if (json_is_true(json_object_get(spec, "suspend"))) {
		json_decref(pb);
		return 0;
	}
	if (json_string_value(json_object_get(spec, "mode")))
		mode = !strcmp(json_string_value(json_object_get(spec, "mode")), "audit") ? "audit" : "enforce";
	if (json_integer_value(json_object_get(json_object_get(spec, "parameters"), "minLength")) > 0)
		min = json_integer_value(json_object_get(json_object_get(spec, "parameters"), "minLength"));
	json_decref(pb);
	if (utf8_chars(title) >= (size_t)min)
		return 0;
	if (!strcmp(mode, "audit")) {
		*warning = "PullRequest spec.title must be descriptive (policy pr-title-required, audit mode)";
		return 0;
	}
	kerr_set(e, KE_UNPROCESSABLE, "POLICY_VIOLATION",
		 "PullRequest spec.title must be descriptive: at least %lld characters (policy pr-title-required)",
		 (long long)min);
	kerr_add_reason(e, "PolicyViolation", "spec.title", "must be at least %lld characters", (long long)min);
	return KE_UNPROCESSABLE;
}

int api_policy_check(struct api *a, const char *org, json_t *doc, struct kerr *e)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	const char *title = json_string_value(json_object_get(json_object_get(doc, "spec"), "title"));
	const char *warning;

	if (!org || !kind || strcmp(kind, "PullRequest") || !title)
		return 0;
	return pull_title_policy(a, org, title, &warning, e);
}
