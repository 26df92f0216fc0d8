/* What a dispatch freezes: the validated request, the permission review, the
 * redacted context bundle with its texts and rendered prompt in CAS, and the
 * run, attempt, approval and bundle objects written in one batch. Fork and
 * refreshed retries go through the same code as POST /api/agents/runs. */
#include "api/agents_api.h"
#include "agents/bundle.h"
#include "agents/secrets.h"
#include "agents/review.h"
#include "agents/snapshot.h"
#include "core/util.h"
#include "model/admission.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A source file is read up to the whole bundle's cap: past it the bundle
 * cuts it anyway, so the rest cannot change the result. */
#define SOURCE_READ_MAX (BUNDLE_MAX_BYTES + 1)
#define SOURCE_PATH_MAX 4096
#define DESCRIPTION_MAX 1024

void agents_request_free(struct agents_request *q)
{
	free(q->prompt);
	json_decref(q->context_labels);
	json_decref(q->source_refs);
	q->prompt = NULL;
	q->context_labels = NULL;
	q->source_refs = NULL;
}

void agents_context_free(struct agents_context *c)
{
	json_decref(c->stack);
	json_decref(c->review);
	json_decref(c->bundle);
	memset(c, 0, sizeof(*c));
}

/* The bare repository of org/repo into g (dir holds its path). */
static int repo_git(struct api *a, const char *org, const char *repo, struct git_repo *g, char dir[PATH_MAX],
		    struct kerr *e)
{
	if (!a->git_root)
		return kerr_set(e, KE_UNAVAILABLE, NULL, "repository storage is not available");
	if (snprintf(dir, PATH_MAX, "%s/%s/%s.git", a->git_root, org, repo) >= PATH_MAX)
		return kerr_set(e, KE_INVALID, NULL, "repository path too long");
	g->git = a->git_path;
	g->dir = dir;
	return 0;
}

/* sourceRefs: one {kind?: file, path} or an array of them → [{kind, path}]. */
static int parse_sources(json_t *v, json_t **out, struct kerr *e)
{
	json_t *items, *x;
	size_t i;

	*out = json_array();
	if (!*out)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	if (!v || json_is_null(v))
		return 0;
	items = json_is_object(v) ? json_pack("[O]", v) : json_incref(v);
	if (!json_is_array(items) || json_array_size(items) > BUNDLE_SOURCES_MAX) {
		json_decref(items);
		return agents_invalid(e, "sourceRefs", "must be an array of at most %d {kind: file, path}",
				      BUNDLE_SOURCES_MAX);
	}
	json_array_foreach(items, i, x) {
		const char *kind = json_string_value(json_object_get(x, "kind"));
		json_t *path = json_object_get(x, "path");

		if (!json_is_object(x) || (json_object_get(x, "kind") && (!kind || strcmp(kind, "file"))) ||
		    record_check_text(path, "sourceRefs.path", SOURCE_PATH_MAX, 1, e)) {
			json_decref(items);
			kerr_clear(e);
			return agents_invalid(e, "sourceRefs", "entries must be {kind: file, path} with a file path");
		}
		json_array_append_new(*out, json_pack("{s:s, s:O}", "kind", "file", "path", path));
	}
	json_decref(items);
	return 0;
}

/* An optional DNS-label string member of req into *out (NULL when absent). */
static int opt_label(json_t *req, const char *key, const char **out, struct kerr *e)
{
	json_t *v = json_object_get(req, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !util_dns_label(json_string_value(v)))
		return agents_invalid(e, key, "must be a name (lower-case letters, digits and '-')");
	*out = json_string_value(v);
	return 0;
}

