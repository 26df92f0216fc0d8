#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "store/store.h"
#include "store_fixture.h"

static int setup(void **state)
{
	return store_fx_setup(state, "store-audit", NULL);
}

static int teardown(void **state)
{
	return store_fx_teardown(state);
}

/* One batch with an optional create op and a full audit entry. */
static int audited(struct store *s, const char *name, const char *actor, const char *org,
		   const char *result, const char *cid)
{
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	int rc;

	op.type = STORE_OP_CREATE;
	op.kind = "Repository";
	op.ns = "ns";
	op.name = name;
	op.obj = json_object();
	b.ops = name ? &op : NULL;
	b.n = name ? 1 : 0;
	b.audit.actor = actor;
	b.audit.org = org;
	b.audit.verb = name ? "create" : "delete";
	b.audit.resource = name ? "Repository/ns/x" : "Repository/ns/secret";
	b.audit.result = result;
	b.audit.correlation_id = cid;
	rc = store_write(s, &b);
	json_decref(op.obj);
	json_decref(op.result);
	kerr_clear(&b.err);
	return rc;
}

static const char *sfield(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void sql(const char *path, const char *stmt)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_close(db);
}

static void expect_bad(struct store *s, json_int_t seq)
{
	struct kerr e = KERR_INIT;
	json_t *v;

	assert_int_equal(store_audit_verify(s, &v, &e), 0);
	assert_true(json_is_false(json_object_get(v, "ok")));
	assert_int_equal(json_integer_value(json_object_get(v, "firstBadSeq")), seq);
	assert_true(json_is_string(json_object_get(v, "reason")));
	json_decref(v);
}

static void fill(struct store *s)
{
	assert_int_equal(audited(s, "a", "ana", "demo", NULL, "krate-1"), 0);
	/* the op fails (already exists), so the store writes failed:<CODE> */
	assert_int_equal(audited(s, "a", "bob", "demo", "allowed", "krate-2"), KE_CONFLICT);
	/* audit-only entry for a denied request */
	assert_int_equal(audited(s, NULL, "eve", "other", "denied:FORBIDDEN", "krate-3"), 0);
	assert_int_equal(audited(s, "b", NULL, NULL, "allowed", NULL), 0);
}

static void test_entries_and_results(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	static const char *const results[] = { "allowed", "failed:CONFLICT", "denied:FORBIDDEN", "allowed" };
	json_t *all, *part, *row;
	size_t i;

	fill(f->s);
	assert_int_equal(store_audit_list(f->s, NULL, 0, 0, &all, &e), 0);
	assert_int_equal(json_array_size(all), 4);
	for (i = 0; i < 4; i++) {
		row = json_array_get(all, i);
		assert_int_equal(json_integer_value(json_object_get(row, "seq")), i + 1);
		assert_string_equal(sfield(row, "result"), results[i]);
		assert_int_equal(strlen(sfield(row, "hash")), 64);
		assert_int_equal(strlen(sfield(row, "time")), 20);
		if (i == 0)
			assert_string_equal(sfield(row, "prevHash"),
					    "0000000000000000000000000000000000000000000000000000000000000000");
		else
			assert_string_equal(sfield(row, "prevHash"),
					    sfield(json_array_get(all, i - 1), "hash"));
	}
	row = json_array_get(all, 0);
	assert_string_equal(sfield(row, "actor"), "ana");
	assert_string_equal(sfield(row, "org"), "demo");
	assert_string_equal(sfield(row, "verb"), "create");
	assert_string_equal(sfield(row, "resource"), "Repository/ns/x");
	assert_string_equal(sfield(row, "correlationId"), "krate-1");
	row = json_array_get(all, 3);
	assert_string_equal(sfield(row, "actor"), "anonymous");
	assert_true(json_is_null(json_object_get(row, "org")));
	assert_true(json_is_null(json_object_get(row, "correlationId")));
	/* identical entries still hash differently: the chain and seq are covered */
	assert_string_not_equal(sfield(json_array_get(all, 0), "hash"), sfield(json_array_get(all, 3), "hash"));

	assert_int_equal(store_audit_list(f->s, "demo", 0, 0, &part, &e), 0);
	assert_int_equal(json_array_size(part), 2);
	json_decref(part);
	assert_int_equal(store_audit_list(f->s, NULL, 1, 2, &part, &e), 0);
	assert_int_equal(json_array_size(part), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(part, 0), "seq")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(part, 1), "seq")), 3);
	json_decref(part);
	json_decref(all);
}

