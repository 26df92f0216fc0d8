/* One claimed attempt, on its own thread: prepare, run through the adapter,
 * record artifacts and the final status, clean up. */
#include "agents/runtime_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agents/cas.h"
#include "agents/mux.h"
#include "agents/secrets.h"
#include "core/log.h"
#include "core/util.h"
#include "git/git_internal.h"

#define ENV_MAX 128
#define ENV_NAME_MAX 128

/* What a job needs besides its struct; owns everything. */
struct job_ctx {
	json_t *run;
	json_t *stack;             /* borrowed from the attempt: spec.agentStackSnapshot */
	json_t *secret_values;     /* every Secret value of the org, for redaction (wiped) */
	char *env[ENV_MAX + 1];    /* NAME=value; the secret ones are wiped */
	size_t n_env;
	char *prompt;
	size_t prompt_len;
	char *system_prompt;       /* the bundle's system layer, for agent-mux */
	struct transcript t;
	int have_t;
	int ended;                 /* transcript_end was called */
	int requeue;               /* agent-mux: the gateway could not take it; queued again */
};

/* ---- preparation ---- */

static int load_prompt(struct rt_job *j, struct job_ctx *c, struct kerr *e)
{
	const char *digest = rt_str(j->attempt, "spec", "promptDigest");

	if (!digest)
		return kerr_set(e, KE_NOTFOUND, NULL, "the attempt has no rendered prompt");
	return cas_get(j->rt->data_dir, digest, &c->prompt, &c->prompt_len, e);
}

/* {digest, spec, texts {layer digest: redacted text}} of the attempt's context
 * bundle (spec.contextBundleRef, else bundle-<first 12 hex of its digest>);
 * the system layer's text is kept for agent-mux. New reference. */
static json_t *bundle_doc(struct rt_job *j, struct job_ctx *c)
{
	const char *digest = rt_str(j->attempt, "spec", "contextBundleDigest");
	const char *ref = rt_str(j->attempt, "spec", "contextBundleRef");
	json_t *doc = json_pack("{s:s?, s:n, s:{}}", "digest", digest, "spec", "texts"), *bundle = NULL, *spec, *l;
	const char *lists[] = { "promptLayers", "sources" };
	struct kerr e = KERR_INIT;
	char name[RT_NAME_MAX + 1];
	size_t i, k;

	if (!doc)
		return NULL;
	if (ref)
		snprintf(name, sizeof(name), "%s", ref);
	else if (digest && !strncmp(digest, "sha256:", 7) && strlen(digest) >= 7 + 12)
		snprintf(name, sizeof(name), "bundle-%.12s", digest + 7);
	else
		return doc;
	if (rt_get(j->rt, "AgentContextBundle", j->ns, name, &bundle, &e)) {
		kerr_clear(&e);
		return doc;
	}
	spec = json_object_get(bundle, "spec");
	json_object_set(doc, "spec", spec);
	for (k = 0; k < 2; k++) {
		json_array_foreach(json_object_get(spec, lists[k]), i, l) {
			const char *d = rt_str(l, NULL, "digest"), *role = rt_str(l, NULL, "role");
			char *text = NULL;
			size_t len = 0;

			if (!d || json_object_get(json_object_get(doc, "texts"), d) ||
			    cas_get(j->rt->data_dir, d, &text, &len, &e)) {
				kerr_clear(&e);
				continue;
			}
			json_object_set_new(json_object_get(doc, "texts"), d, git_json_text(text, len));
			if (role && !strcmp(role, "system") && !c->system_prompt) {
				c->system_prompt = text;
				text = NULL;
			}
			free(text);
		}
	}
	json_decref(bundle);
	return doc;
}

