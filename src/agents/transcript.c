/* JSON-lines events → redacted transcript messages, written in batches. */
#include "agents/transcript.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agents/bundle.h"
#include "core/util.h"
#include "git/git_internal.h"

#define NAME_MAX_BYTES 256
#define TOKENS_MAX 1000000000000LL
#define COST_MAX 1000000.0

static const char *const known_roles[] = { "assistant", "user", "system", "tool", "stdout", "stderr", NULL };

static int nomem(struct kerr *e)
{
	return kerr_set(e, KE_NOMEM, NULL, "out of memory");
}

int transcript_init(struct transcript *t, const struct transcript_options *o, struct kerr *e)
{
	memset(t, 0, sizeof(*t));
	t->o = *o;
	buf_init(&t->line[0], TRANSCRIPT_LINE_MAX);
	buf_init(&t->line[1], TRANSCRIPT_LINE_MAX);
	t->messages = json_array();
	t->redactions = json_object();
	t->reports = json_array();
	t->last_write_ns = util_monotonic_ns();
	if (!t->messages || !t->redactions || !t->reports) {
		transcript_free(t);
		return nomem(e);
	}
	return 0;
}

void transcript_free(struct transcript *t)
{
	buf_free(&t->line[0]);
	buf_free(&t->line[1]);
	json_decref(t->messages);
	json_decref(t->redactions);
	json_decref(t->reports);
	free(t->final_content);
	free(t->last_assistant);
	t->messages = t->redactions = t->reports = NULL;
	t->final_content = t->last_assistant = NULL;
}

int transcript_redact(struct transcript *t, const char *text, size_t len, struct buf *out, struct kerr *e)
{
	return redact_text(text ? text : "", text ? len : 0, t->o.secret_values, out, t->redactions, e);
}

/* text redacted, as a malloc'd C string (bytes that are not UTF-8 stay as
 * they are: git_json_text makes them '?' when they are stored). */
static int redacted(struct transcript *t, const char *text, size_t len, char **out, size_t *out_len,
		    struct kerr *e)
{
	struct buf b = BUF_INIT(BUF_DEFAULT_MAX);
	int rc = transcript_redact(t, text, len, &b, e);

	if (rc < 0) {
		buf_free(&b);
		return rc;
	}
	*out = buf_detach(&b, out_len);
	return *out ? 0 : nomem(e);
}

static const char *role_of(const char *role, const char *fallback)
{
	size_t i;

	for (i = 0; role && known_roles[i]; i++)
		if (!strcmp(role, known_roles[i]))
			return role;
	return fallback;
}

/* Adds one message; content and name come from the agent and are redacted
 * here. *full (when asked for) gets the whole redacted content, malloc'd. */
static int add_message(struct transcript *t, const char *type, const char *role, const char *content, size_t len,
		       const char *name, char **full, struct kerr *e)
{
	char *text = NULL, *rname = NULL, when[32];
	size_t text_len = 0, keep, name_len = 0;
	json_t *m = NULL, *jtext = NULL;
	int rc;

	/* Past the caps nothing more is kept: skip the redaction unless the caller needs the text. */
	if (!full && (json_array_size(t->messages) >= TRANSCRIPT_MESSAGES_MAX || t->kept_bytes >= TRANSCRIPT_BYTES_MAX)) {
		t->seq++;
		t->dropped++;
		return 0;
	}
	rc = redacted(t, content, len, &text, &text_len, e);
	if (rc == 0 && name)
		rc = redacted(t, name, strlen(name), &rname, &name_len, e);
	if (rc < 0)
		goto cleanup;
	t->seq++;
	keep = text_len > TRANSCRIPT_CONTENT_MAX ? TRANSCRIPT_CONTENT_MAX : text_len;
	if (json_array_size(t->messages) >= TRANSCRIPT_MESSAGES_MAX || t->kept_bytes + keep > TRANSCRIPT_BYTES_MAX) {
		t->dropped++;
		goto done;
	}
	util_time_rfc3339(when, util_now_seconds());
	jtext = git_json_text(text, keep);
	if (jtext && keep < text_len) {
		struct buf cut = BUF_INIT(TRANSCRIPT_CONTENT_MAX + 64);

		json_decref(jtext);
		jtext = NULL;
		if (!buf_add(&cut, text, keep) && !buf_addstr(&cut, TRANSCRIPT_CUT_MARKER))
			jtext = git_json_text(cut.data, cut.len);
		buf_free(&cut);
	}
	m = json_pack("{s:I, s:s, s:s, s:o?, s:s}", "seq", (json_int_t)t->seq, "type", type, "role", role, "content",
		      jtext, "timestamp", when);
	jtext = NULL;
	if (!m || (rname && json_object_set_new(m, "name", git_json_text(rname, name_len < NAME_MAX_BYTES
									  ? name_len : NAME_MAX_BYTES))) ||
	    json_array_append(t->messages, m)) {
		rc = nomem(e);
		goto cleanup;
	}
	t->kept_bytes += keep;
	t->pending++;
	t->dirty = 1;
done:
	if (full) {
		*full = text;
		text = NULL;
	}
	rc = 0;
cleanup:
	json_decref(m);
	free(text);
	free(rname);
	return rc;
}

