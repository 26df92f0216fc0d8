#include "api/agents_api.h"
#include "agents/runtime.h"
#include "core/util.h"
#include "http/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int h_healthz(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	(void)a;
	(void)m;
	(void)p;
	http_respond_json(r, 200, json_pack("{s:b, s:s}", "ok", 1, "project", "Krate"));
	return HTTP_DONE;
}

/* Counts, per namespace of the objects of kind matching selector, the
 * gateway states the runtime reports: [0] none configured, [1] down, [2] up. */
static void gateway_states(struct api *a, struct agents_runtime *rt, const char *kind, const char *selector,
			   int counts[3])
{
	struct store_list_query q = { kind, NULL, selector, 1000, NULL };
	struct store_list_result res = { 0 };
	struct kerr e = KERR_INIT;
	char last[96] = "";
	size_t i;

	if (store_list(a->store, &q, &res, &e) == 0) {
		for (i = 0; i < res.n; i++) {
			json_t *obj = json_loadb(res.items[i], res.lens[i], 0, NULL);
			const char *ns = json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
			int st;

			/* lists come ordered by namespace: one question per org */
			if (ns && strcmp(ns, last) && strlen(ns) < sizeof(last)) {
				snprintf(last, sizeof(last), "%s", ns);
				st = agents_runtime_gateway_state(rt, ns);
				counts[st > 0 ? 2 : st < 0 ? 1 : 0]++;
			}
			json_decref(obj);
		}
	}
	store_list_result_free(&res);
	kerr_clear(&e);
}

/* Asking a gateway can take seconds and every console page shows readiness,
 * so an answer is kept this long; while one thread asks, others use the last. */
#define GATEWAY_CHECK_SECONDS 10

static struct {
	pthread_mutex_t lock;
	const struct api *api;     /* whose answer c is */
	int64_t at;                /* when it was computed (unix s), 0: never */
	int refreshing;
	struct api_component c;
} gateway_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The Agent Mux gateways: part of this server once an org configures one or a
 * queued attempt needs one. Degraded (never down: process agents still run)
 * when such an attempt's org has no gateway or a configured one is down.
 * Details name no org, since /readyz answers without authentication. */
static void agent_gateway_check(struct api *a, struct agents_runtime *rt, struct api_component *c)
{
	int configs[3] = { 0 }, queued[3] = { 0 };

	*c = (struct api_component){ "agentGateway", "Agent gateway", 0, 0, "no agent gateway configured" };
	gateway_states(a, rt, "AgentGatewayConfig", NULL, configs);
	gateway_states(a, rt, "AgentDispatchAttempt", AGENTS_LABEL_STATE "=queued," AGENTS_LABEL_ADAPTER "=agent-mux",
		       queued);
	if (queued[0]) {
		*c = (struct api_component){ "agentGateway", "Agent gateway", 1, 0,
					     "queued agent runs need an Agent Mux gateway and their org has none configured" };
	} else if (configs[1] || queued[1]) {
		*c = (struct api_component){ "agentGateway", "Agent gateway", 1, 0,
					     "an Agent Mux gateway is configured but not reachable" };
	} else if (configs[2]) {
		*c = (struct api_component){ "agentGateway", "Agent gateway", 1, 1, "Agent Mux gateways reachable" };
	}
}

static void agent_gateway(struct api *a, struct api_component *c)
{
	struct agents_runtime *rt = a->runtime;
	int64_t now = util_now_seconds();
	int cached;

	*c = (struct api_component){ "agentGateway", "Agent gateway", 0, 0, "no agent gateway configured" };
	if (!rt)
		return;
	pthread_mutex_lock(&gateway_cache.lock);
	cached = gateway_cache.api == a && gateway_cache.at &&
		 (now - gateway_cache.at < GATEWAY_CHECK_SECONDS || gateway_cache.refreshing);
	if (cached)
		*c = gateway_cache.c;
	else
		gateway_cache.refreshing = 1;
	pthread_mutex_unlock(&gateway_cache.lock);
	if (cached)
		return;
	agent_gateway_check(a, rt, c);
	pthread_mutex_lock(&gateway_cache.lock);
	gateway_cache.api = a;
	gateway_cache.at = now;
	gateway_cache.c = *c;
	gateway_cache.refreshing = 0;
	pthread_mutex_unlock(&gateway_cache.lock);
}

int api_readiness(struct api *a, struct api_component out[API_COMPONENTS])
{
	int store_ok = store_ping(a->store) == 0;
	int git_ok = access(a->git_path, X_OK) == 0;

	out[0] = (struct api_component){ "store", "Store", 1, store_ok,
					 store_ok ? "SQLite answering" : "SQLite not answering" };
	out[1] = (struct api_component){ "git", "Git", 1, git_ok,
					 git_ok ? "git found" : "git executable not found" };
	agent_gateway(a, &out[2]);
	return store_ok && git_ok && (!out[2].configured || out[2].ready);
}

int h_readyz(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct api_component c[API_COMPONENTS];
	int ready = api_readiness(a, c), i;
	json_t *comps = json_object();

	(void)m;
	(void)p;
	for (i = 0; i < API_COMPONENTS; i++)
		json_object_set_new(comps, c[i].key,
				    json_pack("{s:s, s:b, s:s}", "status", c[i].ready ? "ready" : "degraded",
					      "configured", c[i].configured, "detail", c[i].detail));
	/* 503 only when the store is gone: without git the API still serves */
	http_respond_json(r, c[0].ready ? 200 : 503,
			  json_pack("{s:s, s:o}", "status", ready ? "ready" : "degraded", "components", comps));
	return HTTP_DONE;
}

/* Gauges read from store_stats() at scrape time. */
static const struct {
	const char *name, *help, *key;
} store_gauges[] = {
	{ "krate_store_objects", "Stored objects.", "objects" },
	{ "krate_store_bytes", "Size of the store's database file.", "bytes" },
	{ "krate_store_resource_version", "Current resourceVersion.", "resourceVersion" },
	{ "krate_audit_entries", "Audit log entries.", "auditEntries" },
};

int h_metrics(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	size_t i;
	struct buf out = BUF_INIT(4u * 1024u * 1024u);
	struct kerr e = KERR_INIT;
	json_t *st = NULL;
	size_t len;
	char *body;

	(void)m;
	(void)p;
	metrics_render(&out);
	buf_printf(&out, "# HELP krate_watches_open Open watch streams.\n# TYPE krate_watches_open gauge\n"
			 "krate_watches_open %zu\n", hub_open_watches(a->hub));
	if (!store_stats(a->store, &st, &e)) {
		for (i = 0; i < sizeof(store_gauges) / sizeof(store_gauges[0]); i++)
			buf_printf(&out, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", store_gauges[i].name,
				   store_gauges[i].help, store_gauges[i].name, store_gauges[i].name,
				   (long long)json_integer_value(json_object_get(st, store_gauges[i].key)));
	}
	json_decref(st);
	kerr_clear(&e);
	body = buf_detach(&out, &len);
	http_respond_owned(r, 200, "text/plain; version=0.0.4", body, len);
	return HTTP_DONE;
}

int h_kinds(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	(void)a;
	(void)m;
	(void)p;
	http_respond_json(r, 200, kinds_table_json());
	return HTTP_DONE;
}
