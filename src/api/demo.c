#include "api/api_internal.h"
#include "api/session.h"
#include "core/log.h"
#include "core/password.h"
#include "core/yaml.h"
#include "model/admission.h"

#include <stdlib.h>
#include <string.h>

/* The demo org: a small but real forge state that later features add to. */
static const char demo_yaml[] =
	"apiVersion: krate.a5c.ai/v1alpha1\n"
	"kind: Organization\n"
	"metadata: {name: demo}\n"
	"spec: {displayName: Demo Org, description: Sample data for trying Krate, defaultVisibility: internal}\n"
	"---\n"
	"kind: Team\n"
	"metadata: {name: platform}\n"
	"spec: {organizationRef: demo, displayName: Platform team, members: [ana, ben], maintainers: [ana]}\n"
	"---\n"
	"kind: User\n"
	"metadata: {name: ana}\n"
	"spec: {organizationRef: demo, displayName: Ana Lima, email: ana@demo.example, teams: [platform], admin: true}\n"
	"status: {phase: Active}\n"
	"---\n"
	"kind: Repository\n"
	"metadata: {name: krate, labels: {tier: core}}\n"
	"spec: {organizationRef: demo, visibility: internal, defaultBranch: main, description: The forge itself}\n"
	"---\n"
	"kind: Repository\n"
	"metadata: {name: web, labels: {tier: edge}}\n"
	"spec: {organizationRef: demo, visibility: public, defaultBranch: main, description: Marketing site}\n"
	"---\n"
	"kind: BranchProtection\n"
	"metadata: {name: krate-main}\n"
	"spec: {organizationRef: demo, repository: krate, refs: [refs/heads/main], requirePullRequest: true,\n"
	"       requiredChecks: [build, test], requiredApprovals: 1}\n"
	"---\n"
	"kind: RunnerPool\n"
	"metadata: {name: linux-small}\n"
	"spec: {organizationRef: demo, warmReplicas: 1, maxReplicas: 4, image: 'debian:12', trustTier: trusted}\n"
	"status: {readyReplicas: 1, queueDepth: 0}\n"
	"---\n"
	"kind: WebhookSubscription\n"
	"metadata: {name: chatops}\n"
	"spec: {organizationRef: demo, url: 'http://127.0.0.1:9/hooks/chatops', events: [pull_request.opened, pull_request.merged]}\n"
	"---\n"

	"kind: Pipeline\n"
	"metadata: {name: pipeline-krate-1}\n"
	"spec: {organizationRef: demo, repository: krate, ref: refs/heads/feature/quickstart, actor: ana, steps: [build, test]}\n"
	"status: {phase: Succeeded}\n"
	"---\n"
	"kind: Issue\n"
	"metadata: {name: issue-1, labels: {priority: high}}\n"
	"spec: {organizationRef: demo, repository: krate, title: Watch streams should resume after restart,\n"
	"       labels: [bug], assignees: [ben]}\n"
	"status: {phase: triage}\n"
	"---\n"
	"kind: View\n"
	"metadata: {name: priority-triage}\n"
	"spec: {organizationRef: demo, selector: {labels: {priority: high}}, columns: [name, phase], shareable: true}\n";

/* The console user "demo", created only when it does not exist yet, so its
 * password never changes once shown. */
static int demo_user(struct store *s, char **password_out, struct kerr *e)
{
	struct user_info u = { 0 };
	char *pw = NULL;
	int rc;

	rc = store_user_get(s, "demo", &u, NULL);
	user_info_free(&u);
	if (rc != KE_NOTFOUND)
		return rc ? kerr_set(e, rc, NULL, "cannot read the demo user") : 0;
	if (password_generate(&pw))
		return kerr_set(e, KE_INTERNAL, NULL, "cannot generate the demo password");
	rc = session_user_create(s, "demo", pw, ROLE_ADMIN, NULL, "system", e);
	if (rc) {
		memset(pw, 0, strlen(pw));
		free(pw);
		return rc;
	}
	*password_out = pw;
	return 0;
}

int api_demo_seed(struct store *s, char **demo_password_out, struct kerr *e)
{
	json_t *docs = NULL, *keep = json_array();
	struct store_op *ops = NULL;
	struct store_batch b = { 0 };
	char *seeded = NULL, *pw = NULL;
	size_t n, i, nops = 0;
	int rc;

	*demo_password_out = NULL;
	if (store_meta_get(s, "demo.seeded", &seeded, NULL) == 0) {
		/* seeded by a build without console users: add the user once */
		free(seeded);
		json_decref(keep);
		return demo_user(s, demo_password_out, e);
	}
	rc = yaml_parse_documents(demo_yaml, sizeof(demo_yaml) - 1, &docs, e);
	if (rc)
		goto out;
	n = json_array_size(docs);
	ops = calloc(n + 1, sizeof(*ops));
	if (!ops) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		json_t *doc = json_array_get(docs, i);
		json_t *md = json_object_get(doc, "metadata");
		const struct kind_def *kd;
		struct admission_ctx ctx = { NULL };

		rc = admission_check(doc, &ctx, &kd, e);
		if (rc)
			goto out;
		ops[nops].type = STORE_OP_APPLY;
		ops[nops].kind = kd->kind;
		ops[nops].ns = json_string_value(json_object_get(md, "namespace"));
		ops[nops].name = json_string_value(json_object_get(md, "name"));
		ops[nops].obj = doc;
		nops++;
		if (!strcmp(kd->kind, "Organization"))
			nops += api_org_extra_ops(doc, 0, ops + nops, keep);
	}
	b.ops = ops;
	b.n = nops;
	b.audit.actor = "system";
	b.audit.org = "demo";
	b.audit.verb = "demo.seed";
	b.audit.resource = "Organization/krate-system/demo and its demo resources";
	b.audit.result = "allowed";
	rc = store_write(s, &b);
	if (rc) {
		kerr_set(e, rc, b.err.code, "%s", b.err.message ? b.err.message : "demo seed failed");
		goto out;
	}
	rc = demo_user(s, &pw, e);
	if (!rc)
		rc = store_meta_set(s, "demo.seeded", "1", e);
	if (!rc) {
		log_info("seeded demo org 'demo' with %zu objects%s", nops, pw ? " and console user 'demo'" : "");
		*demo_password_out = pw;
		pw = NULL;
	}
out:
	if (pw) {
		memset(pw, 0, strlen(pw));
		free(pw);
	}
	for (i = 0; ops && i < nops; i++)
		json_decref(ops[i].result);
	kerr_clear(&b.err);
	free(ops);
	json_decref(docs);
	json_decref(keep);
	return rc;
}
