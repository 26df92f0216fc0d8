/* What happens to a dispatch run after it was made: cancel, retry, resume,
 * fork and continue (POST /api/agents/runs/{run}/{action}), and approval
 * decisions. Each reads the run, checks the transition, and writes every
 * change in one batch guarded by the resourceVersions it read; the runtime
 * writes the same objects' status, so a lost race is read and tried again. */
#include "api/agents_api.h"
#include "agents/runtime.h"
#include "model/admission.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RACED 1                               /* a write lost to a concurrent one: read again */
#define FOLLOWUP "\n\n## Follow-up\n"
#define CONVERSATION_MAX (1024 * 1024)        /* a continued prompt; past it, fork the run */

/* One action request, validated. */
struct action {
	const char *type;         /* cancel | retry | resume | fork | continue */
	char *reason, *message;   /* redacted; owned */
	int refresh;              /* retry/resume: a new review and bundle */
	int have_generation;
	long long generation;
	int runtime_done;         /* the runtime took the cancel or the message: do not repeat it */
};

/* What one try works on. */
struct action_ctx {
	struct api *a;
	const struct principal *p;
	const char *org, *ns, *run_name, *cid;
	json_t *run;              /* the run as read in this try (modified in place) */
	struct action *act;
	char verb[32];
	char now[32];
};

static int transition(struct kerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 409 INVALID_TRANSITION: the action does not apply to the run as it is. */
static int transition(struct kerr *e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kerr_set(e, KE_CONFLICT, "INVALID_TRANSITION", "%s", msg);
	return KE_CONFLICT;
}

/* Loads kind/name of the run's org (NULL *out when absent). */
static int load_opt(struct action_ctx *x, const char *kind, const char *name, json_t **out, struct kerr *e)
{
	char *json = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if (!name)
		return 0;
	rc = store_get(x->a->store, kind, x->ns, name, &json, &len, e);
	if (rc == KE_NOTFOUND) {
		kerr_clear(e);
		return 0;
	}
	if (rc)
		return rc;
	*out = json_loadb(json, len, 0, NULL);
	free(json);
	return *out ? 0 : kerr_set(e, KE_INTERNAL, NULL, "cannot read %s %s", kind, name);
}

static json_t *status_of(json_t *obj)
{
	json_t *st = json_object_get(obj, "status");

	if (!json_is_object(st)) {
		st = json_object();
		json_object_set_new(obj, "status", st);
	}
	return st;
}

static void set_label(json_t *obj, const char *key, const char *value)
{
	json_t *meta = json_object_get(obj, "metadata"), *labels = json_object_get(meta, "labels");

	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(meta, "labels", labels);
	}
	json_object_set_new(labels, key, json_string(value));
}

/* Marks an attempt that has not finished as finished with phase and reason. */
static void finish_attempt(json_t *att, const char *phase, const char *reason, const char *message, const char *now)
{
	json_t *st = status_of(att);

	json_object_set_new(st, "phase", json_string(phase));
	json_object_set_new(st, "reason", json_string(reason));
	json_object_set_new(st, "message", json_string(message ? message : ""));
	json_object_set_new(st, "finishedAt", json_string(now));
	set_label(att, AGENTS_LABEL_STATE, "done");
}

/* Sets the run's phase (with reason and message, recorded in its history). */
static void set_run_phase(struct action_ctx *x, const char *phase, const char *reason, const char *message)
{
	json_t *st = status_of(x->run);

	json_object_set_new(st, "phase", json_string(phase));
	json_object_set_new(st, "reason", json_string(reason));
	json_object_set_new(st, "message", json_string(message ? message : ""));
	agents_history_add(st, phase, reason, message, x->now);
}

/* spec.lastAction: every accepted action changes the spec, so
 * metadata.generation moves and stale expectedGenerations are refused. */
