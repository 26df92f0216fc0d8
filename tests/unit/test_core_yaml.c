#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/yaml.h"

/* Parses text that must hold exactly one document and returns it. */
static json_t *parse_one(const char *text)
{
	struct kerr e = KERR_INIT;
	json_t *docs = NULL, *doc;
	int rc = yaml_parse_documents(text, strlen(text), &docs, &e);

	if (rc)
		fail_msg("parse failed: %s", e.message ? e.message : "?");
	assert_int_equal(json_array_size(docs), 1);
	doc = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	kerr_clear(&e);
	return doc;
}

/* Expects parsing to fail with KE_INVALID and the given envelope code;
 * checks that the message contains `needle` when one is given. */
static void expect_error(const char *text, size_t len, const char *code, const char *needle)
{
	struct kerr e = KERR_INIT;
	json_t *docs = (json_t *)1;
	int rc = yaml_parse_documents(text, len, &docs, &e);

	assert_int_equal(rc, KE_INVALID);
	assert_null(docs);
	assert_int_equal(e.kcode, KE_INVALID);
	assert_string_equal(e.code, code);
	assert_non_null(e.message);
	if (needle && !strstr(e.message, needle))
		fail_msg("message \"%s\" lacks \"%s\"", e.message, needle);
	kerr_clear(&e);
}

static void expect_yaml_error(const char *text, const char *needle)
{
	expect_error(text, strlen(text), "INVALID_YAML", needle);
}

static void test_plain_scalar_types(void **state)
{
	json_t *d;

	(void)state;
	d = parse_one("n1: null\nn2: ~\nn3:\nn4: NULL\n"
		      "b1: true\nb2: False\nb3: TRUE\n"
		      "i1: 42\ni2: -17\ni3: +5\ni4: 0x1F\ni5: 0o17\ni6: 012\n"
		      "f1: 1.5\nf2: -2.5e3\nf3: .5\nf4: 1e3\nf5: 2.\n"
		      "s1: hello world\ns2: yes\ns3: 1_000\ns4: 0b101\ns5: 1.2.3\ns6: TrUe\n"
		      "s7: 0x\ns8: nulls\n");
	assert_true(json_is_null(json_object_get(d, "n1")));
	assert_true(json_is_null(json_object_get(d, "n2")));
	assert_true(json_is_null(json_object_get(d, "n3")));
	assert_true(json_is_null(json_object_get(d, "n4")));
	assert_true(json_is_true(json_object_get(d, "b1")));
	assert_true(json_is_false(json_object_get(d, "b2")));
	assert_true(json_is_true(json_object_get(d, "b3")));
	assert_true(json_is_integer(json_object_get(d, "i1")));
	assert_int_equal(json_integer_value(json_object_get(d, "i1")), 42);
	assert_int_equal(json_integer_value(json_object_get(d, "i2")), -17);
	assert_int_equal(json_integer_value(json_object_get(d, "i3")), 5);
	assert_int_equal(json_integer_value(json_object_get(d, "i4")), 31);
	assert_int_equal(json_integer_value(json_object_get(d, "i5")), 15);
	assert_int_equal(json_integer_value(json_object_get(d, "i6")), 12);
	assert_true(json_is_real(json_object_get(d, "f1")));
	assert_true(json_real_value(json_object_get(d, "f1")) == 1.5);
	assert_true(json_real_value(json_object_get(d, "f2")) == -2500.0);
	assert_true(json_real_value(json_object_get(d, "f3")) == 0.5);
	assert_true(json_is_real(json_object_get(d, "f4")));
	assert_true(json_real_value(json_object_get(d, "f4")) == 1000.0);
	assert_true(json_real_value(json_object_get(d, "f5")) == 2.0);
	assert_string_equal(json_string_value(json_object_get(d, "s1")), "hello world");
	assert_string_equal(json_string_value(json_object_get(d, "s2")), "yes");
	assert_string_equal(json_string_value(json_object_get(d, "s3")), "1_000");
	assert_string_equal(json_string_value(json_object_get(d, "s4")), "0b101");
	assert_string_equal(json_string_value(json_object_get(d, "s5")), "1.2.3");
	assert_string_equal(json_string_value(json_object_get(d, "s6")), "TrUe");
	assert_string_equal(json_string_value(json_object_get(d, "s7")), "0x");
	assert_string_equal(json_string_value(json_object_get(d, "s8")), "nulls");
	json_decref(d);
}

