#include "core/yaml.h"
#include "core/util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Deeper input is refused: later layers walk values recursively. */
#define YAML_MAX_DEPTH 64
/* Guards yaml_emit against cycles and runaway recursion in caller-built values. */
#define EMIT_MAX_DEPTH 2048
/* libyaml gives up on an implicit key after 1024 characters; longer keys are
 * emitted in the explicit "? key" form (bytes >= characters, so this is safe). */
#define MAX_IMPLICIT_KEY 1000

#define CORE_TAG "tag:yaml.org,2002:"

/* ---------- core schema resolution (shared by parser and emitter) ---------- */

enum scalar_kind {
	SK_STRING,
	SK_NULL,
	SK_TRUE,
	SK_FALSE,
	SK_INT,
	SK_INT_RANGE,   /* integer syntax, outside int64 */
	SK_FLOAT,
	SK_FLOAT_RANGE, /* .inf, .nan or overflow: JSON cannot hold it */
};

static const char *const null_words[] = { "null", "Null", "NULL", "~", NULL };
static const char *const true_words[] = { "true", "True", "TRUE", NULL };
static const char *const false_words[] = { "false", "False", "FALSE", NULL };
static const char *const special_float_words[] = {
	".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
	".nan", ".NaN", ".NAN", NULL
};
/* Plain words that YAML 1.1 readers (e.g. kubectl) would not read as strings. */
static const char *const yaml11_words[] = {
	"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
	"on", "On", "ON", "off", "Off", "OFF", "<<", "=", NULL
};

static int match_word(const char *s, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == n && memcmp(*words, s, n) == 0)
			return 1;
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int digit_value(char c, int base)
{
	int d;

	if (is_digit(c))
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return d < base ? d : -1;
}

/* 1 with *v set for a core-schema integer, -1 if it is one but does not fit
 * in 64 bits, 0 if s is not integer syntax at all. */
static int parse_int(const char *s, size_t n, json_int_t *v)
{
	uint64_t mag = 0, limit;
	int base = 10, neg = 0, overflow = 0;
	size_t i = 0;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		base = s[1] == 'x' ? 16 : 8;
		i = 2;
	} else if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return 0;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		int d = digit_value(s[i], base);

		if (d < 0)
			return 0;
		if (mag > (limit - (uint64_t)d) / (uint64_t)base)
			overflow = 1;
		if (!overflow)
			mag = mag * (uint64_t)base + (uint64_t)d;
	}
	if (overflow)
		return -1;
	if (neg)
		*v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)mag;
	else
		*v = (json_int_t)mag;
	return 1;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int is_float_syntax(const char *s, size_t n)
{
	size_t i = 0, int_digits = 0, frac_digits = 0, exp_digits = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < n && is_digit(s[i]); i++)
		int_digits++;
	if (i < n && s[i] == '.') {
		for (i++; i < n && is_digit(s[i]); i++)
			frac_digits++;
	}
	if (int_digits == 0 && frac_digits == 0)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (; i < n && is_digit(s[i]); i++)
			exp_digits++;
		if (exp_digits == 0)
			return 0;
	}
	return i == n;
}

/* Classifies a plain scalar; s must be NUL-terminated at s[n]. */
static enum scalar_kind classify(const char *s, size_t n, json_int_t *iv, double *dv)
{
	int r;

	if (n == 0 || match_word(s, n, null_words))
		return SK_NULL;
	if (match_word(s, n, true_words))
		return SK_TRUE;
	if (match_word(s, n, false_words))
		return SK_FALSE;
	r = parse_int(s, n, iv);
	if (r > 0)
		return SK_INT;
	if (r < 0)
		return SK_INT_RANGE;
	if (match_word(s, n, special_float_words))
		return SK_FLOAT_RANGE;
	if (is_float_syntax(s, n)) {
		*dv = strtod(s, NULL);
		return isfinite(*dv) ? SK_FLOAT : SK_FLOAT_RANGE;
	}
	return SK_STRING;
}

/* ---------- UTF-8 error position ---------- */

static size_t utf8_seq_len(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

static size_t first_invalid_utf8(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t l = utf8_seq_len((unsigned char)s[i]);

		if (l > n - i || !util_utf8_valid(s + i, l))
			return i;
		i += l;
	}
	return n;
}

