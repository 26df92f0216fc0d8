/* Permission review: may an agent stack run on a repository and ref, and
 * with which identities, roles, secrets and configs?
 *
 * A pure function of the request and a snapshot of the org's agent objects
 * (no store access, no clock): the same inputs give the same result and the
 * same digest. The result follows the seed's response shape:
 *   {decision: allowed|denied|requires-approval,
 *    runtimeIdentity {serviceAccountRef, ready}, runnerIdentity {runnerPool, serviceAccountRef, ready},
 *    requiredRoles[], requiredSecrets[{purpose, secretRef, grant, status}], requiredConfigs[...],
 *    missingGrants[{kind, subject, purpose, description}], approvalRequirements[{action, reason, grant}],
 *    yamlPreview[ "<YAML of a grant that would fix one missing grant>" ],
 *    reasons[{code, severity: error|warning|info, message}],
 *    repository, ref, actor, agentStack, taskKind, triggerSource, untrustedRef,
 *    digest: "sha256:<hex>" over the canonical JSON (sorted keys) of everything else}
 * Untrusted refs (refs/pull/..., a ref marked untrusted by a RefPolicy with
 * spec.untrusted) never get a secret without a grant that lists that ref in
 * allowedRefs; review that cannot be completed fails closed (denied).
 *
 * Identities: the stack's spec.runtimeIdentity ("name" or
 * {serviceAccountRef}) must name an AgentServiceAccount, whose
 * allowedRepositories / allowedRunnerPools (when not empty) must admit the
 * repository and the runner pool; the runner pool (q->runner_pool, else the
 * stack's spec.runnerPool) must exist when one is asked for. Role bindings
 * whose subject ("name" or {name}) is the account or the stack are listed;
 * none is only a warning.
 *
 * Needs, one per purpose: "model-provider" (the stack has an adapter),
 * "mcp-server:<name>" for each referenced AgentMcpServer with secretRefs
 * (and, as a config need, with configRefs), "secret:<name>" for each entry
 * of spec.secretPolicy.allowedSecretRefs. A grant meets a need when its
 * subject is the account or the stack, its purpose is the need's, and its
 * allowedRepositories, allowedRefs (full refs; a trailing '*' makes a
 * prefix) and allowedTriggerSources, when not empty, admit the request. On
 * an untrusted ref an allowedRefs entry must itself lie inside the untrusted
 * namespace ("refs/pull/" + '*' or the exact ref; '*' alone does not count).
 * Of several fitting grants the one needing no approval wins, then the
 * account's, then the first by name. requiredApproval "always", or
 * "on-untrusted-ref" on an untrusted ref, makes the need requires-approval.
 * Each unmet need adds a missingGrants entry and a yamlPreview document
 * (grant named "<stack>-<purpose>" slugified, for this repository; on an
 * untrusted ref also for this ref with requiredApproval on-untrusted-ref).
 *
 * Reason codes: STACK_NOT_FOUND, SERVICE_ACCOUNT_MISSING,
 * SERVICE_ACCOUNT_NOT_ALLOWED, RUNNER_POOL_MISSING, MCP_SERVER_MISSING,
 * SECRET_GRANT_MISSING, CONFIG_GRANT_MISSING, UNTRUSTED_REF (error when it
 * withheld a secret, else info) are errors; ROLE_BINDING_MISSING is a
 * warning; APPROVAL_REQUIRED is info. Decision: any error -> denied; else any
 * approval requirement -> requires-approval; else allowed. Arrays are sorted
 * (needs by purpose, roles by name, reasons by severity, code, message), so
 * the order of the snapshot's objects does not matter.
 *
 * Ownership: inputs are borrowed; *out belongs to the caller. */
#ifndef KRATE_AGENTS_REVIEW_H
#define KRATE_AGENTS_REVIEW_H

#include <jansson.h>
#include "core/err.h"

struct review_req {
	const char *repository;
	const char *ref;            /* full ref, e.g. refs/heads/main or refs/pull/42/head */
	const char *actor;
	const char *agent_stack;
	const char *trigger_source; /* e.g. manual, pull-request-comment; NULL = manual */
	const char *task_kind;      /* NULL = general */
	const char *runner_pool;    /* NULL = the stack's */
};

/* snapshot: {"AgentStack":[objects], "AgentServiceAccount":[...], ...} as
 * agents_snapshot returns. Returns 0 with *out set (also for a denied
 * decision); <0 only for bad arguments or memory. */
int review_run(const struct review_req *q, json_t *snapshot, json_t **out, struct kerr *e);

/* "sha256:<hex>" of the canonical JSON (compact, sorted keys) of v into out (size >= 72). */
int review_digest(json_t *v, char *out, size_t size);

#endif
