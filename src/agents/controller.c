#include "agents/controller.h"
#include "agents/readiness.h"
#include "agents/snapshot.h"
#include "core/log.h"
#include "model/kinds.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct agents_controller {
	struct store *store;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock */
	char *pending[CONTROLLER_PENDING_MAX];  /* namespaces to evaluate, no duplicates */
	size_t npending;
	int all;                                /* evaluate every org (start, overflow) */
	int stop;
};

static int kind_matters(const char *kind)
{
	const struct kind_def *kd = kinds_lookup(kind);

	return kd && (!strcmp(kd->category, "agent-config") || !strcmp(kd->category, "identity") ||
		      !strcmp(kd->kind, "RunnerPool") || !strcmp(kd->kind, "RefPolicy"));
}

/* Caller holds lock. */
static void enqueue(struct agents_controller *c, const char *ns)
{
	size_t i;

	if (c->all)
		return;
	for (i = 0; i < c->npending; i++)
		if (!strcmp(c->pending[i], ns))
			return;
	if (c->npending == CONTROLLER_PENDING_MAX || !(c->pending[c->npending] = strdup(ns))) {
		c->all = 1;
		return;
	}
	c->npending++;
}

void agents_controller_on_event(const struct store_event *ev, void *arg)
{
	struct agents_controller *c = arg;

	if (!c || !ev->ns || strncmp(ev->ns, KRATE_ORG_NS_PREFIX, strlen(KRATE_ORG_NS_PREFIX)) ||
	    !kind_matters(ev->kind))
		return;
	pthread_mutex_lock(&c->lock);
	enqueue(c, ev->ns);
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void now_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *find_condition(json_t *conds, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(conds, i, c)
		if (type && json_is_string(json_object_get(c, "type")) &&
		    !strcmp(json_string_value(json_object_get(c, "type")), type))
			return c;
	return NULL;
}

/* The status to store for stack: the readiness result with generations and
 * transition times (new ref), or NULL without memory. */
static json_t *next_status(json_t *stack, json_t *eval, const char *now)
{
	json_t *old = json_object_get(stack, "status"), *st = json_deep_copy(eval), *c;
	json_t *gen = json_object_get(json_object_get(stack, "metadata"), "generation");
	size_t i;

	if (!st)
		return NULL;
	json_array_foreach(json_object_get(st, "conditions"), i, c) {
		json_t *was = find_condition(json_object_get(old, "conditions"), json_string_value(json_object_get(c, "type")));
		json_t *since = json_object_get(was, "lastTransitionTime");

		json_object_set(c, "observedGeneration", gen ? gen : json_null());
		if (was && since && json_equal(json_object_get(was, "status"), json_object_get(c, "status")))
			json_object_set(c, "lastTransitionTime", since);
		else
			json_object_set_new(c, "lastTransitionTime", json_string(now));
	}
	json_object_set(st, "observedGeneration", gen ? gen : json_null());
	return st;
}

/* 1 when storing st would change a member of the stored status. */
static int status_differs(json_t *stack, json_t *st)
{
	json_t *old = json_object_get(stack, "status"), *v;
	const char *k;

	json_object_foreach(st, k, v)
		if (!json_equal(json_object_get(old, k), v))
			return 1;
	return 0;
}

static int write_status(struct agents_controller *c, const char *ns, json_t *stack, json_t *st)
{
	const char *name = json_string_value(json_object_get(json_object_get(stack, "metadata"), "name"));
	const char *rvs = json_string_value(json_object_get(json_object_get(stack, "metadata"), "resourceVersion"));
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	char resource[256];
	int rc;

	snprintf(resource, sizeof(resource), "AgentStack/%s/%s", ns, name);
	op.type = STORE_OP_STATUS_MERGE;
	op.kind = "AgentStack";
	op.ns = ns;
	op.name = name;
	op.obj = st;
	/* A stack changed meanwhile is evaluated again from its own event. */
	op.expect_rv = rvs ? strtoll(rvs, NULL, 10) : 0;
	b.ops = &op;
	b.n = 1;
	b.audit.actor = CONTROLLER_ACTOR;
	b.audit.org = ns + strlen(KRATE_ORG_NS_PREFIX);
	b.audit.verb = "status";
	b.audit.resource = resource;
	b.audit.result = "allowed";
	b.audit.correlation_id = "";
	rc = store_write(c->store, &b);
	if (rc && rc != KE_CONFLICT && rc != KE_NOTFOUND)
		log_warn("agents controller: cannot write the status of %s: %s", resource,
			 b.err.message ? b.err.message : "unknown error");
	json_decref(op.result);
	kerr_clear(&b.err);
	return rc;
}

/* Every AgentStack of ns as stored (status and resourceVersion included). */
static int list_stacks(struct store *s, const char *ns, json_t **out, struct kerr *e)
{
	struct store_list_query q = { "AgentStack", ns, NULL, 0, NULL };
	struct store_list_result res = { 0 };
	size_t i;
	int rc = store_list(s, &q, &res, e);

	*out = NULL;
	if (rc)
		return rc;
	*out = json_array();
	for (i = 0; *out && i < res.n; i++)
		json_array_append_new(*out, json_loadb(res.items[i], res.lens[i], 0, NULL));
	store_list_result_free(&res);
	return *out ? 0 : kerr_set(e, KE_NOMEM, NULL, "out of memory");
}

static void evaluate_ns(struct agents_controller *c, const char *ns)
{
	struct kerr e = KERR_INIT;
	json_t *snap = NULL, *stacks = NULL, *stack;
	char now[32];
	size_t i;

	if (list_stacks(c->store, ns, &stacks, &e) || !json_array_size(stacks) ||
	    agents_snapshot(c->store, ns, &snap, &e))
		goto out;
	now_rfc3339(now);
	json_array_foreach(stacks, i, stack) {
		json_t *eval = NULL, *st;

		if (readiness_eval(stack, snap, &eval, &e)) {
			log_warn("agents controller: cannot evaluate a stack in %s: %s", ns,
				 e.message ? e.message : "unknown error");
			kerr_clear(&e);
			continue;
		}
		st = next_status(stack, eval, now);
		if (st && status_differs(stack, st))
			write_status(c, ns, stack, st);
		json_decref(st);
		json_decref(eval);
	}
out:
	if (e.kcode)
		log_warn("agents controller: cannot read %s: %s", ns, e.message ? e.message : "unknown error");
	kerr_clear(&e);
	json_decref(snap);
	json_decref(stacks);
}

/* Every org namespace that holds a stack. */
static void evaluate_all(struct agents_controller *c)
{
	struct kerr e = KERR_INIT;
	json_t *stacks = NULL, *seen = json_object(), *v;
	const char *ns;
	size_t i;

	if (!seen || list_stacks(c->store, NULL, &stacks, &e)) {
		log_warn("agents controller: cannot list stacks: %s", e.message ? e.message : "out of memory");
		goto out;
	}
	json_array_foreach(stacks, i, v) {
		ns = json_string_value(json_object_get(json_object_get(v, "metadata"), "namespace"));
		if (ns)
			json_object_set_new(seen, ns, json_true());
	}
	json_object_foreach(seen, ns, v)
		evaluate_ns(c, ns);
out:
	kerr_clear(&e);
	json_decref(stacks);
	json_decref(seen);
}

static void *controller_main(void *arg)
{
	struct agents_controller *c = arg;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		char *work[CONTROLLER_PENDING_MAX];
		size_t n, i;
		int all;

		if (!c->all && !c->npending) {
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		all = c->all;
		n = c->npending;
		memcpy(work, c->pending, n * sizeof(*work));
		c->npending = 0;
		c->all = 0;
		pthread_mutex_unlock(&c->lock);
		if (all)
			evaluate_all(c);
		for (i = 0; i < n; i++) {
			if (!all)
				evaluate_ns(c, work[i]);
			free(work[i]);
		}
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int agents_controller_start(struct store *s, struct agents_controller **out, struct kerr *e)
{
	struct agents_controller *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	c->store = s;
	c->all = 1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (pthread_create(&c->thread, NULL, controller_main, c)) {
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->cond);
		free(c);
		return kerr_set(e, KE_INTERNAL, NULL, "cannot start the agents controller");
	}
	*out = c;
	return 0;
}

void agents_controller_stop(struct agents_controller *c)
{
	size_t i;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = 1;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	for (i = 0; i < c->npending; i++)
		free(c->pending[i]);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}
