/* Redaction and immutable context bundles.
 *
 * redact_text replaces secrets in text with "[REDACTED:<kind>]" and counts
 * them per kind; kinds, applied in this order: org-secret (every value in
 * secret_values, longest first; values under 4 bytes are ignored),
 * secret-key (KEY=VALUE / KEY: VALUE for API_KEY, API_SECRET, SECRET_KEY,
 * ACCESS_KEY, PRIVATE_KEY, AUTH_TOKEN, PASSWORD, PASSWD, CREDENTIAL(S),
 * case-insensitive, '_' or '-', not preceded by a letter or digit; only
 * VALUE is replaced), provider-token (sk-..., ghp_/gho_/ghu_/ghs_/ghr_...,
 * github_pat_..., glpat-..., xoxb-/xoxp-/xoxa-/xoxr-/xoxs-...), bearer-token
 * ("Bearer <token>" with a digit in the token; the token is replaced),
 * private-key (PEM blocks whose label ends in PRIVATE KEY, to the END line
 * or the end of the text), base64-credential (a word-bounded run of >= 40
 * base64 chars mixing upper case, lower case and digits, so hex digests and
 * paths stay). Hand-written scanners: linear in the text, byte-exact on
 * UTF-8. Text that only looks like a marker is scanned like any other.
 *
 * bundle_build assembles the layers (system, developer, task = the stack's
 * prompt.task then the user's prompt, skill:<name> for the stack's
 * skillRefs, label:<name> for the requested context labels, then the
 * sources as {kind, ref}), redacts each (source kind and ref too), holds
 * each to BUNDLE_ITEM_MAX (cut with BUNDLE_ITEM_MARKER), digests each
 * ("sha256:<hex>" of the redacted text), enforces the size cap
 * (BUNDLE_MAX_BYTES over all layers; the three prompt layers are never cut;
 * sources, labels and skills are cut largest first with
 * BUNDLE_TRUNCATION_MARKER), always on UTF-8 character boundaries. At most
 * BUNDLE_SOURCES_MAX sources, skills and labels each are used; missing
 * skills and labels are left out. The bundle digest covers every layer's
 * role (or kind and ref), digest and size plus repository, ref and sha.
 * Same inputs, same digest. No clock, no store. The rendered prompt is
 * "## System", "## Developer", "## Task", "## Skill: <name>",
 * "## Context: <label>", "## Source: <kind> <ref>" sections, each heading
 * followed by a blank line and the text (empty layers are left out).
 *
 * Ownership: inputs borrowed; outputs belong to the caller. */
#ifndef KRATE_AGENTS_BUNDLE_H
#define KRATE_AGENTS_BUNDLE_H

#include <jansson.h>
#include "core/buf.h"
#include "core/err.h"

#define BUNDLE_MAX_BYTES 768000
#define BUNDLE_ITEM_MAX 65536
#define BUNDLE_SOURCES_MAX 32
#define BUNDLE_TRUNCATION_MARKER "[...truncated at 750KiB limit]"
#define BUNDLE_ITEM_MARKER "[...truncated at 64KiB item limit]"

/* Appends the redacted text to out; adds counts to by_kind ({"kind":N},
 * created by the caller). secret_values: array of strings or NULL. */
int redact_text(const char *text, size_t len, json_t *secret_values, struct buf *out, json_t *by_kind,
		struct kerr *e);

struct bundle_input {
	json_t *stack;          /* the AgentStack object */
	json_t *snapshot;       /* agents_snapshot() of the org (skills and labels are read from it) */
	const char *repository, *ref, *sha;
	const char *task_prompt;     /* the user's prompt, may be NULL */
	json_t *context_labels;      /* array of AgentContextLabel names, may be NULL */
	json_t *sources;             /* array of {kind, ref, content}, may be NULL */
	json_t *secret_values;       /* array of strings (org secret values), may be NULL */
};

/* *spec: the AgentContextBundle spec {digest, repository, ref, sha,
 * sources [{kind, ref, digest, sizeBytes}], promptLayers [{role, digest,
 * sizeBytes}], redactions {total, byKind}, limits {maxBytes, itemMaxBytes,
 * maxSources, truncated}} (digests "sha256:<hex>"); *texts: {"<layer digest>":
 * "<redacted text>"} to store content-addressed; *prompt: the rendered
 * prompt (layers joined with headings), malloc'd. */
int bundle_build(const struct bundle_input *in, json_t **spec, json_t **texts, char **prompt, struct kerr *e);

#endif
