#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "store/store.h"
#include "store_fixture.h"

static int reopen(struct store_fx *f, int64_t retention, size_t queue_max)
{
	struct store_options o = { .event_retention = retention, .queue_max = queue_max };

	store_close(f->s);
	f->s = NULL;
	return store_fx_open(f, &o, NULL);
}

static int setup(void **state)
{
	return store_fx_setup(state, "store-events", NULL);
}

static int teardown(void **state)
{
	return store_fx_teardown(state);
}

/* ---- event recorder ---- */

struct rec {
	int64_t rv;
	char type[12];
	char name[32];
	char *json;
	int on_caller;
};

struct recorder {
	pthread_mutex_t mu;
	pthread_t caller;
	struct rec *v;
	size_t n, cap;
};

static void record(const struct store_event *ev, void *arg)
{
	struct recorder *r = arg;

	pthread_mutex_lock(&r->mu);
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
	}
	r->v[r->n].rv = ev->rv;
	snprintf(r->v[r->n].type, sizeof(r->v[r->n].type), "%s", ev->type);
	snprintf(r->v[r->n].name, sizeof(r->v[r->n].name), "%s", ev->name);
	r->v[r->n].json = strndup(ev->json, ev->len);
	r->v[r->n].on_caller = pthread_equal(pthread_self(), r->caller);
	r->n++;
	pthread_mutex_unlock(&r->mu);
}

static void recorder_init(struct recorder *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->caller = pthread_self();
}

static void recorder_free(struct recorder *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i].json);
	free(r->v);
	pthread_mutex_destroy(&r->mu);
}

/* ---- helpers ---- */

static int64_t rv_of(json_t *o)
{
	return strtoll(json_string_value(json_object_get(json_object_get(o, "metadata"),
							 "resourceVersion")), NULL, 10);
}

static int exists(struct store *s, const char *kind, const char *name)
{
	struct kerr e = KERR_INIT;
	char *text = NULL;
	size_t len;
	int rc = store_get(s, kind, "ns", name, &text, &len, &e);

	kerr_clear(&e);
	free(text);
	assert_true(rc == 0 || rc == KE_NOTFOUND);
	return rc == 0;
}

/* Blocks the writer thread inside a done callback so later submissions queue up. */
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int entered, open, finished;
};

