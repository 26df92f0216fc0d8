/* The write path: a bounded queue of batches and one writer thread that
 * commits everything queued in one transaction (group commit). Each batch
 * runs inside its own savepoint so a failing batch changes nothing while the
 * others in the group still commit. */
#include "store/sqlite_internal.h"
#include "core/buf.h"
#include "core/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	void (*fn)(struct store_batch *b, void *arg);
	void *arg;
};

static void clear_results(struct store_batch *b)
{
	size_t i;

	for (i = 0; b->ops && i < b->n; i++) {
		json_decref(b->ops[i].result);
		b->ops[i].result = NULL;
		b->ops[i].created = 0;
	}
}

/* The writer counters and the recorded events at one point, to roll back to. */
struct mark {
	int64_t rv, audit_seq;
	char audit_hash[65];
	size_t events;
};

static void mark_take(const struct sq_wctx *w, struct mark *m)
{
	m->rv = w->s->rv;
	m->audit_seq = w->s->audit_seq;
	memcpy(m->audit_hash, w->s->audit_hash, sizeof(m->audit_hash));
	m->events = w->ev.n;
}

static void mark_restore(struct sq_wctx *w, const struct mark *m)
{
	w->s->rv = m->rv;
	w->s->audit_seq = m->audit_seq;
	memcpy(w->s->audit_hash, m->audit_hash, sizeof(w->s->audit_hash));
	sq_events_truncate(&w->ev, m->events);
}

/* Undoes the batch's savepoint. 1 when the group cannot commit: SQLite rolls
 * the whole transaction back on some errors, or the rollback itself failed. */
static int undo_batch(struct sq_wctx *w, struct store_batch *b, const struct mark *m,
		      struct kerr *ge)
{
	struct sconn *c = w->s->w;

	mark_restore(w, m);
	clear_results(b);
	if (sqlite3_get_autocommit(c->db)) {
		kerr_set(ge, KE_IO, NULL, "%s", b->err.message ? b->err.message : "transaction rolled back");
		return 1;
	}
	return sq_run(c, ST_ROLLBACK_TO, ge) != 0;
}

static char *failed_result(const struct store_batch *b)
{
	struct buf r = BUF_INIT(0);

	if (buf_printf(&r, "failed:%s", b->err.code ? b->err.code : kerr_default_code(b->rc))) {
		buf_free(&r);
		return NULL;
	}
	return buf_detach(&r, NULL);
}

/* Runs one batch inside SAVEPOINT b. Returns 1 (with ge set) when the group
 * cannot commit. */
static int run_batch(struct sq_wctx *w, struct store_batch *b, struct kerr *ge)
{
	struct sconn *c = w->s->w;
	struct kerr ae = KERR_INIT;
	struct mark m;
	char *failed = NULL;
	size_t i;
	int rc = 0, broken = 0;

	b->rc = 0;
	mark_take(w, &m);
	if (sq_run(c, ST_SAVEPOINT, ge))
		return 1;
	if (b->n && !b->ops)
		rc = kerr_set(&b->err, KE_INVALID, NULL, "batch has %zu operations but no array", b->n);
	for (i = 0; !rc && i < b->n; i++)
		rc = sq_exec_op(w, &b->ops[i], &b->err);
	if (rc) {
		b->rc = rc;
		if (undo_batch(w, b, &m, ge))
			return 1;
		failed = failed_result(b);
	}
	if (sq_audit_append(w->s, &b->audit,
			    rc ? (failed ? failed : "failed:INTERNAL")
			       : (b->audit.result ? b->audit.result : "allowed"),
			    w->now, &ae) && !rc) {
		/* the entry and the change are one unit: without the entry the change may not commit */
		b->rc = ae.kcode;
		kerr_clear(&b->err);
		b->err = ae;
		ae = (struct kerr)KERR_INIT;
		broken = undo_batch(w, b, &m, ge);
	}
	kerr_clear(&ae);
	free(failed);
	return broken || sq_run(c, ST_RELEASE, ge) != 0;
}

