/* Context bundles (see bundle.h): layers are redacted first and cut after,
 * so a cut can never leave half a secret that redaction no longer sees. */
#include "agents/bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/review.h"
#include "agents/snapshot.h"
#include "core/util.h"

#define DIGEST_SIZE 72

struct layer {
	char *role;          /* "system", "skill:<name>", ...; NULL for a source */
	char *heading;       /* "## System", "## Source: <kind> <ref>" (redacted, one line) */
	char *kind, *ref;    /* sources: redacted */
	int prompt;          /* system, developer or task: never cut by the total cap */
	struct buf text;     /* redacted */
	char digest[DIGEST_SIZE];
};

struct bundle {
	const struct bundle_input *in;
	struct layer *layers;
	size_t n, cap;
	json_t *by_kind;
	int truncated;
	struct kerr *e;
};

static const char *str(json_t *v)
{
	return json_string_value(v);
}

static const char *ref_name(json_t *v)
{
	return json_is_object(v) ? str(json_object_get(v, "name")) : str(v);
}

static int nomem(struct bundle *b)
{
	return kerr_set(b->e, KE_NOMEM, NULL, "out of memory building a context bundle");
}

/* A heading part on one line: control characters become spaces, so text from
 * a request cannot start a heading of its own. */
static int add_heading_part(struct buf *h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int rc = buf_addch(h, c < 0x20 || c == 0x7f ? ' ' : (char)c);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Cuts text to at most keep bytes on a UTF-8 character boundary and appends marker. */
static int cut(struct buf *t, size_t keep, const char *marker)
{
	if (keep > t->len)
		keep = t->len;
	while (keep > 0 && keep < t->len && ((unsigned char)t->data[keep] & 0xC0) == 0x80)
		keep--;
	t->len = keep;
	if (t->data)
		t->data[keep] = '\0';
	return buf_addstr(t, marker);
}

static int redact_str(struct bundle *b, const char *s, char **out)
{
	struct buf r = BUF_INIT(BUF_DEFAULT_MAX);
	int rc = redact_text(s, strlen(s), b->in->secret_values, &r, b->by_kind, b->e);

	if (rc == 0 && buf_add(&r, "", 0) < 0)
		rc = nomem(b);
	*out = rc ? NULL : buf_detach(&r, NULL);
	buf_free(&r);
	return rc;
}

/* Appends a layer: text is redacted and held to the per-item cap. */
static int add_layer(struct bundle *b, const char *role, const char *heading, const char *text, size_t len,
		     int prompt)
{
	struct layer *l;
	int rc;

	if (b->n == b->cap) {
		size_t ncap = b->cap ? 2 * b->cap : 16;
		struct layer *nl = realloc(b->layers, ncap * sizeof *nl);

		if (!nl)
			return nomem(b);
		b->layers = nl;
		b->cap = ncap;
	}
	l = &b->layers[b->n];
	memset(l, 0, sizeof *l);
	buf_init(&l->text, BUF_DEFAULT_MAX);
	b->n++;
	l->prompt = prompt;
	if ((role && !(l->role = strdup(role))) || !(l->heading = strdup(heading)))
		return nomem(b);
	rc = redact_text(text, len, b->in->secret_values, &l->text, b->by_kind, b->e);
	if (rc < 0)
		return rc;
	if (buf_add(&l->text, "", 0) < 0)
		return nomem(b);
	if (l->text.len > BUNDLE_ITEM_MAX) {
		b->truncated = 1;
		if (cut(&l->text, BUNDLE_ITEM_MAX - strlen(BUNDLE_ITEM_MARKER), BUNDLE_ITEM_MARKER) < 0)
			return nomem(b);
	}
	return 0;
}

static int add_named_layer(struct bundle *b, const char *role_prefix, const char *heading_prefix, const char *name,
			   const char *text, size_t len)
{
	struct buf role = BUF_INIT(BUF_DEFAULT_MAX), heading = BUF_INIT(BUF_DEFAULT_MAX);
	int rc = buf_printf(&role, "%s%s", role_prefix, name);

	if (rc == 0)
		rc = buf_addstr(&heading, heading_prefix);
	if (rc == 0)
		rc = add_heading_part(&heading, name, strlen(name));
	rc = rc < 0 ? nomem(b) : add_layer(b, role.data, heading.data, text, len, 0);
	buf_free(&role);
	buf_free(&heading);
	return rc;
}

static int has_role(struct bundle *b, const char *prefix, const char *name)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < b->n; i++)
		if (b->layers[i].role && !strncmp(b->layers[i].role, prefix, n) && !strcmp(b->layers[i].role + n, name))
			return 1;
	return 0;
}