static void gate_done(struct store_batch *b, void *arg)
{
	struct gate *g = arg;

	(void)b;
	pthread_mutex_lock(&g->mu);
	g->entered = 1;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static void count_done(struct store_batch *b, void *arg)
{
	struct gate *g = arg;

	(void)b;
	pthread_mutex_lock(&g->mu);
	g->finished++;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void gate_close(struct store *s, struct gate *g, struct store_batch *gb)
{
	memset(gb, 0, sizeof(*gb));
	gb->audit.actor = "gate";
	gb->done = gate_done;
	gb->arg = g;
	assert_int_equal(store_submit(s, gb), 0);
	pthread_mutex_lock(&g->mu);
	while (!g->entered)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static void gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void gate_wait_finished(struct gate *g, int n)
{
	pthread_mutex_lock(&g->mu);
	while (g->finished < n)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

/* ---- tests ---- */

static void test_hook_order_and_types(void **state)
{
	struct store_fx *f = *state;
	struct recorder r;
	static const char *const types[] = { "ADDED", "MODIFIED", "MODIFIED", "ADDED", "DELETED" };
	static const char *const names[] = { "a", "a", "a", "b", "a" };
	json_t *res[5];
	size_t i;

	recorder_init(&r);
	store_set_event_hook(f->s, record, &r);
	assert_int_equal(write_op(f->s, STORE_OP_CREATE, "Repository", "ns", "a", "{\"spec\":{}}",
				  0, &res[0], NULL, NULL), 0);
	assert_int_equal(write_op(f->s, STORE_OP_UPDATE, "Repository", "ns", "a", "{\"spec\":{\"v\":1}}",
				  0, &res[1], NULL, NULL), 0);
	assert_int_equal(write_op(f->s, STORE_OP_STATUS, "Repository", "ns", "a", "{\"phase\":\"Ready\"}",
				  0, &res[2], NULL, NULL), 0);
	assert_int_equal(write_op(f->s, STORE_OP_APPLY, "Repository", "ns", "b", "{}",
				  0, &res[3], NULL, NULL), 0);
	assert_int_equal(write_op(f->s, STORE_OP_DELETE, "Repository", "ns", "a", NULL,
				  0, &res[4], NULL, NULL), 0);
	/* rejected writes produce no events */
	assert_int_equal(write_op(f->s, STORE_OP_CREATE, "Repository", "ns", "b", "{}",
				  0, NULL, NULL, NULL), KE_CONFLICT);
	assert_int_equal(write_op(f->s, STORE_OP_DELETE, "Repository", "ns", "zz", NULL,
				  0, NULL, NULL, NULL), KE_NOTFOUND);
	store_set_event_hook(f->s, NULL, NULL);

	assert_int_equal(r.n, 5);
	for (i = 0; i < 5; i++) {
		json_t *o = json_loads(r.v[i].json, 0, NULL);

		assert_string_equal(r.v[i].type, types[i]);
		assert_string_equal(r.v[i].name, names[i]);
		assert_int_equal(r.v[i].rv, rv_of(res[i]));
		assert_int_equal(rv_of(o), r.v[i].rv);
		assert_false(r.v[i].on_caller);
		if (i)
			assert_true(r.v[i].rv > r.v[i - 1].rv);
		json_decref(o);
		json_decref(res[i]);
	}
	recorder_free(&r);
}

struct replay {
	int64_t rv[64];
	char type[64][12];
	size_t n, stop_after;
};

static int collect(const struct store_event *ev, void *arg)
{
	struct replay *p = arg;

	if (p->n < 64) {
		p->rv[p->n] = ev->rv;
		snprintf(p->type[p->n], sizeof(p->type[0]), "%s", ev->type);
	}
	p->n++;
	return p->stop_after && p->n >= p->stop_after;
}

static void test_events_since(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	struct replay p;
	int64_t mark = 0;
	char name[16];
	size_t i;

	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "o%zu", i);
		assert_int_equal(write_op(f->s, STORE_OP_CREATE, "Repository", "ns", name, "{}",
					  0, NULL, NULL, NULL), 0);
		if (i == 2)
			mark = store_current_rv(f->s);
	}
	assert_int_equal(write_op(f->s, STORE_OP_DELETE, "Repository", "ns", "o0", NULL,
				  0, NULL, NULL, NULL), 0);

	memset(&p, 0, sizeof(p));
	assert_int_equal(store_events_since(f->s, mark, collect, &p, &e), 0);
	assert_int_equal(p.n, 8);
	for (i = 0; i < p.n; i++)
		assert_int_equal(p.rv[i], mark + 1 + (int64_t)i);
	assert_string_equal(p.type[0], "ADDED");
	assert_string_equal(p.type[7], "DELETED");

	/* the callback can stop the replay */
	memset(&p, 0, sizeof(p));
	p.stop_after = 2;
	assert_int_equal(store_events_since(f->s, 0, collect, &p, &e), 0);
	assert_int_equal(p.n, 2);

	memset(&p, 0, sizeof(p));
	assert_int_equal(store_events_since(f->s, store_current_rv(f->s), collect, &p, &e), 0);
	assert_int_equal(p.n, 0);

	/* recent events, newest first, with a namespace filter */
	{
		json_t *rec;

		assert_int_equal(store_recent_events(f->s, "ns", 3, &rec, &e), 0);
		assert_int_equal(json_array_size(rec), 3);
		assert_string_equal(json_string_value(json_object_get(json_array_get(rec, 0), "type")), "DELETED");
		assert_string_equal(json_string_value(json_object_get(json_array_get(rec, 1), "name")), "o9");
		json_decref(rec);
		assert_int_equal(store_recent_events(f->s, "elsewhere", 3, &rec, &e), 0);
		assert_int_equal(json_array_size(rec), 0);
		json_decref(rec);
	}
}

static void test_retention(void **state)
{
	struct store_fx *f = *state;
	struct kerr e = KERR_INIT;
	struct replay p;
	json_t *st;
	int64_t cur, events;
	char name[16];
	int i;

	assert_int_equal(reopen(f, 20, 0), 0);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "o%d", i);
		assert_int_equal(write_op(f->s, STORE_OP_APPLY, "Repository", "ns", name, "{}",
					  0, NULL, NULL, NULL), 0);
	}
	cur = store_current_rv(f->s);
	assert_int_equal(store_stats(f->s, &st, &e), 0);
	events = json_integer_value(json_object_get(st, "events"));
	json_decref(st);
	/* pruned down to the limit whenever it grows 10% past it */
	assert_true(events >= 20 && events <= 22);

	memset(&p, 0, sizeof(p));
	assert_int_equal(store_events_since(f->s, 0, collect, &p, &e), KE_GONE);
	assert_string_equal(e.code, "EXPIRED");
	assert_non_null(strstr(e.message, "too old"));
	assert_int_equal(p.n, 0);
	kerr_clear(&e);
	assert_int_equal(store_events_since(f->s, cur - events - 1, collect, &p, &e), KE_GONE);
	kerr_clear(&e);

	/* everything still retained can be replayed without a gap */
	memset(&p, 0, sizeof(p));
	assert_int_equal(store_events_since(f->s, cur - events, collect, &p, &e), 0);
	assert_int_equal(p.n, events);
	assert_int_equal(p.rv[0], cur - events + 1);

	/* the floor survives a restart */
	assert_int_equal(reopen(f, 20, 0), 0);
	assert_int_equal(store_events_since(f->s, 0, collect, &p, &e), KE_GONE);
	kerr_clear(&e);
	assert_int_equal(store_current_rv(f->s), cur);
}

