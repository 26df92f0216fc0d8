/* SQLite backend: opening and closing the store, the schema and the counters
 * the writer continues from, plus the small reads that need nothing else
 * (ping, stats, meta). */
#include "store/sqlite_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rowid table (not WITHOUT ROWID): the probe measured it twice as fast for
 * ~0.5 KB bodies. objects_ns serves per-namespace counts, lists and deletes. */
static const char schema_v1_sql[] =
	"CREATE TABLE IF NOT EXISTS objects("
	" id INTEGER PRIMARY KEY, kind TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,"
	" rv INTEGER NOT NULL, phase TEXT, labels TEXT NOT NULL, body TEXT NOT NULL,"
	" UNIQUE(kind, ns, name));"
	"CREATE INDEX IF NOT EXISTS objects_rv ON objects(rv);"
	"CREATE INDEX IF NOT EXISTS objects_ns ON objects(ns, kind);"
	"CREATE TABLE IF NOT EXISTS events("
	" rv INTEGER PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL, ns TEXT NOT NULL,"
	" name TEXT NOT NULL, time TEXT NOT NULL, body TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS events_ns ON events(ns, rv);"
	"CREATE TABLE IF NOT EXISTS audit("
	" seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, org TEXT,"
	" verb TEXT NOT NULL, resource TEXT NOT NULL, result TEXT NOT NULL, correlation_id TEXT,"
	" prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS tokens("
	" hash TEXT PRIMARY KEY, id TEXT NOT NULL, user TEXT NOT NULL, org TEXT,"
	" role INTEGER NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/* Version 2: console users and their sessions (sessions_expires serves the sweep). */
static const char schema_v2_sql[] =
	"CREATE TABLE IF NOT EXISTS users("
	" name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role INTEGER NOT NULL, org TEXT,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS sessions("
	" hash TEXT PRIMARY KEY, user TEXT NOT NULL, org TEXT, role INTEGER NOT NULL,"
	" csrf TEXT NOT NULL, expires INTEGER NOT NULL, created INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS sessions_expires ON sessions(expires);";

/* Creates the schema in a new file, or migrates an older one forward in one
 * transaction, so a data directory from an earlier build keeps working. */
static int schema_init(struct store *s, struct kerr *e)
{
	sqlite3_stmt *st = NULL;
	int rc, version;
	char sql[64];

	rc = sqlite3_prepare_v2(s->w->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = sq_err(s->w->db, rc, e, "read schema version");
		sqlite3_finalize(st);
		return rc;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version == SQ_SCHEMA_VERSION)
		return 0;
	if (version < 0 || version > SQ_SCHEMA_VERSION)
		return kerr_set(e, KE_IO, "INTERNAL", "database schema version %d is not supported "
				"(this build uses %d)", version, SQ_SCHEMA_VERSION);
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SQ_SCHEMA_VERSION);
	rc = sq_exec(s->w->db, "BEGIN IMMEDIATE", e);
	if (rc)
		return rc;
	if (version < 1)
		rc = sq_exec(s->w->db, schema_v1_sql, e);
	if (!rc)
		rc = sq_exec(s->w->db, schema_v2_sql, e);
	if (!rc)
		rc = sq_exec(s->w->db, sql, e);
	if (!rc)
		rc = sq_exec(s->w->db, "COMMIT", e);
	if (rc)
		sqlite3_exec(s->w->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int load_state(struct store *s, struct kerr *e)
{
	struct sconn *c = s->w;
	sqlite3_stmt *st;
	int64_t meta_rv;
	int rc;

	rc = sq_meta_int(c, SQ_META_RV, &meta_rv, e);
	if (rc)
		return rc;
	rc = sq_stmt(c, ST_MAX_RV, &st, e);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	s->rv = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	rc = rc == SQLITE_ROW ? 0 : sq_err(c->db, rc, e, "read resourceVersion");
	sq_release(c, ST_MAX_RV, st);
	if (rc)
		return rc;
	if (meta_rv > s->rv)
		s->rv = meta_rv;
	atomic_store(&s->committed_rv, s->rv);

	rc = sq_stmt(c, ST_COUNT_EVENTS, &st, e);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	s->event_count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	rc = rc == SQLITE_ROW ? 0 : sq_err(c->db, rc, e, "count events");
	sq_release(c, ST_COUNT_EVENTS, st);
	if (rc)
		return rc;

	rc = sq_stmt(c, ST_AUDIT_HEAD, &st, e);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	s->audit_seq = 0;
	memcpy(s->audit_hash, SQ_ZERO_HASH, sizeof(s->audit_hash));
	if (rc == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(st, 1);

		s->audit_seq = sqlite3_column_int64(st, 0);
		if (h && strlen((const char *)h) == 64)
			memcpy(s->audit_hash, h, 65);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 0 : sq_err(c->db, rc, e, "read audit head");
	}
	sq_release(c, ST_AUDIT_HEAD, st);
	return rc;
}

/* SQLite's memory statistics take one global mutex on every allocation, which
 * reader threads contend on. It can only be switched off before SQLite
 * initialises; SQLITE_MISUSE (already initialised) just means it stays on. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void store_free(struct store *s)
{
	struct sconn *c;

	if (s->key_ok)
		pthread_key_delete(s->key);
	pthread_mutex_lock(&s->rmu);
	while ((c = s->readers)) {
		s->readers = c->next;
		sq_conn_close(c);
	}
	pthread_mutex_unlock(&s->rmu);
	sq_checkpointer_stop(s);
	sq_conn_close(s->w);
	sq_cache_free(s->cache);
	pthread_mutex_destroy(&s->wlock);
	pthread_mutex_destroy(&s->qmu);
	pthread_cond_destroy(&s->qcv);
	pthread_mutex_destroy(&s->hmu);
	pthread_mutex_destroy(&s->rmu);
	pthread_mutex_destroy(&s->cp_mu);
	pthread_cond_destroy(&s->cp_cv);
	free(s->path);
	free(s);
}

int store_open(const struct store_options *o, struct store **out, struct kerr *e)
{
	struct store *s;
	int rc;

	*out = NULL;
	if (!o || !o->path || !*o->path)
		return kerr_set(e, KE_INVALID, NULL, "store path is required");
	s = calloc(1, sizeof(*s));
	if (!s)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	/* static initialisers cannot fail, so teardown may destroy them unconditionally */
	s->wlock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	s->qmu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	s->qcv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	s->hmu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	s->rmu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	s->cp_mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	s->cp_cv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	s->opt = *o;
	if (s->opt.event_retention <= 0)
		s->opt.event_retention = SQ_DEFAULT_RETENTION;
	if (s->opt.queue_max == 0)
		s->opt.queue_max = SQ_DEFAULT_QUEUE;
	s->path = strdup(o->path);
	if (!s->path) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto fail;
	}
	s->opt.path = s->path;
	if (pthread_key_create(&s->key, sq_reader_gone) != 0) {
		rc = kerr_set(e, KE_INTERNAL, NULL, "cannot create a thread key");
		goto fail;
	}
	s->key_ok = 1;
	if (sq_cache_new(s->opt.cache_bytes, &s->cache)) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto fail;
	}
	pthread_once(&sqlite_once, sqlite_setup);
	rc = sq_conn_open(s, 0, &s->w, e);
	if (!rc)
		rc = schema_init(s, e);
	if (!rc)
		rc = load_state(s, e);
	if (!rc)
		rc = sq_checkpointer_start(s, e);
	if (!rc)
		rc = sq_writer_start(s, e);
	if (rc)
		goto fail;
	*out = s;
	return 0;