static void test_quoted_and_block_are_strings(void **state)
{
	json_t *d;

	(void)state;
	d = parse_one("a: 'true'\nb: \"123\"\nc: ''\nd: \"null\"\n"
		      "e: |\n  42\nf: >\n  folded\n  text\ng: \"esc\\t\\u00e9\"\n");
	assert_string_equal(json_string_value(json_object_get(d, "a")), "true");
	assert_string_equal(json_string_value(json_object_get(d, "b")), "123");
	assert_string_equal(json_string_value(json_object_get(d, "c")), "");
	assert_string_equal(json_string_value(json_object_get(d, "d")), "null");
	assert_string_equal(json_string_value(json_object_get(d, "e")), "42\n");
	assert_string_equal(json_string_value(json_object_get(d, "f")), "folded text\n");
	assert_string_equal(json_string_value(json_object_get(d, "g")), "esc\t\xc3\xa9");
	json_decref(d);
}

static void test_keys_become_strings(void **state)
{
	json_t *d;

	(void)state;
	d = parse_one("1: a\ntrue: b\nnull: c\n1.5: d\n");
	assert_int_equal(json_object_size(d), 4);
	assert_string_equal(json_string_value(json_object_get(d, "1")), "a");
	assert_string_equal(json_string_value(json_object_get(d, "true")), "b");
	assert_string_equal(json_string_value(json_object_get(d, "null")), "c");
	assert_string_equal(json_string_value(json_object_get(d, "1.5")), "d");
	json_decref(d);
	expect_yaml_error("? [a, b]\n: 1\n", "line 1:3");
	expect_yaml_error("? {a: 1}\n: 1\n", "keys must be scalars");
}

static void test_explicit_tags(void **state)
{
	json_t *d;

	(void)state;
	d = parse_one("a: !!str 123\nb: !!int '42'\nc: !!float 1\nd: !!bool \"true\"\n"
		      "e: !!null ''\nf: !!str true\ng: !!float 2.5\nh: !!map {x: 1}\ni: !!seq [1]\n");
	assert_string_equal(json_string_value(json_object_get(d, "a")), "123");
	assert_true(json_is_integer(json_object_get(d, "b")));
	assert_int_equal(json_integer_value(json_object_get(d, "b")), 42);
	assert_true(json_is_real(json_object_get(d, "c")));
	assert_true(json_real_value(json_object_get(d, "c")) == 1.0);
	assert_true(json_is_true(json_object_get(d, "d")));
	assert_true(json_is_null(json_object_get(d, "e")));
	assert_string_equal(json_string_value(json_object_get(d, "f")), "true");
	assert_true(json_real_value(json_object_get(d, "g")) == 2.5);
	assert_true(json_is_object(json_object_get(d, "h")));
	assert_true(json_is_array(json_object_get(d, "i")));
	json_decref(d);

	expect_yaml_error("a: !!int abc\n", "line 1:4");
	expect_yaml_error("a: !!bool yes\n", "tag");
	expect_yaml_error("a: !!null x\n", "tag");
	expect_yaml_error("a: !!float x\n", "tag");
	expect_yaml_error("a: !!binary aGVsbG8=\n", "unsupported tag");
	expect_yaml_error("a: !custom x\n", "unsupported tag");
	expect_yaml_error("a: ! x\n", "unsupported tag");
	expect_yaml_error("a: !!seq {x: 1}\n", "unsupported tag");
	expect_yaml_error("a: !thing [1]\n", "unsupported tag");
}

