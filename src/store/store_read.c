/* Reads on the calling thread's own connection: single objects, counts, the
 * event log (watch replay and the recent-activity feed) and tokens. */
#include "store/sqlite_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hot path: the cache first; on a miss one cached statement and a copy of the
 * stored text, no parsing, offered to the cache afterwards. */
int store_get(struct store *s, const char *kind, const char *ns, const char *name,
	      char **json, size_t *len, struct kerr *e)
{
	struct sconn *c;
	sqlite3_stmt *st;
	uint64_t epoch;
	size_t n = 0;
	int rc, fresh;

	*json = NULL;
	if (len)
		*len = 0;
	if (!kind || !name)
		return kerr_set(e, KE_INVALID, NULL, "kind and name are required");
	if (!ns)
		ns = "";
	rc = sq_cache_get(s->cache, kind, ns, name, json, &n);
	if (rc == KE_NOMEM)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	if (!rc) {
		if (len)
			*len = n;
		return 0;
	}
	epoch = sq_cache_epoch(s->cache);
	rc = sq_reader(s, &c, e);
	if (!rc)
		rc = sq_stmt(c, ST_GET, &st, e);
	if (rc)
		return rc;
	/* inside a caller's snapshot (e.g. a store_events_since callback) the row
	 * may predate commits the epoch cannot tell about: return it, cache nothing */
	fresh = !sq_in_snapshot(c);
	sq_bind_text(st, 1, kind);
	sq_bind_text(st, 2, ns);
	sq_bind_text(st, 3, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*json = sq_column_dup(st, 0, &n);
		rc = *json ? 0 : kerr_set(e, KE_NOMEM, NULL, "out of memory");
		if (len)
			*len = n;
	} else if (rc == SQLITE_DONE) {
		if (*ns)
			kerr_set(e, KE_NOTFOUND, NULL, "%s \"%s\" not found in namespace \"%s\"", kind, name, ns);
		else
			kerr_set(e, KE_NOTFOUND, NULL, "%s \"%s\" not found", kind, name);
		kerr_set_resource(e, kind, ns, name);
		rc = KE_NOTFOUND;
	} else {
		rc = sq_err(c->db, rc, e, "read object");
	}
	sq_release(c, ST_GET, st);
	if (!rc && fresh)
		sq_cache_fill(s->cache, epoch, kind, ns, name, *json, n);
	return rc;
}

static int add_count(json_t *out, const char *kind, const char *phase, json_int_t n)
{
	json_t *k = json_object_get(out, kind), *count;

	if (!k) {
		k = json_pack("{s:I, s:{}}", "count", (json_int_t)0, "phases");
		if (!k || json_object_set_new(out, kind, k))
			return KE_NOMEM;
	}
	count = json_object_get(k, "count");
	if (json_integer_set(count, json_integer_value(count) + n) ||
	    json_object_set_new(json_object_get(k, "phases"), phase, json_integer(n)))
		return KE_NOMEM;
	return 0;
}

int store_counts(struct store *s, const char *ns, json_t **out, struct kerr *e)
{
	enum sq_stmt_id id = ns ? ST_COUNTS_NS : ST_COUNTS_ALL;
	struct sconn *c;
	sqlite3_stmt *st;
	json_t *res;
	int rc;

	*out = NULL;
	rc = sq_reader(s, &c, e);
	if (!rc)
		rc = sq_stmt(c, id, &st, e);
	if (rc)
		return rc;
	res = json_object();
	if (!res) {
		sq_release(c, id, st);
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	if (ns)
		sq_bind_text(st, 1, ns);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		const char *phase = (const char *)sqlite3_column_text(st, 1);

		if (!kind || !phase || add_count(res, kind, phase, sqlite3_column_int64(st, 2))) {
			rc = KE_NOMEM;
			break;
		}
	}
	return sq_rows_done(c, id, st, rc, "count objects", res, out, e);
}

/* The floor check and the replay share one snapshot, so a prune committed
 * meanwhile cannot open a silent gap. */
int store_events_since(struct store *s, int64_t since,
		       int (*fn)(const struct store_event *ev, void *arg), void *arg,
		       struct kerr *e)
{
	struct sconn *c;
	sqlite3_stmt *st = NULL;
	int64_t floor;
	int rc;