static int prompt_layers(struct bundle *b)
{
	json_t *prompt = json_object_get(json_object_get(b->in->stack, "spec"), "prompt");
	const char *sys = str(json_object_get(prompt, "system")), *dev = str(json_object_get(prompt, "developer"));
	const char *task = str(json_object_get(prompt, "task"));
	struct buf t = BUF_INIT(BUF_DEFAULT_MAX);
	int rc;

	/* The task layer is the stack's task text followed by the user's prompt. */
	rc = buf_addstr(&t, task ? task : "");
	if (rc == 0 && b->in->task_prompt && b->in->task_prompt[0])
		rc = buf_printf(&t, "%s%s", t.len ? "\n\n" : "", b->in->task_prompt);
	if (rc < 0) {
		buf_free(&t);
		return nomem(b);
	}
	rc = add_layer(b, "system", "## System", sys ? sys : "", sys ? strlen(sys) : 0, 1);
	if (rc == 0)
		rc = add_layer(b, "developer", "## Developer", dev ? dev : "", dev ? strlen(dev) : 0, 1);
	if (rc == 0)
		rc = add_layer(b, "task", "## Task", t.data, t.len, 1);
	buf_free(&t);
	return rc;
}

/* A skill's text: spec.promptFragments joined by blank lines, or spec.promptFragment. */
static int skill_text(json_t *skill, struct buf *t)
{
	json_t *spec = json_object_get(skill, "spec"), *v;
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(spec, "promptFragments"), i, v) {
		if (str(v) && rc == 0)
			rc = buf_printf(t, "%s%s", t->len ? "\n\n" : "", str(v));
	}
	if (rc == 0 && !t->len && str(json_object_get(spec, "promptFragment")))
		rc = buf_addstr(t, str(json_object_get(spec, "promptFragment")));
	return rc;
}

static int skill_layers(struct bundle *b)
{
	json_t *v;
	size_t i, taken = 0;
	int rc = 0;

	json_array_foreach(json_object_get(json_object_get(b->in->stack, "spec"), "skillRefs"), i, v) {
		const char *name = ref_name(v);
		json_t *skill = snapshot_find(b->in->snapshot, "AgentSkill", name);
		struct buf t = BUF_INIT(BUF_DEFAULT_MAX);

		/* Missing skills are left out here; readiness reports them. */
		if (!skill || has_role(b, "skill:", name))
			continue;
		if (taken == BUNDLE_SOURCES_MAX) {
			b->truncated = 1;
			break;
		}
		rc = skill_text(skill, &t) < 0 ? nomem(b) : 0;
		if (rc == 0 && t.len) {
			rc = add_named_layer(b, "skill:", "## Skill: ", name, t.data, t.len);
			taken++;
		}
		buf_free(&t);
		if (rc < 0)
			break;
	}
	return rc;
}

static int label_layers(struct bundle *b)
{
	json_t *v;
	size_t i, taken = 0;
	int rc = 0;

	json_array_foreach(b->in->context_labels, i, v) {
		json_t *label = snapshot_find(b->in->snapshot, "AgentContextLabel", str(v));
		const char *text = str(json_object_get(json_object_get(label, "spec"), "promptFragment"));

		if (!text || has_role(b, "label:", str(v)))
			continue;
		if (taken == BUNDLE_SOURCES_MAX) {
			b->truncated = 1;
			break;
		}
		rc = add_named_layer(b, "label:", "## Context: ", str(v), text, strlen(text));
		taken++;
		if (rc < 0)
			break;
	}
	return rc;
}

