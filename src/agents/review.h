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