static void offset_to_line_col(const char *s, size_t off, size_t *line, size_t *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)s[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int utf8_error(const char *s, size_t n, struct kerr *e)
{
	size_t line, col;

	offset_to_line_col(s, first_invalid_utf8(s, n), &line, &col);
	return kerr_set(e, KE_INVALID, "INVALID_UTF8", "line %zu:%zu: body is not valid UTF-8",
			line, col);
}

/* ---------- YAML parsing ---------- */

struct yparse {
	yaml_parser_t parser;
	const char *text;
	struct kerr *e;
};

static int fail_at(struct yparse *y, const yaml_mark_t *m, const char *what)
{
	return kerr_set(y->e, KE_INVALID, "INVALID_YAML", "line %zu:%zu: %s",
			m->line + 1, m->column + 1, what);
}

static int parser_error(struct yparse *y)
{
	yaml_parser_t *p = &y->parser;
	const char *problem = p->problem ? p->problem : "syntax error";
	size_t line, col;

	if (p->error == YAML_MEMORY_ERROR)
		return kerr_set(y->e, KE_NOMEM, NULL, "out of memory while parsing YAML");
	if (p->error == YAML_READER_ERROR) {
		offset_to_line_col(y->text, p->problem_offset, &line, &col);
		return kerr_set(y->e, KE_INVALID, "INVALID_YAML", "line %zu:%zu: %s",
				line, col, problem);
	}
	if (p->context)
		return kerr_set(y->e, KE_INVALID, "INVALID_YAML", "line %zu:%zu: %s (%s at line %zu:%zu)",
				p->problem_mark.line + 1, p->problem_mark.column + 1, problem,
				p->context, p->context_mark.line + 1, p->context_mark.column + 1);
	return fail_at(y, &p->problem_mark, problem);
}

static int next_event(struct yparse *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->parser, ev))
		return parser_error(y);
	return 0;
}

static int tag_is(const char *tag, const char *name)
{
	size_t n = strlen(CORE_TAG);

	return strncmp(tag, CORE_TAG, n) == 0 && strcmp(tag + n, name) == 0;
}

static int scalar_tag_known(const char *tag)
{
	return !tag || tag_is(tag, "str") || tag_is(tag, "int") || tag_is(tag, "bool") ||
	       tag_is(tag, "null") || tag_is(tag, "float");
}

static int check_scalar(struct yparse *y, const yaml_event_t *ev)
{
	if (ev->data.scalar.anchor)
		return fail_at(y, &ev->start_mark, "anchors are not allowed");
	if (!scalar_tag_known((const char *)ev->data.scalar.tag))
		return fail_at(y, &ev->start_mark, "unsupported tag");
	/* An embedded NUL (from a "\0" escape) would silently cut C strings later. */
	if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
		return fail_at(y, &ev->start_mark, "NUL characters are not allowed");
	return 0;
}

