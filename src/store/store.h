/* The resource store: one interface, one backend per file (store_sqlite.c now,
 * PostgreSQL later). No SQL lives outside the backend.
 *
 * Objects are Kubernetes-style JSON documents identified by (kind, namespace,
 * name). The store owns the server-managed metadata fields:
 *   metadata.uid               set on create, kept on update
 *   metadata.creationTimestamp set on create (RFC 3339), kept on update
 *   metadata.resourceVersion   decimal string from one monotonic counter,
 *                              new on every write (also deletes)
 *   metadata.generation        1 on create, +1 only when spec changes;
 *                              a status update never moves it
 * Every committed write appends to the event log (ADDED, MODIFIED, DELETED)
 * and to the hash-chained audit log in the same transaction.
 *
 * Writes go through one writer thread that commits whatever is queued in one
 * transaction (group commit) and acknowledges only after the commit. store_get
 * answers from an in-memory cache that the writer updates after each commit;
 * misses and every other read use per-thread connections and never wait for
 * a commit.
 *
 * Ownership: strings and JSON returned through out-parameters belong to the
 * caller (free()/json_decref()); everything passed in is borrowed. */
#ifndef KRATE_STORE_H
#define KRATE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/err.h"

struct store;

struct store_options {
	const char *path;          /* SQLite database file */
	int sync_full;             /* 1: fsync every commit (power-loss safe); 0: WAL NORMAL (crash safe) */
	int64_t event_retention;   /* events kept for watch resume (default 100000) */
	size_t queue_max;          /* pending write batches before KE_RATELIMIT (default 4096) */
	size_t cache_bytes;        /* memory cap of the store_get cache (JSON text and keys);
	                            * 0 = default 64 MiB */
};

int store_open(const struct store_options *o, struct store **out, struct kerr *e);
/* Drains queued writes, stops the writer and closes every connection. */
void store_close(struct store *s);
/* 0 if the store answers a trivial query. */
int store_ping(struct store *s);

/* ---- reads ---- */

/* The stored object's JSON text (malloc'd, NUL-terminated). KE_NOTFOUND if absent. */
int store_get(struct store *s, const char *kind, const char *ns, const char *name,
	      char **json, size_t *len, struct kerr *e);

struct store_list_query {
	const char *kind;      /* NULL = every kind */
	const char *ns;        /* NULL = every namespace */
	const char *selector;  /* "k=v,k2=v2,k3!=v,k4" (exists); NULL = everything */
	size_t limit;          /* 0 = no limit */
	const char *cont;      /* continue token from a previous page, or NULL */
};

struct store_list_result {
	char **items;          /* JSON texts, each malloc'd */
	size_t *lens;
	size_t n;
	char *cont;            /* token for the next page, NULL on the last page */
	int64_t rv;            /* store resourceVersion the list reflects */
};

/* Ordered by (namespace, name) within a kind, kind first when kind is NULL.
 * A bad selector or continue token is KE_INVALID. */
int store_list(struct store *s, const struct store_list_query *q,
	       struct store_list_result *out, struct kerr *e);
void store_list_result_free(struct store_list_result *r);

/* Per-kind counts and status.phase histograms in one namespace (NULL = all):
 * {"Repository":{"count":3,"phases":{"Ready":2,"Unspecified":1}}, ...}. */
int store_counts(struct store *s, const char *ns, json_t **out, struct kerr *e);
/* {"objects":N,"events":N,"auditEntries":N,"bytes":N,"resourceVersion":N}. */
int store_stats(struct store *s, json_t **out, struct kerr *e);
int64_t store_current_rv(struct store *s);

/* ---- events (watch feed) ---- */

struct store_event {
	int64_t rv;
	const char *type;      /* "ADDED" | "MODIFIED" | "DELETED" */
	const char *kind;
	const char *ns;
	const char *name;
	const char *json;      /* object after the change; for DELETED the last state,
	                        * carrying the deletion's resourceVersion */
	size_t len;
};

typedef void (*store_event_fn)(const struct store_event *ev, void *arg);
/* Called on the writer thread after each commit, once per event, in rv order. */
void store_set_event_hook(struct store *s, store_event_fn fn, void *arg);
/* Replays logged events with rv > since, in order, until fn returns non-zero.
 * KE_GONE if events after `since` were already pruned. */
int store_events_since(struct store *s, int64_t since,
		       int (*fn)(const struct store_event *ev, void *arg), void *arg,
		       struct kerr *e);
/* Most recent events (newest first), at most limit, optionally one namespace:
 * array of {"type","kind","namespace","name","resourceVersion","time"}. */
int store_recent_events(struct store *s, const char *ns, size_t limit, json_t **out, struct kerr *e);

/* ---- tokens ---- */

struct token_info {
	char *id;              /* public id, e.g. "tok-1a2b3c4d" */
	char *user;
	char *org;             /* NULL: not bound to one org */
	int role;              /* enum role from model/kinds.h */
	int64_t created;       /* unix seconds */
};

/* Looks up a token by the hex SHA-256 of its secret. KE_NOTFOUND if unknown. */
int store_token_get(struct store *s, const char *hash_hex, struct token_info *out, struct kerr *e);
void token_info_free(struct token_info *t);