static int write_file(const char *dir, const char *name, const char *data, size_t len, struct kerr *e)
{
	char path[RT_PATH_MAX];
	int fd;
	size_t off = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return kerr_set(e, KE_INVALID, NULL, "path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return kerr_set(e, KE_IO, NULL, "cannot write %s: %s", name, strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return kerr_set(e, KE_IO, NULL, "cannot write %s: %s", name, strerror(errno));
		}
		off += (size_t)n;
	}
	if (close(fd))
		return kerr_set(e, KE_IO, NULL, "cannot write %s: %s", name, strerror(errno));
	return 0;
}

/* DATA/runs/<attempt>: prompt.md and bundle.json, what the agent sees at /krate. */
static int prepare_run_dir(struct rt_job *j, struct job_ctx *c, const char *run_dir, struct kerr *e)
{
	char parent[RT_PATH_MAX], *text = NULL;
	json_t *doc;
	int rc;

	snprintf(parent, sizeof(parent), "%s/runs", j->rt->data_dir);
	if ((mkdir(parent, 0700) && errno != EEXIST) || ws_rmtree(run_dir) || mkdir(run_dir, 0700))
		return kerr_set(e, KE_IO, NULL, "cannot create the run directory: %s", strerror(errno));
	rc = write_file(run_dir, "prompt.md", c->prompt, c->prompt_len, e);
	if (rc)
		return rc;
	doc = bundle_doc(j, c);
	text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (!text)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	rc = write_file(run_dir, "bundle.json", text, strlen(text), e);
	free(text);
	return rc;
}

static int env_add(struct job_ctx *c, char *entry)
{
	if (!entry)
		return KE_NOMEM;
	if (c->n_env >= ENV_MAX) {
		sodium_memzero(entry, strlen(entry));
		free(entry);
		return KE_TOOBIG;
	}
	c->env[c->n_env++] = entry;
	c->env[c->n_env] = NULL;
	return 0;
}

static char *env_fmt(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s=%s", name, value);
	return s;
}

/* 1 when the environment already sets name (the first grant to name a variable wins). */
static int env_has(const struct job_ctx *c, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < c->n_env; i++)
		if (!strncmp(c->env[i], name, n) && c->env[i][n] == '=')
			return 1;
	return 0;
}

/* A variable name a grant may set: [A-Z_][A-Z0-9_]*, and none the sandbox
 * or the dynamic loader relies on. */
