/* Stack readiness (see readiness.h): reference checks on the snapshot plus
 * the permission review of the stack against its labelled repository and
 * ref, turned into conditions. */
#include "agents/readiness.h"

#include <string.h>

#include "agents/review.h"
#include "agents/snapshot.h"
#include "core/buf.h"

#define MSG_MAX (256u * 1024u)
#define LABEL_REPOSITORY "krate.a5c.ai/repository"
#define LABEL_REF "krate.a5c.ai/ref"

struct eval {
	json_t *spec;                  /* borrowed: the stack's spec */
	json_t *snap;                  /* owned: the snapshot with this stack as its only AgentStack */
	json_t *conditions, *capabilities, *review;
	int all_true, invalid;         /* invalid: the stack itself is wrong (phase Error) */
	struct buf failed;             /* types of the False conditions, for Ready's message */
	struct kerr *e;
};

static const char *str(json_t *v)
{
	return json_string_value(v);
}

static int eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static const char *ref_name(json_t *v)
{
	return json_is_object(v) ? str(json_object_get(v, "name")) : str(v);
}

static int nomem(struct eval *ev)
{
	return kerr_set(ev->e, KE_NOMEM, NULL, "out of memory evaluating stack readiness");
}

static int append_condition(struct eval *ev, const char *type, int ok, const char *reason, const char *message)
{
	if (json_array_append_new(ev->conditions, json_pack("{s:s, s:s, s:s, s:s}", "type", type, "status",
							    ok ? "True" : "False", "reason", reason,
							    "message", message ? message : "")))
		return nomem(ev);
	return 0;
}

/* A condition that Ready depends on. */
static int condition(struct eval *ev, const char *type, int ok, const char *reason, const char *message)
{
	if (!ok) {
		ev->all_true = 0;
		if (buf_printf(&ev->failed, "%s%s", ev->failed.len ? ", " : "", type) < 0)
			return nomem(ev);
	}
	return append_condition(ev, type, ok, reason, message);
}

/* ---- references: each is listed as a capability; missing and invalid ones are collected per kind ---- */

struct refs {
	const char *kind;
	struct buf missing, invalid;   /* "Kind/name, ..." */
};

static int add_name(struct buf *b, const char *kind, const char *name)
{
	return buf_printf(b, "%s%s/%s", b->len ? ", " : "", kind, name);
}

/* Validity beyond existence: a skill needs format and sourceRef, a subagent task kinds. */
static int object_valid(const char *kind, json_t *obj)
{
	json_t *spec = json_object_get(obj, "spec");

	if (!strcmp(kind, "AgentSkill"))
		return str(json_object_get(spec, "format")) && json_object_get(spec, "sourceRef");
	if (!strcmp(kind, "AgentSubagent"))
		return json_array_size(json_object_get(spec, "taskKinds")) > 0;
	return 1;
}

static int resolve_one(struct eval *ev, struct refs *r, const char *name, struct buf *all_missing)
{
	json_t *obj = snapshot_find(ev->snap, r->kind, name);
	int rc = 0;

	if (!obj) {
		rc = add_name(&r->missing, r->kind, name);
		if (rc == 0)
			rc = add_name(all_missing, r->kind, name);
	} else if (!object_valid(r->kind, obj))
		rc = add_name(&r->invalid, r->kind, name);
	if (rc < 0 || json_array_append_new(ev->capabilities, json_pack("{s:s, s:s, s:s}", "kind", r->kind,
									 "name", name, "status",
									 obj ? "resolved" : "missing")))
		return nomem(ev);
	return 0;
}

static int resolve(struct eval *ev, struct refs *r, const char *field, struct buf *all_missing)
{
	json_t *v = json_object_get(ev->spec, field), *item;
	size_t i;
	int rc = 0;

	if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			if (ref_name(item) && (rc = resolve_one(ev, r, ref_name(item), all_missing)) < 0)
				break;
		}
	} else if (ref_name(v)) {
		rc = resolve_one(ev, r, ref_name(v), all_missing);
	}
	return rc;
}

/* True unless bad (a "Kind/name, ..." list) has entries. */
static int list_condition(struct eval *ev, const char *type, struct buf *bad, const char *bad_reason,
			  const char *ok_reason, const char *ok_message)
{
	return condition(ev, type, !bad->len, bad->len ? bad_reason : ok_reason, bad->len ? bad->data : ok_message);
}