static void test_atomic_batch(void **state)
{
	struct store_fx *f = *state;
	struct store_op ops[2];
	struct store_batch b;
	struct recorder r;
	int64_t before;

	recorder_init(&r);
	assert_int_equal(write_op(f->s, STORE_OP_CREATE, "Repository", "ns", "y", "{}",
				  0, NULL, NULL, NULL), 0);
	store_set_event_hook(f->s, record, &r);
	before = store_current_rv(f->s);

	memset(ops, 0, sizeof(ops));
	memset(&b, 0, sizeof(b));
	ops[0].type = STORE_OP_CREATE;
	ops[0].kind = "Repository";
	ops[0].ns = "ns";
	ops[0].name = "x";
	ops[0].obj = json_object();
	ops[1] = ops[0];
	ops[1].name = "y";
	b.ops = ops;
	b.n = 2;
	b.audit.actor = "tester";
	assert_int_equal(store_write(f->s, &b), KE_CONFLICT);
	assert_int_equal(b.rc, KE_CONFLICT);
	assert_string_equal(b.err.resource, "Repository/ns/y");
	assert_null(ops[0].result);
	assert_null(ops[1].result);
	assert_false(exists(f->s, "Repository", "x"));
	assert_int_equal(store_current_rv(f->s), before);
	kerr_clear(&b.err);

	/* the same batch without the conflict applies both ops */
	ops[1].type = STORE_OP_UPDATE;
	ops[1].name = "x";
	assert_int_equal(store_write(f->s, &b), 0);
	assert_true(exists(f->s, "Repository", "x"));
	assert_int_equal(store_current_rv(f->s), before + 2);
	assert_int_equal(rv_of(ops[1].result), before + 2);
	json_decref(ops[0].result);
	json_decref(ops[1].result);
	json_decref(ops[0].obj);
	store_set_event_hook(f->s, NULL, NULL);

	assert_int_equal(r.n, 2);
	assert_int_equal(r.v[0].rv, before + 1);
	assert_string_equal(r.v[0].type, "ADDED");
	assert_string_equal(r.v[1].type, "MODIFIED");
	recorder_free(&r);
}

