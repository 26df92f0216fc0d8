#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

static void test_add_and_terminate(void **state)
{
	struct buf b = BUF_INIT(0);

	(void)state;
	assert_int_equal(buf_add(&b, "ab", 2), 0);
	assert_int_equal(buf_addch(&b, 'c'), 0);
	assert_int_equal(buf_addstr(&b, "def"), 0);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "abcdef");
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_free(&b);
	assert_null(b.data);
}

static void test_default_max(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(b.max, BUF_DEFAULT_MAX);
	buf_init(&b, 10);
	assert_int_equal(b.max, 10);
}

static void test_cap_leaves_buffer_unchanged(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_addstr(&b, "12345"), 0);
	assert_int_equal(buf_addstr(&b, "6789"), KE_TOOBIG);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "12345");
	assert_int_equal(buf_printf(&b, "%s", "abcd"), KE_TOOBIG);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "12345");
	assert_int_equal(buf_add_json_string(&b, "xy"), KE_TOOBIG);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "12345");
	/* Exactly filling the cap is allowed. */
	assert_int_equal(buf_addstr(&b, "678"), 0);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(buf_addch(&b, '9'), KE_TOOBIG);
	assert_string_equal(b.data, "12345678");
	buf_free(&b);
}

static void test_cap_huge_request(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 16);
	assert_int_equal(buf_addstr(&b, "x"), 0);
	/* A length that would overflow len + n must be refused, not wrap. */
	assert_int_equal(buf_add(&b, "y", SIZE_MAX), KE_TOOBIG);
	assert_int_equal(b.len, 1);
	buf_free(&b);
}

static void test_printf_growth(void **state)
{
	struct buf b = BUF_INIT(0);
	char expect[8192];
	size_t pos = 0;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		assert_int_equal(buf_printf(&b, "%d,", i), 0);
		pos += (size_t)snprintf(expect + pos, sizeof(expect) - pos, "%d,", i);
	}
	assert_int_equal(b.len, pos);
	assert_int_equal(strlen(b.data), pos);
	assert_string_equal(b.data, expect);
	assert_true(b.cap > b.len);
	buf_free(&b);
}

static void test_json_string_escaping(void **state)
{
	static const char *const samples[] = {
		"plain", "", "quote\" back\\slash", "line\nfeed\rret\ttab",
		"\x01\x02\x1f ctl", "unicode \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "/slash/",
	};
	struct buf b = BUF_INIT(0);
	size_t i;

	(void)state;
	assert_int_equal(buf_add_json_string(&b, "a\"b\\c\n\x01"), 0);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
	/* Whatever the input, the output must decode back to it as JSON. */
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		json_error_t jerr;
		json_t *v;

		buf_reset(&b);
		assert_int_equal(buf_add_json_string(&b, samples[i]), 0);
		v = json_loads(b.data, JSON_DECODE_ANY, &jerr);
		assert_non_null(v);
		assert_true(json_is_string(v));
		assert_string_equal(json_string_value(v), samples[i]);
		json_decref(v);
	}
	buf_free(&b);
}

static void test_detach(void **state)
{
	struct buf b = BUF_INIT(0);
	size_t len = 99;
	char *p;

	(void)state;
	p = buf_detach(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);

	assert_int_equal(buf_addstr(&b, "hello"), 0);
	p = buf_detach(&b, &len);
	assert_string_equal(p, "hello");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	/* The buffer is reusable after detaching. */
	assert_int_equal(buf_addstr(&b, "again"), 0);
	assert_string_equal(b.data, "again");
	assert_ptr_not_equal(b.data, p);
	free(p);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_terminate),
		cmocka_unit_test(test_default_max),
		cmocka_unit_test(test_cap_leaves_buffer_unchanged),
		cmocka_unit_test(test_cap_huge_request),
		cmocka_unit_test(test_printf_growth),
		cmocka_unit_test(test_json_string_escaping),
		cmocka_unit_test(test_detach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