static int source_layers(struct bundle *b)
{
	json_t *v;
	size_t i;
	int rc = 0;

	json_array_foreach(b->in->sources, i, v) {
		const char *kind = str(json_object_get(v, "kind")), *ref = str(json_object_get(v, "ref"));
		json_t *content = json_object_get(v, "content");
		struct buf heading = BUF_INIT(BUF_DEFAULT_MAX);
		struct layer *l;

		if (i == BUNDLE_SOURCES_MAX) {
			b->truncated = 1;
			break;
		}
		rc = add_layer(b, NULL, "", json_is_string(content) ? str(content) : "", json_string_length(content), 0);
		if (rc < 0)
			break;
		l = &b->layers[b->n - 1];
		rc = redact_str(b, kind ? kind : "unknown", &l->kind);
		if (rc == 0)
			rc = redact_str(b, ref ? ref : "", &l->ref);
		if (rc == 0 && (buf_addstr(&heading, "## Source: ") < 0 ||
				add_heading_part(&heading, l->kind, strlen(l->kind)) < 0 || buf_addch(&heading, ' ') < 0 ||
				add_heading_part(&heading, l->ref, strlen(l->ref)) < 0))
			rc = nomem(b);
		if (rc == 0) {
			free(l->heading);
			l->heading = buf_detach(&heading, NULL);
		}
		buf_free(&heading);
		if (rc < 0)
			break;
	}
	return rc;
}

/* Cuts sources, labels and skills, largest first (earliest on a tie), until
 * the whole bundle fits BUNDLE_MAX_BYTES. */
static int enforce_total(struct bundle *b)
{
	size_t total = 0, mlen = strlen(BUNDLE_TRUNCATION_MARKER);

	for (size_t i = 0; i < b->n; i++)
		total += b->layers[i].text.len;
	while (total > BUNDLE_MAX_BYTES) {
		struct layer *big = NULL;
		size_t excess = total - BUNDLE_MAX_BYTES, before;

		for (size_t i = 0; i < b->n; i++)
			if (!b->layers[i].prompt && b->layers[i].text.len > mlen &&
			    (!big || b->layers[i].text.len > big->text.len))
				big = &b->layers[i];
		if (!big)
			return kerr_set(b->e, KE_TOOBIG, NULL, "the context does not fit %d bytes", BUNDLE_MAX_BYTES);
		before = big->text.len;
		if (cut(&big->text, before > excess + mlen ? before - excess - mlen : 0, BUNDLE_TRUNCATION_MARKER) < 0)
			return nomem(b);
		total = total - before + big->text.len;
		b->truncated = 1;
	}
	return 0;
}

static int digest_text(const struct buf *t, char out[DIGEST_SIZE])
{
	char hex[65];

	util_sha256_hex(hex, t->data ? t->data : "", t->len);
	if (!hex[0])
		return KE_INTERNAL;
	snprintf(out, DIGEST_SIZE, "sha256:%s", hex);
	return 0;
}

static int render(struct bundle *b, struct buf *p)
{
	int rc = 0;

	/* Empty layers would add nothing but a heading, so they are left out. */
	for (size_t i = 0; rc == 0 && i < b->n; i++) {
		struct layer *l = &b->layers[i];

		if (!l->text.len)
			continue;
		rc = buf_printf(p, "%s%s\n\n", p->len ? "\n" : "", l->heading);
		if (rc == 0)
			rc = buf_add(p, l->text.data, l->text.len);
		if (rc == 0)
			rc = buf_addch(p, '\n');
	}
	return rc < 0 ? nomem(b) : 0;
}