int agents_request_parse(struct api *a, json_t *req, struct agents_request *q, struct kerr *e)
{
	char dir[PATH_MAX], *json = NULL;
	struct git_repo g;
	json_t *repo = NULL, *v;
	const char *s;
	size_t len;
	int rc;

	if ((rc = opt_label(req, "repository", &q->repository, e)) || (rc = opt_label(req, "agentStack", &q->stack, e)) ||
	    (rc = opt_label(req, "taskKind", &q->task_kind, e)) || (rc = opt_label(req, "runnerPool", &q->runner_pool, e)))
		return rc;
	if (!q->repository)
		return agents_invalid(e, "repository", "is required");
	if (!q->stack)
		return agents_invalid(e, "agentStack", "is required");
	if (!q->task_kind)
		q->task_kind = "general";
	v = json_object_get(req, "prompt");
	if ((rc = record_check_text(v, "prompt", AGENTS_PROMPT_MAX, 0, e)) ||
	    (rc = agents_redact(a, q->ns, json_string_value(v), &q->prompt, e)) ||
	    (rc = record_check_names(json_object_get(req, "contextLabels"), "contextLabels", e)) ||
	    (rc = parse_sources(json_object_get(req, "sourceRefs"), &q->source_refs, e)))
		return rc;
	q->raw_prompt = json_string_value(json_object_get(req, "prompt"));
	v = json_object_get(req, "contextLabels");
	q->context_labels = json_is_array(v) ? json_deep_copy(v) : json_array();
	rc = store_get(a->store, "Repository", q->ns, q->repository, &json, &len, e);
	if (rc == KE_NOTFOUND) {
		kerr_clear(e);
		return agents_invalid(e, "repository", "%s does not exist in org %s", q->repository, q->org);
	}
	if (rc)
		return rc;
	repo = json_loadb(json, len, 0, NULL);
	free(json);
	v = json_object_get(req, "ref");
	s = json_string_value(v);
	if (!v || json_is_null(v)) {
		/* like a pull request's target: the default branch */
		snprintf(q->ref, sizeof(q->ref), "refs/heads/%s", agents_str(repo, "spec", "defaultBranch") ?: "main");
	} else if (s && git_sha_valid(s)) {
		snprintf(q->ref, sizeof(q->ref), "%s", s);
	} else if ((rc = pulls_full_ref(v, "ref", q->ref, sizeof(q->ref), e))) {
		json_decref(repo);
		return rc;
	}
	json_decref(repo);
	if ((rc = repo_git(a, q->org, q->repository, &g, dir, e)))
		return rc;
	rc = git_resolve(&g, q->ref, q->sha, e);
	if (rc == KE_NOTFOUND || rc == KE_INVALID) {
		kerr_clear(e);
		return agents_invalid(e, "ref", "%s does not resolve to a commit in %s", q->ref, q->repository);
	}
	return rc;
}

int agents_request_from_run(struct api *a, json_t *run, struct agents_request *q, struct kerr *e)
{
	json_t *spec = json_object_get(run, "spec"), *v;
	const char *ref = agents_str(run, "spec", "ref"), *sha = agents_str(run, "spec", "sha");
	const char *prompt = agents_str(run, "spec", "prompt");
	char dir[PATH_MAX], cur[GIT_SHA_HEX + 1];
	struct git_repo g;
	int rc;

	q->repository = agents_str(run, "spec", "repository");
	q->stack = agents_str(run, "spec", "agentStack");
	q->task_kind = agents_str(run, "spec", "taskKind");
	q->runner_pool = agents_str(run, "spec", "runnerPool");
	if (!q->repository || !q->stack || !q->task_kind || !ref || !git_sha_valid(sha) ||
	    strlen(ref) >= sizeof(q->ref))
		return kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "the run's spec is incomplete");
	snprintf(q->ref, sizeof(q->ref), "%s", ref);
	snprintf(q->sha, sizeof(q->sha), "%s", sha);
	/* the prompt was redacted when the run was made */
	q->prompt = strdup(prompt ? prompt : "");
	v = json_object_get(spec, "contextLabels");
	q->context_labels = json_is_array(v) ? json_deep_copy(v) : json_array();
	v = json_object_get(spec, "sourceRefs");
	q->source_refs = json_is_array(v) ? json_deep_copy(v) : json_array();
	if (!q->prompt || !q->context_labels || !q->source_refs)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	if ((rc = repo_git(a, q->org, q->repository, &g, dir, e)))
		return rc;
	rc = git_resolve(&g, q->sha, cur, e);
	if (rc == KE_NOTFOUND || rc == KE_INVALID) {
		kerr_clear(e);
		return kerr_set(e, KE_CONFLICT, "INVALID_TRANSITION", "the run's commit %.12s is gone from %s", q->sha,
				q->repository);
	}
	return rc;
}

