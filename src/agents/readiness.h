/* Stack readiness: the conditions that say whether an AgentStack can run,
 * computed from a snapshot of the org (pure; no store, no clock).
 *
 * Conditions, in this order, each {type, status "True"|"False", reason,
 * message}, reasons True / False:
 *   CapabilitiesResolved AllRefsResolved / MissingRefs (tool profile, MCP
 *                        servers, skills, subagents, context labels,
 *                        workspace policy; message lists Kind/name)
 *   ToolsAdmitted        NoToolPolicyRef, ToolPolicyResolved / ToolPolicyMissing
 *   McpHealthy           AllMcpServersExist / MissingMcpServers
 *   SkillsValidated      AllSkillsValid / MissingSkills, InvalidSkillFormat
 *   SubagentsValid       AllSubagentsValid / MissingSubagents, InvalidSubagentTaskKinds
 *   ContextLabelsValid   AllContextLabelsExist / MissingContextLabels
 *   RuntimeIdentityReady ServiceAccountBound / MissingServiceAccount,
 *                        MissingRunnerPool, ServiceAccountNotAllowed
 *   RolesAdmitted        RoleBindingsResolved, NoRoleBindings (a warning only)
 *   SecretsGranted       SecretGrantsResolved, SecretGrantsRequireApproval /
 *                        MissingSecretGrants
 *   ConfigsGranted       ConfigGrantsResolved / MissingConfigGrants
 *   AdapterReady         CommandConfigured, GatewayConfigured / MissingCommand,
 *                        UnknownAdapter, UnsupportedAdapter, AdapterMissing,
 *                        GatewayNotConfigured
 *   Ready                StackReady / StackNotReady (message lists the False types)
 * The grant conditions come from review_run of the stack against its labels
 * krate.a5c.ai/repository and krate.a5c.ai/ref (default "unknown" and
 * refs/heads/main), actor "system", task kind spec.taskKind; the review sees
 * the given stack, not a stored copy. phase: Ready when every condition is
 * True, Error when the stack itself is invalid (no or unknown adapter, no
 * command for the process adapter, an unsupported adapter type), else
 * Blocked (agent-mux without an AgentGatewayConfig is Blocked).
 *
 * Ownership: inputs borrowed; *out belongs to the caller. */
#ifndef KRATE_AGENTS_READINESS_H
#define KRATE_AGENTS_READINESS_H

#include <jansson.h>
#include "core/err.h"

/* *out = {phase, conditions[], capabilities[{kind (the object kind, e.g.
 *         AgentSkill), name, status: resolved|missing}],
 *         permission {decision, digest}} for stack (an AgentStack object). */
int readiness_eval(json_t *stack, json_t *snapshot, json_t **out, struct kerr *e);

#endif