static int describe(struct bundle *b, json_t **spec, json_t **texts)
{
	json_t *layers = json_array(), *sources = json_array(), *t = json_object(), *v;
	json_t *d = NULL, *s = NULL;
	json_int_t total = 0;
	char digest[DIGEST_SIZE];
	const char *k;
	int rc = KE_NOMEM;

	if (!layers || !sources || !t)
		goto cleanup;
	for (size_t i = 0; i < b->n; i++) {
		struct layer *l = &b->layers[i];
		json_t *e = l->role ? json_pack("{s:s, s:s, s:I}", "role", l->role, "digest", l->digest, "sizeBytes",
						 (json_int_t)l->text.len)
				    : json_pack("{s:s, s:s, s:s, s:I}", "kind", l->kind, "ref", l->ref, "digest",
						l->digest, "sizeBytes", (json_int_t)l->text.len);

		if (json_array_append_new(l->role ? layers : sources, e) ||
		    json_object_set_new(t, l->digest, json_stringn(l->text.data, l->text.len)))
			goto cleanup;
	}
	json_object_foreach(b->by_kind, k, v)
		total += json_integer_value(v);
	/* What the digest covers: every layer's digest and size, and the target. */
	d = json_pack("{s:O, s:O, s:s?, s:s?, s:s?}", "promptLayers", layers, "sources", sources,
		      "repository", b->in->repository, "ref", b->in->ref, "sha", b->in->sha);
	if (!d)
		goto cleanup;
	rc = review_digest(d, digest, sizeof digest);
	if (rc < 0)
		goto cleanup;
	rc = KE_NOMEM;
	s = json_pack("{s:s, s:s?, s:s?, s:s?, s:O, s:O, s:{s:I, s:O}, s:{s:i, s:i, s:i, s:b}}", "digest", digest,
		      "repository", b->in->repository, "ref", b->in->ref, "sha", b->in->sha, "sources", sources,
		      "promptLayers", layers, "redactions", "total", total, "byKind", b->by_kind, "limits",
		      "maxBytes", BUNDLE_MAX_BYTES, "itemMaxBytes", BUNDLE_ITEM_MAX, "maxSources", BUNDLE_SOURCES_MAX,
		      "truncated", b->truncated);
	if (!s)
		goto cleanup;
	*spec = s;
	*texts = t;
	s = t = NULL;
	rc = 0;
cleanup:
	json_decref(layers);
	json_decref(sources);
	json_decref(t);
	json_decref(d);
	json_decref(s);
	return rc;
}

static int strings_valid(const struct bundle_input *in)
{
	const char *s[] = { in->repository, in->ref, in->sha, in->task_prompt };

	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		if (s[i] && !util_utf8_valid(s[i], strlen(s[i])))
			return 0;
	return 1;
}

int bundle_build(const struct bundle_input *in, json_t **spec, json_t **texts, char **prompt, struct kerr *e)
{
	struct bundle b = { 0 };
	struct buf p = BUF_INIT(BUF_DEFAULT_MAX);
	int rc;

	if (!in || !json_is_object(in->stack) || !spec || !texts || !prompt)
		return kerr_set(e, KE_INVALID, NULL, "bundle_build: missing argument");
	if (!strings_valid(in))
		return kerr_set(e, KE_INVALID, NULL, "the bundle's inputs are not valid UTF-8");
	*spec = *texts = NULL;
	*prompt = NULL;
	b.in = in;
	b.e = e;
	b.by_kind = json_object();
	if (!b.by_kind) {
		rc = nomem(&b);
		goto cleanup;
	}
	rc = prompt_layers(&b);
	if (rc == 0)
		rc = skill_layers(&b);
	if (rc == 0)
		rc = label_layers(&b);
	if (rc == 0)
		rc = source_layers(&b);
	if (rc == 0)
		rc = enforce_total(&b);
	for (size_t i = 0; rc == 0 && i < b.n; i++)
		if (digest_text(&b.layers[i].text, b.layers[i].digest) < 0)
			rc = kerr_set(e, KE_INTERNAL, NULL, "cannot digest a layer");
	if (rc == 0)
		rc = render(&b, &p);
	if (rc == 0 && describe(&b, spec, texts) < 0)
		rc = nomem(&b);
	if (rc == 0) {
		*prompt = buf_detach(&p, NULL);
		if (!*prompt) {
			json_decref(*spec);
			json_decref(*texts);
			*spec = *texts = NULL;
			rc = nomem(&b);
		}
	}
cleanup:
	for (size_t i = 0; i < b.n; i++) {
		free(b.layers[i].role);
		free(b.layers[i].heading);
		free(b.layers[i].kind);
		free(b.layers[i].ref);
		buf_free(&b.layers[i].text);
	}
	free(b.layers);
	json_decref(b.by_kind);
	buf_free(&p);
	return rc;
}
