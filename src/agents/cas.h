/* Content-addressed blobs under DATA/cas/sha256/<2 hex>/<62 hex>: written once
 * (temporary file, fsync, rename), never changed; the name is the SHA-256 of
 * the content, so a reader can verify what it got. */
#ifndef KRATE_AGENTS_CAS_H
#define KRATE_AGENTS_CAS_H

#include <stddef.h>
#include "core/err.h"

#define CAS_DIGEST_SIZE 72   /* "sha256:" + 64 hex + NUL */
#define CAS_MAX (64 * 1024 * 1024)

/* Stores data; its digest ("sha256:<hex>") into digest. */
int cas_put(const char *data_dir, const void *data, size_t len, char digest[CAS_DIGEST_SIZE], struct kerr *e);
/* Reads a blob (malloc'd, NUL-terminated) after checking its digest; KE_NOTFOUND if absent. */
int cas_get(const char *data_dir, const char *digest, char **data, size_t *len, struct kerr *e);

#endif