static int scalar_value(struct yparse *y, const yaml_event_t *ev, json_t **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t n = ev->data.scalar.length;
	enum scalar_kind k;
	json_int_t iv = 0;
	double dv = 0;
	int rc = check_scalar(y, ev);

	if (rc)
		return rc;
	if (tag ? tag_is(tag, "str") : ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		goto string;
	k = classify(s, n, &iv, &dv);
	if (tag) {
		if (tag_is(tag, "float") && k == SK_INT) {
			dv = (double)iv;
			k = SK_FLOAT;
		}
		if ((tag_is(tag, "null") && k != SK_NULL) ||
		    (tag_is(tag, "bool") && k != SK_TRUE && k != SK_FALSE) ||
		    (tag_is(tag, "int") && k != SK_INT && k != SK_INT_RANGE) ||
		    (tag_is(tag, "float") && k != SK_FLOAT && k != SK_FLOAT_RANGE && k != SK_INT_RANGE))
			return fail_at(y, &ev->start_mark, "value does not match its tag");
	}
	switch (k) {
	case SK_STRING:
		goto string;
	case SK_NULL:
		*out = json_null();
		break;
	case SK_TRUE:
		*out = json_true();
		break;
	case SK_FALSE:
		*out = json_false();
		break;
	case SK_INT:
		*out = json_integer(iv);
		break;
	case SK_INT_RANGE:
		return fail_at(y, &ev->start_mark, "integer out of range");
	case SK_FLOAT:
		*out = json_real(dv);
		break;
	case SK_FLOAT_RANGE:
		return fail_at(y, &ev->start_mark, "infinite or NaN numbers cannot be represented");
	}
	return *out ? 0 : kerr_set(y->e, KE_NOMEM, NULL, "out of memory");
string:
	*out = json_stringn(s, n);
	return *out ? 0 : kerr_set(y->e, KE_NOMEM, NULL, "out of memory");
}

static int parse_node(struct yparse *y, const yaml_event_t *ev, int depth, json_t **out);

static int parse_sequence(struct yparse *y, int depth, json_t **out)
{
	json_t *arr = json_array();
	yaml_event_t ev;
	int rc;

	if (!arr)
		return kerr_set(y->e, KE_NOMEM, NULL, "out of memory");
	for (;;) {
		json_t *item = NULL;

		rc = next_event(y, &ev);
		if (rc)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		rc = parse_node(y, &ev, depth, &item);
		yaml_event_delete(&ev);
		if (rc)
			goto fail;
		if (json_array_append_new(arr, item) != 0) {
			rc = kerr_set(y->e, KE_NOMEM, NULL, "out of memory");
			goto fail;
		}
	}
	*out = arr;
	return 0;
fail:
	json_decref(arr);
	return rc;
}

static int check_key(struct yparse *y, const yaml_event_t *kev, const json_t *obj)
{
	const char *key;
	int rc;

	if (kev->type == YAML_ALIAS_EVENT)
		return fail_at(y, &kev->start_mark, "aliases are not allowed");
	if (kev->type != YAML_SCALAR_EVENT)
		return fail_at(y, &kev->start_mark, "mapping keys must be scalars");
	rc = check_scalar(y, kev);
	if (rc)
		return rc;
	key = (const char *)kev->data.scalar.value;
	if (!json_object_get(obj, key))
		return 0;
	/* Name short keys to help the author; long ones could swamp the message. */
	if (kev->data.scalar.length <= 64)
		return kerr_set(y->e, KE_INVALID, "INVALID_YAML", "line %zu:%zu: duplicate key \"%s\"",
				kev->start_mark.line + 1, kev->start_mark.column + 1, key);
	return fail_at(y, &kev->start_mark, "duplicate key");
}

static int parse_mapping(struct yparse *y, int depth, json_t **out)
{
	json_t *obj = json_object();
	yaml_event_t kev, vev;
	int rc;

	if (!obj)
		return kerr_set(y->e, KE_NOMEM, NULL, "out of memory");
	for (;;) {
		json_t *val = NULL;

		rc = next_event(y, &kev);
		if (rc)
			goto fail;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		rc = check_key(y, &kev, obj);
		if (!rc)
			rc = next_event(y, &vev);
		if (rc) {
			yaml_event_delete(&kev);
			goto fail;
		}
		rc = parse_node(y, &vev, depth, &val);
		yaml_event_delete(&vev);
		if (!rc && json_object_set_new(obj, (const char *)kev.data.scalar.value, val) != 0)
			rc = kerr_set(y->e, KE_NOMEM, NULL, "out of memory");
		yaml_event_delete(&kev);
		if (rc)
			goto fail;
	}
	*out = obj;
	return 0;
fail:
	json_decref(obj);
	return rc;
}

static int parse_node(struct yparse *y, const yaml_event_t *ev, int depth, json_t **out)
{
	const char *tag = NULL, *want = NULL;
	const yaml_char_t *anchor = NULL;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return fail_at(y, &ev->start_mark, "aliases are not allowed");
	case YAML_SCALAR_EVENT:
		return scalar_value(y, ev, out);
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
		want = "seq";
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
		want = "map";
		break;
	default:
		return fail_at(y, &ev->start_mark, "unexpected YAML event");
	}
	if (anchor)
		return fail_at(y, &ev->start_mark, "anchors are not allowed");
	if (tag && !tag_is(tag, want))
		return fail_at(y, &ev->start_mark, "unsupported tag");
	if (depth >= YAML_MAX_DEPTH)
		return fail_at(y, &ev->start_mark, "nesting is too deep");
	if (ev->type == YAML_SEQUENCE_START_EVENT)
		return parse_sequence(y, depth + 1, out);
	return parse_mapping(y, depth + 1, out);
}

