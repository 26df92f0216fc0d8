/* SQLite backend: opening and closing the store, the schema, connections and
 * their statement caches, plus the small reads that need nothing else
 * (ping, stats, meta). */
#include "store/sqlite_internal.h"
#include "core/buf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUDIT_COLS "seq, time, actor, org, verb, resource, result, correlation_id, prev_hash, hash"

static const char *const sql_text[ST_LIST] = {
	[ST_BEGIN] = "BEGIN",
	[ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT b",
	[ST_ROLLBACK_TO] = "ROLLBACK TO b",
	[ST_RELEASE] = "RELEASE b",
	[ST_PING] = "SELECT 1",
	[ST_GET] = "SELECT body FROM objects WHERE kind = ?1 AND ns = ?2 AND name = ?3",
	[ST_LOOKUP] = "SELECT id, rv, body FROM objects WHERE kind = ?1 AND ns = ?2 AND name = ?3",
	[ST_INSERT_OBJ] = "INSERT INTO objects(kind, ns, name, rv, phase, labels, body) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_UPDATE_OBJ] = "UPDATE objects SET rv = ?2, phase = ?3, labels = ?4, body = ?5 WHERE id = ?1",
	[ST_DELETE_OBJ] = "DELETE FROM objects WHERE id = ?1",
	[ST_NS_OBJECTS] = "SELECT id, kind, name, body FROM objects WHERE ns = ?1 ORDER BY kind, name",
	[ST_INSERT_EVENT] = "INSERT INTO events(rv, type, kind, ns, name, time, body) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_EVENTS_SINCE] = "SELECT rv, type, kind, ns, name, body FROM events WHERE rv > ?1 ORDER BY rv",
	[ST_RECENT_ALL] = "SELECT type, kind, ns, name, rv, time FROM events ORDER BY rv DESC LIMIT ?1",
	[ST_RECENT_NS] = "SELECT type, kind, ns, name, rv, time FROM events WHERE ns = ?2 "
			 "ORDER BY rv DESC LIMIT ?1",
	[ST_COUNT_EVENTS] = "SELECT count(*) FROM events",
	[ST_MAX_RV] = "SELECT max(coalesce((SELECT max(rv) FROM events), 0), "
		      "coalesce((SELECT max(rv) FROM objects), 0))",
	[ST_PRUNE_CUTOFF] = "SELECT rv FROM events ORDER BY rv DESC LIMIT 1 OFFSET ?1",
	[ST_PRUNE] = "DELETE FROM events WHERE rv <= ?1",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
			"ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[ST_TOKEN_GET] = "SELECT id, user, org, role, created FROM tokens WHERE hash = ?1",
	[ST_TOKEN_PUT] = "INSERT INTO tokens(hash, id, user, org, role, created) "
			 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_AUDIT_PUT] = "INSERT INTO audit(" AUDIT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_AUDIT_HEAD] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
	[ST_AUDIT_ALL] = "SELECT " AUDIT_COLS " FROM audit ORDER BY seq",
	[ST_AUDIT_LIST_ALL] = "SELECT " AUDIT_COLS " FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	[ST_AUDIT_LIST_ORG] = "SELECT " AUDIT_COLS " FROM audit WHERE seq > ?1 AND org = ?3 "
			      "ORDER BY seq LIMIT ?2",
	[ST_COUNTS_ALL] = "SELECT kind, coalesce(phase, 'Unspecified'), count(*) FROM objects GROUP BY 1, 2",
	[ST_COUNTS_NS] = "SELECT kind, coalesce(phase, 'Unspecified'), count(*) FROM objects "
			 "WHERE ns = ?1 GROUP BY 1, 2",
	[ST_STATS] = "SELECT (SELECT count(*) FROM objects), (SELECT count(*) FROM events), "
		     "(SELECT count(*) FROM audit), "
		     "(SELECT page_count * page_size FROM pragma_page_count, pragma_page_size)",
};

/* Rowid table (not WITHOUT ROWID): the probe measured it twice as fast for
 * ~0.5 KB bodies. objects_ns serves per-namespace counts, lists and deletes. */
static const char schema_sql[] =
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

