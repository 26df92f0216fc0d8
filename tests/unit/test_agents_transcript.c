/* The transcript of an attempt: the agent's JSON lines become typed
 * messages, anything else stays readable as stdout or stderr, garbage and
 * over-long lines neither crash nor grow it, every text is redacted before
 * it is kept, usage adds up, and writes come in batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agents/transcript.h"

#define SECRET "zq-transcript-secret-5c1e"

struct sink {
	int writes;
	char *last;           /* the last written spec, as JSON text */
};

static int write_cb(void *arg, json_t *spec, struct kerr *e)
{
	struct sink *s = arg;

	(void)e;
	free(s->last);
	s->last = json_dumps(spec, JSON_COMPACT);
	s->writes++;
	return s->last ? 0 : KE_NOMEM;
}

struct fixture {
	struct transcript t;
	struct sink sink;
	json_t *secrets;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct transcript_options o = { "run-abc-1", "run-abc", NULL, write_cb, NULL };
	struct kerr e = KERR_INIT;

	assert_non_null(f);
	f->secrets = json_pack("[s]", SECRET);
	o.secret_values = f->secrets;
	o.arg = &f->sink;
	assert_int_equal(transcript_init(&f->t, &o, &e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	transcript_free(&f->t);
	json_decref(f->secrets);
	free(f->sink.last);
	free(f);
	return 0;
}

static void feed(struct fixture *f, enum transcript_stream s, const char *text)
{
	struct kerr e = KERR_INIT;

	assert_int_equal(transcript_feed(&f->t, s, text, strlen(text), &e), 0);
	kerr_clear(&e);
}

static json_t *msg(struct fixture *f, size_t i)
{
	json_t *m = json_array_get(f->t.messages, i);

	assert_non_null(m);
	return m;
}

static const char *field(json_t *m, const char *key)
{
	return json_string_value(json_object_get(m, key));
}

static void test_events(void **state)
{
	struct fixture *f = *state;
	struct kerr e = KERR_INIT;
	json_t *spec;

	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"hello\"}\n");
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"tool_call\",\"name\":\"shell\",\"input\":{\"command\":\"ls\"}}\r\n");
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"tool_result\",\"name\":\"shell\",\"content\":\"a.txt\"}\n\n");
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"usage\",\"inputTokens\":100,\"outputTokens\":20,\"costUsd\":0.5}\n");
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"usage\",\"inputTokens\":1,\"outputTokens\":2,\"totalTokens\":7,\"costUsd\":-3}\n");
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"report\",\"name\":\"tests\",\"content\":\"12 passed\"}\n");
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"final\",\"content\":\"all done\",\"status\":\"success\"}\n");
	feed(f, TRANSCRIPT_STDERR, "warning: something\n");

	assert_int_equal(json_array_size(f->t.messages), 8);
	assert_string_equal(field(msg(f, 0), "type"), "message");
	assert_string_equal(field(msg(f, 0), "role"), "assistant");
	assert_string_equal(field(msg(f, 0), "content"), "hello");
	assert_int_equal(json_integer_value(json_object_get(msg(f, 0), "seq")), 1);
	assert_non_null(field(msg(f, 0), "timestamp"));
	assert_string_equal(field(msg(f, 1), "type"), "tool_call");
	assert_string_equal(field(msg(f, 1), "name"), "shell");
	assert_string_equal(field(msg(f, 1), "content"), "{\"command\":\"ls\"}");
	assert_string_equal(field(msg(f, 2), "type"), "tool_result");
	assert_string_equal(field(msg(f, 2), "content"), "a.txt");
	assert_string_equal(field(msg(f, 3), "type"), "usage");
	assert_string_equal(field(msg(f, 5), "type"), "report");
	assert_string_equal(field(msg(f, 6), "type"), "final");
	assert_string_equal(field(msg(f, 7), "role"), "stderr");
	assert_string_equal(field(msg(f, 7), "content"), "warning: something");

	/* usage adds up; a negative cost counts as nothing; totalTokens is taken when given */
	assert_int_equal(f->t.usage.input_tokens, 101);
	assert_int_equal(f->t.usage.output_tokens, 22);
	assert_int_equal(f->t.usage.total_tokens, 127);
	assert_true(f->t.usage.cost_usd > 0.49 && f->t.usage.cost_usd < 0.51);
	assert_true(f->t.has_final);
	assert_true(f->t.final_success);
	assert_string_equal(f->t.final_content, "all done");
	assert_int_equal(json_array_size(f->t.reports), 1);
	assert_string_equal(field(json_array_get(f->t.reports, 0), "content"), "12 passed");

	spec = transcript_spec(&f->t);
	assert_non_null(spec);
	assert_string_equal(field(spec, "sessionRef"), "run-abc-1");
	assert_string_equal(field(spec, "dispatchRun"), "run-abc");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(spec, "cost"), "totalTokens")), 127);
	assert_true(json_is_false(json_object_get(spec, "truncated")));
	json_decref(spec);

	/* a failing final event */
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"final\",\"content\":\"no luck\",\"status\":\"failure\"}\n");
	assert_false(f->t.final_success);
	assert_int_equal(transcript_end(&f->t, &e), 0);
	assert_true(f->sink.writes >= 1);
}

