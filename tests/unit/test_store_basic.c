#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/util.h"
#include "store/store.h"
#include "store_fixture.h"

static int setup(void **state)
{
	return store_fx_setup(state, "store-basic", NULL);
}

static int teardown(void **state)
{
	return store_fx_teardown(state);
}

static const char *meta_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(json_object_get(o, "metadata"), key));
}

static int64_t meta_rv(json_t *o)
{
	const char *rv = meta_str(o, "resourceVersion");

	assert_non_null(rv);
	return strtoll(rv, NULL, 10);
}

static json_int_t meta_gen(json_t *o)
{
	return json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation"));
}

static json_t *get_obj(struct store *s, const char *kind, const char *ns, const char *name)
{
	struct kerr e = KERR_INIT;
	char *text = NULL;
	size_t len = 0;
	json_t *o;

	assert_int_equal(store_get(s, kind, ns, name, &text, &len, &e), 0);
	assert_int_equal(strlen(text), len);
	o = json_loads(text, 0, NULL);
	assert_non_null(o);
	free(text);
	return o;
}

static void test_create_and_get(void **state)
{
	struct store_fx *f = *state;
	json_t *res, *got;
	const char *keys[] = { "apiVersion", "kind", "metadata", "spec", "status" };
	const char *k;
	json_t *v;
	char *text, *dumped;
	size_t len, i = 0;
	int64_t before = store_current_rv(f->s);
	struct kerr e = KERR_INIT;
	int created = 0;

	/* client-sent server fields and a scrambled key order */
	assert_int_equal(write_op(f->s, STORE_OP_CREATE, "Repository", "krate-org-a", "web",
				  "{\"status\":{\"phase\":\"Ready\"},\"spec\":{\"visibility\":\"private\"},"
				  "\"metadata\":{\"labels\":{\"app\":\"web\"},\"uid\":\"forged\","
				  "\"resourceVersion\":\"999\",\"generation\":7,\"name\":\"other\"},"
				  "\"kind\":\"Repository\",\"apiVersion\":\"krate.a5c.ai/v1alpha1\"}",
				  0, &res, &created, &e), 0);
	assert_int_equal(created, 1);
	assert_non_null(res);
	assert_string_not_equal(meta_str(res, "uid"), "forged");
	assert_int_equal(strlen(meta_str(res, "uid")), 36);
	assert_string_equal(meta_str(res, "name"), "web");
	assert_string_equal(meta_str(res, "namespace"), "krate-org-a");
	assert_int_equal(strlen(meta_str(res, "creationTimestamp")), 20);
	assert_int_equal(meta_str(res, "creationTimestamp")[19], 'Z');
	assert_true(meta_rv(res) > before);
	assert_int_equal(meta_rv(res), store_current_rv(f->s));
	assert_int_equal(meta_gen(res), 1);

	/* stored text is the compact serialization with the documented key order */
	assert_int_equal(store_get(f->s, "Repository", "krate-org-a", "web", &text, &len, &e), 0);
	dumped = json_dumps(res, JSON_COMPACT);
	assert_string_equal(text, dumped);
	assert_null(strchr(text, '\n'));
	got = json_loads(text, 0, NULL);
	json_object_foreach(got, k, v) {
		assert_true(i < 5);
		assert_string_equal(k, keys[i++]);
	}
	assert_int_equal(i, 5);
	free(text);
	free(dumped);
	json_decref(got);
	json_decref(res);
}