/* Parses one document after its DOCUMENT-START; *root is NULL for an empty one. */
static int parse_document(struct yparse *y, json_t **root)
{
	yaml_event_t ev;
	json_t *v = NULL;
	int rc = next_event(y, &ev);

	if (rc)
		return rc;
	rc = parse_node(y, &ev, 0, &v);
	yaml_event_delete(&ev);
	if (!rc)
		rc = next_event(y, &ev);
	if (rc) {
		json_decref(v);
		return rc;
	}
	if (ev.type != YAML_DOCUMENT_END_EVENT)
		rc = fail_at(y, &ev.start_mark, "expected the end of the document");
	yaml_event_delete(&ev);
	if (rc || json_is_null(v)) {
		json_decref(v);
		v = NULL;
	}
	*root = v;
	return rc;
}

int yaml_parse_documents(const char *text, size_t len, json_t **out, struct kerr *e)
{
	struct yparse y;
	yaml_event_t ev;
	json_t *docs;
	int rc;

	*out = NULL;
	if (!text) {
		text = "";
		len = 0;
	}
	if (!util_utf8_valid(text, len))
		return utf8_error(text, len, e);
	docs = json_array();
	if (!docs)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	if (!yaml_parser_initialize(&y.parser)) {
		json_decref(docs);
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	}
	y.text = text;
	y.e = e;
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&y.parser, YAML_UTF8_ENCODING);

	rc = next_event(&y, &ev);
	if (rc)
		goto done;
	yaml_event_delete(&ev);
	for (;;) {
		json_t *root = NULL;
		int type;

		rc = next_event(&y, &ev);
		if (rc)
			goto done;
		type = ev.type;
		yaml_event_delete(&ev);
		if (type == YAML_STREAM_END_EVENT)
			break;
		rc = parse_document(&y, &root);
		if (rc)
			goto done;
		if (root && json_array_append_new(docs, root) != 0) {
			rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
			goto done;
		}
	}
done:
	yaml_parser_delete(&y.parser);
	if (rc) {
		json_decref(docs);
		return rc;
	}
	*out = docs;
	return 0;
}

/* ---------- YAML or JSON request bodies ---------- */

static int json_depth_ok(const json_t *v, int depth)
{
	const char *key;
	json_t *child;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v))
		return 1;
	if (depth >= YAML_MAX_DEPTH)
		return 0;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child)
			if (!json_depth_ok(child, depth + 1))
				return 0;
	} else {
		json_array_foreach(v, i, child)
			if (!json_depth_ok(child, depth + 1))
				return 0;
	}
	return 1;
}

static int parse_json_body(const char *text, size_t len, json_t **out, struct kerr *e)
{
	json_error_t jerr;
	json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *item;
	size_t i;

	if (!v) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return kerr_set(e, KE_NOMEM, NULL, "out of memory");
		/* jansson quotes input near the error and may cut it mid-character. */
		jerr.text[first_invalid_utf8(jerr.text, strlen(jerr.text))] = '\0';
		return kerr_set(e, KE_INVALID, "INVALID_JSON", "line %d:%d: %s",
				jerr.line, jerr.column, jerr.text);
	}
	if (!json_depth_ok(v, 0)) {
		json_decref(v);
		return kerr_set(e, KE_INVALID, "INVALID_JSON", "nesting is too deep");
	}
	if (json_is_object(v)) {
		*out = json_array();
		if (!*out || json_array_append_new(*out, v) != 0) {
			json_decref(*out);
			*out = NULL;
			return kerr_set(e, KE_NOMEM, NULL, "out of memory");
		}
		return 0;
	}
	json_array_foreach(v, i, item) {
		if (!json_is_object(item)) {
			json_decref(v);
			return kerr_set(e, KE_INVALID, "INVALID_JSON",
					"array element %zu is not an object", i);
		}
	}
	*out = v;
	return 0;
}

