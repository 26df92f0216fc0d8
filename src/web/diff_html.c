/* A unified diff as HTML (web_render_diff, see web_internal.h). The patch is
 * untrusted text: it is split into files at "diff --git " lines, each file
 * read twice (header and +/- counts, then rows), and every byte of it goes
 * through html_escape. */
#include "web_internal.h"

#include <stdlib.h>
#include <string.h>

#define HUNK_LINE_MAX 1000000000L

struct out {
	struct buf *b;
	int rc;               /* first error; later writes do nothing */
};

static void put(struct out *o, const char *s)
{
	if (!o->rc)
		o->rc = buf_addstr(o->b, s);
}

static void esc(struct out *o, const char *s, size_t n)
{
	if (!o->rc)
		o->rc = html_escape(o->b, s, n);
}

static void num(struct out *o, const char *fmt, long v)
{
	if (!o->rc)
		o->rc = buf_printf(o->b, fmt, v);
}

/* The line at p (length without its '\n' in *n); returns where the next starts. */
static const char *line_at(const char *p, const char *end, size_t *n)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	*n = nl ? (size_t)(nl - p) : (size_t)(end - p);
	return nl ? nl + 1 : end;
}

static int starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && !memcmp(s, prefix, k);
}

/* What a file's header lines say. Pointers are into the patch. */
struct file_head {
	const char *path, *old_path;   /* without "a/" or "b/"; NULL if absent */
	size_t path_len, old_len;
	const char *status;            /* "added", "deleted", "renamed", "modified" */
	int binary;
	long adds, dels;
	const char *body;              /* the first hunk header, or the file's end */
};

/* "a/x" or "b/x" -> "x"; "/dev/null" -> NULL. */
static void header_path(const char *s, size_t n, const char **out, size_t *len)
{
	if (n == 9 && !memcmp(s, "/dev/null", 9))
		return;
	if (n > 2 && (s[0] == 'a' || s[0] == 'b') && s[1] == '/') {
		s += 2;
		n -= 2;
	}
	*out = s;
	*len = n;
}

static void read_head(const char *p, const char *end, struct file_head *f)
{
	const char *git_b = NULL;
	size_t n, git_b_len = 0;
	int hunks = 0;

	memset(f, 0, sizeof(*f));
	f->status = "modified";
	f->body = end;
	while (p < end) {
		const char *s = p;

		p = line_at(p, end, &n);
		if (hunks) {
			if (n && s[0] == '+')
				f->adds++;
			else if (n && s[0] == '-')
				f->dels++;
			continue;
		}
		if (starts(s, n, "@@")) {
			f->body = s;
			hunks = 1;
		} else if (starts(s, n, "diff --git ")) {
			/* the fallback name for files without ---/+++ lines (binary, mode or rename only) */
			const char *b = NULL;
			size_t i;

			for (i = 11; i + 3 <= n; i++)
				if (!memcmp(s + i, " b/", 3))
					b = s + i + 1;
			if (b) {
				git_b = b;
				git_b_len = n - (size_t)(b - s);
			}
		} else if (starts(s, n, "--- ")) {
			header_path(s + 4, n - 4, &f->old_path, &f->old_len);
		} else if (starts(s, n, "+++ ")) {
			header_path(s + 4, n - 4, &f->path, &f->path_len);
		} else if (starts(s, n, "new file mode")) {
			f->status = "added";
		} else if (starts(s, n, "deleted file mode")) {
			f->status = "deleted";
		} else if (starts(s, n, "rename from ")) {
			f->status = "renamed";
			f->old_path = s + 12;
			f->old_len = n - 12;
		} else if (starts(s, n, "rename to ")) {
			f->path = s + 10;
			f->path_len = n - 10;
		} else if (starts(s, n, "Binary files ") || starts(s, n, "GIT binary patch")) {
			f->binary = 1;
		}
	}
	if (!f->path && !strcmp(f->status, "deleted")) {
		f->path = f->old_path;
		f->path_len = f->old_len;
	}
	if (!f->path && git_b)
		header_path(git_b, git_b_len, &f->path, &f->path_len);
	if (strcmp(f->status, "renamed") && f->old_path && f->path && f->old_len == f->path_len &&
	    !memcmp(f->old_path, f->path, f->path_len))
		f->old_path = NULL;
	if (!strcmp(f->status, "added") || !strcmp(f->status, "deleted"))
		f->old_path = NULL;
}

