#include "model/kinds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Table-building shorthands. File-scope compound literals have static
 * storage, so every entry below is a constant that lives for the program. */
#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define FIELD_END { NULL, FT_ANY, 0, NULL }
#define FIELDS(...) ((const struct field_def[]){ __VA_ARGS__, FIELD_END })
#define NO_FIELDS ((const struct field_def[]){ FIELD_END })
#define REQ(p, t) { (p), (t), 1, NULL }
#define OPT(p, t) { (p), (t), 0, NULL }
#define REQ_ENUM(p, e) { (p), FT_STRING, 1, (e) }
#define OPT_ENUM(p, e) { (p), FT_STRING, 0, (e) }
#define OPT_WRITE_ONLY(p, t) { (p), (t), 0, NULL, 1 }

#define KIND(k, pl, sn, sc, st, cat, role, f, ph) \
	{ (k), (pl), (sn), (sc), (st), (cat), (role), (f), (ph) }

static const char *const visibility_values[] = { "private", "internal", "public", NULL };
static const char *const trust_tiers[] = { "trusted", "untrusted", NULL };
/* Phases shared by every agent configuration kind (their CRD status schema). */
static const char *const agent_config_phases[] = { "Pending", "Ready", "Blocked", "Error", NULL };

static const struct kind_def kind_table[] = {
	/* Identity / tenancy */
	KIND("Organization", "organizations", NAMES("org"), SCOPE_PLATFORM, STORAGE_CONFIG,
	     "identity", ROLE_ADMIN,
	     FIELDS(REQ("displayName", FT_STRING), REQ("namespaceName", FT_STRING),
		    OPT("slug", FT_STRING), OPT_ENUM("defaultVisibility", visibility_values),
		    OPT("memoryRepositoryRef", FT_STRING), OPT("policyProfileRef", FT_STRING),
		    OPT("description", FT_STRING), OPT("owners", FT_ARRAY), OPT("teams", FT_ARRAY)),
	     NAMES("Pending", "Ready")),
	/* A platform kind, so organizationRef is an ordinary field here. */
	KIND("OrgNamespaceBinding", "orgnamespacebindings", NAMES("onb"), SCOPE_PLATFORM,
	     STORAGE_CONFIG, "identity", ROLE_ADMIN,
	     FIELDS(REQ("organizationRef", FT_STRING), REQ("namespace", FT_STRING),
		    OPT("createNamespace", FT_BOOL), OPT("labels", FT_OBJECT),
		    OPT("serviceAccountPolicy", FT_OBJECT)),
	     NULL),
	KIND("User", "users", NAMES("usr"), SCOPE_ORG, STORAGE_CONFIG, "identity", ROLE_ADMIN,
	     FIELDS(REQ("displayName", FT_STRING), REQ("email", FT_STRING),
		    OPT("username", FT_STRING), OPT("teams", FT_ARRAY), OPT("admin", FT_BOOL),
		    OPT("disabled", FT_BOOL)),
	     NAMES("Active", "Disabled")),
	KIND("Team", "teams", NAMES("tm"), SCOPE_ORG, STORAGE_CONFIG, "identity", ROLE_ADMIN,
	     FIELDS(REQ("displayName", FT_STRING), OPT("members", FT_ARRAY),
		    OPT("maintainers", FT_ARRAY), OPT("repositoryGrants", FT_ARRAY)),
	     NAMES("Active")),
	KIND("Invite", "invites", NAMES("inv"), SCOPE_ORG, STORAGE_CONFIG, "identity", ROLE_ADMIN,
	     FIELDS(REQ("email", FT_STRING), REQ_ENUM("role", NAMES("member", "admin")),
		    OPT("teams", FT_ARRAY), OPT("invitedBy", FT_STRING),
		    OPT("expiresAt", FT_STRING)),
	     NAMES("Pending", "Accepted", "Revoked")),
	KIND("IdentityMapping", "identitymappings", NAMES("idm"), SCOPE_ORG, STORAGE_CONFIG,
	     "identity", ROLE_ADMIN,
	     FIELDS(REQ("user", FT_STRING), REQ("provider", FT_STRING), REQ("subject", FT_STRING),
		    OPT("email", FT_STRING), OPT("workspaceIdentity", FT_OBJECT),
		    OPT("repositoryIdentity", FT_OBJECT)),
	     NAMES("Pending", "Synced")),
	KIND("AuthProvider", "authproviders", NAMES("authp"), SCOPE_ORG, STORAGE_CONFIG,
	     "identity", ROLE_ADMIN,
	     FIELDS(REQ("type", FT_STRING), OPT("label", FT_STRING), OPT("enabled", FT_BOOL),
		    OPT("scopes", FT_ARRAY), OPT("delegatedIdentity", FT_OBJECT)),
	     NAMES("Configured", "Disabled")),
	KIND("AgentServiceAccount", "agentserviceaccounts", NAMES("asa"), SCOPE_ORG,
	     STORAGE_CONFIG, "identity", ROLE_ADMIN,
	     FIELDS(REQ("namespace", FT_STRING), REQ("serviceAccountName", FT_STRING),
		    OPT("owner", FT_STRING), OPT("allowedRepositories", FT_ARRAY),
		    OPT("allowedRunnerPools", FT_ARRAY), OPT("tokenAudience", FT_STRING),
		    OPT("tokenExpirationSeconds", FT_INT), OPT("imagePullSecretRefs", FT_ARRAY),
		    OPT("automountServiceAccountToken", FT_BOOL)),
	     agent_config_phases),
	KIND("AgentRoleBinding", "agentrolebindings", NAMES("arb"), SCOPE_ORG, STORAGE_CONFIG,
	     "identity", ROLE_ADMIN,
	     FIELDS(REQ("subject", FT_STRING_OR_OBJECT), REQ("roleRef", FT_STRING_OR_OBJECT),
		    REQ("scope", FT_STRING_OR_OBJECT), OPT("resourceRules", FT_ARRAY),
		    OPT("nativeRoleBindingName", FT_STRING),
		    OPT_ENUM("escalationPolicy",
			     NAMES("deny", "require-admin-approval", "allow-if-owner"))),
	     agent_config_phases),
	KIND("AgentSecretGrant", "agentsecretgrants", NAMES("asg"), SCOPE_ORG, STORAGE_CONFIG,
	     "identity", ROLE_ADMIN,
	     FIELDS(REQ("subject", FT_STRING_OR_OBJECT), REQ("secretRef", FT_STRING_OR_OBJECT),
		    REQ("purpose", FT_STRING), OPT("allowedRepositories", FT_ARRAY),
		    OPT("allowedRefs", FT_ARRAY), OPT("allowedTriggerSources", FT_ARRAY),
		    OPT_ENUM("mountPolicy", NAMES("env", "file", "projected-volume",
						  "never-mount-pass-by-reference")),
		    OPT_ENUM("requiredApproval", NAMES("never", "on-untrusted-ref", "always")),
		    OPT("env", FT_STRING)),
	     agent_config_phases),
	/* Values of Secret and ConfigMap are written as spec.data and sealed by the
	 * API into spec.sealed (key -> sealed value) and spec.keys (sorted) before
	 * admission; reads show only the keys (docs/agents.md). */
	KIND("Secret", "secrets", NAMES("sec"), SCOPE_ORG, STORAGE_CONFIG, "identity", ROLE_ADMIN,
	     FIELDS(OPT_WRITE_ONLY("data", FT_OBJECT), OPT("keys", FT_ARRAY), OPT("sealed", FT_OBJECT),
		    OPT("description", FT_STRING)),
	     NULL),
	KIND("ConfigMap", "configmaps", NAMES("cm"), SCOPE_ORG, STORAGE_CONFIG, "identity", ROLE_ADMIN,
	     FIELDS(OPT_WRITE_ONLY("data", FT_OBJECT), OPT("keys", FT_ARRAY), OPT("sealed", FT_OBJECT),
		    OPT("description", FT_STRING)),
	     NULL),
	KIND("AgentConfigGrant", "agentconfiggrants", NAMES("acg"), SCOPE_ORG, STORAGE_CONFIG,
	     "identity", ROLE_ADMIN,
	     FIELDS(REQ("subject", FT_STRING_OR_OBJECT),
		    REQ("configMapRef", FT_STRING_OR_OBJECT), REQ("purpose", FT_STRING),
		    OPT("allowedRepositories", FT_ARRAY),
		    OPT_ENUM("mountPolicy", NAMES("env", "file", "projected-volume", "api-read"))),
	     agent_config_phases),

	/* Repositories */
	KIND("Repository", "repositories", NAMES("repo"), SCOPE_ORG, STORAGE_CONFIG,
	     "repositories", ROLE_DEVELOPER,
	     FIELDS(REQ_ENUM("visibility", visibility_values), OPT("defaultBranch", FT_STRING),
		    OPT("description", FT_STRING), OPT("gitHosting", FT_OBJECT),
		    OPT("storage", FT_OBJECT), OPT("objectStorage", FT_OBJECT),
		    OPT("search", FT_OBJECT)),
	     NAMES("Reconciling", "Ready")),
	KIND("SSHKey", "sshkeys", NAMES("ssh"), SCOPE_ORG, STORAGE_CONFIG, "repositories",
	     ROLE_ADMIN,
	     FIELDS(REQ_ENUM("scope", NAMES("user", "deploy", "automation", "argocd")),
		    REQ("key", FT_STRING), OPT("owner", FT_STRING), OPT("repository", FT_STRING),
		    OPT("title", FT_STRING), OPT("readOnly", FT_BOOL), OPT("revoked", FT_BOOL)),
	     NAMES("Synced", "Revoked")),
	KIND("RepositoryPermission", "repositorypermissions", NAMES("rperm"), SCOPE_ORG,
	     STORAGE_CONFIG, "repositories", ROLE_ADMIN,
	     FIELDS(REQ("repository", FT_STRING), REQ("subject", FT_STRING),
		    REQ_ENUM("permission", NAMES("read", "write", "admin")),
		    OPT_ENUM("subjectKind", NAMES("user", "team")), OPT("revoked", FT_BOOL)),
	     NAMES("Synced", "Revoked")),
	KIND("RefPolicy", "refpolicies", NAMES("refp"), SCOPE_ORG, STORAGE_CONFIG,
	     "repositories", ROLE_ADMIN,
	     FIELDS(OPT("repository", FT_STRING), OPT("deny", FT_ARRAY)), NULL),
	KIND("BranchProtection", "branchprotections", NAMES("bp"), SCOPE_ORG, STORAGE_CONFIG,
	     "repositories", ROLE_ADMIN,
	     FIELDS(REQ("refs", FT_ARRAY), OPT("repository", FT_STRING),
		    OPT("requirePullRequest", FT_BOOL), OPT("requiredChecks", FT_ARRAY),
		    OPT("requiredApprovals", FT_INT)),
	     NULL),

	/* Policy */
	KIND("PolicyProfile", "policyprofiles", NAMES("pp"), SCOPE_ORG, STORAGE_CONFIG, "policy",
	     ROLE_ADMIN,
	     FIELDS(REQ("displayName", FT_STRING),
		    REQ_ENUM("mode", NAMES("audit", "enforce", "mixed")),
		    OPT("templateRefs", FT_ARRAY), OPT("bindings", FT_ARRAY),
		    OPT_ENUM("failurePolicy", NAMES("failClosed", "failOpen"))),
	     NULL),
	/* The only org-scoped kind whose organizationRef is optional: a template
	 * without an org is global and lives in the platform namespace. */
	KIND("PolicyTemplate", "policytemplates", NAMES("pt"), SCOPE_ORG, STORAGE_CONFIG,
	     "policy", ROLE_ADMIN,
	     FIELDS(OPT("organizationRef", FT_STRING), REQ("displayName", FT_STRING),
		    REQ("targetKinds", FT_ARRAY), REQ("kyverno", FT_STRING_OR_OBJECT),
		    OPT("description", FT_STRING), OPT("category", FT_STRING),
		    OPT_ENUM("severity", NAMES("low", "medium", "high", "critical")),
		    OPT("parameters", FT_OBJECT)),
	     NULL),
	KIND("PolicyBinding", "policybindings", NAMES("pb"), SCOPE_ORG, STORAGE_CONFIG, "policy",
	     ROLE_ADMIN,
	     FIELDS(REQ("templateRef", FT_STRING), REQ_ENUM("mode", NAMES("audit", "enforce")),
		    OPT("profileRef", FT_STRING), OPT("match", FT_OBJECT),
		    OPT("parameters", FT_OBJECT), OPT("generatedPolicyName", FT_STRING),
		    OPT("suspend", FT_BOOL)),
	     NULL),
	KIND("PolicyExceptionRequest", "policyexceptionrequests", NAMES("per"), SCOPE_ORG,
	     STORAGE_CONFIG, "policy", ROLE_ADMIN,
	     FIELDS(REQ("policyRef", FT_STRING), REQ("justification", FT_STRING),
		    REQ("expiresAt", FT_STRING), OPT("ruleNames", FT_ARRAY),
		    OPT("resourceRef", FT_STRING_OR_OBJECT), OPT("repository", FT_STRING),
		    OPT("pullRequest", FT_STRING), OPT("pipeline", FT_STRING),
		    OPT("job", FT_STRING), OPT("requestedBy", FT_STRING)),
	     NAMES("Requested")),

	/* Hooks, CI and views */
	KIND("WebhookSubscription", "webhooksubscriptions", NAMES("whs"), SCOPE_ORG,
	     STORAGE_CONFIG, "ci", ROLE_ADMIN,
	     FIELDS(REQ("url", FT_STRING), REQ("events", FT_ARRAY), OPT("signing", FT_OBJECT),
		    OPT("mode", FT_STRING)),
	     NULL),
	KIND("WebhookDelivery", "webhookdeliveries", NAMES("whd"), SCOPE_ORG, STORAGE_RECORD,
	     "ci", ROLE_DEVELOPER,
	     FIELDS(REQ("subscription", FT_STRING), REQ("eventType", FT_STRING),
		    REQ("signature", FT_STRING), OPT("url", FT_STRING),
		    OPT("replayOf", FT_STRING)),
	     NAMES("Pending", "Delivered", "Failed")),
	KIND("RunnerPool", "runnerpools", NAMES("rpool"), SCOPE_ORG, STORAGE_CONFIG, "ci",
	     ROLE_ADMIN,
	     FIELDS(REQ("warmReplicas", FT_INT), REQ("maxReplicas", FT_INT),
		    OPT("image", FT_STRING), OPT_ENUM("trustTier", trust_tiers),
		    OPT("cache", FT_OBJECT), OPT("scalingMetric", FT_STRING)),
	     NULL),
	KIND("Pipeline", "pipelines", NAMES("pl"), SCOPE_ORG, STORAGE_RECORD, "ci",
	     ROLE_DEVELOPER,
	     FIELDS(REQ("repository", FT_STRING), REQ("ref", FT_STRING), OPT("actor", FT_STRING),
		    OPT("resumeFrom", FT_STRING), OPT_ENUM("trustTier", trust_tiers),
		    OPT("steps", FT_ARRAY)),
	     NAMES("Running", "Succeeded", "Failed")),
	KIND("Job", "jobs", NAMES("jb"), SCOPE_ORG, STORAGE_RECORD, "ci", ROLE_DEVELOPER,
	     FIELDS(REQ("pipeline", FT_STRING), REQ("step", FT_STRING),
		    OPT("serviceAccount", FT_OBJECT)),
	     NAMES("Pending", "Running", "Succeeded", "Failed")),
	KIND("View", "views", NAMES("vw"), SCOPE_ORG, STORAGE_CONFIG, "ci", ROLE_DEVELOPER,
	     FIELDS(REQ("selector", FT_STRING_OR_OBJECT), OPT("columns", FT_ARRAY),
		    OPT("sort", FT_ARRAY), OPT("shareable", FT_BOOL)),
	     NULL),
	KIND("Selector", "selectors", NAMES("sel"), SCOPE_ORG, STORAGE_CONFIG, "ci",
	     ROLE_DEVELOPER,
	     FIELDS(OPT("labels", FT_OBJECT), OPT("query", FT_STRING_OR_OBJECT)), NULL),

	/* Forge records */
	KIND("PullRequest", "pullrequests", NAMES("pr"), SCOPE_ORG, STORAGE_RECORD, "forge",
	     ROLE_DEVELOPER,
	     FIELDS(REQ("repository", FT_STRING), REQ("title", FT_STRING),
		    OPT("sourceRef", FT_STRING), OPT("targetRef", FT_STRING),
		    OPT("author", FT_STRING), OPT("body", FT_STRING), OPT("checks", FT_ARRAY),
		    OPT("requiredApprovals", FT_INT), OPT("number", FT_INT), OPT("labels", FT_ARRAY),
		    OPT("assignees", FT_ARRAY)),
	     NAMES("Open", "Closed", "Merged")),
	KIND("Issue", "issues", NAMES("iss"), SCOPE_ORG, STORAGE_RECORD, "forge", ROLE_DEVELOPER,
	     FIELDS(REQ("title", FT_STRING), OPT("repository", FT_STRING), OPT("body", FT_STRING),
		    OPT("labels", FT_ARRAY), OPT("assignees", FT_ARRAY), OPT("number", FT_INT),
		    OPT("author", FT_STRING)),
	     NAMES("Open", "Closed", "triage", "ready", "blocked")),
	KIND("Review", "reviews", NAMES("rv"), SCOPE_ORG, STORAGE_RECORD, "forge", ROLE_DEVELOPER,
	     FIELDS(REQ("pullRequest", FT_STRING), OPT("repository", FT_STRING),
		    OPT("reviewer", FT_STRING),
		    OPT_ENUM("decision", NAMES("approved", "changes-requested", "commented")),
		    OPT("body", FT_STRING), OPT("number", FT_INT), OPT("commitSha", FT_STRING),
		    OPT("comments", FT_ARRAY)),
	     NAMES("Approved", "ChangesRequested", "Commented")),
	/* A comment in the conversation of a pull request or an issue. */
	KIND("Comment", "comments", NAMES("cmt"), SCOPE_ORG, STORAGE_RECORD, "forge", ROLE_DEVELOPER,
	     FIELDS(REQ("repository", FT_STRING), REQ("number", FT_INT), REQ("body", FT_STRING),
		    OPT_ENUM("target", NAMES("PullRequest", "Issue")), OPT("author", FT_STRING)),
	     NULL),
	/* One updated ref of an accepted push; written by the server, read by watches. */
	KIND("GitPush", "gitpushes", NAMES("push"), SCOPE_ORG, STORAGE_RECORD, "forge", ROLE_ADMIN,
	     FIELDS(REQ("repository", FT_STRING), REQ("ref", FT_STRING), REQ("before", FT_STRING),
		    REQ("after", FT_STRING), OPT("pusher", FT_STRING)),
	     NULL),

	/* Agent configuration */
	KIND("AgentStack", "agentstacks", NAMES("as"), SCOPE_ORG, STORAGE_CONFIG, "agent-config",
	     ROLE_ADMIN,
	     FIELDS(REQ("baseAgent", FT_STRING), REQ("adapter", FT_STRING),
		    REQ("runtimeIdentity", FT_STRING_OR_OBJECT), OPT("provider", FT_STRING),
		    OPT("model", FT_STRING), OPT("prompt", FT_OBJECT),
		    OPT_ENUM("approvalMode", NAMES("prompt", "deny", "yolo", "policy")),
		    OPT("toolProfileRef", FT_STRING), OPT("mcpServerRefs", FT_ARRAY),
		    OPT("skillRefs", FT_ARRAY), OPT("subagentRefs", FT_ARRAY),
		    OPT("contextLabelRefs", FT_ARRAY), OPT("workspacePolicyRef", FT_STRING),
		    OPT("runnerPool", FT_STRING), OPT("permissionRefs", FT_OBJECT),
		    OPT("secretPolicy", FT_OBJECT), OPT("writeBackPolicy", FT_OBJECT),
		    OPT("command", FT_ARRAY), OPT("timeoutSeconds", FT_INT),
		    OPT("maxConcurrentRuns", FT_INT)),
	     agent_config_phases),
	KIND("AgentSubagent", "agentsubagents", NAMES("asub"), SCOPE_ORG, STORAGE_CONFIG,
	     "agent-config", ROLE_ADMIN,
	     FIELDS(REQ("rolePrompt", FT_STRING), REQ("taskKinds", FT_ARRAY),
		    OPT("toolSubset", FT_ARRAY),
		    OPT_ENUM("workspaceScope", NAMES("read-only", "branch-local",
						     "isolated-worktree", "no-workspace")),
		    OPT("modelOverride", FT_STRING), OPT("maxParallelTasks", FT_INT)),
	     agent_config_phases),
	KIND("AgentToolProfile", "agenttoolprofiles", NAMES("atp"), SCOPE_ORG, STORAGE_CONFIG,
	     "agent-config", ROLE_ADMIN,
	     FIELDS(REQ("filesystemPolicy", FT_STRING_OR_OBJECT),
		    REQ("approvalPolicyByTool", FT_OBJECT),
		    /* "none" or "allow": the sandbox has no network unless "allow" */
		    OPT("networkPolicy", FT_STRING_OR_OBJECT),
		    OPT("shellPolicy", FT_STRING_OR_OBJECT)),
	     agent_config_phases),
	KIND("AgentMcpServer", "agentmcpservers", NAMES("amcp"), SCOPE_ORG, STORAGE_CONFIG,
	     "agent-config", ROLE_ADMIN,
	     FIELDS(REQ("transport", FT_STRING_OR_OBJECT), REQ("scope", FT_STRING),
		    OPT("discovery", FT_OBJECT), OPT("health", FT_OBJECT),
		    OPT("secretRefs", FT_ARRAY), OPT("configRefs", FT_ARRAY)),
	     agent_config_phases),
	KIND("AgentSkill", "agentskills", NAMES("ask"), SCOPE_ORG, STORAGE_CONFIG,
	     "agent-config", ROLE_ADMIN,
	     FIELDS(REQ("format", FT_STRING), REQ("sourceRef", FT_STRING_OR_OBJECT),
		    OPT("promptFragments", FT_ARRAY), OPT("toolDeps", FT_ARRAY)),
	     agent_config_phases),
	KIND("AgentTriggerRule", "agenttriggerrules", NAMES("atr"), SCOPE_ORG, STORAGE_CONFIG,
	     "agent-config", ROLE_ADMIN,
	     FIELDS(REQ("sources", FT_ARRAY), REQ("agentStack", FT_STRING),
		    REQ("taskKind", FT_STRING),
		    OPT_ENUM("lifecycleState",
			     NAMES("draft", "active", "paused", "disabled", "archived")),
		    OPT("match", FT_OBJECT), OPT("promptTemplate", FT_STRING),
		    OPT("contextLabels", FT_ARRAY), OPT("contextBundleTemplate", FT_OBJECT),
		    OPT("contextBundleTemplate.maxBytes", FT_INT),
		    OPT("contextBundleTemplate.redactSecrets", FT_BOOL),
		    OPT("runnerPool", FT_STRING), OPT("dedupePolicy", FT_OBJECT),
		    OPT("concurrencyPolicy", FT_OBJECT), OPT("writeBackPolicy", FT_OBJECT),
		    OPT("repository", FT_STRING), OPT("allowedActors", FT_ARRAY)),
	     agent_config_phases),
	KIND("AgentContextLabel", "agentcontextlabels", NAMES("acl"), SCOPE_ORG, STORAGE_CONFIG,
	     "agent-config", ROLE_ADMIN,
	     FIELDS(REQ("promptFragment", FT_STRING), REQ("allowedSources", FT_ARRAY),
		    OPT("provenance", FT_STRING_OR_OBJECT)),
	     agent_config_phases),
	KIND("AgentWorkspacePolicy", "agentworkspacepolicies", NAMES("awp"), SCOPE_ORG,
	     STORAGE_CONFIG, "agent-config", ROLE_ADMIN,
	     FIELDS(REQ("mode", FT_STRING), REQ("retentionPolicy", FT_STRING_OR_OBJECT),
		    OPT_ENUM("trustTier", trust_tiers),
		    OPT("cleanupPolicy", FT_STRING_OR_OBJECT)),
	     agent_config_phases),
	KIND("AgentAdapter", "agentadapters", NAMES("aad"), SCOPE_ORG, STORAGE_CONFIG,
	     "agent-config", ROLE_ADMIN,
	     FIELDS(REQ_ENUM("adapterType", NAMES("subprocess", "remote", "programmatic")),
		    REQ_ENUM("transport", NAMES("http", "websocket", "unix", "stdio")),
		    OPT("command", FT_ARRAY)),
	     agent_config_phases),
	KIND("AgentTransportBinding", "agenttransportbindings", NAMES("atb"), SCOPE_ORG,
	     STORAGE_CONFIG, "agent-config", ROLE_ADMIN,
	     FIELDS(REQ("adapterRef", FT_STRING), REQ("endpoint", FT_STRING),
		    REQ_ENUM("protocol", NAMES("http", "websocket", "grpc", "unix"))),
	     agent_config_phases),
	KIND("AgentProviderConfig", "agentproviderconfigs", NAMES("apc"), SCOPE_ORG,
	     STORAGE_CONFIG, "agent-config", ROLE_ADMIN,
	     FIELDS(REQ("provider", FT_STRING),
		    REQ_ENUM("authType", NAMES("token", "oauth", "none"))),
	     agent_config_phases),
	KIND("AgentProject", "agentprojects", NAMES("aprj"), SCOPE_ORG, STORAGE_CONFIG,
	     "agent-config", ROLE_ADMIN,
	     FIELDS(REQ("displayName", FT_STRING), OPT("description", FT_STRING)),
	     agent_config_phases),
	KIND("AgentGatewayConfig", "agentgatewayconfigs", NAMES("agc"), SCOPE_ORG,
	     STORAGE_CONFIG, "agent-config", ROLE_ADMIN,
	     FIELDS(REQ("gatewayUrl", FT_STRING)), agent_config_phases),

	/* Agent execution records. Runs, attempts, bundles, approvals, artifacts and
	 * transcripts are the server's (POST /api/agents/runs and the runtime):
	 * through the generic routes only an admin may write them, since the
	 * runtime acts on an attempt's frozen permission snapshot. */
	KIND("AgentDispatchRun", "agentdispatchruns", NAMES("adr"), SCOPE_ORG, STORAGE_RECORD,
	     "agent-execution", ROLE_ADMIN,
	     FIELDS(REQ("repository", FT_STRING), REQ("sourceRefs", FT_ANY),
		    REQ("agentStack", FT_STRING), REQ("taskKind", FT_STRING),
		    OPT("contextBundleRef", FT_STRING), OPT("ref", FT_STRING),
		    OPT("branch", FT_STRING), OPT("sha", FT_STRING),
		    OPT("workspaceRef", FT_STRING), OPT("runnerPool", FT_STRING)),
	     NAMES("Pending", "Queued", "Running", "WaitingForApproval", "Succeeded", "Failed",
		   "Cancelled")),
	KIND("AgentDispatchAttempt", "agentdispatchattempts", NAMES("ada"), SCOPE_ORG,
	     STORAGE_RECORD, "agent-execution", ROLE_ADMIN,
	     FIELDS(REQ("agentDispatchRun", FT_STRING),
		    REQ_ENUM("attemptReason", NAMES("initial", "retry", "resume", "repair",
						    "rerun-after-fix", "continuation")),
		    REQ("agentStackSnapshot", FT_OBJECT), OPT("contextBundleDigest", FT_STRING)),
	     NAMES("Pending", "Queued", "Running", "Succeeded", "Failed", "Cancelled")),
	KIND("AgentSession", "agentsessions", NAMES("ases"), SCOPE_ORG, STORAGE_RECORD,
	     "agent-execution", ROLE_DEVELOPER,
	     FIELDS(REQ("agentMuxSessionId", FT_STRING), REQ("dispatchRun", FT_STRING),
		    OPT("agentStack", FT_STRING), OPT("model", FT_STRING)),
	     NAMES("Pending", "Active", "Running", "Completed", "Succeeded", "Failed",
		   "Errored")),
	KIND("AgentContextBundle", "agentcontextbundles", NAMES("acb"), SCOPE_ORG,
	     STORAGE_RECORD, "agent-execution", ROLE_ADMIN,
	     FIELDS(REQ("dispatchRun", FT_STRING), REQ("digest", FT_STRING),
		    REQ("sources", FT_ANY), OPT("promptLayers", FT_ARRAY),
		    OPT("redactions", FT_OBJECT), OPT("limits", FT_OBJECT),
		    OPT("limits.maxBytes", FT_INT), OPT("limits.truncated", FT_BOOL)),
	     NULL),
	KIND("AgentArtifact", "agentartifacts", NAMES("aart"), SCOPE_ORG, STORAGE_RECORD,
	     "agent-execution", ROLE_ADMIN,
	     FIELDS(REQ("dispatchRun", FT_STRING), REQ("kind", FT_STRING),
		    REQ("digest", FT_STRING), OPT("attempt", FT_STRING)),
	     NULL),
	KIND("AgentApproval", "agentapprovals", NAMES("aapr"), SCOPE_ORG, STORAGE_RECORD,
	     "agent-execution", ROLE_ADMIN,
	     FIELDS(REQ("dispatchRun", FT_STRING), REQ("action", FT_STRING),
		    REQ("requestedBy", FT_STRING), OPT("description", FT_STRING),
		    OPT("requestedAt", FT_STRING)),
	     NAMES("Pending", "Approved", "Denied")),
	KIND("AgentWorkspace", "agentworkspaces", NAMES("aws"), SCOPE_ORG, STORAGE_RECORD,
	     "agent-execution", ROLE_DEVELOPER,
	     FIELDS(REQ("repository", FT_STRING), REQ("workspacePath", FT_STRING),
		    REQ("ownership", FT_STRING_OR_OBJECT), OPT("branch", FT_STRING),
		    OPT("ref", FT_STRING), OPT("sha", FT_STRING),
		    OPT_ENUM("trustTier", trust_tiers)),
	     NAMES("active", "idle", "archived", "missing")),
	KIND("AgentTriggerExecution", "agenttriggerexecutions", NAMES("atex"), SCOPE_ORG,
	     STORAGE_RECORD, "agent-execution", ROLE_DEVELOPER,
	     FIELDS(REQ("triggerRule", FT_STRING), REQ("sourceEvent", FT_STRING_OR_OBJECT),
		    REQ("decision", FT_STRING)),
	     NAMES("Skipped", "Deduplicated", "Dispatching", "Dispatched", "Failed")),
	KIND("AgentCapabilityRequirement", "agentcapabilityrequirements", NAMES("acr"),
	     SCOPE_ORG, STORAGE_RECORD, "agent-execution", ROLE_DEVELOPER,
	     FIELDS(REQ("ownerRef", FT_STRING_OR_OBJECT), REQ("requiredRoles", FT_ARRAY),
		    OPT("requiredSecretRefs", FT_ARRAY), OPT("requiredConfigRefs", FT_ARRAY),
		    OPT("missingGrants", FT_ARRAY), OPT("invalidGrants", FT_ARRAY)),
	     NULL),
	KIND("WorkItemSessionLink", "workitemsessionlinks", NAMES("wisl"), SCOPE_ORG,
	     STORAGE_RECORD, "agent-execution", ROLE_DEVELOPER,
	     FIELDS(REQ("workItemRef", FT_STRING_OR_OBJECT), REQ("agentSession", FT_STRING),
		    OPT("runRefs", FT_ARRAY), OPT("linkSource", FT_STRING),
		    OPT("branchName", FT_STRING)),
	     NULL),
	KIND("WorkItemWorkspaceLink", "workitemworkspacelinks", NAMES("wiwl"), SCOPE_ORG,
	     STORAGE_RECORD, "agent-execution", ROLE_DEVELOPER,
	     FIELDS(REQ("workItemRef", FT_STRING_OR_OBJECT), REQ("workspace", FT_STRING),
		    OPT("runRefs", FT_ARRAY), OPT("linkSource", FT_STRING),
		    OPT("branchName", FT_STRING)),
	     NULL),
	KIND("AgentSessionTranscript", "agentsessiontranscripts", NAMES("ast"), SCOPE_ORG,
	     STORAGE_RECORD, "agent-execution", ROLE_ADMIN,
	     FIELDS(REQ("sessionRef", FT_STRING), REQ("messages", FT_ARRAY),
		    OPT("cost", FT_OBJECT)),
	     NAMES("Reconciled")),
	KIND("AgentSessionAttachment", "agentsessionattachments", NAMES("asat"), SCOPE_ORG,
	     STORAGE_RECORD, "agent-execution", ROLE_DEVELOPER,
	     FIELDS(REQ("sessionRef", FT_STRING), REQ("sourceType", FT_STRING),
		    REQ("digest", FT_STRING), OPT("mimeType", FT_STRING)),
	     NULL),
	KIND("AgentWorkspaceRuntime", "agentworkspaceruntimes", NAMES("awr"), SCOPE_ORG,
	     STORAGE_RECORD, "agent-execution", ROLE_DEVELOPER,
	     FIELDS(REQ("workspaceRef", FT_STRING), REQ("status", FT_STRING_OR_OBJECT),
		    OPT("cwd", FT_STRING), OPT("previewUrl", FT_STRING)),
	     NULL),
};

