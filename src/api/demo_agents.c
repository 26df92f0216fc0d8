/* The demo's agent set-up: a ready stack that runs the shipped example agent
 * (`krate example-agent`) on demo/krate, with its service account, a role
 * binding, a model-provider secret and the grant for it, so a newcomer can
 * dispatch a run from the console and watch it finish with a patch. */
#include "api/api_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEEDED_KEY "demo.agents.seeded"

int api_demo_agents(struct api *a, const char *self_exe, struct kerr *e)
{
	struct principal sys = { 1, "system:demo", NULL, ROLE_ADMIN };
	char *seeded = NULL, key[2 * 24 + 1];
	unsigned char raw[24];
	json_t *docs = NULL, *results = NULL;
	int rc;

	if (!store_meta_get(a->store, SEEDED_KEY, &seeded, e) && seeded) {
		free(seeded);
		return 0;
	}
	kerr_clear(e);
	/* A made-up provider key: the example agent needs none, but the grant
	 * and the redaction of its value are part of what the demo shows. */
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(key, sizeof(key), raw, sizeof(raw));
	docs = json_pack(
		"[{s:s, s:{s:s}, s:{s:s, s:s}},"
		" {s:s, s:{s:s}, s:{s:s, s:{s:s}}},"
		" {s:s, s:{s:s}, s:{s:s, s:s, s:s}},"
		" {s:s, s:{s:s}, s:{s:s, s:s, s:s, s:[s]}},"
		" {s:s, s:{s:s, s:{s:s}}, s:{s:s, s:s, s:s, s:s, s:[s, s], s:i, s:{s:s, s:s}}}]",
		"kind", "AgentServiceAccount", "metadata", "name", "example-agent", "spec", "namespace", "krate-org-demo",
		"serviceAccountName", "example-agent",
		"kind", "Secret", "metadata", "name", "model-provider", "spec", "description",
		"Provider key for the example stack (made up)", "data", "API_KEY", key,
		"kind", "AgentRoleBinding", "metadata", "name", "example-agent-runner", "spec", "subject", "example-agent",
		"roleRef", "repository-writer", "scope", "repository:krate",
		"kind", "AgentSecretGrant", "metadata", "name", "example-agent-model-provider", "spec", "subject",
		"example-agent", "secretRef", "model-provider", "purpose", "model-provider", "allowedRepositories",
		"krate",
		"kind", "AgentStack", "metadata", "name", "example-fixer", "labels", "krate.a5c.ai/repository", "krate",
		"spec", "baseAgent", "example", "adapter", "process", "runtimeIdentity", "example-agent", "model",
		"none (the example agent is a script)", "command", self_exe, "example-agent", "timeoutSeconds", 120,
		"prompt", "system", "You are a careful repository assistant. Keep changes small.", "task",
		"Add a short note about what you looked at to NOTES.md.");
	if (!docs)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	rc = api_apply_sync(a, &sys, "demo", docs, "", &results, e);
	sodium_memzero(key, sizeof(key));
	json_decref(docs);
	json_decref(results);
	if (!rc)
		rc = store_meta_set(a->store, SEEDED_KEY, "1", e);
	return rc;
}
