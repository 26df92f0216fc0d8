/* Internals of the agent runtime (runtime.h), shared by scheduler.c (the
 * scheduler thread and the public calls), job.c (one attempt from claim to
 * its last status), status.c (status and record writes), workspace.c (git
 * worktrees and the patch), proc.c (the sandboxed process) and artifacts.c.
 *
 * Locking: rt->lock guards the job list, rt->running, each job's pgid,
 * session_id and done, and the wake and stopping flags. Nothing holds it
 * while writing to the store: the store's event hook calls
 * agents_runtime_on_event, which takes it.
 *
 * Ownership: the runtime owns its jobs; a job owns its JSON and strings. */
#ifndef KRATE_AGENTS_RUNTIME_INTERNAL_H
#define KRATE_AGENTS_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <jansson.h>

#include "agents/runtime.h"
#include "agents/transcript.h"
#include "git/git.h"

#define RT_LABEL_STATE "krate.a5c.ai/state"   /* attempts: waiting|queued|running|done */
#define RT_ACTOR "system:agents"
#define RT_NAME_MAX 200                        /* object names that become paths */
#define RT_NS_MAX 96
#define RT_PATH_MAX 4096
#define RT_DEFAULT_TIMEOUT 600
#define RT_MAX_TIMEOUT (7 * 24 * 3600)
#define RT_DEFAULT_STACK_LIMIT 2
#define RT_DEFAULT_PARALLEL 4
#define RT_KILL_GRACE_MS 2000                  /* SIGTERM, then SIGKILL this much later */
#define RT_HISTORY_MAX 100
#define RT_MUX_RETRY_S 30                      /* an unreachable gateway is tried again after this */
#define RT_CANCEL_WAIT_MS 5000                 /* agents_runtime_cancel waits this long for the agent to end */

enum rt_adapter { RT_ADAPTER_PROCESS, RT_ADAPTER_MUX };

struct rt_job {
	struct agents_runtime *rt;
	char ns[RT_NS_MAX];
	char org[64];
	char name[RT_NAME_MAX + 1];        /* the attempt */
	char run[RT_NAME_MAX + 1];
	char stack[RT_NAME_MAX + 1];
	char pool[RT_NAME_MAX + 1];        /* runner pool, "" for none */
	enum rt_adapter adapter;
	json_t *attempt;                   /* the attempt as claimed */
	json_t *command;                   /* process: argv (array of strings) */
	char *gateway_url;                 /* agent-mux */
	atomic_int cancel;                 /* agents_runtime_cancel or stop: end the agent */
	atomic_int stopping;               /* the server is stopping: Failed, ServerStopped */
	pid_t pgid;                        /* under rt->lock: the agent's process group, 0 when none */
	char session_id[128];              /* under rt->lock: the gateway session, "" until bound */
	int agent_ended;                   /* under rt->lock: the process was reaped / the session ended */
	int done;                          /* under rt->lock: the thread has finished */
	pthread_t thread;
	struct rt_job *next;
};

struct agents_runtime {
	struct store *store;
	struct seal *seal;
	char *data_dir;                    /* absolute */
	char *git_path;
	char *bwrap_path;
	int max_parallel;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int started;
	int stopping;
	int wake;
	unsigned running;                  /* jobs not done */
	struct rt_job *jobs;
	json_t *mux_retry;                 /* {"ns/attempt": unix s} not to try before */
};

