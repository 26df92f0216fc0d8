#include "web_internal.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME_MAX_LEN 64
#define NEXT_MAX_LEN 2048

static const char replacement[] = "\xEF\xBF\xBD";

/* Length of the well-formed UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;

	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4;
	else
		return 0;
	if (len > n || !util_utf8_valid((const char *)s, len))
		return 0;
	return len;
}

int html_escape(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;
	int rc = 0;

	/* Safe bytes are copied in runs; only the special ones cost a call. */
	while (!rc && i < n) {
		const char *ent = NULL;
		size_t seq = 1;
		unsigned char c = u[i];

		switch (c) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default:
			if (c >= 0x80) {
				seq = utf8_seq(u + i, n - i);
				if (!seq) {
					ent = replacement;
					seq = 1;
				}
			} else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
				ent = replacement;
			}
		}
		if (!ent) {
			i += seq;
			run += seq;
			continue;
		}
		if (run)
			rc = buf_add(b, s + i - run, run);
		if (!rc)
			rc = buf_addstr(b, ent);
		run = 0;
		i += seq;
	}
	if (!rc && run)
		rc = buf_add(b, s + i - run, run);
	return rc;
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.' || c == '_' || c == '~';
}

int url_encode(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c)) {
			rc = buf_addch(b, (char)c);
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

			rc = buf_add(b, esc, 3);
		}
	}
	return rc;
}

int path_encode(struct buf *b, const char *s)
{
	int rc = 0;

	for (; !rc && *s; s++)
		rc = *s == '/' ? buf_addch(b, '/') : url_encode(b, s, 1);
	return rc;
}

/* ---- application/x-www-form-urlencoded ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) into out; KE_INVALID for a NUL byte, which would silently
 * cut the C string short. */
static int form_decode(struct buf *out, const char *s, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < n; i++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		if (c == '\0')
			return KE_INVALID;
		rc = buf_addch(out, c);
	}
	return rc;
}

void form_free(struct form_field *f, size_t nf)
{
	size_t i;

	for (i = 0; i < nf; i++) {
		free(f[i].value);
		f[i].value = NULL;
		f[i].len = 0;
	}
}

int form_parse(const char *body, size_t len, struct form_field *f, size_t nf, struct kerr *e)
{
	size_t pos = 0, pairs = 0, i;
	int rc = 0;

	for (i = 0; i < nf; i++) {
		f[i].value = NULL;
		f[i].len = 0;
	}
	while (pos < len) {
		const char *pair = body + pos, *amp = memchr(pair, '&', len - pos), *eq;
		size_t plen = amp ? (size_t)(amp - pair) : len - pos, nlen;
		struct buf name = BUF_INIT(NAME_MAX_LEN), val;
		struct form_field *want = NULL;

		pos += plen + 1;
		if (plen == 0)
			continue;
		if (++pairs > FORM_MAX_PAIRS) {
			rc = kerr_set(e, KE_INVALID, NULL, "the form has too many fields");
			goto fail;
		}
		eq = memchr(pair, '=', plen);
		nlen = eq ? (size_t)(eq - pair) : plen;
		/* A name too long for any wanted field is simply not wanted. */
		if (form_decode(&name, pair, nlen) == 0)
			for (i = 0; i < nf && !want; i++)
				if (name.data && !strcmp(name.data, f[i].name) && !f[i].value)
					want = &f[i];
		buf_free(&name);
		if (!want)
			continue;
		buf_init(&val, want->max ? want->max : 1);
		rc = eq ? form_decode(&val, eq + 1, plen - nlen - 1) : 0;
		if (rc) {
			buf_free(&val);
			if (rc == KE_INVALID)
				kerr_set(e, rc, NULL, "the form field '%s' contains a NUL byte", want->name);
			else
				kerr_set(e, rc, NULL, "the form field '%s' is too long", want->name);
			goto fail;
		}
		want->value = buf_detach(&val, &want->len);
		if (!want->value) {
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
			goto fail;
		}
	}
	return 0;
fail:
	form_free(f, nf);
	return rc;
}

const char *form_value(const struct form_field *f, size_t nf, const char *name)
{
	size_t i;

	for (i = 0; i < nf; i++)
		if (!strcmp(f[i].name, name))
			return f[i].value ? f[i].value : "";
	return "";
}

/* ---- small pure helpers ---- */

int web_next_ok(const char *next)
{
	size_t i;

	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\')
		return 0;
	for (i = 0; next[i]; i++) {
		unsigned char c = (unsigned char)next[i];

		/* Browsers read a backslash as a slash, so "/\host" would leave the site. */
		if (i >= NEXT_MAX_LEN || c < 0x20 || c == 0x7F || c == '\\')
			return 0;
	}
	return 1;
}

int64_t web_parse_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, used = 0;
	const char *p;
	time_t t;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6 || used != 19)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		return -1;
	p = s + used;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (strcmp(p, "Z"))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	return t == (time_t)-1 ? -1 : (int64_t)t;
}

void web_age(char out[16], int64_t s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, 16, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, 16, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(out, 16, "%lldh", (long long)(s / 3600));
	else if (s < 365 * 86400LL)
		snprintf(out, 16, "%lldd", (long long)(s / 86400));
	else
		snprintf(out, 16, "%lldy", (long long)(s / (365 * 86400LL)));
}

int web_resource_listed(const char *list, const char *id)
{
	size_t idlen = strlen(id);
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		while (n && *p == ' ') {
			p++;
			n--;
		}
		while (n && p[n - 1] == ' ')
			n--;
		if (n == idlen && !memcmp(p, id, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* ---- page builder ---- */

void html_init(struct html *h)
{
	buf_init(&h->b, WEB_PAGE_MAX);
	h->err = 0;
}

void html_free(struct html *h)
{
	buf_free(&h->b);
}

static void keep(struct html *h, int rc)
{
	if (rc && !h->err)
		h->err = rc;
}

void html_raw(struct html *h, const char *markup)
{
	if (!h->err)
		keep(h, buf_addstr(&h->b, markup));
}

void html_fmt(struct html *h, const char *fmt, ...)
{
	va_list ap;

	if (h->err)
		return;
	va_start(ap, fmt);
	keep(h, buf_vprintf(&h->b, fmt, ap));
	va_end(ap);
}

void html_text(struct html *h, const char *s)
{
	if (!h->err && s)
		keep(h, html_escape(&h->b, s, strlen(s)));
}

void html_textn(struct html *h, const char *s, size_t n)
{
	if (!h->err && s)
		keep(h, html_escape(&h->b, s, n));
}

void html_url(struct html *h, const char *s)
{
	if (!h->err && s)
		keep(h, url_encode(&h->b, s, strlen(s)));
}
