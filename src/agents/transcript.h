/* An attempt's transcript: agent events → AgentSessionTranscript messages.
 *
 * The process adapter feeds the agent's stdout and stderr as bytes, split
 * anywhere; each stdout line that is a JSON object with a known "type"
 * (message, tool_call, tool_result, usage, report, final, error) becomes
 * that message, any other line a {type: message, role: stdout} one, and
 * stderr lines {type: message, role: stderr}. A line over
 * TRANSCRIPT_LINE_MAX is dropped whole and leaves one error message saying
 * so. The Agent Mux adapter passes events already parsed
 * (transcript_event). Every text is redacted with redact_text (the org's
 * secret values plus the generic patterns) before it is kept, so neither
 * the stored transcript nor anything read back from this struct holds a
 * secret.
 *
 * Messages are {seq, type, role, content, name, timestamp}; content is cut
 * at TRANSCRIPT_CONTENT_MAX, and past TRANSCRIPT_MESSAGES_MAX messages or
 * TRANSCRIPT_BYTES_MAX of content further messages are counted but not
 * kept (spec.truncated, spec.droppedMessages), so a chatty agent cannot
 * grow one object without bound. Usage events add up into spec.cost. The
 * spec is handed to the write callback in batches: when TRANSCRIPT_BATCH
 * messages are pending or TRANSCRIPT_FLUSH_MS passed since the last write
 * (transcript_flush), and at the end.
 *
 * Ownership: struct transcript owns its buffers and JSON
 * (transcript_free); secret_values is borrowed and must outlive it; the spec
 * passed to the write callback is borrowed for the call. */
#ifndef KRATE_AGENTS_TRANSCRIPT_H
#define KRATE_AGENTS_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/buf.h"
#include "core/err.h"

#define TRANSCRIPT_LINE_MAX (1024u * 1024u)     /* one stdout/stderr line */
#define TRANSCRIPT_CONTENT_MAX (32u * 1024u)    /* content kept per message */
#define TRANSCRIPT_MESSAGES_MAX 2000
#define TRANSCRIPT_BYTES_MAX (2u * 1024u * 1024u)
#define TRANSCRIPT_BATCH 50
#define TRANSCRIPT_FLUSH_MS 200
#define TRANSCRIPT_REPORTS_MAX 16
#define TRANSCRIPT_CUT_MARKER "\n[...cut]"

enum transcript_stream { TRANSCRIPT_STDOUT, TRANSCRIPT_STDERR };

/* Stores spec (the AgentSessionTranscript spec); 0 or a KE_* code. */
typedef int (*transcript_write_fn)(void *arg, json_t *spec, struct kerr *e);

struct transcript_options {
	const char *session_ref;    /* the attempt */
	const char *dispatch_run;
	json_t *secret_values;      /* array of strings, or NULL */
	transcript_write_fn write;
	void *arg;
};

struct transcript_usage {
	long long input_tokens, output_tokens, total_tokens;
	double cost_usd;
};

struct transcript {
	struct transcript_options o;
	json_t *messages;           /* kept messages */
	json_t *redactions;         /* {kind: count} */
	struct buf line[2];         /* partial line per stream */
	int dropping[2];            /* the current line went over the cap: skip to its end */
	size_t dropped_len[2];
	long long seq;
	size_t kept_bytes;
	long long dropped;          /* messages not kept */
	size_t pending;             /* messages since the last write */
	uint64_t last_write_ns;
	int dirty;
	/* results, all redacted */
	struct transcript_usage usage;
	char *final_content;        /* content of the last final event, or NULL */
	int final_success;          /* 1 when that event said status success */
	int has_final;
	char *last_assistant;       /* content of the last assistant message, or NULL */
	json_t *reports;            /* [{name, content}] of report events (at most TRANSCRIPT_REPORTS_MAX) */
};

int transcript_init(struct transcript *t, const struct transcript_options *o, struct kerr *e);
/* Bytes from the agent's stdout or stderr. */
int transcript_feed(struct transcript *t, enum transcript_stream s, const char *data, size_t n, struct kerr *e);
/* One event in the JSON-lines shape (docs/agents.md), borrowed; an object
 * without a known type is kept as a stdout message of its JSON text. */
int transcript_event(struct transcript *t, json_t *ev, struct kerr *e);
/* A message of the runtime itself (type error or message, role system). */
int transcript_note(struct transcript *t, const char *type, const char *content, struct kerr *e);
/* Writes when a batch is due (force: whenever something is unwritten). */
int transcript_flush(struct transcript *t, int force, struct kerr *e);
/* Ends both streams (a last line without a newline counts) and writes. */
int transcript_end(struct transcript *t, struct kerr *e);
/* The spec as written: {sessionRef, dispatchRun, messages, cost, redactions,
 * truncated, droppedMessages}; new reference, NULL when out of memory. */
json_t *transcript_spec(struct transcript *t);
/* Appends text redacted to out (and counts the redactions). */
int transcript_redact(struct transcript *t, const char *text, size_t len, struct buf *out, struct kerr *e);
void transcript_free(struct transcript *t);

#endif