static void test_int64_range(void **state)
{
	json_t *d;

	(void)state;
	d = parse_one("a: 9007199254740993\nb: 9223372036854775807\nc: -9223372036854775808\n"
		      "d: 0x7fffffffffffffff\ne: 0o777777777777777777777\n");
	assert_true(json_is_integer(json_object_get(d, "a")));
	assert_true(json_integer_value(json_object_get(d, "a")) == 9007199254740993LL);
	assert_true(json_integer_value(json_object_get(d, "b")) == INT64_MAX);
	assert_true(json_integer_value(json_object_get(d, "c")) == INT64_MIN);
	assert_true(json_integer_value(json_object_get(d, "d")) == INT64_MAX);
	assert_true(json_integer_value(json_object_get(d, "e")) == INT64_MAX);
	json_decref(d);
	expect_yaml_error("a: 9223372036854775808\n", "integer out of range");
	expect_yaml_error("a: -9223372036854775809\n", "integer out of range");
	expect_yaml_error("a: 0x8000000000000000\n", "integer out of range");
	expect_yaml_error("a: 123456789012345678901234567890\n", "integer out of range");
	expect_yaml_error("a: !!int 99999999999999999999\n", "integer out of range");
}

static void test_non_finite_floats_rejected(void **state)
{
	(void)state;
	expect_yaml_error("a: .inf\n", "line 1:4");
	expect_yaml_error("a: -.Inf\n", NULL);
	expect_yaml_error("a: .nan\n", NULL);
	expect_yaml_error("a: 1e999\n", NULL);
	expect_yaml_error("a: !!float .NaN\n", NULL);
}

static void test_multi_document(void **state)
{
	const char *text = "a: 1\n---\n---\nb: 2\n...\n---\n# only a comment\n---\n- x\n";
	struct kerr e = KERR_INIT;
	json_t *docs = NULL;

	(void)state;
	assert_int_equal(yaml_parse_documents(text, strlen(text), &docs, &e), 0);
	assert_int_equal(json_array_size(docs), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(docs, 0), "a")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(docs, 1), "b")), 2);
	assert_string_equal(json_string_value(json_array_get(json_array_get(docs, 2), 0)), "x");
	json_decref(docs);

	assert_int_equal(yaml_parse_documents("", 0, &docs, &e), 0);
	assert_int_equal(json_array_size(docs), 0);
	json_decref(docs);
	assert_int_equal(yaml_parse_documents("# nothing\n", 10, &docs, &e), 0);
	assert_int_equal(json_array_size(docs), 0);
	json_decref(docs);
	assert_int_equal(e.kcode, 0);
}

static void test_anchors_and_aliases_rejected(void **state)
{
	(void)state;
	expect_yaml_error("a: &x 1\nb: 2\n", "line 1:4");
	expect_yaml_error("a: 1\nb: *x\n", "line 2:4");
	expect_yaml_error("base: &b\n  k: v\n", "anchors are not allowed");
	expect_yaml_error("list: &l [1, 2]\n", "anchors are not allowed");
	expect_yaml_error("&k key: v\n", "anchors are not allowed");
	expect_yaml_error("*k : v\n", "aliases are not allowed");
	/* The classic exponential-expansion document. */
	expect_yaml_error("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a,*a]\nc: &c [*b,*b,*b]\n", "line 1:4");
}

static void test_duplicate_keys_rejected(void **state)
{
	(void)state;
	expect_yaml_error("a: 1\na: 2\n", "line 2:1");
	expect_yaml_error("a: 1\na: 2\n", "duplicate key \"a\"");
	expect_yaml_error("outer:\n  x: 1\n  y: 2\n  x: 3\n", "line 4:3");
	expect_yaml_error("1: a\n'1': b\n", "duplicate key");
	expect_yaml_error("{a: 1, a: 1}\n", "duplicate key");
}

static void test_invalid_utf8_rejected(void **state)
{
	static const char bad1[] = "a: 1\nb: x\xff\n";
	static const char bad2[] = "a: \xc0\xaf\n";      /* overlong '/' */
	static const char bad3[] = "a: \xed\xa0\x80\n";  /* surrogate */
	static const char bad4[] = "a: \xe2\x82";        /* truncated */

	(void)state;
	expect_error(bad1, sizeof(bad1) - 1, "INVALID_UTF8", "line 2:5");
	expect_error(bad2, sizeof(bad2) - 1, "INVALID_UTF8", "line 1:4");
	expect_error(bad3, sizeof(bad3) - 1, "INVALID_UTF8", NULL);
	expect_error(bad4, sizeof(bad4) - 1, "INVALID_UTF8", NULL);
}