/* A member as text: a string as it is, anything else as compact JSON, absent as "". */
static char *member_text(json_t *ev, const char *key)
{
	json_t *v = json_object_get(ev, key);

	if (!v)
		return strdup("");
	if (json_is_string(v))
		return strndup(json_string_value(v), json_string_length(v));
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
}

static int add_member(struct transcript *t, json_t *ev, const char *type, const char *role, const char *key,
		      char **full, struct kerr *e)
{
	char *text = member_text(ev, key);
	const char *name = json_string_value(json_object_get(ev, "name"));
	int rc;

	if (!text)
		return nomem(e);
	rc = add_message(t, type, role, text, strlen(text), name, full, e);
	free(text);
	return rc;
}

/* A count or amount from the agent, kept within sane bounds; -1 when absent or not a number. */
static double number_of(json_t *ev, const char *key, double max)
{
	json_t *v = json_object_get(ev, key);
	double d;

	if (!json_is_number(v))
		return -1;
	d = json_number_value(v);
	if (!isfinite(d) || d < 0)
		return -1;
	return d > max ? max : d;
}

static int on_usage(struct transcript *t, json_t *ev, struct kerr *e)
{
	double in = number_of(ev, "inputTokens", TOKENS_MAX), out = number_of(ev, "outputTokens", TOKENS_MAX);
	double total = number_of(ev, "totalTokens", TOKENS_MAX), cost = number_of(ev, "costUsd", COST_MAX);
	struct transcript_usage u = { in > 0 ? (long long)in : 0, out > 0 ? (long long)out : 0, 0,
				      cost > 0 ? cost : 0 };
	char text[256];

	u.total_tokens = total >= 0 ? (long long)total : u.input_tokens + u.output_tokens;
	t->usage.input_tokens += u.input_tokens;
	t->usage.output_tokens += u.output_tokens;
	t->usage.total_tokens += u.total_tokens;
	t->usage.cost_usd += u.cost_usd;
	t->dirty = 1;
	snprintf(text, sizeof(text), "{\"inputTokens\":%lld,\"outputTokens\":%lld,\"totalTokens\":%lld,\"costUsd\":%.6f}",
		 u.input_tokens, u.output_tokens, u.total_tokens, u.cost_usd);
	return add_message(t, "usage", "system", text, strlen(text), NULL, NULL, e);
}

static int on_report(struct transcript *t, json_t *ev, struct kerr *e)
{
	char *full = NULL, *name = NULL;
	size_t name_len = 0;
	const char *given = json_string_value(json_object_get(ev, "name"));
	int rc = add_member(t, ev, "report", "tool", "content", &full, e);

	if (rc == 0 && json_array_size(t->reports) < TRANSCRIPT_REPORTS_MAX) {
		rc = redacted(t, given ? given : "report", strlen(given ? given : "report"), &name, &name_len, e);
		if (rc == 0 && json_array_append_new(t->reports,
						     json_pack("{s:o, s:o}", "name", git_json_text(name, name_len),
							       "content", git_json_text(full, strlen(full)))))
			rc = nomem(e);
	}
	free(full);
	free(name);
	return rc;
}

static int on_final(struct transcript *t, json_t *ev, struct kerr *e)
{
	char *full = NULL;
	const char *status = json_string_value(json_object_get(ev, "status"));
	int rc = add_member(t, ev, "final", "assistant", "content", &full, e);

	if (rc < 0)
		return rc;
	free(t->final_content);
	t->final_content = full;
	t->final_success = status && !strcmp(status, "success");
	t->has_final = 1;
	return 0;
}

int transcript_event(struct transcript *t, json_t *ev, struct kerr *e)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	char *full = NULL, *text;
	int rc;

	if (!json_is_object(ev))
		type = NULL;
	if (type && !strcmp(type, "message")) {
		const char *role = role_of(json_string_value(json_object_get(ev, "role")), "assistant");

		rc = add_member(t, ev, "message", role, "content", !strcmp(role, "assistant") ? &full : NULL, e);
		if (rc == 0 && full) {
			free(t->last_assistant);
			t->last_assistant = full;
		}
		return rc;
	}
	if (type && !strcmp(type, "tool_call"))
		return add_member(t, ev, "tool_call", "assistant", json_object_get(ev, "input") ? "input" : "arguments",
				  NULL, e);
	if (type && !strcmp(type, "tool_result"))
		return add_member(t, ev, "tool_result", "tool", "content", NULL, e);
	if (type && !strcmp(type, "usage"))
		return on_usage(t, ev, e);
	if (type && !strcmp(type, "report"))
		return on_report(t, ev, e);
	if (type && !strcmp(type, "final"))
		return on_final(t, ev, e);
	if (type && !strcmp(type, "error"))
		return add_member(t, ev, "error", "assistant", "content", NULL, e);
	text = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		return nomem(e);
	rc = add_message(t, "message", "stdout", text, strlen(text), NULL, NULL, e);
	free(text);
	return rc;
}