static void test_other_lines(void **state)
{
	struct fixture *f = *state;
	struct kerr e = KERR_INIT;
	const char *text = "{\"type\":\"message\",\"content\":\"split across reads\"}\n";
	size_t i;

	/* a line split into single bytes is one event */
	for (i = 0; text[i]; i++)
		assert_int_equal(transcript_feed(&f->t, TRANSCRIPT_STDOUT, text + i, 1, &e), 0);
	assert_string_equal(field(msg(f, 0), "content"), "split across reads");
	assert_string_equal(field(msg(f, 0), "role"), "assistant");

	feed(f, TRANSCRIPT_STDOUT, "plain words\n");
	feed(f, TRANSCRIPT_STDOUT, "[1,2,3]\n");
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"mystery\",\"x\":1}\n");
	feed(f, TRANSCRIPT_STDOUT, "{\"broken\": \n");
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"message\",\"role\":\"root\",\"content\":{\"nested\":true}}\n");
	assert_string_equal(field(msg(f, 1), "role"), "stdout");
	assert_string_equal(field(msg(f, 1), "content"), "plain words");
	assert_string_equal(field(msg(f, 2), "content"), "[1,2,3]");
	assert_string_equal(field(msg(f, 3), "type"), "message");
	assert_string_equal(field(msg(f, 3), "role"), "stdout");
	assert_non_null(strstr(field(msg(f, 3), "content"), "mystery"));
	assert_string_equal(field(msg(f, 4), "content"), "{\"broken\": ");
	/* an unknown role is not taken; content that is not a string is kept as JSON */
	assert_string_equal(field(msg(f, 5), "role"), "assistant");
	assert_string_equal(field(msg(f, 5), "content"), "{\"nested\":true}");

	/* garbage: NULs, bytes that are not UTF-8, control characters */
	{
		static const char junk[] = { 'a', 0, (char)0xff, (char)0xc3, '\x01', '{', (char)0x80, '\n' };
		json_t *m;
		char *dump;

		assert_int_equal(transcript_feed(&f->t, TRANSCRIPT_STDOUT, junk, sizeof(junk), &e), 0);
		m = msg(f, 6);
		assert_string_equal(field(m, "role"), "stdout");
		dump = json_dumps(m, JSON_COMPACT);
		assert_non_null(dump);
		free(dump);
	}
	/* the last line without a newline counts at the end */
	feed(f, TRANSCRIPT_STDERR, "no newline");
	assert_int_equal(transcript_end(&f->t, &e), 0);
	assert_string_equal(field(msg(f, 7), "content"), "no newline");
	assert_string_equal(field(msg(f, 7), "role"), "stderr");
}

static void test_huge_lines(void **state)
{
	struct fixture *f = *state;
	struct kerr e = KERR_INIT;
	size_t big = TRANSCRIPT_LINE_MAX + 100, i;
	char *line = malloc(big + 1);
	const char *content;

	assert_non_null(line);
	memset(line, 'x', big);
	line[big] = '\n';
	/* over the line cap, fed in pieces: dropped whole, with one error message */
	for (i = 0; i <= big; i += 65536)
		assert_int_equal(transcript_feed(&f->t, TRANSCRIPT_STDOUT, line + i, (big + 1 - i) < 65536 ? big + 1 - i
												: 65536, &e), 0);
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"message\",\"content\":\"after the flood\"}\n");
	assert_int_equal(json_array_size(f->t.messages), 2);
	assert_string_equal(field(msg(f, 0), "type"), "error");
	assert_non_null(strstr(field(msg(f, 0), "content"), "dropped"));
	assert_string_equal(field(msg(f, 1), "content"), "after the flood");

	/* under the line cap but over the content cap: kept cut, with a marker */
	memset(line, 'y', TRANSCRIPT_CONTENT_MAX * 2);
	line[TRANSCRIPT_CONTENT_MAX * 2] = '\n';
	assert_int_equal(transcript_feed(&f->t, TRANSCRIPT_STDERR, line, TRANSCRIPT_CONTENT_MAX * 2 + 1, &e), 0);
	content = field(msg(f, 2), "content");
	assert_int_equal(strlen(content), TRANSCRIPT_CONTENT_MAX + strlen(TRANSCRIPT_CUT_MARKER));
	assert_non_null(strstr(content, TRANSCRIPT_CUT_MARKER));
	free(line);
}