/* The adapter the stack runs through: process, agent-mux, or NULL when it
 * names neither nor an AgentAdapter of a known type. */
static const char *stack_adapter(json_t *stack, json_t *snap)
{
	const char *ad = agents_str(stack, "spec", "adapter"), *type;

	if (!ad)
		return NULL;
	if (!strcmp(ad, "process"))
		return "process";
	if (!strcmp(ad, "agent-mux"))
		return "agent-mux";
	type = agents_str(snapshot_find(snap, "AgentAdapter", ad), "spec", "adapterType");
	if (type && !strcmp(type, "subprocess"))
		return "process";
	if (type && !strcmp(type, "remote"))
		return "agent-mux";
	return NULL;
}

/* 403 PERMISSION_DENIED carrying the review's reasons. */
static int review_denied(json_t *review, struct kerr *e)
{
	json_t *reasons = json_object_get(review, "reasons"), *x;
	const char *first = NULL;
	size_t i;

	json_array_foreach(reasons, i, x) {
		const char *sev = json_string_value(json_object_get(x, "severity"));

		if (!first && (!sev || !strcmp(sev, "error")))
			first = json_string_value(json_object_get(x, "message"));
	}
	kerr_set(e, KE_FORBIDDEN, "PERMISSION_DENIED", "the permission review denied this run%s%s", first ? ": " : "",
		 first ? first : "");
	json_array_foreach(reasons, i, x)
		kerr_add_reason(e, json_string_value(json_object_get(x, "code")), NULL, "%s",
				json_string_value(json_object_get(x, "message")) ?: "");
	return KE_FORBIDDEN;
}

/* The bytes of a source file as text; binary files are refused rather than mangled. */
static int read_source(struct git_repo *g, const struct agents_request *q, const char *path, json_t **out,
		       struct kerr *e)
{
	struct buf b;
	int truncated = 0, rc = git_read_file(g, q->sha, path, SOURCE_READ_MAX, &b, &truncated, e);
	size_t n;

	*out = NULL;
	if (rc == KE_NOTFOUND || rc == KE_INVALID) {
		kerr_clear(e);
		return agents_invalid(e, "sourceRefs", "%s is not a file at %.12s", path, q->sha);
	}
	if (rc)
		return rc;
	n = b.len;
	/* a cut may have split the last character */
	while (truncated && n > 0 && n + 4 > b.len && !util_utf8_valid(b.data, n))
		n--;
	if (n && (memchr(b.data, '\0', n) || !util_utf8_valid(b.data, n)))
		rc = agents_invalid(e, "sourceRefs", "%s is not UTF-8 text", path);
	else
		*out = json_pack("{s:s, s:s, s:s%}", "kind", "file", "ref", path, "content", n ? b.data : "", n);
	buf_free(&b);
	if (!rc && !*out)
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
	return rc;
}