/* Three batches in one group: the failing middle one must not affect the others. */
static void test_group_isolation(void **state)
{
	struct store_fx *f = *state;
	struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };
	struct store_op ops[3];
	struct store_batch gb, b[3];
	struct recorder r;
	static const char *const names[] = { "g1", "g2", "g3" };
	int64_t before;
	int i;

	assert_int_equal(write_op(f->s, STORE_OP_CREATE, "Repository", "ns", "g2", "{}",
				  0, NULL, NULL, NULL), 0);
	recorder_init(&r);
	gate_close(f->s, &g, &gb);
	before = store_current_rv(f->s);
	store_set_event_hook(f->s, record, &r);
	for (i = 0; i < 3; i++) {
		memset(&ops[i], 0, sizeof(ops[i]));
		memset(&b[i], 0, sizeof(b[i]));
		ops[i].type = STORE_OP_CREATE;
		ops[i].kind = "Repository";
		ops[i].ns = "ns";
		ops[i].name = names[i];
		ops[i].obj = json_object();
		b[i].ops = &ops[i];
		b[i].n = 1;
		b[i].audit.actor = "tester";
		b[i].done = count_done;
		b[i].arg = &g;
		assert_int_equal(store_submit(f->s, &b[i]), 0);
	}
	gate_open(&g);
	gate_wait_finished(&g, 3);
	store_set_event_hook(f->s, NULL, NULL);

	assert_int_equal(b[0].rc, 0);
	assert_int_equal(b[1].rc, KE_CONFLICT);
	assert_int_equal(b[2].rc, 0);
	assert_true(exists(f->s, "Repository", "g1"));
	assert_true(exists(f->s, "Repository", "g3"));
	assert_int_equal(rv_of(ops[0].result), before + 1);
	assert_int_equal(rv_of(ops[2].result), before + 2);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].name, "g1");
	assert_string_equal(r.v[1].name, "g3");
	for (i = 0; i < 3; i++) {
		json_decref(ops[i].result);
		json_decref(ops[i].obj);
		kerr_clear(&b[i].err);
	}
	recorder_free(&r);
}

static void test_queue_limit(void **state)
{
	struct store_fx *f = *state;
	struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };
	struct store_batch gb, b[5];
	int i;

	assert_int_equal(reopen(f, 0, 4), 0);
	gate_close(f->s, &g, &gb);
	memset(b, 0, sizeof(b));
	for (i = 0; i < 5; i++) {
		b[i].audit.actor = "tester";
		b[i].done = count_done;
		b[i].arg = &g;
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(store_submit(f->s, &b[i]), 0);
	assert_int_equal(store_submit(f->s, &b[4]), KE_RATELIMIT);
	assert_string_equal(b[4].err.code, "RATE_LIMITED");
	kerr_clear(&b[4].err);
	gate_open(&g);
	gate_wait_finished(&g, 4);
	/* room again once the writer drained the queue */
	assert_int_equal(store_write(f->s, &b[4]), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(b[i].rc, 0);
}

/* Another process holding the write lock past busy_timeout makes the whole group fail. */
static void test_group_failure_is_io(void **state)
{
	struct store_fx *f = *state;
	struct recorder r;
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	sqlite3 *other = NULL;
	int64_t before = store_current_rv(f->s);
	json_t *res;

	recorder_init(&r);
	store_set_event_hook(f->s, record, &r);
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	op.type = STORE_OP_CREATE;
	op.kind = "Repository";
	op.ns = "ns";
	op.name = "blocked";
	op.obj = json_object();
	b.ops = &op;
	b.n = 1;
	assert_int_equal(store_write(f->s, &b), KE_IO);
	assert_string_equal(b.err.code, "INTERNAL");
	assert_null(op.result);
	kerr_clear(&b.err);
	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(r.n, 0);
	assert_int_equal(store_current_rv(f->s), before);
	assert_false(exists(f->s, "Repository", "blocked"));

	/* the store recovers and the counter continues where it was */
	assert_int_equal(store_write(f->s, &b), 0);
	res = op.result;
	assert_int_equal(rv_of(res), before + 1);
	assert_int_equal(r.n, 1);
	json_decref(res);
	json_decref(op.obj);
	store_set_event_hook(f->s, NULL, NULL);
	recorder_free(&r);
}

struct worker {
	struct store *s;
	int id, n, failures, unseen;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[32];
	int i;

	for (i = 0; i < w->n; i++) {
		snprintf(name, sizeof(name), "w%d-%d", w->id, i);
		if (write_op(w->s, STORE_OP_CREATE, "Task", "ns", name, "{\"spec\":{}}", 0, NULL, NULL, NULL))
			w->failures++;
		/* acknowledged means committed: this thread's reader must see it */
		else if (!exists(w->s, "Task", name))
			w->unseen++;
	}
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	struct store_fx *f = *state;
	enum { THREADS = 8, PER = 500 };
	pthread_t th[THREADS];
	struct worker w[THREADS];
	struct recorder r;
	struct store_list_query q = { "Task", NULL, NULL, 0, NULL };
	struct store_list_result res;
	struct kerr e = KERR_INIT;
	int64_t before = store_current_rv(f->s);
	size_t i;

	recorder_init(&r);
	store_set_event_hook(f->s, record, &r);
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ f->s, (int)i, PER, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
		assert_int_equal(w[i].unseen, 0);
	}
	store_set_event_hook(f->s, NULL, NULL);
	assert_int_equal(store_current_rv(f->s), before + THREADS * PER);
	assert_int_equal(store_list(f->s, &q, &res, &e), 0);
	assert_int_equal(res.n, THREADS * PER);
	store_list_result_free(&res);
	assert_int_equal(r.n, THREADS * PER);
	for (i = 1; i < r.n; i++)
		assert_int_equal(r.v[i].rv, r.v[i - 1].rv + 1);
	recorder_free(&r);
}