#define KIND_COUNT (sizeof(kind_table) / sizeof(kind_table[0]))

const struct kind_def *kinds_all(size_t *n)
{
	if (n)
		*n = KIND_COUNT;
	return kind_table;
}

const struct kind_def *kinds_lookup(const char *name)
{
	size_t i;
	const char *const *sn;

	if (!name || !*name)
		return NULL;
	for (i = 0; i < KIND_COUNT; i++) {
		const struct kind_def *k = &kind_table[i];

		if (!strcasecmp(k->kind, name) || !strcasecmp(k->plural, name))
			return k;
		for (sn = k->short_names; sn && *sn; sn++)
			if (!strcasecmp(*sn, name))
				return k;
	}
	return NULL;
}

const char *kinds_scope_name(enum kind_scope s)
{
	return s == SCOPE_PLATFORM ? "platform" : "org";
}

const char *kinds_storage_name(enum kind_storage s)
{
	return s == STORAGE_RECORD ? "record" : "config";
}

const char *kinds_type_name(enum field_type t)
{
	switch (t) {
	case FT_STRING: return "string";
	case FT_INT: return "integer";
	case FT_NUMBER: return "number";
	case FT_BOOL: return "boolean";
	case FT_OBJECT: return "object";
	case FT_ARRAY: return "array";
	case FT_STRING_OR_OBJECT: return "string-or-object";
	case FT_ANY: return "any";
	}
	return "any";
}

