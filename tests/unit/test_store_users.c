/* Console users and sessions in the store: insert and read back, duplicate
 * names, session expiry and deletion, the writer's sweep of expired sessions,
 * and the migration of a version-1 data directory. */
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
#include "core/util.h"
#include "store/store.h"
#include "store_fixture.h"

/* Quiet: one test expects the open to fail. */
static int open_store(struct store_fx *f)
{
	struct kerr e = KERR_INIT;
	int rc = store_fx_open(f, NULL, &e);

	kerr_clear(&e);
	return rc;
}

static int setup(void **state)
{
	return store_fx_setup(state, "store-users", NULL);
}

static int teardown(void **state)
{
	return store_fx_teardown(state);
}

/* Runs one op in its own batch; returns the batch's result. */
static int run_op(struct store *s, struct store_op *op, const char *verb)
{
	struct store_batch b = { 0 };
	int rc;

	b.ops = op;
	b.n = 1;
	b.audit.actor = "tester";
	b.audit.verb = verb;
	b.audit.resource = "User or Session";
	b.audit.result = "allowed";
	rc = store_write(s, &b);
	assert_null(op->result);
	kerr_clear(&b.err);
	return rc;
}

static int add_user(struct store *s, const char *name, const char *org, int role)
{
	struct user_info u = { (char *)name, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", (char *)org, role, 0 };
	struct store_op op = { 0 };

	op.type = STORE_OP_USER;
	op.user = &u;
	return run_op(s, &op, "user.create");
}

static int add_session(struct store *s, const char *hash, const char *user, const char *org, int64_t expires)
{
	struct session_info si = { (char *)user, (char *)org, "csrf-token", 2, expires };
	struct store_op op = { 0 };

	op.type = STORE_OP_SESSION;
	op.session = &si;
	op.session_hash = hash;
	return run_op(s, &op, "session.create");
}

static int delete_session(struct store *s, const char *hash)
{
	struct store_op op = { 0 };

	op.type = STORE_OP_SESSION_DELETE;
	op.session_hash = hash;
	return run_op(s, &op, "session.delete");
}

static void test_users(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	struct user_info u;
	json_t *audit;

	assert_int_equal(add_user(f->s, "ana", NULL, 3), 0);
	assert_int_equal(add_user(f->s, "ben", "acme", 1), 0);
	assert_int_equal(store_user_get(f->s, "ana", &u, &e), 0);
	assert_string_equal(u.name, "ana");
	assert_string_equal(u.password_hash, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
	assert_null(u.org);
	assert_int_equal(u.role, 3);
	assert_true(u.created > 0);
	user_info_free(&u);
	assert_int_equal(store_user_get(f->s, "ben", &u, &e), 0);
	assert_string_equal(u.org, "acme");
	assert_int_equal(u.role, 1);
	user_info_free(&u);

	/* a taken name is a conflict and changes nothing */
	assert_int_equal(add_user(f->s, "ana", "acme", 1), KE_CONFLICT);
	assert_int_equal(store_user_get(f->s, "ana", &u, &e), 0);
	assert_null(u.org);
	assert_int_equal(u.role, 3);
	user_info_free(&u);

	assert_int_equal(store_user_get(f->s, "nobody", &u, &e), KE_NOTFOUND);
	assert_null(u.name);
	kerr_clear(&e);

	assert_int_equal(store_audit_list(f->s, NULL, 0, 0, &audit, &e), 0);
	assert_int_equal(json_array_size(audit), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(audit, 2), "result")),
			    "failed:CONFLICT");
	json_decref(audit);
}

