/* Markdown to safe HTML (see markdown.h): md4c parses, these callbacks render.
 * Nothing from the input reaches the output unescaped except entity
 * references that md4c recognised and that match the strict entity syntax. */
#include "core/markdown.h"
#include "core/util.h"

#include <md4c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SPAN_STACK 32
#define URL_MAX (64u * 1024u)
/* md4c 0.4.8 can read a byte past the end of its input (an unclosed link
 * destination ending in an entity-like run does it): it parses a copy with
 * this many zero bytes after the text. */
#define DOC_PAD 16

static const char replacement[] = "\xEF\xBF\xBD";

struct md {
	struct buf *out;
	const struct markdown_links *links;
	const char *doc, *doc_end;   /* the padded copy md4c parses, and the end of its text */
	int rc;                   /* first error; later output is skipped */
	int img_depth;            /* > 0 inside an image's alt text: only text is written */
	int img_shown;            /* the outermost image kept its src (alt text is an attribute) */
	int a_depth;
	unsigned char a_open[SPAN_STACK];   /* whether each open link wrote <a> */
};

static void keep(struct md *m, int rc)
{
	if (rc && !m->rc)
		m->rc = rc;
}

static void raw(struct md *m, const char *s)
{
	if (!m->rc)
		keep(m, buf_addstr(m->out, s));
}

/* Length of the well-formed UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;

	if (!len || len > n || !util_utf8_valid((const char *)s, len))
		return 0;
	return len;
}

/* Escapes s[0..n) for text and quoted attributes; invalid UTF-8 and control
 * characters other than tab and newlines become U+FFFD. */
static void text(struct md *m, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (!m->rc && i < n) {
		const char *ent = NULL;
		size_t seq = 1;

		switch (u[i]) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default:
			if (u[i] >= 0x80) {
				if (!(seq = utf8_seq(u + i, n - i))) {
					ent = replacement;
					seq = 1;
				}
			} else if ((u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' && u[i] != '\r') || u[i] == 0x7F) {
				ent = replacement;
			}
		}
		if (!ent) {
			i += seq;
			run += seq;
			continue;
		}
		if (run)
			keep(m, buf_add(m->out, s + i - run, run));
		raw(m, ent);
		run = 0;
		i += seq;
	}
	if (run)
		keep(m, buf_add(m->out, s + i - run, run));
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 1 if s[0..n) is exactly "&name;", "&#digits;" or "&#xhex;" (short enough
 * to be real), so a browser reads it as one character reference. */
static int entity_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || s[0] != '&' || s[n - 1] != ';' || n > 50)
		return 0;
	if (s[1] == '#') {
		int hex = n > 3 && (s[2] == 'x' || s[2] == 'X');
		size_t start = hex ? 3 : 2;

		if (n - 1 <= start || n - 1 - start > (hex ? 6u : 7u))
			return 0;
		for (i = start; i < n - 1; i++)
			if (hex ? !is_xdigit(s[i]) : !is_digit(s[i]))
				return 0;
		return 1;
	}
	if (!is_alpha(s[1]))
		return 0;
	for (i = 2; i < n - 1; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]))
			return 0;
	return 1;
}

static void entity(struct md *m, const char *s, size_t n)
{
	if (entity_ok(s, n))
		keep(m, m->rc ? 0 : buf_add(m->out, s, n));
	else
		text(m, s, n);
}

/* An attribute value (title, alt, code language), escaped. */
static void attr(struct md *m, const MD_ATTRIBUTE *a)
{
	unsigned i;

	for (i = 0; a->substr_offsets && a->substr_offsets[i] < a->size; i++) {
		const char *s = a->text + a->substr_offsets[i];
		size_t n = a->substr_offsets[i + 1] - a->substr_offsets[i];

		if (a->substr_types[i] == MD_TEXT_ENTITY)
			entity(m, s, n);
		else if (a->substr_types[i] == MD_TEXT_NULLCHAR)
			raw(m, replacement);
		else
			text(m, s, n);
	}
}

/* Appends the UTF-8 of code point cp (U+FFFD for NUL, surrogates and out of range). */
static int add_codepoint(struct buf *b, unsigned long cp)
{
	char u[4];

	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return buf_addstr(b, replacement);
	if (cp < 0x80)
		return buf_addch(b, (char)cp);
	if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		return buf_add(b, u, 2);
	}
	if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		return buf_add(b, u, 3);
	}
	u[0] = (char)(0xF0 | (cp >> 18));
	u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	u[3] = (char)(0x80 | (cp & 0x3F));
	return buf_add(b, u, 4);
}

/* Decodes an entity reference for a URL. Named ones other than the five
 * basic ones stay as written: '&' is then part of the URL, not a reference. */