static void test_other_syntax_errors(void **state)
{
	static const char nul[] = "a: \"x\\0y\"\n";
	static const char ctl[] = "a: b\x01\n";

	(void)state;
	expect_yaml_error("a: [1, 2\n", "line ");
	expect_yaml_error("a: b: c\n", "line 1:5");
	expect_yaml_error(nul, "NUL");
	expect_error(ctl, sizeof(ctl) - 1, "INVALID_YAML", "line 1:5");
}

static char *nested(int depth, const char *open, const char *close, const char *leaf)
{
	struct buf b = BUF_INIT(0);
	int i;

	for (i = 0; i < depth; i++)
		assert_int_equal(buf_addstr(&b, open), 0);
	assert_int_equal(buf_addstr(&b, leaf), 0);
	for (i = 0; i < depth; i++)
		assert_int_equal(buf_addstr(&b, close), 0);
	return buf_detach(&b, NULL);
}

static void test_depth_limit(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *docs = NULL;
	char *text;

	(void)state;
	text = nested(64, "[", "]", "1");
	assert_int_equal(yaml_parse_documents(text, strlen(text), &docs, &e), 0);
	json_decref(docs);
	free(text);

	text = nested(65, "[", "]", "1");
	expect_yaml_error(text, "too deep");
	free(text);

	text = nested(65, "{a: ", "}", "1");
	expect_yaml_error(text, "too deep");
	free(text);

	/* Far deeper input must fail the same way, without exhausting the stack. */
	text = nested(100000, "[", "]", "1");
	expect_yaml_error(text, "too deep");
	free(text);
}

static void test_block_depth_limit(void **state)
{
	struct buf b = BUF_INIT(0);
	struct kerr e = KERR_INIT;
	json_t *docs = NULL;
	int i;

	(void)state;
	for (i = 0; i < 64; i++)
		assert_int_equal(buf_printf(&b, "%*sk:\n", 2 * i, ""), 0);
	assert_int_equal(buf_printf(&b, "%*sleaf: 1\n", 2 * 64, ""), 0);
	/* 64 keys nest 65 mappings. */
	expect_yaml_error(b.data, "too deep");
	buf_reset(&b);
	for (i = 0; i < 63; i++)
		assert_int_equal(buf_printf(&b, "%*sk:\n", 2 * i, ""), 0);
	assert_int_equal(buf_printf(&b, "%*sleaf: 1\n", 2 * 63, ""), 0);
	assert_int_equal(yaml_parse_documents(b.data, b.len, &docs, &e), 0);
	json_decref(docs);
	buf_free(&b);
}

/* yaml_or_json_parse must succeed and yield `want` (a JSON array). */
static void expect_body(const char *text, const char *want)
{
	struct kerr e = KERR_INIT;
	json_t *got = NULL, *w = json_loads(want, 0, NULL);
	int rc = yaml_or_json_parse(text, strlen(text), &got, &e);

	if (rc)
		fail_msg("body failed: %s", e.message ? e.message : "?");
	assert_non_null(w);
	assert_true(json_equal(got, w));
	json_decref(got);
	json_decref(w);
}

static void expect_body_error(const char *text, const char *code, const char *needle)
{
	struct kerr e = KERR_INIT;
	json_t *got = (json_t *)1;

	assert_int_equal(yaml_or_json_parse(text, strlen(text), &got, &e), KE_INVALID);
	assert_null(got);
	assert_string_equal(e.code, code);
	if (needle && !strstr(e.message, needle))
		fail_msg("message \"%s\" lacks \"%s\"", e.message, needle);
	kerr_clear(&e);
}

static void test_body_json(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *got = NULL;
	const char *big = "{\"n\": 9007199254740993}";

	(void)state;
	expect_body("{\"a\":1}", "[{\"a\":1}]");
	expect_body("  \n\t {\"a\":[1,2]}\n", "[{\"a\":[1,2]}]");
	expect_body("[{\"a\":1},{\"b\":2}]", "[{\"a\":1},{\"b\":2}]");
	expect_body("[]", "[]");
	expect_body("\xef\xbb\xbf{\"bom\":true}", "[{\"bom\":true}]");

	assert_int_equal(yaml_or_json_parse(big, strlen(big), &got, &e), 0);
	assert_true(json_integer_value(json_object_get(json_array_get(got, 0), "n")) ==
		    9007199254740993LL);
	json_decref(got);

	expect_body_error("{\"a\":1,\"a\":2}", "INVALID_JSON", "line 1:");
	expect_body_error("{\"a\":\n  nope}", "INVALID_JSON", "line 2:");
	expect_body_error("[1, 2]", "INVALID_JSON", "not an object");
	expect_body_error("[{}, \"x\"]", "INVALID_JSON", "element 1");
	expect_body_error("{\"a\":\"\xff\"}", "INVALID_UTF8", NULL);
}

