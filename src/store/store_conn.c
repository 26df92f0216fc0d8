/* Connections to the SQLite file: opening them with the right pragmas, the
 * per-connection statement cache, per-thread readers, and small helpers the
 * other backend files share. */
#include "store/sqlite_internal.h"
#include "core/buf.h"

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
	[ST_USER_GET] = "SELECT name, password_hash, org, role, created FROM users WHERE name = ?1",
	[ST_USER_PUT] = "INSERT INTO users(name, password_hash, role, org, created) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_SESSION_GET] = "SELECT user, org, role, csrf, expires FROM sessions WHERE hash = ?1 AND expires > ?2",
	[ST_SESSION_PUT] = "INSERT INTO sessions(hash, user, org, role, csrf, expires, created) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_SESSION_DELETE] = "DELETE FROM sessions WHERE hash = ?1",
	[ST_SESSION_PRUNE] = "DELETE FROM sessions WHERE expires <= ?1",
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

int sq_exec(sqlite3 *db, const char *sql, struct kerr *e)
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

void sq_conn_close(struct sconn *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	free(c);
}

int sq_conn_open(struct store *s, int reader, struct sconn **out, struct kerr *e)
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
		rc = sq_exec(c->db, "PRAGMA busy_timeout=5000; PRAGMA cache_size=-8192;"
			      "PRAGMA temp_store=MEMORY; PRAGMA query_only=1", e);
	} else {
		rc = enable_wal(c->db, e);
		if (!rc)
			rc = sq_exec(c->db, s->opt.sync_full ? "PRAGMA synchronous=FULL"
				      : "PRAGMA synchronous=NORMAL", e);
		if (!rc)
			rc = sq_exec(c->db, "PRAGMA busy_timeout=5000; PRAGMA cache_size=-65536;"
				      "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY", e);
	}
	if (rc)
		goto fail;
	*out = c;
	return 0;
fail:
	sq_conn_close(c);
	return rc;
}

/* Thread exit: the connection leaves the registry so store_close does not see it twice. */
void sq_reader_gone(void *p)
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
		sq_conn_close(c);
}

int sq_reader(struct store *s, struct sconn **out, struct kerr *e)
{
	struct sconn *c = pthread_getspecific(s->key);
	int rc;

	if (c) {
		*out = c;
		return 0;
	}
	rc = sq_conn_open(s, 1, &c, e);
	if (rc)
		return rc;
	pthread_mutex_lock(&s->rmu);
	c->next = s->readers;
	s->readers = c;
	pthread_mutex_unlock(&s->rmu);
	if (pthread_setspecific(s->key, c) != 0) {
		sq_reader_gone(c);
		return kerr_set(e, KE_NOMEM, NULL, "cannot attach a reader connection to this thread");
	}
	*out = c;
	return 0;
}

int sq_in_snapshot(struct sconn *c)
{
	sqlite3_stmt *p = NULL;

	if (c->depth > 0 || !sqlite3_get_autocommit(c->db))
		return 1;
	while ((p = sqlite3_next_stmt(c->db, p)))
		if (sqlite3_stmt_busy(p))
			return 1;
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

int sq_rows_done(struct sconn *c, int id, sqlite3_stmt *st, int step_rc, const char *what, json_t *res,
		 json_t **out, struct kerr *e)
{
	int rc;

	if (step_rc == SQLITE_DONE)
		rc = 0;
	else if (step_rc == KE_NOMEM)
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
	else
		rc = sq_err(c->db, step_rc, e, what);
	sq_release(c, id, st);
	if (rc)
		json_decref(res);
	else
		*out = res;
	return rc;
}
