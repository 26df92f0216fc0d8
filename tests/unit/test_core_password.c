/* Password hashing: Argon2id strings that verify the right password only,
 * salted, with bounded input, and generated passwords. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/password.h"

static void test_hash_and_verify(void **state)
{
	char *h1 = NULL, *h2 = NULL;

	(void)state;
	assert_int_equal(password_hash("correct horse battery", &h1), 0);
	assert_non_null(h1);
	assert_memory_equal(h1, "$argon2id$", 10);
	/* the password itself is nowhere in the stored string */
	assert_null(strstr(h1, "correct horse"));
	assert_int_equal(password_verify(h1, "correct horse battery"), 1);
	assert_int_equal(password_verify(h1, "correct horse batterY"), 0);
	assert_int_equal(password_verify(h1, ""), 0);
	/* salted: the same password hashes differently, and both verify */
	assert_int_equal(password_hash("correct horse battery", &h2), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(password_verify(h2, "correct horse battery"), 1);
	free(h1);
	free(h2);
}

static void test_bad_input(void **state)
{
	char *h = (char *)"untouched", *big;

	(void)state;
	assert_int_equal(password_hash(NULL, &h), KE_INVALID);
	assert_null(h);
	big = malloc(PASSWORD_MAX_BYTES + 2);
	assert_non_null(big);
	memset(big, 'a', PASSWORD_MAX_BYTES + 1);
	big[PASSWORD_MAX_BYTES + 1] = '\0';
	assert_int_equal(password_hash(big, &h), KE_INVALID);
	assert_int_equal(password_verify("$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", big), 0);
	big[PASSWORD_MAX_BYTES] = '\0';
	assert_int_equal(password_hash(big, &h), 0);
	assert_int_equal(password_verify(h, big), 1);
	free(h);
	free(big);

	assert_int_equal(password_verify(NULL, "x"), 0);
	assert_int_equal(password_verify("", "x"), 0);
	assert_int_equal(password_verify("not a hash", "not a hash"), 0);
	assert_int_equal(password_verify("$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", "x"), 0);
}

static void test_generate(void **state)
{
	char *a = NULL, *b = NULL, *h = NULL;
	size_t i;

	(void)state;
	assert_int_equal(password_generate(&a), 0);
	assert_int_equal(password_generate(&b), 0);
	assert_int_equal(strlen(a), PASSWORD_GENERATED_LEN);
	assert_string_not_equal(a, b);
	for (i = 0; a[i]; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
	assert_int_equal(password_hash(a, &h), 0);
	assert_int_equal(password_verify(h, a), 1);
	assert_int_equal(password_verify(h, b), 0);
	free(a);
	free(b);
	free(h);
}

static void *verify_thread(void *arg)
{
	return (void *)(intptr_t)password_verify(arg, "parallel password");
}

/* More callers than the concurrency cap all finish with the right answer. */
static void test_concurrent(void **state)
{
	pthread_t t[PASSWORD_MAX_CONCURRENT * 2];
	char *h = NULL;
	void *res;
	size_t i;

	(void)state;
	assert_int_equal(password_hash("parallel password", &h), 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(pthread_create(&t[i], NULL, verify_thread, h), 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(pthread_join(t[i], &res), 0);
		assert_int_equal((intptr_t)res, 1);
	}
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_and_verify),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