static void test_body_json_depth(void **state)
{
	struct kerr e = KERR_INIT;
	json_t *got = NULL;
	char *text;

	(void)state;
	/* The same 64-level limit as YAML, so both body formats accept the same objects. */
	text = nested(64, "{\"a\":", "}", "1");
	assert_int_equal(yaml_or_json_parse(text, strlen(text), &got, &e), 0);
	assert_int_equal(json_array_size(got), 1);
	json_decref(got);
	free(text);
	text = nested(65, "{\"a\":", "}", "1");
	expect_body_error(text, "INVALID_JSON", "too deep");
	free(text);
}

static void test_body_yaml(void **state)
{
	(void)state;
	expect_body("kind: Repo\nmetadata:\n  name: web\n", "[{\"kind\":\"Repo\",\"metadata\":{\"name\":\"web\"}}]");
	expect_body("a: 1\n---\nb: 2\n", "[{\"a\":1},{\"b\":2}]");
	expect_body("---\na: [x, {y: z}]\n", "[{\"a\":[\"x\",{\"y\":\"z\"}]}]");

	expect_body_error("", "BAD_REQUEST", "empty body");
	expect_body_error(" \n\t\r\n", "BAD_REQUEST", "empty body");
	expect_body_error("# just a comment\n", "BAD_REQUEST", "empty body");
	expect_body_error("- a\n- b\n", "INVALID_YAML", "not a mapping");
	expect_body_error("a: 1\n---\nhello\n", "INVALID_YAML", "document 2");
	expect_body_error("a: &x 1\n", "INVALID_YAML", "anchors");
	expect_body_error("a: \xff\n", "INVALID_UTF8", "line 1:4");
}

/* Emits v, parses it back and requires the single document to equal v. */
static void check_round_trip(json_t *v)
{
	struct buf out = BUF_INIT(0);
	struct kerr e = KERR_INIT;
	json_t *docs = NULL;
	int rc;

	assert_int_equal(yaml_emit(v, &out), 0);
	rc = yaml_parse_documents(out.data, out.len, &docs, &e);
	if (rc)
		fail_msg("re-parse failed: %s\n--- yaml ---\n%s", e.message, out.data);
	if (json_array_size(docs) != 1 || !json_equal(json_array_get(docs, 0), v)) {
		char *want = json_dumps(v, JSON_ENCODE_ANY);
		char *got = json_dumps(docs, JSON_ENCODE_ANY);

		fail_msg("round trip differs\nwant %s\ngot  %s\n--- yaml ---\n%s", want, got, out.data);
	}
	json_decref(docs);
	buf_free(&out);
}

static const char *const tricky_strings[] = {
	"", " ", "true", "False", "null", "~", "yes", "no", "on", "off", "y", "N",
	"123", "-1", "+1", "0x1F", "0o7", "1e3", "1.5", ".5", ".inf", "-.inf", ".nan",
	"1_000", "2024-01-01", "12:30", " lead", "trail ", "a: b", "a:b", "a #b", "a#b",
	"#x", "- x", "-x", "?", "? x", ":x", "a:", ",", "[x]", "{x}", "&a", "*a", "!tag",
	"|", ">", "'q", "\"q", "%p", "@at", "`tick", "...", "---", "<<",
	"multi\nline", "tab\there", "cr\rhere", "quote\" in", "back\\slash", "ctl\x01\x1f\x7f",
	"nel\xc2\x85", "ls\xe2\x80\xa8ps\xe2\x80\xa9", "bom\xef\xbb\xbf", "\xef\xbf\xbe",
	"unicode \xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80", "it's", "plain words here",
	"http://example.com/x?y=1#frag", "key=value", "C:\\path",
};

