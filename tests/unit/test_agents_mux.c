/* The Agent Mux adapter's pure parts: the event-stream parser (what arrives,
 * however the bytes are cut) and the mapping of gateway events to transcript
 * entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agents/mux.h"
#include "agents/mux_sse.h"
#include "core/buf.h"

/* Every event seen, one line each: "<name>|<id>|<compact JSON>\n". */
struct seen {
	struct buf log;
	int stop_after;              /* stop once this many arrived; 0 = never */
	int n;
};

static int collect(void *arg, json_t *ev, const char *name, const char *id)
{
	struct seen *s = arg;
	char *t = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);

	assert_non_null(t);
	assert_int_equal(buf_printf(&s->log, "%s|%s|%s\n", name, id, t), 0);
	free(t);
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 7 : 0;
}

/* Parses text fed in pieces of at most step bytes (0: split once at cut). */
static char *parse(const char *text, size_t len, size_t step, size_t cut, struct mux_sse *keep)
{
	struct seen s = { BUF_INIT(1 << 20), 0, 0 };
	struct mux_sse p;
	size_t off = 0;

	mux_sse_init(&p, collect, &s);
	if (step) {
		for (off = 0; off < len; off += step)
			assert_int_equal(mux_sse_feed(&p, text + off, len - off < step ? len - off : step), 0);
	} else {
		assert_int_equal(mux_sse_feed(&p, text, cut), 0);
		assert_int_equal(mux_sse_feed(&p, text + cut, len - cut), 0);
	}
	if (keep)
		*keep = p;
	else
		mux_sse_free(&p);
	return buf_detach(&s.log, NULL);
}

static const char stream_lf[] =
	": stream open\n"
	"id: 1\n"
	"data: {\"type\":\"message\",\"content\":\"hi\"}\n"
	"\n"
	"retry: 500\n"
	"event: tool\n"
	"id: 2\n"
	"data: {\"type\":\"tool_call\",\n"
	"data:  \"name\":\"read\"}\n"
	"\n"
	": keepalive\n"
	"\n"
	"id: 3\n"
	"data: {not json\n"
	"\n"
	"data:{\"type\":\"final\",\"content\":\"ok\"}\n"
	"unknown-field: x\n"
	"\n";

static const char expect[] =
	"|1|{\"content\":\"hi\",\"type\":\"message\"}\n"
	"tool|2|{\"name\":\"read\",\"type\":\"tool_call\"}\n"
	"|3|{\"content\":\"ok\",\"type\":\"final\"}\n";

static void test_whole_stream(void **state)
{
	struct mux_sse p;
	char *got = parse(stream_lf, strlen(stream_lf), strlen(stream_lf), 0, &p);

	(void)state;
	assert_string_equal(got, expect);
	/* the malformed event (id 3) was skipped, yet its id counts as received */
	assert_int_equal(p.events, 3);
	assert_int_equal(p.skipped, 1);
	assert_string_equal(p.last_id, "3");
	mux_sse_free(&p);
	free(got);
}

static void test_chunk_boundaries_anywhere(void **state)
{
	size_t len = strlen(stream_lf), cut, step;

	(void)state;
	for (cut = 0; cut <= len; cut++) {
		char *got = parse(stream_lf, len, 0, cut, NULL);

		assert_string_equal(got, expect);
		free(got);
	}
	for (step = 1; step < 8; step++) {
		char *got = parse(stream_lf, len, step, 0, NULL);

		assert_string_equal(got, expect);
		free(got);
	}
}

/* The same stream with CRLF, then CR alone, then a mix, cut everywhere
 * (including between a CR and its LF). */
static void test_line_endings(void **state)
{
	const char *ends[] = { "\r\n", "\r", NULL };
	size_t i, j, cut;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct buf b = BUF_INIT(1 << 16);
		size_t len;
		char *text;

		for (j = 0; stream_lf[j]; j++) {
			if (stream_lf[j] != '\n')
				assert_int_equal(buf_addch(&b, stream_lf[j]), 0);
			else
				assert_int_equal(buf_addstr(&b, ends[i] ? ends[i] : j % 3 ? "\r\n" : "\n"), 0);
		}
		text = buf_detach(&b, &len);
		for (cut = 0; cut <= len; cut++) {
			char *got = parse(text, len, 0, cut, NULL);

			assert_string_equal(got, expect);
			free(got);
		}
		free(text);
	}
}

static void test_multiline_data_and_fields(void **state)
{
	static const char text[] =
		"data:{\"a\":\n"        /* no space after the colon */
		"data:   1}\n"          /* only one space is removed; JSON does not mind */
		"\n"
		"data\n"                /* a field without a colon: empty data line */
		"data: {\"b\":2}\n"
		"\n"
		"event: status\n"
		"data: {\"type\":\"status\"}\n"
		"\n";
	char *got = parse(text, sizeof(text) - 1, 5, 0, NULL);

	(void)state;
	assert_string_equal(got, "||{\"a\":1}\n||{\"b\":2}\nstatus||{\"type\":\"status\"}\n");
	free(got);
}

