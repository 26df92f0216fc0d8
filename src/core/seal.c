#include "core/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The base64 of the largest box (nonce, MAC, SEAL_MAX_PLAIN bytes) fits;
 * bounds the decoded buffer. */
#define SEAL_MAX_B64 ((SEAL_MAX_PLAIN + 64u) / 3u * 4u + 8u)

struct seal {
	unsigned char *key;      /* crypto_secretbox_KEYBYTES, sodium_malloc'd */
};

static int read_exact(int fd, unsigned char *out, size_t n)
{
	size_t got = 0;
	unsigned char extra;
	ssize_t r;

	while (got < n) {
		r = read(fd, out + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	/* A longer file is not a key this code wrote. */
	do
		r = read(fd, &extra, 1);
	while (r < 0 && errno == EINTR);
	return r == 0 ? 0 : -1;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A new key file; the exclusive create means a key is never overwritten. */
static int create_key(const char *path, unsigned char *key, struct kerr *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return errno == EEXIST ? KE_CONFLICT : kerr_set(e, KE_IO, NULL, "cannot create %s: %s", path,
								 strerror(errno));
	randombytes_buf(key, crypto_secretbox_KEYBYTES);
	if (fchmod(fd, 0600) || write_all(fd, key, crypto_secretbox_KEYBYTES) || fsync(fd)) {
		int err = errno;

		close(fd);
		unlink(path);
		return kerr_set(e, KE_IO, NULL, "cannot write %s: %s", path, strerror(err));
	}
	if (close(fd)) {
		unlink(path);
		return kerr_set(e, KE_IO, NULL, "cannot write %s", path);
	}
	return 0;
}

static int read_key(const char *path, unsigned char *key, struct kerr *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	int rc = 0;

	if (fd < 0)
		return kerr_set(e, KE_IO, NULL, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		rc = kerr_set(e, KE_IO, NULL, "%s is not a regular file", path);
	else if (st.st_mode & 077)
		rc = kerr_set(e, KE_IO, NULL, "%s may be read by others; make it mode 0600", path);
	else if (read_exact(fd, key, crypto_secretbox_KEYBYTES))
		rc = kerr_set(e, KE_IO, NULL, "%s is not a %d-byte key", path, crypto_secretbox_KEYBYTES);
	close(fd);
	return rc;
}

int seal_load(const char *data_dir, struct seal **out, struct kerr *e)
{
	char path[PATH_MAX];
	struct seal *s;
	int rc;

	*out = NULL;
	if (sodium_init() < 0)
		return kerr_set(e, KE_INTERNAL, NULL, "libsodium cannot be initialised");
	if (snprintf(path, sizeof(path), "%s/%s", data_dir, SEAL_KEY_FILE) >= (int)sizeof(path))
		return kerr_set(e, KE_IO, NULL, "the data path is too long");
	s = calloc(1, sizeof(*s));
	if (!s || !(s->key = sodium_malloc(crypto_secretbox_KEYBYTES))) {
		free(s);
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	rc = create_key(path, s->key, e);
	if (rc == KE_CONFLICT)
		rc = read_key(path, s->key, e);
	if (rc) {
		seal_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void seal_free(struct seal *s)
{
	if (!s)
		return;
	sodium_free(s->key);
	free(s);
}

int seal_seal(const struct seal *s, const void *plaintext, size_t n, char **b64, struct kerr *e)
{
	size_t clen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n, b64len;
	unsigned char *box;

	*b64 = NULL;
	if (n > SEAL_MAX_PLAIN)
		return kerr_set(e, KE_INVALID, NULL, "the value is too long to seal");
	box = malloc(clen);
	b64len = sodium_base64_ENCODED_LEN(clen, sodium_base64_VARIANT_ORIGINAL);
	*b64 = malloc(b64len);
	if (!box || !*b64) {
		free(box);
		free(*b64);
		*b64 = NULL;
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, plaintext, n, box, s->key);
	sodium_bin2base64(*b64, b64len, box, clen, sodium_base64_VARIANT_ORIGINAL);
	free(box);
	return 0;
}

int seal_open(const struct seal *s, const char *b64, unsigned char **plaintext, size_t *n, struct kerr *e)
{
	size_t blen = b64 ? strlen(b64) : 0, clen = 0;
	unsigned char *box = NULL, *pt = NULL;
	int rc = 0;

	*plaintext = NULL;
	*n = 0;
	if (!blen || blen > SEAL_MAX_B64)
		return kerr_set(e, KE_INVALID, NULL, "not a sealed value");
	box = malloc(blen);
	if (!box)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	if (sodium_base642bin(box, blen, b64, blen, NULL, &clen, NULL, sodium_base64_VARIANT_ORIGINAL) ||
	    clen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
		rc = kerr_set(e, KE_INVALID, NULL, "not a sealed value");
		goto out;
	}
	pt = malloc(clen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES + 1);
	if (!pt) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	if (crypto_secretbox_open_easy(pt, box + crypto_secretbox_NONCEBYTES, clen - crypto_secretbox_NONCEBYTES, box,
				       s->key)) {
		free(pt);
		pt = NULL;
		rc = kerr_set(e, KE_INVALID, NULL, "the sealed value cannot be opened with this server's key");
		goto out;
	}
	*n = clen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	pt[*n] = '\0';
	*plaintext = pt;
out:
	free(box);
	return rc;
}