static int read_sources(struct api *a, const struct agents_request *q, json_t **out, struct kerr *e)
{
	char dir[PATH_MAX];
	struct git_repo g;
	json_t *x, *src;
	size_t i;
	int rc;

	*out = json_array();
	if (!*out)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	if ((rc = repo_git(a, q->org, q->repository, &g, dir, e)))
		return rc;
	json_array_foreach(q->source_refs, i, x) {
		const char *kind = json_string_value(json_object_get(x, "kind"));

		if (kind && !strcmp(kind, "fork")) {
			const char *run = json_string_value(json_object_get(x, "run"));
			char text[160];

			snprintf(text, sizeof(text), "This run is a fork of run %s.", run ? run : "");
			src = json_pack("{s:s, s:s, s:s}", "kind", "fork", "ref", run ? run : "", "content", text);
		} else if ((rc = read_source(&g, q, json_string_value(json_object_get(x, "path")), &src, e))) {
			return rc;
		}
		if (!src || json_array_append_new(*out, src))
			return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	return 0;
}

/* Stores each redacted layer text under its digest (the bundle names them). */
static int store_texts(struct api *a, json_t *texts, struct kerr *e)
{
	char d[CAS_DIGEST_SIZE];
	const char *k;
	json_t *v;
	int rc;

	json_object_foreach(texts, k, v) {
		if ((rc = cas_put(a->data_dir, json_string_value(v), json_string_length(v), d, e)))
			return rc;
		if (strcmp(d, k))
			return kerr_set(e, KE_INTERNAL, NULL, "a bundle layer's digest does not match its text");
	}
	return 0;
}

int agents_context_build(struct api *a, struct agents_request *q, struct agents_context *c, struct kerr *e)
{
	struct review_req rq = { q->repository, q->ref, q->actor, q->stack, "manual", q->task_kind, q->runner_pool };
	struct bundle_input in = { 0 };
	json_t *snap = NULL, *stack, *sources = NULL, *values = NULL, *texts = NULL;
	const char *digest;
	char *prompt = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!a->data_dir)
		return kerr_set(e, KE_UNAVAILABLE, NULL, "agent runs need the server's data directory");
	if ((rc = agents_snapshot(a->store, q->ns, &snap, e)))
		return rc;
	stack = snapshot_find(snap, "AgentStack", q->stack);
	if (!stack) {
		rc = agents_invalid(e, "agentStack", "no AgentStack %s in org %s", q->stack, q->org);
		goto out;
	}
	c->stack = json_deep_copy(json_object_get(stack, "spec"));
	if ((rc = review_run(&rq, snap, &c->review, e)))
		goto out;
	c->decision = json_string_value(json_object_get(c->review, "decision"));
	/* anything but the two go-aheads fails closed */
	if (!c->decision || (strcmp(c->decision, "allowed") && strcmp(c->decision, "requires-approval"))) {
		rc = review_denied(c->review, e);
		goto out;
	}
	c->adapter = stack_adapter(stack, snap);
	if ((rc = read_sources(a, q, &sources, e)) || (rc = agents_secrets(a, q->ns, &values, e)))
		goto out;
	in.stack = stack;
	in.snapshot = snap;
	in.repository = q->repository;
	in.ref = q->ref;
	in.sha = q->sha;
	in.task_prompt = q->raw_prompt ? q->raw_prompt : q->prompt;
	in.context_labels = q->context_labels;
	in.sources = sources;
	in.secret_values = values;
	if ((rc = bundle_build(&in, &c->bundle, &texts, &prompt, e)) || (rc = store_texts(a, texts, e)) ||
	    (rc = cas_put(a->data_dir, prompt, strlen(prompt), c->prompt_digest, e)))
		goto out;
	digest = json_string_value(json_object_get(c->bundle, "digest"));
	if (!digest || strncmp(digest, "sha256:", 7) || strlen(digest) < 7 + 12 ||
	    strlen(digest) >= sizeof(c->bundle_digest)) {
		rc = kerr_set(e, KE_INTERNAL, NULL, "the context bundle has no digest");
		goto out;
	}
	snprintf(c->bundle_digest, sizeof(c->bundle_digest), "%s", digest);
	snprintf(c->bundle_name, sizeof(c->bundle_name), "bundle-%.12s", digest + 7);
out:
	free(prompt);
	json_decref(texts);
	secrets_free(values);
	json_decref(sources);
	json_decref(snap);
	if (rc) {
		agents_context_free(c);
		if (!e->kcode)
			kerr_set(e, rc, NULL, "cannot build the run's context");
	}
	return rc;
}

json_t *agents_attempt_doc(const char *run, long n, const char *reason, json_t *stack_spec, const char *bundle_digest,
			   const char *bundle_name, const char *prompt_digest, json_t *permission, const char *adapter,
			   int waiting, const char *message)
{
	char name[AGENTS_NAME_MAX + 16];
	json_t *doc;

	snprintf(name, sizeof(name), "%s-%ld", run, n);
	doc = json_pack("{s:s, s:{s:s, s:{s:s, s:s}}, s:{s:s, s:I, s:s, s:O, s:s, s:s*, s:s, s:O, s:s*},"
			" s:{s:s, s:s*, s:s*}}",
			"kind", "AgentDispatchAttempt", "metadata", "name", name, "labels", AGENTS_LABEL_RUN, run,
			AGENTS_LABEL_STATE, waiting ? "waiting" : "queued", "spec", "agentDispatchRun", run, "number",
			(json_int_t)n, "attemptReason", reason, "agentStackSnapshot", stack_spec, "contextBundleDigest",
			bundle_digest, "contextBundleRef", bundle_name, "promptDigest", prompt_digest,
			"permissionSnapshot", permission, "message", message, "status", "phase",
			waiting ? "Pending" : "Queued", "reason", waiting ? "WaitingForApproval" : NULL, "message",
			waiting ? "waiting for an approval" : NULL);
	if (doc && adapter)
		json_object_set_new(json_object_get(json_object_get(doc, "metadata"), "labels"), AGENTS_LABEL_ADAPTER,
				    json_string(adapter));
	return doc;
}

