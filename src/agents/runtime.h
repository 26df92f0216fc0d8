/* The agent runtime: runs queued dispatch attempts.
 *
 * The API creates an AgentDispatchRun and its AgentDispatchAttempt objects;
 * an attempt labelled krate.a5c.ai/state=queued is the runtime's to run. The
 * scheduler thread (woken by agents_runtime_on_event, and at least once a
 * second) picks queued attempts oldest first, within the limits: per stack
 * (spec.maxConcurrentRuns of the attempt's stack snapshot, default 2), per
 * runner pool (the run's or the stack's runnerPool: RunnerPool
 * spec.maxReplicas) and per server (max_parallel). One over a limit stays
 * Queued with a condition Scheduled=False whose reason names the limit
 * (StackLimit, RunnerPoolLimit, ServerLimit), on the attempt and its run. A
 * picked attempt is claimed (label running, phase Running, Scheduled=True;
 * only if still queued, so a cancel that got there first wins) and runs on
 * its own thread through the stack's adapter:
 *   process    (adapter "process", or an AgentAdapter of adapterType
 *              subprocess with its spec.command) a fresh `git worktree` of
 *              the repository at the run's commit in DATA/workspaces/<attempt>,
 *              the command under bubblewrap (docs/agents.md, "Runtime") with
 *              the prompt on stdin and DATA/runs/<attempt> at /krate,
 *              JSON-lines events into the transcript, the stack's time limit;
 *   agent-mux  (adapter "agent-mux", or an AgentAdapter of adapterType
 *              remote) a session of the org's AgentGatewayConfig gateway
 *              (mux.h); without one the attempt stays Queued with
 *              AgentMuxBound=False, reason Unavailable, and a gateway that
 *              cannot be reached puts it back there for RT_MUX_RETRY_S.
 * Then artifacts (diagnosis from the final message, patch from the
 * workspace diff, one test-report per report event), the transcript's last
 * write, and the end: the attempt's status {phase Succeeded|Failed|Cancelled,
 * reason, message, startedAt, finishedAt, exitCode, usage}, label done, and
 * the run's status {phase, reason, message, history[] appended} while the
 * run's currentAttempt is this attempt. Every write is audited as
 * system:agents. At start, attempts left Running by a previous process are
 * marked Failed (reason ServerRestarted) with their runs, and leftover
 * workspaces and run directories are removed; queued ones run.
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
	const char *data_dir;       /* DATA/git, DATA/workspaces, DATA/runs, DATA/cas (made absolute) */
	const char *git_path;       /* git executable (default /usr/bin/git) */
	const char *bwrap_path;     /* bubblewrap (default /usr/bin/bwrap) */
	int max_parallel;           /* attempts running at once in this server (default 4, at most 256) */
};

/* Runs the restart recovery, then starts the scheduler thread. */
int agents_runtime_start(const struct agents_runtime_options *o, struct agents_runtime **out, struct kerr *e);
/* store_event_fn: wakes the scheduler when an attempt is queued or a limit may have freed up. */
void agents_runtime_on_event(const struct store_event *ev, void *rt);
/* Stops the attempt's process (SIGTERM to its whole process group, SIGKILL
 * 2 s later) or gateway session, and waits (at most 5 s) until it has
 * stopped; the runtime then records the attempt Cancelled. 0, or
 * KE_NOTFOUND when it is not running here (queued attempts are the
 * caller's to close). */
int agents_runtime_cancel(struct agents_runtime *rt, const char *ns, const char *attempt);
/* Sends a follow-up message to a running attempt's session (agent-mux), or
 * KE_CONFLICT when the adapter cannot take one (process: the API queues a
 * continuation attempt instead; a session not bound yet), KE_NOTFOUND when
 * it is not running here. */
int agents_runtime_continue(struct agents_runtime *rt, const char *ns, const char *attempt, const char *message,
			    struct kerr *e);
/* 1 when the org has a reachable Agent Mux gateway configured, 0 when none is configured, -1 when configured but down. */
int agents_runtime_gateway_state(struct agents_runtime *rt, const char *ns);
/* Stops the scheduler and every running attempt (marked Failed, reason
 * ServerStopped, before it returns); frees rt. Call it while the store still
 * takes writes, after nothing can call agents_runtime_on_event any more. */
void agents_runtime_stop(struct agents_runtime *rt);

#endif
