/* What an attempt produced, as AgentArtifact objects over CAS blobs. */
#include "agents/runtime_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/bundle.h"
#include "agents/cas.h"
#include "agents/review.h"
#include "core/log.h"

#define LABEL_RUN "krate.a5c.ai/run"
#define LABEL_ATTEMPT "krate.a5c.ai/attempt"

/* The digest of the attempt's frozen permission review: its own "digest"
 * member when it has one (review_run's), else the digest of the whole. */
static void permission_digest(json_t *attempt, char out[CAS_DIGEST_SIZE])
{
	json_t *snap = json_object_get(json_object_get(attempt, "spec"), "permissionSnapshot");
	const char *d = rt_str(snap, NULL, "digest");

	out[0] = '\0';
	if (d)
		snprintf(out, CAS_DIGEST_SIZE, "%s", d);
	else if (snap)
		review_digest(snap, out, CAS_DIGEST_SIZE);
}

/* Stores content and writes AgentArtifact <attempt>-<suffix>; extra members are merged into spec (stolen). */
static int put_artifact(const struct artifact_input *in, const char *suffix, const char *kind, const char *content,
			size_t len, json_t *extra, struct kerr *e)
{
	struct rt_job *j = in->job;
	char digest[CAS_DIGEST_SIZE], perm[CAS_DIGEST_SIZE], name[RT_NAME_MAX + 64];
	const char *ctx = rt_str(j->attempt, "spec", "contextBundleDigest");
	json_t *obj = NULL;
	int rc;

	rc = cas_put(j->rt->data_dir, content, len, digest, e);
	if (rc)
		goto cleanup;
	permission_digest(j->attempt, perm);
	snprintf(name, sizeof(name), "%s-%s", j->name, suffix);
	obj = json_pack("{s:s, s:{s:s, s:{s:s, s:s}}, s:{s:s, s:s, s:s, s:s, s:s, s:I, s:s?, s:s?}}", "kind",
			"AgentArtifact", "metadata", "name", name, "labels", LABEL_RUN, j->run, LABEL_ATTEMPT, j->name,
			"spec", "dispatchRun", j->run, "attempt", j->name, "kind", kind, "digest", digest, "producer",
			j->stack, "sizeBytes", (json_int_t)len, "sourceContextDigest", ctx,
			"permissionSnapshotDigest", perm[0] ? perm : NULL);
	if (!obj || (extra && json_object_update(json_object_get(obj, "spec"), extra))) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto cleanup;
	}
	rc = rt_put(j->rt, j->ns, obj, e);
cleanup:
	json_decref(obj);
	json_decref(extra);
	return rc;
}

/* The patch, redacted when anything in it looks like a secret (so no secret
 * lands in CAS; such a patch is marked and cannot be applied as it is). */
static int record_patch(const struct artifact_input *in, struct kerr *e)
{
	struct rt_job *j = in->job;
	struct buf red = BUF_INIT(BUF_DEFAULT_MAX);
	json_t *files = NULL, *by_kind = json_object(), *extra = NULL;
	char *patch = NULL, diff_digest[CAS_DIGEST_SIZE];
	size_t len = 0;
	int rc, redacted;

	if (!by_kind)
		return kerr_set(e, KE_NOMEM, NULL, "out of memory");
	rc = ws_patch(j->rt, in->repo_dir, j->name, in->base_sha, &patch, &len, &files, e);
	if (rc || len == 0)
		goto cleanup;
	rc = redact_text(patch, len, in->t->o.secret_values, &red, by_kind, e);
	if (rc)
		goto cleanup;
	redacted = json_object_size(by_kind) > 0;
	rc = cas_put(j->rt->data_dir, redacted ? red.data : patch, redacted ? red.len : len, diff_digest, e);
	if (rc)
		goto cleanup;
	extra = json_pack("{s:{s:s, s:O, s:s}, s:{s:s, s:O}}", "patch", "baseSha", in->base_sha, "files", files,
			  "diffDigest", diff_digest, "redaction", "status", redacted ? "redacted" : "clean", "byKind",
			  by_kind);
	if (!extra) {
		rc = kerr_set(e, KE_NOMEM, NULL, "out of memory");
		goto cleanup;
	}
	rc = put_artifact(in, "patch", "patch", redacted ? red.data : patch, redacted ? red.len : len, extra, e);
cleanup:
	free(patch);
	buf_free(&red);
	json_decref(files);
	json_decref(by_kind);
	return rc;
}

int artifacts_record(const struct artifact_input *in, struct kerr *e)
{
	struct transcript *t = in->t;
	const char *diagnosis = t->final_content ? t->final_content : t->last_assistant;
	int rc = 0;
	size_t i;
	json_t *rep;

	if (diagnosis && *diagnosis)
		rc = put_artifact(in, "diagnosis", "diagnosis", diagnosis, strlen(diagnosis), NULL, e);
	if (rc)
		log_warn("agents: no diagnosis artifact for %s: %s", in->job->name, e->message ? e->message : "");
	if (in->repo_dir && in->base_sha) {
		struct kerr pe = KERR_INIT;
		int prc = record_patch(in, &pe);

		if (prc)
			log_warn("agents: no patch artifact for %s: %s", in->job->name, pe.message ? pe.message : "");
		if (prc && !rc) {
			kerr_set(e, prc, NULL, "%s", pe.message ? pe.message : "no patch artifact");
			rc = prc;
		}
		kerr_clear(&pe);
	}
	json_array_foreach(t->reports, i, rep) {
		const char *content = rt_str(rep, NULL, "content");
		char suffix[48];
		struct kerr re = KERR_INIT;
		int rrc;

		if (i)
			snprintf(suffix, sizeof(suffix), "test-report-%zu", i + 1);
		else
			snprintf(suffix, sizeof(suffix), "test-report");
		rrc = put_artifact(in, suffix, "test-report", content ? content : "", content ? strlen(content) : 0,
				   json_pack("{s:O?}", "name", json_object_get(rep, "name")), &re);
		if (rrc)
			log_warn("agents: no report artifact for %s: %s", in->job->name, re.message ? re.message : "");
		if (rrc && !rc) {
			kerr_set(e, rrc, NULL, "%s", re.message ? re.message : "no report artifact");
			rc = rrc;
		}
		kerr_clear(&re);
	}
	return rc;
}