static void test_redaction(void **state)
{
	struct fixture *f = *state;
	struct kerr e = KERR_INIT;
	json_t *spec;
	char *text;

	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"message\",\"content\":\"the key is " SECRET "\"}\n");
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"tool_call\",\"name\":\"curl " SECRET "\",\"input\":{\"h\":\"" SECRET "\"}}\n");
	feed(f, TRANSCRIPT_STDOUT, "echo " SECRET "\n");
	feed(f, TRANSCRIPT_STDERR, "Authorization: Bearer " SECRET "\n");
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"report\",\"name\":\"r\",\"content\":\"token " SECRET "\"}\n");
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"final\",\"content\":\"used " SECRET "\",\"status\":\"success\"}\n");
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"message\",\"content\":\"PASSWORD=hunter2hunter2\"}\n");
	assert_int_equal(transcript_end(&f->t, &e), 0);

	spec = transcript_spec(&f->t);
	text = json_dumps(spec, JSON_COMPACT);
	assert_non_null(text);
	assert_null(strstr(text, SECRET));
	assert_null(strstr(text, "hunter2hunter2"));
	assert_non_null(strstr(text, "[REDACTED:org-secret]"));
	assert_true(json_integer_value(json_object_get(json_object_get(spec, "redactions"), "total")) >= 7);
	free(text);
	json_decref(spec);
	/* what was written and what the artifacts read are redacted too */
	assert_non_null(f->sink.last);
	assert_null(strstr(f->sink.last, SECRET));
	assert_null(strstr(f->t.final_content, SECRET));
	assert_null(strstr(field(json_array_get(f->t.reports, 0), "content"), SECRET));
	assert_non_null(strstr(f->t.final_content, "[REDACTED"));
}

static void test_batches_and_caps(void **state)
{
	struct fixture *f = *state;
	struct kerr e = KERR_INIT;
	json_t *spec;
	int i;

	/* fewer than a batch, right away: not written yet */
	for (i = 0; i < TRANSCRIPT_BATCH - 1; i++)
		feed(f, TRANSCRIPT_STDOUT, "line\n");
	assert_int_equal(transcript_flush(&f->t, 0, &e), 0);
	assert_int_equal(f->sink.writes, 0);
	/* a whole batch is written */
	feed(f, TRANSCRIPT_STDOUT, "line\n");
	assert_int_equal(transcript_flush(&f->t, 0, &e), 0);
	assert_int_equal(f->sink.writes, 1);
	assert_int_equal(transcript_flush(&f->t, 0, &e), 0);
	assert_int_equal(f->sink.writes, 1);

	/* past the message cap, messages are counted, not kept */
	for (i = TRANSCRIPT_BATCH; i < TRANSCRIPT_MESSAGES_MAX + 100; i++)
		feed(f, TRANSCRIPT_STDOUT, "more\n");
	assert_int_equal(json_array_size(f->t.messages), TRANSCRIPT_MESSAGES_MAX);
	feed(f, TRANSCRIPT_STDOUT, "{\"type\":\"final\",\"content\":\"still seen\",\"status\":\"success\"}\n");
	assert_true(f->t.has_final);
	assert_int_equal(transcript_end(&f->t, &e), 0);
	spec = transcript_spec(&f->t);
	assert_true(json_is_true(json_object_get(spec, "truncated")));
	assert_int_equal(json_integer_value(json_object_get(spec, "droppedMessages")), 101);
	json_decref(spec);
	assert_non_null(strstr(f->sink.last, "\"droppedMessages\":101"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches_and_caps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