static void test_reopen_persists(void **state)
{
	struct store_fx *f = *state;
	struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 1, 0 };
	struct store_op ops[5];
	struct store_batch b[5];
	struct kerr e = KERR_INIT;
	struct replay p;
	json_t *res, *v;
	char names[5][8];
	int64_t rv;
	int i;

	assert_int_equal(write_op(f->s, STORE_OP_CREATE, "Repository", "ns", "keep", "{\"spec\":{\"a\":1}}",
				  0, NULL, NULL, NULL), 0);
	/* queued writes still commit when the store closes */
	for (i = 0; i < 5; i++) {
		snprintf(names[i], sizeof(names[i]), "q%d", i);
		memset(&ops[i], 0, sizeof(ops[i]));
		memset(&b[i], 0, sizeof(b[i]));
		ops[i].type = STORE_OP_CREATE;
		ops[i].kind = "Repository";
		ops[i].ns = "ns";
		ops[i].name = names[i];
		ops[i].obj = json_object();
		b[i].ops = &ops[i];
		b[i].n = 1;
		b[i].done = count_done;
		b[i].arg = &g;
		assert_int_equal(store_submit(f->s, &b[i]), 0);
	}
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(g.finished, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(b[i].rc, 0);
		json_decref(ops[i].result);
		json_decref(ops[i].obj);
	}
	assert_int_equal(reopen(f, 0, 0), 0);
	rv = store_current_rv(f->s);
	assert_int_equal(rv, 6);
	assert_true(exists(f->s, "Repository", "keep"));
	for (i = 0; i < 5; i++)
		assert_true(exists(f->s, "Repository", names[i]));
	assert_int_equal(write_op(f->s, STORE_OP_UPDATE, "Repository", "ns", "keep", "{\"spec\":{\"a\":2}}",
				  0, &res, NULL, NULL), 0);
	assert_int_equal(rv_of(res), rv + 1);
	json_decref(res);
	memset(&p, 0, sizeof(p));
	assert_int_equal(store_events_since(f->s, 0, collect, &p, &e), 0);
	assert_int_equal(p.n, 7);
	assert_int_equal(store_audit_verify(f->s, &v, &e), 0);
	assert_true(json_is_true(json_object_get(v, "ok")));
	assert_int_equal(json_integer_value(json_object_get(v, "entries")), 7);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hook_order_and_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_since, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_isolation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_failure_is_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_persists, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
