/* Private to the SQLite backend (src/store/store_*.c): the store struct, the
 * per-connection statement cache and the helpers the reader, list, writer,
 * op and audit files share. Nothing here is part of the store interface.
 *
 * Threading: the writer connection `w` and the writer-owned counters (rv,
 * audit_seq, audit_hash, event_count) are only touched with `wlock` held.
 * Reader connections are per thread (pthread key) and never shared. The read
 * cache (store_cache.c) has its own locks; only the writer thread changes what
 * it holds for committed writes. */
#ifndef KRATE_SQLITE_INTERNAL_H
#define KRATE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sqlite3.h>
#include "store/store.h"

/* 1: objects, events, audit, tokens, meta; 2: + users, sessions */
#define SQ_SCHEMA_VERSION 2
#define SQ_DEFAULT_RETENTION 100000
#define SQ_DEFAULT_QUEUE 4096
#define SQ_SESSION_SWEEP_SECONDS 60  /* how often the writer deletes expired sessions */
#define SQ_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* meta keys the store owns; store_meta_set refuses them */
#define SQ_META_RV "rv"                 /* last assigned resourceVersion */
#define SQ_META_FLOOR "events.floor"    /* oldest version a watch may resume from */
#define SQ_META_AUDIT_SEQ "audit.seq"   /* last audit seq, catches a truncated tail */

enum sq_stmt_id {
	ST_BEGIN, ST_BEGIN_IMMEDIATE, ST_COMMIT, ST_ROLLBACK,
	ST_SAVEPOINT, ST_ROLLBACK_TO, ST_RELEASE, ST_PING,
	ST_GET, ST_LOOKUP, ST_INSERT_OBJ, ST_UPDATE_OBJ, ST_DELETE_OBJ, ST_NS_OBJECTS,
	ST_INSERT_EVENT, ST_EVENTS_SINCE, ST_RECENT_ALL, ST_RECENT_NS,
	ST_COUNT_EVENTS, ST_MAX_RV, ST_PRUNE_CUTOFF, ST_PRUNE,
	ST_META_GET, ST_META_SET, ST_TOKEN_GET, ST_TOKEN_PUT,
	ST_USER_GET, ST_USER_PUT, ST_SESSION_GET, ST_SESSION_PUT, ST_SESSION_DELETE, ST_SESSION_PRUNE,
	ST_AUDIT_PUT, ST_AUDIT_HEAD, ST_AUDIT_ALL, ST_AUDIT_LIST_ALL, ST_AUDIT_LIST_ORG,
	ST_COUNTS_ALL, ST_COUNTS_NS, ST_STATS,
	/* eight list variants: ST_LIST + (kind ? 1 : 0) + (ns ? 2 : 0) + (continue ? 4 : 0) */
	ST_LIST,
	ST_COUNT = ST_LIST + 8
};

struct sq_cache;

struct sconn {
	sqlite3 *db;
	struct store *s;
	int depth;                        /* nesting of sq_read_begin on this connection */
	sqlite3_stmt *st[ST_COUNT];       /* cache, prepared on first use */
	unsigned char busy[ST_COUNT];     /* cached statement handed out and not yet released */
	struct sconn *next;               /* registry of reader connections */
};

struct store {
	struct store_options opt;         /* opt.path points at `path` */
	char *path;

	struct sconn *w;
	pthread_mutex_t wlock;
	int64_t rv;
	int64_t audit_seq;
	char audit_hash[65];
	int64_t event_count;
	int64_t session_prune_at;         /* unix seconds of the next expired-session sweep */
	_Atomic int64_t committed_rv;    /* rv visible to readers, for store_current_rv */

	pthread_mutex_t qmu;
	pthread_cond_t qcv;
	struct store_batch *head, *tail;
	size_t qlen;
	int stopping;
	pthread_t writer;
	int writer_started;

	pthread_mutex_t hmu;
	store_event_fn hook;
	void *hook_arg;

	struct sq_cache *cache;           /* store_get's cache; see store_cache.c */

	struct sconn *cp;                 /* checkpoint connection; see store_checkpoint.c */
	pthread_t cp_thread;
	int cp_started, cp_stop, cp_pending;
	pthread_mutex_t cp_mu;
	pthread_cond_t cp_cv;

	pthread_key_t key;
	int key_ok;
	pthread_mutex_t rmu;
	struct sconn *readers;
};

/* One change made by the current write group, fired after its commit. */
struct sq_event {
	int64_t rv;
	const char *type;
	char *kind, *ns, *name, *json;
	size_t len;
};

struct sq_events {
	struct sq_event *v;
	size_t n, cap;
};

/* State of one write group on the writer thread. */
struct sq_wctx {
	struct store *s;
	struct sq_events ev;
	char now[32];                     /* RFC 3339 time shared by every change in the group */
};

/* ---- connections and statements (store_conn.c) ---- */