static void test_update_keeps_identity(void **state)
{
	struct store_fx *f = *state;
	json_t *c, *u, *u2, *st, *sm, *u3, *u4;

	must_write(f->s, STORE_OP_CREATE, "Repository", "ns1", "web",
		   "{\"apiVersion\":\"v\",\"kind\":\"Repository\",\"spec\":{\"a\":1}}", &c);
	must_write(f->s, STORE_OP_UPDATE, "Repository", "ns1", "web",
		   "{\"apiVersion\":\"v\",\"kind\":\"Repository\",\"metadata\":{\"uid\":\"x\","
		   "\"creationTimestamp\":\"1999-01-01T00:00:00Z\"},\"spec\":{\"a\":2}}", &u);
	assert_string_equal(meta_str(u, "uid"), meta_str(c, "uid"));
	assert_string_equal(meta_str(u, "creationTimestamp"), meta_str(c, "creationTimestamp"));
	assert_true(meta_rv(u) > meta_rv(c));
	assert_int_equal(meta_gen(u), 2);

	/* same spec, new labels: new version, same generation */
	must_write(f->s, STORE_OP_UPDATE, "Repository", "ns1", "web",
		   "{\"metadata\":{\"labels\":{\"x\":\"y\"}},\"spec\":{\"a\":2}}", &u2);
	assert_true(meta_rv(u2) > meta_rv(u));
	assert_int_equal(meta_gen(u2), 2);

	/* status never moves generation and leaves spec alone */
	must_write(f->s, STORE_OP_STATUS, "Repository", "ns1", "web", "{\"phase\":\"Ready\"}", &st);
	assert_true(meta_rv(st) > meta_rv(u2));
	assert_int_equal(meta_gen(st), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "spec"), "a")), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(st, "status"), "phase")),
			    "Ready");
	assert_string_equal(meta_str(st, "uid"), meta_str(c, "uid"));

	/* a status merge sets members, removes null ones and keeps the rest */
	must_write(f->s, STORE_OP_STATUS_MERGE, "Repository", "ns1", "web", "{\"nextNumber\":2}", &sm);
	assert_string_equal(json_string_value(json_object_get(json_object_get(sm, "status"), "phase")), "Ready");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(sm, "status"), "nextNumber")), 2);
	assert_true(meta_rv(sm) > meta_rv(st));
	json_decref(sm);
	must_write(f->s, STORE_OP_STATUS_MERGE, "Repository", "ns1", "web", "{\"nextNumber\":null}", &sm);
	assert_null(json_object_get(json_object_get(sm, "status"), "nextNumber"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(sm, "status"), "phase")), "Ready");
	json_decref(sm);

	/* an update without a status key keeps the stored status; apply with a new spec bumps generation */
	must_write(f->s, STORE_OP_APPLY, "Repository", "ns1", "web", "{\"spec\":{\"a\":3}}", &u3);
	assert_int_equal(meta_gen(u3), 3);
	assert_string_equal(json_string_value(json_object_get(json_object_get(u3, "status"), "phase")),
			    "Ready");
	assert_string_equal(meta_str(u3, "uid"), meta_str(c, "uid"));

	/* a status key in the update replaces it */
	must_write(f->s, STORE_OP_UPDATE, "Repository", "ns1", "web",
		   "{\"spec\":{\"a\":3},\"status\":{\"phase\":\"Failed\"}}", &u4);
	assert_int_equal(meta_gen(u4), 3);
	assert_string_equal(json_string_value(json_object_get(json_object_get(u4, "status"), "phase")),
			    "Failed");
	json_decref(c);
	json_decref(u);
	json_decref(u2);
	json_decref(st);
	json_decref(u3);
	json_decref(u4);
}

static void test_apply_created_flag(void **state)
{
	struct store_fx *f = *state;
	json_t *a, *b;
	int created = -1;

	assert_int_equal(write_op(f->s, STORE_OP_APPLY, "Team", "ns", "t1", "{\"spec\":{}}", 0, &a,
				  &created, NULL), 0);
	assert_int_equal(created, 1);
	assert_int_equal(meta_gen(a), 1);
	assert_int_equal(write_op(f->s, STORE_OP_APPLY, "Team", "ns", "t1", "{\"spec\":{}}", 0, &b,
				  &created, NULL), 0);
	assert_int_equal(created, 0);
	assert_int_equal(meta_gen(b), 1);
	assert_true(meta_rv(b) > meta_rv(a));
	json_decref(a);
	json_decref(b);
}

