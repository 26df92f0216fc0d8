/* The agent runtime: runs queued dispatch attempts.
 *
 * The API creates an AgentDispatchRun and its AgentDispatchAttempt objects;
 * an attempt labelled krate.a5c.ai/state=queued is the runtime's to run. The
 * scheduler thread picks queued attempts oldest first, within the limits
 * (per stack: spec.maxConcurrentRuns, default 2; per runner pool:
 * RunnerPool spec.maxReplicas); one over a limit stays Queued with a
 * condition Scheduled=False whose reason says which limit. A picked attempt
 * runs on its own thread through the stack's adapter:
 *   process    a fresh `git worktree` of the repository at the run's commit
 *              in DATA/workspaces/<attempt>, the stack's command under
 *              bubblewrap (docs/agents.md), JSON-lines events into the
 *              transcript, time limit, artifacts (diagnosis from the final
 *              message, patch from the workspace diff, reports);
 *   agent-mux  the Agent Mux gateway of the org's AgentGatewayConfig
 *              (capabilities, create session, status, event stream with
 *              reconnect and backoff); without one the attempt stays
 *              Queued with AgentMuxBound=False, reason Unavailable.
 * It writes the attempt's and the run's status (phase, conditions, history)
 * as it goes. At start, attempts left Running by a previous process are
 * marked Failed (reason ServerRestarted) and their runs Failed; queued ones
 * run.
 *
 * Ownership: borrows the store and the seal, which must outlive it. */
#ifndef KRATE_AGENTS_RUNTIME_H
#define KRATE_AGENTS_RUNTIME_H

#include "core/err.h"
#include "core/seal.h"
#include "store/store.h"

struct agents_runtime;

struct agents_runtime_options {
	struct store *store;
	struct seal *seal;          /* opens granted Secret values for the run's environment and redaction */
	const char *data_dir;       /* DATA/git, DATA/workspaces, DATA/runs, DATA/cas */
	const char *git_path;       /* git executable */
	const char *bwrap_path;     /* bubblewrap (default /usr/bin/bwrap) */
	int max_parallel;           /* attempts running at once in this server (default 4) */
};

int agents_runtime_start(const struct agents_runtime_options *o, struct agents_runtime **out, struct kerr *e);
/* store_event_fn: wakes the scheduler when an attempt is queued or a limit may have freed up. */
void agents_runtime_on_event(const struct store_event *ev, void *rt);
/* Stops the attempt's process (its whole process group) or gateway session;
 * the runtime then records it Cancelled. 0, or KE_NOTFOUND when it is not running here. */
int agents_runtime_cancel(struct agents_runtime *rt, const char *ns, const char *attempt);
/* Sends a follow-up message to a running attempt's session (agent-mux), or
 * KE_CONFLICT when the adapter cannot take one (process: the API queues a
 * continuation attempt instead). */
int agents_runtime_continue(struct agents_runtime *rt, const char *ns, const char *attempt, const char *message,
			    struct kerr *e);
/* 1 when the org has a reachable Agent Mux gateway configured, 0 when none is configured, -1 when configured but down. */
int agents_runtime_gateway_state(struct agents_runtime *rt, const char *ns);
/* Stops the scheduler and every running attempt (marked Failed, reason ServerStopped); frees rt. */
void agents_runtime_stop(struct agents_runtime *rt);

#endif
