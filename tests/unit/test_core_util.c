#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/util.h"

static void test_sha256_vectors(void **state)
{
	char out[65];

	(void)state;
	/* FIPS 180-2 test vectors. */
	util_sha256_hex(out, "abc", 3);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	util_sha256_hex(out, "", 0);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	util_sha256_hex(out, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
	assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_hex(void **state)
{
	const unsigned char in[] = { 0x00, 0x01, 0xab, 0xff };
	char out[9];

	(void)state;
	util_hex(out, in, sizeof(in));
	assert_string_equal(out, "0001abff");
	util_hex(out, in, 0);
	assert_string_equal(out, "");
}

static void test_utf8_valid(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		int ok;
	} cases[] = {
		{ "plain ascii", 11, 1 },
		{ "", 0, 1 },
		{ "nul\0inside", 10, 1 },
		{ "\xc3\xa9", 2, 1 },                 /* U+00E9 */
		{ "\xe2\x82\xac", 3, 1 },             /* U+20AC */
		{ "\xf0\x9f\x98\x80", 4, 1 },         /* U+1F600 */
		{ "\xed\x9f\xbf", 3, 1 },             /* U+D7FF, last before surrogates */
		{ "\xee\x80\x80", 3, 1 },             /* U+E000, first after surrogates */
		{ "\xf4\x8f\xbf\xbf", 4, 1 },         /* U+10FFFF */
		{ "\xc0\x80", 2, 0 },                 /* overlong NUL */
		{ "\xc1\xbf", 2, 0 },                 /* overlong 2-byte */
		{ "\xe0\x80\xaf", 3, 0 },             /* overlong 3-byte */
		{ "\xf0\x80\x80\xaf", 4, 0 },         /* overlong 4-byte */
		{ "\xed\xa0\x80", 3, 0 },             /* U+D800 */
		{ "\xed\xbf\xbf", 3, 0 },             /* U+DFFF */
		{ "\xf4\x90\x80\x80", 4, 0 },         /* U+110000 */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xff", 1, 0 },
		{ "\x80", 1, 0 },                     /* lone continuation */
		{ "\xe2\x82", 2, 0 },                 /* truncated */
		{ "ok\xf0\x9f\x98", 5, 0 },           /* truncated at end */
		{ "\xe2\x28\xa1", 3, 0 },             /* bad continuation */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (util_utf8_valid(cases[i].s, cases[i].n) != cases[i].ok)
			fail_msg("utf8 case %zu: expected %d", i, cases[i].ok);
	}
	/* The length bounds the check: a truncated tail outside n is ignored. */
	assert_true(util_utf8_valid("ab\xe2\x82", 2));
}

static void test_dns_label(void **state)
{
	char l63[64], l64[65];

	(void)state;
	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'a', 64);
	l64[64] = '\0';
	assert_true(util_dns_label("a"));
	assert_true(util_dns_label("0"));
	assert_true(util_dns_label("web-01"));
	assert_true(util_dns_label("a--b"));
	assert_true(util_dns_label(l63));
	assert_false(util_dns_label(l64));
	assert_false(util_dns_label(""));
	assert_false(util_dns_label(NULL));
	assert_false(util_dns_label(".."));
	assert_false(util_dns_label("."));
	assert_false(util_dns_label("a/b"));
	assert_false(util_dns_label("a.b"));
	assert_false(util_dns_label("-a"));
	assert_false(util_dns_label("a-"));
	assert_false(util_dns_label("-"));
	assert_false(util_dns_label("Abc"));
	assert_false(util_dns_label("a_b"));
	assert_false(util_dns_label("a b"));
	assert_false(util_dns_label("caf\xc3\xa9"));
}

static void check_slug(const char *in, const char *want)
{
	char *s = util_slugify(in);

	assert_non_null(s);
	assert_string_equal(s, want);
	/* Any non-empty slug must be usable as a DNS label. */
	if (*s)
		assert_true(util_dns_label(s));
	free(s);
}

static void test_slugify(void **state)
{
	char in[200], want[64];

	(void)state;
	check_slug("Acme", "acme");
	check_slug("Acme Corp", "acme-corp");
	check_slug("  Hello, World!  ", "hello-world");
	check_slug("--a--", "a");
	check_slug("a  ..  b", "a-b");
	check_slug("caf\xc3\xa9 cr\xc3\xa8me", "caf-cr-me");
	check_slug("!!!", "");
	check_slug("", "");
	check_slug("UPPER_case", "upper-case");

	memset(in, 'x', 100);
	in[100] = '\0';
	memset(want, 'x', 63);
	want[63] = '\0';
	check_slug(in, want);

	/* A cut at 63 that lands on a separator must not leave a trailing '-'. */
	memset(in, 'y', 62);
	strcpy(in + 62, " tail");
	memset(want, 'y', 62);
	want[62] = '\0';
	check_slug(in, want);
}

