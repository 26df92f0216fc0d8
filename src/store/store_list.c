/* store_list: keyset paging over UNIQUE(kind, ns, name) with an opaque
 * continue token, and label selectors evaluated in C on the labels column. */
#include "store/sqlite_internal.h"
#include "core/util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKEN_LEN 4096

enum sel_op { SEL_EQ, SEL_NE, SEL_EXISTS, SEL_ABSENT };

struct sel_term {
	enum sel_op op;
	const char *key, *val;       /* point into selector.copy */
};

struct selector {
	struct sel_term *t;
	size_t n;
	char *copy;
};

/* Decoded continue token; the strings point into j. */
struct cont {
	json_t *j;
	const char *kind, *ns, *name;
	json_int_t rv;
};

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static int key_ok(const char *k)
{
	if (!*k)
		return 0;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '.' && *k != '_' && *k != '-' && *k != '/')
			return 0;
	return 1;
}

static int val_ok(const char *v)
{
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && *v != '.' && *v != '_' && *v != '-')
			return 0;
	return 1;
}

static void sel_free(struct selector *sel)
{
	free(sel->t);
	free(sel->copy);
	memset(sel, 0, sizeof(*sel));
}

/* Terms: k=v, k==v, k!=v, k (exists), !k (absent), separated by commas. */
static int sel_parse(const char *text, struct selector *sel, struct kerr *e)
{
	const char *p;
	char *term, *op, *save;
	size_t terms = 1;

	memset(sel, 0, sizeof(*sel));
	for (p = text; *p; p++)
		terms += *p == ',';
	sel->copy = strdup(text);
	sel->t = calloc(terms, sizeof(*sel->t));
	if (!sel->copy || !sel->t) {
		sel_free(sel);
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	/* strsep, unlike strtok, reports the empty terms of "a=b,,c" */
	save = sel->copy;
	while ((term = strsep(&save, ",")) != NULL) {
		struct sel_term *t = &sel->t[sel->n++];

		term = trim(term);
		t->val = "";
		if (term[0] == '!') {
			t->op = SEL_ABSENT;
			t->key = trim(term + 1);
		} else if ((op = strstr(term, "!="))) {
			*op = '\0';
			t->op = SEL_NE;
			t->val = trim(op + 2);
		} else if ((op = strstr(term, "=="))) {
			*op = '\0';
			t->op = SEL_EQ;
			t->val = trim(op + 2);
		} else if ((op = strchr(term, '='))) {
			*op = '\0';
			t->op = SEL_EQ;
			t->val = trim(op + 1);
		} else {
			t->op = SEL_EXISTS;
		}
		if (t->op != SEL_ABSENT)
			t->key = trim(term);
		if (!key_ok(t->key) || !val_ok(t->val)) {
			kerr_set(e, KE_INVALID, "BAD_REQUEST", "invalid label selector \"%.200s\": "
				 "expected comma-separated k=v, k==v, k!=v, k or !k", text);
			sel_free(sel);
			return KE_INVALID;
		}
	}
	return 0;
}

/* labels is the stored compact JSON object of metadata.labels. */
static int sel_match(const struct selector *sel, const char *labels, size_t len)
{
	json_t *j = json_loadb(labels ? labels : "", len, 0, NULL);
	size_t i;
	int ok = 1;

	for (i = 0; ok && i < sel->n; i++) {
		const struct sel_term *t = &sel->t[i];
		json_t *v = json_is_object(j) ? json_object_get(j, t->key) : NULL;
		const char *s = json_string_value(v);

		switch (t->op) {
		case SEL_EXISTS:
			ok = v != NULL;
			break;
		case SEL_ABSENT:
			ok = v == NULL;
			break;
		case SEL_EQ:
			ok = s && !strcmp(s, t->val);
			break;
		case SEL_NE:
			ok = !s || strcmp(s, t->val) != 0;
			break;
		}
	}
	json_decref(j);
	return ok;
}

static int cont_decode(const char *tok, const struct store_list_query *q, struct cont *c,
		       struct kerr *e)
{
	json_error_t jerr;
	unsigned char *raw = NULL;
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	if (strlen(tok) <= MAX_TOKEN_LEN)
		raw = util_b64url_decode(tok, &n);
	if (raw)
		c->j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, &jerr);
	free(raw);
	if (!c->j || json_unpack_ex(c->j, &jerr, JSON_STRICT, "{s:s, s:s, s:s, s:I}", "k", &c->kind,
				    "n", &c->ns, "m", &c->name, "rv", &c->rv) || c->rv < 0)
		goto bad;
	/* a token only continues the query that produced it */
	if ((q->kind && strcmp(q->kind, c->kind)) || (q->ns && strcmp(q->ns, c->ns)))
		goto bad;
	return 0;
bad:
	json_decref(c->j);
	memset(c, 0, sizeof(*c));
	return kerr_set(e, KE_INVALID, "BAD_REQUEST", "invalid continue token");
}