	if (!fn || since < 0)
		return kerr_set(e, KE_INVALID, NULL, "invalid resourceVersion %" PRId64, since);
	rc = sq_reader(s, &c, e);
	if (rc)
		return rc;
	rc = sq_read_begin(c, e);
	if (rc)
		return rc;
	rc = sq_meta_int(c, SQ_META_FLOOR, &floor, e);
	if (rc)
		goto out;
	if (since < floor) {
		rc = kerr_set(e, KE_GONE, "EXPIRED", "resourceVersion %" PRId64 " is too old to resume; "
			      "the oldest resumable version is %" PRId64, since, floor);
		goto out;
	}
	rc = sq_stmt(c, ST_EVENTS_SINCE, &st, e);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_event ev;
		const char *type = (const char *)sqlite3_column_text(st, 1);

		ev.rv = sqlite3_column_int64(st, 0);
		/* hand out the static names so callers may compare pointers or strings */
		ev.type = !type ? "MODIFIED" : !strcmp(type, "ADDED") ? "ADDED"
			  : !strcmp(type, "DELETED") ? "DELETED" : "MODIFIED";
		ev.kind = (const char *)sqlite3_column_text(st, 2);
		ev.ns = (const char *)sqlite3_column_text(st, 3);
		ev.name = (const char *)sqlite3_column_text(st, 4);
		ev.json = (const char *)sqlite3_column_text(st, 5);
		ev.len = (size_t)sqlite3_column_bytes(st, 5);
		if (!ev.kind || !ev.ns || !ev.name || !ev.json) {
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
			goto out;
		}
		if (fn(&ev, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : sq_err(c->db, rc, e, "replay events");
out:
	sq_release(c, ST_EVENTS_SINCE, st);
	sq_read_end(c);
	return rc;
}

int store_recent_events(struct store *s, const char *ns, size_t limit, json_t **out, struct kerr *e)
{
	enum sq_stmt_id id = ns ? ST_RECENT_NS : ST_RECENT_ALL;
	struct sconn *c;
	sqlite3_stmt *st;
	json_t *arr;
	char rvs[24];
	int rc;

	*out = NULL;
	rc = sq_reader(s, &c, e);
	if (!rc)
		rc = sq_stmt(c, id, &st, e);
	if (rc)
		return rc;
	arr = json_array();
	if (!arr) {
		sq_release(c, id, st);
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	sqlite3_bind_int64(st, 1, limit ? (sqlite3_int64)limit : -1);
	if (ns)
		sq_bind_text(st, 2, ns);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *ev;

		snprintf(rvs, sizeof(rvs), "%" PRId64, (int64_t)sqlite3_column_int64(st, 4));
		ev = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s, s:s?}",
			       "type", (const char *)sqlite3_column_text(st, 0),
			       "kind", (const char *)sqlite3_column_text(st, 1),
			       "namespace", (const char *)sqlite3_column_text(st, 2),
			       "name", (const char *)sqlite3_column_text(st, 3),
			       "resourceVersion", rvs,
			       "time", (const char *)sqlite3_column_text(st, 5));
		if (!ev || json_array_append_new(arr, ev)) {
			rc = KE_NOMEM;
			break;
		}
	}
	return sq_rows_done(c, id, st, rc, "read events", arr, out, e);
}

int store_token_get(struct store *s, const char *hash_hex, struct token_info *out, struct kerr *e)
{
	struct sconn *c;
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!hash_hex)
		return kerr_set(e, KE_INVALID, NULL, "a token hash is required");
	rc = sq_reader(s, &c, e);
	if (!rc)
		rc = sq_stmt(c, ST_TOKEN_GET, &st, e);
	if (rc)
		return rc;
	sq_bind_text(st, 1, hash_hex);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int org_null = sqlite3_column_type(st, 2) == SQLITE_NULL;

		out->id = sq_column_dup(st, 0, NULL);
		out->user = sq_column_dup(st, 1, NULL);
		out->org = sq_column_dup(st, 2, NULL);
		out->role = sqlite3_column_int(st, 3);
		out->created = sqlite3_column_int64(st, 4);
		rc = 0;
		if (!out->id || !out->user || (!out->org && !org_null)) {
			token_info_free(out);
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		}
	} else if (rc == SQLITE_DONE) {
		rc = kerr_set(e, KE_NOTFOUND, NULL, "unknown token");
	} else {
		rc = sq_err(c->db, rc, e, "read token");
	}
	sq_release(c, ST_TOKEN_GET, st);
	return rc;
}

void token_info_free(struct token_info *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->user);
	free(t->org);
	memset(t, 0, sizeof(*t));
}
