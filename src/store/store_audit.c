/* The hash-chained audit log. Each entry's hash covers its own fields and the
 * previous entry's hash, so editing, removing or reordering rows breaks the
 * chain; rows are only ever inserted. */
#include "store/sqlite_internal.h"
#include "core/buf.h"
#include "core/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_TIME, F_ACTOR, F_ORG, F_VERB, F_RESOURCE, F_RESULT, F_CID, F_PREV, F_COUNT };

/* Canonical form: a version tag, the seq, then every field as "<length>:<bytes>;"
 * ("-;" for NULL); the length prefixes make the encoding unambiguous. */
static int audit_digest(char out[65], int64_t seq, const char *const f[F_COUNT])
{
	struct buf b = BUF_INIT(0);
	int rc = buf_printf(&b, "krate-audit-v1;%" PRId64 ";", seq);
	size_t i;

	for (i = 0; !rc && i < F_COUNT; i++) {
		if (!f[i]) {
			rc = buf_addstr(&b, "-;");
			continue;
		}
		rc = buf_printf(&b, "%zu:", strlen(f[i]));
		if (!rc)
			rc = buf_addstr(&b, f[i]);
		if (!rc)
			rc = buf_addch(&b, ';');
	}
	if (!rc)
		util_sha256_hex(out, b.data, b.len);
	buf_free(&b);
	return rc;
}

/* The log must stay readable as JSON, so bytes of an invalid UTF-8 string
 * become '?'. Returns s itself when it is fine, else a copy kept in *own. */
static const char *utf8_clean(const char *s, char **own)
{
	size_t i, n;

	*own = NULL;
	if (!s)
		return NULL;
	n = strlen(s);
	if (util_utf8_valid(s, n))
		return s;
	*own = malloc(n + 1);
	if (!*own)
		return NULL;
	for (i = 0; i < n; i++)
		(*own)[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	(*own)[n] = '\0';
	return *own;
}

int sq_audit_append(struct store *s, const struct audit_entry *a, const char *result,
		    const char *now, struct kerr *e)
{
	const char *src[F_COUNT] = {
		[F_TIME] = now,
		[F_ACTOR] = a->actor ? a->actor : "anonymous",
		[F_ORG] = a->org,
		[F_VERB] = a->verb ? a->verb : "",
		[F_RESOURCE] = a->resource ? a->resource : "",
		[F_RESULT] = result,
		[F_CID] = a->correlation_id,
		[F_PREV] = s->audit_hash,
	};
	const char *f[F_COUNT];
	char *own[F_COUNT] = { 0 };
	struct sconn *c = s->w;
	int64_t seq = s->audit_seq + 1;
	sqlite3_stmt *st;
	char hash[65];
	size_t i;
	int rc = 0;

	for (i = 0; i < F_COUNT; i++) {
		f[i] = utf8_clean(src[i], &own[i]);
		if (src[i] && !f[i])
			rc = KE_NOMEM;
	}
	if (rc || audit_digest(hash, seq, f)) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	rc = sq_stmt(c, ST_AUDIT_PUT, &st, e);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, seq);
	for (i = 0; i < F_COUNT; i++)
		sq_bind_text(st, (int)i + 2, f[i]);
	sq_bind_text(st, 10, hash);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : sq_err(c->db, rc, e, "append audit entry");
	sq_release(c, ST_AUDIT_PUT, st);
	if (!rc) {
		s->audit_seq = seq;
		memcpy(s->audit_hash, hash, sizeof(hash));
	}
out:
	for (i = 0; i < F_COUNT; i++)
		free(own[i]);
	return rc;
}

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Columns in AUDIT_COLS order: seq, then the F_* fields, then hash. */
static json_t *row_json(sqlite3_stmt *st)
{
	return json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}",
			 "seq", (json_int_t)sqlite3_column_int64(st, 0),
			 "time", col(st, 1), "actor", col(st, 2), "org", col(st, 3),
			 "verb", col(st, 4), "resource", col(st, 5), "result", col(st, 6),
			 "correlationId", col(st, 7), "prevHash", col(st, 8), "hash", col(st, 9));
}