static int env_name_ok(const char *n)
{
	static const char *const reserved[] = { "PATH", "HOME", "LANG", "SHELL", "USER", "IFS", "ENV", "BASH_ENV", NULL };
	size_t i, len = strlen(n);

	if (len == 0 || len > ENV_NAME_MAX || (n[0] >= '0' && n[0] <= '9') || !strncmp(n, "KRATE_", 6) ||
	    !strncmp(n, "LD_", 3) || !strncmp(n, "LC_", 3) || !strncmp(n, "GIT_", 4))
		return 0;
	for (i = 0; reserved[i]; i++)
		if (!strcmp(n, reserved[i]))
			return 0;
	for (i = 0; i < len; i++)
		if (!((n[i] >= 'A' && n[i] <= 'Z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_'))
			return 0;
	return 1;
}

/* A Secret key as a variable name: upper-cased, anything else '_'. */
static void env_name_of(const char *key, char out[ENV_NAME_MAX + 1])
{
	size_t i;

	for (i = 0; key[i] && i < ENV_NAME_MAX; i++) {
		char ch = key[i];

		out[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A')
			 : ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) ? ch : '_';
	}
	out[i] = '\0';
}

/* 1 when the attempt's approval (approval-<run> for the first attempt,
 * approval-<run>-<n> later) was granted. */
static int approved(struct rt_job *j)
{
	long n = json_integer_value(json_object_get(json_object_get(j->attempt, "spec"), "number"));
	char name[RT_NAME_MAX + 32];
	struct kerr e = KERR_INIT;
	const char *phase, *run, *attempt;
	json_t *a = NULL;
	int ok = 0;

	if (n <= 1)
		snprintf(name, sizeof(name), "approval-%s", j->run);
	else
		snprintf(name, sizeof(name), "approval-%s-%ld", j->run, n);
	if (rt_get(j->rt, "AgentApproval", j->ns, name, &a, &e) == 0) {
		phase = rt_str(a, "status", "phase");
		run = rt_str(a, "spec", "dispatchRun");
		attempt = rt_str(a, "spec", "attempt");
		ok = phase && run && !strcmp(phase, "Approved") && !strcmp(run, j->run) &&
		     (!attempt || !strcmp(attempt, j->name));
	}
	json_decref(a);
	kerr_clear(&e);
	return ok;
}

/* The variables of one granted secret: the grant names the Secret (and
 * maybe one key) in spec.secretRef, the variable in spec.env (default the
 * key upper-cased; with several keys each key's own name). */
static int grant_env(struct rt_job *j, struct job_ctx *c, const char *grant_name, struct kerr *e)
{
	json_t *grant = NULL, *kv = NULL, *ref, *v;
	const char *secret, *key, *policy, *env_name, *k;
	char name[ENV_NAME_MAX + 1];
	int rc;

	rc = rt_get(j->rt, "AgentSecretGrant", j->ns, grant_name, &grant, e);
	if (rc)
		goto cleanup;
	ref = json_object_get(json_object_get(grant, "spec"), "secretRef");
	secret = json_is_object(ref) ? rt_str(ref, NULL, "name") : json_string_value(ref);
	key = json_is_object(ref) ? rt_str(ref, NULL, "key") : NULL;
	policy = rt_str(grant, "spec", "mountPolicy");
	env_name = rt_str(grant, "spec", "env");
	/* Only environment mounts exist here; other policies give nothing. */
	if (!secret || (policy && strcmp(policy, "env")))
		goto cleanup;
	rc = secrets_get(j->rt->store, j->rt->seal, "Secret", j->ns, secret, &kv, e);
	if (rc)
		goto cleanup;
	json_object_foreach(kv, k, v) {
		if (key && strcmp(k, key))
			continue;
		if (env_name && (key || json_object_size(kv) == 1))
			snprintf(name, sizeof(name), "%s", env_name);
		else
			env_name_of(k, name);
		if (!env_name_ok(name) || env_has(c, name)) {
			log_warn("agents: %s/%s: grant %s names an unusable or taken variable; not set", j->ns, j->name,
				 grant_name);
			continue;
		}
		rc = env_add(c, env_fmt(name, json_string_value(v)));
		if (rc) {
			kerr_set(e, rc, NULL, "too many secret variables");
			goto cleanup;
		}
	}
cleanup:
	json_decref(grant);
	secrets_free(kv);
	return rc;
}

/* The sandbox's environment: a clean base plus the granted secrets. */
static int build_env(struct rt_job *j, struct job_ctx *c, const char *ws, struct kerr *e)
{
	json_t *need, *snap = json_object_get(json_object_get(j->attempt, "spec"), "permissionSnapshot");
	int rc = 0, is_approved = -1;
	size_t i;

	if (env_add(c, strdup("PATH=/usr/local/bin:/usr/bin:/bin")) || env_add(c, env_fmt("HOME", ws)) ||
	    env_add(c, strdup("LANG=C.UTF-8")) || env_add(c, strdup("KRATE_PROMPT_FILE=/krate/prompt.md")) ||
	    env_add(c, strdup("KRATE_BUNDLE_FILE=/krate/bundle.json")) || env_add(c, env_fmt("KRATE_WORKSPACE", ws)) ||
	    env_add(c, env_fmt("KRATE_RUN", j->run)) || env_add(c, env_fmt("KRATE_ATTEMPT", j->name)))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	json_array_foreach(json_object_get(snap, "requiredSecrets"), i, need) {
		const char *status = rt_str(need, NULL, "status"), *grant = rt_str(need, NULL, "grant");

		if (!grant || !status)
			continue;
		if (!strcmp(status, "requires-approval") && is_approved < 0)
			is_approved = approved(j);
		if (strcmp(status, "granted") && !(!strcmp(status, "requires-approval") && is_approved == 1))
			continue;
		rc = grant_env(j, c, grant, e);
		if (rc == KE_NOTFOUND) {
			/* Revoked since the review: fail closed, the variable stays unset. */
			log_warn("agents: %s/%s: grant %s or its secret is gone; not set", j->ns, j->name, grant);
			kerr_clear(e);
			rc = 0;
		}
		if (rc)
			break;
	}
	return rc;
}

static void ctx_free(struct job_ctx *c)
{
	size_t i;

	for (i = 0; i < c->n_env; i++) {
		sodium_memzero(c->env[i], strlen(c->env[i]));
		free(c->env[i]);
	}
	c->n_env = 0;
	secrets_free(c->secret_values);
	json_decref(c->run);
	free(c->prompt);
	free(c->system_prompt);
	if (c->have_t)
		transcript_free(&c->t);
}

/* ---- transcript ---- */

static int write_transcript(void *arg, json_t *spec, struct kerr *e)
{
	struct rt_job *j = arg;
	char name[RT_NAME_MAX + 16];
	json_t *obj;
	int rc;

	snprintf(name, sizeof(name), "transcript-%s", j->name);
	obj = json_pack("{s:s, s:{s:s, s:{s:s, s:s}}, s:O}", "kind", "AgentSessionTranscript", "metadata", "name", name,
			"labels", "krate.a5c.ai/run", j->run, "krate.a5c.ai/attempt", j->name, "spec", spec);
	if (!obj)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	rc = rt_put(j->rt, j->ns, obj, e);
	json_decref(obj);
	return rc;
}

static int start_transcript(struct rt_job *j, struct job_ctx *c, struct kerr *e)
{
	struct transcript_options o = { j->name, j->run, c->secret_values, write_transcript, j };
	int rc = transcript_init(&c->t, &o, e);

	c->have_t = rc == 0;
	return rc;
}

/* Ends the transcript once: the last partial lines and the final write. */
static void end_transcript(struct rt_job *j, struct job_ctx *c)
{
	struct kerr e = KERR_INIT;

	if (!c->have_t || c->ended)
		return;
	c->ended = 1;
	if (transcript_end(&c->t, &e))
		log_warn("agents: cannot write the transcript of %s: %s", j->name, e.message ? e.message : "");
	kerr_clear(&e);
}

static const char *msg_of(const struct kerr *e)
{
	return e->message ? e->message : "unknown error";
}

static void note(struct job_ctx *c, const char *type, const char *text)
{
	struct kerr e = KERR_INIT;

	if (c->have_t)
		transcript_note(&c->t, type, text, &e);
	kerr_clear(&e);
}

/* ---- the process adapter ---- */

static int timeout_of(json_t *stack)
{
	json_t *v = json_object_get(stack, "timeoutSeconds");
	json_int_t s = json_is_integer(v) ? json_integer_value(v) : RT_DEFAULT_TIMEOUT;

	return s < 1 ? RT_DEFAULT_TIMEOUT : s > RT_MAX_TIMEOUT ? RT_MAX_TIMEOUT : (int)s;
}

/* The stack's AgentToolProfile allows the network ("allow", or {mode: allow}). */
static int network_allowed(struct rt_job *j, json_t *stack)
{
	const char *ref = rt_str(stack, NULL, "toolProfileRef");
	json_t *prof = NULL, *np;
	struct kerr e = KERR_INIT;
	int ok = 0;

	if (ref && rt_get(j->rt, "AgentToolProfile", j->ns, ref, &prof, &e) == 0) {
		np = json_object_get(json_object_get(prof, "spec"), "networkPolicy");
		ok = (json_is_string(np) && !strcmp(json_string_value(np), "allow")) ||
		     (json_is_object(np) && rt_str(np, NULL, "mode") && !strcmp(rt_str(np, NULL, "mode"), "allow"));
	}
	json_decref(prof);
	kerr_clear(&e);
	return ok;
}

/* The commit to check out: the run's spec.sha, else what its ref names now. */
static int run_commit(struct rt_job *j, struct job_ctx *c, const char *repo_dir, char sha[GIT_SHA_HEX + 1],
		      struct kerr *e)
{
	const char *s = rt_str(c->run, "spec", "sha"), *ref = rt_str(c->run, "spec", "ref");
	struct git_repo r = { j->rt->git_path, repo_dir };

	if (s && git_sha_valid(s)) {
		snprintf(sha, GIT_SHA_HEX + 1, "%s", s);
		return 0;
	}
	if (!ref)
		return kerr_set(e, KE_NOTFOUND, NULL, "the run names no commit");
	return git_resolve(&r, ref, sha, e);
}

static void decide(struct rt_job *j, struct job_ctx *c, const struct proc_result *r, int timeout,
		   struct rt_outcome *out)
{
	out->exit_code = r->exit_code;
	out->has_exit_code = 1;
	if (atomic_load(&j->stopping))
		rt_outcome_set(out, "Failed", "ServerStopped", "the server stopped while the agent was running");
	else if (r->cancelled)
		rt_outcome_set(out, "Cancelled", "Cancelled", "cancelled while running");
	else if (r->timed_out)
		rt_outcome_set(out, "Failed", "Timeout", "the agent ran past its time limit of %d s", timeout);
	else if (r->exit_code < 0)
		rt_outcome_set(out, "Failed", "NonZeroExit", "the agent was killed by a signal");
	else if (r->exit_code != 0)
		rt_outcome_set(out, "Failed", "NonZeroExit", "the agent exited with code %d", r->exit_code);
	else if (!c->t.has_final)
		rt_outcome_set(out, "Failed", "NoFinalEvent", "the agent exited without a final event");
	else if (!c->t.final_success)
		rt_outcome_set(out, "Failed", "AgentReportedFailure", "the agent's final event reported a failure");
	else
		rt_outcome_set(out, "Succeeded", "Completed", "the agent finished");
}

static void run_process(struct rt_job *j, struct job_ctx *c, struct rt_outcome *out)
{
	char repo_dir[RT_PATH_MAX], ws[RT_PATH_MAX], run_dir[RT_PATH_MAX], sha[GIT_SHA_HEX + 1];
	const char *repo = rt_str(c->run, "spec", "repository");
	struct proc_spec ps = { 0 };
	struct proc_result pr;
	struct kerr e = KERR_INIT;
	int have_ws = 0, have_run_dir = 0, timeout = timeout_of(c->stack);

	if (ws_repo_dir(j->rt, j->org, repo, repo_dir, &e)) {
		rt_outcome_set(out, "Failed", "RepositoryUnavailable", "%s", msg_of(&e));
		goto cleanup;
	}
	if (run_commit(j, c, repo_dir, sha, &e)) {
		rt_outcome_set(out, "Failed", "CommitUnavailable", "the run's commit cannot be found");
		goto cleanup;
	}
	if (ws_path(j->rt, "workspaces", j->name, ws, &e) || ws_path(j->rt, "runs", j->name, run_dir, &e)) {
		rt_outcome_set(out, "Failed", "InvalidName", "%s", msg_of(&e));
		goto cleanup;
	}
	have_run_dir = 1;
	if (load_prompt(j, c, &e) || prepare_run_dir(j, c, run_dir, &e)) {
		rt_outcome_set(out, "Failed", "PromptUnavailable", "%s", msg_of(&e));
		goto cleanup;
	}
	if (build_env(j, c, ws, &e)) {
		rt_outcome_set(out, "Failed", "SecretsUnavailable", "the granted secrets cannot be opened");
		goto cleanup;
	}
	have_ws = 1;
	if (ws_create(j->rt, repo_dir, j->name, sha, &e)) {
		rt_outcome_set(out, "Failed", "WorkspaceFailed", "%s", msg_of(&e));
		goto cleanup;
	}
	ps.command = j->command;
	ps.workspace = ws;
	ps.run_dir = run_dir;
	ps.repo_dir = repo_dir;
	ps.share_net = network_allowed(j, c->stack);
	ps.env = c->env;
	ps.input = c->prompt;
	ps.input_len = c->prompt_len;
	ps.timeout_s = timeout;
	log_info("agents: %s/%s running in %s", j->ns, j->name, ws);
	if (proc_run(j, &ps, &c->t, &pr, &e)) {
		rt_outcome_set(out, "Failed", "SandboxFailed", "%s", msg_of(&e));
		goto cleanup;
	}
	decide(j, c, &pr, timeout, out);
	if (pr.timed_out || pr.cancelled)
		note(c, "error", out->message);
	end_transcript(j, c);
	if (strcmp(out->phase, "Cancelled") && !atomic_load(&j->stopping)) {
		struct artifact_input ai = { j, c->run, &c->t, repo_dir, sha };

		kerr_clear(&e);
		artifacts_record(&ai, &e);
	}
cleanup:
	kerr_clear(&e);
	if (have_ws)
		ws_remove(j->rt, repo_dir, j->name);
	if (have_run_dir && ws_rmtree(run_dir))
		log_warn("agents: cannot remove the run directory of %s", j->name);
}

/* ---- the Agent Mux adapter ---- */

/* The sink's context: the job and its context. */
struct mux_ctx {
	struct rt_job *j;
	struct job_ctx *c;
};

/* The gateway created the session: recorded on the attempt, kept for agents_runtime_continue. */
static int mux_bound(void *ctx, const struct mux_session *s)
{
	struct rt_job *j = ((struct mux_ctx *)ctx)->j;
	struct kerr e = KERR_INIT;
	struct rt_change ch = { 0 };
	json_t *st = json_pack("{s:s, s:s}", "agentMuxRunId", s->run_id, "agentMuxSessionId", s->session_id);
	json_t *cond = rt_condition("AgentMuxBound", 1, "Bound", "the Agent Mux gateway runs the session");
	int rc;

	pthread_mutex_lock(&j->rt->lock);
	snprintf(j->session_id, sizeof(j->session_id), "%s", s->session_id);
	pthread_mutex_unlock(&j->rt->lock);
	ch.expect_state = "running";
	ch.attempt_status = st;
	ch.condition = cond;
	rc = st && cond ? rt_change(j->rt, j->ns, j->name, &ch, &e) : KE_NOMEM;
	if (rc)
		log_warn("agents: cannot record the session of %s: %s", j->name, e.message ? e.message : "");
	json_decref(st);
	json_decref(cond);
	kerr_clear(&e);
	return rc;
}

/* Quiet stretches of a session: what event() left pending is written. */
static int mux_tick(void *ctx)
{
	struct job_ctx *c = ((struct mux_ctx *)ctx)->c;
	struct kerr e = KERR_INIT;

	if (transcript_flush(&c->t, 0, &e))
		log_warn("agents: cannot write a transcript: %s", e.message ? e.message : "");
	kerr_clear(&e);
	return 0;
}

static int mux_event(void *ctx, json_t *entry)
{
	struct job_ctx *c = ((struct mux_ctx *)ctx)->c;
	struct kerr e = KERR_INIT;
	int rc = transcript_event(&c->t, entry, &e);

	if (rc == 0 && transcript_flush(&c->t, 0, &e))
		log_warn("agents: cannot write a transcript: %s", e.message ? e.message : "");
	kerr_clear(&e);
	return rc;
}

static void run_mux(struct rt_job *j, struct job_ctx *c, struct rt_outcome *out)
{
	struct mux_options o = { 0 };
	struct mux_request q = { 0 };
	struct mux_ctx mc = { j, c };
	struct mux_sink sink = { &mc, mux_bound, mux_event, mux_tick };
	struct mux_outcome mo = { { 0 } };
	struct kerr e = KERR_INIT;
	int rc;

	if (load_prompt(j, c, &e)) {
		rt_outcome_set(out, "Failed", "PromptUnavailable", "%s", msg_of(&e));
		goto cleanup;
	}
	json_decref(bundle_doc(j, c));
	o.gateway_url = j->gateway_url;
	q.attempt = j->attempt;
	q.run = c->run;
	q.stack = c->stack;
	q.prompt = c->prompt;
	q.system_prompt = c->system_prompt;
	rc = mux_run_attempt(&o, &q, &sink, &j->cancel, &mo, &e);
	rt_agent_ended(j);
	if (rc == KE_UNAVAILABLE && !atomic_load(&j->stopping) && !atomic_load(&j->cancel)) {
		c->requeue = 1;
		goto cleanup;
	}
	if (atomic_load(&j->stopping))
		rt_outcome_set(out, "Failed", "ServerStopped", "the server stopped while the session was running");
	else if (rc == KE_UNPROCESSABLE)
		rt_outcome_set(out, "Failed", "GatewayRejected", "the Agent Mux gateway rejected the session");
	else if (rc)
		rt_outcome_set(out, "Failed", "RecordFailed", "the session could not be recorded");
	else
		rt_outcome_set(out, mo.phase, mo.reason, "%s", mo.message);
	end_transcript(j, c);
	if (strcmp(out->phase, "Cancelled") && !atomic_load(&j->stopping)) {
		struct artifact_input ai = { j, c->run, &c->t, NULL, NULL };

		kerr_clear(&e);
		artifacts_record(&ai, &e);
	}
cleanup:
	kerr_clear(&e);
}

/* The gateway could not take the attempt: queued again, tried after RT_MUX_RETRY_S. */
static void requeue(struct rt_job *j)
{
	struct rt_change ch = { 0 };
	struct kerr e = KERR_INIT;
	json_t *st = json_pack("{s:s, s:n}", "phase", "Queued", "startedAt");
	json_t *run = json_pack("{s:s}", "phase", "Queued");
	json_t *cond = rt_condition("AgentMuxBound", 0, "Unavailable", "the Agent Mux gateway cannot be reached");
	char key[RT_NS_MAX + RT_NAME_MAX + 2];

	snprintf(key, sizeof(key), "%s/%s", j->ns, j->name);
	pthread_mutex_lock(&j->rt->lock);
	json_object_set_new(j->rt->mux_retry, key, json_integer(util_now_seconds() + RT_MUX_RETRY_S));
	pthread_mutex_unlock(&j->rt->lock);
	ch.expect_state = "running";
	ch.state = "queued";
	ch.attempt_status = st;
	ch.condition = cond;
	ch.run_status = run;
	ch.history_phase = "Queued";
	ch.history_reason = "Unavailable";
	ch.history_message = "the Agent Mux gateway cannot be reached";
	if (!st || !run || !cond || rt_change(j->rt, j->ns, j->name, &ch, &e))
		log_warn("agents: cannot queue %s again: %s", j->name, e.message ? e.message : "");
	json_decref(st);
	json_decref(run);
	json_decref(cond);
	kerr_clear(&e);
}

/* ---- the end ---- */

static void finish(struct rt_job *j, struct job_ctx *c, const struct rt_outcome *out)
{
	struct rt_change ch = { 0 };
	struct kerr e = KERR_INIT;
	char now[32];
	json_t *st, *run;

	util_time_rfc3339(now, util_now_seconds());
	st = json_pack("{s:s, s:s, s:s, s:s, s:{s:I, s:I, s:I, s:f}}", "phase", out->phase, "reason", out->reason,
		       "message", out->message, "finishedAt", now, "usage", "inputTokens",
		       (json_int_t)(c->have_t ? c->t.usage.input_tokens : 0), "outputTokens",
		       (json_int_t)(c->have_t ? c->t.usage.output_tokens : 0), "totalTokens",
		       (json_int_t)(c->have_t ? c->t.usage.total_tokens : 0), "costUsd",
		       c->have_t ? c->t.usage.cost_usd : 0.0);
	run = json_pack("{s:s, s:s, s:s}", "phase", out->phase, "reason", out->reason, "message", out->message);
	if (st && out->has_exit_code)
		json_object_set_new(st, "exitCode", json_integer(out->exit_code));
	ch.expect_state = "running";
	ch.state = "done";
	ch.attempt_status = st;
	ch.run_status = run;
	ch.history_phase = out->phase;
	ch.history_reason = out->reason;
	ch.history_message = out->message;
	if (!st || !run)
		log_error("agents: out of memory recording the end of %s", j->name);
	else if (rt_change(j->rt, j->ns, j->name, &ch, &e))
		log_warn("agents: cannot record the end of %s/%s: %s", j->ns, j->name, e.message ? e.message : "");
	else
		log_info("agents: %s/%s %s (%s)", j->ns, j->name, out->phase, out->reason);
	json_decref(st);
	json_decref(run);
	kerr_clear(&e);
}

void rt_agent_ended(struct rt_job *j)
{
	pthread_mutex_lock(&j->rt->lock);
	j->agent_ended = 1;
	pthread_cond_broadcast(&j->rt->cond);
	pthread_mutex_unlock(&j->rt->lock);
}

void *rt_job_main(void *arg)
{
	struct rt_job *j = arg;
	struct job_ctx c = { 0 };
	struct rt_outcome out = { 0 };
	struct kerr e = KERR_INIT;
	const char *run = rt_str(j->attempt, "spec", "agentDispatchRun");

	rt_outcome_set(&out, "Failed", "InternalError", "the attempt could not be run");
	c.stack = json_object_get(json_object_get(j->attempt, "spec"), "agentStackSnapshot");
	if (!run || rt_get(j->rt, "AgentDispatchRun", j->ns, run, &c.run, &e)) {
		rt_outcome_set(&out, "Failed", "RunNotFound", "the attempt's run is gone");
		goto end;
	}
	/* Every Secret value of the org is redacted from what the agent says. */
	if (secrets_values(j->rt->store, j->rt->seal, j->ns, &c.secret_values, &e)) {
		rt_outcome_set(&out, "Failed", "SecretsUnavailable", "the org's secrets cannot be opened for redaction");
		goto end;
	}
	if (start_transcript(j, &c, &e))
		goto end;
	if (j->adapter == RT_ADAPTER_PROCESS)
		run_process(j, &c, &out);
	else
		run_mux(j, &c, &out);
	end_transcript(j, &c);
end:
	if (c.requeue)
		requeue(j);
	else
		finish(j, &c, &out);
	ctx_free(&c);
	kerr_clear(&e);
	pthread_mutex_lock(&j->rt->lock);
	j->done = 1;
	j->rt->running--;
	j->rt->wake = 1;
	pthread_cond_broadcast(&j->rt->cond);
	pthread_mutex_unlock(&j->rt->lock);
	return NULL;
}

json_t *rt_stack_command(json_t *stack_spec, json_t *adapter_obj)
{
	json_t *cmd = adapter_obj ? json_object_get(json_object_get(adapter_obj, "spec"), "command")
				  : json_object_get(stack_spec, "command");
	size_t i;
	json_t *v;

	if (!json_is_array(cmd) || json_array_size(cmd) == 0)
		return NULL;
	json_array_foreach(cmd, i, v)
		if (!json_is_string(v) || json_string_length(v) == 0 || strlen(json_string_value(v)) != json_string_length(v))
			return NULL;
	return json_incref(cmd);
}