static int write_counters(struct store *s, const struct mark *start, struct kerr *e)
{
	char num[24];
	int rc = 0;

	if (s->rv != start->rv) {
		snprintf(num, sizeof(num), "%" PRId64, s->rv);
		rc = sq_meta_put(s->w, SQ_META_RV, num, e);
	}
	if (!rc && s->audit_seq != start->audit_seq) {
		snprintf(num, sizeof(num), "%" PRId64, s->audit_seq);
		rc = sq_meta_put(s->w, SQ_META_AUDIT_SEQ, num, e);
	}
	return rc;
}

/* Keeps the newest event_retention events once the log is 10% over, so the
 * delete runs rarely and in bulk; a failure is retried after the next group. */
static void prune_events(struct store *s)
{
	int64_t keep = s->opt.event_retention, cutoff = 0;
	struct sconn *c = s->w;
	sqlite3_stmt *st;
	char num[24];
	int rc, found = 0;

	if (s->event_count <= keep + keep / 10)
		return;
	if (sq_run(c, ST_BEGIN_IMMEDIATE, NULL))
		return;
	rc = sq_stmt(c, ST_PRUNE_CUTOFF, &st, NULL);
	if (!rc) {
		sqlite3_bind_int64(st, 1, keep);
		rc = sqlite3_step(st);
		found = rc == SQLITE_ROW;
		if (found)
			cutoff = sqlite3_column_int64(st, 0);
		rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : -1;
		sq_release(c, ST_PRUNE_CUTOFF, st);
	}
	if (!rc && found) {
		rc = sq_stmt(c, ST_PRUNE, &st, NULL);
		if (!rc) {
			sqlite3_bind_int64(st, 1, cutoff);
			rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
			sq_release(c, ST_PRUNE, st);
		}
		snprintf(num, sizeof(num), "%" PRId64, cutoff);
		if (!rc)
			rc = sq_meta_put(c, SQ_META_FLOOR, num, NULL);
	}
	if (!rc)
		rc = sq_run(c, ST_COMMIT, NULL);
	if (rc) {
		if (!sqlite3_get_autocommit(c->db))
			sq_run(c, ST_ROLLBACK, NULL);
		return;
	}
	s->event_count = keep;
}

static void fire_events(struct store *s, const struct sq_events *ev)
{
	store_event_fn fn;
	void *arg;
	size_t i;

	pthread_mutex_lock(&s->hmu);
	fn = s->hook;
	arg = s->hook_arg;
	pthread_mutex_unlock(&s->hmu);
	if (!fn)
		return;
	for (i = 0; i < ev->n; i++) {
		const struct sq_event *x = &ev->v[i];
		struct store_event out = { x->rv, x->type, x->kind, x->ns, x->name, x->json, x->len };

		fn(&out, arg);
	}
}

