/* Redaction of each kind of secret (text around kept, prose untouched) and
 * context bundles: stable digests that move with any layer, the per-item and
 * total caps, and the rendered prompt. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/bundle.h"
#include "core/util.h"

/* Redacts text and checks the result and the counts ("kind=N,..." or "" for none). */
static void check_redact(const char *text, json_t *values, const char *want, const char *counts)
{
	struct buf out = BUF_INIT(BUF_DEFAULT_MAX);
	struct kerr e = KERR_INIT;
	json_t *by_kind = json_object(), *want_counts = json_object();
	char *c = strdup(counts), *save = NULL;

	for (char *tok = strtok_r(c, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		assert_non_null(eq);
		*eq = '\0';
		json_object_set_new(want_counts, tok, json_integer(atoi(eq + 1)));
	}
	assert_int_equal(redact_text(text, strlen(text), values, &out, by_kind, &e), 0);
	assert_non_null(out.data);
	if (strcmp(out.data, want))
		fail_msg("redacted\n  %s\nto\n  %s\nnot\n  %s", text, out.data, want);
	if (!json_equal(by_kind, want_counts))
		fail_msg("counts %s, not %s", json_dumps(by_kind, JSON_COMPACT), counts);
	assert_true(util_utf8_valid(out.data, out.len));
	free(c);
	json_decref(by_kind);
	json_decref(want_counts);
	buf_free(&out);
}

static void test_secret_key(void **state)
{
	(void)state;
	check_redact("export API_KEY=abc123xyz\nnext", NULL, "export API_KEY=[REDACTED:secret-key]\nnext",
		     "secret-key=1");
	check_redact("db:\n  password: hunter2 # old", NULL, "db:\n  password: [REDACTED:secret-key] # old",
		     "secret-key=1");
	check_redact("{\"db_password\": \"s3cr3t\", \"user\": \"x\"}", NULL,
		     "{\"db_password\": \"[REDACTED:secret-key]\", \"user\": \"x\"}", "secret-key=1");
	check_redact("AWS_SECRET_ACCESS_KEY=wJalr api-key: k1 Credentials=c2 passwd=p", NULL,
		     "AWS_SECRET_ACCESS_KEY=[REDACTED:secret-key] api-key: [REDACTED:secret-key] "
		     "Credentials=[REDACTED:secret-key] passwd=[REDACTED:secret-key]", "secret-key=4");
	/* Comparisons, empty values and longer names are not settings. */
	check_redact("if (password == x) return; PASSWORD=\nAPI_KEY_ID=abc mypassword=x", NULL,
		     "if (password == x) return; PASSWORD=\nAPI_KEY_ID=abc mypassword=x", "");
}

static void test_provider_tokens(void **state)
{
	(void)state;
	check_redact("key sk-proj-abcdefghij0123456789XYZ end", NULL, "key [REDACTED:provider-token] end",
		     "provider-token=1");
	check_redact("(ghp_abcdefghijklmnopqrstuvwxyz0123456789)", NULL, "([REDACTED:provider-token])",
		     "provider-token=1");
	check_redact("glpat-xxxxxxxxxxxxxxxxxxxx, xoxb-123456789012-abcdef", NULL,
		     "[REDACTED:provider-token], [REDACTED:provider-token]", "provider-token=2");
	/* Too short, inside a word, or a library name: not tokens. */
	check_redact("sk-short ask-abcdefghij0123456789XYZ sk-learn-is-a-python-library ghp_abc", NULL,
		     "sk-short ask-abcdefghij0123456789XYZ sk-learn-is-a-python-library ghp_abc", "");
}

static void test_bearer(void **state)
{
	(void)state;
	check_redact("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig\r\n", NULL,
		     "Authorization: Bearer [REDACTED:bearer-token]\r\n", "bearer-token=1");
	check_redact("authorization: bearer   abcd1234efgh", NULL, "authorization: bearer   [REDACTED:bearer-token]",
		     "bearer-token=1");
	check_redact("The bearer instruments were sold.", NULL, "The bearer instruments were sold.", "");
}

static void test_private_key(void **state)
{
	(void)state;
	check_redact("before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7Mhgw\n"
		     "-----END RSA PRIVATE KEY-----\nafter", NULL, "before\n[REDACTED:private-key]\nafter",
		     "private-key=1");
	check_redact("x -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", NULL,
		     "x [REDACTED:private-key]", "private-key=1");
	/* A certificate is public. */
	check_redact("-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----", NULL,
		     "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----", "");
}

static void test_base64_credential(void **state)
{
	(void)state;
	check_redact("token: Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u== ok", NULL,
		     "token: [REDACTED:base64-credential] ok", "base64-credential=1");
	/* A commit id, a long path and a long identifier are not credentials. */
	check_redact("commit 3f2a9c0d5e6b7a8190fedcba9876543210abcdef src/agents/readiness/conditions/adapter/ready.c "
		     "ThisIsAVeryLongIdentifierNameWithoutAnyDigitsInIt", NULL,
		     "commit 3f2a9c0d5e6b7a8190fedcba9876543210abcdef src/agents/readiness/conditions/adapter/ready.c "
		     "ThisIsAVeryLongIdentifierNameWithoutAnyDigitsInIt", "");
}

static void test_org_secrets(void **state)
{
	json_t *values = json_pack("[s, s, s, i]", "hunter22", "hunter22-long-value", "abc", 7);

	(void)state;
	/* Longest first, so the long value is one redaction, not a partial one;
	 * values under 4 bytes are ignored. */
	check_redact("x hunter22-long-value y hunter22 z abc", values,
		     "x [REDACTED:org-secret] y [REDACTED:org-secret] z abc", "org-secret=2");
	/* A value that is also a settings value is counted once, as what found it first. */
	check_redact("PASSWORD=hunter22", values, "PASSWORD=[REDACTED:org-secret]", "org-secret=1");
	json_decref(values);

	/* Non-ASCII values and text. */
	values = json_pack("[s]", "clé-secrète");
	check_redact("日本語 clé-secrète テキスト", values, "日本語 [REDACTED:org-secret] テキスト", "org-secret=1");
	json_decref(values);
	/* A value that spells part of a marker cannot break markers apart. */
	values = json_pack("[s, s]", "REDACTED", "tok-9999");
	check_redact("tok-9999 and REDACTED", values, "[REDACTED:org-secret] and [REDACTED:org-secret]",
		     "org-secret=2");
	json_decref(values);
}

static void test_utf8_and_prose(void **state)
{
	static const char prose[] =
		"Café owners in Zürich — and their bearer bonds — asked: \"What is the password policy?\"\n"
		"The key idea: secrets never leave the vault. Use sk-learn or numpy; see docs/agents.md.\n"
		"Credentials are rotated monthly, and the access key is kept offline.";

	(void)state;
	check_redact(prose, NULL, prose, "");
	check_redact("naïve password=motdepasse_été fin", NULL, "naïve password=[REDACTED:secret-key] fin",
		     "secret-key=1");
	/* Text that imitates a marker keeps nothing hidden. */
	check_redact("[REDACTED:sk-abcdefghij0123456789XYZ]", NULL, "[REDACTED:[REDACTED:provider-token]]",
		     "provider-token=1");
	check_redact("", NULL, "", "");
}

/* ---- bundles ---- */

static const char snapshot_json[] =
	"{\"AgentSkill\":[{\"metadata\":{\"name\":\"triage\"},\"spec\":{\"format\":\"markdown\",\"sourceRef\":\"x\","
	"  \"promptFragments\":[\"Read the failing test first.\",\"Then the diff.\"]}}],"
	" \"AgentContextLabel\":[{\"metadata\":{\"name\":\"style\"},"
	"  \"spec\":{\"promptFragment\":\"Follow docs/contributing.md.\",\"allowedSources\":[\"manual\"]}}]}";

static const char stack_json[] =
	"{\"metadata\":{\"name\":\"fixer\"},\"spec\":{\"adapter\":\"process\",\"skillRefs\":[\"triage\",\"gone\"],"
	"  \"prompt\":{\"system\":\"You are careful.\",\"developer\":\"Use C11.\",\"task\":\"Fix the build.\"}}}";

struct fixture {
	json_t *stack, *snapshot, *labels, *sources, *values;
	struct bundle_input in;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	f->stack = json_loads(stack_json, 0, NULL);
	f->snapshot = json_loads(snapshot_json, 0, NULL);
	f->labels = json_pack("[s, s]", "style", "missing");
	f->sources = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]", "kind", "file", "ref", "README.md", "content",
			       "# Krate\nAPI_KEY=abc123 here", "kind", "log", "ref", "ci/42", "content",
			       "error: undefined reference to `main'");
	f->values = json_pack("[s]", "super-secret-value");
	if (!f->stack || !f->snapshot || !f->labels || !f->sources || !f->values)
		return -1;
	f->in = (struct bundle_input){ f->stack, f->snapshot, "krate", "refs/heads/main", "0123abcd",
				       "Please fix CI", f->labels, f->sources, f->values };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	json_decref(f->stack);
	json_decref(f->snapshot);
	json_decref(f->labels);
	json_decref(f->sources);
	json_decref(f->values);
	free(f);
	return 0;
}