static int decode_entity(struct buf *b, const char *s, size_t n)
{
	static const struct { const char *name, *value; } named[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" }, { "&apos;", "'" },
	};
	size_t i;

	if (entity_ok(s, n) && s[1] == '#') {
		int hex = s[2] == 'x' || s[2] == 'X';

		return add_codepoint(b, strtoul(s + (hex ? 3 : 2), NULL, hex ? 16 : 10));
	}
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strlen(named[i].name) == n && !memcmp(named[i].name, s, n))
			return buf_addstr(b, named[i].value);
	return buf_add(b, s, n);
}

/* The URL an attribute means once entities are decoded, into b. */
static int url_decode_attr(const MD_ATTRIBUTE *a, struct buf *b)
{
	unsigned i;
	int rc = buf_add(b, "", 0);

	for (i = 0; !rc && a->substr_offsets && a->substr_offsets[i] < a->size; i++) {
		const char *s = a->text + a->substr_offsets[i];
		size_t n = a->substr_offsets[i + 1] - a->substr_offsets[i];

		if (a->substr_types[i] == MD_TEXT_ENTITY)
			rc = decode_entity(b, s, n);
		else if (a->substr_types[i] == MD_TEXT_NULLCHAR)
			rc = buf_addstr(b, replacement);
		else
			rc = buf_add(b, s, n);
	}
	return rc;
}

/* The length of the URL's scheme, 0 for a relative URL. A browser sees a
 * scheme only in a leading run of [A-Za-z][A-Za-z0-9+.-]* ended by ':', and
 * url_write keeps exactly those bytes as they are. */
static size_t scheme_len(const char *u)
{
	size_t i;

	if (!is_alpha(u[0]))
		return 0;
	for (i = 1; is_alpha(u[i]) || is_digit(u[i]) || u[i] == '+' || u[i] == '.' || u[i] == '-'; i++)
		;
	return u[i] == ':' ? i : 0;
}

static int scheme_is(const char *u, size_t n, const char *want)
{
	return strlen(want) == n && !strncasecmp(u, want, n);
}

/* Decodes a's URL into u; 1 if it may be used (images: not mailto:).
 * Control characters are refused outright: browsers drop some of them
 * inside URLs, which is how "java\tscript:" schemes get past filters. */
static int url_take(const MD_ATTRIBUTE *a, int image, struct buf *u)
{
	size_t n, i;

	if (url_decode_attr(a, u))
		return 0;
	for (i = 0; i < u->len; i++)
		if ((unsigned char)u->data[i] < 0x20 || u->data[i] == 0x7F)
			return 0;
	n = scheme_len(u->data);
	return !n || scheme_is(u->data, n, "http") || scheme_is(u->data, n, "https") ||
	       (!image && scheme_is(u->data, n, "mailto"));
}

/* Writes u as an attribute value: bytes outside a conservative URL set are
 * percent-encoded (so control characters and spaces cannot change how a
 * browser splits the URL), and & and ' become entities. */
static void url_write(struct md *m, const char *u)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)u; *p && !m->rc; p++) {
		if (is_alpha((char)*p) || is_digit((char)*p) || strchr("-_.!~*();/?:@=+$,%#", *p)) {
			keep(m, buf_addch(m->out, (char)*p));
		} else if (*p == '&') {
			raw(m, "&amp;");
		} else if (*p == '\'') {
			raw(m, "&#39;");
		} else {
			char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			keep(m, buf_add(m->out, esc, 3));
		}
	}
}

/* Writes ' name="url"'; relative URLs get the configured prefix and suffix. */
static void url_attr(struct md *m, const char *name, const char *u, int image)
{
	const char *prefix = NULL, *suffix = NULL;

	if (m->links && u[0] != '/' && u[0] != '#' && !scheme_len(u)) {
		prefix = image ? m->links->image_prefix : m->links->link_prefix;
		suffix = image ? m->links->image_suffix : NULL;
	}
	raw(m, " ");
	raw(m, name);
	raw(m, "=\"");
	if (prefix)
		raw(m, prefix);
	url_write(m, u);
	if (suffix)
		raw(m, suffix);
	raw(m, "\"");
}

static void title_attr(struct md *m, const MD_ATTRIBUTE *a)
{
	if (!a->size)
		return;
	raw(m, " title=\"");
	attr(m, a);
	raw(m, "\"");
}

/* Ends an image whose alt text is still open. md4c closes images within
 * their block; this keeps the output well-formed if it ever does not. */
static void close_image(struct md *m)
{
	if (m->img_depth && m->img_shown)
		raw(m, "\" loading=\"lazy\">");
	m->img_depth = 0;
	m->img_shown = 0;
}

