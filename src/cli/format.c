/* Pure text helpers for client output: timestamps, ages, content sniffing,
 * scalar display and error envelopes. */
#include "cli/cli_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads exactly n digits. */
static int digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*s)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

static int expect(const char **s, char c)
{
	if (**s != c)
		return -1;
	(*s)++;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so no time-zone state is involved. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

int cli_parse_time(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;

	if (!s || digits(&s, 4, &y) || expect(&s, '-') || digits(&s, 2, &mo) || expect(&s, '-') ||
	    digits(&s, 2, &d) || (*s != 'T' && *s != 't' && *s != ' '))
		return KE_INVALID;
	s++;
	if (digits(&s, 2, &h) || expect(&s, ':') || digits(&s, 2, &mi) || expect(&s, ':') ||
	    digits(&s, 2, &sec))
		return KE_INVALID;
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || sec > 60)
		return KE_INVALID;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return KE_INVALID;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		s++;
		if (digits(&s, 2, &oh) || expect(&s, ':') || digits(&s, 2, &om) || oh > 23 || om > 59)
			return KE_INVALID;
	} else {
		return KE_INVALID;
	}
	if (*s)
		return KE_INVALID;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	       sign * (oh * 3600 + om * 60);
	return 0;
}

void cli_format_age(int64_t seconds, char out[24])
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 60)
		snprintf(out, 24, "%" PRId64 "s", seconds);
	else if (seconds < 3600)
		snprintf(out, 24, "%" PRId64 "m", seconds / 60);
	else if (seconds < 86400)
		snprintf(out, 24, "%" PRId64 "h", seconds / 3600);
	else
		snprintf(out, 24, "%" PRId64 "d", seconds / 86400);
}

void cli_age_since(const char *ts, int64_t now, char out[24])
{
	int64_t t;

	if (cli_parse_time(ts, &t) != 0) {
		snprintf(out, 24, "-");
		return;
	}
	cli_format_age(now - t, out);
}

const char *cli_sniff_type(const char *body, size_t len)
{
	size_t i = 0;

	if (len >= 3 && !memcmp(body, "\xEF\xBB\xBF", 3))
		i = 3;
	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
		i++;
	if (i < len && (body[i] == '{' || body[i] == '['))
		return "application/json";
	return "application/yaml";
}

char *cli_scalar_text(const json_t *v)
{
	char num[64];

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return strdup(num);
	}
	if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%g", json_real_value(v));
		return strdup(num);
	}
	if (json_is_boolean(v))
		return strdup(json_is_true(v) ? "true" : "false");
	return strdup("-");
}

static const char *str_or(const json_t *obj, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && *s ? s : dflt;
}

int cli_error_text(const json_t *envelope, long status, const char *prefix, struct buf *out)
{
	const json_t *err = json_object_get(envelope, "error");
	const json_t *reasons, *r;
	size_t i;
	int rc;

	rc = buf_addstr(out, "error: ");
	if (!rc && prefix)
		rc = buf_printf(out, "%s: ", prefix);
	if (rc)
		return rc;
	if (!json_is_object(err))
		return buf_printf(out, "server answered HTTP %ld\n", status);
	rc = buf_printf(out, "%s (%s)\n", str_or(err, "message", "request failed"),
			str_or(err, "code", "UNKNOWN"));
	reasons = json_object_get(err, "reasons");
	json_array_foreach(reasons, i, r) {
		const char *field = str_or(r, "field", NULL);

		if (rc)
			break;
		if (field)
			rc = buf_printf(out, "  %s: %s\n", field, str_or(r, "message", ""));
		else
			rc = buf_printf(out, "  %s\n", str_or(r, "message", ""));
	}
	return rc;
}

/* The quoted warn-text of `warn-code SP warn-agent SP "text"` (RFC 7234
 * section 5.5) into t; -1 when the value has another shape. */
static int quoted_warn_text(const char *v, struct buf *t)
{
	const char *q;

	if (strlen(v) < 6 || v[0] < '0' || v[0] > '9' || v[1] < '0' || v[1] > '9' || v[2] < '0' ||
	    v[2] > '9' || v[3] != ' ')
		return -1;
	q = strchr(v + 4, ' ');
	if (!q || q == v + 4 || q[1] != '"')
		return -1;
	for (q += 2; *q && *q != '"'; q++) {
		if (*q == '\\' && q[1])
			q++;
		if (buf_addch(t, *q))
			return -1;
	}
	return *q == '"' ? 0 : -1;
}

int cli_warning_text(const char *value, struct buf *out)
{
	struct buf t = BUF_INIT(0);
	const char *s = value;
	size_t start = out->len;
	int rc;

	if (quoted_warn_text(value, &t) == 0)
		s = t.data ? t.data : "";
	rc = buf_addstr(out, s);
	for (size_t i = start; !rc && i < out->len; i++)
		if ((unsigned char)out->data[i] < 0x20 || out->data[i] == 0x7f)
			out->data[i] = '?';
	buf_free(&t);
	return rc;
}