/* How an attempt ended. */
struct rt_outcome {
	char phase[16];                    /* Succeeded, Failed, Cancelled */
	char reason[32];
	char message[256];
	int exit_code;
	int has_exit_code;
};
void rt_outcome_set(struct rt_outcome *o, const char *phase, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- status.c ---- */

/* 1 if s can name a directory under DATA: [a-z0-9] then [a-z0-9.-], no "..", at most RT_NAME_MAX. */
int rt_name_ok(const char *s);
/* The stored object (new reference); KE_NOTFOUND when absent. */
int rt_get(struct agents_runtime *rt, const char *kind, const char *ns, const char *name, json_t **out,
	   struct kerr *e);
const char *rt_str(json_t *obj, const char *part, const char *key);
/* A condition {type, status, reason, message, lastTransitionTime} (new reference). */
json_t *rt_condition(const char *type, int ok, const char *reason, const char *message);
/* 1 when status.conditions has type with the same status and reason. */
int rt_condition_is(json_t *obj, const char *type, int ok, const char *reason);

/* One change of an attempt and its run, written in one audited batch and
 * retried on a conflicting write. Everything is borrowed. */
struct rt_change {
	const char *expect_state;          /* the attempt's state label must still be this, else KE_CONFLICT */
	const char *state;                 /* new state label, or NULL */
	json_t *attempt_status;            /* members merged into the attempt's status, or NULL */
	json_t *condition;                 /* set (by type) on the attempt and its run, or NULL */
	json_t *run_status;                /* members merged into the run's status, or NULL */
	const char *history_phase;         /* appended to the run's status.history when set */
	const char *history_reason, *history_message;
};
/* The run is changed only while its status.currentAttempt is this attempt
 * (or unset), so a finished attempt never overwrites a newer one. */
int rt_change(struct agents_runtime *rt, const char *ns, const char *attempt, const struct rt_change *c,
	      struct kerr *e);
/* Creates or replaces obj (kind, metadata.name and spec set by the caller;
 * namespace, org labels and spec.organizationRef added here). */
int rt_put(struct agents_runtime *rt, const char *ns, json_t *obj, struct kerr *e);

/* ---- job.c ---- */

/* The attempt's thread: runs it through its adapter and records the end. */
void *rt_job_main(void *arg);
/* The agent has stopped (process reaped, session over): wakes agents_runtime_cancel. */
void rt_agent_ended(struct rt_job *j);
/* The process adapter's command for a stack spec, or NULL; for an AgentAdapter
 * of adapterType subprocess, its spec.command. New reference. */
json_t *rt_stack_command(json_t *stack_spec, json_t *adapter_obj);

/* ---- workspace.c ---- */

/* DATA/git/<org>/<repo>.git into dir (size RT_PATH_MAX); KE_INVALID for unusable names. */
int ws_repo_dir(struct agents_runtime *rt, const char *org, const char *repo, char *dir, struct kerr *e);
/* DATA/<sub>/<name> into path. */
int ws_path(struct agents_runtime *rt, const char *sub, const char *name, char *path, struct kerr *e);
/* `git worktree add --detach DATA/workspaces/<attempt> <sha>` on repo_dir
 * (after clearing a leftover of the same name). */
int ws_create(struct agents_runtime *rt, const char *repo_dir, const char *attempt, const char *sha, struct kerr *e);
/* The agent's changes against base: *patch (git diff --cached --binary of
 * everything in the workspace, malloc'd, may be empty), *files (array of
 * paths). Reads the workspace with the repository's own config, a private
 * index and object directory under DATA/runs/<attempt>: nothing the agent
 * wrote is taken as git configuration. */
int ws_patch(struct agents_runtime *rt, const char *repo_dir, const char *attempt, const char *base, char **patch,
	     size_t *len, json_t **files, struct kerr *e);
/* Removes the workspace (`git worktree remove --force`, else by hand) and
 * prunes the repository's worktree list; repo_dir may be NULL (unknown). */
void ws_remove(struct agents_runtime *rt, const char *repo_dir, const char *attempt);
/* Removes path and everything under it, without following symlinks. */
int ws_rmtree(const char *path);

/* ---- proc.c ---- */

struct proc_spec {
	json_t *command;                   /* argv, array of strings */
	const char *workspace;             /* DATA/workspaces/<attempt> */
	const char *run_dir;               /* DATA/runs/<attempt>, read-only at /krate */
	const char *repo_dir;              /* read-only in the sandbox, so git works in the workspace */
	int share_net;
	char *const *env;                  /* NAME=value, NULL-terminated */
	const char *input;                 /* stdin: the rendered prompt */
	size_t input_len;
	int timeout_s;
};
struct proc_result {
	int exit_code;                     /* -1 when killed by a signal */
	int timed_out;
	int cancelled;
};
/* Runs the command under bubblewrap in its own process group, feeding its
 * stdout and stderr to t, until it exits, the time limit passes or the job is
 * cancelled (then the group gets SIGTERM and, RT_KILL_GRACE_MS later,
 * SIGKILL). <0 only when it could not be started. */
int proc_run(struct rt_job *j, const struct proc_spec *s, struct transcript *t, struct proc_result *r,
	     struct kerr *e);

/* ---- artifacts.c ---- */

struct artifact_input {
	struct rt_job *job;
	json_t *run;                       /* the AgentDispatchRun */
	struct transcript *t;
	const char *repo_dir;              /* NULL: no workspace (agent-mux) */
	const char *base_sha;
};
/* Records the diagnosis (the final message, else the last assistant
 * message), the patch (when the workspace changed) and one test-report per
 * report event: content in CAS, AgentArtifact objects. Failures are logged
 * and returned; earlier artifacts stay. */
int artifacts_record(const struct artifact_input *in, struct kerr *e);

#endif
