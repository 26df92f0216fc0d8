/* The walk-order memo (see browse_walks.h): a small LRU table under one lock. */
#include "forge/browse_walks.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct walk {
	char *repo;          /* repository path; NULL: a free slot */
	git_oid tip;
	git_oid *oids;       /* the first n commits of the order */
	size_t n;
	int complete;        /* n is the whole history */
	uint64_t used;       /* last use, for eviction */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct walk walks[BROWSE_WALK_ENTRIES];
static uint64_t ticks;

static void walk_free(struct walk *w)
{
	free(w->repo);
	free(w->oids);
	memset(w, 0, sizeof(*w));
}

/* The entry for (repo, tip), or NULL. Under lock. */
static struct walk *find(const char *repo, const git_oid *tip)
{
	size_t i;

	for (i = 0; i < BROWSE_WALK_ENTRIES; i++)
		if (walks[i].repo && !git_oid_cmp(&walks[i].tip, tip) && !strcmp(walks[i].repo, repo))
			return &walks[i];
	return NULL;
}

long browse_walks_get(const char *repo, const git_oid *tip, size_t skip, size_t n, git_oid *out, int *more)
{
	struct walk *w;
	long got = -1;

	pthread_mutex_lock(&lock);
	w = find(repo, tip);
	if (w && (skip + n < w->n || w->complete)) {
		size_t end = skip + n < w->n ? skip + n : w->n;

		got = skip < end ? (long)(end - skip) : 0;
		if (got)
			memcpy(out, w->oids + skip, (size_t)got * sizeof(*out));
		*more = skip + n < w->n || !w->complete;
		w->used = ++ticks;
	}
	pthread_mutex_unlock(&lock);
	return got;
}

void browse_walks_put(const char *repo, const git_oid *tip, git_oid *oids, size_t n, int complete)
{
	struct walk *w;
	char *copy = strdup(repo);
	size_t i;

	if (!copy) {
		free(oids);
		return;
	}
	pthread_mutex_lock(&lock);
	/* the same key again, else a free slot, else the least recently used */
	w = find(repo, tip);
	if (!w) {
		for (i = 0; i < BROWSE_WALK_ENTRIES && walks[i].repo; i++)
			;
		w = &walks[i < BROWSE_WALK_ENTRIES ? i : 0];
		for (i = 1; w->repo && i < BROWSE_WALK_ENTRIES; i++)
			if (walks[i].used < w->used)
				w = &walks[i];
	}
	walk_free(w);
	w->repo = copy;
	w->tip = *tip;
	w->oids = oids;
	w->n = n;
	w->complete = complete;
	w->used = ++ticks;
	pthread_mutex_unlock(&lock);
}

void browse_walks_clear(void)
{
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < BROWSE_WALK_ENTRIES; i++)
		walk_free(&walks[i]);
	pthread_mutex_unlock(&lock);
}