static void file_header(struct out *o, const struct file_head *f, long index)
{
	num(o, "<div class=\"diff-file\" id=\"diff-%ld\">\n<div class=\"diff-file-header\">", index);
	put(o, "<span class=\"badge diff-status\" data-status=\"");
	put(o, f->status);
	put(o, "\">");
	put(o, f->status);
	put(o, "</span> <span class=\"diff-path\">");
	if (f->path)
		esc(o, f->path, f->path_len);
	put(o, "</span>");
	if (f->old_path) {
		put(o, " <span class=\"diff-old-path\">from ");
		esc(o, f->old_path, f->old_len);
		put(o, "</span>");
	}
	num(o, " <span class=\"diff-stat\"><span class=\"add\">+%ld</span>", f->adds);
	num(o, " <span class=\"del\">\xE2\x88\x92%ld</span></span></div>\n<table class=\"diff\"><tbody>\n", f->dels);
}

/* Parses "@@ -a[,b] +c[,d] @@" into the old and new start lines; 0 (and
 * nothing set) if malformed. Starts are bounded so that counting lines from
 * them cannot overflow. */
static int hunk_starts(const char *s, size_t n, long *old_line, long *new_line)
{
	char tmp[64];
	char *p;
	long a, c;

	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (strncmp(tmp, "@@ -", 4))
		return 0;
	a = strtol(tmp + 4, &p, 10);
	if (*p == ',')
		strtol(p + 1, &p, 10);
	if (strncmp(p, " +", 2))
		return 0;
	c = strtol(p + 2, &p, 10);
	if (a < 0 || c < 0 || a > HUNK_LINE_MAX || c > HUNK_LINE_MAX)
		return 0;
	*old_line = a;
	*new_line = c;
	return 1;
}

/* One row; pos 0 means no anchor (the first hunk header). */
static void row(struct out *o, const char *cls, long index, long pos, long old_no, long new_no, const char *s,
		size_t n)
{
	long nos[2] = { old_no, new_no };
	int k;

	put(o, "<tr class=\"");
	put(o, cls);
	if (pos) {
		num(o, "\" id=\"diff-%ld", index);
		num(o, "-L%ld", pos);
	}
	put(o, "\">");
	for (k = 0; k < 2; k++) {
		put(o, k ? "<td class=\"ln ln-new\">" : "<td class=\"ln ln-old\">");
		if (nos[k] > 0 && pos) {
			num(o, "<a href=\"#diff-%ld", index);
			num(o, "-L%ld\">", pos);
			num(o, "%ld</a>", nos[k]);
		}
		put(o, "</td>");
	}
	put(o, "<td class=\"code\">");
	esc(o, s, n);
	put(o, "</td></tr>\n");
}

static void file_rows(struct out *o, const struct file_head *f, const char *end, long index)
{
	const char *p = f->body;
	long pos = 0, old_no = 0, new_no = 0;
	size_t n;

	if (p == end) {
		const char *note = f->binary ? "Binary file not shown" : "No changes to the content";

		row(o, "diff-meta", index, 0, 0, 0, note, strlen(note));
	}
	while (p < end && !o->rc) {
		const char *s = p;

		p = line_at(p, end, &n);
		if (starts(s, n, "@@")) {
			hunk_starts(s, n, &old_no, &new_no);
			/* positions start below the first hunk header; later ones take one */
			if (pos)
				pos++;
			row(o, "diff-hunk", index, pos, 0, 0, s, n);
			continue;
		}
		pos++;
		if (n && s[0] == '+') {
			row(o, "diff-add", index, pos, 0, new_no++, s, n);
		} else if (n && s[0] == '-') {
			row(o, "diff-del", index, pos, old_no++, 0, s, n);
		} else if (n && s[0] == '\\') {
			row(o, "diff-meta", index, pos, 0, 0, s, n);
		} else {
			row(o, "diff-ctx", index, pos, old_no, new_no, s, n);
			old_no++;
			new_no++;
		}
	}
	put(o, "</tbody></table>\n</div>\n");
}

/* Where the file starting at p ends: the next "diff --git " line, or end. */
static const char *file_end(const char *p, const char *end)
{
	size_t n;

	p = line_at(p, end, &n);
	while (p < end) {
		const char *s = p;

		p = line_at(p, end, &n);
		if (starts(s, n, "diff --git "))
			return s;
	}
	return end;
}

int web_render_diff(struct buf *b, const char *patch, size_t len)
{
	struct out o = { b, 0 };
	const char *p = patch, *end = patch + len;
	long index = 0;

	if (!patch || !len)
		return 0;
	put(&o, "<div class=\"diff-files\">\n");
	while (p < end && !o.rc) {
		const char *fe = file_end(p, end);
		struct file_head f;

		read_head(p, fe, &f);
		file_header(&o, &f, index);
		file_rows(&o, &f, fe, index);
		index++;
		p = fe;
	}
	put(&o, "</div>\n");
	return o.rc;
}
