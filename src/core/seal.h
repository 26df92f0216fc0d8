/* Sealing small secrets at rest (libsodium crypto_secretbox).
 *
 * One 32-byte key per data directory, in DATA/secret.key: created on first
 * load (O_CREAT|O_EXCL, mode 0600, random bytes), reused afterwards; a key
 * file that others may read, or of the wrong size, is refused rather than
 * replaced. A sealed value is base64 (standard alphabet, padded) of
 * nonce || ciphertext, so the same plaintext seals differently every time.
 *
 * Ownership: struct seal owns its key (guarded memory, wiped on free);
 * strings and buffers returned through out-parameters belong to the caller.
 * Opened plaintext is secret: wipe it with sodium_memzero before free(). */
#ifndef KRATE_SEAL_H
#define KRATE_SEAL_H

#include <stddef.h>
#include "core/err.h"

#define SEAL_KEY_FILE "secret.key"
/* The longest plaintext seal_seal takes (webhook secrets, Secret values). */
#define SEAL_MAX_PLAIN (64u * 1024u)

struct seal;

/* Loads DIR/secret.key, creating it when absent. KE_IO when it cannot be
 * created or read, or is unsafe (group/other access, wrong size). */
int seal_load(const char *data_dir, struct seal **out, struct kerr *e);
void seal_free(struct seal *s);

/* Seals n bytes of plaintext into *b64 (malloc'd NUL-terminated string);
 * KE_INVALID when n > SEAL_MAX_PLAIN. */
int seal_seal(const struct seal *s, const void *plaintext, size_t n, char **b64, struct kerr *e);
/* Opens a sealed value: *plaintext (malloc'd, n bytes plus a NUL so text can
 * be used as a C string) and *n. KE_INVALID when b64 is malformed, was sealed
 * under another key or was altered. */
int seal_open(const struct seal *s, const char *b64, unsigned char **plaintext, size_t *n, struct kerr *e);

#endif