/* Opens the writer (reader == 0) or a read-only reader connection with its pragmas. */
int sq_conn_open(struct store *s, int reader, struct sconn **out, struct kerr *e);
/* Finalizes the cached statements and closes; NULL is ignored. */
void sq_conn_close(struct sconn *c);
/* Thread-key destructor: unregisters and closes the exiting thread's reader. */
void sq_reader_gone(void *conn);
/* Runs SQL text without parameters (pragmas, schema). */
int sq_exec(sqlite3 *db, const char *sql, struct kerr *e);
/* Ends a loop over rows that built res: step_rc is the last sqlite3_step()
 * result (or KE_NOMEM). Releases the statement; on success hands res to
 * *out, else frees it and reports what failed. */
int sq_rows_done(struct sconn *c, int id, sqlite3_stmt *st, int step_rc, const char *what, json_t *res,
		 json_t **out, struct kerr *e);

/* Maps a SQLite result code to a KE_* code and sets "what: sqlite message". */
int sq_err(sqlite3 *db, int rc, struct kerr *e, const char *what);
/* Hands out the cached statement for id (or a private one when the cached one
 * is in use further up the stack); give it back with sq_release. */
int sq_stmt(struct sconn *c, enum sq_stmt_id id, sqlite3_stmt **out, struct kerr *e);
void sq_release(struct sconn *c, enum sq_stmt_id id, sqlite3_stmt *st);
/* Runs a statement that takes no parameters and returns no rows. */
int sq_run(struct sconn *c, enum sq_stmt_id id, struct kerr *e);
/* The calling thread's read-only connection, opened on first use. */
int sq_reader(struct store *s, struct sconn **out, struct kerr *e);
/* 1 when the connection already holds a read snapshot (an open transaction or
 * an unfinished statement), so its next read may be older than the latest commit. */
int sq_in_snapshot(struct sconn *c);
/* Nestable read transaction: one snapshot for several statements. */
int sq_read_begin(struct sconn *c, struct kerr *e);
void sq_read_end(struct sconn *c);
/* Integer value of a meta key, 0 when absent. */
int sq_meta_int(struct sconn *c, const char *key, int64_t *out, struct kerr *e);
int sq_meta_put(struct sconn *c, const char *key, const char *value, struct kerr *e);
/* Binds s, or SQL NULL when s is NULL; the text must outlive the step. */
int sq_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* malloc'd copy of a text column (NULL for SQL NULL or out of memory). */
char *sq_column_dup(sqlite3_stmt *st, int col, size_t *len);

/* ---- writes (store_writer.c, store_ops.c, store_audit.c) ---- */

/* Starts the writer thread; store_close stops it after the queue drains. */
int sq_writer_start(struct store *s, struct kerr *e);
/* store_checkpoint.c: WAL checkpoints off the writer's path. */
int sq_checkpointer_start(struct store *s, struct kerr *e);
void sq_checkpointer_stop(struct store *s);

/* Applies one op inside the open transaction; fills op->result/created and
 * appends to w->ev. On failure sets e (with the resource) and returns KE_*. */
int sq_exec_op(struct sq_wctx *w, struct store_op *op, struct kerr *e);
void sq_events_truncate(struct sq_events *ev, size_t n);
/* store_users.c: STORE_OP_USER, STORE_OP_SESSION and STORE_OP_SESSION_DELETE. */
int sq_exec_user_op(struct sq_wctx *w, struct store_op *op, struct kerr *e);
/* Writer thread, after a commit: deletes expired sessions at most every
 * SQ_SESSION_SWEEP_SECONDS (the first call after opening always sweeps). */
void sq_sessions_sweep(struct store *s);
/* Appends the next audit entry with the given result inside the open transaction. */
int sq_audit_append(struct store *s, const struct audit_entry *a, const char *result,
		    const char *now, struct kerr *e);

/* ---- read cache (store_cache.c) ---- */

/* cap 0 = the default (64 MiB). KE_NOMEM on failure. */
int sq_cache_new(size_t cap, struct sq_cache **out);
void sq_cache_free(struct sq_cache *c);
/* A hit: *json gets a malloc'd copy (caller frees). KE_NOTFOUND on a miss, KE_NOMEM. */
int sq_cache_get(struct sq_cache *c, const char *kind, const char *ns, const char *name,
		 char **json, size_t *len);
/* Readers: take the epoch before reading SQLite on a miss, then offer what was
 * read; the fill is dropped if a commit may have happened in between. */
uint64_t sq_cache_epoch(struct sq_cache *c);
void sq_cache_fill(struct sq_cache *c, uint64_t epoch, const char *kind, const char *ns,
		   const char *name, const char *json, size_t len);
/* Writer thread, around the COMMIT of a group that changed objects: begin right
 * before COMMIT with the group's events (their keys leave the cache, so no
 * reader is served an old version once the new one may be in SQLite), end
 * after it with the same events (NULL if it failed), before anyone learns of
 * the commit. */
void sq_cache_commit_begin(struct sq_cache *c, const struct sq_events *ev);
void sq_cache_commit_end(struct sq_cache *c, const struct sq_events *ev);

struct sq_cache_stats {
	size_t entries, bytes, cap;
};
void sq_cache_stats(struct sq_cache *c, struct sq_cache_stats *out);

#endif