static void check_b64(const char *plain, const char *enc)
{
	unsigned char *dec;
	size_t n = 0;
	char *e = util_b64url_encode(plain, strlen(plain));

	assert_non_null(e);
	assert_string_equal(e, enc);
	dec = util_b64url_decode(enc, &n);
	assert_non_null(dec);
	assert_int_equal(n, strlen(plain));
	assert_memory_equal(dec, plain, n);
	free(e);
	free(dec);
}

static void test_b64url(void **state)
{
	const unsigned char url_bytes[] = { 0xfb, 0xff };
	unsigned char data[64], *dec;
	char *enc;
	size_t n, len;

	(void)state;
	/* RFC 4648 section 10 vectors, without padding. */
	check_b64("", "");
	check_b64("f", "Zg");
	check_b64("fo", "Zm8");
	check_b64("foo", "Zm9v");
	check_b64("foob", "Zm9vYg");
	check_b64("fooba", "Zm9vYmE");
	check_b64("foobar", "Zm9vYmFy");

	/* The URL alphabet uses '-' and '_' instead of '+' and '/'. */
	enc = util_b64url_encode(url_bytes, sizeof(url_bytes));
	assert_string_equal(enc, "-_8");
	free(enc);

	/* Padding is optional on input. */
	dec = util_b64url_decode("Zg==", &len);
	assert_non_null(dec);
	assert_int_equal(len, 1);
	assert_int_equal(dec[0], 'f');
	free(dec);
	dec = util_b64url_decode("Zm8=", &len);
	assert_non_null(dec);
	assert_int_equal(len, 2);
	free(dec);

	assert_null(util_b64url_decode("Z", &len));
	assert_null(util_b64url_decode("Zg=", &len));
	assert_null(util_b64url_decode("Zg===", &len));
	assert_null(util_b64url_decode("Zg==Zg", &len));
	assert_null(util_b64url_decode("Zm9v+w", &len));
	assert_null(util_b64url_decode("Zm9v/w", &len));
	assert_null(util_b64url_decode("Zm 9v", &len));
	assert_null(util_b64url_decode("Zh", &len)); /* non-zero unused bits */
	assert_null(util_b64url_decode(NULL, &len));

	assert_int_equal(util_random_bytes(data, sizeof(data)), 0);
	for (n = 0; n <= sizeof(data); n++) {
		enc = util_b64url_encode(data, n);
		assert_non_null(enc);
		assert_null(strchr(enc, '='));
		assert_int_equal(strlen(enc), (n * 4 + 2) / 3);
		dec = util_b64url_decode(enc, &len);
		assert_non_null(dec);
		assert_int_equal(len, n);
		if (n)
			assert_memory_equal(dec, data, n);
		free(enc);
		free(dec);
	}
}

static void test_uuid(void **state)
{
	char a[37], b[37];
	int i;

	(void)state;
	assert_int_equal(util_uuid(a), 0);
	assert_int_equal(util_uuid(b), 0);
	assert_int_equal(strlen(a), 36);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", a[i]));
	}
	assert_int_equal(a[14], '4');
	assert_non_null(strchr("89ab", a[19]));
	assert_string_not_equal(a, b);
}

static void test_rfc3339(void **state)
{
	char out[32];

	(void)state;
	util_time_rfc3339(out, 0);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	util_time_rfc3339(out, 1234567890);
	assert_string_equal(out, "2009-02-13T23:31:30Z");
	util_time_rfc3339(out, 951782400);
	assert_string_equal(out, "2000-02-29T00:00:00Z");
	util_time_rfc3339(out, -1);
	assert_string_equal(out, "1969-12-31T23:59:59Z");
	/* Out-of-range times clamp to the four-digit years RFC 3339 allows. */
	util_time_rfc3339(out, INT64_MAX);
	assert_string_equal(out, "9999-12-31T23:59:59Z");
	util_time_rfc3339(out, INT64_MIN);
	assert_string_equal(out, "0000-01-01T00:00:00Z");
}

static void test_clocks(void **state)
{
	uint64_t m1, m2;
	int64_t now;

	(void)state;
	now = util_now_seconds();
	assert_true(now > 1600000000); /* after 2020 */
	m1 = util_monotonic_ns();
	m2 = util_monotonic_ns();
	assert_true(m1 > 0);
	assert_true(m2 >= m1);
}

static void test_random_and_ct_equal(void **state)
{
	unsigned char a[32], b[32];

	(void)state;
	assert_int_equal(util_random_bytes(a, sizeof(a)), 0);
	assert_int_equal(util_random_bytes(b, sizeof(b)), 0);
	assert_int_equal(util_random_bytes(b, 0), 0);
	assert_false(util_ct_equal(a, b, sizeof(a)));
	memcpy(b, a, sizeof(a));
	assert_true(util_ct_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	assert_false(util_ct_equal(a, b, sizeof(a)));
	assert_true(util_ct_equal(a, b, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_dns_label),
		cmocka_unit_test(test_slugify),
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_random_and_ct_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
