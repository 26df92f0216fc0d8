/* Read-only repository browsing with libgit2: branches, tags, trees, blobs,
 * the commit log and single commits with their diff, as JSON.
 *
 * The API checks authentication and visibility first (api_browse_fn and
 * api_browse_raw_fn); this
 * module opens the bare repository DATA/git/<org>/<repo>.git (one
 * git_repository per request, never shared between threads) and answers.
 * Responses and errors never contain filesystem paths. */
#ifndef KRATE_FORGE_BROWSE_H
#define KRATE_FORGE_BROWSE_H

#include <stddef.h>
#include "api/api.h"

#define BROWSE_TEXT_MAX (1024 * 1024)   /* blob text and patch text cap */

/* Initialises libgit2 (once per process; pair with browse_shutdown, whose
 * last call also empties the walk memo of browse_walks.h). */
int browse_init(void);
void browse_shutdown(void);
/* api_browse_fn; arg is the struct forge. *out is a new reference. */
int browse_json(void *forge, const struct api_browse_req *q, json_t **out, struct kerr *e);
/* api_browse_raw_fn: the blob's bytes (out->data malloc'd, the caller's). */
int browse_raw(void *forge, const struct api_browse_req *q, struct api_blob *out, struct kerr *e);

/* 1 if path is a repository-relative path whose components are neither
 * empty, "." nor ".." (no leading or trailing '/'). */
int browse_path_valid(const char *path);
/* 1 if ref is acceptable for resolving: a branch or tag name or a (short)
 * SHA. Refuses revision syntax (~ ^ : @{ ..) so a request cannot ask for
 * reflog or message searches. */
int browse_ref_valid(const char *ref);
/* The first line of a commit message (without the newline), length in *len. */
const char *browse_first_line(const char *msg, size_t *len);

#endif
