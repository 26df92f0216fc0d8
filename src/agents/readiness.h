/* Stack readiness: the conditions that say whether an AgentStack can run,
 * computed from a snapshot of the org (pure; no store, no clock).
 *
 * Conditions, in this order, each {type, status "True"|"False", reason,
 * message}: CapabilitiesResolved, ToolsAdmitted, McpHealthy,
 * SkillsValidated, SubagentsValid, ContextLabelsValid, RuntimeIdentityReady,
 * RolesAdmitted, SecretsGranted, ConfigsGranted, AdapterReady, Ready (the
 * reasons of docs/agents.md and the reference's table). phase: Ready when
 * every condition is True, Error when the stack itself is invalid (unknown
 * adapter, no command for the process adapter), else Blocked.
 *
 * Ownership: inputs borrowed; *out belongs to the caller. */
#ifndef KRATE_AGENTS_READINESS_H
#define KRATE_AGENTS_READINESS_H

#include <jansson.h>
#include "core/err.h"

/* *out = {phase, conditions[], capabilities[{kind, name, status: resolved|missing}],
 *         permission {decision, digest}} for stack (an AgentStack object). */
int readiness_eval(json_t *stack, json_t *snapshot, json_t **out, struct kerr *e);

#endif
