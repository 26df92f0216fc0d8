/* The Agent Mux adapter: runs a dispatch attempt as a session of an Agent Mux
 * gateway (the org's AgentGatewayConfig spec.gatewayUrl, "<gw>" below), over
 * HTTP with libcurl:
 *   GET    <gw>/api/v1/agents/<agent>/capabilities
 *   POST   <gw>/api/v1/sessions              {agent, model, prompt, systemPrompt, workspace
 *          {repository, ref, sha}, approvalMode, contextBundle {digest}, metadata
 *          {krateDispatchRun, krateAttempt, repository, sourceRef}}  ->  {runId, sessionId}
 *   GET    <gw>/api/v1/sessions/<id>         -> {status}
 *   POST   <gw>/api/v1/sessions/<id>/messages {content}
 *   DELETE <gw>/api/v1/sessions/<id>         (POST <gw>/api/v1/sessions/<id>/cancel if refused)
 *   GET    <gw>/api/v1/runs/<runId>/events   text/event-stream (mux_sse.h)
 * No secret value is ever sent: the payload carries names, digests and the
 * already redacted prompt. The event stream is reconnected whenever it ends
 * or fails before a terminal event, with Last-Event-ID and a backoff that
 * starts at backoff_base_ms, doubles to backoff_max_ms and starts over after
 * a connection the gateway accepted.
 *
 * Ownership: every input is borrowed; nothing is kept after a call returns. */
#ifndef KRATE_AGENTS_MUX_H
#define KRATE_AGENTS_MUX_H

#include <jansson.h>
#include <stdatomic.h>
#include "core/err.h"

#define MUX_ID_MAX 128
#define MUX_TICK_MS 250

struct mux_options {
	const char *gateway_url;     /* http(s)://host[:port][/prefix], without /api/v1 */
	int backoff_base_ms;         /* 0 = 1000 */
	int backoff_max_ms;          /* 0 = 30000 */
	int request_timeout_ms;      /* every call but the event stream; 0 = 30000 */
	int idle_timeout_s;          /* a stream silent this long is reconnected; 0 = 120 */
};

struct mux_request {
	json_t *attempt;             /* the AgentDispatchAttempt (metadata.name, metadata.uid, spec.contextBundleDigest) */
	json_t *run;                 /* the AgentDispatchRun (metadata.name, spec.repository, spec.ref, spec.sha) */
	json_t *stack;               /* the stack's spec as the attempt froze it (spec.agentStackSnapshot):
					baseAgent, model, approvalMode, timeoutSeconds (default 600) */
	const char *prompt;          /* the rendered prompt, already redacted */
	const char *system_prompt;   /* the redacted system layer, or NULL to send none */
};

struct mux_session {
	char run_id[MUX_ID_MAX];
	char session_id[MUX_ID_MAX];
	json_t *capabilities;        /* the gateway's capabilities answer (borrowed), or NULL */
};

/* What the runtime records. Callbacks run on the caller's thread; a non-zero
 * (negative KE_*) return stops the attempt: the gateway session is cancelled,
 * the outcome is Failed with reason RecordFailed and mux_run_attempt returns
 * that code. */
struct mux_sink {
	void *ctx;
	/* The gateway created the session: the attempt is bound (its
	 * status.agentMuxRunId and agentMuxSessionId, AgentMuxBound=True) and
	 * Running; keep session_id for agents_runtime_continue. */
	int (*bound)(void *ctx, const struct mux_session *s);
	/* One transcript entry in the process adapter's JSON-lines shape (see
	 * mux_event_map), NOT yet redacted. Borrowed. */
	int (*event)(void *ctx, json_t *entry);
	/* May be NULL. Called about every MUX_TICK_MS (at least once a second)
	 * while the session runs but no event arrives: the time to write what
	 * event() buffered, since the next event may be long in coming. */
	int (*tick)(void *ctx);
};

struct mux_outcome {
	char phase[16];              /* Succeeded, Failed or Cancelled */
	char reason[32];             /* Succeeded, AgentFailed, GatewayCancelled, SessionLost, Cancelled, TimedOut,
					RecordFailed */
	char message[160];           /* Krate's words, never the gateway's text */
};

/* Runs the attempt to its end: capabilities, session, events until a terminal
 * one, *cancel (set by another thread) or the stack's time limit; the last two
 * cancel the gateway session. Returns 0 once the session was bound (out says
 * how it ended), KE_UNAVAILABLE when no session could be created (the gateway
 * is unreachable or failed: nothing is bound, e says why, the attempt may be
 * tried again), KE_UNPROCESSABLE when the gateway rejected the request or
 * does not know the agent (trying again will not help), a sink's code, or
 * KE_NOMEM. */
int mux_run_attempt(const struct mux_options *o, const struct mux_request *q, const struct mux_sink *sink,
		    const atomic_int *cancel, struct mux_outcome *out, struct kerr *e);

/* A follow-up message to a running session (the reply arrives on its event
 * stream). 0; KE_NOTFOUND when the gateway does not know the session;
 * KE_CONFLICT when it refuses one (ended, or the agent cannot continue);
 * KE_UNAVAILABLE when unreachable. */
int mux_send_message(const struct mux_options *o, const char *session_id, const char *content, struct kerr *e);

/* Ends a session at the gateway (DELETE, else POST .../cancel). 0 (also when
 * the gateway no longer knows it), or KE_UNAVAILABLE. */
int mux_cancel_session(const struct mux_options *o, const char *session_id, struct kerr *e);

/* 0 when something answers HTTP at <url>/healthz before timeout_ms (any
 * status below 500), else KE_UNAVAILABLE: the gateway state of /readyz. */
int mux_probe(const char *gateway_url, int timeout_ms);

/* Maps one gateway event (name: its SSE event name, or "") to a transcript
 * entry, *entry (new reference) or NULL when it adds none:
 *   message      {type, role (default assistant), content}
 *   tool_call    {type, name (name|tool), input (input|arguments)}
 *   tool_result  {type, name, content}
 *   usage        {type, inputTokens, outputTokens, totalTokens, costUsd} (top level or under "usage")
 *   report       {type, name, content}
 *   error        {type, content}
 *   final        {type, content, status: success|failure}
 *   other types  message with role = the event's role or type, when it has content
 * content is content|text|message, JSON text when not a string. Returns 1 for
 * a terminal event (final; status succeeded|failed|cancelled) with *end set,
 * else 0; KE_NOMEM. */
int mux_event_map(json_t *ev, const char *name, json_t **entry, struct mux_outcome *end);

#endif