static const char *align_class(MD_ALIGN a)
{
	switch (a) {
	case MD_ALIGN_LEFT: return " class=\"align-left\"";
	case MD_ALIGN_CENTER: return " class=\"align-center\"";
	case MD_ALIGN_RIGHT: return " class=\"align-right\"";
	default: return "";
	}
}

static int enter_block(MD_BLOCKTYPE type, void *detail, void *arg)
{
	struct md *m = arg;
	char tag[48];

	close_image(m);
	switch (type) {
	case MD_BLOCK_DOC:
	case MD_BLOCK_HTML:
		break;
	case MD_BLOCK_QUOTE: raw(m, "<blockquote>\n"); break;
	case MD_BLOCK_UL: raw(m, "<ul>\n"); break;
	case MD_BLOCK_OL: {
		const MD_BLOCK_OL_DETAIL *d = detail;

		if (d->start == 1) {
			raw(m, "<ol>\n");
		} else {
			snprintf(tag, sizeof(tag), "<ol start=\"%u\">\n", d->start);
			raw(m, tag);
		}
		break;
	}
	case MD_BLOCK_LI: {
		const MD_BLOCK_LI_DETAIL *d = detail;

		if (!d->is_task)
			raw(m, "<li>");
		else if (d->task_mark == 'x' || d->task_mark == 'X')
			raw(m, "<li class=\"task-list-item\"><input type=\"checkbox\" disabled checked> ");
		else
			raw(m, "<li class=\"task-list-item\"><input type=\"checkbox\" disabled> ");
		break;
	}
	case MD_BLOCK_HR: raw(m, "<hr>\n"); break;
	case MD_BLOCK_H:
		snprintf(tag, sizeof(tag), "<h%u>", ((const MD_BLOCK_H_DETAIL *)detail)->level);
		raw(m, tag);
		break;
	case MD_BLOCK_CODE: {
		const MD_BLOCK_CODE_DETAIL *d = detail;

		raw(m, "<pre><code");
		if (d->lang.size) {
			raw(m, " class=\"language-");
			attr(m, &d->lang);
			raw(m, "\"");
		}
		raw(m, ">");
		break;
	}
	case MD_BLOCK_P: raw(m, "<p>"); break;
	case MD_BLOCK_TABLE: raw(m, "<table>\n"); break;
	case MD_BLOCK_THEAD: raw(m, "<thead>\n"); break;
	case MD_BLOCK_TBODY: raw(m, "<tbody>\n"); break;
	case MD_BLOCK_TR: raw(m, "<tr>"); break;
	case MD_BLOCK_TH:
	case MD_BLOCK_TD:
		raw(m, type == MD_BLOCK_TH ? "<th" : "<td");
		raw(m, align_class(((const MD_BLOCK_TD_DETAIL *)detail)->align));
		raw(m, ">");
		break;
	}
	return m->rc ? -1 : 0;
}

static int leave_block(MD_BLOCKTYPE type, void *detail, void *arg)
{
	struct md *m = arg;
	char tag[16];

	close_image(m);
	switch (type) {
	case MD_BLOCK_DOC:
	case MD_BLOCK_HTML:
	case MD_BLOCK_HR:
		break;
	case MD_BLOCK_QUOTE: raw(m, "</blockquote>\n"); break;
	case MD_BLOCK_UL: raw(m, "</ul>\n"); break;
	case MD_BLOCK_OL: raw(m, "</ol>\n"); break;
	case MD_BLOCK_LI: raw(m, "</li>\n"); break;
	case MD_BLOCK_H:
		snprintf(tag, sizeof(tag), "</h%u>\n", ((const MD_BLOCK_H_DETAIL *)detail)->level);
		raw(m, tag);
		break;
	case MD_BLOCK_CODE: raw(m, "</code></pre>\n"); break;
	case MD_BLOCK_P: raw(m, "</p>\n"); break;
	case MD_BLOCK_TABLE: raw(m, "</table>\n"); break;
	case MD_BLOCK_THEAD: raw(m, "</thead>\n"); break;
	case MD_BLOCK_TBODY: raw(m, "</tbody>\n"); break;
	case MD_BLOCK_TR: raw(m, "</tr>\n"); break;
	case MD_BLOCK_TH: raw(m, "</th>"); break;
	case MD_BLOCK_TD: raw(m, "</td>"); break;
	}
	return m->rc ? -1 : 0;
}

static const char *span_tag(MD_SPANTYPE type, int open)
{
	switch (type) {
	case MD_SPAN_EM: return open ? "<em>" : "</em>";
	case MD_SPAN_STRONG: return open ? "<strong>" : "</strong>";
	case MD_SPAN_CODE: return open ? "<code>" : "</code>";
	case MD_SPAN_DEL: return open ? "<del>" : "</del>";
	case MD_SPAN_U: return open ? "<u>" : "</u>";
	default: return "";
	}
}

