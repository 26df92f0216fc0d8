/* Small helpers shared by every module: time, randomness, hashing, encoding. */
#ifndef KRATE_UTIL_H
#define KRATE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Writes RFC 3339 UTC time "2026-11-25T08:00:00Z" (21 bytes incl. NUL). */
void util_time_rfc3339(char out[32], int64_t unix_seconds);
int64_t util_now_seconds(void);
/* Monotonic clock in nanoseconds. */
uint64_t util_monotonic_ns(void);
/* Fills out with n cryptographically random bytes; 0 or KE_INTERNAL. */
int util_random_bytes(void *out, size_t n);
/* Writes 2*n lowercase hex chars plus NUL into out (size >= 2n+1). */
void util_hex(char *out, const void *in, size_t n);
/* SHA-256 of data as 64 lowercase hex chars plus NUL. */
void util_sha256_hex(char out[65], const void *data, size_t len);
/* Random UUIDv4 string (36 chars plus NUL). */
int util_uuid(char out[37]);
/* 1 if the n bytes are well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int util_utf8_valid(const char *s, size_t n);
/* 1 if s is a DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 chars. */
int util_dns_label(const char *s);
/* base64url without padding; returns malloc'd string (caller frees) or NULL. */
char *util_b64url_encode(const void *in, size_t n);
/* Decodes base64url (padding optional); malloc'd result, *outlen set; NULL if invalid. */
unsigned char *util_b64url_decode(const char *in, size_t *outlen);
/* Org slug normalisation: lowercase, runs outside [a-z0-9-] -> '-', trim '-', cut to 63.
 * Returns malloc'd string (possibly empty) or NULL on OOM. */
char *util_slugify(const char *in);
/* Constant-time compare of two equal-length buffers; 1 if equal. */
int util_ct_equal(const void *a, const void *b, size_t n);

#endif
