/* Incremental parser for a text/event-stream body (the Agent Mux run events).
 *
 * Bytes are fed as they arrive, split anywhere (inside a line, between CR and
 * LF). Lines end with CRLF, LF or CR; a line starting with ':' is a comment;
 * "data:" lines of one event are joined with '\n'; a blank line ends the
 * event. Each event's data must be one JSON object: anything else (malformed
 * JSON, an array, null, an event over MUX_SSE_EVENT_MAX) is skipped and
 * counted. "id:" sets the id that becomes the last event id when its event
 * ends (even an event without data), so after a cut connection last_id names
 * the last event that arrived whole: the Last-Event-ID to reconnect with.
 *
 * Ownership: the parser owns its buffers (mux_sse_free); the JSON passed to
 * the callback is borrowed for the duration of the call. */
#ifndef KRATE_AGENTS_MUX_SSE_H
#define KRATE_AGENTS_MUX_SSE_H

#include <jansson.h>
#include <stddef.h>
#include "core/buf.h"

#define MUX_SSE_EVENT_MAX (4u * 1024u * 1024u)
#define MUX_SSE_ID_MAX 256

/* ev: the event's JSON object; name: the "event:" field or "" (the default
 * "message"); id: the last event id after this event or "". Returns 0 to go
 * on, non-zero to stop: mux_sse_feed then returns that value at once. */
typedef int (*mux_sse_fn)(void *arg, json_t *ev, const char *name, const char *id);

struct mux_sse {
	mux_sse_fn fn;
	void *arg;
	struct buf line;            /* the line being read, without its end */
	struct buf data;            /* the current event's data lines */
	char name[64];              /* the current event's "event:" field (cut) */
	char id[MUX_SSE_ID_MAX];    /* "id:" of the current event, committed when it ends */
	char last_id[MUX_SSE_ID_MAX];
	int after_cr;               /* the previous byte ended a line with CR: a following LF is part of it */
	int dropping;               /* the current line went over the cap: drop it to its end */
	int too_long;               /* the current event went over a cap: drop it at its end */
	unsigned long events;       /* events passed to fn */
	unsigned long skipped;      /* events dropped (bad JSON, not an object, too long) */
};

void mux_sse_init(struct mux_sse *p, mux_sse_fn fn, void *arg);
/* Parses n bytes. 0, or the callback's non-zero value. */
int mux_sse_feed(struct mux_sse *p, const char *bytes, size_t n);
/* Forgets a partly read event (the connection ended); keeps last_id and the counts. */
void mux_sse_restart(struct mux_sse *p);
void mux_sse_free(struct mux_sse *p);

#endif