int transcript_note(struct transcript *t, const char *type, const char *content, struct kerr *e)
{
	return add_message(t, type, "system", content, strlen(content), NULL, NULL, e);
}

static int on_line(struct transcript *t, enum transcript_stream s, const char *line, size_t len, struct kerr *e)
{
	json_t *ev;
	size_t i = 0;
	int rc;

	if (len && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;
	if (s == TRANSCRIPT_STDERR)
		return add_message(t, "message", "stderr", line, len, NULL, NULL, e);
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	ev = i < len && line[i] == '{' ? json_loadb(line, len, 0, NULL) : NULL;
	if (!json_is_object(ev)) {
		json_decref(ev);
		return add_message(t, "message", "stdout", line, len, NULL, NULL, e);
	}
	rc = transcript_event(t, ev, e);
	json_decref(ev);
	return rc;
}

static int dropped_line(struct transcript *t, enum transcript_stream s, struct kerr *e)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "a line of %zu bytes on %s was over the %u byte limit and was dropped",
		 t->dropped_len[s], s == TRANSCRIPT_STDOUT ? "stdout" : "stderr", TRANSCRIPT_LINE_MAX);
	t->dropping[s] = 0;
	t->dropped_len[s] = 0;
	return transcript_note(t, "error", msg, e);
}

int transcript_feed(struct transcript *t, enum transcript_stream s, const char *data, size_t n, struct kerr *e)
{
	struct buf *b = &t->line[s];
	int rc = 0;

	while (n > 0 && rc == 0) {
		const char *nl = memchr(data, '\n', n);
		size_t part = nl ? (size_t)(nl - data) : n;

		if (t->dropping[s]) {
			t->dropped_len[s] += part;
		} else if (buf_add(b, data, part) < 0) {
			/* Over the cap: the whole line goes, whatever arrives of it later too. */
			t->dropping[s] = 1;
			t->dropped_len[s] = b->len + part;
			buf_reset(b);
		}
		if (nl) {
			if (t->dropping[s])
				rc = dropped_line(t, s, e);
			else
				rc = on_line(t, s, b->data ? b->data : "", b->len, e);
			buf_reset(b);
			part++;
		}
		data += part;
		n -= part;
	}
	return rc;
}

json_t *transcript_spec(struct transcript *t)
{
	json_int_t total = 0;
	const char *k;
	json_t *v;

	json_object_foreach(t->redactions, k, v)
		total += json_integer_value(v);
	return json_pack("{s:s, s:s, s:O, s:{s:I, s:I, s:I, s:f}, s:{s:I, s:O}, s:b, s:I}", "sessionRef",
			 t->o.session_ref, "dispatchRun", t->o.dispatch_run, "messages", t->messages, "cost",
			 "inputTokens", (json_int_t)t->usage.input_tokens, "outputTokens",
			 (json_int_t)t->usage.output_tokens, "totalTokens", (json_int_t)t->usage.total_tokens, "costUsd",
			 t->usage.cost_usd, "redactions", "total", total, "byKind", t->redactions, "truncated",
			 t->dropped > 0, "droppedMessages", (json_int_t)t->dropped);
}

int transcript_flush(struct transcript *t, int force, struct kerr *e)
{
	uint64_t now = util_monotonic_ns();
	json_t *spec;
	int rc;

	if (!t->dirty)
		return 0;
	if (!force && t->pending < TRANSCRIPT_BATCH && now - t->last_write_ns < TRANSCRIPT_FLUSH_MS * 1000000ull)
		return 0;
	spec = transcript_spec(t);
	if (!spec)
		return nomem(e);
	rc = t->o.write(t->o.arg, spec, e);
	json_decref(spec);
	t->last_write_ns = now;
	if (rc == 0) {
		t->pending = 0;
		t->dirty = 0;
	}
	return rc;
}

int transcript_end(struct transcript *t, struct kerr *e)
{
	int rc = 0;
	int s;

	for (s = TRANSCRIPT_STDOUT; s <= TRANSCRIPT_STDERR && rc == 0; s++) {
		if (t->dropping[s])
			rc = dropped_line(t, (enum transcript_stream)s, e);
		else if (t->line[s].len)
			rc = on_line(t, (enum transcript_stream)s, t->line[s].data, t->line[s].len, e);
		buf_reset(&t->line[s]);
	}
	/* Always written at the end, so a silent agent still has a (empty) transcript
	 * and the final counts of dropped messages are recorded. */
	t->dirty = 1;
	if (rc == 0)
		rc = transcript_flush(t, 1, e);
	return rc;
}
