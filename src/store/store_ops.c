/* One write op inside the writer's open transaction: server-managed metadata,
 * optimistic concurrency on resourceVersion, the object row and its event. */
#include "store/sqlite_internal.h"
#include "core/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stored {
	int64_t id, rv;
	json_t *doc;
};

static const char *const server_meta[] = {
	"name", "namespace", "uid", "creationTimestamp", "resourceVersion", "generation", NULL
};

static const char *const top_keys[] = { "apiVersion", "kind", "metadata", "spec", "status", NULL };

void sq_events_truncate(struct sq_events *ev, size_t n)
{
	while (ev->n > n) {
		struct sq_event *x = &ev->v[--ev->n];

		free(x->kind);
		free(x->ns);
		free(x->name);
		free(x->json);
	}
}

/* Takes ownership of json, also on failure. */
static int events_push(struct sq_events *ev, int64_t rv, const char *type, const char *kind,
		       const char *ns, const char *name, char *json, size_t len)
{
	struct sq_event *x;

	if (ev->n == ev->cap) {
		size_t cap = ev->cap ? ev->cap * 2 : 16;
		struct sq_event *v = realloc(ev->v, cap * sizeof(*v));

		if (!v) {
			free(json);
			return KE_NOMEM;
		}
		ev->v = v;
		ev->cap = cap;
	}
	x = &ev->v[ev->n];
	x->rv = rv;
	x->type = type;
	x->kind = strdup(kind);
	x->ns = strdup(ns);
	x->name = strdup(name);
	x->json = json;
	x->len = len;
	if (!x->kind || !x->ns || !x->name) {
		free(x->kind);
		free(x->ns);
		free(x->name);
		free(json);
		return KE_NOMEM;
	}
	ev->n++;
	return 0;
}

static int with_resource(struct kerr *e, int rc, const char *kind, const char *ns, const char *name)
{
	kerr_set_resource(e, kind, ns, name);
	return rc;
}

static int not_found(struct kerr *e, const char *kind, const char *ns, const char *name)
{
	if (*ns)
		kerr_set(e, KE_NOTFOUND, NULL, "%s \"%s\" not found in namespace \"%s\"", kind, name, ns);
	else
		kerr_set(e, KE_NOTFOUND, NULL, "%s \"%s\" not found", kind, name);
	return with_resource(e, KE_NOTFOUND, kind, ns, name);
}

static int stale(struct kerr *e, const struct store_op *op, const char *ns, int64_t current)
{
	kerr_set(e, KE_CONFLICT, NULL,
		 "the object has been modified; resourceVersion %" PRId64 " is not the current %" PRId64,
		 op->expect_rv, current);
	return with_resource(e, KE_CONFLICT, op->kind, ns, op->name);
}

/* Finds the stored row and parses its body; KE_NOTFOUND (no message) if absent. */
static int lookup(struct sconn *c, const char *kind, const char *ns, const char *name,
		  struct stored *out, struct kerr *e)
{
	json_error_t jerr;
	sqlite3_stmt *st;
	const char *body;
	int rc;

	out->doc = NULL;
	rc = sq_stmt(c, ST_LOOKUP, &st, e);
	if (rc)
		return rc;
	sq_bind_text(st, 1, kind);
	sq_bind_text(st, 2, ns);
	sq_bind_text(st, 3, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->rv = sqlite3_column_int64(st, 1);
		body = (const char *)sqlite3_column_text(st, 2);
		out->doc = json_loadb(body ? body : "", (size_t)sqlite3_column_bytes(st, 2), 0, &jerr);
		rc = 0;
		if (!json_is_object(out->doc)) {
			json_decref(out->doc);
			out->doc = NULL;
			rc = kerr_set(e, KE_IO, NULL, "the stored object is not valid JSON: %s", jerr.text);
		}
	} else if (rc == SQLITE_DONE) {
		rc = KE_NOTFOUND;
	} else {
		rc = sq_err(c->db, rc, e, "read object");
	}
	sq_release(c, ST_LOOKUP, st);
	return rc;
}

static json_t *meta_get(json_t *doc, const char *key)
{
	return json_object_get(json_object_get(doc, "metadata"), key);
}

static int in_list(const char *key, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(key, *list))
			return 1;
	return 0;
}

static int set_copy(json_t *dst, const char *key, json_t *v)
{
	return json_object_set_new(dst, key, json_deep_copy(v));
}

