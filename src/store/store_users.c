/* Console users and sessions: their reads on the caller's connection, their
 * write ops inside the writer's transaction, and the sweep of expired sessions. */
#include "store/sqlite_internal.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

int store_user_get(struct store *s, const char *name, struct user_info *out, struct kerr *e)
{
	struct sconn *c;
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!name)
		return kerr_set(e, KE_INVALID, NULL, "a user name is required");
	rc = sq_reader(s, &c, e);
	if (!rc)
		rc = sq_stmt(c, ST_USER_GET, &st, e);
	if (rc)
		return rc;
	sq_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int org_null = sqlite3_column_type(st, 2) == SQLITE_NULL;

		out->name = sq_column_dup(st, 0, NULL);
		out->password_hash = sq_column_dup(st, 1, NULL);
		out->org = sq_column_dup(st, 2, NULL);
		out->role = sqlite3_column_int(st, 3);
		out->created = sqlite3_column_int64(st, 4);
		rc = 0;
		if (!out->name || !out->password_hash || (!out->org && !org_null)) {
			user_info_free(out);
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		}
	} else if (rc == SQLITE_DONE) {
		rc = kerr_set(e, KE_NOTFOUND, NULL, "unknown user");
	} else {
		rc = sq_err(c->db, rc, e, "read user");
	}
	sq_release(c, ST_USER_GET, st);
	return rc;
}

void user_info_free(struct user_info *u)
{
	if (!u)
		return;
	free(u->name);
	free(u->password_hash);
	free(u->org);
	memset(u, 0, sizeof(*u));
}

int store_session_get(struct store *s, const char *hash_hex, int64_t now, struct session_info *out,
		      struct kerr *e)
{
	struct sconn *c;
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!hash_hex)
		return kerr_set(e, KE_INVALID, NULL, "a session hash is required");
	rc = sq_reader(s, &c, e);
	if (!rc)
		rc = sq_stmt(c, ST_SESSION_GET, &st, e);
	if (rc)
		return rc;
	sq_bind_text(st, 1, hash_hex);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int org_null = sqlite3_column_type(st, 1) == SQLITE_NULL;

		out->user = sq_column_dup(st, 0, NULL);
		out->org = sq_column_dup(st, 1, NULL);
		out->role = sqlite3_column_int(st, 2);
		out->csrf = sq_column_dup(st, 3, NULL);
		out->expires = sqlite3_column_int64(st, 4);
		rc = 0;
		if (!out->user || !out->csrf || (!out->org && !org_null)) {
			session_info_free(out);
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		}
	} else if (rc == SQLITE_DONE) {
		rc = kerr_set(e, KE_NOTFOUND, NULL, "unknown or expired session");
	} else {
		rc = sq_err(c->db, rc, e, "read session");
	}
	sq_release(c, ST_SESSION_GET, st);
	return rc;
}

void session_info_free(struct session_info *si)
{
	if (!si)
		return;
	free(si->user);
	free(si->org);
	free(si->csrf);
	memset(si, 0, sizeof(*si));
}

static int op_user(struct sconn *c, const struct store_op *op, struct kerr *e)
{
	const struct user_info *u = op->user;
	sqlite3_stmt *st;
	int rc;

	if (!u || !u->name || !*u->name || !u->password_hash || !*u->password_hash)
		return kerr_set(e, KE_INVALID, NULL, "a user needs a name and a password hash");
	rc = sq_stmt(c, ST_USER_PUT, &st, e);
	if (rc)
		return rc;
	sq_bind_text(st, 1, u->name);
	sq_bind_text(st, 2, u->password_hash);
	sqlite3_bind_int(st, 3, u->role);
	sq_bind_text(st, 4, u->org);
	sqlite3_bind_int64(st, 5, u->created > 0 ? u->created : util_now_seconds());
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if ((rc & 0xff) == SQLITE_CONSTRAINT)
		rc = kerr_set(e, KE_CONFLICT, NULL, "user \"%s\" already exists", u->name);
	else
		rc = sq_err(c->db, rc, e, "store user");
	sq_release(c, ST_USER_PUT, st);
	if (rc)
		kerr_set_resource(e, "User", NULL, u->name);
	return rc;
}

static int op_session(struct sconn *c, const struct store_op *op, struct kerr *e)
{
	const struct session_info *si = op->session;
	sqlite3_stmt *st;
	int rc;

	if (!op->session_hash || !*op->session_hash || !si || !si->user || !si->csrf)
		return kerr_set(e, KE_INVALID, NULL, "a session needs a hash, a user and a CSRF token");
	rc = sq_stmt(c, ST_SESSION_PUT, &st, e);
	if (rc)
		return rc;
	sq_bind_text(st, 1, op->session_hash);
	sq_bind_text(st, 2, si->user);
	sq_bind_text(st, 3, si->org);
	sqlite3_bind_int(st, 4, si->role);
	sq_bind_text(st, 5, si->csrf);
	sqlite3_bind_int64(st, 6, si->expires);
	sqlite3_bind_int64(st, 7, util_now_seconds());
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if ((rc & 0xff) == SQLITE_CONSTRAINT)
		rc = kerr_set(e, KE_CONFLICT, NULL, "a session with this cookie already exists");
	else
		rc = sq_err(c->db, rc, e, "store session");
	sq_release(c, ST_SESSION_PUT, st);
	return rc;
}

static int op_session_delete(struct sconn *c, const struct store_op *op, struct kerr *e)
{
	sqlite3_stmt *st;
	int rc;

	if (!op->session_hash || !*op->session_hash)
		return kerr_set(e, KE_INVALID, NULL, "a session hash is required");
	rc = sq_stmt(c, ST_SESSION_DELETE, &st, e);
	if (rc)
		return rc;
	sq_bind_text(st, 1, op->session_hash);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : sq_err(c->db, rc, e, "delete session");
	sq_release(c, ST_SESSION_DELETE, st);
	return rc;
}

int sq_exec_user_op(struct sq_wctx *w, struct store_op *op, struct kerr *e)
{
	switch (op->type) {
	case STORE_OP_USER:
		return op_user(w->s->w, op, e);
	case STORE_OP_SESSION:
		return op_session(w->s->w, op, e);
	case STORE_OP_SESSION_DELETE:
		return op_session_delete(w->s->w, op, e);
	default:
		return kerr_set(e, KE_INVALID, NULL, "not a user or session operation: %d", (int)op->type);
	}
}

/* One statement in autocommit mode; a failure is simply retried next time. */
void sq_sessions_sweep(struct store *s)
{
	int64_t now = util_now_seconds();
	struct sconn *c = s->w;
	sqlite3_stmt *st;

	if (now < s->session_prune_at)
		return;
	s->session_prune_at = now + SQ_SESSION_SWEEP_SECONDS;
	if (sq_stmt(c, ST_SESSION_PRUNE, &st, NULL))
		return;
	sqlite3_bind_int64(st, 1, now);
	(void)sqlite3_step(st);
	sq_release(c, ST_SESSION_PRUNE, st);
}