json_t *agents_approval_doc(const char *run, long n, const char *actor, json_t *review)
{
	static const char *const actions[] = { "secret-access", "tool-use", "write-back", NULL };
	json_t *reqs = json_object_get(review, "approvalRequirements"), *x;
	const char *action = json_string_value(json_object_get(json_array_get(reqs, 0), "action"));
	struct buf desc = BUF_INIT(DESCRIPTION_MAX);
	char name[AGENTS_NAME_MAX + 32], attempt[AGENTS_NAME_MAX + 16], now[32];
	json_t *doc;
	size_t i;
	int known = 0;

	for (i = 0; action && actions[i]; i++)
		known |= !strcmp(action, actions[i]);
	json_array_foreach(reqs, i, x) {
		const char *why = json_string_value(json_object_get(x, "reason"));

		if (!why)
			continue;
		/* past the cap the rest is left out */
		if (desc.len)
			buf_addstr(&desc, "; ");
		buf_addstr(&desc, why);
	}
	if (n == 1)
		snprintf(name, sizeof(name), "approval-%s", run);
	else
		snprintf(name, sizeof(name), "approval-%s-%ld", run, n);
	snprintf(attempt, sizeof(attempt), "%s-%ld", run, n);
	agents_now(now, sizeof(now));
	doc = json_pack("{s:s, s:{s:s, s:{s:s}}, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:{s:s}}", "kind",
			"AgentApproval", "metadata", "name", name, "labels", AGENTS_LABEL_RUN, run, "spec",
			"dispatchRun", run, "attempt", attempt, "action", known ? action : "secret-access",
			"requestedBy", actor ? actor : "anonymous", "description",
			desc.len ? desc.data : "the permission review asks for an approval", "requestedAt", now,
			"status", "phase", "Pending");
	buf_free(&desc);
	return doc;
}

/* The stored bundle named c->bundle_name: 0 when it holds c's digest (reuse
 * it), KE_NOTFOUND when absent. */
static int bundle_stored(struct api *a, const char *ns, const struct agents_context *c, struct kerr *e)
{
	char *json = NULL;
	size_t len;
	json_t *obj;
	int rc = store_get(a->store, "AgentContextBundle", ns, c->bundle_name, &json, &len, e), same;

	if (rc)
		return rc;
	obj = json_loadb(json, len, 0, NULL);
	free(json);
	same = obj && agents_str(obj, "spec", "digest") && !strcmp(agents_str(obj, "spec", "digest"), c->bundle_digest);
	json_decref(obj);
	return same ? 0 : kerr_set(e, KE_CONFLICT, NULL, "another context bundle is stored as %s", c->bundle_name);
}

static json_t *run_doc(const struct agents_request *q, const struct agents_context *c, const char *run, int waiting,
		       const char *now)
{
	char attempt[AGENTS_NAME_MAX + 16], approval[AGENTS_NAME_MAX + 16];
	json_t *doc;

	snprintf(attempt, sizeof(attempt), "%s-1", run);
	snprintf(approval, sizeof(approval), "approval-%s", run);
	doc = json_pack("{s:s, s:{s:s, s:{s:s, s:s}}, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O, s:s, s:s*, s:s, s:s},"
			" s:{s:s, s:[], s:[{s:s, s:s, s:s, s:s}], s:s, s:i, s:s, s:O*, s:s*}}",
			"kind", "AgentDispatchRun", "metadata", "name", run, "labels", LABEL_REPO, q->repository,
			AGENTS_LABEL_STACK, q->stack, "spec", "repository", q->repository, "ref", q->ref, "sha", q->sha,
			"agentStack", q->stack, "taskKind", q->task_kind, "prompt", q->prompt ? q->prompt : "",
			"contextLabels", q->context_labels, "sourceRefs", q->source_refs, "actor",
			q->actor ? q->actor : "anonymous", "runnerPool", q->runner_pool, "contextBundleRef",
			c->bundle_name, "triggerSource", "manual", "status", "phase",
			waiting ? "WaitingForApproval" : "Queued", "conditions", "history", "phase",
			waiting ? "WaitingForApproval" : "Queued", "at", now, "reason",
			waiting ? "RequiresApproval" : "Dispatched", "message",
			waiting ? "the permission review asks for an approval" : "dispatched", "currentAttempt", attempt,
			"attempts", 1, "contextBundleDigest", c->bundle_digest, "permissionDigest",
			json_object_get(c->review, "digest"), "approval", waiting ? approval : NULL);
	return doc;
}

