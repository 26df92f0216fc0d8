/* text/event-stream parsing after the WHATWG rules, reduced to what the Agent
 * Mux stream uses (data, id, event; retry is ignored: the client has its own
 * backoff). */
#include "agents/mux_sse.h"

#include <string.h>

void mux_sse_init(struct mux_sse *p, mux_sse_fn fn, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->arg = arg;
	buf_init(&p->line, MUX_SSE_EVENT_MAX);
	buf_init(&p->data, MUX_SSE_EVENT_MAX);
}

static int dispatch(struct mux_sse *p)
{
	json_t *ev = NULL;
	int rc = 0;

	/* The event arrived whole, so its id is one the stream need not resend. */
	memcpy(p->last_id, p->id, sizeof(p->last_id));
	if (p->too_long) {
		p->skipped++;
	} else if (p->data.len) {
		/* every data line added a '\n'; the last one is not part of the data */
		ev = json_loadb(p->data.data, p->data.len - 1, 0, NULL);
		if (!json_is_object(ev)) {
			p->skipped++;
		} else {
			p->events++;
			rc = p->fn(p->arg, ev, p->name, p->last_id);
		}
	}
	json_decref(ev);
	buf_reset(&p->data);
	p->name[0] = '\0';
	p->too_long = 0;
	return rc;
}

static void field(struct mux_sse *p, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (nlen == 4 && !memcmp(name, "data", 4)) {
		if (buf_add(&p->data, value, vlen) || buf_addch(&p->data, '\n'))
			p->too_long = 1;
	} else if (nlen == 2 && !memcmp(name, "id", 2)) {
		/* an id that cannot be sent back whole in a header is not kept */
		if (!memchr(value, '\0', vlen) && !memchr(value, '\r', vlen) && vlen < sizeof(p->id)) {
			memcpy(p->id, value, vlen);
			p->id[vlen] = '\0';
		}
	} else if (nlen == 5 && !memcmp(name, "event", 5)) {
		if (vlen >= sizeof(p->name))
			vlen = sizeof(p->name) - 1;
		memcpy(p->name, value, vlen);
		p->name[vlen] = '\0';
	}
}

static int end_line(struct mux_sse *p)
{
	const char *l = p->line.data, *colon;
	size_t len = p->line.len, nlen;
	int rc = 0;

	if (p->dropping) {
		p->dropping = 0;
	} else if (len == 0) {
		rc = dispatch(p);
	} else if (l[0] != ':') {
		colon = memchr(l, ':', len);
		nlen = colon ? (size_t)(colon - l) : len;
		if (!colon) {
			field(p, l, nlen, "", 0);
		} else {
			size_t skip = nlen + 1;

			if (skip < len && l[skip] == ' ')
				skip++;
			field(p, l, nlen, l + skip, len - skip);
		}
	}
	buf_reset(&p->line);
	return rc;
}

int mux_sse_feed(struct mux_sse *p, const char *s, size_t n)
{
	size_t i = 0, start;
	int rc;

	while (i < n) {
		if (p->after_cr) {
			p->after_cr = 0;
			if (s[i] == '\n') {
				i++;
				continue;
			}
		}
		start = i;
		while (i < n && s[i] != '\r' && s[i] != '\n')
			i++;
		/* A line over the cap is dropped to its end, and its event with it. */
		if (i > start && !p->dropping && buf_add(&p->line, s + start, i - start)) {
			buf_reset(&p->line);
			p->dropping = 1;
			p->too_long = 1;
		}
		if (i == n)
			break;
		p->after_cr = s[i] == '\r';
		i++;
		rc = end_line(p);
		if (rc)
			return rc;
	}
	return 0;
}

void mux_sse_restart(struct mux_sse *p)
{
	buf_reset(&p->line);
	buf_reset(&p->data);
	memcpy(p->id, p->last_id, sizeof(p->id));
	p->name[0] = '\0';
	p->after_cr = 0;
	p->too_long = 0;
	p->dropping = 0;
}

void mux_sse_free(struct mux_sse *p)
{
	buf_free(&p->line);
	buf_free(&p->data);
}