static char *cont_encode(const char *kind, const char *ns, const char *name, int64_t rv)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:I}", "k", kind, "n", ns, "m", name, "rv", (json_int_t)rv);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL, *tok = NULL;

	if (text)
		tok = util_b64url_encode(text, strlen(text));
	free(text);
	json_decref(j);
	return tok;
}

static int push_item(struct store_list_result *out, size_t *cap, sqlite3_stmt *st)
{
	char *item;
	size_t len;

	if (out->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		char **items = realloc(out->items, ncap * sizeof(*items));
		size_t *lens;

		if (!items)
			return KE_NOMEM;
		out->items = items;
		lens = realloc(out->lens, ncap * sizeof(*lens));
		if (!lens)
			return KE_NOMEM;
		out->lens = lens;
		*cap = ncap;
	}
	item = sq_column_dup(st, 4, &len);
	if (!item)
		return KE_NOMEM;
	out->items[out->n] = item;
	out->lens[out->n] = len;
	out->n++;
	return 0;
}

struct last_key {
	char *kind, *ns, *name;
};

static void last_key_free(struct last_key *k)
{
	free(k->kind);
	free(k->ns);
	free(k->name);
}

/* Scans from the continue position until limit matches are taken and one
 * more match proves there is a next page (or the table ends). */
static int scan(struct sconn *c, const struct store_list_query *q, const struct selector *sel,
		const struct cont *ct, struct store_list_result *out, struct last_key *last,
		int *more, struct kerr *e)
{
	enum sq_stmt_id id = ST_LIST + (q->kind ? 1 : 0) + (q->ns ? 2 : 0) + (ct->j ? 4 : 0);
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*more = 0;
	rc = sq_stmt(c, id, &st, e);
	if (rc)
		return rc;
	sq_bind_text(st, 1, q->kind);
	sq_bind_text(st, 2, q->ns);
	if (ct->j) {
		sq_bind_text(st, 3, ct->kind);
		sq_bind_text(st, 4, ct->ns);
		sq_bind_text(st, 5, ct->name);
	}
	sqlite3_bind_int64(st, 6, !sel->n && q->limit && q->limit < INT64_MAX
			   ? (sqlite3_int64)q->limit + 1 : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sel->n && !sel_match(sel, (const char *)sqlite3_column_text(st, 3),
					 (size_t)sqlite3_column_bytes(st, 3)))
			continue;
		if (q->limit && out->n == q->limit) {
			*more = 1;
			rc = SQLITE_DONE;
			break;
		}
		if (push_item(out, &cap, st)) {
			rc = KE_NOMEM;
			break;
		}
		if (q->limit && out->n == q->limit) {
			last->kind = sq_column_dup(st, 0, NULL);
			last->ns = sq_column_dup(st, 1, NULL);
			last->name = sq_column_dup(st, 2, NULL);
			if (!last->kind || !last->ns || !last->name) {
				rc = KE_NOMEM;
				break;
			}
		}
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc == KE_NOMEM)
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
	else
		rc = sq_err(c->db, rc, e, "list objects");
	sq_release(c, id, st);
	return rc;
}

int store_list(struct store *s, const struct store_list_query *q,
	       struct store_list_result *out, struct kerr *e)
{
	struct selector sel = { 0 };
	struct cont ct = { 0 };
	struct last_key last = { 0 };
	struct sconn *c;
	int64_t rv = 0;
	int rc, more = 0;

	memset(out, 0, sizeof(*out));
	if (!q)
		return kerr_set(e, KE_INVALID, NULL, "a list query is required");
	if (q->selector && *q->selector) {
		rc = sel_parse(q->selector, &sel, e);
		if (rc)
			return rc;
	}
	if (q->cont && *q->cont) {
		rc = cont_decode(q->cont, q, &ct, e);
		if (rc)
			goto out;
	}
	rc = sq_reader(s, &c, e);
	if (rc)
		goto out;
	rc = sq_read_begin(c, e);
	if (rc)
		goto out;
	/* later pages report the first page's version, so a watch started from it misses nothing */
	if (ct.j)
		rv = ct.rv;
	else
		rc = sq_meta_int(c, SQ_META_RV, &rv, e);
	if (!rc)
		rc = scan(c, q, &sel, &ct, out, &last, &more, e);
	sq_read_end(c);
	if (!rc && more) {
		out->cont = cont_encode(last.kind, last.ns, last.name, rv);
		if (!out->cont)
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	out->rv = rv;
out:
	if (rc)
		store_list_result_free(out);
	last_key_free(&last);
	json_decref(ct.j);
	sel_free(&sel);
	return rc;
}

void store_list_result_free(struct store_list_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->items[i]);
	free(r->items);
	free(r->lens);
	free(r->cont);
	memset(r, 0, sizeof(*r));
}
