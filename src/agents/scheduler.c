/* The scheduler: one thread that turns queued attempts into running jobs
 * within the limits, the restart recovery, and the runtime's public calls. */
#include "agents/runtime_internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agents/mux.h"
#include "core/log.h"
#include "core/util.h"

#define NS_PREFIX "krate-org-"
#define DEFAULT_BWRAP "/usr/bin/bwrap"
#define DEFAULT_GIT "/usr/bin/git"
#define PARALLEL_MAX 256
#define PROBE_TIMEOUT_MS 2000
#define LIST_PAGE 500

/* ---- small reads ---- */

static int org_of(const char *ns, char out[64])
{
	size_t n = strlen(NS_PREFIX);

	if (!ns || strncmp(ns, NS_PREFIX, n) || !util_dns_label(ns + n))
		return -1;
	snprintf(out, 64, "%s", ns + n);
	return 0;
}

/* Every object of kind (in ns, or everywhere) matching selector, parsed, as an array (new reference). */
static int list_all(struct agents_runtime *rt, const char *kind, const char *ns, const char *selector, json_t **out,
		    struct kerr *e)
{
	struct store_list_query q = { kind, ns, selector, LIST_PAGE, NULL };
	json_t *arr = json_array();
	char *cont = NULL;
	int rc = 0;

	*out = NULL;
	if (!arr)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	do {
		struct store_list_result res = { 0 };
		size_t i;

		q.cont = cont;
		rc = store_list(rt->store, &q, &res, e);
		free(cont);
		cont = NULL;
		for (i = 0; rc == 0 && i < res.n; i++) {
			json_t *o = json_loadb(res.items[i], res.lens[i], 0, NULL);

			if (json_is_object(o))
				json_array_append(arr, o);
			json_decref(o);
		}
		if (rc == 0) {
			cont = res.cont;
			res.cont = NULL;
		}
		store_list_result_free(&res);
	} while (rc == 0 && cont);
	free(cont);
	if (rc) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

/* The org's Agent Mux gateway URL (malloc'd), or NULL when none is configured. */
static char *gateway_url(struct agents_runtime *rt, const char *ns)
{
	json_t *all = NULL, *g;
	struct kerr e = KERR_INIT;
	char *url = NULL;
	size_t i;

	if (list_all(rt, "AgentGatewayConfig", ns, NULL, &all, &e) == 0)
		json_array_foreach(all, i, g) {
			const char *u = rt_str(g, "spec", "gatewayUrl");

			if (u && *u) {
				url = strdup(u);
				break;
			}
		}
	json_decref(all);
	kerr_clear(&e);
	return url;
}

static struct rt_job *find_job(struct agents_runtime *rt, const char *ns, const char *name)
{
	struct rt_job *j;