/* A fresh object in the documented key order (apiVersion, kind, metadata,
 * spec, status, then anything else) so stored bodies are byte-stable; the
 * op's identity and the server fields override whatever the client sent.
 * Copies everything it takes from `in` and `status` (both borrowed). */
static json_t *compose(const char *kind, const char *ns, const char *name, json_t *in,
		       json_t *status, const char *uid, const char *created, int64_t rv, int64_t gen)
{
	json_t *out = json_object(), *meta = json_object(), *inmeta, *v;
	const char *k;
	char rvs[24];
	int bad = 0;

	if (!out || !meta) {
		json_decref(out);
		json_decref(meta);
		return NULL;
	}
	if ((v = json_object_get(in, "apiVersion")))
		bad |= set_copy(out, "apiVersion", v);
	bad |= json_object_set_new(out, "kind", json_string(kind));
	bad |= json_object_set_new(meta, "name", json_string(name));
	if (*ns)
		bad |= json_object_set_new(meta, "namespace", json_string(ns));
	inmeta = json_object_get(in, "metadata");
	if (json_is_object(inmeta)) {
		json_object_foreach(inmeta, k, v) {
			if (!in_list(k, server_meta))
				bad |= set_copy(meta, k, v);
		}
	}
	snprintf(rvs, sizeof(rvs), "%" PRId64, rv);
	bad |= json_object_set_new(meta, "uid", json_string(uid));
	bad |= json_object_set_new(meta, "creationTimestamp", json_string(created));
	bad |= json_object_set_new(meta, "resourceVersion", json_string(rvs));
	bad |= json_object_set_new(meta, "generation", json_integer(gen));
	bad |= json_object_set_new(out, "metadata", meta);
	if ((v = json_object_get(in, "spec")))
		bad |= set_copy(out, "spec", v);
	if (status)
		bad |= set_copy(out, "status", status);
	json_object_foreach(in, k, v) {
		if (!in_list(k, top_keys))
			bad |= set_copy(out, k, v);
	}
	if (bad) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Inserts the events row and remembers the event for the hook; takes json. */
static int record_event(struct sq_wctx *w, int64_t rv, const char *type, const char *kind,
			const char *ns, const char *name, char *json, size_t len, struct kerr *e)
{
	struct sconn *c = w->s->w;
	sqlite3_stmt *st;
	int rc = sq_stmt(c, ST_INSERT_EVENT, &st, e);

	if (rc) {
		free(json);
		return rc;
	}
	sqlite3_bind_int64(st, 1, rv);
	sq_bind_text(st, 2, type);
	sq_bind_text(st, 3, kind);
	sq_bind_text(st, 4, ns);
	sq_bind_text(st, 5, name);
	sq_bind_text(st, 6, w->now);
	sqlite3_bind_text(st, 7, json, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : sq_err(c->db, rc, e, "append event");
	sq_release(c, ST_INSERT_EVENT, st);
	if (rc) {
		free(json);
		return rc;
	}
	if (events_push(&w->ev, rv, type, kind, ns, name, json, len))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	return 0;
}

/* Inserts (old == NULL) or rewrites the row for doc, then logs the event. */
static int write_object(struct sq_wctx *w, const struct stored *old, const char *kind,
			const char *ns, const char *name, int64_t rv, json_t *doc,
			const char *type, struct kerr *e)
{
	struct sconn *c = w->s->w;
	enum sq_stmt_id id = old ? ST_UPDATE_OBJ : ST_INSERT_OBJ;
	char *body = json_dumps(doc, JSON_COMPACT), *labels;
	json_t *lab = meta_get(doc, "labels");
	const char *phase = json_string_value(json_object_get(json_object_get(doc, "status"), "phase"));
	sqlite3_stmt *st = NULL;
	size_t blen;
	int rc;

	labels = json_is_object(lab) ? json_dumps(lab, JSON_COMPACT) : strdup("{}");
	if (!body || !labels) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	blen = strlen(body);
	rc = sq_stmt(c, id, &st, e);
	if (rc)
		goto out;
	if (old) {
		sqlite3_bind_int64(st, 1, old->id);
		sqlite3_bind_int64(st, 2, rv);
		sq_bind_text(st, 3, phase);
		sq_bind_text(st, 4, labels);
		sqlite3_bind_text(st, 5, body, (int)blen, SQLITE_STATIC);
	} else {
		sq_bind_text(st, 1, kind);
		sq_bind_text(st, 2, ns);
		sq_bind_text(st, 3, name);
		sqlite3_bind_int64(st, 4, rv);
		sq_bind_text(st, 5, phase);
		sq_bind_text(st, 6, labels);
		sqlite3_bind_text(st, 7, body, (int)blen, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : sq_err(c->db, rc, e, "write object");
	sq_release(c, id, st);
	if (rc)
		goto out;
	rc = record_event(w, rv, type, kind, ns, name, body, blen, e);
	body = NULL;
out:
	free(body);
	free(labels);
	return rc;
}

static int same_spec(json_t *a, json_t *b)
{
	if (!a || !b)
		return a == b;
	return json_equal(a, b);
}

static int op_put(struct sq_wctx *w, struct store_op *op, const char *ns, struct kerr *e)
{
	struct stored old = { 0 };
	const char *uidp, *created;
	json_t *doc, *status;
	char uid[37];
	int64_t rv, gen;
	int rc, exists;

	if (!json_is_object(op->obj))
		return with_resource(e, kerr_set(e, KE_INVALID, NULL, "the object must be a JSON object"),
				     op->kind, ns, op->name);
	rc = lookup(w->s->w, op->kind, ns, op->name, &old, e);
	if (rc && rc != KE_NOTFOUND)
		return with_resource(e, rc, op->kind, ns, op->name);
	exists = rc == 0;
	if (!exists) {
		if (op->type == STORE_OP_UPDATE)
			return not_found(e, op->kind, ns, op->name);
		if (op->expect_rv > 0) {
			kerr_set(e, KE_CONFLICT, NULL, "the object does not exist; resourceVersion %"
				 PRId64 " cannot match", op->expect_rv);
			return with_resource(e, KE_CONFLICT, op->kind, ns, op->name);
		}
		if (util_uuid(uid))
			return with_resource(e, kerr_set(e, KE_INTERNAL, NULL, "cannot generate a uid"),
					     op->kind, ns, op->name);
		uidp = uid;
		created = w->now;
		gen = 1;
		status = json_object_get(op->obj, "status");
	} else {
		if (op->type == STORE_OP_CREATE) {
			kerr_set(e, KE_CONFLICT, NULL, "%s \"%s\" already exists", op->kind, op->name);
			rc = with_resource(e, KE_CONFLICT, op->kind, ns, op->name);
			goto out;
		}
		if (op->expect_rv > 0 && op->expect_rv != old.rv) {
			rc = stale(e, op, ns, old.rv);
			goto out;
		}
		uidp = json_string_value(meta_get(old.doc, "uid"));
		if (!uidp) {
			if (util_uuid(uid)) {
				rc = kerr_set(e, KE_INTERNAL, NULL, "cannot generate a uid");
				goto out;
			}
			uidp = uid;
		}
		created = json_string_value(meta_get(old.doc, "creationTimestamp"));
		if (!created)
			created = w->now;
		gen = json_integer_value(meta_get(old.doc, "generation"));
		if (gen < 1)
			gen = 1;
		if (!same_spec(json_object_get(old.doc, "spec"), json_object_get(op->obj, "spec")))
			gen++;
		status = json_object_get(op->obj, "status");
		if (!status)
			status = json_object_get(old.doc, "status");
	}
	rv = w->s->rv + 1;
	doc = compose(op->kind, ns, op->name, op->obj, status, uidp, created, rv, gen);
	if (!doc) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	rc = write_object(w, exists ? &old : NULL, op->kind, ns, op->name, rv, doc,
			  exists ? "MODIFIED" : "ADDED", e);
	if (rc) {
		json_decref(doc);
		with_resource(e, rc, op->kind, ns, op->name);
		goto out;
	}
	w->s->rv = rv;
	op->result = doc;
	op->created = !exists;
out:
	json_decref(old.doc);
	return rc;
}

/* Replaces only the status; generation and every other field stay. */
/* The stored status with patch's members set (null members removed); new ref,
 * or NULL when patch is not an object. */
static json_t *merge_status(json_t *old, json_t *patch)
{
	json_t *out, *v;
	const char *k;

	if (!json_is_object(patch))
		return NULL;
	out = json_is_object(old) ? json_copy(old) : json_object();
	if (!out)
		return NULL;
	json_object_foreach(patch, k, v) {
		if (json_is_null(v))
			json_object_del(out, k);
		else
			json_object_set(out, k, v);
	}
	return out;
}

static int op_status(struct sq_wctx *w, struct store_op *op, const char *ns, struct kerr *e)
{
	struct stored old = { 0 };
	const char *uid, *created;
	json_t *doc, *merged = NULL;
	int64_t rv;
	int rc;

	if (!op->obj)
		return with_resource(e, kerr_set(e, KE_INVALID, NULL, "a status value is required"),
				     op->kind, ns, op->name);
	rc = lookup(w->s->w, op->kind, ns, op->name, &old, e);
	if (rc == KE_NOTFOUND)
		return not_found(e, op->kind, ns, op->name);
	if (rc)
		return with_resource(e, rc, op->kind, ns, op->name);
	if (op->expect_rv > 0 && op->expect_rv != old.rv) {
		rc = stale(e, op, ns, old.rv);
		goto out;
	}
	if (op->type == STORE_OP_STATUS_MERGE) {
		merged = merge_status(json_object_get(old.doc, "status"), op->obj);
		if (!merged) {
			rc = kerr_set(e, KE_INVALID, NULL, "a status patch must be an object");
			goto out;
		}
	}
	uid = json_string_value(meta_get(old.doc, "uid"));
	created = json_string_value(meta_get(old.doc, "creationTimestamp"));
	rv = w->s->rv + 1;
	doc = compose(op->kind, ns, op->name, old.doc, merged ? merged : op->obj, uid ? uid : "",
		      created ? created : w->now, rv, json_integer_value(meta_get(old.doc, "generation")));
	if (!doc) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	rc = write_object(w, &old, op->kind, ns, op->name, rv, doc, "MODIFIED", e);
	if (rc) {
		json_decref(doc);
		with_resource(e, rc, op->kind, ns, op->name);
		goto out;
	}
	w->s->rv = rv;
	op->result = doc;
out:
	json_decref(merged);
	json_decref(old.doc);
	return rc;
}

/* Deletes one row; doc (borrowed) gets the deletion's resourceVersion. */
static int delete_row(struct sq_wctx *w, int64_t id, const char *kind, const char *ns,
		      const char *name, json_t *doc, struct kerr *e)
{
	struct sconn *c = w->s->w;
	int64_t rv = w->s->rv + 1;
	json_t *meta = json_object_get(doc, "metadata");
	sqlite3_stmt *st;
	char rvs[24], *body;
	int rc;

	snprintf(rvs, sizeof(rvs), "%" PRId64, rv);
	if (!json_is_object(meta) || json_object_set_new(meta, "resourceVersion", json_string(rvs)))
		return kerr_set(e, KE_IO, NULL, "the stored object has no metadata");
	body = json_dumps(doc, JSON_COMPACT);
	if (!body)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	rc = sq_stmt(c, ST_DELETE_OBJ, &st, e);
	if (rc) {
		free(body);
		return rc;
	}
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : sq_err(c->db, rc, e, "delete object");
	sq_release(c, ST_DELETE_OBJ, st);
	if (rc) {
		free(body);
		return rc;
	}
	rc = record_event(w, rv, "DELETED", kind, ns, name, body, strlen(body), e);
	if (!rc)
		w->s->rv = rv;
	return rc;
}

static int op_delete(struct sq_wctx *w, struct store_op *op, const char *ns, struct kerr *e)
{
	struct stored old = { 0 };
	int rc = lookup(w->s->w, op->kind, ns, op->name, &old, e);

	if (rc == KE_NOTFOUND)
		return not_found(e, op->kind, ns, op->name);
	if (rc)
		return with_resource(e, rc, op->kind, ns, op->name);
	if (op->expect_rv > 0 && op->expect_rv != old.rv)
		rc = stale(e, op, ns, old.rv);
	else
		rc = delete_row(w, old.id, op->kind, ns, op->name, old.doc, e);
	if (rc) {
		json_decref(old.doc);
		return with_resource(e, rc, op->kind, ns, op->name);
	}
	op->result = old.doc;
	return 0;
}

struct ns_row {
	int64_t id;
	char *kind, *name;
	json_t *doc;
};

static void ns_rows_free(struct ns_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].kind);
		free(v[i].name);
		json_decref(v[i].doc);
	}
	free(v);
}

/* Reads the namespace first: rows are not deleted under an open cursor. */
static int ns_collect(struct sconn *c, const char *ns, struct ns_row **out, size_t *n, struct kerr *e)
{
	struct ns_row *v = NULL, *x;
	const char *body;
	size_t cap = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	rc = sq_stmt(c, ST_NS_OBJECTS, &st, e);
	if (rc)
		return rc;
	sq_bind_text(st, 1, ns);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct ns_row *nv = realloc(v, ncap * sizeof(*nv));

			if (!nv) {
				rc = KE_NOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		x = &v[*n];
		x->id = sqlite3_column_int64(st, 0);
		x->kind = sq_column_dup(st, 1, NULL);
		x->name = sq_column_dup(st, 2, NULL);
		body = (const char *)sqlite3_column_text(st, 3);
		x->doc = json_loadb(body ? body : "", (size_t)sqlite3_column_bytes(st, 3), 0, NULL);
		(*n)++;
		if (!x->kind || !x->name || !x->doc) {
			rc = x->doc ? KE_NOMEM : KE_IO;
			break;
		}
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc == KE_NOMEM)
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
	else if (rc == KE_IO)
		rc = kerr_set(e, KE_IO, NULL, "a stored object in namespace \"%s\" is not valid JSON", ns);
	else
		rc = sq_err(c->db, rc, e, "list namespace");
	sq_release(c, ST_NS_OBJECTS, st);
	if (rc) {
		ns_rows_free(v, *n);
		*n = 0;
		return rc;
	}
	*out = v;
	return 0;
}

static int op_delete_ns(struct sq_wctx *w, struct store_op *op, struct kerr *e)
{
	struct ns_row *v;
	size_t n, i;
	int rc;

	if (!op->ns || !util_utf8_valid(op->ns, strlen(op->ns)))
		return kerr_set(e, KE_INVALID, NULL, "a namespace is required");
	rc = ns_collect(w->s->w, op->ns, &v, &n, e);
	if (rc)
		return rc;
	for (i = 0; !rc && i < n; i++) {
		rc = delete_row(w, v[i].id, v[i].kind, op->ns, v[i].name, v[i].doc, e);
		if (rc)
			with_resource(e, rc, v[i].kind, op->ns, v[i].name);
	}
	ns_rows_free(v, n);
	return rc;
}

static int op_token(struct sq_wctx *w, struct store_op *op, struct kerr *e)
{
	const struct token_info *t = op->token;
	struct sconn *c = w->s->w;
	sqlite3_stmt *st;
	int rc;

	if (!op->token_hash || !*op->token_hash || !t || !t->id || !t->user)
		return kerr_set(e, KE_INVALID, NULL, "a token needs a hash, an id and a user");
	rc = sq_stmt(c, ST_TOKEN_PUT, &st, e);
	if (rc)
		return rc;
	sq_bind_text(st, 1, op->token_hash);
	sq_bind_text(st, 2, t->id);
	sq_bind_text(st, 3, t->user);
	sq_bind_text(st, 4, t->org);
	sqlite3_bind_int(st, 5, t->role);
	sqlite3_bind_int64(st, 6, t->created > 0 ? t->created : util_now_seconds());
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if ((rc & 0xff) == SQLITE_CONSTRAINT)
		rc = kerr_set(e, KE_CONFLICT, NULL, "a token with this secret already exists");
	else
		rc = sq_err(c->db, rc, e, "store token");
	sq_release(c, ST_TOKEN_PUT, st);
	if (rc)
		with_resource(e, rc, "Token", NULL, t->id);
	return rc;
}

int sq_exec_op(struct sq_wctx *w, struct store_op *op, struct kerr *e)
{
	const char *ns = op->ns ? op->ns : "";

	op->result = NULL;
	op->created = 0;
	if (op->type == STORE_OP_TOKEN)
		return op_token(w, op, e);
	if (op->type == STORE_OP_USER || op->type == STORE_OP_SESSION || op->type == STORE_OP_SESSION_DELETE)
		return sq_exec_user_op(w, op, e);
	if (op->type == STORE_OP_DELETE_NAMESPACE)
		return op_delete_ns(w, op, e);
	if (!op->kind || !*op->kind || !op->name || !*op->name)
		return kerr_set(e, KE_INVALID, NULL, "kind and name are required");
	if (!util_utf8_valid(op->kind, strlen(op->kind)) || !util_utf8_valid(ns, strlen(ns)) ||
	    !util_utf8_valid(op->name, strlen(op->name)))
		return kerr_set(e, KE_INVALID, NULL, "kind, namespace and name must be UTF-8");
	switch (op->type) {
	case STORE_OP_CREATE:
	case STORE_OP_UPDATE:
	case STORE_OP_APPLY:
		return op_put(w, op, ns, e);
	case STORE_OP_STATUS:
	case STORE_OP_STATUS_MERGE:
		return op_status(w, op, ns, e);
	case STORE_OP_DELETE:
		return op_delete(w, op, ns, e);
	default:
		return kerr_set(e, KE_INVALID, NULL, "unknown store operation %d", (int)op->type);
	}
}