static void set_last_action(struct action_ctx *x, const char *run_ref)
{
	json_t *spec = json_object_get(x->run, "spec");

	json_object_set_new(spec, "lastAction",
			    json_pack("{s:s, s:s*, s:s*, s:s, s:s, s:I, s:s*}", "type", x->act->type, "reason",
				      x->act->reason, "message", x->act->message, "actor",
				      x->p->user ? x->p->user : "anonymous", "at", x->now, "generation",
				      (json_int_t)agents_int(x->run, "metadata", "generation"), "run", run_ref));
}

static int answer(json_t **out, const char *run, const char *attempt, const char *phase, struct kerr *e)
{
	*out = json_pack("{s:b, s:s, s:s?, s:s?}", "accepted", 1, "run", run, "attempt", attempt, "phase", phase);
	return *out ? 0 : kerr_set(e, KE_NOMEM, NULL, "out of memory");
}

/* Writes b; a lost race comes back as RACED. */
static int write_batch(struct action_ctx *x, struct agents_batch *b, const char *resource_kind, const char *name,
		       struct kerr *e)
{
	char res[160];
	int rc;

	snprintf(res, sizeof(res), "%s/%s/%s", resource_kind, x->ns, name);
	rc = agents_batch_write(x->a, x->p, b, x->org, x->verb, res, x->cid, e);
	if (rc == KE_CONFLICT) {
		kerr_clear(e);
		return RACED;
	}
	return rc;
}

/* Adds the update of obj (stolen) guarded by the resourceVersion it was read at. */
static int add_update(struct action_ctx *x, struct agents_batch *b, json_t *obj, struct kerr *e)
{
	return agents_batch_add(b, x->org, STORE_OP_UPDATE, obj, agents_rv(obj), e);
}

/* ---- cancel ---- */

static int do_cancel(struct action_ctx *x, json_t **out, struct kerr *e)
{
	const char *phase = agents_str(x->run, "status", "phase");
	const char *cur = agents_str(x->run, "status", "currentAttempt");
	const char *apname = agents_str(x->run, "status", "approval");
	struct agents_runtime *rt = x->a->runtime;
	struct agents_batch b;
	json_t *att = NULL, *ap = NULL;
	char msg[160];
	int rc;

	agents_batch_init(&b);
	/* Our own earlier pass stopped the process, and the runtime recorded the
	 * run Cancelled before our write: the cancel has happened. */
	if (agents_terminal(phase) && x->act->runtime_done && !strcmp(phase, "Cancelled")) {
		rc = answer(out, x->run_name, cur, "Cancelled", e);
		goto out;
	}
	if (agents_terminal(phase)) {
		rc = transition(e, "the run is already %s", phase);
		goto out;
	}
	if ((rc = load_opt(x, "AgentDispatchAttempt", cur, &att, e)) || (rc = load_opt(x, "AgentApproval", apname, &ap, e)))
		goto out;
	snprintf(msg, sizeof(msg), "cancelled by %s", x->p->user ? x->p->user : "anonymous");
	if (att && !x->act->runtime_done && rt && !strcmp(agents_str(att, "status", "phase") ?: "", "Running") &&
	    agents_runtime_cancel(rt, x->ns, cur) == 0)
		x->act->runtime_done = 1;
	/* The runtime records a process it stopped itself; anything it does not
	 * run (queued, waiting, or not running here) is ours to close. */
	if (att && !x->act->runtime_done && !agents_terminal(agents_str(att, "status", "phase"))) {
		finish_attempt(att, "Cancelled", "Cancelled", x->act->reason ? x->act->reason : msg, x->now);
		rc = add_update(x, &b, json_incref(att), e);
	}
	if (!rc && ap && !strcmp(agents_str(ap, "status", "phase") ?: "", "Pending")) {
		json_t *st = status_of(ap);

		json_object_set_new(st, "phase", json_string("Denied"));
		json_object_set_new(st, "reason", json_string("RunCancelled"));
		json_object_set_new(st, "decidedBy", json_string(x->p->user ? x->p->user : "anonymous"));
		json_object_set_new(st, "decidedAt", json_string(x->now));
		rc = add_update(x, &b, json_incref(ap), e);
	}
	if (rc)
		goto out;
	set_run_phase(x, "Cancelled", "Cancelled", x->act->reason ? x->act->reason : msg);
	json_object_set_new(status_of(x->run), "finishedAt", json_string(x->now));
	set_last_action(x, NULL);
	if ((rc = add_update(x, &b, json_incref(x->run), e)) ||
	    (rc = write_batch(x, &b, "AgentDispatchRun", x->run_name, e)))
		goto out;
	rc = answer(out, x->run_name, cur, "Cancelled", e);
out:
	json_decref(att);
	json_decref(ap);
	agents_batch_free(&b);
	return rc;
}