int yaml_or_json_parse(const char *text, size_t len, json_t **out, struct kerr *e)
{
	json_t *docs = NULL, *doc;
	size_t i = 0;
	int rc;

	*out = NULL;
	if (!text) {
		text = "";
		len = 0;
	}
	if (!util_utf8_valid(text, len))
		return utf8_error(text, len, e);
	/* A UTF-8 byte order mark is harmless for YAML but jansson rejects it. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
		i++;
	if (i == len)
		return kerr_set(e, KE_INVALID, NULL, "empty body");
	if (text[i] == '{' || text[i] == '[')
		return parse_json_body(text, len, out, e);

	rc = yaml_parse_documents(text, len, &docs, e);
	if (rc)
		return rc;
	if (json_array_size(docs) == 0) {
		json_decref(docs);
		return kerr_set(e, KE_INVALID, NULL, "empty body");
	}
	json_array_foreach(docs, i, doc) {
		if (!json_is_object(doc)) {
			json_decref(docs);
			return kerr_set(e, KE_INVALID, "INVALID_YAML",
					"document %zu is not a mapping", i + 1);
		}
	}
	*out = docs;
	return 0;
}

/* ---------- emitting ---------- */

static uint32_t utf8_decode(const unsigned char *p, size_t *len)
{
	size_t l = utf8_seq_len(*p), k;
	uint32_t cp = l == 1 ? *p : (uint32_t)(*p & (0x7f >> l));

	for (k = 1; k < l; k++)
		cp = (cp << 6) | (p[k] & 0x3f);
	*len = l;
	return cp;
}

/* Code points a YAML reader would reject or treat as a line break. */
static int must_escape(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

static int plain_is_safe(const char *s, size_t n)
{
	static const char indicators[] = "-?:,[]{}#&*!|>'\"%@`";
	json_int_t iv;
	double dv;
	size_t i, l;

	if (n == 0 || memchr(indicators, s[0], sizeof(indicators) - 1))
		return 0;
	if (s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':')
		return 0;
	/* "..." ends a document at column 0; anything number-like is quoted so
	 * no reader (YAML 1.1 included) takes it for a number or timestamp. */
	if (s[0] == '.' && n > 1 && (s[1] == '.' || is_digit(s[1])))
		return 0;
	if (is_digit(s[0]) || (s[0] == '+' && n > 1 && (is_digit(s[1]) || s[1] == '.')))
		return 0;
	if (classify(s, n, &iv, &dv) != SK_STRING || match_word(s, n, yaml11_words))
		return 0;
	for (i = 0; i < n; i += l) {
		if (s[i] == ':' && i + 1 < n && s[i + 1] == ' ')
			return 0;
		if (s[i] == '#' && i > 0 && s[i - 1] == ' ')
			return 0;
		if (must_escape(utf8_decode((const unsigned char *)s + i, &l)))
			return 0;
	}
	return 1;
}

static int emit_string(const char *s, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, l;
	int rc;

	if (!util_utf8_valid(s, n))
		return KE_INVALID;
	if (plain_is_safe(s, n))
		return buf_add(out, s, n);
	rc = buf_addch(out, '"');
	for (i = 0; i < n && !rc; i += l) {
		uint32_t cp = utf8_decode((const unsigned char *)s + i, &l);

		if (cp == '"' || cp == '\\') {
			char esc[2] = { '\\', (char)cp };

			rc = buf_add(out, esc, 2);
		} else if (cp == '\n') {
			rc = buf_add(out, "\\n", 2);
		} else if (cp == '\t') {
			rc = buf_add(out, "\\t", 2);
		} else if (cp == '\r') {
			rc = buf_add(out, "\\r", 2);
		} else if (must_escape(cp)) {
			char esc[6] = { '\\', 'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15],
					hex[(cp >> 4) & 15], hex[cp & 15] };

			rc = buf_add(out, esc, 6);
		} else {
			rc = buf_add(out, s + i, l);
		}
	}
	return rc ? rc : buf_addch(out, '"');
}

static int emit_real(double d, struct buf *out)
{
	char tmp[64];
	int prec, exp;

	if (!isfinite(d))
		return KE_INVALID;
	/* Fewest significant digits that read back as the same double. */
	for (prec = 0; prec < 16; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec, d);
	exp = atoi(strchr(tmp, 'e') + 1);
	if (exp < -4 || exp >= 16)
		return buf_addstr(out, tmp);
	/* Positional form, always with a '.' so it reads back as a float. */
	return buf_printf(out, "%.*f", prec - exp > 1 ? prec - exp : 1, d);
}

static int is_open_collection(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) > 0) ||
	       (json_is_array(v) && json_array_size(v) > 0);
}

