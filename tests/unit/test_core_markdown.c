#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/markdown.h"

/* Renders md and returns the HTML (malloc'd). */
static char *render(const char *md)
{
	struct buf out = BUF_INIT(BUF_DEFAULT_MAX);
	struct kerr e = KERR_INIT;

	assert_int_equal(markdown_to_html(md, strlen(md), &out, &e), 0);
	kerr_clear(&e);
	return buf_detach(&out, NULL);
}

static void expect(const char *md, const char *html)
{
	char *got = render(md);

	assert_string_equal(got, html);
	free(got);
}

static void expect_has(const char *md, const char *part)
{
	char *got = render(md);

	if (!strstr(got, part))
		fail_msg("rendering of %s lacks %s: %s", md, part, got);
	free(got);
}

static void expect_lacks(const char *md, const char *part)
{
	char *got = render(md);

	if (strstr(got, part))
		fail_msg("rendering of %s contains %s: %s", md, part, got);
	free(got);
}

static void test_blocks(void **state)
{
	(void)state;
	expect("# Title\n\nSome *em* and **strong** and `code`.\n",
	       "<h1>Title</h1>\n<p>Some <em>em</em> and <strong>strong</strong> and <code>code</code>.</p>\n");
	expect("### Three\n", "<h3>Three</h3>\n");
	expect("Setext\n======\n", "<h1>Setext</h1>\n");
	expect("- a\n- b\n", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n");
	expect("3. x\n4. y\n", "<ol start=\"3\">\n<li>x</li>\n<li>y</li>\n</ol>\n");
	expect("> quoted\n", "<blockquote>\n<p>quoted</p>\n</blockquote>\n");
	expect("---\n", "<hr>\n");
	expect("~~gone~~\n", "<p><del>gone</del></p>\n");
	expect("a  \nb\n", "<p>a<br>\nb</p>\n");
	expect("&copy; &#169; &#xA9;\n", "<p>&copy; &#169; &#xA9;</p>\n");
}

static void test_code_blocks_are_escaped(void **state)
{
	(void)state;
	expect("```c\nif (a < b && c > \"d\") {}\n```\n",
	       "<pre><code class=\"language-c\">if (a &lt; b &amp;&amp; c &gt; &quot;d&quot;) {}\n</code></pre>\n");
	expect("    <b>indented</b>\n", "<pre><code>&lt;b&gt;indented&lt;/b&gt;\n</code></pre>\n");
	expect("`<i>`\n", "<p><code>&lt;i&gt;</code></p>\n");
	/* the info string cannot break out of the class attribute */
	expect_lacks("```x\" onmouseover=\"alert(1)\nx\n```\n", "\" onmouseover");
}

static void test_tables_and_tasks(void **state)
{
	(void)state;
	expect("| a | b |\n|:--|--:|\n| 1 | 2 |\n",
	       "<table>\n<thead>\n<tr><th class=\"align-left\">a</th><th class=\"align-right\">b</th></tr>\n"
	       "</thead>\n<tbody>\n<tr><td class=\"align-left\">1</td><td class=\"align-right\">2</td></tr>\n"
	       "</tbody>\n</table>\n");
	expect("- [x] done\n- [ ] todo\n",
	       "<ul>\n<li class=\"task-list-item\"><input type=\"checkbox\" disabled checked> done</li>\n"
	       "<li class=\"task-list-item\"><input type=\"checkbox\" disabled> todo</li>\n</ul>\n");
}

static void test_links(void **state)
{
	(void)state;
	expect("[site](https://example.com/a?b=1&c=2 \"The title\")\n",
	       "<p><a href=\"https://example.com/a?b=1&amp;c=2\" title=\"The title\" rel=\"nofollow noopener\">site</a></p>\n");
	expect("[doc](docs/guide.md) [top](#intro) [abs](/x) [mail](mailto:a@example.com)\n",
	       "<p><a href=\"docs/guide.md\" rel=\"nofollow noopener\">doc</a> "
	       "<a href=\"#intro\" rel=\"nofollow noopener\">top</a> <a href=\"/x\" rel=\"nofollow noopener\">abs</a> "
	       "<a href=\"mailto:a@example.com\" rel=\"nofollow noopener\">mail</a></p>\n");
	expect_has("see https://example.com/x now\n", "<a href=\"https://example.com/x\" rel=\"nofollow noopener\">");
	expect_has("<https://example.com>\n", "<a href=\"https://example.com\"");
	expect("![logo](img/logo.png \"Logo\")\n",
	       "<p><img src=\"img/logo.png\" alt=\"logo\" title=\"Logo\" loading=\"lazy\"></p>\n");
	/* spaces and quotes in a destination are percent-encoded */
	expect("[x](<a b\"c>)\n", "<p><a href=\"a%20b%22c\" rel=\"nofollow noopener\">x</a></p>\n");
}

static void test_relative_links_get_the_prefix(void **state)
{
	struct markdown_links links = { "/orgs/o/repos/r/blob/main/", "/api/raw/", "?raw=1" };
	struct buf out = BUF_INIT(BUF_DEFAULT_MAX);
	struct kerr e = KERR_INIT;
	const char *md = "[a](docs/a.md) [b](/abs) [c](#frag) [d](https://x.org/) ![i](p.png)\n";

	(void)state;
	assert_int_equal(markdown_to_html_links(md, strlen(md), &links, &out, &e), 0);
	assert_non_null(strstr(out.data, "href=\"/orgs/o/repos/r/blob/main/docs/a.md\""));
	assert_non_null(strstr(out.data, "href=\"/abs\""));
	assert_non_null(strstr(out.data, "href=\"#frag\""));
	assert_non_null(strstr(out.data, "href=\"https://x.org/\""));
	assert_non_null(strstr(out.data, "src=\"/api/raw/p.png?raw=1\""));
	buf_free(&out);
}

static void test_raw_html_is_text(void **state)
{
	(void)state;
	expect("<script>alert(1)</script>\n", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n");
	expect("<div onclick=\"x()\">\n\nhi\n", "<p>&lt;div onclick=&quot;x()&quot;&gt;</p>\n<p>hi</p>\n");
	expect("a <img src=x onerror=alert(1)> b\n", "<p>a &lt;img src=x onerror=alert(1)&gt; b</p>\n");
	expect_lacks("<!-- c --><svg onload=alert(1)>\n", "<svg");
	expect_lacks("<a href=\"javascript:alert(1)\">x</a>\n", "<a ");
}

static void test_dangerous_urls_are_dropped(void **state)
{
	static const char *const bad[] = {
		"[x](javascript:alert(1))\n",
		"[x](JavaScript:alert(1))\n",
		"[x](&#106;avascript:alert(1))\n",
		"[x](javascript&#58;alert(1))\n",
		"[x](vbscript:msgbox(1))\n",
		"[x](data:text/html;base64,PHNjcmlwdD4=)\n",
		"[x](<java\tscript:alert(1)>)\n",
		"<javascript:alert(1)>\n",
		"[x]: javascript:alert(1)\n\n[x]\n",
		"![x](javascript:alert(1))\n",
		"![x](data:image/svg+xml,<svg onload=alert(1)>)\n",
		"![x](mailto:a@b.c)\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_lacks(bad[i], "href=");
		expect_lacks(bad[i], "src=");
		expect_lacks(bad[i], "<a ");
	}
	/* the link text stays */
	expect("[click](javascript:alert(1))\n", "<p>click</p>\n");
	expect("![alt text](javascript:x)\n", "<p>alt text</p>\n");
	/* an encoded colon is not a scheme separator: the URL is relative, as the browser reads it */
	expect_has("[x](java%3Ascript:alert(1))\n", "href=\"java%3Ascript:alert(1)\"");
}

static void test_attribute_injection(void **state)
{
	(void)state;
	expect("[x](https://e.com/\"onmouseover=\"alert(1))\n",
	       "<p><a href=\"https://e.com/%22onmouseover=%22alert(1)\" rel=\"nofollow noopener\">x</a></p>\n");
	expect("[x](https://e.com/ \"t\\\" onmouseover=\\\"alert(1)\")\n",
	       "<p><a href=\"https://e.com/\" title=\"t&quot; onmouseover=&quot;alert(1)\" rel=\"nofollow noopener\">x</a></p>\n");
	expect("![a\" onerror=\"alert(1)](p.png)\n",
	       "<p><img src=\"p.png\" alt=\"a&quot; onerror=&quot;alert(1)\" loading=\"lazy\"></p>\n");
	expect("![x](p.png\"onerror=\"alert(1))\n",
	       "<p><img src=\"p.png%22onerror=%22alert(1)\" alt=\"x\" loading=\"lazy\"></p>\n");
	expect("[x](https://e.com/'a')\n", "<p><a href=\"https://e.com/&#39;a&#39;\" rel=\"nofollow noopener\">x</a></p>\n");
	/* nested markup in alt text is flattened to text */
	expect("![**b** <i>](p.png)\n", "<p><img src=\"p.png\" alt=\"b &lt;i&gt;\" loading=\"lazy\"></p>\n");
}

static void test_bad_bytes(void **state)
{
	struct buf out = BUF_INIT(BUF_DEFAULT_MAX);
	struct kerr e = KERR_INIT;
	const char md[] = "a\0b \xff\x01 c\n";

	(void)state;
	assert_int_equal(markdown_to_html(md, sizeof(md) - 1, &out, &e), 0);
	assert_string_equal(out.data, "<p>a\xEF\xBF\xBD" "b \xEF\xBF\xBD\xEF\xBF\xBD c</p>\n");
	buf_free(&out);
	/* empty input renders nothing */
	assert_int_equal(markdown_to_html("", 0, &out, &e), 0);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

/* md4c 0.4.8 reads one byte past the end of this input: the renderer must
 * neither read past the caller's buffer nor show what lies there. */
static void test_overread_input(void **state)
{
	static const char src[] = "# T\n[a](&aNjaK```crAp;";
	struct buf out = BUF_INIT(BUF_DEFAULT_MAX);
	struct kerr e = KERR_INIT;
	char *exact = malloc(sizeof(src) - 1);

	(void)state;
	assert_non_null(exact);
	memcpy(exact, src, sizeof(src) - 1);
	assert_int_equal(markdown_to_html(exact, sizeof(src) - 1, &out, &e), 0);
	assert_string_equal(out.data, "<h1>T</h1>\n<p>[a](&amp;aNjaK```crAp;</p>\n");
	buf_free(&out);
	free(exact);
}

/* md4c reports two link ends without starts for this input: the output
 * stays balanced. */
static void test_misnested_spans(void **state)
{
	static const char src[] = "#\x00" "z![i](p.pcript:[)ix@ !](p..p) <) ![i](p.pcript:[)ix@ !](p..p) <\x0a" "\xdf" "\x00" "[](j) [x([n";
	struct buf out = BUF_INIT(BUF_DEFAULT_MAX);
	struct kerr e = KERR_INIT;
	const char *p;
	int opened = 0, closed = 0;

	(void)state;
	assert_int_equal(markdown_to_html(src, sizeof(src) - 1, &out, &e), 0);
	for (p = out.data; (p = strstr(p, "<a ")); p++)
		opened++;
	for (p = out.data; (p = strstr(p, "</a>")); p++)
		closed++;
	assert_int_equal(opened, closed);
	assert_null(strstr(out.data, "\" loading=\"lazy\">\" loading"));
	buf_free(&out);
}

static void test_limits(void **state)
{
	struct buf out = BUF_INIT(64);
	struct kerr e = KERR_INIT;
	char *big = malloc(MARKDOWN_INPUT_MAX + 1);

	(void)state;
	assert_non_null(big);
	memset(big, 'a', MARKDOWN_INPUT_MAX + 1);
	assert_int_equal(markdown_to_html(big, MARKDOWN_INPUT_MAX + 1, &out, &e), KE_TOOBIG);
	kerr_clear(&e);
	/* the output cap of the caller's buffer holds */
	assert_int_equal(markdown_to_html(big, 1000, &out, &e), KE_TOOBIG);
	assert_true(out.len <= 64);
	kerr_clear(&e);
	buf_free(&out);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_code_blocks_are_escaped),
		cmocka_unit_test(test_tables_and_tasks),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_relative_links_get_the_prefix),
		cmocka_unit_test(test_raw_html_is_text),
		cmocka_unit_test(test_dangerous_urls_are_dropped),
		cmocka_unit_test(test_attribute_injection),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_overread_input),
		cmocka_unit_test(test_misnested_spans),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