/* ---- new attempts: retry, resume, continue ---- */

/* The highest attempt number of the run and that attempt (new ref, NULL when none). */
static int last_attempt(struct action_ctx *x, long *n, json_t **att, struct kerr *e)
{
	json_t *items = NULL;
	int rc = agents_attempts(x->a, x->ns, x->run_name, &items, e);
	size_t k = rc ? 0 : json_array_size(items);

	*n = 0;
	*att = NULL;
	if (k) {
		*att = json_incref(json_array_get(items, k - 1));
		*n = (long)agents_int(*att, "spec", "number");
	}
	json_decref(items);
	return rc;
}

/* Queues attempt doc (stolen) as the run's current one; approval (stolen, may
 * be NULL) makes it wait. c: a refreshed context (its bundle too), or NULL. */
static int queue_attempt(struct action_ctx *x, struct agents_batch *b, json_t *doc, json_t *approval,
			 const struct agents_context *c, const struct agents_request *q, const char *reason,
			 json_t **out, struct kerr *e)
{
	const char *name = agents_str(doc, "metadata", "name");
	const char *aname = agents_str(approval, "metadata", "name");
	const char *phase = approval ? "WaitingForApproval" : "Queued";
	char att[AGENTS_NAME_MAX + 16];
	json_t *st = status_of(x->run);
	int rc;

	snprintf(att, sizeof(att), "%s", name ? name : "");
	rc = agents_batch_add(b, x->org, STORE_OP_CREATE, doc, 0, e);
	if (approval && rc)
		json_decref(approval);
	else if (approval)
		rc = agents_batch_add(b, x->org, STORE_OP_CREATE, approval, 0, e);
	if (rc || (c && (rc = agents_batch_add_bundle(x->a, b, q, c, x->run_name, e))))
		return rc;
	set_run_phase(x, phase, reason, x->act->reason);
	json_object_set_new(st, "currentAttempt", json_string(att));
	json_object_set_new(st, "attempts", json_integer(agents_attempt_number(x->run_name, att)));
	json_object_del(st, "finishedAt");
	if (aname)
		json_object_set_new(st, "approval", json_string(aname));
	else
		json_object_del(st, "approval");
	if (c) {
		json_object_set_new(st, "contextBundleDigest", json_string(c->bundle_digest));
		json_object_set(st, "permissionDigest", json_object_get(c->review, "digest"));
		json_object_set_new(json_object_get(x->run, "spec"), "contextBundleRef", json_string(c->bundle_name));
	}
	set_last_action(x, NULL);
	if ((rc = add_update(x, b, json_incref(x->run), e)) ||
	    (rc = write_batch(x, b, "AgentDispatchRun", x->run_name, e)))
		return rc;
	return answer(out, x->run_name, att, phase, e);
}

/* A new attempt reusing prev's frozen context; prompt_digest and message
 * replace prev's for a continuation. A context that needed an approval needs
 * a new one for every new attempt: *approval (new ref) is then set, and the
 * attempt waits for it. */