static int enter_span(MD_SPANTYPE type, void *detail, void *arg)
{
	struct md *m = arg;
	struct buf u = BUF_INIT(URL_MAX);

	if (type == MD_SPAN_IMG) {
		/* Alt text is plain text: inner spans write no tags. A refused
		 * image leaves its alt text as text. */
		if (m->img_depth++ == 0) {
			m->img_shown = url_take(&((const MD_SPAN_IMG_DETAIL *)detail)->src, 1, &u);
			if (m->img_shown) {
				raw(m, "<img");
				url_attr(m, "src", u.data, 1);
				raw(m, " alt=\"");
			}
		}
	} else if (type == MD_SPAN_A) {
		const MD_SPAN_A_DETAIL *d = detail;
		int open = !m->img_depth && url_take(&d->href, 0, &u);

		if (open) {
			raw(m, "<a");
			url_attr(m, "href", u.data, 0);
			title_attr(m, &d->title);
			raw(m, " rel=\"nofollow noopener\">");
		}
		/* links do not nest; the stack copes with whatever md4c reports */
		if (m->a_depth < SPAN_STACK)
			m->a_open[m->a_depth] = (unsigned char)open;
		m->a_depth++;
	} else if (!m->img_depth) {
		raw(m, span_tag(type, 1));
	}
	buf_free(&u);
	return m->rc ? -1 : 0;
}

static int leave_span(MD_SPANTYPE type, void *detail, void *arg)
{
	struct md *m = arg;

	if (type == MD_SPAN_IMG) {
		if (m->img_depth && --m->img_depth == 0 && m->img_shown) {
			raw(m, "\"");
			title_attr(m, &((const MD_SPAN_IMG_DETAIL *)detail)->title);
			raw(m, " loading=\"lazy\">");
		}
	} else if (type == MD_SPAN_A) {
		if (m->a_depth && --m->a_depth < SPAN_STACK && m->a_open[m->a_depth])
			raw(m, "</a>");
	} else if (!m->img_depth) {
		raw(m, span_tag(type, 0));
	}
	return m->rc ? -1 : 0;
}

static int on_text(MD_TEXTTYPE type, const MD_CHAR *s, MD_SIZE n, void *arg)
{
	struct md *m = arg;

	/* text reported past the end can only be the padding */
	if (s >= m->doc && s <= m->doc_end + DOC_PAD && s + n > m->doc_end)
		n = s < m->doc_end ? (MD_SIZE)(m->doc_end - s) : 0;

	switch (type) {
	case MD_TEXT_NULLCHAR:
		raw(m, replacement);
		break;
	case MD_TEXT_BR:
		raw(m, m->img_depth ? " " : "<br>\n");
		break;
	case MD_TEXT_SOFTBR:
		raw(m, m->img_depth ? " " : "\n");
		break;
	case MD_TEXT_ENTITY:
		entity(m, s, n);
		break;
	default:
		/* normal text, code, and raw HTML (shown as text) */
		text(m, s, n);
	}
	return m->rc ? -1 : 0;
}

int markdown_to_html_links(const char *md, size_t len, const struct markdown_links *links, struct buf *out,
			   struct kerr *e)
{
	MD_PARSER parser;
	struct md m;
	char *doc;
	int rc;

	if (len > MARKDOWN_INPUT_MAX)
		return kerr_set(e, KE_TOOBIG, NULL, "the Markdown text is larger than %u bytes", MARKDOWN_INPUT_MAX);
	if (!(doc = calloc(1, len + DOC_PAD)))
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	if (len)
		memcpy(doc, md, len);
	memset(&m, 0, sizeof(m));
	m.out = out;
	m.links = links;
	m.doc = doc;
	m.doc_end = doc + len;
	memset(&parser, 0, sizeof(parser));
	parser.flags = MD_DIALECT_GITHUB | MD_FLAG_NOHTML;
	parser.enter_block = enter_block;
	parser.leave_block = leave_block;
	parser.enter_span = enter_span;
	parser.leave_span = leave_span;
	parser.text = on_text;
	rc = md_parse(doc, (MD_SIZE)len, &parser, &m);
	free(doc);
	if (m.rc == KE_TOOBIG)
		return kerr_set(e, KE_TOOBIG, NULL, "the rendered Markdown is too large");
	if (m.rc)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	if (rc)
		return kerr_set(e, KE_INTERNAL, NULL, "the Markdown parser failed");
	return 0;
}

int markdown_to_html(const char *md, size_t len, struct buf *out, struct kerr *e)
{
	return markdown_to_html_links(md, len, NULL, out, e);
}