static void test_sessions(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	struct session_info si;
	int64_t now = util_now_seconds();
	char h1[65], h2[65];

	util_sha256_hex(h1, "kss_one", 7);
	util_sha256_hex(h2, "kss_two", 7);
	assert_int_equal(add_session(f->s, h1, "ana", NULL, now + 3600), 0);
	assert_int_equal(add_session(f->s, h2, "ben", "acme", now + 60), 0);

	assert_int_equal(store_session_get(f->s, h1, now, &si, &e), 0);
	assert_string_equal(si.user, "ana");
	assert_null(si.org);
	assert_string_equal(si.csrf, "csrf-token");
	assert_int_equal(si.role, 2);
	assert_int_equal(si.expires, now + 3600);
	session_info_free(&si);
	assert_int_equal(store_session_get(f->s, h2, now, &si, &e), 0);
	assert_string_equal(si.org, "acme");
	session_info_free(&si);

	/* at and after its expiry a session is gone */
	assert_int_equal(store_session_get(f->s, h2, now + 60, &si, &e), KE_NOTFOUND);
	assert_null(si.user);
	kerr_clear(&e);
	assert_int_equal(store_session_get(f->s, h1, now + 60, &si, &e), 0);
	session_info_free(&si);

	/* delete; deleting again (or something unknown) is fine */
	assert_int_equal(delete_session(f->s, h1), 0);
	assert_int_equal(store_session_get(f->s, h1, now, &si, &e), KE_NOTFOUND);
	kerr_clear(&e);
	assert_int_equal(delete_session(f->s, h1), 0);
	assert_int_equal(store_session_get(f->s, h2, now, &si, &e), 0);
	session_info_free(&si);

	/* the same cookie hash twice is refused */
	assert_int_equal(add_session(f->s, h2, "eve", NULL, now + 60), KE_CONFLICT);
	assert_int_equal(store_session_get(f->s, "not-a-hash", now, &si, &e), KE_NOTFOUND);
	kerr_clear(&e);
}

static void test_expired_sessions_are_swept(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	struct session_info si;
	int64_t now = util_now_seconds();
	char old[65], live[65];

	util_sha256_hex(old, "kss_old", 7);
	util_sha256_hex(live, "kss_live", 8);
	/* the first commit after opening sweeps: the expired row is deleted, so
	 * even a reader asking "as of" an earlier time no longer finds it */
	assert_int_equal(add_session(f->s, old, "ana", NULL, now - 10), 0);
	assert_int_equal(store_session_get(f->s, old, now - 100, &si, &e), KE_NOTFOUND);
	kerr_clear(&e);
	assert_int_equal(add_session(f->s, live, "ana", NULL, now + 3600), 0);
	assert_int_equal(store_session_get(f->s, live, now, &si, &e), 0);
	session_info_free(&si);
}

static void sql(const char *path, const char *stmt)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int user_version(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_migrates_version_1(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	struct user_info u;
	char *json = NULL;

	op.type = STORE_OP_CREATE;
	op.kind = "Repository";
	op.ns = "krate-org-demo";
	op.name = "web";
	op.obj = json_pack("{s:{s:s}}", "spec", "visibility", "public");
	b.ops = &op;
	b.n = 1;
	b.audit.actor = "tester";
	b.audit.verb = "create";
	b.audit.resource = "Repository/krate-org-demo/web";
	assert_int_equal(store_write(f->s, &b), 0);
	json_decref(op.obj);
	json_decref(op.result);
	kerr_clear(&b.err);
	assert_int_equal(add_user(f->s, "ana", NULL, 3), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(user_version(f->path), 2);

	/* what a data directory written by the previous build looks like */
	sql(f->path, "BEGIN; DROP TABLE users; DROP TABLE sessions; PRAGMA user_version=1; COMMIT;");
	assert_int_equal(user_version(f->path), 1);
	assert_int_equal(open_store(f), 0);
	assert_int_equal(user_version(f->path), 2);
	assert_int_equal(store_get(f->s, "Repository", "krate-org-demo", "web", &json, NULL, &e), 0);
	assert_non_null(strstr(json, "\"public\""));
	free(json);
	assert_int_equal(store_user_get(f->s, "ana", &u, &e), KE_NOTFOUND);
	kerr_clear(&e);
	assert_int_equal(add_user(f->s, "ana", NULL, 3), 0);
	assert_int_equal(store_user_get(f->s, "ana", &u, &e), 0);
	user_info_free(&u);
	store_close(f->s);
	f->s = NULL;

	/* a newer schema than this build knows is refused, not guessed at */
	sql(f->path, "PRAGMA user_version=99");
	assert_int_not_equal(open_store(f), 0);
	assert_null(f->s);
	sql(f->path, "PRAGMA user_version=2");
	assert_int_equal(open_store(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_sessions_are_swept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrates_version_1, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
