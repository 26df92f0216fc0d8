/* Push bookkeeping: what an accepted push leaves in the store. */
#include "api/api_internal.h"
#include "core/log.h"
#include "core/util.h"
#include "model/admission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUSH_LABEL_REPO "krate.a5c.ai/repository"
/* A GitPush is named <repo>-push-<12 hex>; names are DNS labels (63). */
#define PUSH_NAME_REPO_MAX 45
#define PUSH_REF_MAX 1024
/* One batch holds every record of a push; bounds a push of very many refs. */
#define PUSH_MAX_REFS 10000

static int sha_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return (n == 40 || n == 64) && strspn(s, "0123456789abcdef") == n;
}

static int ref_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n < 6 || n > PUSH_REF_MAX || strncmp(s, "refs/", 5) || !util_utf8_valid(s, n))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int push_name(const char *repo, char *out, size_t size)
{
	unsigned char rnd[6];
	char hex[13];
	int len = (int)strnlen(repo, PUSH_NAME_REPO_MAX);

	while (len > 0 && repo[len - 1] == '-')
		len--;
	if (util_random_bytes(rnd, sizeof(rnd)))
		return -1;
	util_hex(hex, rnd, sizeof(rnd));
	return snprintf(out, size, "%.*s-push-%s", len, repo, hex) >= (int)size ? -1 : 0;
}

/* Appends the GitPush for update u and its `push` deliveries to docs. */
static int add_ref(struct api *a, const char *org, const char *repo, const char *pusher, json_t *u, json_t *docs,
		   struct kerr *e)
{
	const char *ref = json_string_value(json_object_get(u, "ref"));
	const char *before = json_string_value(json_object_get(u, "before"));
	const char *after = json_string_value(json_object_get(u, "after"));
	struct admission_ctx ctx = { org };
	struct kerr ee = KERR_INIT;
	json_t *gp, *payload;
	char name[64];
	int rc;

	if (!ref_ok(ref) || !sha_ok(before) || !sha_ok(after))
		return kerr_set(e, KE_INVALID, NULL, "a ref update needs a ref and two object names");
	if (push_name(repo, name, sizeof(name)))
		return kerr_set(e, KE_INTERNAL, NULL, "cannot name the push record");
	gp = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "apiVersion",
		       KRATE_API_VERSION, "kind", "GitPush", "metadata", "name", name, "labels", PUSH_LABEL_REPO, repo,
		       "spec", "organizationRef", org, "repository", repo, "ref", ref, "before", before, "after", after,
		       "pusher", pusher);
	if (!gp)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	rc = admission_check(gp, &ctx, NULL, e);
	if (!rc && json_array_append(docs, gp))
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
	json_decref(gp);
	if (rc)
		return rc;
	payload = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "repository", repo, "ref", ref, "before", before, "after",
			    after, "pusher", pusher, "org", org);
	/* The record stands without its event; a lost event is logged. */
	if (!payload || api_event_docs(a, org, "push", payload, docs, &ee))
		log_warn("webhooks: cannot queue push of %s to %s/%s: %s", ref, org, repo,
			 ee.message ? ee.message : "out of memory");
	json_decref(payload);
	kerr_clear(&ee);
	return 0;
}

int api_record_push(struct api *a, const char *org, const char *repo, const char *pusher, json_t *updates,
		    const char *correlation_id, struct kerr *e)
{
	size_t n = json_array_size(updates), i, nops = 0;
	struct store_batch b = { 0 };
	struct store_op *ops = NULL;
	json_t *docs = NULL, *u;
	char ns[96], res[256];
	int rc = 0;

	if (!util_dns_label(org) || !util_dns_label(repo) || !pusher || !*pusher || !json_is_array(updates))
		return kerr_set(e, KE_INVALID, NULL, "a push needs an org, a repository and a pusher");
	if (!n)
		return 0;
	if (n > PUSH_MAX_REFS) {
		rc = kerr_set(e, KE_TOOBIG, NULL, "a push of more than %d refs is not recorded", PUSH_MAX_REFS);
		goto out;
	}
	docs = json_array();
	if (!docs) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	json_array_foreach(updates, i, u) {
		if ((rc = add_ref(a, org, repo, pusher, u, docs, e)))
			goto out;
	}
	ops = calloc(json_array_size(docs), sizeof(*ops));
	if (!ops) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	json_array_foreach(docs, i, u) {
		json_t *md = json_object_get(u, "metadata");

		ops[nops].type = STORE_OP_CREATE;
		ops[nops].kind = json_string_value(json_object_get(u, "kind"));
		ops[nops].ns = json_string_value(json_object_get(md, "namespace"));
		ops[nops].name = json_string_value(json_object_get(md, "name"));
		ops[nops++].obj = u;
	}
	admission_org_namespace(org, ns, sizeof(ns));
	snprintf(res, sizeof(res), "Repository/%s/%s", ns, repo);
	b.ops = ops;
	b.n = nops;
	b.audit.actor = pusher;
	b.audit.org = org;
	b.audit.verb = "push";
	b.audit.resource = res;
	b.audit.result = "allowed";
	b.audit.correlation_id = correlation_id ? correlation_id : "";
	if (store_write(a->store, &b))
		rc = kerr_set(e, b.rc, b.err.code, "%s", b.err.message ? b.err.message : "the push was not recorded");
	for (i = 0; i < nops; i++)
		json_decref(ops[i].result);
	kerr_clear(&b.err);
out:
	free(ops);
	json_decref(docs);
	/* git has moved the refs whether or not the records were written. */
	api_pulls_on_push(a, org, repo, updates);
	return rc;
}