static void test_conflicts(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *c, *u;
	int64_t rv;

	must_write(f->s, STORE_OP_CREATE, "Repository", "ns", "web", "{\"spec\":{}}", &c);
	rv = meta_rv(c);

	assert_int_equal(write_op(f->s, STORE_OP_CREATE, "Repository", "ns", "web", "{\"spec\":{}}",
				  0, NULL, NULL, &e), KE_CONFLICT);
	assert_string_equal(e.code, "CONFLICT");
	assert_non_null(strstr(e.message, "already exists"));
	assert_string_equal(e.resource, "Repository/ns/web");
	kerr_clear(&e);

	/* current version accepted, then the old one is stale */
	assert_int_equal(write_op(f->s, STORE_OP_UPDATE, "Repository", "ns", "web",
				  "{\"spec\":{\"x\":1}}", rv, &u, NULL, NULL), 0);
	assert_int_equal(write_op(f->s, STORE_OP_UPDATE, "Repository", "ns", "web",
				  "{\"spec\":{\"x\":2}}", rv, NULL, NULL, &e), KE_CONFLICT);
	assert_string_equal(e.code, "CONFLICT");
	assert_non_null(strstr(e.message, "has been modified"));
	kerr_clear(&e);
	assert_int_equal(write_op(f->s, STORE_OP_STATUS, "Repository", "ns", "web", "{}", rv, NULL,
				  NULL, &e), KE_CONFLICT);
	kerr_clear(&e);
	assert_int_equal(write_op(f->s, STORE_OP_DELETE, "Repository", "ns", "web", NULL, rv, NULL,
				  NULL, &e), KE_CONFLICT);
	kerr_clear(&e);
	assert_int_equal(write_op(f->s, STORE_OP_APPLY, "Repository", "ns", "web", "{\"spec\":{}}",
				  rv, NULL, NULL, &e), KE_CONFLICT);
	kerr_clear(&e);

	/* a version for an object that does not exist cannot match */
	assert_int_equal(write_op(f->s, STORE_OP_APPLY, "Repository", "ns", "nope", "{\"spec\":{}}",
				  5, NULL, NULL, &e), KE_CONFLICT);
	kerr_clear(&e);
	assert_int_equal(write_op(f->s, STORE_OP_CREATE, "Repository", "ns", "nope", "{\"spec\":{}}",
				  5, NULL, NULL, &e), KE_CONFLICT);
	kerr_clear(&e);

	/* none of the rejected writes changed the stored object */
	{
		json_t *g = get_obj(f->s, "Repository", "ns", "web");

		assert_int_equal(meta_rv(g), meta_rv(u));
		json_decref(g);
	}
	json_decref(c);
	json_decref(u);
}

static void test_not_found(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	char *text = NULL;
	size_t len;

	assert_int_equal(write_op(f->s, STORE_OP_UPDATE, "Repository", "ns", "ghost", "{\"spec\":{}}",
				  0, NULL, NULL, &e), KE_NOTFOUND);
	assert_string_equal(e.code, "NOT_FOUND");
	assert_string_equal(e.resource, "Repository/ns/ghost");
	kerr_clear(&e);
	assert_int_equal(write_op(f->s, STORE_OP_STATUS, "Repository", "ns", "ghost", "{}", 0, NULL,
				  NULL, &e), KE_NOTFOUND);
	kerr_clear(&e);
	assert_int_equal(write_op(f->s, STORE_OP_DELETE, "Repository", "ns", "ghost", NULL, 0, NULL,
				  NULL, &e), KE_NOTFOUND);
	kerr_clear(&e);
	assert_int_equal(store_get(f->s, "Repository", "ns", "ghost", &text, &len, &e), KE_NOTFOUND);
	assert_null(text);
	assert_string_equal(e.resource, "Repository/ns/ghost");
	kerr_clear(&e);
	/* same name in another namespace or kind is a different object */
	must_write(f->s, STORE_OP_CREATE, "Repository", "ns", "ghost", "{}", NULL);
	assert_int_equal(store_get(f->s, "Repository", "other", "ghost", &text, &len, &e), KE_NOTFOUND);
	kerr_clear(&e);
	assert_int_equal(store_get(f->s, "Team", "ns", "ghost", &text, &len, &e), KE_NOTFOUND);
	kerr_clear(&e);
}

