/* The agent objects of one org, read from the store in one go, as the input
 * of permission review, stack readiness and dispatch. */
#ifndef KRATE_AGENTS_SNAPSHOT_H
#define KRATE_AGENTS_SNAPSHOT_H

#include <jansson.h>
#include "core/err.h"
#include "store/store.h"

/* {"<Kind>":[objects...]} for every agent-config and identity kind of ns
 * (AgentStack, AgentServiceAccount, AgentRoleBinding, AgentSecretGrant,
 * AgentConfigGrant, AgentToolProfile, AgentMcpServer, AgentSkill,
 * AgentSubagent, AgentContextLabel, AgentWorkspacePolicy, AgentAdapter,
 * AgentGatewayConfig, RunnerPool, RefPolicy, Secret, ConfigMap) plus
 * "Repository", each an array in (namespace, name) order, empty when there
 * are none. Secret and ConfigMap objects carry metadata and spec.keys only.
 * *out belongs to the caller. */
int agents_snapshot(struct store *s, const char *ns, json_t **out, struct kerr *e);
/* The object of kind named name in a snapshot (borrowed), or NULL. */
json_t *snapshot_find(json_t *snapshot, const char *kind, const char *name);

#endif