int sq_err(sqlite3 *db, int rc, struct kerr *e, const char *what)
{
	int k;

	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		k = KE_NOMEM;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		k = KE_UNAVAILABLE;
		break;
	case SQLITE_CONSTRAINT:
		k = KE_CONFLICT;
		break;
	default:
		k = KE_IO;
	}
	return kerr_set(e, k, NULL, "%s: %s", what,
			db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static int list_sql(int variant, struct buf *b)
{
	int rc = buf_addstr(b, "SELECT kind, ns, name, labels, body FROM objects WHERE 1");

	if (!rc && (variant & 1))
		rc = buf_addstr(b, " AND kind = ?1");
	if (!rc && (variant & 2))
		rc = buf_addstr(b, " AND ns = ?2");
	if (!rc && (variant & 4))
		rc = buf_addstr(b, " AND (kind, ns, name) > (?3, ?4, ?5)");
	if (!rc)
		rc = buf_addstr(b, " ORDER BY kind, ns, name LIMIT ?6");
	return rc;
}

int sq_stmt(struct sconn *c, enum sq_stmt_id id, sqlite3_stmt **out, struct kerr *e)
{
	struct buf b = BUF_INIT(0);
	const char *sql;
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if (c->st[id] && !c->busy[id]) {
		c->busy[id] = 1;
		*out = c->st[id];
		return 0;
	}
	if (id >= ST_LIST) {
		if (list_sql((int)(id - ST_LIST), &b)) {
			buf_free(&b);
			return kerr_set(e, KE_NOMEM, NULL, "out of memory");
		}
		sql = b.data;
	} else {
		sql = sql_text[id];
	}
	rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	buf_free(&b);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return sq_err(c->db, rc, e, "prepare");
	}
	if (!c->st[id]) {
		c->st[id] = st;
		c->busy[id] = 1;
	}
	*out = st;
	return 0;
}

void sq_release(struct sconn *c, enum sq_stmt_id id, sqlite3_stmt *st)
{
	if (!st)
		return;
	if (st == c->st[id]) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		c->busy[id] = 0;
	} else {
		sqlite3_finalize(st);
	}
}

int sq_run(struct sconn *c, enum sq_stmt_id id, struct kerr *e)
{
	sqlite3_stmt *st;
	int rc = sq_stmt(c, id, &st, e);

	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		rc = 0;
	else
		rc = sq_err(c->db, rc, e, id < ST_LIST ? sql_text[id] : "list");
	sq_release(c, id, st);
	return rc;
}

int sq_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (!s)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
}

char *sq_column_dup(sqlite3_stmt *st, int col, size_t *len)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	char *p;

	if (len)
		*len = 0;
	if (!t)
		return NULL;
	p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, t, n);
	p[n] = '\0';
	if (len)
		*len = n;
	return p;
}

int sq_meta_int(struct sconn *c, const char *key, int64_t *out, struct kerr *e)
{
	sqlite3_stmt *st;
	int rc = sq_stmt(c, ST_META_GET, &st, e);

	*out = 0;
	if (rc)
		return rc;
	sq_bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = sq_err(c->db, rc, e, "read meta");
	}
	sq_release(c, ST_META_GET, st);
	return rc;
}

int sq_meta_put(struct sconn *c, const char *key, const char *value, struct kerr *e)
{
	sqlite3_stmt *st;
	int rc = sq_stmt(c, ST_META_SET, &st, e);

	if (rc)
		return rc;
	sq_bind_text(st, 1, key);
	sq_bind_text(st, 2, value);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : sq_err(c->db, rc, e, "write meta");
	sq_release(c, ST_META_SET, st);
	return rc;
}

static int exec_sql(sqlite3 *db, const char *sql, struct kerr *e)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sq_err(db, rc, e, "configure database");
}

/* journal_mode answers with the mode it ended up in rather than failing. */
static int enable_wal(sqlite3 *db, struct kerr *e)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);

	if (rc != SQLITE_OK) {
		rc = sq_err(db, rc, e, "enable WAL");
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = sq_err(db, rc, e, "enable WAL");
		goto out;
	}
	mode = sqlite3_column_text(st, 0);
	rc = 0;
	if (!mode || strcasecmp((const char *)mode, "wal") != 0)
		rc = kerr_set(e, KE_IO, "INTERNAL", "database cannot use WAL journaling (mode is %s)",
			      mode ? (const char *)mode : "unknown");
out:
	sqlite3_finalize(st);
	return rc;
}

static void conn_close(struct sconn *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	free(c);
}