static void test_not_objects_are_skipped(void **state)
{
	static const char text[] =
		"data: [1,2]\n\n"
		"data: null\n\n"
		"data: \"text\"\n\n"
		"data: {\"a\":1} trailing\n\n"
		"data:\n\n"
		"data: {\"ok\":true}\n\n";
	struct mux_sse p;
	char *got = parse(text, sizeof(text) - 1, 3, 0, &p);

	(void)state;
	assert_string_equal(got, "||{\"ok\":true}\n");
	assert_int_equal(p.skipped, 5);
	mux_sse_free(&p);
	free(got);
}

/* The last id is the one of the last event that ended: an id of an event cut
 * off by the connection is forgotten, an event without an id keeps the one
 * before, an id with a NUL is ignored. */
static void test_id_tracking(void **state)
{
	static const char first[] = "id: 7\ndata: {\"n\":1}\n\ndata: {\"n\":2}\n\nid: 9\ndata: {\"n\":3}";
	static const char second[] = "id: 8\ndata: {\"n\":3}\n\nid: a\0b\ndata: {\"n\":4}\n\nid\n\n";
	struct seen s = { BUF_INIT(1 << 16), 0, 0 };
	struct mux_sse p;
	char *got;

	(void)state;
	mux_sse_init(&p, collect, &s);
	assert_int_equal(mux_sse_feed(&p, first, sizeof(first) - 1), 0);
	assert_string_equal(p.last_id, "7");
	mux_sse_restart(&p);
	assert_int_equal(mux_sse_feed(&p, second, sizeof(second) - 1), 0);
	got = buf_detach(&s.log, NULL);
	assert_string_equal(got, "|7|{\"n\":1}\n|7|{\"n\":2}\n|8|{\"n\":3}\n|8|{\"n\":4}\n");
	/* "id" with no value resets the id; the event without data still commits it */
	assert_string_equal(p.last_id, "");
	assert_int_equal(p.events, 4);
	mux_sse_free(&p);
	free(got);
}

static void test_oversized_event_dropped(void **state)
{
	size_t big = MUX_SSE_EVENT_MAX + 10, i;
	char *chunk = malloc(65536);
	struct seen s = { BUF_INIT(1 << 16), 0, 0 };
	struct mux_sse p;
	char *got;

	(void)state;
	assert_non_null(chunk);
	memset(chunk, 'x', 65536);
	mux_sse_init(&p, collect, &s);
	assert_int_equal(mux_sse_feed(&p, "id: 1\ndata: {\"s\":\"", strlen("id: 1\ndata: {\"s\":\"")), 0);
	for (i = 0; i < big; i += 65536)
		assert_int_equal(mux_sse_feed(&p, chunk, 65536), 0);
	assert_int_equal(mux_sse_feed(&p, "\"}\n\nid: 2\ndata: {\"after\":1}\n\n",
				      strlen("\"}\n\nid: 2\ndata: {\"after\":1}\n\n")), 0);
	got = buf_detach(&s.log, NULL);
	assert_string_equal(got, "|2|{\"after\":1}\n");
	assert_int_equal(p.skipped, 1);
	mux_sse_free(&p);
	free(got);
	free(chunk);
}

static void test_callback_stops_feed(void **state)
{
	static const char text[] = "data: {\"n\":1}\n\ndata: {\"n\":2}\n\ndata: {\"n\":3}\n\n";
	struct seen s = { BUF_INIT(1 << 16), 2, 0 };
	struct mux_sse p;

	(void)state;
	mux_sse_init(&p, collect, &s);
	assert_int_equal(mux_sse_feed(&p, text, sizeof(text) - 1), 7);
	assert_int_equal(s.n, 2);
	mux_sse_free(&p);
	buf_free(&s.log);
}

/* ---- mapping ---- */

static char *map(const char *event, const char *name, int *terminal, struct mux_outcome *end)
{
	json_t *ev = json_loads(event, 0, NULL), *entry = NULL;
	char *t = NULL;

	assert_non_null(ev);
	*terminal = mux_event_map(ev, name, &entry, end);
	assert_true(*terminal >= 0);
	if (entry)
		t = json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(entry);
	json_decref(ev);
	return t;
}

static void check_map(const char *event, const char *name, const char *want, int want_terminal)
{
	struct mux_outcome end = { "", "", "" };
	int terminal;
	char *got = map(event, name, &terminal, &end);

	if (want)
		assert_string_equal(got ? got : "(none)", want);
	else
		assert_null(got);
	assert_int_equal(terminal, want_terminal);
	free(got);
}

