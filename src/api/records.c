/* What pull requests and issues share: the repository a route names, numbered
 * records, synchronous audited writes and input checks. */
#include "api/records.h"
#include "core/log.h"
#include "core/util.h"
#include "model/admission.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NUMBER_ATTEMPTS 16

int repo_ctx_load(struct api *a, const struct principal *p, const char *org, const char *repo, struct repo_ctx *c,
		  struct kerr *e)
{
	char *json = NULL;
	size_t len;
	int rc;

	memset(c, 0, sizeof(*c));
	c->org = org;
	c->repo = repo;
	rc = api_org_check(a, p, org, e);
	if (rc)
		return rc;
	admission_org_namespace(org, c->ns, sizeof(c->ns));
	rc = store_get(a->store, "Repository", c->ns, repo, &json, &len, e);
	if (rc == KE_NOTFOUND) {
		kerr_clear(e);
		return kerr_set(e, KE_NOTFOUND, "NOT_FOUND", "repository %s not found in org %s", repo, org);
	}
	if (rc)
		return rc;
	c->obj = json_loadb(json, len, 0, NULL);
	free(json);
	if (!c->obj)
		return kerr_set(e, KE_INTERNAL, NULL, "cannot read repository %s", repo);
	if (a->git_root && util_dns_label(org) && util_dns_label(repo) &&
	    snprintf(c->dir, sizeof(c->dir), "%s/%s/%s.git", a->git_root, org, repo) < (int)sizeof(c->dir)) {
		c->git.git = a->git_path;
		c->git.dir = c->dir;
	}
	return 0;
}

void repo_ctx_free(struct repo_ctx *c)
{
	json_decref(c->obj);
	c->obj = NULL;
}

void repo_default_ref(const struct repo_ctx *c, char *out, size_t size)
{
	const char *b = json_string_value(json_object_get(json_object_get(c->obj, "spec"), "defaultBranch"));

	snprintf(out, size, "refs/heads/%s", b && *b ? b : "main");
}

static int parse_number(const char *s, long long *out)
{
	char *end;
	long long n;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
		return -1;
	n = strtoll(s, &end, 10);
	if (n < 1)
		return -1;
	*out = n;
	return 0;
}

int record_load(struct api *a, const struct repo_ctx *c, const char *kind, const char *number, json_t **out,
		struct kerr *e)
{
	char name[128], *json = NULL;
	long long n;
	size_t len;
	int rc;

	*out = NULL;
	if (parse_number(number, &n))
		return kerr_set(e, KE_NOTFOUND, "NOT_FOUND", "%s %s not found in %s/%s",
				strcmp(kind, "Issue") ? "pull request" : "issue", number, c->org, c->repo);
	snprintf(name, sizeof(name), "%s-%lld", c->repo, n);
	rc = store_get(a->store, kind, c->ns, name, &json, &len, e);
	if (rc == KE_NOTFOUND) {
		kerr_clear(e);
		return kerr_set(e, KE_NOTFOUND, "NOT_FOUND", "%s %lld not found in %s/%s",
				strcmp(kind, "Issue") ? "pull request" : "issue", n, c->org, c->repo);
	}
	if (rc)
		return rc;
	*out = json_loadb(json, len, 0, NULL);
	free(json);
	/* The name alone could match an object created through the generic API. */
	if (*out && json_integer_value(json_object_get(json_object_get(*out, "spec"), "number")) != n) {
		json_decref(*out);
		*out = NULL;
		return kerr_set(e, KE_NOTFOUND, "NOT_FOUND", "%lld not found in %s/%s", n, c->org, c->repo);
	}
	return *out ? 0 : kerr_set(e, KE_INTERNAL, NULL, "cannot read %s", name);
}

int record_list(struct api *a, const struct repo_ctx *c, const char *kind, long long number, json_t **out,
		struct kerr *e)
{
	struct store_list_query q = { 0 };
	struct store_list_result res = { 0 };
	struct buf sel = BUF_INIT(512);
	size_t i;
	int rc;