/* ---- review reasons grouped per condition ---- */

/* The messages of the review's reasons with one of codes (NULL-terminated), "; "-joined. */
static int reasons_with(struct eval *ev, const char *const *codes, struct buf *out)
{
	json_t *reasons = json_object_get(ev->review, "reasons"), *v;
	size_t i;

	json_array_foreach(reasons, i, v) {
		const char *code = str(json_object_get(v, "code"));

		/* Only errors block; the one warning that has a condition is ROLE_BINDING_MISSING. */
		if (eq(str(json_object_get(v, "severity")), "error") || eq(code, "ROLE_BINDING_MISSING")) {
			for (const char *const *c = codes; *c; c++)
				if (eq(code, *c) && buf_printf(out, "%s%s", out->len ? "; " : "",
								    str(json_object_get(v, "message"))) < 0)
					return nomem(ev);
		}
	}
	return 0;
}

static int identity_condition(struct eval *ev)
{
	static const char *const codes[] = { "SERVICE_ACCOUNT_MISSING", "SERVICE_ACCOUNT_NOT_ALLOWED",
					     "RUNNER_POOL_MISSING", NULL };
	struct buf m = BUF_INIT(MSG_MAX);
	json_t *ri = json_object_get(ev->review, "runtimeIdentity");
	json_t *runner = json_object_get(ev->review, "runnerIdentity");
	int rc = reasons_with(ev, codes, &m);

	if (rc == 0 && !m.len)
		rc = condition(ev, "RuntimeIdentityReady", 1, "ServiceAccountBound",
			       str(json_object_get(ri, "serviceAccountRef")));
	else if (rc == 0)
		rc = condition(ev, "RuntimeIdentityReady", 0,
			       !json_is_true(json_object_get(ri, "ready")) ? "MissingServiceAccount"
			       : !json_is_true(json_object_get(runner, "ready")) ? "MissingRunnerPool"
			       : "ServiceAccountNotAllowed", m.data);
	buf_free(&m);
	return rc;
}

static int grants_conditions(struct eval *ev)
{
	static const char *const roles[] = { "ROLE_BINDING_MISSING", NULL };
	static const char *const secrets[] = { "SECRET_GRANT_MISSING", "UNTRUSTED_REF", NULL };
	static const char *const configs[] = { "CONFIG_GRANT_MISSING", NULL };
	struct buf m = BUF_INIT(MSG_MAX);
	int rc = reasons_with(ev, roles, &m);

	/* A missing role binding is a warning in the review, so it does not block. */
	if (rc == 0)
		rc = condition(ev, "RolesAdmitted", 1, m.len ? "NoRoleBindings" : "RoleBindingsResolved",
			       m.len ? m.data : "the stack's role bindings exist");
	buf_reset(&m);
	if (rc == 0)
		rc = reasons_with(ev, secrets, &m);
	if (rc == 0 && m.len)
		rc = condition(ev, "SecretsGranted", 0, "MissingSecretGrants", m.data);
	else if (rc == 0)
		rc = json_array_size(json_object_get(ev->review, "approvalRequirements"))
		     ? condition(ev, "SecretsGranted", 1, "SecretGrantsRequireApproval",
				 "every secret is granted; some need a human approval per run")
		     : condition(ev, "SecretsGranted", 1, "SecretGrantsResolved", "every secret is granted");
	buf_reset(&m);
	if (rc == 0)
		rc = reasons_with(ev, configs, &m);
	if (rc == 0)
		rc = condition(ev, "ConfigsGranted", !m.len, m.len ? "MissingConfigGrants" : "ConfigGrantsResolved",
			       m.len ? m.data : "every configuration is granted");
	buf_free(&m);
	return rc;
}

/* ---- the adapter ---- */

static int command_valid(json_t *cmd)
{
	json_t *v;
	size_t i;

	if (!json_is_array(cmd) || json_array_size(cmd) == 0)
		return 0;
	json_array_foreach(cmd, i, v)
		if (!str(v) || !str(v)[0])
			return 0;
	return 1;
}