static void test_event_mapping(void **state)
{
	(void)state;
	check_map("{\"type\":\"message\",\"content\":\"hi\"}", "",
		  "{\"content\":\"hi\",\"role\":\"assistant\",\"type\":\"message\"}", 0);
	check_map("{\"type\":\"message\",\"role\":\"user\",\"text\":\"q\"}", "",
		  "{\"content\":\"q\",\"role\":\"user\",\"type\":\"message\"}", 0);
	/* content of another type is kept as JSON text */
	check_map("{\"type\":\"message\",\"content\":[{\"t\":1}]}", "",
		  "{\"content\":\"[{\\\"t\\\":1}]\",\"role\":\"assistant\",\"type\":\"message\"}", 0);
	check_map("{\"type\":\"tool_call\",\"tool\":\"grep\",\"arguments\":{\"q\":\"x\"}}", "",
		  "{\"input\":{\"q\":\"x\"},\"name\":\"grep\",\"type\":\"tool_call\"}", 0);
	check_map("{\"type\":\"tool_result\",\"name\":\"grep\",\"content\":3}", "",
		  "{\"content\":\"3\",\"name\":\"grep\",\"type\":\"tool_result\"}", 0);
	check_map("{\"type\":\"usage\",\"usage\":{\"inputTokens\":10,\"outputTokens\":5}}", "",
		  "{\"costUsd\":0.0,\"inputTokens\":10,\"outputTokens\":5,\"totalTokens\":15,\"type\":\"usage\"}", 0);
	check_map("{\"type\":\"usage\",\"inputTokens\":1,\"outputTokens\":2,\"totalTokens\":4,\"costUsd\":0.5}", "",
		  "{\"costUsd\":0.5,\"inputTokens\":1,\"outputTokens\":2,\"totalTokens\":4,\"type\":\"usage\"}", 0);
	check_map("{\"type\":\"report\",\"name\":\"tests\",\"content\":\"ok\"}", "",
		  "{\"content\":\"ok\",\"name\":\"tests\",\"type\":\"report\"}", 0);
	check_map("{\"type\":\"error\",\"message\":\"boom\"}", "", "{\"content\":\"boom\",\"type\":\"error\"}", 0);
	/* the SSE event name stands in for a missing type; others become messages */
	check_map("{\"content\":\"x\"}", "tool_result", "{\"content\":\"x\",\"name\":\"\",\"type\":\"tool_result\"}", 0);
	check_map("{\"type\":\"thinking\",\"content\":\"hmm\"}", "",
		  "{\"content\":\"hmm\",\"role\":\"thinking\",\"type\":\"message\"}", 0);
	check_map("{\"type\":\"heartbeat\"}", "", NULL, 0);
	check_map("{\"type\":\"status\",\"status\":\"running\"}", "", NULL, 0);
}

static void test_terminal_events(void **state)
{
	struct mux_outcome end;
	int terminal;
	char *got;

	(void)state;
	got = map("{\"type\":\"final\",\"content\":\"done\"}", "", &terminal, &end);
	assert_string_equal(got, "{\"content\":\"done\",\"status\":\"success\",\"type\":\"final\"}");
	assert_int_equal(terminal, 1);
	assert_string_equal(end.phase, "Succeeded");
	free(got);
	got = map("{\"type\":\"final\",\"status\":\"failure\"}", "", &terminal, &end);
	assert_string_equal(got, "{\"content\":\"\",\"status\":\"failure\",\"type\":\"final\"}");
	assert_string_equal(end.phase, "Failed");
	assert_string_equal(end.reason, "AgentFailed");
	free(got);
	got = map("{\"type\":\"status\",\"status\":\"failed\",\"message\":\"sk-secret\"}", "", &terminal, &end);
	assert_null(got);
	assert_int_equal(terminal, 1);
	assert_string_equal(end.phase, "Failed");
	/* the outcome is in Krate's words: nothing from the gateway reaches it */
	assert_null(strstr(end.message, "sk-secret"));
	got = map("{\"type\":\"status\",\"status\":\"cancelled\"}", "", &terminal, &end);
	assert_null(got);
	assert_int_equal(terminal, 1);
	assert_string_equal(end.phase, "Cancelled");
	assert_string_equal(end.reason, "GatewayCancelled");
	got = map("{\"type\":\"status\",\"status\":\"succeeded\"}", "", &terminal, &end);
	assert_null(got);
	assert_int_equal(terminal, 1);
	assert_string_equal(end.phase, "Succeeded");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_stream),
		cmocka_unit_test(test_chunk_boundaries_anywhere),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_multiline_data_and_fields),
		cmocka_unit_test(test_not_objects_are_skipped),
		cmocka_unit_test(test_id_tracking),
		cmocka_unit_test(test_oversized_event_dropped),
		cmocka_unit_test(test_callback_stops_feed),
		cmocka_unit_test(test_event_mapping),
		cmocka_unit_test(test_terminal_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
