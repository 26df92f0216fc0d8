#include "core/util.h"
#include "core/err.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* RFC 3339 needs a four-digit year, so clamp to 0000-01-01 .. 9999-12-31. */
#define RFC3339_MIN_SECONDS (-62167219200LL)
#define RFC3339_MAX_SECONDS 253402300799LL

void util_time_rfc3339(char out[32], int64_t unix_seconds)
{
	struct tm tm;
	time_t t;

	if (unix_seconds < RFC3339_MIN_SECONDS)
		unix_seconds = RFC3339_MIN_SECONDS;
	if (unix_seconds > RFC3339_MAX_SECONDS)
		unix_seconds = RFC3339_MAX_SECONDS;
	t = (time_t)unix_seconds;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, 32, "1970-01-01T00:00:00Z");
		return;
	}
	/* The fields are already in range after the clamp; the modulos only
	 * let the compiler prove the result fits in 32 bytes. */
	snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ",
		 (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
		 (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
		 (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}

int64_t util_now_seconds(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (int64_t)time(NULL);
	return (int64_t)ts.tv_sec;
}

uint64_t util_monotonic_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int util_random_bytes(void *out, size_t n)
{
	unsigned char *p = out;

	/* RAND_bytes takes an int length, so feed it in bounded chunks. */
	while (n > 0) {
		int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;

		if (RAND_bytes(p, chunk) != 1)
			return KE_INTERNAL;
		p += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

void util_hex(char *out, const void *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = in;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void util_sha256_hex(char out[65], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	/* Only fails when libcrypto itself is broken; an empty digest then
	 * never matches a real one. */
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		out[0] = '\0';
		return;
	}
	util_hex(out, md, 32);
}

int util_uuid(char out[37])
{
	unsigned char b[16];
	char hex[33];

	if (util_random_bytes(b, sizeof(b)) != 0) {
		out[0] = '\0';
		return KE_INTERNAL;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	util_hex(hex, b, sizeof(b));
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
	return 0;
}

int util_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t len, k;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4; cp = c & 0x07; min = 0x10000;
		} else {
			return 0; /* continuation byte, 0xc0/0xc1 overlong lead, or > U+10FFFF lead */
		}
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static int is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int util_dns_label(const char *s)
{
	size_t i, n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n == 0 || n > 63)
		return 0;
	if (!is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
		return 0;
	for (i = 1; i + 1 < n; i++)
		if (!is_alnum_lower(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *util_b64url_encode(const void *in, size_t n)
{
	const unsigned char *p = in;
	size_t i, o = 0;
	char *out;

	if (n > (SIZE_MAX - 1) / 4 * 3)
		return NULL;
	out = malloc((n + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];

		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		out[o++] = b64url_alphabet[(v >> 6) & 63];
		out[o++] = b64url_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8);

		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		out[o++] = b64url_alphabet[(v >> 6) & 63];
	}
	out[o] = '\0';
	return out;
}

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

unsigned char *util_b64url_decode(const char *in, size_t *outlen)
{
	size_t n, pad = 0, i, o = 0;
	unsigned char *out;
	uint32_t acc = 0;
	int bits = 0;

	if (!in)
		return NULL;
	n = strlen(in);
	while (pad < n && pad < 2 && in[n - 1 - pad] == '=')
		pad++;
	/* Padding, when present, must complete the last quantum exactly. */
	if (pad && n % 4 != 0)
		return NULL;
	n -= pad;
	if (n % 4 == 1)
		return NULL;
	out = malloc(n / 4 * 3 + 3);
	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		int v = b64url_value(in[i]);

		if (v < 0)
			goto fail;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero so every byte string has one encoding. */
	if (acc != 0)
		goto fail;
	if (outlen)
		*outlen = o;
	return out;
fail:
	free(out);
	return NULL;
}

char *util_slugify(const char *in)
{
	size_t i, o = 0, n = strlen(in);
	char *out = malloc(n + 1);
	int in_run = 0;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		char c = in[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (is_alnum_lower(c) || c == '-') {
			out[o++] = c;
			in_run = 0;
		} else if (!in_run) {
			out[o++] = '-';
			in_run = 1;
		}
	}
	out[o] = '\0';
	/* Trim leading dashes, cut to a DNS label's length, then trim trailing
	 * dashes so the cut cannot leave one at the end. */
	for (i = 0; out[i] == '-'; i++)
		;
	memmove(out, out + i, o - i + 1);
	o -= i;
	if (o > 63) {
		o = 63;
		out[o] = '\0';
	}
	while (o > 0 && out[o - 1] == '-')
		out[--o] = '\0';
	return out;
}

int util_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
