/* Content-addressed blobs: DATA/cas/sha256/<2 hex>/<62 hex>. */
#include "agents/cas.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"

#define CAS_PREFIX "sha256:"
#define CAS_PREFIX_LEN 7

/* 1 when digest is "sha256:" followed by exactly 64 lowercase hex digits:
 * it becomes a path, so nothing else may get through. */
static int digest_valid(const char *digest)
{
	if (!digest || strncmp(digest, CAS_PREFIX, CAS_PREFIX_LEN) != 0)
		return 0;
	const char *h = digest + CAS_PREFIX_LEN;
	size_t i;
	for (i = 0; h[i]; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	return i == 64;
}

static int mkdir_one(const char *path, struct kerr *e)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return kerr_set(e, KE_IO, NULL, "cannot create the blob directory: %s", strerror(errno));
}

/* DATA/cas/sha256/<2 hex> created as needed, each level 0700. */
static int make_dirs(const char *data_dir, const char *hex, struct buf *dir, struct kerr *e)
{
	static const char *const levels[] = { "/cas", "/sha256", "/" };
	int rc = buf_addstr(dir, data_dir);
	if (rc == 0)
		rc = mkdir_one(dir->data, e);
	for (size_t i = 0; rc == 0 && i < sizeof levels / sizeof levels[0]; i++) {
		rc = buf_addstr(dir, levels[i]);
		if (rc == 0 && i == 2)
			rc = buf_add(dir, hex, 2);
		if (rc == 0)
			rc = mkdir_one(dir->data, e);
	}
	if (rc < 0 && !e->kcode)
		kerr_set(e, rc, NULL, "blob path too long");
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cas_put(const char *data_dir, const void *data, size_t len, char digest[CAS_DIGEST_SIZE], struct kerr *e)
{
	struct buf dir = BUF_INIT(4096), path = BUF_INIT(4096), tmp = BUF_INIT(4096);
	char hex[65], rnd[17];
	unsigned char rb[8];
	int fd = -1, rc;
	struct stat st;

	if (!data_dir || (!data && len) || !digest)
		return kerr_set(e, KE_INVALID, NULL, "cas_put: missing argument");
	if (len > CAS_MAX)
		return kerr_set(e, KE_TOOBIG, NULL, "blob of %zu bytes is over the %d byte limit", len, CAS_MAX);
	util_sha256_hex(hex, data ? data : "", len);
	rc = make_dirs(data_dir, hex, &dir, e);
	if (rc < 0)
		goto cleanup;
	rc = buf_printf(&path, "%s/%s", dir.data, hex + 2);
	if (rc < 0) {
		kerr_set(e, rc, NULL, "blob path too long");
		goto cleanup;
	}
	/* Written once: an existing blob already has this content (its name says so). */
	if (stat(path.data, &st) == 0 && S_ISREG(st.st_mode))
		goto done;
	rc = util_random_bytes(rb, sizeof rb);
	if (rc < 0) {
		kerr_set(e, rc, NULL, "no randomness for a temporary file");
		goto cleanup;
	}
	util_hex(rnd, rb, sizeof rb);
	rc = buf_printf(&tmp, "%s/.tmp-%s", dir.data, rnd);
	if (rc < 0) {
		kerr_set(e, rc, NULL, "blob path too long");
		goto cleanup;
	}
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = kerr_set(e, KE_IO, NULL, "cannot create a temporary blob: %s", strerror(errno));
		goto cleanup;
	}
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		rc = kerr_set(e, KE_IO, NULL, "cannot write a blob: %s", strerror(errno));
		goto cleanup;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = kerr_set(e, KE_IO, NULL, "cannot write a blob: %s", strerror(errno));
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp.data, path.data) < 0) {
		rc = kerr_set(e, KE_IO, NULL, "cannot store a blob: %s", strerror(errno));
		goto cleanup;
	}
	buf_reset(&tmp);
done:
	snprintf(digest, CAS_DIGEST_SIZE, CAS_PREFIX "%s", hex);
	rc = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		unlink(tmp.data);
	buf_free(&dir);
	buf_free(&path);
	buf_free(&tmp);
	return rc;
}

int cas_get(const char *data_dir, const char *digest, char **data, size_t *len, struct kerr *e)
{
	struct buf path = BUF_INIT(4096), content = BUF_INIT((size_t)CAS_MAX + 1);
	char hex[65], chunk[65536];
	const char *want;
	int fd = -1, rc;

	if (!data_dir || !data || !len)
		return kerr_set(e, KE_INVALID, NULL, "cas_get: missing argument");
	*data = NULL;
	*len = 0;
	if (!digest_valid(digest))
		return kerr_set(e, KE_INVALID, NULL, "not a sha256 digest");
	want = digest + CAS_PREFIX_LEN;
	rc = buf_printf(&path, "%s/cas/sha256/%.2s/%s", data_dir, want, want + 2);
	if (rc < 0) {
		kerr_set(e, rc, NULL, "blob path too long");
		goto cleanup;
	}
	fd = open(path.data, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			rc = kerr_set(e, KE_NOTFOUND, NULL, "no blob %s", digest);
		else
			rc = kerr_set(e, KE_IO, NULL, "cannot open a blob: %s", strerror(errno));
		goto cleanup;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = kerr_set(e, KE_IO, NULL, "cannot read a blob: %s", strerror(errno));
			goto cleanup;
		}
		if (r == 0)
			break;
		rc = buf_add(&content, chunk, (size_t)r);
		if (rc < 0) {
			kerr_set(e, rc, NULL, "blob %s is over the size limit", digest);
			goto cleanup;
		}
	}
	util_sha256_hex(hex, content.data ? content.data : "", content.len);
	if (strcmp(hex, want) != 0) {
		rc = kerr_set(e, KE_INTERNAL, "CAS_DIGEST_MISMATCH", "blob %s does not match its digest", digest);
		goto cleanup;
	}
	*data = buf_detach(&content, len);
	if (!*data) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	buf_free(&path);
	buf_free(&content);
	return rc;
}