struct built {
	json_t *spec, *texts;
	char *prompt;
};

static struct built build(const struct bundle_input *in)
{
	struct built b = { 0 };
	struct kerr e = KERR_INIT;
	int rc = bundle_build(in, &b.spec, &b.texts, &b.prompt, &e);

	if (rc)
		fail_msg("bundle_build: %d %s", rc, e.message);
	kerr_clear(&e);
	return b;
}

static void built_free(struct built *b)
{
	json_decref(b->spec);
	json_decref(b->texts);
	free(b->prompt);
}

static const char *digest_of(struct built *b)
{
	return json_string_value(json_object_get(b->spec, "digest"));
}

/* Every layer's text is in texts under its digest, and the digest is its SHA-256. */
static void check_texts(struct built *b)
{
	const char *lists[] = { "promptLayers", "sources" };
	json_t *l;
	size_t i;

	for (size_t k = 0; k < 2; k++) {
		json_array_foreach(json_object_get(b->spec, lists[k]), i, l) {
			const char *d = json_string_value(json_object_get(l, "digest"));
			json_t *t = json_object_get(b->texts, d);
			char hex[65];

			assert_non_null(t);
			util_sha256_hex(hex, json_string_value(t), json_string_length(t));
			assert_string_equal(d + 7, hex);
			assert_int_equal(json_integer_value(json_object_get(l, "sizeBytes")), json_string_length(t));
			assert_true(util_utf8_valid(json_string_value(t), json_string_length(t)));
		}
	}
}

