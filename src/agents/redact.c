/* Redaction (see bundle.h): one pass per kind, in order, each a hand-written
 * scanner over bytes. Every pattern is ASCII, and ASCII bytes never occur
 * inside a multi-byte UTF-8 sequence, so matching bytes is correct on UTF-8
 * and a replacement never splits a character. Each pass is linear: a
 * candidate is only tried where it can start (at a boundary), and a failed
 * try never rescans text a later try will scan again. Markers written by an
 * earlier pass are copied through untouched, so nothing is counted twice. */
#include "agents/bundle.h"

#include <stdlib.h>
#include <string.h>

#define MARKER_PREFIX "[REDACTED:"
#define MARKER_PREFIX_LEN (sizeof MARKER_PREFIX - 1)
#define ORG_SECRET_MIN 4

static const char *const marker_kinds[] = {
	"org-secret", "secret-key", "provider-token", "bearer-token", "private-key", "base64-credential",
};

static int is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int is_space(unsigned char c)
{
	return is_blank(c) || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Length of one of our own markers at s[i], else 0. Only the exact markers
 * count, so text cannot hide anything by looking like one. */
static size_t marker_at(const char *s, size_t len, size_t i)
{
	if (len - i < MARKER_PREFIX_LEN || memcmp(s + i, MARKER_PREFIX, MARKER_PREFIX_LEN))
		return 0;
	for (size_t k = 0; k < sizeof marker_kinds / sizeof marker_kinds[0]; k++) {
		size_t n = strlen(marker_kinds[k]), at = i + MARKER_PREFIX_LEN;

		if (len - at > n && !memcmp(s + at, marker_kinds[k], n) && s[at + n] == ']')
			return MARKER_PREFIX_LEN + n + 1;
	}
	return 0;
}

struct pass {
	const char *kind;
	struct buf *out;
	size_t count;
};

static int emit_marker(struct pass *p)
{
	p->count++;
	return buf_printf(p->out, MARKER_PREFIX "%s]", p->kind);
}

/* ---- org-secret: exact values, longest first ---- */

struct value {
	const char *s;
	size_t n;
};

static int by_length_desc(const void *pa, const void *pb)
{
	const struct value *a = pa, *b = pb;

	if (a->n != b->n)
		return a->n < b->n ? 1 : -1;
	return memcmp(a->s, b->s, a->n);
}

/* Start of the next marker at or after i (len if none), its length in *mlen. */
static size_t next_marker(const char *s, size_t len, size_t i, size_t *mlen)
{
	while (i < len) {
		const char *hit = memmem(s + i, len - i, MARKER_PREFIX, MARKER_PREFIX_LEN);

		if (!hit)
			break;
		i = (size_t)(hit - s);
		*mlen = marker_at(s, len, i);
		if (*mlen)
			return i;
		i++;
	}
	*mlen = 0;
	return len;
}

static int pass_value(const char *s, size_t len, const struct value *v, struct pass *p)
{
	size_t i = 0, mlen, m;
	int rc = 0;

	while (rc == 0 && i < len) {
		m = next_marker(s, len, i, &mlen);
		while (rc == 0 && i < m) {
			const char *hit = memmem(s + i, m - i, v->s, v->n);
			size_t at = hit ? (size_t)(hit - s) : m;

			rc = buf_add(p->out, s + i, at - i);
			if (rc == 0 && hit)
				rc = emit_marker(p);
			i = hit ? at + v->n : m;
		}
		if (rc == 0)
			rc = buf_add(p->out, s + m, mlen);
		i = m + mlen;
	}
	return rc;
}

/* ---- pattern passes: a matcher tries one start position ---- */

/* Returns the end of a match starting at i (0: none) and where the replaced
 * part begins in *from (i <= *from); text between i and *from is kept. */
typedef size_t (*matcher_fn)(const char *s, size_t len, size_t i, size_t *from);

static int pass_pattern(const char *s, size_t len, matcher_fn match, struct pass *p)
{
	size_t i = 0, kept = 0, from, end, mlen;
	int rc = 0;

	while (rc == 0 && i < len) {
		mlen = s[i] == '[' ? marker_at(s, len, i) : 0;
		if (mlen) {
			i += mlen;
			continue;
		}
		end = match(s, len, i, &from);
		if (!end) {
			i++;
			continue;
		}
		rc = buf_add(p->out, s + kept, from - kept);
		if (rc == 0)
			rc = emit_marker(p);
		kept = i = end;
	}
	return rc ? rc : buf_add(p->out, s + kept, len - kept);
}

/* secret-key: NAME[quote] [:=] [quote]VALUE; only VALUE is replaced, so the
 * reader still sees which setting was there. '_' in a name also matches '-'. */
static const char *const key_names[] = {
	"CREDENTIALS", "PRIVATE_KEY", "API_SECRET", "SECRET_KEY", "ACCESS_KEY", "AUTH_TOKEN",
	"CREDENTIAL", "PASSWORD", "API_KEY", "PASSWD",
};

static size_t key_name_at(const char *s, size_t len, size_t i)
{
	for (size_t k = 0; k < sizeof key_names / sizeof key_names[0]; k++) {
		const char *n = key_names[k];
		size_t j = 0;

		for (; n[j] && i + j < len; j++) {
			unsigned char c = (unsigned char)s[i + j];

			if (n[j] == '_' ? !(c == '_' || c == '-') : lower(c) != lower((unsigned char)n[j]))
				break;
		}
		if (!n[j])
			return j;
	}
	return 0;
}

static size_t match_secret_key(const char *s, size_t len, size_t i, size_t *from)
{
	size_t n, p, v;

	if ((i > 0 && is_alnum((unsigned char)s[i - 1])) || !(n = key_name_at(s, len, i)))
		return 0;
	p = i + n;
	if (p < len && (s[p] == '"' || s[p] == '\''))
		p++;
	while (p < len && is_blank((unsigned char)s[p]))
		p++;
	if (p >= len || (s[p] != ':' && s[p] != '='))
		return 0;
	p++;
	while (p < len && is_blank((unsigned char)s[p]))
		p++;
	if (p < len && (s[p] == '"' || s[p] == '\''))
		p++;
	/* "password == x" and "password := x" are code, not a setting. */
	if (p >= len || s[p] == '=' || marker_at(s, len, p))
		return 0;
	for (v = p; v < len && !is_space((unsigned char)s[v]) && s[v] != '"' && s[v] != '\''; v++)
		;
	if (v == p)
		return 0;
	*from = p;
	return v;
}

/* A run of class characters at p; its end. */
static size_t run_end(const char *s, size_t len, size_t p, int (*in_class)(unsigned char))
{
	while (p < len && in_class((unsigned char)s[p]))
		p++;
	return p;
}

static int token_char(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '-';
}

static int slack_char(unsigned char c)
{
	return is_alnum(c) || c == '-';
}

static int word_char(unsigned char c)
{
	return is_alnum(c) || c == '_';
}

static int has_digit(const char *s, size_t a, size_t b)
{
	for (; a < b; a++)
		if (is_digit((unsigned char)s[a]))
			return 1;
	return 0;
}

/* provider-token: well-known prefixes followed by enough token characters. */
static const struct {
	const char *prefix;
	int (*in_class)(unsigned char);
	size_t min;
	int digit;  /* the body must contain a digit: keeps "sk-learn-..." prose out */
} providers[] = {
	{ "sk-", token_char, 20, 1 },
	{ "ghp_", is_alnum, 36, 0 }, { "gho_", is_alnum, 36, 0 }, { "ghu_", is_alnum, 36, 0 },
	{ "ghs_", is_alnum, 36, 0 }, { "ghr_", is_alnum, 36, 0 },
	{ "github_pat_", word_char, 22, 0 },
	{ "glpat-", token_char, 20, 0 },
	{ "xoxb-", slack_char, 10, 0 }, { "xoxp-", slack_char, 10, 0 }, { "xoxa-", slack_char, 10, 0 },
	{ "xoxr-", slack_char, 10, 0 }, { "xoxs-", slack_char, 10, 0 },
};

static size_t match_provider(const char *s, size_t len, size_t i, size_t *from)
{
	if (i > 0 && token_char((unsigned char)s[i - 1]))
		return 0;
	for (size_t k = 0; k < sizeof providers / sizeof providers[0]; k++) {
		size_t n = strlen(providers[k].prefix), end;

		if (len - i < n || memcmp(s + i, providers[k].prefix, n))
			continue;
		end = run_end(s, len, i + n, providers[k].in_class);
		if (end - (i + n) >= providers[k].min && (!providers[k].digit || has_digit(s, i + n, end))) {
			*from = i;
			return end;
		}
	}
	return 0;
}

/* bearer-token: "Bearer <token>"; the word stays, the token goes. A token has
 * at least 8 characters and a digit, so "the bearer instruments" is prose. */
static int bearer_char(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=' || c == '-';
}

static size_t match_bearer(const char *s, size_t len, size_t i, size_t *from)
{
	static const char word[] = "bearer";
	size_t p = i + sizeof word - 1, end;

	if ((i > 0 && is_alnum((unsigned char)s[i - 1])) || len - i < sizeof word)
		return 0;
	for (size_t j = 0; j < sizeof word - 1; j++)
		if (lower((unsigned char)s[i + j]) != word[j])
			return 0;
	if (!is_blank((unsigned char)s[p]))
		return 0;
	while (p < len && is_blank((unsigned char)s[p]))
		p++;
	end = run_end(s, len, p, bearer_char);
	if (end - p < 8 || !has_digit(s, p, end))
		return 0;
	*from = p;
	return end;
}

/* private-key: a PEM block whose label ends in "PRIVATE KEY", through its END
 * line; without an END line, to the end of the text (a cut key is still one). */
#define PEM_LABEL_MAX 64

static size_t pem_label_end(const char *s, size_t len, size_t p)
{
	for (size_t n = 0; p + n < len && n <= PEM_LABEL_MAX; n++) {
		if (s[p + n] == '\n')
			return 0;
		if (len - (p + n) >= 5 && !memcmp(s + p + n, "-----", 5))
			return p + n;
	}
	return 0;
}

static size_t match_private_key(const char *s, size_t len, size_t i, size_t *from)
{
	static const char begin[] = "-----BEGIN ", end_tag[] = "-----END ", suffix[] = "PRIVATE KEY";
	size_t lab = i + sizeof begin - 1, e;
	const char *hit;

	if (len - i < sizeof begin - 1 || memcmp(s + i, begin, sizeof begin - 1))
		return 0;
	e = pem_label_end(s, len, lab);
	if (!e || e - lab < sizeof suffix - 1 || memcmp(s + e - (sizeof suffix - 1), suffix, sizeof suffix - 1))
		return 0;
	*from = i;
	hit = memmem(s + e, len - e, end_tag, sizeof end_tag - 1);
	if (!hit)
		return len;
	e = pem_label_end(s, len, (size_t)(hit - s) + sizeof end_tag - 1);
	return e ? e + 5 : len;
}

/* base64-credential: a word-bounded run of >= 40 base64 characters (and up
 * to two '='), with upper case, lower case and digits mixed as random bytes
 * are: hex digests and long paths are not credentials. */
static int b64_char(unsigned char c)
{
	return is_alnum(c) || c == '+' || c == '/';
}

static size_t match_base64(const char *s, size_t len, size_t i, size_t *from)
{
	size_t end, k;
	int up = 0, lo = 0, dig = 0;

	if (i > 0 && (b64_char((unsigned char)s[i - 1]) || s[i - 1] == '_'))
		return 0;
	end = run_end(s, len, i, b64_char);
	if (end - i < 40 || (end < len && s[end] == '_'))
		return 0;
	for (k = i; k < end; k++) {
		unsigned char c = (unsigned char)s[k];

		up |= c >= 'A' && c <= 'Z';
		lo |= c >= 'a' && c <= 'z';
		dig |= is_digit(c);
	}
	if (!(up && lo && dig))
		return 0;
	for (k = 0; k < 2 && end < len && s[end] == '='; k++)
		end++;
	*from = i;
	return end;
}

/* ---- the pipeline ---- */

static int count_kind(json_t *by_kind, const char *kind, size_t n)
{
	json_int_t have;

	if (!by_kind || !n)
		return 0;
	have = json_integer_value(json_object_get(by_kind, kind));
	return json_object_set_new(by_kind, kind, json_integer(have + (json_int_t)n)) ? KE_NOMEM : 0;
}

/* The org-secret values worth matching, longest first (then bytewise, so the
 * result never depends on the order they were given in). */
static int collect_values(json_t *secret_values, struct value **out, size_t *n)
{
	size_t i, k = 0;
	json_t *v;

	*out = NULL;
	*n = 0;
	if (!json_array_size(secret_values))
		return 0;
	*out = calloc(json_array_size(secret_values), sizeof **out);
	if (!*out)
		return KE_NOMEM;
	json_array_foreach(secret_values, i, v) {
		if (json_string_length(v) >= ORG_SECRET_MIN) {
			(*out)[k].s = json_string_value(v);
			(*out)[k].n = json_string_length(v);
			k++;
		}
	}
	qsort(*out, k, sizeof **out, by_length_desc);
	*n = k;
	return 0;
}

int redact_text(const char *text, size_t len, json_t *secret_values, struct buf *out, json_t *by_kind,
		struct kerr *e)
{
	static const struct {
		const char *kind;
		matcher_fn match;
	} patterns[] = {
		{ "secret-key", match_secret_key },
		{ "provider-token", match_provider },
		{ "bearer-token", match_bearer },
		{ "private-key", match_private_key },
		{ "base64-credential", match_base64 },
	};
	struct buf a = BUF_INIT(BUF_DEFAULT_MAX), b = BUF_INIT(BUF_DEFAULT_MAX);
	struct buf *cur = &a, *next = &b, *t;
	struct value *values = NULL;
	struct pass p = { "org-secret", NULL, 0 };
	size_t nvalues, i;
	int rc;

	if ((!text && len) || !out)
		return kerr_set(e, KE_INVALID, NULL, "redact_text: missing argument");
	rc = collect_values(secret_values, &values, &nvalues);
	if (rc == 0)
		rc = buf_add(cur, text ? text : "", len);
	for (i = 0; rc == 0 && i < nvalues; i++) {
		buf_reset(next);
		p.out = next;
		rc = pass_value(cur->data, cur->len, &values[i], &p);
		t = cur, cur = next, next = t;
	}
	if (rc == 0)
		rc = count_kind(by_kind, "org-secret", p.count);
	for (i = 0; rc == 0 && i < sizeof patterns / sizeof patterns[0]; i++) {
		struct pass q = { patterns[i].kind, next, 0 };

		buf_reset(next);
		rc = pass_pattern(cur->data, cur->len, patterns[i].match, &q);
		t = cur, cur = next, next = t;
		if (rc == 0)
			rc = count_kind(by_kind, patterns[i].kind, q.count);
	}
	if (rc == 0)
		rc = buf_add(out, cur->data, cur->len);
	if (rc < 0)
		kerr_set(e, rc, rc == KE_TOOBIG ? "REDACTION_TOO_BIG" : NULL, "cannot redact the text");
	free(values);
	buf_free(&a);
	buf_free(&b);
	return rc;
}