static json_t *reuse_doc(struct action_ctx *x, json_t *prev, long n, const char *reason, const char *prompt_digest,
			 const char *message, json_t **approval)
{
	json_t *spec = json_object_get(prev, "spec"), *perm = json_object_get(spec, "permissionSnapshot");
	json_t *labels = json_object_get(json_object_get(prev, "metadata"), "labels");
	const char *decision = json_string_value(json_object_get(perm, "decision"));
	int waiting = !decision || strcmp(decision, "allowed");

	*approval = waiting ? agents_approval_doc(x->run_name, n, x->p->user, perm) : NULL;
	return agents_attempt_doc(x->run_name, n, reason, json_object_get(spec, "agentStackSnapshot"),
				  json_string_value(json_object_get(spec, "contextBundleDigest")),
				  json_string_value(json_object_get(spec, "contextBundleRef")),
				  prompt_digest ? prompt_digest : json_string_value(json_object_get(spec, "promptDigest")),
				  perm, json_string_value(json_object_get(labels, AGENTS_LABEL_ADAPTER)), waiting, message);
}

static int do_retry(struct action_ctx *x, const char *reason, const char *why, json_t **out, struct kerr *e)
{
	const char *phase = agents_str(x->run, "status", "phase");
	struct agents_request q = { 0 };
	struct agents_context c = { 0 };
	struct agents_batch b;
	json_t *prev = NULL, *doc, *approval = NULL;
	long n;
	int rc;

	agents_batch_init(&b);
	if (!phase || (strcmp(phase, "Failed") && strcmp(phase, "Cancelled"))) {
		rc = transition(e, "%s needs a Failed or Cancelled run; this one is %s", x->act->type,
				phase ? phase : "new");
		goto out;
	}
	if ((rc = last_attempt(x, &n, &prev, e)))
		goto out;
	if (!prev) {
		rc = transition(e, "the run has no attempt to %s", x->act->type);
		goto out;
	}
	if (x->act->refresh) {
		q.org = x->org;
		snprintf(q.ns, sizeof(q.ns), "%s", x->ns);
		q.actor = x->p->user;
		if ((rc = agents_request_from_run(x->a, x->run, &q, e)) || (rc = agents_context_build(x->a, &q, &c, e)))
			goto out;
		{
			json_t *perm = agents_permission_snapshot(c.review);
			int waiting = !strcmp(c.decision, "requires-approval");

			doc = agents_attempt_doc(x->run_name, n + 1, reason, c.stack, c.bundle_digest, c.bundle_name,
						 c.prompt_digest, perm, c.adapter, waiting, NULL);
			json_decref(perm);
			if (waiting)
				approval = agents_approval_doc(x->run_name, n + 1, x->p->user, c.review);
		}
	} else {
		doc = reuse_doc(x, prev, n + 1, reason, NULL, NULL, &approval);
	}
	rc = queue_attempt(x, &b, doc, approval, x->act->refresh ? &c : NULL, &q, why, out, e);
out:
	json_decref(prev);
	agents_context_free(&c);
	agents_request_free(&q);
	agents_batch_free(&b);
	return rc;
}

/* The previous prompt with the follow-up appended, stored in CAS. */
static int continued_prompt(struct action_ctx *x, json_t *prev, char digest[CAS_DIGEST_SIZE], struct kerr *e)
{
	const char *pd = agents_str(prev, "spec", "promptDigest");
	struct buf b = BUF_INIT(CONVERSATION_MAX);
	char *old = NULL;
	size_t len = 0;
	int rc;

	if (!x->a->data_dir)
		return kerr_set(e, KE_UNAVAILABLE, NULL, "agent runs need the server's data directory");
	if (!pd)
		return transition(e, "the previous attempt has no prompt to continue");
	if ((rc = cas_get(x->a->data_dir, pd, &old, &len, e)))
		return rc;
	if (buf_add(&b, old, len) || buf_addstr(&b, FOLLOWUP) || buf_addstr(&b, x->act->message))
		rc = agents_invalid(e, "message", "makes the conversation longer than %d bytes; fork the run instead",
				    CONVERSATION_MAX);
	else
		rc = cas_put(x->a->data_dir, b.data, b.len, digest, e);
	free(old);
	buf_free(&b);
	return rc;
}