int agents_batch_add_bundle(struct api *a, struct agents_batch *b, const struct agents_request *q,
			    const struct agents_context *c, const char *run, struct kerr *e)
{
	json_t *bspec;
	int rc = bundle_stored(a, q->ns, c, e);

	if (rc != KE_NOTFOUND)
		return rc;
	kerr_clear(e);
	bspec = json_deep_copy(c->bundle);
	json_object_set_new(bspec, "dispatchRun", json_string(run));
	return agents_batch_add(b, q->org, STORE_OP_CREATE,
				json_pack("{s:s, s:{s:s, s:{s:s}}, s:o}", "kind", "AgentContextBundle", "metadata", "name",
					  c->bundle_name, "labels", AGENTS_LABEL_RUN, run, "spec", bspec),
				0, e);
}

json_t *agents_permission_snapshot(json_t *review)
{
	json_t *perm = json_deep_copy(review);

	if (perm)
		json_object_set_new(perm, "frozen", json_true());
	return perm;
}

void agents_run_name(char *out, size_t size)
{
	char hex[16];

	record_random_hex(hex, sizeof(hex));
	snprintf(out, size, "run-%s", hex);
}

int agents_create_run(struct api *a, const struct principal *p, struct agents_request *q, struct agents_context *c,
		      const char *run, json_t *extra, const char *verb, const char *cid, json_t **out, struct kerr *e)
{
	int waiting = !strcmp(c->decision, "requires-approval"), rc;
	char attempt[AGENTS_NAME_MAX + 16], now[32], res[160];
	struct agents_batch b;
	json_t *perm = agents_permission_snapshot(c->review), *x;
	size_t i;

	*out = NULL;
	agents_batch_init(&b);
	snprintf(attempt, sizeof(attempt), "%s-1", run);
	agents_now(now, sizeof(now));
	if ((rc = agents_batch_add_bundle(a, &b, q, c, run, e)) ||
	    (rc = agents_batch_add(&b, q->org, STORE_OP_CREATE, run_doc(q, c, run, waiting, now), 0, e)) ||
	    (rc = agents_batch_add(&b, q->org, STORE_OP_CREATE,
				   agents_attempt_doc(run, 1, "initial", c->stack, c->bundle_digest, c->bundle_name,
						      c->prompt_digest, perm, c->adapter, waiting, NULL),
				   0, e)) ||
	    (waiting && (rc = agents_batch_add(&b, q->org, STORE_OP_CREATE,
					       agents_approval_doc(run, 1, q->actor, c->review), 0, e))))
		goto out;
	json_array_foreach(extra, i, x)
		if ((rc = agents_batch_add(&b, q->org, STORE_OP_UPDATE, json_incref(x), agents_rv(x), e)))
			goto out;
	snprintf(res, sizeof(res), "AgentDispatchRun/%s/%s", q->ns, run);
	if ((rc = agents_batch_write(a, p, &b, q->org, verb, res, cid, e)))
		goto out;
	*out = json_pack("{s:O, s:O, s:o}", "run", agents_batch_result(&b, "AgentDispatchRun", run), "attempt",
			 agents_batch_result(&b, "AgentDispatchAttempt", attempt), "links", agents_links(q->org, run));
	if (!*out)
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
out:
	json_decref(perm);
	json_decref(extra);
	agents_batch_free(&b);
	return rc;
}
