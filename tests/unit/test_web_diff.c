#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"

static char *render(const char *patch)
{
	struct buf out = BUF_INIT(BUF_DEFAULT_MAX);

	assert_int_equal(web_render_diff(&out, patch, strlen(patch)), 0);
	return buf_detach(&out, NULL);
}

static void has(const char *html, const char *part)
{
	if (!strstr(html, part))
		fail_msg("the diff lacks %s:\n%s", part, html);
}

static const char two_hunks[] =
	"diff --git a/src/a.c b/src/a.c\n"
	"index 1111111..2222222 100644\n"
	"--- a/src/a.c\n"
	"+++ b/src/a.c\n"
	"@@ -1,3 +1,3 @@ int main\n"
	" one\n"
	"-two\n"
	"+TWO\n"
	" three\n"
	"@@ -10,2 +10,3 @@\n"
	" ten\n"
	"+ten and a half\n"
	" eleven\n"
	"diff --git a/new.txt b/new.txt\n"
	"new file mode 100644\n"
	"index 0000000..3333333\n"
	"--- /dev/null\n"
	"+++ b/new.txt\n"
	"@@ -0,0 +1 @@\n"
	"+<script>alert(1)</script>\n"
	"\\ No newline at end of file\n";

static void test_files_rows_and_positions(void **state)
{
	char *h = render(two_hunks);

	(void)state;
	has(h, "<div class=\"diff-file\" id=\"diff-0\">");
	has(h, "data-status=\"modified\">modified</span> <span class=\"diff-path\">src/a.c</span>");
	has(h, "<span class=\"add\">+2</span> <span class=\"del\">\xE2\x88\x92" "1</span>");
	/* the first hunk header takes no position; the line below it is 1 */
	has(h, "<tr class=\"diff-hunk\"><td class=\"ln ln-old\"></td><td class=\"ln ln-new\"></td>"
	       "<td class=\"code\">@@ -1,3 +1,3 @@ int main</td></tr>");
	has(h, "<tr class=\"diff-ctx\" id=\"diff-0-L1\"><td class=\"ln ln-old\"><a href=\"#diff-0-L1\">1</a></td>"
	       "<td class=\"ln ln-new\"><a href=\"#diff-0-L1\">1</a></td><td class=\"code\"> one</td></tr>");
	has(h, "<tr class=\"diff-del\" id=\"diff-0-L2\"><td class=\"ln ln-old\"><a href=\"#diff-0-L2\">2</a></td>"
	       "<td class=\"ln ln-new\"></td><td class=\"code\">-two</td></tr>");
	has(h, "<tr class=\"diff-add\" id=\"diff-0-L3\"><td class=\"ln ln-old\"></td>"
	       "<td class=\"ln ln-new\"><a href=\"#diff-0-L3\">2</a></td><td class=\"code\">+TWO</td></tr>");
	/* later hunk headers take a position, and line numbers restart from them */
	has(h, "<tr class=\"diff-hunk\" id=\"diff-0-L5\">");
	has(h, "<tr class=\"diff-ctx\" id=\"diff-0-L6\"><td class=\"ln ln-old\"><a href=\"#diff-0-L6\">10</a></td>");
	has(h, "<tr class=\"diff-add\" id=\"diff-0-L7\"><td class=\"ln ln-old\"></td>"
	       "<td class=\"ln ln-new\"><a href=\"#diff-0-L7\">11</a></td>");
	/* the second file: added, escaped, with its own numbering */
	has(h, "<div class=\"diff-file\" id=\"diff-1\">");
	has(h, "data-status=\"added\">added</span> <span class=\"diff-path\">new.txt</span>");
	has(h, "<tr class=\"diff-add\" id=\"diff-1-L1\">");
	has(h, "<td class=\"code\">+&lt;script&gt;alert(1)&lt;/script&gt;</td>");
	has(h, "<tr class=\"diff-meta\" id=\"diff-1-L2\">");
	assert_null(strstr(h, "<script>"));
	assert_null(strstr(h, "diff-2"));
	free(h);
}

static void test_renames_binaries_and_modes(void **state)
{
	char *h = render("diff --git a/old name.txt b/new name.txt\n"
			 "similarity index 100%\n"
			 "rename from old name.txt\n"
			 "rename to new name.txt\n"
			 "diff --git a/logo.png b/logo.png\n"
			 "index 1..2 100644\n"
			 "Binary files a/logo.png and b/logo.png differ\n"
			 "diff --git a/gone.c b/gone.c\n"
			 "deleted file mode 100644\n"
			 "--- a/gone.c\n"
			 "+++ /dev/null\n"
			 "@@ -1 +0,0 @@\n"
			 "-bye");

	(void)state;
	has(h, "data-status=\"renamed\">renamed</span> <span class=\"diff-path\">new name.txt</span> "
	       "<span class=\"diff-old-path\">from old name.txt</span>");
	has(h, "No changes to the content");
	has(h, "<span class=\"diff-path\">logo.png</span>");
	has(h, "Binary file not shown");
	has(h, "data-status=\"deleted\">deleted</span> <span class=\"diff-path\">gone.c</span>");
	/* a last line without a newline is still a row */
	has(h, "<tr class=\"diff-del\" id=\"diff-2-L1\"><td class=\"ln ln-old\"><a href=\"#diff-2-L1\">1</a></td>");
	has(h, "<td class=\"code\">-bye</td>");
	free(h);
}

static void test_hostile_input(void **state)
{
	struct buf out = BUF_INIT(BUF_DEFAULT_MAX), small = BUF_INIT(100);
	const char bad[] = "diff --git a/\"x\" b/\"x\"\n+++ b/<img onerror=x>\xff\n@@ nonsense @@\n+\x01\n";

	(void)state;
	assert_int_equal(web_render_diff(&out, bad, sizeof(bad) - 1), 0);
	assert_non_null(strstr(out.data, "&lt;img onerror=x&gt;\xEF\xBF\xBD"));
	assert_non_null(strstr(out.data, "+\xEF\xBF\xBD"));
	assert_null(strstr(out.data, "<img"));
	buf_free(&out);
	/* absurd hunk starts are ignored rather than counted from (overflow) */
	assert_int_equal(web_render_diff(&out, "@@ -9223372036854775807 +9223372036854775807 @@\n a\n+b\n", 54), 0);
	assert_null(strstr(out.data, "9223372036854775808"));
	buf_free(&out);
	/* nothing in, nothing out; a full buffer is an error, not a crash */
	assert_int_equal(web_render_diff(&out, "", 0), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(web_render_diff(&small, two_hunks, strlen(two_hunks)), KE_TOOBIG);
	buf_free(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_rows_and_positions),
		cmocka_unit_test(test_renames_binaries_and_modes),
		cmocka_unit_test(test_hostile_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