static int adapter_condition(struct eval *ev)
{
	const char *adapter = str(json_object_get(ev->spec, "adapter")), *type = adapter;
	json_t *def = NULL, *cmd = json_object_get(ev->spec, "command");
	int gateway = json_array_size(json_object_get(ev->snap, "AgentGatewayConfig")) > 0;

	if (!adapter) {
		ev->invalid = 1;
		return condition(ev, "AdapterReady", 0, "AdapterMissing", "the stack names no adapter");
	}
	if (strcmp(adapter, "process") && strcmp(adapter, "agent-mux")) {
		def = snapshot_find(ev->snap, "AgentAdapter", adapter);
		type = str(json_object_get(json_object_get(def, "spec"), "adapterType"));
		if (!def) {
			ev->invalid = 1;
			return condition(ev, "AdapterReady", 0, "UnknownAdapter",
					 "the adapter is neither process, agent-mux nor an AgentAdapter");
		}
		/* An AgentAdapter's own command wins over the stack's. */
		if (json_object_get(json_object_get(def, "spec"), "command"))
			cmd = json_object_get(json_object_get(def, "spec"), "command");
		type = type && !strcmp(type, "subprocess") ? "process" : type && !strcmp(type, "remote") ? "agent-mux"
		       : type;
	}
	if (type && !strcmp(type, "process")) {
		ev->invalid |= !command_valid(cmd);
		return command_valid(cmd) ? condition(ev, "AdapterReady", 1, "CommandConfigured",
						      "the process adapter has a command")
					  : condition(ev, "AdapterReady", 0, "MissingCommand",
						      "the process adapter needs spec.command (argv)");
	}
	if (type && !strcmp(type, "agent-mux"))
		return condition(ev, "AdapterReady", gateway, gateway ? "GatewayConfigured" : "GatewayNotConfigured",
				 gateway ? "the org has an AgentGatewayConfig"
					 : "the agent-mux adapter needs an AgentGatewayConfig in the org");
	ev->invalid = 1;
	return condition(ev, "AdapterReady", 0, "UnsupportedAdapter",
			 "the AgentAdapter's adapterType is not supported");
}

/* ---- the whole evaluation ---- */

static int reference_conditions(struct eval *ev)
{
	struct refs tools = { "AgentToolProfile", BUF_INIT(MSG_MAX), BUF_INIT(MSG_MAX) };
	struct refs mcps = { "AgentMcpServer", BUF_INIT(MSG_MAX), BUF_INIT(MSG_MAX) };
	struct refs skills = { "AgentSkill", BUF_INIT(MSG_MAX), BUF_INIT(MSG_MAX) };
	struct refs subs = { "AgentSubagent", BUF_INIT(MSG_MAX), BUF_INIT(MSG_MAX) };
	struct refs labels = { "AgentContextLabel", BUF_INIT(MSG_MAX), BUF_INIT(MSG_MAX) };
	struct refs wsp = { "AgentWorkspacePolicy", BUF_INIT(MSG_MAX), BUF_INIT(MSG_MAX) };
	struct refs *all[] = { &tools, &mcps, &skills, &subs, &labels, &wsp };
	struct buf missing = BUF_INIT(MSG_MAX);
	int has_tool = ref_name(json_object_get(ev->spec, "toolProfileRef")) != NULL;
	int rc;

	rc = resolve(ev, &tools, "toolProfileRef", &missing);
	if (rc == 0)
		rc = resolve(ev, &mcps, "mcpServerRefs", &missing);
	if (rc == 0)
		rc = resolve(ev, &skills, "skillRefs", &missing);
	if (rc == 0)
		rc = resolve(ev, &subs, "subagentRefs", &missing);
	if (rc == 0)
		rc = resolve(ev, &labels, "contextLabelRefs", &missing);
	if (rc == 0)
		rc = resolve(ev, &wsp, "workspacePolicyRef", &missing);
	if (rc == 0)
		rc = list_condition(ev, "CapabilitiesResolved", &missing, "MissingRefs", "AllRefsResolved",
				    "every referenced object exists");
	if (rc == 0)
		rc = list_condition(ev, "ToolsAdmitted", &tools.missing, "ToolPolicyMissing",
				    has_tool ? "ToolPolicyResolved" : "NoToolPolicyRef", "the tool profile resolves");
	if (rc == 0)
		rc = list_condition(ev, "McpHealthy", &mcps.missing, "MissingMcpServers", "AllMcpServersExist",
				    "every MCP server exists");
	if (rc == 0)
		rc = skills.missing.len ? list_condition(ev, "SkillsValidated", &skills.missing, "MissingSkills", "", "")
		     : list_condition(ev, "SkillsValidated", &skills.invalid, "InvalidSkillFormat", "AllSkillsValid",
				      "every skill has a format and a source");
	if (rc == 0)
		rc = subs.missing.len ? list_condition(ev, "SubagentsValid", &subs.missing, "MissingSubagents", "", "")
		     : list_condition(ev, "SubagentsValid", &subs.invalid, "InvalidSubagentTaskKinds",
				      "AllSubagentsValid", "every subagent has task kinds");
	if (rc == 0)
		rc = list_condition(ev, "ContextLabelsValid", &labels.missing, "MissingContextLabels",
				    "AllContextLabelsExist", "every context label exists");
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		buf_free(&all[i]->missing);
		buf_free(&all[i]->invalid);
	}
	buf_free(&missing);
	return rc;
}