	for (j = rt->jobs; j; j = j->next)
		if (!j->done && !strcmp(j->ns, ns) && !strcmp(j->name, name))
			return j;
	return NULL;
}

/* ---- recording decisions ---- */

/* Ends a queued attempt that cannot run (its stack or adapter is unusable). */
static void fail_queued(struct agents_runtime *rt, const char *ns, const char *name, const char *reason,
			const char *message)
{
	struct rt_change ch = { 0 };
	struct kerr e = KERR_INIT;
	char now[32];
	json_t *st, *run;

	util_time_rfc3339(now, util_now_seconds());
	st = json_pack("{s:s, s:s, s:s, s:s}", "phase", "Failed", "reason", reason, "message", message, "finishedAt",
		       now);
	run = json_pack("{s:s, s:s, s:s}", "phase", "Failed", "reason", reason, "message", message);
	ch.expect_state = "queued";
	ch.state = "done";
	ch.attempt_status = st;
	ch.run_status = run;
	ch.history_phase = "Failed";
	ch.history_reason = reason;
	ch.history_message = message;
	if (st && run && rt_change(rt, ns, name, &ch, &e) && e.kcode != KE_CONFLICT)
		log_warn("agents: cannot fail %s/%s: %s", ns, name, e.message ? e.message : "");
	json_decref(st);
	json_decref(run);
	kerr_clear(&e);
}

/* Keeps a queued attempt waiting with a condition saying why (written only when it changes). */
static void hold(struct agents_runtime *rt, json_t *attempt, const char *type, const char *reason,
		 const char *message)
{
	struct rt_change ch = { 0 };
	struct kerr e = KERR_INIT;
	json_t *cond;

	if (rt_condition_is(attempt, type, 0, reason))
		return;
	cond = rt_condition(type, 0, reason, message);
	ch.expect_state = "queued";
	ch.condition = cond;
	if (cond && rt_change(rt, rt_str(attempt, "metadata", "namespace"), rt_str(attempt, "metadata", "name"), &ch,
			      &e) &&
	    e.kcode != KE_CONFLICT)
		log_warn("agents: cannot record why %s waits: %s", rt_str(attempt, "metadata", "name"),
			 e.message ? e.message : "");
	json_decref(cond);
	kerr_clear(&e);
}

/* queued → running, only if it is still queued (the API may have cancelled it meanwhile). */
static int claim(struct agents_runtime *rt, const char *ns, const char *name, struct kerr *e)
{
	struct rt_change ch = { 0 };
	char now[32];
	json_t *st, *run, *cond;
	int rc;

	util_time_rfc3339(now, util_now_seconds());
	st = json_pack("{s:s, s:s, s:s, s:s}", "phase", "Running", "reason", "Started", "message", "", "startedAt", now);
	run = json_pack("{s:s, s:s, s:s}", "phase", "Running", "reason", "Started", "message", "");
	cond = rt_condition("Scheduled", 1, "Started", "the attempt was given a slot and started");
	ch.expect_state = "queued";
	ch.state = "running";
	ch.attempt_status = st;
	ch.condition = cond;
	ch.run_status = run;
	ch.history_phase = "Running";
	ch.history_reason = "Started";
	ch.history_message = "";
	rc = st && run && cond ? rt_change(rt, ns, name, &ch, e) : kerr_set(e, KE_NOMEM, NULL, "out of memory");
	json_decref(st);
	json_decref(run);
	json_decref(cond);
	return rc;
}

/* ---- one scheduling pass ---- */

static int by_age(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *tx = rt_str(x, "metadata", "creationTimestamp"), *ty = rt_str(y, "metadata", "creationTimestamp");
	int d = strcmp(tx ? tx : "", ty ? ty : "");

	return d ? d : strcmp(rt_str(x, "metadata", "name"), rt_str(y, "metadata", "name"));
}

static long limit_of(json_t *obj, const char *part, const char *key, long dflt)
{
	json_t *v = json_object_get(part ? json_object_get(obj, part) : obj, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ? (long)json_integer_value(v) : dflt;
}

/* Running jobs of ns with the same stack / pool, and all of them. */
static void counts(struct agents_runtime *rt, const char *ns, const char *stack, const char *pool, long *n_stack,
		   long *n_pool, long *n_all)
{
	struct rt_job *j;

	*n_stack = *n_pool = 0;
	pthread_mutex_lock(&rt->lock);
	*n_all = rt->running;
	for (j = rt->jobs; j; j = j->next) {
		if (j->done || strcmp(j->ns, ns))
			continue;
		*n_stack += !strcmp(j->stack, stack);
		*n_pool += pool[0] && !strcmp(j->pool, pool);
	}
	pthread_mutex_unlock(&rt->lock);
}

/* 1 when the attempt waits for an earlier unreachable gateway (agent-mux). */
static int in_backoff(struct agents_runtime *rt, const char *ns, const char *name)
{
	char key[RT_NS_MAX + RT_NAME_MAX + 2];
	json_t *until;
	int wait;

	snprintf(key, sizeof(key), "%s/%s", ns, name);
	pthread_mutex_lock(&rt->lock);
	until = json_object_get(rt->mux_retry, key);
	wait = until && json_integer_value(until) > util_now_seconds();
	if (until && !wait)
		json_object_del(rt->mux_retry, key);
	pthread_mutex_unlock(&rt->lock);
	return wait;
}

static int start_job(struct agents_runtime *rt, struct rt_job *j)
{
	int rc;

	pthread_mutex_lock(&rt->lock);
	j->next = rt->jobs;
	rt->jobs = j;
	rt->running++;
	rc = pthread_create(&j->thread, NULL, rt_job_main, j);
	if (rc) {
		rt->jobs = j->next;
		rt->running--;
	}
	pthread_mutex_unlock(&rt->lock);
	return rc;
}

static void job_free(struct rt_job *j)
{
	json_decref(j->attempt);
	json_decref(j->command);
	free(j->gateway_url);
	free(j);
}

/* Decides one queued attempt: fails it, holds it with a reason, or starts it. */
static void consider(struct agents_runtime *rt, json_t *a)
{
	const char *ns = rt_str(a, "metadata", "namespace"), *name = rt_str(a, "metadata", "name");
	json_t *spec = json_object_get(a, "spec"), *stack = json_object_get(spec, "agentStackSnapshot");
	const char *run_name = json_string_value(json_object_get(spec, "agentDispatchRun"));
	const char *adapter = rt_str(stack, NULL, "adapter"), *pool;
	json_t *run = NULL, *adapter_obj = NULL, *pool_obj = NULL;
	struct rt_job *j = NULL;
	struct kerr e = KERR_INIT;
	long max_stack, max_pool = -1, n_stack, n_pool, n_all;
	char msg[RT_NAME_MAX + 128];

	j = calloc(1, sizeof(*j));
	if (!j || !ns || !name)
		goto out;
	j->rt = rt;
	if (org_of(ns, j->org) || !rt_name_ok(name) || !run_name || !rt_name_ok(run_name) || !json_is_object(stack)) {
		fail_queued(rt, ns, name, "InvalidAttempt", "the attempt has no usable name, run or stack snapshot");
		goto out;
	}
	pthread_mutex_lock(&rt->lock);
	if (find_job(rt, ns, name)) {
		pthread_mutex_unlock(&rt->lock);
		goto out;
	}
	pthread_mutex_unlock(&rt->lock);
	if (in_backoff(rt, ns, name))
		goto out;
	snprintf(j->ns, sizeof(j->ns), "%s", ns);
	snprintf(j->name, sizeof(j->name), "%s", name);
	snprintf(j->run, sizeof(j->run), "%s", run_name);
	if (rt_get(rt, "AgentDispatchRun", ns, run_name, &run, &e)) {
		fail_queued(rt, ns, name, "RunNotFound", "the attempt's run is gone");
		goto out;
	}
	snprintf(j->stack, sizeof(j->stack), "%s", rt_str(run, "spec", "agentStack") ? rt_str(run, "spec", "agentStack") : "");
	pool = rt_str(run, "spec", "runnerPool") ? rt_str(run, "spec", "runnerPool") : rt_str(stack, NULL, "runnerPool");
	snprintf(j->pool, sizeof(j->pool), "%s", pool ? pool : "");

	/* The adapter: process, agent-mux, or an AgentAdapter of the org. */
	if (adapter && strcmp(adapter, "process") && strcmp(adapter, "agent-mux")) {
		const char *type;

		kerr_clear(&e);
		if (rt_get(rt, "AgentAdapter", ns, adapter, &adapter_obj, &e)) {
			snprintf(msg, sizeof(msg), "the stack's adapter %s does not exist", adapter);
			fail_queued(rt, ns, name, "AdapterUnavailable", msg);
			goto out;
		}
		type = rt_str(adapter_obj, "spec", "adapterType");
		if (!type || (strcmp(type, "subprocess") && strcmp(type, "remote"))) {
			snprintf(msg, sizeof(msg), "adapter %s is of a type this server cannot run", adapter);
			fail_queued(rt, ns, name, "AdapterUnavailable", msg);
			goto out;
		}
		j->adapter = strcmp(type, "remote") ? RT_ADAPTER_PROCESS : RT_ADAPTER_MUX;
	} else {
		j->adapter = adapter && !strcmp(adapter, "agent-mux") ? RT_ADAPTER_MUX : RT_ADAPTER_PROCESS;
	}
	if (j->adapter == RT_ADAPTER_PROCESS) {
		j->command = rt_stack_command(stack, adapter_obj);
		if (!j->command) {
			fail_queued(rt, ns, name, "InvalidCommand", "the stack has no command for the process adapter");
			goto out;
		}
	} else {
		/* The Agent Mux dispatch point: without a gateway the attempt waits. */
		j->gateway_url = gateway_url(rt, ns);
		if (!j->gateway_url) {
			hold(rt, a, "AgentMuxBound", "Unavailable", "no Agent Mux gateway is configured for the org");
			goto out;
		}
	}

	/* Limits: the stack's, the runner pool's, this server's. */
	max_stack = limit_of(stack, NULL, "maxConcurrentRuns", RT_DEFAULT_STACK_LIMIT);
	if (j->pool[0]) {
		kerr_clear(&e);
		if (rt_get(rt, "RunnerPool", ns, j->pool, &pool_obj, &e) == 0)
			max_pool = limit_of(pool_obj, "spec", "maxReplicas", -1);
	}
	counts(rt, ns, j->stack, j->pool, &n_stack, &n_pool, &n_all);
	if (n_stack >= (max_stack > 0 ? max_stack : 1)) {
		snprintf(msg, sizeof(msg), "agent stack %s already runs %ld of at most %ld attempts", j->stack, n_stack,
			 max_stack > 0 ? max_stack : 1);
		hold(rt, a, "Scheduled", "StackLimit", msg);
		goto out;
	}
	if (max_pool >= 0 && n_pool >= max_pool) {
		snprintf(msg, sizeof(msg), "runner pool %s already runs %ld of at most %ld attempts", j->pool, n_pool,
			 max_pool);
		hold(rt, a, "Scheduled", "RunnerPoolLimit", msg);
		goto out;
	}
	if (n_all >= rt->max_parallel) {
		snprintf(msg, sizeof(msg), "this server already runs %ld attempts, its limit", n_all);
		hold(rt, a, "Scheduled", "ServerLimit", msg);
		goto out;
	}
	kerr_clear(&e);
	if (claim(rt, ns, name, &e))
		goto out;
	j->attempt = json_incref(a);
	atomic_init(&j->cancel, 0);
	atomic_init(&j->stopping, 0);
	log_info("agents: %s/%s started (%s adapter)", ns, name, j->adapter == RT_ADAPTER_MUX ? "agent-mux" : "process");
	if (start_job(rt, j)) {
		log_error("agents: cannot start a thread for %s/%s", ns, name);
		j->attempt = NULL;
		json_decref(a);
		{
			struct rt_change ch = { .expect_state = "running", .state = "queued" };

			kerr_clear(&e);
			rt_change(rt, ns, name, &ch, &e);
		}
		goto out;
	}
	j = NULL;
out:
	if (j)
		job_free(j);
	json_decref(run);
	json_decref(adapter_obj);
	json_decref(pool_obj);
	kerr_clear(&e);
}

static void pass(struct agents_runtime *rt)
{
	json_t *all = NULL;
	json_t **v = NULL;
	struct kerr e = KERR_INIT;
	size_t i, n;

	if (list_all(rt, "AgentDispatchAttempt", NULL, RT_LABEL_STATE "=queued", &all, &e)) {
		log_warn("agents: cannot list queued attempts: %s", e.message ? e.message : "");
		goto out;
	}
	n = json_array_size(all);
	v = n ? calloc(n, sizeof(*v)) : NULL;
	if (n && !v)
		goto out;
	for (i = 0; i < n; i++)
		v[i] = json_array_get(all, i);
	if (n > 1)
		qsort(v, n, sizeof(*v), by_age);
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&rt->lock);
		if (rt->stopping) {
			pthread_mutex_unlock(&rt->lock);
			break;
		}
		pthread_mutex_unlock(&rt->lock);
		if (rt_str(v[i], "metadata", "name") && rt_str(v[i], "metadata", "namespace"))
			consider(rt, v[i]);
	}
out:
	free(v);
	json_decref(all);
	kerr_clear(&e);
}