static int do_continue(struct action_ctx *x, json_t **out, struct kerr *e)
{
	const char *phase = agents_str(x->run, "status", "phase");
	const char *cur = agents_str(x->run, "status", "currentAttempt");
	struct agents_runtime *rt = x->a->runtime;
	char digest[CAS_DIGEST_SIZE];
	struct agents_batch b;
	json_t *att = NULL, *prev = NULL, *doc, *approval;
	long n;
	int rc;

	agents_batch_init(&b);
	if (!x->act->message || !*x->act->message) {
		rc = agents_invalid(e, "message", "is required");
		goto out;
	}
	if (!phase || !strcmp(phase, "Pending") || !strcmp(phase, "Queued") || !strcmp(phase, "WaitingForApproval")) {
		rc = transition(e, "the run has not started (%s); cancel it or wait for its attempt to run",
				phase ? phase : "new");
		goto out;
	}
	if ((rc = load_opt(x, "AgentDispatchAttempt", cur, &att, e)))
		goto out;
	if (!x->act->runtime_done && rt && att && !strcmp(phase, "Running") &&
	    !strcmp(agents_str(att, "status", "phase") ?: "", "Running")) {
		struct kerr le = KERR_INIT;

		rc = agents_runtime_continue(rt, x->ns, cur, x->act->message, &le);
		/* KE_CONFLICT: its adapter takes no messages (process); KE_NOTFOUND: not
		 * running here. Both get a continuation attempt instead. */
		if (rc && rc != KE_CONFLICT && rc != KE_NOTFOUND) {
			kerr_clear(e);
			*e = le;
			goto out;
		}
		kerr_clear(&le);
		x->act->runtime_done = rc == 0;
		rc = 0;
	}
	if (x->act->runtime_done) {
		set_last_action(x, NULL);
		if ((rc = add_update(x, &b, json_incref(x->run), e)) ||
		    (rc = write_batch(x, &b, "AgentDispatchRun", x->run_name, e)))
			goto out;
		rc = answer(out, x->run_name, cur, phase, e);
		goto out;
	}
	if ((rc = last_attempt(x, &n, &prev, e)))
		goto out;
	if (!prev) {
		rc = transition(e, "the run has no attempt to continue");
		goto out;
	}
	if ((rc = continued_prompt(x, prev, digest, e)))
		goto out;
	doc = reuse_doc(x, prev, n + 1, "continuation", digest, x->act->message, &approval);
	rc = queue_attempt(x, &b, doc, approval, NULL, NULL, "Continued", out, e);
out:
	json_decref(att);
	json_decref(prev);
	agents_batch_free(&b);
	return rc;
}

/* ---- fork ---- */

static int do_fork(struct action_ctx *x, json_t **out, struct kerr *e)
{
	struct agents_request q = { 0 };
	struct agents_context c = { 0 };
	struct buf prompt = BUF_INIT(CONVERSATION_MAX);
	char name[32];
	json_t *created = NULL;
	int rc;

	q.org = x->org;
	snprintf(q.ns, sizeof(q.ns), "%s", x->ns);
	q.actor = x->p->user;
	if ((rc = agents_request_from_run(x->a, x->run, &q, e)))
		goto out;
	json_array_append_new(q.source_refs, json_pack("{s:s, s:s}", "kind", "fork", "run", x->run_name));
	if (x->act->message && *x->act->message) {
		if (buf_addstr(&prompt, q.prompt) || buf_addstr(&prompt, FOLLOWUP) || buf_addstr(&prompt, x->act->message)) {
			rc = agents_invalid(e, "message", "makes the prompt too long");
			goto out;
		}
		free(q.prompt);
		q.prompt = buf_detach(&prompt, NULL);
	}
	if ((rc = agents_context_build(x->a, &q, &c, e)))
		goto out;
	agents_run_name(name, sizeof(name));
	set_last_action(x, name);
	rc = agents_create_run(x->a, x->p, &q, &c, name, json_pack("[O]", x->run), x->verb, x->cid, &created, e);
	if (rc == KE_CONFLICT) {
		kerr_clear(e);
		rc = RACED;
	}
	if (rc)
		goto out;
	rc = answer(out, name, agents_str(json_object_get(created, "attempt"), "metadata", "name"),
		    agents_str(json_object_get(created, "run"), "status", "phase"), e);
	if (!rc)
		json_object_set_new(*out, "forkedFrom", json_string(x->run_name));
out:
	json_decref(created);
	buf_free(&prompt);
	agents_context_free(&c);
	agents_request_free(&q);
	return rc;
}