static void test_round_trip_samples(void **state)
{
	const char *sample =
		"{\"apiVersion\":\"krate.a5c.ai/v1alpha1\",\"kind\":\"Repository\","
		"\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\",\"tier\":\"1\"},"
		"\"annotations\":{}},"
		"\"spec\":{\"replicas\":3,\"ratio\":0.1,\"big\":1e300,\"tiny\":5e-324,\"neg\":-0.0,"
		"\"hundred\":100.0,\"third\":0.3333333333333333,\"max\":9223372036854775807,"
		"\"min\":-9223372036854775808,\"exact\":9007199254740993,"
		"\"flags\":[true,false,null],\"empty\":[],\"nested\":[[1,[2,[]]],[{}],{\"a\":[{\"b\":{}}]}],"
		"\"items\":[{\"name\":\"a\",\"ports\":[80,443]},{\"name\":\"b\",\"env\":{\"K\":\"v\"}}]},"
		"\"status\":null}";
	json_t *v = json_loads(sample, 0, NULL), *strs, *keyed, *top;
	char longkey[2001];
	size_t i;

	(void)state;
	assert_non_null(v);
	check_round_trip(v);
	json_decref(v);

	strs = json_array();
	keyed = json_object();
	for (i = 0; i < sizeof(tricky_strings) / sizeof(tricky_strings[0]); i++) {
		json_array_append_new(strs, json_string(tricky_strings[i]));
		json_object_set_new(keyed, tricky_strings[i], json_string(tricky_strings[i]));
	}
	memset(longkey, 'k', 2000);
	longkey[2000] = '\0';
	json_object_set_new(keyed, longkey, json_pack("{s:i}", "x", 1));
	memcpy(longkey, " tru", 4);
	json_object_set_new(keyed, longkey, json_string("quoted long key"));
	top = json_pack("{s:o, s:o, s:[o]}", "strings", strs, "keyed", keyed,
			"wrapped", json_incref(keyed));
	assert_non_null(top);
	check_round_trip(top);
	check_round_trip(strs);
	json_decref(top);

	/* Top-level scalars and empty collections. */
	v = json_string("true");
	check_round_trip(v);
	json_decref(v);
	v = json_integer(-5);
	check_round_trip(v);
	json_decref(v);
	v = json_object();
	check_round_trip(v);
	json_decref(v);
	v = json_array();
	check_round_trip(v);
	json_decref(v);
}

/* Small deterministic generator so failures reproduce. */
static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

static json_t *random_value(int depth)
{
	static const char *const pieces[] = {
		"a", "Z", "0", "9", " ", ":", "#", "-", "?", "'", "\"", "\\", "\n", "\t", ".",
		",", "[", "{", "&", "*", "!", "|", ">", "%", "@", "\xc3\xa9", "\xe2\x80\xa8", "e",
		"x", "true", "null", "~",
	};
	uint32_t kind = rng() % (depth > 5 ? 6 : 8);
	json_t *v;
	size_t i, n;

	switch (kind) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(rng() % 2);
	case 2:
		return json_integer((json_int_t)(((uint64_t)rng() << 40) ^ ((uint64_t)rng() << 16) ^ rng()));
	case 3:
		return json_real((double)(int32_t)rng() / (double)(rng() % 1000 + 1));
	case 4:
	case 5: {
		struct buf b = BUF_INIT(0);
		char *s;

		n = rng() % 6;
		for (i = 0; i < n; i++)
			assert_int_equal(buf_addstr(&b, pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))]), 0);
		s = buf_detach(&b, NULL);
		v = json_string(s);
		free(s);
		return v;
	}
	case 6:
		v = json_array();
		n = rng() % 4;
		for (i = 0; i < n; i++)
			json_array_append_new(v, random_value(depth + 1));
		return v;
	default:
		v = json_object();
		n = rng() % 4;
		for (i = 0; i < n; i++) {
			json_t *k = random_value(6);
			char key[32];

			/* Keys: random strings, or the text of a random scalar. */
			if (json_is_string(k))
				json_object_set_new(v, json_string_value(k), random_value(depth + 1));
			else {
				snprintf(key, sizeof(key), "k%zu", i);
				json_object_set_new(v, key, random_value(depth + 1));
			}
			json_decref(k);
		}
		return v;
	}
}