static void test_bundle_shape(void **state)
{
	struct fixture *f = *state;
	struct built b = build(&f->in);
	json_t *layers = json_object_get(b.spec, "promptLayers"), *red = json_object_get(b.spec, "redactions");
	const char *roles[] = { "system", "developer", "task", "skill:triage", "label:style" };
	const char *p = b.prompt;

	assert_int_equal(json_array_size(layers), 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(json_string_value(json_object_get(json_array_get(layers, i), "role")), roles[i]);
	assert_int_equal(json_array_size(json_object_get(b.spec, "sources")), 2);
	assert_int_equal(strlen(digest_of(&b)), 71);
	check_texts(&b);
	assert_int_equal(json_integer_value(json_object_get(red, "total")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(red, "byKind"), "secret-key")), 1);
	assert_false(json_is_true(json_object_get(json_object_get(b.spec, "limits"), "truncated")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b.spec, "limits"), "maxBytes")),
			 BUNDLE_MAX_BYTES);

	/* Headings in layer order, each followed by its redacted text. */
	const char *want[] = { "## System\n\nYou are careful.\n", "## Developer\n\nUse C11.\n",
			       "## Task\n\nFix the build.\n\nPlease fix CI\n",
			       "## Skill: triage\n\nRead the failing test first.\n\nThen the diff.\n",
			       "## Context: style\n\nFollow docs/contributing.md.\n",
			       "## Source: file README.md\n\n# Krate\nAPI_KEY=[REDACTED:secret-key] here\n",
			       "## Source: log ci/42\n\nerror: undefined reference to `main'\n" };
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const char *at = strstr(p, want[i]);

		if (!at)
			fail_msg("prompt lacks (in order) %s\n--- prompt:\n%s", want[i], b.prompt);
		p = at + strlen(want[i]);
	}
	assert_null(strstr(b.prompt, "abc123"));
	built_free(&b);
}

