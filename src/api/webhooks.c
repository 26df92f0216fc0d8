/* The API's side of webhooks: event deliveries for the change that causes
 * them, and redelivery (subscription secrets are sealed in sealed.c). */
#include "api/api_internal.h"
#include "core/util.h"
#include "model/admission.h"
#include "webhook/webhook.h"

#include <stdlib.h>
#include <string.h>

int api_event_docs(struct api *a, const char *org, const char *event, json_t *payload, json_t *docs_out,
		   struct kerr *e)
{
	struct admission_ctx ctx = { org };
	json_t *docs = NULL, *d;
	size_t i;
	int rc;

	if (!a->webhook)
		return 0;
	rc = webhook_deliveries(a->webhook, org, event, payload, &docs, e);
	if (rc)
		return rc;
	/* All or nothing: the caller's array gets every delivery or none. */
	json_array_foreach(docs, i, d) {
		if ((rc = admission_check(d, &ctx, NULL, e)))
			break;
	}
	if (!rc && json_array_extend(docs_out, docs))
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
	json_decref(docs);
	return rc;
}

/* The admitted redelivery (new ref in *out) of delivery name in org, after
 * the checks a write of a WebhookDelivery gets; res names the original. */
static int redelivery_doc(struct api *a, const struct principal *p, const char *org, const char *name,
			  json_t **out, struct buf *res, struct kerr *e)
{
	const struct kind_def *kd = kinds_lookup("WebhookDelivery");
	struct admission_ctx ctx = { org };
	json_t *orig;
	char ns[96], *json = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = api_org_check(a, p, org, e)))
		return rc;
	admission_org_namespace(org, ns, sizeof(ns));
	if (!util_dns_label(name))
		return kerr_set(e, KE_NOTFOUND, NULL, "WebhookDelivery not found");
	api_resource_id(res, kd->kind, ns, name);
	if (p->role < (int)kd->write_role)
		return kerr_set(e, KE_FORBIDDEN, NULL, "role %s may not redeliver webhooks (needs %s)",
				kinds_role_name(p->role), kinds_role_name(kd->write_role));
	if (!a->webhook)
		return kerr_set(e, KE_UNAVAILABLE, NULL, "webhooks are not enabled on this server");
	rc = store_get(a->store, kd->kind, ns, name, &json, &len, e);
	if (rc)
		return rc;
	orig = json_loadb(json, len, 0, NULL);
	free(json);
	if (!orig)
		return kerr_set(e, KE_INTERNAL, NULL, "the stored delivery cannot be read");
	rc = webhook_redelivery(a->webhook, orig, out, e);
	json_decref(orig);
	if (!rc && (rc = admission_check(*out, &ctx, NULL, e))) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static void create_op(struct store_op *op, json_t *doc)
{
	json_t *md = json_object_get(doc, "metadata");

	op->type = STORE_OP_CREATE;
	op->kind = json_string_value(json_object_get(doc, "kind"));
	op->ns = json_string_value(json_object_get(md, "namespace"));
	op->name = json_string_value(json_object_get(md, "name"));
	op->obj = doc;
}

int h_webhook_redeliver(struct api *a, struct http_req *r, const struct route_match *m, struct principal *p)
{
	struct kerr e = KERR_INIT;
	struct buf res = BUF_INIT(512);
	struct write_req *w;
	json_t *doc = NULL;
	int rc;

	if (redelivery_doc(a, p, m->org, m->seg[0], &doc, &res, &e))
		goto deny;
	w = write_req_new(a, r, p, 1, "redeliver", m->org, res.data);
	if (!w) {
		json_decref(doc);
		kerr_set(&e, KE_NOMEM, NULL, "out of memory");
		goto deny;
	}
	json_array_append_new(w->keep, doc);
	create_op(&w->ops[0], doc);
	w->nops = 1;
	w->nreply = 1;
	w->reply = REPLY_OBJECT;
	buf_free(&res);
	return write_submit(w);
deny:
	rc = write_deny(a, r, p, "redeliver", m->org, res.len ? res.data : NULL, &e);
	buf_free(&res);
	kerr_clear(&e);
	return rc;
}

int api_redeliver_sync(struct api *a, const struct principal *p, const char *org, const char *name,
		       const char *correlation_id, json_t **created, struct kerr *e)
{
	struct buf res = BUF_INIT(512), result = BUF_INIT(128);
	struct store_batch b = { 0 };
	struct store_op op = { 0 };
	json_t *doc = NULL;
	int rc = redelivery_doc(a, p, org, name, &doc, &res, e);

	*created = NULL;
	if (rc)
		buf_printf(&result, "denied:%s", e->code ? e->code : kerr_default_code(e->kcode));
	else
		create_op(&op, doc);
	b.ops = rc ? NULL : &op;
	b.n = rc ? 0 : 1;
	b.audit.actor = p->user ? p->user : "anonymous";
	b.audit.org = org;
	b.audit.verb = "redeliver";
	b.audit.resource = res.data ? res.data : "";
	b.audit.result = rc ? result.data : "allowed";
	b.audit.correlation_id = correlation_id;
	if (store_write(a->store, &b) && !rc) {
		rc = kerr_set(e, b.rc, b.err.code, "%s", b.err.message ? b.err.message : "the write failed");
	} else if (!rc) {
		*created = op.result;
		op.result = NULL;
	}
	json_decref(op.result);
	json_decref(doc);
	kerr_clear(&b.err);
	buf_free(&res);
	buf_free(&result);
	return rc;
}