/* ---- the route and its console twin ---- */

static void action_free(struct action *act)
{
	free(act->reason);
	free(act->message);
}

static int action_parse(struct api *a, const char *ns, json_t *req, struct action *act, struct kerr *e)
{
	json_t *gen = json_object_get(req, "expectedGeneration"), *refresh = json_object_get(req, "refresh");
	int rc;

	if ((rc = record_check_text(json_object_get(req, "reason"), "reason", AGENTS_REASON_MAX, 0, e)) ||
	    (rc = record_check_text(json_object_get(req, "message"), "message", AGENTS_PROMPT_MAX, 0, e)))
		return rc;
	if (gen && !json_is_null(gen)) {
		if (!json_is_integer(gen) || json_integer_value(gen) < 1)
			return agents_invalid(e, "expectedGeneration", "must be a positive integer");
		act->have_generation = 1;
		act->generation = json_integer_value(gen);
	}
	if (refresh && !json_is_null(refresh) && !json_is_boolean(refresh))
		return agents_invalid(e, "refresh", "must be true or false");
	act->refresh = json_is_true(refresh);
	if ((rc = agents_redact(a, ns, json_string_value(json_object_get(req, "reason")), &act->reason, e)) ||
	    (rc = agents_redact(a, ns, json_string_value(json_object_get(req, "message")), &act->message, e)))
		return rc;
	return 0;
}

static int known_action(const char *type)
{
	static const char *const types[] = { "cancel", "retry", "resume", "fork", "continue", NULL };
	size_t i;

	for (i = 0; type && types[i]; i++)
		if (!strcmp(type, types[i]))
			return 1;
	return 0;
}

int api_agents_run_action(struct api *a, const struct principal *p, const char *org, const char *run,
			  const char *type, json_t *req, const char *cid, json_t **out, struct kerr *e)
{
	char found[AGENTS_NAME_MAX], ns[96];
	struct action act = { 0 };
	struct action_ctx x = { 0 };
	json_t *obj = NULL;
	int rc = 0, tries;

	*out = NULL;
	x.a = a;
	x.p = p;
	x.cid = cid;
	x.run_name = run;
	x.act = &act;
	snprintf(x.verb, sizeof(x.verb), "dispatch.%s", known_action(type) ? type : "action");
	if (!known_action(type)) {
		kerr_set(e, KE_NOTFOUND, "UNKNOWN_ROUTE", "unknown run action");
		goto deny;
	}
	act.type = type;
	if (agents_find(a, p, org, "AgentDispatchRun", run, found, &obj, e) ||
	    agents_need_role(p, ROLE_DEVELOPER, "acting on an agent run", e) || pulls_need_body(req, e))
		goto deny;
	admission_org_namespace(found, ns, sizeof(ns));
	x.org = found;
	x.ns = ns;
	if (action_parse(a, ns, req, &act, e))
		goto deny;
	for (tries = 0; tries < AGENTS_WRITE_ATTEMPTS; tries++) {
		if (tries && agents_find(a, p, found, "AgentDispatchRun", run, found, &obj, e))
			goto deny;
		if (act.have_generation && agents_int(obj, "metadata", "generation") != act.generation) {
			kerr_set(e, KE_CONFLICT, "STALE_GENERATION",
				 "the run changed: it is at generation %lld, the action expected %lld; reload it",
				 agents_int(obj, "metadata", "generation"), act.generation);
			goto deny;
		}
		x.run = obj;
		agents_now(x.now, sizeof(x.now));
		if (!strcmp(type, "cancel"))
			rc = do_cancel(&x, out, e);
		else if (!strcmp(type, "retry"))
			rc = do_retry(&x, "retry", "Retry", out, e);
		else if (!strcmp(type, "resume"))
			rc = do_retry(&x, "resume", "Resume", out, e);
		else if (!strcmp(type, "fork"))
			rc = do_fork(&x, out, e);
		else
			rc = do_continue(&x, out, e);
		json_decref(obj);
		obj = NULL;
		if (rc != RACED)
			break;
	}
	if (rc == RACED)
		kerr_set(e, KE_CONFLICT, NULL, "the run kept changing while the %s was written; try again", type);
	if (rc)
		goto deny;
	action_free(&act);
	return 0;
deny:
	json_decref(obj);
	action_free(&act);
	return record_deny(a, p, x.verb, x.org ? x.org : org, cid, e);
}