static void test_verify_ok(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	json_t *v;

	assert_int_equal(store_audit_verify(f->s, &v, &e), 0);
	assert_true(json_is_true(json_object_get(v, "ok")));
	assert_int_equal(json_integer_value(json_object_get(v, "entries")), 0);
	json_decref(v);
	fill(f->s);
	assert_int_equal(store_audit_verify(f->s, &v, &e), 0);
	assert_true(json_is_true(json_object_get(v, "ok")));
	assert_int_equal(json_integer_value(json_object_get(v, "entries")), 4);
	assert_true(json_is_null(json_object_get(v, "firstBadSeq")));
	assert_true(json_is_null(json_object_get(v, "reason")));
	json_decref(v);
}

static void test_tampered_field(void **state)
{
	struct store_fx *f = *state;

	fill(f->s);
	sql(f->path, "UPDATE audit SET actor = 'mallory' WHERE seq = 2");
	expect_bad(f->s, 2);
}

static void test_broken_link(void **state)
{
	struct store_fx *f = *state;

	fill(f->s);
	/* the row's own fields are intact, but it no longer follows entry 2 */
	sql(f->path, "UPDATE audit SET prev_hash = (SELECT prev_hash FROM audit WHERE seq = 2) WHERE seq = 3");
	expect_bad(f->s, 3);
}

static void test_deleted_rows(void **state)
{
	struct store_fx *f = *state;

	fill(f->s);
	sql(f->path, "DELETE FROM audit WHERE seq = 3");
	expect_bad(f->s, 3);
}

static void test_deleted_tail(void **state)
{
	struct store_fx *f = *state;

	fill(f->s);
	sql(f->path, "DELETE FROM audit WHERE seq = 4");
	expect_bad(f->s, 4);
}

static void test_deleted_head(void **state)
{
	struct store_fx *f = *state;

	fill(f->s);
	sql(f->path, "DELETE FROM audit WHERE seq = 1");
	expect_bad(f->s, 1);
}

static int put_token(struct store *s, const char *hash, const char *id, const char *user,
		     const char *org, int role, struct kerr *e)
{
	struct token_info t = { (char *)id, (char *)user, (char *)org, role, 1700000000 };
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	int rc;

	op.type = STORE_OP_TOKEN;
	op.token_hash = hash;
	op.token = &t;
	b.ops = &op;
	b.n = 1;
	b.audit.actor = "admin";
	b.audit.verb = "token.create";
	b.audit.resource = id;
	rc = store_write(s, &b);
	*e = b.err;
	return rc;
}

static void test_tokens(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	struct token_info t;
	json_t *log;
	const char *h1 = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *h2 = "2222222222222222222222222222222222222222222222222222222222222222";

	assert_int_equal(put_token(f->s, h1, "tok-1a2b3c4d", "ana", "demo", 3, &e), 0);
	assert_int_equal(put_token(f->s, h2, "tok-99", "bob", NULL, 1, &e), 0);
	assert_int_equal(store_token_get(f->s, h1, &t, &e), 0);
	assert_string_equal(t.id, "tok-1a2b3c4d");
	assert_string_equal(t.user, "ana");
	assert_string_equal(t.org, "demo");
	assert_int_equal(t.role, 3);
	assert_int_equal(t.created, 1700000000);
	token_info_free(&t);
	assert_int_equal(store_token_get(f->s, h2, &t, &e), 0);
	assert_string_equal(t.user, "bob");
	assert_null(t.org);
	assert_int_equal(t.role, 1);
	token_info_free(&t);

	assert_int_equal(put_token(f->s, h1, "tok-other", "eve", NULL, 3, &e), KE_CONFLICT);
	assert_string_equal(e.code, "CONFLICT");
	kerr_clear(&e);
	assert_int_equal(store_token_get(f->s, h1, &t, &e), 0);
	assert_string_equal(t.user, "ana");
	token_info_free(&t);
	assert_int_equal(store_token_get(f->s, "nope", &t, &e), KE_NOTFOUND);
	assert_null(t.id);
	kerr_clear(&e);

	/* token writes are audited like any other */
	assert_int_equal(store_audit_list(f->s, NULL, 0, 0, &log, &e), 0);
	assert_int_equal(json_array_size(log), 3);
	assert_string_equal(sfield(json_array_get(log, 0), "verb"), "token.create");
	assert_string_equal(sfield(json_array_get(log, 2), "result"), "failed:CONFLICT");
	json_decref(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_entries_and_results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