static void test_bundle_digest_stable_and_sensitive(void **state)
{
	struct fixture *f = *state;
	struct built a = build(&f->in), b = build(&f->in), c;
	json_t *prompt = json_object_get(json_object_get(f->stack, "spec"), "prompt");
	json_t *src0 = json_array_get(f->sources, 0);
	struct bundle_input in;

	assert_string_equal(digest_of(&a), digest_of(&b));
	assert_true(json_equal(a.spec, b.spec));
	assert_string_equal(a.prompt, b.prompt);
	built_free(&b);

	/* Each change below moves the digest, and undoing it restores it. */
	struct {
		json_t *obj;
		const char *key, *changed;
	} edits[] = {
		{ prompt, "system", "You are very careful." },
		{ prompt, "developer", "Use C17." },
		{ prompt, "task", "Fix the tests." },
		{ src0, "content", "# Krate!" },
		{ src0, "ref", "README.txt" },
		{ src0, "kind", "doc" },
	};
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		json_t *old = json_incref(json_object_get(edits[i].obj, edits[i].key));

		json_object_set_new(edits[i].obj, edits[i].key, json_string(edits[i].changed));
		c = build(&f->in);
		assert_string_not_equal(digest_of(&a), digest_of(&c));
		built_free(&c);
		json_object_set_new(edits[i].obj, edits[i].key, old);
		c = build(&f->in);
		assert_string_equal(digest_of(&a), digest_of(&c));
		built_free(&c);
	}
	/* The skill, the label, the user's prompt and the commit. */
	json_array_set_new(json_object_get(json_object_get(json_array_get(json_object_get(f->snapshot, "AgentSkill"), 0),
							   "spec"), "promptFragments"), 1, json_string("Then the log."));
	c = build(&f->in);
	assert_string_not_equal(digest_of(&a), digest_of(&c));
	built_free(&c);
	json_object_set_new(json_object_get(json_array_get(json_object_get(f->snapshot, "AgentContextLabel"), 0), "spec"),
			    "promptFragment", json_string("Follow the style guide."));
	c = build(&f->in);
	assert_string_not_equal(digest_of(&a), digest_of(&c));
	built_free(&c);
	in = f->in;
	in.task_prompt = "Please fix CI now";
	c = build(&in);
	assert_string_not_equal(digest_of(&a), digest_of(&c));
	built_free(&c);
	in = f->in;
	in.sha = "4567cdef";
	c = build(&in);
	assert_string_not_equal(digest_of(&a), digest_of(&c));
	built_free(&c);
	built_free(&a);
}

static void test_bundle_redacts_everything(void **state)
{
	struct fixture *f = *state;
	struct built b;
	char *all, *spec;

	json_object_set_new(json_object_get(json_object_get(f->stack, "spec"), "prompt"), "developer",
			    json_string("Token: super-secret-value"));
	json_array_append_new(f->sources, json_pack("{s:s, s:s, s:s}", "kind", "url", "ref",
						    "https://x.test/?token=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
						    "content", "Bearer abcdefgh12345678"));
	b = build(&f->in);
	all = json_dumps(b.texts, 0);
	assert_null(strstr(all, "super-secret-value"));
	assert_null(strstr(b.prompt, "super-secret-value"));
	assert_null(strstr(b.prompt, "ghp_abc"));
	spec = json_dumps(b.spec, 0);
	assert_null(strstr(spec, "ghp_abc"));
	free(spec);
	assert_null(strstr(b.prompt, "abcdefgh12345678"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b.spec, "redactions"), "total")), 4);
	free(all);
	built_free(&b);
}