static void test_round_trip_random(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 2000; i++) {
		json_t *v = random_value(0);

		assert_non_null(v);
		/* A top-level null is an empty document and is skipped on parse. */
		if (!json_is_null(v))
			check_round_trip(v);
		json_decref(v);
	}
}

static void expect_emit(json_t *v, const char *want)
{
	struct buf out = BUF_INIT(0);

	assert_non_null(v);
	assert_int_equal(yaml_emit(v, &out), 0);
	assert_string_equal(out.data, want);
	buf_free(&out);
	json_decref(v);
}

static void test_emit_format(void **state)
{
	(void)state;
	expect_emit(json_string("true"), "\"true\"\n");
	expect_emit(json_string("123"), "\"123\"\n");
	expect_emit(json_string(""), "\"\"\n");
	expect_emit(json_string("null"), "\"null\"\n");
	expect_emit(json_string("hello world"), "hello world\n");
	expect_emit(json_string("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"\n");
	expect_emit(json_true(), "true\n");
	expect_emit(json_null(), "null\n");
	expect_emit(json_integer(42), "42\n");
	expect_emit(json_real(100.0), "100.0\n");
	expect_emit(json_real(0.1), "0.1\n");
	expect_emit(json_object(), "{}\n");
	expect_emit(json_array(), "[]\n");
	expect_emit(json_loads("{\"a\":1,\"b\":[1,{\"c\":2,\"d\":3}],\"e\":{},\"f\":[],"
			       "\"g\":{\"h\":\"x\"},\"i\":[[1,2],3]}", 0, NULL),
		    "a: 1\n"
		    "b:\n"
		    "  - 1\n"
		    "  - c: 2\n"
		    "    d: 3\n"
		    "e: {}\n"
		    "f: []\n"
		    "g:\n"
		    "  h: x\n"
		    "i:\n"
		    "  - - 1\n"
		    "    - 2\n"
		    "  - 3\n");
	/* Insertion order, not sorted order. */
	expect_emit(json_pack("{s:i, s:i, s:i}", "zeta", 1, "alpha", 2, "mid", 3),
		    "zeta: 1\nalpha: 2\nmid: 3\n");
	expect_emit(json_pack("{s:s}", "true", "yes"), "\"true\": \"yes\"\n");
}

static void test_emit_errors(void **state)
{
	struct buf out;
	json_t *v;

	(void)state;
	/* Hitting the cap fails and leaves the earlier content untouched. */
	buf_init(&out, 12);
	assert_int_equal(buf_addstr(&out, "pre"), 0);
	v = json_pack("{s:s}", "key", "a long enough value");
	assert_int_equal(yaml_emit(v, &out), KE_TOOBIG);
	assert_int_equal(out.len, 3);
	assert_string_equal(out.data, "pre");
	json_decref(v);

	/* Strings that bypassed jansson's UTF-8 check are refused. */
	v = json_pack("{s:o}", "k", json_string_nocheck("bad\xff"));
	assert_int_equal(yaml_emit(v, &out), KE_INVALID);
	assert_string_equal(out.data, "pre");
	json_decref(v);
	buf_free(&out);

	buf_init(&out, 0);
	assert_int_equal(yaml_emit(NULL, &out), KE_INVALID);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_scalar_types),
		cmocka_unit_test(test_quoted_and_block_are_strings),
		cmocka_unit_test(test_keys_become_strings),
		cmocka_unit_test(test_explicit_tags),
		cmocka_unit_test(test_int64_range),
		cmocka_unit_test(test_non_finite_floats_rejected),
		cmocka_unit_test(test_multi_document),
		cmocka_unit_test(test_anchors_and_aliases_rejected),
		cmocka_unit_test(test_duplicate_keys_rejected),
		cmocka_unit_test(test_invalid_utf8_rejected),
		cmocka_unit_test(test_other_syntax_errors),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_block_depth_limit),
		cmocka_unit_test(test_body_json),
		cmocka_unit_test(test_body_json_depth),
		cmocka_unit_test(test_body_yaml),
		cmocka_unit_test(test_round_trip_samples),
		cmocka_unit_test(test_round_trip_random),
		cmocka_unit_test(test_emit_format),
		cmocka_unit_test(test_emit_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