static void test_delete(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *c, *d;
	char *text = NULL;
	size_t len;

	must_write(f->s, STORE_OP_CREATE, "Repository", "ns", "web", "{\"spec\":{\"k\":1}}", &c);
	must_write(f->s, STORE_OP_DELETE, "Repository", "ns", "web", NULL, &d);
	assert_non_null(d);
	assert_true(meta_rv(d) > meta_rv(c));
	assert_int_equal(meta_rv(d), store_current_rv(f->s));
	assert_string_equal(meta_str(d, "uid"), meta_str(c, "uid"));
	assert_true(json_equal(json_object_get(d, "spec"), json_object_get(c, "spec")));
	assert_int_equal(store_get(f->s, "Repository", "ns", "web", &text, &len, &e), KE_NOTFOUND);
	kerr_clear(&e);
	/* re-creating gives a new identity */
	json_decref(d);
	must_write(f->s, STORE_OP_CREATE, "Repository", "ns", "web", "{}", &d);
	assert_string_not_equal(meta_str(d, "uid"), meta_str(c, "uid"));
	assert_int_equal(meta_gen(d), 1);
	json_decref(c);
	json_decref(d);
}

static size_t list_count(struct store *s, const char *kind, const char *ns, const char *sel)
{
	struct store_list_query q = { kind, ns, sel, 0, NULL };
	struct store_list_result r;
	struct kerr e = KERR_INIT;
	size_t n;

	assert_int_equal(store_list(s, &q, &r, &e), 0);
	n = r.n;
	assert_null(r.cont);
	store_list_result_free(&r);
	return n;
}

static void test_delete_namespace(void **state)
{
	struct store_fx *f = *state;
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	int64_t before;
	char name[16];
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		must_write(f->s, STORE_OP_CREATE, i == 1 ? "Team" : "Repository", "doomed", name, "{}", NULL);
		snprintf(name, sizeof(name), "b%d", i);
		must_write(f->s, STORE_OP_CREATE, "Repository", "kept", name, "{}", NULL);
	}
	before = store_current_rv(f->s);
	op.type = STORE_OP_DELETE_NAMESPACE;
	op.ns = "doomed";
	b.ops = &op;
	b.n = 1;
	b.audit.actor = "tester";
	assert_int_equal(store_write(f->s, &b), 0);
	assert_int_equal(store_current_rv(f->s), before + 3);
	assert_int_equal(list_count(f->s, NULL, "doomed", NULL), 0);
	assert_int_equal(list_count(f->s, NULL, "kept", NULL), 3);
	/* an empty namespace is not an error and takes no version */
	assert_int_equal(store_write(f->s, &b), 0);
	assert_int_equal(store_current_rv(f->s), before + 3);
}

static void list_names(struct store *s, const struct store_list_query *q, char *out, size_t outlen)
{
	struct store_list_result r;
	struct kerr e = KERR_INIT;
	size_t i;

	out[0] = '\0';
	assert_int_equal(store_list(s, q, &r, &e), 0);
	for (i = 0; i < r.n; i++) {
		json_t *o = json_loadb(r.items[i], r.lens[i], 0, NULL);

		assert_non_null(o);
		if (i)
			strncat(out, ",", outlen - strlen(out) - 1);
		strncat(out, json_string_value(json_object_get(o, "kind")), outlen - strlen(out) - 1);
		strncat(out, "/", outlen - strlen(out) - 1);
		strncat(out, meta_str(o, "namespace"), outlen - strlen(out) - 1);
		strncat(out, "/", outlen - strlen(out) - 1);
		strncat(out, meta_str(o, "name"), outlen - strlen(out) - 1);
		json_decref(o);
	}
	store_list_result_free(&r);
}