/* Joins and frees the jobs that have finished. */
static void reap(struct agents_runtime *rt)
{
	struct rt_job **pp, *j, *done = NULL;

	pthread_mutex_lock(&rt->lock);
	for (pp = &rt->jobs; (j = *pp);) {
		if (j->done) {
			*pp = j->next;
			j->next = done;
			done = j;
		} else {
			pp = &j->next;
		}
	}
	pthread_mutex_unlock(&rt->lock);
	while ((j = done)) {
		done = j->next;
		pthread_join(j->thread, NULL);
		job_free(j);
	}
}

static void *scheduler_main(void *arg)
{
	struct agents_runtime *rt = arg;
	struct timespec ts;

	pthread_mutex_lock(&rt->lock);
	while (!rt->stopping) {
		rt->wake = 0;
		pthread_mutex_unlock(&rt->lock);
		reap(rt);
		pass(rt);
		pthread_mutex_lock(&rt->lock);
		if (rt->wake || rt->stopping)
			continue;
		/* At least once a second: limits free up and gateways come back without events. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&rt->cond, &rt->lock, &ts);
	}
	pthread_mutex_unlock(&rt->lock);
	return NULL;
}

/* ---- restart recovery ---- */

/* Attempts a previous process left running are Failed (their processes died
 * with it: --die-with-parent; a gateway session is cancelled); every
 * workspace and run directory is a leftover, since nothing runs yet. */
static void recover(struct agents_runtime *rt)
{
	static const char *const subs[] = { "workspaces", "runs" };
	json_t *all = NULL, *a;
	struct kerr e = KERR_INIT;
	char now[32], org[64], repo_dir[RT_PATH_MAX], dir[RT_PATH_MAX];
	size_t i, k;

	util_time_rfc3339(now, util_now_seconds());
	if (list_all(rt, "AgentDispatchAttempt", NULL, RT_LABEL_STATE "=running", &all, &e))
		log_warn("agents: cannot list running attempts: %s", e.message ? e.message : "");
	json_array_foreach(all, i, a) {
		const char *ns = rt_str(a, "metadata", "namespace"), *name = rt_str(a, "metadata", "name");
		const char *session = rt_str(a, "status", "agentMuxSessionId");
		const char *msg = "the server restarted while the attempt was running";
		json_t *st = json_pack("{s:s, s:s, s:s, s:s}", "phase", "Failed", "reason", "ServerRestarted", "message",
				       msg, "finishedAt", now);
		json_t *run_st = json_pack("{s:s, s:s, s:s}", "phase", "Failed", "reason", "ServerRestarted", "message",
					   msg);
		json_t *run = NULL;
		struct rt_change ch = { "running", "done", st, NULL, run_st, "Failed", "ServerRestarted", msg };

		if (!ns || !name) {
			json_decref(st);
			json_decref(run_st);
			continue;
		}
		/* Cleaned up first, so an attempt seen Failed has nothing left behind. */
		kerr_clear(&e);
		if (!org_of(ns, org) && rt_str(a, "spec", "agentDispatchRun") &&
		    rt_get(rt, "AgentDispatchRun", ns, rt_str(a, "spec", "agentDispatchRun"), &run, &e) == 0 &&
		    ws_repo_dir(rt, org, rt_str(run, "spec", "repository"), repo_dir, &e) == 0)
			ws_remove(rt, repo_dir, name);
		json_decref(run);
		kerr_clear(&e);
		if (ws_path(rt, "runs", name, dir, &e) == 0)
			ws_rmtree(dir);
		if (session) {
			char *url = gateway_url(rt, ns);
			struct mux_options mo = { url };

			kerr_clear(&e);
			if (url && mux_cancel_session(&mo, session, &e))
				log_warn("agents: cannot cancel the gateway session of %s/%s", ns, name);
			free(url);
		}
		kerr_clear(&e);
		if (!st || !run_st || rt_change(rt, ns, name, &ch, &e))
			log_warn("agents: cannot fail %s/%s after the restart: %s", ns, name, e.message ? e.message : "");
		else
			log_info("agents: %s/%s Failed (ServerRestarted)", ns, name);
		json_decref(st);
		json_decref(run_st);
	}
	json_decref(all);
	kerr_clear(&e);
	for (k = 0; k < 2; k++) {
		DIR *d;
		struct dirent *de;

		snprintf(dir, sizeof(dir), "%s/%s", rt->data_dir, subs[k]);
		d = opendir(dir);
		while (d && (de = readdir(d))) {
			char path[RT_PATH_MAX];

			if (!rt_name_ok(de->d_name) ||
			    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
				continue;
			if (ws_rmtree(path))
				log_warn("agents: cannot remove the leftover %s/%s", subs[k], de->d_name);
		}
		if (d)
			closedir(d);
	}
}

/* ---- public calls ---- */

int agents_runtime_start(const struct agents_runtime_options *o, struct agents_runtime **out, struct kerr *e)
{
	struct agents_runtime *rt;
	pthread_condattr_t ca;
	char real[PATH_MAX];
	int rc;

	*out = NULL;
	if (!o || !o->store || !o->seal || !o->data_dir)
		return kerr_set(e, KE_INVALID, NULL, "the agent runtime needs a store, a seal and a data directory");
	if (!realpath(o->data_dir, real))
		return kerr_set(e, KE_IO, NULL, "cannot resolve the data directory: %s", strerror(errno));
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	pthread_mutex_init(&rt->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rt->cond, &ca);
	pthread_condattr_destroy(&ca);
	rt->store = o->store;
	rt->seal = o->seal;
	rt->data_dir = strdup(real);
	rt->git_path = strdup(o->git_path ? o->git_path : DEFAULT_GIT);
	rt->bwrap_path = strdup(o->bwrap_path ? o->bwrap_path : DEFAULT_BWRAP);
	rt->max_parallel = o->max_parallel > 0 ? (o->max_parallel > PARALLEL_MAX ? PARALLEL_MAX : o->max_parallel)
					       : RT_DEFAULT_PARALLEL;
	rt->mux_retry = json_object();
	if (!rt->data_dir || !rt->git_path || !rt->bwrap_path || !rt->mux_retry) {
		agents_runtime_stop(rt);
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	if (access(rt->bwrap_path, X_OK))
		log_warn("agents: %s is not executable; process-adapter attempts will fail", rt->bwrap_path);
	recover(rt);
	rc = pthread_create(&rt->thread, NULL, scheduler_main, rt);
	if (rc) {
		agents_runtime_stop(rt);
		return kerr_set(e, KE_INTERNAL, NULL, "cannot start the agent scheduler");
	}
	rt->started = 1;
	*out = rt;
	return 0;
}

void agents_runtime_on_event(const struct store_event *ev, void *arg)
{
	static const char *const kinds[] = { "AgentDispatchAttempt", "AgentDispatchRun", "AgentStack", "AgentAdapter",
					     "AgentGatewayConfig", "RunnerPool", NULL };
	struct agents_runtime *rt = arg;
	size_t i;

	if (!rt || !ev || !ev->kind)
		return;
	for (i = 0; kinds[i] && strcmp(kinds[i], ev->kind); i++)
		;
	if (!kinds[i])
		return;
	pthread_mutex_lock(&rt->lock);
	rt->wake = 1;
	pthread_cond_broadcast(&rt->cond);
	pthread_mutex_unlock(&rt->lock);
}

int agents_runtime_cancel(struct agents_runtime *rt, const char *ns, const char *attempt)
{
	struct rt_job *j;
	int rc = KE_NOTFOUND;

	if (!rt || !ns || !attempt)
		return KE_NOTFOUND;
	pthread_mutex_lock(&rt->lock);
	j = find_job(rt, ns, attempt);
	if (j) {
		struct timespec until;

		atomic_store(&j->cancel, 1);
		if (j->pgid > 0)
			kill(-j->pgid, SIGTERM);
		rc = 0;
		/* Until the agent has really stopped (bounded): the caller records the
		 * run as cancelled, so the gateway session or process group must be
		 * gone by then. The job is looked up again after each wait, since a
		 * finished one is freed. */
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += RT_CANCEL_WAIT_MS / 1000;
		while ((j = find_job(rt, ns, attempt)) && !j->agent_ended &&
		       pthread_cond_timedwait(&rt->cond, &rt->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&rt->lock);
	return rc;
}

int agents_runtime_continue(struct agents_runtime *rt, const char *ns, const char *attempt, const char *message,
			    struct kerr *e)
{
	struct mux_options mo = { 0 };
	struct rt_job *j;
	char session[sizeof(j->session_id)];
	char *url = NULL;
	int rc;

	if (!rt || !ns || !attempt || !message)
		return kerr_set(e, KE_INVALID, NULL, "no attempt or message");
	pthread_mutex_lock(&rt->lock);
	j = find_job(rt, ns, attempt);
	if (!j) {
		pthread_mutex_unlock(&rt->lock);
		return kerr_set(e, KE_NOTFOUND, NULL, "attempt %s is not running", attempt);
	}
	if (j->adapter != RT_ADAPTER_MUX || !j->session_id[0]) {
		pthread_mutex_unlock(&rt->lock);
		return kerr_set(e, KE_CONFLICT, NULL, "attempt %s cannot take a follow-up message", attempt);
	}
	snprintf(session, sizeof(session), "%s", j->session_id);
	url = strdup(j->gateway_url);
	pthread_mutex_unlock(&rt->lock);
	if (!url)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	mo.gateway_url = url;
	rc = mux_send_message(&mo, session, message, e);
	free(url);
	return rc;
}

int agents_runtime_gateway_state(struct agents_runtime *rt, const char *ns)
{
	char *url;
	int state;

	if (!rt || !ns)
		return 0;
	url = gateway_url(rt, ns);
	if (!url)
		return 0;
	state = mux_probe(url, PROBE_TIMEOUT_MS) == 0 ? 1 : -1;
	free(url);
	return state;
}

void agents_runtime_stop(struct agents_runtime *rt)
{
	struct rt_job *j;

	if (!rt)
		return;
	if (rt->started) {
		pthread_mutex_lock(&rt->lock);
		rt->stopping = 1;
		pthread_cond_broadcast(&rt->cond);
		pthread_mutex_unlock(&rt->lock);
		pthread_join(rt->thread, NULL);
		pthread_mutex_lock(&rt->lock);
		for (j = rt->jobs; j; j = j->next) {
			atomic_store(&j->stopping, 1);
			atomic_store(&j->cancel, 1);
			if (j->pgid > 0)
				kill(-j->pgid, SIGTERM);
		}
		pthread_mutex_unlock(&rt->lock);
		while ((j = rt->jobs)) {
			rt->jobs = j->next;
			pthread_join(j->thread, NULL);
			job_free(j);
		}
	}
	pthread_mutex_destroy(&rt->lock);
	pthread_cond_destroy(&rt->cond);
	json_decref(rt->mux_retry);
	free(rt->data_dir);
	free(rt->git_path);
	free(rt->bwrap_path);
	free(rt);
}
