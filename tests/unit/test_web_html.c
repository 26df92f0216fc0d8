#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"

static void expect_escape(const char *in, size_t n, const char *want)
{
	struct buf b = BUF_INIT(0);

	assert_int_equal(html_escape(&b, in, n), 0);
	assert_string_equal(b.data ? b.data : "", want);
	buf_free(&b);
}

static void test_escape_specials(void **state)
{
	const char *in = "<a href=\"x\" title='y'>Tom & Jerry</a>";

	(void)state;
	expect_escape(in, strlen(in),
		      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;");
	expect_escape("&amp;", 5, "&amp;amp;");
	expect_escape("plain text", 10, "plain text");
	expect_escape("", 0, "");
}

static void test_escape_utf8(void **state)
{
	const char *ok = "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80";

	(void)state;
	/* Well-formed multi-byte characters pass through untouched. */
	expect_escape(ok, strlen(ok), ok);
	/* Stray, truncated, overlong, surrogate and out-of-range bytes become U+FFFD. */
	expect_escape("a\xFF" "b", 3, "a\xEF\xBF\xBD" "b");
	expect_escape("a\xC3", 2, "a\xEF\xBF\xBD");
	expect_escape("\xC0\xAF", 2, "\xEF\xBF\xBD\xEF\xBF\xBD");
	expect_escape("\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	expect_escape("\xF5\x80\x80\x80", 4, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	/* A broken sequence does not swallow the markup after it. */
	expect_escape("\xE2\x82<", 3, "\xEF\xBF\xBD\xEF\xBF\xBD&lt;");
}

static void test_escape_controls(void **state)
{
	(void)state;
	expect_escape("a\tb\nc\rd", 7, "a\tb\nc\rd");
	expect_escape("a\x01" "b\x7F", 4, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
	expect_escape("a\0b", 3, "a\xEF\xBF\xBD" "b");
}

static void test_escape_cap(void **state)
{
	struct buf b = BUF_INIT(8);

	(void)state;
	assert_int_equal(html_escape(&b, "<<<", 3), KE_TOOBIG);
	buf_free(&b);
}

static void test_url_encode(void **state)
{
	struct buf b = BUF_INIT(0);
	const char *in = "a b/c?d=\xC3\xA9&\"<>";

	(void)state;
	assert_int_equal(url_encode(&b, in, strlen(in)), 0);
	assert_string_equal(b.data, "a%20b%2Fc%3Fd%3D%C3%A9%26%22%3C%3E");
	buf_reset(&b);
	assert_int_equal(url_encode(&b, "Az09-._~", 8), 0);
	assert_string_equal(b.data, "Az09-._~");
	buf_reset(&b);
	assert_int_equal(path_encode(&b, "/orgs/a b/\xC3\xA9?"), 0);
	assert_string_equal(b.data, "/orgs/a%20b/%C3%A9%3F");
	buf_free(&b);
}

enum { F_USER, F_PASS, F_CSRF, F_NEXT, F_N };

static void fields(struct form_field f[F_N])
{
	f[F_USER] = (struct form_field){ "username", 16, NULL, 0 };
	f[F_PASS] = (struct form_field){ "password", 64, NULL, 0 };
	f[F_CSRF] = (struct form_field){ "csrf", 64, NULL, 0 };
	f[F_NEXT] = (struct form_field){ "next", 64, NULL, 0 };
}

static int parse(const char *body, struct form_field f[F_N])
{
	struct kerr e = KERR_INIT;
	int rc;

	fields(f);
	rc = form_parse(body, strlen(body), f, F_N, &e);
	kerr_clear(&e);
	return rc;
}

static void test_form_basic(void **state)
{
	struct form_field f[F_N];

	(void)state;
	assert_int_equal(parse("username=demo&password=p%40ss+word%21&csrf=abc&next=%2Forgs%2Fdemo&other=x", f), 0);
	assert_string_equal(f[F_USER].value, "demo");
	assert_string_equal(f[F_PASS].value, "p@ss word!");
	assert_int_equal(f[F_PASS].len, 10);
	assert_string_equal(f[F_CSRF].value, "abc");
	assert_string_equal(form_value(f, F_N, "next"), "/orgs/demo");
	assert_string_equal(form_value(f, F_N, "missing"), "");
	form_free(f, F_N);
	assert_null(f[F_USER].value);
}

static void test_form_edge_cases(void **state)
{
	struct form_field f[F_N];

	(void)state;
	/* Malformed escapes stay literal; a name without '=' has an empty value;
	 * empty pairs are skipped; the first occurrence wins; names are decoded. */
	assert_int_equal(parse("&&user%6Eame=a%zz%4&password&csrf=%&csrf=second&next=%2", f), 0);
	assert_string_equal(f[F_USER].value, "a%zz%4");
	assert_string_equal(f[F_PASS].value, "");
	assert_string_equal(f[F_CSRF].value, "%");
	assert_string_equal(f[F_NEXT].value, "%2");
	form_free(f, F_N);
	/* Absent fields stay NULL and read as "". */
	assert_int_equal(parse("", f), 0);
	assert_null(f[F_USER].value);
	assert_string_equal(form_value(f, F_N, "username"), "");
	form_free(f, F_N);
	/* Upper- and lower-case hex both decode. */
	assert_int_equal(parse("username=%e2%82%AC", f), 0);
	assert_string_equal(f[F_USER].value, "\xE2\x82\xAC");
	form_free(f, F_N);
}

static void test_form_limits(void **state)
{
	struct form_field f[F_N];
	struct buf many = BUF_INIT(0);
	int i;

	(void)state;
	/* Exactly the cap is accepted, one byte more is not (counted after decoding). */
	assert_int_equal(parse("username=0123456789abcdef", f), 0);
	form_free(f, F_N);
	assert_int_equal(parse("username=0123456789abcdefg", f), KE_TOOBIG);
	assert_null(f[F_USER].value);
	assert_int_equal(parse("username=%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41", f), 0);
	assert_string_equal(f[F_USER].value, "AAAAAAAAAAAAAAAA");
	form_free(f, F_N);
	/* An encoded NUL would cut the value short; it is refused, and earlier values freed. */
	assert_int_equal(parse("csrf=abc&username=a%00b", f), KE_INVALID);
	assert_null(f[F_CSRF].value);
	/* Too many pairs. */
	for (i = 0; i <= FORM_MAX_PAIRS; i++)
		buf_printf(&many, "x%d=1&", i);
	assert_int_equal(parse(many.data, f), KE_INVALID);
	buf_free(&many);
	/* A long unwanted name is skipped, not an error. */
	assert_int_equal(parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1&csrf=z", f), 0);
	assert_string_equal(f[F_CSRF].value, "z");
	form_free(f, F_N);
}

static void test_next_validation(void **state)
{
	char longpath[3000];

	(void)state;
	assert_true(web_next_ok("/orgs"));
	assert_true(web_next_ok("/"));
	assert_true(web_next_ok("/orgs/demo/resources/repositories/web"));
	assert_false(web_next_ok(NULL));
	assert_false(web_next_ok(""));
	assert_false(web_next_ok("orgs"));
	assert_false(web_next_ok("//evil.example"));
	assert_false(web_next_ok("/\\evil.example"));
	assert_false(web_next_ok("/a\\b"));
	assert_false(web_next_ok("https://evil.example/"));
	assert_false(web_next_ok("/a\r\nSet-Cookie: x=y"));
	assert_false(web_next_ok("/a\tb"));
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_false(web_next_ok(longpath));
}

static void test_time_and_age(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(web_parse_time("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(web_parse_time("2026-11-25T08:00:00Z"), 1795593600);
	assert_int_equal(web_parse_time("2026-11-25T08:00:00.123Z"), 1795593600);
	assert_int_equal(web_parse_time("2026-11-25T08:00:00"), -1);
	assert_int_equal(web_parse_time("2026-13-25T08:00:00Z"), -1);
	assert_int_equal(web_parse_time("yesterday"), -1);
	assert_int_equal(web_parse_time(NULL), -1);
	web_age(out, 42);
	assert_string_equal(out, "42s");
	web_age(out, 300);
	assert_string_equal(out, "5m");
	web_age(out, 3 * 3600 + 5);
	assert_string_equal(out, "3h");
	web_age(out, 12 * 86400);
	assert_string_equal(out, "12d");
	web_age(out, 800 * 86400);
	assert_string_equal(out, "2y");
	web_age(out, -5);
	assert_string_equal(out, "0s");
}

static void test_resource_listed(void **state)
{
	(void)state;
	assert_true(web_resource_listed("Repository/krate-org-demo/web", "Repository/krate-org-demo/web"));
	assert_true(web_resource_listed("Team/krate-org-demo/a, Repository/krate-org-demo/web",
					"Repository/krate-org-demo/web"));
	assert_true(web_resource_listed("Repository/krate-org-demo/web,Team/krate-org-demo/a",
					"Repository/krate-org-demo/web"));
	/* A name that merely starts the same is another object. */
	assert_false(web_resource_listed("Repository/krate-org-demo/web2", "Repository/krate-org-demo/web"));
	assert_false(web_resource_listed("Repository/krate-org-demo/we", "Repository/krate-org-demo/web"));
	assert_false(web_resource_listed("", "Repository/krate-org-demo/web"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_specials),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_escape_cap),
		cmocka_unit_test(test_url_encode),
		cmocka_unit_test(test_form_basic),
		cmocka_unit_test(test_form_edge_cases),
		cmocka_unit_test(test_form_limits),
		cmocka_unit_test(test_next_validation),
		cmocka_unit_test(test_time_and_age),
		cmocka_unit_test(test_resource_listed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
