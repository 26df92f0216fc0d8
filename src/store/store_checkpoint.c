/* WAL checkpoints on their own thread and connection.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses the
 * threshold, so the writer (and every client waiting for that group commit)
 * would stall while pages are copied back and fsynced. Instead the writer's
 * WAL hook only signals this thread, which runs PASSIVE checkpoints that
 * never block the writer or readers. Durability is unchanged: a commit is
 * durable once it is in the WAL. */
#include "store/sqlite_internal.h"

#include <stdlib.h>

/* Pages in the WAL before a checkpoint is requested (SQLite's default). */
#define CHECKPOINT_PAGES 1000

static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *s = arg;

	(void)db;
	(void)name;
	if (pages >= CHECKPOINT_PAGES) {
		pthread_mutex_lock(&s->cp_mu);
		s->cp_pending = 1;
		pthread_cond_signal(&s->cp_cv);
		pthread_mutex_unlock(&s->cp_mu);
	}
	return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
	struct store *s = arg;

	pthread_mutex_lock(&s->cp_mu);
	for (;;) {
		while (!s->cp_pending && !s->cp_stop)
			pthread_cond_wait(&s->cp_cv, &s->cp_mu);
		if (s->cp_stop)
			break;
		s->cp_pending = 0;
		pthread_mutex_unlock(&s->cp_mu);
		sqlite3_wal_checkpoint_v2(s->cp->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&s->cp_mu);
	}
	pthread_mutex_unlock(&s->cp_mu);
	return NULL;
}

int sq_checkpointer_start(struct store *s, struct kerr *e)
{
	int rc = sq_conn_open(s, 0, &s->cp, e);

	if (rc)
		return rc;
	rc = sq_exec(s->w->db, "PRAGMA wal_autocheckpoint=0", e);
	if (rc)
		return rc;
	sqlite3_wal_hook(s->w->db, on_wal_commit, s);
	if (pthread_create(&s->cp_thread, NULL, checkpointer_main, s) != 0)
		return kerr_set(e, KE_INTERNAL, NULL, "cannot start the checkpoint thread");
	s->cp_started = 1;
	return 0;
}

void sq_checkpointer_stop(struct store *s)
{
	if (s->cp_started) {
		pthread_mutex_lock(&s->cp_mu);
		s->cp_stop = 1;
		pthread_cond_signal(&s->cp_cv);
		pthread_mutex_unlock(&s->cp_mu);
		pthread_join(s->cp_thread, NULL);
		s->cp_started = 0;
		/* leave a short WAL behind for the next start */
		sqlite3_wal_checkpoint_v2(s->cp->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	}
	sq_conn_close(s->cp);
	s->cp = NULL;
}