/* The snapshot with this stack as its only AgentStack: the review must see
 * the stack being evaluated, which may not be stored yet. */
static json_t *snapshot_with(json_t *snapshot, json_t *stack)
{
	json_t *s = json_copy(snapshot);

	if (s && json_object_set_new(s, "AgentStack", json_pack("[O]", stack))) {
		json_decref(s);
		s = NULL;
	}
	return s;
}

int readiness_eval(json_t *stack, json_t *snapshot, json_t **out, struct kerr *e)
{
	struct eval ev = { 0 };
	json_t *labels = json_object_get(json_object_get(stack, "metadata"), "labels");
	struct review_req q = { 0 };
	int rc;

	if (!json_is_object(stack) || !json_is_object(snapshot) || !out)
		return kerr_set(e, KE_INVALID, NULL, "readiness_eval: missing argument");
	*out = NULL;
	q.agent_stack = str(json_object_get(json_object_get(stack, "metadata"), "name"));
	if (!q.agent_stack)
		return kerr_set(e, KE_INVALID, NULL, "the AgentStack has no name");
	q.repository = str(json_object_get(labels, LABEL_REPOSITORY)) ? str(json_object_get(labels, LABEL_REPOSITORY))
								       : "unknown";
	q.ref = str(json_object_get(labels, LABEL_REF)) ? str(json_object_get(labels, LABEL_REF)) : "refs/heads/main";
	q.actor = "system";
	q.task_kind = str(json_object_get(json_object_get(stack, "spec"), "taskKind"));
	ev.spec = json_object_get(stack, "spec");
	ev.e = e;
	ev.all_true = 1;
	buf_init(&ev.failed, MSG_MAX);
	ev.snap = snapshot_with(snapshot, stack);
	ev.conditions = json_array();
	ev.capabilities = json_array();
	if (!ev.snap || !ev.conditions || !ev.capabilities) {
		rc = nomem(&ev);
		goto cleanup;
	}
	rc = review_run(&q, ev.snap, &ev.review, e);
	if (rc == 0)
		rc = reference_conditions(&ev);
	if (rc == 0)
		rc = identity_condition(&ev);
	if (rc == 0)
		rc = grants_conditions(&ev);
	if (rc == 0)
		rc = adapter_condition(&ev);
	if (rc == 0)
		rc = append_condition(&ev, "Ready", ev.all_true, ev.all_true ? "StackReady" : "StackNotReady",
				      ev.all_true ? "the stack can run" : ev.failed.data);
	if (rc < 0)
		goto cleanup;
	*out = json_pack("{s:s, s:O, s:O, s:{s:O, s:O}}", "phase",
			 ev.invalid ? "Error" : ev.all_true ? "Ready" : "Blocked", "conditions", ev.conditions,
			 "capabilities", ev.capabilities, "permission", "decision",
			 json_object_get(ev.review, "decision"), "digest", json_object_get(ev.review, "digest"));
	if (!*out)
		rc = nomem(&ev);
cleanup:
	json_decref(ev.snap);
	json_decref(ev.conditions);
	json_decref(ev.capabilities);
	json_decref(ev.review);
	buf_free(&ev.failed);
	return rc;
}