static const char *const role_names[] = { "none", "viewer", "developer", "admin" };

const char *kinds_role_name(enum role r)
{
	if ((int)r < ROLE_NONE || r > ROLE_ADMIN)
		return "none";
	return role_names[r];
}

enum role kinds_role_parse(const char *s)
{
	int r;

	if (!s)
		return ROLE_NONE;
	for (r = ROLE_VIEWER; r <= ROLE_ADMIN; r++)
		if (!strcasecmp(s, role_names[r]))
			return (enum role)r;
	return ROLE_NONE;
}

/* Appends every string of a NULL-terminated list; the array always exists
 * so clients never have to tell "absent" from "empty". */
static json_t *string_list(const char *const *list)
{
	json_t *a = json_array();

	for (; a && list && *list; list++)
		if (json_array_append_new(a, json_string(*list))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *field_json(const char *path, enum field_type type, int required,
			  const char *const *enums, int write_only)
{
	json_t *f = json_object();
	char *full = NULL;

	if (!f || asprintf(&full, "spec.%s", path) < 0)
		goto fail;
	if (json_object_set_new(f, "path", json_string(full)) ||
	    json_object_set_new(f, "type", json_string(kinds_type_name(type))) ||
	    json_object_set_new(f, "required", json_boolean(required)))
		goto fail;
	if (enums && json_object_set_new(f, "enum", string_list(enums)))
		goto fail;
	if (write_only && json_object_set_new(f, "writeOnly", json_true()))
		goto fail;
	free(full);
	return f;
fail:
	free(full);
	json_decref(f);
	return NULL;
}

static int lists_field(const struct kind_def *k, const char *path)
{
	const struct field_def *f;

	for (f = k->fields; f && f->path; f++)
		if (!strcmp(f->path, path))
			return 1;
	return 0;
}

static json_t *fields_json(const struct kind_def *k)
{
	json_t *a = json_array();
	const struct field_def *f;

	if (!a)
		return NULL;
	/* Admission supplies organizationRef for org-scoped kinds, so the table
	 * leaves it implicit; discovery still shows it as required. */
	if (k->scope == SCOPE_ORG && !lists_field(k, "organizationRef") &&
	    json_array_append_new(a, field_json("organizationRef", FT_STRING, 1, NULL, 0)))
		goto fail;
	for (f = k->fields; f && f->path; f++)
		if (json_array_append_new(a, field_json(f->path, f->type, f->required, f->enums, f->write_only)))
			goto fail;
	return a;
fail:
	json_decref(a);
	return NULL;
}

json_t *kinds_to_json(const struct kind_def *k)
{
	if (!k)
		return NULL;
	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:o, s:o}",
			 "kind", k->kind,
			 "plural", k->plural,
			 "shortNames", string_list(k->short_names),
			 "scope", kinds_scope_name(k->scope),
			 "storage", kinds_storage_name(k->storage),
			 "category", k->category,
			 "writeRole", kinds_role_name(k->write_role),
			 "apiVersion", KRATE_API_VERSION,
			 "fields", fields_json(k),
			 "phases", string_list(k->phases));
}

json_t *kinds_table_json(void)
{
	json_t *a = json_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < KIND_COUNT; i++)
		if (json_array_append_new(a, kinds_to_json(&kind_table[i]))) {
			json_decref(a);
			return NULL;
		}
	return json_pack("{s:s, s:o}", "apiVersion", KRATE_API_VERSION, "kinds", a);
}
