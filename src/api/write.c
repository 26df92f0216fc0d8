#include "api/api_internal.h"

#include <stdlib.h>
#include <string.h>

struct write_req *write_req_new(struct api *a, struct http_req *r, const struct principal *p, size_t n,
				const char *verb, const char *org, const char *resource)
{
	struct write_req *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->a = a;
	w->r = r;
	w->ops = calloc(n ? n : 1, sizeof(*w->ops));
	w->keep = json_array();
	w->actor = strdup(p->user ? p->user : "anonymous");
	w->verb = strdup(verb);
	w->org = org ? strdup(org) : NULL;
	w->resource = strdup(resource ? resource : "");
	if (!w->ops || !w->keep || !w->actor || !w->verb || (org && !w->org) || !w->resource) {
		free(w->ops);
		json_decref(w->keep);
		free(w->actor);
		free(w->verb);
		free(w->org);
		free(w->resource);
		free(w);
		return NULL;
	}
	return w;
}

static void write_req_free(struct write_req *w)
{
	size_t i;

	for (i = 0; i < w->nops; i++)
		json_decref(w->ops[i].result);
	free(w->ops);
	json_decref(w->keep);
	json_decref(w->reply_json);
	kerr_clear(&w->batch.err);
	kerr_clear(&w->deny);
	free(w->actor);
	free(w->verb);
	free(w->org);
	free(w->resource);
	free(w->audit_result);
	free(w);
}

static void respond_result(struct write_req *w)
{
	struct store_batch *b = &w->batch;
	json_t *items;
	size_t i;

	if (w->deny.kcode) {
		http_respond_error(w->r, &w->deny);
		return;
	}
	if (b->rc) {
		if (!b->err.kcode)
			kerr_set(&b->err, b->rc, NULL, "the write failed");
		http_respond_error(w->r, &b->err);
		return;
	}
	switch (w->reply) {
	case REPLY_OBJECT:
		http_respond_json(w->r, w->ops[0].created || w->ops[0].type == STORE_OP_CREATE ? 201 : 200,
				  api_redacted(w->ops[0].result));
		break;
	case REPLY_DELETED:
		http_respond_json(w->r, 200, api_redacted(w->ops[0].result));
		break;
	case REPLY_ITEMS:
		items = json_array();
		for (i = 0; i < w->nreply; i++) {
			int created = w->ops[i].created || w->ops[i].type == STORE_OP_CREATE;

			json_array_append_new(items, json_pack("{s:i, s:o}", "status", created ? 201 : 200,
							       "object", api_redacted(w->ops[i].result)));
		}
		http_respond_json(w->r, 200, json_pack("{s:o}", "items", items));
		break;
	case REPLY_JSON:
		http_respond_json(w->r, w->reply_status ? w->reply_status : 200, json_incref(w->reply_json));
		break;
	}
}

static void write_done(struct store_batch *b, void *arg)
{
	struct write_req *w = arg;
	struct http_req *r = w->r;

	(void)b;
	respond_result(w);
	write_req_free(w);
	http_complete(r);
}

int write_submit(struct write_req *w)
{
	struct store_batch *b = &w->batch;
	int rc;

	b->ops = w->nops ? w->ops : NULL;
	b->n = w->nops;
	b->audit.actor = w->actor;
	b->audit.org = w->org;
	b->audit.verb = w->verb;
	b->audit.resource = w->resource;
	b->audit.result = w->audit_result ? w->audit_result : "allowed";
	b->audit.correlation_id = http_req_correlation_id(w->r);
	b->done = write_done;
	b->arg = w;
	rc = store_submit(w->a->store, b);
	if (rc) {
		struct kerr e = KERR_INIT;

		kerr_set(&e, rc, NULL, rc == KE_RATELIMIT ? "too many writes queued; retry shortly"
							  : "the store is not accepting writes");
		http_respond_error(w->r, &e);
		kerr_clear(&e);
		write_req_free(w);
		return HTTP_DONE;
	}
	return HTTP_DEFER;
}

int write_deny(struct api *a, struct http_req *r, const struct principal *p, const char *verb, const char *org,
	       const char *resource, const struct kerr *e)
{
	struct principal anon = { 0, "anonymous", NULL, 0 };
	struct write_req *w = write_req_new(a, r, p->user ? p : &anon, 0, verb, org, resource);
	struct buf res = BUF_INIT(256);

	if (!w) {
		http_respond_error(r, e);
		return HTTP_DONE;
	}
	kerr_set(&w->deny, e->kcode, e->code, "%s", e->message ? e->message : "denied");
	if (e->resource)
		w->deny.resource = strdup(e->resource);
	if (e->reasons)
		w->deny.reasons = json_deep_copy(e->reasons);
	buf_printf(&res, "denied:%s", e->code ? e->code : kerr_default_code(e->kcode));
	w->audit_result = buf_detach(&res, NULL);
	return write_submit(w);
}