	*out = NULL;
	if (buf_printf(&sel, LABEL_REPO "=%s", c->repo) ||
	    (number > 0 && buf_printf(&sel, "," LABEL_NUMBER "=%lld", number))) {
		buf_free(&sel);
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	q.kind = kind;
	q.ns = c->ns;
	q.selector = sel.data;
	rc = store_list(a->store, &q, &res, e);
	buf_free(&sel);
	if (rc)
		return rc;
	*out = json_array();
	for (i = 0; *out && i < res.n; i++) {
		json_t *o = json_loadb(res.items[i], res.lens[i], 0, NULL);

		if (o)
			json_array_append_new(*out, o);
	}
	store_list_result_free(&res);
	return *out ? 0 : kerr_set(e, KE_NOMEM, NULL, "out of memory");
}

int record_write(struct api *a, const struct principal *p, const char *org, const char *verb, const char *resource,
		 const char *correlation_id, struct store_op *ops, size_t n, struct kerr *e)
{
	struct store_batch b = { 0 };
	int rc;

	b.ops = n ? ops : NULL;
	b.n = n;
	b.audit.actor = p->user ? p->user : "anonymous";
	b.audit.org = org;
	b.audit.verb = verb;
	b.audit.resource = resource ? resource : "";
	b.audit.result = "allowed";
	b.audit.correlation_id = correlation_id ? correlation_id : "";
	rc = store_write(a->store, &b);
	if (rc) {
		kerr_clear(e);
		if (b.err.kcode) {
			*e = b.err;
			memset(&b.err, 0, sizeof(b.err));
		} else {
			kerr_set(e, rc, NULL, "the write failed");
		}
	}
	kerr_clear(&b.err);
	return rc;
}

int record_deny(struct api *a, const struct principal *p, const char *verb, const char *org,
		const char *correlation_id, struct kerr *e)
{
	struct store_batch b = { 0 };
	struct buf result = BUF_INIT(256);

	if (!e->kcode)
		kerr_set(e, KE_INTERNAL, NULL, "denied");
	buf_printf(&result, "denied:%s", e->code ? e->code : kerr_default_code(e->kcode));
	b.audit.actor = p->user ? p->user : "anonymous";
	b.audit.org = org;
	b.audit.verb = verb;
	b.audit.resource = "";
	b.audit.result = result.data ? result.data : "denied";
	b.audit.correlation_id = correlation_id ? correlation_id : "";
	/* The refusal stands even if its audit entry cannot be written. */
	if (store_write(a->store, &b))
		log_warn("audit: cannot record a refused %s in org %s", verb, org ? org : "");
	kerr_clear(&b.err);
	buf_free(&result);
	return e->kcode;
}

void record_now(char *out, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void record_random_hex(char *out, size_t size)
{
	unsigned char raw[6];
	size_t i;

	randombytes_buf(raw, sizeof(raw));
	for (i = 0; i < sizeof(raw) && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

int record_admit(const struct repo_ctx *c, json_t *obj, long long number, struct kerr *e)
{
	struct admission_ctx ctx = { c->org };
	const struct kind_def *kd;
	json_t *meta = json_object_get(obj, "metadata"), *labels;
	char num[24];

	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(obj, "metadata", meta);
	}
	json_object_set_new(meta, "namespace", json_string(c->ns));
	labels = json_object_get(meta, "labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(meta, "labels", labels);
	}
	json_object_set_new(labels, LABEL_REPO, json_string(c->repo));
	if (number > 0) {
		snprintf(num, sizeof(num), "%lld", number);
		json_object_set_new(labels, LABEL_NUMBER, json_string(num));
	}
	json_object_set_new(obj, "apiVersion", json_string(KRATE_API_VERSION));
	return admission_check(obj, &ctx, &kd, e);
}

size_t record_create_ops(json_t *docs, struct store_op *ops, size_t cap)
{
	size_t i, n = 0;
	json_t *d;

	json_array_foreach(docs, i, d) {
		json_t *meta = json_object_get(d, "metadata");

		if (n == cap)
			break;
		ops[n].type = STORE_OP_CREATE;
		ops[n].kind = json_string_value(json_object_get(d, "kind"));
		ops[n].ns = json_string_value(json_object_get(meta, "namespace"));
		ops[n].name = json_string_value(json_object_get(meta, "name"));
		ops[n].obj = d;
		if (ops[n].kind && ops[n].ns && ops[n].name)
			n++;
	}
	return n;
}

json_t *record_event_docs(struct api *a, const char *org, const char *event, json_t *payload)
{
	struct kerr e = KERR_INIT;
	json_t *docs = json_array();

	if (docs && api_event_docs(a, org, event, payload, docs, &e)) {
		/* The change itself still happens; the event is lost, so say so. */
		log_warn("webhooks: cannot queue %s for org %s: %s", event, org, e.message ? e.message : "");
		json_array_clear(docs);
	}
	kerr_clear(&e);
	return docs;
}

json_t *record_event_ops(struct api *a, const char *org, const char *event, json_t *payload, struct store_op *ops,
			 size_t cap, size_t *n)
{
	json_t *docs = record_event_docs(a, org, event, payload);

	json_decref(payload);
	*n += record_create_ops(docs, ops + *n, cap - *n);
	return docs;
}

void record_ops_clear(struct store_op *ops, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		json_decref(ops[i].result);
		memset(&ops[i], 0, sizeof(ops[i]));
	}
	*n = 0;
}

int record_create_numbered(struct api *a, const struct principal *p, const char *correlation_id, struct repo_ctx *c,
			   json_t *obj, json_t *(*extra_docs)(struct api *a, const struct repo_ctx *c, json_t *stored,
							      void *arg),
			   void *arg, json_t **result, struct kerr *e)
{
	char kind[64];
	int64_t last_rv = -1;
	long long skip = 0;
	int attempt, rc = KE_CONFLICT;

	*result = NULL;
	/* A copy: admission may replace the object's members. */
	snprintf(kind, sizeof(kind), "%s", json_string_value(json_object_get(obj, "kind")) ?: "");
	for (attempt = 0; attempt < NUMBER_ATTEMPTS; attempt++) {
		char *json = NULL, name[128], res[320];
		size_t len, nops, cap;
		json_t *repo, *patch, *extras = NULL;
		struct store_op *ops;
		const char *rvs;
		int64_t rv;
		long long n;

		rc = store_get(a->store, "Repository", c->ns, c->repo, &json, &len, e);
		if (rc)
			return rc;
		repo = json_loadb(json, len, 0, NULL);
		free(json);
		if (!repo)
			return kerr_set(e, KE_INTERNAL, NULL, "cannot read repository %s", c->repo);
		rvs = json_string_value(json_object_get(json_object_get(repo, "metadata"), "resourceVersion"));
		rv = rvs ? strtoll(rvs, NULL, 10) : 0;
		/* Same version as last time: the number was taken by an object made
		 * through the generic API, so step over it. */
		if (rv == last_rv)
			skip++;
		last_rv = rv;
		n = json_integer_value(json_object_get(json_object_get(repo, "status"), "nextNumber"));
		json_decref(repo);
		n = (n < 1 ? 1 : n) + skip;
		if (snprintf(name, sizeof(name), "%s-%lld", c->repo, n) > 63)
			return kerr_set(e, KE_UNPROCESSABLE, "NAME_TOO_LONG",
					"repository name %s is too long to number its pull requests and issues",
					c->repo);
		json_object_set_new(json_object_get(obj, "metadata"), "name", json_string(name));
		json_object_set_new(json_object_get(obj, "spec"), "number", json_integer(n));
		rc = record_admit(c, obj, n, e);
		if (rc)
			return rc;
		if (extra_docs)
			extras = extra_docs(a, c, obj, arg);
		cap = 2 + (extras ? json_array_size(extras) : 0);
		ops = calloc(cap, sizeof(*ops));
		patch = json_pack("{s:I}", "nextNumber", (json_int_t)(n + 1));
		if (!ops || !patch) {
			free(ops);
			json_decref(patch);
			json_decref(extras);
			return kerr_set(e, KE_NOMEM, NULL, "out of memory");
		}
		ops[0].type = STORE_OP_STATUS_MERGE;
		ops[0].kind = "Repository";
		ops[0].ns = c->ns;
		ops[0].name = c->repo;
		ops[0].obj = patch;
		ops[0].expect_rv = rv;
		ops[1].type = STORE_OP_CREATE;
		ops[1].kind = kind;
		ops[1].ns = c->ns;
		ops[1].name = name;
		ops[1].obj = obj;
		nops = 2 + (extras ? record_create_ops(extras, ops + 2, cap - 2) : 0);
		snprintf(res, sizeof(res), "%s/%s/%s", kind, c->ns, name);
		kerr_clear(e);
		rc = record_write(a, p, c->org, "create", res, correlation_id, ops, nops, e);
		if (!rc)
			*result = json_incref(ops[1].result);
		for (len = 0; len < nops; len++)
			json_decref(ops[len].result);
		free(ops);
		json_decref(patch);
		json_decref(extras);
		if (rc != KE_CONFLICT)
			return rc;
	}
	return rc;
}

/* A 422 with one reason for field. */
static int invalid(struct kerr *e, const char *reason, const char *field, const char *what)
{
	kerr_set(e, KE_UNPROCESSABLE, "INVALID_RESOURCE", "%s %s", field, what);
	kerr_add_reason(e, reason, field, "%s %s", field, what);
	return KE_UNPROCESSABLE;
}

int record_check_text(json_t *v, const char *field, size_t max, int required, struct kerr *e)
{
	const char *s;

	if (!v || json_is_null(v)) {
		if (required)
			return invalid(e, "Required", field, "is required");
		return 0;
	}
	s = json_string_value(v);
	if (!s)
		return invalid(e, "InvalidValue", field, "must be a string");
	if (required && !*s)
		return invalid(e, "InvalidValue", field, "must not be empty");
	if (json_string_length(v) > max)
		return invalid(e, "InvalidValue", field, "is too long");
	if (strlen(s) != json_string_length(v))
		return invalid(e, "InvalidValue", field, "must not contain NUL");
	return 0;
}

int record_check_names(json_t *v, const char *field, struct kerr *e)
{
	size_t i;
	json_t *x;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > 64)
		return invalid(e, "InvalidValue", field, "must be an array of at most 64 strings");
	json_array_foreach(v, i, x) {
		const char *s = json_string_value(x);

		if (!s || !*s || json_string_length(x) > 100 || strpbrk(s, "\n\r\t,"))
			return invalid(e, "InvalidValue", field, "entries must be non-empty names without commas or line breaks");
	}
	return 0;
}