static int conn_open(struct store *s, int reader, struct sconn **out, struct kerr *e)
{
	int flags = SQLITE_OPEN_NOMUTEX |
		    (reader ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	struct sconn *c;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	c->s = s;
	rc = sqlite3_open_v2(s->path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		rc = kerr_set(e, KE_IO, "INTERNAL", "cannot open database %s: %s", s->path,
			      c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		goto fail;
	}
	if (reader) {
		rc = exec_sql(c->db, "PRAGMA busy_timeout=5000; PRAGMA cache_size=-8192;"
			      "PRAGMA temp_store=MEMORY; PRAGMA query_only=1", e);
	} else {
		rc = enable_wal(c->db, e);
		if (!rc)
			rc = exec_sql(c->db, s->opt.sync_full ? "PRAGMA synchronous=FULL"
				      : "PRAGMA synchronous=NORMAL", e);
		if (!rc)
			rc = exec_sql(c->db, "PRAGMA busy_timeout=5000; PRAGMA cache_size=-65536;"
				      "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY", e);
	}
	if (rc)
		goto fail;
	*out = c;
	return 0;
fail:
	conn_close(c);
	return rc;
}

/* Thread exit: the connection leaves the registry so store_close does not see it twice. */
static void reader_gone(void *p)
{
	struct sconn *c = p, **pp;
	struct store *s = c->s;
	int found = 0;

	pthread_mutex_lock(&s->rmu);
	for (pp = &s->readers; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&s->rmu);
	if (found)
		conn_close(c);
}

int sq_reader(struct store *s, struct sconn **out, struct kerr *e)
{
	struct sconn *c = pthread_getspecific(s->key);
	int rc;

	if (c) {
		*out = c;
		return 0;
	}
	rc = conn_open(s, 1, &c, e);
	if (rc)
		return rc;
	pthread_mutex_lock(&s->rmu);
	c->next = s->readers;
	s->readers = c;
	pthread_mutex_unlock(&s->rmu);
	if (pthread_setspecific(s->key, c) != 0) {
		reader_gone(c);
		return kerr_set(e, KE_NOMEM, NULL, "cannot attach a reader connection to this thread");
	}
	*out = c;
	return 0;
}

int sq_read_begin(struct sconn *c, struct kerr *e)
{
	int rc;

	if (c->depth++ > 0)
		return 0;
	rc = sq_run(c, ST_BEGIN, e);
	if (rc)
		c->depth = 0;
	return rc;
}

void sq_read_end(struct sconn *c)
{
	if (c->depth <= 0 || --c->depth > 0)
		return;
	if (sq_run(c, ST_COMMIT, NULL))
		sq_run(c, ST_ROLLBACK, NULL);
}

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
	if (version != 0)
		return kerr_set(e, KE_IO, "INTERNAL", "database schema version %d is not supported "
				"(this build uses %d)", version, SQ_SCHEMA_VERSION);
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SQ_SCHEMA_VERSION);
	rc = exec_sql(s->w->db, "BEGIN IMMEDIATE", e);
	if (rc)
		return rc;
	rc = exec_sql(s->w->db, schema_sql, e);
	if (!rc)
		rc = exec_sql(s->w->db, sql, e);
	if (!rc)
		rc = exec_sql(s->w->db, "COMMIT", e);
	if (rc)
		sqlite3_exec(s->w->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* The counters the writer continues from; meta 'rv' covers versions whose
 * events were pruned and whose objects were deleted. */
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

static void store_free(struct store *s)
{
	struct sconn *c;

	if (s->key_ok)
		pthread_key_delete(s->key);
	pthread_mutex_lock(&s->rmu);
	while ((c = s->readers)) {
		s->readers = c->next;
		conn_close(c);
	}
	pthread_mutex_unlock(&s->rmu);
	conn_close(s->w);
	pthread_mutex_destroy(&s->wlock);
	pthread_mutex_destroy(&s->qmu);
	pthread_cond_destroy(&s->qcv);
	pthread_mutex_destroy(&s->hmu);
	pthread_mutex_destroy(&s->rmu);
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
	if (pthread_key_create(&s->key, reader_gone) != 0) {
		rc = kerr_set(e, KE_INTERNAL, NULL, "cannot create a thread key");
		goto fail;
	}
	s->key_ok = 1;
	rc = conn_open(s, 0, &s->w, e);
	if (!rc)
		rc = schema_init(s, e);
	if (!rc)
		rc = load_state(s, e);
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
