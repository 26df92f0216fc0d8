/* Content-addressed blobs: a round trip returns the bytes under their
 * SHA-256, files and directories are private, and a changed blob or a bad
 * digest is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agents/cas.h"
#include "core/util.h"

static int setup(void **state)
{
	char *dir = strdup("/tmp/krate-cas-XXXXXX");

	if (!dir || !mkdtemp(dir))
		return -1;
	*state = dir;
	return 0;
}

/* Removes DATA/cas/sha256/<xx>/<blob> trees the tests made. */
static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char sub[512];

	if (!d) {
		unlink(path);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		rm_tree(sub);
	}
	closedir(d);
	rmdir(path);
}

static int teardown(void **state)
{
	rm_tree(*state);
	free(*state);
	return 0;
}

static void blob_path(const char *dir, const char *digest, char *out, size_t n)
{
	snprintf(out, n, "%s/cas/sha256/%.2s/%s", dir, digest + 7, digest + 9);
}

static void test_round_trip(void **state)
{
	const char *dir = *state, text[] = "redacted layer text\n";
	char digest[CAS_DIGEST_SIZE], again[CAS_DIGEST_SIZE], hex[65], path[512];
	struct kerr e = KERR_INIT;
	struct stat st;
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(cas_put(dir, text, strlen(text), digest, &e), 0);
	util_sha256_hex(hex, text, strlen(text));
	assert_memory_equal(digest, "sha256:", 7);
	assert_string_equal(digest + 7, hex);
	assert_int_equal(cas_get(dir, digest, &data, &len, &e), 0);
	assert_int_equal(len, strlen(text));
	assert_string_equal(data, text);
	free(data);

	/* Written once: the same content names the same blob. */
	assert_int_equal(cas_put(dir, text, strlen(text), again, &e), 0);
	assert_string_equal(digest, again);

	blob_path(dir, digest, path, sizeof path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof path, "%s/cas/sha256", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* The empty blob too. */
	assert_int_equal(cas_put(dir, NULL, 0, digest, &e), 0);
	assert_int_equal(cas_get(dir, digest, &data, &len, &e), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
	kerr_clear(&e);
}

static void test_tamper_and_bad_digests(void **state)
{
	const char *dir = *state, text[] = "patch artifact";
	char digest[CAS_DIGEST_SIZE], path[512];
	struct kerr e = KERR_INIT;
	char *data = NULL;
	size_t len = 0;
	int fd;

	assert_int_equal(cas_put(dir, text, strlen(text), digest, &e), 0);
	blob_path(dir, digest, path, sizeof path);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "!", 1), 1);
	close(fd);
	assert_int_equal(cas_get(dir, digest, &data, &len, &e), KE_INTERNAL);
	assert_string_equal(e.code, "CAS_DIGEST_MISMATCH");
	assert_null(data);
	kerr_clear(&e);

	/* Absent. */
	assert_int_equal(cas_get(dir, "sha256:0000000000000000000000000000000000000000000000000000000000000000", &data,
				 &len, &e), KE_NOTFOUND);
	kerr_clear(&e);
	/* Not a digest: never becomes a path. */
	assert_int_equal(cas_get(dir, "sha256:../../etc/passwd", &data, &len, &e), KE_INVALID);
	kerr_clear(&e);
	assert_int_equal(cas_get(dir, "sha256:ABCDEF0000000000000000000000000000000000000000000000000000000000", &data,
				 &len, &e), KE_INVALID);
	kerr_clear(&e);
	assert_int_equal(cas_get(dir, "md5:00", &data, &len, &e), KE_INVALID);
	kerr_clear(&e);
	assert_int_equal(cas_get(dir, NULL, &data, &len, &e), KE_INVALID);
	kerr_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_and_bad_digests, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
