/* Sealed secrets: a round trip opens the plaintext, another key or an
 * altered value does not, and the key file is private and kept. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/seal.h"

struct dirs {
	char a[64], b[64];
};

static void rm_dir(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, SEAL_KEY_FILE);
	unlink(path);
	rmdir(dir);
}

static int setup(void **state)
{
	struct dirs *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	strcpy(d->a, "/tmp/krate-seal-XXXXXX");
	strcpy(d->b, "/tmp/krate-seal-XXXXXX");
	if (!mkdtemp(d->a) || !mkdtemp(d->b)) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dirs *d = *state;

	rm_dir(d->a);
	rm_dir(d->b);
	free(d);
	return 0;
}

static struct seal *load(const char *dir)
{
	struct kerr e = KERR_INIT;
	struct seal *s = NULL;

	assert_int_equal(seal_load(dir, &s, &e), 0);
	assert_non_null(s);
	kerr_clear(&e);
	return s;
}

static void test_round_trip(void **state)
{
	struct dirs *d = *state;
	struct seal *s = load(d->a);
	struct kerr e = KERR_INIT;
	char *b1 = NULL, *b2 = NULL;
	unsigned char *pt = NULL;
	size_t n;

	assert_int_equal(seal_seal(s, "hunter2-secret", 14, &b1, &e), 0);
	assert_null(strstr(b1, "hunter2"));
	/* a fresh nonce every time */
	assert_int_equal(seal_seal(s, "hunter2-secret", 14, &b2, &e), 0);
	assert_string_not_equal(b1, b2);
	assert_int_equal(seal_open(s, b1, &pt, &n, &e), 0);
	assert_int_equal(n, 14);
	assert_string_equal((char *)pt, "hunter2-secret");
	free(pt);
	/* empty plaintext is fine too */
	free(b2);
	assert_int_equal(seal_seal(s, "", 0, &b2, &e), 0);
	assert_int_equal(seal_open(s, b2, &pt, &n, &e), 0);
	assert_int_equal(n, 0);
	free(pt);
	free(b1);
	free(b2);
	seal_free(s);
}

static void test_wrong_key_and_tampering(void **state)
{
	struct dirs *d = *state;
	struct seal *s = load(d->a), *other = load(d->b);
	struct kerr e = KERR_INIT;
	char *b = NULL;
	unsigned char *pt = (unsigned char *)"untouched";
	size_t n = 7, len;

	assert_int_equal(seal_seal(s, "top secret", 10, &b, &e), 0);
	assert_int_equal(seal_open(other, b, &pt, &n, &e), KE_INVALID);
	assert_null(pt);
	assert_int_equal(n, 0);
	kerr_clear(&e);
	/* flip one character of the ciphertext part */
	len = strlen(b);
	b[len / 2] = b[len / 2] == 'A' ? 'B' : 'A';
	assert_int_equal(seal_open(s, b, &pt, &n, &e), KE_INVALID);
	kerr_clear(&e);
	/* too short, not base64, empty */
	assert_int_equal(seal_open(s, "AAAA", &pt, &n, &e), KE_INVALID);
	kerr_clear(&e);
	assert_int_equal(seal_open(s, "***not base64***", &pt, &n, &e), KE_INVALID);
	kerr_clear(&e);
	assert_int_equal(seal_open(s, "", &pt, &n, &e), KE_INVALID);
	kerr_clear(&e);
	free(b);
	seal_free(s);
	seal_free(other);
}

static void test_key_file(void **state)
{
	struct dirs *d = *state;
	char path[128];
	struct stat st;
	struct seal *s1 = load(d->a), *s2;
	struct kerr e = KERR_INIT;
	char *b = NULL;
	unsigned char *pt = NULL;
	size_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d->a, SEAL_KEY_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	/* a second load reuses the key: what one sealed, the other opens */
	assert_int_equal(seal_seal(s1, "kept", 4, &b, &e), 0);
	s2 = load(d->a);
	assert_int_equal(seal_open(s2, b, &pt, &n, &e), 0);
	assert_string_equal((char *)pt, "kept");
	free(pt);
	free(b);
	seal_free(s1);
	seal_free(s2);
	/* a key others may read is refused, not replaced */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(seal_load(d->a, &s1, &e), KE_IO);
	assert_null(s1);
	kerr_clear(&e);
	assert_int_equal(chmod(path, 0600), 0);
	/* so is one of the wrong size */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(seal_load(d->a, &s1, &e), KE_IO);
	kerr_clear(&e);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 33);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_and_tampering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
