/* Redaction and immutable context bundles.
 *
 * redact_text replaces secrets in text with "[REDACTED:<kind>]" and counts
 * them per kind; kinds, applied in this order: org-secret (every value in
 * secret_values, longest first), secret-key (KEY=VALUE / KEY: VALUE for
 * API_KEY, API_SECRET, SECRET_KEY, ACCESS_KEY, PRIVATE_KEY, AUTH_TOKEN,
 * PASSWORD, PASSWD, CREDENTIAL(S), case-insensitive), provider-token (sk-...,
 * ghp_/gho_..., glpat-..., xoxb-/xoxp-...), bearer-token, private-key (PEM
 * blocks), base64-credential (a word-bounded run of >= 40 base64 chars).
 *
 * bundle_build assembles the layers (system, developer, task, skill:<name>,
 * label:<name>, source:<kind>:<ref>), redacts and digests each (SHA-256 of
 * the redacted text), enforces the size cap (BUNDLE_MAX_BYTES over all
 * layers; the three prompt layers are never cut; sources, labels and skills
 * are cut largest first with BUNDLE_TRUNCATION_MARKER) and the per-item cap
 * (BUNDLE_ITEM_MAX), and digests the bundle over the layer digests. Same
 * inputs, same digest. No clock, no store.
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

/* *spec: the AgentContextBundle spec {digest, sources, promptLayers,
 * redactions, limits} (digest "sha256:<hex>"); *texts: {"<layer digest>":
 * "<redacted text>"} to store content-addressed; *prompt: the rendered
 * prompt (layers joined with headings), malloc'd. */
int bundle_build(const struct bundle_input *in, json_t **spec, json_t **texts, char **prompt, struct kerr *e);

#endif