static int action_route(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p,
			const char *type)
{
	struct kerr e = KERR_INIT;
	const char *org = agents_route_org(a, r, m, p, &e);
	char verb[32];
	json_t *req = NULL, *out = NULL;
	int rc;

	if (!org && e.kcode) {
		snprintf(verb, sizeof(verb), "dispatch.%s", type);
		record_deny(a, p, verb, NULL, http_req_correlation_id(r), &e);
		return pulls_fail(r, &e);
	}
	req = agents_body(r);
	rc = api_agents_run_action(a, p, org, m->seg[0], type, req, http_req_correlation_id(r), &out, &e);
	json_decref(req);
	return pulls_answer(r, rc, strcmp(type, "fork") ? 200 : 201, out, &e);
}

int h_agents_run_cancel(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return action_route(a, r, m, p, "cancel");
}

int h_agents_run_retry(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return action_route(a, r, m, p, "retry");
}

int h_agents_run_resume(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return action_route(a, r, m, p, "resume");
}

int h_agents_run_fork(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return action_route(a, r, m, p, "fork");
}

int h_agents_run_continue(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	return action_route(a, r, m, p, "continue");
}

/* ---- approvals ---- */

/* One try of a decision on the approval ap (read at this try). */
static int decide_once(struct action_ctx *x, json_t *ap, int approve, const char *comment, json_t **out,
		       struct kerr *e)
{
	const char *aphase = agents_str(ap, "status", "phase");
	const char *attname = agents_str(ap, "spec", "attempt");
	const char *rphase;
	struct agents_batch b;
	json_t *att = NULL, *st;
	int rc;

	agents_batch_init(&b);
	if (aphase && strcmp(aphase, "Pending")) {
		rc = transition(e, "the approval is already %s", aphase);
		goto out;
	}
	rphase = agents_str(x->run, "status", "phase");
	if (!attname)
		attname = agents_str(x->run, "status", "currentAttempt");
	if (!rphase || strcmp(rphase, "WaitingForApproval")) {
		rc = transition(e, "the run is %s, not waiting for an approval", rphase ? rphase : "new");
		goto out;
	}
	if ((rc = load_opt(x, "AgentDispatchAttempt", attname, &att, e)))
		goto out;
	if (!att) {
		rc = transition(e, "the attempt %s is gone", attname ? attname : "of the approval");
		goto out;
	}
	st = status_of(ap);
	json_object_set_new(st, "phase", json_string(approve ? "Approved" : "Denied"));
	json_object_set_new(st, "decidedBy", json_string(x->p->user ? x->p->user : "anonymous"));
	json_object_set_new(st, "decidedAt", json_string(x->now));
	if (comment)
		json_object_set_new(st, "reason", json_string(comment));
	if (approve) {
		st = status_of(att);
		json_object_set_new(st, "phase", json_string("Queued"));
		json_object_set_new(st, "reason", json_string("Approved"));
		json_object_set_new(st, "message", json_string(comment ? comment : ""));
		set_label(att, AGENTS_LABEL_STATE, "queued");
		set_run_phase(x, "Queued", "Approved", comment);
	} else {
		finish_attempt(att, "Failed", "ApprovalDenied", comment, x->now);
		set_run_phase(x, "Failed", "ApprovalDenied", comment);
		json_object_set_new(status_of(x->run), "finishedAt", json_string(x->now));
	}
	if ((rc = add_update(x, &b, json_incref(ap), e)) || (rc = add_update(x, &b, json_incref(att), e)) ||
	    (rc = add_update(x, &b, json_incref(x->run), e)) ||
	    (rc = write_batch(x, &b, "AgentApproval", agents_str(ap, "metadata", "name"), e)))
		goto out;
	*out = json_pack("{s:s?, s:s, s:s, s:s?, s:s}", "approval", agents_str(ap, "metadata", "name"), "phase",
			 approve ? "Approved" : "Denied", "run", x->run_name, "attempt", attname, "runPhase",
			 approve ? "Queued" : "Failed");
	if (!*out)
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
out:
	json_decref(att);
	agents_batch_free(&b);
	return rc;
}