/* Scalars and empty collections, which fit on the current line. */
static int emit_inline(const json_t *v, struct buf *out)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return buf_addstr(out, "{}");
	case JSON_ARRAY:
		return buf_addstr(out, "[]");
	case JSON_STRING:
		return emit_string(json_string_value(v), json_string_length(v), out);
	case JSON_INTEGER:
		return buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return emit_real(json_real_value(v), out);
	case JSON_TRUE:
		return buf_addstr(out, "true");
	case JSON_FALSE:
		return buf_addstr(out, "false");
	case JSON_NULL:
		return buf_addstr(out, "null");
	}
	return KE_INVALID;
}

static int add_indent(struct buf *out, size_t indent)
{
	int rc = 0;

	while (indent-- > 0 && !rc)
		rc = buf_addch(out, ' ');
	return rc;
}

static int emit_block(const json_t *v, struct buf *out, size_t indent, int inline_first, int depth);

/* The part after "key:" — either " scalar\n" or a nested block below. */
static int emit_entry_value(const json_t *v, struct buf *out, size_t indent, int depth)
{
	int rc;

	if (is_open_collection(v)) {
		rc = buf_addch(out, '\n');
		return rc ? rc : emit_block(v, out, indent + 2, 0, depth + 1);
	}
	rc = buf_addch(out, ' ');
	rc = rc ? rc : emit_inline(v, out);
	return rc ? rc : buf_addch(out, '\n');
}

static int emit_mapping(const json_t *obj, struct buf *out, size_t indent, int inline_first,
			int depth)
{
	const char *key;
	json_t *val;
	int first = 1, rc = 0;

	json_object_foreach((json_t *)obj, key, val) {
		struct buf kb = BUF_INIT(out->max);

		if (!first || !inline_first)
			rc = add_indent(out, indent);
		first = 0;
		rc = rc ? rc : emit_string(key, strlen(key), &kb);
		if (!rc && kb.len > MAX_IMPLICIT_KEY) {
			rc = buf_addstr(out, "? ");
			rc = rc ? rc : buf_add(out, kb.data, kb.len);
			rc = rc ? rc : buf_addch(out, '\n');
			rc = rc ? rc : add_indent(out, indent);
		} else if (!rc) {
			rc = buf_add(out, kb.data, kb.len);
		}
		buf_free(&kb);
		rc = rc ? rc : buf_addch(out, ':');
		rc = rc ? rc : emit_entry_value(val, out, indent, depth);
		if (rc)
			return rc;
	}
	return 0;
}

static int emit_sequence(const json_t *arr, struct buf *out, size_t indent, int inline_first,
			 int depth)
{
	json_t *item;
	size_t i;
	int rc = 0;

	json_array_foreach(arr, i, item) {
		if (i > 0 || !inline_first)
			rc = add_indent(out, indent);
		rc = rc ? rc : buf_add(out, "- ", 2);
		if (!rc && is_open_collection(item)) {
			rc = emit_block(item, out, indent + 2, 1, depth + 1);
		} else if (!rc) {
			rc = emit_inline(item, out);
			rc = rc ? rc : buf_addch(out, '\n');
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* inline_first: the first line's indentation (a "- ") is already written. */
static int emit_block(const json_t *v, struct buf *out, size_t indent, int inline_first, int depth)
{
	if (depth > EMIT_MAX_DEPTH)
		return KE_INVALID;
	if (json_is_object(v))
		return emit_mapping(v, out, indent, inline_first, depth);
	return emit_sequence(v, out, indent, inline_first, depth);
}

int yaml_emit(const json_t *v, struct buf *out)
{
	size_t start = out->len;
	int rc;

	if (!v)
		return KE_INVALID;
	if (is_open_collection(v)) {
		rc = emit_block(v, out, 0, 0, 0);
	} else {
		rc = emit_inline(v, out);
		rc = rc ? rc : buf_addch(out, '\n');
	}
	if (rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return rc;
}
