/* Incremental server-sent-events parser (the text/event-stream format). */
#include "cli/cli_internal.h"

#include <string.h>

void sse_init(struct sse_parser *p, size_t max, sse_event_fn fn, void *ud)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->line, max);
	buf_init(&p->data, max);
	buf_init(&p->event, max);
	buf_init(&p->id, max);
	p->fn = fn;
	p->ud = ud;
}

void sse_free(struct sse_parser *p)
{
	buf_free(&p->line);
	buf_free(&p->data);
	buf_free(&p->event);
	buf_free(&p->id);
}

static void reset_event(struct sse_parser *p)
{
	buf_reset(&p->data);
	buf_reset(&p->event);
	buf_reset(&p->id);
	p->has_data = 0;
	p->has_id = 0;
}

static int dispatch(struct sse_parser *p)
{
	int rc = 0;

	/* An event without data lines carries nothing to report. */
	if (p->has_data)
		rc = p->fn(p->ud, p->event.len ? p->event.data : "message",
			   p->has_id ? (p->id.data ? p->id.data : "") : NULL,
			   p->data.data ? p->data.data : "");
	reset_event(p);
	return rc;
}

static int set_field(struct buf *b, const char *v, size_t n)
{
	buf_reset(b);
	return buf_add(b, v, n);
}

/* Handles one complete line (without its line ending). */
static int process_line(struct sse_parser *p, const char *line, size_t len)
{
	const char *colon, *value;
	size_t flen, vlen;
	int rc = 0;

	if (len == 0)
		return dispatch(p);
	if (line[0] == ':')
		return 0;
	colon = memchr(line, ':', len);
	flen = colon ? (size_t)(colon - line) : len;
	value = colon ? colon + 1 : line + len;
	vlen = len - (size_t)(value - line);
	if (vlen && value[0] == ' ') {
		value++;
		vlen--;
	}
	if (flen == 4 && !memcmp(line, "data", 4)) {
		if (p->has_data)
			rc = buf_addch(&p->data, '\n');
		if (!rc)
			rc = buf_add(&p->data, value, vlen);
		p->has_data = 1;
	} else if (flen == 5 && !memcmp(line, "event", 5)) {
		rc = set_field(&p->event, value, vlen);
	} else if (flen == 2 && !memcmp(line, "id", 2)) {
		rc = set_field(&p->id, value, vlen);
		p->has_id = 1;
	}
	return rc;
}

static int end_line(struct sse_parser *p)
{
	int rc = process_line(p, p->line.data ? p->line.data : "", p->line.len);

	buf_reset(&p->line);
	return rc;
}

int sse_feed(struct sse_parser *p, const char *chunk, size_t n)
{
	size_t i = 0;
	int rc;

	if (p->after_cr && n > 0 && chunk[0] == '\n')
		i = 1;
	if (n > 0)
		p->after_cr = 0;
	while (i < n) {
		size_t j = i;

		while (j < n && chunk[j] != '\n' && chunk[j] != '\r')
			j++;
		rc = buf_add(&p->line, chunk + i, j - i);
		if (rc)
			return rc;
		if (j == n)
			break;
		rc = end_line(p);
		if (rc)
			return rc;
		if (chunk[j] == '\r') {
			if (j + 1 < n && chunk[j + 1] == '\n')
				j++;
			else if (j + 1 == n)
				p->after_cr = 1;
		}
		i = j + 1;
	}
	return 0;
}