/* ---- console users and sessions ---- */

struct user_info {
	char *name;
	char *password_hash;   /* Argon2id string (crypto_pwhash_str format) */
	char *org;             /* NULL: not bound to one org */
	int role;              /* enum role from model/kinds.h */
	int64_t created;       /* unix seconds */
};

/* KE_NOTFOUND if there is no user of that name. */
int store_user_get(struct store *s, const char *name, struct user_info *out, struct kerr *e);
void user_info_free(struct user_info *u);

struct session_info {
	char *user;
	char *org;             /* NULL: not bound to one org */
	char *csrf;
	int role;              /* enum role */
	int64_t expires;       /* unix seconds */
};

/* Looks up a session by the hex SHA-256 of its cookie value. KE_NOTFOUND when
 * it is unknown or expired (expires <= now). */
int store_session_get(struct store *s, const char *hash_hex, int64_t now, struct session_info *out,
		      struct kerr *e);
void session_info_free(struct session_info *si);

/* ---- writes ---- */

enum store_op_type {
	STORE_OP_CREATE,       /* KE_CONFLICT if it exists */
	STORE_OP_UPDATE,       /* KE_NOTFOUND if absent */
	STORE_OP_APPLY,        /* create or update */
	STORE_OP_STATUS,       /* replace status only; KE_NOTFOUND if absent */
	STORE_OP_STATUS_MERGE, /* set the members of obj in status (null removes one); KE_NOTFOUND if absent */
	STORE_OP_DELETE,       /* KE_NOTFOUND if absent */
	STORE_OP_DELETE_NAMESPACE, /* delete every object in ns (kind/name unused) */
	STORE_OP_TOKEN,        /* store token_hash -> token */
	STORE_OP_USER,         /* insert user; KE_CONFLICT if the name is taken */
	STORE_OP_SESSION,      /* insert session_hash -> session */
	STORE_OP_SESSION_DELETE, /* delete session_hash; absent is not an error */
};

struct store_op {
	enum store_op_type type;
	const char *kind, *ns, *name;
	json_t *obj;           /* CREATE/UPDATE/APPLY: whole object; STATUS: the status value;
	                        * STATUS_MERGE: the members to set */
	int64_t expect_rv;     /* > 0: must equal the stored resourceVersion, else KE_CONFLICT */
	const char *token_hash;          /* STORE_OP_TOKEN */
	const struct token_info *token;  /* STORE_OP_TOKEN */
	const struct user_info *user;    /* STORE_OP_USER */
	const struct session_info *session; /* STORE_OP_SESSION */
	const char *session_hash;        /* STORE_OP_SESSION, STORE_OP_SESSION_DELETE */
	/* results */
	json_t *result;        /* stored object after the write (deleted object for DELETE);
	                        * NULL for DELETE_NAMESPACE, TOKEN, USER and SESSION*;
	                        * caller decrefs */
	int created;           /* 1 when APPLY created the object */
};

struct audit_entry {
	const char *actor;          /* user name or "anonymous" */
	const char *org;            /* org slug or NULL */
	const char *verb;           /* "create", "update", "delete", "status", "token.create", ... */
	const char *resource;       /* "Kind/namespace/name" or a description */
	const char *result;         /* "allowed" or "denied:<CODE>"; the store writes "failed:<CODE>" when ops fail */
	const char *correlation_id;
};

struct store_batch {
	struct store_op *ops;       /* may be NULL with n == 0: audit-only (a denied request) */
	size_t n;
	struct audit_entry audit;
	/* filled by the store before done() is called */
	int rc;
	struct kerr err;            /* caller clears */
	void (*done)(struct store_batch *b, void *arg); /* writer thread, after commit */
	void *arg;
	struct store_batch *next;   /* internal */
};

/* Queues the batch; all its ops commit atomically (or none do) together with
 * its audit entry. done() runs after the commit. KE_RATELIMIT when the queue
 * is full, KE_UNAVAILABLE when the store is closing: done() is then not called. */
int store_submit(struct store *s, struct store_batch *b);
/* store_submit and wait; returns b->rc. */
int store_write(struct store *s, struct store_batch *b);

/* ---- audit ---- */

/* Entries with seq > after (oldest first), at most limit, optionally one org:
 * array of {seq,time,actor,org,verb,resource,result,correlationId,prevHash,hash}. */
int store_audit_list(struct store *s, const char *org, int64_t after, size_t limit,
		     json_t **out, struct kerr *e);
/* Re-checks the whole chain: {"ok":bool,"entries":N,"firstBadSeq":N|null,"reason":s|null}. */
int store_audit_verify(struct store *s, json_t **out, struct kerr *e);

/* Expired sessions are deleted by the writer thread now and then (at most
 * once a minute, after a commit); store_session_get never returns them. */

/* ---- small persistent settings (e.g. "demo.seeded") ---- */
int store_meta_get(struct store *s, const char *key, char **value, struct kerr *e);
int store_meta_set(struct store *s, const char *key, const char *value, struct kerr *e);

#endif