static char *filled(size_t n, char c)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_item_cap(void **state)
{
	struct fixture *f = *state;
	struct built b;
	json_t *src, *text;
	char *big = malloc(2 * 40000 + 2);

	/* One byte, then a two-byte character 40000 times: the cut must fall between characters. */
	assert_non_null(big);
	big[0] = 'x';
	for (size_t i = 0; i < 40000; i++)
		memcpy(big + 1 + 2 * i, "\xc3\xa9", 2);
	big[80001] = '\0';
	json_array_append_new(f->sources, json_pack("{s:s, s:s, s:s}", "kind", "file", "ref", "big", "content", big));
	free(big);
	b = build(&f->in);
	src = json_array_get(json_object_get(b.spec, "sources"), 2);
	assert_true(json_integer_value(json_object_get(src, "sizeBytes")) <= BUNDLE_ITEM_MAX);
	assert_true(json_integer_value(json_object_get(src, "sizeBytes")) > BUNDLE_ITEM_MAX - 64);
	text = json_object_get(b.texts, json_string_value(json_object_get(src, "digest")));
	assert_non_null(strstr(json_string_value(text), BUNDLE_ITEM_MARKER));
	assert_true(json_is_true(json_object_get(json_object_get(b.spec, "limits"), "truncated")));
	check_texts(&b);
	built_free(&b);

	/* Only the first BUNDLE_SOURCES_MAX sources are used. */
	for (size_t i = 0; i < 40; i++)
		json_array_append_new(f->sources, json_pack("{s:s, s:s, s:s}", "kind", "file", "ref", "x", "content", "y"));
	b = build(&f->in);
	assert_int_equal(json_array_size(json_object_get(b.spec, "sources")), BUNDLE_SOURCES_MAX);
	built_free(&b);
}

static void test_total_cap(void **state)
{
	struct fixture *f = *state;
	struct built b;
	json_t *l;
	size_t i, total = 0, cut = 0;
	char *sys = filled(60000, 's');

	/* A large system prompt and 12 sources, one of them the largest: over the cap by less than it. */
	json_object_set_new(json_object_get(json_object_get(f->stack, "spec"), "prompt"), "system", json_string(sys));
	free(sys);
	json_array_clear(f->sources);
	for (i = 0; i < 12; i++) {
		char *content = filled(i == 5 ? 65000 : 60000 - i * 100, 'a' + (char)i);

		json_array_append_new(f->sources, json_pack("{s:s, s:s, s:s}", "kind", "file", "ref", "f", "content",
							    content));
		free(content);
	}
	b = build(&f->in);
	check_texts(&b);
	assert_true(json_is_true(json_object_get(json_object_get(b.spec, "limits"), "truncated")));
	json_array_foreach(json_object_get(b.spec, "promptLayers"), i, l)
		total += (size_t)json_integer_value(json_object_get(l, "sizeBytes"));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(b.spec, "promptLayers"), 0),
							    "sizeBytes")), 60000);
	json_array_foreach(json_object_get(b.spec, "sources"), i, l) {
		const char *t = json_string_value(json_object_get(b.texts, json_string_value(json_object_get(l,
													   "digest"))));

		total += (size_t)json_integer_value(json_object_get(l, "sizeBytes"));
		if (strstr(t, BUNDLE_TRUNCATION_MARKER)) {
			cut++;
			/* The largest source is the one cut. */
			assert_int_equal(i, 5);
		}
	}
	assert_int_equal(cut, 1);
	assert_true(total <= BUNDLE_MAX_BYTES);
	assert_true(total > BUNDLE_MAX_BYTES - 4);
	built_free(&b);
}

static void test_bundle_bad_input(void **state)
{
	struct fixture *f = *state;
	struct bundle_input in = f->in;
	json_t *spec = NULL, *texts = NULL;
	char *prompt = NULL;
	struct kerr e = KERR_INIT;

	in.stack = NULL;
	assert_int_equal(bundle_build(&in, &spec, &texts, &prompt, &e), KE_INVALID);
	kerr_clear(&e);
	in = f->in;
	in.task_prompt = "bad \xc3";
	assert_int_equal(bundle_build(&in, &spec, &texts, &prompt, &e), KE_INVALID);
	assert_null(spec);
	kerr_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_key),
		cmocka_unit_test(test_provider_tokens),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_private_key),
		cmocka_unit_test(test_base64_credential),
		cmocka_unit_test(test_org_secrets),
		cmocka_unit_test(test_utf8_and_prose),
		cmocka_unit_test_setup_teardown(test_bundle_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_digest_stable_and_sensitive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_redacts_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_item_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_total_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_bad_input, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