int api_agents_approval_decide(struct api *a, const struct principal *p, const char *org, const char *name,
			       json_t *req, const char *cid, json_t **out, struct kerr *e)
{
	char found[AGENTS_NAME_MAX], ns[96];
	struct action act = { 0 };
	struct action_ctx x = { 0 };
	json_t *ap = NULL, *run = NULL;
	const char *decision;
	char *comment = NULL;
	int rc = 0, tries, approve;

	*out = NULL;
	x.a = a;
	x.p = p;
	x.cid = cid;
	x.act = &act;
	act.type = "decision";
	snprintf(x.verb, sizeof(x.verb), "approval.decide");
	if (agents_find(a, p, org, "AgentApproval", name, found, &ap, e) ||
	    agents_need_role(p, ROLE_ADMIN, "deciding an approval", e) || pulls_need_body(req, e))
		goto deny;
	admission_org_namespace(found, ns, sizeof(ns));
	x.org = found;
	x.ns = ns;
	decision = json_string_value(json_object_get(req, "decision"));
	if (!decision || (strcmp(decision, "approved") && strcmp(decision, "denied"))) {
		agents_invalid(e, "decision", "must be approved or denied");
		goto deny;
	}
	approve = !strcmp(decision, "approved");
	if (record_check_text(json_object_get(req, "comment"), "comment", AGENTS_REASON_MAX, 0, e) ||
	    agents_redact(a, ns, json_string_value(json_object_get(req, "comment")), &comment, e))
		goto deny;
	for (tries = 0; tries < AGENTS_WRITE_ATTEMPTS; tries++) {
		if (tries && agents_find(a, p, found, "AgentApproval", name, found, &ap, e))
			goto deny;
		x.run_name = agents_str(ap, "spec", "dispatchRun");
		if (!x.run_name || agents_find(a, p, found, "AgentDispatchRun", x.run_name, found, &run, e)) {
			if (!e->kcode)
				transition(e, "the approval names no run");
			goto deny;
		}
		x.run = run;
		agents_now(x.now, sizeof(x.now));
		rc = decide_once(&x, ap, approve, comment, out, e);
		json_decref(run);
		run = NULL;
		json_decref(ap);
		ap = NULL;
		if (rc != RACED)
			break;
	}
	if (rc == RACED)
		kerr_set(e, KE_CONFLICT, NULL, "the run kept changing while the decision was written; try again");
	if (rc)
		goto deny;
	free(comment);
	return 0;
deny:
	json_decref(ap);
	json_decref(run);
	free(comment);
	return record_deny(a, p, x.verb, x.org ? x.org : org, cid, e);
}

int h_agents_approval_decide(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	const char *org = agents_route_org(a, r, m, p, &e);
	json_t *req = NULL, *out = NULL;
	int rc;

	if (!org && e.kcode) {
		record_deny(a, p, "approval.decide", NULL, http_req_correlation_id(r), &e);
		return pulls_fail(r, &e);
	}
	req = pulls_body(r);
	rc = api_agents_approval_decide(a, p, org, m->seg[0], req, http_req_correlation_id(r), &out, &e);
	json_decref(req);
	return pulls_answer(r, rc, 200, out, &e);
}
