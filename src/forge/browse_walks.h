/* A memo of commit walk orders for the commits browse (browse.c): the first
 * BROWSE_WALK_MAX commits of libgit2's topological+time walk from a tip, per
 * repository and tip. libgit2 has to read a tip's whole history before it
 * can yield the first commit in that order, so without the memo every page of
 * the log costs a full history walk.
 *
 * Entries are keyed by the tip's commit id, which names the whole history
 * below it, so they never go stale: a push moves the tip and so asks for a
 * new entry. At most BROWSE_WALK_ENTRIES are kept (least recently used go
 * first). Thread-safe; the memo belongs to the process and is emptied by
 * browse_walks_clear (browse_shutdown). */
#ifndef KRATE_FORGE_BROWSE_WALKS_H
#define KRATE_FORGE_BROWSE_WALKS_H

#include <stddef.h>
#include <git2.h>

#define BROWSE_WALK_MAX 10000
#define BROWSE_WALK_ENTRIES 16

/* Copies commits [skip, skip + n) of the order for (repo, tip) into out and
 * sets *more (whether the order goes on after them). Returns how many were
 * copied, or -1 when there is no entry or it does not reach that far. */
long browse_walks_get(const char *repo, const git_oid *tip, size_t skip, size_t n, git_oid *out, int *more);
/* Remembers the first n commits of the order (complete: the whole of it);
 * takes oids (malloc'd), which it frees when it cannot keep them. */
void browse_walks_put(const char *repo, const git_oid *tip, git_oid *oids, size_t n, int complete);
void browse_walks_clear(void);

#endif
