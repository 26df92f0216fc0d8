#include "api/api_internal.h"
#include "http/metrics.h"

#include <stdlib.h>
#include <unistd.h>

int h_healthz(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	(void)a;
	(void)m;
	(void)p;
	http_respond_json(r, 200, json_pack("{s:b, s:s}", "ok", 1, "project", "Krate"));
	return HTTP_DONE;
}

int api_readiness(struct api *a, struct api_component out[API_COMPONENTS])
{
	int store_ok = store_ping(a->store) == 0;
	int git_ok = access(a->git_path, X_OK) == 0;

	out[0] = (struct api_component){ "store", "Store", 1, store_ok,
					 store_ok ? "SQLite answering" : "SQLite not answering" };
	out[1] = (struct api_component){ "git", "Git", 1, git_ok,
					 git_ok ? "git found" : "git executable not found" };
	/* The agent gateway is not part of the embedded server yet: it reports
	 * degraded and "configured": false, and does not make the server degraded. */
	out[2] = (struct api_component){ "agentGateway", "Agent gateway", 0, 0, "no agent gateway configured" };
	return store_ok && git_ok;
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
