/* Console passwords: Argon2id hashes in libsodium's crypto_pwhash_str format
 * (salt and parameters inside the string), with the interactive limits.
 *
 * Each hash or verify takes about 64 MiB and tens of milliseconds, so at most
 * PASSWORD_MAX_CONCURRENT run at once; further callers wait their turn, which
 * bounds the memory a flood of sign-ins can take. */
#ifndef KRATE_PASSWORD_H
#define KRATE_PASSWORD_H

#define PASSWORD_MAX_CONCURRENT 4
/* Longer input is refused (hashing cost does not depend on it; storage does). */
#define PASSWORD_MAX_BYTES 1024
/* Length of password_generate's output: base64url of 15 random bytes. */
#define PASSWORD_GENERATED_LEN 20

/* Hashes pw into *out (malloc'd, caller frees). 0, KE_INVALID (NULL or longer
 * than PASSWORD_MAX_BYTES), KE_NOMEM or KE_INTERNAL (libsodium unusable). */
int password_hash(const char *pw, char **out);
/* 1 if pw matches hash, else 0 (also for a NULL or malformed hash). */
int password_verify(const char *hash, const char *pw);
/* A random password of PASSWORD_GENERATED_LEN base64url characters in *out
 * (malloc'd, caller frees). 0, KE_NOMEM or KE_INTERNAL. */
int password_generate(char **out);

#endif