static void test_list_by_kind_and_namespace(void **state)
{
	struct store_fx *f = *state;
	struct store_list_query q = { 0 };
	struct store_list_result r;
	struct kerr e = KERR_INIT;
	char got[512];

	must_write(f->s, STORE_OP_CREATE, "Team", "n2", "t", "{}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Repository", "n2", "b", "{}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Repository", "n1", "z", "{}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Repository", "n1", "a", "{}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Agent", "n1", "m", "{}", NULL);

	q.kind = "Repository";
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "Repository/n1/a,Repository/n1/z,Repository/n2/b");
	q.kind = NULL;
	q.ns = "n1";
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "Agent/n1/m,Repository/n1/a,Repository/n1/z");
	q.ns = NULL;
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "Agent/n1/m,Repository/n1/a,Repository/n1/z,Repository/n2/b,Team/n2/t");
	q.kind = "Repository";
	q.ns = "n2";
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "Repository/n2/b");
	q.kind = "Nothing";
	q.ns = NULL;
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "");

	q.kind = NULL;
	assert_int_equal(store_list(f->s, &q, &r, &e), 0);
	assert_int_equal(r.rv, store_current_rv(f->s));
	store_list_result_free(&r);
}

/* Pages through every object of a query, checking strict ordering across pages. */
static size_t page_all(struct store *s, const char *kind, const char *sel, size_t limit,
		       size_t *pages, int64_t *first_rv, int between_write)
{
	struct store_list_query q = { kind, NULL, sel, limit, NULL };
	struct store_list_result r;
	struct kerr e = KERR_INIT;
	char prev[256] = "", *cont = NULL;
	size_t total = 0, i;

	*pages = 0;
	for (;;) {
		q.cont = cont;
		assert_int_equal(store_list(s, &q, &r, &e), 0);
		(*pages)++;
		if (*pages == 1)
			*first_rv = r.rv;
		else
			assert_int_equal(r.rv, *first_rv);
		assert_true(r.n <= limit);
		for (i = 0; i < r.n; i++) {
			json_t *o = json_loadb(r.items[i], r.lens[i], 0, NULL);
			char key[256];

			snprintf(key, sizeof(key), "%s/%s/%s", json_string_value(json_object_get(o, "kind")),
				 meta_str(o, "namespace"), meta_str(o, "name"));
			assert_true(strcmp(prev, key) < 0);
			snprintf(prev, sizeof(prev), "%s", key);
			json_decref(o);
		}
		total += r.n;
		free(cont);
		cont = r.cont ? strdup(r.cont) : NULL;
		if (r.cont)
			assert_int_equal(r.n, limit);
		store_list_result_free(&r);
		if (!cont)
			break;
		if (between_write) {
			/* sorts after everything: must show up on a later page */
			must_write(s, STORE_OP_CREATE, kind, "zz", "late", "{}", NULL);
			between_write = 0;
		}
	}
	return total;
}

static void test_paging(void **state)
{
	struct store_fx *f = *state;
	size_t pages;
	int64_t rv;
	char name[16], ns[16];
	int i;

	/* insertion order differs from list order */
	for (i = 0; i < 25; i++) {
		snprintf(name, sizeof(name), "obj-%02d", (i * 7) % 25);
		snprintf(ns, sizeof(ns), "ns-%d", i % 3);
		must_write(f->s, STORE_OP_CREATE, "Repository", ns, name, "{}", NULL);
	}
	must_write(f->s, STORE_OP_CREATE, "Team", "ns-0", "other-kind", "{}", NULL);
	assert_int_equal(page_all(f->s, "Repository", NULL, 7, &pages, &rv, 0), 25);
	assert_int_equal(pages, 4);
	/* an exact multiple needs no empty trailing page */
	assert_int_equal(page_all(f->s, "Repository", NULL, 5, &pages, &rv, 0), 25);
	assert_int_equal(pages, 5);
	assert_int_equal(page_all(f->s, "Repository", NULL, 1000, &pages, &rv, 0), 25);
	assert_int_equal(pages, 1);
	/* a write between pages neither repeats nor skips objects */
	assert_int_equal(page_all(f->s, "Repository", NULL, 10, &pages, &rv, 1), 26);
	assert_true(rv < store_current_rv(f->s));
	/* every kind at once */
	assert_int_equal(page_all(f->s, NULL, NULL, 4, &pages, &rv, 0), 27);
}

