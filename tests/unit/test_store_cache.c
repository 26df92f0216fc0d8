#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "store/store.h"
#include "store_fixture.h"
/* only for the cache's byte and entry counts (the cap test) */
#include "store/sqlite_internal.h"

static void open_store(struct store_fx *f, size_t cache_bytes)
{
	struct store_options o = { .cache_bytes = cache_bytes };

	store_fx_open(f, &o, NULL);
	assert_non_null(f->s);
}

static int setup(void **state)
{
	*state = store_fx_new("store-cache");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	return store_fx_teardown(state);
}

/* must_write that returns the compact text of op.result (malloc'd). */
static char *must_write_text(struct store *s, enum store_op_type type, const char *kind,
			     const char *ns, const char *name, const char *json)
{
	json_t *result = NULL;
	char *text;

	must_write(s, type, kind, ns, name, json, &result);
	text = result ? json_dumps(result, JSON_COMPACT) : NULL;
	json_decref(result);
	assert_non_null(text);
	return text;
}

static char *get_text(struct store *s, const char *kind, const char *ns, const char *name)
{
	struct kerr e = KERR_INIT;
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(store_get(s, kind, ns, name, &text, &len, &e), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static void assert_get(struct store *s, const char *kind, const char *ns, const char *name,
		       const char *want)
{
	char *got = get_text(s, kind, ns, name);

	assert_string_equal(got, want);
	free(got);
}

static void assert_missing(struct store *s, const char *kind, const char *ns, const char *name)
{
	struct kerr e = KERR_INIT;
	char *text = NULL;

	assert_int_equal(store_get(s, kind, ns, name, &text, NULL, &e), KE_NOTFOUND);
	assert_null(text);
	kerr_clear(&e);
}

/* Rewrites the stored body behind the store's back (another connection), so
 * a get that still returns the old text was served from the cache. */
static void tamper(const char *path, const char *ns, const char *name)
{
	sqlite3 *db = NULL;
	char *sql;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
	sql = sqlite3_mprintf("UPDATE objects SET body = '{\"tampered\":true}' "
			      "WHERE ns = %Q AND name = %Q", ns, name);
	assert_non_null(sql);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_free(sql);
	sqlite3_close(db);
}

static int64_t rv_of_text(const char *text)
{
	json_t *o = json_loads(text, 0, NULL);
	const char *rv;
	int64_t n;

	if (!o)
		return -1;
	rv = json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
	n = rv ? strtoll(rv, NULL, 10) : -1;
	json_decref(o);
	return n;
}

static struct sq_cache_stats stats(struct store *s)
{
	struct sq_cache_stats st;

	sq_cache_stats(s->cache, &st);
	return st;
}

static void test_hit_after_write(void **state)
{
	struct store_fx *f = *state;
	char *w;

	open_store(f, 0);
	w = must_write_text(f->s, STORE_OP_CREATE, "Repository", "org", "web",
			    "{\"apiVersion\":\"v1\",\"spec\":{\"visibility\":\"private\"}}");
	assert_get(f->s, "Repository", "org", "web", w);
	tamper(f->path, "org", "web");
	assert_get(f->s, "Repository", "org", "web", w);
	assert_int_equal(stats(f->s).entries, 1);
	free(w);
}

static void test_miss_fills(void **state)
{
	struct store_fx *f = *state;
	char *w;

	open_store(f, 0);
	w = must_write_text(f->s, STORE_OP_CREATE, "Repository", "org", "web", "{\"spec\":{\"a\":1}}");
	store_close(f->s);
	f->s = NULL;
	open_store(f, 0);
	assert_int_equal(stats(f->s).entries, 0);
	assert_get(f->s, "Repository", "org", "web", w);
	assert_int_equal(stats(f->s).entries, 1);
	tamper(f->path, "org", "web");
	assert_get(f->s, "Repository", "org", "web", w);
	/* absent objects are not cached: a later create is seen at once */
	assert_missing(f->s, "Repository", "org", "later");
	free(w);
	w = must_write_text(f->s, STORE_OP_CREATE, "Repository", "org", "later", "{}");
	assert_get(f->s, "Repository", "org", "later", w);
	free(w);
}

struct hook_check {
	struct store *s;
	int seen, wrong;
};

/* What store_get returns inside the hook (writer thread, after the commit). */
static void hook_get(const struct store_event *ev, void *arg)
{
	struct hook_check *h = arg;
	struct kerr e = KERR_INIT;
	char *text = NULL;
	int rc = store_get(h->s, ev->kind, ev->ns, ev->name, &text, NULL, &e);

	h->seen++;
	if (!strcmp(ev->type, "DELETED")) {
		if (rc != KE_NOTFOUND)
			h->wrong++;
	} else if (rc || strcmp(text, ev->json)) {
		h->wrong++;
	}
	free(text);
	kerr_clear(&e);
}

static void test_update_visible_at_once(void **state)
{
	struct store_fx *f = *state;
	struct hook_check h = { 0 };
	char *v1, *v2, *v3, *v4;

	open_store(f, 0);
	h.s = f->s;
	store_set_event_hook(f->s, hook_get, &h);
	v1 = must_write_text(f->s, STORE_OP_CREATE, "Repository", "org", "web", "{\"spec\":{\"a\":1}}");
	assert_get(f->s, "Repository", "org", "web", v1);
	v2 = must_write_text(f->s, STORE_OP_UPDATE, "Repository", "org", "web", "{\"spec\":{\"a\":2}}");
	assert_get(f->s, "Repository", "org", "web", v2);
	v3 = must_write_text(f->s, STORE_OP_STATUS, "Repository", "org", "web", "{\"phase\":\"Ready\"}");
	assert_get(f->s, "Repository", "org", "web", v3);
	v4 = must_write_text(f->s, STORE_OP_APPLY, "Repository", "org", "web", "{\"spec\":{\"a\":3}}");
	assert_get(f->s, "Repository", "org", "web", v4);
	assert_true(rv_of_text(v4) > rv_of_text(v3));
	assert_true(rv_of_text(v3) > rv_of_text(v2));
	store_set_event_hook(f->s, NULL, NULL);
	assert_int_equal(h.seen, 4);
	assert_int_equal(h.wrong, 0);
	free(v1);
	free(v2);
	free(v3);
	free(v4);
}

static void test_delete_not_found(void **state)
{
	struct store_fx *f = *state;
	char *v1, *v2;

	open_store(f, 0);
	v1 = must_write_text(f->s, STORE_OP_CREATE, "Repository", "org", "web", "{\"spec\":{\"a\":1}}");
	assert_get(f->s, "Repository", "org", "web", v1);
	assert_int_equal(write_op(f->s, STORE_OP_DELETE, "Repository", "org", "web", NULL,
				  0, NULL, NULL, NULL), 0);
	assert_missing(f->s, "Repository", "org", "web");
	assert_missing(f->s, "Repository", "org", "web");
	/* a new object under the same name is a different object */
	v2 = must_write_text(f->s, STORE_OP_CREATE, "Repository", "org", "web", "{\"spec\":{\"a\":1}}");
	assert_string_not_equal(v1, v2);
	assert_get(f->s, "Repository", "org", "web", v2);
	free(v1);
	free(v2);
}

static void test_delete_namespace(void **state)
{
	struct store_fx *f = *state;
	char *a1, *a2, *a3, *b1, *c1;

	open_store(f, 0);
	a1 = must_write_text(f->s, STORE_OP_CREATE, "Repository", "a", "x", "{}");
	a2 = must_write_text(f->s, STORE_OP_CREATE, "Repository", "a", "y", "{}");
	a3 = must_write_text(f->s, STORE_OP_CREATE, "Team", "a", "x", "{}");
	b1 = must_write_text(f->s, STORE_OP_CREATE, "Repository", "b", "x", "{}");
	c1 = must_write_text(f->s, STORE_OP_CREATE, "Org", "", "a", "{}");
	assert_get(f->s, "Repository", "a", "x", a1);
	assert_get(f->s, "Repository", "a", "y", a2);
	assert_get(f->s, "Team", "a", "x", a3);
	assert_int_equal(write_op(f->s, STORE_OP_DELETE_NAMESPACE, NULL, "a", NULL, NULL,
				  0, NULL, NULL, NULL), 0);
	assert_missing(f->s, "Repository", "a", "x");
	assert_missing(f->s, "Repository", "a", "y");
	assert_missing(f->s, "Team", "a", "x");
	assert_get(f->s, "Repository", "b", "x", b1);
	assert_get(f->s, "Org", NULL, "a", c1);
	free(a1);
	free(a2);
	free(a3);
	free(b1);
	free(c1);
}

static void test_failed_batch_keeps_value(void **state)
{
	struct store_fx *f = *state;
	struct store_op ops[2] = { { 0 } };
	struct store_batch b = { 0 };
	char *x, *y;

	open_store(f, 0);
	x = must_write_text(f->s, STORE_OP_CREATE, "Repository", "org", "x", "{\"spec\":{\"a\":1}}");
	y = must_write_text(f->s, STORE_OP_CREATE, "Repository", "org", "y", "{\"spec\":{\"a\":1}}");
	assert_get(f->s, "Repository", "org", "x", x);
	assert_get(f->s, "Repository", "org", "y", y);

	/* y's update succeeds inside the batch, x's fails: neither may show */
	ops[0].type = STORE_OP_UPDATE;
	ops[0].kind = "Repository";
	ops[0].ns = "org";
	ops[0].name = "y";
	ops[0].obj = json_pack("{s:{s:i}}", "spec", "a", 2);
	ops[1] = ops[0];
	ops[1].name = "x";
	ops[1].obj = json_pack("{s:{s:i}}", "spec", "a", 2);
	ops[1].expect_rv = rv_of_text(x) + 100;
	b.ops = ops;
	b.n = 2;
	assert_int_equal(store_write(f->s, &b), KE_CONFLICT);
	kerr_clear(&b.err);
	assert_get(f->s, "Repository", "org", "x", x);
	assert_get(f->s, "Repository", "org", "y", y);

	assert_int_equal(write_op(f->s, STORE_OP_CREATE, "Repository", "org", "x", "{}", 0, NULL, NULL, NULL),
			 KE_CONFLICT);
	assert_get(f->s, "Repository", "org", "x", x);
	json_decref(ops[0].obj);
	json_decref(ops[1].obj);
	free(x);
	free(y);
}

struct nested {
	struct store *s;
	int done;
};

/* Runs inside store_events_since's read snapshot: deletes the object, then
 * reads it on the same (old) snapshot. */
static int delete_then_get(const struct store_event *ev, void *arg)
{
	struct nested *n = arg;
	struct kerr e = KERR_INIT;
	char *text = NULL;

	(void)ev;
	if (n->done++)
		return 1;
	if (write_op(n->s, STORE_OP_DELETE, "Repository", "org", "web", NULL, 0, NULL, NULL, NULL) == 0)
		store_get(n->s, "Repository", "org", "web", &text, NULL, &e);
	free(text);
	kerr_clear(&e);
	return 1;
}

static void test_old_snapshot_not_cached(void **state)
{
	struct store_fx *f = *state;
	struct nested n = { 0 };
	struct kerr e = KERR_INIT;
	char *w;

	open_store(f, 0);
	w = must_write_text(f->s, STORE_OP_CREATE, "Repository", "org", "web", "{}");
	n.s = f->s;
	assert_int_equal(store_events_since(f->s, 0, delete_then_get, &n, &e), 0);
	assert_int_equal(n.done, 1);
	assert_missing(f->s, "Repository", "org", "web");
	free(w);
}

static void cache_has(struct sq_cache *c, const char *name, const char *want)
{
	char *text = NULL;
	size_t len = 0;
	int rc = sq_cache_get(c, "Repository", "org", name, &text, &len);

	if (!want) {
		assert_int_equal(rc, KE_NOTFOUND);
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(text, want);
	assert_int_equal(len, strlen(want));
	free(text);
}

static void fill(struct sq_cache *c, uint64_t epoch, const char *name, const char *json)
{
	sq_cache_fill(c, epoch, "Repository", "org", name, json, strlen(json));
}

/* The writer's side of one committed change, as run_group applies it. */
static void commit_one(struct sq_cache *c, const char *type, const char *name, const char *json)
{
	char kind[] = "Repository", ns[] = "org", nm[32], body[64];
	struct sq_event ev = { 1, type, kind, ns, nm, body, strlen(json) };
	struct sq_events evs = { &ev, 1, 1 };

	snprintf(nm, sizeof(nm), "%s", name);
	snprintf(body, sizeof(body), "%s", json);
	sq_cache_commit_begin(c, &evs);
	sq_cache_commit_end(c, &evs);
}

/* Reader fills against the writer's epoch, step by step. */
static void test_fill_epoch_protocol(void **state)
{
	struct sq_cache *c = NULL;
	uint64_t e;

	(void)state;
	assert_int_equal(sq_cache_new(0, &c), 0);
	/* a quiet fill sticks */
	fill(c, sq_cache_epoch(c), "a", "{\"v\":1}");
	cache_has(c, "a", "{\"v\":1}");

	/* read before a commit that deleted the object: no resurrection */
	e = sq_cache_epoch(c);
	commit_one(c, "DELETED", "a", "{\"v\":1}");
	cache_has(c, "a", NULL);
	fill(c, e, "a", "{\"v\":1}");
	cache_has(c, "a", NULL);

	/* read before a commit that is in flight (COMMIT done, changes not yet
	 * applied): refused, since another reader may already have the new row */
	e = sq_cache_epoch(c);
	sq_cache_commit_begin(c, NULL);
	fill(c, e, "b", "{\"v\":1}");
	cache_has(c, "b", NULL);
	fill(c, sq_cache_epoch(c), "b", "{\"v\":1}");
	cache_has(c, "b", NULL);
	sq_cache_commit_end(c, NULL);

	/* an applied newer version is never replaced by an older read */
	e = sq_cache_epoch(c);
	commit_one(c, "MODIFIED", "b", "{\"v\":2}");
	fill(c, e, "b", "{\"v\":1}");
	cache_has(c, "b", "{\"v\":2}");
	fill(c, sq_cache_epoch(c), "b", "{\"v\":1}");
	cache_has(c, "b", "{\"v\":2}");

	/* a failed commit changes nothing but still voids reads that straddled it */
	e = sq_cache_epoch(c);
	sq_cache_commit_begin(c, NULL);
	sq_cache_commit_end(c, NULL);
	cache_has(c, "b", "{\"v\":2}");
	fill(c, e, "c", "{\"v\":1}");
	cache_has(c, "c", NULL);
	sq_cache_free(c);
}

/* Between COMMIT and the apply, SQLite already has the new row: the cache must
 * not hand out the old one (a reader that just read the new row would go back). */
static void test_inflight_commit_hides_old_value(void **state)
{
	struct sq_cache *c = NULL;
	char kind[] = "Repository", ns[] = "org", nm[] = "d", body[] = "{\"v\":2}";
	struct sq_event ev = { 2, "MODIFIED", kind, ns, nm, body, strlen(body) };
	struct sq_events evs = { &ev, 1, 1 };

	(void)state;
	assert_int_equal(sq_cache_new(0, &c), 0);
	fill(c, sq_cache_epoch(c), "d", "{\"v\":1}");
	cache_has(c, "d", "{\"v\":1}");
	sq_cache_commit_begin(c, &evs);
	cache_has(c, "d", NULL);
	fill(c, sq_cache_epoch(c), "d", "{\"v\":1}");
	cache_has(c, "d", NULL);
	sq_cache_commit_end(c, &evs);
	cache_has(c, "d", "{\"v\":2}");
	sq_cache_free(c);
}

#define CK_KEYS 64
#define CK_READERS 3
#define CK_WRITES 600

struct conc {
	struct store *s;
	int nkeys;
	atomic_int stop;
	atomic_int backwards, errors, reads;
	char names[CK_KEYS][16];
	char *last[CK_KEYS];             /* each key's last written text, NULL once deleted */
};

static void *reader_main(void *arg)
{
	struct conc *c = arg;
	int64_t seen[CK_KEYS] = { 0 };
	unsigned seed = (unsigned)(uintptr_t)&seen;
	int i, rc;

	while (!atomic_load(&c->stop)) {
		struct kerr e = KERR_INIT;
		char *text = NULL;
		int64_t rv;

		i = (int)(rand_r(&seed) % (unsigned)c->nkeys);
		rc = store_get(c->s, "Repository", "org", c->names[i], &text, NULL, &e);
		kerr_clear(&e);
		atomic_fetch_add(&c->reads, 1);
		if (rc == KE_NOTFOUND)
			continue;
		if (rc) {
			atomic_fetch_add(&c->errors, 1);
			continue;
		}
		rv = rv_of_text(text);
		free(text);
		if (rv < 0)
			atomic_fetch_add(&c->errors, 1);
		else if (rv < seen[i])
			atomic_fetch_add(&c->backwards, 1);
		else
			seen[i] = rv;
	}
	return NULL;
}

/* Batches of two ops on different keys, so groups apply several changes;
 * one op in eight deletes an existing object (the next apply recreates it). */
static void *writer_main(void *arg)
{
	struct conc *c = arg;
	unsigned seed = 7, n = (unsigned)c->nkeys;
	int w;

	for (w = 0; w < CK_WRITES; w++) {
		struct store_op ops[2] = { { 0 } };
		struct store_batch b = { 0 };
		int k[2], j;

		k[0] = (int)(rand_r(&seed) % n);
		k[1] = (int)((unsigned)k[0] + 1 + rand_r(&seed) % (n - 1)) % c->nkeys;
		for (j = 0; j < 2; j++) {
			ops[j].kind = "Repository";
			ops[j].ns = "org";
			ops[j].name = c->names[k[j]];
			if (c->last[k[j]] && rand_r(&seed) % 8 == 0) {
				ops[j].type = STORE_OP_DELETE;
			} else {
				ops[j].type = STORE_OP_APPLY;
				ops[j].obj = json_pack("{s:{s:i}}", "spec", "n", w);
			}
		}
		b.ops = ops;
		b.n = 2;
		if (store_write(c->s, &b)) {
			atomic_fetch_add(&c->errors, 1);
		} else {
			for (j = 0; j < 2; j++) {
				free(c->last[k[j]]);
				c->last[k[j]] = ops[j].type == STORE_OP_DELETE ? NULL
						: json_dumps(ops[j].result, JSON_COMPACT);
			}
		}
		for (j = 0; j < 2; j++) {
			json_decref(ops[j].obj);
			json_decref(ops[j].result);
		}
		kerr_clear(&b.err);
	}
	return NULL;
}

static void run_concurrency(struct store_fx *f, int nkeys, size_t cap)
{
	struct conc *c = calloc(1, sizeof(*c));
	pthread_t rd[CK_READERS], wr;
	int i;

	assert_non_null(c);
	open_store(f, cap);
	c->s = f->s;
	c->nkeys = nkeys;
	for (i = 0; i < nkeys; i++) {
		snprintf(c->names[i], sizeof(c->names[i]), "repo-%d", i);
		c->last[i] = must_write_text(f->s, STORE_OP_CREATE, "Repository", "org", c->names[i],
					     "{\"spec\":{\"n\":-1}}");
	}
	for (i = 0; i < CK_READERS; i++)
		assert_int_equal(pthread_create(&rd[i], NULL, reader_main, c), 0);
	assert_int_equal(pthread_create(&wr, NULL, writer_main, c), 0);
	pthread_join(wr, NULL);
	atomic_store(&c->stop, 1);
	for (i = 0; i < CK_READERS; i++)
		pthread_join(rd[i], NULL);
	assert_int_equal(atomic_load(&c->errors), 0);
	assert_int_equal(atomic_load(&c->backwards), 0);
	assert_true(atomic_load(&c->reads) > 0);
	for (i = 0; i < nkeys; i++) {
		if (c->last[i])
			assert_get(f->s, "Repository", "org", c->names[i], c->last[i]);
		else
			assert_missing(f->s, "Repository", "org", c->names[i]);
		free(c->last[i]);
	}
	assert_true(stats(f->s).bytes <= stats(f->s).cap);
	free(c);
}

static void test_concurrent_readers(void **state)
{
	run_concurrency(*state, CK_KEYS, 0);
}

/* Few hot keys and room for about a third of them: most reads miss, so fills,
 * evictions and the writer's changes race on the same keys. */
static void test_concurrent_readers_small_cache(void **state)
{
	run_concurrency(*state, 12, 1300);
}

static void test_byte_cap(void **state)
{
	struct store_fx *f = *state;
	enum { N = 200, CAP = 4096 };
	char *w[N], name[32], *big, *json, *bigw;
	struct sq_cache_stats st;
	json_t *obj;
	int i, round;

	open_store(f, CAP);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "repo-%03d", i);
		w[i] = must_write_text(f->s, STORE_OP_CREATE, "Repository", "org", name,
				       "{\"spec\":{\"description\":\"a repository with a description long "
				       "enough that a few dozen of them fill the cache\"}}");
	}
	/* twice: the first pass fills from SQLite, the second mixes hits and misses */
	for (round = 0; round < 2; round++) {
		for (i = 0; i < N; i++) {
			snprintf(name, sizeof(name), "repo-%03d", i);
			assert_get(f->s, "Repository", "org", name, w[i]);
		}
		st = stats(f->s);
		assert_int_equal(st.cap, CAP);
		assert_true(st.bytes <= CAP);
		assert_true(st.entries > 0);
		assert_true(st.entries < N);
	}
	/* larger than the whole cap: never cached, still served */
	big = calloc(1, 3 * CAP);
	assert_non_null(big);
	memset(big, 'x', 3 * CAP - 1);
	obj = json_pack("{s:{s:s}}", "spec", "blob", big);
	json = json_dumps(obj, JSON_COMPACT);
	assert_non_null(json);
	bigw = must_write_text(f->s, STORE_OP_CREATE, "Repository", "org", "big", json);
	assert_get(f->s, "Repository", "org", "big", bigw);
	assert_get(f->s, "Repository", "org", "big", bigw);
	assert_true(stats(f->s).bytes <= CAP);
	for (i = 0; i < N; i++)
		free(w[i]);
	json_decref(obj);
	free(json);
	free(big);
	free(bigw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hit_after_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_miss_fills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_visible_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_batch_keeps_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_snapshot_not_cached, setup, teardown),
		cmocka_unit_test(test_fill_epoch_protocol),
		cmocka_unit_test(test_inflight_commit_hides_old_value),
		cmocka_unit_test_setup_teardown(test_concurrent_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_readers_small_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_cap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
