/* Shared plumbing of the store unit tests: a store in a fresh temporary
 * directory, and single-op writes through store_write. All `static inline`
 * because CMake builds every unit test from its one .c file. */
#ifndef KRATE_TESTS_STORE_FIXTURE_H
#define KRATE_TESTS_STORE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "store/store.h"

struct store_fx {
	char dir[64];    /* /tmp/krate-<tag>-XXXXXX */
	char path[128];  /* <dir>/krate.db */
	struct store *s; /* NULL while closed */
};

/* Makes the temporary directory; opens nothing. */
static inline int store_fx_init(struct store_fx *f, const char *tag)
{
	f->s = NULL;
	snprintf(f->dir, sizeof(f->dir), "/tmp/krate-%s-XXXXXX", tag);
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/krate.db", f->dir);
	return 0;
}

/* Opens f->path with the options in *tweaks (NULL: all defaults; its path is
 * ignored). Does not close an open f->s. On failure f->s is NULL and the error
 * goes to *e if given, else to stderr. */
static inline int store_fx_open(struct store_fx *f, const struct store_options *tweaks,
				struct kerr *e)
{
	struct store_options o = { 0 };
	struct kerr own = KERR_INIT;
	int rc;

	if (tweaks)
		o = *tweaks;
	o.path = f->path;
	rc = store_open(&o, &f->s, e ? e : &own);
	if (rc && !e)
		fprintf(stderr, "store_open: %s\n", own.message ? own.message : "?");
	kerr_clear(&own);
	return rc;
}

/* Closes the store (if open) and removes the database, its -wal and -shm
 * files and the directory. Does not free f. */
static inline void store_fx_remove(struct store_fx *f)
{
	char p[160];

	store_close(f->s);
	f->s = NULL;
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	unlink(f->path);
	rmdir(f->dir);
}

/* A malloc'd fixture with its directory made and no store open (NULL on failure). */
static inline struct store_fx *store_fx_new(const char *tag)
{
	struct store_fx *f = calloc(1, sizeof(*f));

	if (f && store_fx_init(f, tag)) {
		free(f);
		return NULL;
	}
	return f;
}

/* cmocka setup: *state becomes a store_fx with the store open. */
static inline int store_fx_setup(void **state, const char *tag, const struct store_options *tweaks)
{
	struct store_fx *f = store_fx_new(tag);

	if (!f)
		return -1;
	if (store_fx_open(f, tweaks, NULL)) {
		store_fx_remove(f);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* cmocka teardown of store_fx_setup or store_fx_new. */
static inline int store_fx_teardown(void **state)
{
	struct store_fx *f = *state;

	store_fx_remove(f);
	free(f);
	return 0;
}

/* One op in its own batch through store_write; returns the batch's rc.
 * *result (if given) receives op.result, *created op.created, *e the error. */
static inline int write_op(struct store *s, enum store_op_type type, const char *kind,
			   const char *ns, const char *name, const char *json, int64_t expect,
			   json_t **result, int *created, struct kerr *e)
{
	struct store_op op = { 0 };
	struct store_batch b = { 0 };
	int rc;

	op.type = type;
	op.kind = kind;
	op.ns = ns;
	op.name = name;
	op.expect_rv = expect;
	if (json) {
		op.obj = json_loads(json, JSON_DECODE_ANY, NULL);
		assert_non_null(op.obj);
	}
	b.ops = &op;
	b.n = 1;
	b.audit.actor = "tester";
	b.audit.verb = "write";
	b.audit.resource = name ? name : "namespace";
	rc = store_write(s, &b);
	json_decref(op.obj);
	if (created)
		*created = op.created;
	if (result)
		*result = op.result;
	else
		json_decref(op.result);
	if (e)
		*e = b.err;
	else
		kerr_clear(&b.err);
	return rc;
}

/* write_op that must succeed (no expected resourceVersion); says why if not. */
static inline void must_write(struct store *s, enum store_op_type type, const char *kind,
			      const char *ns, const char *name, const char *json, json_t **result)
{
	struct kerr e = KERR_INIT;
	int rc = write_op(s, type, kind, ns, name, json, 0, result, NULL, &e);

	if (rc)
		fprintf(stderr, "write %s/%s failed: %s\n", kind, name, e.message);
	assert_int_equal(rc, 0);
	kerr_clear(&e);
}

#endif