static void run_group(struct store *s, struct store_batch *group)
{
	struct sq_wctx w = { .s = s };
	struct kerr ge = KERR_INIT;
	struct store_batch *b, *next;
	struct mark start;
	int broken = 0, cached = 0;

	util_time_rfc3339(w.now, util_now_seconds());
	pthread_mutex_lock(&s->wlock);
	mark_take(&w, &start);
	broken = sq_run(s->w, ST_BEGIN_IMMEDIATE, &ge) != 0;
	for (b = group; b && !broken; b = b->next)
		broken = run_batch(&w, b, &ge);
	if (!broken)
		broken = write_counters(s, &start, &ge) != 0;
	if (!broken) {
		/* objects change at COMMIT: cache fills pause until the changes are applied */
		cached = w.ev.n > 0;
		if (cached)
			sq_cache_commit_begin(s->cache, &w.ev);
		broken = sq_run(s->w, ST_COMMIT, &ge) != 0;
	}
	if (broken) {
		if (!sqlite3_get_autocommit(s->w->db))
			sq_run(s->w, ST_ROLLBACK, NULL);
		if (cached)
			sq_cache_commit_end(s->cache, NULL);
		mark_restore(&w, &start);
		for (b = group; b; b = b->next) {
			clear_results(b);
			kerr_clear(&b->err);
			b->rc = kerr_set(&b->err, KE_IO, NULL, "the write could not be committed: %s",
					 ge.message ? ge.message : "transaction aborted");
		}
	} else {
		/* before the hook and done(): an acknowledged write is visible to store_get */
		if (cached)
			sq_cache_commit_end(s->cache, &w.ev);
		atomic_store(&s->committed_rv, s->rv);
		s->event_count += (int64_t)w.ev.n;
		prune_events(s);
		sq_sessions_sweep(s);
	}
	pthread_mutex_unlock(&s->wlock);

	fire_events(s, &w.ev);
	sq_events_truncate(&w.ev, 0);
	free(w.ev.v);
	kerr_clear(&ge);
	for (b = group; b; b = next) {
		next = b->next;
		b->next = NULL;
		if (b->done)
			b->done(b, b->arg);
	}
}

static void *writer_main(void *arg)
{
	struct store *s = arg;
	struct store_batch *group;

	for (;;) {
		pthread_mutex_lock(&s->qmu);
		while (!s->head && !s->stopping)
			pthread_cond_wait(&s->qcv, &s->qmu);
		group = s->head;
		s->head = s->tail = NULL;
		s->qlen = 0;
		pthread_mutex_unlock(&s->qmu);
		if (!group)
			break;
		run_group(s, group);
	}
	return NULL;
}

int sq_writer_start(struct store *s, struct kerr *e)
{
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
		return kerr_set(e, KE_INTERNAL, NULL, "cannot start the store writer thread");
	s->writer_started = 1;
	return 0;
}

void store_set_event_hook(struct store *s, store_event_fn fn, void *arg)
{
	pthread_mutex_lock(&s->hmu);
	s->hook = fn;
	s->hook_arg = arg;
	pthread_mutex_unlock(&s->hmu);
}

int store_submit(struct store *s, struct store_batch *b)
{
	size_t pending;

	if (!s || !b)
		return KE_INVALID;
	b->rc = 0;
	b->next = NULL;
	pthread_mutex_lock(&s->qmu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->qmu);
		return b->rc = kerr_set(&b->err, KE_UNAVAILABLE, NULL, "the store is shutting down");
	}
	pending = s->qlen;
	if (pending >= s->opt.queue_max) {
		pthread_mutex_unlock(&s->qmu);
		return b->rc = kerr_set(&b->err, KE_RATELIMIT, NULL,
					"the write queue is full (%zu batches pending)", pending);
	}
	if (s->tail)
		s->tail->next = b;
	else
		s->head = b;
	s->tail = b;
	s->qlen++;
	pthread_cond_signal(&s->qcv);
	pthread_mutex_unlock(&s->qmu);
	return 0;
}

static void wake(struct store_batch *b, void *arg)
{
	struct waiter *w = arg;

	if (w->fn)
		w->fn(b, w->arg);
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int store_write(struct store *s, struct store_batch *b)
{
	struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL, NULL };
	int rc;

	if (!s || !b)
		return KE_INVALID;
	/* the writer would wait for itself */
	if (s->writer_started && pthread_equal(pthread_self(), s->writer))
		return b->rc = kerr_set(&b->err, KE_INTERNAL, NULL,
					"store_write called from the store's writer thread");
	w.fn = b->done;
	w.arg = b->arg;
	b->done = wake;
	b->arg = &w;
	rc = store_submit(s, b);
	if (!rc) {
		pthread_mutex_lock(&w.mu);
		while (!w.done)
			pthread_cond_wait(&w.cv, &w.mu);
		pthread_mutex_unlock(&w.mu);
		rc = b->rc;
	}
	b->done = w.fn;
	b->arg = w.arg;
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	return rc;
}