static void test_label_selectors(void **state)
{
	struct store_fx *f = *state;
	struct store_list_query q = { "Repository", NULL, NULL, 0, NULL };
	char got[512];
	size_t pages;
	int64_t rv;

	must_write(f->s, STORE_OP_CREATE, "Repository", "n", "a",
		   "{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"front\"}}}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Repository", "n", "b",
		   "{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"back\"}}}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Repository", "n", "c",
		   "{\"metadata\":{\"labels\":{\"app\":\"db\",\"krate.a5c.ai/org\":\"demo\"}}}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Repository", "n", "d", "{\"metadata\":{}}", NULL);

	q.selector = "app=web";
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "Repository/n/a,Repository/n/b");
	q.selector = "app==db";
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "Repository/n/c");
	q.selector = "app!=web";
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "Repository/n/c,Repository/n/d");
	q.selector = "tier";
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "Repository/n/a,Repository/n/b");
	q.selector = "!tier";
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "Repository/n/c,Repository/n/d");
	q.selector = "app=web, tier=back";
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "Repository/n/b");
	q.selector = "krate.a5c.ai/org=demo";
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "Repository/n/c");
	q.selector = "app=nothing";
	list_names(f->s, &q, got, sizeof(got));
	assert_string_equal(got, "");
	/* paging with a selector skips non-matching rows between pages */
	assert_int_equal(page_all(f->s, "Repository", "app", 1, &pages, &rv, 0), 3);
	assert_int_equal(pages, 3);
	assert_int_equal(page_all(f->s, "Repository", "!tier", 1, &pages, &rv, 0), 2);
	assert_int_equal(pages, 2);
}

static void test_bad_selector_and_token(void **state)
{
	struct store_fx *f = *state;
	static const char *const bad_sel[] = { "a=b,,c", "=x", "app in (a,b)", "!", "a=b=c",
					       "!a=b", "a=b c", "a b" };
	static const char *const bad_tok[] = { "%%%", "bm90LWpzb24", "e30", "!!!!" };
	struct store_list_query q = { "Repository", NULL, NULL, 2, NULL };
	struct store_list_result r;
	struct kerr e = KERR_INIT;
	char *other = NULL, *tok;
	size_t i;

	for (i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "r%zu", i);
		must_write(f->s, STORE_OP_CREATE, "Repository", "n", name, "{}", NULL);
		must_write(f->s, STORE_OP_CREATE, "Team", "n", name, "{}", NULL);
	}
	for (i = 0; i < sizeof(bad_sel) / sizeof(bad_sel[0]); i++) {
		q.selector = bad_sel[i];
		assert_int_equal(store_list(f->s, &q, &r, &e), KE_INVALID);
		assert_string_equal(e.code, "BAD_REQUEST");
		assert_int_equal(r.n, 0);
		kerr_clear(&e);
	}
	q.selector = NULL;
	for (i = 0; i < sizeof(bad_tok) / sizeof(bad_tok[0]); i++) {
		q.cont = bad_tok[i];
		assert_int_equal(store_list(f->s, &q, &r, &e), KE_INVALID);
		assert_string_equal(e.code, "BAD_REQUEST");
		kerr_clear(&e);
	}
	/* a well-formed token whose fields have the wrong types */
	tok = util_b64url_encode("{\"k\":1,\"n\":\"n\",\"m\":\"x\",\"rv\":1}", 31);
	q.cont = tok;
	assert_int_equal(store_list(f->s, &q, &r, &e), KE_INVALID);
	kerr_clear(&e);
	free(tok);
	/* a token from a list of another kind does not continue this one */
	q.kind = "Team";
	q.cont = NULL;
	assert_int_equal(store_list(f->s, &q, &r, &e), 0);
	assert_non_null(r.cont);
	other = strdup(r.cont);
	store_list_result_free(&r);
	q.kind = "Repository";
	q.cont = other;
	assert_int_equal(store_list(f->s, &q, &r, &e), KE_INVALID);
	kerr_clear(&e);
	q.kind = "Team";
	assert_int_equal(store_list(f->s, &q, &r, &e), 0);
	assert_int_equal(r.n, 1);
	store_list_result_free(&r);
	free(other);
}