int store_audit_list(struct store *s, const char *org, int64_t after, size_t limit,
		     json_t **out, struct kerr *e)
{
	enum sq_stmt_id id = org ? ST_AUDIT_LIST_ORG : ST_AUDIT_LIST_ALL;
	struct sconn *c;
	sqlite3_stmt *st;
	json_t *arr;
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
	sqlite3_bind_int64(st, 1, after > 0 ? after : 0);
	sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
	if (org)
		sq_bind_text(st, 3, org);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = row_json(st);

		if (!row || json_array_append_new(arr, row)) {
			rc = KE_NOMEM;
			break;
		}
	}
	return sq_rows_done(c, id, st, rc, "read audit log", arr, out, e);
}

/* Checks one row against the chain so far; 0 if it fits, else sets reason. */
static int check_row(sqlite3_stmt *st, int64_t expect, const char *prev, char *reason, size_t rlen)
{
	int64_t seq = sqlite3_column_int64(st, 0);
	const char *f[F_COUNT];
	const char *stored_prev = col(st, 8), *stored_hash = col(st, 9);
	char hash[65];
	int i;

	if (seq != expect) {
		snprintf(reason, rlen, "entry %" PRId64 " is missing (the next entry is %" PRId64 ")",
			 expect, seq);
		return -1;
	}
	if (!stored_prev || strcmp(stored_prev, prev)) {
		snprintf(reason, rlen, "entry %" PRId64 " does not link to the hash of entry %" PRId64,
			 seq, seq - 1);
		return -1;
	}
	for (i = 0; i < F_COUNT; i++)
		f[i] = col(st, i + 1);
	if (audit_digest(hash, seq, f)) {
		snprintf(reason, rlen, "out of memory while hashing entry %" PRId64, seq);
		return -1;
	}
	if (!stored_hash || strcmp(stored_hash, hash)) {
		snprintf(reason, rlen, "entry %" PRId64 " does not match its hash", seq);
		return -1;
	}
	return 0;
}

int store_audit_verify(struct store *s, json_t **out, struct kerr *e)
{
	struct sconn *c;
	sqlite3_stmt *st = NULL;
	int64_t head, expect = 1, entries = 0, bad = 0;
	char prev[65] = SQ_ZERO_HASH, reason[160] = "";
	int rc;

	*out = NULL;
	rc = sq_reader(s, &c, e);
	if (rc)
		return rc;
	rc = sq_read_begin(c, e);
	if (rc)
		return rc;
	rc = sq_meta_int(c, SQ_META_AUDIT_SEQ, &head, e);
	if (!rc)
		rc = sq_stmt(c, ST_AUDIT_ALL, &st, e);
	if (rc)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *h = col(st, 9);

		entries++;
		if (bad)
			continue;
		if (check_row(st, expect, prev, reason, sizeof(reason))) {
			bad = expect;
			continue;
		}
		snprintf(prev, sizeof(prev), "%s", h ? h : "");
		expect++;
	}
	rc = rc == SQLITE_DONE ? 0 : sq_err(c->db, rc, e, "read audit log");
	if (rc)
		goto out;
	/* the chain cannot show a cut-off tail; the head seq kept in meta can */
	if (!bad && head >= expect) {
		bad = expect;
		snprintf(reason, sizeof(reason), "entries %" PRId64 " to %" PRId64 " are missing",
			 expect, head);
	}
	*out = json_pack("{s:b, s:I, s:o, s:o}", "ok", !bad, "entries", (json_int_t)entries,
			 "firstBadSeq", bad ? json_integer(bad) : json_null(),
			 "reason", bad ? json_string(reason) : json_null());
	if (!*out)
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
out:
	sq_release(c, ST_AUDIT_ALL, st);
	sq_read_end(c);
	return rc;
}