fail:
	store_free(s);
	return rc;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->qmu);
	s->stopping = 1;
	pthread_cond_broadcast(&s->qcv);
	pthread_mutex_unlock(&s->qmu);
	if (s->writer_started)
		pthread_join(s->writer, NULL);
	store_free(s);
}

int store_ping(struct store *s)
{
	struct sconn *c;
	int rc;

	if (!s)
		return KE_UNAVAILABLE;
	rc = sq_reader(s, &c, NULL);
	return rc ? rc : sq_run(c, ST_PING, NULL);
}

int64_t store_current_rv(struct store *s)
{
	return atomic_load(&s->committed_rv);
}

int store_stats(struct store *s, json_t **out, struct kerr *e)
{
	struct sconn *c;
	sqlite3_stmt *st;
	int64_t rv;
	int rc;

	*out = NULL;
	rc = sq_reader(s, &c, e);
	if (rc)
		return rc;
	rc = sq_read_begin(c, e);
	if (rc)
		return rc;
	rc = sq_meta_int(c, SQ_META_RV, &rv, e);
	if (!rc)
		rc = sq_stmt(c, ST_STATS, &st, e);
	if (rc)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = json_pack("{s:I, s:I, s:I, s:I, s:I}",
				 "objects", (json_int_t)sqlite3_column_int64(st, 0),
				 "events", (json_int_t)sqlite3_column_int64(st, 1),
				 "auditEntries", (json_int_t)sqlite3_column_int64(st, 2),
				 "bytes", (json_int_t)sqlite3_column_int64(st, 3),
				 "resourceVersion", (json_int_t)rv);
		rc = *out ? 0 : kerr_set(e, KE_NOMEM, NULL, "out of memory");
	} else {
		rc = sq_err(c->db, rc, e, "read stats");
	}
	sq_release(c, ST_STATS, st);
out:
	sq_read_end(c);
	return rc;
}

int store_meta_get(struct store *s, const char *key, char **value, struct kerr *e)
{
	struct sconn *c;
	sqlite3_stmt *st;
	int rc;

	*value = NULL;
	if (!key)
		return kerr_set(e, KE_INVALID, NULL, "meta key is required");
	rc = sq_reader(s, &c, e);
	if (!rc)
		rc = sq_stmt(c, ST_META_GET, &st, e);
	if (rc)
		return rc;
	sq_bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*value = sq_column_dup(st, 0, NULL);
		rc = *value ? 0 : kerr_set(e, KE_NOMEM, NULL, "out of memory");
	} else if (rc == SQLITE_DONE) {
		rc = kerr_set(e, KE_NOTFOUND, NULL, "setting %s is not set", key);
	} else {
		rc = sq_err(c->db, rc, e, "read setting");
	}
	sq_release(c, ST_META_GET, st);
	return rc;
}

/* A short transaction of its own on the writer connection; wlock keeps it
 * from interleaving with a write group. */
int store_meta_set(struct store *s, const char *key, const char *value, struct kerr *e)
{
	int rc;

	if (!key || !*key || !value)
		return kerr_set(e, KE_INVALID, NULL, "meta key and value are required");
	if (!strcmp(key, SQ_META_RV) || !strcmp(key, SQ_META_FLOOR) || !strcmp(key, SQ_META_AUDIT_SEQ))
		return kerr_set(e, KE_INVALID, NULL, "setting %s is managed by the store", key);
	pthread_mutex_lock(&s->wlock);
	rc = sq_run(s->w, ST_BEGIN_IMMEDIATE, e);
	if (!rc) {
		rc = sq_meta_put(s->w, key, value, e);
		if (!rc)
			rc = sq_run(s->w, ST_COMMIT, e);
		if (rc && !sqlite3_get_autocommit(s->w->db))
			sq_run(s->w, ST_ROLLBACK, NULL);
	}
	pthread_mutex_unlock(&s->wlock);
	return rc;
}