static void test_counts_and_stats(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *c, *st, *repo;

	must_write(f->s, STORE_OP_CREATE, "Repository", "a", "r1", "{\"status\":{\"phase\":\"Ready\"}}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Repository", "a", "r2", "{\"status\":{\"phase\":\"Ready\"}}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Repository", "a", "r3", "{}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Repository", "b", "r4", "{\"status\":{\"phase\":\"Failed\"}}", NULL);
	must_write(f->s, STORE_OP_CREATE, "Team", "b", "t1", "{}", NULL);
	must_write(f->s, STORE_OP_STATUS, "Repository", "a", "r3", "{\"phase\":\"Pending\"}", NULL);
	must_write(f->s, STORE_OP_STATUS, "Repository", "a", "r3", "{}", NULL);

	assert_int_equal(store_counts(f->s, "a", &c, &e), 0);
	repo = json_object_get(c, "Repository");
	assert_int_equal(json_integer_value(json_object_get(repo, "count")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(repo, "phases"), "Ready")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(repo, "phases"), "Unspecified")), 1);
	assert_null(json_object_get(json_object_get(repo, "phases"), "Pending"));
	assert_null(json_object_get(c, "Team"));
	json_decref(c);

	assert_int_equal(store_counts(f->s, NULL, &c, &e), 0);
	repo = json_object_get(c, "Repository");
	assert_int_equal(json_integer_value(json_object_get(repo, "count")), 4);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(repo, "phases"), "Failed")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "Team"), "count")), 1);
	json_decref(c);

	assert_int_equal(store_stats(f->s, &st, &e), 0);
	assert_int_equal(json_integer_value(json_object_get(st, "objects")), 5);
	assert_int_equal(json_integer_value(json_object_get(st, "events")), 7);
	assert_int_equal(json_integer_value(json_object_get(st, "auditEntries")), 7);
	assert_true(json_integer_value(json_object_get(st, "bytes")) > 0);
	assert_int_equal(json_integer_value(json_object_get(st, "resourceVersion")), store_current_rv(f->s));
	json_decref(st);
	assert_int_equal(store_ping(f->s), 0);
}

static void test_meta(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	char *v = NULL;

	assert_int_equal(store_meta_get(f->s, "demo.seeded", &v, &e), KE_NOTFOUND);
	assert_null(v);
	kerr_clear(&e);
	assert_int_equal(store_meta_set(f->s, "demo.seeded", "1", &e), 0);
	assert_int_equal(store_meta_get(f->s, "demo.seeded", &v, &e), 0);
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(store_meta_set(f->s, "demo.seeded", "yes", &e), 0);
	assert_int_equal(store_meta_get(f->s, "demo.seeded", &v, &e), 0);
	assert_string_equal(v, "yes");
	free(v);
	/* the store's own counters cannot be overwritten from outside */
	assert_int_equal(store_meta_set(f->s, "rv", "1", &e), KE_INVALID);
	kerr_clear(&e);
	assert_int_equal(store_meta_set(f->s, "events.floor", "1", &e), KE_INVALID);
	kerr_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_and_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_keeps_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_created_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_by_kind_and_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_selectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_selector_and_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_and_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
